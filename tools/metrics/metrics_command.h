// rill/tools/metrics/metrics_command.h: `rill metrics DIR --listen 127.0.0.1:PORT`: serves the
// counters file of the process writing DIR (observability/) to Prometheus over HTTP, from
// outside that process, like node_exporter serves a machine's. Each scrape of /metrics reads
// the file afresh (prometheus_text.h); a writer that restarts is followed to its new file.
//
//   rill metrics /var/lib/bank/journal --listen 127.0.0.1:9464
//   # prometheus.yml: scrape_configs: [{job_name: bank, static_configs: [{targets: ["127.0.0.1:9464"]}]}]
//
// HTTP is Boost.Beast (one thread; a scrape is a few hundred microseconds). Port 0 picks a free
// port; the first line on `out` names the address it serves.
// Exit codes: 0 stopped by SIGINT/SIGTERM or --seconds; 2 usage (a bad --listen); 3 no counters
// file in DIR (or one this rill cannot read), or the address cannot be bound (in use, no permission).
// Thread safety: RunMetrics is reentrant.
#pragma once

#include <cstdio>
#include <string>

namespace rill::tools {

struct MetricsOptions {
  std::string dir{};
  std::string listen = "127.0.0.1:9464";  // host:port; the host is an IP address
  double seconds = 0;                     // stop after this long; 0: until SIGINT/SIGTERM
};

int RunMetrics(const MetricsOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools
