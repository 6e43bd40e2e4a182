// writer_apply/bank_decide_evolve_encode: commands per second through the writer's per-command
// work (engine/command_processor.h) on one thread, no ring: idempotency window check and
// insert, aggregate lookup, expected-version check, decide, encode every event and copy it into
// a preallocated buffer standing in for the journal's reserved space (policy none), evolve.
// A random mix over 100k accounts: 40% deposits, 30% withdrawals, 30% transfers (two events).
// Counters: items_per_second = commands/s, events/s, bytes_per_aggregate (aggregate store).
//
// Same-run baselines:
// - writer_apply/bank_no_idempotency: the same with command id 0 (no window), to show the
//   window's price;
// - writer_baseline/bank_unordered_map: the same commands with the same rules applied to a
//   std::unordered_map<uint64_t, Account>, no versions, no idempotency, no encoding: what the
//   engine's structure costs beyond the business logic itself.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "rill/engine/command_processor.h"
#include "rill/examples/bank/bank_domain.h"

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

template <bool kIdempotency>
void BM_WriterApplyBank(benchmark::State& state) {
  const std::vector<Command>& cmds = Commands();
  auto p = std::make_unique<CommandProcessor<BankDomain>>(
      rill::engine::ProcessorOptions{.expected_aggregates = kAccounts, .idempotency_window = 1u << 20});
  BufferSink sink;
  std::uint64_t command_id = 1;
  for (std::uint64_t a = 0; a < kAccounts; ++a) {
    (void)p->Process(CommandMeta{command_id++}, OpenAccount{a, a, 978}, 0, sink);
    (void)p->Process(CommandMeta{command_id++}, Deposit{a, kInitialBalance}, 0, sink);
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

BENCHMARK(BM_WriterApplyBank<true>)->Name("writer_apply/bank_decide_evolve_encode");
BENCHMARK(BM_WriterApplyBank<false>)->Name("writer_apply/bank_no_idempotency");
BENCHMARK(BM_BaselineUnorderedMap)->Name("writer_baseline/bank_unordered_map");

}  // namespace
