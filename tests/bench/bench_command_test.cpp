// `rill bench` in process, RunBench<W>: the exit codes of tools/README.md (0 ok, 1 a check
// failed, 2 usage, 3 a directory that holds files), the JSON naming the domain, and the
// baselines on the same workload. Short runs (a fixed number of commands), no timing asserted.
#include "rill/tools/bench/bench.h"

#include <catch2/catch.hpp>

#include "rill/examples/bank/bank_workload.h"
#include "rill/tests/tools/inspect_test_util.h"

using namespace rill::tools::test;
using rill::examples::bank::BankWorkload;
using rill::tools::BenchOptions;

namespace {

BenchOptions Small() {
  BenchOptions o;
  o.domain = "bank";
  o.aggregates = 200;
  o.inflight = 8;
  o.ring_size = 64;
  o.commands = 300;
  return o;
}

// The bank's workload, but its Tally counts each deposit one unit too many.
struct MiscountingBank : BankWorkload {
  using BankWorkload::BankWorkload;
  std::int64_t Tally(const rill::examples::bank::Command& c) const noexcept {
    return BankWorkload::Tally(c) + (std::holds_alternative<rill::examples::bank::Deposit>(c) ? 1 : 0);
  }
};

template <typename W>
Output Bench(const BenchOptions& o) {
  return Capture([&](std::FILE* out, std::FILE* err) { return rill::tools::RunBench<W>(o, out, err); });
}

}  // namespace

TEST_CASE("bench: a short run exits 0 and its JSON names the domain", "[tools][bench]") {
  TempDir tmp;
  BenchOptions o = Small();
  o.json = tmp.Sub("bench.json");
  const Output r = Bench<BankWorkload>(o);
  INFO(r.out << r.err);
  REQUIRE(r.exit == 0);
  CHECK(r.out.find("rill bench: bank") != std::string::npos);
  CHECK(r.out.find("money: accepted commands add") != std::string::npos);
  Json j;
  REQUIRE(JsonReader::Parse(ReadFile(o.json), &j));
  CHECK(j["config"]["workload"].text == "bank");
  CHECK(j["config"]["aggregates"].text == "200");
  CHECK(j["counts"]["completed"].text == "300");
  CHECK(j["checks"]["state_consistent"].text == "true");
}

TEST_CASE("bench: a workload whose check fails exits 1", "[tools][bench]") {
  const Output r = Bench<MiscountingBank>(Small());
  INFO(r.out << r.err);
  CHECK(r.exit == 1);
  CHECK(r.out.find("INCONSISTENT") != std::string::npos);
  CHECK(r.err.find("checks failed") != std::string::npos);
}

TEST_CASE("bench: usage errors exit 2, a directory with files exits 3", "[tools][bench]") {
  BenchOptions applied = Small();
  applied.ack = "applied";
  applied.projectors = 0;
  const Output a = Bench<BankWorkload>(applied);
  CHECK(a.exit == 2);
  CHECK(a.err.find("--ack applied") != std::string::npos);

  BenchOptions zero = Small();
  zero.aggregates = 0;
  CHECK(Bench<BankWorkload>(zero).exit == 2);

  TempDir tmp;
  std::ofstream(tmp.Sub("notes.txt")) << "hello\n";
  BenchOptions full = Small();
  full.dir = tmp.path();
  const Output f = Bench<BankWorkload>(full);
  CHECK(f.exit == 3);
  CHECK(f.err.find(tmp.path()) != std::string::npos);
}

TEST_CASE("bench: a missing plot script is named, the run still succeeds", "[tools][bench]") {
  TempDir tmp;
  BenchOptions o = Small();
  o.plot = tmp.Sub("latency.svg");
  o.plot_script = "/nonexistent/plot-latency.sh";
  const Output r = Bench<BankWorkload>(o);
  INFO(r.err);
  CHECK(r.exit == 0);
  CHECK(r.err.find("/nonexistent/plot-latency.sh") != std::string::npos);
}

// Starts a throwaway PostgreSQL when the server binaries exist; otherwise the two PostgreSQL
// baselines are reported unavailable and the run still succeeds.
TEST_CASE("bench: --baselines runs the same workload on the mutex design and PostgreSQL", "[tools][bench]") {
  TempDir tmp;
  BenchOptions o = Small();
  o.baselines = true;
  o.json = tmp.Sub("bench.json");
  const Output r = Bench<BankWorkload>(o);
  INFO(r.out << r.err);
  REQUIRE(r.exit == 0);
  Json j;
  REQUIRE(JsonReader::Parse(ReadFile(o.json), &j));
  const Json& b = j["baselines"];
  REQUIRE(b.has("mutex"));
  CHECK(b["mutex"]["available"].text == "true");
  CHECK(b["mutex"]["commands"].text == "300");
  CHECK(b["mutex"]["detail"].text.find("money") != std::string::npos);
  CHECK(b["mutex"]["detail"].text.find("INCONSISTENT") == std::string::npos);
  for (const char* pg : {"postgres_per_txn", "postgres_copy"}) {
    INFO(pg);
    REQUIRE(b.has(pg));
    if (b[pg]["available"].text == "true") {
      CHECK(b[pg]["commands"].text == "300");
      CHECK(b[pg].has("ratio"));
    } else {
      CHECK(b[pg].has("reason"));
      WARN(pg << " unavailable: " << b[pg]["reason"].text);
    }
  }
}
