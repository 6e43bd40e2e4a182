#include "rill/tools/metrics/prometheus_text.h"

#include <cinttypes>
#include <cstdio>
#include <set>

namespace rill::tools {

namespace {

using observability::kHistogramBuckets;
using observability::MetricKind;
using observability::MetricSample;

// A double as Prometheus (Go) parses it.
std::string Float(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", v);  // 15 digits: 1e-09, not 1.0000000000000001e-09
  return buf;
}

std::string Value(const MetricSample& m, std::uint64_t raw) {
  if (m.scale == 1.0) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%" PRIu64, raw);
    return buf;
  }
  return Float(static_cast<double>(raw) * m.scale);
}

// `{labels}` with an extra pair appended; empty braces are left out.
std::string Labels(const std::string& labels, const std::string& extra = "") {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{" + labels;
  if (!labels.empty() && !extra.empty()) out += ",";
  return out + extra + "}";
}

// HELP text escapes backslash and newline (the exposition format's rule).
std::string Help(const std::string& help) {
  std::string out;
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

const char* TypeName(MetricKind k) {
  switch (k) {
    case MetricKind::kCounter:
      return "counter";
    case MetricKind::kGauge:
      return "gauge";
    case MetricKind::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AppendHistogram(std::string& out, const MetricSample& m) {
  // Cumulative buckets up to the highest non-empty one, then +Inf; `le` in the metric's unit.
  int top = 0;
  for (int i = 0; i < static_cast<int>(kHistogramBuckets); ++i)
    if (m.values[static_cast<std::size_t>(i)] != 0) top = i;
  std::uint64_t cumulative = 0;
  for (int i = 0; i <= top; ++i) {
    cumulative += m.values[static_cast<std::size_t>(i)];
    const std::uint64_t bound = observability::HistogramBucketBound(static_cast<std::uint32_t>(i));
    out += m.name + "_bucket" + Labels(m.labels, "le=\"" + Float(static_cast<double>(bound) * m.scale) + "\"") + " ";
    out += std::to_string(cumulative) + "\n";
  }
  // +Inf equals _count; the buckets may trail the count by a record mid-update, so use their sum.
  out += m.name + "_bucket" + Labels(m.labels, "le=\"+Inf\"") + " " + std::to_string(cumulative) + "\n";
  out += m.name + "_sum" + Labels(m.labels) + " " + Value(m, m.values[kHistogramBuckets]) + "\n";
  out += m.name + "_count" + Labels(m.labels) + " " + std::to_string(cumulative) + "\n";
}

void Sample(std::string& out, const char* name, const char* type, const char* help, const std::string& value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out.append(name).append(" ").append(value).append("\n");
}

}  // namespace

std::string PrometheusReplicationText(const replication::ReplicationStatus& r, std::int64_t now_ns) {
  std::string out;
  const auto u = [](std::uint64_t v) { return std::to_string(v); };
  Sample(out, "rill_replication_shipping", "gauge", "1 while the replicator ships (state shipping), else 0",
         r.state == "shipping" ? "1" : "0");
  Sample(out, "rill_replication_lag_positions", "gauge", "committed journal positions not yet replicated",
         u(r.lag_positions));
  Sample(out, "rill_replication_lag_seconds", "gauge", "age of the oldest batch not yet replicated",
         Float(r.lag_seconds));
  Sample(out, "rill_replication_messages_total", "counter", "messages the stream acknowledged", u(r.messages));
  Sample(out, "rill_replication_bytes_total", "counter", "bytes the stream acknowledged", u(r.bytes));
  Sample(out, "rill_replication_duplicates_total", "counter", "acks saying the message was already stored",
         u(r.duplicates));
  Sample(out, "rill_replication_resyncs_total", "counter", "resynchronisations with the stream (starts included)",
         u(r.resyncs));
  Sample(out, "rill_replication_status_age_seconds", "gauge", "time since the replicator last wrote its status file",
         Float(static_cast<double>(now_ns - r.updated_ns) / 1e9));
  return out;
}

std::string PrometheusText(const observability::CountersSnapshot& s, std::int64_t now_ns) {
  std::string out;
  out += "# HELP rill_process_up 1 while the process that writes the counters file runs, 0 once it is gone\n";
  out += "# TYPE rill_process_up gauge\n";
  out += "rill_process_up " + std::string(s.stale ? "0" : "1") + "\n";
  out += "# HELP rill_counters_heartbeat_age_seconds time since the writer last published\n";
  out += "# TYPE rill_counters_heartbeat_age_seconds gauge\n";
  out += "rill_counters_heartbeat_age_seconds " + Float(static_cast<double>(now_ns - s.heartbeat_ns) / 1e9) + "\n";
  // Every sample of one name together, after one HELP and TYPE (the format requires it), in
  // the order the names were first registered.
  std::set<std::string> done;
  for (const MetricSample& first : s.metrics) {
    if (!done.insert(first.name).second) continue;
    out += "# HELP " + first.name + " " + Help(first.help) + "\n";
    out += "# TYPE " + first.name + " " + TypeName(first.kind) + "\n";
    for (const MetricSample& m : s.metrics) {
      if (m.name != first.name || m.kind != first.kind) continue;
      if (m.kind == MetricKind::kHistogram) {
        if (m.values.size() == observability::kHistogramWords) AppendHistogram(out, m);
      } else {
        out += m.name + Labels(m.labels) + " " + Value(m, m.value()) + "\n";
      }
    }
  }
  return out;
}

}  // namespace rill::tools
