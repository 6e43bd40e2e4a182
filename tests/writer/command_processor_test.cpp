// The engine's generic per-command work: expected-version checks, idempotency by command id,
// a journal that refuses appends, the stream versions it assigns, and no allocation per command.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include "rill/engine/command_processor.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/tests/support/allocation_counter.h"
#include "writer_test_util.h"

namespace {

using namespace rill::examples::bank;
using rill::engine::CommandMeta;
using rill::engine::CommandOutcome;
using rill::engine::CommandProcessor;
using rill::engine::kAnyVersion;
using rill::engine::kNoStream;
using rill::engine::RejectCode;

struct Fixture {
  CommandProcessor<BankDomain> p{{.idempotency_window = 64}};
  rill::testing::VectorSink sink;
  CommandOutcome Run(std::uint64_t id, const Command& cmd, std::uint64_t expected = kAnyVersion) {
    return p.Process(CommandMeta{id, expected}, cmd, 1'000, sink);
  }
  std::int64_t Balance(std::uint64_t account) { return p.store().state(p.store().Find(account)).balance; }
};

// Writes to the stream in the command, to stream 0 that decide never read, and again to the first.
struct Echo {
  using Command = std::uint64_t;  // the stream to write twice
  using Event = std::int64_t;
  using State = std::int64_t;
  static constexpr std::size_t kMaxStreams = 1;
  static constexpr std::size_t kMaxEvents = 3;
  static rill::engine::StreamList<1> Streams(const Command&) { return {0}; }
  static rill::engine::Decision<Event, 3> Decide(const Command& c, std::span<const rill::engine::AggregateView<State>>,
                                                 const rill::engine::DecideContext&) {
    rill::engine::Decision<Event, 3> d;
    d.Emit(c, 1);
    d.Emit(0, 2);
    d.Emit(c, 3);
    return d;
  }
  static void Evolve(State& s, const Event& e) { s += e; }
  static std::uint64_t Fingerprint(const Command& c) { return rill::engine::FingerprintOf(c); }
  static std::span<const std::uint8_t> Encode(rill::codecs::Encoder& enc, const rill::codecs::EnvelopeFields& env,
                                              const Event& e) {
    return enc.Encode<rill::bank::Deposited>(
        env, [&](flatbuffers::FlatBufferBuilder& b) { return rill::bank::CreateDeposited(b, e); });
  }
  static std::optional<Event> FromDecoded(const rill::codecs::DecodedEvent&) { return std::nullopt; }
};

}  // namespace

TEST_CASE("expected version that matches is accepted", "[writer][consistency]") {
  Fixture f;
  REQUIRE(f.Run(1, OpenAccount{1, 1, 978}, kNoStream).accepted());
  REQUIRE(f.Run(2, Deposit{1, 10}, 1).accepted());
  const CommandOutcome o = f.Run(3, Deposit{1, 10}, 2);
  REQUIRE(o.accepted());
  CHECK(o.stream_version() == 3);
}

TEST_CASE("expected version mismatch is a concurrency conflict with the actual version", "[writer][consistency]") {
  Fixture f;
  REQUIRE(f.Run(1, OpenAccount{1, 1, 978}).accepted());
  REQUIRE(f.Run(2, Deposit{1, 10}).accepted());
  const auto records = f.sink.records.size();
  const CommandOutcome o = f.Run(3, Deposit{1, 10}, 1);
  REQUIRE_FALSE(o.accepted());
  CHECK(o.code() == RejectCode::kConcurrencyConflict);
  CHECK(o.rejection().actual_version == 2);
  CHECK(o.rejection().message() == "stream 1 is at version 2, the command expected 1");
  CHECK(f.sink.records.size() == records);
  CHECK(f.Balance(1) == 10);

  SECTION("kNoStream on an existing stream conflicts") {
    const CommandOutcome again = f.Run(4, OpenAccount{1, 1, 978}, kNoStream);
    CHECK(again.code() == RejectCode::kConcurrencyConflict);
    CHECK(again.rejection().actual_version == 2);
  }
  SECTION("an expected version on a stream that does not exist reports version 0") {
    const CommandOutcome none = f.Run(5, Deposit{99, 10}, 3);
    CHECK(none.code() == RejectCode::kConcurrencyConflict);
    CHECK(none.rejection().actual_version == kNoStream);
  }
  SECTION("for a transfer the check is on the primary (source) stream") {
    REQUIRE(f.Run(6, OpenAccount{2, 1, 978}).accepted());
    CHECK(f.Run(7, Transfer{1, 2, 5}, 1).code() == RejectCode::kConcurrencyConflict);
    CHECK(f.Run(8, Transfer{1, 2, 5}, 2).accepted());
  }
}

TEST_CASE("an idempotent retry returns the original outcome and applies once", "[writer][idempotency]") {
  Fixture f;
  REQUIRE(f.Run(1, OpenAccount{1, 1, 978}).accepted());
  const CommandOutcome first = f.Run(2, Deposit{1, 10});
  REQUIRE(first.accepted());
  REQUIRE(f.Run(3, Deposit{1, 1}).accepted());  // the stream moves on
  const auto records = f.sink.records.size();

  const CommandOutcome retry = f.Run(2, Deposit{1, 10});
  REQUIRE(retry.accepted());
  CHECK(retry.duplicate());
  CHECK_FALSE(first.duplicate());
  CHECK(retry.position() == first.position());
  CHECK(retry.stream_version() == first.stream_version());
  CHECK(retry.stream_id() == first.stream_id());
  CHECK(f.Balance(1) == 11);
  CHECK(f.sink.records.size() == records);
}

TEST_CASE("the same command id with another payload is rejected", "[writer][idempotency]") {
  Fixture f;
  REQUIRE(f.Run(1, OpenAccount{1, 1, 978}).accepted());
  REQUIRE(f.Run(2, Deposit{1, 10}).accepted());
  const CommandOutcome other = f.Run(2, Deposit{1, 11});
  REQUIRE_FALSE(other.accepted());
  CHECK(other.code() == RejectCode::kDuplicateCommandMismatch);
  CHECK(f.Run(2, Withdraw{1, 10}).code() == RejectCode::kDuplicateCommandMismatch);
  CHECK(f.Run(2, Deposit{1, 10}, 1).code() == RejectCode::kDuplicateCommandMismatch);  // expected version differs
  CHECK(f.Balance(1) == 10);
}

TEST_CASE("a rejected command is decided again on retry - remember_rejections keeps it", "[writer][idempotency]") {
  SECTION("default: only accepted commands are remembered, as the journal would rebuild them") {
    Fixture f;
    REQUIRE(f.Run(1, OpenAccount{1, 1, 978}).accepted());
    CHECK(f.Run(2, Withdraw{1, 10}).code() == RejectCode::kRuleViolated);
    REQUIRE(f.Run(3, Deposit{1, 10}).accepted());
    const CommandOutcome retry = f.Run(2, Withdraw{1, 10});
    CHECK(retry.accepted());
    CHECK_FALSE(retry.duplicate());
  }
  SECTION("remember_rejections: the retry gets the original rejection code") {
    CommandProcessor<BankDomain> p{{.idempotency_window = 64, .remember_rejections = true}};
    rill::testing::VectorSink sink;
    REQUIRE(p.Process({1}, OpenAccount{1, 1, 978}, 0, sink).accepted());
    CHECK(p.Process({2}, Withdraw{1, 10}, 0, sink).code() == RejectCode::kRuleViolated);
    REQUIRE(p.Process({3}, Deposit{1, 10}, 0, sink).accepted());
    const CommandOutcome retry = p.Process({2}, Withdraw{1, 10}, 0, sink);
    CHECK(retry.code() == RejectCode::kRuleViolated);
    CHECK(retry.duplicate());
    CHECK(retry.rejection().domain_code == static_cast<std::uint32_t>(Reason::kInsufficientFunds));
  }
}

TEST_CASE("command id 0 is never deduplicated", "[writer][idempotency]") {
  Fixture f;
  REQUIRE(f.Run(0, OpenAccount{1, 1, 978}).accepted());
  REQUIRE(f.Run(0, Deposit{1, 10}).accepted());
  REQUIRE(f.Run(0, Deposit{1, 10}).accepted());
  CHECK(f.Balance(1) == 20);
  CHECK(f.p.window().size() == 0);
}

TEST_CASE("a journal that refuses an append rejects the command whole and fails the processor",
          "[writer][journal-unavailable]") {
  Fixture f;
  REQUIRE(f.Run(1, OpenAccount{1, 1, 978}).accepted());
  REQUIRE(f.Run(2, OpenAccount{2, 1, 978}).accepted());
  REQUIRE(f.Run(3, Deposit{1, 100}).accepted());
  f.sink.fail_after = f.sink.records.size() + 1;  // the transfer's second event is refused

  const CommandOutcome o = f.Run(4, Transfer{1, 2, 40});
  REQUIRE_FALSE(o.accepted());
  CHECK(o.code() == RejectCode::kJournalUnavailable);
  // Neither half was applied: the command is atomic in memory too.
  CHECK(f.Balance(1) == 100);
  CHECK(f.Balance(2) == 0);
  CHECK(f.p.store().version(f.p.store().Find(1)) == 2);
  CHECK(f.p.failed());
  // Every later command is refused with the same reason, without deciding.
  f.sink.fail_after.reset();
  CHECK(f.Run(5, Deposit{1, 1}).code() == RejectCode::kJournalUnavailable);
  CHECK(f.Balance(1) == 100);
}

TEST_CASE("events on a stream decide did not read get versions from 1", "[writer][versions]") {
  // A transfer to a brand-new stream would be a domain choice; the engine must still number
  // streams correctly when decide emits to a stream outside Streams().
  CommandProcessor<Echo> p;
  rill::testing::VectorSink sink;
  const CommandOutcome o = p.Process({1}, std::uint64_t{5}, 0, sink);
  REQUIRE(o.accepted());
  CHECK(o.stream_id() == 5);
  CHECK(o.stream_version() == 2);
  CHECK(o.event_count() == 3);
  CHECK(p.store().version(p.store().Find(5)) == 2);
  CHECK(p.store().state(p.store().Find(5)) == 4);
  CHECK(p.store().version(p.store().Find(0)) == 1);
  rill::codecs::Decoder dec(rill::testing::Registry());
  std::uint64_t versions[3];
  for (int i = 0; i < 3; ++i) {
    const auto r = dec.Decode(sink.records[static_cast<std::size_t>(i)].bytes(), 0);
    REQUIRE(r.ok());
    versions[i] = r.event().stream_version();
  }
  CHECK(versions[0] == 1);
  CHECK(versions[1] == 1);
  CHECK(versions[2] == 2);
}

TEST_CASE("the steady state allocates nothing per command", "[writer][allocation]") {
  // Aggregates reserved, window built, encoder warmed up: from then on, accepted and
  // rejected commands, transfers and conflicts allocate nothing.
  CommandProcessor<BankDomain> p{{.expected_aggregates = 1'000, .idempotency_window = 512}};
  std::vector<std::uint64_t> journal(1 << 16);
  std::size_t at = 0;
  std::uint64_t position = 0;
  auto sink = [&](std::span<const std::uint8_t> rec) -> std::optional<std::uint64_t> {
    const std::size_t words = (rec.size() + 7) / 8;
    if (at + words > journal.size()) at = 0;
    std::memcpy(journal.data() + at, rec.data(), rec.size());
    at += words;
    return ++position;
  };
  std::uint64_t id = 1;
  for (std::uint64_t a = 0; a < 1'000; ++a) REQUIRE(p.Process({id++}, OpenAccount{a, a, 978}, 0, sink).accepted());
  std::mt19937_64 rng(7);
  auto random_command = [&]() -> Command {
    const std::uint64_t a = rng() % 1'000, b = rng() % 1'000;
    const auto amount = static_cast<std::int64_t>(rng() % 200);
    switch (rng() % 3) {
      case 0:
        return Deposit{a, amount};
      case 1:
        return Withdraw{a, amount};
      default:
        return Transfer{a, b, amount};
    }
  };
  for (int i = 0; i < 2'000; ++i) (void)p.Process({id++}, random_command(), 0, sink);  // warm-up
  const long before = rill::test::ThreadAllocations();
  std::uint64_t accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    const CommandMeta meta{i % 10 == 0 ? id - 5 : id++, rng() % 20 == 0 ? std::uint64_t{3} : kAnyVersion};
    accepted += p.Process(meta, random_command(), 0, sink).accepted() ? 1 : 0;
  }
  CHECK(rill::test::ThreadAllocations() - before == 0);
  CHECK(accepted > 1'000);
}
