#include "rill/tools/crashtest/child_node.h"

#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>

#include "rill/tools/crashtest/child_io.h"
#include "rill/tools/crashtest/crash_workload.h"
#include "rill/tools/crashtest/wire.h"

namespace rill::tools::crashtest {

Result<std::unique_ptr<ChildNode>> ChildNode::Start(const CrashtestOptions& o, OpenFn open, std::function<void()> close,
                                                    std::function<void(const std::string&)> on_standby) {
  replication::NodeOptions no;
  no.directory = o.journal;
  no.nats_urls = o.replicate;
  no.app = o.app;
  no.shard = o.shard;
  no.holder = o.holder;
  no.lease_ttl_ns = std::int64_t{LeaseTtlMs(o)} * 1'000'000;
  // A standby reads the lease 10 times per TTL (at most every 100 ms): the takeover follows
  // the key's expiry closely.
  no.poll_interval_ns = std::min<std::int64_t>(100'000'000, no.lease_ttl_ns / 10);
  no.replicas = o.replicas;
  // A standby's journal is the follower's: segments of the size the children write, so the
  // engine that takes it over (and the parent's recovery) continue its last segment.
  no.follower.segment_size = std::size_t{o.segment_kib} * 1024;
  no.follower.durability = ParseDurability(o.durability).value_or(journal::Durability::kBatch);
  // One message in flight: what is committed during a publish's round trip waits in the
  // journal, so a kill usually leaves a tail the stream does not hold (with the default window
  // of 32 the replicator has nearly always shipped everything when the kill lands), and the
  // takeover after it has something to move aside.
  no.replicator.window = 1;
  no.open_writer = std::move(open);
  no.close_writer = std::move(close);
  no.on_standby = std::move(on_standby);
  Result<std::unique_ptr<replication::Node>> node = replication::Node::Start(no);
  if (!node.ok()) return node.status();
  return std::unique_ptr<ChildNode>(new ChildNode(o, std::move(node).value()));
}

Result<WriterStart> ChildNode::WaitWriter(std::FILE* err) {
  std::size_t reported = 0;
  bool standby_reported = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::hours(1);
  for (;;) {
    const Status s = node_->WaitRole(replication::NodeRole::kWriter, 20'000'000);
    // Reconciles first, so the parent hears what was moved aside before "standby" or kReady.
    const std::vector<replication::ReconcileReport> reconciles = node_->reconciles();
    for (; reported < reconciles.size(); ++reported) {
      const replication::ReconcileReport& r = reconciles[reported];
      std::fprintf(err, "crashtest child: reconciled: %s\n", r.why.c_str());
      if (r.first_moved != 0) {
        // The read model's checkpoints may lie past the kept end (or fold what was moved): drop them.
        std::error_code ec;
        std::filesystem::remove_all(CheckpointDirectory(o_.journal), ec);
      }
      const WireRecord w = WireRecord::Reconciled(r.in_place, r.kept_through, r.first_moved, r.last_moved);
      Report(o_.ack_fd, &w, 1);
    }
    if (s.ok()) {
      const std::vector<replication::TakeoverReport> t = node_->takeovers();
      WriterStart ws;
      ws.epoch = node_->epoch();
      ws.takeover = !t.empty() && t.back().from_standby;
      std::fprintf(err, "crashtest child: writer, epoch %llu (%s)\n", static_cast<unsigned long long>(ws.epoch),
                   ws.takeover ? "took over from standby" : "restarted in place");
      std::fflush(err);
      return ws;
    }
    if (!s.IsTimedOut()) {
      std::fprintf(err, "%s crashtest child: the replication node on %s stopped: %s\n", o_.program.c_str(),
                   o_.journal.c_str(), s.ToString().c_str());
      return s;
    }
    if (!standby_reported && node_->role() == replication::NodeRole::kStandby) {
      standby_reported = true;
      const WireRecord w{.kind = WireKind::kStandby};
      Report(o_.ack_fd, &w, 1);
      std::fprintf(err, "crashtest child: standby: %s\n", node_->state().c_str());
      std::fflush(err);
    }
    if (std::chrono::steady_clock::now() > until) {
      std::fprintf(err, "%s crashtest child: the replication node on %s never became the writer (%s)\n",
                   o_.program.c_str(), o_.journal.c_str(), node_->state().c_str());
      return Status::TimedOut("never the writer");
    }
  }
}

Result<RoundPlan> WaitRoundPlan(const std::string& path, int timeout_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::error_code ec;
  while (!std::filesystem::exists(path, ec)) {
    if (std::chrono::steady_clock::now() > until)
      return Status::TimedOut("the round plan " + path + " did not appear within " + std::to_string(timeout_ms) +
                              " ms (the parent writes it when it reads kReady)");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return ReadRoundPlan(path);
}

}  // namespace rill::tools::crashtest
