// The real `rill` binary: each bad input gives its documented exit code and a one-line error
// that says what and where; --help on every subcommand shows an example.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "inspect_test_util.h"
#include "rill/journal/format.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/segment_file.h"

namespace {

using namespace rill::tools::test;

const char* const kSubcommands[] = {"info", "dump", "verify", "stats"};

// One line on stderr, in the documented shape, naming `where`.
void CheckOneLineError(const Output& o, const std::string& where) {
  INFO(o.err);
  CHECK(Lines(o.err).size() == 1);
  CHECK(o.err.rfind("rill inspect: ", 0) == 0);
  CHECK(o.err.find(where) != std::string::npos);
}

}  // namespace

TEST_CASE("cli: the inspect subcommands succeed on a good journal", "[tools][inspect][cli]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  for (const char* sub : kSubcommands) {
    const Output o = RunRill(tmp, std::string("inspect ") + sub + " " + tmp.Sub("j"));
    INFO(sub << ": " << o.err);
    CHECK(o.exit == 0);
    CHECK(o.err.empty());
    CHECK(!o.out.empty());
  }
  const Output j = RunRill(tmp, "inspect dump --json --stream 2 " + tmp.Sub("j"));
  CHECK(j.exit == 0);
  CHECK(Lines(j.out).size() == 2);
}

TEST_CASE("cli: a missing directory exits 3", "[tools][inspect][cli]") {
  TempDir tmp;
  for (const char* sub : kSubcommands) {
    const Output o = RunRill(tmp, std::string("inspect ") + sub + " " + tmp.Sub("nowhere"));
    INFO(sub);
    CHECK(o.exit == 3);
    CheckOneLineError(o, tmp.Sub("nowhere"));
  }
}

TEST_CASE("cli: a directory that is not a journal exits 3", "[tools][inspect][cli]") {
  TempDir tmp;
  REQUIRE(::mkdir(tmp.Sub("plain").c_str(), 0755) == 0);
  std::ofstream(tmp.Sub("plain/notes.txt")) << "hello\n";
  for (const char* sub : kSubcommands) {
    const Output o = RunRill(tmp, std::string("inspect ") + sub + " " + tmp.Sub("plain"));
    INFO(sub);
    CHECK(o.exit == 3);
    CheckOneLineError(o, tmp.Sub("plain"));
    CHECK(o.err.find("not a journal") != std::string::npos);
  }
}

TEST_CASE("cli: a segment that is not a segment: dump and verify reach the same verdict (1)", "[tools][inspect][cli]") {
  TempDir tmp;
  REQUIRE(::mkdir(tmp.Sub("j").c_str(), 0755) == 0);
  std::ofstream(tmp.Sub("j/" + rill::journal::SegmentFileName(0))) << std::string(4096, 'x');
  const Output d = RunRill(tmp, "inspect dump " + tmp.Sub("j"));
  CHECK(d.exit == 1);  // damaged, as verify says: one verdict for every tool (journal_verifier.h)
  CheckOneLineError(d, "0000000000000000.seg");
  const Output v = RunRill(tmp, "inspect verify " + tmp.Sub("j"));
  CHECK(v.exit == 1);
  CHECK(v.out.find("problem      segment 0000000000000000.seg offset 0: bad magic") != std::string::npos);
}

// Where position 3's record frame lies (the deposit, alone in the third batch): offsets move
// when the schema blob in the segment header changes size.
std::uint64_t RecordOffset(const std::string& dir, std::uint64_t position) {
  auto reader = rill::journal::JournalReader::Open({.directory = dir});
  REQUIRE(reader.ok());
  rill::journal::Record rec;
  while ((*reader)->Next(&rec) == rill::journal::ReadStatus::kRecord)
    if (rec.position == position) return rec.offset;
  FAIL("no position " << position);
  return 0;
}

TEST_CASE("cli: a truncated segment: dump prints what is whole then exits 1, verify exits 1", "[tools][inspect][cli]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  const std::string seg = tmp.Sub("j/" + rill::journal::SegmentFileName(0));
  const std::uint64_t record = RecordOffset(tmp.Sub("j"), 3);
  const std::string batch = std::to_string(record - rill::journal::kBatchFrameSize);
  REQUIRE(::truncate(seg.c_str(), static_cast<off_t>(record + 40)) == 0);  // cuts into the third batch
  const Output d = RunRill(tmp, "inspect dump " + tmp.Sub("j"));
  CHECK(d.exit == 1);
  CHECK(Lines(d.out).size() == 2);
  CheckOneLineError(d, "0000000000000000.seg offset " + batch);
  const Output v = RunRill(tmp, "inspect verify " + tmp.Sub("j"));
  CHECK(v.exit == 1);
  CHECK(v.out.find("problem      segment 0000000000000000.seg offset " + batch + " position 3") != std::string::npos);
  const std::string size = std::to_string(record + 40);
  CHECK(v.out.find("note         segment 0000000000000000.seg offset " + size + ": the file holds " + size +
                   " bytes") != std::string::npos);
}

TEST_CASE("cli: a corrupt frame: dump and verify exit 1", "[tools][inspect][cli]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  const std::string seg = tmp.Sub("j/" + rill::journal::SegmentFileName(0));
  const std::uint64_t batch = RecordOffset(tmp.Sub("j"), 3) - rill::journal::kBatchFrameSize;
  std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(batch + 20));  // the third batch frame's first_position
  f.put('\x7f');
  f.close();
  const Output d = RunRill(tmp, "inspect dump " + tmp.Sub("j"));
  CHECK(d.exit == 1);
  CheckOneLineError(d, "offset " + std::to_string(batch));
  const Output v = RunRill(tmp, "inspect verify " + tmp.Sub("j"));
  CHECK(v.exit == 1);
  CHECK(v.out.find("offset " + std::to_string(batch) + " position 3: batch frame fails its CRC") != std::string::npos);
}

TEST_CASE("cli: an unknown schema: dump, info, stats exit 3, verify exits 1", "[tools][inspect][cli]") {
  TempDir tmp;
  const std::vector<std::uint8_t> garbage(256, 0x5a);
  {
    EventWriter w(tmp.Sub("j"), 64 * 1024, &garbage, 0x1234);
    w.Begin(kT0);
    w.Deposit(1, 1, 10);
    w.Commit();
  }
  for (const char* sub : {"dump", "info", "stats"}) {
    const Output o = RunRill(tmp, std::string("inspect ") + sub + " " + tmp.Sub("j"));
    INFO(sub);
    CHECK(o.exit == 3);
    CheckOneLineError(o, tmp.Sub("j"));
    CHECK(o.err.find("unknown schema") != std::string::npos);
  }
  CHECK(RunRill(tmp, "inspect verify " + tmp.Sub("j")).exit == 1);
}

TEST_CASE("cli: usage errors exit 2", "[tools][inspect][cli]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  CHECK(RunRill(tmp, "inspect").exit == 2);
  CHECK(RunRill(tmp, "inspect dump").exit == 2);  // DIR is required
  CHECK(RunRill(tmp, "inspect frobnicate " + tmp.Sub("j")).exit == 2);
  CHECK(RunRill(tmp, "inspect dump --limit many " + tmp.Sub("j")).exit == 2);
  CHECK(RunRill(tmp, "inspect stats --top 0 " + tmp.Sub("j")).exit == 2);
  const Output from = RunRill(tmp, "inspect dump --from yesterday " + tmp.Sub("j"));
  CHECK(from.exit == 2);
  CheckOneLineError(from, "--from");
}

TEST_CASE("cli: --help on every subcommand shows an example and the exit codes", "[tools][inspect][cli]") {
  TempDir tmp;
  for (const char* sub : kSubcommands) {
    const Output o = RunRill(tmp, std::string("inspect ") + sub + " --help");
    INFO(sub << ": " << o.out);
    CHECK(o.exit == 0);
    CHECK(o.out.find(std::string("Example:\n  rill inspect ") + sub) != std::string::npos);
    CHECK(o.out.find("Exit codes: 0 ok, 1 problems found") != std::string::npos);
  }
  CHECK(RunRill(tmp, "version").exit == 0);
}

TEST_CASE("cli: dump --follow stops cleanly on SIGINT", "[tools][inspect][cli][live]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  int out[2];
  REQUIRE(::pipe(out) == 0);
  const std::string dir = tmp.Sub("j");
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    ::execl(RILL_BIN, "rill", "inspect", "dump", "--follow", dir.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  // Once all 8 events are printed, it is following (or about to): interrupt it.
  std::string text;
  char buf[4096];
  while (Lines(text).size() < 8) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    REQUIRE(n > 0);
    text.append(buf, static_cast<std::size_t>(n));
  }
  REQUIRE(::kill(child, SIGINT) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  ::close(out[0]);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// One verdict for every tool (journal/journal_verifier.h): the same exit code from verify,
// info, stats, dump, replay and recover on the same journal.
TEST_CASE("cli: every tool reaches the same verdict on an empty, a FIFO-holding and a shortened journal",
          "[tools][inspect][cli][verdict]") {
  const std::vector<std::string> tools = {"inspect verify", "inspect info", "inspect stats", "inspect dump", "replay"};
  TempDir tmp;
  SECTION("killed while creating its first segment, so empty, exit 0 everywhere") {
    REQUIRE(::mkdir(tmp.Sub("j").c_str(), 0755) == 0);
    std::ofstream(tmp.Sub("j/LOCK")) << "1234\n";
    std::ofstream(tmp.Sub("j/" + rill::journal::SegmentFileName(0) + ".tmp")) << std::string(4096, '\0');
    for (const std::string& t : tools) {
      const Output o = RunRill(tmp, t + " " + tmp.Sub("j"));
      INFO(t << ": " << o.err);
      CHECK(o.exit == 0);
    }
  }
  SECTION("a FIFO named like the next segment, damaged, exit 1 everywhere, no hang") {
    WriteSmallJournal(tmp.Sub("j"));
    REQUIRE(::mkfifo(tmp.Sub("j/" + rill::journal::SegmentFileName(1)).c_str(), 0644) == 0);
    for (const std::string& t : tools) {
      const Output o = RunRill(tmp, t + " " + tmp.Sub("j"));
      INFO(t << ": " << o.err);
      CHECK(o.exit == 1);
      CHECK(o.err.find("FIFO") != std::string::npos);
    }
    CHECK(RunRill(tmp, "recover " + tmp.Sub("j")).exit == 1);  // a dry run of a damaged journal
  }
  SECTION("the only segment deleted though the control file says it held durable events, exit 1") {
    WriteSmallJournal(tmp.Sub("j"));
    // The control file records position 8 durable: a journal with no segment cannot hold it.
    REQUIRE(::unlink(tmp.Sub("j/" + rill::journal::SegmentFileName(0)).c_str()) == 0);
    for (const std::string& t : tools) {
      const Output o = RunRill(tmp, t + " " + tmp.Sub("j"));
      INFO(t << ": " << o.err);
      CHECK(o.exit == 1);
    }
    const Output dry = RunRill(tmp, "recover " + tmp.Sub("j"));
    CHECK(dry.exit == 1);
    CHECK(dry.out.find("salvage") != std::string::npos);
  }
}
