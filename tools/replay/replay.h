// rill/tools/replay/replay.h: `rill replay` for any domain, from its workload (tools/workload.h).
// Only what depends on the domain is here (the registry, CommandProcessor<D> and
// JournalReplayer<D>, the per-kind counts, the Summary and Describe hooks); the rest is
// compiled once in replay_command.cpp.
//
//   rill::tools::ReplaySummary s;
//   int exit = rill::tools::RunReplay<InventoryWorkload>(
//       {.dir = "/var/lib/inventory/journal", .domain = "inventory", .stream = "Order:17"}, stdout, stderr, &s);
//   bool mine = rill::tools::ReadsJournal<InventoryWorkload>(dir);   // which domain wrote it
//
// The replay's hot loop is JournalReplayer<D>::Run, instantiated here in the tool's own
// translation unit, as the engine's recovery is: no virtual call per event.
// Thread safety: reentrant.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rill/codecs/schema_registry.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/journal_replay.h"
#include "rill/engine/state_digest.h"
#include "rill/tools/replay/domain_text.h"
#include "rill/tools/replay/replay_command.h"
#include "rill/tools/workload.h"

namespace rill::tools {

namespace replay_internal {

template <Workload W>
class WorkloadReplay final : public DomainReplay {
  using D = typename W::Domain;

 public:
  WorkloadReplay()
      : registry_(BuildRegistry(&RegisterEvents)), kinds_(KindNames<D>(registry_.ok() ? &*registry_ : nullptr)) {}

  static void RegisterEvents(codecs::SchemaRegistryBuilder& builder) { D::RegisterEvents(builder); }

  const Result<codecs::SchemaRegistry>& registry() const noexcept override { return registry_; }
  const std::vector<std::string>& kind_names() const noexcept override { return kinds_; }
  Status Run(journal::JournalReader& reader, const engine::ReplayLimits& limits,
             engine::ReplayProgress* progress) override {
    if (!replayer_) replayer_.emplace(*registry_, &processor_);
    return replayer_->Run(reader, limits, progress);
  }
  void FinishReplay() override { processor_.FinishReplay(); }

  void Summarize(const std::optional<StreamQuery>& stream, ReplaySummary* s) const override {
    s->state_digest = processor_.digest();
    s->aggregates = 0;
    s->kinds.clear();
    engine::ForEachKind<D>([&](auto kc) {
      using K = engine::KindAt<D, kc.value>;
      std::uint64_t n = 0;
      processor_.template store<K>().ForEach(
          [&](std::uint64_t, std::uint64_t version, const K&) { n += version != 0; });
      s->kinds.emplace_back(kinds_[kc.value], n);
      s->aggregates += n;
    });
    // The hooks are the workload's, made only when used; its options do not matter to them.
    std::optional<W> workload;
    auto hooks = [&]() -> const W& {
      if (!workload) workload.emplace(WorkloadOptions{});
      return *workload;
    };
    if constexpr (kHasSummary<W>) s->summary = hooks().Summary(StateView<D>(processor_));
    if (stream) s->stream = Find(*stream, hooks);
  }

 private:
  template <typename Hooks>
  ReplaySummary::Stream Find(const StreamQuery& q, Hooks& hooks) const {
    ReplaySummary::Stream out;
    out.kind = kinds_[q.kind];
    out.id = q.id;
    engine::WithKind<D>(q.kind, [&](auto kc) {
      using K = engine::KindAt<D, kc.value>;
      const auto& store = processor_.template store<K>();
      const auto i = store.Find(q.id);
      if (i == store.kNone || store.version(i) == 0) return;
      out.exists = true;
      out.version = store.version(i);
      out.state = StateText<K>(store.state(i), hooks);
    });
    return out;
  }

  template <typename K, typename Hooks>
  static std::string StateText(const K& state, Hooks& hooks) {
    (void)hooks;  // only Describe needs the workload
    if constexpr (kHasDescribe<W, K>) {
      return std::string(hooks().Describe(state));
    } else if constexpr (!engine::HasDigestStateFor<D, K>) {
      // Without DigestState the digest hashes K field by field, so K reflects (no array member).
      return FieldsText(state);
    } else {
      return "(not shown: give the workload std::string Describe(const " + std::string(engine::KindName<K>()) +
             "&) const)";
    }
  }

  Result<codecs::SchemaRegistry> registry_;
  std::vector<std::string> kinds_;
  // The idempotency window is not part of the state summary: a tiny one keeps replay off its
  // random misses.
  engine::CommandProcessor<D> processor_{{.expected_aggregates = 0, .idempotency_window = 1}};
  std::optional<engine::JournalReplayer<D>> replayer_;
};

}  // namespace replay_internal

// Rebuilds W's domain's state from options.dir and prints its summary (replay_command.h).
// Returns the process exit code (tools/README.md); fills *summary, when given, as far as the
// replay got.
template <Workload W>
int RunReplay(const ReplayOptions& options, std::FILE* out, std::FILE* err, ReplaySummary* summary = nullptr) {
  replay_internal::WorkloadReplay<W> domain;
  ReplaySummary local;
  return replay_internal::RunReplay(domain, options, out, err, summary != nullptr ? summary : &local);
}

// True when the journal in `dir` opens and W's domain can read its schema: how a tool with
// several domains picks the journal's when --domain is not given. Prints nothing.
template <Workload W>
bool ReadsJournal(const std::string& dir) {
  return replay_internal::ReadsJournal(&replay_internal::WorkloadReplay<W>::RegisterEvents, dir);
}

}  // namespace rill::tools
