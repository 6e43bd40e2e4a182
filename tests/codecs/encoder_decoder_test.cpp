// Encoder + Decoder: round trips of every reference event, the envelope layout, and the typed
// errors for truncated, garbled, unknown and misaligned records.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/json.h"
#include "rill/codecs/schema_registry.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"
#include "rill/tests/support/allocation_counter.h"
#include "test_events.h"

namespace {

using rill::codecs::DecodeErrc;
using rill::codecs::Decoder;
using rill::codecs::DecodeResult;
using rill::codecs::Encoder;
using rill::codecs::EnvelopeFields;
using rill::codecs::SchemaRegistry;
using rill::codecs::SchemaRegistryBuilder;
using rill::test::AlignedRecord;

SchemaRegistry ReferenceRegistry() {
  SchemaRegistryBuilder b;
  rill::examples::bank::BankDomain::RegisterEvents(b);
  rill::examples::blog::BlogDomain::RegisterEvents(b);
  auto reg = std::move(b).Build();
  REQUIRE(reg.ok());
  return std::move(reg).value();
}

const EnvelopeFields kEnv{
    .stream_id = 42, .stream_version = 7, .timestamp_ns = 1'700'000'000'123'456'789, .command_id = 9001};

void CheckEnvelope(const rill::codecs::DecodedEvent& e, std::uint64_t position) {
  CHECK(e.position() == position);
  CHECK(e.stream_id() == kEnv.stream_id);
  CHECK(e.stream_version() == kEnv.stream_version);
  CHECK(e.timestamp_ns() == kEnv.timestamp_ns);
  CHECK(e.command_id() == kEnv.command_id);
  CHECK(e.schema_version() == 1);
  CHECK_FALSE(e.upcast());
}

// Encodes, copies to an aligned "frame" and decodes with verification.
template <typename Native>
DecodeResult RoundTrip(Encoder& enc, Decoder& dec, const Native& event, AlignedRecord* storage) {
  *storage = AlignedRecord(enc.Encode(kEnv, event));
  return dec.Decode(storage->span(), 1234);
}

std::uint32_t TypeIdOf(const DecodeResult& r) { return r.ok() ? r.event().event_type() : 0; }

}  // namespace

TEST_CASE("envelope fields sit at the documented offsets, little-endian", "[codecs][envelope]") {
  const rill::codecs::fb::Envelope env(0x0102030405060708, 0x1112131415161718, 0x2122232425262728, 0x3132333435363738,
                                       0x41424344, 0x5152, 0x6162);
  std::uint8_t b[sizeof env];
  std::memcpy(b, &env, sizeof env);
  CHECK(b[0] == 0x08);   // stream_id
  CHECK(b[8] == 0x18);   // stream_version
  CHECK(b[16] == 0x28);  // timestamp_ns
  CHECK(b[24] == 0x38);  // command_id
  CHECK(b[32] == 0x44);  // event_type
  CHECK(b[36] == 0x52);  // schema_version
  CHECK(b[38] == 0x62);  // flags
  CHECK(b[39] == 0x61);
}

TEST_CASE("a command fingerprint rides in 8 bytes after the envelope, flagged by bit 0", "[codecs][envelope]") {
  const SchemaRegistry reg = ReferenceRegistry();
  Encoder enc;
  Decoder dec(reg);
  rill::bank::DepositedT deposited;
  deposited.amount = 321;
  const AlignedRecord plain(enc.Encode(kEnv, deposited));
  EnvelopeFields with = kEnv;
  with.command_fingerprint = 0x0102030405060708;
  const AlignedRecord fingerprinted(enc.Encode(with, deposited));

  CHECK(fingerprinted.size() == plain.size() + rill::codecs::kCommandFingerprintSize);
  CHECK(plain.span()[38] == 0);
  CHECK(fingerprinted.span()[38] == rill::codecs::kEnvelopeHasCommandFingerprint);
  CHECK(fingerprinted.span()[40] == 0x08);  // little-endian, right after the fixed envelope
  CHECK(fingerprinted.span()[47] == 0x01);

  const DecodeResult r = dec.Decode(fingerprinted.span(), 9);
  REQUIRE(r.ok());
  CheckEnvelope(r.event(), 9);
  CHECK(r.event().command_fingerprint() == 0x0102030405060708);
  CHECK(r.event().As<rill::bank::Deposited>()->amount() == 321);
  CHECK(r.event().body().size() == plain.size() - rill::codecs::kEnvelopeSize);
  const DecodeResult old = dec.Decode(plain.span(), 9);  // a record without the field
  REQUIRE(old.ok());
  CHECK(old.event().command_fingerprint() == 0);

  // The flag promises 8 more bytes: a record too short for them and a body is truncated.
  const AlignedRecord cut(fingerprinted.span().first(rill::codecs::kEnvelopeSize + rill::codecs::kMinBodySize + 4));
  CHECK(dec.Decode(cut.span(), 9).error().code == DecodeErrc::kTruncated);
}

TEST_CASE("every bank event round-trips through encode and verified decode", "[codecs][roundtrip]") {
  const SchemaRegistry reg = ReferenceRegistry();
  Encoder enc;
  Decoder dec(reg);
  AlignedRecord rec({});

  rill::bank::AccountOpenedT opened;
  opened.owner_id = 77;
  opened.currency = 978;
  DecodeResult r = RoundTrip(enc, dec, opened, &rec);
  REQUIRE(r.ok());
  CheckEnvelope(r.event(), 1234);
  REQUIRE(r.event().As<rill::bank::AccountOpened>() != nullptr);
  CHECK(r.event().As<rill::bank::AccountOpened>()->owner_id() == 77);
  CHECK(r.event().As<rill::bank::AccountOpened>()->currency() == 978);
  CHECK(r.event().As<rill::bank::Deposited>() == nullptr);
  CHECK(r.event().type().name == "bank.AccountOpened");

  rill::bank::DepositedT deposited;
  deposited.amount = 50'000;
  r = RoundTrip(enc, dec, deposited, &rec);
  REQUIRE(r.ok());
  CheckEnvelope(r.event(), 1234);
  REQUIRE(r.event().Is<rill::bank::Deposited>());
  CHECK(r.event().As<rill::bank::Deposited>()->amount() == 50'000);

  rill::bank::WithdrawnT withdrawn;
  withdrawn.amount = -1;  // the codec carries any int64; rules live in the aggregate
  r = RoundTrip(enc, dec, withdrawn, &rec);
  REQUIRE(r.ok());
  CHECK(r.event().As<rill::bank::Withdrawn>()->amount() == -1);

  rill::bank::TransferSentT sent;
  sent.to_account = 43;
  sent.amount = 1'000;
  r = RoundTrip(enc, dec, sent, &rec);
  REQUIRE(r.ok());
  CHECK(r.event().As<rill::bank::TransferSent>()->to_account() == 43);
  CHECK(r.event().As<rill::bank::TransferSent>()->amount() == 1'000);

  rill::bank::TransferReceivedT received;
  received.from_account = 42;
  received.amount = 1'000;
  r = RoundTrip(enc, dec, received, &rec);
  REQUIRE(r.ok());
  CHECK(r.event().As<rill::bank::TransferReceived>()->from_account() == 42);
  CHECK(r.event().As<rill::bank::TransferReceived>()->amount() == 1'000);

  rill::bank::AccountClosedT closed;
  closed.reason = rill::bank::CloseReason::Fraud;
  r = RoundTrip(enc, dec, closed, &rec);
  REQUIRE(r.ok());
  CHECK(r.event().As<rill::bank::AccountClosed>()->reason() == rill::bank::CloseReason::Fraud);
  CHECK(r.event().event_type() == rill::codecs::EventTraits<rill::bank::AccountClosed>::kTypeId);
}

TEST_CASE("every blog event round-trips, strings included", "[codecs][roundtrip]") {
  const SchemaRegistry reg = ReferenceRegistry();
  Encoder enc;
  Decoder dec(reg);
  AlignedRecord rec({});

  // The builder form: strings go from the caller's buffers into the record, no std::string.
  const std::string title = "Hello, \"rill\"";
  const std::string body(3000, 'x');  // larger than the builder's first allocation
  rec = AlignedRecord(enc.Encode<rill::blog::PostCreated>(kEnv, [&](flatbuffers::FlatBufferBuilder& fbb) {
    return rill::blog::CreatePostCreatedDirect(fbb, 5, title.c_str(), body.c_str());
  }));
  DecodeResult r = dec.Decode(rec.span(), 99);
  REQUIRE(r.ok());
  CheckEnvelope(r.event(), 99);
  const auto* created = r.event().As<rill::blog::PostCreated>();
  REQUIRE(created != nullptr);
  CHECK(created->author_id() == 5);
  CHECK(created->title()->str() == title);
  CHECK(created->body()->str() == body);

  rill::blog::PostEditedT edited;
  edited.body = "new body";  // title absent: unchanged
  r = RoundTrip(enc, dec, edited, &rec);
  REQUIRE(r.ok());
  CHECK(r.event().As<rill::blog::PostEdited>()->title() == nullptr);
  CHECK(r.event().As<rill::blog::PostEdited>()->body()->str() == "new body");

  r = RoundTrip(enc, dec, rill::blog::PostPublishedT{}, &rec);
  REQUIRE(r.ok());
  CHECK(r.event().Is<rill::blog::PostPublished>());

  rill::blog::CommentAddedT comment;
  comment.author_id = 8;
  comment.text = "first! ünïcødé";
  r = RoundTrip(enc, dec, comment, &rec);
  REQUIRE(r.ok());
  CHECK(r.event().As<rill::blog::CommentAdded>()->author_id() == 8);
  CHECK(r.event().As<rill::blog::CommentAdded>()->text()->str() == "first! ünïcødé");
}

TEST_CASE("a deposit with its envelope is under 96 bytes and 8-byte sized", "[codecs][size]") {
  Encoder enc;
  rill::bank::DepositedT deposited;
  deposited.amount = 123'456'789;
  const auto rec = enc.Encode(kEnv, deposited);
  INFO("deposit record: " << rec.size() << " bytes");
  CHECK(rec.size() < 96);
  CHECK(rec.size() % 8 == 0);
}

TEST_CASE("the encoder reuses its builder: same storage for every event once warm", "[codecs][alloc]") {
  Encoder enc;
  rill::bank::DepositedT deposited;
  deposited.amount = 1;
  const std::uint8_t* first = enc.Encode(kEnv, deposited).data();
  for (int i = 1; i <= 100; ++i) {  // non-zero: a zero (default) amount is not stored at all
    deposited.amount = i;
    REQUIRE(enc.Encode(kEnv, deposited).data() == first);
  }
}

TEST_CASE("steady-state encoding and decoding allocate nothing", "[codecs][alloc]") {
  const SchemaRegistry reg = ReferenceRegistry();
  Encoder enc;
  Decoder dec(reg);
  alignas(8) std::uint8_t journal[4096];
  const std::string title = "a title";
  const std::string body(1000, 'b');
  const auto encode_post = [&] {
    return enc.Encode<rill::blog::PostCreated>(kEnv, [&](flatbuffers::FlatBufferBuilder& fbb) {
      return rill::blog::CreatePostCreatedDirect(fbb, 1, title.c_str(), body.c_str());
    });
  };
  (void)encode_post();  // warm-up: the builder grows to the largest event once
  const long before = rill::test::ThreadAllocations();
  long good = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto deposit = enc.Encode<rill::bank::Deposited>(
        kEnv, [&](flatbuffers::FlatBufferBuilder& fbb) { return rill::bank::CreateDeposited(fbb, i + 1); });
    std::memcpy(journal, deposit.data(), deposit.size());
    good += dec.Decode({journal, deposit.size()}, 1).ok();
    const auto post = encode_post();
    std::memcpy(journal, post.data(), post.size());
    good += dec.Decode({journal, post.size()}, 2).ok();
  }
  CHECK(rill::test::ThreadAllocations() - before == 0);
  CHECK(good == 2000);
  // The counter works: an allocation is seen.
  auto* probe = new std::vector<int>(100);
  volatile void* sink = probe;
  (void)sink;
  delete probe;
  CHECK(rill::test::ThreadAllocations() - before >= 1);
}

TEST_CASE("DecodeTrusted gives the same view as Decode", "[codecs][trusted]") {
  const SchemaRegistry reg = ReferenceRegistry();
  Encoder enc;
  Decoder dec(reg);
  rill::bank::DepositedT deposited;
  deposited.amount = 5;
  const AlignedRecord rec(enc.Encode(kEnv, deposited));
  const DecodeResult a = dec.Decode(rec.span(), 1);
  const DecodeResult b = dec.DecodeTrusted(rec.span(), 1);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.event().body().data() == b.event().body().data());
  CHECK(b.event().As<rill::bank::Deposited>()->amount() == 5);
}

TEST_CASE("every truncation of a record fails with a typed error or, cut padding only, decodes the same",
          "[codecs][verify]") {
  const SchemaRegistry reg = ReferenceRegistry();
  Encoder enc;
  Decoder dec(reg);
  rill::blog::CommentAddedT comment;
  comment.author_id = 8;
  comment.text = "a comment long enough to span several words";
  const AlignedRecord full(enc.Encode(kEnv, comment));
  int rejected = 0;
  for (std::size_t len = 0; len < full.size(); ++len) {
    const AlignedRecord cut(full.span().first(len));
    const DecodeResult r = dec.Decode(cut.span(), 555);
    if (r.ok()) {
      // Only trailing alignment padding can go unnoticed; the journal frame's length and CRC
      // catch that. The content must be intact.
      CHECK(len + 8 > full.size());
      CHECK(r.event().As<rill::blog::CommentAdded>()->text()->str() == comment.text);
      continue;
    }
    ++rejected;
    CHECK(r.error().position == 555);
    CHECK(r.error().size == len);
    if (len < rill::codecs::kEnvelopeSize + rill::codecs::kMinBodySize) {
      CHECK(r.error().code == DecodeErrc::kTruncated);
    } else {
      CHECK(r.error().code == DecodeErrc::kVerificationFailed);
      CHECK(r.error().event_type == rill::codecs::EventTraits<rill::blog::CommentAdded>::kTypeId);
    }
    const rill::Status s = r.error().ToStatus(&reg);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("position 555") != std::string_view::npos);
  }
  CHECK(rejected + 8 > static_cast<int>(full.size()));
}

TEST_CASE("bit-flipped records are rejected or decode safely, and a broken root offset is rejected",
          "[codecs][verify]") {
  const SchemaRegistry reg = ReferenceRegistry();
  // The same flips through a registry rebuilt from the blob: the reflection verifier path.
  auto tool_reg = SchemaRegistry::FromBlob(reg.blob(), reg.fingerprint());
  REQUIRE(tool_reg.ok());
  Encoder enc;
  Decoder dec(reg);
  Decoder tool_dec(*tool_reg);
  rill::codecs::JsonPrinter printer(*tool_reg);
  rill::blog::PostCreatedT post;
  post.author_id = 3;
  post.title = "title";
  post.body = "body text";
  const AlignedRecord original(enc.Encode(kEnv, post));

  // The root offset is the first body word: pointing it outside the body must be caught.
  {
    AlignedRecord bad(original.span());
    bad.data()[rill::codecs::kEnvelopeSize + 3] ^= 0x80;
    CHECK(dec.Decode(bad.span(), 1).error().code == DecodeErrc::kVerificationFailed);
    CHECK(tool_dec.Decode(bad.span(), 1).error().code == DecodeErrc::kVerificationFailed);
  }

  const auto seed = std::random_device{}();
  std::printf("bit flip test seed: %u\n", seed);
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  int ok = 0;
  int rejected = 0;
  for (int i = 0; i < 2000; ++i) {
    AlignedRecord bad(original.span());
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      const std::size_t bit = rng() % (bad.size() * 8);
      bad.data()[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    }
    for (Decoder* d : {&dec, &tool_dec}) {
      const DecodeResult r = d->Decode(bad.span(), 10);
      if (!r.ok()) {
        ++rejected;
        CHECK(r.error().code != DecodeErrc::kOk);
        continue;
      }
      ++ok;
      std::string json;
      if (d == &tool_dec) (void)printer.Print(r.event(), &json);  // must not crash either
    }
  }
  std::printf("bit flips: %d decoded (value bits: the frame CRC's job), %d rejected\n", ok, rejected);
  CHECK(rejected > 0);
}

TEST_CASE("unknown type, unknown version, set flags and misalignment are typed errors", "[codecs][errors]") {
  const SchemaRegistry reg = ReferenceRegistry();
  Encoder enc;
  Decoder dec(reg);
  rill::bank::DepositedT deposited;
  deposited.amount = 5;
  const AlignedRecord good(enc.Encode(kEnv, deposited));
  const std::uint32_t deposit_id = rill::codecs::EventTraits<rill::bank::Deposited>::kTypeId;

  SECTION("unknown event type") {
    AlignedRecord bad(good.span());
    const std::uint32_t unknown = 0x00FF0001;
    std::memcpy(bad.data() + 32, &unknown, 4);
    const DecodeResult r = dec.Decode(bad.span(), 77);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == DecodeErrc::kUnknownEventType);
    CHECK(r.error().event_type == unknown);
    CHECK(r.error().position == 77);
    const rill::Status s = r.error().ToStatus(&reg);
    CHECK(s.IsNotFound());
    CHECK(s.message().find("position 77") != std::string_view::npos);
    CHECK(s.message().find("0x00ff0001") != std::string_view::npos);
  }
  SECTION("unknown schema version of a known type") {
    AlignedRecord bad(good.span());
    const std::uint16_t v9 = 9;
    std::memcpy(bad.data() + 36, &v9, 2);
    const DecodeResult r = dec.Decode(bad.span(), 78);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == DecodeErrc::kUnknownSchemaVersion);
    CHECK(r.error().event_type == deposit_id);
    CHECK(r.error().schema_version == 9);
    CHECK(r.error().ToStatus(&reg).message().find("'bank.Deposited'") != std::string_view::npos);
  }
  SECTION("envelope flags this rill does not know") {
    for (const std::uint8_t flag : {0x02, 0x04, 0x80}) {
      AlignedRecord bad(good.span());
      bad.data()[38] = flag;
      CHECK(dec.Decode(bad.span(), 1).error().code == DecodeErrc::kUnsupportedEnvelope);
    }
    AlignedRecord bad(good.span());
    bad.data()[39] = 0x01;  // bit 8
    CHECK(dec.Decode(bad.span(), 1).error().code == DecodeErrc::kUnsupportedEnvelope);
  }
  SECTION("a record that does not start on 8 bytes") {
    std::vector<std::uint64_t> words(good.size() / 8 + 2);
    auto* p = reinterpret_cast<std::uint8_t*>(words.data()) + 4;
    std::memcpy(p, good.span().data(), good.size());
    const DecodeResult r = dec.Decode({p, good.size()}, 3);
    CHECK(r.error().code == DecodeErrc::kMisaligned);
    CHECK(r.error().ToStatus().IsInvalidArgument());
  }
  SECTION("an empty record") {
    const DecodeResult r = dec.Decode({}, 4);
    CHECK(r.error().code == DecodeErrc::kTruncated);
    CHECK(r.error().ToStatus().IsCorruption());
  }
  CHECK(TypeIdOf(dec.Decode(good.span(), 0)) == deposit_id);
}

TEST_CASE("decoders on two threads share one registry", "[codecs][threads]") {
  // The registry is immutable once built; each thread owns its Decoder (and upcast scratch).
  const SchemaRegistry reg = ReferenceRegistry();
  Encoder enc;
  rill::bank::DepositedT deposited;
  deposited.amount = 11;
  const AlignedRecord rec(enc.Encode(kEnv, deposited));
  std::atomic<int> good{0};
  auto work = [&] {
    Decoder dec(reg);
    rill::codecs::JsonPrinter printer(reg);
    std::string json;
    for (int i = 0; i < 2000; ++i) {
      const DecodeResult r = dec.Decode(rec.span(), static_cast<std::uint64_t>(i));
      if (r.ok() && r.event().As<rill::bank::Deposited>()->amount() == 11) good.fetch_add(1, std::memory_order_relaxed);
      if (i % 500 == 0 && r.ok()) (void)printer.Print(r.event(), &json);
    }
  };
  std::thread a(work);
  std::thread b(work);
  a.join();
  b.join();
  CHECK(good.load() == 4000);
}
