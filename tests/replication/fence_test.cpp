// The takeover fence (message_format.h: a zero-record message of the new epoch) through every
// consumer of the stream, over the in-memory stream (fake_stream.h): the follower passes it
// (in the middle, at the end, first in the stream, when resuming), the replicator starts after
// its own and is fenced by another epoch's (at resync and while shipping), reconcile compares a
// journal with a stream holding fences, and malformed count-0 messages are Corruption.
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "fake_stream.h"
#include "journal_fixture.h"
#include "rill/replication/follower.h"
#include "rill/replication/reconcile.h"
#include "rill/replication/replicator.h"
#include "rill/tests/support/temp_dir.h"

using namespace rill;
using namespace rill::replication;
using rill::replication::test::DumpBatches;
using rill::replication::test::FakeFollowerOptions;
using rill::replication::test::FakePort;
using rill::replication::test::FakeReplicatorOptions;
using rill::replication::test::FakeStream;
using rill::replication::test::kTestSchema;
using rill::replication::test::TestJournal;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

ReplicatorOptions RepOptions(const std::string& dir, std::uint64_t epoch) { return FakeReplicatorOptions(dir, epoch); }

FollowerOptions FolOptions(const std::string& dir) { return FakeFollowerOptions(dir); }

std::unique_ptr<Replicator> StartRep(const std::string& dir, std::uint64_t epoch, std::shared_ptr<FakeStream> s) {
  auto r = Replicator::Start(RepOptions(dir, epoch), std::make_unique<FakePort>(std::move(s)));
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::unique_ptr<Follower> StartFollower(const std::string& dir, std::shared_ptr<FakeStream> s) {
  auto f = Follower::Start(FolOptions(dir), std::make_unique<FakePort>(std::move(s)));
  REQUIRE(f.ok());
  return std::move(f).value();
}

// The stream's position chain is continuous (a fence's next message starts at its first
// position), every msg-id is unique, epochs never go back, and no message of an epoch follows
// a fence of a later one.
void CheckChain(FakeStream& s) {
  std::uint64_t next = 0, epoch = 0;
  std::set<std::string> ids;
  for (const ShippedMessage& m : s.Snapshot()) {
    INFO("seq " << m.seq << " msg-id " << m.msg_id);
    if (next != 0) CHECK(m.headers.first_position == next);
    CHECK(m.headers.epoch >= epoch);
    CHECK(CheckPayload(m.headers, m.bytes.size()).ok());
    CHECK(ids.insert(m.msg_id).second);
    if (m.headers.fence()) {
      CHECK(m.msg_id == FenceMsgId("bank", "0", m.headers.epoch));
    } else {
      CHECK(m.msg_id == MsgId("bank", "0", m.headers.epoch, m.headers.first_position));
    }
    next = m.headers.end();
    epoch = m.headers.epoch;
  }
}

// A journal of `records` committed records, all shipped by an epoch-1 replicator (stopped
// again) to a fresh in-memory stream: where the replicator tests start.
struct ShippedJournal {
  explicit ShippedJournal(int records) {
    REQUIRE(j.status().ok());
    shipped = j.Commit(records);
    auto rep = StartRep(dir(), 1, stream);
    REQUIRE(rep->WaitReplicated(shipped, 10 * kSecond).ok());
  }
  std::string dir() const { return tmp.Sub("j"); }
  rill::test::TempDir tmp{"rill-fence"};
  TestJournal j{tmp.Sub("j")};
  std::shared_ptr<FakeStream> stream = std::make_shared<FakeStream>();
  std::uint64_t shipped = 0;
};

void WaitFences(Follower& f, std::uint64_t n) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (f.stats().fences < n && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  REQUIRE(f.stats().fences == n);
}

}  // namespace

TEST_CASE("fence: a follower passes fences at the end, in the middle and when resuming", "[replication][fence]") {
  rill::test::TempDir tmp("rill-fence");
  TestJournal leader(tmp.Sub("leader"), 128u << 10);
  REQUIRE(leader.status().ok());
  auto stream = std::make_shared<FakeStream>();
  const std::uint64_t first = leader.Commit(40);
  {
    auto rep = StartRep(tmp.Sub("leader"), 1, stream);
    REQUIRE(rep->WaitReplicated(first, 10 * kSecond).ok());
  }
  // Epoch 2 takes over (the same journal: it had caught up) and fences the stream.
  stream->AppendFence("bank", "0", 2);
  auto live = StartFollower(tmp.Sub("live"), stream);
  REQUIRE(live->WaitApplied(first, 10 * kSecond).ok());
  WaitFences(*live, 1);  // the fence at the end: nothing applied
  CHECK(live->applied_position() == first);
  {
    auto resumed = StartFollower(tmp.Sub("resumed"), stream);  // stops right at the fence
    REQUIRE(resumed->WaitApplied(first, 10 * kSecond).ok());
    WaitFences(*resumed, 1);
  }

  // Epoch 2's replicator starts after its own fence.
  const std::uint64_t last = leader.Commit(60);
  auto rep2 = StartRep(tmp.Sub("leader"), 2, stream);
  REQUIRE(rep2->WaitReplicated(last, 10 * kSecond).ok());
  CHECK(rep2->stats().resyncs == 1);
  REQUIRE(live->WaitApplied(last, 10 * kSecond).ok());
  CHECK(live->final_error().ok());
  CheckChain(*stream);
  const auto msgs = stream->Snapshot();
  std::size_t fences = 0;
  for (const auto& m : msgs) fences += m.headers.fence() ? 1 : 0;
  CHECK(fences == 1);
  CHECK(msgs.back().headers.epoch == 2);

  auto fresh = StartFollower(tmp.Sub("fresh"), stream);  // the fence in the middle
  REQUIRE(fresh->WaitApplied(last, 10 * kSecond).ok());
  auto resumed = StartFollower(tmp.Sub("resumed"), stream);  // resumes after the fence
  REQUIRE(resumed->WaitApplied(last, 10 * kSecond).ok());
  CHECK(resumed->stats().skipped_messages == 0);  // the binary search started after the fence
  CHECK(resumed->stats().fences == 0);
  CHECK(fresh->stats().fences == 1);
  live->Stop();
  fresh->Stop();
  resumed->Stop();
  const auto expected = DumpBatches(tmp.Sub("leader"));
  CHECK(DumpBatches(tmp.Sub("live")) == expected);
  CHECK(DumpBatches(tmp.Sub("fresh")) == expected);
  CHECK(DumpBatches(tmp.Sub("resumed")) == expected);
}

TEST_CASE("fence: a stream whose first message is a fence", "[replication][fence]") {
  // As if retention removed everything before a fence: a new follower's journal starts at the
  // fence's position with the fence's schema; the replicator of that epoch ships after it.
  rill::test::TempDir tmp("rill-fence");
  TestJournal leader(tmp.Sub("leader"), 128u << 10);
  REQUIRE(leader.status().ok());
  auto stream = std::make_shared<FakeStream>();
  stream->Append(FenceMsgId("bank", "0", 1),
                 {.first_position = 1, .count = 0, .epoch = 1, .schema_fingerprint = kTestSchema}, {});
  const std::uint64_t last = leader.Commit(30);
  auto rep = StartRep(tmp.Sub("leader"), 1, stream);
  REQUIRE(rep->WaitReplicated(last, 10 * kSecond).ok());
  auto f = StartFollower(tmp.Sub("f"), stream);
  REQUIRE(f->WaitApplied(last, 10 * kSecond).ok());
  f->Stop();
  CHECK(f->stats().fences == 0);  // the journal starts at the fence's position: subscribed after it
  CHECK(DumpBatches(tmp.Sub("f")) == DumpBatches(tmp.Sub("leader")));
  CheckChain(*stream);
}

TEST_CASE("fence: malformed count-0 messages and misplaced fences halt the follower", "[replication][fence]") {
  rill::test::TempDir tmp("rill-fence");
  TestJournal leader(tmp.Sub("leader"), 128u << 10);
  REQUIRE(leader.status().ok());
  auto stream = std::make_shared<FakeStream>();
  const std::uint64_t last = leader.Commit(20);
  {
    auto rep = StartRep(tmp.Sub("leader"), 1, stream);
    REQUIRE(rep->WaitReplicated(last, 10 * kSecond).ok());
  }
  auto f = StartFollower(tmp.Sub("f"), stream);
  REQUIRE(f->WaitApplied(last, 10 * kSecond).ok());
  MessageHeaders h{.first_position = last + 1, .count = 0, .epoch = 2, .schema_fingerprint = kTestSchema};
  std::string expect;
  SECTION("a fence with a payload") {
    stream->Append(FenceMsgId("bank", "0", 2), h, std::vector<std::byte>(64, std::byte{0}));
    expect = "Rill-Count 0";
  }
  SECTION("records without a payload") {
    h.count = 3;
    stream->Append(MsgId("bank", "0", 2, last + 1), h, {});
    expect = "empty payload";
  }
  SECTION("a fence after a gap") {
    h.first_position = last + 2;
    stream->Append(FenceMsgId("bank", "0", 2), h, {});
    expect = "gap";
  }
  const Status st = f->WaitApplied(last + 1, 5 * kSecond);
  INFO(st.ToString());
  CHECK(st.IsCorruption());
  CHECK(std::string(st.message()).find(expect) != std::string::npos);
  CHECK(f->applied_position() == last);
}

TEST_CASE("fence: another epoch's fence fences the replicator, its own is where it starts", "[replication][fence]") {
  ShippedJournal sj(50);
  auto& [tmp, j, stream, shipped] = sj;
  stream->AppendFence("bank", "0", 2);
  const std::uint64_t more = j.Commit(20);

  SECTION("a fence of a later epoch at resync: fenced, nothing published") {
    auto rep = StartRep(tmp.Sub("j"), 1, stream);
    const Status s = rep->WaitReplicated(more, 10 * kSecond);
    INFO(s.ToString());
    CHECK(s.IsFailedPrecondition());
    CHECK(std::string(s.message()).rfind("fenced: the stream ends with the fence of epoch 2", 0) == 0);
    CHECK(rep->replicated_position() == 0);
    CHECK(stream->Snapshot().back().headers.fence());
  }
  SECTION("a fence of an earlier epoch at resync: fenced too (every writer stores its own first)") {
    auto rep = StartRep(tmp.Sub("j"), 3, stream);
    const Status s = rep->WaitReplicated(more, 10 * kSecond);
    CHECK(s.IsFailedPrecondition());
    CHECK(stream->Snapshot().back().headers.fence());
  }
  SECTION("its own fence: it starts right after it") {
    auto rep = StartRep(tmp.Sub("j"), 2, stream);
    REQUIRE(rep->WaitReplicated(more, 10 * kSecond).ok());
    CheckChain(*stream);
    const auto msgs = stream->Snapshot();
    CHECK(msgs[msgs.size() - 1].headers.epoch == 2);
    CHECK(stream->refused_wrong_last == 0);
  }
}

TEST_CASE("fence: a running writer is fenced at its next publish (the zombie)", "[replication][fence]") {
  rill::test::TempDir tmp("rill-fence");
  TestJournal j(tmp.Sub("j"));
  REQUIRE(j.status().ok());
  const std::uint64_t shipped = j.Commit(50);
  auto stream = std::make_shared<FakeStream>();
  auto rep = StartRep(tmp.Sub("j"), 1, stream);
  REQUIRE(rep->WaitReplicated(shipped, 10 * kSecond).ok());
  const std::uint64_t fence_seq = stream->AppendFence("bank", "0", 2);
  j.Commit(30);  // several messages in flight at once
  const Status s = rep->WaitReplicated(shipped + 1, 10 * kSecond);
  INFO(s.ToString());
  CHECK(s.IsFailedPrecondition());
  CHECK(std::string(s.message()).find("the fence of epoch 2") != std::string::npos);
  CHECK(rep->replicated_position() == shipped);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(stream->Snapshot().size() == fence_seq);  // nothing stored after the fence
  rep->Stop();
  // Restarted (a zombie's resync), it is fenced again before publishing anything.
  auto again = StartRep(tmp.Sub("j"), 1, stream);
  CHECK(again->WaitReplicated(shipped + 1, 10 * kSecond).IsFailedPrecondition());
  CHECK(stream->Snapshot().size() == fence_seq);
}

TEST_CASE("fence: its own fence after other bytes than this journal's is fenced", "[replication][fence]") {
  ShippedJournal sj(50);
  auto& [tmp, j, stream, shipped] = sj;
  // Epoch 2 wrote 3 positions this journal does not hold equal, then epoch 3 fenced after them.
  stream->Append(MsgId("bank", "0", 2, shipped + 1),
                 {.first_position = shipped + 1, .count = 3, .epoch = 2, .schema_fingerprint = kTestSchema},
                 std::vector<std::byte>(64, std::byte{1}));
  stream->AppendFence("bank", "0", 3);
  j.Commit(10);
  auto rep = StartRep(tmp.Sub("j"), 3, stream);
  const Status s = rep->WaitReplicated(shipped + 1, 10 * kSecond);
  INFO(s.ToString());
  CHECK(s.IsFailedPrecondition());
  CHECK(std::string(s.message()).find("other bytes") != std::string::npos);
}

TEST_CASE("fence: a fence with a payload at the stream's end stops the replicator", "[replication][fence]") {
  ShippedJournal sj(10);
  auto& [tmp, j, stream, shipped] = sj;
  stream->Append(FenceMsgId("bank", "0", 2),
                 {.first_position = shipped + 1, .count = 0, .epoch = 2, .schema_fingerprint = kTestSchema},
                 std::vector<std::byte>(8, std::byte{0}));
  auto rep = StartRep(tmp.Sub("j"), 2, stream);
  const Status s = rep->WaitReplicated(shipped + 1, 10 * kSecond);
  CHECK(s.IsCorruption());
  CHECK(std::string(s.message()).find("Rill-Count 0") != std::string::npos);
}

TEST_CASE("fence: reconcile compares a journal with a stream holding fences", "[replication][fence]") {
  ShippedJournal sj(40);
  auto& [tmp, j, stream, shipped] = sj;
  stream->AppendFence("bank", "0", 2);
  FakePort port(stream);

  SECTION("the journal ends where the fence is: a prefix, nothing to move") {
    auto c = CompareJournalWithStream(port, tmp.Sub("j"));
    REQUIRE(c.ok());
    CHECK(c->stream_is_prefix);
    CHECK(c->stream_end == shipped);
    CHECK(c->stream_last_epoch == 2);
    CHECK(c->common_end == shipped);
  }
  SECTION("an unshipped tail after the fence's position: still a prefix (nobody wrote there)") {
    const std::uint64_t local = j.Commit(5);
    auto c = CompareJournalWithStream(port, tmp.Sub("j"));
    REQUIRE(c.ok());
    CHECK(c->stream_is_prefix);
    CHECK(c->common_end == shipped);
    CHECK(c->local_end == local);
  }
  SECTION("another journal before the fence: not a prefix, nothing in common") {
    TestJournal other(tmp.Sub("other"), 1u << 20, 99);
    REQUIRE(other.status().ok());
    other.Commit(60);
    auto c = CompareJournalWithStream(port, tmp.Sub("other"));
    REQUIRE(c.ok());
    CHECK_FALSE(c->stream_is_prefix);
    CHECK(c->common_end == 0);
  }
  SECTION("the new epoch wrote after its fence: not a prefix, common up to the fence") {
    stream->Append(MsgId("bank", "0", 2, shipped + 1),
                   {.first_position = shipped + 1, .count = 3, .epoch = 2, .schema_fingerprint = kTestSchema},
                   std::vector<std::byte>(64, std::byte{1}));
    auto c = CompareJournalWithStream(port, tmp.Sub("j"));
    REQUIRE(c.ok());
    CHECK_FALSE(c->stream_is_prefix);
    CHECK(c->common_end == shipped);
    CHECK(c->stream_end == shipped + 3);
  }
}
