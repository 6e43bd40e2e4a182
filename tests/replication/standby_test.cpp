// Hot-standby takeover against real nats-server clusters (SCALE-OUT.md 3c/3e.2-3): the lease,
// a writer that dies and a standby that takes over (every kReplicated ack kept), a zombie writer
// fenced by the stream, the old writer's tail moved aside, and a restart in place.
// Past 400 lines, kept whole: five takeover scenarios that share the node, account and journal
// helpers at the top; each TEST_CASE is one scenario, read on its own.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bank_node.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/journal/journal_reader.h"
#include "rill/replication/lease.h"
#include "rill/replication/message_format.h"
#include "rill/replication/nats_client.h"
#include "rill/replication/standby.h"
#include "rill/tests/replication/cluster_fixture.h"
#include "rill/tests/support/temp_dir.h"
#include "stream_epochs.h"

namespace {

using namespace rill;
using namespace rill::examples::bank;
using engine::AckLevel;
using engine::CommandOutcome;
using engine::RejectCode;
using replication::Node;
using replication::NodeRole;
using replication::test::EpochAt;
using replication::test::ReadStreamMessages;
using replication::test::StreamMsg;
using BankEngine = engine::Engine<BankDomain>;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::uint64_t kAccounts = 16;

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

using replication::test::Writer;  // bank_node.h: the engines a Node opens and closes

// catch_up_timeout stays the library's default here (60 s).
replication::NodeOptions MakeNode(const std::string& dir, const std::string& urls, const std::string& holder, Writer& w,
                                  int replicas, bool hot = false) {
  replication::NodeOptions o = replication::test::BankNodeOptions(dir, urls, holder, w, replicas, hot);
  o.catch_up_timeout_ns = replication::NodeOptions{}.catch_up_timeout_ns;
  return o;
}

std::unique_ptr<Node> StartNode(const replication::NodeOptions& o) {
  auto n = Node::Start(o);
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  return std::move(n).value();
}

void RequireRole(Node& n, NodeRole role) {
  Status s = n.WaitRole(role, 40 * kSecond);
  INFO(s.ToString() << " / " << n.state());
  REQUIRE(s.ok());
}

std::vector<std::vector<std::byte>> Batches(const std::string& dir, std::uint64_t through) {
  auto r = journal::JournalReader::Open({.directory = dir});
  REQUIRE(r.ok());
  std::vector<std::vector<std::byte>> out;
  journal::RawBatch b;
  while ((*r)->NextBatch(&b) == journal::ReadStatus::kRecord && b.first_position <= through)
    out.emplace_back(b.bytes.begin(), b.bytes.end());
  return out;
}

std::uint64_t Committed(const std::string& dir) {
  auto r = journal::JournalReader::Open({.directory = dir});
  return r.ok() ? (*r)->committed_position() : 0;
}

bool HasAside(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("aside-", 0) == 0) return true;
  return false;
}

// Executes until accepted (a fenced first attempt of a new writer is answered
// kReplicationUnavailable; the node then reconciles and takes over again).
CommandOutcome ExecuteUntilAccepted(Writer& w, const Deposit& d, std::uint64_t id) {
  const std::int64_t until = Now() + 30 * kSecond;
  for (;;) {
    std::shared_ptr<BankEngine> e = w.get();
    if (e) {
      CommandOutcome o = e->execute(d, {.command_id = id}, AckLevel::kReplicated);
      if (o.accepted() || Now() > until) return o;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void OpenAccounts(BankEngine& e, std::uint64_t& next_id) {
  for (std::uint64_t a = 1; a <= kAccounts; ++a)
    REQUIRE(e.execute(OpenAccount{a, a, 978}, {.command_id = next_id++}, AckLevel::kReplicated).accepted());
}

struct Acked {
  std::uint64_t id = 0, account = 0;
  std::int64_t amount = 0;
  std::uint64_t position = 0;
};

}  // namespace

TEST_CASE("Lease: acquire, held by another, renew, expiry", "[replication][cluster][standby]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 1);
  const replication::LeaseOptions lo{
      .nats_urls = cluster.urls(), .app = "lt", .shard = "0", .ttl_ns = kSecond / 2, .replicas = 1, .client_name = ""};
  auto a = replication::Lease::Open(lo);
  auto b = replication::Lease::Open(lo);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE((*a)->TryAcquire("a", 1).ok());
  CHECK((*b)->TryAcquire("b", 2).IsFailedPrecondition());
  REQUIRE((*a)->Renew().ok());
  auto h = (*b)->Holder();
  REQUIRE(h.ok());
  CHECK(h->holder == "a");
  CHECK(h->epoch == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // no renewal: the key expires
  CHECK((*b)->Holder().status().IsNotFound());
  CHECK((*a)->Renew().IsFailedPrecondition());
  CHECK(!(*a)->held());
  REQUIRE((*b)->TryAcquire("b", 2).ok());
  CHECK((*a)->TryAcquire("a", 3).IsFailedPrecondition());
}

TEST_CASE("Takeover: a dead writer's kReplicated acks are all in the hot standby's state",
          "[replication][cluster][standby]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 3);
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const std::string urls = cluster.urls();
  rill::test::TempDir tmp("rill-standby");
  Writer wa, wb;
  auto a = StartNode(MakeNode(tmp.Sub("a"), urls, "a", wa, 3));
  RequireRole(*a, NodeRole::kWriter);
  const std::uint64_t epoch_a = a->epoch();
  std::uint64_t next_id = 1;
  OpenAccounts(*wa.get(), next_id);
  auto b = StartNode(MakeNode(tmp.Sub("b"), urls, "b", wb, 3, /*hot=*/true));
  RequireRole(*b, NodeRole::kStandby);

  // A's load: deposits at kReplicated, 64 in flight.
  std::vector<Acked> acked;
  {
    std::shared_ptr<BankEngine> e = wa.get();
    const std::int64_t until = Now() + 1500'000'000;
    std::vector<engine::Completion> done(64);
    std::vector<Acked> sent(64);
    while (Now() < until) {
      for (int i = 0; i < 64; ++i) {
        sent[i] = {next_id++, 1 + rng() % kAccounts, static_cast<std::int64_t>(1 + rng() % 100), 0};
        REQUIRE(e->submit(Deposit{sent[i].account, sent[i].amount}, {.command_id = sent[i].id}, AckLevel::kReplicated,
                          done[i]) == engine::ClaimStatus::kOk);
      }
      for (int i = 0; i < 64; ++i) {
        const CommandOutcome& o = done[i].Wait();
        if (o.accepted()) acked.push_back({sent[i].id, sent[i].account, sent[i].amount, o.position()});
      }
    }
  }
  REQUIRE(!acked.empty());
  // A dies: engine, replicator and lease renewal stop; the lease is not released.
  const std::int64_t died = Now();
  a->Stop();
  RequireRole(*b, NodeRole::kWriter);
  const CommandOutcome first = ExecuteUntilAccepted(wb, Deposit{1, 1}, next_id++);
  const std::int64_t first_ns = Now();
  REQUIRE(first.accepted());
  const auto takeovers = b->takeovers();
  REQUIRE(!takeovers.empty());
  std::printf(
      "standby_test: takeover: writer died -> first command accepted by the standby %.3f s; lease seen free -> "
      "first accepted %.3f s (writer open after %.3f s; lease ttl 1 s, %zu kReplicated acks)\n",
      (first_ns - died) / 1e9, (first_ns - takeovers.back().lease_free_ns) / 1e9,
      (takeovers.back().writer_open_ns - takeovers.back().lease_free_ns) / 1e9, acked.size());
  CHECK(b->epoch() > epoch_a);
  {
    // Hot: the promotion replayed only what the standby had not applied (a warm one replays all).
    const engine::RecoveryInfo& info = wb.get()->recovery();
    std::printf("standby_test: hot standby: promoted at position %llu of %llu, %llu events replayed at takeover\n",
                static_cast<unsigned long long>(info.hot_standby_position),
                static_cast<unsigned long long>(info.committed_position),
                static_cast<unsigned long long>(info.replayed_events));
    CHECK(info.hot_standby_position > 0);
    CHECK(info.replayed_events < acked.size() / 2);
  }

  // Every acknowledged command is in B's idempotency window: a resubmission is a duplicate at
  // its original position.
  std::shared_ptr<BankEngine> eb = wb.get();
  for (const Acked& x : acked) {
    const CommandOutcome o = eb->execute(Deposit{x.account, x.amount}, {.command_id = x.id}, AckLevel::kJournaled);
    INFO("command " << x.id);
    REQUIRE(o.accepted());
    REQUIRE(o.duplicate());
    REQUIRE(o.position() == x.position);
  }
  REQUIRE(eb->execute(Deposit{2, 5}, {.command_id = next_id++}, AckLevel::kReplicated).accepted());
  const std::uint64_t committed = eb->committed_position();
  const std::vector<StreamMsg> s = ReadStreamMessages(urls);
  REQUIRE(!s.empty());
  CHECK(s.back().end == committed + 1);
  CHECK(s.back().epoch == b->epoch());
  for (const Acked& x : acked) CHECK(EpochAt(s, x.position) == epoch_a);
  b->Stop();
}

TEST_CASE("Zombie writer: fenced by the stream, its tail moved aside, it follows the new writer",
          "[replication][cluster][standby]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 3);
  const std::string urls = cluster.urls();
  rill::test::TempDir tmp("rill-zombie");
  Writer wa, wb;
  auto a = StartNode(MakeNode(tmp.Sub("a"), urls, "a", wa, 3));
  RequireRole(*a, NodeRole::kWriter);
  const std::uint64_t epoch_a = a->epoch();
  std::uint64_t next_id = 1;
  OpenAccounts(*wa.get(), next_id);
  auto b = StartNode(MakeNode(tmp.Sub("b"), urls, "b", wb, 3));
  RequireRole(*b, NodeRole::kStandby);

  // A keeps submitting (one kReplicated deposit every 100 ms) while its lease lapses.
  std::atomic<bool> stop_load{false};
  std::mutex mu;
  std::vector<std::uint64_t> a_acked;
  std::uint64_t a_unavailable = 0, a_shutdown = 0;
  std::atomic<std::uint64_t> a_id{1'000'000};
  std::thread load([&] {
    while (!stop_load.load()) {
      std::shared_ptr<BankEngine> e = wa.get();
      if (e) {
        const CommandOutcome o = e->execute(Deposit{3, 1}, {.command_id = a_id++}, AckLevel::kReplicated);
        std::lock_guard<std::mutex> lock(mu);
        if (o.accepted()) a_acked.push_back(o.position());
        if (o.rejection().code == RejectCode::kReplicationUnavailable) ++a_unavailable;
        if (o.rejection().code == RejectCode::kShutdown) ++a_shutdown;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop.store(true);
      if (t.joinable()) t.join();
    }
  } join{stop_load, load};
  const std::int64_t paused = Now();
  a->PauseLeaseRenewalForTest();
  RequireRole(*b, NodeRole::kWriter);
  REQUIRE(ExecuteUntilAccepted(wb, Deposit{1, 1}, next_id++).accepted());
  const std::int64_t b_first = Now();
  // B's fence is stored before B writes anything: A cannot fence B, B moves nothing aside.
  std::printf("standby_test: zombie: renewal paused -> B's first accepted command %.3f s, %zu takeover(s) by B\n",
              (b_first - paused) / 1e9, b->takeovers().size());
  for (const auto& r : b->reconciles()) {
    std::printf("standby_test: zombie: B reconciled: %s\n", r.why.c_str());
    CHECK(r.first_moved == 0);
  }
  CHECK(b->takeovers().size() == 1);
  // A's replicator is fenced at its next publish; its node reconciles and follows B.
  RequireRole(*a, NodeRole::kStandby);
  stop_load.store(true);
  load.join();
  for (int i = 0; i < 20; ++i) REQUIRE(ExecuteUntilAccepted(wb, Deposit{2, 1}, next_id++).accepted());
  std::shared_ptr<BankEngine> eb = wb.get();
  const std::uint64_t committed = eb->committed_position();
  const std::vector<StreamMsg> s = ReadStreamMessages(urls);
  REQUIRE(!s.empty());
  CHECK(s.back().end == committed + 1);
  CHECK(s.front().epoch == epoch_a);
  CHECK(s.back().epoch > epoch_a);
  {
    std::lock_guard<std::mutex> lock(mu);
    std::printf(
        "standby_test: zombie: A acked %zu kReplicated, then %llu kReplicationUnavailable and %llu shutdown; "
        "B at epoch %llu; %zu stream messages\n",
        a_acked.size(), static_cast<unsigned long long>(a_unavailable), static_cast<unsigned long long>(a_shutdown),
        static_cast<unsigned long long>(b->epoch()), s.size());
    CHECK(a_unavailable + a_shutdown > 0);
    for (const std::uint64_t p : a_acked) CHECK(EpochAt(s, p) == epoch_a);  // every A ack is A's on the stream
  }
  // A's tail beyond the stream was moved aside and it follows B byte for byte.
  const auto rec = a->reconciles();
  REQUIRE(rec.size() >= 2);
  bool moved = false;
  for (const auto& r : rec) {
    std::printf("standby_test: zombie: A reconciled: %s\n", r.why.c_str());
    if (r.first_moved != 0) moved = true;
  }
  CHECK(moved);
  CHECK(HasAside(tmp.Sub("a")));
  const std::int64_t until = Now() + 30 * kSecond;
  while (Committed(tmp.Sub("a")) < committed && Now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(Committed(tmp.Sub("a")) >= committed);
  CHECK(Batches(tmp.Sub("a"), committed) == Batches(tmp.Sub("b"), committed));
  a->Stop();
  b->Stop();
}

TEST_CASE("Restart in place: nothing moved aside, the next epoch", "[replication][cluster][standby]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 1);
  const std::string urls = cluster.urls();
  rill::test::TempDir tmp("rill-inplace");
  Writer wa;
  std::uint64_t next_id = 1, last_epoch = 0;
  // Three runs: fresh; restarted while the lease still names "a"; restarted once it expired.
  for (int run = 0; run < 3; ++run) {
    if (run == 2) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    auto a = StartNode(MakeNode(tmp.Sub("a"), urls, "a", wa, 1));
    RequireRole(*a, NodeRole::kWriter);
    CHECK(a->epoch() == last_epoch + 1);
    last_epoch = a->epoch();
    if (run == 0) OpenAccounts(*wa.get(), next_id);
    for (int i = 0; i < 50; ++i)
      REQUIRE(wa.get()->execute(Deposit{1, 1}, {.command_id = next_id++}, AckLevel::kReplicated).accepted());
    if (run > 0) {
      const auto rec = a->reconciles();
      REQUIRE(!rec.empty());
      INFO(rec.front().why);
      CHECK(rec.front().in_place);
      CHECK(rec.front().first_moved == 0);
      // Duplicates from earlier runs are still recognised (the window survived the restart).
      CHECK(wa.get()->execute(Deposit{1, 1}, {.command_id = next_id - 60}, AckLevel::kJournaled).duplicate());
    }
    const std::uint64_t committed = wa.get()->committed_position();
    a->Stop();
    const std::vector<StreamMsg> s = ReadStreamMessages(urls);
    REQUIRE(!s.empty());
    CHECK(s.back().end == committed + 1);
  }
  CHECK(!HasAside(tmp.Sub("a")));
}

TEST_CASE("Zombie publishing continuously: the standby's fence stops it, no livelock",
          "[replication][cluster][standby]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 3);
  const std::string urls = cluster.urls();
  rill::test::TempDir tmp("rill-livelock");
  Writer wa, wb;
  auto a = StartNode(MakeNode(tmp.Sub("a"), urls, "a", wa, 3));
  RequireRole(*a, NodeRole::kWriter);
  const std::uint64_t epoch_a = a->epoch();
  std::uint64_t next_id = 1;
  OpenAccounts(*wa.get(), next_id);
  auto b = StartNode(MakeNode(tmp.Sub("b"), urls, "b", wb, 3));
  RequireRole(*b, NodeRole::kStandby);

  // A publishes without pause (3 threads of kReplicated deposits): before the fence, such a
  // zombie fenced every new writer between its catch-up and its first publish (a livelock).
  std::atomic<bool> stop_load{false};
  std::mutex mu;
  std::vector<std::uint64_t> a_acked;
  std::atomic<std::uint64_t> a_id{1'000'000};
  std::vector<std::thread> load;
  for (int t = 0; t < 3; ++t) {
    load.emplace_back([&] {
      while (!stop_load.load()) {
        std::shared_ptr<BankEngine> e = wa.get();
        if (!e) break;  // A left the writer role
        const CommandOutcome o = e->execute(Deposit{3, 1}, {.command_id = a_id++}, AckLevel::kReplicated);
        if (o.accepted()) {
          std::lock_guard<std::mutex> lock(mu);
          a_acked.push_back(o.position());
        } else if (o.rejection().code == RejectCode::kShutdown) {
          break;
        }
      }
    });
  }
  struct JoinAll {
    std::atomic<bool>& stop;
    std::vector<std::thread>& ts;
    ~JoinAll() {
      stop.store(true);
      for (auto& t : ts)
        if (t.joinable()) t.join();
    }
  } join{stop_load, load};
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::int64_t paused = Now();
  a->PauseLeaseRenewalForTest();
  RequireRole(*b, NodeRole::kWriter);
  std::vector<std::uint64_t> b_acked;
  const CommandOutcome first = ExecuteUntilAccepted(wb, Deposit{1, 1}, next_id++);
  REQUIRE(first.accepted());
  b_acked.push_back(first.position());
  const std::int64_t b_first = Now();
  RequireRole(*a, NodeRole::kStandby);
  stop_load.store(true);
  for (auto& t : load) t.join();
  for (int i = 0; i < 20; ++i) {
    const CommandOutcome o = ExecuteUntilAccepted(wb, Deposit{2, 1}, next_id++);
    REQUIRE(o.accepted());
    b_acked.push_back(o.position());
  }
  const auto takeovers = b->takeovers();
  REQUIRE(takeovers.size() == 1);  // B was never fenced by A
  for (const auto& r : b->reconciles()) CHECK(r.first_moved == 0);
  CHECK(takeovers.back().ended.empty());
  const auto a_takeovers = a->takeovers();
  REQUIRE(!a_takeovers.empty());
  INFO("A's writer period ended: " << a_takeovers.back().ended);
  CHECK(a_takeovers.back().ended.find("fenced") != std::string::npos);

  const std::uint64_t committed = wb.get()->committed_position();
  const std::vector<StreamMsg> s = ReadStreamMessages(urls);  // the chain is continuous, each position once
  REQUIRE(!s.empty());
  CHECK(s.back().end == committed + 1);
  std::size_t fences = 0;
  std::uint64_t fence_position = 0;
  for (const StreamMsg& m : s) {
    if (!m.fence) continue;
    ++fences;
    CHECK(m.epoch == b->epoch());
    fence_position = m.first;
  }
  CHECK(fences == 1);
  std::lock_guard<std::mutex> lock(mu);
  for (const std::uint64_t p : a_acked) {
    CHECK(EpochAt(s, p) == epoch_a);
    CHECK(p < fence_position);
  }
  for (const std::uint64_t p : b_acked) CHECK(EpochAt(s, p) == b->epoch());
  std::set<std::uint64_t> unique(a_acked.begin(), a_acked.end());
  unique.insert(b_acked.begin(), b_acked.end());
  CHECK(unique.size() == a_acked.size() + b_acked.size());
  std::printf(
      "standby_test: livelock: A acked %zu kReplicated (continuous); renewal paused -> B's first accepted %.3f s; "
      "B's fence stored after %u publish(es) at position %llu; A: %s\n",
      a_acked.size(), (b_first - paused) / 1e9, takeovers.back().fence_attempts,
      static_cast<unsigned long long>(fence_position), a_takeovers.back().ended.c_str());
  a->Stop();
  b->Stop();
}
