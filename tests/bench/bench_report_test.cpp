// The report: the JSON has the keys the issue promises (throughput_per_s, latency_ns with
// p50/p90/p99/p999/max, config with cpus, baselines with throughput_per_s and ratio, or
// available: false), and parses as JSON.
#include "rill/bench/e2e/bench_report.h"

#include <catch2/catch.hpp>
#include <vector>

#include "rill/tests/tools/inspect_test_util.h"

using namespace rill::bench;
using rill::tools::test::Json;
using rill::tools::test::JsonReader;

namespace {

EngineBenchReport FakeReport() {
  EngineBenchReport r;
  r.config.domain = "inventory";
  r.config.aggregates = 321;
  r.cpus = 2;
  r.threads = 3;
  r.completed = r.submitted = 1000;
  r.throughput_per_s = 2'000'000;
  r.seconds = 0.0005;
  for (std::uint64_t v = 1; v <= 1000; ++v) r.latency.Record(v * 100);
  r.stages.apply.RecordN(500, 1000);
  r.acknowledged_once = r.state_consistent = true;
  r.check_detail = "money: \"quoted\"\n";
  return r;
}

std::string ToString(const EngineBenchReport& r, const std::vector<BaselineResult>& b) {
  std::FILE* f = std::tmpfile();
  WriteJson(r, b, f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  std::fclose(f);
  return s;
}

}  // namespace

TEST_CASE("the JSON has the required keys and parses", "[bench][report]") {
  std::vector<BaselineResult> b(3);
  b[0].name = "mutex";
  b[0].available = true;
  b[0].throughput_per_s = 100'000;
  b[1].name = "postgres_per_txn";
  b[1].reason = "PostgreSQL could not be started: \"no binaries\"";
  b[2].name = "postgres_copy";
  b[2].available = true;
  b[2].throughput_per_s = 200'000;
  const std::string text = ToString(FakeReport(), b);
  Json j;
  INFO(text);
  REQUIRE(JsonReader::Parse(text, &j));
  CHECK(j["throughput_per_s"].text == "2000000.0");
  for (const char* k : {"p50", "p90", "p99", "p999", "max"}) CHECK(j["latency_ns"].has(k));
  CHECK(j["latency_ns"]["max"].text == "100000");
  CHECK(j["config"]["cpus"].text == "2");
  CHECK(j["config"]["workload"].text == "inventory");  // the domain's name, under the old key
  CHECK(j["config"]["aggregates"].text == "321");
  CHECK(j["config"]["accounts"].text == "321");  // the old name, kept for existing readers
  CHECK(j["stages_ns"]["ring_wait"].kind == Json::Kind::kNull);
  CHECK(j["stages_ns"]["apply"]["p50"].text == "500");
  CHECK(j["baselines"]["mutex"]["throughput_per_s"].text == "100000.0");
  CHECK(j["baselines"]["mutex"]["ratio"].text == "20.000");
  CHECK(j["baselines"]["postgres_copy"]["ratio"].text == "10.000");
  CHECK(j["baselines"]["postgres_per_txn"]["available"].text == "false");
  CHECK(j["baselines"]["postgres_per_txn"].has("reason"));
  CHECK(j["checks"]["acknowledged_once"].text == "true");
}

TEST_CASE("without baselines the JSON still has an empty baselines object", "[bench][report]") {
  Json j;
  REQUIRE(JsonReader::Parse(ToString(FakeReport(), {}), &j));
  CHECK(j["baselines"].kind == Json::Kind::kObject);
  CHECK(j["baselines"].fields.empty());
}

TEST_CASE("the summary names every figure", "[bench][report]") {
  std::FILE* f = std::tmpfile();
  PrintSummary(FakeReport(), {}, f);
  std::rewind(f);
  std::string s(8192, '\0');
  s.resize(std::fread(s.data(), 1, s.size(), f));
  std::fclose(f);
  for (const char* w : {"rill bench: inventory", "commands/s", "p99.9", "ring wait", "apply", "journal commit",
                        "projection", "checks"}) {
    INFO(w);
    CHECK(s.find(w) != std::string::npos);
  }
}

TEST_CASE("nanoseconds are shown in readable units", "[bench][report]") {
  CHECK(FormatNs(999) == "999 ns");
  CHECK(FormatNs(1'500) == "1.50 us");
  CHECK(FormatNs(2'500'000) == "2.50 ms");
  CHECK(FormatNs(3'000'000'000) == "3.00 s");
}
