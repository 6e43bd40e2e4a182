// rill_add_domain() on shop/shop.fbs: the generated structs, traits, Encode, FromDecoded,
// RegisterEvents (with the schema blob's attributes) and the upcast of an old version.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "flatbuffers/reflection.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/tests/support/allocation_counter.h"
#include "shop_events.h"

namespace gentest {
struct Sku {
  std::int64_t on_hand = 0;
};
struct Order {
  std::uint64_t sku = 0;
};

// The user-defined upcaster the generated header declares: price (double, units) -> cents.
flatbuffers::Offset<fb::PriceChanged> Upcast(const fb::PriceChangedV1& old, flatbuffers::FlatBufferBuilder& fbb) {
  return fb::CreatePriceChanged(fbb, std::llround(old.price() * 100), 978);
}
}  // namespace gentest

namespace {

using gentest::ShopEvents;
namespace fb = gentest::fb;

constexpr std::uint32_t Id(std::uint16_t n) { return rill::codecs::MakeEventTypeId(0x0042, n); }

rill::codecs::SchemaRegistry MakeRegistry() {
  rill::codecs::SchemaRegistryBuilder b;
  ShopEvents::RegisterEvents(b);
  auto r = std::move(b).Build();
  REQUIRE(r.ok());
  return std::move(r).value();
}

// Encode -> bytes at an 8-byte aligned address -> Decode -> FromDecoded.
struct RoundTrip {
  rill::codecs::Encoder encoder;
  std::vector<std::uint64_t> storage;  // keeps the record aligned and alive

  ShopEvents::Event Run(const rill::codecs::SchemaRegistry& reg, const ShopEvents::Event& event) {
    const auto rec = ShopEvents::Encode(encoder, {.stream_id = 9, .stream_version = 1}, event);
    storage.assign((rec.size() + 7) / 8, 0);
    std::memcpy(storage.data(), rec.data(), rec.size());
    rill::codecs::Decoder decoder(reg);
    const auto r = decoder.Decode({reinterpret_cast<const std::uint8_t*>(storage.data()), rec.size()}, 0);
    REQUIRE(r.ok());
    const auto e = ShopEvents::FromDecoded(r.event());
    REQUIRE(e.has_value());
    return *e;
  }
};

}  // namespace

TEST_CASE("generated structs carry the schema's ids, versions, names and kinds", "[domaingen]") {
  STATIC_REQUIRE(ShopEvents::kDomainId == 0x0042);
  STATIC_REQUIRE(gentest::StockAdded::kTypeId == Id(1));
  STATIC_REQUIRE(gentest::SkuDescribed::kTypeId == Id(2));
  STATIC_REQUIRE(gentest::PriceChanged::kTypeId == Id(3));
  STATIC_REQUIRE(gentest::PriceChanged::kVersion == 2);
  STATIC_REQUIRE(gentest::OrderPlaced::kTypeId == Id(4));
  STATIC_REQUIRE(gentest::OrderShipped::kTypeId == Id(5));
  STATIC_REQUIRE(gentest::StockAdded::kName == "domaingen_shop.StockAdded");
  STATIC_REQUIRE(std::is_same_v<gentest::StockAdded::Table, fb::StockAdded>);
  STATIC_REQUIRE(std::is_same_v<gentest::StockAdded::Aggregate, gentest::Sku>);
  STATIC_REQUIRE(std::is_same_v<gentest::PriceChanged::Aggregate, gentest::Sku>);
  STATIC_REQUIRE(std::is_same_v<gentest::OrderPlaced::Aggregate, gentest::Order>);
  STATIC_REQUIRE(std::is_same_v<gentest::OrderShipped::Aggregate, gentest::Order>);
  STATIC_REQUIRE(gentest::OrderShipped::kEndsAggregate);
  STATIC_REQUIRE_FALSE(gentest::OrderPlaced::kEndsAggregate);
  STATIC_REQUIRE(std::is_same_v<ShopEvents::Aggregates, std::tuple<gentest::Sku, gentest::Order>>);
  STATIC_REQUIRE(std::is_same_v<ShopEvents::Event, gentest::Event>);
  STATIC_REQUIRE(std::variant_size_v<gentest::Event> == 5);  // the newest versions only
  STATIC_REQUIRE(std::is_same_v<std::variant_alternative_t<2, gentest::Event>, gentest::PriceChanged>);
  // Every version has traits: the old one with its own version and the shared logical name.
  STATIC_REQUIRE(rill::codecs::EventTraits<fb::PriceChangedV1>::kTypeId == Id(3));
  STATIC_REQUIRE(rill::codecs::EventTraits<fb::PriceChangedV1>::kVersion == 1);
  STATIC_REQUIRE(rill::codecs::EventTraits<fb::PriceChanged>::kVersion == 2);
  CHECK(std::string(rill::codecs::EventTraits<fb::PriceChangedV1>::kName) == "domaingen_shop.PriceChanged");
  // The schema's defaults; the deprecated field is not a member.
  const gentest::OrderPlaced placed;
  CHECK(placed.channel == fb::Channel::Store);
  CHECK(placed.ratio == 0.5f);
  CHECK(placed.priority == -3);
  CHECK(gentest::SkuDescribed{}.fragile);
  CHECK(gentest::PriceChanged{}.currency == 978);
}

TEST_CASE("every event survives Encode, Decode and FromDecoded field by field", "[domaingen]") {
  const auto reg = MakeRegistry();
  RoundTrip rt;
  const std::string location = "aisle 7";
  const std::uint8_t photo[] = {0, 1, 2, 255};
  const std::string note = "leave at the door";

  const auto a = std::get<gentest::StockAdded>(rt.Run(reg, gentest::StockAdded{.quantity = -5, .location = location}));
  CHECK(a.quantity == -5);
  REQUIRE(a.location.has_value());
  CHECK(a.location->view() == location);

  const auto d = std::get<gentest::SkuDescribed>(
      rt.Run(reg, gentest::SkuDescribed{.name = "mug",
                                        .size = fb::Dimensions(80, 95, 80),
                                        .photo = rill::engine::BytesRef(reinterpret_cast<const char*>(photo), 4),
                                        .fragile = false}));
  CHECK(d.name.view() == "mug");
  CHECK(d.size.width_mm() == 80);
  CHECK(d.size.height_mm() == 95);
  CHECK(d.size.depth_mm() == 80);
  REQUIRE(d.photo.has_value());
  REQUIRE(d.photo->size() == 4);
  CHECK(std::memcmp(d.photo->data(), photo, 4) == 0);
  CHECK_FALSE(d.fragile);

  const auto p = std::get<gentest::PriceChanged>(rt.Run(reg, gentest::PriceChanged{.cents = 1999, .currency = 840}));
  CHECK(p.cents == 1999);
  CHECK(p.currency == 840);

  const auto o = std::get<gentest::OrderPlaced>(rt.Run(reg, gentest::OrderPlaced{.sku = 1ull << 40,
                                                                                 .quantity = 3,
                                                                                 .channel = fb::Channel::Phone,
                                                                                 .note = note,
                                                                                 .ratio = 0.25f,
                                                                                 .priority = 7}));
  CHECK(o.sku == 1ull << 40);
  CHECK(o.quantity == 3);
  CHECK(o.channel == fb::Channel::Phone);
  REQUIRE(o.note.has_value());
  CHECK(o.note->view() == note);
  CHECK(o.ratio == 0.25f);
  CHECK(o.priority == 7);

  CHECK(std::holds_alternative<gentest::OrderShipped>(rt.Run(reg, gentest::OrderShipped{})));

  // A field that is not required tells absent from empty, as FlatBuffers does.
  const auto absent = std::get<gentest::StockAdded>(rt.Run(reg, gentest::StockAdded{}));
  CHECK_FALSE(absent.location.has_value());
  const auto empty =
      std::get<gentest::StockAdded>(rt.Run(reg, gentest::StockAdded{.location = rill::engine::BytesRef("")}));
  REQUIRE(empty.location.has_value());
  CHECK(empty.location->empty());
  // A required string is a plain view; an empty one stays empty.
  const auto unnamed = std::get<gentest::SkuDescribed>(rt.Run(reg, gentest::SkuDescribed{}));
  CHECK(unnamed.name.empty());
  CHECK_FALSE(unnamed.photo.has_value());
}

TEST_CASE("Encode writes the same bytes as flatc's CreateX and allocates nothing", "[domaingen]") {
  rill::codecs::Encoder generated;
  rill::codecs::Encoder by_hand;
  const rill::codecs::EnvelopeFields env{.stream_id = 3, .stream_version = 4, .timestamp_ns = 5, .command_id = 6};
  const gentest::OrderPlaced e{.sku = 11,
                               .quantity = 2,
                               .channel = fb::Channel::Web,
                               .note = rill::engine::BytesRef("n"),
                               .ratio = 2.0f,
                               .priority = 1};
  (void)ShopEvents::Encode(generated, env, e);  // warm: the builder reaches its size once
  const long before = rill::test::ThreadAllocations();
  const auto mine = ShopEvents::Encode(generated, env, e);
  CHECK(rill::test::ThreadAllocations() - before == 0);
  const auto theirs = by_hand.Encode<fb::OrderPlaced>(env, [&](flatbuffers::FlatBufferBuilder& fbb) {
    return fb::CreateOrderPlacedDirect(fbb, e.sku, e.quantity, e.channel, /*legacy, deprecated*/ "n", e.ratio,
                                       e.priority);
  });
  CHECK(std::vector<std::uint8_t>(mine.begin(), mine.end()) == std::vector<std::uint8_t>(theirs.begin(), theirs.end()));
}

TEST_CASE("FromDecoded returns nullopt for another domain's event", "[domaingen]") {
  // A registry holding one foreign type id whose body happens to be a shop table.
  rill::codecs::SchemaRegistryBuilder b;
  b.AddSchema("other", ShopEvents::BinarySchema())
      .AddEventType("other", rill::codecs::MakeEventTypeId(0x0043, 1), 1, "other.StockAdded", "gentest.fb.StockAdded",
                    &rill::codecs::VerifyBody<fb::StockAdded>);
  auto reg = std::move(b).Build();
  REQUIRE(reg.ok());
  flatbuffers::FlatBufferBuilder fbb;
  fbb.TrackMinAlign(8);
  fbb.Finish(fb::CreateStockAdded(fbb, 1));
  const rill::codecs::fb::Envelope envelope(1, 1, 0, 0, rill::codecs::MakeEventTypeId(0x0043, 1), 1, 0);
  fbb.PushBytes(reinterpret_cast<const std::uint8_t*>(&envelope), sizeof envelope);
  std::vector<std::uint64_t> storage((fbb.GetSize() + 7) / 8);
  std::memcpy(storage.data(), fbb.GetBufferPointer(), fbb.GetSize());
  rill::codecs::Decoder decoder(*reg);
  const auto r = decoder.Decode({reinterpret_cast<const std::uint8_t*>(storage.data()), fbb.GetSize()}, 0);
  REQUIRE(r.ok());
  CHECK_FALSE(ShopEvents::FromDecoded(r.event()).has_value());
}

TEST_CASE("an old version record is upcast by the user's Upcast and read as the newest", "[domaingen]") {
  const auto reg = MakeRegistry();
  rill::codecs::Encoder encoder;
  const auto rec = encoder.Encode<fb::PriceChangedV1>(
      {.stream_id = 1, .stream_version = 1},
      [](flatbuffers::FlatBufferBuilder& fbb) { return fb::CreatePriceChangedV1(fbb, 12.34); });
  std::vector<std::uint64_t> storage((rec.size() + 7) / 8);
  std::memcpy(storage.data(), rec.data(), rec.size());
  rill::codecs::Decoder decoder(reg);
  const auto r = decoder.Decode({reinterpret_cast<const std::uint8_t*>(storage.data()), rec.size()}, 0);
  REQUIRE(r.ok());
  CHECK(r.event().recorded_version() == 1);
  CHECK(r.event().schema_version() == 2);
  const auto e = ShopEvents::FromDecoded(r.event());
  REQUIRE(e.has_value());
  const auto& p = std::get<gentest::PriceChanged>(*e);
  CHECK(p.cents == 1234);
  CHECK(p.currency == 978);
}

TEST_CASE("RegisterEvents registers every version and the blob carries rill_aggregate", "[domaingen]") {
  const auto reg = MakeRegistry();
  REQUIRE(reg.types().size() == 6);  // five events, one with two versions
  REQUIRE(reg.Find(Id(3), 1) != nullptr);
  CHECK(reg.Find(Id(3), 1)->root_table == "gentest.fb.PriceChangedV1");
  CHECK(reg.Find(Id(3), 2)->name == "domaingen_shop.PriceChanged");
  REQUIRE(reg.schema_count() == 1);
  CHECK(reg.schema_name(0) == "domaingen_shop");
  CHECK(reinterpret_cast<std::uintptr_t>(ShopEvents::BinarySchema().data()) % 8 == 0);

  // A tool with only the journal's blob finds each event's aggregate kind in the schema.
  auto tool = rill::codecs::SchemaRegistry::FromBlob(reg.blob(), reg.fingerprint());
  REQUIRE(tool.ok());
  CHECK(tool->Find(Id(1), 1)->aggregate == "Sku");
  CHECK(tool->Find(Id(5), 1)->aggregate == "Order");
  CHECK(tool->Find(Id(5), 1)->ends_aggregate);
  CHECK_FALSE(tool->Find(Id(4), 1)->ends_aggregate);
}
