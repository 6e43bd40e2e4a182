// Helpers for the crash test's tests: an engine that records what it acknowledged into a Ledger
// the way a crash test child reports it (ids and outcomes; the commands are the workload's,
// regenerated from the ids), and appending hand-made events to its journal.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "rill/codecs/encoder.h"
#include "rill/engine/engine.h"
#include "rill/engine/event_record.h"
#include "rill/examples/bank/bank_workload.h"
#include "rill/journal/journal_writer.h"
#include "rill/tests/support/temp_dir.h"
#include "rill/tools/crashtest/crash_workload.h"
#include "rill/tools/crashtest/ledger.h"
#include "rill/tools/crashtest/verify_journal.h"
#include "rill/tools/crashtest/wire.h"

namespace rill::tools::crashtest::test {

using rill::test::TempDir;
namespace bk = examples::bank;
using examples::bank::BankWorkload;
using BankEngine = engine::Engine<bk::BankDomain>;

inline constexpr std::uint64_t kAccounts = 4;
inline constexpr std::uint32_t kSegmentKib = 64;
inline constexpr std::uint64_t kSeed = 7;

template <typename D>
std::unique_ptr<engine::Engine<D>> OpenEngineOf(const std::string& dir, journal::Durability d) {
  engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = std::size_t{kSegmentKib} * 1024;
  o.journal.durability = d;
  o.journal.sync_interval_ms = 1;
  o.log_to_stderr = false;
  auto e = engine::Engine<D>::Open(o);
  if (!e.ok()) std::abort();
  return std::move(e).value();
}
inline std::unique_ptr<BankEngine> OpenEngine(const std::string& dir, journal::Durability d) {
  return OpenEngineOf<bk::BankDomain>(dir, d);
}

// How the tests verify the journal in `dir` (no power loss, no checkpoints).
inline VerifyOptions Options(const std::string& dir) {
  VerifyOptions o;
  o.journal = dir;
  o.segment_kib = kSegmentKib;
  o.aggregates = kAccounts;
  return o;
}

// What a crash test run of workload W with one producer knows: its commands and its ledger.
template <typename W>
struct Books {
  explicit Books(std::uint64_t aggregates = kAccounts, std::uint64_t seed = kSeed)
      : source(CrashWorkloadOptions(aggregates, 1, seed)), ledger(source.ids()) {}
  VerifyReport Verify(const std::string& dir, journal::Durability d = journal::Durability::kNone,
                      std::optional<std::uint64_t> synced = std::nullopt) {
    VerifyOptions o = Options(dir);
    o.durability = d;
    o.synced_position = synced;
    return VerifyJournal<W>(o, ledger, source);
  }
  CommandSource<W> source;
  Ledger ledger;
};

// Executes the command of `id` as a child would: reported sent, then acknowledged.
template <typename W, typename E>
engine::CommandOutcome Run(E& e, Books<W>& books, std::uint64_t id,
                           engine::AckLevel level = engine::AckLevel::kJournaled) {
  (void)books.ledger.Absorb(WireRecord::Sent(id, level, false), 1);
  const engine::CommandOutcome o = e.execute(*books.source.Find(id), {.command_id = id}, level);
  (void)books.ledger.Absorb(WireRecord::Ack(id, o, level), 1);
  return o;
}

// The setup, then producer 0's first `n` commands.
template <typename W, typename E>
void RunWorkload(E& e, Books<W>& books, std::uint64_t n, engine::AckLevel level = engine::AckLevel::kJournaled) {
  const CommandIds& ids = books.source.ids();
  for (std::uint64_t i = 0; i < ids.setup; ++i) Run(e, books, ids.Setup(i));
  for (std::uint64_t k = 0; k < n; ++k) Run(e, books, ids.Produced(0, k), level);
}

// The id of producer 0's first command (from its k-th on) that holds alternative C.
template <typename C, typename W>
std::uint64_t FirstProduced(Books<W>& books, std::uint64_t from_k = 0) {
  for (std::uint64_t k = from_k;; ++k) {
    const std::uint64_t id = books.source.ids().Produced(0, k);
    if (std::holds_alternative<C>(*books.source.Find(id))) return id;
  }
}

// Appends events to a stopped engine's journal as one batch, bypassing every rule of the
// engine: what a bug would write.
template <typename D>
class Tamper {
 public:
  // The domain's schema fingerprint (what its journals and checkpoints record).
  static std::uint64_t Fingerprint() { return Registry()->fingerprint(); }

  explicit Tamper(const std::string& dir) : registry_(Registry()) {
    journal::WriterOptions o;
    o.directory = dir;
    o.segment_size = std::size_t{kSegmentKib} * 1024;
    o.schema_fingerprint = registry_->fingerprint();
    o.schema_blob = std::as_bytes(registry_->blob());
    w_ = std::move(journal::JournalWriter::Open(o)).value();
  }
  // `fingerprint` 0: the command fingerprint of a child's submission of `command` under `id`.
  void Add(const typename D::Event& event, std::uint64_t stream, std::uint64_t version, std::uint64_t command_id,
           const typename D::Command& command) {
    const std::uint64_t fingerprint = engine::CommandProcessor<D>::FingerprintOf({.command_id = command_id}, command);
    const codecs::EnvelopeFields env{stream, version, 1'800'000'000'000'000'000, command_id, fingerprint};
    const auto rec = D::Encode(enc_, env, event);
    auto span = w_->Reserve(rec.size(), engine::kEventRecordType);
    if (!span.ok()) std::abort();
    std::memcpy(span->data(), rec.data(), rec.size());
  }
  // A writer's digest record (engine/event_record.h) claiming `digest` for the state so far.
  void AddDigest(std::uint64_t digest, std::uint64_t covers_position) {
    const engine::DigestRecord rec{digest, covers_position};
    auto span = w_->Reserve(sizeof rec, engine::kDigestRecordType);
    if (!span.ok()) std::abort();
    std::memcpy(span->data(), &rec, sizeof rec);
  }
  void Commit() {
    if (!w_->CommitBatch(1'800'000'000'000'000'000).ok()) std::abort();
  }

 private:
  static std::shared_ptr<const codecs::SchemaRegistry> Registry() {
    codecs::SchemaRegistryBuilder b;
    D::RegisterEvents(b);
    return std::make_shared<const codecs::SchemaRegistry>(std::move(b).Build().value());
  }

  std::shared_ptr<const codecs::SchemaRegistry> registry_;
  std::unique_ptr<journal::JournalWriter> w_;
  codecs::Encoder enc_;
};

}  // namespace rill::tools::crashtest::test
