// projection_apply/<read model>: events per second for decode (verified, as from disk) +
// apply, one thread, over a pre-built in-memory vector of encoded records (no journal I/O).
// Baseline in the same run: projection_apply/decode_only (the decode without any read model)
// and projection_apply/balances_trusted (DecodeTrusted: the verifier skipped).
// projection_apply/runner_balances: the whole ProjectorThread catching up a real 1M-event
// journal (read + CRC + decode + virtual dispatch + apply + publish per batch).
//
// query/<read model>/while_applying: ns per query on CPU 0 while another thread, pinned to
// CPU 1, applies events to the same read model without pause (2 threads on 2 cores: no
// oversubscription). Baseline in the same run: query/balances/idle, the same query with no
// writer (the seqlock never retries).
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rill/base/thread_affinity.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/examples/bank/read_models/statements.h"
#include "rill/examples/bank/read_models/top_accounts.h"
#include "rill/examples/blog/blog_domain.h"
#include "rill/examples/blog/read_models/indexes.h"
#include "rill/examples/blog/read_models/post_details.h"
#include "rill/journal/journal_writer.h"
#include "rill/projections/projector_thread.h"

namespace {

namespace pj = rill::projections;
using rill::codecs::Decoder;
using rill::codecs::Encoder;
using rill::codecs::EnvelopeFields;

constexpr std::uint64_t kAccounts = 16384;  // ids 1..kAccounts
constexpr std::uint64_t kPosts = 4096;
constexpr std::size_t kEvents = 1 << 16;

const rill::codecs::SchemaRegistry& Registry() {
  static const rill::codecs::SchemaRegistry reg = [] {
    rill::codecs::SchemaRegistryBuilder b;
    rill::examples::bank::BankDomain::RegisterEvents(b);
    rill::examples::blog::BlogDomain::RegisterEvents(b);
    return std::move(b).Build().value();
  }();
  return reg;
}

// Pins the calling thread for the scope and restores its previous CPU set after: the main
// thread's mask is inherited by every thread created later (the applier, the next benchmarks).
class ScopedPin {
 public:
  explicit ScopedPin(int cpu) {
    ::pthread_getaffinity_np(::pthread_self(), sizeof saved_, &saved_);
    if (rill::Status s = rill::PinCurrentThread(cpu); !s.ok())
      std::fprintf(stderr, "projection_bench: %s; running unpinned\n", s.ToString().c_str());
  }
  ~ScopedPin() { ::pthread_setaffinity_np(::pthread_self(), sizeof saved_, &saved_); }
  ScopedPin(const ScopedPin&) = delete;
  ScopedPin& operator=(const ScopedPin&) = delete;

 private:
  cpu_set_t saved_{};
};

void Pin(int cpu) {
  if (rill::Status s = rill::PinCurrentThread(cpu); !s.ok())
    std::fprintf(stderr, "projection_bench: %s; running unpinned\n", s.ToString().c_str());
}

// Encoded records, each 8-byte aligned, as a journal frame would hold them.
struct Records {
  std::vector<std::vector<std::uint64_t>> storage;
  std::vector<std::span<const std::uint8_t>> spans;
  void Add(std::span<const std::uint8_t> rec) {
    storage.emplace_back((rec.size() + 7) / 8);
    std::memcpy(storage.back().data(), rec.data(), rec.size());
    spans.emplace_back(reinterpret_cast<const std::uint8_t*>(storage.back().data()), rec.size());
  }
};

EnvelopeFields Env(std::uint64_t stream, std::uint64_t i) {
  return EnvelopeFields{stream, i + 2, 1'700'000'000'000'000'000 + static_cast<std::int64_t>(i), i};
}

// Opens every account (setup), then a mix of deposits, withdrawals and transfers (the stream).
struct BankRecords {
  Records opens, stream;
  BankRecords() {
    Encoder enc;
    for (std::uint64_t a = 1; a <= kAccounts; ++a)
      opens.Add(enc.Encode<rill::bank::AccountOpened>(
          Env(a, 0), [&](auto& f) { return rill::bank::CreateAccountOpened(f, a, 978); }));
    std::uint64_t x = 88172645463325252ull;
    for (std::size_t i = 0; i < kEvents; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      const std::uint64_t a = 1 + x % kAccounts, b = 1 + (x >> 20) % kAccounts;
      switch (i % 4) {
        case 0:
        case 1:
          stream.Add(enc.Encode<rill::bank::Deposited>(
              Env(a, i), [&](auto& f) { return rill::bank::CreateDeposited(f, 100 + (x & 0xff)); }));
          break;
        case 2:
          stream.Add(enc.Encode<rill::bank::TransferSent>(
              Env(a, i), [&](auto& f) { return rill::bank::CreateTransferSent(f, b, 1 + (x & 0x3f)); }));
          break;
        default:
          stream.Add(enc.Encode<rill::bank::TransferReceived>(
              Env(b, i), [&](auto& f) { return rill::bank::CreateTransferReceived(f, a, 1 + (x & 0x3f)); }));
      }
    }
  }
};
const BankRecords& Bank() {
  static const BankRecords r;
  return r;
}

struct BlogRecords {
  Records opens, stream;
  BlogRecords() {
    Encoder enc;
    const std::string title = "Why single-writer pipelines are fast", body(400, 'b');
    for (std::uint64_t p = 1; p <= kPosts; ++p) {
      opens.Add(enc.Encode<rill::blog::PostCreated>(Env(p, 0), [&](auto& f) {
        return rill::blog::CreatePostCreatedDirect(f, p % 64, title.c_str(), body.c_str());
      }));
    }
    std::uint64_t x = 88172645463325252ull;
    for (std::size_t i = 0; i < kEvents; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      const std::uint64_t p = 1 + x % kPosts;
      if (i % 8 == 0) {
        stream.Add(enc.Encode<rill::blog::PostEdited>(
            Env(p, i), [&](auto& f) { return rill::blog::CreatePostEditedDirect(f, title.c_str(), nullptr); }));
      } else {
        stream.Add(enc.Encode<rill::blog::CommentAdded>(
            Env(p, i), [&](auto& f) { return rill::blog::CreateCommentAddedDirect(f, i, "Nice post, thanks!"); }));
      }
    }
  }
};
const BlogRecords& Blog() {
  static const BlogRecords r;
  return r;
}

template <typename M>
void ApplyAll(M& m, Decoder& dec, const Records& r) {
  for (std::size_t i = 0; i < r.spans.size(); ++i) {
    const auto d = dec.Decode(r.spans[i], i + 1);
    if (!d.ok() || m.Apply(d.event()) != nullptr) std::abort();
  }
}

// A fresh model with its setup records applied (accounts opened, posts created).
template <typename M>
std::unique_ptr<M> Prepared(const Records& opens) {
  auto m = std::make_unique<M>();
  Decoder dec(Registry());
  ApplyAll(*m, dec, opens);
  if constexpr (requires { m->EndBatch(0); }) m->EndBatch(0);
  return m;
}

// The blog stream has no publish events; RecentPublished gets created+published pairs.
const Records& BlogStreamFor(bool recent) {
  static const Records published = [] {
    Records r;
    Encoder enc;
    for (std::size_t i = 0; i < kEvents; ++i)
      r.Add(enc.Encode<rill::blog::PostPublished>(Env(1 + i % kPosts, i),
                                                  [&](auto& f) { return rill::blog::CreatePostPublished(f); }));
    return r;
  }();
  return recent ? published : Blog().stream;
}

using Getter = const Records& (*)();
const Records& BankOpens() { return Bank().opens; }
const Records& BankStream() { return Bank().stream; }
const Records& BlogOpens() { return Blog().opens; }
const Records& BlogStream() { return Blog().stream; }
const Records& BlogPublished() { return BlogStreamFor(true); }
const Records& NoRecords() {
  static const Records none;
  return none;
}

// The records are built on first use (not at registration), so a filtered run pays nothing.
template <typename M, bool kTrusted = false>
void BM_Apply(benchmark::State& state, Getter opens_fn, Getter stream_fn) {
  const Records& stream = stream_fn();
  auto m = Prepared<M>(opens_fn());
  Decoder dec(Registry());
  std::size_t i = 0;
  const std::size_t n = stream.spans.size();
  for (auto _ : state) {
    const auto d = kTrusted ? dec.DecodeTrusted(stream.spans[i], i + 1) : dec.Decode(stream.spans[i], i + 1);
    benchmark::DoNotOptimize(m->Apply(d.event()));
    if constexpr (requires { m->EndBatch(0); }) {
      if ((i & 63) == 63) m->EndBatch(i);  // a publish per 64 events, as a busy projector does
    }
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_DecodeOnly(benchmark::State& state) {
  const Records& stream = Bank().stream;
  Decoder dec(Registry());
  std::size_t i = 0;
  for (auto _ : state) {
    const auto d = dec.Decode(stream.spans[i], i + 1);
    benchmark::DoNotOptimize(d.event().stream_id());
    if (++i == stream.spans.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeOnly)->Name("projection_apply/decode_only");

// Registered by hand: BENCHMARK_CAPTURE cannot take a template-id.
[[maybe_unused]] const bool kApplyRegistered = [] {
  benchmark::RegisterBenchmark("projection_apply/balances", BM_Apply<pj::bank::Balances>, BankOpens, BankStream);
  benchmark::RegisterBenchmark("projection_apply/balances_trusted", BM_Apply<pj::bank::Balances, true>, BankOpens,
                               BankStream);
  benchmark::RegisterBenchmark("projection_apply/top_accounts", BM_Apply<pj::bank::TopAccounts>, BankOpens, BankStream);
  benchmark::RegisterBenchmark("projection_apply/statements", BM_Apply<pj::bank::Statements>, BankOpens, BankStream);
  benchmark::RegisterBenchmark("projection_apply/post_details", BM_Apply<pj::blog::PostDetails>, BlogOpens, BlogStream);
  benchmark::RegisterBenchmark("projection_apply/comment_counts", BM_Apply<pj::blog::CommentCounts>, BlogOpens,
                               BlogStream);
  benchmark::RegisterBenchmark("projection_apply/recent_published", BM_Apply<pj::blog::RecentPublished>, BlogOpens,
                               BlogPublished);
  benchmark::RegisterBenchmark("projection_apply/posts_by_author", BM_Apply<pj::blog::PostsByAuthor>, NoRecords,
                               BlogOpens);
  return true;
}();

// The whole runner over a real journal: 1M bank events in batches of 64.
void BM_RunnerBalances(benchmark::State& state) {
  char tmpl[] = "/tmp/rill-projbench-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  std::uint64_t last = 0;
  {
    rill::journal::WriterOptions o;
    o.directory = dir;
    o.segment_size = 256u << 20;
    o.schema_fingerprint = Registry().fingerprint();
    auto w = std::move(rill::journal::JournalWriter::Open(o)).value();
    auto append = [&](const Records& r, std::size_t count) {
      for (std::size_t i = 0; i < count; ++i) {
        const auto& rec = r.spans[i % r.spans.size()];
        auto span = w->Reserve(rec.size(), 1);
        std::memcpy(span->data(), rec.data(), rec.size());
        if (i % 64 == 63 || i + 1 == count) last = *w->CommitBatch(1);
      }
    };
    append(Bank().opens, Bank().opens.spans.size());
    append(Bank().stream, 1'000'000);
  }
  for (auto _ : state) {
    pj::ProjectorThreadOptions o;
    o.journal_directory = dir;
    o.registry = &Registry();
    o.cpu = 1;
    auto t = pj::ProjectorThread::Create(o).value();
    auto* v = t->Add<pj::bank::Balances>();
    // Timed: from Start (open, pin, first read) until the last position is applied; not Stop,
    // whose latency is the idle wait of a thread that has nothing left to do.
    const auto begin = std::chrono::steady_clock::now();
    if (!t->Start().ok() || !v->WaitFor(last, std::chrono::seconds(120)).ok()) std::abort();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
    t->Stop();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * last));
  [[maybe_unused]] const int rc = std::system(("rm -rf " + dir).c_str());
}
BENCHMARK(BM_RunnerBalances)
    ->Name("projection_apply/runner_balances_journal_1M")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseManualTime();

// ---- queries while a writer applies ----------------------------------------------------

// Applies `stream` to m on CPU 1 until stopped.
template <typename M>
class Applier {
 public:
  Applier(M& m, const Records& stream)
      : thread_([this, &m, &stream] {
          Pin(1);
          Decoder dec(Registry());
          std::size_t i = 0, n = 0;
          while (!stop_.load(std::memory_order_relaxed)) {
            const auto d = dec.Decode(stream.spans[i], i + 1);
            m.Apply(d.event());
            if constexpr (requires { m.EndBatch(0); }) {
              if ((i & 63) == 63) m.EndBatch(i);
            }
            if (++i == stream.spans.size()) i = 0;
            ++n;
          }
          applied_ = n;
        }) {}
  std::size_t Stop() {
    stop_.store(true, std::memory_order_relaxed);
    thread_.join();
    return applied_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::size_t applied_ = 0;
  std::thread thread_;
};

template <typename M, typename Q>
void RunQuery(benchmark::State& state, const Records& opens, const Records& stream, bool with_writer, Q query) {
  auto m = Prepared<M>(opens);
  std::unique_ptr<Applier<M>> applier;
  if (with_writer) applier = std::make_unique<Applier<M>>(*m, stream);  // before pinning: it inherits our mask
  ScopedPin pin(0);
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (auto _ : state) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    query(*m, x);
  }
  if (applier) state.counters["writer_events"] = static_cast<double>(applier->Stop());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_QueryBalances(benchmark::State& state) {
  RunQuery<pj::bank::Balances>(
      state, Bank().opens, Bank().stream, state.range(0) != 0,
      [](const pj::bank::Balances& m, std::uint64_t x) { benchmark::DoNotOptimize(m.Get(1 + x % kAccounts)); });
}
BENCHMARK(BM_QueryBalances)->Name("query/balances/idle")->Arg(0)->UseRealTime();
BENCHMARK(BM_QueryBalances)->Name("query/balances/while_applying")->Arg(1)->UseRealTime();

void BM_QueryTop(benchmark::State& state) {
  RunQuery<pj::bank::TopAccounts>(
      state, Bank().opens, Bank().stream, true,
      [](const pj::bank::TopAccounts& m, std::uint64_t) { benchmark::DoNotOptimize(m.Top().count); });
}
BENCHMARK(BM_QueryTop)->Name("query/top_accounts/while_applying")->UseRealTime();

void BM_QueryStatements(benchmark::State& state) {
  RunQuery<pj::bank::Statements>(state, Bank().opens, Bank().stream, true,
                                 [](const pj::bank::Statements& m, std::uint64_t x) {
                                   std::array<pj::bank::Movement, pj::bank::kStatementDepth> buf;
                                   benchmark::DoNotOptimize(m.Recent(1 + x % kAccounts, buf));
                                   benchmark::DoNotOptimize(buf);
                                 });
}
BENCHMARK(BM_QueryStatements)->Name("query/statements/while_applying")->UseRealTime();

void BM_QueryPostDetails(benchmark::State& state) {
  auto detail = std::make_unique<pj::blog::PostDetail>();
  RunQuery<pj::blog::PostDetails>(state, Blog().opens, Blog().stream, true,
                                  [&](const pj::blog::PostDetails& m, std::uint64_t x) {
                                    benchmark::DoNotOptimize(m.Get(1 + x % kPosts, detail.get()));
                                    benchmark::DoNotOptimize(detail->title[0]);
                                  });
}
BENCHMARK(BM_QueryPostDetails)->Name("query/post_details/while_applying")->UseRealTime();

void BM_QueryCommentCounts(benchmark::State& state) {
  RunQuery<pj::blog::CommentCounts>(
      state, Blog().opens, Blog().stream, true,
      [](const pj::blog::CommentCounts& m, std::uint64_t x) { benchmark::DoNotOptimize(m.Count(1 + x % kPosts)); });
}
BENCHMARK(BM_QueryCommentCounts)->Name("query/comment_counts/while_applying")->UseRealTime();

void BM_QueryRecent(benchmark::State& state) {
  RunQuery<pj::blog::RecentPublished>(state, Blog().opens, BlogStreamFor(true), true,
                                      [](const pj::blog::RecentPublished& m, std::uint64_t) {
                                        std::array<pj::blog::RecentPost, 10> page;
                                        benchmark::DoNotOptimize(m.Recent(page));
                                        benchmark::DoNotOptimize(page);
                                      });
}
BENCHMARK(BM_QueryRecent)->Name("query/recent_published/while_applying")->UseRealTime();

void BM_QueryByAuthor(benchmark::State& state) {
  RunQuery<pj::blog::PostsByAuthor>(state, Blog().opens, Blog().opens, true,
                                    [](const pj::blog::PostsByAuthor& m, std::uint64_t x) {
                                      std::array<std::uint64_t, 10> ids;
                                      benchmark::DoNotOptimize(m.Posts(x % 64, ids));
                                      benchmark::DoNotOptimize(ids);
                                    });
}
BENCHMARK(BM_QueryByAuthor)->Name("query/posts_by_author/while_applying")->UseRealTime();

}  // namespace
