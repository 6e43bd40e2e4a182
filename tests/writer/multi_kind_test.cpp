// Several aggregate kinds in one domain (tests/writer/shop_domain.h: SKUs and orders): separate
// id spaces and versions, decisions that look up aggregates they did not list, atomicity across
// kinds, aggregates that end (memory reclaimed, streams restart), and replay, snapshots and the
// Engine reproducing all of it.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/engine.h"
#include "rill/engine/snapshot.h"
#include "rill/tests/support/temp_dir.h"
#include "shop_domain.h"

namespace {

using namespace rill::testing::shop;
using rill::engine::CommandMeta;
using rill::engine::CommandOutcome;
using rill::engine::RejectCode;
using Processor = rill::engine::CommandProcessor<ShopDomain>;

// Keeps every record 8-byte aligned; refuses appends past fail_after.
struct Sink {
  std::vector<std::vector<std::uint64_t>> words;
  std::vector<std::size_t> sizes;
  std::optional<std::size_t> fail_after;
  std::optional<std::uint64_t> operator()(std::span<const std::uint8_t> rec) {
    if (fail_after && sizes.size() >= *fail_after) return std::nullopt;
    words.emplace_back((rec.size() + 7) / 8);
    std::memcpy(words.back().data(), rec.data(), rec.size());
    sizes.push_back(rec.size());
    return sizes.size();
  }
  std::span<const std::uint8_t> record(std::size_t i) const {
    return {reinterpret_cast<const std::uint8_t*>(words[i].data()), sizes[i]};
  }
};
// Counts, keeps nothing: for the long cycles.
struct CountingSink {
  std::uint64_t n = 0;
  std::optional<std::uint64_t> operator()(std::span<const std::uint8_t>) { return ++n; }
};

const rill::codecs::SchemaRegistry& Registry() {
  static const rill::codecs::SchemaRegistry reg = [] {
    rill::codecs::SchemaRegistryBuilder b;
    ShopDomain::RegisterEvents(b);
    return std::move(b).Build().value();
  }();
  return reg;
}

template <typename K>
std::optional<std::pair<std::uint64_t, K>> Find(const Processor& p, std::uint64_t id) {
  const auto& store = p.store<K>();
  const auto i = store.Find(id);
  if (i == Processor::kNone) return std::nullopt;
  return std::make_pair(store.version(i), store.state(i));
}

void ReplayRange(const Sink& sink, std::size_t from, std::size_t to, Processor& p) {
  rill::codecs::Decoder dec(Registry());
  for (std::size_t i = from; i < to; ++i) {
    const auto r = dec.Decode(sink.record(i), i + 1);
    REQUIRE(r.ok());
    const rill::Status s = p.Replay(r.event());
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
}

// Both processors hold the same aggregates of both kinds, with the same versions and states.
void RequireSame(const Processor& a, const Processor& b) {
  REQUIRE(a.digest() == b.digest());
  REQUIRE(a.digest() == a.ComputeDigest());
  REQUIRE(b.digest() == b.ComputeDigest());
  REQUIRE(a.store<Sku>().size() == b.store<Sku>().size());
  REQUIRE(a.store<Order>().size() == b.store<Order>().size());
  a.store<Sku>().ForEach([&](std::uint64_t id, std::uint64_t v, const Sku& s) {
    const auto other = Find<Sku>(b, id);
    REQUIRE(other);
    REQUIRE(other->first == v);
    REQUIRE(other->second.on_hand == s.on_hand);
    REQUIRE(other->second.reserved == s.reserved);
  });
  a.store<Order>().ForEach([&](std::uint64_t id, std::uint64_t v, const Order& o) {
    const auto other = Find<Order>(b, id);
    REQUIRE(other);
    REQUIRE(other->first == v);
    REQUIRE(other->second.sku == o.sku);
    REQUIRE(other->second.quantity == o.quantity);
  });
}

// A random workload with many orders ending; returns the index of each command's last record + 1.
std::vector<std::size_t> RandomWorkload(Processor& p, Sink& sink, std::uint64_t seed, int commands) {
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> ends;
  std::uint64_t next_order = 1;
  for (int i = 0; i < commands; ++i) {
    Command cmd;
    const std::uint64_t sku = rng() % 8;
    switch (rng() % 6) {
      case 0:
        cmd = AddStock{sku, static_cast<std::int64_t>(rng() % 20)};
        break;
      case 1:
      case 2:
        // Sometimes a recent order id again: placing an existing order is refused, an ended one restarts.
        cmd = Place{rng() % 4 == 0 && next_order > 3 ? next_order - 1 - rng() % 3 : next_order++, sku,
                    static_cast<std::int64_t>(1 + rng() % 5)};
        break;
      case 3:
        cmd = Release{1 + rng() % next_order};
        break;
      default:
        cmd = Ship{1 + rng() % next_order};
        break;
    }
    const auto o = p.Process(CommandMeta{static_cast<std::uint64_t>(i + 1)}, cmd, i, sink);
    if (o.accepted()) ends.push_back(sink.sizes.size());
  }
  return ends;
}

}  // namespace

TEST_CASE("kinds have separate id spaces and versions", "[writer][kinds]") {
  Processor p;
  Sink sink;
  REQUIRE(p.Process({1}, AddStock{7, 10}, 0, sink).accepted());
  // Order 7 and SKU 7: the same id, two aggregates.
  const CommandOutcome placed = p.Process({2}, Place{7, 7, 3}, 0, sink);
  REQUIRE(placed.accepted());
  CHECK(placed.stream_id() == 7);
  CHECK(placed.stream_version() == 1);  // the order's (the first event's aggregate)
  CHECK(placed.event_count() == 2);
  const auto sku = Find<Sku>(p, 7);
  const auto order = Find<Order>(p, 7);
  REQUIRE(sku);
  REQUIRE(order);
  CHECK(sku->first == 2);
  CHECK(sku->second.on_hand == 10);
  CHECK(sku->second.reserved == 3);
  CHECK(order->first == 1);
  CHECK(order->second.sku == 7);
  // The expected version is checked against the primary stream: the order, not the SKU.
  CHECK(p.Process({3, 2}, AddStock{7, 1}, 0, sink).accepted());
  CHECK(p.Process({4, 2}, Release{7}, 0, sink).code() == RejectCode::kConcurrencyConflict);
  CHECK(p.digest() == p.ComputeDigest());
}

TEST_CASE("a decision looks up an aggregate it did not list", "[writer][kinds]") {
  Processor p;
  Sink sink;
  REQUIRE(p.Process({1}, AddStock{5, 10}, 0, sink).accepted());
  REQUIRE(p.Process({2}, Place{1, 5, 4}, 0, sink).accepted());
  REQUIRE(p.Process({3}, Place{2, 5, 6}, 0, sink).accepted());
  CHECK(p.Process({4}, Place{3, 5, 1}, 0, sink).code() == RejectCode::kRuleViolated);  // all reserved
  // Release lists only the order; decide reads the order's SKU through Get<Sku>.
  const CommandOutcome released = p.Process({5}, Release{1}, 0, sink);
  REQUIRE(released.accepted());
  CHECK(Find<Sku>(p, 5)->second.reserved == 6);
  CHECK(Find<Sku>(p, 5)->first == 4);
  CHECK(p.Process({6}, Place{3, 5, 4}, 0, sink).accepted());
  CHECK(p.Process({7}, Release{99}, 0, sink).code() == RejectCode::kNotFound);
}

TEST_CASE("a command is atomic across kinds when the sink refuses a later event", "[writer][kinds]") {
  Processor p;
  Sink sink;
  REQUIRE(p.Process({1}, AddStock{5, 10}, 0, sink).accepted());
  const std::uint64_t digest = p.digest();
  sink.fail_after = sink.sizes.size() + 1;  // OrderPlaced goes in, StockReserved is refused
  const CommandOutcome o = p.Process({2}, Place{1, 5, 4}, 0, sink);
  CHECK(o.code() == RejectCode::kJournalUnavailable);
  CHECK(p.digest() == digest);
  CHECK(Find<Sku>(p, 5)->second.reserved == 0);
  CHECK(Find<Sku>(p, 5)->first == 1);
  const auto order = Find<Order>(p, 1);
  CHECK((!order || order->first == rill::engine::kNoStream));  // never evolved
  CHECK(p.failed());
}

TEST_CASE("an ended aggregate leaves its store and its stream restarts at version 1", "[writer][kinds]") {
  Processor p;
  Sink sink;
  REQUIRE(p.Process({1}, AddStock{5, 10}, 0, sink).accepted());
  REQUIRE(p.Process({2}, Place{1, 5, 4}, 0, sink).accepted());
  REQUIRE(p.Process({3}, Place{2, 5, 1}, 0, sink).accepted());
  CHECK(p.store<Order>().size() == 2);
  const std::uint64_t digest_before = p.digest();
  const CommandOutcome shipped = p.Process({4}, Ship{1}, 0, sink);
  REQUIRE(shipped.accepted());
  CHECK(shipped.stream_version() == 2);  // the order's last version, reported before it left
  CHECK(p.store<Order>().size() == 1);
  CHECK_FALSE(Find<Order>(p, 1));
  CHECK(Find<Order>(p, 2)->first == 1);  // the other order moved into the hole, intact
  CHECK(Find<Sku>(p, 5)->second.on_hand == 6);
  CHECK(p.digest() != digest_before);
  CHECK(p.digest() == p.ComputeDigest());
  // A later command sees no order 1; a new one with that id starts at version 1.
  CHECK(p.Process({5}, Ship{1}, 0, sink).code() == RejectCode::kNotFound);
  CHECK(p.Process({6, rill::engine::kNoStream}, Place{1, 5, 2}, 0, sink).accepted());
  CHECK(Find<Order>(p, 1)->first == 1);
  // An event after the one that ends its aggregate, in one command: refused before any append.
  const std::size_t records = sink.sizes.size();
  CHECK(p.Process({7}, ShipTwice{2}, 0, sink).code() == RejectCode::kInternalError);
  CHECK(sink.sizes.size() == records);
  CHECK_FALSE(p.failed());
}

TEST_CASE("a million create and end cycles keep the order store bounded", "[writer][kinds]") {
  Processor p({.expected_aggregates = 16, .idempotency_window = 1024});
  CountingSink sink;
  REQUIRE(p.Process({}, AddStock{1, 1'000'000'000}, 0, sink).accepted());
  std::size_t bytes_after_warmup = 0;
  for (std::uint64_t i = 1; i <= 1'000'000; ++i) {
    // A few orders open at a time, each shipped three commands later.
    REQUIRE(p.Process({}, Place{i, 1, 1}, 0, sink).accepted());
    if (i > 3) REQUIRE(p.Process({}, Ship{i - 3}, 0, sink).accepted());
    if (i == 1000) bytes_after_warmup = p.store<Order>().memory_bytes();
  }
  CHECK(p.store<Order>().size() == 3);
  CHECK(p.store<Order>().memory_bytes() == bytes_after_warmup);
  CHECK(p.store<Order>().memory_bytes() < 4096);
  CHECK(Find<Sku>(p, 1)->second.reserved == 3);
  CHECK(p.digest() == p.ComputeDigest());
}

TEST_CASE("replaying a journal with ended aggregates reproduces state and digest", "[writer][kinds][replay]") {
  const char* env = std::getenv("RILL_TEST_SEED");
  const std::uint64_t seed = env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("kinds replay test: seed %llu (rerun with RILL_TEST_SEED=%llu)\n", (unsigned long long)seed,
              (unsigned long long)seed);
  INFO("seed " << seed);
  Processor live;
  Sink sink;
  RandomWorkload(live, sink, seed, 20'000);
  REQUIRE(live.store<Order>().size() < 2'000);  // most orders ended
  Processor replayed;
  ReplayRange(sink, 0, sink.sizes.size(), replayed);
  replayed.FinishReplay();
  RequireSame(live, replayed);
}

TEST_CASE("a snapshot plus the tail equals a full replay with two kinds", "[writer][kinds][snapshot]") {
  Processor live;
  Sink sink;
  const std::vector<std::size_t> ends = RandomWorkload(live, sink, 42, 5'000);
  REQUIRE(ends.size() > 100);
  const std::size_t cut = ends[ends.size() / 2];  // a command boundary

  Processor head;
  ReplayRange(sink, 0, cut, head);
  head.FinishReplay();
  std::vector<std::byte> payload;
  rill::engine::SnapshotHeader h = rill::engine::EncodeSnapshot(head, &payload);
  CHECK(h.kinds == 2);
  CHECK(h.aggregates == head.store<Sku>().size() + head.store<Order>().size());
  CHECK(h.digest == head.digest());
  h.position = cut;
  h.schema_fingerprint = Registry().fingerprint();
  h.build_id = rill::engine::SnapshotBuildId<ShopDomain>(0);

  // Through a file: format 2, checked and found like any snapshot.
  rill::test::TempDir tmp("rill-kinds-snap");
  REQUIRE(rill::engine::WriteSnapshotFile(tmp.path(), h, payload, 2).ok());
  std::vector<std::string> notes;
  auto found = rill::engine::FindSnapshot<ShopDomain>(
      tmp.path(), {Registry().fingerprint(), h.build_id, sink.sizes.size()}, &notes);
  INFO((notes.empty() ? "" : notes[0]));
  REQUIRE(found);
  CHECK(found->header.format_version == rill::engine::kSnapshotFormatKinds);
  Processor from_snapshot;
  REQUIRE(rill::engine::ApplySnapshot(*found, &from_snapshot).ok());
  ReplayRange(sink, cut, sink.sizes.size(), from_snapshot);
  from_snapshot.FinishReplay();

  Processor full;
  ReplayRange(sink, 0, sink.sizes.size(), full);
  full.FinishReplay();
  RequireSame(full, from_snapshot);
  RequireSame(live, full);

  // A damaged kind table is refused by the file check, never misread.
  SECTION("a kind table that does not add up is skipped") {
    std::vector<std::byte> bad = payload;
    std::uint64_t count;
    std::memcpy(&count, bad.data(), 8);
    ++count;
    std::memcpy(bad.data(), &count, 8);
    REQUIRE(rill::engine::WriteSnapshotFile(tmp.path(), h, bad, 1).ok());
    notes.clear();
    CHECK_FALSE(rill::engine::FindSnapshot<ShopDomain>(
        tmp.path(), {Registry().fingerprint(), h.build_id, sink.sizes.size()}, &notes));
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].find("payload size does not match its counts") != std::string::npos);
  }
}

TEST_CASE("the engine journals, snapshots and recovers a two-kind domain", "[writer][kinds][engine]") {
  rill::test::TempDir tmp("rill-kinds-engine");
  rill::engine::EngineOptions o;
  o.journal.directory = tmp.Sub("journal");
  o.journal.segment_size = 1u << 20;
  o.ring_size = 64;
  o.processor.expected_aggregates = 64;
  o.processor.idempotency_window = 1u << 12;
  o.log_to_stderr = false;
  o.snapshot.enabled = true;
  o.snapshot.interval_events = 0;
  o.snapshot.interval_ms = 0;
  using ShopEngine = rill::engine::Engine<ShopDomain>;
  std::uint64_t digest = 0;
  std::uint64_t id = 0;
  {
    auto e = ShopEngine::Open(o);
    REQUIRE(e.ok());
    ShopEngine& engine = **e;
    REQUIRE(engine.execute(AddStock{1, 100}, {++id}).accepted());
    for (std::uint64_t order = 1; order <= 40; ++order) REQUIRE(engine.execute(Place{order, 1, 2}, {++id}).accepted());
    for (std::uint64_t order = 1; order <= 30; ++order)
      REQUIRE(engine.execute(order % 2 ? Command{Ship{order}} : Command{Release{order}}, {++id}).accepted());
    REQUIRE(engine.TakeSnapshot(10'000'000'000).ok());
    for (std::uint64_t order = 31; order <= 35; ++order) REQUIRE(engine.execute(Ship{order}, {++id}).accepted());
    REQUIRE(engine.execute(Place{3, 1, 1}, {++id}).accepted());  // order 3 ended before: a new stream
    engine.Stop();
    digest = engine.state_digest().value();
    std::size_t orders = 0;
    REQUIRE(engine.ForEachAggregate<Order>([&](std::uint64_t, std::uint64_t, const Order&) { ++orders; }).ok());
    CHECK(orders == 6);
  }
  for (bool load : {true, false}) {
    INFO("snapshot.load " << load);
    o.snapshot.load = load;
    o.snapshot.enabled = false;
    auto e = ShopEngine::Open(o);
    REQUIRE(e.ok());
    ShopEngine& engine = **e;
    CHECK(engine.recovery().snapshot_path.empty() == !load);
    CHECK(engine.recovery().state_digest == digest);
    CHECK(engine.recovery().digest_mismatch == std::nullopt);
    // A retry of the last command is answered from the rebuilt window, not applied again.
    CHECK(engine.execute(Place{3, 1, 1}, {id}).duplicate());
    engine.Stop();
    std::map<std::uint64_t, std::uint64_t> versions;
    REQUIRE(
        engine.ForEachAggregate<Order>([&](std::uint64_t i, std::uint64_t v, const Order&) { versions[i] = v; }).ok());
    CHECK(versions.size() == 6);
    CHECK(versions[3] == 1);
  }
}
