#include "rill/tools/crashtest/child_io.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <system_error>
#include <thread>

#include "rill/tools/crashtest/crash_workload.h"

namespace rill::tools::crashtest {

bool CheckChildOptions(const CrashtestOptions& o, std::FILE* err) {
  if (!ParseDurability(o.durability) || o.journal.empty() || o.ack_fd < 0 || o.round < 1 || o.producers < 1 ||
      o.aggregates < 1 || o.retry_file.empty() || o.rate < 0 ||
      (!o.replicate.empty() && (o.app.empty() || o.shard.empty() || o.holder.empty()))) {
    std::fprintf(err, "%s crashtest child: bad options (this mode is started by `%s crashtest` itself)\n",
                 o.program.c_str(), o.program.c_str());
    return false;
  }
  return true;
}

void DieWithParent() { ::prctl(PR_SET_PDEATHSIG, SIGKILL); }

void Report(int fd, const WireRecord* records, std::size_t n) {
  const auto* p = reinterpret_cast<const char*>(records);
  std::size_t left = n * sizeof(WireRecord);
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ::_exit(kChildPipeFailed);
    p += w;
    left -= static_cast<std::size_t>(w);
  }
}

engine::EngineOptions ChildEngineOptions(const CrashtestOptions& o) {
  engine::EngineOptions eo;
  eo.journal.directory = o.journal;
  eo.journal.segment_size = std::size_t{o.segment_kib} * 1024;
  eo.journal.durability = ParseDurability(o.durability).value_or(journal::Durability::kBatch);
  eo.journal.sync_interval_ms = kIntervalMs;
  eo.processor.expected_aggregates = static_cast<std::size_t>(o.aggregates);
  eo.log_to_stderr = true;  // recovery's report goes to the round's log file
  return eo;
}

projections::ProjectorThreadOptions ChildProjectorOptions(const CrashtestOptions& o,
                                                          const codecs::SchemaRegistry& registry) {
  projections::ProjectorThreadOptions po;
  po.name = "crashtest-mirror";
  po.journal_directory = o.journal;
  po.registry = &registry;
  po.checkpoint_directory = CheckpointDirectory(o.journal);
  std::error_code ec;
  std::filesystem::create_directories(po.checkpoint_directory, ec);  // a failure shows in Start
  // Several checkpoints per round, so kills land before, during and after their writes.
  po.checkpoint_every_events = 2'000;
  po.checkpoint_min_interval_ns = 20'000'000;
  po.warn = [](const std::string& w) { std::fprintf(stderr, "crashtest child: %s\n", w.c_str()); };
  return po;
}

Pacer::Pacer(const CrashtestOptions& o)
    : period_(o.rate > 0 ? static_cast<std::int64_t>(1e9 * kWindow * o.producers / o.rate) : 0),
      next_(std::chrono::steady_clock::now()) {}

void Pacer::Wait() {
  if (period_.count() == 0) return;
  next_ += period_;
  std::this_thread::sleep_until(next_);
}

}  // namespace rill::tools::crashtest
