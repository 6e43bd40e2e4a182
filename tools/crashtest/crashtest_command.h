// rill/tools/crashtest/crashtest_command.h: the options of `rill crashtest`, the kill -9 crash test
// kit, for any domain (the command line fills them; RunCrashtest<W> in crashtest.h runs them).
//
//   rill crashtest --kills 20 --durability batch            # prints its seed first
//   rill crashtest --kills 20 --durability batch --seed 7   # replays that schedule
//
// Each round starts a child (this same binary, re-executed in a hidden child mode, so the
// parent never forks a threaded process) that runs the domain's workload (tools/workload.h) on
// the real Engine and reports every submitted and acknowledged command id over a pipe. The
// parent SIGKILLs it at a random moment, recovers the journal with an Engine of its own,
// verifies it (verify_journal.h), under batch and interval also simulates a power loss on a
// copy (power_loss.h), and starts the next child on the same journal, which first resends
// commands whose outcome never arrived. With `replicate` the writer is a replication Node and
// the kills alternate restart in place and standby takeover (tools/README.md). Exit codes: 0 every round verified; 1 a
// violation (the first one is printed); 2 usage error; 3 cannot start (directory, spawn, or the first child cannot open
// a journal). Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>

namespace rill::tools::crashtest {

struct CrashtestOptions {
  int kills = 10;                    // rounds; each ends with a SIGKILL
  std::uint64_t seed = 0;            // 0: pick one (printed)
  std::string durability = "batch";  // none | batch | interval
  std::string dir;                   // empty: a temporary directory, removed unless keep (or a failure)
  bool keep = false;
  bool json = false;  // one JSON object on `out` instead of the text report
  int min_ms = 40;    // a child runs this long at least after it reported ready ...
  int max_ms = 250;   // ... and at most this long
  int producers = 3;
  int aggregates = 64;  // WorkloadOptions::aggregates: few, so commands contend (e.g. accounts, SKUs)
  // Commands per second a child submits at most (0: as fast as it can). The parent re-verifies
  // the whole journal every round, so an unbounded journal makes long runs quadratic.
  int rate = 50'000;
  std::uint32_t segment_kib = 1024;  // small segments: rounds cross segment rolls
  // The executable to re-execute as the child; empty: /proc/self/exe. It must run the same
  // workload for `crashtest --domain <domain> --child ...` (tests pass a test binary).
  std::string child_exe;
  // The domain's registered name (set by the command line): passed to the child as --domain
  // and printed. Empty: the child is started without --domain.
  std::string domain;
  std::string program = "rill";  // the tool's name, for messages and the replay line
  // Testing the tester: "fake-ack" adds an acknowledgement for a command id that no journal
  // holds after the first round; "lose-ack" turns the first journaled ack into a rejection.
  // Both must end in exit code 1.
  std::string inject;

  // Replication (tools/README.md, "rill crashtest --replicate"): NATS urls, comma-separated.
  // Set: two journal directories (node-a, node-b) run as a replication Node each (a shard's
  // writer or its standby), on a stream of this run's own (deleted at the end unless keep);
  // rounds alternate restart in place and standby takeover; even producers ask for
  // AckLevel::kReplicated, odd ones kJournaled (crash_workload.h).
  std::string replicate;
  int lease_ttl_ms = 0;  // the writer's lease TTL (0: 1000 with --replicate; an error without)
  int replicas = 3;      // of the stream and the buckets

  // Hidden child mode (set by the parent on the child's command line).
  bool child = false;
  int round = 0;
  int ack_fd = -1;
  std::string retry_file;  // the round's plan (round_plan.h): where producers resume, what to resend
  std::string journal;     // the journal directory the child opens
  // With replicate: the stream and this node's lease name (the parent picks them).
  std::string app, shard, holder;
};

// The lease TTL a run uses (lease_ttl_ms 0: the default).
inline int LeaseTtlMs(const CrashtestOptions& o) noexcept { return o.lease_ttl_ms > 0 ? o.lease_ttl_ms : 1000; }

}  // namespace rill::tools::crashtest
