// rill/tools/crashtest/replicated_rounds.h: `rill crashtest --replicate URLS`, the rounds of a
// replicated run (SCALE-OUT.md 3e.2): two journal directories, node-a and node-b, each run by a
// child as a replication Node (child_node.h) on a stream of the run's own; the writer child is
// killed with SIGKILL at seeded moments, and the next writer alternately comes from
//   - a STANDBY TAKEOVER (even rounds): a child on the other node is started before the kill
//     and follows the stream; after the kill the lease expires and it takes over. The takeover
//     time is measured from the kill to the first accepted acknowledgement of the new writer.
//     When that node is next started (a standby again, two rounds later), it reconciles: the
//     old writer's unreplicated tail is moved aside into aside-<secs>/;
//   - a RESTART IN PLACE (odd rounds): a child on the same directory, whose node must restart
//     in place (a new epoch, its tail re-shipped).
// Even producers ask for AckLevel::kReplicated, odd ones kJournaled (crash_workload.h).
// Checks after each kill: the writer's journal as in every crash test (recovery, the domain's
// decisions, every acknowledgement, the workload's hooks, the read model); a takeover keeps
// every replicated acknowledgement (the ledger forgets unreplicated ones past the new writer's
// start, Ledger::Supersede); the stream, read message by message (stream_image.h), has a
// continuous position chain, equals the writer's journal record for record wherever a writer
// of its epoch or before wrote it, holds every replicated acknowledgement; and no record moved
// aside so far is on it (the stream's record at that position differs, or it ends before).
// Internal to rill::tools_crashtest.
// Thread safety: the parent's one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "rill/tools/crashtest/parent_run.h"
#include "rill/tools/crashtest/round_report.h"

namespace rill::tools::crashtest::parent {

inline constexpr const char* kReplicatedApp = "crashtest";

// The run's shard name: unique per run (seed and pid), so runs never share a stream.
std::string RunShard(std::uint64_t seed);
// <root>/node-a/journal, <root>/node-b/journal
std::string NodeJournal(const std::string& root, int node);

struct ReplicatedSummary {
  int in_place = 0, takeovers = 0;
  std::vector<double> takeover_ms;               // kill -> first accepted ack of the new writer
  std::vector<std::uint64_t> takeover_replayed;  // events the new writer's engine replayed (hot: the rest)
  int tails_moved = 0;
  std::uint64_t records_moved = 0, replicated_acks = 0, forgotten = 0;
  std::uint64_t stream_end = 0, stream_messages = 0;
};

// Runs run.o.kills rounds, printing a line per round on `out` (none under --json). False on a violation (the last
// round's); a start failure goes to *start_error.
bool RunReplicatedRounds(Run& run, std::vector<Round>& rounds, ReplicatedSummary* summary, std::string* start_error,
                         std::FILE* out);
void PrintReplicatedSummary(std::FILE* out, const ReplicatedSummary& s);
// The summary as a JSON member: "replicated":{...} (for PrintJson's summary_json).
std::string ReplicatedSummaryJson(const ReplicatedSummary& s);
// Deletes the run's stream and buckets; a failure is printed on err (not a violation).
void DeleteRunStream(const Run& run, std::FILE* err);

}  // namespace rill::tools::crashtest::parent
