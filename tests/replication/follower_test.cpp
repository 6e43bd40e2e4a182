// The follower (replication/follower.h) against an in-memory stream (fake_stream.h), fed by a
// real Replicator: byte-identical journals, resume by binary search, redelivery skipped, gaps
// and overlaps halted, damaged messages refused whole.
#include "rill/replication/follower.h"

#include <catch2/catch.hpp>

#include "fake_stream.h"
#include "journal_fixture.h"
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
using rill::replication::test::TestSchemaBlob;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

ReplicatorOptions RepOptions(const std::string& dir) { return FakeReplicatorOptions(dir); }

FollowerOptions FolOptions(const std::string& dir) { return FakeFollowerOptions(dir); }

// A leader journal shipped into a fake stream.
struct Shipped {
  rill::test::TempDir tmp{"rill-fol"};
  TestJournal leader{tmp.Sub("leader"), 128u << 10};
  std::shared_ptr<FakeStream> stream = std::make_shared<FakeStream>();
  std::unique_ptr<Replicator> rep;

  std::uint64_t Ship(int batches) {
    const std::uint64_t last = leader.Commit(batches);
    if (!rep) {
      auto r = Replicator::Start(RepOptions(tmp.Sub("leader")), std::make_unique<FakePort>(stream));
      REQUIRE(r.ok());
      rep = std::move(r).value();
    }
    REQUIRE(rep->WaitReplicated(last, 10 * kSecond).ok());
    return last;
  }
  std::unique_ptr<Follower> Follow() {
    auto f = Follower::Start(FolOptions(tmp.Sub("follower")), std::make_unique<FakePort>(stream));
    REQUIRE(f.ok());
    return std::move(f).value();
  }
};

// The leader's batches from `position` on as one message, as a replicator would build it.
OutgoingMessage FromJournal(Shipped& s, std::uint64_t position) {
  auto r = journal::JournalReader::Open({.directory = s.tmp.Sub("leader")});
  REQUIRE(r.ok());
  REQUIRE((*r)->SeekToPosition(position).ok());
  MessageBuilder b(1 << 20);
  journal::RawBatch rb;
  while ((*r)->NextBatch(&rb) == journal::ReadStatus::kRecord)
    REQUIRE(b.Add(rb.first_position, rb.record_count, rb.timestamp_ns, rb.schema_fingerprint, rb.bytes));
  return b.Take(1);
}

void AppendFromJournal(Shipped& s, std::uint64_t position) {
  OutgoingMessage m = FromJournal(s, position);
  s.stream->Append(MsgId("bank", "0", 1, position), m.headers, std::move(m.bytes));
}

}  // namespace

TEST_CASE("a follower's journal is byte for byte the leader's", "[replication][follower]") {
  Shipped s;
  const std::uint64_t first = s.Ship(300);
  auto f = s.Follow();
  REQUIRE(f->WaitApplied(first, 10 * kSecond).ok());
  const std::uint64_t last = s.Ship(200);  // followed live
  REQUIRE(f->WaitApplied(last, 10 * kSecond).ok());
  f->Stop();
  const auto leader = DumpBatches(s.tmp.Sub("leader"));
  REQUIRE(leader.size() == 500);
  CHECK(DumpBatches(s.tmp.Sub("follower")) == leader);
  const FollowerStats st = f->stats();
  CHECK(st.applied_position == last);
  CHECK(st.batches == 500);
  CHECK(st.skipped_messages == 0);
  CHECK(f->final_error().ok());
}

TEST_CASE("a restarted follower resumes after its committed position", "[replication][follower]") {
  Shipped s;
  const std::uint64_t first = s.Ship(100);
  {
    auto f = s.Follow();
    REQUIRE(f->WaitApplied(first, 10 * kSecond).ok());
  }
  s.Ship(200);
  const std::uint64_t last = s.Ship(50);
  auto f = s.Follow();
  REQUIRE(f->WaitApplied(last, 10 * kSecond).ok());
  f->Stop();
  CHECK(f->stats().skipped_messages == 0);  // binary search found the next message
  CHECK(DumpBatches(s.tmp.Sub("follower")) == DumpBatches(s.tmp.Sub("leader")));
}

TEST_CASE("a follower skips redelivered messages and halts on gaps and overlaps", "[replication][follower]") {
  Shipped s;
  const std::uint64_t last = s.Ship(40);
  auto f = s.Follow();
  REQUIRE(f->WaitApplied(last, 10 * kSecond).ok());
  s.rep->Stop();  // the test appends to the stream itself from here
  const auto msgs = s.stream->Snapshot();
  REQUIRE(msgs.size() >= 3);

  SECTION("a redelivered message is skipped") {
    s.stream->Append("again", msgs[1].headers, msgs[1].bytes);
    const std::uint64_t more = s.leader.Commit(5);
    AppendFromJournal(s, last + 1);
    REQUIRE(f->WaitApplied(more, 10 * kSecond).ok());
    CHECK(f->stats().skipped_messages == 1);
    f->Stop();
    CHECK(DumpBatches(s.tmp.Sub("follower")) == DumpBatches(s.tmp.Sub("leader")));
  }
  SECTION("a gap halts with Corruption and appends nothing") {
    // A well-formed message of the leader's, but the batch at last + 1 is missing.
    s.leader.Commit(5);
    auto r = journal::JournalReader::Open({.directory = s.tmp.Sub("leader")});
    REQUIRE(r.ok());
    REQUIRE((*r)->SeekToPosition(last + 1).ok());
    journal::RawBatch skipped;
    REQUIRE((*r)->NextBatch(&skipped) == journal::ReadStatus::kRecord);
    OutgoingMessage m = FromJournal(s, skipped.last_position() + 1);
    s.stream->Append("gap", m.headers, m.bytes);
    const Status st = f->WaitApplied(last + 1, 5 * kSecond);
    CHECK(st.IsCorruption());
    CHECK(std::string(st.message()).find("gap") != std::string::npos);
    CHECK(f->applied_position() == last);
  }
  SECTION("a partial overlap halts with Corruption") {
    MessageHeaders h = msgs.back().headers;
    h.first_position = last;  // overlaps the last position applied
    s.stream->Append("overlap", h, msgs.back().bytes);
    const Status st = f->WaitApplied(last + 1, 5 * kSecond);
    CHECK(st.IsCorruption());
    CHECK(std::string(st.message()).find("partial overlap") != std::string::npos);
  }
  SECTION("a damaged message halts with Corruption and appends nothing") {
    s.leader.Commit(5);
    OutgoingMessage m = FromJournal(s, last + 1);
    m.bytes[m.bytes.size() - 9] ^= std::byte{1};  // inside the last record
    s.stream->Append("damaged", m.headers, m.bytes);
    const Status st = f->WaitApplied(last + 1, 5 * kSecond);
    CHECK(st.IsCorruption());
    CHECK(std::string(st.message()).find("CRC") != std::string::npos);
    CHECK(f->applied_position() == last);  // the valid batches before it were not applied either
  }
}
