// rill/engine/snapshotter.h: takes aggregate snapshots without ever pausing the writer. Its
// own thread follows the journal's committed records with a JournalReader and replays them
// into a shadow CommandProcessor (aggregates + idempotency window); every interval it writes
// that shadow, at the end of a batch that the journal has made durable, to a snapshot file.
//
//   rill::engine::Snapshotter<BankDomain> s(config, registry, std::move(loaded_snapshot));
//   s.Start();                                  // after the engine's own recovery
//   Result<std::uint64_t> at = s.SnapshotNow(committed, 10'000'000'000);   // tests, operators
//   s.Stop();
//
// The writer's only cost is the page cache the reader shares with it: no lock, no copy, no
// fork. The shadow starts from the snapshot the engine loaded (handed over, not re-read) or
// from the journal's start, and catches up in the background. A snapshot never records a
// position beyond what the journal reports durable (DESIGN.md, Recovery). Digest records met
// on the way are checked against the shadow's digest: a divergence is logged once.
// Thread safety: Start/Stop/SnapshotNow from the owning thread; stats() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/engine_counters.h"
#include "rill/engine/journal_replay.h"
#include "rill/engine/snapshot.h"
#include "rill/engine/snapshot_options.h"
#include "rill/journal/journal_reader.h"

namespace rill::engine {

struct SnapshotterStats {
  std::uint64_t snapshots = 0;      // files written by this snapshotter
  std::uint64_t last_position = 0;  // of the newest one (0: none yet)
  std::uint64_t applied = 0;        // the shadow's position
  std::int64_t last_write_ns = 0;   // encode + write + fsync + rename of the newest
  std::int64_t max_write_ns = 0;
  std::uint64_t last_bytes = 0;
  std::optional<DigestMismatch> digest_mismatch;
  Status error;  // why the thread stopped early, if it did
};

template <typename D>
class Snapshotter {
 public:
  struct Config {
    std::string journal_dir;
    std::string snapshot_dir;
    SnapshotOptions options;
    ProcessorOptions processor;  // the writer's: the shadow's window must be as large
    std::uint64_t schema_fingerprint = 0;
    std::uint64_t build_id = 0;
    std::function<void(const std::string&)> log;      // one line per event worth telling
    observability::CountersFile* counters = nullptr;  // the engine's (engine_counters.h); null: none
  };

  // `start`: the snapshot the engine recovered from (its payload is moved in), or nullopt.
  // REQUIRES: registry outlives the snapshotter.
  Snapshotter(Config config, const codecs::SchemaRegistry& registry, std::optional<FoundSnapshot> start)
      : config_(std::move(config)), registry_(registry), start_(std::move(start)) {
    if (start_) stats_.last_position = start_->header.position;  // that file exists: SnapshotNow counts it
    if (config_.counters != nullptr) {
      Result<SnapshotCounters> c = SnapshotCounters::Register(*config_.counters);
      if (c.ok()) {
        counters_ = *c;
      } else {
        Log("snapshot counters not published: " + c.status().ToString());
      }
    }
  }
  ~Snapshotter() { Stop(); }
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  void Start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { Run(); });
  }

  // Idempotent. A snapshot being written is finished first.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Asks for a snapshot at `position` or later (e.g. the committed position now) and waits
  // for it: its position, TimedOut, or the snapshotter's error.
  Result<std::uint64_t> SnapshotNow(std::uint64_t position, std::int64_t timeout_ns) {
    std::unique_lock<std::mutex> lock(mu_);
    if (requested_ < position) requested_ = position;
    const auto done = [&] { return stats_.last_position >= position || !stats_.error.ok() || stop_; };
    if (!cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), done))
      return Status::TimedOut("no snapshot at position " + std::to_string(position) + " yet (the shadow is at " +
                              std::to_string(stats_.applied) + ")");
    if (!stats_.error.ok()) return stats_.error;
    if (stats_.last_position < position) return Status::Unavailable("the snapshotter stopped");
    return stats_.last_position;
  }

  SnapshotterStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  using Clock = std::chrono::steady_clock;

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

  void Fail(const Status& s) {
    Log("snapshotter stopped, no more snapshots until a restart: " + s.ToString());
    std::lock_guard<std::mutex> lock(mu_);
    stats_.error = s;
    cv_.notify_all();
  }

  void Log(const std::string& line) const {
    if (config_.log) config_.log(line);
  }

  void Run() {
    // The shadow lives on this thread only (its store asserts its owner in debug builds).
    auto shadow = std::make_unique<CommandProcessor<D>>(config_.processor);
    std::uint64_t applied = 0;
    if (start_) {
      if (Status s = ApplySnapshot<D>(*start_, shadow.get()); !s.ok()) return Fail(s.WithContext("snapshotter"));
      applied = start_->header.position;
      start_.reset();  // frees the payload
    }
    Result<std::unique_ptr<journal::JournalReader>> r =
        journal::JournalReader::Open({.directory = config_.journal_dir});
    if (!r.ok()) return Fail(r.status().WithContext("snapshotter"));
    journal::JournalReader& reader = **r;
    if (applied != 0) {
      if (Status s = reader.SeekToPosition(applied + 1); !s.ok()) return Fail(s.WithContext("snapshotter"));
    }
    JournalReplayer<D> replayer(registry_, shadow.get());
    ReplayProgress progress;
    progress.last_position = applied;
    std::uint64_t snapshot_position = applied, events_at_snapshot = 0;
    Clock::time_point snapshot_time = Clock::now();
    bool mismatch_logged = false;
    while (!Stopping()) {
      // Bounded steps, so a long catch-up still looks at stop_ and at the intervals.
      if (Status s = replayer.Run(reader, {.max_records = 4096}, &progress); !s.ok())
        return Fail(s.WithContext("snapshotter replay"));
      if (progress.digest_mismatch && !mismatch_logged) {
        mismatch_logged = true;
        const DigestMismatch& m = *progress.digest_mismatch;
        Log("determinism check failed: the digest record at position " + std::to_string(m.position) + " says " +
            std::to_string(m.recorded) + ", the replayed state gives " + std::to_string(m.computed) +
            " (Evolve is not deterministic, or the domain code changed): run `rill replay --verify`");
      }
      std::uint64_t requested;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.applied = progress.last_position;
        stats_.digest_mismatch = progress.digest_mismatch;
        requested = requested_;
      }
      if (counters_) counters_->Applied(progress.last_position);
      const std::uint64_t pos = progress.last_position;
      const bool fresh = pos > snapshot_position;
      const SnapshotOptions& o = config_.options;
      const bool due =
          fresh && progress.end_of_batch &&
          ((o.interval_events != 0 && progress.events - events_at_snapshot >= o.interval_events) ||
           (o.interval_ms != 0 && Clock::now() - snapshot_time >= std::chrono::milliseconds(o.interval_ms)) ||
           (requested > snapshot_position && pos >= requested));
      if (due) {
        if (!WaitDurable(reader, pos)) break;
        if (Status s = Write(shadow.get(), pos); !s.ok()) return Fail(s);
        snapshot_position = pos;
        events_at_snapshot = progress.events;
        snapshot_time = Clock::now();
        continue;
      }
      if (progress.reached_end) reader.WaitForCommit(static_cast<std::int64_t>(o.idle_wait_ms) * 1'000'000);
    }
  }

  // A snapshot must not claim more than the journal keeps after a power loss. Polls: a cold
  // path, and the syncer needs at most a sync interval.
  bool WaitDurable(journal::JournalReader& reader, std::uint64_t position) {
    while (reader.durable_position() < position) {
      if (Stopping()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  Status Write(CommandProcessor<D>* shadow, std::uint64_t position) {
    const Clock::time_point t0 = Clock::now();
    shadow->FinishReplay();  // remembers the batch's last command in the window; safe at a batch end
    SnapshotHeader h = EncodeSnapshot(*shadow, &buffer_);
    h.position = position;
    h.schema_fingerprint = config_.schema_fingerprint;
    h.build_id = config_.build_id;
    RILL_RETURN_IF_ERROR(WriteSnapshotFile(config_.snapshot_dir, h, buffer_, config_.options.keep));
    const std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
    if (counters_) {
      const auto now = std::chrono::system_clock::now().time_since_epoch();
      counters_->Written(position, std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(), ns,
                         buffer_.size() + kSnapshotHeaderSize);
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.snapshots;
    stats_.last_position = position;
    stats_.last_write_ns = ns;
    stats_.max_write_ns = std::max(stats_.max_write_ns, ns);
    stats_.last_bytes = buffer_.size() + kSnapshotHeaderSize;
    cv_.notify_all();
    return Status::OK();
  }

  const Config config_;
  const codecs::SchemaRegistry& registry_;
  std::optional<FoundSnapshot> start_;
  std::vector<std::byte> buffer_;  // the payload, reused

  mutable std::mutex mu_;  // cold: once per 4096 records, and the stats
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t requested_ = 0;
  SnapshotterStats stats_;
  std::optional<SnapshotCounters> counters_;  // snapshot thread only, after construction
  std::thread thread_;
};

}  // namespace rill::engine
