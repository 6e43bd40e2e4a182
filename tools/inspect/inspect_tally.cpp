#include "rill/tools/inspect/inspect_tally.h"

#include "rill/engine/event_record.h"

namespace rill::tools::inspect {

std::string OtherRecordsSummary(const Tally& t) {
  std::string s = "other records: " + std::to_string(t.other_records) + " (";
  bool first = true;
  for (const auto& [type, n] : t.other_types) {
    s += (first ? "record type " : ", record type ") + std::to_string(type);
    if (type == engine::kDigestRecordType) s += " digest";
    s += ": " + std::to_string(n);
    first = false;
  }
  return s + "), " + std::to_string(t.other_bytes) + " bytes";
}

void Tally::Add(const Event& e) {
  const journal::Record& r = *e.record;
  if (e.other) {
    ++other_records;
    other_bytes += r.payload.size();
    ++other_types[r.type];
    // A batch may end on a non-event record: the events before it still make one batch.
    if (r.end_of_batch && in_batch_ != 0) {
      ++batches;
      ++batch_sizes[in_batch_];
      in_batch_ = 0;
    }
    return;
  }
  if (events++ == 0) {
    first_position = r.position;
    first_ns = r.timestamp_ns;
  }
  last_position = r.position;
  last_ns = r.timestamp_ns;
  bytes += r.payload.size();
  std::string name;
  if (e.decoded != nullptr) {
    name = e.type_name;
    ++streams[kinds.KeyOf(*e.decoded)];
  } else if (e.codec == nullptr) {
    name = "record type " + std::to_string(r.type);
  } else {
    name = "(undecodable)";
    ++undecodable;
  }
  TypeTally& t = types[name];
  ++t.events;
  t.bytes += r.payload.size();
  // Floor division, so a time before 1970 lands in its own second.
  const std::int64_t sec = r.timestamp_ns / 1'000'000'000 - (r.timestamp_ns % 1'000'000'000 < 0 ? 1 : 0);
  ++per_second[sec];
  ++in_batch_;
  if (r.end_of_batch) {
    ++batches;
    ++batch_sizes[in_batch_];
    in_batch_ = 0;
  }
}

int TallyJournal(JournalView& view, std::FILE* err, Tally* out) {
  return view.ForEach({}, {}, err, [&](const Event& e) { out->Add(e); });
}

}  // namespace rill::tools::inspect
