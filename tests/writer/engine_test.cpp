// rill::engine::Engine end to end, with real journals in temp directories: ack levels,
// consistency, idempotency (also across a restart), atomicity, backpressure, shutdown, journal
// failure, and restart == uninterrupted.
#include "rill/engine/engine.h"
#include "rill/tests/support/file_size_limit.h"

#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bank_engine_util.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"
#include "rill/journal/journal_reader.h"
#include "rill/tests/support/temp_dir.h"
#include "writer_test_util.h"

namespace {

using namespace rill::examples::bank;
using rill::engine::AckLevel;
using rill::engine::ClaimStatus;
using rill::engine::CommandMeta;
using rill::engine::CommandOutcome;
using rill::engine::Completion;
using rill::engine::CompletionTarget;
using rill::engine::RejectCode;
using BankEngine = rill::engine::Engine<BankDomain>;

rill::engine::EngineOptions Options(const std::string& dir,
                                    rill::journal::Durability durability = rill::journal::Durability::kNone) {
  return rill::testing::SmallBankOptions(dir, durability);
}
using rill::testing::OpenBank;

// Balances and versions of every account, read after Stop().
std::map<std::uint64_t, std::pair<std::uint64_t, std::int64_t>> Accounts(BankEngine& e) {
  std::map<std::uint64_t, std::pair<std::uint64_t, std::int64_t>> out;
  const rill::Status s = e.ForEachAggregate([&](std::uint64_t id, std::uint64_t version, const Account& a) {
    if (version != 0) out[id] = {version, a.balance};
  });
  REQUIRE(s.ok());
  return out;
}

// Holds the writer thread inside a completion callback until released: a way to fill the ring
// deterministically (no timing). The test thread waits for `entered` on a futex-backed atomic.
struct WriterGate {
  std::atomic<bool> entered{false};
  std::atomic<bool> open{false};
  static void Hold(void* self, const CommandOutcome&) noexcept {
    auto* g = static_cast<WriterGate*>(self);
    g->entered.store(true, std::memory_order_release);
    g->entered.notify_all();
    while (!g->open.load(std::memory_order_acquire)) g->open.wait(false, std::memory_order_acquire);
  }
  void WaitEntered() {
    while (!entered.load(std::memory_order_acquire)) entered.wait(false, std::memory_order_acquire);
  }
  void Open() {
    open.store(true, std::memory_order_release);
    open.notify_all();
  }
  CompletionTarget target() { return {&WriterGate::Hold, this}; }
};

}  // namespace

TEST_CASE("execute answers at every ack level and never acknowledges more than is true", "[writer][engine][ack]") {
  const auto durability = GENERATE(rill::journal::Durability::kNone, rill::journal::Durability::kBatch);
  rill::test::TempDir dir("rill-engine");
  auto e = OpenBank(Options(dir.path(), durability));
  REQUIRE(e->execute(OpenAccount{1, 7, 978}, {1}).accepted());

  const CommandOutcome accepted = e->execute(Deposit{1, 100}, {2}, AckLevel::kAccepted);
  REQUIRE(accepted.accepted());
  CHECK(accepted.stream_version() == 2);

  const CommandOutcome journaled = e->execute(Deposit{1, 100}, {3}, AckLevel::kJournaled);
  REQUIRE(journaled.accepted());
  CHECK(e->committed_position() >= journaled.position());
  CHECK(journaled.stream_version() == 3);

  const CommandOutcome durable = e->execute(Deposit{1, 100}, {4}, AckLevel::kDurable);
  REQUIRE(durable.accepted());
  CHECK(e->durable_position() >= durable.position());
  CHECK(durable.position() == journaled.position() + 1);

  // A rejection is answered at once, whatever the level, and records nothing.
  const std::uint64_t before = e->committed_position();
  const CommandOutcome r = e->execute(Withdraw{1, 1'000}, {5}, AckLevel::kDurable);
  CHECK(r.code() == RejectCode::kRuleViolated);
  CHECK(r.rejection().domain_code == static_cast<std::uint32_t>(Reason::kInsufficientFunds));
  CHECK(e->committed_position() == before);
  e->Stop();
  CHECK(Accounts(*e)[1] == std::pair<std::uint64_t, std::int64_t>{4, 300});
}

TEST_CASE("submit with a Completion, a callback, and submit_batch deliver every outcome", "[writer][engine][api]") {
  rill::test::TempDir dir("rill-engine");
  auto e = OpenBank(Options(dir.path(), rill::journal::Durability::kBatch));
  REQUIRE(e->execute(OpenAccount{1, 7, 978}, {1}).accepted());

  Completion done;
  REQUIRE(e->submit(Deposit{1, 5}, {2}, AckLevel::kDurable, done) == ClaimStatus::kOk);
  CHECK(done.Wait().accepted());
  CHECK(e->durable_position() >= done.outcome().position());

  struct Count {
    std::atomic<int> accepted{0};
    static void On(void* self, const CommandOutcome& o) noexcept {
      if (o.accepted()) static_cast<Count*>(self)->accepted.fetch_add(1, std::memory_order_relaxed);
    }
  } count;
  std::vector<BankEngine::Submission> batch;
  for (std::uint64_t i = 0; i < 200; ++i)  // more than the ring holds: claimed in chunks
    batch.push_back({CommandMeta{100 + i}, Deposit{1, 1}, AckLevel::kDurable, {&Count::On, &count}});
  const auto r = e->submit_batch(batch);
  CHECK(r.status == ClaimStatus::kOk);
  CHECK(r.submitted == 200);
  // The next execute is decided after the batch; once it is durable, so is the batch.
  CHECK(e->execute(Deposit{1, 1}, {1000}, AckLevel::kDurable).accepted());
  e->Stop();  // and Stop delivers anything still pending
  CHECK(count.accepted.load() == 200);
  CHECK(Accounts(*e)[1].second == 5 + 200 + 1);
}

TEST_CASE("a stale expected version is rejected as a concurrency conflict with the actual version",
          "[writer][engine][consistency]") {
  rill::test::TempDir dir("rill-engine");
  auto e = OpenBank(Options(dir.path()));
  CHECK(e->execute(OpenAccount{1, 7, 978}, {1, rill::engine::kNoStream}).accepted());
  CHECK(e->execute(OpenAccount{1, 7, 978}, {2, rill::engine::kNoStream}).code() == RejectCode::kConcurrencyConflict);
  CHECK(e->execute(Deposit{1, 10}, {3, 1}).stream_version() == 2);
  const CommandOutcome stale = e->execute(Deposit{1, 10}, {4, 1});
  REQUIRE(stale.code() == RejectCode::kConcurrencyConflict);
  CHECK(stale.rejection().actual_version == 2);
  CHECK(e->execute(Deposit{1, 10}, {5, 2}).accepted());
  e->Stop();
  CHECK(Accounts(*e)[1] == std::pair<std::uint64_t, std::int64_t>{3, 20});
}

TEST_CASE("an idempotent retry is applied once and answered with the original outcome",
          "[writer][engine][idempotency]") {
  rill::test::TempDir dir("rill-engine");
  auto e = OpenBank(Options(dir.path()));
  REQUIRE(e->execute(OpenAccount{1, 7, 978}, {1}).accepted());
  const CommandOutcome first = e->execute(Deposit{1, 50}, {77});
  const CommandOutcome retry = e->execute(Deposit{1, 50}, {77});
  REQUIRE(first.accepted());
  REQUIRE(retry.accepted());
  CHECK_FALSE(first.duplicate());
  CHECK(retry.duplicate());
  CHECK(retry.position() == first.position());
  CHECK(retry.stream_version() == first.stream_version());
  // Same id, other payload: refused, nothing applied.
  const CommandOutcome other = e->execute(Deposit{1, 51}, {77});
  CHECK(other.code() == RejectCode::kDuplicateCommandMismatch);
  e->Stop();
  CHECK(Accounts(*e)[1] == std::pair<std::uint64_t, std::int64_t>{2, 50});
}

TEST_CASE("a retry after a restart gets the original outcome and is not applied twice",
          "[writer][engine][idempotency][recovery]") {
  rill::test::TempDir dir("rill-engine");
  CommandOutcome first;
  {
    auto e = OpenBank(Options(dir.path()));
    REQUIRE(e->execute(OpenAccount{1, 7, 978}, {1}).accepted());
    first = e->execute(Transfer{1, 1, 5}, {50});  // rejected (same account): not remembered
    CHECK(first.code() == RejectCode::kInvalidCommand);
    first = e->execute(Deposit{1, 50}, {77});
    REQUIRE(first.accepted());
  }  // destructor: Stop
  auto e = OpenBank(Options(dir.path()));
  CHECK(e->recovery().replayed_events == 2);
  const CommandOutcome retry = e->execute(Deposit{1, 50}, {77});
  REQUIRE(retry.accepted());
  CHECK(retry.duplicate());
  CHECK(retry.position() == first.position());
  CHECK(retry.stream_version() == first.stream_version());
  // The envelope records the command's fingerprint, so the window rebuilt from the journal
  // still tells a retry from another command reusing the id: also after a restart.
  const CommandOutcome other = e->execute(Deposit{1, 9999}, {77});
  CHECK(other.code() == RejectCode::kDuplicateCommandMismatch);
  const CommandOutcome other_version = e->execute(Deposit{1, 50}, {77, 1});  // same fields, an expected version
  CHECK(other_version.code() == RejectCode::kDuplicateCommandMismatch);
  e->Stop();
  CHECK(Accounts(*e)[1] == std::pair<std::uint64_t, std::int64_t>{2, 50});
}

TEST_CASE("a transfer moves money atomically or not at all", "[writer][engine][atomicity]") {
  rill::test::TempDir dir("rill-engine");
  auto e = OpenBank(Options(dir.path()));
  REQUIRE(e->execute(OpenAccount{1, 7, 978}).accepted());
  REQUIRE(e->execute(OpenAccount{2, 8, 978}).accepted());
  REQUIRE(e->execute(OpenAccount{3, 9, 840}).accepted());
  REQUIRE(e->execute(Deposit{1, 100}).accepted());
  const std::uint64_t before = e->committed_position();
  CHECK(e->execute(Transfer{1, 2, 101}).code() == RejectCode::kRuleViolated);  // overdraft
  CHECK(e->execute(Transfer{1, 4, 10}).code() == RejectCode::kNotFound);       // no target
  CHECK(e->execute(Transfer{1, 3, 10}).code() == RejectCode::kRuleViolated);   // currency
  CHECK(e->committed_position() == before);
  const CommandOutcome t = e->execute(Transfer{1, 2, 60});
  REQUIRE(t.accepted());
  CHECK(t.event_count() == 2);
  CHECK(t.position() == before + 2);
  e->Stop();
  auto accounts = Accounts(*e);
  CHECK(accounts[1].second == 40);
  CHECK(accounts[2].second == 60);
  // Both events are in one journal batch.
  auto r = rill::journal::JournalReader::Open({.directory = dir.path()});
  REQUIRE(r.ok());
  REQUIRE((*r)->SeekToPosition(before + 1).ok());
  rill::journal::Record rec;
  REQUIRE((*r)->Next(&rec) == rill::journal::ReadStatus::kRecord);
  CHECK_FALSE(rec.end_of_batch);
  CHECK(rec.type == rill::engine::kEventRecordType);
  REQUIRE((*r)->Next(&rec) == rill::journal::ReadStatus::kRecord);
  CHECK(rec.end_of_batch);
}

TEST_CASE("try_submit says no at once when the ring is full", "[writer][engine][backpressure]") {
  rill::test::TempDir dir("rill-engine");
  auto o = Options(dir.path());
  o.ring_size = 4;
  auto e = OpenBank(o);
  REQUIRE(e->execute(OpenAccount{1, 7, 978}).accepted());
  WriterGate gate;
  // The writer delivers kAccepted right after deciding, so it stops inside this batch, before
  // releasing its slot.
  REQUIRE(e->submit(Deposit{1, 1}, {}, AckLevel::kAccepted, gate.target()) == ClaimStatus::kOk);
  gate.WaitEntered();
  Completion c[3], refused;
  for (auto& done : c) REQUIRE(e->try_submit(Deposit{1, 1}, {}, AckLevel::kJournaled, done) == ClaimStatus::kOk);
  const std::uint64_t full_before = e->ring_full_count();
  CHECK(e->try_submit(Deposit{1, 1}, {}, AckLevel::kJournaled, refused) == ClaimStatus::kFull);
  CHECK(e->ring_full_count() == full_before + 1);
  CHECK_FALSE(refused.ready());
  gate.Open();
  for (auto& done : c) CHECK(done.Wait().accepted());
  e->Stop();
  CHECK(Accounts(*e)[1].second == 4);
  CHECK_FALSE(refused.ready());  // refused means never submitted: no outcome ever
}

TEST_CASE("stop with commands in flight gives each of them an outcome", "[writer][engine][shutdown]") {
  rill::test::TempDir dir("rill-engine");
  auto o = Options(dir.path());
  o.ring_size = 8;
  auto e = OpenBank(o);
  REQUIRE(e->execute(OpenAccount{1, 7, 978}).accepted());
  WriterGate gate;
  REQUIRE(e->submit(Deposit{1, 1}, {}, AckLevel::kAccepted, gate.target()) == ClaimStatus::kOk);
  gate.WaitEntered();
  std::vector<Completion> in_flight(7);
  for (auto& done : in_flight)
    REQUIRE(e->try_submit(Deposit{1, 1}, {}, AckLevel::kJournaled, done) == ClaimStatus::kOk);
  // A producer blocked on the full ring: Stop wakes it with kShutDown (nothing submitted).
  Completion blocked;
  std::atomic<int> blocked_status{-1};
  std::thread producer([&] {
    blocked_status.store(static_cast<int>(e->submit(Deposit{1, 1}, {}, AckLevel::kJournaled, blocked)));
  });
  std::thread stopper([&] { e->Stop(); });
  gate.Open();
  stopper.join();
  producer.join();
  int outcomes = 0;
  for (auto& done : in_flight) {
    REQUIRE(done.ready());
    CHECK((done.outcome().accepted() || done.outcome().code() == RejectCode::kShutdown));
    ++outcomes;
  }
  CHECK(outcomes == 7);
  if (blocked_status.load() == static_cast<int>(ClaimStatus::kOk)) {
    REQUIRE(blocked.ready());  // it got in before the shutdown: it has an outcome too
  } else {
    CHECK(blocked_status.load() == static_cast<int>(ClaimStatus::kShutDown));
  }
  CHECK(e->execute(Deposit{1, 1}).code() == RejectCode::kShutdown);
}

using rill::test::FileSizeLimit;

TEST_CASE("when the journal fails, commands are rejected, the engine stays up and nothing acknowledged is lost",
          "[writer][engine][journal-failure]") {
  rill::test::TempDir dir("rill-engine");
  auto o = Options(dir.path());
  o.journal.segment_size = 64 * 1024;
  std::vector<std::uint64_t> journaled_ids;
  std::uint64_t committed = 0;
  {
    auto e = OpenBank(o);
    REQUIRE(e->execute(OpenAccount{1, 7, 978}, {1}).accepted());
    journaled_ids.push_back(1);
    CommandOutcome last;
    {
      FileSizeLimit limit(32 * 1024);  // no new segment can be preallocated any more
      for (std::uint64_t id = 2; id < 20'000; ++id) {
        last = e->execute(Deposit{1, 1}, {id});
        if (!last.accepted()) break;
        journaled_ids.push_back(id);
      }
    }
    REQUIRE(last.code() == RejectCode::kJournalUnavailable);
    CHECK_FALSE(e->status().ok());
    CHECK(std::string(last.rejection().message()).find(std::string(e->status().message()).substr(0, 20)) !=
          std::string::npos);
    // Still up: answers (with the same reason), and positions can be read.
    CHECK(e->execute(Deposit{1, 1}, {999'999}).code() == RejectCode::kJournalUnavailable);
    CHECK(e->execute(OpenAccount{2, 7, 978}).code() == RejectCode::kJournalUnavailable);
    committed = e->committed_position();
    CHECK(committed == journaled_ids.size());
    e->Stop();
    CHECK_FALSE(e->ForEachAggregate([](auto, auto, const auto&) {}).ok());  // memory may hold an aborted batch
  }
  // Reopened (the disk has room again): every journaled command is there, once.
  auto e = OpenBank(o);
  CHECK(e->recovery().replayed_events == committed);
  const CommandOutcome retry = e->execute(Deposit{1, 1}, {journaled_ids.back()});
  CHECK(retry.duplicate());
  CHECK(e->execute(Deposit{1, 1}, {999'999}).accepted());
  e->Stop();
  CHECK(Accounts(*e)[1].second == static_cast<std::int64_t>(journaled_ids.size() - 1 + 1));
}

TEST_CASE("a restart in the middle gives the same state as an uninterrupted run", "[writer][engine][recovery]") {
  const std::uint64_t seed = rill::testing::TestSeed("engine restart test");
  std::mt19937_64 rng(seed);
  std::vector<std::pair<CommandMeta, Command>> cmds;
  for (std::uint64_t a = 0; a < 20; ++a) cmds.push_back({{a + 1}, OpenAccount{a, a, 978}});
  for (std::uint64_t i = 0; i < 2'000; ++i) {
    if (rng() % 8 == 0) {  // a client's retry: an earlier command, same id, same payload
      cmds.push_back(cmds[rng() % cmds.size()]);
      continue;
    }
    const std::uint64_t a = rng() % 20, b = rng() % 20;
    const auto amount = static_cast<std::int64_t>(rng() % 300);
    const std::uint64_t id = 100 + i;
    switch (rng() % 4) {
      case 0:
        cmds.push_back({{id}, Deposit{a, amount}});
        break;
      case 1:
        cmds.push_back({{id}, Withdraw{a, amount}});
        break;
      default:
        cmds.push_back({{id}, Transfer{a, b, amount}});
        break;
    }
  }
  auto run = [&](const std::string& dir, std::size_t restart_at) {
    std::vector<std::tuple<int, std::uint64_t, std::uint64_t>> outcomes;
    auto e = OpenBank(Options(dir));
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      if (i == restart_at) {
        e.reset();
        e = OpenBank(Options(dir));
      }
      const CommandOutcome o = e->execute(cmds[i].second, cmds[i].first);
      outcomes.emplace_back(static_cast<int>(o.code()), o.position(), o.stream_version());
    }
    e->Stop();
    return std::make_pair(outcomes, Accounts(*e));
  };
  rill::test::TempDir a("rill-engine"), b("rill-engine");
  const auto straight = run(a.path(), cmds.size());
  const auto restarted = run(b.path(), cmds.size() / 2);
  CHECK(straight.second == restarted.second);
  CHECK(straight.first == restarted.first);
}

TEST_CASE("blog: text fields travel by BytesRef through the engine and survive a restart", "[writer][engine][blog]") {
  using namespace rill::examples::blog;
  rill::test::TempDir dir("rill-engine");
  rill::engine::EngineOptions o = Options(dir.path());
  {
    auto e = rill::engine::Engine<BlogDomain>::Open(o);
    REQUIRE(e.ok());
    const std::string title = "Hello, rill";
    const std::string body(10'000, 'x');
    CHECK((*e)->execute(CreatePost{1, 9, title, body}, {1}).accepted());
    const std::string huge(kMaxFieldBytes + 1, 'y');
    CHECK((*e)->execute(CreatePost{2, 9, huge, body}, {2}).code() == RejectCode::kInvalidCommand);
    CHECK((*e)->execute(PublishPost{1, 9}, {3}).accepted());
    CHECK((*e)->execute(PublishPost{1, 9}, {4}).code() == RejectCode::kRuleViolated);
  }
  auto e = rill::engine::Engine<BlogDomain>::Open(o);
  REQUIRE(e.ok());
  CHECK((*e)->recovery().replayed_events == 2);
  CHECK((*e)->execute(PublishPost{1, 9}, {3}).duplicate());
}

TEST_CASE("every engine accessor is safe after Stop and answers with the last values", "[writer][engine][api]") {
  const auto durability = GENERATE(rill::journal::Durability::kNone, rill::journal::Durability::kBatch);
  rill::test::TempDir dir("rill-engine");
  auto e = OpenBank(Options(dir.path(), durability));
  REQUIRE(e->execute(OpenAccount{1, 7, 978}, {1}).accepted());
  const CommandOutcome last = e->execute(Deposit{1, 100}, {2}, AckLevel::kDurable);
  REQUIRE(last.accepted());
  e->Stop();
  e->Stop();  // idempotent
  // These dereferenced the closed journal's control file before (a segfault).
  CHECK(e->committed_position() == last.position());
  CHECK(e->durable_position() == last.position());
  CHECK(e->status().ok());
  CHECK(e->recovery().committed_position == 0);
  CHECK(e->ring_full_count() == 0);
  CHECK(e->TakeSnapshot(0).status().IsUnavailable());
  CHECK(e->execute(Deposit{1, 1}, {3}).code() == RejectCode::kShutdown);
  CHECK(e->state_digest().ok());
}
