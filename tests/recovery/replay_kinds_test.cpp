// `rill replay` on a two-kind domain (tests/writer/shop_domain.h: SKUs and orders, orders end)
// through the same RunReplay<W> as the bank: counts per kind named by the schema, --stream
// KIND:ID with Describe for one kind and the fields for the other, --until, journals of
// another domain refused both ways; and the text helpers (domain_text.h).
#include <catch2/catch.hpp>
#include <cinttypes>
#include <cstdio>
#include <string>

#include "replay_test_util.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_workload.h"
#include "rill/tests/support/temp_dir.h"
#include "rill/tests/writer/shop_domain.h"
#include "rill/tools/replay/domain_text.h"
#include "rill/tools/replay/replay.h"

namespace {

using namespace rill::testing::shop;
using rill::replay_test::Captured;
using rill::replay_test::JsonKeys;
using rill::replay_test::JsonObject;
using Kinds = std::vector<std::pair<std::string, std::uint64_t>>;

// A workload for the shop: the tools need Setup and producers; replay uses the hooks. Describe
// only for Sku, so an Order prints its fields.
struct ShopWorkload {
  using Domain = ShopDomain;
  struct Producer {
    std::uint64_t next = 0;
    Command Next() { return AddStock{1 + next++ % 4, 1}; }
  };
  explicit ShopWorkload(const rill::tools::WorkloadOptions&) {}
  std::vector<Command> Setup() const { return {AddStock{1, 100}}; }
  Producer MakeProducer(int) const { return {}; }
  std::string Describe(const Sku& s) const {
    return "on hand " + std::to_string(s.on_hand) + ", reserved " + std::to_string(s.reserved);
  }
  std::vector<std::pair<std::string, std::int64_t>> Summary(const rill::tools::StateView<ShopDomain>& state) const {
    std::int64_t reserved = 0, open_orders = 0;
    state.ForEach<Sku>([&](std::uint64_t, std::uint64_t, const Sku& s) { reserved += s.reserved; });
    state.ForEach<Order>([&](std::uint64_t, std::uint64_t, const Order&) { ++open_orders; });
    return {{"reserved", reserved}, {"open_orders", open_orders}};
  }
};
static_assert(rill::tools::Workload<ShopWorkload>);

Captured Run(const rill::tools::ReplayOptions& o) { return rill::replay_test::Replay<ShopWorkload>(o); }

// Sku 1 and Order 1 share an id; order 3 ends (shipped), then is placed again.
struct ShopJournal {
  std::uint64_t before_ship = 0;  // position of the last event before Ship{3}
};
ShopJournal WriteShopJournal(const std::string& dir) {
  rill::engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = 1u << 20;
  o.ring_size = 64;
  o.log_to_stderr = false;
  o.digest_interval_commands = 2;
  auto e = rill::engine::Engine<ShopDomain>::Open(o);
  REQUIRE(e.ok());
  auto& engine = **e;
  std::uint64_t id = 0;
  ShopJournal j;
  REQUIRE(engine.execute(AddStock{1, 100}, {++id}).accepted());
  for (std::uint64_t order = 1; order <= 3; ++order) REQUIRE(engine.execute(Place{order, 1, 2}, {++id}).accepted());
  j.before_ship = engine.committed_position();
  REQUIRE(engine.execute(Ship{3}, {++id}).accepted());
  REQUIRE(engine.execute(Place{3, 1, 1}, {++id}).accepted());
  engine.Stop();
  return j;
}

std::string Hex(std::uint64_t v) {
  char s[24];
  std::snprintf(s, sizeof s, "0x%016" PRIx64, v);
  return s;
}

template <typename D>
std::uint64_t Fingerprint() {
  rill::codecs::SchemaRegistryBuilder b;
  D::RegisterEvents(b);
  auto reg = std::move(b).Build();
  REQUIRE(reg.ok());
  return reg->fingerprint();
}

}  // namespace

TEST_CASE("replay counts a two-kind domain's aggregates per kind, named by the schema", "[replay][tool][kinds]") {
  rill::test::TempDir tmp("rill-replay-kinds");
  WriteShopJournal(tmp.Sub("j"));

  Captured c = Run({.dir = tmp.Sub("j"), .domain = "shop", .verify = true});
  INFO(c.err);
  REQUIRE(c.exit == 0);
  CHECK(c.summary.kinds == Kinds{{"Sku", 1}, {"Order", 3}});  // order 3 ended, then came back
  CHECK(c.summary.aggregates == 4);
  CHECK(c.summary.digests_checked > 0);
  CHECK(!c.summary.digest_mismatch);
  REQUIRE(c.summary.summary);
  CHECK(*c.summary.summary == std::vector<std::pair<std::string, std::int64_t>>{{"reserved", 5}, {"open_orders", 3}});
  INFO(c.out);
  CHECK(c.out.find("aggregates   4: Sku 1, Order 3\n") != std::string::npos);
  CHECK(c.out.find("summary      reserved 5, open_orders 3\n") != std::string::npos);

  Captured json = Run({.dir = tmp.Sub("j"), .domain = "shop", .json = true, .stream = "Order:3"});
  INFO(json.out);
  CHECK(json.out.rfind("{\"domain\":\"shop\",", 0) == 0);
  CHECK(JsonObject(json.out, "kinds") == "{\"Sku\":1,\"Order\":3}");
  CHECK(JsonObject(json.out, "summary") == "{\"reserved\":5,\"open_orders\":3}");
  CHECK(JsonKeys(JsonObject(json.out, "stream")) ==
        std::vector<std::string>{"kind", "id", "exists", "version", "state"});
}

TEST_CASE("replay --stream KIND:ID on a two-kind domain: Describe for one kind, the fields for the other",
          "[replay][tool][kinds]") {
  rill::test::TempDir tmp("rill-replay-kinds");
  const ShopJournal j = WriteShopJournal(tmp.Sub("j"));

  Captured sku = Run({.dir = tmp.Sub("j"), .stream = "Sku:1"});
  INFO(sku.err);
  REQUIRE(sku.exit == 0);
  CHECK(sku.out.find("stream       Sku 1: version 6, on hand 98, reserved 5\n") != std::string::npos);

  // Order 3 as placed again after it ended: version 1 again, quantity 1 (the fields: sku, quantity).
  Captured order = Run({.dir = tmp.Sub("j"), .stream = "Order:3"});
  REQUIRE(order.summary.stream);
  CHECK(order.summary.stream->exists);
  CHECK(order.summary.stream->version == 1);
  CHECK(order.summary.stream->state == "{1, 1}");
  CHECK(order.out.find("stream       Order 3: version 1, {1, 1}\n") != std::string::npos);

  // Before the shipment: the first order 3, of 2.
  Captured before = Run({.dir = tmp.Sub("j"), .until = std::to_string(j.before_ship), .stream = "Order:3"});
  REQUIRE(before.summary.stream);
  CHECK(before.summary.stream->state == "{1, 2}");
  CHECK(before.summary.kinds == Kinds{{"Sku", 1}, {"Order", 3}});

  Captured missing = Run({.dir = tmp.Sub("j"), .stream = "Order:9"});
  CHECK(missing.exit == 0);
  CHECK(missing.out.find("stream       Order 9: does not exist at this point\n") != std::string::npos);

  // A bare id is ambiguous with two kinds; an unknown kind is refused. Both name the kinds.
  Captured bare = Run({.dir = tmp.Sub("j"), .stream = "1"});
  CHECK(bare.exit == 2);
  CHECK(bare.err.find("Sku, Order") != std::string::npos);
  CHECK(bare.out.empty());
  Captured unknown = Run({.dir = tmp.Sub("j"), .stream = "Customer:1"});
  CHECK(unknown.exit == 2);
  CHECK(unknown.err.find("'Customer'") != std::string::npos);
  CHECK(unknown.err.find("Sku, Order") != std::string::npos);
}

TEST_CASE("replay refuses a journal of another domain, both ways", "[replay][tool][kinds]") {
  rill::test::TempDir tmp("rill-replay-kinds");
  WriteShopJournal(tmp.Sub("shop"));

  Captured as_bank =
      rill::replay_test::Replay<rill::examples::bank::BankWorkload>({.dir = tmp.Sub("shop"), .domain = "bank"});
  CHECK(as_bank.exit == 3);
  INFO(as_bank.err);
  CHECK(as_bank.err.find(Hex(Fingerprint<ShopDomain>())) != std::string::npos);
  CHECK(as_bank.err.find("'bank' domain") != std::string::npos);
  CHECK(rill::tools::ReadsJournal<ShopWorkload>(tmp.Sub("shop")));
  CHECK(!rill::tools::ReadsJournal<rill::examples::bank::BankWorkload>(tmp.Sub("shop")));

  // A bank journal under the shop's replay.
  {
    rill::engine::EngineOptions o;
    o.journal.directory = tmp.Sub("bank");
    o.journal.segment_size = 1u << 20;
    o.log_to_stderr = false;
    auto e = rill::engine::Engine<rill::examples::bank::BankDomain>::Open(o);
    REQUIRE(e.ok());
    REQUIRE((*e)->execute(rill::examples::bank::OpenAccount{1, 1, 978}, {1}).accepted());
  }
  Captured as_shop = Run({.dir = tmp.Sub("bank"), .domain = "shop"});
  CHECK(as_shop.exit == 3);
  CHECK(as_shop.err.find(Hex(Fingerprint<rill::examples::bank::BankDomain>())) != std::string::npos);
  CHECK(as_shop.err.find("'shop' domain") != std::string::npos);
}

TEST_CASE("kind names come from the schema (else the state type), and fields print in order", "[replay][tool][kinds]") {
  rill::codecs::SchemaRegistryBuilder b;
  ShopDomain::RegisterEvents(b);
  auto shop = std::move(b).Build();
  REQUIRE(shop.ok());
  CHECK(rill::tools::KindNames<ShopDomain>(&*shop) == std::vector<std::string>{"Sku", "Order"});
  CHECK(rill::tools::KindNames<ShopDomain>(nullptr) == std::vector<std::string>{"Sku", "Order"});  // C++ names
  // The bank's schema names no kind (one kind, no rill_aggregate): the C++ state's name.
  rill::codecs::SchemaRegistryBuilder bank_builder;
  rill::examples::bank::BankDomain::RegisterEvents(bank_builder);
  auto bank = std::move(bank_builder).Build();
  REQUIRE(bank.ok());
  CHECK(rill::tools::KindNames<rill::examples::bank::BankDomain>(&*bank) == std::vector<std::string>{"Account"});

  enum class Color : std::uint8_t { kRed = 2 };
  struct Inner {
    std::int8_t a = -3;
    bool b = true;
  };
  struct Outer {
    std::uint64_t id = 18446744073709551615ull;
    Color color = Color::kRed;
    Inner inner;
    double ratio = 0.5;
  };
  CHECK(rill::tools::FieldsText(Outer{}) == "{18446744073709551615, 2, {-3, true}, 0.5}");
  struct Empty {};
  CHECK(rill::tools::FieldsText(Empty{}) == "{}");
}
