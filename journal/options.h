// rill/journal/options.h: the knobs of a journal writer and reader.
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace rill::journal {

// When a committed batch counts as durable (see journal/README.md, "Durability").
enum class Durability : std::uint8_t {
  kNone,      // page cache only: survives a killed process, not a power loss; durable == committed
  kBatch,     // group commit: a helper thread syncs each posted batch; wait on durable_position()
  kInterval,  // the helper thread syncs every sync_interval_ms
};

// How the syncer makes bytes durable. Both are measured in rill-microbench
// (journal_append/*/batch*, journal_commit_durable/*).
enum class SyncMethod : std::uint8_t {
  kMsync,      // msync(MS_SYNC) on the page-aligned range written since the last sync (default:
               // touches only that range, so the pre-faulted pages ahead stay dirty-writable)
  kFdatasync,  // fdatasync(fd): writes back every dirty page of the file (mapped writes too);
               // the preparer then syncs each new segment's pre-faulted zeros in the background
};

// How much of the journal Open verifies before accepting appends.
enum class VerifyMode : std::uint8_t {
  kFull,  // every batch of every segment (CRCs included): catches damage anywhere
  kTail,  // segment headers, position chain, and every batch of the last segment only
};

struct WriterOptions {
  std::string directory;                 // created if missing
  std::size_t segment_size = 64u << 20;  // bytes per segment file; multiple of 4 KiB, <= 1 GiB
  Durability durability = Durability::kNone;
  SyncMethod sync_method = SyncMethod::kMsync;
  std::uint32_t sync_interval_ms = 10;  // kInterval only
  VerifyMode verify = VerifyMode::kFull;
  bool salvage = false;                    // on damage before the tail: keep the valid prefix, move the rest aside
  std::uint64_t first_position = 1;        // position of the first record of a new journal
  std::uint64_t schema_fingerprint = 0;    // opaque; stored in every segment header
  std::span<const std::byte> schema_blob;  // copied into every new segment (<= 1 MiB)
  // Called on the syncer thread after each sync with the new durable position (kBatch,
  // kInterval): the engine completes the commands it holds up to there. Must not block long.
  std::function<void(std::uint64_t durable_position)> on_durable;
};

// Counters the writer publishes in the control file (relaxed: informational).
struct JournalStats {
  std::uint64_t appends = 0, batches = 0, bytes = 0;  // committed records, batches, batch bytes
  std::uint64_t syncs = 0, sync_ns_total = 0;         // by the syncer (kBatch, kInterval)
};

struct ReaderOptions {
  std::string directory;
  bool verify_checksums = true;  // check every frame's CRC before returning it
};

}  // namespace rill::journal
