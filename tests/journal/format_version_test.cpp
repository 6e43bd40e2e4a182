// Format versions (FORMAT.md): version 2's CRC-covered copy of a record's length, and version 1
// segments still read (never appended to).
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

namespace {

// Rewrites a segment file as format version 1 wrote it: no length copy in data frames.
void DowngradeToVersion1(const std::string& path) {
  std::vector<char> bytes = ReadFile(path);
  auto* base = reinterpret_cast<std::byte*>(bytes.data());
  ScanSegment(base, bytes.size(), Verify::kAll, [&](std::size_t offset, const BatchPayload& b) {
    std::size_t at = offset + kBatchFrameSize;
    for (std::uint32_t i = 0; i < b.record_count; ++i) {
      auto* h = reinterpret_cast<FrameHeader*>(base + at);
      h->reserved = 0;
      h->crc = FrameCrc(base + at, h->length);
      at += AlignUp(h->length, kFrameAlignment);
    }
  });
  auto* h = reinterpret_cast<SegmentHeader*>(base);
  h->format_version = 1;
  h->header_crc = rill::crc32c::Mask(rill::crc32c::Value(base, kSegmentHeaderCrcSpan));
  WriteFile(path, bytes);
}

}  // namespace

TEST_CASE("format 2: a record length changed within its 8-byte span is damage", "[journal][rule][format]") {
  TempDir dir;
  const std::uint64_t last = WriteJournal(dir.path(), 4);
  std::vector<char> bytes = ReadFile(Seg(dir.path(), 0));
  std::vector<std::size_t> records;
  ScanSegment(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size(), Verify::kAll,
              [&](std::size_t offset, const BatchPayload&) { records.push_back(offset + kBatchFrameSize); });
  // The first record of the second batch: a length whose low bits can change without changing
  // its span (PayloadSize(4) = 5: length 21, span 24; 21 ^ 1 = 20 keeps the span).
  const std::size_t at = records[1];
  REQUIRE(AlignUp(static_cast<unsigned char>(bytes[at]) ^ 1u, 8) == AlignUp(static_cast<unsigned char>(bytes[at]), 8));
  bytes[at] ^= 1;
  WriteFile(Seg(dir.path(), 0), bytes);
  rill::Status err;
  test::ReadAll(dir.path(), &err);
  CHECK(err.IsCorruption());
  CHECK(std::string(err.message()).find("CRC-covered copy") != std::string::npos);
  auto c = CheckJournal(dir.path());
  REQUIRE(c.ok());
  CHECK(c->verdict == Verdict::kDamaged);  // at or below the durable position: refused
  CHECK(last > 0);
}

TEST_CASE("format 1 segments are still read, and the writer starts a version 2 segment after them",
          "[journal][rule][format]") {
  TempDir dir;
  const std::uint64_t last = WriteJournal(dir.path(), 4);
  DowngradeToVersion1(Seg(dir.path(), 0));
  CHECK(VerdictOf(dir.path()) == Verdict::kIntact);
  ExpectPrefixIntact(dir.path(), last);
  {
    Log log;
    auto w = OpenWriter(dir.path(), &log);
    REQUIRE(w.ok());
    CHECK(test::AppendBatch(**w, 2) == last + 2);
  }
  const auto segments = Segments(dir.path());
  REQUIRE(segments.size() == 2);  // not appended to the version 1 segment
  auto seg = SegmentFile::Open(Seg(dir.path(), 1), SegmentFile::Mode::kReadOnly);
  REQUIRE(seg.ok());
  CHECK((*seg)->header().format_version == kFormatVersion);
  ExpectPrefixIntact(dir.path(), last + 2);
}
