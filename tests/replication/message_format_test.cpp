// Names, headers, msg-ids, coalescing and the position chain of replicated messages
// (replication/message_format.h), with real journal batches.
#include "rill/replication/message_format.h"

#include <catch2/catch.hpp>

#include "journal_fixture.h"
#include "rill/tests/support/temp_dir.h"

using namespace rill;
using namespace rill::replication;
using rill::replication::test::kTestSchema;
using rill::replication::test::TestJournal;
using rill::replication::test::TestSchemaBlob;

namespace {

struct Batches {
  std::vector<journal::RawBatch> meta;
  std::vector<std::vector<std::byte>> bytes;
};

Batches ReadAll(const std::string& dir) {
  Batches out;
  auto r = journal::JournalReader::Open({.directory = dir});
  REQUIRE(r.ok());
  journal::RawBatch b;
  while ((*r)->NextBatch(&b) == journal::ReadStatus::kRecord) {
    out.bytes.emplace_back(b.bytes.begin(), b.bytes.end());
    out.meta.push_back(b);
  }
  return out;
}

OutgoingMessage BuildAll(const Batches& b, std::size_t max_bytes, std::size_t from, std::size_t* next) {
  MessageBuilder mb(max_bytes);
  std::size_t i = from;
  for (; i < b.meta.size(); ++i) {
    if (!mb.Accepts(b.bytes[i].size(), b.meta[i].schema_fingerprint)) break;
    REQUIRE(mb.Add(b.meta[i].first_position, b.meta[i].record_count, b.meta[i].timestamp_ns,
                   b.meta[i].schema_fingerprint, b.bytes[i]));
  }
  *next = i;
  return mb.Take(7);
}

}  // namespace

TEST_CASE("names and msg-ids follow SCALE-OUT 3a", "[replication][message_format]") {
  CHECK(StreamName("bank", "0") == "RILL_bank_0");
  CHECK(SubjectName("bank", "0") == "rill.bank.0.j");
  CHECK(SchemaBucketName("bank", "0") == "RILL_bank_0_schema");
  CHECK(MsgId("bank", "0", 3, 1234) == "bank.0/3/1234");
  CHECK(FenceMsgId("bank", "0", 3) == "bank.0/3/fence");
  CHECK(ValidateNames("bank-1", "shard_2").ok());
  CHECK(ValidateNames("bank.1", "0").IsInvalidArgument());
  CHECK(ValidateNames("bank", "").IsInvalidArgument());
  CHECK(ValidateNames("", "0").IsInvalidArgument());
}

TEST_CASE("headers round-trip and malformed ones are Corruption", "[replication][message_format]") {
  const MessageHeaders h{.first_position = 42, .count = 9, .epoch = 3, .schema_fingerprint = 0x00ab00cd00ef0012ull};
  HeaderList fields = EncodeHeaders(h);
  CHECK(FindHeader(fields, kHeaderSchema) == "00ab00cd00ef0012");
  auto back = DecodeHeaders(fields);
  REQUIRE(back.ok());
  CHECK(back->first_position == 42);
  CHECK(back->count == 9);
  CHECK(back->epoch == 3);
  CHECK(back->schema_fingerprint == h.schema_fingerprint);
  CHECK(back->end() == 51);

  SECTION("missing field") {
    fields.erase(fields.begin());
    CHECK(DecodeHeaders(fields).status().IsCorruption());
  }
  SECTION("non-decimal count") {
    fields[1].second = "9x";
    CHECK(DecodeHeaders(fields).status().IsCorruption());
  }
  SECTION("zero count: a fence") {
    fields[1].second = "0";
    auto f = DecodeHeaders(fields);
    REQUIRE(f.ok());
    CHECK(f->fence());
    CHECK(f->end() == 42);  // the next message starts at the fence's first position
  }
  SECTION("negative count") {
    fields[1].second = "-1";
    CHECK(DecodeHeaders(fields).status().IsCorruption());
  }
  SECTION("short fingerprint") {
    fields[3].second = "abc";
    CHECK(DecodeHeaders(fields).status().IsCorruption());
  }
  CHECK(ParseFingerprintHex(FingerprintHex(~0ull)).value() == ~0ull);
}

TEST_CASE("the position chain classifies every message", "[replication][message_format]") {
  const MessageHeaders h{.first_position = 10, .count = 5};  // 10..14
  CHECK(ClassifyMessage(10, h) == ChainStep::kNext);
  CHECK(ClassifyMessage(15, h) == ChainStep::kRedelivered);
  CHECK(ClassifyMessage(100, h) == ChainStep::kRedelivered);
  CHECK(ClassifyMessage(9, h) == ChainStep::kGap);
  CHECK(ClassifyMessage(11, h) == ChainStep::kOverlap);
  CHECK(ClassifyMessage(14, h) == ChainStep::kOverlap);
  // A fence at 15 (after 10..14): next when the consumer is at 15, already passed beyond,
  // a gap before; never an overlap (it holds no position).
  const MessageHeaders f{.first_position = 15, .count = 0};
  CHECK(ClassifyMessage(15, f) == ChainStep::kNext);
  CHECK(ClassifyMessage(16, f) == ChainStep::kRedelivered);
  CHECK(ClassifyMessage(14, f) == ChainStep::kGap);
}

TEST_CASE("a fence: no payload, no batches, and a payload that does not fit the count is Corruption",
          "[replication][message_format]") {
  const MessageHeaders fence{.first_position = 21, .count = 0, .epoch = 4, .schema_fingerprint = kTestSchema};
  AlignedBytes a;
  a.Assign({});
  CHECK(CheckPayload(fence, 0).ok());
  auto none = SplitBatches(a, fence);
  REQUIRE(none.ok());
  CHECK(none->empty());

  const std::vector<std::byte> stray(16, std::byte{0});
  a.Assign(stray);
  CHECK(CheckPayload(fence, stray.size()).IsCorruption());
  auto s = SplitBatches(a, fence);
  CHECK(s.status().IsCorruption());
  CHECK(std::string(s.status().message()).find("Rill-Count 0") != std::string::npos);

  const MessageHeaders data{.first_position = 21, .count = 3, .epoch = 4, .schema_fingerprint = kTestSchema};
  a.Assign({});
  CHECK(CheckPayload(data, 0).IsCorruption());
  auto e = SplitBatches(a, data);
  CHECK(e.status().IsCorruption());
  CHECK(std::string(e.status().message()).find("empty payload") != std::string::npos);
}

TEST_CASE("coalescing keeps whole batches under the size bound and splits them back", "[replication][message_format]") {
  rill::test::TempDir tmp("rill-msgfmt");
  TestJournal j(tmp.Sub("j"));
  REQUIRE(j.status().ok());
  const std::uint64_t last = j.Commit(200);
  REQUIRE(last > 200);
  const Batches b = ReadAll(tmp.Sub("j"));
  REQUIRE(b.meta.size() == 200);

  std::size_t i = 0;
  std::uint64_t position = 1;
  int messages = 0;
  while (i < b.meta.size()) {
    std::size_t next = 0;
    OutgoingMessage m = BuildAll(b, 4096, i, &next);
    ++messages;
    CHECK(m.headers.first_position == position);
    CHECK(m.headers.epoch == 7);
    CHECK(m.batches == next - i);
    CHECK((m.bytes.size() <= 4096 || m.batches == 1));
    // The message is the batches verbatim, and splits back into exactly them.
    AlignedBytes a;
    a.Assign(m.bytes);
    auto slices = SplitBatches(a, m.headers);
    REQUIRE(slices.ok());
    REQUIRE(slices->size() == next - i);
    for (std::size_t k = 0; k < slices->size(); ++k) {
      const BatchSlice& s = (*slices)[k];
      CHECK(s.first_position == b.meta[i + k].first_position);
      const auto span = a.span().subspan(s.offset, s.size);
      CHECK(std::vector<std::byte>(span.begin(), span.end()) == b.bytes[i + k]);
    }
    position = m.headers.end();
    i = next;
  }
  CHECK(position == last + 1);
  CHECK(messages > 10);  // 200 batches of ~1 KiB do not fit a few 4 KiB messages

  SECTION("a builder refuses a batch that does not continue the message") {
    MessageBuilder mb(1 << 20);
    REQUIRE(mb.Add(b.meta[0].first_position, b.meta[0].record_count, 1, kTestSchema, b.bytes[0]));
    CHECK_FALSE(mb.Add(b.meta[2].first_position, b.meta[2].record_count, 1, kTestSchema, b.bytes[2]));
    CHECK_FALSE(mb.Accepts(8, kTestSchema + 1));  // never mixes schemas
    CHECK(mb.Accepts(8, kTestSchema));
  }
  SECTION("a single batch larger than the bound travels alone") {
    MessageBuilder mb(16);
    CHECK(mb.Accepts(b.bytes[0].size(), kTestSchema));
    REQUIRE(mb.Add(b.meta[0].first_position, b.meta[0].record_count, 1, kTestSchema, b.bytes[0]));
    CHECK_FALSE(mb.Accepts(b.bytes[1].size(), kTestSchema));
  }
}

TEST_CASE("a damaged or mislabelled message is Corruption before anything is applied",
          "[replication][message_format]") {
  rill::test::TempDir tmp("rill-msgfmt");
  TestJournal j(tmp.Sub("j"));
  REQUIRE(j.status().ok());
  j.Commit(20);
  const Batches b = ReadAll(tmp.Sub("j"));
  std::size_t next = 0;
  OutgoingMessage m = BuildAll(b, 1 << 20, 0, &next);
  REQUIRE(next == 20);
  AlignedBytes a;

  SECTION("a flipped bit in a record") {
    m.bytes[m.bytes.size() / 2] ^= std::byte{0x10};
    a.Assign(m.bytes);
    CHECK(SplitBatches(a, m.headers).status().IsCorruption());
  }
  SECTION("Rill-Count larger than the batches") {
    m.headers.count += 1;
    a.Assign(m.bytes);
    auto s = SplitBatches(a, m.headers);
    CHECK(s.status().IsCorruption());
    CHECK(std::string(s.status().message()).find("fewer records") != std::string::npos);
  }
  SECTION("Rill-Count smaller than the batches") {
    m.headers.count -= 1;
    a.Assign(m.bytes);
    CHECK(SplitBatches(a, m.headers).status().IsCorruption());
  }
  SECTION("Rill-First-Position off by one") {
    m.headers.first_position += 1;
    a.Assign(m.bytes);
    CHECK(SplitBatches(a, m.headers).status().IsCorruption());
  }
  SECTION("truncated inside the last batch") {
    m.bytes.resize(m.bytes.size() - 8);
    a.Assign(m.bytes);
    CHECK(SplitBatches(a, m.headers).status().IsCorruption());
  }
  SECTION("trailing bytes after the last batch") {
    m.bytes.resize(m.bytes.size() + 64);
    a.Assign(m.bytes);
    CHECK(SplitBatches(a, m.headers).status().IsCorruption());
  }
  SECTION("empty") {
    a.Assign({});
    CHECK(SplitBatches(a, m.headers).status().IsCorruption());
  }
}
