// Tests of journal/journal_writer.cpp: append, roll, durability, locking, space, retention.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>

#include "journal_test_util.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"
#include "rill/journal/segment_file.h"
#include "rill/tests/support/file_size_limit.h"

using namespace rill::journal;
using rill::journal::test::TempDir;

TEST_CASE("records round trip with their positions, types, payloads and batch timestamps", "[journal][writer]") {
  TempDir dir;
  {
    auto w = JournalWriter::Open(test::SmallOptions(dir.path()));
    REQUIRE(w.ok());
    CHECK((*w)->committed_position() == 0);
    CHECK(test::AppendBatch(**w, 3, 100) == 3);
    CHECK(test::AppendBatch(**w, 1, 200) == 4);
    CHECK(test::AppendBatch(**w, 5, 150) == 9);  // an earlier timestamp is clamped to 200
    CHECK((*w)->committed_position() == 9);
    CHECK((*w)->durable_position() == 9);  // Durability::kNone: durable == committed
  }
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  Record rec;
  std::vector<std::int64_t> ts;
  std::vector<bool> ends;
  for (std::uint64_t p = 1; p <= 9; ++p) {
    REQUIRE((*r)->Next(&rec) == ReadStatus::kRecord);
    CHECK(rec.position == p);
    CHECK(test::PayloadMatches(rec));
    ts.push_back(rec.timestamp_ns);
    ends.push_back(rec.end_of_batch);
  }
  CHECK((*r)->Next(&rec) == ReadStatus::kEnd);
  CHECK(rec.segment_index == 0);
  CHECK(rec.offset > 128);
  CHECK(ts == std::vector<std::int64_t>{100, 100, 100, 200, 200, 200, 200, 200, 200});
  CHECK(ends == std::vector<bool>{false, false, true, true, false, false, false, false, true});
}

TEST_CASE("a reopened writer continues at the next position", "[journal][writer]") {
  TempDir dir;
  for (int round = 0; round < 3; ++round) {
    auto w = JournalWriter::Open(test::SmallOptions(dir.path()));
    REQUIRE(w.ok());
    CHECK((*w)->committed_position() == static_cast<std::uint64_t>(round * 4));
    CHECK(test::AppendBatch(**w, 4) == static_cast<std::uint64_t>(round * 4 + 4));
  }
  bool match = false;
  auto positions = test::ReadAll(dir.path(), nullptr, &match);
  CHECK(positions.size() == 12);
  CHECK(test::IsGapFree(positions));
  CHECK(match);
}

TEST_CASE("appends roll over across many small segments without a gap", "[journal][writer][roll]") {
  TempDir dir;
  std::uint64_t last = 0;
  {
    auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
    REQUIRE(w.ok());
    for (int b = 0; b < 400; ++b) last = test::AppendBatch(**w, 1 + b % 9, b);
    REQUIRE(last > 0);
  }
  bool match = false;
  rill::Status err;
  auto positions = test::ReadAll(dir.path(), &err, &match);
  CHECK(err.ok());
  CHECK(positions.size() == last);
  CHECK(test::IsGapFree(positions));
  CHECK(match);
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  auto segs = (*r)->ListSegments();
  REQUIRE(segs.ok());
  CHECK(segs->size() > 10);
  for (std::size_t i = 0; i + 1 < segs->size(); ++i) {
    CHECK((*segs)[i].sealed);
    CHECK((*segs)[i].last_position + 1 == (*segs)[i + 1].first_position);
  }
  CHECK(segs->back().last_position == last);
}

TEST_CASE("a batch too large for a segment is refused and the journal keeps working", "[journal][writer]") {
  TempDir dir;
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
  REQUIRE(w.ok());
  CHECK(test::AppendBatch(**w, 2) == 2);
  auto big = (*w)->Reserve(16 * 1024);
  CHECK(big.status().IsInvalidArgument());
  CHECK(test::AppendBatch(**w, 2) == 4);
  CHECK(test::ReadAll(dir.path()).size() == 4);
}

TEST_CASE("an aborted batch is never visible and its positions are reused", "[journal][writer]") {
  TempDir dir;
  auto w = JournalWriter::Open(test::SmallOptions(dir.path()));
  REQUIRE(w.ok());
  CHECK(test::AppendBatch(**w, 2) == 2);
  REQUIRE((*w)->Reserve(10).ok());
  REQUIRE((*w)->Reserve(20).ok());
  (*w)->AbortBatch();
  CHECK((*w)->CommitBatch(0).status().IsInvalidArgument());  // nothing reserved any more
  CHECK(test::AppendBatch(**w, 3) == 5);
  bool match = false;
  auto positions = test::ReadAll(dir.path(), nullptr, &match);
  CHECK(positions.size() == 5);
  CHECK(match);
}

TEST_CASE("a second writer is refused with a message naming the holder's process", "[journal][writer][lock]") {
  TempDir dir;
  auto first = JournalWriter::Open(test::SmallOptions(dir.path()));
  REQUIRE(first.ok());
  auto second = JournalWriter::Open(test::SmallOptions(dir.path()));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().IsBusy());
  CHECK(std::string(second.status().message()).find("process " + std::to_string(::getpid())) != std::string::npos);
  REQUIRE((*first)->Close().ok());
  CHECK(JournalWriter::Open(test::SmallOptions(dir.path())).ok());  // released on close
}

TEST_CASE("a writer in another process is refused while this one holds the journal", "[journal][writer][lock]") {
  TempDir dir;
  int go[2];
  REQUIRE(::pipe(go) == 0);
  // Fork before any thread exists; the child waits for the parent's writer, then tries its own.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    char c = 0;
    int code = ::read(go[0], &c, 1) == 1 ? 0 : 2;
    if (code == 0) {
      auto w = JournalWriter::Open(test::SmallOptions(dir.path()));
      const std::string holder = "process " + std::to_string(::getppid());
      if (w.ok())
        code = 3;
      else if (!w.status().IsBusy())
        code = 4;
      else if (std::string(w.status().message()).find(holder) == std::string::npos)
        code = 5;
    }
    ::_exit(code);
  }
  auto w = JournalWriter::Open(test::SmallOptions(dir.path()));
  REQUIRE(w.ok());
  REQUIRE(::write(go[1], "x", 1) == 1);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  ::close(go[0]);
  ::close(go[1]);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("the schema fingerprint and blob are stored in every segment and exposed to readers",
          "[journal][writer][schema]") {
  TempDir dir;
  std::vector<std::byte> blob(3000);
  for (std::size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<std::byte>(i * 13);
  WriterOptions o = test::SmallOptions(dir.path(), 16 * 1024);
  o.schema_fingerprint = 0xfeedf00d12345678ull;
  o.schema_blob = blob;
  {
    auto w = JournalWriter::Open(o);
    REQUIRE(w.ok());
    for (int b = 0; b < 200; ++b) REQUIRE(test::AppendBatch(**w, 3) > 0);
  }
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  auto segs = (*r)->ListSegments();
  REQUIRE(segs.ok());
  CHECK(segs->size() > 2);
  Record rec;
  std::uint64_t n = 0;
  while ((*r)->Next(&rec) == ReadStatus::kRecord) {
    ++n;
    CHECK((*r)->schema_fingerprint() == 0xfeedf00d12345678ull);
    CHECK(std::equal(blob.begin(), blob.end(), (*r)->schema_blob().begin(), (*r)->schema_blob().end()));
  }
  CHECK(n == 600);
  for (const auto& s : *segs) CHECK(s.schema_fingerprint == 0xfeedf00d12345678ull);
}

TEST_CASE("a new schema fingerprint starts a new segment", "[journal][writer][schema]") {
  TempDir dir;
  WriterOptions o = test::SmallOptions(dir.path());
  o.schema_fingerprint = 1;
  { REQUIRE(test::AppendBatch(**JournalWriter::Open(o), 2) == 2); }
  o.schema_fingerprint = 2;
  { REQUIRE(test::AppendBatch(**JournalWriter::Open(o), 2) == 4); }
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  auto segs = (*r)->ListSegments();
  REQUIRE(segs.ok());
  REQUIRE(segs->size() == 2);
  CHECK((*segs)[0].schema_fingerprint == 1);
  CHECK((*segs)[1].schema_fingerprint == 2);
  CHECK((*segs)[1].first_position == 3);
  CHECK(test::IsGapFree(test::ReadAll(dir.path())));
}

TEST_CASE("with policy batch each commit becomes durable and on_durable reports it", "[journal][writer][durability]") {
  for (SyncMethod method : {SyncMethod::kFdatasync, SyncMethod::kMsync}) {
    TempDir dir;
    std::atomic<std::uint64_t> reported{0};
    WriterOptions o = test::SmallOptions(dir.path(), 16 * 1024);
    o.durability = Durability::kBatch;
    o.sync_method = method;
    o.on_durable = [&](std::uint64_t p) { reported.store(p, std::memory_order_release); };
    auto w = JournalWriter::Open(o);
    REQUIRE(w.ok());
    std::uint64_t last = 0;
    for (int b = 0; b < 60; ++b) last = test::AppendBatch(**w, 4);  // rolls a few segments
    REQUIRE(last == 240);
    CHECK((*w)->WaitDurable(last, -1).ok());
    CHECK((*w)->durable_position() == last);
    CHECK(reported.load(std::memory_order_acquire) == last);
    auto r = JournalReader::Open({dir.path(), true});
    REQUIRE(r.ok());
    CHECK((*r)->durable_position() == last);
    const JournalStats stats = (*r)->stats();  // what tools read from outside the writer
    CHECK(stats.appends == 240);
    CHECK(stats.batches == 60);
    CHECK(stats.syncs > 0);
    CHECK(stats.syncs <= 60 + 8);  // group commit: at most one sync per batch (plus rolls)
  }
}

TEST_CASE("with policy interval commits become durable without being asked", "[journal][writer][durability]") {
  TempDir dir;
  WriterOptions o = test::SmallOptions(dir.path());
  o.durability = Durability::kInterval;
  o.sync_interval_ms = 1;
  auto w = JournalWriter::Open(o);
  REQUIRE(w.ok());
  const std::uint64_t last = test::AppendBatch(**w, 5);
  CHECK((*w)->WaitDurable(last, -1).ok());
  CHECK((*w)->Sync().ok());
}

// Sync() is an explicit request: it must not wait for the interval's next tick (an hour here;
// before the fix it did, and this test hung until ctest's timeout).
TEST_CASE("Sync under policy interval syncs now instead of at the next tick", "[journal][writer][durability]") {
  TempDir dir;
  WriterOptions o = test::SmallOptions(dir.path());
  o.durability = Durability::kInterval;
  o.sync_interval_ms = 3'600'000;
  auto w = JournalWriter::Open(o);
  REQUIRE(w.ok());
  const std::uint64_t last = test::AppendBatch(**w, 5);
  REQUIRE((*w)->Sync().ok());
  CHECK((*w)->durable_position() == last);
}

using rill::test::FileSizeLimit;

TEST_CASE("a full disk gives a NoSpace error, stops appends and loses nothing committed", "[journal][writer][space]") {
  TempDir dir;
  std::uint64_t committed = 0;
  rill::Status first_error;
  {
    auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 16 * 1024));
    REQUIRE(w.ok());
    FileSizeLimit limit(8 * 1024);  // every new segment (16 KiB) now fails to preallocate
    for (int b = 0; b < 1000; ++b) {
      std::uint64_t pos = (*w)->committed_position() + 1;
      rill::Status s;
      for (int i = 0; i < 3 && s.ok(); ++i, ++pos) {
        auto span = (*w)->Reserve(test::PayloadSize(pos), static_cast<std::uint16_t>(pos % 7));
        if (!span.ok()) {
          s = span.status();
          break;
        }
        for (std::size_t j = 0; j < span->size(); ++j) (*span)[j] = test::PayloadByte(pos, j);
      }
      if (s.ok()) s = (*w)->CommitBatch(0).status();
      if (!s.ok()) {
        first_error = s;
        break;
      }
    }
    committed = (*w)->committed_position();
    CHECK(first_error.IsNoSpace());
    CHECK(std::string(first_error.message()).find(".seg") != std::string::npos);
    auto again = (*w)->Reserve(8);
    CHECK(again.status().IsUnavailable());  // refuses further appends, with the reason
    CHECK(std::string(again.status().message()).find("No space") != std::string::npos);
    CHECK((*w)->status().IsNoSpace());
  }
  REQUIRE(committed > 0);
  bool match = false;
  rill::Status err;
  auto positions = test::ReadAll(dir.path(), &err, &match);
  CHECK(err.ok());
  CHECK(positions.size() == committed);
  CHECK(test::IsGapFree(positions));
  CHECK(match);
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 16 * 1024));  // space is back
  REQUIRE(w.ok());
  CHECK(test::AppendBatch(**w, 2) == committed + 2);
}

TEST_CASE("running out of space when the batch frame itself no longer fits is a clean error",
          "[journal][writer][space]") {
  TempDir dir;
  constexpr std::size_t kWhole = 8192 - 128 - kBatchFrameSize - kFrameHeaderSize;  // fills a segment
  {
    auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
    REQUIRE(w.ok());
    REQUIRE((*w)->Reserve(kWhole, 1).ok());
    REQUIRE((*w)->CommitBatch(1).ok());
    // Wait (no deadline needed) until the helper has preallocated segment 1, then cap file
    // sizes: segment 1 is usable, the helper's segment 2 will fail with EFBIG.
    const std::string next = dir.Sub(SegmentFileName(1) + ".tmp");
    for (struct stat st{}; ::stat(next.c_str(), &st) != 0 || st.st_size < 8192;) ::usleep(1000);
    FileSizeLimit limit(4 * 1024);
    REQUIRE((*w)->Reserve(kWhole - 8, 1).ok());  // rolls into segment 1, leaves 8 bytes
    REQUIRE((*w)->CommitBatch(2).ok());
    auto span = (*w)->Reserve(8, 1);  // the batch frame does not fit; segment 2 cannot be made
    CHECK(span.status().IsNoSpace());
    CHECK((*w)->committed_position() == 2);
  }
  CHECK(test::ReadAll(dir.path()).size() == 2);
}

TEST_CASE("opening a journal on a full disk fails with NoSpace", "[journal][writer][space]") {
  TempDir dir;
  FileSizeLimit limit(4 * 1024);
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 16 * 1024));
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().IsNoSpace());
}

TEST_CASE("retention deletes whole segments before a position, never the active one", "[journal][writer][retention]") {
  TempDir dir;
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
  REQUIRE(w.ok());
  for (int b = 0; b < 400; ++b) REQUIRE(test::AppendBatch(**w, 3) > 0);
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  auto before = (*r)->ListSegments();
  REQUIRE(before.ok());
  REQUIRE(before->size() > 5);
  r = JournalReader::Open({dir.path(), true});  // maps segment 0 only
  // Keep everything from the start of segment 3 on: segments 0..2 could go, but a reader maps 0.
  const std::uint64_t keep_from = (*before)[3].first_position;
  auto deleted = (*w)->DeleteSegmentsBefore(keep_from);
  REQUIRE(deleted.ok());
  CHECK(*deleted == 0);
  r->reset();  // the reader goes away
  deleted = (*w)->DeleteSegmentsBefore(keep_from);
  REQUIRE(deleted.ok());
  CHECK(*deleted == 3);
  deleted = (*w)->DeleteSegmentsBefore(UINT64_MAX);  // everything but the active segment
  REQUIRE(deleted.ok());
  auto reader = JournalReader::Open({dir.path(), true});
  REQUIRE(reader.ok());
  auto after = (*reader)->ListSegments();
  REQUIRE(after.ok());
  CHECK(after->size() == 1);
  CHECK(after->back().index == before->back().index);
  CHECK((*reader)->SeekToPosition(1).IsNotFound());
  CHECK((*reader)->SeekToPosition(1200).ok());
  (*w).reset();
  auto reopened = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
  REQUIRE(reopened.ok());
  CHECK((*reopened)->committed_position() == 1200);
}

TEST_CASE("a batch that starts in the last bytes of a segment moves whole to the next one", "[journal][writer][roll]") {
  // For every remainder r (0..72 bytes, step 8), fill segment 0 so that exactly r bytes are
  // left, then append a batch that cannot fit there: it must appear whole in segment 1.
  for (std::size_t r = 0; r <= 72; r += 8) {
    INFO("remainder " << r);
    TempDir dir;
    {
      auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
      REQUIRE(w.ok());
      const std::size_t fill = 8192 - 128 - kBatchFrameSize - kFrameHeaderSize - r;
      auto big = (*w)->Reserve(fill, 1);
      REQUIRE(big.ok());
      std::fill(big->begin(), big->end(), std::byte{0x11});
      REQUIRE((*w)->CommitBatch(1).ok());
      for (int i = 0; i < 2; ++i) {
        auto small = (*w)->Reserve(24, 2);
        REQUIRE(small.ok());
        std::fill(small->begin(), small->end(), std::byte{0x22});
      }
      auto last = (*w)->CommitBatch(2);
      REQUIRE(last.ok());
      CHECK(*last == 3);
    }
    auto rd = JournalReader::Open({dir.path(), true});
    REQUIRE(rd.ok());
    Record rec;
    std::vector<std::uint64_t> positions;
    while ((*rd)->Next(&rec) == ReadStatus::kRecord) {
      positions.push_back(rec.position);
      CHECK(rec.payload[0] == (rec.position == 1 ? std::byte{0x11} : std::byte{0x22}));
    }
    CHECK(positions == std::vector<std::uint64_t>{1, 2, 3});
    auto segs = (*rd)->ListSegments();
    REQUIRE(segs.ok());
    REQUIRE(segs->size() == 2);
    CHECK((*segs)[1].first_position == 2);
  }
}
