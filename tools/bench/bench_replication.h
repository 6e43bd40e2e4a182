// rill/tools/bench/bench_replication.h: `rill bench --replicate URLS`: the replicator that ships
// the bench's journal to a NATS JetStream cluster while the engine runs (the engine acknowledges
// --ack replicated against it), its figures for the report, and the same-run ceiling: the
// cluster's raw async-publish rate of 64 KiB messages, as a baseline row whose ratio is the
// fraction of that ceiling the engine reached.
//
//   auto rep = BenchReplication::Start(config);          // before the engine opens
//   config.replication = (*rep)->progress();
//   auto report = steps.run(config, text);
//   (*rep)->Finish(&*report, text);                      // waits for the tail, stops
//   baselines.push_back((*rep)->RawPublishBaseline(*report, seconds, text));
//
// Thread safety: one owner thread.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "rill/base/result.h"
#include "rill/bench/e2e/bench_config.h"
#include "rill/bench/e2e/bench_driver.h"
#include "rill/bench/e2e/bench_report.h"
#include "rill/replication/replicator.h"

namespace rill::tools {

class BenchReplication {
 public:
  // Starts a replicator for config.dir (the journal the engine will create) to a stream of its
  // own (RILL_bench_<pid>_<time>), config.replicas replicas.
  static Result<std::unique_ptr<BenchReplication>> Start(const bench::BenchConfig& config);

  engine::ReplicationProgress* progress() noexcept { return replicator_.get(); }

  // Waits up to 60 s for everything committed to be replicated, fills report->replication and
  // stops the replicator. A replication that did not catch up or failed is a note and makes the
  // report's state check fail.
  void Finish(bench::EngineBenchReport* report, std::FILE* progress);

  // The cluster's raw async-publish rate (tools/bench/replication_baseline.h) for `seconds`,
  // expressed in this run's commands: raw bytes/s over the journal bytes one command took.
  bench::BaselineResult RawPublishBaseline(const bench::EngineBenchReport& report, double seconds,
                                           std::FILE* progress) const;

 private:
  BenchReplication(bench::BenchConfig config, std::string shard, std::unique_ptr<replication::Replicator> replicator)
      : config_(std::move(config)), shard_(std::move(shard)), replicator_(std::move(replicator)) {}
  bench::BenchConfig config_;
  std::string shard_;
  std::unique_ptr<replication::Replicator> replicator_;
};

}  // namespace rill::tools
