// writer_apply/bank: commands per second through the writer's per-command work
// (engine/command_processor.h) on one thread, no ring: idempotency window check and insert,
// aggregate lookup, expected-version check, decide, encode every event and copy it into the
// REAL journal (JournalWriter in a temp dir, Durability::kNone), committing every 64 commands
// like a ring batch, evolve. A random mix over 100k accounts: 40% deposits, 30% withdrawals,
// 30% transfers (two events). Old segments are deleted as the run goes (retention), so the
// disk holds a few segments whatever the run length.
// Counters: items_per_second = commands/s, events/s, bytes_per_aggregate (aggregate store).
//
// Same-run baselines:
// - writer_apply/bank_no_journal_prefetch: the journal without the sink's write prefetch;
// - writer_apply/bank_buffer_sink: the same, copying into a 64 MiB buffer instead of the
//   journal: the journal's own price (Reserve, frames, CRCs at commit, segment rolls);
// - writer_apply/bank_no_idempotency: buffer sink and command id 0 (no window): the window's price;
// - writer_baseline/bank_unordered_map: the same commands with the same rules applied to a
//   std::unordered_map<uint64_t, Account>, no versions, no idempotency, no encoding: what the
//   engine's structure costs beyond the business logic itself.
//
// engine_execute/bank: the round trip through rill::engine::Engine: one producer thread
// execute()s deposits (ack journaled) through the ring to the writer thread and waits for each
// outcome: latency-bound (one command per batch). engine_submit/bank: the same producer keeps
// 64 commands in flight with Completions, so the writer sees batches: throughput.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "rill/engine/command_processor.h"
#include "rill/engine/engine.h"
#include "rill/engine/event_record.h"
#include "rill/engine/prefetch.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/journal/journal_writer.h"
#include "rill/tests/support/temp_dir.h"

namespace {

using namespace rill::examples::bank;
using rill::engine::CommandMeta;
using rill::engine::CommandProcessor;

constexpr std::uint64_t kAccounts = 100'000;
constexpr std::size_t kCommands = 1 << 20;  // cycled; each pass gets fresh command ids
constexpr std::int64_t kInitialBalance = 1'000'000'000;
constexpr std::size_t kLookahead = 12;     // the writer prefetches index slots this far ahead in its batch
constexpr std::size_t kNearLookahead = 4;  // and aggregate entries this far

const std::vector<Command>& Commands() {
  static const std::vector<Command> cmds = [] {
    std::vector<Command> v;
    v.reserve(kCommands);
    std::mt19937_64 rng(42);
    for (std::size_t i = 0; i < kCommands; ++i) {
      const std::uint64_t a = rng() % kAccounts;
      const auto amount = static_cast<std::int64_t>(1 + rng() % 1000);
      const unsigned kind = static_cast<unsigned>(rng() % 10);
      if (kind < 4) {
        v.push_back(Deposit{a, amount});
      } else if (kind < 7) {
        v.push_back(Withdraw{a, amount});
      } else {
        std::uint64_t b = rng() % kAccounts;
        if (b == a) b = (a + 1) % kAccounts;
        v.push_back(Transfer{a, b, amount});
      }
    }
    return v;
  }();
  return cmds;
}

// The journal's reserved space, reused in a circle: one memcpy per record, as the writer does.
class BufferSink {
 public:
  BufferSink() : buf_(std::make_unique<std::uint64_t[]>(kWords)) { std::memset(buf_.get(), 0, kWords * 8); }
  std::optional<std::uint64_t> operator()(std::span<const std::uint8_t> rec) {
    const std::size_t words = (rec.size() + 7) / 8;
    if (at_ + words > kWords) at_ = 0;
    std::memcpy(buf_.get() + at_, rec.data(), rec.size());
    at_ += words;
    return ++position_;
  }
  std::uint64_t position() const { return position_; }

 private:
  static constexpr std::size_t kWords = (64u << 20) / 8;  // 64 MiB
  std::unique_ptr<std::uint64_t[]> buf_;
  std::size_t at_ = 0;
  std::uint64_t position_ = 0;
};

// The real journal, as the engine's writer uses it: Reserve + memcpy per record, CommitBatch
// every kBatch commands (Durability::kNone), retention every few segments.
template <bool kPrefetchJournal>
class JournalSink {
 public:
  static constexpr std::size_t kBatch = 64;
  static constexpr std::size_t kPrefetchAhead = 1024;
  explicit JournalSink(const std::string& dir) {
    rill::journal::WriterOptions o;
    o.directory = dir;
    o.durability = rill::journal::Durability::kNone;
    auto w = rill::journal::JournalWriter::Open(o);
    if (!w.ok()) {
      std::fprintf(stderr, "writer_bench: %s\n", w.status().ToString().c_str());
      std::abort();
    }
    journal_ = std::move(w).value();
    position_ = journal_->committed_position();
  }
  std::optional<std::uint64_t> operator()(std::span<const std::uint8_t> rec) {
    auto dst = journal_->Reserve(rec.size(), rill::engine::kEventRecordType);
    if (!dst.ok()) return std::nullopt;
    std::memcpy(dst->data(), rec.data(), rec.size());
    // As Engine's sink: start the read-for-ownership of journal lines ~1 KiB ahead, so fresh
    // page-cache lines are not fetched from DRAM one store miss at a time.
    if constexpr (kPrefetchJournal) rill::engine::PrefetchForWrite(dst->data() + kPrefetchAhead);
    return ++position_;
  }
  // After each command: commit at the end of a "batch"; drop old segments now and then.
  void EndCommand(std::int64_t now) {
    if (++in_batch_ < kBatch) return;
    in_batch_ = 0;
    if (!journal_->CommitBatch(now).ok()) std::abort();
    if (++batches_ % 16'384 == 0) (void)journal_->DeleteSegmentsBefore(journal_->committed_position());
  }
  std::uint64_t position() const { return position_; }

 private:
  std::unique_ptr<rill::journal::JournalWriter> journal_;
  std::uint64_t position_ = 0;
  std::size_t in_batch_ = 0;
  std::uint64_t batches_ = 0;
};

template <typename Sink>
void EndCommand(Sink& sink, std::int64_t now) {
  if constexpr (!std::is_same_v<Sink, BufferSink>) sink.EndCommand(now);
}

// kJournal: 0 = buffer sink, 1 = journal, 2 = journal without the write prefetch.
template <bool kIdempotency, int kJournal>
void BM_WriterApplyBank(benchmark::State& state) {
  const std::vector<Command>& cmds = Commands();
  auto p = std::make_unique<CommandProcessor<BankDomain>>(
      rill::engine::ProcessorOptions{.expected_aggregates = kAccounts, .idempotency_window = 1u << 20});
  rill::test::TempDir dir("rill-writer-bench");
  using Sink = std::conditional_t<kJournal == 0, BufferSink, JournalSink<kJournal == 1>>;
  auto sink_ptr = [&] {
    if constexpr (kJournal != 0) {
      return std::make_unique<Sink>(dir.path());
    } else {
      return std::make_unique<BufferSink>();
    }
  }();
  Sink& sink = *sink_ptr;
  std::uint64_t command_id = 1;
  for (std::uint64_t a = 0; a < kAccounts; ++a) {
    (void)p->Process(CommandMeta{command_id++}, OpenAccount{a, a, 978}, 0, sink);
    (void)p->Process(CommandMeta{command_id++}, Deposit{a, kInitialBalance}, 0, sink);
    EndCommand(sink, 0);
  }
  const std::uint64_t events_before = sink.position();
  std::size_t i = 0;
  std::int64_t now = 1'700'000'000'000'000'000;
  std::uint64_t rejected = 0;
  for (auto _ : state) {
    // What the writer loop does within a batch: two-stage prefetch (command_processor.h).
    p->Prefetch(CommandMeta{kIdempotency ? command_id + kLookahead : 0}, cmds[(i + kLookahead) & (kCommands - 1)],
                kLookahead);
    p->PrefetchEntries(cmds[(i + kNearLookahead) & (kCommands - 1)]);
    const rill::engine::CommandOutcome o = p->Process(CommandMeta{kIdempotency ? command_id : 0}, cmds[i], ++now, sink);
    rejected += o.accepted() ? 0 : 1;
    EndCommand(sink, now);
    ++command_id;
    i = (i + 1) & (kCommands - 1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["events"] =
      benchmark::Counter(static_cast<double>(sink.position() - events_before), benchmark::Counter::kIsRate);
  state.counters["bytes_per_aggregate"] = p->store().bytes_per_aggregate();
  state.counters["rejected_pct"] =
      100.0 * static_cast<double>(rejected) / static_cast<double>(state.iterations() ? state.iterations() : 1);
}

// The business logic alone, the way one would write it without rill.
void BM_BaselineUnorderedMap(benchmark::State& state) {
  const std::vector<Command>& cmds = Commands();
  std::unordered_map<std::uint64_t, Account> accounts;
  accounts.reserve(kAccounts);
  for (std::uint64_t a = 0; a < kAccounts; ++a) accounts[a] = Account{kInitialBalance, a, 978, false};
  std::size_t i = 0;
  std::uint64_t applied = 0;
  for (auto _ : state) {
    const Command& cmd = cmds[i];
    if (const auto* d = std::get_if<Deposit>(&cmd)) {
      auto it = accounts.find(d->account);
      if (it != accounts.end() && !it->second.closed && d->amount > 0) {
        it->second.balance += d->amount;
        ++applied;
      }
    } else if (const auto* w = std::get_if<Withdraw>(&cmd)) {
      auto it = accounts.find(w->account);
      if (it != accounts.end() && !it->second.closed && w->amount > 0 && it->second.balance >= w->amount) {
        it->second.balance -= w->amount;
        ++applied;
      }
    } else if (const auto* t = std::get_if<Transfer>(&cmd)) {
      auto from = accounts.find(t->from);
      auto to = accounts.find(t->to);
      if (from != accounts.end() && to != accounts.end() && t->from != t->to && !from->second.closed &&
          !to->second.closed && from->second.currency == to->second.currency && from->second.balance >= t->amount) {
        from->second.balance -= t->amount;
        to->second.balance += t->amount;
        applied += 2;
      }
    }
    i = (i + 1) & (kCommands - 1);
  }
  benchmark::DoNotOptimize(applied);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// One producer thread -> ring -> writer thread -> journal (kNone); ack journaled. kCounters:
// the counters file (EngineOptions::counters), against the same engine without it in the same
// run (its cost is per batch; with one command in flight every batch is one command).
template <int kInFlight, bool kCounters = true>
void BM_EngineBank(benchmark::State& state) {
  rill::test::TempDir dir("rill-engine-bench");
  rill::engine::EngineOptions o;
  o.journal.directory = dir.path();
  o.ring_size = 4096;
  o.processor.expected_aggregates = kAccounts;
  o.processor.idempotency_window = 1u << 20;
  o.log_to_stderr = true;
  o.counters = kCounters;
  auto opened = rill::engine::Engine<BankDomain>::Open(o);
  if (!opened.ok()) {
    state.SkipWithError(opened.status().ToString().c_str());
    return;
  }
  auto& engine = **opened;
  std::uint64_t command_id = 1;
  for (std::uint64_t a = 0; a < 1'000; ++a) (void)engine.execute(OpenAccount{a, a, 978}, {command_id++});
  std::uint64_t rejected = 0;
  std::array<rill::engine::Completion, kInFlight> done;
  std::size_t i = 0;
  for (auto _ : state) {
    const Deposit d{i % 1'000, 1};
    if constexpr (kInFlight == 1) {
      rejected += engine.execute(d, {command_id++}).accepted() ? 0 : 1;
    } else {
      rill::engine::Completion& c = done[i % kInFlight];
      if (i >= kInFlight) rejected += c.Wait().accepted() ? 0 : 1;
      (void)engine.submit(d, {command_id++}, rill::engine::AckLevel::kJournaled, c);
    }
    ++i;
  }
  if constexpr (kInFlight > 1) {
    for (std::size_t k = 0; k < std::min<std::size_t>(i, kInFlight); ++k) (void)done[k].Wait();
  }
  engine.Stop();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["rejected"] = static_cast<double>(rejected);
}

BENCHMARK(BM_WriterApplyBank<true, 1>)->Name("writer_apply/bank");
BENCHMARK(BM_WriterApplyBank<true, 2>)->Name("writer_apply/bank_no_journal_prefetch");
BENCHMARK(BM_WriterApplyBank<true, 0>)->Name("writer_apply/bank_buffer_sink");
BENCHMARK(BM_WriterApplyBank<false, 0>)->Name("writer_apply/bank_no_idempotency");
BENCHMARK(BM_EngineBank<1>)->Name("engine_execute/bank")->UseRealTime();
BENCHMARK(BM_EngineBank<64>)->Name("engine_submit/bank")->UseRealTime();
BENCHMARK(BM_EngineBank<1, false>)->Name("engine_execute/bank_counters_off")->UseRealTime();
BENCHMARK(BM_EngineBank<64, false>)->Name("engine_submit/bank_counters_off")->UseRealTime();
BENCHMARK(BM_BaselineUnorderedMap)->Name("writer_baseline/bank_unordered_map");

}  // namespace
