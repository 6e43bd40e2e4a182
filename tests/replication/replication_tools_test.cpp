// The replication tools in process against a real nats-server: `rill bench --replicate
// --ack replicated` (the engine acknowledging through the replicator, the report's replication
// figures, the raw-publish ceiling as a baseline row) and `rill follow` (its exit codes, and a
// local journal byte for byte the bench's). Short runs, no timing asserted.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "rill/examples/bank/bank_workload.h"
#include "rill/journal/journal_reader.h"
#include "rill/tests/replication/cluster_fixture.h"
#include "rill/tests/tools/inspect_test_util.h"
#include "rill/tools/bench/bench.h"
#include "rill/tools/follow/follow_command.h"

using namespace rill::tools::test;
using rill::examples::bank::BankWorkload;

namespace {

std::vector<std::vector<std::byte>> Batches(const std::string& dir) {
  auto r = rill::journal::JournalReader::Open({.directory = dir});
  REQUIRE(r.ok());
  std::vector<std::vector<std::byte>> out;
  rill::journal::RawBatch b;
  while ((*r)->NextBatch(&b) == rill::journal::ReadStatus::kRecord) out.emplace_back(b.bytes.begin(), b.bytes.end());
  return out;
}

}  // namespace

TEST_CASE("bench --replicate --ack replicated ships the whole journal - follow copies it byte for byte",
          "[replication][tools]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 1);
  TempDir tmp;
  rill::tools::BenchOptions o;
  o.domain = "bank";
  o.aggregates = 200;
  o.inflight = 64;
  o.ring_size = 256;
  o.commands = 2000;
  o.ack = "replicated";
  o.replicate = cluster.urls();
  o.replicas = 1;
  o.baseline_seconds = 0.5;
  o.dir = tmp.Sub("journal");
  o.json = tmp.Sub("bench.json");
  const Output r =
      Capture([&](std::FILE* out, std::FILE* err) { return rill::tools::RunBench<BankWorkload>(o, out, err); });
  INFO(r.out << r.err);
  REQUIRE(r.exit == 0);
  CHECK(r.out.find("ack replicated") != std::string::npos);
  CHECK(r.out.find("(caught up)") != std::string::npos);
  Json j;
  REQUIRE(JsonReader::Parse(ReadFile(o.json), &j));
  CHECK(j["counts"]["completed"].text == "2000");
  CHECK(j["counts"]["failed"].text == "0");
  CHECK(j["replication"]["replicated_position"].text == j["replication"]["committed_position"].text);
  CHECK(j["baselines"]["nats_raw_publish"]["available"].text == "true");

  // rill follow: the stream the bench shipped into a local journal, byte for byte.
  const std::string stream = j["replication"]["stream"].text;
  REQUIRE(stream.rfind("RILL_bench_", 0) == 0);
  rill::tools::FollowOptions f;
  f.dir = tmp.Sub("replica");
  f.nats_urls = cluster.urls();
  f.app = "bench";
  f.shard = stream.substr(std::string("RILL_bench_").size());
  f.seconds = 2;
  f.status_interval_s = 0.5;
  const Output followed = Capture([&](std::FILE* out, std::FILE* err) { return rill::tools::RunFollow(f, out, err); });
  INFO(followed.out << followed.err);
  CHECK(followed.exit == 0);
  CHECK(followed.out.find("following") != std::string::npos);
  CHECK(Batches(f.dir) == Batches(o.dir));

  // Start-up and usage errors.
  f.dir = tmp.Sub("replica2");
  f.shard = "no-such-shard";
  f.seconds = 0.2;
  // A stream that does not exist (yet: a follower may start before its writer) is waited for,
  // and the status line says why nothing arrives.
  const Output missing = Capture([&](std::FILE* out, std::FILE* err) { return rill::tools::RunFollow(f, out, err); });
  INFO(missing.out << missing.err);
  CHECK(missing.exit == 0);
  CHECK(missing.out.find("retrying") != std::string::npos);
  CHECK(missing.out.find("Not Found") != std::string::npos);
  f.durability = "sometimes";
  const Output usage = Capture([&](std::FILE* out, std::FILE* err) { return rill::tools::RunFollow(f, out, err); });
  CHECK(usage.exit == 2);
  CHECK(usage.err.find("--durability") != std::string::npos);
}
