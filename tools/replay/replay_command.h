// rill/tools/replay/replay_command.h: `rill replay DIR`, the domain-independent part:
// options, the summary, and the replay itself behind DomainReplay, which RunReplay<W>
// (replay.h) implements for a workload's domain. Everything here is compiled once, into
// rill::tools_replay: the option checks, the journal's verdict, the schema check, the replay
// loop and its progress bar, and the text and JSON output.
//
//   inventory-rill replay /var/lib/inventory/journal            # the state now, and how fast
//   inventory-rill replay /var/lib/inventory/journal --until 2026-11-23T01:00:00Z --stream Order:42
//   inventory-rill replay /var/lib/inventory/journal --verify --json   # exit 1 at the first digest mismatch
//
//   rill::tools::ReplaySummary s;
//   int exit = rill::tools::RunReplay<InventoryWorkload>({.dir = dir, .domain = "inventory", .json = true},
//                                                        stdout, stderr, &s);   // replay.h
//
// Exit codes (tools/README.md): 0 ok; 1 the journal is damaged (a corrupt frame, an event that
// does not decode or break a stream's versions) or --verify found a digest mismatch; 2 usage
// (bad --until or --stream); 3 the input cannot be read (missing directory, not a journal, a
// journal of another domain).
// Thread safety: reentrant; a DomainReplay serves one replay.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/journal_replay.h"
#include "rill/journal/journal_reader.h"

namespace rill::tools {

struct ReplayOptions {
  std::string dir{};
  std::string domain{};  // the domain's registered name (ToolsFor<W>("inventory")): messages and JSON
  std::string until{};   // "" (the end), a position, or an ISO-8601 time
  bool verify = false;   // a digest mismatch is exit 1 (otherwise it is reported only)
  bool json = false;     // one JSON object on `out`
  std::string stream{};  // "" none; "ID" (a domain with one kind) or "KIND:ID": print that aggregate
  int progress = -1;     // -1: a progress bar when `err` is a terminal; 0 never; 1 always
};

struct ReplaySummary {
  std::string domain;
  std::uint64_t records = 0, events = 0;  // read, applied
  std::uint64_t last_position = 0;        // the state is as of this position
  std::int64_t last_timestamp_ns = 0;
  bool stopped_inside_batch = false;  // --until cut a batch: a command may be half applied
  double seconds = 0, events_per_second = 0;
  std::uint64_t aggregates = 0;  // streams with at least one event, all kinds
  std::uint64_t state_digest = 0;
  std::uint64_t digests_checked = 0;
  std::optional<engine::DigestMismatch> digest_mismatch;
  // Aggregates per kind, in the domain's kind order, named as the journal's schema names them
  // (rill_aggregate; a single-kind schema names none: the state type's name, "Account").
  std::vector<std::pair<std::string, std::uint64_t>> kinds;
  // The workload's Summary hook (tools/workload.h), when it has one: named figures.
  std::optional<std::vector<std::pair<std::string, std::int64_t>>> summary;
  // --stream: that aggregate as of the replayed position.
  struct Stream {
    std::string kind;
    std::uint64_t id = 0;
    bool exists = false;  // false: no event yet, or it ended
    std::uint64_t version = 0;
    std::string state;  // the workload's Describe(state), else its fields in order: "{1000, 7, 978, false}"
  };
  std::optional<Stream> stream;
};

// One domain's half of a replay (RunReplay<W> in replay.h implements it): its schema, the
// replay into its aggregates, and what the summary says about them. Virtual calls happen a few
// times per replay (Run once per progress-bar step of 2^20 records), never per event.
class DomainReplay {
 public:
  virtual ~DomainReplay() = default;
  // The domain's schema registry (D::RegisterEvents), or why it cannot be built (a bug).
  virtual const Result<codecs::SchemaRegistry>& registry() const noexcept = 0;
  // The kinds' names, in the domain's kind order (ReplaySummary::kinds).
  virtual const std::vector<std::string>& kind_names() const noexcept = 0;
  // REQUIRES: registry().ok(). JournalReplayer::Run into the domain's aggregates.
  virtual Status Run(journal::JournalReader& reader, const engine::ReplayLimits& limits,
                     engine::ReplayProgress* progress) = 0;
  virtual void FinishReplay() = 0;
  // Fills state_digest, aggregates, kinds, summary, and stream (kind index and id) when given.
  struct StreamQuery {
    std::size_t kind = 0;
    std::uint64_t id = 0;
  };
  virtual void Summarize(const std::optional<StreamQuery>& stream, ReplaySummary* summary) const = 0;
};

// How a domain registers its event types (D::RegisterEvents).
using RegisterEventsFn = void (*)(codecs::SchemaRegistryBuilder&);

namespace replay_internal {
// The replay of options.dir into `domain`: returns the process exit code; fills *summary as far
// as the replay got.
int RunReplay(DomainReplay& domain, const ReplayOptions& options, std::FILE* out, std::FILE* err,
              ReplaySummary* summary);
// Whether the journal in `dir` opens and its schema is readable by the registry register_events
// builds. Prints nothing.
bool ReadsJournal(RegisterEventsFn register_events, const std::string& dir);
Result<codecs::SchemaRegistry> BuildRegistry(RegisterEventsFn register_events);
}  // namespace replay_internal

}  // namespace rill::tools
