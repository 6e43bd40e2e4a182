// `rill inspect verify`: intact journals pass; a flipped byte, a version gap, an undecodable
// event and an unknown schema are found and named; a crashed writer's uncommitted tail is
// reported but is not damage.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "inspect_test_util.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/segment_file.h"
#include "rill/tools/inspect/inspect_dump.h"
#include "rill/tools/inspect/inspect_verify.h"
#include "rill/tools/inspect/journal_view.h"

namespace {

using namespace rill::tools::inspect;
using namespace rill::tools::test;
namespace journal = rill::journal;

Output Verify(const std::string& dir) {
  return Capture([&](std::FILE* out, std::FILE* err) { return RunVerify({dir}, out, err); });
}

std::string Segment0(const std::string& dir) { return dir + "/" + journal::SegmentFileName(0); }

// Where the record at `position` lies (frame offset in its segment).
std::uint64_t RecordOffset(const std::string& dir, std::uint64_t position) {
  auto r = journal::JournalReader::Open({.directory = dir});
  REQUIRE(r.ok());
  REQUIRE((*r)->SeekToPosition(position).ok());
  journal::Record rec;
  REQUIRE((*r)->Next(&rec) == journal::ReadStatus::kRecord);
  return rec.offset;
}

void XorByte(const std::string& file, std::uint64_t offset, unsigned char mask) {
  const int fd = ::open(file.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  unsigned char b = 0;
  REQUIRE(::pread(fd, &b, 1, static_cast<off_t>(offset)) == 1);
  b ^= mask;
  REQUIRE(::pwrite(fd, &b, 1, static_cast<off_t>(offset)) == 1);
  ::close(fd);
}

}  // namespace

TEST_CASE("verify: an intact journal exits 0", "[tools][inspect][verify]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  Output o = Verify(tmp.path());
  CHECK(o.exit == kExitOk);
  CHECK(o.err.empty());
  Replace(&o.out, tmp.path(), "DIR");
  CHECK(o.out == R"(journal      DIR
frames       ok: 1 segments, 6 batches, 8 records, positions 1-8 (headers, CRCs, batches, position chain)
events       ok: 8 bodies verified against the embedded schema, 3 streams
tail         clean
result       intact
)");
}

TEST_CASE("verify: a flipped byte is found and its frame's offset named", "[tools][inspect][verify]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  const std::uint64_t frame = RecordOffset(tmp.path(), 3);   // the deposit, alone in its batch
  XorByte(Segment0(tmp.path()), frame + 16 + 40 + 5, 0x10);  // a byte of its body
  const Output o = Verify(tmp.path());
  INFO(o.out);
  CHECK(o.exit == kExitProblems);
  const std::string where = "segment 0000000000000000.seg offset " + std::to_string(frame) + " position 3";
  CHECK(o.out.find("problem      " + where + ": record fails its CRC") != std::string::npos);
  CHECK(o.out.find("frames       DAMAGED") != std::string::npos);
  CHECK(o.out.find("positions 1-2") != std::string::npos);  // what is intact before it
  CHECK(o.out.find("result       DAMAGED: 1 problem\n") != std::string::npos);
  REQUIRE(Lines(o.err).size() == 1);
  CHECK(o.err.find("rill inspect: journal damaged: record fails its CRC") == 0);
  CHECK(o.err.find("(" + where + ")") != std::string::npos);

  // dump stops at the damage with a one-line error and exit code 1, after the good events.
  const Output d = Capture([&](std::FILE* out, std::FILE* err) {
    DumpOptions opts;
    opts.dir = tmp.path();
    return RunDump(opts, out, err);
  });
  CHECK(d.exit == kExitProblems);
  CHECK(Lines(d.out).size() == 2);
  CHECK(Lines(d.err).size() == 1);
  CHECK(d.err.find("offset " + std::to_string(frame)) != std::string::npos);
}

TEST_CASE("verify: a crashed writer's uncommitted batch is reported, exit 0", "[tools][inspect][verify][process]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The crash: records written into the mapped segment, the batch never committed.
    EventWriter w(tmp.path());
    w.Begin(kT0 + 4'000'000'000);
    w.Deposit(1, 4, 700);
    w.Deposit(2, 3, 800);
    ::_exit(0);  // no destructors: no Close, no AbortBatch
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  const Output o = Verify(tmp.path());
  INFO(o.out);
  CHECK(o.exit == kExitOk);
  CHECK(o.out.find("tail         torn: ") != std::string::npos);
  CHECK(o.out.find("result       intact") != std::string::npos);
}

TEST_CASE("verify: a stream version gap and an undecodable event are problems", "[tools][inspect][verify]") {
  TempDir tmp;
  {
    EventWriter w(tmp.path());
    w.Begin(kT0);
    w.Deposit(1, 1, 10);
    w.Deposit(1, 3, 10);  // version 2 is missing
    w.Commit();
    auto span = w.writer().Reserve(64);  // a frame with a valid CRC whose bytes are no event
    REQUIRE(span.ok());
    std::memset(span->data(), 0xab, span->size());
    w.Commit();
  }
  const Output o = Verify(tmp.path());
  INFO(o.out);
  CHECK(o.exit == kExitProblems);
  CHECK(o.out.find("position 2: stream 1 has version 3 where 2 was expected (previous 1)") != std::string::npos);
  CHECK(o.out.find("frames       ok") != std::string::npos);
  CHECK(o.out.find("result       DAMAGED: 2 problems") != std::string::npos);

  DumpOptions opts;
  opts.dir = tmp.path();
  const Output d = Capture([&](std::FILE* out, std::FILE* err) { return RunDump(opts, out, err); });
  CHECK(d.exit == kExitProblems);
  REQUIRE(Lines(d.out).size() == 3);
  CHECK(Lines(d.out)[2].find("3  2026-11-23T01:02:03Z  <undecodable: ") == 0);
  opts.json = true;
  const Output j = Capture([&](std::FILE* out, std::FILE* err) { return RunDump(opts, out, err); });
  Json bad;
  REQUIRE(Lines(j.out).size() == 3);
  REQUIRE(JsonReader::Parse(Lines(j.out)[2], &bad));
  CHECK(bad["position"].text == "3");
  CHECK(bad.has("error"));
}

TEST_CASE("verify: an unknown schema is a problem, and dump cannot read it", "[tools][inspect][verify]") {
  TempDir tmp;
  const std::vector<std::uint8_t> garbage(256, 0x5a);
  {
    EventWriter w(tmp.path(), 64 * 1024, &garbage, 0x1234);
    w.Begin(kT0);
    w.Deposit(1, 1, 10);
    w.Commit();
  }
  const Output o = Verify(tmp.path());
  INFO(o.out);
  CHECK(o.exit == kExitProblems);
  CHECK(o.out.find("problem      segment 0000000000000000.seg offset 128 position 1: unknown schema") !=
        std::string::npos);
  CHECK(o.out.find("1 records not checked") != std::string::npos);
  DumpOptions opts;
  opts.dir = tmp.path();
  const Output d = Capture([&](std::FILE* out, std::FILE* err) { return RunDump(opts, out, err); });
  CHECK(d.exit == kExitCannotRead);
  CHECK(d.err.rfind("rill inspect: unknown schema: ", 0) == 0);
  CHECK(Lines(d.err).size() == 1);
}
