// Tests of the recovery rule (FORMAT.md, "Recovery"): nothing at or below the durable position
// the control file records is ever cut; what is cut past it is set aside and reported; the
// control file and the segments must agree; only regular files are opened; the verifier and the
// writer reach the same verdict. Each case failed (or crashed, or hung) before the rule.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "journal_test_util.h"
#include "rill/base/crc32c.h"
#include "rill/journal/batch_parser.h"
#include "rill/journal/control_file.h"
#include "rill/journal/journal_verifier.h"
#include "rill/journal/recovery.h"
#include "rill/journal/segment_dir.h"
#include "rill/journal/segment_file.h"

using namespace rill::journal;
using rill::journal::test::TempDir;

namespace {

struct Log : Reporter {
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

std::string Seg(const std::string& dir, std::uint64_t index) { return dir + "/" + SegmentFileName(index); }

constexpr std::size_t kSegment = 8 * 1024;

// A journal over several segments, closed cleanly: the control file records every position as
// durable (Durability::kNone: durable == committed).
std::uint64_t WriteJournal(const std::string& dir, int batches = 150) {
  auto w = JournalWriter::Open(test::SmallOptions(dir, kSegment));
  REQUIRE(w.ok());
  std::uint64_t last = 0;
  for (int b = 0; b < batches; ++b) last = test::AppendBatch(**w, 3);
  return last;
}

std::vector<std::uint64_t> Segments(const std::string& dir) {
  auto list = ListSegmentIndexes(dir);
  REQUIRE(list.ok());
  return *list;
}

Verdict VerdictOf(const std::string& dir) {
  auto c = CheckJournal(dir);
  REQUIRE(c.ok());
  return c->verdict;
}

rill::Result<std::unique_ptr<JournalWriter>> OpenWriter(const std::string& dir, Log* log, bool salvage = false) {
  WriterOptions o = test::SmallOptions(dir, kSegment);
  o.salvage = salvage;
  return JournalWriter::Open(o, log);
}

// Every position 1..n is present, once, in order, with its own payload.
void ExpectPrefixIntact(const std::string& dir, std::uint64_t n) {
  bool match = false;
  rill::Status err;
  const auto positions = test::ReadAll(dir, &err, &match);
  INFO(err.ToString());
  REQUIRE(positions.size() >= n);
  CHECK(test::IsGapFree(positions));
  CHECK(match);
}

}  // namespace

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

// Randomized: damage a journal in one of many ways, then open a writer. It must either refuse,
// or keep every position the control file recorded durable, intact, gap-free. The seed is
// printed; RILL_DAMAGE_SEED replays one, RILL_DAMAGE_CASES sets how many (CI: the default).
TEST_CASE("randomized damage: the writer refuses or keeps every durable event", "[journal][rule][randomized]") {
  const char* env_seed = std::getenv("RILL_DAMAGE_SEED");
  const char* env_cases = std::getenv("RILL_DAMAGE_CASES");
  const std::uint64_t seed = env_seed ? std::strtoull(env_seed, nullptr, 10) : std::random_device{}();
  const int cases = env_cases ? std::atoi(env_cases) : 120;
  std::printf("randomized damage: seed %llu, %d cases (replay: RILL_DAMAGE_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), cases, static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  TempDir pristine;
  WriteJournal(pristine.path(), 60);
  const auto segments = Segments(pristine.path());
  int refused = 0, opened = 0;
  for (int k = 0; k < cases; ++k) {
    TempDir dir;
    for (std::uint64_t s : segments) WriteFile(Seg(dir.path(), s), ReadFile(Seg(pristine.path(), s)));
    WriteFile(dir.Sub("control"), ReadFile(pristine.Sub("control")));
    auto pick = [&](std::uint64_t n) { return static_cast<std::uint64_t>(rng() % n); };
    const std::uint64_t seg = segments[pick(segments.size())];
    const int kind = static_cast<int>(pick(8));
    std::uint64_t durable = 0;
    {
      auto rs = ReadRecordedState(dir.path());
      REQUIRE(rs.ok());
      durable = rs->durable;
    }
    if (pick(2) == 0) {  // as after a power loss: the last part was never reported durable
      durable -= pick(durable / 4 + 1);
      test::SetRecordedDurable(dir.path(), durable);
    }
    std::vector<char> bytes = ReadFile(Seg(dir.path(), seg));
    switch (kind) {
      case 0: {  // one bit flip anywhere (format version 1 missed a record length's 3 low bits)
        const std::uint64_t at = pick(bytes.size());
        bytes[at] ^= static_cast<char>(1 << pick(8));
        UNSCOPED_INFO("bit flipped at offset " << at);
        break;
      }
      case 1:  // truncated anywhere
        bytes.resize(pick(bytes.size()));
        break;
      case 2:    // a range zeroed
      case 3: {  // a range of garbage
        const std::uint64_t at = pick(bytes.size()), len = 1 + pick(512);
        for (std::uint64_t i = at; i < std::min<std::uint64_t>(bytes.size(), at + len); ++i)
          bytes[i] = kind == 2 ? 0 : static_cast<char>(rng());
        break;
      }
      case 4:  // deleted
        bytes.clear();
        break;
      case 5:  // extended
        bytes.resize(bytes.size() + 4096, static_cast<char>(pick(2)));
        break;
      case 6:  // replaced by another segment's bytes
        bytes = ReadFile(Seg(dir.path(), segments[pick(segments.size())]));
        break;
      default:  // the control file lost
        ::unlink(dir.Sub("control").c_str());
        durable = 0;
        break;
    }
    if (kind == 4) {
      ::unlink(Seg(dir.path(), seg).c_str());
    } else if (kind != 7) {
      WriteFile(Seg(dir.path(), seg), bytes);
    }
    INFO("case " << k << ": damage kind " << kind << " in segment " << seg << ", durable " << durable << ", seed "
                 << seed);
    auto verdict = CheckJournal(dir.path());
    Log log;
    auto w = OpenWriter(dir.path(), &log);
    if (!w.ok()) {
      ++refused;
      // The verifier agrees that this journal is damaged.
      CHECK((!verdict.ok() || verdict->verdict == Verdict::kDamaged));
      continue;
    }
    ++opened;
    CHECK((verdict.ok() && verdict->verdict != Verdict::kDamaged));
    const std::uint64_t end = (*w)->committed_position();
    w->reset();
    CHECK(end >= durable);  // nothing recorded durable was cut
    bool match = false;
    rill::Status err;
    const auto positions = test::ReadAll(dir.path(), &err, &match);
    CHECK(err.ok());
    if (!match) {
      auto r = JournalReader::Open({dir.path(), true});
      Record rec;
      while (r.ok() && (*r)->Next(&rec) == ReadStatus::kRecord)
        if (!test::PayloadMatches(rec)) {
          UNSCOPED_INFO("position " << rec.position << " at segment " << rec.segment_index << " offset " << rec.offset
                                    << " does not match");
          break;
        }
    }
    CHECK(match);
    if (!positions.empty()) CHECK(test::IsGapFree(positions, positions.front()));
  }
  std::printf("randomized damage: %d refused, %d opened keeping every durable event\n", refused, opened);
}

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
