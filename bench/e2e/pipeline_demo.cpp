#include "rill/bench/e2e/pipeline_demo.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "rill/codecs/bank.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/batch_consumer.h"
#include "rill/engine/event_record.h"
#include "rill/engine/ring_buffer.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"

namespace rill::bench {
namespace {

// One ring slot: a deposit as a producer hands it to the writer. 64 bytes, one cache line.
struct alignas(64) DepositCommand {
  std::uint64_t command_id;
  std::uint64_t account;
  std::int64_t amount;
  std::uint8_t unused[40];
};
static_assert(sizeof(DepositCommand) == 64);

const char* PolicyName(journal::Durability d) {
  switch (d) {
    case journal::Durability::kNone:
      return "none";
    case journal::Durability::kBatch:
      return "batch";
    case journal::Durability::kInterval:
      return "interval";
  }
  return "?";
}

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Totals {
  std::uint64_t count = 0;
  std::int64_t sum = 0;
};

// The writer thread: the only thread that touches per-account versions and the journal.
Status RunWriter(engine::MpscRing<DepositCommand>& ring, journal::JournalWriter& journal,
                 std::vector<std::uint64_t>& versions) {
  codecs::Encoder encoder;
  Status failure;
  engine::BatchConsumer consumer(ring);
  consumer.run([&](DepositCommand& cmd, std::int64_t, bool end_of_batch) {
    if (!failure.ok()) return;  // keep draining so producers never block on a dead writer
    const codecs::EnvelopeFields env{.stream_id = cmd.account,
                                     .stream_version = ++versions[cmd.account],
                                     .timestamp_ns = NowNs(),
                                     .command_id = cmd.command_id};
    const auto record = encoder.Encode<bank::Deposited>(
        env, [&](flatbuffers::FlatBufferBuilder& fbb) { return bank::CreateDeposited(fbb, cmd.amount); });
    auto space = journal.Reserve(record.size(), engine::kEventRecordType);
    if (!space.ok()) {
      failure = space.status();
      return;
    }
    std::memcpy(space->data(), record.data(), record.size());
    if (end_of_batch) {
      if (auto committed = journal.CommitBatch(env.timestamp_ns); !committed.ok()) failure = committed.status();
    }
  });
  return failure;
}

// The tailer: follows the committed position like a projector, verifying every event.
Status RunTailer(const std::string& dir, const codecs::SchemaRegistry& registry, const std::atomic<bool>& writer_done,
                 std::vector<std::int64_t>& balances, std::vector<std::uint64_t>& versions, Totals& totals,
                 std::string& problem) {
  auto reader = journal::JournalReader::Open({.directory = dir});
  if (!reader.ok()) return reader.status();
  codecs::Decoder decoder(registry);
  std::uint64_t expected_position = 0;
  journal::Record rec;
  for (;;) {
    switch ((*reader)->Next(&rec)) {
      case journal::ReadStatus::kRecord: {
        if (expected_position != 0 && rec.position != expected_position && problem.empty())
          problem =
              "position gap: expected " + std::to_string(expected_position) + ", read " + std::to_string(rec.position);
        expected_position = rec.position + 1;
        const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(rec.payload.data()), rec.payload.size());
        const codecs::DecodeResult r = decoder.Decode(bytes, rec.position);
        if (!r.ok()) return r.error().ToStatus(&registry);
        const auto* deposit = r.event().As<bank::Deposited>();
        const std::uint64_t account = r.event().stream_id();
        if (deposit == nullptr || account >= balances.size()) return Status::Corruption("unexpected event");
        if (r.event().stream_version() != ++versions[account] && problem.empty())
          problem = "account " + std::to_string(account) + " version gap at position " + std::to_string(rec.position);
        balances[account] += deposit->amount();
        ++totals.count;
        totals.sum += deposit->amount();
        break;
      }
      case journal::ReadStatus::kEnd:
        // The writer finished and everything it committed has been read: done.
        if (writer_done.load(std::memory_order_acquire) && (*reader)->next_position() > (*reader)->committed_position())
          return Status::OK();
        (*reader)->WaitForCommit(50'000'000);  // a futex in the control file, not a spin
        break;
      case journal::ReadStatus::kError:
        return (*reader)->error();
    }
  }
}

}  // namespace

Result<PipelineDemoReport> RunPipelineDemo(const PipelineDemoOptions& options, std::FILE* out) {
  codecs::SchemaRegistryBuilder builder;
  codecs::AddBankEvents(builder);
  auto registry = std::move(builder).Build();
  if (!registry.ok()) return registry.status();

  journal::WriterOptions wo;
  wo.directory = options.directory;
  wo.durability = options.durability;
  wo.schema_fingerprint = registry->fingerprint();
  wo.schema_blob = std::as_bytes(registry->blob());
  auto journal = journal::JournalWriter::Open(wo);
  if (!journal.ok()) return journal.status();

  engine::MpscRing<DepositCommand> ring(options.ring_size);
  std::vector<std::uint64_t> writer_versions(options.accounts, 0), tailer_versions(options.accounts, 0);
  std::vector<std::int64_t> balances(options.accounts, 0);
  std::vector<Totals> submitted(static_cast<std::size_t>(options.producers));
  std::atomic<bool> stop{false}, writer_done{false};
  Status writer_status, tailer_status;
  Totals read;
  PipelineDemoReport report;

  std::fprintf(out, "pipeline: %d producers -> ring(%zu) -> writer (encode, journal, policy %s) -> tailer (decode)\n",
               options.producers, options.ring_size, PolicyName(options.durability));
  const auto start = std::chrono::steady_clock::now();
  std::thread writer([&] {
    writer_status = RunWriter(ring, **journal, writer_versions);
    if (writer_status.ok()) writer_status = (*journal)->Sync();
    writer_done.store(true, std::memory_order_release);
  });
  std::thread tailer([&] {
    tailer_status =
        RunTailer(options.directory, *registry, writer_done, balances, tailer_versions, read, report.problem);
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < options.producers; ++p) {
    producers.emplace_back([&, p] {
      std::uint64_t id = static_cast<std::uint64_t>(p) << 48;  // command ids unique per producer
      Totals& mine = submitted[static_cast<std::size_t>(p)];
      while (!stop.load(std::memory_order_relaxed)) {
        const std::int64_t amount = static_cast<std::int64_t>(1 + id % 1000);
        const auto s = ring.publish_event([&](DepositCommand& c, std::int64_t) {
          c = DepositCommand{.command_id = ++id, .account = id % options.accounts, .amount = amount, .unused = {}};
        });
        if (s != engine::ClaimStatus::kOk) break;
        ++mine.count;
        mine.sum += amount;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
  stop.store(true, std::memory_order_relaxed);
  for (auto& t : producers) t.join();
  ring.shutdown();  // the writer drains what was published, then returns
  writer.join();
  tailer.join();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (!writer_status.ok()) return writer_status.WithContext("writer");
  if (!tailer_status.ok()) return tailer_status.WithContext("tailer");
  Totals sent;
  for (const auto& t : submitted) {
    sent.count += t.count;
    sent.sum += t.sum;
  }
  const auto stats = (*journal)->stats();
  report.commands = sent.count;
  report.events_read = read.count;
  report.batches = stats.batches;
  report.syncs = stats.syncs;
  if (report.problem.empty() && (read.count != sent.count || read.sum != sent.sum))
    report.problem = "submitted " + std::to_string(sent.count) + " deposits, read " + std::to_string(read.count);
  report.consistent = report.problem.empty();

  std::fprintf(out, "  %llu commands in %.2f s: %.2f M commands/s journaled and read back\n",
               static_cast<unsigned long long>(report.commands), report.seconds,
               static_cast<double>(report.commands) / report.seconds / 1e6);
  std::fprintf(out, "  %llu batches (%.1f events per batch), %llu syncs (%.1f events per sync)\n",
               static_cast<unsigned long long>(report.batches),
               report.batches ? static_cast<double>(report.commands) / static_cast<double>(report.batches) : 0.0,
               static_cast<unsigned long long>(report.syncs),
               report.syncs ? static_cast<double>(report.commands) / static_cast<double>(report.syncs) : 0.0);
  std::fprintf(out, "  check: %s\n",
               report.consistent ? "every deposit journaled once, positions and versions gap-free, sums equal"
                                 : report.problem.c_str());
  return report;
}

}  // namespace rill::bench
