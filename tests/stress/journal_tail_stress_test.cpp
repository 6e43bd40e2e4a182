// Stress: one journal writer (tiny segments: a roll every few batches, group commit on a
// helper thread, retention behind the readers) and two tailing readers in other threads.
//
// Forbidden outcomes (each fails the test):
//   - a reader sees a position out of order, twice, or with a gap;
//   - a reader sees a payload or type that differs from what the writer wrote (torn data);
//   - a reader reaches the end of the committed data in the middle of a batch (partial batch);
//   - a reader gets kError, or retention deletes a segment a reader still needs;
//   - durable_position() passes committed_position().
// Timing-independent: readers sleep on the control-file futex; every wait has no deadline
// and ends because the writer commits or finishes.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <thread>

#include "../journal/journal_test_util.h"

using namespace rill::journal;

namespace {

constexpr std::uint64_t kRecords = 20000;

struct ReaderResult {
  bool ok = true;
  std::string what;
  std::uint64_t read = 0;
};

void Tail(const std::string& dir, std::atomic<std::uint64_t>* progress, ReaderResult* out) {
  auto r = JournalReader::Open({dir, true});
  if (!r.ok()) {
    *out = {false, r.status().ToString(), 0};
    return;
  }
  Record rec;
  std::uint64_t expected = 1;
  bool mid_batch = false;
  while (expected <= kRecords) {
    const ReadStatus s = (*r)->Next(&rec);
    if (s == ReadStatus::kError) {
      *out = {false, (*r)->error().ToString(), expected - 1};
      return;
    }
    if (s == ReadStatus::kEnd) {
      if (mid_batch) {
        *out = {false, "end of journal inside a batch at position " + std::to_string(expected), expected - 1};
        return;
      }
      (*r)->WaitForCommit(-1);
      continue;
    }
    if (rec.position != expected || !test::PayloadMatches(rec)) {
      *out = {false,
              "bad record at position " + std::to_string(rec.position) + ", expected " + std::to_string(expected),
              expected - 1};
      return;
    }
    mid_batch = !rec.end_of_batch;
    ++expected;
    // release: the writer's retention reads this to decide what no reader needs any more.
    progress->store(expected, std::memory_order_release);
  }
  out->read = expected - 1;
}

}  // namespace

TEST_CASE("tailing readers see whole batches in order while the writer rolls, syncs and retains", "[journal][stress]") {
  const auto seed = static_cast<std::uint32_t>(std::random_device{}());
  std::printf("journal_tail_stress seed=%u\n", seed);
  std::mt19937 rng(seed);
  test::TempDir dir;
  WriterOptions o = test::SmallOptions(dir.path(), 8 * 1024);
  o.durability = Durability::kBatch;
  auto w = JournalWriter::Open(o);
  REQUIRE(w.ok());
  std::atomic<std::uint64_t> progress[2] = {{1}, {1}};
  ReaderResult results[2];
  std::thread readers[2] = {std::thread(Tail, dir.path(), &progress[0], &results[0]),
                            std::thread(Tail, dir.path(), &progress[1], &results[1])};
  std::uint64_t last = 0;
  bool durable_ok = true;
  for (int b = 0; last < kRecords; ++b) {
    const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(1 + rng() % 8, kRecords - last));
    last = test::AppendBatch(**w, n, b);
    REQUIRE(last != 0);
    durable_ok = durable_ok && (*w)->durable_position() <= (*w)->committed_position();
    if (b % 64 == 0) {
      const std::uint64_t keep =
          std::min(progress[0].load(std::memory_order_acquire), progress[1].load(std::memory_order_acquire));
      REQUIRE((*w)->DeleteSegmentsBefore(keep).ok());
    }
  }
  for (auto& t : readers) t.join();
  CHECK(durable_ok);
  REQUIRE((*w)->WaitDurable(last, -1).ok());
  for (const ReaderResult& r : results) {
    INFO(r.what);
    CHECK(r.ok);
    CHECK(r.read == kRecords);
  }
}
