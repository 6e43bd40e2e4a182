#include "rill/tools/top/top_view.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "rill/base/json_escape.h"

namespace rill::tools {

namespace {

using observability::CountersSnapshot;
using observability::MetricKind;
using observability::MetricSample;

// The value of `key` in Prometheus label pairs (`a="x",b="y"`), unescaped; empty when absent.
std::string LabelValue(const std::string& labels, std::string_view key) {
  std::string want(key);
  want += "=\"";
  const std::size_t at = labels.find(want);
  if (at == std::string::npos || (at != 0 && labels[at - 1] != ',')) return {};
  std::string out;
  for (std::size_t i = at + want.size(); i < labels.size() && labels[i] != '"'; ++i) {
    if (labels[i] == '\\' && i + 1 < labels.size()) ++i;
    out += labels[i];
  }
  return out;
}

// What `cur` adds to `prev` for the same metric; all of `cur` when the writer restarted (a
// counter went back) or the metric is new.
std::vector<std::uint64_t> Delta(const MetricSample& cur, const MetricSample* prev) {
  std::vector<std::uint64_t> d = cur.values;
  if (prev == nullptr || prev->values.size() != d.size()) return d;
  for (std::size_t i = 0; i < d.size(); ++i)
    if (d[i] < prev->values[i]) return cur.values;
  for (std::size_t i = 0; i < d.size(); ++i) d[i] -= prev->values[i];
  return d;
}

class Interval {
 public:
  Interval(const CountersSnapshot& prev, const CountersSnapshot& cur, double seconds)
      : prev_(prev.pid == cur.pid ? &prev : nullptr), cur_(cur), seconds_(seconds) {}

  const MetricSample* Prev(const MetricSample& m) const {
    return prev_ == nullptr ? nullptr : prev_->Find(m.name, m.labels);
  }
  double Rate(const MetricSample& m) const {
    if (seconds_ <= 0 || prev_ == nullptr) return 0;
    return static_cast<double>(Delta(m, Prev(m))[0]) / seconds_;
  }
  double Rate(std::string_view name, std::string_view labels = "") const {
    const MetricSample* m = cur_.Find(name, labels);
    return m == nullptr ? 0 : Rate(*m);
  }
  // p-quantile of the histogram's records in this interval, in its unit.
  double Quantile(std::string_view name, double q, std::string_view labels = "") const {
    const MetricSample* m = cur_.Find(name, labels);
    if (m == nullptr || m->kind != MetricKind::kHistogram) return 0;
    MetricSample d = *m;
    d.values = Delta(*m, Prev(*m));
    return static_cast<double>(d.Quantile(q)) * m->scale;
  }
  // Records of a histogram in this interval.
  double HistogramRecords(const MetricSample& m) const {
    if (m.kind != MetricKind::kHistogram) return 0;
    return static_cast<double>(Delta(m, Prev(m)).back());
  }

 private:
  const CountersSnapshot* prev_;
  const CountersSnapshot& cur_;
  double seconds_;
};

bool Known(const std::string& name) {
  static const char* const kKnown[] = {"rill_commands_total",
                                       "rill_rejections_total",
                                       "rill_batches_total",
                                       "rill_batch_commands",
                                       "rill_batch_duration_seconds",
                                       "rill_ring_capacity",
                                       "rill_ring_full_total",
                                       "rill_journal_committed_position",
                                       "rill_journal_durable_position",
                                       "rill_acks_waiting",
                                       "rill_engine_failed",
                                       "rill_ack_latency_seconds",
                                       "rill_journal_bytes_total",
                                       "rill_journal_syncs_total",
                                       "rill_journal_sync_seconds_total",
                                       "rill_replication_position"};
  for (const char* k : kKnown)
    if (name == k) return true;
  return name.rfind("rill_projector_", 0) == 0 || name.rfind("rill_snapshot", 0) == 0;
}

std::string Num(double v) {  // 1234567 -> "1,234,567"
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  std::string digits = buf, out;
  const std::size_t lead = digits[0] == '-' ? 1 : 0;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > lead && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Seconds(double s) {
  char buf[32];
  if (s <= 0) return "0";
  if (s < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.0f us", s * 1e6);
  } else if (s < 1) {
    std::snprintf(buf, sizeof buf, "%.1f ms", s * 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  }
  return buf;
}

}  // namespace

TopView ComputeTopView(const std::string& dir, const CountersSnapshot& prev, const CountersSnapshot& cur,
                       double interval_s, std::int64_t now_ns, const replication::ReplicationStatus* replicator) {
  const Interval in(prev, cur, interval_s);
  TopView v;
  v.dir = dir;
  v.program = cur.program;
  v.pid = cur.pid;
  v.stale = cur.stale;
  v.heartbeat_age_s = static_cast<double>(now_ns - cur.heartbeat_ns) / 1e9;
  v.interval_s = interval_s;
  v.accepted_total = cur.Value("rill_commands_total", "result=\"accepted\"");
  v.rejected_total = cur.Value("rill_commands_total", "result=\"rejected\"");
  v.accepted_per_s = in.Rate("rill_commands_total", "result=\"accepted\"");
  v.rejected_per_s = in.Rate("rill_commands_total", "result=\"rejected\"");
  v.commands_per_s = v.accepted_per_s + v.rejected_per_s;
  v.batches_per_s = in.Rate("rill_batches_total");
  v.batch_commands_p50 = in.Quantile("rill_batch_commands", 0.5);
  v.batch_commands_p99 = in.Quantile("rill_batch_commands", 0.99);
  v.batch_seconds_p50 = in.Quantile("rill_batch_duration_seconds", 0.5);
  v.batch_seconds_p99 = in.Quantile("rill_batch_duration_seconds", 0.99);
  v.ring_capacity = cur.Value("rill_ring_capacity");
  v.ring_full_per_s = in.Rate("rill_ring_full_total");
  v.committed_position = cur.Value("rill_journal_committed_position");
  v.durable_position = cur.Value("rill_journal_durable_position");
  v.engine_failed = cur.Value("rill_engine_failed") != 0;
  v.journal_bytes_per_s = in.Rate("rill_journal_bytes_total");
  v.syncs_per_s = in.Rate("rill_journal_syncs_total");
  if (v.syncs_per_s > 0) v.sync_seconds_mean = in.Rate("rill_journal_sync_seconds_total") * 1e-9 / v.syncs_per_s;
  if (cur.Find("rill_snapshots_total") != nullptr) {
    v.snapshots = true;
    v.snapshots_total = cur.Value("rill_snapshots_total");
    v.snapshot_position = cur.Value("rill_snapshot_position");
    const std::uint64_t at = cur.Value("rill_snapshot_timestamp_seconds");
    if (at != 0) v.snapshot_age_s = static_cast<double>(now_ns - static_cast<std::int64_t>(at)) / 1e9;
  }
  if (cur.Find("rill_replication_position") != nullptr) {
    v.replication = true;
    v.replicated_position = cur.Value("rill_replication_position");
  }
  if (replicator != nullptr) {
    v.replicator_state = replicator->state;
    v.replicator_lag_seconds = replicator->lag_seconds;
  }
  if (const MetricSample* c = cur.Find("rill_journal_committed_position"); c != nullptr && interval_s > 0) {
    const MetricSample* p = in.Prev(*c);
    if (p != nullptr && c->value() >= p->value())
      v.journal_events_per_s = static_cast<double>(c->value() - p->value()) / interval_s;
  }
  for (const MetricSample& m : cur.metrics) {
    if (m.name == "rill_rejections_total") {
      v.rejections.push_back({LabelValue(m.labels, "reason"), m.value(), in.Rate(m)});
    } else if (m.name == "rill_ack_latency_seconds") {
      const double records = in.HistogramRecords(m);
      if (records > 0)
        v.ack_latency.push_back({LabelValue(m.labels, "level"), records, in.Quantile(m.name, 0.5, m.labels),
                                 in.Quantile(m.name, 0.99, m.labels)});
    } else if (m.name == "rill_acks_waiting") {
      v.acks_waiting.push_back({LabelValue(m.labels, "level"), m.value(), 0});
    } else if (m.name == "rill_projector_position") {
      TopProjector p;
      p.name = LabelValue(m.labels, "projector");
      p.position = m.value();
      p.lag_events = cur.Value("rill_projector_lag_events", m.labels);
      const std::uint64_t applied_ts = cur.Value("rill_projector_applied_timestamp_seconds", m.labels);
      if (p.lag_events > 0 && applied_ts > 0 && now_ns > static_cast<std::int64_t>(applied_ts))
        p.lag_seconds = static_cast<double>(now_ns - static_cast<std::int64_t>(applied_ts)) / 1e9;
      if (const MetricSample* e = cur.Find("rill_projector_events_total", m.labels)) p.events_per_s = in.Rate(*e);
      const std::uint64_t state = cur.Value("rill_projector_state", m.labels);
      p.state = state == 1 ? "halted" : (state == 2 ? "rebuilding" : "running");
      p.parked = cur.Value("rill_projector_parked_events", m.labels);
      p.skipped = cur.Value("rill_projector_skipped_events_total", m.labels);
      v.projectors.push_back(std::move(p));
    } else if (!Known(m.name)) {
      std::string line = m.name;
      if (!m.labels.empty()) line.append("{").append(m.labels).append("}");
      if (m.kind == MetricKind::kHistogram) {
        line.append(" count ").append(Num(static_cast<double>(m.histogram_count())));
      } else {
        line.append(" ").append(Num(static_cast<double>(m.value()) * m.scale));
      }
      v.other.push_back(std::move(line));
    }
  }
  std::stable_sort(v.rejections.begin(), v.rejections.end(),
                   [](const TopCount& a, const TopCount& b) { return a.total > b.total; });
  return v;
}

std::string RenderTopText(const TopView& v) {
  std::string s;
  char line[512];
  std::snprintf(line, sizeof line, "rill top  %s  %s pid %lld  %s\n", v.dir.c_str(), v.program.c_str(),
                static_cast<long long>(v.pid),
                v.stale ? "STALE: the process is gone, these are its last values" : "running");
  s += line;
  std::snprintf(line, sizeof line, "last update %s ago, rates over %.1f s%s\n\n", Seconds(v.heartbeat_age_s).c_str(),
                v.interval_s, v.engine_failed ? "   JOURNAL FAILED: commands are refused (see the service's log)" : "");
  s += line;
  std::snprintf(line, sizeof line, "commands/s   %14s   accepted %s/s   rejected %s/s\n", Num(v.commands_per_s).c_str(),
                Num(v.accepted_per_s).c_str(), Num(v.rejected_per_s).c_str());
  s += line;
  std::snprintf(line, sizeof line, "commands     %14s   accepted, %s rejected (since start)\n",
                Num(static_cast<double>(v.accepted_total)).c_str(), Num(static_cast<double>(v.rejected_total)).c_str());
  s += line;
  std::string reasons;
  for (const TopCount& r : v.rejections) {
    if (r.total == 0) continue;
    if (!reasons.empty()) reasons += "   ";
    reasons.append(r.label).append(" ").append(Num(static_cast<double>(r.total)));
    reasons.append(" (").append(Num(r.per_s)).append("/s)");
  }
  s.append("rejections   ").append(reasons.empty() ? "none" : reasons).append("\n");
  std::snprintf(line, sizeof line, "batches/s    %14s   commands/batch p50 %s p99 %s   batch time p50 %s p99 %s\n",
                Num(v.batches_per_s).c_str(), Num(v.batch_commands_p50).c_str(), Num(v.batch_commands_p99).c_str(),
                Seconds(v.batch_seconds_p50).c_str(), Seconds(v.batch_seconds_p99).c_str());
  s += line;
  std::snprintf(line, sizeof line, "ring         %14s slots   found full %s/s\n",
                Num(static_cast<double>(v.ring_capacity)).c_str(), Num(v.ring_full_per_s).c_str());
  s += line;
  std::snprintf(
      line, sizeof line, "journal      %14s events/s   committed %s   durable %s (lag %s)\n",
      Num(v.journal_events_per_s).c_str(), Num(static_cast<double>(v.committed_position)).c_str(),
      Num(static_cast<double>(v.durable_position)).c_str(),
      Num(v.committed_position > v.durable_position ? static_cast<double>(v.committed_position - v.durable_position)
                                                    : 0.0)
          .c_str());
  s += line;
  std::snprintf(line, sizeof line, "             %14s bytes/s    %s syncs/s, mean %s per sync\n",
                Num(v.journal_bytes_per_s).c_str(), Num(v.syncs_per_s).c_str(), Seconds(v.sync_seconds_mean).c_str());
  s += line;
  if (v.replication) {
    std::snprintf(line, sizeof line, "replication  replicated %s (lag %s positions)\n",
                  Num(static_cast<double>(v.replicated_position)).c_str(),
                  Num(v.committed_position > v.replicated_position
                          ? static_cast<double>(v.committed_position - v.replicated_position)
                          : 0.0)
                      .c_str());
    s += line;
  }
  if (!v.replicator_state.empty()) {
    std::snprintf(line, sizeof line, "replicator   %s, oldest unreplicated batch %s old\n", v.replicator_state.c_str(),
                  Seconds(v.replicator_lag_seconds).c_str());
    s += line;
  }
  if (v.snapshots) {
    if (v.snapshot_age_s < 0) {
      s += "snapshots    none yet\n";
    } else {
      std::snprintf(line, sizeof line, "snapshots    %s written, newest at position %s, %s ago\n",
                    Num(static_cast<double>(v.snapshots_total)).c_str(),
                    Num(static_cast<double>(v.snapshot_position)).c_str(), Seconds(v.snapshot_age_s).c_str());
      s += line;
    }
  }
  std::string acks;
  for (const TopCount& a : v.acks_waiting)
    acks.append(a.label).append(" ").append(Num(static_cast<double>(a.total))).append("   ");
  s.append("acks waiting ").append(acks).append("\n");
  for (const TopAckLatency& a : v.ack_latency) {
    std::snprintf(line, sizeof line, "ack %-10s latency p50 %s p99 %s (submit to outcome; %s sampled)\n",
                  a.level.c_str(), Seconds(a.p50_s).c_str(), Seconds(a.p99_s).c_str(), Num(a.sampled).c_str());
    s += line;
  }
  s += "\n";
  if (v.projectors.empty()) {
    s += "projectors   none in this process\n";
  } else {
    std::snprintf(line, sizeof line, "%-20s %14s %12s %10s %12s  %s\n", "projector", "position", "lag events",
                  "lag time", "events/s", "state");
    s += line;
    for (const TopProjector& p : v.projectors) {
      std::string state = p.state;
      if (p.parked > 0) state.append(", ").append(Num(static_cast<double>(p.parked))).append(" parked");
      if (p.skipped > 0) state.append(", ").append(Num(static_cast<double>(p.skipped))).append(" skipped");
      std::snprintf(line, sizeof line, "%-20s %14s %12s %10s %12s  %s\n", p.name.c_str(),
                    Num(static_cast<double>(p.position)).c_str(), Num(static_cast<double>(p.lag_events)).c_str(),
                    Seconds(p.lag_seconds).c_str(), Num(p.events_per_s).c_str(), state.c_str());
      s += line;
    }
  }
  if (!v.other.empty()) {
    s += "\nother\n";
    for (const std::string& o : v.other) s.append("  ").append(o).append("\n");
  }
  return s;
}

std::string RenderTopJson(const TopView& v) {
  std::string s;
  char buf[256];
  auto num = [&](const char* key, double value, bool comma = true) {
    std::snprintf(buf, sizeof buf, "\"%s\":%.17g%s", key, value, comma ? "," : "");
    s += buf;
  };
  auto unum = [&](const char* key, std::uint64_t value, bool comma = true) {
    std::snprintf(buf, sizeof buf, "\"%s\":%" PRIu64 "%s", key, value, comma ? "," : "");
    s += buf;
  };
  s.append("{\"dir\":\"").append(JsonEscape(v.dir)).append("\",\"program\":\"").append(JsonEscape(v.program));
  s.append("\",");
  unum("pid", static_cast<std::uint64_t>(v.pid));
  s.append("\"stale\":").append(v.stale ? "true," : "false,");
  num("heartbeat_age_s", v.heartbeat_age_s);
  num("interval_s", v.interval_s);
  num("commands_per_s", v.commands_per_s);
  num("accepted_per_s", v.accepted_per_s);
  num("rejected_per_s", v.rejected_per_s);
  unum("accepted_total", v.accepted_total);
  unum("rejected_total", v.rejected_total);
  s += "\"rejections\":{";
  for (std::size_t i = 0; i < v.rejections.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s\"%s\":{\"total\":%" PRIu64 ",\"per_s\":%.17g}", i ? "," : "",
                  JsonEscape(v.rejections[i].label).c_str(), v.rejections[i].total, v.rejections[i].per_s);
    s += buf;
  }
  s += "},";
  num("batches_per_s", v.batches_per_s);
  num("batch_commands_p50", v.batch_commands_p50);
  num("batch_commands_p99", v.batch_commands_p99);
  num("batch_seconds_p50", v.batch_seconds_p50);
  num("batch_seconds_p99", v.batch_seconds_p99);
  unum("ring_capacity", v.ring_capacity);
  num("ring_full_per_s", v.ring_full_per_s);
  unum("committed_position", v.committed_position);
  unum("durable_position", v.durable_position);
  num("journal_events_per_s", v.journal_events_per_s);
  num("journal_bytes_per_s", v.journal_bytes_per_s);
  num("syncs_per_s", v.syncs_per_s);
  num("sync_seconds_mean", v.sync_seconds_mean);
  s.append("\"engine_failed\":").append(v.engine_failed ? "true," : "false,");
  if (v.snapshots) {
    std::snprintf(buf, sizeof buf,
                  "\"snapshots\":{\"total\":%" PRIu64 ",\"position\":%" PRIu64 ",\"age_seconds\":%.17g},",
                  v.snapshots_total, v.snapshot_position, v.snapshot_age_s);
    s += buf;
  }
  if (v.replication) unum("replicated_position", v.replicated_position);
  if (!v.replicator_state.empty()) {
    s.append("\"replicator\":{\"state\":\"").append(JsonEscape(v.replicator_state)).append("\",");
    num("lag_seconds", v.replicator_lag_seconds, false);
    s += "},";
  }
  s += "\"acks_waiting\":{";
  for (std::size_t i = 0; i < v.acks_waiting.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s\"%s\":%" PRIu64, i ? "," : "", JsonEscape(v.acks_waiting[i].label).c_str(),
                  v.acks_waiting[i].total);
    s += buf;
  }
  s += "},\"ack_latency\":{";
  for (std::size_t i = 0; i < v.ack_latency.size(); ++i) {
    const TopAckLatency& a = v.ack_latency[i];
    std::snprintf(buf, sizeof buf, "%s\"%s\":{\"sampled\":%.17g,\"p50_seconds\":%.17g,\"p99_seconds\":%.17g}",
                  i ? "," : "", JsonEscape(a.level).c_str(), a.sampled, a.p50_s, a.p99_s);
    s += buf;
  }
  s += "},\"projectors\":[";
  for (std::size_t i = 0; i < v.projectors.size(); ++i) {
    const TopProjector& p = v.projectors[i];
    s.append(i ? ",{" : "{").append("\"name\":\"").append(JsonEscape(p.name)).append("\",");
    unum("position", p.position);
    unum("lag_events", p.lag_events);
    num("lag_seconds", p.lag_seconds);
    num("events_per_s", p.events_per_s);
    s.append("\"state\":\"").append(p.state).append("\",");
    unum("parked", p.parked);
    unum("skipped", p.skipped, false);
    s += "}";
  }
  s += "],\"other\":[";
  for (std::size_t i = 0; i < v.other.size(); ++i)
    s.append(i ? ",\"" : "\"").append(JsonEscape(v.other[i])).append("\"");
  s += "]}\n";
  return s;
}

}  // namespace rill::tools
