// rill/engine/recovery_info.h: what Engine::Open found and did before accepting commands
// (RecoveryInfo, returned by Engine::recovery()), and RecoveryLog, the journal::Reporter that
// records journal recovery's reports (a torn tail set aside, a salvage) in it and logs them.
// Its own file because neither depends on the domain: plain data and one small adapter.
//
//   const rill::engine::RecoveryInfo& r = engine.recovery();
//   for (const rill::journal::TailCut& cut : r.tail_cuts) report(cut.segment, cut.bytes_cut, cut.aside);
//   if (r.digest_mismatch) alarm(r.digest_mismatch->position);
//
// Thread safety: Open fills a RecoveryInfo on the owning thread (RecoveryLog runs inside
// JournalWriter::Open there); it does not change afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rill/engine/journal_replay.h"
#include "rill/journal/recovery.h"

namespace rill::engine {

// What Open found and did before accepting commands.
struct RecoveryInfo {
  std::uint64_t replayed_events = 0;       // from the journal, after the snapshot (or hot standby) if one was used
  std::uint64_t hot_standby_position = 0;  // Open(options, hot): the position the hot state had applied
  std::uint64_t committed_position = 0;    // the journal's last position after recovery
  std::vector<journal::TailCut> tail_cuts;
  std::vector<journal::SalvageReport> salvaged;
  // The snapshot start-up used ("" and 0: none, the whole journal was replayed), and one line
  // per snapshot file skipped, saying why (also logged).
  std::string snapshot_path;
  std::uint64_t snapshot_position = 0;
  std::uint64_t snapshot_aggregates = 0, snapshot_window_entries = 0;
  std::vector<std::string> snapshot_notes;
  // The determinism check over the replayed part: digest records compared, the first mismatch.
  std::uint64_t digests_checked = 0;
  std::optional<DigestMismatch> digest_mismatch;
  std::uint64_t state_digest = 0;  // of the recovered aggregates
  // Each step's duration: open the journal (verify, cut a torn tail), find and load the
  // snapshot (aggregates and idempotency window), replay the journal after it, start the
  // writer (and the snapshotter). total_ns: Open's call until commands are accepted.
  std::int64_t open_journal_ns = 0, load_snapshot_ns = 0, replay_ns = 0, start_ns = 0, total_ns = 0;
};

// The journal::Reporter of Engine::Open: appends each report to a RecoveryInfo and logs one
// line about it through `log`. REQUIRES: `info` outlives the RecoveryLog.
class RecoveryLog final : public journal::Reporter {
 public:
  RecoveryLog(RecoveryInfo* info, std::function<void(const std::string&)> log) : info_(info), log_(std::move(log)) {}
  void TailTruncated(const journal::TailCut& cut) override {
    info_->tail_cuts.push_back(cut);
    // Damage past the durable position is still damage: say so, with what it held.
    log_(std::string(cut.damage ? "recovery found DAMAGE past the durable position and set aside "
                                : "recovery set aside a torn tail of ") +
         std::to_string(cut.bytes_cut) + " bytes in " + cut.segment + " at offset " + std::to_string(cut.offset) +
         " (from position " + std::to_string(cut.first_position_cut) + ", " + std::to_string(cut.committed_events) +
         " committed events, none acknowledged durable), saved to " + cut.aside + ": " + cut.reason);
  }
  void Salvaged(const journal::SalvageReport& r) override {
    info_->salvaged.push_back(r);
    log_((r.first_position_dropped != 0
              ? "salvage kept the journal up to position " + std::to_string(r.first_position_dropped - 1)
              : std::string("salvage accepted a missing first segment")) +
         ": " + std::to_string(r.events_set_aside) + " committed events set aside" +
         (r.aside_directory.empty() ? std::string() : " in " + r.aside_directory) + ", " +
         std::to_string(r.acknowledged_lost) + " acknowledged (durable) events could not be kept (" + r.reason + ")");
  }

 private:
  RecoveryInfo* info_;
  std::function<void(const std::string&)> log_;
};

}  // namespace rill::engine
