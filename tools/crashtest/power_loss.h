// rill/tools/crashtest/power_loss.h: what a power loss leaves of a journal, simulated on a copy.
//
//   auto cut = MakePowerLossCopy(journal_dir, copy_dir, synced_position, rng);
//   if (cut.ok()) verify(copy_dir, /*synced_position=*/cut->synced_position);
//
// The page cache is lost; the disk holds what was synced. So the copy keeps every segment up to
// the one holding `synced_position`, cuts that one right after the batch that holds
// `synced_position` (the syncer makes whole batches durable: a durable ack inside a batch
// proves all of it synced), drops the later segments, keeps the control file with a durable
// position at or below the synced one (its page reached the disk at some earlier writeback:
// recovery takes it as a floor), and appends what a disk may hold after a crash past the
// synced end: random bytes, or a torn prefix of the next batch followed by random bytes. Recovery must then keep
// exactly the synced prefix: not less (data loss), not more (garbage taken for data).
// Errors: NotFound when nothing was synced yet (synced_position 0), Corruption when the
// journal does not hold synced_position's whole batch, IOError from files.
// Thread safety: a function over files; the source may not be written meanwhile.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "rill/base/result.h"

namespace rill::tools::crashtest {

struct PowerLossCut {
  std::uint64_t synced_position = 0;  // the end of the batch holding the given position
  std::string segment;                // the segment cut, e.g. "0000000000000003.seg"
  std::uint64_t offset = 0;           // where the synced bytes end in it
  std::uint64_t garbage_bytes = 0;    // appended after the cut
  bool torn_batch = false;            // the garbage starts with a prefix of the next batch
  std::uint64_t segments_dropped = 0;
  std::uint64_t control_durable = 0;  // the durable position the copy's control file records
};

Result<PowerLossCut> MakePowerLossCopy(const std::string& journal, const std::string& copy,
                                       std::uint64_t synced_position, std::mt19937_64& rng);

}  // namespace rill::tools::crashtest
