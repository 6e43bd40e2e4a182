// The snapshotter thread beside a busy writer (run under ThreadSanitizer too): producers
// submit while snapshots are taken every few hundred events; afterwards the newest snapshot +
// its tail rebuilds exactly the state of a full replay.
// Forbidden outcomes: a data race between writer, snapshotter and producers; a snapshot whose
// state differs from the journal's at its position; a snapshot beyond the committed end.
#include <atomic>
#include <thread>
#include <vector>

#include "recovery_test_util.h"

using namespace rill::recovery_test;

TEST_CASE("snapshots taken beside a busy writer are exact", "[recovery][snapshot][stress]") {
  TempDir tmp("rill-snapshotter");
  auto o = Options(tmp.Sub("j"));
  o.snapshot.enabled = true;
  o.snapshot.interval_events = 300;
  o.snapshot.keep = 3;
  o.digest_interval_commands = 64;
  std::uint64_t digest = 0;
  {
    auto e = Open(o);
    RunWorkload(*e, 11, 0, 20);  // the accounts
    std::vector<std::thread> producers;
    for (int t = 0; t < 2; ++t)
      producers.emplace_back([&, t] {
        rill::engine::Completion done;
        for (std::uint64_t i = 0; i < 3000; ++i) {
          const auto cmd = WorkloadCommand(11, 20 + i * 2 + static_cast<std::uint64_t>(t));
          e->submit(cmd, {.command_id = 10'000 + i * 2 + static_cast<std::uint64_t>(t)},
                    rill::engine::AckLevel::kJournaled, done);
          done.Wait();
        }
      });
    for (auto& p : producers) p.join();
    auto at = e->TakeSnapshot(60'000'000'000);
    REQUIRE(at.ok());
    CHECK(*at <= e->committed_position());
    const auto stats = e->snapshotter_stats();
    REQUIRE(stats);
    CHECK(stats->snapshots >= 2);
    CHECK_FALSE(stats->digest_mismatch);
    CHECK(stats->error.ok());
    e->Stop();
    digest = Digest(*e);
  }
  auto from_snapshot = Open(o);
  CHECK(from_snapshot->recovery().snapshot_position > 0);
  CHECK(from_snapshot->recovery().state_digest == digest);
  CHECK_FALSE(from_snapshot->recovery().digest_mismatch);
  from_snapshot->Stop();
  auto no_snapshot = o;
  no_snapshot.snapshot.enabled = false;
  no_snapshot.snapshot.load = false;
  auto full = Open(no_snapshot);
  CHECK(full->recovery().state_digest == digest);
  full->Stop();
  CHECK(Collect(*full) == Collect(*from_snapshot));
}
