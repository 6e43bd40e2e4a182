// SchemaRegistry: fingerprint stability, the journal blob round trip, journal schema checks,
// and the registration mistakes Build() refuses.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"
#include "test_events.h"

namespace {

using rill::codecs::SchemaRegistry;
using rill::codecs::SchemaRegistryBuilder;

SchemaRegistry Build(SchemaRegistryBuilder&& b) {
  auto reg = std::move(b).Build();
  INFO(reg.status().ToString());
  REQUIRE(reg.ok());
  return std::move(reg).value();
}

SchemaRegistry BankAndBlog() {
  SchemaRegistryBuilder b;
  rill::examples::bank::BankDomain::RegisterEvents(b);
  rill::examples::blog::BlogDomain::RegisterEvents(b);
  return Build(std::move(b));
}

SchemaRegistry BankOnly() {
  SchemaRegistryBuilder b;
  rill::examples::bank::BankDomain::RegisterEvents(b);
  return Build(std::move(b));
}

}  // namespace

TEST_CASE("the same schemas give the same fingerprint and blob, whatever the registration order",
          "[codecs][fingerprint]") {
  const SchemaRegistry a = BankAndBlog();
  SchemaRegistryBuilder b;
  rill::examples::blog::BlogDomain::RegisterEvents(b);
  rill::examples::bank::BankDomain::RegisterEvents(b);
  const SchemaRegistry reversed = Build(std::move(b));
  CHECK(a.fingerprint() == reversed.fingerprint());
  CHECK(std::vector<std::uint8_t>(a.blob().begin(), a.blob().end()) ==
        std::vector<std::uint8_t>(reversed.blob().begin(), reversed.blob().end()));
  CHECK(a.fingerprint() == BankAndBlog().fingerprint());
}

TEST_CASE("a changed schema gives a different fingerprint", "[codecs][fingerprint]") {
  CHECK(BankAndBlog().fingerprint() != BankOnly().fingerprint());

  // Same schema name and type id, different binary schema (v1 vs v2 of the event).
  SchemaRegistryBuilder v1;
  v1.AddSchema("price", rill::codecs::embedded::price_v1_bfbs()).AddEvent<rill::test::v1::PriceChanged>("price");
  SchemaRegistryBuilder v2;
  v2.AddSchema("price", rill::codecs::embedded::price_v2_bfbs()).AddEvent<rill::test::v2::PriceChanged>("price");
  CHECK(Build(std::move(v1)).fingerprint() != Build(std::move(v2)).fingerprint());

  // A single changed byte in a binary schema (a doc comment, say) changes it too.
  std::vector<std::uint8_t> bank(rill::examples::bank::BankDomain::BinarySchema().begin(),
                                 rill::examples::bank::BankDomain::BinarySchema().end());
  const std::string needle = "Money paid into the account.";
  auto it = std::search(bank.begin(), bank.end(), needle.begin(), needle.end());
  REQUIRE(it != bank.end());
  *it = 'm';
  SchemaRegistryBuilder edited;
  edited.AddSchema("bank", bank).AddEvent<rill::bank::Deposited>("bank");
  SchemaRegistryBuilder plain;
  plain.AddSchema("bank", rill::examples::bank::BankDomain::BinarySchema()).AddEvent<rill::bank::Deposited>("bank");
  CHECK(Build(std::move(edited)).fingerprint() != Build(std::move(plain)).fingerprint());
}

TEST_CASE("a registry rebuilt from its blob has the same fingerprint, types and blob", "[codecs][blob]") {
  const SchemaRegistry reg = BankAndBlog();
  auto copy = SchemaRegistry::FromBlob(reg.blob(), reg.fingerprint());
  REQUIRE(copy.ok());
  CHECK(copy->fingerprint() == reg.fingerprint());
  CHECK(std::vector<std::uint8_t>(copy->blob().begin(), copy->blob().end()) ==
        std::vector<std::uint8_t>(reg.blob().begin(), reg.blob().end()));
  REQUIRE(copy->types().size() == 10);
  const auto* deposited = copy->Find(rill::codecs::EventTraits<rill::bank::Deposited>::kTypeId, 1);
  REQUIRE(deposited != nullptr);
  CHECK(deposited->name == "bank.Deposited");
  CHECK(deposited->root_table == "rill.bank.Deposited");
  CHECK(deposited->verify == nullptr);  // no application code: reflection verifies
  CHECK(deposited->root_object != nullptr);
  // Typed access needs the compiled verifier: a blob's schema is not the application's type.
  rill::codecs::Encoder enc;
  rill::bank::DepositedT d;
  d.amount = 1;
  const rill::test::AlignedRecord rec(enc.Encode({}, d));
  rill::codecs::Decoder dec(*copy);
  const auto r = dec.Decode(rec.span(), 0);
  REQUIRE(r.ok());
  CHECK(r.event().Is<rill::bank::Deposited>());
  CHECK(r.event().As<rill::bank::Deposited>() == nullptr);
  CHECK(copy->schema_count() == 2);
  CHECK(copy->schema_name(0) == "bank");
  CHECK(copy->schema_name(1) == "blog");
}

TEST_CASE("a garbled blob or a fingerprint that does not match it is Corruption", "[codecs][blob]") {
  const SchemaRegistry reg = BankAndBlog();
  CHECK(SchemaRegistry::FromBlob(reg.blob(), reg.fingerprint() ^ 1).status().IsCorruption());
  CHECK(SchemaRegistry::FromBlob({}).status().IsCorruption());
  std::vector<std::uint8_t> bytes(reg.blob().begin(), reg.blob().end());
  CHECK(SchemaRegistry::FromBlob(std::span(bytes).first(bytes.size() / 2)).status().IsCorruption());
  bytes[4] ^= 0xFF;  // the file identifier
  CHECK(SchemaRegistry::FromBlob(bytes).status().IsCorruption());
}

TEST_CASE("a journal schema check accepts its own and older compatible schemas, names unknown ones",
          "[codecs][fingerprint]") {
  const SchemaRegistry both = BankAndBlog();
  const SchemaRegistry bank = BankOnly();
  CHECK(both.CheckJournalSchema(both.fingerprint(), {}).ok());
  // A build that knows bank and blog reads a journal written by a bank-only build.
  CHECK(both.CheckJournalSchema(bank.fingerprint(), bank.blob()).ok());
  // The other way round: blog types are unknown to the bank-only build.
  const rill::Status unknown_type = bank.CheckJournalSchema(both.fingerprint(), both.blob());
  CHECK(unknown_type.IsNotFound());
  CHECK(unknown_type.message().find("blog.") != std::string_view::npos);
  // A fingerprint with no blob to explain it.
  const rill::Status unknown_fp = bank.CheckJournalSchema(0x1234, {});
  CHECK(unknown_fp.IsNotFound());
  CHECK(unknown_fp.message().find("unknown schema fingerprint 0x1234") != std::string_view::npos);
  // A blob that belongs to another fingerprint.
  CHECK(both.CheckJournalSchema(0x1234, bank.blob()).IsCorruption());
}

TEST_CASE("Build refuses registration mistakes with a message naming them", "[codecs][registry]") {
  SECTION("a table the schema does not define") {
    SchemaRegistryBuilder b;
    b.AddSchema("blog", rill::examples::blog::BlogDomain::BinarySchema()).AddEvent<rill::bank::Deposited>("blog");
    const auto r = std::move(b).Build();
    CHECK(r.status().IsInvalidArgument());
    CHECK(r.status().message().find("rill.bank.Deposited") != std::string_view::npos);
  }
  SECTION("an event whose schema was not added") {
    SchemaRegistryBuilder b;
    b.AddEvent<rill::bank::Deposited>("bank");
    CHECK(std::move(b).Build().status().IsInvalidArgument());
  }
  SECTION("bytes that are not a binary schema") {
    const std::vector<std::uint8_t> junk(64, 0xAB);
    SchemaRegistryBuilder b;
    b.AddSchema("junk", junk);
    CHECK(std::move(b).Build().status().IsInvalidArgument());
  }
  SECTION("the same type and version twice") {
    SchemaRegistryBuilder b;
    rill::examples::bank::BankDomain::RegisterEvents(b);
    b.AddEvent<rill::bank::Deposited>("bank");
    CHECK(std::move(b).Build().status().IsInvalidArgument());
  }
  SECTION("two versions without an upcaster between them") {
    SchemaRegistryBuilder b;
    b.AddSchema("price_v1", rill::codecs::embedded::price_v1_bfbs())
        .AddSchema("price_v2", rill::codecs::embedded::price_v2_bfbs())
        .AddEvent<rill::test::v1::PriceChanged>("price_v1")
        .AddEvent<rill::test::v2::PriceChanged>("price_v2");
    const auto r = std::move(b).Build();
    CHECK(r.status().IsInvalidArgument());
    CHECK(r.status().message().find("no upcaster from version 1") != std::string_view::npos);
  }
}

TEST_CASE("the bank schema's fingerprint is pinned: changing it changes every journal", "[codecs][fingerprint]") {
  // If this fails, bank.fbs (or flatc, or the blob layout) changed. That is a format change:
  // journals written before it carry the old fingerprint (still read: their event types are
  // all registered; the writer starts a new segment). Update the constant deliberately.
  // Changed when bank.fbs gained the rill_event attributes (rill_add_domain).
  const SchemaRegistry bank = BankOnly();
  INFO("bank fingerprint: 0x" << std::hex << bank.fingerprint());
  CHECK(bank.fingerprint() == 0x12730307ec29e5e9ull);
}
