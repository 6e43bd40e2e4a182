// The power-loss copy: cut at a synced batch end, garbage after it, later segments gone; the
// verifier must then find exactly the synced prefix.
#include "rill/tools/crashtest/power_loss.h"

#include <catch2/catch.hpp>
#include <random>

#include "crashtest_test_util.h"

namespace {

using namespace rill::tools::crashtest;
using namespace rill::tools::crashtest::test;
using rill::engine::AckLevel;
using rill::journal::Durability;

}  // namespace

TEST_CASE("power loss: recovery keeps exactly the synced prefix, whatever follows it", "[crashtest][power_loss]") {
  TempDir tmp("rill-crashtest");
  Books<BankWorkload> books;
  auto e = OpenEngine(tmp.Sub("j"), Durability::kBatch);
  // Enough commands for several 64 KiB segments, acknowledged durable (synced).
  RunWorkload(*e, books, 3000, AckLevel::kDurable);
  const std::uint64_t end = e->committed_position();
  e.reset();
  REQUIRE(books.ledger.max_durable_position() == end);

  // Cut points: the end, and batch ends of durable acks in the middle (earlier segments).
  std::vector<std::uint64_t> cuts = {end};
  for (std::uint64_t id = 1; id <= books.ledger.capacity(); id += 997) {
    const Ledger::Entry* x = books.ledger.Find(id);
    if (x != nullptr && x->durable()) cuts.push_back(x->position);
  }
  REQUIRE(cuts.size() >= 3);
  std::mt19937_64 rng(12345);
  bool dropped_segments = false, torn = false;
  for (const std::uint64_t synced : cuts) {
    for (int variant = 0; variant < 3; ++variant) {
      const std::string copy = tmp.Sub("copy-" + std::to_string(synced) + "-" + std::to_string(variant));
      auto cut = MakePowerLossCopy(tmp.Sub("j"), copy, synced, rng);
      REQUIRE(cut.ok());
      dropped_segments |= cut->segments_dropped > 0;
      torn |= cut->torn_batch;
      const VerifyReport r = books.Verify(copy, Durability::kBatch, synced);
      INFO("synced " << synced << ", " << cut->garbage_bytes << " bytes after the cut in " << cut->segment);
      INFO(r.violation.value_or(""));
      CHECK(!r.violation);
      CHECK(r.committed_position == synced);
      CHECK(r.tail_cut_bytes > 0);  // the garbage was seen and cut
    }
  }
  CHECK(dropped_segments);
  CHECK(torn);
}

TEST_CASE("power loss: a synced position inside a batch cuts at its end, and nothing synced is refused",
          "[crashtest][power_loss]") {
  TempDir tmp("rill-crashtest");
  Books<BankWorkload> books;
  auto e = OpenEngine(tmp.Sub("j"), Durability::kBatch);
  RunWorkload(*e, books, 0);
  const auto t = Run(*e, books, FirstProduced<bk::Transfer>(books), AckLevel::kDurable);
  REQUIRE(t.accepted());
  REQUIRE(t.event_count() == 2);
  e.reset();
  std::mt19937_64 rng(1);
  auto inside = MakePowerLossCopy(tmp.Sub("j"), tmp.Sub("c1"), t.position() - 1, rng);  // the transfer's first event
  REQUIRE(inside.ok());
  CHECK(inside->synced_position == t.position());
  CHECK(MakePowerLossCopy(tmp.Sub("j"), tmp.Sub("c2"), 0, rng).status().IsNotFound());
  CHECK(MakePowerLossCopy(tmp.Sub("j"), tmp.Sub("c3"), t.position() + 5, rng).status().IsCorruption());
}

TEST_CASE("power loss: a lost durable acknowledgement is a violation", "[crashtest][power_loss]") {
  TempDir tmp("rill-crashtest");
  Books<BankWorkload> books;
  auto e = OpenEngine(tmp.Sub("j"), Durability::kBatch);
  RunWorkload(*e, books, 20, AckLevel::kDurable);
  const std::uint64_t end = e->committed_position();
  e.reset();
  std::uint64_t earlier = 0;  // the last durable ack before the end
  for (std::uint64_t id = 1; id <= books.ledger.capacity(); ++id) {
    const Ledger::Entry* x = books.ledger.Find(id);
    if (x != nullptr && x->durable() && x->position < end) earlier = std::max(earlier, x->position);
  }
  REQUIRE(earlier > 0);
  std::mt19937_64 rng(2);
  // The disk lost synced data: the copy ends before what was acknowledged durable.
  REQUIRE(MakePowerLossCopy(tmp.Sub("j"), tmp.Sub("c"), earlier, rng).ok());
  const VerifyReport r = books.Verify(tmp.Sub("c"), Durability::kBatch, end);
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("synced"));
}
