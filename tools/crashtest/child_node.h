// rill/tools/crashtest/child_node.h: a replicated crash test child's replication Node
// (replication/standby.h): the journal directory's writer or its standby, whichever the lease
// and the stream make it. The child's engine is opened by the node's open_writer callback.
//
//   auto node = ChildNode::Start(o, open_engine, stop_engine, start_hot_standby);  // holder: o.holder
//   Result<WriterStart> w = (*node)->WaitWriter(err);            // reports kReconciled, kStandby
//   RoundPlan plan = *WaitRoundPlan(o.retry_file, 60'000);       // the parent writes it on kReady
//
// Over the ack pipe (wire.h) the child reports each reconcile (restart in place, or the tail
// moved aside: positions and what was kept) and, as a standby, that it follows; the parent
// kills the old writer only once its standby follows. A tail moved aside also invalidates the
// read model's checkpoints past it: the child removes them all (the read model folds the journal
// from the start instead), before its read model starts.
// The callbacks (open, close, on_standby) run on the node's control thread, one at a time.
// Thread safety: the child's main thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "rill/base/result.h"
#include "rill/engine/replication_progress.h"
#include "rill/replication/standby.h"
#include "rill/tools/crashtest/crashtest_command.h"
#include "rill/tools/crashtest/round_plan.h"

namespace rill::tools::crashtest {

struct WriterStart {
  std::uint64_t epoch = 0;
  bool takeover = false;  // became the writer from standby (else restarted in place)
};

class ChildNode {
 public:
  using OpenFn = std::function<Status(const std::string& directory, engine::ReplicationProgress* progress)>;
  // on_standby: each time the node starts following (NodeOptions::on_standby), where the child
  // starts its hot standby. InvalidArgument for options the node refuses.
  static Result<std::unique_ptr<ChildNode>> Start(const CrashtestOptions& o, OpenFn open, std::function<void()> close,
                                                  std::function<void(const std::string&)> on_standby);

  // Until the node writes: reports its reconciles and its standby role; the error (printed on
  // err) when the node stopped or did not write within an hour.
  Result<WriterStart> WaitWriter(std::FILE* err);

 private:
  ChildNode(const CrashtestOptions& o, std::unique_ptr<replication::Node> node) : o_(o), node_(std::move(node)) {}
  const CrashtestOptions& o_;
  std::unique_ptr<replication::Node> node_;
};

// The round plan at `path` once it exists (the parent renames it into place whole). TimedOut.
Result<RoundPlan> WaitRoundPlan(const std::string& path, int timeout_ms);

}  // namespace rill::tools::crashtest
