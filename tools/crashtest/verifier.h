// rill/tools/crashtest/verifier.h: recovers a crashed journal with the Engine and checks it
// against what the children were acknowledged.
//
//   VerifyOptions v{.journal = dir, .segment_kib = 1024, .durability = journal::Durability::kBatch};
//   VerifyReport r = VerifyJournal(v, ledger);
//   if (r.violation) std::printf("VIOLATION: %s\n", r.violation->c_str());
//
// The checks, each of which names the command, position or account involved:
// - recovery: Engine<BankDomain>::Open succeeds (a torn tail is cut and reported, nothing
//   else); afterwards CheckJournal finds no damage and no uncommitted tail;
// - positions are gap-free and every stream's versions run 1, 2, 3, ... in position order;
// - every journaled command id was sent by a child, its events are one contiguous group that
//   matches the command's payload (a transfer: TransferSent and TransferReceived of the same
//   amount), and no id appears in two groups (applied twice);
// - every accepted acknowledgement is in the journal at the acknowledged position, version and
//   event count; no rejected command left an event;
// - money: sum of balances == deposits - withdrawals journaled, no balance ever below zero,
//   and each account's balance and version folded from the journal equal the engine's
//   aggregates (ForEachAggregate);
// - the balances read model (a ProjectorThread caught up to the end) equals the aggregates;
// - power loss (synced_position set): recovery keeps exactly the synced prefix: the committed
//   position is synced_position, acknowledgements up to it are present, later ones absent.
// Thread safety: one call at a time per journal (it takes the journal's writer lock).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "rill/journal/options.h"
#include "rill/tools/crashtest/ledger.h"

namespace rill::tools::crashtest {

struct VerifyOptions {
  std::string journal;
  std::uint32_t segment_kib = 1024;  // as the children wrote it, so recovery reuses the last segment
  journal::Durability durability = journal::Durability::kNone;
  // A power-loss copy: only positions up to here were synced. nullopt: a plain crash.
  std::optional<std::uint64_t> synced_position;
};

struct VerifyReport {
  std::optional<std::string> violation;  // the first one found
  std::uint64_t committed_position = 0;  // after recovery
  std::uint64_t events = 0, commands = 0;
  std::uint64_t tail_cut_bytes = 0;  // what recovery cut (a torn tail), 0 when nothing
  std::uint64_t acks_checked = 0, durable_acks_checked = 0, rejections_checked = 0;
  std::int64_t total_balance = 0;
  double recover_seconds = 0, verify_seconds = 0;
};

VerifyReport VerifyJournal(const VerifyOptions& options, const Ledger& ledger);

}  // namespace rill::tools::crashtest
