// JSON through FlatBuffers' text generator, from the binary schema embedded in the journal
// blob: a "tool" here has only the blob and the record bytes, no application types.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/json.h"
#include "rill/codecs/schema_registry.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"
#include "test_events.h"

namespace {

using rill::codecs::Decoder;
using rill::codecs::Encoder;
using rill::codecs::EnvelopeFields;
using rill::codecs::JsonPrinter;
using rill::codecs::SchemaRegistry;
using rill::test::AlignedRecord;

// What the application writes: records plus its registry's blob and fingerprint.
struct Journal {
  std::vector<std::uint8_t> blob;
  std::uint64_t fingerprint = 0;
  std::vector<AlignedRecord> records;
};

// Plays a tool: rebuilds the registry from the blob alone, decodes and prints record i.
std::string ToolJson(const Journal& j, std::size_t i) {
  auto reg = SchemaRegistry::FromBlob(j.blob, j.fingerprint);
  REQUIRE(reg.ok());
  Decoder dec(*reg);
  JsonPrinter printer(*reg);
  const auto r = dec.Decode(j.records[i].span(), 100 + i);
  INFO(r.error().ToStatus(&*reg).ToString());
  REQUIRE(r.ok());
  std::string json;
  const rill::Status s = printer.Print(r.event(), &json);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return json;
}

Journal WriteReferenceJournal() {
  rill::codecs::SchemaRegistryBuilder b;
  rill::examples::bank::BankDomain::RegisterEvents(b);
  rill::examples::blog::BlogDomain::RegisterEvents(b);
  auto reg = std::move(b).Build();
  REQUIRE(reg.ok());
  Journal j;
  j.blob.assign(reg->blob().begin(), reg->blob().end());
  j.fingerprint = reg->fingerprint();
  Encoder enc;
  const EnvelopeFields env{
      .stream_id = 42, .stream_version = 3, .timestamp_ns = 1'700'000'000'000'000'000, .command_id = 9};
  rill::bank::DepositedT deposited;
  deposited.amount = 500;
  j.records.emplace_back(enc.Encode(env, deposited));
  rill::bank::AccountClosedT closed;
  closed.reason = rill::bank::CloseReason::Dormant;
  j.records.emplace_back(enc.Encode(env, closed));
  rill::blog::PostCreatedT post;
  post.author_id = 5;
  post.title = "Tab\there \"quoted\"";
  post.body = "caf\xc3\xa9";
  j.records.emplace_back(enc.Encode(env, post));
  rill::bank::WithdrawnT zero;  // amount 0 is a default: not stored, but printed
  j.records.emplace_back(enc.Encode(env, zero));
  EnvelopeFields fingerprinted = env;
  fingerprinted.command_fingerprint = 0x00ab'cdef'0123'4567;
  j.records.emplace_back(enc.Encode(fingerprinted, deposited));
  return j;
}

}  // namespace

TEST_CASE("JSON of a deposit decoded from the embedded binary schema matches the expected text", "[codecs][json]") {
  const Journal j = WriteReferenceJournal();
  CHECK(ToolJson(j, 0) ==
        R"({"position":100,"stream_id":42,"stream_version":3,"timestamp_ns":1700000000000000000,"command_id":9,)"
        R"("event_type":65538,"type":"bank.Deposited","schema_version":1,"table":"rill.bank.Deposited",)"
        R"("body":{"amount": 500}})");
}

TEST_CASE("JSON shows a recorded command fingerprint as 16 hex digits", "[codecs][json]") {
  const Journal j = WriteReferenceJournal();
  CHECK(ToolJson(j, 4) ==
        R"({"position":104,"stream_id":42,"stream_version":3,"timestamp_ns":1700000000000000000,"command_id":9,)"
        R"("command_fingerprint":"00abcdef01234567",)"
        R"("event_type":65538,"type":"bank.Deposited","schema_version":1,"table":"rill.bank.Deposited",)"
        R"("body":{"amount": 500}})");
}

TEST_CASE("JSON prints enums by name, escapes strings and shows default fields", "[codecs][json]") {
  const Journal j = WriteReferenceJournal();
  const std::string closed = ToolJson(j, 1);
  const std::string post = ToolJson(j, 2);
  const std::string zero = ToolJson(j, 3);
  UNSCOPED_INFO(closed << "\n" << post << "\n" << zero);
  CHECK(closed.find(R"("body":{"reason": "Dormant"}})") != std::string::npos);
  CHECK(post.find(R"("body":{"author_id": 5,"title": "Tab\there \"quoted\"","body": "caf\u00E9"}})") !=
        std::string::npos);
  CHECK(zero.find(R"("body":{"amount": 0}})") != std::string::npos);
}
