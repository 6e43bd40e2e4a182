// A stream leader cut off from the cluster, and the lost ack it causes (SCALE-OUT.md 3e.4 in
// its fallback form, 3e.5). The leader is paused with SIGSTOP (NatsCluster::Pause): its
// sockets stay open, it reads and answers nothing, as a partitioned host would; SIGCONT later
// brings it back with whatever it had buffered (the heal).
//   - Under a kReplicated workload: what is submitted while the leader is paused is not
//     acknowledged until the other two elect a leader; after the heal every acknowledged
//     command is on the stream exactly once at its position, with no gap.
//   - A pause shorter than an election but longer than the publisher's ack timeout: the
//     publisher gives up on its publishes and resends them (same msg-ids); after the heal
//     each resend is answered `duplicate` with the sequence of the first copy, never stored twice.
// A true partition (network namespaces, SCALE-OUT 3e.4's first form) is
// fault_netns_partition_test.cpp.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "rill/replication/message_format.h"
#include "rill/replication/nats_client.h"
#include "rill/replication/replicator.h"
#include "rill/tests/replication/cluster_fixture.h"
#include "rill/tests/replication/fault_workload.h"
#include "rill/tests/replication/journal_fixture.h"
#include "rill/tests/support/temp_dir.h"

namespace {

using namespace rill;
using engine::AckLevel;
using replication::AsyncPublisher;
using replication::NatsClient;
using replication::PublishCompletion;
using rill::replication::test::DumpBatches;
using rill::test::kClusterSecond;
using rill::test::NatsCluster;
using rill::test::ReplicatedLoad;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A client on every node but `excluded` (its requests must not wait for a paused node).
std::unique_ptr<NatsClient> ClientAvoiding(const NatsCluster& c, int excluded, const std::string& name) {
  std::string urls;
  for (int i = 0; i < c.size(); ++i) {
    if (i == excluded) continue;
    if (!urls.empty()) urls.append(",");
    urls.append(c.url(i));
  }
  auto n = NatsClient::Connect(urls, {.name = name});
  if (!n.ok()) FAIL("connecting to " << urls << ": " << n.status().ToString());
  return std::move(n).value();
}

std::vector<std::byte> Payload(int i) {
  const std::string s = "lost-ack-" + std::to_string(i);
  std::vector<std::byte> out(s.size());
  for (std::size_t k = 0; k < s.size(); ++k) out[k] = static_cast<std::byte>(s[k]);
  return out;
}

}  // namespace

TEST_CASE("a paused stream leader under kReplicated load: no ack until the majority elects, each ack stored once",
          "[replication][cluster][fault]") {
  RILL_START_CLUSTER_OR_SKIP(c, 3);
  rill::test::TempDir tmp("rill-fault-pause");
  const std::string writer_dir = tmp.Sub("writer");
  auto rep = replication::Replicator::Start(rill::test::TestReplicatorOptions(writer_dir, c.urls(), "bank"));
  REQUIRE(rep.ok());
  auto engine = rill::test::OpenFaultEngine(writer_dir, rep->get(), 1'000'000);
  std::uint64_t next_id = 1;
  rill::test::OpenFaultAccounts(*engine, next_id, AckLevel::kReplicated);
  REQUIRE((*rep)->WaitReplicated(engine->committed_position(), 20 * kClusterSecond).ok());  // the stream exists
  const std::string stream = replication::StreamName("bank", "0");
  auto nats = rill::test::ConnectTestClient(c, "fault-pause");
  auto leader = nats->StreamLeader(stream);
  REQUIRE(leader.ok());
  const int paused = c.IndexOf(*leader);
  REQUIRE(paused >= 0);
  auto majority = ClientAvoiding(c, paused, "fault-pause-majority");
  nats.reset();  // it may be connected to the node about to be paused

  ReplicatedLoad load(*engine, **rep, 1'000'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // The steady clock of the acks against the wall clock of the servers' logs.
  const auto wall_offset = std::chrono::system_clock::now().time_since_epoch() - Clock::now().time_since_epoch();
  REQUIRE(c.Pause(paused).ok());
  const Clock::time_point paused_at = Clock::now();
  // Publishes already answered may still be handled just after the pause: the cut counts
  // from 300 ms on, with what was replicated then.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const Clock::time_point cut_at = Clock::now();
  const std::uint64_t replicated_at_cut = (*rep)->replicated_position();
  const std::uint64_t acks_at_cut = load.acked_count();

  // The majority elects a new leader (seen through a client that avoids the paused node; the
  // moment it happened is read from the new leader's log below).
  std::string new_leader;
  while (Clock::now() - paused_at < std::chrono::seconds(30)) {
    auto l = majority->StreamLeader(stream);
    if (l.ok() && !l->empty() && *l != *leader) {
      new_leader = *l;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO("paused leader " << *leader << ", new leader '" << new_leader << "'");
  REQUIRE(!new_leader.empty());
  // Replication resumes with the majority while the old leader is still paused.
  Clock::time_point resumed_at{};
  while (Clock::now() - paused_at < std::chrono::seconds(40)) {
    if ((*rep)->replicated_position() > replicated_at_cut) {
      resumed_at = Clock::now();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  INFO("replicator: " << (*rep)->status() << " / " << (*rep)->stats().last_error);
  REQUIRE(resumed_at != Clock::time_point{});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  REQUIRE(c.Resume(paused).ok());  // the heal: it comes back with what it had buffered
  const Clock::time_point healed_at = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  load.Stop();
  const std::uint64_t committed = engine->committed_position();
  REQUIRE((*rep)->WaitReplicated(committed, 20 * kClusterSecond).ok());
  CHECK((*rep)->final_error().ok());
  engine->Stop();
  (*rep)->Stop();

  // The election's moment, from the new leader's log (its wall clock, on our steady clock).
  const auto logged = c.StreamLeaderSince(
      c.IndexOf(new_leader), stream,
      std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(paused_at.time_since_epoch() + wall_offset)));
  REQUIRE(logged.has_value());
  const Clock::time_point elected_at(
      std::chrono::duration_cast<Clock::duration>(logged->time_since_epoch() - wall_offset));
  // No command was acknowledged replicated beyond what was replicated at the cut until the
  // majority had a leader: a paused leader acknowledges nothing, and nothing is acknowledged
  // without it until another is elected.
  std::uint64_t during_cut = 0, beyond = 0, after_election = 0;
  Clock::time_point first_new_ack = Clock::time_point::max();  // the first ack beyond the cut's position
  for (const ReplicatedLoad::Ack& a : load.acks()) {
    if (a.position > replicated_at_cut && a.acked < first_new_ack) first_new_ack = a.acked;
    if (a.acked > elected_at && a.acked < healed_at) ++after_election;
    if (a.acked <= cut_at || a.acked >= elected_at) continue;
    ++during_cut;
    if (a.position > replicated_at_cut) ++beyond;
  }
  INFO("elected " << Seconds(elected_at - paused_at) << " s after the pause");
  CHECK(beyond == 0);
  CHECK(load.AckedUnreplicated() == 0);  // every ack covered by the replicated position
  CHECK(elected_at < first_new_ack);
  CHECK(first_new_ack < healed_at);
  CHECK(after_election > 0);  // the majority acknowledges without the paused node
  // After the heal: every acknowledged command on the stream exactly once, at its position.
  const rill::test::StreamContents s = rill::test::ReadStream(*majority, stream);
  CHECK(s.first_position == 1);
  CHECK(s.end_position == committed + 1);
  std::vector<std::byte> writer_bytes;
  for (const auto& b : DumpBatches(writer_dir)) writer_bytes.insert(writer_bytes.end(), b.begin(), b.end());
  CHECK(s.bytes == writer_bytes);  // each position at its place, byte for byte
  for (const ReplicatedLoad::Ack& a : load.acks()) REQUIRE(a.position < s.end_position);
  const replication::ReplicatorStats st = (*rep)->stats();
  WARN("paused stream leader " << *leader << ": new leader " << new_leader << " elected "
                               << Seconds(elected_at - paused_at)
                               << " s after the pause (its log), first ack beyond it "
                               << Seconds(first_new_ack - paused_at) << " s after; acks: " << acks_at_cut
                               << " before the cut (pause + 0.3 s), " << during_cut
                               << " from the cut to the election (all at or below position " << replicated_at_cut
                               << "), " << after_election << " from the election to the heal, " << load.acks().size()
                               << " in all; healed at " << Seconds(healed_at - paused_at) << " s; resyncs "
                               << st.resyncs << ", duplicates " << st.duplicates << "; stream " << s.messages
                               << " messages, positions 1.." << s.end_position - 1);
}

TEST_CASE("a lost ack (leader paused past the ack timeout): the resend is a duplicate at the same seq, stored once",
          "[replication][cluster][fault]") {
  RILL_START_CLUSTER_OR_SKIP(c, 3);
  const replication::StreamSpec spec{.name = "RILL_lostack_0", .subject = "rill.lostack.0.j", .replicas = 3};
  auto setup = rill::test::ConnectTestClient(c, "fault-lost-ack-setup");
  REQUIRE(setup->EnsureStream(spec).ok());
  auto leader = setup->StreamLeader(spec.name);
  REQUIRE(leader.ok());
  const int paused = c.IndexOf(*leader);
  REQUIRE(paused >= 0);
  setup.reset();
  // The publisher talks to a follower node; its messages reach the leader over the route.
  auto nats = ClientAvoiding(c, paused, "fault-lost-ack");
  constexpr int kBefore = 5, kLost = 8;
  for (int i = 0; i < kBefore; ++i) {
    PublishCompletion p =
        nats->Publish(spec.subject, "lostack/" + std::to_string(i), static_cast<std::uint64_t>(i), {}, Payload(i));
    INFO(p.text);
    REQUIRE(p.ok);
  }

  AsyncPublisher pub(*nats, {.window = 16});
  // The steady clock of the acks against the wall clock of the servers' logs.
  const auto wall_offset = std::chrono::system_clock::now().time_since_epoch() - Clock::now().time_since_epoch();
  REQUIRE(c.Pause(paused).ok());
  const Clock::time_point paused_at = Clock::now();
  // kLost publishes, pipelined as a replicator sends them; their acks cannot come.
  for (int i = kBefore; i < kBefore + kLost; ++i) {
    REQUIRE(pub.Publish(spec.subject, "lostack/" + std::to_string(i), static_cast<std::uint64_t>(i), {}, Payload(i),
                        static_cast<std::uint64_t>(i))
                .ok());
  }
  // The ack timeout (1 s, the replicator's default) passes: take them back and resend the
  // same msg-ids and bytes with the same expectations. Well below an election (>= 4 s).
  constexpr std::int64_t kAckTimeoutNs = 1'000'000'000;
  std::vector<PublishCompletion> done;
  while (pub.OldestInFlightAgeNs() <= kAckTimeoutNs) pub.Poll(&done, 50'000'000);
  CHECK(done.empty());
  const std::vector<std::uint64_t> abandoned = pub.AbandonAll();
  CHECK(abandoned.size() == static_cast<std::size_t>(kLost));
  for (int i = kBefore; i < kBefore + kLost; ++i) {
    REQUIRE(pub.Publish(spec.subject, "lostack/" + std::to_string(i), static_cast<std::uint64_t>(i), {}, Payload(i),
                        static_cast<std::uint64_t>(100 + i))
                .ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double paused_for = Seconds(Clock::now() - paused_at);
  REQUIRE(c.Resume(paused).ok());  // it stores the first copies, then answers the resends
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (done.size() < static_cast<std::size_t>(kLost) && Clock::now() < deadline) pub.Poll(&done, 100'000'000);
  REQUIRE(done.size() == static_cast<std::size_t>(kLost));
  std::map<std::uint64_t, PublishCompletion> by_token;
  for (const PublishCompletion& d : done) by_token[d.token] = d;
  int duplicates = 0;
  for (int i = kBefore; i < kBefore + kLost; ++i) {
    const PublishCompletion& d = by_token[static_cast<std::uint64_t>(100 + i)];
    INFO("resend of message " << i << ": " << d.text);
    REQUIRE(d.ok);  // no late ack of an abandoned first copy ever shows (tokens < 100)
    CHECK(d.duplicate);
    CHECK(d.seq == static_cast<std::uint64_t>(i + 1));  // the first copy's sequence
    duplicates += d.duplicate ? 1 : 0;
  }
  // Stored once each, in order.
  auto tail = nats->GetStreamTail(spec.name);
  REQUIRE(tail.ok());
  CHECK(tail->messages == static_cast<std::uint64_t>(kBefore + kLost));
  CHECK(tail->last_seq == static_cast<std::uint64_t>(kBefore + kLost));
  for (int i = 0; i < kBefore + kLost; ++i) {
    auto m = nats->GetMessage(spec.name, static_cast<std::uint64_t>(i + 1));
    REQUIRE(m.ok());
    CHECK(m->Header(replication::kHeaderMsgId) == "lostack/" + std::to_string(i));
    CHECK(m->bytes == Payload(i));
  }
  WARN("lost acks: leader " << *leader << " paused " << paused_for << " s; " << abandoned.size()
                            << " publishes abandoned after the ack timeout and resent, " << duplicates
                            << " answered duplicate at the first copies' sequences; stream holds " << tail->messages
                            << " messages");
}
