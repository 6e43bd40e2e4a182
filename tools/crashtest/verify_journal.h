// rill/tools/crashtest/verify_journal.h: recovers a crashed journal with Engine<W::Domain> and
// checks it against what the children were acknowledged, for any workload W.
//
//   CommandSource<W> source(CrashWorkloadOptions(64, 3, seed));
//   VerifyReport r = VerifyJournal<W>({.journal = dir, .durability = kBatch}, ledger, source);
//   if (r.violation) std::printf("VIOLATION: %s\n", r.violation->c_str());
//
// The checks, each of which names the command, position or stream involved:
// - recovery: Engine::Open succeeds (a torn tail is cut and reported, nothing else);
//   afterwards CheckJournal finds no damage and no uncommitted tail;
// - positions are gap-free; every journaled command id was sent by a child, its events are one
//   contiguous group, and no id appears in two groups (applied twice);
// - each group is exactly what the domain decides for the command the workload generates for
//   that id, on the state just before it: a shadow CommandProcessor folds the journal by
//   Process-ing each regenerated command with the journaled timestamp and id and must encode
//   the journaled records byte for byte (event types, bodies, streams, versions 1, 2, 3 per
//   kind and id, restarting after an aggregate ends, command fingerprints). The writer's
//   digest records must match the shadow's digest, and so must the recovered aggregates;
// - every accepted acknowledgement is in the journal at the acknowledged position, version and
//   event count; no rejected command left an event;
// - the workload's hooks on the recovered state: Total == the sum of Tally over the journaled
//   commands (kHasTally), CheckInvariants (kHasInvariants);
// - the read model: a StateMirror caught up to the end, resumed from the children's newest
//   checkpoint, has the recovered engine's digest;
// - power loss (synced_position set): recovery keeps exactly the synced prefix: the committed
//   position is synced_position, acknowledgements up to it are present, later ones absent.
// Thread safety: one call at a time per journal (it takes the journal's writer lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rill/engine/command_processor.h"
#include "rill/engine/engine.h"
#include "rill/tools/crashtest/crash_workload.h"
#include "rill/tools/crashtest/describe.h"
#include "rill/tools/crashtest/ledger.h"
#include "rill/tools/crashtest/verifier.h"
#include "rill/tools/state_mirror.h"
#include "rill/tools/workload.h"

namespace rill::tools::crashtest {

// The journal walk with the domain's check: a shadow processor decides each command again.
template <Workload W>
class DomainWalk final : public JournalWalk {
 public:
  using D = typename W::Domain;
  using Command = typename D::Command;

  DomainWalk(const Ledger& ledger, const codecs::SchemaRegistry& registry, CommandSource<W>& source,
             std::uint64_t aggregates)
      : JournalWalk(ledger, registry, D::kMaxEvents),
        source_(source),
        // Ids are unique per group (the walk checks it first): one window entry is enough.
        shadow_({.expected_aggregates = static_cast<std::size_t>(aggregates), .idempotency_window = 1}),
        decoder_(registry) {}

  std::int64_t tally() const noexcept { return tally_; }
  std::uint64_t Digest() const override { return shadow_.digest(); }

 protected:
  std::optional<std::string> CheckGroup(const JournaledGroup& g, std::uint64_t* primary_version) override {
    const Command& cmd = *source_.Find(g.command_id);
    decided_positions_.clear();
    decided_bytes_.clear();
    decided_ends_.clear();
    // Positions as journaled, so the outcome's position is the journal's (and a decision with
    // more events than the journal holds gets positions past the group's).
    auto sink = [&](std::span<const std::uint8_t> record) -> std::optional<std::uint64_t> {
      const std::size_t i = decided_ends_.size();
      decided_positions_.push_back(i < g.size() ? g.positions[i] : g.positions.back() + (i + 1 - g.size()));
      decided_bytes_.insert(decided_bytes_.end(), record.begin(), record.end());
      decided_ends_.push_back(decided_bytes_.size());
      return decided_positions_.back();
    };
    const engine::CommandMeta meta{.command_id = g.command_id};
    const engine::CommandOutcome out = shadow_.Process(meta, cmd, g.timestamp_ns, sink);
    if (!out.accepted())
      return Head(g, cmd) + ", but the domain rejects it on the state before it (" +
             engine::RejectCodeName(out.code()) + ": " + std::string(out.rejection().message()) + ")" +
             Hint(g, meta, cmd);
    const JournaledGroup decided{g.command_id, g.timestamp_ns, decided_positions_, decided_bytes_, decided_ends_};
    bool same = decided.size() == g.size();
    for (std::size_t i = 0; same && i < g.size(); ++i) {
      const std::span<const std::uint8_t> a = g.record(i), b = decided.record(i);
      same = a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
    }
    if (!same)
      return Head(g, cmd) + ", but the domain decides " + Events(decided) + " on the state before it" +
             Hint(g, meta, cmd);
    *primary_version = out.stream_version();
    if constexpr (kHasTally<W>) tally_ += source_.workload().Tally(cmd);
    return std::nullopt;
  }

 private:
  std::string Head(const JournaledGroup& g, const Command& cmd) {
    const std::string at =
        g.size() == 1 ? "position " + std::to_string(g.positions[0])
                      : "positions " + std::to_string(g.positions[0]) + "-" + std::to_string(g.positions.back());
    return "command " + std::to_string(g.command_id) + " (" + ledger().Origin(g.command_id) + ": " +
           DescribeValue(cmd) + ") is journaled at " + at + " as " + Events(g);
  }
  // The likely cause when the journaled command is not the regenerated one.
  std::string Hint(const JournaledGroup& g, const engine::CommandMeta& meta, const Command& cmd) {
    const codecs::DecodeResult d = decoder_.Decode(g.record(0), g.positions[0]);
    const std::uint64_t want = engine::CommandProcessor<D>::FingerprintOf(meta, cmd);
    if (!d.ok() || d.event().command_fingerprint() == 0 || d.event().command_fingerprint() == want) return "";
    return "; its journaled command fingerprint is not that of the command the workload generates for this id: "
           "either the workload is not deterministic (tools/workload.h), or the engine journaled another "
           "command under this id";
  }
  // "[Deposited{500} on stream 2 v5, ...]"
  std::string Events(const JournaledGroup& g) {
    std::string s = "[";
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (i > 0) s += ", ";
      const codecs::DecodeResult d = decoder_.Decode(g.record(i), g.positions[i]);
      if (!d.ok()) {
        s += "<" + d.error().ToStatus().ToString() + ">";
        continue;
      }
      const std::optional<typename D::Event> e = D::FromDecoded(d.event());
      if (!e) {
        s += "<event type " + std::to_string(d.event().event_type()) + ", not this domain's>";
        continue;
      }
      s += DescribeValue(*e) + " on " + engine::StreamName<D>(engine::KindOfEvent<D>(*e), d.event().stream_id()) +
           " v" + std::to_string(d.event().stream_version());
    }
    return s + "]";
  }

  CommandSource<W>& source_;
  engine::CommandProcessor<D> shadow_;
  codecs::Decoder decoder_;                       // messages only
  std::vector<std::uint64_t> decided_positions_;  // the shadow's decision, encoded
  std::vector<std::uint8_t> decided_bytes_;
  std::vector<std::size_t> decided_ends_;
  std::int64_t tally_ = 0;
};

// The read model the children keep, resumed from their newest checkpoint and caught up.
template <typename D>
std::optional<std::string> CheckReadModel(const VerifyOptions& o, const codecs::SchemaRegistry& registry,
                                          std::uint64_t committed, std::uint64_t engine_digest, VerifyReport* rep) {
  std::vector<std::string> warnings;
  Result<std::unique_ptr<projections::ProjectorThread>> t = OpenReadModelThread(o, registry, &warnings);
  if (!t.ok()) return "the read model's projector cannot open the journal: " + t.status().ToString();
  auto* mirror = (*t)->template Add<StateMirror<D>>();
  if (Status s = (*t)->Start(); !s.ok()) return "the read model's projector cannot start: " + s.ToString();
  // Checkpoints are written atomically, only at durable positions: each one must load.
  if (!warnings.empty()) return "the read model's newest checkpoint was not usable: " + warnings.front();
  rep->read_model_start = mirror->checkpoint_position();
  if (Status s = mirror->WaitFor(committed, std::chrono::seconds(60)); !s.ok())
    return "the read model did not reach position " + std::to_string(committed) + ": " + s.ToString();
  (*t)->Stop();
  if (mirror->model().digest() != engine_digest)
    return "the read model (a StateMirror resumed from the children's checkpoint at position " +
           std::to_string(rep->read_model_start) + ", caught up to " + std::to_string(committed) +
           ") has state digest " + std::to_string(mirror->model().digest()) + ", the recovered aggregates " +
           std::to_string(engine_digest);
  return std::nullopt;
}

template <Workload W>
VerifyReport VerifyJournal(const VerifyOptions& o, const Ledger& ledger, CommandSource<W>& source) {
  using D = typename W::Domain;
  using Clock = std::chrono::steady_clock;
  const auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  VerifyReport rep;
  const Clock::time_point t0 = Clock::now();

  // 1. Recovery, exactly as a restarting service does it; then the engine's state, stopped.
  Result<std::unique_ptr<engine::Engine<D>>> opened = engine::Engine<D>::Open(RecoveryOptions(o));
  if (!opened.ok()) {
    rep.violation = "recovery failed: " + opened.status().ToString();
    return rep;
  }
  engine::Engine<D>& recovered = **opened;
  rep.committed_position = recovered.recovery().committed_position;
  for (const journal::TailCut& cut : recovered.recovery().tail_cuts) rep.tail_cut_bytes += cut.bytes_cut;
  recovered.Stop();
  const Result<std::uint64_t> digest = recovered.state_digest();
  if (!digest.ok()) {
    rep.violation = "the recovered engine's state: " + digest.status().ToString();
    return rep;
  }
  if (const auto& m = recovered.recovery().digest_mismatch) {
    rep.violation = "recovery found the writer's digest record at position " + std::to_string(m->position) +
                    " to differ from the state it replayed";
    return rep;
  }
  rep.recover_seconds = since(t0);
  const Clock::time_point t1 = Clock::now();
  if (o.synced_position && rep.committed_position != *o.synced_position) {
    rep.violation = "after the power loss, recovery kept positions up to " + std::to_string(rep.committed_position) +
                    ", but exactly up to " + std::to_string(*o.synced_position) + " were synced";
    return rep;
  }

  // 2. One walk over the journal: frames, positions, commands decided again.
  DomainWalk<W> walk(ledger, recovered.registry(), source, o.aggregates);
  rep.violation = WalkRecoveredJournal(o, walk, rep.committed_position);
  rep.events = walk.events();
  rep.commands = walk.commands();
  rep.digests_checked = walk.digests_checked();
  if (rep.violation) return rep;

  // 3. Acknowledgements.
  const auto describe = [&](std::uint64_t id) { return ledger.Origin(id) + ": " + DescribeValue(*source.Find(id)); };
  if ((rep.violation = CheckAcks(ledger, walk, o, describe, &rep))) return rep;

  // 4. The journal's fold is the recovered state; the workload's rules hold on it.
  if (walk.Digest() != *digest) {
    rep.violation = "the journal's events folded with the domain's Evolve give state digest " +
                    std::to_string(walk.Digest()) + ", the recovered engine's aggregates " + std::to_string(*digest);
    return rep;
  }
  const StateView<D> state(recovered);
  if constexpr (kHasTally<W>) {
    rep.tally = source.workload().Total(state);
    if (rep.tally != walk.tally()) {
      rep.violation = std::string(TallyName<W>()) + " is not conserved: after recovery the state holds " +
                      std::to_string(rep.tally) + ", the journaled commands add up to " + std::to_string(walk.tally());
      return rep;
    }
  }
  if constexpr (kHasInvariants<W>) {
    if (std::optional<std::string> v = source.workload().CheckInvariants(state)) {
      rep.violation = "the workload's invariant does not hold after recovery (position " +
                      std::to_string(rep.committed_position) + "): " + *v;
      return rep;
    }
  }

  // 5. The read model.
  if ((rep.violation = CheckReadModel<D>(o, recovered.registry(), rep.committed_position, *digest, &rep))) return rep;
  rep.verify_seconds = since(t1);
  return rep;
}

}  // namespace rill::tools::crashtest
