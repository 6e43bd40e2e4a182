#include "rill/tools/crashtest/round_report.h"

#include <cinttypes>

namespace rill::tools::crashtest {

void PrintRound(std::FILE* out, const Round& r, journal::Durability durability) {
  std::fprintf(out, "round %2d: ", r.number);
  if (r.rep.on) {
    std::fprintf(out, "[%s, node %c, epoch %" PRIu64 "] ", r.rep.kind.c_str(), r.rep.node, r.rep.epoch);
    if (r.rep.takeover_ms >= 0)
      std::fprintf(out,
                   "took over %.0f ms after the kill (engine open at %.0f ms, after position %" PRIu64 ", %" PRIu64
                   " events replayed, %" PRIu64 " unreplicated acks of the old writer forgotten); ",
                   r.rep.takeover_ms, r.rep.ready_after_kill_ms, r.rep.continued_after, r.rep.replayed,
                   r.rep.forgotten);
  }
  if (r.from_spawn) {
    std::fprintf(out, "killed %.0f ms after start%s", r.killed_ms, r.ready ? "" : " (during recovery)");
  } else {
    std::fprintf(out, "killed %.0f ms after ready", r.killed_ms - r.ready_ms);
  }
  std::fprintf(out,
               ": %" PRIu64 " sent (%" PRIu64 " retries), %" PRIu64 " acked (%" PRIu64 " %s, %" PRIu64
               " rejected, %" PRIu64 " duplicates)",
               r.sent, r.retried, r.acked, r.rep.on ? r.replicated : r.durable, r.rep.on ? "replicated" : "durable",
               r.rejected, r.duplicates);
  if (r.violation && r.verify.committed_position == 0 && r.verify.events == 0) {
    std::fprintf(out, "\n");
    return;
  }
  std::fprintf(out, "; recovered to %" PRIu64, r.verify.committed_position);
  if (r.verify.tail_cut_bytes) std::fprintf(out, " (torn tail of %" PRIu64 " B cut)", r.verify.tail_cut_bytes);
  std::fprintf(out, " in %.0f ms, %" PRIu64 " acks verified in %.0f ms", r.verify.recover_seconds * 1e3,
               r.verify.acks_checked, r.verify.verify_seconds * 1e3);
  if (r.verify.read_model_start != 0)
    std::fprintf(out, ", read model from checkpoint %" PRIu64, r.verify.read_model_start);
  if (durability != journal::Durability::kNone && !r.verify.violation) {  // the copy is checked after the journal
    if (!r.power.skipped.empty()) {
      std::fprintf(out, "; power loss: skipped (%s)", r.power.skipped.c_str());
    } else if (r.power.tried) {
      std::fprintf(out, "; power loss at %" PRIu64 " +%" PRIu64 " B %s: %s", r.power.cut.synced_position,
                   r.power.cut.garbage_bytes, r.power.cut.torn_batch ? "torn batch" : "garbage",
                   r.power.report.violation ? "FAILED" : "ok");
    }
  }
  if (r.rep.on) {
    std::fprintf(out,
                 "; stream: %" PRIu64 " messages to position %" PRIu64 ", %" PRIu64
                 " records equal to node %c's journal, %" PRIu64 " replicated acks on it",
                 r.rep.stream_messages, r.rep.stream_end, r.rep.stream_compared, r.rep.node, r.rep.replicated_checked);
    if (r.rep.aside_checked) std::fprintf(out, ", %" PRIu64 " moved-aside records not on it", r.rep.aside_checked);
    if (r.rep.standby_node) {
      std::fprintf(out, "; standby on node %c", r.rep.standby_node);
      if (r.rep.moved_first != 0)
        std::fprintf(out, ": moved its tail %" PRIu64 "..%" PRIu64 " aside (%s)", r.rep.moved_first, r.rep.moved_last,
                     r.rep.aside_directory.c_str());
    }
  }
  if (r.damage.tried)
    std::fprintf(out,
                 "; bit flip at %" PRIu64 " (below durable): refused, salvage kept %" PRIu64 " (%" PRIu64
                 " acknowledged lost, reported)",
                 r.damage.position, r.damage.kept, r.damage.acknowledged_lost);
  std::fprintf(out, "\n");
}

void PrintJson(std::FILE* out, const CrashtestOptions& o, std::uint64_t seed, const std::vector<Round>& rounds,
               const std::string& journal, double seconds, bool ok, const std::string& summary_json) {
  std::fprintf(out,
               "{\"seed\":%" PRIu64
               ",\"domain\":\"%s\",\"durability\":\"%s\",\"kills\":%d,\"journal\":\"%s\","
               "\"rounds\":[",
               seed, JsonEscape(o.domain).c_str(), o.durability.c_str(), o.kills, JsonEscape(journal).c_str());
  std::uint64_t acked = 0, durable = 0;
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    const Round& r = rounds[i];
    acked += r.acked;
    durable += r.durable;
    std::fprintf(out,
                 "%s{\"round\":%d,\"killed_ms\":%.1f,\"ready_ms\":%.1f,\"killed_from_start\":%s,\"sent\":%" PRIu64
                 ",\"retried\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"durable\":%" PRIu64 ",\"rejected\":%" PRIu64
                 ",\"duplicates\":%" PRIu64 ",\"committed_position\":%" PRIu64 ",\"tail_cut_bytes\":%" PRIu64
                 ",\"acks_verified\":%" PRIu64 ",\"digests_verified\":%" PRIu64 ",\"read_model_checkpoint\":%" PRIu64
                 ",\"recover_ms\":%.1f,\"verify_ms\":%.1f",
                 i ? "," : "", r.number, r.killed_ms, r.ready_ms, r.from_spawn ? "true" : "false", r.sent, r.retried,
                 r.acked, r.durable, r.rejected, r.duplicates, r.verify.committed_position, r.verify.tail_cut_bytes,
                 r.verify.acks_checked, r.verify.digests_checked, r.verify.read_model_start,
                 r.verify.recover_seconds * 1e3, r.verify.verify_seconds * 1e3);
    if (r.power.tried)
      std::fprintf(out,
                   ",\"power_loss\":{\"synced_position\":%" PRIu64 ",\"garbage_bytes\":%" PRIu64
                   ",\"torn_batch\":%s,\"segments_dropped\":%" PRIu64 ",\"ok\":%s}",
                   r.power.cut.synced_position, r.power.cut.garbage_bytes, r.power.cut.torn_batch ? "true" : "false",
                   r.power.cut.segments_dropped, r.power.report.violation ? "false" : "true");
    if (r.damage.tried)
      std::fprintf(out,
                   ",\"damage_below_durable\":{\"position\":%" PRIu64 ",\"segment\":\"%s\",\"offset\":%" PRIu64
                   ",\"refused\":true,\"salvage_kept\":%" PRIu64 ",\"acknowledged_lost\":%" PRIu64 "}",
                   r.damage.position, r.damage.segment.c_str(), r.damage.offset, r.damage.kept,
                   r.damage.acknowledged_lost);
    if (r.rep.on) {
      const ReplicatedRound& x = r.rep;
      std::fprintf(out,
                   ",\"replicated\":{\"kind\":\"%s\",\"node\":\"%c\",\"epoch\":%" PRIu64
                   ",\"acked_replicated\":%" PRIu64 ",\"continued_after\":%" PRIu64 ",\"replayed\":%" PRIu64
                   ",\"takeover_ms\":%.1f,\"ready_after_kill_ms\":%.1f,\"forgotten\":%" PRIu64
                   ",\"stream_end\":%" PRIu64 ",\"stream_messages\":%" PRIu64 ",\"stream_compared\":%" PRIu64
                   ",\"replicated_checked\":%" PRIu64 ",\"aside_checked\":%" PRIu64,
                   x.kind.c_str(), x.node, x.epoch, r.replicated, x.continued_after, x.replayed, x.takeover_ms,
                   x.ready_after_kill_ms, x.forgotten, x.stream_end, x.stream_messages, x.stream_compared,
                   x.replicated_checked, x.aside_checked);
      if (x.standby_node != 0 && x.moved_first != 0)
        std::fprintf(out,
                     ",\"standby_moved_aside\":{\"node\":\"%c\",\"first\":%" PRIu64 ",\"last\":%" PRIu64
                     ",\"directory\":\"%s\"}",
                     x.standby_node, x.moved_first, x.moved_last, JsonEscape(x.aside_directory).c_str());
      std::fprintf(out, "}");
    }
    if (r.violation) std::fprintf(out, ",\"violation\":\"%s\"", JsonEscape(*r.violation).c_str());
    std::fprintf(out, "}");
  }
  std::fprintf(out, "],\"acked\":%" PRIu64 ",\"durable\":%" PRIu64 ",\"seconds\":%.2f,\"result\":\"%s\"", acked,
               durable, seconds, ok ? "ok" : "violation");
  if (!summary_json.empty()) std::fprintf(out, ",%s", summary_json.c_str());
  for (const Round& r : rounds) {
    if (r.violation) {
      std::fprintf(out, ",\"violation\":\"%s\",\"violation_round\":%d", JsonEscape(*r.violation).c_str(), r.number);
      break;
    }
  }
  std::fprintf(out, "}\n");
}

}  // namespace rill::tools::crashtest
