#include "rill/tools/inspect/inspect_tally.h"

namespace rill::tools::inspect {

void Tally::Add(const Event& e) {
  const journal::Record& r = *e.record;
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
    ++streams[e.decoded->stream_id()];
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
