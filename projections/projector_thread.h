// rill/projections/projector_thread.h: a thread that follows a journal and feeds one or more
// read models, pinned to a CPU.
//
//   rill::projections::ProjectorThreadOptions o;
//   o.name = "bank-views"; o.journal_directory = dir; o.registry = &registry; o.cpu = 1;
//   o.checkpoint_directory = dir + "/checkpoints";
//   auto t = rill::projections::ProjectorThread::Create(std::move(o)).value();
//   auto* balances = t->Add<rill::projections::bank::Balances>();
//   auto* top = t->Add<rill::projections::bank::TopAccounts>();
//   RILL_RETURN_IF_ERROR(t->Start());          // loads checkpoints, then catches up
//   // any thread:
//   std::uint64_t at = t->ReadConsistent([&] { a = balances->model().Get(1); b = top->model().Top(); });
//
// Per record: one decode (verified by default), then each projector's Apply. Applied
// positions are published once per batch, at a journal batch boundary, so a query never sees
// half a command's events as applied. Several projectors share the thread when cores are few.
//
// Thread safety: Create/Add/Start/Stop from one controlling thread; ReadConsistent, the
// getters and every Projector's public members from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rill/base/cache_line.h"
#include "rill/base/result.h"
#include "rill/codecs/schema_registry.h"
#include "rill/journal/journal_reader.h"
#include "rill/projections/checkpoint.h"
#include "rill/projections/projector.h"
#include "rill/projections/projector_counters.h"
#include "rill/projections/seqlock.h"

namespace rill::projections {

struct ProjectorThreadOptions {
  std::string name = "projector";
  std::string journal_directory;
  const codecs::SchemaRegistry* registry = nullptr;  // REQUIRES: outlives the thread
  int cpu = -1;  // pin to this CPU; -1: no pinning; a missing CPU warns and runs unpinned
  // Decode verifies every body (bytes from disk). DecodeTrusted is safe only for records this
  // process's own writer appended in this run (codecs/decoder.h); set false only then.
  bool verify = true;
  std::size_t max_batch_events = 4096;     // publish at least this often (at a journal batch end)
  std::int64_t idle_wait_ns = 10'000'000;  // longest sleep on the journal; bounds Stop latency
  // Checkpoints: empty directory = none. A checkpoint is taken once `checkpoint_every_events`
  // were applied and `checkpoint_min_interval_ns` passed, only at positions the journal has
  // made durable, and on Stop.
  std::string checkpoint_directory;
  std::uint64_t checkpoint_every_events = 1'000'000;
  std::int64_t checkpoint_min_interval_ns = 1'000'000'000;
  int keep_checkpoints = 2;
  std::uint64_t schema_fingerprint = 0;  // 0: registry->fingerprint()
  // Live counters (observability/): each read model's position, lag, events and state, in the
  // engine's counters file (Engine::counters_file()). Null: none. REQUIRES: outlives the thread.
  observability::CountersFile* counters = nullptr;
  // Warnings (pinning fallback, skipped checkpoints); default: stderr.
  std::function<void(const std::string&)> warn;
};

class ProjectorThread {
 public:
  // InvalidArgument without a registry or directory; the journal's errors from opening it.
  static Result<std::unique_ptr<ProjectorThread>> Create(ProjectorThreadOptions options);
  ~ProjectorThread();  // Stop()
  ProjectorThread(const ProjectorThread&) = delete;
  ProjectorThread& operator=(const ProjectorThread&) = delete;

  // Adds a read model (before Start). The projector lives as long as this thread.
  template <ReadModel M, typename... Args>
  TypedProjector<M>* Add(ProjectorOptions options = {}, Args... args) {
    auto p =
        std::make_unique<TypedProjector<M>>(std::move(options), [args...] { return std::make_unique<M>(args...); });
    TypedProjector<M>* raw = p.get();
    Adopt(std::move(p));
    return raw;
  }

  // Loads each projector's newest valid checkpoint, seeks, and starts the thread.
  Status Start();
  // Stops the thread (within idle_wait_ns), writes final checkpoints, waits for them.
  void Stop();

  // Runs f (queries on several of this thread's read models) so that everything it reads is
  // as of one batch boundary; returns that position. f may run more than once: it must only
  // read. Projectors that halted stay at their own, older position.
  template <typename F>
  std::uint64_t ReadConsistent(F&& f) const {
    for (unsigned attempt = 0;; ++attempt) {
      // Acquire: pairs with the release in EndBatch; every model write of the batches up to
      // s1 is visible to f's reads.
      const std::uint64_t s1 = batch_seq_.load(std::memory_order_acquire);
      if ((s1 & 1) == 0) {
        const std::uint64_t position = consistent_position_.load(std::memory_order_relaxed);
        f();
        // Acquire fence: f's (atomic) reads happen before the re-check, as in SeqlockWords.
        std::atomic_thread_fence(std::memory_order_acquire);
        if (batch_seq_.load(std::memory_order_relaxed) == s1) return position;
      }
      if (attempt < 64) {
        SeqlockWords<1>::CpuRelax();
      } else {
        std::this_thread::yield();  // the projector is mid-batch: let it finish
      }
    }
  }

  bool pinned() const noexcept { return pinned_.load(std::memory_order_relaxed); }
  const Status& pin_status() const noexcept { return pin_status_; }  // after Start
  const std::vector<std::unique_ptr<Projector>>& projectors() const noexcept { return projectors_; }
  std::uint64_t committed_seen() const noexcept { return committed_seen_.load(std::memory_order_relaxed); }

 private:
  explicit ProjectorThread(ProjectorThreadOptions options);
  void Adopt(std::unique_ptr<Projector> p);
  void Run();
  void ProcessRecord(const journal::Record& rec);
  void BeginBatch() noexcept;
  void EndBatch(std::uint64_t position, std::int64_t timestamp_ns);
  void MaybeCheckpoint(bool force);
  bool RebuildStep();  // true when it made progress
  void HaltAll(std::uint64_t position, const std::string& why);
  void PublishCounters();
  void Warn(const std::string& msg) const;

  ProjectorThreadOptions options_;
  std::unique_ptr<journal::JournalReader> reader_;
  std::unique_ptr<codecs::Decoder> decoder_;
  std::vector<std::unique_ptr<Projector>> projectors_;
  std::unique_ptr<CheckpointWriter> checkpoints_;
  std::vector<ProjectorCounters> counters_;  // parallel to projectors_ when options_.counters is set
  std::thread thread_;
  Status pin_status_;
  std::atomic<bool> pinned_{false};
  std::atomic<bool> stop_{false};  // relaxed: polled by the thread between batches
  bool in_batch_ = false;
  // Rebuild state (projector thread only).
  Projector* rebuilding_ = nullptr;
  std::unique_ptr<journal::JournalReader> rebuild_reader_;
  std::unique_ptr<codecs::Decoder> rebuild_decoder_;
  std::uint64_t rebuild_pos_ = 0;
  // Set by Projector::RequestRebuild (any thread); relaxed: the request itself is under the
  // projector's mutex, this only tells the thread to look.
  std::atomic<bool> rebuild_signal_{false};

  // Odd while a batch is being applied to the models; see ReadConsistent.
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> batch_seq_{0};
  std::atomic<std::uint64_t> consistent_position_{0};                         // written in odd windows only
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> committed_seen_{0};  // relaxed: lag
};

}  // namespace rill::projections
