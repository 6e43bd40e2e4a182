// rill/tools/workload.h: what a domain brings to rill's tools (replay, bench, crashtest, demo):
// a seeded command generator, and optional hooks for checks and printing. The tools do the rest
// for any domain, through the same code path as for the bundled bank and blog.
//
//   struct InventoryWorkload {
//     using Domain = inventory::InventoryDomain;
//     struct Producer { Domain::Command Next(); ... };           // one per producer thread
//     explicit InventoryWorkload(const rill::tools::WorkloadOptions&);
//     std::vector<Domain::Command> Setup() const;                // applied first, in order
//     Producer MakeProducer(int producer) const;
//     // Optional hooks, each found by name (see below).
//   };
//   int main(int argc, char** argv) {                            // tool_main.h
//     return rill::tools::Main(argc, argv, "inventory-rill", rill::tools::ToolsFor<InventoryWorkload>("inventory"));
//   }
//
// Rules, and why:
// - Determinism: Setup() and each producer's sequence of Next() depend only on the options and
//   on how many commands that producer drew, never on outcomes, clocks or other producers. The
//   crash test relies on it: parent and child regenerate command k of producer p of round r
//   instead of shipping commands between processes, and rill and its baselines get the same
//   commands.
// - Command ids are the tools', not the workload's (CommandIds below), so retries and
//   idempotency are checked the same way for every domain.
// - A command's BytesRef fields must point at storage that outlives the run (static text, or
//   memory the workload object owns): the engine keeps the view until the command is decided.
// - Producers may be created from several threads at once; each Producer is used by one thread.
//
// Optional hooks (members of the workload, const; each is used when present):
//   std::int64_t Tally(const Command&) const;        // what an accepted command adds to a
//   std::int64_t Total(const StateView<Domain>&) const;  // conserved quantity, and that quantity
//       // in the state: Total(state) == the sum of Tally over every accepted command (setup
//       // included). Bank: money (deposit +amount, withdraw -amount, transfer 0) against the
//       // sum of balances. Checked by bench, crashtest and demo.
//   static constexpr std::string_view kTallyName = "money";  // names it in messages
//   std::optional<std::string> CheckInvariants(const StateView<Domain>&) const;
//       // any other rule of the state: the first violation, named (crashtest, bench, demo)
//   void AddReadModels(projections::ProjectorThread&, int projector, projections::ProjectorOptions) const;
//       // bench and demo projectors (default: a StateMirror of the aggregates)
//   std::string Describe(const K& state) const;      // one overload per aggregate kind K, for
//       // `replay --stream KIND:ID` (default: the fields in order, from field_reflection.h)
//   std::vector<std::pair<std::string, std::int64_t>> Summary(const StateView<Domain>&) const;
//       // named figures replay and demo print (bank: open, closed, total_balance)
// Thread safety: a workload object is read-only after construction; see Producer above.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rill/engine/command_processor.h"
#include "rill/engine/domain.h"
#include "rill/engine/domain_kinds.h"
#include "rill/engine/engine.h"

namespace rill::tools {

struct WorkloadOptions {
  std::uint64_t aggregates = 10'000;  // how many aggregates the commands spread over (bank: accounts)
  int producers = 1;                  // >= 1: MakeProducer(p) for p in [0, producers)
  std::uint64_t seed = 1;
  // The crash test's mix: few aggregates and small amounts, so commands contend for the same
  // streams and some are rejected (a rejection must leave no trace in the journal).
  bool contended = false;
};

template <typename W>
concept Workload = requires(const W& w, typename W::Producer& producer, const WorkloadOptions& options) {
  typename W::Domain;
  typename W::Domain::Command;
  W(options);
  { w.Setup() } -> std::convertible_to<std::vector<typename W::Domain::Command>>;
  { w.MakeProducer(0) } -> std::same_as<typename W::Producer>;
  { producer.Next() } -> std::convertible_to<typename W::Domain::Command>;
};

// The command ids the tools give a workload's commands: setup command i (from 0) is i + 1;
// producer p's k-th command (from 0) is setup + 1 + k * producers + p. Unique across producers,
// the same in every run of the same options.
struct CommandIds {
  std::uint64_t setup = 0;  // Setup().size()
  int producers = 1;
  std::uint64_t Setup(std::uint64_t i) const noexcept { return i + 1; }
  std::uint64_t Produced(int producer, std::uint64_t k) const noexcept {
    return setup + 1 + k * static_cast<std::uint64_t>(producers) + static_cast<std::uint64_t>(producer);
  }
  // The inverse of Produced: false for a setup id or 0.
  bool Split(std::uint64_t id, int* producer, std::uint64_t* k) const noexcept {
    if (id <= setup) return false;
    const std::uint64_t n = id - setup - 1, p = static_cast<std::uint64_t>(producers);
    *producer = static_cast<int>(n % p);
    *k = n / p;
    return true;
  }
};

// Read-only access to a domain's aggregates for the hooks, whether they live in a replay's
// CommandProcessor or in a stopped Engine. ForEach skips slots that never had an event.
template <typename D>
class StateView {
 public:
  explicit StateView(const engine::CommandProcessor<D>& processor) noexcept : processor_(&processor) {}
  // REQUIRES: the engine is stopped (Engine::ForEachAggregate).
  explicit StateView(const engine::Engine<D>& stopped_engine) noexcept : engine_(&stopped_engine) {}

  // fn(std::uint64_t id, std::uint64_t version, const K& state) for each aggregate of kind K.
  template <typename K, typename Fn>
  void ForEach(Fn&& fn) const {
    auto each = [&](std::uint64_t id, std::uint64_t version, const K& state) {
      if (version != 0) fn(id, version, state);
    };
    if (processor_ != nullptr) {
      processor_->template store<K>().ForEach(each);
    } else {
      (void)engine_->template ForEachAggregate<K>(each);
    }
  }
  // The single-kind form: ForEach over the domain's one kind.
  template <typename Fn>
  void ForEach(Fn&& fn) const requires(engine::kKindCount<D> == 1) {
    ForEach<engine::KindAt<D, 0>>(std::forward<Fn>(fn));
  }

 private:
  const engine::CommandProcessor<D>* processor_ = nullptr;
  const engine::Engine<D>* engine_ = nullptr;
};

// Detection of the optional hooks, so each tool asks the same question the same way.
template <typename W>
inline constexpr bool kHasTally = requires(const W& w, const typename W::Domain::Command& c,
                                           const StateView<typename W::Domain>& s) {
  { w.Tally(c) } -> std::convertible_to<std::int64_t>;
  { w.Total(s) } -> std::convertible_to<std::int64_t>;
};
template <typename W>
inline constexpr bool kHasInvariants = requires(const W& w, const StateView<typename W::Domain>& s) {
  { w.CheckInvariants(s) } -> std::convertible_to<std::optional<std::string>>;
};
template <typename W>
inline constexpr bool kHasSummary = requires(const W& w, const StateView<typename W::Domain>& s) {
  { w.Summary(s) } -> std::convertible_to<std::vector<std::pair<std::string, std::int64_t>>>;
};
template <typename W, typename K>
inline constexpr bool kHasDescribe = requires(const W& w, const K& state) {
  { w.Describe(state) } -> std::convertible_to<std::string>;
};

template <typename W>
constexpr std::string_view TallyName() noexcept {
  if constexpr (requires { W::kTallyName; }) {
    return W::kTallyName;
  } else {
    return "tally";
  }
}

}  // namespace rill::tools
