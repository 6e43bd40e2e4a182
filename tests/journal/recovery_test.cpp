// Tests of journal/recovery.cpp: torn tails are cut and reported, damage before the tail
// stops the open (or is salvaged), and every case ends on a whole-batch boundary.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>

#include "journal_test_util.h"
#include "rill/journal/recovery.h"
#include "rill/journal/segment_dir.h"
#include "rill/journal/segment_file.h"

using namespace rill::journal;
using rill::journal::test::TempDir;

namespace {

struct CountingReporter : Reporter {
  std::vector<TailCut> cuts;
  std::vector<SalvageReport> salvages;
  void TailTruncated(const TailCut& c) override { cuts.push_back(c); }
  void Salvaged(const SalvageReport& r) override { salvages.push_back(r); }
};

std::vector<char> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteFile(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void FlipBit(const std::string& path, std::size_t offset, int bit) {
  std::vector<char> bytes = ReadFile(path);
  bytes[offset] = static_cast<char>(bytes[offset] ^ (1 << bit));
  WriteFile(path, bytes);
}

// Batch offsets of a segment file, from the format's own scanner.
std::vector<std::size_t> BatchOffsets(const std::string& path, SegmentScan* scan_out = nullptr) {
  std::vector<char> bytes = ReadFile(path);
  std::vector<std::size_t> out;
  const SegmentScan scan = ScanSegment(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size(), Verify::kAll,
                                       [&](std::size_t offset, const BatchPayload&) { out.push_back(offset); });
  if (scan_out) *scan_out = scan;
  return out;
}

std::string Seg(const std::string& dir, std::uint64_t index) { return dir + "/" + SegmentFileName(index); }

// Four batches, then a small last batch of two 8- and 16-byte records filled with 0xA5, so
// that every byte of the last batch is significant (no zero padding at its end).
struct OneSegmentJournal {
  TempDir dir;
  std::uint64_t prefix = 0;  // last position before the final batch
  std::size_t last_begin = 0, last_end = 0;
  OneSegmentJournal() {
    auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
    for (int b = 0; b < 4; ++b) prefix = test::AppendBatch(**w, 2);
    for (std::size_t n : {8u, 16u}) {
      auto span = (*w)->Reserve(n, 1);
      std::fill(span->begin(), span->end(), std::byte{0xA5});
    }
    REQUIRE((*w)->CommitBatch(0).ok());
    SegmentScan scan;
    const auto offsets = BatchOffsets(Seg(dir.path(), 0), &scan);
    last_begin = offsets.back();
    last_end = scan.end_offset;
  }
};

// Opens a writer on `dir` (running recovery) and checks it kept exactly positions 1..prefix.
void ExpectRecoveredTo(const std::string& dir, std::uint64_t prefix, CountingReporter* reporter) {
  {
    auto w = JournalWriter::Open(test::SmallOptions(dir, 8 * 1024), reporter);
    INFO(w.status().ToString());
    REQUIRE(w.ok());
    REQUIRE((*w)->committed_position() == prefix);
    REQUIRE(test::AppendBatch(**w, 1) == prefix + 1);  // and appends continue right there
  }
  bool match = false;
  rill::Status err;
  const auto positions = test::ReadAll(dir, &err, &match);
  REQUIRE(err.ok());
  REQUIRE(positions.size() == prefix + 1);
  REQUIRE(test::IsGapFree(positions));
  REQUIRE(match);
}

}  // namespace

TEST_CASE("a journal truncated at any byte of its last batch recovers to the batch before", "[journal][recovery]") {
  OneSegmentJournal j;
  const std::vector<char> pristine = ReadFile(Seg(j.dir.path(), 0));
  for (std::size_t cut = j.last_begin; cut < j.last_end; ++cut) {
    INFO("truncated at offset " << cut);
    TempDir copy;
    WriteFile(Seg(copy.path(), 0), std::vector<char>(pristine.begin(), pristine.begin() + static_cast<long>(cut)));
    CountingReporter reporter;
    ExpectRecoveredTo(copy.path(), j.prefix, &reporter);
    if (cut == j.last_begin) {
      CHECK(reporter.cuts.empty());  // nothing of the batch is left: a clean end
    } else {
      REQUIRE(reporter.cuts.size() == 1);
      CHECK(reporter.cuts[0].offset == j.last_begin);
      CHECK(reporter.cuts[0].first_position_cut == j.prefix + 1);
      CHECK(reporter.cuts[0].bytes_cut > 0);
      CHECK(reporter.cuts[0].segment == SegmentFileName(0));
    }
  }
}

TEST_CASE("a flipped bit at any byte of the last batch drops exactly that batch", "[journal][recovery]") {
  OneSegmentJournal j;
  for (std::size_t at = j.last_begin; at < j.last_end; ++at) {
    INFO("bit flipped at offset " << at);
    TempDir copy;
    std::vector<char> bytes = ReadFile(Seg(j.dir.path(), 0));
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << (at % 8)));
    WriteFile(Seg(copy.path(), 0), bytes);
    CountingReporter reporter;
    ExpectRecoveredTo(copy.path(), j.prefix, &reporter);
    REQUIRE(reporter.cuts.size() == 1);
    CHECK(reporter.cuts[0].offset == j.last_begin);
    CHECK(reporter.cuts[0].first_position_cut == j.prefix + 1);
  }
}

TEST_CASE("a torn tail is reported with the positions cut, and recovery is idempotent", "[journal][recovery]") {
  OneSegmentJournal j;
  test::SetRecordedDurable(j.dir.path(), j.prefix);  // the last batch was never reported durable
  FlipBit(Seg(j.dir.path(), 0), j.last_end - 1, 0);  // damages the last record only
  CountingReporter first;
  ExpectRecoveredTo(j.dir.path(), j.prefix, &first);
  REQUIRE(first.cuts.size() == 1);
  CHECK(first.cuts[0].first_position_cut == j.prefix + 1);
  CHECK(first.cuts[0].last_position_cut == j.prefix + 2);  // the batch header was readable
  CHECK(first.cuts[0].reason.find("CRC") != std::string::npos);
  CHECK(first.cuts[0].committed_events == 2);  // committed, never durable: set aside, not lost silently
  CHECK_FALSE(first.cuts[0].damage);
  CHECK(ReadFile(first.cuts[0].aside).size() == first.cuts[0].bytes_cut);  // the bytes are kept aside
  CountingReporter second;
  auto w = JournalWriter::Open(test::SmallOptions(j.dir.path(), 8 * 1024), &second);
  REQUIRE(w.ok());
  CHECK(second.cuts.empty());
  CHECK((*w)->committed_position() == j.prefix + 1);
}

namespace {

// Many batches over several 8 KiB segments; returns the last position.
std::uint64_t WriteMultiSegment(const std::string& dir) {
  auto w = JournalWriter::Open(test::SmallOptions(dir, 8 * 1024));
  std::uint64_t last = 0;
  for (int b = 0; b < 150; ++b) last = test::AppendBatch(**w, 3);
  return last;
}

}  // namespace

TEST_CASE("damage in an earlier segment stops the open, naming segment and offset", "[journal][recovery]") {
  TempDir dir;
  WriteMultiSegment(dir.path());
  const auto offsets = BatchOffsets(Seg(dir.path(), 1));
  REQUIRE(offsets.size() > 4);
  const std::size_t damaged = offsets[3] + kBatchFrameSize + kFrameHeaderSize;  // first record's payload
  FlipBit(Seg(dir.path(), 1), damaged, 2);
  CountingReporter reporter;
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024), &reporter);
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().IsCorruption());
  const std::string msg(w.status().message());
  CHECK(msg.find("segment " + SegmentFileName(1) + " offset " + std::to_string(damaged - kFrameHeaderSize)) !=
        std::string::npos);
  CHECK(msg.find("salvage") != std::string::npos);
  CHECK(reporter.cuts.empty());
  // A reader stops there too, with a typed error naming the frame.
  rill::Status err;
  test::ReadAll(dir.path(), &err);
  CHECK(err.IsCorruption());
  CHECK(std::string(err.message())
            .find("segment " + SegmentFileName(1) + " offset " + std::to_string(offsets[3] + kBatchFrameSize)) !=
        std::string::npos);
}

TEST_CASE("salvage keeps the valid prefix and moves the rest aside without deleting it", "[journal][recovery]") {
  TempDir dir;
  WriteMultiSegment(dir.path());
  const auto offsets = BatchOffsets(Seg(dir.path(), 1));
  FlipBit(Seg(dir.path(), 1), offsets[3] + kBatchFrameSize + kFrameHeaderSize, 2);
  auto seg1 = SegmentFile::Open(Seg(dir.path(), 1), SegmentFile::Mode::kReadOnly);
  REQUIRE(seg1.ok());
  const std::uint64_t keep = (*seg1)->header().first_position + 3 * 3 - 1;  // three whole batches of 3
  seg1->reset();
  auto all_segments = ListSegmentIndexes(dir.path());
  REQUIRE(all_segments.ok());
  CountingReporter reporter;
  WriterOptions o = test::SmallOptions(dir.path(), 8 * 1024);
  o.salvage = true;
  {
    auto w = JournalWriter::Open(o, &reporter);
    REQUIRE(w.ok());
    CHECK((*w)->committed_position() == keep);
    REQUIRE(reporter.salvages.size() == 1);
    CHECK(reporter.salvages[0].segment == SegmentFileName(1));
    CHECK(reporter.salvages[0].offset == offsets[3]);
    CHECK(reporter.salvages[0].first_position_dropped == keep + 1);
    const std::string aside = reporter.salvages[0].aside_directory;
    for (std::uint64_t i = 1; i < all_segments->size(); ++i) {
      struct stat st {};
      CHECK(::stat((aside + "/" + SegmentFileName(i)).c_str(), &st) == 0);  // kept, not deleted
    }
    CHECK(test::AppendBatch(**w, 2) == keep + 2);
  }
  bool match = false;
  auto positions = test::ReadAll(dir.path(), nullptr, &match);
  CHECK(positions.size() == keep + 2);
  CHECK(test::IsGapFree(positions));
  CHECK(match);
}

TEST_CASE("a last segment whose header never reached the disk is moved aside and reported", "[journal][recovery]") {
  TempDir dir;
  WriteMultiSegment(dir.path());
  auto list = ListSegmentIndexes(dir.path());
  REQUIRE(list.ok());
  const std::uint64_t last = list->back();
  auto prev = JournalReader::Open({dir.path(), true});
  REQUIRE(prev.ok());
  auto segs = (*prev)->ListSegments();
  REQUIRE(segs.ok());
  const std::uint64_t keep = (*segs)[segs->size() - 2].last_position;
  prev->reset();
  test::SetRecordedDurable(dir.path(), keep);  // nothing in the new segment was reported durable yet
  std::vector<char> bytes = ReadFile(Seg(dir.path(), last));
  std::fill(bytes.begin(), bytes.begin() + 128, 0);
  WriteFile(Seg(dir.path(), last), bytes);
  CountingReporter reporter;
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024), &reporter);
  INFO(w.status().ToString());
  REQUIRE(w.ok());
  CHECK((*w)->committed_position() == keep);
  REQUIRE(reporter.cuts.size() == 1);
  CHECK(reporter.cuts[0].segment == SegmentFileName(last));
  CHECK(reporter.cuts[0].damage);  // it held committed batches: reported as damage past the durable position
  CHECK(reporter.cuts[0].committed_events > 0);
  struct stat st {};
  CHECK(::stat(reporter.cuts[0].aside.c_str(), &st) == 0);  // moved aside whole, not deleted
}

TEST_CASE("a sealed segment whose pad frame was lost is still read through", "[journal][recovery]") {
  TempDir dir;
  const std::uint64_t last = WriteMultiSegment(dir.path());
  SegmentScan scan;
  BatchOffsets(Seg(dir.path(), 0), &scan);
  REQUIRE(scan.stop == BatchOutcome::kSegmentEnd);
  std::vector<char> bytes = ReadFile(Seg(dir.path(), 0));
  std::fill(bytes.begin() + static_cast<long>(scan.end_offset), bytes.end(), 0);  // as if never written back
  WriteFile(Seg(dir.path(), 0), bytes);
  bool match = false;
  CHECK(test::ReadAll(dir.path(), nullptr, &match).size() == last);
  CHECK(match);
  CountingReporter reporter;
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024), &reporter);
  REQUIRE(w.ok());
  CHECK((*w)->committed_position() == last);
  CHECK(reporter.cuts.empty());
}

TEST_CASE("a missing segment in the middle is reported as corruption", "[journal][recovery]") {
  TempDir dir;
  WriteMultiSegment(dir.path());
  REQUIRE(::unlink(Seg(dir.path(), 1).c_str()) == 0);
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().IsCorruption());
  CHECK(std::string(w.status().message()).find(SegmentFileName(2)) != std::string::npos);
}

TEST_CASE("leftover unpublished segment files are removed and leave nothing behind", "[journal][recovery]") {
  TempDir dir;
  WriteMultiSegment(dir.path());
  WriteFile(dir.Sub(SegmentFileName(99) + ".tmp"), std::vector<char>(4096, 1));
  { REQUIRE(JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024)).ok()); }
  struct stat st {};
  CHECK(::stat(dir.Sub(SegmentFileName(99) + ".tmp").c_str(), &st) != 0);
  auto list = ListSegmentIndexes(dir.path());
  REQUIRE(list.ok());
  for (std::uint64_t i = 0; i < list->size() + 2; ++i)
    CHECK(::stat(dir.Sub(SegmentFileName(i) + ".tmp").c_str(), &st) != 0);
}

TEST_CASE("the zero scan finds the last non-zero byte at any alignment", "[journal][recovery]") {
  std::vector<std::byte> buf(256);
  std::size_t end = 0;
  CHECK(AllZero(buf.data(), 0, buf.size(), &end));
  CHECK(end == 0);
  for (std::size_t at : {0u, 1u, 7u, 8u, 13u, 100u, 247u, 255u}) {
    std::fill(buf.begin(), buf.end(), std::byte{0});
    buf[at] = std::byte{1};
    CHECK_FALSE(AllZero(buf.data(), 0, buf.size(), &end));
    CHECK(end == at + 1);
    CHECK(AllZero(buf.data(), at + 1, buf.size(), &end));  // from just after it: clean
    if (at >= 3) CHECK_FALSE(AllZero(buf.data(), at - 3, at + 1, &end));
  }
}
