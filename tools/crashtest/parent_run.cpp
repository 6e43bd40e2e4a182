// The crash test parent's shared helpers: see parent_run.h.
#include "rill/tools/crashtest/parent_run.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "rill/tools/crashtest/child_process.h"
#include "rill/tools/crashtest/crash_workload.h"

namespace rill::tools::crashtest::parent {

std::string LogTail(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  if (s.size() > 2000) s = "..." + s.substr(s.size() - 2000);
  return s;
}

VerifyOptions JournalOptions(const Run& run, const std::string& journal) {
  return {.journal = journal,
          .segment_kib = run.o.segment_kib,
          .durability = run.durability,
          .synced_position = std::nullopt,
          .aggregates = static_cast<std::uint64_t>(run.o.aggregates),
          .checkpoints = CheckpointDirectory(journal),
          .scratch = run.root + "/checkpoints-verify"};
}

std::vector<std::string> ChildArgs(const Run& run, int round, const std::string& journal, const std::string& plan_file,
                                   const std::vector<std::string>& extra) {
  const CrashtestOptions& o = run.o;
  std::vector<std::string> args = {"crashtest"};
  if (!o.domain.empty()) args.insert(args.end(), {"--domain", o.domain});
  args.insert(args.end(), {"--child",
                           "--journal",
                           journal,
                           "--durability",
                           o.durability,
                           "--seed",
                           std::to_string(run.seed),
                           "--round",
                           std::to_string(round),
                           "--producers",
                           std::to_string(o.producers),
                           "--aggregates",
                           std::to_string(o.aggregates),
                           "--rate",
                           std::to_string(o.rate),
                           "--segment-kib",
                           std::to_string(o.segment_kib),
                           "--ack-fd",
                           std::to_string(kChildAckFd),
                           "--retry-file",
                           plan_file});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void AbsorbReport(Run& run, Round& r, const WireRecord& w) {
  if (w.kind == WireKind::kReady) r.child_recovered = w.a;
  if (w.kind == WireKind::kSent) {
    ++r.sent;
    if (w.flags & kFlagRetry) ++r.retried;
  }
  if (w.kind == WireKind::kAck) {
    ++r.acked;
    if (w.code != engine::RejectCode::kNone) ++r.rejected;
    if (w.code == engine::RejectCode::kNone && w.level == engine::AckLevel::kDurable) ++r.durable;
    if (w.code == engine::RejectCode::kNone && IsReplicatedLevel(w.level)) ++r.replicated;
    if (w.flags & kFlagDuplicate) ++r.duplicates;
  }
  if (!r.violation) {
    if (auto v = run.ledger.Absorb(w, r.number)) r.violation = *v;
  }
}

}  // namespace rill::tools::crashtest::parent
