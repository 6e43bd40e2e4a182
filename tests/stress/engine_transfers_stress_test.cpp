// Stress: 4 producers submit random transfers among 1,000 bank accounts through one Engine
// (MPSC ring -> single writer -> journal), mixing execute, submit with Completions in flight,
// random ack levels and exact retries of earlier commands. A bounded number of commands, so
// nothing depends on timing.
//
// Forbidden outcomes:
//   - money is created or destroyed (the sum of balances differs from what was deposited),
//     in the engine's state or in the state re-derived by replaying the journal;
//   - a stream's versions in the journal have a gap or a repeat;
//   - a retried command is applied twice (its retry is not a duplicate with the original position);
//   - a submitted command never gets an outcome, or gets one at a level that is not true
//     (journaled/durable outcome beyond the journal's committed/durable position);
//   - the engine's state differs from the journal's;
//   - anybody hangs (the test never finishes).
// The seed is printed; RILL_STRESS_SEED replays the same command streams.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/journal/journal_reader.h"
#include "rill/tests/support/temp_dir.h"

namespace {

using namespace rill::examples::bank;
using rill::engine::AckLevel;
using rill::engine::ClaimStatus;
using rill::engine::CommandMeta;
using rill::engine::CommandOutcome;
using rill::engine::Completion;

constexpr std::uint64_t kAccounts = 1'000;
constexpr std::int64_t kInitial = 10'000;
constexpr int kProducers = 4;
#ifdef RILL_TSAN
constexpr int kPerProducer = 10'000;  // TSan is ~10x slower: ~3 s there, still hundreds of ring laps
#else
constexpr int kPerProducer = 25'000;
#endif
constexpr int kInFlight = 8;  // Completions each producer keeps submitted

std::uint64_t Seed() {
  if (const char* s = std::getenv("RILL_STRESS_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// What an entry holds until its outcome arrives; no engine outcome carries this domain code.
constexpr std::uint32_t kNoOutcomeCode = 0xdead;
const CommandOutcome kNoOutcome = CommandOutcome::Rejected(
    rill::engine::Rejection(rill::engine::RejectCode::kInternalError, kNoOutcomeCode, "no outcome yet"));

struct Sent {
  CommandMeta meta;
  Transfer cmd;
  CommandOutcome outcome;
};

}  // namespace

TEST_CASE("4 producers x random transfers among 1,000 accounts: money conserved, versions gap-free",
          "[engine][writer][stress]") {
  const std::uint64_t seed = Seed();
  std::printf("engine_transfers_stress seed=%llu (RILL_STRESS_SEED=%llu to replay)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::fflush(stdout);

  rill::test::TempDir dir("rill-engine-stress");
  rill::engine::EngineOptions o;
  o.journal.directory = dir.path();
  o.journal.segment_size = 4u << 20;  // several segment rolls
  o.journal.durability = rill::journal::Durability::kBatch;
  o.ring_size = 256;
  o.processor.expected_aggregates = kAccounts;
  o.processor.idempotency_window = 1u << 18;
  auto opened = rill::engine::Engine<BankDomain>::Open(o);
  REQUIRE(opened.ok());
  auto& engine = **opened;

  for (std::uint64_t a = 0; a < kAccounts; ++a) {
    REQUIRE(engine.execute(OpenAccount{a, a, 978}, {1'000'000 + 2 * a}).accepted());
    REQUIRE(engine.execute(Deposit{a, kInitial}, {1'000'000 + 2 * a + 1}).accepted());
  }

  std::vector<std::vector<Sent>> sent(kProducers);
  std::atomic<int> bad_levels{0}, bad_retries{0}, missing{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(p) * 7919);
      std::vector<Sent>& mine = sent[static_cast<std::size_t>(p)];
      mine.reserve(kPerProducer);
      std::vector<Completion> done(kInFlight);
      std::vector<int> slot_of(kInFlight, -1);  // which `mine` entry each Completion holds
      std::vector<AckLevel> level_of(kInFlight, AckLevel::kJournaled);
      auto collect = [&](int k) {
        if (slot_of[k] < 0) return;
        const CommandOutcome& out = done[k].Wait();
        mine[static_cast<std::size_t>(slot_of[k])].outcome = out;
        if (out.accepted() && level_of[k] == AckLevel::kJournaled && out.position() > engine.committed_position())
          bad_levels.fetch_add(1);
        if (out.accepted() && level_of[k] == AckLevel::kDurable && out.position() > engine.durable_position())
          bad_levels.fetch_add(1);
        slot_of[k] = -1;
      };
      for (int i = 0; i < kPerProducer; ++i) {
        const int k = i % kInFlight;
        collect(k);
        const AckLevel level = static_cast<AckLevel>(rng() % 3);
        if (rng() % 16 == 0 && !mine.empty()) {
          // An exact retry of one of our earlier, finished commands: applied once.
          const int index = static_cast<int>(rng() % mine.size());
          bool finished = true;
          for (int j = 0; j < kInFlight; ++j) finished = finished && slot_of[j] != index;
          const Sent& orig = mine[static_cast<std::size_t>(index)];
          if (finished && orig.outcome.accepted()) {
            const CommandOutcome r = engine.execute(orig.cmd, orig.meta, level);
            if (!r.duplicate() || r.position() != orig.outcome.position()) bad_retries.fetch_add(1);
          }
          continue;
        }
        Sent s;
        s.outcome = kNoOutcome;
        s.meta.command_id = (static_cast<std::uint64_t>(p + 1) << 40) | static_cast<std::uint64_t>(i + 1);
        s.cmd.from = rng() % kAccounts;
        s.cmd.to = rng() % kAccounts;
        s.cmd.amount = static_cast<std::int64_t>(1 + rng() % 300);
        mine.push_back(s);
        const int index = static_cast<int>(mine.size() - 1);
        if (rng() % 4 == 0) {
          mine.back().outcome = engine.execute(s.cmd, s.meta, level);
        } else {
          if (engine.submit(s.cmd, s.meta, level, done[k]) != ClaimStatus::kOk) {
            missing.fetch_add(1);  // Catch's REQUIRE is not thread-safe: count instead
            continue;
          }
          slot_of[k] = index;
          level_of[k] = level;
        }
      }
      for (int k = 0; k < kInFlight; ++k) collect(k);
      for (const Sent& s : mine)
        if (s.outcome.rejection().domain_code == kNoOutcomeCode) missing.fetch_add(1);
    });
  }
  for (auto& t : producers) t.join();
  engine.Stop();
  REQUIRE(engine.status().ok());
  CHECK(bad_levels.load() == 0);
  CHECK(bad_retries.load() == 0);
  CHECK(missing.load() == 0);

  // The engine's state: money conserved.
  std::map<std::uint64_t, std::pair<std::uint64_t, std::int64_t>> state;
  REQUIRE(engine
              .ForEachAggregate([&](std::uint64_t id, std::uint64_t version, const Account& a) {
                state[id] = {version, a.balance};
              })
              .ok());
  std::int64_t total = 0;
  for (const auto& [id, vb] : state) total += vb.second;
  CHECK(state.size() == kAccounts);
  CHECK(total == static_cast<std::int64_t>(kAccounts) * kInitial);
  std::uint64_t accepted = 0;
  for (const auto& mine : sent)
    for (const Sent& s : mine) accepted += s.outcome.accepted() ? 1 : 0;

  // The journal, replayed independently (verified decode): versions gap-free, same state.
  rill::codecs::Decoder decoder(engine.registry());
  auto reader = rill::journal::JournalReader::Open({.directory = dir.path()});
  REQUIRE(reader.ok());
  std::map<std::uint64_t, std::pair<std::uint64_t, std::int64_t>> replayed;
  std::uint64_t gaps = 0, transfers = 0, expected_position = 0;
  rill::journal::Record rec;
  rill::journal::ReadStatus st;
  while ((st = (*reader)->Next(&rec)) == rill::journal::ReadStatus::kRecord) {
    if (expected_position != 0 && rec.position != expected_position) ++gaps;
    expected_position = rec.position + 1;
    if (rec.type != rill::engine::kEventRecordType) continue;  // the writer's state-digest records
    const auto r =
        decoder.Decode({reinterpret_cast<const std::uint8_t*>(rec.payload.data()), rec.payload.size()}, rec.position);
    REQUIRE(r.ok());
    auto& [version, balance] = replayed[r.event().stream_id()];
    if (r.event().stream_version() != version + 1) ++gaps;
    version = r.event().stream_version();
    const std::optional<Event> e = BankDomain::FromDecoded(r.event());
    REQUIRE(e.has_value());
    Account a;
    a.balance = balance;
    BankDomain::Evolve(a, *e);
    balance = a.balance;
    if (std::holds_alternative<TransferSent>(*e)) ++transfers;
  }
  REQUIRE(st == rill::journal::ReadStatus::kEnd);
  CHECK(gaps == 0);
  CHECK(replayed == state);
  CHECK(transfers == accepted);
  std::printf("engine_transfers_stress: %llu transfers accepted of %d submitted\n",
              static_cast<unsigned long long>(accepted), kProducers * kPerProducer);
}
