// The smallest program built against an installed rill, with no domain and no flatc: amounts
// travel through a ring into a journal as one atomic batch of raw records, then are read back
// CRC-checked and summed. A domain with its schema and events is the tutorial
// (docs/your-first-domain.md, examples/inventory/). Usage: rill_consumer DIR
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "rill/engine/ring_buffer.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: rill_consumer DIR\n");
    return 2;
  }
  rill::journal::WriterOptions options;
  options.directory = argv[1];
  options.segment_size = 1 << 20;
  auto writer = rill::journal::JournalWriter::Open(options);
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.status().ToString().c_str());
    return 1;
  }

  rill::engine::SpscRing<std::int64_t> ring(8);
  for (std::int64_t amount : {100, 250, 650})
    ring.publish_event([&](std::int64_t& slot, std::int64_t) { slot = amount; });
  for (std::int64_t seq = 0; seq < 3; ++seq) {
    const std::int64_t amount = ring[seq];
    auto space = (*writer)->Reserve(sizeof amount, 1);
    if (!space.ok()) return 1;
    std::memcpy(space->data(), &amount, sizeof amount);
  }
  if (!(*writer)->CommitBatch(1).ok()) return 1;

  auto reader = rill::journal::JournalReader::Open({.directory = argv[1]});
  if (!reader.ok()) return 1;
  rill::journal::Record rec;
  std::int64_t sum = 0;
  while ((*reader)->Next(&rec) == rill::journal::ReadStatus::kRecord) {
    std::int64_t amount = 0;
    if (rec.payload.size() != sizeof amount) return 1;
    std::memcpy(&amount, rec.payload.data(), sizeof amount);
    sum += amount;
  }
  std::printf("sum %lld\n", static_cast<long long>(sum));
  return sum == 1000 ? 0 : 1;
}
