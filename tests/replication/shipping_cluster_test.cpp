// Replicator and follower against real nats-server clusters (tests/replication/nats_cluster.h):
// exactly once on the stream, byte-identical follower journals, restarts, foreign messages,
// fencing, and a stream-leader kill -9 while shipping. Each test case starts one cluster.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "journal_fixture.h"
#include "rill/replication/follower.h"
#include "rill/replication/nats_client.h"
#include "rill/replication/replicator.h"
#include "rill/tests/replication/cluster_fixture.h"

using namespace rill;
using namespace rill::replication;
using rill::replication::test::DumpBatches;
using rill::replication::test::kTestSchema;
using rill::replication::test::TestJournal;
using rill::replication::test::TestSchemaBlob;
using rill::test::NatsCluster;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

ReplicatorOptions RepOptions(const std::string& dir, const std::string& urls, const std::string& app, int replicas) {
  ReplicatorOptions o = rill::test::TestReplicatorOptions(dir, urls, app);
  o.replicas = replicas;
  o.ship_max_bytes = 8192;  // many messages from few batches
  o.window = 16;
  return o;
}

FollowerOptions FolOptions(const std::string& dir, const std::string& urls, const std::string& app) {
  FollowerOptions o = rill::test::TestFollowerOptions(dir, urls, app);
  o.segment_size = 256u << 10;  // the follower's journal rolls segments
  return o;
}

std::vector<std::byte> Concat(const std::vector<std::vector<std::byte>>& parts) {
  std::vector<std::byte> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Reads the whole stream back: every position 1..last exactly once, chained, msg-ids unique
// and this app's, and the bytes are the journal's batches.
void CheckStream(NatsClient& nats, const std::string& app, const std::string& journal_dir, std::uint64_t last) {
  const rill::test::StreamContents s = rill::test::ReadStream(nats, StreamName(app, "0"));
  CHECK(s.first_position == 1);
  CHECK(s.end_position == last + 1);
  CHECK(s.bytes == Concat(DumpBatches(journal_dir)));
  for (const std::string& id : s.msg_ids) CHECK(id.rfind(app + ".0/", 0) == 0);
}

std::unique_ptr<NatsClient> Client(const NatsCluster& c) { return rill::test::ConnectTestClient(c, "shipping-test"); }

}  // namespace

TEST_CASE("cluster: shipped exactly once, followed byte for byte, restarts, a foreign duplicate halts",
          "[replication][cluster]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 3);
  auto nats = Client(cluster);
  rill::test::TempDir tmp("rill-ship");
  TestJournal j(tmp.Sub("leader"), 256u << 10);
  REQUIRE(j.status().ok());
  const std::string urls = cluster.urls();

  std::uint64_t last = j.Commit(500);
  auto rep = Replicator::Start(RepOptions(tmp.Sub("leader"), urls, "ship", 3));
  REQUIRE(rep.ok());
  REQUIRE((*rep)->WaitReplicated(last, 20 * kSecond).ok());
  auto fol = Follower::Start(FolOptions(tmp.Sub("follower"), urls, "ship"));
  REQUIRE(fol.ok());
  last = j.Commit(200);  // shipped and followed live
  REQUIRE((*rep)->WaitReplicated(last, 20 * kSecond).ok());
  REQUIRE((*fol)->WaitApplied(last, 20 * kSecond).ok());
  CheckStream(*nats, "ship", tmp.Sub("leader"), last);
  CHECK((*rep)->stats().duplicates == 0);

  // A replicator restarted mid-way resumes from the stream's tail: nothing stored twice.
  (*rep)->Stop();
  last = j.Commit(300);
  rep = Replicator::Start(RepOptions(tmp.Sub("leader"), urls, "ship", 3));
  REQUIRE(rep.ok());
  REQUIRE((*rep)->WaitReplicated(last, 20 * kSecond).ok());
  REQUIRE((*fol)->WaitApplied(last, 20 * kSecond).ok());
  CheckStream(*nats, "ship", tmp.Sub("leader"), last);
  (*fol)->Stop();
  CHECK(DumpBatches(tmp.Sub("follower")) == DumpBatches(tmp.Sub("leader")));

  // A follower restarted later resumes by binary search.
  last = j.Commit(50);
  fol = Follower::Start(FolOptions(tmp.Sub("follower"), urls, "ship"));
  REQUIRE(fol.ok());
  REQUIRE((*fol)->WaitApplied(last, 20 * kSecond).ok());
  CHECK((*fol)->stats().skipped_messages == 0);

  // Someone publishes under the msg-id of the next position, with other bytes: the
  // replicator's publish is answered `duplicate`, and the stored bytes differ.
  auto tail = nats->GetStreamTail(StreamName("ship", "0"));
  REQUIRE(tail.ok());
  const MessageHeaders forged{.first_position = last + 1, .count = 1, .epoch = 1, .schema_fingerprint = kTestSchema};
  PublishCompletion pc = nats->Publish(SubjectName("ship", "0"), MsgId("ship", "0", 1, last + 1), tail->last_seq,
                                       EncodeHeaders(forged), std::vector<std::byte>(64, std::byte{7}));
  REQUIRE(pc.ok);
  j.Commit(1);
  const Status s = (*rep)->WaitReplicated(last + 1, 20 * kSecond);
  CHECK(s.IsCorruption());
  CHECK(std::string(s.message()).find("duplicate msg-id") != std::string::npos);
  // The follower refuses the forged message whole.
  const Status f = (*fol)->WaitApplied(last + 1, 10 * kSecond);
  CHECK(f.IsCorruption());
  CHECK((*fol)->applied_position() == last);
}

TEST_CASE("cluster: a stream beyond the journal fences, and a forged gap halts the follower",
          "[replication][cluster]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 1);  // replication itself is not under test here
  auto nats = Client(cluster);
  rill::test::TempDir tmp("rill-ship");
  TestJournal j(tmp.Sub("leader"));
  REQUIRE(j.status().ok());
  const std::string urls = cluster.urls();
  const std::uint64_t shipped = j.Commit(50);
  {
    auto rep = Replicator::Start(RepOptions(tmp.Sub("leader"), urls, "fence", 1));
    REQUIRE(rep.ok());
    REQUIRE((*rep)->WaitReplicated(shipped, 20 * kSecond).ok());
  }
  auto fol = Follower::Start(FolOptions(tmp.Sub("follower"), urls, "fence"));
  REQUIRE(fol.ok());
  REQUIRE((*fol)->WaitApplied(shipped, 20 * kSecond).ok());

  // Another writer (epoch 2) appends positions this journal does not have, with a gap.
  auto tail = nats->GetStreamTail(StreamName("fence", "0"));
  REQUIRE(tail.ok());
  const MessageHeaders other{.first_position = shipped + 2, .count = 3, .epoch = 2, .schema_fingerprint = kTestSchema};
  PublishCompletion pc = nats->Publish(SubjectName("fence", "0"), MsgId("fence", "0", 2, shipped + 2), tail->last_seq,
                                       EncodeHeaders(other), std::vector<std::byte>(64, std::byte{9}));
  REQUIRE(pc.ok);

  auto rep = Replicator::Start(RepOptions(tmp.Sub("leader"), urls, "fence", 1));
  REQUIRE(rep.ok());
  const Status s = (*rep)->WaitReplicated(shipped + 1, 20 * kSecond);
  CHECK(s.IsFailedPrecondition());
  CHECK(std::string(s.message()).rfind("fenced: the stream holds positions", 0) == 0);
  CHECK(std::string(s.message()).find("epoch 2") != std::string::npos);
  CHECK((*rep)->final_error().IsFailedPrecondition());

  const Status f = (*fol)->WaitApplied(shipped + 2, 10 * kSecond);
  CHECK(f.IsCorruption());
  CHECK(std::string(f.message()).find("gap") != std::string::npos);
  CHECK((*fol)->applied_position() == shipped);
}

TEST_CASE("cluster: the stream leader killed -9 while shipping loses and duplicates nothing",
          "[replication][cluster][concurrent]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 3);
  auto nats = Client(cluster);
  rill::test::TempDir tmp("rill-ship");
  TestJournal j(tmp.Sub("leader"), 1u << 20);
  REQUIRE(j.status().ok());
  const std::string urls = cluster.urls();
  // The writer keeps committing (one thread: JournalWriter's rule) while the leader dies.
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    while (writing.load()) {
      j.Commit(5);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  struct Join {
    std::atomic<bool>& flag;
    std::thread& t;
    ~Join() {
      flag.store(false);
      if (t.joinable()) t.join();
    }
  } join{writing, writer};  // also when a REQUIRE below fails
  auto rep = Replicator::Start(RepOptions(tmp.Sub("leader"), urls, "kill", 3));
  REQUIRE(rep.ok());
  auto fol = Follower::Start(FolOptions(tmp.Sub("follower"), urls, "kill"));
  REQUIRE(fol.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  REQUIRE((*rep)->WaitReplicated(j.committed(), 20 * kSecond).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto leader = nats->StreamLeader(StreamName("kill", "0"));
  REQUIRE(leader.ok());
  const int victim = cluster.IndexOf(*leader);
  REQUIRE(victim >= 0);
  REQUIRE(cluster.Kill(victim).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  writing.store(false);
  writer.join();
  const std::uint64_t last = j.committed();
  const auto t0 = std::chrono::steady_clock::now();
  const Status s = (*rep)->WaitReplicated(last, 30 * kSecond);
  const auto t1 = std::chrono::steady_clock::now();
  INFO((*rep)->stats().state << " / " << (*rep)->stats().last_error);
  REQUIRE(s.ok());
  const Status fs = (*fol)->WaitApplied(last, 30 * kSecond);
  INFO((*fol)->stats().state << " / " << (*fol)->stats().last_error);
  REQUIRE(fs.ok());
  const auto t2 = std::chrono::steady_clock::now();
  const ReplicatorStats st = (*rep)->stats();
  INFO("resyncs " << st.resyncs << " duplicates " << st.duplicates << " last error " << st.last_error);
  CHECK(st.resyncs >= 1);
  (*fol)->Stop();
  CHECK(DumpBatches(tmp.Sub("follower")) == DumpBatches(tmp.Sub("leader")));
  nats.reset();
  nats = Client(cluster);
  CheckStream(*nats, "kill", tmp.Sub("leader"), last);
  using ms = std::chrono::milliseconds;
  WARN("leader kill: replicated " << std::chrono::duration_cast<ms>(t1 - t0).count()
                                  << " ms after the writer stopped, followed "
                                  << std::chrono::duration_cast<ms>(t2 - t1).count() << " ms later; resyncs "
                                  << st.resyncs << ", duplicates " << st.duplicates << ", last error: " << st.last_error
                                  << "; follower resubscribes " << (*fol)->stats().resubscribes
                                  << ", last error: " << (*fol)->stats().last_error);
}
