// rill/tools/inspect/inspect_tally.h: one pass over a journal that counts what `info` and
// `stats` print (events and bytes per type, streams, batch sizes, events per second).
// Thread safety: a value, filled by one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <unordered_map>

#include "rill/tools/inspect/journal_view.h"

namespace rill::tools::inspect {

struct TypeTally {
  std::uint64_t events = 0, bytes = 0;  // bytes: whole records (envelope + body)
};

struct Tally {
  std::uint64_t events = 0, bytes = 0, batches = 0, undecodable = 0;
  // Records that are not events (Event::other, e.g. digests): counted here only, not in events,
  // bytes, types or batches.
  std::uint64_t other_records = 0, other_bytes = 0;
  std::map<std::uint16_t, std::uint64_t> other_types;  // record type -> records
  std::uint64_t first_position = 0, last_position = 0;
  std::int64_t first_ns = 0, last_ns = 0;
  std::map<std::string, TypeTally> types;  // by registered name; raw records as "record type N"
  std::unordered_map<StreamKey, std::uint64_t, StreamKeyHash> streams;  // -> events
  KindNames kinds;
  std::map<std::uint32_t, std::uint64_t> batch_sizes;  // events in a batch -> batches
  std::map<std::int64_t, std::uint64_t> per_second;    // unix second -> events

  void Add(const Event& e);

 private:
  std::uint32_t in_batch_ = 0;
};

// Tallies every event of the journal; returns JournalView::ForEach's exit code.
// "other records: 3 (record type 2 digest: 3), 48 bytes", for info and stats.
std::string OtherRecordsSummary(const Tally& t);

int TallyJournal(JournalView& view, std::FILE* err, Tally* out);

}  // namespace rill::tools::inspect
