// Helpers for the crash test's tests: an engine that records what it acknowledged into a
// Ledger the way a crash test child reports it, and appending hand-made events to its journal.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rill/bench/e2e/bank_workload.h"
#include "rill/codecs/encoder.h"
#include "rill/engine/engine.h"
#include "rill/engine/event_record.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/journal/journal_writer.h"
#include "rill/tests/support/temp_dir.h"
#include "rill/tools/crashtest/ledger.h"
#include "rill/tools/crashtest/wire.h"
#include "rill/tools/crashtest/workload.h"

namespace rill::tools::crashtest::test {

using rill::test::TempDir;
namespace bk = examples::bank;
using BankEngine = engine::Engine<bk::BankDomain>;

inline constexpr std::uint64_t kAccounts = 4;
inline constexpr std::uint32_t kSegmentKib = 64;

inline std::unique_ptr<BankEngine> OpenEngine(const std::string& dir, journal::Durability d) {
  engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = std::size_t{kSegmentKib} * 1024;
  o.journal.durability = d;
  o.journal.sync_interval_ms = 1;
  o.log_to_stderr = false;
  auto e = BankEngine::Open(o);
  if (!e.ok()) std::abort();
  return std::move(e).value();
}

// Executes a command as a child would: reported sent, then acknowledged, into the ledger.
inline engine::CommandOutcome Run(BankEngine& e, Ledger& ledger, std::uint64_t id, const bk::Command& cmd,
                                  engine::AckLevel level = engine::AckLevel::kJournaled) {
  (void)ledger.Absorb(WireRecord::Sent(id, cmd, level, false), 1);
  const engine::CommandOutcome o = e.execute(cmd, {.command_id = id}, level);
  (void)ledger.Absorb(WireRecord::Ack(id, o, level), 1);
  return o;
}

// The setup (accounts opened and funded), then `n` workload commands of round 1.
inline void RunWorkload(BankEngine& e, Ledger& ledger, int n, engine::AckLevel level = engine::AckLevel::kJournaled) {
  for (const bench::BankCommand& c : bench::SetupCommands(CrashWorkload(kAccounts, 1, 0, 0)))
    Run(e, ledger, c.meta.command_id, c.command);
  bench::BankCommandStream s(CrashWorkload(kAccounts, 1, 7, 1), 0);
  for (int i = 0; i < n; ++i) {
    const bench::BankCommand c = s.Next();
    Run(e, ledger, WorkloadCommandId(1, kAccounts, c.meta.command_id), c.command, level);
  }
}

inline const codecs::SchemaRegistry& BankRegistry() {
  static const codecs::SchemaRegistry reg = [] {
    codecs::SchemaRegistryBuilder b;
    bk::BankDomain::RegisterEvents(b);
    return std::move(b).Build().value();
  }();
  return reg;
}

// Appends events to a stopped engine's journal as one batch, bypassing every rule of the
// engine: what a bug would write.
class Tamper {
 public:
  explicit Tamper(const std::string& dir) {
    journal::WriterOptions o;
    o.directory = dir;
    o.segment_size = std::size_t{kSegmentKib} * 1024;
    o.schema_fingerprint = BankRegistry().fingerprint();
    o.schema_blob = std::as_bytes(BankRegistry().blob());
    w_ = std::move(journal::JournalWriter::Open(o)).value();
  }
  template <typename Table, typename Build>
  void Add(std::uint64_t stream, std::uint64_t version, std::uint64_t command_id, Build&& build) {
    const codecs::EnvelopeFields env{stream, version, 1'800'000'000'000'000'000, command_id, 0};
    const auto rec = enc_.Encode<Table>(env, std::forward<Build>(build));
    auto span = w_->Reserve(rec.size(), engine::kEventRecordType);
    if (!span.ok()) std::abort();
    std::memcpy(span->data(), rec.data(), rec.size());
  }
  void Commit() {
    if (!w_->CommitBatch(1'800'000'000'000'000'000).ok()) std::abort();
  }

 private:
  std::unique_ptr<journal::JournalWriter> w_;
  codecs::Encoder enc_;
};

}  // namespace rill::tools::crashtest::test
