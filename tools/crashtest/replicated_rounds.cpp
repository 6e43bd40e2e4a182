// rill crashtest --replicate: the round loop (ReplicatedRun::Go) and its checks of the stream
// and of the tails moved aside. Past 400 lines, kept whole: one class whose members (the
// ledger of acks, the stream image, the claimed aside directories) every check shares; the
// stream reading itself is in stream_image.cpp, the child side in child_node.cpp.
#include "rill/tools/crashtest/replicated_rounds.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <system_error>

#include "rill/tools/crashtest/child_process.h"
#include "rill/tools/crashtest/crash_workload.h"
#include "rill/tools/crashtest/round_plan.h"
#include "rill/tools/crashtest/stream_image.h"

namespace rill::tools::crashtest::parent {
namespace {

namespace fs = std::filesystem;
using Clock = ChildProcess::Clock;

constexpr int kReadyTimeoutMs = 60'000;  // a writer (or standby) that never gets there is a violation

double Ms(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}
std::string N(std::uint64_t v) { return std::to_string(v); }
char NodeLetter(int node) { return node == 0 ? 'a' : 'b'; }
std::string NodeName(int node) { return std::string("node-") + NodeLetter(node); }

// A tail a node moved aside, kept to check against the stream every round.
struct Aside {
  int node = 0;
  std::uint64_t first = 0, last = 0;
  std::string directory;
  RecordImage image;  // the aside directory's records (the cut segment is a whole copy: more than first..last)
};

class ReplicatedRun {
 public:
  ReplicatedRun(Run& run, std::vector<Round>& rounds, ReplicatedSummary* summary, std::FILE* out)
      : run_(run), o_(run.o), rounds_(rounds), summary_(summary), out_(out), shard_(RunShard(run.seed)) {}

  bool Go(std::string* start_error);

 private:
  std::vector<std::string> Extra(int node) const {
    return {"--replicate",    o_.replicate,
            "--app",          kReplicatedApp,
            "--shard",        shard_,
            "--holder",       NodeName(node),
            "--lease-ttl-ms", std::to_string(LeaseTtlMs(o_)),
            "--replicas",     std::to_string(o_.replicas)};
  }
  std::string PlanFile(int round) const { return run_.root + "/round-plan-" + std::to_string(round) + ".bin"; }
  Result<std::unique_ptr<ChildProcess>> SpawnNode(int round, int node) {
    const std::string log = run_.root + "/child-" + std::to_string(round) + "-" + NodeName(node) + ".log";
    std::error_code ec;
    fs::remove(PlanFile(round), ec);
    return ChildProcess::Spawn(run_.exe,
                               ChildArgs(run_, round, NodeJournal(run_.root, node), PlanFile(round), Extra(node)), log);
  }
  // Writes round r's plan where its child waits for it (whole, by rename).
  std::optional<std::string> WritePlan(int round) {
    const RoundPlan plan = run_.ledger.PlanRound(round - 1, run_.retry_rng, kRetryUnacked, kRetryAcked);
    const std::string tmp = PlanFile(round) + ".tmp";
    if (Status s = WriteRoundPlan(tmp, plan); !s.ok()) return s.ToString();
    std::error_code ec;
    fs::rename(tmp, PlanFile(round), ec);
    if (ec) return "cannot rename " + tmp + ": " + ec.message();
    return std::nullopt;
  }
  // The writer's reports since `*seen`.
  void TakeWriterReports(Round& r, ChildProcess& c, std::size_t* seen, int kind_takeover);
  // The standby's reports since `*seen`: its reconcile (a tail moved aside) and that it follows.
  void TakeStandbyReports(Round& r, ChildProcess& s, std::size_t* seen, int node, bool* following);
  std::optional<std::string> RecordAside(Round& r, int node, const WireRecord& w);
  std::optional<std::string> CheckStream(Round& r, int writer);
  std::optional<std::string> OpenStream() {
    if (stream_) return std::nullopt;
    Result<std::unique_ptr<StreamImage>> s =
        StreamImage::Open({.urls = o_.replicate, .app = kReplicatedApp, .shard = shard_, .replicas = o_.replicas});
    if (!s.ok()) return "cannot read the stream: " + s.status().ToString();
    stream_ = std::move(s).value();
    return std::nullopt;
  }
  std::string ChildGone(const ChildProcess& c, const char* what) {
    return std::string(what) + " " + DescribeWaitStatus(c.run().wait_status) + " before it was killed; its log (" +
           c.log() + "):\n" + LogTail(c.log());
  }

  Run& run_;
  const CrashtestOptions& o_;
  std::vector<Round>& rounds_;
  ReplicatedSummary* summary_;
  std::FILE* out_;
  const std::string shard_;
  std::unique_ptr<StreamImage> stream_;
  std::vector<Aside> asides_;
  std::set<std::string> claimed_aside_dirs_;  // aside-* directories holding a reported tail
  Clock::time_point previous_kill_{};
  bool plan_written_ = false;
  // Per node: its journal's end after its last kill, and where the other node took over from it
  // (0: never). A node started again as a standby must move exactly what lies between aside.
  std::uint64_t last_end_[2] = {0, 0}, taken_over_at_[2] = {0, 0};
  std::optional<Clock::time_point> ready_at_;  // this round's writer reported kReady (the parent's clock)
};

void ReplicatedRun::TakeWriterReports(Round& r, ChildProcess& c, std::size_t* seen, int kind_takeover) {
  for (; *seen < c.records().size(); ++*seen) {
    const WireRecord& w = c.records()[*seen];
    const Clock::time_point at = c.arrivals()[*seen];
    if (w.kind == WireKind::kReconciled) {
      // A writer started on its own directory after a kill must restart in place: the stream
      // is a prefix of its journal (a kill keeps every committed batch) and the lease is its own.
      if (r.rep.kind == "in place" && (w.flags & kFlagInPlace) == 0 && !r.violation)
        r.violation = "node " + std::string(1, r.rep.node) +
                      " restarted after a kill did not restart in place: its node reconciled to position " + N(w.id) +
                      (w.a != 0 ? ", moving " + N(w.a) + ".." + N(w.b) + " aside" : std::string()) +
                      " (the stream is a prefix of its journal and the lease was its own)";
      if (w.a != 0 && !r.violation) {
        if (auto v = RecordAside(r, r.rep.node == 'a' ? 0 : 1, w)) r.violation = v;
      }
      continue;
    }
    if (w.kind == WireKind::kStandby) continue;  // a first writer follows the empty stream first
    if (w.kind == WireKind::kReady) {
      ready_at_ = at;
      r.rep.epoch = w.id;
      r.rep.continued_after = w.a;
      r.rep.replayed = w.b;
      if (kind_takeover) {
        r.rep.ready_after_kill_ms = Ms(previous_kill_, at);
        if ((w.flags & kFlagTakeover) == 0 && !r.violation)
          r.violation = "the standby on node " + std::string(1, r.rep.node) +
                        " became the writer without taking over from standby (it restarted in place?)";
        // Everything past where it continues was the old writer's unreplicated tail.
        taken_over_at_[r.rep.node == 'a' ? 1 : 0] = w.a;
        const Ledger::Superseded s = run_.ledger.Supersede(w.a, r.number);
        r.rep.forgotten = s.dropped;
        if (s.violation && !r.violation) r.violation = s.violation;
      }
      if (!r.violation) {
        if (auto v = WritePlan(r.number)) r.violation = "cannot write the round plan: " + *v;
        plan_written_ = true;
      }
    }
    if (kind_takeover && r.rep.takeover_ms < 0 && w.kind == WireKind::kAck && w.code == engine::RejectCode::kNone)
      r.rep.takeover_ms = Ms(previous_kill_, at);
    AbsorbReport(run_, r, w);
  }
}

void ReplicatedRun::TakeStandbyReports(Round& r, ChildProcess& s, std::size_t* seen, int node, bool* following) {
  for (; *seen < s.records().size(); ++*seen) {
    const WireRecord& w = s.records()[*seen];
    if (w.kind == WireKind::kReconciled) {
      r.rep.standby_node = NodeLetter(node);
      if (w.flags & kFlagInPlace) {
        if (!r.violation)
          r.violation = "the standby on node " + std::string(1, NodeLetter(node)) +
                        " reconciled to restart in place while node " + std::string(1, r.rep.node) +
                        " holds the lease: two writers";
      } else if (!r.violation) {
        // What the other node did not take over is exactly what must be moved aside.
        const std::uint64_t from = taken_over_at_[node], end = last_end_[node];
        if (from != 0 && end > from && (w.a != from + 1 || w.b != end))
          r.violation = "node " + std::string(1, NodeLetter(node)) + "'s journal ended at position " + N(end) +
                        " when it was killed, and node " + std::string(1, NodeLetter(1 - node)) +
                        " took over after position " + N(from) + ": started again, it must move " + N(from + 1) + ".." +
                        N(end) + " aside, but its reconcile " +
                        (w.a == 0 ? std::string("moved nothing") : "moved " + N(w.a) + ".." + N(w.b)) +
                        " (kept through " + N(w.id) + ")";
        if (w.a != 0 && !r.violation) {
          if (auto v = RecordAside(r, node, w)) r.violation = v;
        }
      }
    } else if (w.kind == WireKind::kStandby) {
      *following = true;
    } else if (!r.violation) {
      r.violation = "the standby on node " + std::string(1, NodeLetter(node)) +
                    " reported a command or became the writer while node " + std::string(1, r.rep.node) +
                    "'s writer holds the lease";
    }
  }
}

// A reconcile moved positions w.a..w.b of `node`'s journal aside: find the new aside-*
// directory and keep its records.
std::optional<std::string> ReplicatedRun::RecordAside(Round& r, int node, const WireRecord& w) {
  const std::string journal = NodeJournal(run_.root, node);
  // Recovery sets a torn tail aside into aside-* directories too (each salvage its own:
  // aside-<unix seconds>[-n]): take the newest one not yet claimed that holds the reported
  // positions.
  std::error_code ec;
  std::vector<std::string> fresh;
  for (const fs::directory_entry& e : fs::directory_iterator(journal, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory(ec) && name.rfind("aside-", 0) == 0 && !claimed_aside_dirs_.count(e.path().string()))
      fresh.push_back(e.path().string());
  }
  std::sort(fresh.rbegin(), fresh.rend());  // aside-<unix seconds>[-n]: the newest first
  Aside a;
  a.node = node;
  a.first = w.a;
  a.last = w.b;
  std::string tried;
  for (const std::string& dir : fresh) {
    RecordImage image;
    const Status s = ReadJournalImage(dir, &image);
    if (s.ok() && image.Has(a.first) && image.Has(a.last)) {
      a.directory = dir;
      a.image = std::move(image);
      claimed_aside_dirs_.insert(dir);
      break;
    }
    tried += "; " + dir + ": " + (s.ok() ? "positions " + N(image.first) + ".." + N(image.last()) : s.ToString());
  }
  if (a.directory.empty())
    return "node " + std::string(1, NodeLetter(node)) + " reported positions " + N(w.a) + ".." + N(w.b) +
           " moved aside, but no new aside-* directory in " + journal + " holds them" +
           (tried.empty() ? std::string(" (none is new)") : tried);
  r.rep.moved_first = a.first;
  r.rep.moved_last = a.last;
  r.rep.aside_directory = fs::path(a.directory).filename().string();
  ++summary_->tails_moved;
  summary_->records_moved += a.last - a.first + 1;
  asides_.push_back(std::move(a));
  return std::nullopt;
}

std::optional<std::string> ReplicatedRun::CheckStream(Round& r, int writer) {
  if (auto v = OpenStream()) return v;
  if (Status s = stream_->Refresh(); !s.ok()) return "the stream: " + s.ToString();
  const RecordImage& st = stream_->records();
  RecordImage journal;
  const std::string dir = NodeJournal(run_.root, writer);
  if (Status s = ReadJournalImage(dir, &journal); !s.ok()) return s.ToString();
  r.rep.stream_end = st.last();
  r.rep.stream_messages = stream_->messages();
  const std::string who = "node " + std::string(1, NodeLetter(writer)) + "'s journal";
  // Records a writer of this epoch or before shipped are this writer's journal (a successor on
  // the other node may already have appended, with a higher epoch). A writer killed before it
  // opened reported no epoch: nobody else writes then.
  const std::uint64_t epoch = r.ready ? r.rep.epoch : ~std::uint64_t{0};
  for (std::uint64_t p = st.first; p < st.end(); ++p) {
    if (st.epochs[p - st.first] > epoch) continue;
    if (!journal.Has(p))
      return "the stream holds position " + N(p) + " (epoch " + N(st.epochs[p - st.first]) + "), but " + who +
             " (epoch " + N(r.rep.epoch) + ") ends at " + N(journal.last());
    if (journal.Hash(p) != st.Hash(p))
      return "the stream's record at position " + N(p) + " (epoch " + N(st.epochs[p - st.first]) +
             ") is not the one at that position in " + who + " (epoch " + N(r.rep.epoch) + ")";
    ++r.rep.stream_compared;
  }
  // Every replicated acknowledgement (all rounds) is on the stream at its position: the
  // journal check found it there exactly once, and the stream's record equals the journal's.
  for (std::uint64_t id = 1; id <= run_.ledger.capacity(); ++id) {
    const Ledger::Entry* e = run_.ledger.Find(id);
    if (e == nullptr || !e->replicated() || e->event_count == 0) continue;
    if (!st.Has(e->position))
      return "command " + N(id) + " (" + run_.ledger.Origin(id) + ") was acknowledged replicated at position " +
             N(e->position) + " in round " + N(static_cast<std::uint64_t>(e->acked_round)) +
             ", but the stream ends at position " + N(st.last());
    if (st.epochs[e->position - st.first] <= epoch && journal.Hash(e->position) != st.Hash(e->position))
      return "command " + N(id) + " was acknowledged replicated at position " + N(e->position) +
             ", but the stream's record there is not the journal's";
    ++r.rep.replicated_checked;
  }
  // Nothing moved aside was ever on the stream.
  for (const Aside& a : asides_) {
    for (std::uint64_t p = a.first; p <= a.last; ++p) {
      if (!st.Has(p)) continue;  // the stream ends before it
      if (st.Hash(p) == a.image.Hash(p))
        return "position " + N(p) + ", moved aside from node " + std::string(1, NodeLetter(a.node)) +
               "'s journal into " + a.directory + " (never to be shipped), is on the stream with the same record";
      ++r.rep.aside_checked;
    }
  }
  summary_->stream_end = r.rep.stream_end;
  summary_->stream_messages = r.rep.stream_messages;
  return std::nullopt;
}

bool ReplicatedRun::Go(std::string* start_error) {
  // The stream first (its Connect creates it as the replicator would): no cluster, no run.
  if (auto v = OpenStream()) {
    *start_error = *v + " (is NATS JetStream running at --replicate's urls?)";
    return false;
  }
  int writer = 0;
  std::unique_ptr<ChildProcess> child, standby;
  std::size_t standby_seen = 0;  // the standby's reports taken (it is the next round's writer)
  for (int n = 1; n <= o_.kills; ++n) {
    Round& r = rounds_.emplace_back();
    r.number = n;
    r.rep.on = true;
    const bool takeover = n >= 2 && n % 2 == 0;
    r.rep.kind = n == 1 ? "first" : takeover ? "takeover" : "in place";
    const bool next_takeover = n < o_.kills && (n + 1) % 2 == 0;
    std::size_t seen = 0;
    if (takeover) {
      writer = 1 - writer;
      child = std::move(standby);
      seen = standby_seen;  // its reconcile and "standby" were taken last round
      standby_seen = 0;
      if (!child) {
        r.violation = "no standby was started for this takeover";
        if (!o_.json) PrintRound(out_, r, run_.durability);
        return false;
      }
    } else {
      Result<std::unique_ptr<ChildProcess>> c = SpawnNode(n, writer);
      if (!c.ok()) {
        *start_error = "cannot start the child: " + c.status().ToString();
        return false;
      }
      child = std::move(c).value();
    }
    r.rep.node = NodeLetter(writer);
    r.log = child->log();
    // A kill during start-up (one in eight) only when no standby must be following first.
    r.from_spawn = !takeover && !next_takeover && run_.kill_rng() % 8 == 0;
    const int delay_ms =
        r.from_spawn
            ? static_cast<int>(run_.kill_rng() % 31)
            : o_.min_ms + static_cast<int>(run_.kill_rng() % static_cast<std::uint64_t>(o_.max_ms - o_.min_ms + 1));
    plan_written_ = false;
    ready_at_.reset();
    const Clock::time_point round_start = Clock::now();
    bool following = false, gone = false;
    for (;;) {
      TakeWriterReports(r, *child, &seen, takeover);
      if (standby) TakeStandbyReports(r, *standby, &standby_seen, 1 - writer, &following);
      if (r.violation) break;
      const Clock::time_point now = Clock::now();
      // The next round's standby starts once this writer writes, and must follow before the kill.
      if (next_takeover && plan_written_ && !standby) {
        Result<std::unique_ptr<ChildProcess>> s = SpawnNode(n + 1, 1 - writer);
        if (!s.ok()) {
          *start_error = "cannot start the standby: " + s.status().ToString();
          return false;
        }
        standby = std::move(s).value();
      }
      const Clock::time_point due = r.from_spawn ? child->spawned_at() + std::chrono::milliseconds(delay_ms)
                                    : ready_at_  ? *ready_at_ + std::chrono::milliseconds(delay_ms)
                                                 : round_start + std::chrono::milliseconds(kReadyTimeoutMs);
      const bool standby_ready = !next_takeover || following || r.from_spawn;
      if (now >= due && (standby_ready || !plan_written_)) break;
      if (now >= due && Ms(due, now) > kReadyTimeoutMs) {
        r.violation = "the standby on node " + std::string(1, NodeLetter(1 - writer)) + " did not follow within " +
                      N(kReadyTimeoutMs / 1000) + " s; its log (" + standby->log() + "):\n" + LogTail(standby->log());
        break;
      }
      if (!r.ready && !r.from_spawn && now >= round_start + std::chrono::milliseconds(kReadyTimeoutMs)) break;
      const int wait = std::clamp(static_cast<int>(Ms(now, due)) + 1, 1, standby ? 5 : 20);
      if (!child->Poll(wait)) {
        gone = true;
        break;
      }
      if (standby && !standby->Poll(0)) {
        standby->Reap();
        TakeStandbyReports(r, *standby, &standby_seen, 1 - writer, &following);
        if (!r.violation) r.violation = ChildGone(*standby, "the standby");
        break;
      }
      r.ready = child->run().ready;
    }
    child->Kill();
    previous_kill_ = child->killed_at();
    TakeWriterReports(r, *child, &seen, takeover);
    r.ready = child->run().ready;
    r.ready_ms = child->run().ready_ms;
    r.killed_ms = child->run().killed_ms;
    if (gone || !child->run().killed_by_us) {
      const ChildRun& c = child->run();
      if (n == 1 && WIFEXITED(c.wait_status) && WEXITSTATUS(c.wait_status) == 3) {
        *start_error = ChildGone(*child, "the child");
        return false;
      }
      if (!r.violation) r.violation = ChildGone(*child, "the writer child");
    }
    if (!r.violation && !r.ready && !r.from_spawn)
      r.violation = "the writer on node " + std::string(1, r.rep.node) + " did not open within " +
                    N(kReadyTimeoutMs / 1000) + " s; its log (" + r.log + "):\n" + LogTail(r.log);
    if (!r.violation && o_.inject == "fake-ack" && n == 1) run_.ledger.InjectFakeAck(1, 1);
    if (!r.violation && o_.inject == "lose-ack" && !run_.ledger.lost_ack_injected()) run_.ledger.InjectLostAck(n);
    if (!r.violation) {
      r.verify = run_.domain.Verify(JournalOptions(run_, NodeJournal(run_.root, writer)), run_.ledger);
      if (r.verify.violation) r.violation = "node " + std::string(1, r.rep.node) + "'s journal: " + *r.verify.violation;
    }
    if (!r.violation) last_end_[writer] = r.verify.committed_position;
    if (!r.violation) r.violation = CheckStream(r, writer);
    if (takeover) {
      ++summary_->takeovers;
      if (r.rep.takeover_ms >= 0) summary_->takeover_ms.push_back(r.rep.takeover_ms);
      summary_->takeover_replayed.push_back(r.rep.replayed);
    } else if (n > 1) {
      ++summary_->in_place;
    }
    summary_->replicated_acks += r.replicated;
    summary_->forgotten += r.rep.forgotten;
    if (!o_.json) PrintRound(out_, r, run_.durability);
    std::fflush(out_);
    if (r.violation) {
      if (standby) standby->Kill();
      return false;
    }
  }
  if (standby) standby->Kill();  // never: the last round starts no standby
  return true;
}

}  // namespace

std::string RunShard(std::uint64_t seed) {
  return "s" + std::to_string(seed % 1'000'000'007u) + "p" + std::to_string(::getpid());
}

std::string NodeJournal(const std::string& root, int node) {
  return (fs::path(root) / NodeName(node) / "journal").string();
}

bool RunReplicatedRounds(Run& run, std::vector<Round>& rounds, ReplicatedSummary* summary, std::string* start_error,
                         std::FILE* out) {
  for (int node = 0; node < 2; ++node) {
    std::error_code ec;
    fs::create_directories(fs::path(NodeJournal(run.root, node)).parent_path(), ec);
    if (ec) {
      *start_error =
          "cannot create " + fs::path(NodeJournal(run.root, node)).parent_path().string() + ": " + ec.message();
      return false;
    }
  }
  ReplicatedRun r(run, rounds, summary, out);
  return r.Go(start_error);
}

void PrintReplicatedSummary(std::FILE* out, const ReplicatedSummary& s) {
  std::fprintf(out,
               "replicated: %d restarts in place, %d standby takeovers (kill -> first accepted command:", s.in_place,
               s.takeovers);
  for (double ms : s.takeover_ms) std::fprintf(out, " %.0f ms", ms);
  if (s.takeover_ms.empty()) std::fprintf(out, " none");
  // A hot standby replays only what it had not applied when the writer died.
  std::fprintf(out, "; events replayed by the new writer:");
  for (std::uint64_t n : s.takeover_replayed) std::fprintf(out, " %" PRIu64, n);
  if (s.takeover_replayed.empty()) std::fprintf(out, " none");
  std::fprintf(out,
               "), %" PRIu64 " replicated acknowledgements kept, %" PRIu64
               " unreplicated ones forgotten at takeovers; %d tails moved aside (%" PRIu64
               " records), none on the stream; stream: %" PRIu64 " messages, positions up to %" PRIu64
               ", chain continuous\n",
               s.replicated_acks, s.forgotten, s.tails_moved, s.records_moved, s.stream_messages, s.stream_end);
}

std::string ReplicatedSummaryJson(const ReplicatedSummary& s) {
  // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict) on chains of string + string.
  std::string j;
  char buf[64];
  auto add = [&](const char* format, auto value) {
    std::snprintf(buf, sizeof buf, format, value);
    j.append(buf);
  };
  add("\"replicated\":{\"in_place\":%d", s.in_place);
  add(",\"takeovers\":%d,\"takeover_ms\":[", s.takeovers);
  for (std::size_t i = 0; i < s.takeover_ms.size(); ++i) add(i ? ",%.1f" : "%.1f", s.takeover_ms[i]);
  j.append("],\"takeover_replayed\":[");
  for (std::size_t i = 0; i < s.takeover_replayed.size(); ++i)
    add(i ? ",%" PRIu64 : "%" PRIu64, s.takeover_replayed[i]);
  add("],\"replicated_acks\":%" PRIu64, s.replicated_acks);
  add(",\"forgotten\":%" PRIu64, s.forgotten);
  add(",\"tails_moved\":%d", s.tails_moved);
  add(",\"records_moved\":%" PRIu64, s.records_moved);
  add(",\"stream_messages\":%" PRIu64, s.stream_messages);
  add(",\"stream_end\":%" PRIu64 "}", s.stream_end);
  return j;
}

void DeleteRunStream(const Run& run, std::FILE* err) {
  const Status s = DeleteRunStreams(
      {.urls = run.o.replicate, .app = kReplicatedApp, .shard = RunShard(run.seed), .replicas = run.o.replicas});
  if (!s.ok())
    std::fprintf(err, "%s crashtest: could not delete the run's stream RILL_%s_%s: %s\n", run.o.program.c_str(),
                 kReplicatedApp, RunShard(run.seed).c_str(), s.ToString().c_str());
}

}  // namespace rill::tools::crashtest::parent
