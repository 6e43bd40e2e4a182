#include "rill/tools/crashtest/crashtest_parent.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cinttypes>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "rill/journal/control_file.h"
#include "rill/tools/crashtest/child_process.h"
#include "rill/tools/crashtest/crash_workload.h"
#include "rill/tools/crashtest/damage_round.h"
#include "rill/tools/crashtest/parent_run.h"
#include "rill/tools/crashtest/power_loss.h"
#include "rill/tools/crashtest/replicated_rounds.h"
#include "rill/tools/crashtest/round_plan.h"
#include "rill/tools/crashtest/round_report.h"

namespace rill::tools::crashtest {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0, kExitViolation = 1, kExitUsage = 2, kExitCannotStart = 3;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// What the journal itself reports synced, when this round's child got as far as publishing it.
std::uint64_t ControlDurable(const std::string& journal, int child_pid) {
  Result<std::unique_ptr<journal::ControlFile>> c = journal::ControlFile::OpenReadOnly(journal);
  if (!c.ok()) return 0;
  const journal::ControlBlock& b = (*c)->block();
  // Relaxed: the writer is dead (reaped); the mapping shows its last stores.
  if (static_cast<int>(b.writer_pid.load(std::memory_order_relaxed)) != child_pid) return 0;
  return b.durable_position.load(std::memory_order_acquire);
}

// The command line that replays this run: the seed, the schedule, and every option that shapes
// the workload and differs from its default.
std::string ReplayLine(const CrashtestOptions& o, std::uint64_t seed) {
  const CrashtestOptions d;
  std::string s = o.program + " crashtest";
  if (!o.domain.empty()) s += " --domain " + o.domain;
  s += " --seed " + std::to_string(seed) + " --durability " + o.durability + " --kills " + std::to_string(o.kills) +
       " --min-ms " + std::to_string(o.min_ms) + " --max-ms " + std::to_string(o.max_ms);
  if (o.producers != d.producers) s += " --producers " + std::to_string(o.producers);
  if (o.aggregates != d.aggregates) s += " --aggregates " + std::to_string(o.aggregates);
  if (o.rate != d.rate) s += " --rate " + std::to_string(o.rate);
  if (o.segment_kib != d.segment_kib) s += " --segment-kib " + std::to_string(o.segment_kib);
  if (!o.inject.empty()) s += " --inject " + o.inject;
  if (!o.replicate.empty()) {
    s += " --replicate " + o.replicate + " --lease-ttl-ms " + std::to_string(LeaseTtlMs(o));
    if (o.replicas != d.replicas) s += " --replicas " + std::to_string(o.replicas);
  }
  return s;
}

using parent::AbsorbReport;
using parent::ChildArgs;
using parent::JournalOptions;
using parent::kRetryAcked;
using parent::kRetryUnacked;
using parent::LogTail;
using parent::Run;

VerifyOptions MainJournalOptions(const Run& run) { return JournalOptions(run, run.journal); }

// One round: child, kill, absorb, recover + verify (and the power-loss copy).
// Returns false when the run cannot go on (the round's violation, or a start failure in *start_error).
bool RunRound(Run& run, Round& r, std::string* start_error) {
  const CrashtestOptions& o = run.o;
  const std::string plan_file = run.root + "/round-plan.bin";
  const RoundPlan plan = run.ledger.PlanRound(r.number - 1, run.retry_rng, kRetryUnacked, kRetryAcked);
  if (Status s = WriteRoundPlan(plan_file, plan); !s.ok()) {
    *start_error = s.ToString();
    return false;
  }
  KillPlan kill;
  r.from_spawn = run.kill_rng() % 8 == 0;  // now and then: a kill while the child opens the journal
  kill.from_spawn = r.from_spawn;
  kill.delay_ms =
      r.from_spawn ? static_cast<int>(run.kill_rng() % 31)
                   : o.min_ms + static_cast<int>(run.kill_rng() % static_cast<std::uint64_t>(o.max_ms - o.min_ms + 1));
  r.log = run.root + "/child-" + std::to_string(r.number) + ".log";
  const std::vector<std::string> args = ChildArgs(run, r.number, run.journal, plan_file);
  Result<ChildRun> child = RunChildProcess(run.exe, args, r.log, kill);
  if (!child.ok()) {
    *start_error = "cannot start the child: " + child.status().ToString();
    return false;
  }
  r.ready = child->ready;
  r.ready_ms = child->ready_ms;
  r.killed_ms = child->killed_ms;
  for (const WireRecord& w : child->records) AbsorbReport(run, r, w);
  if (!child->killed_by_us) {
    const bool first_cannot_open =
        r.number == 1 && WIFEXITED(child->wait_status) && WEXITSTATUS(child->wait_status) == 3;
    const std::string what = "the child " + DescribeWaitStatus(child->wait_status) +
                             " before it was killed; its log (" + r.log + "):\n" + LogTail(r.log);
    if (first_cannot_open) {
      *start_error = what;
      return false;
    }
    r.violation = what;
    return false;
  }
  if (!child->ready && !r.from_spawn) {
    r.violation = "the child did not open the journal within " + std::to_string(kill.ready_timeout_ms / 1000) +
                  " s; its log (" + r.log + "):\n" + LogTail(r.log);
    return false;
  }
  if (r.violation) return false;

  if (o.inject == "fake-ack" && r.number == 1) run.ledger.InjectFakeAck(1, 1);
  // The first round with an accepted ack: a round killed before any ack has nothing to lose.
  if (o.inject == "lose-ack" && !run.ledger.lost_ack_injected()) run.ledger.InjectLostAck(r.number);

  // The power-loss copy is taken from the journal exactly as the kill left it.
  const std::string copy = run.root + "/power-loss";
  if (run.durability != journal::Durability::kNone) {
    std::error_code ec;
    fs::remove_all(copy, ec);
    const std::uint64_t synced = std::max(run.ledger.max_durable_position(), ControlDurable(run.journal, child->pid));
    Result<PowerLossCut> cut = MakePowerLossCopy(run.journal, copy, synced, run.power_rng);
    if (cut.ok()) {
      r.power.tried = true;
      r.power.cut = *cut;
    } else if (cut.status().IsNotFound()) {
      r.power.skipped = "nothing synced yet";
    } else {
      r.violation = "power-loss simulation: " + cut.status().ToString();
      return false;
    }
  }

  // Damage below the durable position, on a copy of the journal as the kill left it: the writer
  // must refuse it and salvage must say what it could not keep (damage_round.h).
  if (run.power_rng() % 4 == 0) {
    r.damage = DamageBelowDurable(run.journal, run.root + "/damaged", o.segment_kib, run.durability, run.power_rng);
    if (r.damage.violation) {
      r.violation = "damage round: " + *r.damage.violation;
      return false;
    }
  }

  r.verify = run.domain.Verify(MainJournalOptions(run), run.ledger);
  if (r.verify.violation) {
    r.violation = *r.verify.violation;
    return false;
  }
  if (r.power.tried) {
    VerifyOptions v = MainJournalOptions(run);
    v.journal = copy;
    v.synced_position = r.power.cut.synced_position;
    v.checkpoints.clear();  // they may be past the synced end: the read model folds from zero
    r.power.report = run.domain.Verify(v, run.ledger);
    if (r.power.report.violation) {
      r.violation = "after a simulated power loss (" + r.power.cut.segment + " cut at offset " +
                    std::to_string(r.power.cut.offset) + ", position " + std::to_string(r.power.cut.synced_position) +
                    ", then " + std::to_string(r.power.cut.garbage_bytes) + " bytes of " +
                    (r.power.cut.torn_batch ? "torn batch and garbage" : "garbage") + "; copy kept in " + copy +
                    "): " + *r.power.report.violation;
      return false;
    }
    std::error_code ec;
    fs::remove_all(copy, ec);
  }
  return true;
}

}  // namespace

std::uint64_t ResolveSeed(std::uint64_t seed) {
  while (seed == 0) seed = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  return seed;
}

std::optional<int> CheckCrashtestOptions(const CrashtestOptions& o, std::FILE* err) {
  std::string usage;
  if (!ParseDurability(o.durability))
    usage = "--durability must be none, batch or interval, not '" + o.durability + "'";
  if (o.kills < 1 || o.kills > 100'000) usage = "--kills must be in [1, 100000]";
  if (o.min_ms < 0 || o.max_ms < o.min_ms)
    usage = "--min-ms " + std::to_string(o.min_ms) + " and --max-ms " + std::to_string(o.max_ms) +
            " are not a range: give 0 <= --min-ms <= --max-ms";
  if (o.producers < 1 || o.producers > 64) usage = "--producers must be in [1, 64]";
  if (o.aggregates < 2 || o.aggregates > 1'000'000) usage = "--aggregates must be in [2, 1000000]";
  if (o.rate < 0) usage = "--rate must be >= 0 (0: unlimited)";
  if (o.segment_kib < 64 || o.segment_kib % 4 != 0 || o.segment_kib > 1024 * 1024)
    usage = "--segment-kib " + std::to_string(o.segment_kib) +
            " is not a multiple of 4 in [64, 1048576]: give e.g. 64 or 1024";
  if (!o.inject.empty() && o.inject != "fake-ack" && o.inject != "lose-ack")
    usage = "--inject must be fake-ack or lose-ack";
  if (o.replicate.empty() && o.lease_ttl_ms != 0)
    usage = "--lease-ttl-ms applies to a replicated run only: give --replicate URLS too, or drop it";
  if (o.lease_ttl_ms < 0 || o.lease_ttl_ms > 600'000) usage = "--lease-ttl-ms must be in [100, 600000]";
  if (o.lease_ttl_ms != 0 && o.lease_ttl_ms < 100)
    usage = "--lease-ttl-ms " + std::to_string(o.lease_ttl_ms) +
            " is shorter than the cluster can expire a key reliably: give 100 or more";
  if (o.replicas < 1 || o.replicas > 5) usage = "--replicas must be in [1, 5]";
  if (usage.empty()) return std::nullopt;
  std::fprintf(err, "%s crashtest: %s\n", o.program.c_str(), usage.c_str());
  return kExitUsage;
}

int RunCrashtestParent(const CrashtestOptions& o, CrashDomain& domain, std::FILE* out, std::FILE* err) {
  if (std::optional<int> usage = CheckCrashtestOptions(o, err)) return *usage;
  const char* const tool = o.program.c_str();
  const std::uint64_t seed = o.seed;
  assert(seed != 0 && "RunCrashtestParent: resolve the seed first (ResolveSeed), then build the domain with it");

  std::string root = o.dir;
  const bool temporary = root.empty();
  if (temporary) {
    std::string tmpl = (fs::temp_directory_path() / "rill-crashtest-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(err, "%s crashtest: cannot create a temporary directory in %s: use --dir DIR\n", tool,
                   fs::temp_directory_path().c_str());
      return kExitCannotStart;
    }
    root = tmpl;
  } else {
    std::error_code ec;
    if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
      std::fprintf(err, "%s crashtest: %s is not a directory: pass a directory (or a path to create) with --dir\n",
                   tool, root.c_str());
      return kExitCannotStart;
    }
    fs::create_directories(root, ec);
    if (ec) {
      std::fprintf(err, "%s crashtest: cannot create %s: %s\n", tool, root.c_str(), ec.message().c_str());
      return kExitCannotStart;
    }
  }
  // A replicated run has two nodes: node-a/journal (the first writer) and node-b/journal.
  const bool replicated = !o.replicate.empty();
  const std::string journal = replicated ? parent::NodeJournal(root, 0) : (fs::path(root) / "journal").string();
  if (fs::exists(journal) || fs::exists(CheckpointDirectory(journal)) ||
      (replicated && fs::exists(parent::NodeJournal(root, 1)))) {
    std::fprintf(err,
                 "%s crashtest: %s already holds a journal (or its checkpoints): pass another --dir, or remove it\n",
                 tool, root.c_str());
    return kExitUsage;
  }

  const std::string replay = ReplayLine(o, seed);
  // The seed goes out first, on stderr under --json: a run that hangs or crashes can be replayed.
  std::FILE* info = o.json ? err : out;
  std::fprintf(info, "%s crashtest: %s%sseed %" PRIu64 ", durability %s, %d kills, %d producers, %d aggregates\n", tool,
               o.domain.empty() ? "" : "domain ", o.domain.empty() ? "" : (o.domain + ", ").c_str(), seed,
               o.durability.c_str(), o.kills, o.producers, o.aggregates);
  if (replicated)
    std::fprintf(info,
                 "replicated: stream RILL_%s_%s on %s, lease TTL %d ms, %d replicas; rounds alternate standby "
                 "takeover and restart in place; power-loss and damage rounds are off (the stream is the copy that "
                 "must survive)\n",
                 parent::kReplicatedApp, parent::RunShard(seed).c_str(), o.replicate.c_str(), LeaseTtlMs(o),
                 o.replicas);
  std::fprintf(info, "%s in %s%s\nreplay: %s\n", replicated ? "journals" : "journal",
               replicated ? root.c_str() : journal.c_str(),
               temporary && !o.keep ? " (removed afterwards unless a check fails)" : "", replay.c_str());
  std::fflush(info);

  const Clock::time_point t0 = Clock::now();
  Run run{o,
          domain,
          *ParseDurability(o.durability),
          root,
          journal,
          o.child_exe.empty() ? "/proc/self/exe" : o.child_exe,
          seed,
          Ledger(domain.ids()),
          std::mt19937_64(seed),
          std::mt19937_64(seed ^ 0x5bd1e995u),
          std::mt19937_64(seed ^ 0x27d4eb2fu)};
  std::vector<Round> rounds;
  std::string start_error;
  bool ok = true;
  parent::ReplicatedSummary summary;
  if (replicated) ok = parent::RunReplicatedRounds(run, rounds, &summary, &start_error, out);
  if (replicated && !start_error.empty()) {
    std::fprintf(err, "%s crashtest: %s\n", tool, start_error.c_str());
    if (temporary && !o.keep) {
      std::error_code ec;
      fs::remove_all(root, ec);
    }
    return kExitCannotStart;
  }
  for (int n = 1; !replicated && n <= o.kills; ++n) {
    Round& r = rounds.emplace_back();
    r.number = n;
    const bool go_on = RunRound(run, r, &start_error);
    if (!start_error.empty()) {
      std::fprintf(err, "%s crashtest: %s\n", tool, start_error.c_str());
      if (temporary && !o.keep) {
        std::error_code ec;
        fs::remove_all(root, ec);
      }
      return kExitCannotStart;
    }
    if (!o.json) PrintRound(out, r, run.durability);
    std::fflush(out);
    if (!go_on) {
      ok = false;
      break;
    }
  }
  const double seconds = Since(t0);
  if (o.json)
    PrintJson(out, o, seed, rounds, replicated ? root : journal, seconds, ok,
              replicated ? parent::ReplicatedSummaryJson(summary) : std::string());
  if (!ok) {
    const Round& r = rounds.back();
    std::fprintf(o.json ? err : out, "VIOLATION in round %d: %s\n%s kept in %s\nreplay: %s\nresult: FAILED\n", r.number,
                 r.violation ? r.violation->c_str() : "?", replicated ? "journals and stream" : "journal",
                 replicated ? root.c_str() : journal.c_str(), replay.c_str());
    return kExitViolation;
  }
  if (!o.json) {
    std::uint64_t acked = 0, durable = 0;
    int resumed = 0;
    for (const Round& r : rounds)
      acked += r.acked, durable += replicated ? r.replicated : r.durable, resumed += r.verify.read_model_start != 0;
    std::fprintf(out,
                 "result: ok: %d kills, %" PRIu64 " acknowledgements (%" PRIu64 " %s) all found exactly once (%" PRIu64
                 " in the last check), the read model resumed from a checkpoint in %d rounds, in %.1f s\n",
                 o.kills, acked, durable, replicated ? "replicated" : "durable", rounds.back().verify.acks_checked,
                 resumed, seconds);
    if (replicated) parent::PrintReplicatedSummary(out, summary);
  }
  if (replicated && !o.keep) parent::DeleteRunStream(run, err);
  if (temporary && !o.keep) {
    std::error_code ec;
    fs::remove_all(root, ec);
  } else if (!o.json) {
    std::fprintf(out, "%s kept in %s\n", replicated ? "journals" : "journal",
                 replicated ? root.c_str() : journal.c_str());
  }
  return kExitOk;
}

}  // namespace rill::tools::crashtest
