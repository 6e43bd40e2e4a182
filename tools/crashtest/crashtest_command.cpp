#include "rill/tools/crashtest/crashtest_command.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <cinttypes>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "rill/journal/control_file.h"
#include "rill/tools/crashtest/child.h"
#include "rill/tools/crashtest/child_process.h"
#include "rill/tools/crashtest/damage_round.h"
#include "rill/tools/crashtest/ledger.h"
#include "rill/tools/crashtest/power_loss.h"
#include "rill/tools/crashtest/verifier.h"
#include "rill/tools/crashtest/workload.h"

namespace rill::tools::crashtest {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0, kExitViolation = 1, kExitUsage = 2, kExitCannotStart = 3;
constexpr std::size_t kRetryUnacked = 64;  // unacknowledged commands resent per round, at most
constexpr std::size_t kRetryAcked = 8;     // acknowledged ones resent (must come back as duplicates)

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

struct PowerLossResult {
  bool tried = false;
  std::string skipped;  // why there was no simulation this round
  PowerLossCut cut;
  VerifyReport report;
};

struct Round {
  int number = 0;
  bool from_spawn = false;  // killed counting from the spawn (maybe during recovery)
  double ready_ms = 0, killed_ms = 0;
  bool ready = false;
  std::uint64_t child_recovered = 0;  // the child's committed position after its Open
  std::uint64_t sent = 0, retried = 0, acked = 0, durable = 0, rejected = 0, duplicates = 0;
  VerifyReport verify;
  PowerLossResult power;
  DamageResult damage;  // one round in four: a bit flipped below the durable position, on a copy
  std::optional<std::string> violation;
  std::string log;
};

std::string Usage(const std::string& what) { return "rill crashtest: " + what; }

bool WriteRetries(const std::string& path, const std::vector<WireRecord>& retries) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(retries.data()),
          static_cast<std::streamsize>(retries.size() * sizeof(WireRecord)));
  return static_cast<bool>(f);
}

std::string LogTail(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  if (s.size() > 2000) s = "..." + s.substr(s.size() - 2000);
  return s;
}

// What the journal itself reports synced, when this round's child got as far as publishing it.
std::uint64_t ControlDurable(const std::string& journal, int child_pid) {
  Result<std::unique_ptr<journal::ControlFile>> c = journal::ControlFile::OpenReadOnly(journal);
  if (!c.ok()) return 0;
  const journal::ControlBlock& b = (*c)->block();
  // Relaxed: the writer is dead (reaped); the mapping shows its last stores.
  if (static_cast<int>(b.writer_pid.load(std::memory_order_relaxed)) != child_pid) return 0;
  return b.durable_position.load(std::memory_order_acquire);
}

void PrintRound(std::FILE* out, const Round& r, journal::Durability durability) {
  std::fprintf(out, "round %2d: ", r.number);
  if (r.from_spawn) {
    std::fprintf(out, "killed %.0f ms after start%s", r.killed_ms, r.ready ? "" : " (during recovery)");
  } else {
    std::fprintf(out, "killed %.0f ms after ready", r.killed_ms - r.ready_ms);
  }
  std::fprintf(out,
               ": %" PRIu64 " sent (%" PRIu64 " retries), %" PRIu64 " acked (%" PRIu64 " durable, %" PRIu64
               " rejected, %" PRIu64 " duplicates)",
               r.sent, r.retried, r.acked, r.durable, r.rejected, r.duplicates);
  if (r.violation && r.verify.committed_position == 0 && r.verify.events == 0) {
    std::fprintf(out, "\n");
    return;
  }
  std::fprintf(out, "; recovered to %" PRIu64, r.verify.committed_position);
  if (r.verify.tail_cut_bytes) std::fprintf(out, " (torn tail of %" PRIu64 " B cut)", r.verify.tail_cut_bytes);
  std::fprintf(out, " in %.0f ms, %" PRIu64 " acks verified in %.0f ms", r.verify.recover_seconds * 1e3,
               r.verify.acks_checked, r.verify.verify_seconds * 1e3);
  if (durability != journal::Durability::kNone) {
    if (!r.power.skipped.empty()) {
      std::fprintf(out, "; power loss: skipped (%s)", r.power.skipped.c_str());
    } else if (r.power.tried) {
      std::fprintf(out, "; power loss at %" PRIu64 " +%" PRIu64 " B %s: %s", r.power.cut.synced_position,
                   r.power.cut.garbage_bytes, r.power.cut.torn_batch ? "torn batch" : "garbage",
                   r.power.report.violation ? "FAILED" : "ok");
    }
  }
  if (r.damage.tried)
    std::fprintf(out,
                 "; bit flip at %" PRIu64 " (below durable): refused, salvage kept %" PRIu64 " (%" PRIu64
                 " acknowledged lost, reported)",
                 r.damage.position, r.damage.kept, r.damage.acknowledged_lost);
  std::fprintf(out, "\n");
}

void PrintJson(std::FILE* out, const CrashtestOptions& o, std::uint64_t seed, const std::vector<Round>& rounds,
               const std::string& journal, double seconds, bool ok) {
  std::fprintf(out, "{\"seed\":%" PRIu64 ",\"durability\":\"%s\",\"kills\":%d,\"journal\":\"%s\",\"rounds\":[", seed,
               o.durability.c_str(), o.kills, JsonEscape(journal).c_str());
  std::uint64_t acked = 0, durable = 0;
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    const Round& r = rounds[i];
    acked += r.acked;
    durable += r.durable;
    std::fprintf(out,
                 "%s{\"round\":%d,\"killed_ms\":%.1f,\"ready_ms\":%.1f,\"killed_from_start\":%s,\"sent\":%" PRIu64
                 ",\"retried\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"durable\":%" PRIu64 ",\"rejected\":%" PRIu64
                 ",\"duplicates\":%" PRIu64 ",\"committed_position\":%" PRIu64 ",\"tail_cut_bytes\":%" PRIu64
                 ",\"acks_verified\":%" PRIu64 ",\"recover_ms\":%.1f,\"verify_ms\":%.1f",
                 i ? "," : "", r.number, r.killed_ms, r.ready_ms, r.from_spawn ? "true" : "false", r.sent, r.retried,
                 r.acked, r.durable, r.rejected, r.duplicates, r.verify.committed_position, r.verify.tail_cut_bytes,
                 r.verify.acks_checked, r.verify.recover_seconds * 1e3, r.verify.verify_seconds * 1e3);
    if (r.power.tried)
      std::fprintf(out,
                   ",\"power_loss\":{\"synced_position\":%" PRIu64 ",\"garbage_bytes\":%" PRIu64
                   ",\"torn_batch\":%s,\"segments_dropped\":%" PRIu64 ",\"ok\":%s}",
                   r.power.cut.synced_position, r.power.cut.garbage_bytes, r.power.cut.torn_batch ? "true" : "false",
                   r.power.cut.segments_dropped, r.power.report.violation ? "false" : "true");
    if (r.damage.tried)
      std::fprintf(out,
                   ",\"damage_below_durable\":{\"position\":%" PRIu64 ",\"segment\":\"%s\",\"offset\":%" PRIu64
                   ",\"refused\":true,\"salvage_kept\":%" PRIu64 ",\"acknowledged_lost\":%" PRIu64 "}",
                   r.damage.position, r.damage.segment.c_str(), r.damage.offset, r.damage.kept,
                   r.damage.acknowledged_lost);
    if (r.violation) std::fprintf(out, ",\"violation\":\"%s\"", JsonEscape(*r.violation).c_str());
    std::fprintf(out, "}");
  }
  std::fprintf(out, "],\"acked\":%" PRIu64 ",\"durable\":%" PRIu64 ",\"seconds\":%.2f,\"result\":\"%s\"", acked,
               durable, seconds, ok ? "ok" : "violation");
  for (const Round& r : rounds) {
    if (r.violation) {
      std::fprintf(out, ",\"violation\":\"%s\",\"violation_round\":%d", JsonEscape(*r.violation).c_str(), r.number);
      break;
    }
  }
  std::fprintf(out, "}\n");
}

// One round: child, kill, absorb, recover + verify (and the power-loss copy).
// Returns false when the run cannot go on (the round's violation, or a start failure in *start_error).
bool RunRound(const CrashtestOptions& o, journal::Durability durability, const std::string& root,
              const std::string& journal, const std::string& exe, std::uint64_t seed, Ledger& ledger,
              std::mt19937_64& kill_rng, std::mt19937_64& power_rng, std::mt19937_64& retry_rng, Round& r,
              std::string* start_error) {
  const std::string retry_file = root + "/retries.bin";
  if (!WriteRetries(retry_file, ledger.PickRetries(r.number - 1, retry_rng, kRetryUnacked, kRetryAcked))) {
    *start_error = "cannot write " + retry_file;
    return false;
  }
  KillPlan plan;
  r.from_spawn = kill_rng() % 8 == 0;  // now and then: a kill while the child opens the journal
  plan.from_spawn = r.from_spawn;
  plan.delay_ms = r.from_spawn
                      ? static_cast<int>(kill_rng() % 31)
                      : o.min_ms + static_cast<int>(kill_rng() % static_cast<std::uint64_t>(o.max_ms - o.min_ms + 1));
  r.log = root + "/child-" + std::to_string(r.number) + ".log";
  const std::vector<std::string> args = {"crashtest",     "--child",
                                         "--journal",     journal,
                                         "--durability",  o.durability,
                                         "--seed",        std::to_string(seed),
                                         "--round",       std::to_string(r.number),
                                         "--producers",   std::to_string(o.producers),
                                         "--accounts",    std::to_string(o.accounts),
                                         "--rate",        std::to_string(o.rate),
                                         "--segment-kib", std::to_string(o.segment_kib),
                                         "--ack-fd",      std::to_string(kChildAckFd),
                                         "--retry-file",  retry_file};
  Result<ChildRun> run = RunChildProcess(exe, args, r.log, plan);
  if (!run.ok()) {
    *start_error = "cannot start the child: " + run.status().ToString();
    return false;
  }
  r.ready = run->ready;
  r.ready_ms = run->ready_ms;
  r.killed_ms = run->killed_ms;
  for (const WireRecord& w : run->records) {
    if (w.kind == WireKind::kReady) r.child_recovered = w.a;
    if (w.kind == WireKind::kSent) {
      ++r.sent;
      if (w.flags & kFlagRetry) ++r.retried;
    }
    if (w.kind == WireKind::kAck) {
      ++r.acked;
      if (w.code != engine::RejectCode::kNone) ++r.rejected;
      if (w.code == engine::RejectCode::kNone && w.level == engine::AckLevel::kDurable) ++r.durable;
      if (w.flags & kFlagDuplicate) ++r.duplicates;
    }
    if (!r.violation) {
      if (auto v = ledger.Absorb(w, r.number)) r.violation = *v;
    }
  }
  if (!run->killed_by_us) {
    const bool first_cannot_open = r.number == 1 && WIFEXITED(run->wait_status) && WEXITSTATUS(run->wait_status) == 3;
    const std::string what = "the child " + DescribeWaitStatus(run->wait_status) + " before it was killed; its log (" +
                             r.log + "):\n" + LogTail(r.log);
    if (first_cannot_open) {
      *start_error = what;
      return false;
    }
    r.violation = what;
    return false;
  }
  if (!run->ready && !r.from_spawn) {
    r.violation = "the child did not open the journal within " + std::to_string(plan.ready_timeout_ms / 1000) +
                  " s; its log (" + r.log + "):\n" + LogTail(r.log);
    return false;
  }
  if (r.violation) return false;

  if (o.inject == "fake-ack" && r.number == 1) ledger.InjectFakeAck(1, 1);
  // The first round with an accepted ack: a round killed before any ack has nothing to lose.
  if (o.inject == "lose-ack" && !ledger.lost_ack_injected()) ledger.InjectLostAck(r.number);

  // The power-loss copy is taken from the journal exactly as the kill left it.
  const std::string copy = root + "/power-loss";
  if (durability != journal::Durability::kNone) {
    std::error_code ec;
    fs::remove_all(copy, ec);
    const std::uint64_t synced = std::max(ledger.max_durable_position(), ControlDurable(journal, run->pid));
    Result<PowerLossCut> cut = MakePowerLossCopy(journal, copy, synced, power_rng);
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
  if (power_rng() % 4 == 0) {
    r.damage = DamageBelowDurable(journal, root + "/damaged", o.segment_kib, durability, power_rng);
    if (r.damage.violation) {
      r.violation = "damage round: " + *r.damage.violation;
      return false;
    }
  }

  r.verify = VerifyJournal(
      {.journal = journal, .segment_kib = o.segment_kib, .durability = durability, .synced_position = std::nullopt},
      ledger);
  if (r.verify.violation) {
    r.violation = *r.verify.violation;
    return false;
  }
  if (r.power.tried) {
    r.power.report = VerifyJournal({.journal = copy,
                                    .segment_kib = o.segment_kib,
                                    .durability = durability,
                                    .synced_position = r.power.cut.synced_position},
                                   ledger);
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

int RunCrashtest(const CrashtestOptions& o, std::FILE* out, std::FILE* err) {
  if (o.child) return RunChild(o, err);
  const std::optional<journal::Durability> durability = ParseDurability(o.durability);
  std::string usage;
  if (!durability) usage = "--durability must be none, batch or interval, not '" + o.durability + "'";
  if (o.kills < 1 || o.kills > 100'000) usage = "--kills must be in [1, 100000]";
  if (o.min_ms < 0 || o.max_ms < o.min_ms)
    usage = "--min-ms " + std::to_string(o.min_ms) + " and --max-ms " + std::to_string(o.max_ms) +
            " are not a range: give 0 <= --min-ms <= --max-ms";
  if (o.producers < 1 || o.producers > 64) usage = "--producers must be in [1, 64]";
  if (o.accounts < 2 || o.accounts > 1'000'000) usage = "--accounts must be in [2, 1000000]";
  if (o.rate < 0) usage = "--rate must be >= 0 (0: unlimited)";
  if (o.segment_kib < 64 || o.segment_kib % 4 != 0 || o.segment_kib > 1024 * 1024)
    usage = "--segment-kib " + std::to_string(o.segment_kib) +
            " is not a multiple of 4 in [64, 1048576]: give e.g. 64 or 1024";
  if (!o.inject.empty() && o.inject != "fake-ack" && o.inject != "lose-ack")
    usage = "--inject must be fake-ack or lose-ack";
  if (!usage.empty()) {
    std::fprintf(err, "%s\n", Usage(usage).c_str());
    return kExitUsage;
  }
  std::uint64_t seed = o.seed;
  while (seed == 0) seed = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();

  std::string root = o.dir;
  const bool temporary = root.empty();
  if (temporary) {
    std::string tmpl = (fs::temp_directory_path() / "rill-crashtest-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(err, "rill crashtest: cannot create a temporary directory in %s: use --dir DIR\n",
                   fs::temp_directory_path().c_str());
      return kExitCannotStart;
    }
    root = tmpl;
  } else {
    std::error_code ec;
    if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
      std::fprintf(err, "rill crashtest: %s is not a directory: pass a directory (or a path to create) with --dir\n",
                   root.c_str());
      return kExitCannotStart;
    }
    fs::create_directories(root, ec);
    if (ec) {
      std::fprintf(err, "rill crashtest: cannot create %s: %s\n", root.c_str(), ec.message().c_str());
      return kExitCannotStart;
    }
  }
  const std::string journal = (fs::path(root) / "journal").string();
  if (fs::exists(journal)) {
    std::fprintf(err, "rill crashtest: %s already holds a journal: pass another --dir, or remove it\n",
                 journal.c_str());
    return kExitUsage;
  }
  const std::string exe = o.child_exe.empty() ? "/proc/self/exe" : o.child_exe;

  const std::string replay = "rill crashtest --seed " + std::to_string(seed) + " --durability " + o.durability +
                             " --kills " + std::to_string(o.kills) + " --min-ms " + std::to_string(o.min_ms) +
                             " --max-ms " + std::to_string(o.max_ms);
  // The seed goes out first, on stderr under --json: a run that hangs or crashes can be replayed.
  std::FILE* info = o.json ? err : out;
  std::fprintf(info, "rill crashtest: seed %" PRIu64 ", durability %s, %d kills, %d producers, %d accounts\n", seed,
               o.durability.c_str(), o.kills, o.producers, o.accounts);
  std::fprintf(info, "journal in %s%s\nreplay: %s\n", journal.c_str(),
               temporary && !o.keep ? " (removed afterwards unless a check fails)" : "", replay.c_str());
  std::fflush(info);

  const Clock::time_point t0 = Clock::now();
  Ledger ledger(static_cast<std::uint64_t>(o.accounts));
  std::mt19937_64 kill_rng(seed), power_rng(seed ^ 0x5bd1e995u), retry_rng(seed ^ 0x27d4eb2fu);
  std::vector<Round> rounds;
  std::string start_error;
  bool ok = true;
  for (int n = 1; n <= o.kills; ++n) {
    Round& r = rounds.emplace_back();
    r.number = n;
    const bool go_on =
        RunRound(o, *durability, root, journal, exe, seed, ledger, kill_rng, power_rng, retry_rng, r, &start_error);
    if (!start_error.empty()) {
      std::fprintf(err, "rill crashtest: %s\n", start_error.c_str());
      if (temporary && !o.keep) {
        std::error_code ec;
        fs::remove_all(root, ec);
      }
      return kExitCannotStart;
    }
    if (!o.json) PrintRound(out, r, *durability);
    std::fflush(out);
    if (!go_on) {
      ok = false;
      break;
    }
  }
  const double seconds = Since(t0);
  if (o.json) PrintJson(out, o, seed, rounds, journal, seconds, ok);
  if (!ok) {
    const Round& r = rounds.back();
    std::fprintf(o.json ? err : out, "VIOLATION in round %d: %s\njournal kept in %s\nreplay: %s\nresult: FAILED\n",
                 r.number, r.violation ? r.violation->c_str() : "?", journal.c_str(), replay.c_str());
    return kExitViolation;
  }
  if (!o.json) {
    std::uint64_t acked = 0, durable = 0;
    for (const Round& r : rounds) acked += r.acked, durable += r.durable;
    std::fprintf(out,
                 "result: ok: %d kills, %" PRIu64 " acknowledgements (%" PRIu64
                 " durable) all found exactly once (%" PRIu64 " in the last check), in %.1f s\n",
                 o.kills, acked, durable, rounds.back().verify.acks_checked, seconds);
  }
  if (temporary && !o.keep) {
    std::error_code ec;
    fs::remove_all(root, ec);
  } else if (!o.json) {
    std::fprintf(out, "journal kept in %s\n", journal.c_str());
  }
  return kExitOk;
}

}  // namespace rill::tools::crashtest
