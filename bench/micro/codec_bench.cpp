// codec_encode/<event>, codec_decode/<event>: nanoseconds per event, encoded size as the
// `bytes` counter (envelope + body; the journal's frame header not counted). Baselines in the
// same run: codec_baseline/memcpy_record copies an already encoded record (the engine's one
// copy into journal space), and codec_baseline/packed_struct writes the same deposit as a
// hand-packed C struct with no schema at all; codec_baseline/raw_access_deposit reads a field
// with bare FlatBuffers access, no checks (the floor for decoding in place).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"

namespace {

using rill::codecs::Decoder;
using rill::codecs::Encoder;
using rill::codecs::EnvelopeFields;

const rill::codecs::SchemaRegistry& Registry() {
  static const rill::codecs::SchemaRegistry reg = [] {
    rill::codecs::SchemaRegistryBuilder b;
    rill::examples::bank::BankDomain::RegisterEvents(b);
    rill::examples::blog::BlogDomain::RegisterEvents(b);
    return std::move(b).Build().value();
  }();
  return reg;
}

EnvelopeFields Env(std::uint64_t i) {
  return EnvelopeFields{.stream_id = i & 1023,
                        .stream_version = i,
                        .timestamp_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(i),
                        .command_id = i};
}

const std::string kTitle = "Why single-writer pipelines are fast";
const std::string kBody(400, 'b');

// Encoders for the benchmarked events; the builder lambda form, as the engine's writer uses it.
std::span<const std::uint8_t> EncodeDeposit(Encoder& enc, std::uint64_t i) {
  return enc.Encode<rill::bank::Deposited>(
      Env(i), [&](flatbuffers::FlatBufferBuilder& fbb) { return rill::bank::CreateDeposited(fbb, 100 + (i & 0xFF)); });
}
std::span<const std::uint8_t> EncodeTransferSent(Encoder& enc, std::uint64_t i) {
  return enc.Encode<rill::bank::TransferSent>(Env(i), [&](flatbuffers::FlatBufferBuilder& fbb) {
    return rill::bank::CreateTransferSent(fbb, i ^ 0x55, 100 + (i & 0xFF));
  });
}
std::span<const std::uint8_t> EncodePostCreated(Encoder& enc, std::uint64_t i) {
  return enc.Encode<rill::blog::PostCreated>(Env(i), [&](flatbuffers::FlatBufferBuilder& fbb) {
    return rill::blog::CreatePostCreatedDirect(fbb, i, kTitle.c_str(), kBody.c_str());
  });
}
std::span<const std::uint8_t> EncodeCommentAdded(Encoder& enc, std::uint64_t i) {
  return enc.Encode<rill::blog::CommentAdded>(Env(i), [&](flatbuffers::FlatBufferBuilder& fbb) {
    return rill::blog::CreateCommentAddedDirect(fbb, i, "Nice post, thanks!");
  });
}

template <auto EncodeFn>
void BM_Encode(benchmark::State& state) {
  Encoder enc;
  std::uint64_t i = 0;
  std::size_t size = 0;
  for (auto _ : state) {
    const auto rec = EncodeFn(enc, ++i);
    benchmark::DoNotOptimize(rec.data());
    size = rec.size();
  }
  state.counters["bytes"] = static_cast<double>(size);
}

// Encode plus the one copy into reserved journal space, as the engine does it.
template <auto EncodeFn>
void BM_EncodeAndCopy(benchmark::State& state) {
  Encoder enc;
  alignas(64) static std::uint8_t journal[1 << 16];
  std::size_t at = 0;
  std::uint64_t i = 0;
  std::size_t size = 0;
  for (auto _ : state) {
    const auto rec = EncodeFn(enc, ++i);
    if (at + rec.size() > sizeof journal) at = 0;
    std::memcpy(journal + at, rec.data(), rec.size());
    at += (rec.size() + 7) & ~std::size_t{7};
    size = rec.size();
    benchmark::ClobberMemory();
  }
  state.counters["bytes"] = static_cast<double>(size);
}

// A batch of distinct records laid out 8-byte aligned as in a journal, then decoded in turn.
struct Records {
  std::vector<std::uint64_t> words;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // byte offset, size
  std::size_t size = 0;
};

template <auto EncodeFn>
Records MakeRecords(std::size_t n) {
  Encoder enc;
  Records r;
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 0; i < n; ++i) {
    const auto rec = EncodeFn(enc, i);
    r.spans.emplace_back(bytes.size(), rec.size());
    bytes.insert(bytes.end(), rec.begin(), rec.end());
    bytes.resize((bytes.size() + 7) & ~std::size_t{7});
    r.size = rec.size();
  }
  r.words.resize(bytes.size() / 8);
  std::memcpy(r.words.data(), bytes.data(), bytes.size());
  return r;
}

template <auto EncodeFn, bool kVerify, typename Table, typename ReadFn>
void DecodeLoop(benchmark::State& state, ReadFn read) {
  const Records recs = MakeRecords<EncodeFn>(256);
  const auto* base = reinterpret_cast<const std::uint8_t*>(recs.words.data());
  Decoder dec(Registry());
  std::size_t k = 0;
  for (auto _ : state) {
    const auto& [off, len] = recs.spans[k++ & 255];
    const auto r = kVerify ? dec.Decode({base + off, len}, k) : dec.DecodeTrusted({base + off, len}, k);
    if (!r.ok()) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(read(*r.event().template As<Table>()) + r.event().stream_id());
  }
  state.counters["bytes"] = static_cast<double>(recs.size);
}

const auto kAmount = [](const rill::bank::Deposited& e) { return e.amount(); };
const auto kTransfer = [](const rill::bank::TransferSent& e) {
  return e.amount() + static_cast<std::int64_t>(e.to_account());
};
const auto kTitleLen = [](const rill::blog::PostCreated& e) { return static_cast<std::int64_t>(e.title()->size()); };
const auto kTextLen = [](const rill::blog::CommentAdded& e) { return static_cast<std::int64_t>(e.text()->size()); };

void BM_Decode_Deposit(benchmark::State& s) { DecodeLoop<&EncodeDeposit, true, rill::bank::Deposited>(s, kAmount); }
void BM_Decode_TransferSent(benchmark::State& s) {
  DecodeLoop<&EncodeTransferSent, true, rill::bank::TransferSent>(s, kTransfer);
}
void BM_Decode_PostCreated(benchmark::State& s) {
  DecodeLoop<&EncodePostCreated, true, rill::blog::PostCreated>(s, kTitleLen);
}
void BM_Decode_CommentAdded(benchmark::State& s) {
  DecodeLoop<&EncodeCommentAdded, true, rill::blog::CommentAdded>(s, kTextLen);
}
void BM_DecodeTrusted_Deposit(benchmark::State& s) {
  DecodeLoop<&EncodeDeposit, false, rill::bank::Deposited>(s, kAmount);
}
void BM_DecodeTrusted_PostCreated(benchmark::State& s) {
  DecodeLoop<&EncodePostCreated, false, rill::blog::PostCreated>(s, kTitleLen);
}

// Baseline: the floor for reading in place: raw FlatBuffers access to the same records, with
// no size, type or version check and no verifier.
void BM_BaselineRawAccess(benchmark::State& state) {
  const Records recs = MakeRecords<&EncodeDeposit>(256);
  const auto* base = reinterpret_cast<const std::uint8_t*>(recs.words.data());
  std::size_t k = 0;
  for (auto _ : state) {
    const std::uint8_t* rec = base + recs.spans[k++ & 255].first;
    const auto* env = reinterpret_cast<const rill::codecs::fb::Envelope*>(rec);
    const auto* d = flatbuffers::GetRoot<rill::bank::Deposited>(rec + rill::codecs::kEnvelopeSize);
    benchmark::DoNotOptimize(d->amount() + static_cast<std::int64_t>(env->stream_id()));
  }
  state.counters["bytes"] = static_cast<double>(recs.size);
}

// Baseline: the engine's copy of an already encoded deposit into journal space.
void BM_BaselineMemcpyRecord(benchmark::State& state) {
  Encoder enc;
  const auto rec = EncodeDeposit(enc, 1);
  alignas(64) static std::uint8_t journal[1 << 16];
  std::size_t at = 0;
  for (auto _ : state) {
    if (at + rec.size() > sizeof journal) at = 0;
    std::memcpy(journal + at, rec.data(), rec.size());
    at += rec.size();
    benchmark::ClobberMemory();
  }
  state.counters["bytes"] = static_cast<double>(rec.size());
}

// Baseline: a deposit with the same envelope as a packed C struct: no schema, no evolution,
// no verification. What the codec costs over the cheapest possible binary format.
void BM_BaselinePackedStruct(benchmark::State& state) {
  struct Packed {
    rill::codecs::fb::Envelope env;
    std::int64_t amount;
  };
  alignas(64) static std::uint8_t journal[1 << 16];
  std::size_t at = 0;
  std::uint64_t i = 0;
  for (auto _ : state) {
    ++i;
    const EnvelopeFields f = Env(i);
    const Packed p{
        rill::codecs::fb::Envelope(f.stream_id, f.stream_version, f.timestamp_ns, f.command_id, 0x10002, 1, 0),
        static_cast<std::int64_t>(100 + (i & 0xFF))};
    if (at + sizeof p > sizeof journal) at = 0;
    std::memcpy(journal + at, &p, sizeof p);
    at += sizeof p;
    benchmark::ClobberMemory();
  }
  state.counters["bytes"] = static_cast<double>(sizeof(Packed));
}

BENCHMARK(BM_Encode<&EncodeDeposit>)->Name("codec_encode/deposit");
BENCHMARK(BM_Encode<&EncodeTransferSent>)->Name("codec_encode/transfer_sent");
BENCHMARK(BM_Encode<&EncodePostCreated>)->Name("codec_encode/post_created");
BENCHMARK(BM_Encode<&EncodeCommentAdded>)->Name("codec_encode/comment_added");
BENCHMARK(BM_EncodeAndCopy<&EncodeDeposit>)->Name("codec_encode_and_copy/deposit");
BENCHMARK(BM_Decode_Deposit)->Name("codec_decode/deposit");
BENCHMARK(BM_Decode_TransferSent)->Name("codec_decode/transfer_sent");
BENCHMARK(BM_Decode_PostCreated)->Name("codec_decode/post_created");
BENCHMARK(BM_Decode_CommentAdded)->Name("codec_decode/comment_added");
BENCHMARK(BM_DecodeTrusted_Deposit)->Name("codec_decode_trusted/deposit");
BENCHMARK(BM_DecodeTrusted_PostCreated)->Name("codec_decode_trusted/post_created");
BENCHMARK(BM_BaselineRawAccess)->Name("codec_baseline/raw_access_deposit");
BENCHMARK(BM_BaselineMemcpyRecord)->Name("codec_baseline/memcpy_record");
BENCHMARK(BM_BaselinePackedStruct)->Name("codec_baseline/packed_struct");

}  // namespace
