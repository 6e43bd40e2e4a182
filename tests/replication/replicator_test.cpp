// The replicator (replication/replicator.h) against an in-memory stream (fake_stream.h):
// exactly once through lost acks, refusals, restarts; fencing; duplicate mismatches.
// The same against a real 3-node cluster is in shipping_cluster_test.cpp.
#include "rill/replication/replicator.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "fake_stream.h"
#include "journal_fixture.h"
#include "rill/tests/support/temp_dir.h"

using namespace rill;
using namespace rill::replication;
using rill::replication::test::DumpBatches;
using rill::replication::test::FakePort;
using rill::replication::test::FakeReplicatorOptions;
using rill::replication::test::FakeStream;
using rill::replication::test::kTestSchema;
using rill::replication::test::TestJournal;
using rill::replication::test::TestSchemaBlob;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

// A 100 ms ack timeout: the lost-ack cases wait for it.
ReplicatorOptions Options(const std::string& dir) { return FakeReplicatorOptions(dir, 1, 100'000'000); }

// The stream holds every position 1..last exactly once, in order, chained, with
// deterministic msg-ids, and its bytes are the journal's batches.
void CheckStreamIsJournal(FakeStream& s, const std::string& dir, std::uint64_t last) {
  const auto msgs = s.Snapshot();
  std::uint64_t next = 1;
  std::set<std::string> ids;
  std::vector<std::byte> stream_bytes, journal_bytes;
  for (const ShippedMessage& m : msgs) {
    INFO("seq " << m.seq);
    REQUIRE(m.headers.first_position == next);
    CHECK(m.msg_id == MsgId("bank", "0", 1, next));
    CHECK(ids.insert(m.msg_id).second);
    next = m.headers.end();
    stream_bytes.insert(stream_bytes.end(), m.bytes.begin(), m.bytes.end());
  }
  CHECK(next == last + 1);
  for (const auto& b : DumpBatches(dir)) journal_bytes.insert(journal_bytes.end(), b.begin(), b.end());
  CHECK(stream_bytes == journal_bytes);
}

}  // namespace

TEST_CASE("a journal is shipped exactly once, in order, and followed live", "[replication][replicator]") {
  rill::test::TempDir tmp("rill-rep");
  TestJournal j(tmp.Sub("j"), 64u << 10);  // small segments: shipping crosses rolls
  REQUIRE(j.status().ok());
  j.Commit(300);
  auto stream = std::make_shared<FakeStream>();
  auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
  REQUIRE(rep.ok());
  std::vector<std::uint64_t> woken;
  std::mutex mu;
  (*rep)->SetWake([&] {
    std::lock_guard<std::mutex> lock(mu);
    woken.push_back((*rep)->replicated_position());
  });
  REQUIRE((*rep)->WaitReplicated(j.committed(), 10 * kSecond).ok());
  // Live: batches committed later are shipped without a restart.
  const std::uint64_t last = j.Commit(100);
  REQUIRE((*rep)->WaitReplicated(last, 10 * kSecond).ok());
  CheckStreamIsJournal(*stream, tmp.Sub("j"), last);
  const ReplicatorStats st = (*rep)->stats();
  CHECK(st.replicated_position == last);
  CHECK(st.duplicates == 0);
  CHECK(st.resyncs == 1);
  CHECK(stream->schemas.count(kTestSchema) == 1);
  CHECK(stream->schemas[kTestSchema] == TestSchemaBlob());
  (*rep)->Stop();
  CHECK((*rep)->final_error().ok());
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE_FALSE(woken.empty());
  CHECK(std::is_sorted(woken.begin(), woken.end()));
}

TEST_CASE("lost acks time out, resync, and store nothing twice", "[replication][replicator]") {
  rill::test::TempDir tmp("rill-rep");
  TestJournal j(tmp.Sub("j"));
  REQUIRE(j.status().ok());
  const std::uint64_t last = j.Commit(400);
  auto stream = std::make_shared<FakeStream>();
  stream->lose_acks = 5;  // stored, never acknowledged: cnats would wait forever
  auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
  REQUIRE(rep.ok());
  REQUIRE((*rep)->WaitReplicated(last, 20 * kSecond).ok());
  CheckStreamIsJournal(*stream, tmp.Sub("j"), last);
  CHECK((*rep)->stats().resyncs > 1);
  CHECK((*rep)->final_error().ok());
}

TEST_CASE("refusals during an election are retried, never final", "[replication][replicator]") {
  rill::test::TempDir tmp("rill-rep");
  TestJournal j(tmp.Sub("j"));
  REQUIRE(j.status().ok());
  const std::uint64_t last = j.Commit(200);
  auto stream = std::make_shared<FakeStream>();
  stream->refuse_transient = 30;
  auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
  REQUIRE(rep.ok());
  REQUIRE((*rep)->WaitReplicated(last, 20 * kSecond).ok());
  CheckStreamIsJournal(*stream, tmp.Sub("j"), last);
  CHECK((*rep)->stats().last_error.find("no responders") != std::string::npos);

  SECTION("a stream that is down: 'retrying', then it catches up") {
    {
      std::lock_guard<std::mutex> lock(stream->mu);
      stream->down = true;
    }
    const std::uint64_t more = j.Commit(50);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK((*rep)->status().rfind("retrying: ", 0) == 0);
    CHECK((*rep)->final_error().ok());
    CHECK((*rep)->replicated_position() == last);
    CHECK((*rep)->stats().lag_positions == more - last);
    {
      std::lock_guard<std::mutex> lock(stream->mu);
      stream->down = false;
    }
    REQUIRE((*rep)->WaitReplicated(more, 20 * kSecond).ok());
    CheckStreamIsJournal(*stream, tmp.Sub("j"), more);
  }
}

TEST_CASE("a restarted replicator resumes after the stream's tail", "[replication][replicator]") {
  rill::test::TempDir tmp("rill-rep");
  TestJournal j(tmp.Sub("j"));
  REQUIRE(j.status().ok());
  auto stream = std::make_shared<FakeStream>();
  const std::uint64_t first = j.Commit(150);
  {
    auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
    REQUIRE(rep.ok());
    REQUIRE((*rep)->WaitReplicated(first, 10 * kSecond).ok());
  }
  const std::uint64_t last = j.Commit(150);
  auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
  REQUIRE(rep.ok());
  REQUIRE((*rep)->WaitReplicated(last, 10 * kSecond).ok());
  CheckStreamIsJournal(*stream, tmp.Sub("j"), last);
  CHECK((*rep)->stats().duplicates == 0);
  CHECK(stream->publishes == stream->Snapshot().size());  // nothing sent twice
}

TEST_CASE("a stream holding positions beyond this journal fences the replicator", "[replication][replicator]") {
  rill::test::TempDir tmp("rill-rep");
  TestJournal j(tmp.Sub("j"));
  REQUIRE(j.status().ok());
  const std::uint64_t shipped = j.Commit(50);
  auto stream = std::make_shared<FakeStream>();
  {
    auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
    REQUIRE(rep.ok());
    REQUIRE((*rep)->WaitReplicated(shipped, 10 * kSecond).ok());
  }
  // Another writer (epoch 2) took over and appended after the stream's tail.
  const MessageHeaders h{.first_position = shipped + 1, .count = 3, .epoch = 2, .schema_fingerprint = kTestSchema};
  stream->Append(MsgId("bank", "0", 2, shipped + 1), h, std::vector<std::byte>(64, std::byte{1}));

  SECTION("beyond the local end: fenced at start") {
    auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
    REQUIRE(rep.ok());
    Status s = (*rep)->WaitReplicated(shipped + 1, 10 * kSecond);
    CHECK(s.IsFailedPrecondition());
    CHECK(std::string(s.message()).rfind("fenced: the stream holds positions", 0) == 0);
    CHECK(std::string(s.message()).find("epoch 2") != std::string::npos);
    CHECK(std::string(s.message()).find("beyond this journal") != std::string::npos);
    CHECK((*rep)->final_error().IsFailedPrecondition());
    CHECK((*rep)->replicated_position() == 0);  // nothing of the stream was confirmed as ours
  }
  SECTION("the same positions with other bytes: fenced at start") {
    j.Commit(10);  // this writer's own positions there differ from the other writer's
    auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
    REQUIRE(rep.ok());
    Status s = (*rep)->WaitReplicated(shipped + 1, 10 * kSecond);
    CHECK(s.IsFailedPrecondition());
    CHECK(std::string(s.message()).find("other bytes") != std::string::npos);
  }
}

TEST_CASE("another writer appending while shipping: wrong last sequence is fenced", "[replication][replicator]") {
  rill::test::TempDir tmp("rill-rep");
  TestJournal j(tmp.Sub("j"));
  REQUIRE(j.status().ok());
  const std::uint64_t shipped = j.Commit(50);
  auto stream = std::make_shared<FakeStream>();
  auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
  REQUIRE(rep.ok());
  REQUIRE((*rep)->WaitReplicated(shipped, 10 * kSecond).ok());
  const MessageHeaders h{.first_position = shipped + 1, .count = 1, .epoch = 2, .schema_fingerprint = kTestSchema};
  stream->Append(MsgId("bank", "0", 2, shipped + 1), h, std::vector<std::byte>(64, std::byte{1}));
  j.Commit(30);  // several messages in flight at once (ship_max_bytes 4 KiB)
  Status s = (*rep)->WaitReplicated(shipped + 1, 10 * kSecond);
  CHECK(s.IsFailedPrecondition());
  CHECK(std::string(s.message()).find("fenced: the stream refused") != std::string::npos);
  CHECK(stream->refused_wrong_last >= 1);
  CHECK((*rep)->replicated_position() == shipped);
  // None of the pipelined messages behind the refused one landed after the other writer's.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(stream->Snapshot().back().msg_id == MsgId("bank", "0", 2, shipped + 1));
}

TEST_CASE("a duplicate msg-id with other bytes halts with Corruption", "[replication][replicator]") {
  rill::test::TempDir tmp("rill-rep");
  TestJournal j(tmp.Sub("j"));
  REQUIRE(j.status().ok());
  const std::uint64_t shipped = j.Commit(20);
  auto stream = std::make_shared<FakeStream>();
  auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
  REQUIRE(rep.ok());
  REQUIRE((*rep)->WaitReplicated(shipped, 10 * kSecond).ok());
  // Pre-published under the msg-id the replicator will use next, with other bytes.
  const MessageHeaders h{.first_position = shipped + 1, .count = 1, .epoch = 1, .schema_fingerprint = kTestSchema};
  stream->Append(MsgId("bank", "0", 1, shipped + 1), h, std::vector<std::byte>(64, std::byte{2}));
  j.Commit(1);
  Status s = (*rep)->WaitReplicated(shipped + 1, 10 * kSecond);
  CHECK(s.IsCorruption());
  CHECK(std::string(s.message()).find("duplicate msg-id bank.0/1/" + std::to_string(shipped + 1)) != std::string::npos);
  CHECK((*rep)->stats().duplicates == 1);
  CHECK((*rep)->replicated_position() == shipped);
}

TEST_CASE("a batch larger than the stream's max message size is a configuration error", "[replication][replicator]") {
  rill::test::TempDir tmp("rill-rep");
  TestJournal j(tmp.Sub("j"));
  REQUIRE(j.status().ok());
  j.Commit(3, 40, 2000);  // batches of up to ~80 KB
  auto stream = std::make_shared<FakeStream>();
  stream->max_msg_size = 4096;
  auto rep = Replicator::Start(Options(tmp.Sub("j")), std::make_unique<FakePort>(stream));
  REQUIRE(rep.ok());
  Status s = (*rep)->WaitReplicated(j.committed(), 10 * kSecond);
  CHECK(s.IsInvalidArgument());
  CHECK(std::string(s.message()).find("max_msg_size") != std::string::npos);
}
