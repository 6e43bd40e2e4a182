// IdempotencyWindow: duplicates, mismatches, FIFO eviction at capacity, rebuild through
// Remember, and a random workload against a simple model (deque + map) with a printed seed.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <random>
#include <unordered_map>

#include "rill/engine/idempotency_window.h"
#include "writer_test_util.h"

namespace {
using rill::engine::CommandOutcome;
using rill::engine::IdempotencyWindow;
using rill::engine::RememberedOutcome;

RememberedOutcome AcceptedAt(std::uint64_t position) {
  return RememberedOutcome::From(CommandOutcome::Accepted(position, 7, position * 2, 1));
}
}  // namespace

TEST_CASE("window: an unknown id is new - a remembered one is a duplicate with its outcome", "[writer][window]") {
  IdempotencyWindow w(8);
  CHECK(w.Check(1, 111).kind == IdempotencyWindow::kNew);
  w.Remember(1, 111, AcceptedAt(5));
  const auto hit = w.Check(1, 111);
  REQUIRE(hit.kind == IdempotencyWindow::kDuplicate);
  const CommandOutcome o = hit.outcome->ToOutcome();
  CHECK(o.accepted());
  CHECK(o.duplicate());
  CHECK(o.position() == 5);
  CHECK(o.stream_id() == 7);
  CHECK(o.stream_version() == 10);
}

TEST_CASE("window: the same id with another fingerprint is a mismatch", "[writer][window]") {
  IdempotencyWindow w(8);
  w.Remember(1, 111, AcceptedAt(5));
  CHECK(w.Check(1, 222).kind == IdempotencyWindow::kMismatch);
}

TEST_CASE("window: an unknown fingerprint (rebuilt from an old journal) matches any payload", "[writer][window]") {
  IdempotencyWindow w(8);
  w.Remember(1, rill::engine::kUnknownFingerprint, AcceptedAt(5));
  CHECK(w.Check(1, 222).kind == IdempotencyWindow::kDuplicate);
}

TEST_CASE("window: a rejection is remembered by code", "[writer][window]") {
  IdempotencyWindow w(8);
  const auto r = rill::engine::Rejection(rill::engine::RejectCode::kRuleViolated, 3, "no");
  w.Remember(1, 9, RememberedOutcome::From(CommandOutcome::Rejected(r)));
  const CommandOutcome o = w.Check(1, 9).outcome->ToOutcome();
  CHECK_FALSE(o.accepted());
  CHECK(o.code() == rill::engine::RejectCode::kRuleViolated);
  CHECK(o.rejection().domain_code == 3);
}

TEST_CASE("window: at capacity the oldest id is forgotten first", "[writer][window]") {
  IdempotencyWindow w(4);
  for (std::uint64_t id = 1; id <= 4; ++id) w.Remember(id, id, AcceptedAt(id));
  CHECK(w.size() == 4);
  w.Remember(5, 5, AcceptedAt(5));
  CHECK(w.size() == 4);
  CHECK(w.Check(1, 1).kind == IdempotencyWindow::kNew);
  for (std::uint64_t id = 2; id <= 5; ++id) CHECK(w.Check(id, id).kind == IdempotencyWindow::kDuplicate);
  SECTION("remembering an id again updates it in place, without evicting") {
    w.Remember(3, 33, AcceptedAt(30));
    CHECK(w.Check(2, 2).kind == IdempotencyWindow::kDuplicate);
    CHECK(w.Check(3, 33).outcome->position == 30);
  }
}

TEST_CASE("window: rebuilt through Remember it answers like the original", "[writer][window][recovery]") {
  IdempotencyWindow live(16), rebuilt(16);
  for (std::uint64_t id = 100; id < 140; ++id) {
    live.Remember(id, id * 3, AcceptedAt(id));
    rebuilt.Remember(id, id * 3, AcceptedAt(id));  // what replay does, command by command
  }
  for (std::uint64_t id = 90; id < 150; ++id) {
    const auto a = live.Check(id, id * 3);
    const auto b = rebuilt.Check(id, id * 3);
    REQUIRE(a.kind == b.kind);
    if (a.kind == IdempotencyWindow::kDuplicate) REQUIRE(a.outcome->position == b.outcome->position);
  }
}

TEST_CASE("window agrees with a FIFO model on a random workload", "[writer][window]") {
  const std::uint64_t seed = rill::testing::TestSeed("idempotency window random test");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const std::size_t capacity = 1 + rng() % 300;
  IdempotencyWindow w(capacity);
  std::deque<std::uint64_t> fifo;
  std::unordered_map<std::uint64_t, std::uint64_t> model;  // id -> fingerprint
  for (int op = 0; op < 100'000; ++op) {
    // Ids clustered enough to collide in probe runs and to repeat while still in the window.
    const std::uint64_t id = rng() % 2 == 0 ? rng() % (capacity * 3) : rng();
    const std::uint64_t fp = 1 + rng() % 3;
    const auto hit = w.Check(id, fp);
    const auto it = model.find(id);
    if (it == model.end()) {
      REQUIRE(hit.kind == IdempotencyWindow::kNew);
    } else {
      REQUIRE(hit.kind == (it->second == fp ? IdempotencyWindow::kDuplicate : IdempotencyWindow::kMismatch));
      REQUIRE(hit.outcome->position == id + 1);
    }
    if (rng() % 2 == 0) {
      w.Remember(id, fp, AcceptedAt(id + 1));
      if (it != model.end()) {
        it->second = fp;
      } else {
        if (fifo.size() == capacity) {
          model.erase(fifo.front());
          fifo.pop_front();
        }
        fifo.push_back(id);
        model[id] = fp;
      }
    }
    REQUIRE(w.size() == fifo.size());
  }
}
