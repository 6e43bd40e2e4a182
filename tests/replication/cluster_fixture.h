// rill/tests/replication/cluster_fixture.h: what the cluster tests share, so that each test
// case says only what it is about: start a NatsCluster or skip (never pass silently), a client
// on it, the replicator's and the follower's options for tests, reading a stream back with its
// position chain checked, and a timeline of a replicator's states for fault tests.
//
//   TEST_CASE("...") {
//     RILL_START_CLUSTER_OR_SKIP(cluster, 3);           // NatsCluster& cluster, or WARN + return
//     auto nats = ConnectTestClient(cluster, "my-test");  // REQUIREd
//     auto rep = Replicator::Start(TestReplicatorOptions(dir, cluster.urls(), "app"));
//     StreamContents s = ReadStream(*nats, StreamName("app", "0"));  // REQUIREs the chain
//
// Only from a TEST_CASE body (the macro returns from it; the helpers REQUIRE). Thread safety:
// the test's thread, except ReplicatorTimeline (its own polling thread, see there).
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rill/replication/follower.h"
#include "rill/replication/message_format.h"
#include "rill/replication/nats_client.h"
#include "rill/replication/replication_options.h"
#include "rill/replication/replicator.h"
#include "rill/tests/replication/nats_cluster.h"

// Skips the test case with WARN("skipped: <why>") when there is no nats-server (the case then
// shows as a warning, not a silent pass); otherwise starts `nodes` nodes and REQUIREs the
// start (its error, logs included, is printed), binding `var` as a NatsCluster&.
#define RILL_START_CLUSTER_OR_SKIP(var, nodes)                                                       \
  if (auto var##_why = ::rill::test::NatsCluster::Unavailable()) {                                   \
    WARN("skipped: " << *var##_why);                                                                 \
    return;                                                                                          \
  }                                                                                                  \
  auto var##_started = ::rill::test::NatsCluster::Start(nodes);                                      \
  if (!var##_started.ok()) FAIL("starting the NATS cluster: " << var##_started.status().ToString()); \
  ::rill::test::NatsCluster& var = **var##_started

namespace rill::test {

constexpr std::int64_t kClusterSecond = 1'000'000'000;

// A client on every node of the cluster (REQUIREd).
inline std::unique_ptr<replication::NatsClient> ConnectTestClient(const NatsCluster& c, const std::string& name) {
  auto n = replication::NatsClient::Connect(c.urls(), {.name = name});
  if (!n.ok()) FAIL("connecting " << name << " to " << c.urls() << ": " << n.status().ToString());
  return std::move(n).value();
}

// The replicator of journal `dir` shipping to stream RILL_<app>_<shard> on `urls`, with the
// library's defaults otherwise (a test changes what it is about on the copy).
inline replication::ReplicatorOptions TestReplicatorOptions(const std::string& dir, const std::string& urls,
                                                            const std::string& app, const std::string& shard = "0") {
  replication::ReplicatorOptions o;
  o.journal_directory = dir;
  o.nats_urls = urls;
  o.app = app;
  o.shard = shard;
  return o;
}

// A follower writing stream RILL_<app>_<shard> into the journal at `dir` (small segments).
inline replication::FollowerOptions TestFollowerOptions(const std::string& dir, const std::string& urls,
                                                        const std::string& app, const std::string& shard = "0") {
  replication::FollowerOptions o;
  o.directory = dir;
  o.nats_urls = urls;
  o.app = app;
  o.shard = shard;
  o.segment_size = 1u << 20;
  return o;
}

// A whole stream, read back message by message.
struct StreamContents {
  std::uint64_t first_position = 0;  // of the first message (0: empty stream)
  std::uint64_t end_position = 0;    // one past the last message's last position
  std::uint64_t messages = 0;
  std::vector<std::byte> bytes;      // every message's payload, concatenated in sequence order
  std::vector<std::string> msg_ids;  // in sequence order
};

// REQUIREs that every message's Rill-First-Position follows the previous message's end (no
// gap, no overlap: every position stored exactly once, in order) and that msg-ids are unique.
// Transient errors (an election, a healed node catching up: JetStream's 10008 "temporarily
// unavailable") are retried for up to 20 s.
inline StreamContents ReadStream(replication::NatsClient& nats, const std::string& stream) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto retry = [&](const Status& s) {
    if (!(s.IsUnavailable() || s.IsTimedOut()) || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return true;
  };
  auto tail = nats.GetStreamTail(stream);
  while (!tail.ok() && retry(tail.status())) tail = nats.GetStreamTail(stream);
  if (!tail.ok()) FAIL("tail of " << stream << ": " << tail.status().ToString());
  StreamContents out;
  std::set<std::string> ids;
  for (std::uint64_t seq = tail->first_seq; seq != 0 && seq <= tail->last_seq; ++seq) {
    auto m = nats.GetMessage(stream, seq);
    while (!m.ok() && retry(m.status())) m = nats.GetMessage(stream, seq);
    if (!m.ok()) FAIL("seq " << seq << " of " << stream << ": " << m.status().ToString());
    auto h = replication::DecodeHeaders(m->headers);
    if (!h.ok()) FAIL("seq " << seq << " of " << stream << ": " << h.status().ToString());
    INFO("seq " << seq << " of " << stream);
    if (out.messages == 0) out.first_position = h->first_position;
    REQUIRE((out.messages == 0 || h->first_position == out.end_position));
    const std::string id(m->Header(replication::kHeaderMsgId).value_or(""));
    CHECK(ids.insert(id).second);
    out.msg_ids.push_back(id);
    out.end_position = h->end();
    ++out.messages;
    out.bytes.insert(out.bytes.end(), m->bytes.begin(), m->bytes.end());
  }
  return out;
}

// Records every change of a replicator's state, last error, resync count and replicated
// position, with the time since Mark(), polling stats() every 2 ms on its own thread (the
// replicator's API, nothing hooked into it). For fault tests: when did the first error come,
// how many resyncs, when did shipping resume; Print() shows it, Events() to check it.
class ReplicatorTimeline {
 public:
  struct Event {
    double at_s = 0;  // since Mark()
    std::string what;
  };

  explicit ReplicatorTimeline(const replication::Replicator& rep)
      : rep_(rep), mark_(std::chrono::steady_clock::now()), thread_([this] { Poll(); }) {}
  ~ReplicatorTimeline() {
    stop_.store(true, std::memory_order_relaxed);
    thread_.join();
  }
  ReplicatorTimeline(const ReplicatorTimeline&) = delete;
  ReplicatorTimeline& operator=(const ReplicatorTimeline&) = delete;

  // Restarts the clock and the record, with a first event `what` at 0.
  void Mark(const std::string& what) {
    std::lock_guard lock(mu_);
    mark_ = std::chrono::steady_clock::now();
    events_.clear();
    events_.push_back({0, what});
    first_advance_s_ = -1;
  }
  // Seconds from Mark() to the first advance of the replicated position after it (-1: none yet).
  double FirstAdvanceS() const {
    std::lock_guard lock(mu_);
    return first_advance_s_;
  }
  std::vector<Event> Events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::string Format() const {
    std::lock_guard lock(mu_);
    std::string s;
    char at[32];
    for (const Event& e : events_) {
      std::snprintf(at, sizeof at, "  %7.3f s  ", e.at_s);
      s.append(at).append(e.what).append("\n");
    }
    return s;
  }

 private:
  void Poll() {
    replication::ReplicatorStats last = rep_.stats();
    std::uint64_t last_replicated = rep_.replicated_position();
    while (!stop_.load(std::memory_order_relaxed)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      const replication::ReplicatorStats now = rep_.stats();
      std::lock_guard lock(mu_);
      const double at = std::chrono::duration<double>(std::chrono::steady_clock::now() - mark_).count();
      if (now.state != last.state) events_.push_back({at, "state: " + now.state});
      // A new error usually comes with a new "retrying: <why>" state: shown once, as the state.
      if (now.last_error != last.last_error && now.state == last.state)
        events_.push_back({at, "error: " + now.last_error});
      if (now.resyncs != last.resyncs) events_.push_back({at, "resyncs " + std::to_string(now.resyncs)});
      // The atomic, not stats(): stats are published after the acks were handled.
      const std::uint64_t replicated = rep_.replicated_position();
      if (replicated != last_replicated && first_advance_s_ < 0 && !events_.empty()) {
        first_advance_s_ = at;
        events_.push_back({at, "replicated position advanced to " + std::to_string(replicated)});
      }
      last_replicated = replicated;
      last = now;
    }
  }

  const replication::Replicator& rep_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;  // guards mark_, events_, first_advance_s_
  std::chrono::steady_clock::time_point mark_;
  std::vector<Event> events_;
  double first_advance_s_ = -1;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace rill::test
