// The snapshot's payload-digest check (engine/snapshot.h, SnapshotMismatch): a snapshot whose
// framing and CRCs are valid but whose aggregates do not match the digest it recorded (bytes
// that were wrong before they were checksummed) is refused with the reason, and start-up skips
// it and replays the journal instead. The file is rewritten with the real reader and writer
// (ReadSnapshotFile, WriteSnapshotFile), so only the one balance and the CRCs differ.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "recovery_test_util.h"
#include "rill/engine/snapshot.h"
#include "rill/engine/snapshot_file.h"

namespace {

using namespace rill::recovery_test;
using rill::engine::SnapshotHeader;

constexpr std::int64_t kWait = 30'000'000'000;  // 30 s: generous for a loaded machine, never reached when it works
constexpr const char* kDigestReason = "its aggregates do not match its recorded digest";

void Accept(BankEngine& e, const BankDomain::Command& c, std::uint64_t command_id) {
  const rill::engine::CommandOutcome o = e.execute(c, {.command_id = command_id});
  REQUIRE(o.accepted());
}

// Adds `delta` to the balance of account `id` in a snapshot payload (header h), in place.
void ChangeBalance(const SnapshotHeader& h, std::vector<std::byte>* payload, std::uint64_t id, std::int64_t delta) {
  REQUIRE(h.state_size == sizeof(Account));
  const std::byte* ids = payload->data();
  std::byte* states = payload->data() + h.aggregates * 16;  // after ids and versions
  for (std::uint64_t i = 0; i < h.aggregates; ++i) {
    std::uint64_t got = 0;
    std::memcpy(&got, ids + i * 8, 8);
    if (got != id) continue;
    std::byte* balance = states + i * sizeof(Account) + offsetof(Account, balance);
    std::int64_t b = 0;
    std::memcpy(&b, balance, 8);
    b += delta;
    std::memcpy(balance, &b, 8);
    return;
  }
  FAIL("account " << id << " is not in the snapshot");
}

}  // namespace

TEST_CASE("a snapshot with valid CRCs whose aggregates do not match its digest is skipped", "[recovery][snapshot]") {
  TempDir tmp("rill-snapshot-digest");
  const std::string dir = tmp.Sub("j");
  const std::string snapshots = tmp.Sub("j/snapshots");

  // A small bank (3 accounts, balances 500, 300, 0), a snapshot of it, and a tail after it.
  std::uint64_t position = 0;
  Aggregates state;
  std::uint64_t digest = 0;
  {
    auto o = Options(dir);
    o.snapshot.enabled = true;
    o.snapshot.interval_events = 0;  // only when asked
    auto e = Open(o);
    std::uint64_t id = 1;
    for (std::uint64_t a = 1; a <= 3; ++a)
      Accept(*e, OpenAccount{.account = a, .owner = 100 + a, .currency = 978}, id++);
    Accept(*e, Deposit{.account = 1, .amount = 500}, id++);
    Accept(*e, Deposit{.account = 2, .amount = 300}, id++);
    auto taken = e->TakeSnapshot(kWait);
    INFO(taken.status().ToString());
    REQUIRE(taken.ok());
    position = *taken;
    Accept(*e, Deposit{.account = 3, .amount = 7}, id++);  // the tail
    e->Stop();
    state = Collect(*e);
    digest = Digest(*e);
  }
  REQUIRE(std::get<1>(state.at(2)) == 300);
  const std::string path = snapshots + "/" + rill::engine::SnapshotFileName(position);

  // Read it back with the real reader: intact, and its recorded digest is its payload's.
  SnapshotHeader h{};
  std::vector<std::byte> payload;
  REQUIRE(rill::engine::ReadSnapshotFile(path, position, &h, &payload).empty());
  REQUIRE(h.aggregates == 3);
  REQUIRE(rill::engine::PayloadDigest<BankDomain>(h, payload) == h.digest);
  const rill::engine::SnapshotExpect expect{.schema_fingerprint = h.schema_fingerprint,
                                            .build_id = rill::engine::SnapshotBuildId<BankDomain>(0),
                                            .journal_end = position};
  REQUIRE(h.build_id == expect.build_id);
  const std::uint64_t recorded = h.digest;

  SECTION("rewritten unchanged (the control): used") {
    REQUIRE(rill::engine::WriteSnapshotFile(snapshots, h, payload, 10).ok());
    SnapshotHeader again{};
    std::vector<std::byte> again_payload;
    REQUIRE(rill::engine::ReadSnapshotFile(path, position, &again, &again_payload).empty());
    CHECK(rill::engine::SnapshotMismatch<BankDomain>(again, again_payload, expect).empty());

    auto e = Open(Options(dir));
    const rill::engine::RecoveryInfo& r = e->recovery();
    CHECK(r.snapshot_notes.empty());
    CHECK(r.snapshot_position == position);
    CHECK(r.replayed_events == r.committed_position - position);
    CHECK(r.state_digest == digest);
    e->Stop();
    CHECK(Collect(*e) == state);
  }

  SECTION("one balance changed, CRCs recomputed, the old digest kept") {
    ChangeBalance(h, &payload, 2, 1'000);
    REQUIRE(rill::engine::WriteSnapshotFile(snapshots, h, payload, 10).ok());  // same position: replaces it

    // The framing is valid: the reader accepts the file, header CRC and payload CRC included.
    SnapshotHeader bad{};
    std::vector<std::byte> bad_payload;
    REQUIRE(rill::engine::ReadSnapshotFile(path, position, &bad, &bad_payload).empty());
    REQUIRE(bad.digest == recorded);
    REQUIRE(bad_payload == payload);
    REQUIRE(rill::engine::PayloadDigest<BankDomain>(bad, bad_payload) != recorded);

    SECTION("loading it is refused, with the reason") {
      CHECK(rill::engine::SnapshotMismatch<BankDomain>(bad, bad_payload, expect) == kDigestReason);
      std::vector<std::string> notes;
      const auto found = rill::engine::FindSnapshot<BankDomain>(snapshots, expect, &notes);
      CHECK_FALSE(found.has_value());
      CHECK(notes == std::vector<std::string>{"snapshot " + path + " skipped: " + kDigestReason});
    }

    SECTION("start-up skips it, says why, and replays the whole journal") {
      auto e = Open(Options(dir));
      const rill::engine::RecoveryInfo& r = e->recovery();
      CHECK(r.snapshot_notes == std::vector<std::string>{"snapshot " + path + " skipped: " + kDigestReason});
      CHECK(r.snapshot_position == 0);
      CHECK(r.snapshot_path.empty());
      CHECK(r.replayed_events == r.committed_position);
      CHECK(r.state_digest == digest);
      e->Stop();
      const Aggregates after = Collect(*e);
      CHECK(std::get<1>(after.at(2)) == 300);  // the true balance, not the snapshot's 1300
      CHECK(after == state);
    }
  }
}
