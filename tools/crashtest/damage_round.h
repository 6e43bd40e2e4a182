// rill/tools/crashtest/damage_round.h: a crash-test round that damages a copy of the journal
// below its durable position and expects the writer to refuse it, never to cut it silently.
//
//   DamageResult d = DamageBelowDurable(journal_dir, copy_dir, rng);
//   if (d.violation) report(*d.violation);
//
// The copy keeps every segment and the control file as the kill left them. One bit of one
// record's payload in a batch at or below the control file's durable position is flipped.
// Then: CheckJournal must call it damaged (the verdict `rill recover` prints); opening a
// JournalWriter must fail with a Corruption naming the segment; and a salvage must keep
// exactly the positions before the damaged batch, report the acknowledged events it could
// not keep (durable position - the damaged batch's first + 1), and leave a journal that is
// intact. The journal recovery rule is journal/FORMAT.md, "Recovery".
// Thread safety: a function over files; the source may not be written meanwhile.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "rill/journal/options.h"

namespace rill::tools::crashtest {

struct DamageResult {
  bool tried = false;
  std::string skipped;  // why not (nothing durable yet)
  std::string segment;  // where the bit was flipped
  std::uint64_t offset = 0, position = 0;
  std::uint64_t kept = 0;  // the last position salvage kept
  std::uint64_t acknowledged_lost = 0;
  std::optional<std::string> violation;
};

DamageResult DamageBelowDurable(const std::string& journal, const std::string& copy, std::uint32_t segment_kib,
                                journal::Durability durability, std::mt19937_64& rng);

}  // namespace rill::tools::crashtest
