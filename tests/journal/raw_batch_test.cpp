// Tests of whole-batch transfer between journals (replication's foundations):
// JournalReader::NextBatch, JournalWriter::AppendBatch and MoveTailAside (journal/tail_aside.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "journal_test_util.h"
#include "rill/journal/batch_parser.h"
#include "rill/journal/journal_verifier.h"
#include "rill/journal/segment_file.h"
#include "rill/journal/tail_aside.h"

using namespace rill::journal;
using rill::journal::test::TempDir;

namespace {

using Bytes = std::vector<std::byte>;

struct Copied {
  std::uint64_t first = 0;
  std::uint32_t count = 0;
  std::int64_t ts = 0;
  Bytes bytes;
};

// 300 batches of 1..5 records across many 8 KiB segments; batch b has timestamp 1000 * b.
std::uint64_t WriteSource(const std::string& dir, int batches = 300) {
  auto w = JournalWriter::Open(test::SmallOptions(dir, 8 * 1024));
  REQUIRE(w.ok());
  std::uint64_t last = 0;
  for (int b = 0; b < batches; ++b) last = test::AppendBatch(**w, 1 + b % 5, 1000 * b);
  return last;
}

// Every batch from the start, copied out of the reader's spans.
std::vector<Copied> ReadBatches(const std::string& dir) {
  std::vector<Copied> out;
  auto r = JournalReader::Open({dir, true});
  REQUIRE(r.ok());
  RawBatch b;
  for (;;) {
    const ReadStatus s = (*r)->NextBatch(&b);
    if (s == ReadStatus::kEnd) break;
    REQUIRE(s == ReadStatus::kRecord);
    out.push_back({b.first_position, b.record_count, b.timestamp_ns, Bytes(b.bytes.begin(), b.bytes.end())});
  }
  return out;
}

std::size_t SegmentCount(const std::string& dir) {
  auto r = JournalReader::Open({dir, true});
  REQUIRE(r.ok());
  auto list = (*r)->ListSegments();
  REQUIRE(list.ok());
  return list->size();
}

// Flips one byte of a segment file in place, as damage on disk would.
void FlipByte(const std::string& dir, std::uint64_t segment, std::uint64_t offset) {
  const std::string path = dir + "/" + SegmentFileName(segment);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  unsigned char c = 0;
  REQUIRE(::pread(fd, &c, 1, static_cast<off_t>(offset)) == 1);
  c ^= 0x10;
  REQUIRE(::pwrite(fd, &c, 1, static_cast<off_t>(offset)) == 1);
  ::close(fd);
}

bool JournalIntact(const std::string& dir, std::uint64_t next_position) {
  auto c = CheckJournal(dir);
  return c.ok() && c->verdict == Verdict::kIntact && c->next_position == next_position;
}

}  // namespace

TEST_CASE("NextBatch returns each committed batch verbatim, across segment rolls", "[journal][raw_batch]") {
  TempDir dir;
  const std::uint64_t last = WriteSource(dir.path());
  REQUIRE(SegmentCount(dir.path()) > 5);
  const std::vector<Copied> batches = ReadBatches(dir.path());
  REQUIRE(batches.size() == 300);
  std::uint64_t next = 1;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const Copied& b = batches[i];
    CHECK(b.first == next);
    CHECK(b.count == 1 + i % 5);
    CHECK(b.ts == static_cast<std::int64_t>(1000 * i));
    // The span is the batch frame then its data frames, as in the segment.
    BatchPayload p;
    std::memcpy(&p, b.bytes.data() + kFrameHeaderSize, sizeof p);
    CHECK(p.first_position == b.first);
    CHECK(p.batch_bytes == b.bytes.size());
    std::size_t at = kBatchFrameSize;
    for (std::uint32_t k = 0; k < b.count; ++k, ++next) {
      FrameHeader h;
      std::memcpy(&h, b.bytes.data() + at, sizeof h);
      REQUIRE(h.kind == FrameKind::kData);
      Record rec;
      rec.position = next;
      rec.type = h.user_type;
      rec.payload = {b.bytes.data() + at + kFrameHeaderSize, h.length - kFrameHeaderSize};
      CHECK(test::PayloadMatches(rec));
      at += AlignUp(h.length, kFrameAlignment);
    }
    CHECK(at == b.bytes.size());
  }
  CHECK(next == last + 1);
}

TEST_CASE("NextBatch reads only at batch boundaries and points into the mapping", "[journal][raw_batch]") {
  TempDir dir;
  WriteSource(dir.path(), 20);  // batch b holds 1 + b % 5 records: batch 1 = positions 2..3
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  JournalReader& reader = **r;
  RawBatch b;
  Record rec;
  REQUIRE(reader.NextBatch(&b) == ReadStatus::kRecord);  // after Open
  CHECK(b.first_position == 1);
  CHECK(b.last_position() == 1);
  REQUIRE(reader.Next(&rec) == ReadStatus::kRecord);  // position 2, not the end of its batch
  CHECK_FALSE(rec.end_of_batch);
  REQUIRE(reader.NextBatch(&b) == ReadStatus::kError);
  CHECK(reader.error().IsInvalidArgument());
  CHECK_THAT(reader.error().ToString(), Catch::Contains("inside the batch of positions 2..3"));
  REQUIRE(reader.Next(&rec) == ReadStatus::kRecord);  // the refusal moved nothing
  CHECK(rec.position == 3);
  CHECK(rec.end_of_batch);
  REQUIRE(reader.NextBatch(&b) == ReadStatus::kRecord);  // after end_of_batch
  CHECK(b.first_position == 4);
  CHECK(b.record_count == 3);
  // A seek to a batch's first position is a boundary; to any other position it is not.
  REQUIRE(reader.SeekToPosition(2).ok());
  REQUIRE(reader.NextBatch(&b) == ReadStatus::kRecord);
  CHECK(b.first_position == 2);
  const std::span<const std::byte> first_span = b.bytes;
  REQUIRE(reader.NextBatch(&b) == ReadStatus::kRecord);
  CHECK(b.first_position == 4);
  // Consecutive batches of a segment lie back to back in the mapping: spans into it, not copies.
  CHECK(b.bytes.data() == first_span.data() + first_span.size());
  REQUIRE(reader.SeekToPosition(5).ok());
  CHECK(reader.NextBatch(&b) == ReadStatus::kError);
  REQUIRE(reader.SeekToTime(3000).ok());  // batch 3: positions 7..10
  REQUIRE(reader.NextBatch(&b) == ReadStatus::kRecord);
  CHECK(b.first_position == 7);
  CHECK(b.timestamp_ns == 3000);
  // To the end, then tail: a batch committed later is returned whole.
  while (reader.NextBatch(&b) == ReadStatus::kRecord) {
  }
  CHECK(reader.error().ok() == false);  // the earlier refusal is still recorded; the status was kEnd
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
  REQUIRE(w.ok());
  const std::uint64_t end = (*w)->committed_position();
  REQUIRE(test::AppendBatch(**w, 4, 99'000) == end + 4);
  REQUIRE(reader.NextBatch(&b) == ReadStatus::kRecord);
  CHECK(b.first_position == end + 1);
  CHECK(b.record_count == 4);
  CHECK(reader.NextBatch(&b) == ReadStatus::kEnd);
}

TEST_CASE("NextBatch checks every record's CRC, also right after a seek", "[journal][raw_batch]") {
  TempDir dir;
  WriteSource(dir.path(), 40);
  // Damage a record of the batch at positions 7..10 (batch 3).
  std::uint64_t segment = 0, offset = 0;
  {
    auto r = JournalReader::Open({dir.path(), true});
    REQUIRE(r.ok());
    REQUIRE((*r)->SeekToPosition(9).ok());
    Record rec;
    REQUIRE((*r)->Next(&rec) == ReadStatus::kRecord);
    segment = rec.segment_index;
    offset = rec.offset + kFrameHeaderSize;
  }
  FlipByte(dir.path(), segment, offset);
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  RawBatch b;
  for (int i = 0; i < 3; ++i) REQUIRE((*r)->NextBatch(&b) == ReadStatus::kRecord);
  CHECK((*r)->NextBatch(&b) == ReadStatus::kError);
  CHECK((*r)->error().IsCorruption());
  auto seeked = JournalReader::Open({dir.path(), true});
  REQUIRE(seeked.ok());
  REQUIRE((*seeked)->SeekToPosition(7).ok());  // a seek checks batch frames only
  CHECK((*seeked)->NextBatch(&b) == ReadStatus::kError);
  CHECK((*seeked)->error().IsCorruption());
}

TEST_CASE("AppendBatch makes a byte-identical copy of a journal", "[journal][raw_batch]") {
  TempDir src, dst;
  const std::uint64_t last = WriteSource(src.path());
  const std::vector<Copied> in = ReadBatches(src.path());
  {
    // Another segment size: batches fall into other segments, yet stay the same bytes.
    auto w = JournalWriter::Open(test::SmallOptions(dst.path(), 12 * 1024));
    REQUIRE(w.ok());
    for (const Copied& b : in) {
      // At an odd address, as a network buffer may be.
      Bytes shifted(b.bytes.size() + 1);
      std::memcpy(shifted.data() + 1, b.bytes.data(), b.bytes.size());
      auto appended = (*w)->AppendBatch({shifted.data() + 1, b.bytes.size()});
      REQUIRE(appended.ok());
      CHECK(*appended == b.first + b.count - 1);
    }
    CHECK((*w)->committed_position() == last);
  }
  const std::vector<Copied> out = ReadBatches(dst.path());
  REQUIRE(out.size() == in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    CHECK(out[i].first == in[i].first);
    CHECK(out[i].ts == in[i].ts);
    CHECK(out[i].bytes == in[i].bytes);
  }
  bool match = false;
  CHECK(test::IsGapFree(test::ReadAll(dst.path(), nullptr, &match)));
  CHECK(match);
  CHECK(JournalIntact(dst.path(), last + 1));
}

TEST_CASE("AppendBatch refuses what does not continue the journal or is damaged, appending nothing",
          "[journal][raw_batch]") {
  TempDir src, dst;
  WriteSource(src.path(), 10);
  const std::vector<Copied> in = ReadBatches(src.path());
  auto opened = JournalWriter::Open(test::SmallOptions(dst.path(), 8 * 1024));
  REQUIRE(opened.ok());
  JournalWriter& w = **opened;
  REQUIRE(w.AppendBatch(in[0].bytes).ok());
  REQUIRE(w.AppendBatch(in[1].bytes).ok());  // positions 1..3
  const std::uint64_t end = w.committed_position();
  REQUIRE(end == 3);
  auto refused = [&](std::span<const std::byte> bytes) {
    auto r = w.AppendBatch(bytes);
    CHECK(w.committed_position() == end);
    CHECK(w.status().ok());  // a refused batch does not stop the writer
    return r.ok() ? rill::Status::OK() : r.status();
  };

  SECTION("a gap") {
    const rill::Status s = refused(in[3].bytes);
    CHECK(s.IsFailedPrecondition());
    CHECK_THAT(s.ToString(), Catch::Contains("batch starts at 7, the journal continues at 4"));
  }
  SECTION("a repeated batch") { CHECK(refused(in[1].bytes).IsFailedPrecondition()); }
  SECTION("a flipped bit in a record's payload") {
    Bytes b = in[2].bytes;
    b[kBatchFrameSize + kFrameHeaderSize] ^= std::byte{1};
    const rill::Status s = refused(b);
    CHECK(s.IsCorruption());
    CHECK_THAT(s.ToString(), Catch::Contains("record fails its CRC"));  // found by validation, not the rewrite
  }
  SECTION("a flipped bit in the batch frame") {
    Bytes b = in[2].bytes;
    b[kFrameHeaderSize + 20] ^= std::byte{4};  // the timestamp
    CHECK(refused(b).IsCorruption());
  }
  SECTION("a truncated span") {
    const Bytes& b = in[2].bytes;
    CHECK(refused({b.data(), b.size() - 8}).IsCorruption());
    CHECK(refused({b.data(), b.size() - 1}).IsCorruption());
    CHECK(refused({b.data(), kBatchFrameSize}).IsCorruption());
    CHECK(refused({}).IsCorruption());
  }
  SECTION("a span longer than its batch") {
    Bytes b = in[2].bytes;
    b.resize(b.size() + 8);
    CHECK(refused(b).IsCorruption());
  }
  SECTION("two batches in one span") {
    Bytes b = in[2].bytes;
    b.insert(b.end(), in[3].bytes.begin(), in[3].bytes.end());
    CHECK(refused(b).IsCorruption());
  }
  SECTION("bytes the writer would not reproduce (non-zero padding under a valid CRC)") {
    Bytes b = in[2].bytes;  // positions 4..6; position 4 has 5 payload bytes, so 3 of padding
    std::byte* frame = b.data() + kBatchFrameSize;
    FrameHeader h;
    std::memcpy(&h, frame, sizeof h);
    REQUIRE(h.length % 8 != 0);
    frame[h.length] = std::byte{0x5a};
    h.crc = FrameCrc(frame, h.length);
    std::memcpy(frame, &h, sizeof h);
    const rill::Status s = refused(b);
    CHECK(s.IsCorruption());
    CHECK_THAT(s.ToString(), Catch::Contains("rewriting it gave other bytes"));
  }
  SECTION("a batch as format version 1 wrote it (no length copy)") {
    Bytes b = in[2].bytes;
    for (std::size_t at = kBatchFrameSize; at < b.size();) {
      FrameHeader h;
      std::memcpy(&h, b.data() + at, sizeof h);
      h.reserved = 0;
      std::memcpy(b.data() + at, &h, sizeof h);
      h.crc = FrameCrc(b.data() + at, h.length);
      std::memcpy(b.data() + at, &h, sizeof h);
      at += AlignUp(h.length, kFrameAlignment);
    }
    const rill::Status s = refused(b);
    CHECK(s.IsCorruption());
    CHECK_THAT(s.ToString(), Catch::Contains("format version 1"));
  }
  SECTION("a batch open") {
    REQUIRE(w.Reserve(8).ok());
    CHECK(refused(in[2].bytes).IsInvalidArgument());
    w.AbortBatch();
  }
  SECTION("a timestamp before the journal's") {
    REQUIRE(test::AppendBatch(w, 3, 1'000'000) == 6);  // positions 4..6 at a later time
    auto r = w.AppendBatch(in[3].bytes);               // positions 7.., timestamp 3000
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
    CHECK(w.committed_position() == 6);
    return;
  }
  // Every refusal left the journal as it was: the right batch still appends, and the copy is exact.
  REQUIRE(w.AppendBatch(in[2].bytes).ok());
  REQUIRE(w.Close().ok());
  const std::vector<Copied> out = ReadBatches(dst.path());
  REQUIRE(out.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(out[i].bytes == in[i].bytes);
  CHECK(JournalIntact(dst.path(), 7));
}

namespace {

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool FileExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// Reopens the writer on a cut journal: it must continue at keep_through + 1.
void AppendAfterCut(const std::string& dir, std::uint64_t keep_through) {
  auto w = JournalWriter::Open(test::SmallOptions(dir, 8 * 1024));
  REQUIRE(w.ok());
  CHECK((*w)->committed_position() == keep_through);
  CHECK(test::AppendBatch(**w, 3, 10'000'000) == keep_through + 3);
  REQUIRE((*w)->Close().ok());
  bool match = false;
  const std::vector<std::uint64_t> read = test::ReadAll(dir, nullptr, &match);
  CHECK(read.size() == keep_through + 3);
  CHECK(test::IsGapFree(read));
  CHECK(match);
  CHECK(JournalIntact(dir, keep_through + 4));
}

}  // namespace

TEST_CASE("MoveTailAside keeps through a batch's end and sets the rest aside", "[journal][raw_batch][tail_aside]") {
  TempDir dir;
  const std::uint64_t last = WriteSource(dir.path());
  const std::vector<Copied> before = ReadBatches(dir.path());
  const std::size_t segments = SegmentCount(dir.path());
  REQUIRE(segments > 5);

  SECTION("a batch in the middle") {
    const std::uint64_t keep = before[150].first + before[150].count - 1;
    auto r = MoveTailAside(dir.path(), keep);
    REQUIRE(r.ok());
    CHECK(r->kept_through == keep);
    CHECK(r->first_position_moved == keep + 1);
    CHECK(r->last_position_moved == last);
    CHECK(r->batches_moved == 149);
    REQUIRE(IsDirectory(r->aside_directory));
    REQUIRE(r->files.size() >= 2);
    for (const std::string& f : r->files) CHECK(FileExists(r->aside_directory + "/" + f));
    CHECK(SegmentCount(dir.path()) < segments);
    const std::vector<Copied> after = ReadBatches(dir.path());
    REQUIRE(after.size() == 151);
    for (std::size_t i = 0; i < after.size(); ++i) CHECK(after[i].bytes == before[i].bytes);
    CHECK(JournalIntact(dir.path(), keep + 1));
    AppendAfterCut(dir.path(), keep);
  }
  SECTION("the committed end: nothing to do") {
    auto r = MoveTailAside(dir.path(), last);
    REQUIRE(r.ok());
    CHECK(r->first_position_moved == 0);
    CHECK(r->files.empty());
    CHECK(r->aside_directory.empty());
    CHECK(ReadBatches(dir.path()).size() == 300);
    AppendAfterCut(dir.path(), last);
  }
  SECTION("not a batch boundary") {
    // Batch b holds 1 + b % 5 records: batch 12 holds 3.
    const Copied& b = before[12];
    REQUIRE(b.count == 3);
    auto r = MoveTailAside(dir.path(), b.first);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
    const std::string range = std::to_string(b.first) + ".." + std::to_string(b.first + 2);
    CHECK_THAT(r.status().ToString(), Catch::Contains("inside the batch of positions " + range));
    CHECK(MoveTailAside(dir.path(), last + 1).status().IsInvalidArgument());
    CHECK(ReadBatches(dir.path()).size() == 300);  // unchanged
    CHECK(JournalIntact(dir.path(), last + 1));
  }
  SECTION("the last position of a segment, then across segments") {
    auto reader = JournalReader::Open({dir.path(), true});
    REQUIRE(reader.ok());
    auto list = (*reader)->ListSegments();
    REQUIRE(list.ok());
    reader->reset();
    const SegmentInfo& seg = (*list)[2];
    REQUIRE(seg.sealed);
    auto r = MoveTailAside(dir.path(), seg.last_position);
    REQUIRE(r.ok());
    CHECK(r->files.size() == list->size() - 3);  // segment 2 holds nothing past it: only later ones move
    CHECK(SegmentCount(dir.path()) == 3);
    CHECK(JournalIntact(dir.path(), seg.last_position + 1));
    // Now into segment 1, from segment 2: segment 1 is cut in place, segment 2 moved.
    std::uint64_t boundary = 0;  // the end of segment 1's first batch
    for (const Copied& b : before)
      if (b.first >= (*list)[1].first_position && b.first + b.count - 1 < (*list)[1].last_position) {
        boundary = b.first + b.count - 1;
        break;
      }
    REQUIRE(boundary != 0);
    auto again = MoveTailAside(dir.path(), boundary);
    REQUIRE(again.ok());
    CHECK(again->files.size() == 2);
    CHECK(SegmentCount(dir.path()) == 2);
    AppendAfterCut(dir.path(), boundary);
  }
  SECTION("everything") {
    auto r = MoveTailAside(dir.path(), 0);
    REQUIRE(r.ok());
    CHECK(r->first_position_moved == 1);
    CHECK(SegmentCount(dir.path()) == 1);
    AppendAfterCut(dir.path(), 0);
  }
  SECTION("a writer holds the journal") {
    auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
    REQUIRE(w.ok());
    CHECK(MoveTailAside(dir.path(), before[0].count).status().IsBusy());
  }
}

TEST_CASE("a fenced writer's journal is cut back and continues from the leader's batches",
          "[journal][raw_batch][tail_aside]") {
  TempDir leader, fenced;
  WriteSource(leader.path());
  const std::vector<Copied> in = ReadBatches(leader.path());
  std::uint64_t shared_end = 0;
  {
    auto w = JournalWriter::Open(test::SmallOptions(fenced.path(), 8 * 1024));
    REQUIRE(w.ok());
    for (std::size_t i = 0; i < 120; ++i) REQUIRE((*w)->AppendBatch(in[i].bytes).ok());
    shared_end = (*w)->committed_position();
    for (int i = 0; i < 60; ++i) REQUIRE(test::AppendBatch(**w, 2, 50'000'000) != 0);  // never shipped
  }
  auto r = MoveTailAside(fenced.path(), shared_end);
  REQUIRE(r.ok());
  CHECK(r->first_position_moved == shared_end + 1);
  CHECK(r->last_position_moved == shared_end + 120);
  {
    auto w = JournalWriter::Open(test::SmallOptions(fenced.path(), 8 * 1024));
    REQUIRE(w.ok());
    for (std::size_t i = 120; i < in.size(); ++i) REQUIRE((*w)->AppendBatch(in[i].bytes).ok());
  }
  const std::vector<Copied> out = ReadBatches(fenced.path());
  REQUIRE(out.size() == in.size());
  for (std::size_t i = 0; i < in.size(); ++i) CHECK(out[i].bytes == in[i].bytes);
  CHECK(JournalIntact(fenced.path(), in.back().first + in.back().count));
}
