// Replay reproduces state exactly: a random sequence of commands is decided, evolved and
// encoded; the records are decoded (verified) and replayed into a fresh processor, which must
// hold the same aggregates, versions and idempotency answers.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/engine/command_processor.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"
#include "writer_test_util.h"

namespace {

using rill::engine::CommandMeta;
using rill::engine::CommandOutcome;
using rill::engine::CommandProcessor;
using rill::engine::RejectCodeName;

template <typename D>
void ReplayAll(const rill::testing::VectorSink& sink, CommandProcessor<D>& fresh) {
  rill::codecs::Decoder dec(rill::testing::Registry());
  for (std::size_t i = 0; i < sink.records.size(); ++i) {
    const auto r = dec.Decode(sink.records[i].bytes(), i + 1);
    REQUIRE(r.ok());
    const rill::Status s = fresh.Replay(r.event());
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  fresh.FinishReplay();
}

template <typename D, typename Equal>
void RequireSameStores(const CommandProcessor<D>& a, const CommandProcessor<D>& b, Equal equal) {
  // Rejected commands may leave nothing behind, so both hold exactly the streams with events.
  std::size_t streams = 0;
  a.store().ForEach([&](std::uint64_t id, std::uint64_t version, const typename D::State& s) {
    if (version == 0) return;
    ++streams;
    const auto i = b.store().Find(id);
    REQUIRE(i != CommandProcessor<D>::Store::kNone);
    REQUIRE(b.store().version(i) == version);
    REQUIRE(equal(b.store().state(i), s));
  });
  REQUIRE(streams == b.store().size());
}

}  // namespace

TEST_CASE("bank: replaying the journal reproduces state and idempotency exactly", "[writer][replay]") {
  using namespace rill::examples::bank;
  const std::uint64_t seed = rill::testing::TestSeed("bank replay test");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);

  CommandProcessor<BankDomain> live;
  rill::testing::VectorSink sink;
  std::vector<std::pair<CommandMeta, Command>> accepted;
  const std::uint64_t accounts = 50;
  for (std::uint64_t id = 1; id <= 5'000; ++id) {
    const std::uint64_t a = rng() % accounts;
    const std::uint64_t b = rng() % accounts;
    const auto amount = static_cast<std::int64_t>(rng() % 500);  // 0 now and then: rejected
    Command cmd;
    switch (rng() % 10) {
      case 0:
        cmd = OpenAccount{a, rng() % 7, static_cast<std::uint16_t>(rng() % 20 == 0 ? 840 : 978)};
        break;
      case 1:
        cmd = CloseAccount{a, CloseReason::Dormant};
        break;
      case 2:
      case 3:
        cmd = Deposit{a, amount};
        break;
      case 4:
      case 5:
        cmd = Withdraw{a, amount};
        break;
      default:
        cmd = Transfer{a, b, amount};
        break;
    }
    const CommandMeta meta{id, rng() % 8 == 0 ? rng() % 4 : rill::engine::kAnyVersion};
    const CommandOutcome o = live.Process(meta, cmd, static_cast<std::int64_t>(id) * 1'000, sink);
    if (o.accepted()) accepted.emplace_back(meta, cmd);
  }
  REQUIRE(accepted.size() > 100);

  CommandProcessor<BankDomain> replayed;
  ReplayAll(sink, replayed);
  RequireSameStores(live, replayed, [](const Account& x, const Account& y) {
    return x.balance == y.balance && x.owner == y.owner && x.currency == y.currency && x.closed == y.closed;
  });

  // A client that retries after a crash: every accepted command is answered with its original
  // outcome by the rebuilt window, and applied nowhere again.
  const std::size_t records = sink.records.size();
  REQUIRE_FALSE(replayed.failed());
  int n = 0;
  for (const auto& [meta, cmd] : accepted) {
    INFO("retry #" << n++ << " id " << meta.command_id);
    const CommandOutcome original = live.Process(meta, cmd, 0, sink);
    const CommandOutcome after_crash = replayed.Process(meta, cmd, 0, sink);
    REQUIRE(original.duplicate());
    INFO("after crash: " << RejectCodeName(after_crash.code()) << " " << after_crash.rejection().c_str());
    REQUIRE(after_crash.duplicate());
    REQUIRE(after_crash.position() == original.position());
    REQUIRE(after_crash.stream_id() == original.stream_id());
    REQUIRE(after_crash.stream_version() == original.stream_version());
    REQUIRE(after_crash.event_count() == original.event_count());
  }
  REQUIRE(sink.records.size() == records);
}

TEST_CASE("blog: replaying the journal reproduces state exactly", "[writer][replay]") {
  using namespace rill::examples::blog;
  const std::uint64_t seed = rill::testing::TestSeed("blog replay test");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);

  CommandProcessor<BlogDomain> live;
  rill::testing::VectorSink sink;
  const std::string texts[] = {"", "t", "A title", std::string(300, 'x')};
  for (std::uint64_t id = 1; id <= 3'000; ++id) {
    const std::uint64_t post = rng() % 40;
    const std::uint64_t user = rng() % 3;
    const std::string& t = texts[rng() % 4];
    Command cmd;
    switch (rng() % 4) {
      case 0:
        cmd = CreatePost{post, user, t, texts[rng() % 4]};
        break;
      case 1:
        cmd = EditPost{post, user, rng() % 2 ? std::optional<BytesRef>(t) : std::nullopt,
                       rng() % 2 ? std::optional<BytesRef>(texts[rng() % 4]) : std::nullopt};
        break;
      case 2:
        cmd = PublishPost{post, user};
        break;
      default:
        cmd = AddComment{post, user + 10, t};
        break;
    }
    (void)live.Process(CommandMeta{id}, cmd, static_cast<std::int64_t>(id), sink);
  }
  CommandProcessor<BlogDomain> replayed;
  ReplayAll(sink, replayed);
  RequireSameStores(live, replayed, [](const Post& x, const Post& y) {
    return x.author == y.author && x.comments == y.comments && x.published == y.published;
  });
}

TEST_CASE("replay reports a gap in a stream's versions", "[writer][replay]") {
  using namespace rill::examples::bank;
  CommandProcessor<BankDomain> live;
  rill::testing::VectorSink sink;
  REQUIRE(live.Process({1}, OpenAccount{1, 1, 978}, 0, sink).accepted());
  REQUIRE(live.Process({2}, Deposit{1, 5}, 0, sink).accepted());
  REQUIRE(live.Process({3}, Deposit{1, 5}, 0, sink).accepted());
  sink.records.erase(sink.records.begin() + 1);

  CommandProcessor<BankDomain> replayed;
  rill::codecs::Decoder dec(rill::testing::Registry());
  REQUIRE(replayed.Replay(dec.Decode(sink.records[0].bytes(), 1).event()).ok());
  const rill::Status s = replayed.Replay(dec.Decode(sink.records[1].bytes(), 3).event());
  REQUIRE(s.IsCorruption());
  CHECK(s.ToString().find("stream 1 jumps from version 1 to 3 at position 3") != std::string::npos);
}
