// `rill metrics`: the Prometheus text of a counters reading; the real binary's errors; and a
// real Prometheus (Debian's `prometheus`, started here on 127.0.0.1 with a throwaway config and
// data directory, stopped by pid) scraping `rill metrics` while a workload runs in this
// process: what Prometheus stored must match what the workload did.
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "inspect_test_util.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/observability/counters_file.h"
#include "rill/observability/counters_reader.h"
#include "rill/projections/projector_thread.h"
#include "rill/tests/support/child_process.h"
#include "rill/tools/metrics/prometheus_text.h"

namespace {

using namespace rill::tools::test;
using rill::observability::CountersFile;
using rill::observability::CountersReader;
using BankEngine = rill::engine::Engine<rill::examples::bank::BankDomain>;

TEST_CASE("prometheus text: HELP and TYPE once per name, cumulative buckets in base units", "[tools][metrics]") {
  TempDir tmp;
  auto file = CountersFile::Create(tmp.path(), "svc");
  REQUIRE(file.ok());
  (*file)->AddCounter("rill_commands_total", "result=\"accepted\"", "commands decided").value().Add(7);
  (*file)->AddCounter("rill_commands_total", "result=\"rejected\"", "commands decided").value().Add(2);
  (*file)->AddGauge("rill_ring_capacity", "", "slots\\ and \"more\"").value().Set(64);
  auto h = (*file)->AddHistogram("rill_batch_duration_seconds", "", "batch time", "seconds", 1e-9).value();
  h.Record(1000);  // bucket 10: le 1023 ns
  h.Record(3000);  // bucket 12: le 4095 ns
  const std::string text = rill::tools::PrometheusText(CountersReader::Open(tmp.path())->Read(), 0);
  INFO(text);
  CHECK(text.find("rill_process_up 1\n") != std::string::npos);
  CHECK(text.find("# TYPE rill_commands_total counter\nrill_commands_total{result=\"accepted\"} 7\n"
                  "rill_commands_total{result=\"rejected\"} 2\n") != std::string::npos);
  CHECK(text.find("# HELP rill_ring_capacity slots\\\\ and \"more\"\n# TYPE rill_ring_capacity gauge\n"
                  "rill_ring_capacity 64\n") != std::string::npos);
  CHECK(text.find("# TYPE rill_batch_duration_seconds histogram\n") != std::string::npos);
  CHECK(text.find("rill_batch_duration_seconds_bucket{le=\"5.11e-07\"} 0\n") != std::string::npos);
  CHECK(text.find("rill_batch_duration_seconds_bucket{le=\"1.023e-06\"} 1\n") != std::string::npos);
  CHECK(text.find("rill_batch_duration_seconds_bucket{le=\"2.047e-06\"} 1\n") != std::string::npos);
  CHECK(text.find("rill_batch_duration_seconds_bucket{le=\"4.095e-06\"} 2\n") != std::string::npos);
  CHECK(text.find("rill_batch_duration_seconds_bucket{le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(text.find("rill_batch_duration_seconds_sum 4e-06\n") != std::string::npos);
  CHECK(text.find("rill_batch_duration_seconds_count 2\n") != std::string::npos);
  // Each name's HELP appears once.
  CHECK(text.find("# HELP rill_commands_total") == text.rfind("# HELP rill_commands_total"));
}

TEST_CASE("cli: rill metrics refuses a missing counters file, a bad or busy address", "[tools][metrics][cli]") {
  TempDir tmp;
  const Output none = RunRill(tmp, "metrics " + tmp.path() + " --seconds 1");
  CHECK(none.exit == 3);
  CHECK(none.err.find("no counters file in " + tmp.path()) != std::string::npos);
  REQUIRE(CountersFile::Create(tmp.path(), "t").ok());
  const Output bad = RunRill(tmp, "metrics " + tmp.path() + " --listen localhost:9464 --seconds 1");
  CHECK(bad.exit == 2);
  CHECK(bad.err.find("'localhost' is not an IP address") != std::string::npos);
  const Output port = RunRill(tmp, "metrics " + tmp.path() + " --listen 127.0.0.1:99999 --seconds 1");
  CHECK(port.exit == 2);
  CHECK(port.err.find("'99999' is not a port") != std::string::npos);
  // A port another socket listens on.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const Output busy = RunRill(
      tmp, "metrics " + tmp.path() + " --listen 127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + " --seconds 1");
  ::close(fd);
  CHECK(busy.exit == 3);
  CHECK(busy.err.find("another process serves that port") != std::string::npos);
}

// Prometheus's instant query: the first sample's value, or NaN.
double Query(int port, const std::string& promql) {
  std::string encoded;
  for (const unsigned char c : promql) {
    if (std::isalnum(c) || c == '_' || c == '.') {
      encoded += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      encoded += buf;
    }
  }
  int status = 0;
  const std::string body = rill::test::HttpGet(port, "/api/v1/query?query=" + encoded, &status);
  Json j;
  if (status != 200 || !JsonReader::Parse(body, &j)) return std::nan("");
  const Json& result = j["data"]["result"];
  if (result.items.empty()) return std::nan("");
  return std::stod(result.items[0]["value"].items.at(1).text);
}

TEST_CASE("a real Prometheus scrapes rill metrics and stores what the workload did", "[tools][metrics][prometheus]") {
  const std::string prometheus = "/usr/bin/prometheus";
  if (::access(prometheus.c_str(), X_OK) != 0) {
    WARN("skipped: " << prometheus << " is not installed (scripts/install-deps.sh installs Debian's prometheus)");
    return;
  }
  TempDir tmp;
  const std::string dir = tmp.Sub("journal");
  rill::engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = 4u << 20;
  o.log_to_stderr = false;
  o.counters_program = "metrics-test";
  auto opened = BankEngine::Open(o);
  REQUIRE(opened.ok());
  BankEngine& e = **opened;
  rill::projections::ProjectorThreadOptions po;
  po.journal_directory = dir;
  po.registry = &e.registry();
  po.counters = e.counters_file();
  auto projector = rill::projections::ProjectorThread::Create(std::move(po));
  REQUIRE(projector.ok());
  (*projector)->Add<rill::projections::bank::Balances>();
  REQUIRE((*projector)->Start().ok());

  // rill metrics, then Prometheus scraping it every 500 ms.
  std::string why;
  const std::string metrics_log = tmp.Sub("metrics.log");
  const pid_t metrics =
      rill::test::SpawnWithLog({RILL_BIN, "metrics", dir, "--listen", "127.0.0.1:0"}, metrics_log, &why);
  REQUIRE(metrics > 0);
  int metrics_port = 0;
  for (int i = 0; i < 500 && metrics_port == 0; ++i) {
    const std::string log = ReadFile(metrics_log);
    const std::size_t at = log.find("http://127.0.0.1:");
    if (at != std::string::npos) metrics_port = std::atoi(log.c_str() + at + 17);
    if (metrics_port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  INFO("rill metrics log:\n" << rill::test::LogTail(metrics_log));
  REQUIRE(metrics_port > 0);
  const int prom_port = rill::test::FreeLoopbackPort();
  std::ofstream(tmp.Sub("prometheus.yml")) << "global:\n  scrape_interval: 500ms\n  evaluation_interval: 500ms\n"
                                              "scrape_configs:\n  - job_name: rill\n    static_configs:\n"
                                              "      - targets: ['127.0.0.1:"
                                           << metrics_port << "']\n";
  const std::string prom_log = tmp.Sub("prometheus.log");
  const pid_t prom = rill::test::SpawnWithLog(
      {prometheus, "--config.file=" + tmp.Sub("prometheus.yml"), "--storage.tsdb.path=" + tmp.Sub("prom-data"),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
      prom_log, &why);
  REQUIRE(prom > 0);
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {  // up to 30 s: a cold start on a busy 2-core machine
    int status = 0;
    rill::test::HttpGet(prom_port, "/-/ready", &status);
    ready = status == 200;
    if (!ready && !rill::test::ChildRunning(prom)) break;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!ready) {
    rill::test::StopChild(prom);
    rill::test::StopChild(metrics);
    WARN("skipped: prometheus did not start on 127.0.0.1:" << prom_port << "; its log:\n"
                                                           << rill::test::LogTail(prom_log));
    return;
  }

  // Ready is not scraping yet: wait for the first sample stored (a few seconds on this machine).
  bool scraped = false;
  for (int i = 0; i < 600 && !scraped; ++i) {
    scraped = Query(prom_port, "rill_process_up") == 1;
    if (!scraped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO("prometheus log:\n" << rill::test::LogTail(prom_log));
  REQUIRE(scraped);

  // The workload: an account, then deposits (accepted) and deposits to a missing account (not
  // found), alternating, ~1,000 commands/s, for 6 s.
  REQUIRE(e.execute(rill::examples::bank::OpenAccount{.account = 1, .owner = 1, .currency = 978}, {.command_id = 1})
              .accepted());
  std::uint64_t id = 1;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(6)) {
    e.execute(rill::examples::bank::Deposit{.account = 1, .amount = 1}, {.command_id = ++id});
    e.execute(rill::examples::bank::Deposit{.account = 2, .amount = 1}, {.command_id = ++id});
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const std::uint64_t commands = id;  // accepted: 1 + (id - 1) / 2, rejected: (id - 1) / 2
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the last scrapes after the workload

  const double accepted = Query(prom_port, "rill_commands_total{result=\"accepted\",job=\"rill\"}");
  const double rejected = Query(prom_port, "rill_rejections_total{reason=\"not_found\"}");
  const double up = Query(prom_port, "rill_process_up");
  // The increase over the workload's window, as Prometheus computes it from its stored samples.
  const double increase = Query(prom_port, "increase(rill_commands_total{result=\"accepted\"}[30s])");
  const double position = Query(prom_port, "rill_projector_position{projector=\"bank.balances\"}");
  const double lag = Query(prom_port, "rill_projector_lag_events{projector=\"bank.balances\"}");
  const double batches = Query(prom_port, "rill_batch_duration_seconds_count");

  const double committed = static_cast<double>(e.committed_position());
  INFO("commands " << commands << " in " << seconds << " s; prometheus: accepted " << accepted << ", not_found "
                   << rejected << ", increase " << increase << ", projector at " << position << " lag " << lag
                   << ", committed " << committed << "\nprometheus log:\n"
                   << rill::test::LogTail(prom_log));
  CHECK(up == 1);
  // The workload stopped 1.5 s before: the last scrape holds its final counts exactly.
  CHECK(accepted == static_cast<double>(1 + (commands - 1) / 2));
  CHECK(rejected == static_cast<double>((commands - 1) / 2));
  // Every command was one batch (execute waits for each).
  CHECK(batches == static_cast<double>(commands));
  // increase() extrapolates to the window's edges, so allow it a quarter either way of the true increase.
  CHECK(increase >= 0.75 * accepted);
  CHECK(increase <= 1.25 * accepted + 10);
  CHECK(position == committed);
  CHECK(lag == 0);

  CHECK(WEXITSTATUS(rill::test::StopChild(prom)) == 0);
  const int metrics_status = rill::test::StopChild(metrics);
  CHECK(WIFEXITED(metrics_status));
  CHECK(WEXITSTATUS(metrics_status) == 0);
  (*projector)->Stop();
}

}  // namespace

TEST_CASE("prometheus text: the replicator's status file as rill_replication_* samples", "[tools][metrics]") {
  rill::replication::ReplicationStatus r;
  r.state = "shipping";
  r.lag_positions = 12;
  r.lag_seconds = 0.25;
  r.messages = 100;
  r.bytes = 6400;
  r.duplicates = 2;
  r.resyncs = 1;
  r.updated_ns = 5'000'000'000;
  const std::string text = rill::tools::PrometheusReplicationText(r, 6'500'000'000);
  INFO(text);
  CHECK(text.find("# TYPE rill_replication_shipping gauge\nrill_replication_shipping 1\n") != std::string::npos);
  CHECK(text.find("rill_replication_lag_positions 12\n") != std::string::npos);
  CHECK(text.find("rill_replication_lag_seconds 0.25\n") != std::string::npos);
  CHECK(text.find("# TYPE rill_replication_bytes_total counter\nrill_replication_bytes_total 6400\n") !=
        std::string::npos);
  CHECK(text.find("rill_replication_status_age_seconds 1.5\n") != std::string::npos);
  r.state = "retrying: no responders";
  CHECK(rill::tools::PrometheusReplicationText(r, 0).find("rill_replication_shipping 0\n") != std::string::npos);
}
