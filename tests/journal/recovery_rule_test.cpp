// Tests of the recovery rule (FORMAT.md, "Recovery"): nothing at or below the durable position
// the control file records is ever cut; what is cut past it is set aside and reported; the
// control file and the segments must agree; only regular files are opened; the verifier and the
// writer reach the same verdict. Each case failed (or crashed, or hung) before the rule.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "recovery_rule_util.h"
#include "rill/base/crc32c.h"
#include "rill/journal/batch_parser.h"
#include "rill/journal/control_file.h"
#include "rill/journal/journal_verifier.h"
#include "rill/journal/recovery.h"
#include "rill/journal/segment_dir.h"
#include "rill/journal/segment_file.h"

using namespace rill::journal;
using namespace rill::journal::rule_test;
using rill::journal::test::TempDir;

TEST_CASE("a bit flip below the durable position in the open segment is refused, never cut", "[journal][rule]") {
  TempDir dir;
  const std::uint64_t last = WriteJournal(dir.path());
  const std::uint64_t open_seg = Segments(dir.path()).back();
  std::vector<std::size_t> offsets;
  {
    std::vector<char> bytes = ReadFile(Seg(dir.path(), open_seg));
    ScanSegment(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size(), Verify::kAll,
                [&](std::size_t o, const BatchPayload&) { offsets.push_back(o); });
    REQUIRE(offsets.size() > 3);
    const std::size_t at = offsets[1] + kBatchFrameSize + kFrameHeaderSize;  // a record of the second batch
    bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
    WriteFile(Seg(dir.path(), open_seg), bytes);
  }
  CHECK(VerdictOf(dir.path()) == Verdict::kDamaged);
  Log log;
  auto refused = OpenWriter(dir.path(), &log);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().IsCorruption());
  const std::string msg(refused.status().message());
  CHECK(msg.find("segment " + SegmentFileName(open_seg) + " offset " + std::to_string(offsets[1] + kBatchFrameSize)) !=
        std::string::npos);
  CHECK(msg.find("durable position " + std::to_string(last)) != std::string::npos);
  CHECK(msg.find("rill recover") != std::string::npos);
  CHECK(log.cuts.empty());
  CHECK(Segments(dir.path()).back() == open_seg);  // nothing was touched: refused twice the same way
  CHECK_FALSE(OpenWriter(dir.path(), &log).ok());

  // Salvage keeps every event before the damaged batch and says what it could not keep.
  auto seg = SegmentFile::Open(Seg(dir.path(), open_seg), SegmentFile::Mode::kReadOnly);
  REQUIRE(seg.ok());
  const std::uint64_t keep = (*seg)->header().first_position + 3 - 1;  // the first batch of 3
  seg->reset();
  {
    auto w = OpenWriter(dir.path(), &log, /*salvage=*/true);
    REQUIRE(w.ok());
    CHECK((*w)->committed_position() == keep);
    REQUIRE(log.salvages.size() == 1);
    CHECK(log.salvages[0].first_position_dropped == keep + 1);
    CHECK(log.salvages[0].acknowledged_lost == last - keep);
    CHECK(log.salvages[0].events_set_aside == last - keep);  // every later batch frame is still readable
    struct stat st {};
    CHECK(::stat((log.salvages[0].aside_directory + "/" + SegmentFileName(open_seg)).c_str(), &st) == 0);
  }
  ExpectPrefixIntact(dir.path(), keep);
  CHECK(VerdictOf(dir.path()) == Verdict::kIntact);
  Log again;
  CHECK(OpenWriter(dir.path(), &again).ok());  // the control file now agrees: no refusal
}

TEST_CASE("a truncated open segment or a missing last segment is refused when the control file says more",
          "[journal][rule]") {
  TempDir dir;
  const std::uint64_t last = WriteJournal(dir.path());
  const auto segments = Segments(dir.path());
  SECTION("the newest segment deleted") { REQUIRE(::unlink(Seg(dir.path(), segments.back()).c_str()) == 0); }
  SECTION("the open segment truncated at a batch boundary") {
    std::vector<char> bytes = ReadFile(Seg(dir.path(), segments.back()));
    const auto* h = reinterpret_cast<const SegmentHeader*>(bytes.data());
    bytes.resize(h->data_offset);  // no batch at all: clean, but short of the durable position
    WriteFile(Seg(dir.path(), segments.back()), bytes);
  }
  auto c = CheckJournal(dir.path());
  REQUIRE(c.ok());
  CHECK(c->verdict == Verdict::kDamaged);
  CHECK(c->salvage.kind == SalvagePlan::Kind::kAcceptMissingEnd);
  const std::uint64_t kept = c->salvage.next_position - 1;
  CHECK(c->salvage.acknowledged_lost == last - kept);
  Log log;
  auto w = OpenWriter(dir.path(), &log);
  REQUIRE_FALSE(w.ok());
  CHECK(std::string(w.status().message()).find("records position " + std::to_string(last) + " as durable") !=
        std::string::npos);
  {
    auto s = OpenWriter(dir.path(), &log, true);
    REQUIRE(s.ok());
    CHECK((*s)->committed_position() == kept);
    REQUIRE(log.salvages.size() == 1);
    CHECK(log.salvages[0].acknowledged_lost == last - kept);
  }
  CHECK(OpenWriter(dir.path(), &log).ok());
}

TEST_CASE("a missing first segment is damage unless retention removed it", "[journal][rule]") {
  TempDir dir;
  WriteJournal(dir.path());
  const auto segments = Segments(dir.path());
  SECTION("deleted by hand: refused") {
    REQUIRE(::unlink(Seg(dir.path(), segments.front()).c_str()) == 0);
    auto c = CheckJournal(dir.path());
    REQUIRE(c.ok());
    CHECK(c->verdict == Verdict::kDamaged);
    CHECK(c->salvage.kind == SalvagePlan::Kind::kAcceptMissingHead);
    Log log;
    CHECK_FALSE(OpenWriter(dir.path(), &log).ok());
    CHECK(OpenWriter(dir.path(), &log, true).ok());  // salvage accepts it and moves the record up
    CHECK(OpenWriter(dir.path(), &log).ok());
  }
  SECTION("removed by retention: accepted") {
    auto second = SegmentFile::Open(Seg(dir.path(), segments[2]), SegmentFile::Mode::kReadOnly);
    REQUIRE(second.ok());
    const std::uint64_t from = (*second)->header().first_position;
    second->reset();
    {
      Log log;
      auto w = OpenWriter(dir.path(), &log);
      REQUIRE(w.ok());
      auto deleted = (*w)->DeleteSegmentsBefore(from);
      REQUIRE(deleted.ok());
      CHECK(*deleted == 2);
    }
    CHECK(VerdictOf(dir.path()) == Verdict::kIntact);
    Log log;
    CHECK(OpenWriter(dir.path(), &log).ok());
  }
}

TEST_CASE("a sealed segment extended past its end is damage for the verifier, the readers and the writer",
          "[journal][rule]") {
  TempDir dir;
  WriteJournal(dir.path());
  const auto segments = Segments(dir.path());
  std::vector<char> bytes = ReadFile(Seg(dir.path(), segments[1]));
  bytes.resize(bytes.size() + 4096, 'x');
  WriteFile(Seg(dir.path(), segments[1]), bytes);
  CHECK(VerdictOf(dir.path()) == Verdict::kDamaged);
  rill::Status err;
  test::ReadAll(dir.path(), &err);
  CHECK(err.IsCorruption());
  CHECK(std::string(err.message()).find(SegmentFileName(segments[1])) != std::string::npos);
  Log log;
  CHECK_FALSE(OpenWriter(dir.path(), &log).ok());
}

TEST_CASE("a directory, FIFO or symlink named like a segment is a clear error, never a crash or a hang",
          "[journal][rule]") {
  TempDir dir;
  WriteJournal(dir.path(), 20);
  const std::uint64_t next = Segments(dir.path()).back() + 1;
  const std::string path = Seg(dir.path(), next);
  std::string kind;
  SECTION("directory") {
    REQUIRE(::mkdir(path.c_str(), 0755) == 0);
    kind = "a directory";
  }
  SECTION("FIFO") {
    REQUIRE(::mkfifo(path.c_str(), 0644) == 0);
    kind = "a FIFO";
  }
  SECTION("symlink loop") {
    REQUIRE(::symlink(path.c_str(), path.c_str()) == 0);
    kind = "a symbolic link";
  }
  SECTION("symlink out of the directory") {
    REQUIRE(::symlink(Seg(dir.path(), 0).c_str(), path.c_str()) == 0);
    kind = "a symbolic link";
  }
  auto c = CheckJournal(dir.path());
  REQUIRE(c.ok());
  CHECK(c->verdict == Verdict::kDamaged);
  REQUIRE(c->damage);
  CHECK(c->damage->reason.find(kind) != std::string::npos);
  Log log;
  auto w = OpenWriter(dir.path(), &log);
  REQUIRE_FALSE(w.ok());
  CHECK(std::string(w.status().message()).find(kind) != std::string::npos);
  rill::Status err;
  test::ReadAll(dir.path(), &err);  // returns (no hang); the reader reaches the file as the next segment
  CHECK_FALSE(err.ok());
}

TEST_CASE("a writer killed while creating its first segment leaves an empty journal", "[journal][rule]") {
  TempDir dir;
  {  // what a kill -9 between the control file and the first segment's rename leaves
    REQUIRE(ControlFile::OpenForWriter(dir.path(), 0, kSegment, 1).ok());
    WriteFile(dir.Sub("LOCK"), {'1', '\n'});
    WriteFile(dir.Sub(SegmentFileName(0) + ".tmp"), std::vector<char>(kSegment, 0));
  }
  CHECK(VerdictOf(dir.path()) == Verdict::kEmpty);
  Log log;
  auto w = OpenWriter(dir.path(), &log);
  REQUIRE(w.ok());
  CHECK(test::AppendBatch(**w, 2) == 2);
  TempDir plain;
  auto none = CheckJournal(plain.path());
  CHECK(none.status().IsNotFound());  // an empty directory with nothing of rill is not a journal
}

TEST_CASE("a torn tail past the durable position is saved aside before it is zeroed", "[journal][rule]") {
  TempDir dir;
  const std::uint64_t last = WriteJournal(dir.path(), 10);
  const std::uint64_t seg = Segments(dir.path()).back();
  // Non-zero bytes after the last batch that are no batch: a batch that never committed.
  std::vector<char> bytes = ReadFile(Seg(dir.path(), seg));
  SegmentScan scan = ScanSegment(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size(), Verify::kAll);
  const std::vector<char> garbage = {0, 0, 0, 0, 0, 0, 0, 0, 'g', 'a', 'r', 'b', 'a', 'g', 'e', '!'};
  std::copy(garbage.begin(), garbage.end(), bytes.begin() + static_cast<long>(scan.end_offset) + 48);
  WriteFile(Seg(dir.path(), seg), bytes);
  CHECK(VerdictOf(dir.path()) == Verdict::kTornTail);
  Log log;
  {
    auto w = OpenWriter(dir.path(), &log);
    REQUIRE(w.ok());
    CHECK((*w)->committed_position() == last);
  }
  REQUIRE(log.cuts.size() == 1);
  CHECK(log.cuts[0].committed_events == 0);
  CHECK_FALSE(log.cuts[0].damage);
  const std::vector<char> aside = ReadFile(log.cuts[0].aside);
  REQUIRE(aside.size() == 64);
  CHECK(std::equal(garbage.begin() + 8, garbage.end(), aside.begin() + 56));
  // The cut really happened: the journal is intact with no tail left (this fails when the cut
  // is skipped because non-zero bytes follow the last batch).
  CHECK(VerdictOf(dir.path()) == Verdict::kIntact);
}

TEST_CASE("damage followed by committed batches past the durable position is reported as damage", "[journal][rule]") {
  TempDir dir;
  const std::uint64_t last = WriteJournal(dir.path(), 10);
  const std::uint64_t seg = Segments(dir.path()).back();
  std::vector<char> bytes = ReadFile(Seg(dir.path(), seg));
  std::vector<std::size_t> offsets;
  ScanSegment(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size(), Verify::kAll,
              [&](std::size_t o, const BatchPayload&) { offsets.push_back(o); });
  const std::size_t n = offsets.size();
  REQUIRE(n >= 4);
  bytes[offsets[n - 3] + kBatchFrameSize + kFrameHeaderSize] ^= 1;  // a record three batches from the end
  WriteFile(Seg(dir.path(), seg), bytes);
  auto first = SegmentFile::Open(Seg(dir.path(), seg), SegmentFile::Mode::kReadOnly);
  REQUIRE(first.ok());
  const std::uint64_t damaged_from = last - 3 * 3 + 1;
  first->reset();
  SECTION("past the durable position: set aside and reported as damage") {
    test::SetRecordedDurable(dir.path(), damaged_from - 1);
    auto c = CheckJournal(dir.path());
    REQUIRE(c.ok());
    CHECK(c->verdict == Verdict::kDamagedTail);
    Log log;
    {
      auto w = OpenWriter(dir.path(), &log);
      REQUIRE(w.ok());
      CHECK((*w)->committed_position() == damaged_from - 1);
    }
    REQUIRE(log.cuts.size() == 1);
    CHECK(log.cuts[0].damage);
    CHECK(log.cuts[0].committed_events == 9);
    CHECK(log.cuts[0].first_position_cut == damaged_from);
    CHECK(log.cuts[0].last_position_cut == last);
  }
  SECTION("at or below it: refused") {
    Log log;
    CHECK_FALSE(OpenWriter(dir.path(), &log).ok());
  }
  SECTION("no control file: nothing proves it was not acknowledged, refused") {
    REQUIRE(::unlink(dir.Sub("control").c_str()) == 0);
    Log log;
    CHECK_FALSE(OpenWriter(dir.path(), &log).ok());
  }
}

TEST_CASE("journal writer getters are safe after Close", "[journal][rule]") {
  TempDir dir;
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), kSegment));
  REQUIRE(w.ok());
  const std::uint64_t last = test::AppendBatch(**w, 4);
  REQUIRE((*w)->Close().ok());
  CHECK((*w)->committed_position() == last);
  CHECK((*w)->durable_position() == last);
  CHECK((*w)->stats().appends == 4);
  CHECK((*w)->WaitDurable(last, 0).ok());
  CHECK((*w)->WaitDurable(last + 1, 0).IsUnavailable());
  CHECK((*w)->Sync().IsUnavailable());
  CHECK((*w)->Reserve(8, 1).status().IsUnavailable());
}

TEST_CASE("verify mode tail: a headerless last segment is judged from where the one before it ends",
          "[journal][rule]") {
  TempDir dir;
  WriteJournal(dir.path());
  const auto segments = Segments(dir.path());
  REQUIRE(segments.size() >= 3);
  auto prev = SegmentFile::Open(Seg(dir.path(), segments[segments.size() - 2]), SegmentFile::Mode::kReadOnly);
  REQUIRE(prev.ok());
  const std::uint64_t prev_end =
      ScanSegment((*prev)->data(), (*prev)->size(), Verify::kAll).next_position - 1;  // kTail does not scan it
  prev->reset();
  std::vector<char> bytes = ReadFile(Seg(dir.path(), segments.back()));
  std::fill(bytes.begin(), bytes.begin() + 128, 0);
  WriteFile(Seg(dir.path(), segments.back()), bytes);
  WriterOptions o = test::SmallOptions(dir.path(), kSegment);
  o.verify = VerifyMode::kTail;
  SECTION("its positions were reported durable: refused") {
    Log log;
    CHECK_FALSE(JournalWriter::Open(o, &log).ok());
  }
  SECTION("nothing in it was durable: set aside whole") {
    test::SetRecordedDurable(dir.path(), prev_end);
    Log log;
    auto w = JournalWriter::Open(o, &log);
    REQUIRE(w.ok());
    CHECK((*w)->committed_position() == prev_end);
    REQUIRE(log.cuts.size() == 1);
    CHECK(log.cuts[0].first_position_cut == prev_end + 1);
  }
}
