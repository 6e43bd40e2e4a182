// Upcasting: a journal written by a build that knew only version 1 of an event is read by a
// build that knows version 2 (and 3), where the field was renamed and re-shaped.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/json.h"
#include "rill/codecs/schema_registry.h"
#include "test_events.h"

namespace {

namespace v1 = rill::test::v1;
namespace v2 = rill::test::v2;
namespace v3 = rill::test::v3;
using rill::codecs::DecodeErrc;
using rill::codecs::Decoder;
using rill::codecs::Encoder;
using rill::codecs::EnvelopeFields;
using rill::codecs::SchemaRegistry;
using rill::codecs::SchemaRegistryBuilder;
using rill::test::AlignedRecord;

// v1 -> v2: price (double, major units) + currency (letters) become new_price: Money.
flatbuffers::Offset<v2::PriceChanged> UpcastV1(const v1::PriceChanged& old, flatbuffers::FlatBufferBuilder& fbb) {
  std::uint16_t code = 0;
  if (old.currency() != nullptr && old.currency()->str() == "EUR") code = 978;
  if (old.currency() != nullptr && old.currency()->str() == "USD") code = 840;
  if (code == 0) return {};  // refuse: the decoder reports kUpcastFailed
  const v2::Money money(std::llround(old.price() * 100), code);
  return v2::CreatePriceChanged(fbb, old.sku(), &money);
}

// v2 -> v3: the numeric sku becomes a product code string.
flatbuffers::Offset<v3::PriceChanged> UpcastV2(const v2::PriceChanged& old, flatbuffers::FlatBufferBuilder& fbb) {
  const auto product = fbb.CreateString("SKU-" + std::to_string(old.sku()));
  const v3::Money money(old.new_price()->minor_units(), old.new_price()->currency());
  return v3::CreatePriceChanged(fbb, product, &money);
}

// The old build: it knows version 1 only.
SchemaRegistry OldBuild() {
  SchemaRegistryBuilder b;
  b.AddSchema("price_v1", rill::codecs::embedded::price_v1_bfbs()).AddEvent<v1::PriceChanged>("price_v1");
  auto reg = std::move(b).Build();
  REQUIRE(reg.ok());
  return std::move(reg).value();
}

// The new build: versions 1 and 2 and the upcaster between them.
SchemaRegistry NewBuild() {
  SchemaRegistryBuilder b;
  b.AddSchema("price_v1", rill::codecs::embedded::price_v1_bfbs())
      .AddSchema("price_v2", rill::codecs::embedded::price_v2_bfbs())
      .AddEvent<v1::PriceChanged>("price_v1")
      .AddEvent<v2::PriceChanged>("price_v2")
      .AddUpcaster<v1::PriceChanged, v2::PriceChanged>(UpcastV1);
  auto reg = std::move(b).Build();
  INFO(reg.status().ToString());
  REQUIRE(reg.ok());
  return std::move(reg).value();
}

const EnvelopeFields kEnv{.stream_id = 7, .stream_version = 1, .timestamp_ns = 1, .command_id = 2};

AlignedRecord WriteV1(const char* currency) {
  Encoder enc;
  v1::PriceChangedT old;
  old.sku = 31337;
  old.price = 12.34;
  old.currency = currency;
  return AlignedRecord(enc.Encode(kEnv, old));
}

}  // namespace

TEST_CASE("a v1 record from an old journal is read as v2 through the registered upcaster", "[codecs][upcast]") {
  const SchemaRegistry old_build = OldBuild();
  const AlignedRecord record = WriteV1("EUR");
  const SchemaRegistry new_build = NewBuild();
  // The journal carries the old build's fingerprint and blob; the new build accepts them.
  REQUIRE(new_build.CheckJournalSchema(old_build.fingerprint(), old_build.blob()).ok());

  Decoder dec(new_build);
  const auto r = dec.Decode(record.span(), 64);
  INFO(r.error().ToStatus(&new_build).ToString());
  REQUIRE(r.ok());
  CHECK(r.event().recorded_version() == 1);
  CHECK(r.event().schema_version() == 2);
  CHECK(r.event().upcast());
  CHECK(r.event().As<v1::PriceChanged>() == nullptr);  // readers see the newest version only
  const v2::PriceChanged* e = r.event().As<v2::PriceChanged>();
  REQUIRE(e != nullptr);
  CHECK(e->sku() == 31337);
  REQUIRE(e->new_price() != nullptr);
  CHECK(e->new_price()->minor_units() == 1234);
  CHECK(e->new_price()->currency() == 978);
  CHECK(r.event().stream_id() == 7);  // the envelope still comes from the record

  // JSON of the upcast event uses the v2 schema and says what was recorded.
  rill::codecs::JsonPrinter printer(new_build);
  std::string json;
  REQUIRE(printer.Print(r.event(), &json).ok());
  CHECK(json.find(R"("schema_version":2,"recorded_version":1,"table":"rill.test.v2.PriceChanged")") !=
        std::string::npos);
  INFO(json);
  CHECK(json.find(R"("body":{"sku": 31337,"new_price": {"minor_units": 1234,"currency": 978}}})") != std::string::npos);
}

TEST_CASE("upcasters chain: v1 -> v2 -> v3", "[codecs][upcast]") {
  SchemaRegistryBuilder b;
  b.AddSchema("price_v1", rill::codecs::embedded::price_v1_bfbs())
      .AddSchema("price_v2", rill::codecs::embedded::price_v2_bfbs())
      .AddSchema("price_v3", rill::codecs::embedded::price_v3_bfbs())
      .AddEvent<v1::PriceChanged>("price_v1")
      .AddEvent<v2::PriceChanged>("price_v2")
      .AddEvent<v3::PriceChanged>("price_v3")
      .AddUpcaster<v2::PriceChanged, v3::PriceChanged>(UpcastV2)
      .AddUpcaster<v1::PriceChanged, v2::PriceChanged>(UpcastV1);
  auto reg = std::move(b).Build();
  REQUIRE(reg.ok());
  Decoder dec(*reg);
  const AlignedRecord record = WriteV1("USD");
  for (int i = 0; i < 3; ++i) {  // the scratch builders are reused
    const auto r = dec.Decode(record.span(), 1);
    REQUIRE(r.ok());
    CHECK(r.event().schema_version() == 3);
    const v3::PriceChanged* e = r.event().As<v3::PriceChanged>();
    REQUIRE(e != nullptr);
    CHECK(e->product()->str() == "SKU-31337");
    CHECK(e->new_price()->minor_units() == 1234);
    CHECK(e->new_price()->currency() == 840);
  }
  // A v2 record takes one step.
  Encoder enc;
  v2::PriceChangedT mid;
  mid.sku = 5;
  mid.new_price = std::make_unique<v2::Money>(99, 978);
  const AlignedRecord r2(enc.Encode(kEnv, mid));
  const auto r = dec.Decode(r2.span(), 2);
  REQUIRE(r.ok());
  CHECK(r.event().As<v3::PriceChanged>()->product()->str() == "SKU-5");
}

TEST_CASE("an upcaster that refuses a body gives kUpcastFailed", "[codecs][upcast]") {
  const SchemaRegistry new_build = NewBuild();
  Decoder dec(new_build);
  const AlignedRecord record = WriteV1("XXX");
  const auto r = dec.Decode(record.span(), 5);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == DecodeErrc::kUpcastFailed);
  CHECK(r.error().schema_version == 1);
  CHECK(r.error().ToStatus(&new_build).message().find("test.PriceChanged") != std::string_view::npos);
}

TEST_CASE("a tool with only the old journal's blob shows the event as recorded (v1)", "[codecs][upcast][json]") {
  const SchemaRegistry old_build = OldBuild();
  const AlignedRecord record = WriteV1("EUR");
  auto tool = SchemaRegistry::FromBlob(old_build.blob(), old_build.fingerprint());
  REQUIRE(tool.ok());
  Decoder dec(*tool);
  const auto r = dec.Decode(record.span(), 1);
  REQUIRE(r.ok());
  CHECK(r.event().schema_version() == 1);
  rill::codecs::JsonPrinter printer(*tool);
  std::string body;
  REQUIRE(printer.PrintBody(r.event(), &body).ok());
  CHECK(body == R"({"sku": 31337,"price": 12.34,"currency": "EUR"})");
}

TEST_CASE("the old build cannot read records of a version it does not know", "[codecs][upcast]") {
  const SchemaRegistry old_build = OldBuild();
  const SchemaRegistry new_build = NewBuild();
  CHECK(old_build.CheckJournalSchema(new_build.fingerprint(), new_build.blob()).IsNotFound());
  Encoder enc;
  v2::PriceChangedT e;
  e.sku = 1;
  const AlignedRecord record(enc.Encode(kEnv, e));
  Decoder dec(old_build);
  CHECK(dec.Decode(record.span(), 1).error().code == DecodeErrc::kUnknownSchemaVersion);
}
