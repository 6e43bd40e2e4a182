// The smallest program built against an installed rill: append bank events to a journal,
// read them back decoded and verified, and print the balance. Usage: rill_consumer DIR
#include <cstdio>
#include <cstring>

#include "rill/codecs/bank.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/ring_buffer.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: rill_consumer DIR\n");
    return 2;
  }
  rill::codecs::SchemaRegistryBuilder builder;
  rill::codecs::AddBankEvents(builder);
  auto registry = std::move(builder).Build();
  if (!registry.ok()) return 1;

  rill::journal::WriterOptions options;
  options.directory = argv[1];
  options.segment_size = 1 << 20;
  options.schema_fingerprint = registry->fingerprint();
  options.schema_blob = std::as_bytes(registry->blob());
  auto writer = rill::journal::JournalWriter::Open(options);
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.status().ToString().c_str());
    return 1;
  }

  // Deposits travel through a ring, as commands do in the engine.
  rill::engine::SpscRing<std::int64_t> ring(8);
  for (std::int64_t amount : {100, 250, 650})
    ring.publish_event([&](std::int64_t& slot, std::int64_t) { slot = amount; });
  rill::codecs::Encoder encoder;
  for (std::int64_t seq = 0; seq < 3; ++seq) {
    const auto record = encoder.Encode<rill::bank::Deposited>(
        {.stream_id = 1, .stream_version = static_cast<std::uint64_t>(seq + 1), .timestamp_ns = 1, .command_id = 0},
        [&](flatbuffers::FlatBufferBuilder& fbb) { return rill::bank::CreateDeposited(fbb, ring[seq]); });
    auto space = (*writer)->Reserve(record.size(), 1);
    if (!space.ok()) return 1;
    std::memcpy(space->data(), record.data(), record.size());
  }
  if (!(*writer)->CommitBatch(1).ok()) return 1;

  auto reader = rill::journal::JournalReader::Open({.directory = argv[1]});
  if (!reader.ok()) return 1;
  rill::codecs::Decoder decoder(*registry);
  rill::journal::Record rec;
  std::int64_t balance = 0;
  while ((*reader)->Next(&rec) == rill::journal::ReadStatus::kRecord) {
    const auto r =
        decoder.Decode({reinterpret_cast<const std::uint8_t*>(rec.payload.data()), rec.payload.size()}, rec.position);
    if (!r.ok()) return 1;
    balance += r.event().As<rill::bank::Deposited>()->amount();
  }
  std::printf("balance %lld\n", static_cast<long long>(balance));
  return balance == 1000 ? 0 : 1;
}
