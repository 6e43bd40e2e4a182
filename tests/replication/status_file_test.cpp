// <journal dir>/replication.status (replication/status_file.h): the format round trip, malformed
// and unknown-version files, the journal ignoring the file, and the replicator writing it
// against an in-memory stream (fake_stream.h). `rill inspect info` showing it is tested in
// tests/tools/inspect_output_test.cpp.
#include "rill/replication/status_file.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "fake_stream.h"
#include "journal_fixture.h"
#include "rill/journal/journal_verifier.h"
#include "rill/replication/replicator.h"
#include "rill/tests/support/temp_dir.h"

using namespace rill;
using namespace rill::replication;

namespace {

ReplicationStatus Sample() {
  ReplicationStatus s;
  s.pid = 4242;
  s.stream = "RILL_bank_0";
  s.urls = "nats://alice:s3cret@10.0.0.1:4222,nats://10.0.0.2:4222";
  s.epoch = 7;
  s.state = "retrying: no responders\nduring an election";
  s.replicated_position = 1200;
  s.committed_position = 1250;
  s.lag_positions = 50;
  s.lag_seconds = 0.25;
  s.last_seq = 310;
  s.messages = 311;
  s.bytes = 1048576;
  s.duplicates = 2;
  s.resyncs = 3;
  s.last_error = "Unavailable: no responders";
  s.updated_ns = 1795395724000000000;
  return s;
}

void WriteText(const std::string& dir, const std::string& text) {
  std::ofstream f(StatusFilePath(dir), std::ios::binary | std::ios::trunc);
  f << text;
}

// The sample's file with one line replaced (1-based).
std::string WithLine(int n, const std::string& line) {
  std::string text = FormatReplicationStatus(Sample()), out;
  int i = 1;
  for (std::size_t at = 0; at < text.size(); ++i) {
    const std::size_t nl = text.find('\n', at);
    out.append(i == n ? line : text.substr(at, nl - at)).append("\n");
    at = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("status file: write and read round trip, one line per value, no credentials", "[replication][status]") {
  rill::test::TempDir tmp("rill-status");
  CHECK(ReadReplicationStatus(tmp.path()).status().IsNotFound());
  REQUIRE(WriteReplicationStatus(tmp.path(), Sample()).ok());
  Result<ReplicationStatus> r = ReadReplicationStatus(tmp.path());
  REQUIRE(r.ok());
  const ReplicationStatus& s = *r;
  CHECK(s.pid == 4242);
  CHECK(s.stream == "RILL_bank_0");
  CHECK(s.urls == "nats://10.0.0.1:4222,nats://10.0.0.2:4222");
  CHECK(s.epoch == 7);
  CHECK(s.state == "retrying: no responders during an election");
  CHECK(s.replicated_position == 1200);
  CHECK(s.committed_position == 1250);
  CHECK(s.lag_positions == 50);
  CHECK(s.lag_seconds == Approx(0.25));
  CHECK(s.last_seq == 310);
  CHECK(s.messages == 311);
  CHECK(s.bytes == 1048576);
  CHECK(s.duplicates == 2);
  CHECK(s.resyncs == 3);
  CHECK(s.last_error == "Unavailable: no responders");
  CHECK(s.updated_ns == 1795395724000000000);
  const std::string text = FormatReplicationStatus(Sample());
  CHECK(text.rfind("rill-replication-status 1\npid: 4242\n", 0) == 0);
  CHECK(text.find("s3cret") == std::string::npos);
  CHECK(text.find("last error: Unavailable: no responders\n") != std::string::npos);
  // An empty value: "key:" alone.
  ReplicationStatus empty = Sample();
  empty.last_error.clear();
  CHECK(FormatReplicationStatus(empty).find("\nlast error:\n") != std::string::npos);
  REQUIRE(WriteReplicationStatus(tmp.path(), empty).ok());
  REQUIRE(ReadReplicationStatus(tmp.path()).ok());
  CHECK(ReadReplicationStatus(tmp.path())->last_error.empty());
  // Only the file itself remains (the temp file was renamed).
  CHECK(::access((StatusFilePath(tmp.path()) + "." + std::to_string(::getpid()) + ".tmp").c_str(), F_OK) != 0);

  CHECK(RedactUrlCredentials("nats://u:p@h:4222,tls://tok@h2,h3:4222,nats://h4/x@y") ==
        "nats://h:4222,tls://h2,h3:4222,nats://h4/x@y");
  CHECK(RedactUrlCredentials("") == "");
}

TEST_CASE("status file: malformed files name the line, an unknown version says which one it reads",
          "[replication][status]") {
  rill::test::TempDir tmp("rill-status");
  auto read = [&](const std::string& text) {
    WriteText(tmp.path(), text);
    return ReadReplicationStatus(tmp.path()).status();
  };
  Status s = read("");
  CHECK(s.IsCorruption());
  CHECK(s.ToString().find("line 1: empty file") != std::string::npos);
  s = read("pid: 4\n");
  CHECK(s.IsCorruption());
  CHECK(s.ToString().find("line 1: not a replication status file") != std::string::npos);
  s = read(WithLine(1, "rill-replication-status x"));
  CHECK(s.IsCorruption());
  s = read(WithLine(1, "rill-replication-status 2"));
  INFO(s.ToString());
  CHECK(s.IsInvalidArgument());
  CHECK(s.ToString().find("version 2, this build reads version 1") != std::string::npos);
  s = read(WithLine(8, "committed position: 12x"));
  CHECK(s.IsCorruption());
  CHECK(s.ToString().find("replication.status: line 8: bad value \"12x\" for \"committed position\"") !=
        std::string::npos);
  s = read(WithLine(10, "lag seconds: -1"));
  CHECK(s.ToString().find("line 10: bad value") != std::string::npos);
  s = read(WithLine(5, "no colon here"));
  CHECK(s.ToString().find("line 5: expected \"key: value\"") != std::string::npos);
  s = read(WithLine(3, "pid: 5"));
  CHECK(s.ToString().find("line 3: \"pid\" given twice") != std::string::npos);
  // Truncated: a key is missing.
  const std::string whole = FormatReplicationStatus(Sample());
  s = read(whole.substr(0, whole.find("updated:")));
  CHECK(s.IsCorruption());
  CHECK(s.ToString().find("missing \"updated\"") != std::string::npos);
  // A key this build does not know is ignored (a later writer of version 1).
  REQUIRE(read(whole + "leader: n2\n").ok());
  CHECK(ReadReplicationStatus(tmp.path())->committed_position == 1250);
}

TEST_CASE("status file: whether its writer runs", "[replication][status]") {
  ReplicationStatus s;
  s.pid = ::getpid();
  CHECK(StatusWriterAlive(s));
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  int ws = 0;
  REQUIRE(::waitpid(child, &ws, 0) == child);
  s.pid = child;  // reaped: no such process (unless the pid was reused at once)
  CHECK_FALSE(StatusWriterAlive(s));
  s.pid = 0;
  CHECK_FALSE(StatusWriterAlive(s));
}

// The journal only looks at its own names: a status file (and a leftover temp file of one) in
// the directory changes nothing for the verifier, the writer's recovery or a reader.
TEST_CASE("status file: the journal's recovery, verifier and reader ignore it", "[replication][status]") {
  rill::test::TempDir tmp("rill-status");
  const std::string dir = tmp.Sub("j");
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  // Before the journal exists: the writer creates it in a directory that only holds the file.
  REQUIRE(WriteReplicationStatus(dir, Sample()).ok());
  WriteText(dir, FormatReplicationStatus(Sample()));
  { std::ofstream(StatusFilePath(dir) + ".999.tmp") << "rill-replication-status 1\npid: 9"; }
  std::vector<std::vector<std::byte>> before;
  {
    replication::test::TestJournal j(dir, 64u << 10);
    REQUIRE(j.status().ok());
    REQUIRE(j.Commit(200) != 0);
    before = replication::test::DumpBatches(dir);
  }
  Result<journal::JournalCheck> c = journal::CheckJournal(dir);
  REQUIRE(c.ok());
  CHECK(c->verdict == journal::Verdict::kIntact);
  {
    replication::test::TestJournal j(dir, 64u << 10, 2);  // recovery, then more batches
    REQUIRE(j.status().ok());
    const std::uint64_t last = j.Commit(10);
    CHECK(last > 0);
  }
  const auto after = replication::test::DumpBatches(dir);
  REQUIRE(after.size() == before.size() + 10);
  CHECK(std::equal(before.begin(), before.end(), after.begin()));
  c = journal::CheckJournal(dir);
  REQUIRE(c.ok());
  CHECK(c->verdict == journal::Verdict::kIntact);
  CHECK(ReadReplicationStatus(dir).ok());
  CHECK(::access((StatusFilePath(dir) + ".999.tmp").c_str(), F_OK) == 0);
}

TEST_CASE("status file: the replicator writes it, up to the end, and its final state at stop",
          "[replication][status][replicator]") {
  rill::test::TempDir tmp("rill-status");
  const std::string dir = tmp.Sub("j");
  replication::test::TestJournal j(dir, 64u << 10);
  REQUIRE(j.status().ok());
  j.Commit(300);
  ReplicatorOptions o;
  o.journal_directory = dir;
  o.nats_urls = "nats://user:pw@127.0.0.1:4222";
  o.app = "bank";
  o.shard = "0";
  o.epoch = 3;
  o.ship_max_bytes = 4096;
  o.window = 8;
  o.retry_min_ns = 5'000'000;
  auto stream = std::make_shared<replication::test::FakeStream>();
  auto rep = Replicator::Start(o, std::make_unique<replication::test::FakePort>(stream));
  REQUIRE(rep.ok());
  const std::uint64_t last = j.Commit(100);
  REQUIRE((*rep)->WaitReplicated(last, 10'000'000'000).ok());
  // The file follows within ~100 ms; bounded wait.
  Result<ReplicationStatus> s = Status::NotFound("not yet");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int reads = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    s = ReadReplicationStatus(dir);
    ++reads;
    if (s.ok() && s->replicated_position == last) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(s.ok());
  WARN("status file at the end after " << reads << " reads: " << s->state << ", lag " << s->lag_positions);
  CHECK(s->replicated_position == last);
  CHECK(s->committed_position == last);
  CHECK(s->lag_positions == 0);
  CHECK(s->pid == ::getpid());
  CHECK(s->stream == "RILL_bank_0");
  CHECK(s->urls == "nats://127.0.0.1:4222");
  CHECK(s->epoch == 3);
  CHECK(s->state == "shipping");
  CHECK(s->messages > 0);
  CHECK(s->last_seq == stream->Snapshot().size());
  CHECK(s->updated_ns > 0);
  (*rep)->Stop();
  s = ReadReplicationStatus(dir);
  REQUIRE(s.ok());
  CHECK(s->state == "stopped");  // written at stop, whatever the 100 ms throttle says
  CHECK(s->replicated_position == last);
}

// While the stream is unreachable the replicator sleeps in its backoff: the file still says so.
TEST_CASE("status file: a replicator that cannot reach the stream says retrying", "[replication][status][replicator]") {
  rill::test::TempDir tmp("rill-status");
  const std::string dir = tmp.Sub("j");
  replication::test::TestJournal j(dir, 64u << 10);
  REQUIRE(j.status().ok());
  const std::uint64_t last = j.Commit(20);
  ReplicatorOptions o;
  o.journal_directory = dir;
  o.app = "bank";
  o.shard = "0";
  o.retry_min_ns = 200'000'000;
  o.retry_max_ns = 2'000'000'000;  // long sleeps: the file must not wait for them
  auto stream = std::make_shared<replication::test::FakeStream>();
  stream->down = true;
  auto rep = Replicator::Start(o, std::make_unique<replication::test::FakePort>(stream));
  REQUIRE(rep.ok());
  Result<ReplicationStatus> s = Status::NotFound("not yet");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    s = ReadReplicationStatus(dir);
    if (s.ok() && s->state.rfind("retrying: ", 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(s.ok());
  CHECK(s->state.rfind("retrying: ", 0) == 0);
  CHECK(s->committed_position == last);
  CHECK(s->replicated_position == 0);
  CHECK(s->lag_positions == last);
  CHECK_FALSE(s->last_error.empty());
  {
    std::lock_guard<std::mutex> lock(stream->mu);
    stream->down = false;
  }
  REQUIRE((*rep)->WaitReplicated(last, 20'000'000'000).ok());
  (*rep)->Stop();
  s = ReadReplicationStatus(dir);
  REQUIRE(s.ok());
  CHECK(s->state == "stopped");
  CHECK(s->lag_positions == 0);
}
