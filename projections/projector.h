// rill/projections/projector.h: one read model as a ProjectorThread runs it: its applied
// position (wait_for), lag, failure policy, parked events, and rebuild-with-swap.
//
//   auto* balances = thread->Add<rill::projections::bank::Balances>({.on_failure = FailurePolicy::kPark});
//   ...
//   rill::Status s = balances->WaitFor(position_of_my_write, deadline);   // read-your-writes
//   auto b = balances->model().Get(account);                              // any thread, ns
//   rill::projections::Lag lag = balances->lag();
//
// Thread safety: the public members are callable from any thread. A Projector is owned by
// its ProjectorThread and lives as long as it does.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "rill/base/status.h"
#include "rill/codecs/decoder.h"
#include "rill/projections/applied_position.h"
#include "rill/projections/read_model.h"

namespace rill::projections {

enum class FailurePolicy : std::uint8_t {
  kHalt,  // default: stop this projector at the failing event; WaitFor returns Unavailable
  kSkip,  // count the event and go on
  kPark,  // record (position, error) in parked() and go on; halts once max_parked are held
};

struct ProjectorOptions {
  FailurePolicy on_failure = FailurePolicy::kHalt;
  std::size_t max_parked = 1024;
  // Called on the projector thread after each published batch, with the applied position.
  // For the engine's applied(view) acknowledgement: complete the commands whose last event
  // is <= position. Must not block; keep it to a few stores and a wake-up.
  std::function<void(std::uint64_t position)> on_applied;
  // Called on the projector thread once, when the projector halts (kHalt, a full park list, or
  // an unreadable journal): position of the failing event and the error. The engine fails the
  // commands still waiting for applied(view) with it: WaitFor would return Unavailable too.
  std::function<void(std::uint64_t position, const std::string& reason)> on_halted;
};

struct ParkedEvent {
  std::uint64_t position = 0;
  std::string error;
};

struct Lag {
  std::uint64_t events = 0;  // committed position seen by the projector thread - applied position
  std::int64_t ns = 0;       // 0 when caught up, else now - timestamp of the last applied batch
};

struct RebuildProgress {
  bool running = false;
  std::uint64_t position = 0;  // the shadow copy has applied up to here
  std::uint64_t target = 0;    // the live copy's position it must reach to take over
  std::uint64_t swaps = 0;     // completed rebuilds
  std::string error;           // why the last rebuild was abandoned, if it was
};

class ProjectorThread;

class Projector {
 public:
  virtual ~Projector() = default;
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  const std::string& name() const noexcept { return applied_.name(); }
  std::uint64_t applied_position() const noexcept { return applied_.position(); }
  const AppliedPosition& applied() const noexcept { return applied_; }
  Status WaitFor(std::uint64_t position, AppliedPosition::Clock::time_point deadline) const {
    return applied_.WaitFor(position, deadline);
  }
  Status WaitFor(std::uint64_t position, std::chrono::nanoseconds timeout) const {
    return applied_.WaitFor(position, timeout);
  }
  bool halted() const noexcept { return applied_.halted(); }
  // OK, or the Unavailable status that names the failing position and the error.
  Status halt_status() const;
  Lag lag() const noexcept;
  std::uint64_t skipped() const noexcept { return skipped_.load(std::memory_order_relaxed); }
  std::vector<ParkedEvent> parked() const;
  // Starts a rebuild from the journal's first position into a shadow copy, which takes over
  // when it reaches the live copy's position (in a batch gap, so at an exact position). The
  // live copy keeps answering meanwhile. InvalidArgument when halted or already rebuilding.
  Status RequestRebuild();
  RebuildProgress rebuild_progress() const;
  std::uint64_t checkpoint_position() const noexcept { return checkpoint_pos_.load(std::memory_order_relaxed); }

 protected:
  Projector(std::string name, ProjectorOptions options) : options_(std::move(options)), applied_(std::move(name)) {}

 private:
  friend class ProjectorThread;
  // Projector-thread interface (type-erased model). `shadow` selects the rebuild copy.
  virtual const char* ApplyEvent(const codecs::DecodedEvent& e, bool shadow) = 0;
  virtual void EndModelBatch(std::uint64_t position, bool shadow) = 0;
  virtual void SaveModel(std::vector<std::byte>& out) const = 0;
  virtual Status LoadModel(std::span<const std::byte> in) = 0;
  virtual void ResetModel() = 0;  // a fresh live copy (a checkpoint that failed to load)
  virtual void NewShadow() = 0;   // a fresh shadow copy
  virtual void DropShadow() = 0;
  virtual void SwapShadow() = 0;  // the shadow becomes live; the old copy is retired
  virtual std::uint32_t model_version() const = 0;

  // Applies the failure policy; returns false when the projector halted.
  bool Fail(std::uint64_t position, const char* what, const std::string& detail);
  void PublishBatch(std::uint64_t position, std::int64_t timestamp_ns);

  ProjectorOptions options_;
  AppliedPosition applied_;
  // Projector-thread state.
  std::uint64_t local_applied_ = 0;  // == applied_.position() between batches
  std::int64_t local_ts_ = 0;        // batch timestamp of the event at local_applied_
  bool local_halted_ = false;
  bool dirty_ = false;  // applied (or passed) an event since the last publish
  std::uint64_t events_since_checkpoint_ = 0;
  std::uint64_t local_events_ = 0;  // applied since Start (the counters file's events_total)
  std::int64_t last_checkpoint_ns_ = 0;
  // Read by lag(): relaxed, informational.
  std::atomic<std::int64_t> last_batch_ts_{0};
  const std::atomic<std::uint64_t>* committed_seen_ = nullptr;  // the thread's; set before Start
  std::atomic<std::uint64_t> skipped_{0};
  std::atomic<std::uint64_t> checkpoint_pos_{0};
  mutable std::mutex mu_;  // cold: parked events, rebuild requests and progress
  std::vector<ParkedEvent> parked_;
  bool rebuild_requested_ = false;
  std::atomic<bool>* rebuild_signal_ = nullptr;  // the thread's; set before Start
  RebuildProgress progress_;
};

// The typed projector: model() is what queries use.
template <ReadModel M>
class TypedProjector final : public Projector {
 public:
  using Factory = std::function<std::unique_ptr<M>()>;
  TypedProjector(ProjectorOptions options, Factory factory)
      : Projector(std::string(M::kName), std::move(options)), factory_(std::move(factory)), live_(factory_()) {
    active_.store(live_.get(), std::memory_order_release);
  }

  // The live copy. Acquire: pairs with the release in SwapShadow, so a query that sees the
  // new copy sees it fully built. The reference stays valid while the ProjectorThread lives
  // (replaced copies are retired, not freed: see projections/README.md, "Rebuild").
  const M& model() const noexcept { return *active_.load(std::memory_order_acquire); }

 private:
  const char* ApplyEvent(const codecs::DecodedEvent& e, bool shadow) override {
    return (shadow ? *shadow_ : *live_).Apply(e);
  }
  void EndModelBatch(std::uint64_t position, bool shadow) override {
    if constexpr (requires(M & m) { m.EndBatch(position); }) (shadow ? *shadow_ : *live_).EndBatch(position);
  }
  void SaveModel(std::vector<std::byte>& out) const override { live_->Save(out); }
  Status LoadModel(std::span<const std::byte> in) override { return live_->Load(in); }
  void ResetModel() override {
    retired_.push_back(std::move(live_));
    live_ = factory_();
    active_.store(live_.get(), std::memory_order_release);
  }
  void NewShadow() override { shadow_ = factory_(); }
  void DropShadow() override { shadow_.reset(); }
  void SwapShadow() override {
    retired_.push_back(std::move(live_));
    live_ = std::move(shadow_);
    active_.store(live_.get(), std::memory_order_release);  // see model()
  }
  std::uint32_t model_version() const override { return M::kVersion; }

  Factory factory_;
  std::unique_ptr<M> live_, shadow_;
  std::vector<std::unique_ptr<M>> retired_;  // replaced copies a query may still be reading
  std::atomic<const M*> active_{nullptr};
};

}  // namespace rill::projections
