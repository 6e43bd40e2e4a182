// Start-up: a restart rebuilds exactly the state of an uninterrupted run; snapshot + tail
// equals a full replay; unusable snapshots are skipped with a reason; the idempotency window
// survives a restart, whether it comes from the snapshot or from the journal's tail.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "recovery_test_util.h"
#include "rill/base/crc32c.h"
#include "rill/engine/snapshot_file.h"

namespace {

using namespace rill::recovery_test;
using rill::engine::SnapshotHeader;

constexpr std::uint64_t kSeed = 7;
constexpr std::int64_t kWait = 30'000'000'000;  // 30 s: generous for a loaded machine, never reached when it works

// Rewrites a snapshot file's header (fields changed by `edit`), with a valid header CRC.
template <typename Edit>
void EditHeader(const std::string& path, Edit&& edit) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  SnapshotHeader h{};
  f.read(reinterpret_cast<char*>(&h), sizeof h);
  edit(h);
  h.header_crc = rill::crc32c::Mask(rill::crc32c::Value(&h, offsetof(SnapshotHeader, header_crc)));
  f.seekp(0);
  f.write(reinterpret_cast<const char*>(&h), sizeof h);
}

void FlipByte(const std::string& path, off_t offset) {
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  unsigned char b = 0;
  REQUIRE(::pread(fd, &b, 1, offset) == 1);
  b ^= 0x5a;
  REQUIRE(::pwrite(fd, &b, 1, offset) == 1);
  ::close(fd);
}

bool AnyNoteHas(const std::vector<std::string>& notes, const std::string& path, const std::string& why) {
  for (const std::string& n : notes)
    if (n.find(path) != std::string::npos && n.find(why) != std::string::npos) return true;
  return false;
}

// Two snapshots (older at `first`, newer at `second`) and a tail after the newer one.
struct TwoSnapshots {
  std::uint64_t first = 0, second = 0;
  Aggregates state;
  std::uint64_t digest = 0;
};
TwoSnapshots MakeTwoSnapshots(const std::string& dir) {
  TwoSnapshots t;
  auto o = Options(dir);
  o.snapshot.enabled = true;
  o.snapshot.interval_events = 0;  // only when asked
  auto e = Open(o);
  RunWorkload(*e, kSeed, 0, 100);
  auto a = e->TakeSnapshot(kWait);
  REQUIRE(a.ok());
  RunWorkload(*e, kSeed, 100, 200);
  auto b = e->TakeSnapshot(kWait);
  REQUIRE(b.ok());
  RunWorkload(*e, kSeed, 200, 250);
  e->Stop();
  t.first = *a;
  t.second = *b;
  REQUIRE(t.first < t.second);
  t.state = Collect(*e);
  t.digest = Digest(*e);
  return t;
}

}  // namespace

TEST_CASE("a restart rebuilds the state of an uninterrupted run (same digest)", "[recovery][restart]") {
  TempDir tmp("rill-recovery");
  auto whole = Open(Options(tmp.Sub("whole")));
  RunWorkload(*whole, kSeed, 0, 300);
  whole->Stop();

  auto part = Open(Options(tmp.Sub("split")));
  RunWorkload(*part, kSeed, 0, 120);
  part->Stop();
  part = Open(Options(tmp.Sub("split")));  // restart in the middle
  CHECK(part->recovery().replayed_events > 0);
  RunWorkload(*part, kSeed, 120, 300);
  part->Stop();

  CHECK(Digest(*part) == Digest(*whole));
  CHECK(Collect(*part) == Collect(*whole));
  // And a third open of the uninterrupted journal recovers the same digest.
  auto again = Open(Options(tmp.Sub("whole")));
  CHECK(again->recovery().state_digest == Digest(*whole));
}

TEST_CASE("snapshot + tail equals a full replay", "[recovery][snapshot]") {
  TempDir tmp("rill-recovery");
  const TwoSnapshots t = MakeTwoSnapshots(tmp.Sub("j"));

  auto from_snapshot = Open(Options(tmp.Sub("j")));
  const rill::engine::RecoveryInfo& r = from_snapshot->recovery();
  CHECK(r.snapshot_position == t.second);
  CHECK(r.snapshot_path.find(rill::engine::SnapshotFileName(t.second)) != std::string::npos);
  CHECK(r.snapshot_notes.empty());
  CHECK(r.replayed_events == r.committed_position - t.second);  // only the tail (no digest records here)
  CHECK(r.state_digest == t.digest);
  from_snapshot->Stop();
  CHECK(Collect(*from_snapshot) == t.state);

  auto o = Options(tmp.Sub("j"));
  o.snapshot.load = false;
  auto full = Open(o);
  CHECK(full->recovery().snapshot_position == 0);
  CHECK(full->recovery().replayed_events == full->recovery().committed_position);
  CHECK(full->recovery().state_digest == t.digest);
  full->Stop();
  CHECK(Collect(*full) == t.state);
}

TEST_CASE("an unusable snapshot is skipped with the reason and an older one is used", "[recovery][snapshot]") {
  TempDir tmp("rill-recovery");
  const TwoSnapshots t = MakeTwoSnapshots(tmp.Sub("j"));
  const std::string newest = tmp.Sub("j/snapshots/" + rill::engine::SnapshotFileName(t.second));
  const std::string older = tmp.Sub("j/snapshots/" + rill::engine::SnapshotFileName(t.first));

  std::string why;
  SECTION("a corrupted payload byte") {
    FlipByte(newest, rill::engine::kSnapshotHeaderSize + 5);
    why = "payload checksum mismatch";
  }
  SECTION("a corrupted header byte") {
    FlipByte(newest, 30);
    why = "header checksum mismatch";
  }
  SECTION("truncated") {
    REQUIRE(::truncate(newest.c_str(), rill::engine::kSnapshotHeaderSize + 8) == 0);
    why = "truncated";
  }
  SECTION("another schema fingerprint") {
    EditHeader(newest, [](SnapshotHeader& h) { h.schema_fingerprint ^= 1; });
    why = "schema fingerprint";
  }
  SECTION("another build of the domain") {
    EditHeader(newest, [](SnapshotHeader& h) { h.build_id ^= 1; });
    why = "another build";
  }
  SECTION("a position beyond the journal's end (lost after a power failure)") {
    std::vector<std::byte> payload;
    SnapshotHeader h{};
    REQUIRE(rill::engine::ReadSnapshotFile(newest, t.second, &h, &payload).empty());
    h.position = 1'000'000;
    REQUIRE(rill::engine::WriteSnapshotFile(tmp.Sub("j/snapshots"), h, payload, 10).ok());
    why = "beyond the journal's end";
    auto e = Open(Options(tmp.Sub("j")));
    CHECK(AnyNoteHas(e->recovery().snapshot_notes, rill::engine::SnapshotFileName(1'000'000), why));
    CHECK(e->recovery().snapshot_position == t.second);
    CHECK(e->recovery().state_digest == t.digest);
    return;
  }
  auto e = Open(Options(tmp.Sub("j")));
  const rill::engine::RecoveryInfo& r = e->recovery();
  INFO((r.snapshot_notes.empty() ? std::string("no notes") : r.snapshot_notes[0]));
  CHECK(r.snapshot_notes.size() == 1);
  CHECK(AnyNoteHas(r.snapshot_notes, newest, why));
  CHECK(r.snapshot_position == t.first);
  CHECK(r.state_digest == t.digest);
  e->Stop();
  CHECK(Collect(*e) == t.state);

  // Both unusable: a full replay, still the same state.
  FlipByte(older, rill::engine::kSnapshotHeaderSize + 1);
  auto full = Open(Options(tmp.Sub("j")));
  CHECK(full->recovery().snapshot_position == 0);
  CHECK(full->recovery().snapshot_notes.size() == 2);
  CHECK(full->recovery().state_digest == t.digest);
}

TEST_CASE("a bumped domain_version ignores older snapshots and replays the journal", "[recovery][snapshot]") {
  TempDir tmp("rill-recovery");
  const TwoSnapshots t = MakeTwoSnapshots(tmp.Sub("j"));
  auto o = Options(tmp.Sub("j"));
  o.snapshot.domain_version = 2;
  auto e = Open(o);
  CHECK(e->recovery().snapshot_position == 0);
  CHECK(e->recovery().snapshot_notes.size() == 2);
  CHECK(e->recovery().state_digest == t.digest);
}

TEST_CASE("the idempotency window survives a restart from a snapshot and from its tail", "[recovery][idempotency]") {
  TempDir tmp("rill-recovery");
  auto o = Options(tmp.Sub("j"));
  o.snapshot.enabled = true;
  o.snapshot.interval_events = 0;
  rill::engine::CommandOutcome in_snapshot, in_tail;
  {
    auto e = Open(o);
    RunWorkload(*e, kSeed, 0, 40);
    in_snapshot = e->execute(Deposit{.account = 3, .amount = 11}, {.command_id = 777});
    REQUIRE(in_snapshot.accepted());
    REQUIRE(e->TakeSnapshot(kWait).ok());
    in_tail = e->execute(Transfer{.from = 3, .to = 4, .amount = 5}, {.command_id = 778});
    REQUIRE(in_tail.accepted());
    RunWorkload(*e, kSeed, 40, 60);
  }
  auto e = Open(o);
  REQUIRE(e->recovery().snapshot_position >= in_snapshot.position());
  REQUIRE(e->recovery().snapshot_position < in_tail.position());
  const auto retry1 = e->execute(Deposit{.account = 3, .amount = 11}, {.command_id = 777});
  CHECK(retry1.duplicate());
  CHECK(retry1.position() == in_snapshot.position());
  CHECK(retry1.stream_version() == in_snapshot.stream_version());
  const auto retry2 = e->execute(Transfer{.from = 3, .to = 4, .amount = 5}, {.command_id = 778});
  CHECK(retry2.duplicate());
  CHECK(retry2.position() == in_tail.position());
  CHECK(retry2.event_count() == 2);
  // A different payload under a remembered id is still told apart (the fingerprint survives).
  const auto mismatch = e->execute(Deposit{.account = 3, .amount = 12}, {.command_id = 777});
  CHECK(mismatch.code() == rill::engine::RejectCode::kDuplicateCommandMismatch);
}

TEST_CASE("recovery reports each step's duration", "[recovery][restart]") {
  TempDir tmp("rill-recovery");
  {
    auto e = Open(Options(tmp.Sub("j")));
    RunWorkload(*e, kSeed, 0, 50);
  }
  auto e = Open(Options(tmp.Sub("j")));
  const rill::engine::RecoveryInfo& r = e->recovery();
  CHECK(r.open_journal_ns > 0);
  CHECK(r.replay_ns > 0);
  CHECK(r.total_ns >= r.open_journal_ns + r.load_snapshot_ns + r.replay_ns);
}
