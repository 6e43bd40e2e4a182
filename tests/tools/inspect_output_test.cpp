// Golden output of info, dump (text and JSON, filters) and stats on a small deterministic
// journal, and JSON lines that parse and round-trip the envelope fields.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cinttypes>
#include <fstream>

#include "inspect_test_util.h"
#include "rill/projections/checkpoint.h"
#include "rill/replication/status_file.h"
#include "rill/tools/inspect/inspect_dump.h"
#include "rill/tools/inspect/inspect_info.h"
#include "rill/tools/inspect/inspect_stats.h"
#include "rill/tools/inspect/inspect_verify.h"
#include "rill/tools/inspect/journal_view.h"

namespace {

using namespace rill::tools::inspect;
using namespace rill::tools::test;

DumpOptions Opts(const std::string& dir) {
  DumpOptions o;  // designated initializers that skip members trip GCC 12's -Wmissing-field-initializers
  o.dir = dir;
  return o;
}

Output Dump(const DumpOptions& o) {
  return Capture([&](std::FILE* out, std::FILE* err) { return RunDump(o, out, err); });
}

}  // namespace

TEST_CASE("info: golden output of a small journal", "[tools][inspect][info]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  Output o = Capture([&](std::FILE* out, std::FILE* err) { return RunInfo({tmp.path(), {}}, out, err); });
  REQUIRE(o.exit == kExitOk);
  CHECK(o.err.empty());
  Replace(&o.out, tmp.path(), "DIR");
  const auto reg = Registry();
  char fp[32];
  std::snprintf(fp, sizeof fp, "%016" PRIx64 ", %zu bytes", reg.fingerprint(), reg.blob().size());
  Replace(&o.out, fp, "FP, N bytes");
  CHECK(o.out == R"(journal      DIR
segments     1
  0000000000000000.seg  65536 bytes  positions 1-8  6 batches  2026-11-23T01:02:03Z .. 2026-11-23T01:02:06.500Z  open
events       8 in 6 batches, positions 1-8, 2026-11-23T01:02:03Z .. 2026-11-23T01:02:06.500Z
bytes        608 in records, 76.0 bytes/event
schema       fingerprint FP, N bytes, schemas: bank, blog, 10 event types
types        events     bytes  bytes/event
  bank.AccountOpened              2       144         72.0
  bank.Deposited                  1        64         64.0
  bank.TransferReceived           1        72         72.0
  bank.TransferSent               1        72         72.0
  blog.CommentAdded               1        88         88.0
  blog.PostCreated                1       112        112.0
  blog.PostPublished              1        56         56.0
tail         committed 8, durable 8 (everything committed is durable)
writer       8 appends, 6 batches, 0 syncs since it opened
checkpoints: none found in DIR/checkpoints
)");
}

// Checkpoints are read with projections/' own checks: an intact one shows its lag and whether
// it matches the journal's schema; a damaged one is named unusable, with the reason.
TEST_CASE("info: projector checkpoints with their lag, and damaged ones named", "[tools][inspect][info]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  const std::string dir = tmp.Sub("views");
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  const std::byte payload[4] = {};
  const auto reg = Registry();
  REQUIRE(rill::projections::WriteCheckpoint(dir, {"balances", 3, reg.fingerprint(), 5}, payload).ok());
  REQUIRE(rill::projections::WriteCheckpoint(dir, {"old-schema", 1, reg.fingerprint() + 1, 8}, payload).ok());
  REQUIRE(rill::projections::WriteCheckpoint(dir, {"torn", 1, reg.fingerprint(), 2}, payload).ok());
  REQUIRE(::truncate((dir + "/torn-00000000000000000002.ckpt").c_str(), 70) == 0);

  Output o = Capture([&](std::FILE* out, std::FILE* err) { return RunInfo({tmp.path(), dir}, out, err); });
  REQUIRE(o.exit == kExitOk);
  Replace(&o.out, dir, "VIEWS");
  const std::string listing = o.out.substr(o.out.find("checkpoints"));
  CHECK(listing == R"(checkpoints  3 in VIEWS
  balances             position 5  lag 3 events  model v3  schema matches
  old-schema           position 8  lag 0 events  model v1  other schema fingerprint: the view will rebuild
  torn                 position 2  UNUSABLE: payload truncated or checksum mismatch
)");
}

// <dir>/replication.status (replication/status_file.h): the replicator's lag as of its last
// write, with its pid alive or not; a malformed file is one line and changes nothing else.
TEST_CASE("info: the replicator's status file, fresh, stale and malformed", "[tools][inspect][info][replication]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  const Output plain = Capture([&](std::FILE* out, std::FILE* err) { return RunInfo({tmp.path(), {}}, out, err); });
  REQUIRE(plain.exit == kExitOk);
  CHECK(plain.out.find("replication") == std::string::npos);  // no file: no block

  rill::replication::ReplicationStatus s;
  s.pid = ::getpid();
  s.stream = "RILL_bank_0";
  s.urls = "nats://127.0.0.1:4222";
  s.epoch = 2;
  s.state = "shipping";
  s.replicated_position = 5;
  s.committed_position = 8;
  s.lag_positions = 3;
  s.lag_seconds = 0.25;
  s.last_seq = 4;
  s.updated_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() -
      90'000'000'000;
  REQUIRE(rill::replication::WriteReplicationStatus(tmp.path(), s).ok());
  Output o = Capture([&](std::FILE* out, std::FILE* err) { return RunInfo({tmp.path(), {}}, out, err); });
  REQUIRE(o.exit == kExitOk);
  CHECK(o.err.empty());
  const std::string pid = std::to_string(::getpid());
  std::string block = o.out.substr(o.out.find("replication"));
  block = block.substr(0, block.find("checkpoints"));
  Replace(&block, pid, "PID");
  Replace(&block, "updated 90.1 s", "updated 90.0 s");  // a slow machine
  CHECK(block == R"(replication  stream RILL_bank_0, shipping
             replicated through 5 of committed 8 (lag 3 positions, 0.250 s)
             epoch 2, last stream seq 4, updated 90.0 s ago by pid PID (alive)
)");
  // The rest of info is unchanged by the block.
  std::string without = o.out;
  without.erase(o.out.find("replication"), o.out.find("checkpoints") - o.out.find("replication"));
  CHECK(without == plain.out);

  // Stale: the replicator's process is gone (a reaped child's pid).
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  int ws = 0;
  REQUIRE(::waitpid(child, &ws, 0) == child);
  s.pid = child;
  s.state = "retrying: no responders";
  s.last_error = "Unavailable: no responders";
  REQUIRE(rill::replication::WriteReplicationStatus(tmp.path(), s).ok());
  o = Capture([&](std::FILE* out, std::FILE* err) { return RunInfo({tmp.path(), {}}, out, err); });
  REQUIRE(o.exit == kExitOk);
  CHECK(o.out.find("replication  stream RILL_bank_0, retrying: no responders\n") != std::string::npos);
  CHECK(o.out.find("by pid " + std::to_string(child) + " (NOT RUNNING: these are the last values it wrote)\n") !=
        std::string::npos);
  CHECK(o.out.find("             last error: Unavailable: no responders\n") != std::string::npos);

  // Malformed: one line naming the file and the line; the rest of info still prints.
  {
    std::ofstream f(rill::replication::StatusFilePath(tmp.path()), std::ios::trunc);
    f << "rill-replication-status 1\npid: x\n";
  }
  o = Capture([&](std::FILE* out, std::FILE* err) { return RunInfo({tmp.path(), {}}, out, err); });
  CHECK(o.exit == kExitOk);
  Replace(&o.out, tmp.path(), "DIR");
  CHECK(o.out.find("replication  status file unreadable: Corruption: DIR/replication.status: line 2: bad value "
                   "\"x\" for \"pid\"\ncheckpoints") != std::string::npos);
  CHECK(o.out.find("tail         committed 8, durable 8") != std::string::npos);
  // A version this build does not know: the same single line.
  {
    std::ofstream f(rill::replication::StatusFilePath(tmp.path()), std::ios::trunc);
    f << "rill-replication-status 9\n";
  }
  o = Capture([&](std::FILE* out, std::FILE* err) { return RunInfo({tmp.path(), {}}, out, err); });
  CHECK(o.exit == kExitOk);
  CHECK(o.out.find("version 9, this build reads version 1\ncheckpoints") != std::string::npos);
}

// The journal's tools only look at their own names: a status file beside the segments is no
// problem for verify (nor for recovery: tests/replication/status_file_test.cpp).
TEST_CASE("verify: a replication status file in the directory is ignored", "[tools][inspect][verify][replication]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  const Output before = Capture([&](std::FILE* out, std::FILE* err) { return RunVerify({tmp.path()}, out, err); });
  REQUIRE(before.exit == kExitOk);
  rill::replication::ReplicationStatus s;
  s.state = "shipping";
  REQUIRE(rill::replication::WriteReplicationStatus(tmp.path(), s).ok());
  { std::ofstream(rill::replication::StatusFilePath(tmp.path()) + ".1.tmp") << "partial"; }
  const Output after = Capture([&](std::FILE* out, std::FILE* err) { return RunVerify({tmp.path()}, out, err); });
  CHECK(after.exit == kExitOk);
  CHECK(after.out == before.out);
  CHECK(after.err == before.err);
}

TEST_CASE("dump: golden text of every event", "[tools][inspect][dump]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  const Output o = Dump(Opts(tmp.path()));
  REQUIRE(o.exit == kExitOk);
  CHECK(o.err.empty());
  CHECK(o.out == R"(1  2026-11-23T01:02:03Z  stream 1 v1  bank.AccountOpened  cmd 1  {"owner_id": 100,"currency": 978}
2  2026-11-23T01:02:03.250Z  stream 2 v1  bank.AccountOpened  cmd 2  {"owner_id": 200,"currency": 978}
3  2026-11-23T01:02:04Z  stream 1 v2  bank.Deposited  cmd 3  {"amount": 500}
4  2026-11-23T01:02:05Z  stream 1 v3  bank.TransferSent  cmd 4  {"to_account": 2,"amount": 200}
5  2026-11-23T01:02:05Z  stream 2 v2  bank.TransferReceived  cmd 4  {"from_account": 1,"amount": 200}
6  2026-11-23T01:02:06Z  stream 1000 v1  blog.PostCreated  cmd 5  {"author_id": 7,"title": "Hello","body": "First \"post\""}
7  2026-11-23T01:02:06.500Z  stream 1000 v2  blog.PostPublished  cmd 6  {}
8  2026-11-23T01:02:06.500Z  stream 1000 v3  blog.CommentAdded  cmd 6  {"author_id": 8,"text": "Nice"}
)");
}

TEST_CASE("stats: golden output of a small journal", "[tools][inspect][stats]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  Output o = Capture([&](std::FILE* out, std::FILE* err) { return RunStats({tmp.path(), 2}, out, err); });
  REQUIRE(o.exit == kExitOk);
  Replace(&o.out, tmp.path(), "DIR");
  CHECK(o.out == R"(journal      DIR
events       8 in 6 batches over 3.500 s (2026-11-23T01:02:03Z .. 2026-11-23T01:02:06.500Z)
events per type
  bank.AccountOpened              2   25.0%
  bank.Deposited                  1   12.5%
  bank.TransferReceived           1   12.5%
  bank.TransferSent               1   12.5%
  blog.CommentAdded               1   12.5%
  blog.PostCreated                1   12.5%
  blog.PostPublished              1   12.5%
busiest streams (top 2 of 3)
  stream 1                        3   37.5%
  stream 1000                     3   37.5%
batch sizes (events per batch)   batches    events
  1                                     4         4
  2-3                                   2         4
events per second over time (1 s buckets)
  2026-11-23T01:02:03Z        2 events         2.0/s
  2026-11-23T01:02:04Z        1 events         1.0/s
  2026-11-23T01:02:05Z        2 events         2.0/s
  2026-11-23T01:02:06Z        3 events         3.0/s
)");
}

TEST_CASE("dump: filters by position, time, stream, type and limit", "[tools][inspect][dump]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  auto positions = [&](const DumpOptions& o) {
    const Output out = Dump(o);
    INFO(out.err);
    REQUIRE(out.exit == kExitOk);
    std::string p;
    for (const std::string& line : Lines(out.out)) p += line.substr(0, line.find(' ')) + " ";
    return p;
  };
  DumpOptions o = Opts(tmp.path());
  o.from = "3";
  o.to = "5";
  CHECK(positions(o) == "3 4 5 ");
  o = Opts(tmp.path());
  o.from = "2026-11-23T01:02:05Z";     // batch times: the transfer's batch and everything after
  o.to = "2026-11-23T02:02:06+01:00";  // 01:02:06Z, as an offset
  CHECK(positions(o) == "4 5 6 ");
  o = Opts(tmp.path());
  o.from = "2026-11-23T01:02:03.1Z";
  CHECK(positions(o) == "2 3 4 5 6 7 8 ");
  o = Opts(tmp.path());
  o.stream = rill::tools::inspect::StreamSelector{.kind = "", .id = 2};
  CHECK(positions(o) == "2 5 ");
  o = Opts(tmp.path());
  o.type = "bank.AccountOpened";
  CHECK(positions(o) == "1 2 ");
  o.type = "rill.blog.CommentAdded";  // the root table works too
  CHECK(positions(o) == "8 ");
  o = Opts(tmp.path());
  o.stream = rill::tools::inspect::StreamSelector{.kind = "", .id = 1000};
  o.limit = 2;
  CHECK(positions(o) == "6 7 ");
}

TEST_CASE("dump: a bad --from is a usage error naming the flag", "[tools][inspect][dump]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  DumpOptions o = Opts(tmp.path());
  o.from = "yesterday";
  const Output out = Dump(o);
  CHECK(out.exit == kExitUsage);
  CHECK(out.out.empty());
  CHECK(out.err.rfind("rill inspect: bad --from value: 'yesterday' is neither", 0) == 0);
  CHECK(Lines(out.err).size() == 1);
  o = Opts(tmp.path());
  o.type = "bank.Deposit";  // a typo: said, not an empty dump
  const Output typo = Dump(o);
  CHECK(typo.exit == kExitUsage);
  CHECK(typo.err.rfind("rill inspect: unknown event type 'bank.Deposit' (--type): the journal's schema knows: ", 0) ==
        0);
}

TEST_CASE("dump --json: every line parses and round-trips the envelope and body", "[tools][inspect][dump][json]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  DumpOptions o = Opts(tmp.path());
  o.json = true;
  const Output out = Dump(o);
  REQUIRE(out.exit == kExitOk);
  const std::vector<std::string> lines = Lines(out.out);
  REQUIRE(lines.size() == 8);
  std::vector<Json> events(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i]);
    REQUIRE(JsonReader::Parse(lines[i], &events[i]));
    CHECK(events[i]["position"].text == std::to_string(i + 1));
  }
  // Envelope fields as written by WriteSmallJournal.
  const Json& deposit = events[2];
  CHECK(deposit["stream_id"].text == "1");
  CHECK(deposit["stream_version"].text == "2");
  CHECK(deposit["command_id"].text == "3");
  CHECK(deposit["timestamp_ns"].text == std::to_string(kT0 + 1'000'000'000));
  CHECK(deposit["time"].text == "2026-11-23T01:02:04Z");
  CHECK(deposit["type"].text == "bank.Deposited");
  CHECK(deposit["event_type"].text == std::to_string(rill::codecs::EventTraits<rill::bank::Deposited>::kTypeId));
  CHECK(deposit["schema_version"].text == "1");
  CHECK(deposit["body"]["amount"].text == "500");
  const Json& post = events[5];
  CHECK(post["stream_id"].text == "1000");
  CHECK(post["body"]["title"].text == "Hello");
  CHECK(post["body"]["body"].text == "First \"post\"");
  CHECK(post["body"]["author_id"].text == "7");
  CHECK(events[6]["body"].kind == Json::Kind::kObject);
  CHECK(events[6]["body"].fields.empty());
  CHECK(events[7]["body"]["text"].text == "Nice");
}

TEST_CASE("times print and parse as ISO-8601 UTC", "[tools][inspect]") {
  CHECK(FormatTime(kT0) == "2026-11-23T01:02:03Z");
  CHECK(FormatTime(kT0 + 250'000'000) == "2026-11-23T01:02:03.250Z");
  CHECK(FormatTime(kT0 + 1'000) == "2026-11-23T01:02:03.000001Z");
  CHECK(FormatTime(kT0 + 7) == "2026-11-23T01:02:03.000000007Z");
  CHECK(*ParseTime("2026-11-23T01:02:03Z") == kT0);
  CHECK(*ParseTime("2026-11-23T01:02:03.25Z") == kT0 + 250'000'000);
  CHECK(*ParseTime("2026-11-23T03:02:03+02:00") == kT0);
  CHECK(*ParseTime("2026-11-22T20:02:03-0500") == kT0);
  CHECK(*ParseTime("2026-11-23") == kT0 - 3'723'000'000'000);
  CHECK(!ParseTime("2026-13-01").ok());
  CHECK(!ParseTime("2026-11-23T01:02:03Zjunk").ok());
  CHECK(ParseBound("42")->kind == Bound::Kind::kPosition);
  CHECK(ParseBound("42")->position == 42);
  CHECK(ParseBound("2026-11-23T01:02:03Z")->time_ns == kT0);
}

TEST_CASE("times must exist on the calendar, with real offsets", "[tools][inspect]") {
  const auto message = [](std::string_view text) { return std::string(ParseTime(text).status().message()); };
  // Days within their month, leap years counted (timegm turned Feb 30 into Mar 2 before).
  CHECK(message("2026-02-30T00:00:00Z") == "'2026-02-30T00:00:00Z': day 30 does not exist in February 2026 (01-28)");
  CHECK(!ParseTime("2026-02-29").ok());
  CHECK(*ParseTime("2024-02-29") == *ParseTime("2024-03-01") - 86'400'000'000'000);
  CHECK(!ParseTime("2100-02-29").ok());  // a century is not a leap year ...
  CHECK(ParseTime("2000-02-29").ok());   // ... unless divisible by 400
  CHECK(!ParseTime("2026-04-31").ok());
  CHECK(!ParseTime("2026-11-00").ok());
  CHECK(message("2026-00-01") == "'2026-00-01': month 00 does not exist (01-12)");
  // Hours, minutes, seconds: 24:00 and leap seconds are refused (journal times are Unix time).
  CHECK(message("2026-11-23T24:00:00Z").find("hour 24 is out of range") != std::string::npos);
  CHECK(message("2026-11-23T01:60Z").find("minute 60 is out of range") != std::string::npos);
  CHECK(message("2026-11-23T23:59:60Z").find("second 60 is out of range") != std::string::npos);
  CHECK(*ParseTime("2026-11-23T23:59:59.999999999Z") == *ParseTime("2026-11-24") - 1);
  CHECK(message("2026-11-23T01:02:03.1234567891Z").find("more than 9 fractional digits") != std::string::npos);
  // Offsets: at most +-18:00, minutes 00-59 (+99:00 was accepted before).
  CHECK(message("2026-11-23T01:02:03+99:00").find("UTC offset +99:00 is out of range") != std::string::npos);
  CHECK(!ParseTime("2026-11-23T01:02:03+18:01").ok());
  CHECK(!ParseTime("2026-11-23T01:02:03-05:60").ok());
  CHECK(*ParseTime("2026-11-23T19:02:03+18:00") == kT0);
  CHECK(*ParseTime("2026-11-22T13:02:03-12:00") == kT0);
  // Within int64 nanoseconds since 1970 (9999-01-01 overflowed before).
  CHECK(*ParseTime("1970-01-01T00:00:00Z") == 0);
  CHECK(*ParseTime("1969-12-31T23:59:59.5Z") == -500'000'000);
  CHECK(ParseTime("2262-04-11T23:47:16Z").ok());
  CHECK(message("2262-04-11T23:47:17Z").find("outside the times a journal can hold") != std::string::npos);
  CHECK(!ParseTime("9999-12-31").ok());
  CHECK(!ParseTime("0000-01-01").ok());
  // Positions: 1 or more, exact up to 2^64-1.
  CHECK(ParseBound("18446744073709551615")->position == 18446744073709551615u);
  CHECK(ParseBound("18446744073709551616").status().message().find("too large") != std::string_view::npos);
  CHECK(ParseBound("0").status().message().find("positions start at 1") != std::string_view::npos);
  CHECK(ParseBound("-1").status().message().find("negative") != std::string_view::npos);
  CHECK(ParseBound("")->kind == Bound::Kind::kNone);
}

// Hidden: `tools_inspect_test "[.sample]"` writes the golden journal to $RILL_INSPECT_SAMPLE_DIR
// (for trying the CLI by hand, and for updating the goldens above).
TEST_CASE("write the small journal for manual use", "[.sample]") {
  const char* dir = std::getenv("RILL_INSPECT_SAMPLE_DIR");
  REQUIRE(dir != nullptr);
  WriteSmallJournal(dir);
}
