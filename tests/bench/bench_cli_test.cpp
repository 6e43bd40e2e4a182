// The real `rill` binary: `rill bench` exits 2 on bad flags (with a one-line reason), 3 on a
// directory that already holds files, 0 on a short good run whose --json has the required
// keys; `rill demo` runs end to end and inspects its journal. Short runs (--commands), no
// timing assertions.
#include <catch2/catch.hpp>

#include "rill/tests/tools/inspect_test_util.h"

using namespace rill::tools::test;

namespace {

// Small enough to finish in well under a second on a busy machine.
const std::string kSmall = "bench --aggregates 200 --producers 1 --inflight 8 --ring-size 64 --commands 300 ";

}  // namespace

TEST_CASE("cli: bad bench flags exit 2", "[tools][bench][cli]") {
  TempDir tmp;
  const char* const bad[] = {
      "bench --domain nope",
      "bench --workload nope",
      "bench --durability sometimes",
      "bench --ack synced",
      "bench --ack applied --projectors 0",
      "bench --ring-size 1000",
      "bench --max-batch 99999 --ring-size 1024",
      "bench --pin 0,,1",
      "bench --pin x",
      "bench --producers 0",
      "bench --seconds -1",
      "bench --rate -5",
      "bench --plot latency.txt",
      "bench --no-such-flag",
      "bench extra-argument",
  };
  for (const char* args : bad) {
    const Output o = RunRill(tmp, args);
    INFO(args << "\nstderr: " << o.err);
    CHECK(o.exit == 2);
    CHECK(!o.err.empty());
  }
}

TEST_CASE("cli: bench refuses a directory that already holds files (exit 3)", "[tools][bench][cli]") {
  TempDir tmp;
  std::ofstream(tmp.Sub("notes.txt")) << "hello\n";
  const Output o = RunRill(tmp, kSmall + "--dir " + tmp.path());
  INFO(o.err);
  CHECK(o.exit == 3);
  CHECK(o.err.find(tmp.path()) != std::string::npos);
}

TEST_CASE("cli: a short bench run prints a summary and writes the JSON", "[tools][bench][cli]") {
  TempDir tmp;
  const Output o = RunRill(tmp, kSmall + "--projectors 1 --json " + tmp.Sub("bench.json"));
  INFO(o.out << o.err);
  REQUIRE(o.exit == 0);
  CHECK(o.out.find("commands/s") != std::string::npos);
  CHECK(o.out.find("every command acknowledged once: yes") != std::string::npos);
  Json j;
  REQUIRE(JsonReader::Parse(ReadFile(tmp.Sub("bench.json")), &j));
  CHECK(j.has("throughput_per_s"));
  for (const char* k : {"p50", "p90", "p99", "p999", "max"}) CHECK(j["latency_ns"].has(k));
  CHECK(j["config"].has("cpus"));
  CHECK(j.has("baselines"));
  CHECK(j["counts"]["completed"].text == "300");
  CHECK(j["config"]["workload"].text == "bank");  // the default domain, named as before
}

TEST_CASE("cli: bench --domain blog runs the blog's workload", "[tools][bench][cli]") {
  TempDir tmp;
  const Output o = RunRill(tmp, kSmall + "--domain blog --json " + tmp.Sub("bench.json"));
  INFO(o.out << o.err);
  REQUIRE(o.exit == 0);
  CHECK(o.out.find("comments: accepted commands add") != std::string::npos);
  Json j;
  REQUIRE(JsonReader::Parse(ReadFile(tmp.Sub("bench.json")), &j));
  CHECK(j["config"]["workload"].text == "blog");
}

TEST_CASE("cli: --json - puts only JSON on stdout", "[tools][bench][cli]") {
  TempDir tmp;
  const Output o = RunRill(tmp, kSmall + "--projectors 0 --ack accepted --json -");
  INFO(o.err);
  REQUIRE(o.exit == 0);
  Json j;
  CHECK(JsonReader::Parse(o.out, &j));
  CHECK(o.err.find("commands/s") != std::string::npos);
}

// Starts a throwaway PostgreSQL when the server binaries exist; otherwise the two PostgreSQL
// baselines are reported unavailable and the run still succeeds.
TEST_CASE("cli: --baselines reports mutex and PostgreSQL (or why not) with ratios", "[tools][bench][cli][baselines]") {
  TempDir tmp;
  const Output o = RunRill(tmp, kSmall + "--baselines --json " + tmp.Sub("bench.json"));
  INFO(o.out << o.err);
  REQUIRE(o.exit == 0);
  Json j;
  REQUIRE(JsonReader::Parse(ReadFile(tmp.Sub("bench.json")), &j));
  const Json& b = j["baselines"];
  REQUIRE(b.has("mutex"));
  CHECK(b["mutex"].has("throughput_per_s"));
  CHECK(b["mutex"].has("ratio"));
  for (const char* pg : {"postgres_per_txn", "postgres_copy"}) {
    INFO(pg);
    REQUIRE(b.has(pg));
    if (b[pg]["available"].text == "true") {
      CHECK(b[pg].has("throughput_per_s"));
      CHECK(b[pg].has("ratio"));
    } else {
      CHECK(b[pg].has("reason"));
      WARN(pg << " unavailable: " << b[pg]["reason"].text);
    }
  }
}

TEST_CASE("cli: the demo runs the engine and inspects its journal", "[tools][demo][cli]") {
  TempDir tmp;
  const Output o = RunRill(tmp, "demo --seconds 0.3 --aggregates 200 --dir " + tmp.Sub("demo"));
  INFO(o.out << o.err);
  CHECK(o.exit == 0);
  CHECK(o.out.find("commands/s") != std::string::npos);
  CHECK(o.out.find("== rill inspect info") != std::string::npos);
  CHECK(o.out.find("demo passed") != std::string::npos);
  // Run again into the same directory: refused, the journal is kept as it was.
  const Output again = RunRill(tmp, "demo --seconds 0.3 --dir " + tmp.Sub("demo"));
  CHECK(again.exit == 3);
}
