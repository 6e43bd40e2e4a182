// `rill follow`: see follow_command.h.
#include "rill/tools/follow/follow_command.h"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#include "rill/replication/follower.h"

namespace rill::tools {
namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitCannotStart = 3;

// SIGINT/SIGTERM are blocked for the run and taken with sigtimedwait: the status loop and the
// stop request are one wait, and no handler runs on an arbitrary thread. The follower's
// threads (started after the block) inherit the mask.
class SignalWait {
 public:
  SignalWait() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SignalWait() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  // True when a signal asked to stop within `seconds`.
  bool StopRequested(double seconds) {
    timespec ts{static_cast<std::time_t>(seconds),
                static_cast<long>((seconds - static_cast<double>(static_cast<std::time_t>(seconds))) * 1e9)};
    for (;;) {
      const int s = sigtimedwait(&set_, nullptr, &ts);
      if (s == SIGINT || s == SIGTERM) return true;
      if (s < 0 && errno == EINTR) continue;
      return false;  // EAGAIN: the time passed
    }
  }

 private:
  sigset_t set_{}, old_{};
};

bool ParseDurability(const std::string& name, journal::Durability* out) {
  if (name == "none")
    *out = journal::Durability::kNone;
  else if (name == "batch")
    *out = journal::Durability::kBatch;
  else if (name == "interval")
    *out = journal::Durability::kInterval;
  else
    return false;
  return true;
}

void PrintStatus(const replication::FollowerStats& s, std::FILE* out) {
  std::fprintf(out, "follow: %s, applied position %llu, stream seq %llu, %llu messages (%llu redelivered, skipped)\n",
               s.state.c_str(), static_cast<unsigned long long>(s.applied_position),
               static_cast<unsigned long long>(s.last_seq), static_cast<unsigned long long>(s.messages),
               static_cast<unsigned long long>(s.skipped_messages));
  std::fflush(out);
}

}  // namespace

int RunFollow(const FollowOptions& o, std::FILE* out, std::FILE* err) {
  replication::FollowerOptions fo;
  fo.directory = o.dir;
  fo.nats_urls = o.nats_urls;
  fo.app = o.app;
  fo.shard = o.shard;
  fo.segment_size = o.segment_size;
  if (!ParseDurability(o.durability, &fo.durability)) {
    std::fprintf(err, "rill follow: --durability must be none, batch or interval, not '%s'\n", o.durability.c_str());
    return kExitUsage;
  }
  if (o.status_interval_s <= 0) {
    std::fprintf(err, "rill follow: --status-interval must be > 0 seconds\n");
    return kExitUsage;
  }
  SignalWait signals;  // before Start: the follower's threads inherit the blocked mask
  auto follower = replication::Follower::Start(fo);
  if (!follower.ok()) {
    std::fprintf(err, "rill follow: cannot start following stream %s_%s into %s: %s\n", o.app.c_str(), o.shard.c_str(),
                 o.dir.c_str(), follower.status().ToString().c_str());
    return follower.status().IsInvalidArgument() ? kExitUsage : kExitCannotStart;
  }
  std::fprintf(out, "follow: stream of %s/%s from %s into %s (Ctrl-C stops)\n", o.app.c_str(), o.shard.c_str(),
               o.nats_urls.c_str(), o.dir.c_str());
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    double wait = o.status_interval_s;
    if (o.seconds > 0) {
      const double left = o.seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (left <= 0) break;
      if (left < wait) wait = left;
    }
    const bool stop = signals.StopRequested(wait);
    PrintStatus((*follower)->stats(), out);
    if (const Status s = (*follower)->final_error(); !s.ok()) {
      std::fprintf(err, "rill follow: the follower stopped: %s\n", s.ToString().c_str());
      return kExitFailed;
    }
    if (stop) break;
  }
  (*follower)->Stop();
  PrintStatus((*follower)->stats(), out);
  if (const Status s = (*follower)->final_error(); !s.ok()) {
    std::fprintf(err, "rill follow: the follower stopped: %s\n", s.ToString().c_str());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace rill::tools
