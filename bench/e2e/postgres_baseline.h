// rill/bench/e2e/postgres_baseline.h: `rill bench --baselines`' PostgreSQL baselines: a
// workload's events (any domain, tools/workload.h) appended to a real PostgreSQL server used as
// an event store, at synchronous commit, the way a team without rill would journal them.
//
//   auto server = PostgresServer::Start({.directory = tmp});          // postgres_server.h
//   PostgresBaselineOptions o{.conninfo = (*server)->conninfo(), .mode = PostgresMode::kPerTxn,
//                             .seconds = 2};
//   Result<PostgresBaselineReport> r = RunPostgresBaseline<InventoryWorkload>(o);
//   if (r.ok()) std::printf("%.0f events/s\n", r->events_per_s);
//
// Table (created afresh, dropped first if present):
//   events(kind smallint, stream_id bigint, version bigint, type int, payload bytea,
//          PRIMARY KEY (kind, stream_id, version))  -- a stream's versions are unique, as in rill
// payload is the record rill would journal: codecs envelope + FlatBuffers body (the domain's
// Encode); type is the envelope's event type id; kind numbers the aggregate kind the event
// belongs to (the schema's rill_aggregate, in name order; 0 in a domain with one kind), since
// two kinds may use the same ids.
// Each command is decided on one client thread by an engine::CommandProcessor<D> (the domain
// code rill's writer runs), whose sink turns the encoded records into rows; then its rows go in:
// - kPerTxn: one INSERT statement (of the command's rows) per command, in its own
//   transaction: a commit, so an fsync of the WAL, per command. Latency: decide to commit.
// - kCopy: events are gathered into binary COPY batches of about copy_batch_events rows, one
//   transaction each (group commit by hand). Latency: a command's decide to its batch's commit.
// Setup commands are loaded with one COPY before the clock starts. The workload's checks
// (state_check.h) run on the processor's final state.
// The PostgreSQL side (connection, table, COPY, INSERT, timing) is non-template
// (postgres_baseline.cpp, RunPostgresBaselineWith); the domain's side is a PostgresEventSource.
// Thread safety: one call runs on the calling thread with its own connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "rill/base/result.h"
#include "rill/bench/e2e/latency_histogram.h"
#include "rill/bench/e2e/state_check.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/domain_kinds.h"
#include "rill/engine/engine.h"
#include "rill/tools/workload.h"

namespace rill::bench {

enum class PostgresMode { kPerTxn, kCopy };
const char* PostgresModeName(PostgresMode mode) noexcept;  // "per_txn", "copy"

struct PostgresBaselineOptions {
  std::string conninfo{};  // libpq connection string, e.g. PostgresServer::conninfo()
  PostgresMode mode = PostgresMode::kPerTxn;
  // The workload's options: one client sends producer 0's commands (`producers` still sets the
  // command ids and whatever the workload spreads per producer, as in the driver's run).
  std::uint64_t aggregates = 10'000;
  int producers = 1;
  std::uint64_t seed = 1;
  double seconds = 1.0;
  std::uint64_t commands = 0;  // > 0: a fixed count instead of a duration
  std::size_t copy_batch_events = 1000;
  std::string table = "events";
};

struct PostgresBaselineReport {
  std::uint64_t commands = 0, accepted = 0, rejected = 0;
  std::uint64_t events = 0;  // rows appended in the timed part
  std::uint64_t setup_events = 0;
  std::uint64_t rows = 0;  // SELECT count(*) afterwards: setup_events + events
  std::uint64_t transactions = 0;
  double seconds = 0;
  double commands_per_s = 0;
  double events_per_s = 0;
  LatencyHistogram latency;  // per command, ns
  bool state_consistent = true;
  std::string check_detail;  // the workload's checks on the final state
};

// One event as the table stores it.
struct PostgresRow {
  std::uint16_t kind = 0;
  std::uint64_t stream_id = 0, version = 0;
  std::uint32_t type = 0;
  std::string payload;  // the record rill would journal
};

// The domain's side of the baseline: decides commands and turns accepted ones into rows.
class PostgresEventSource {
 public:
  virtual ~PostgresEventSource() = default;
  // Decides every setup command in order, appending the rows of the accepted ones.
  virtual void Setup(std::vector<PostgresRow>& rows) = 0;
  // Decides the next command; appends its rows and returns true when it was accepted.
  virtual bool Next(std::vector<PostgresRow>& rows) = 0;
  // The workload's checks on the state after the last command.
  virtual StateCheck Check() const = 0;
};

// Unavailable (with libpq's message) when the server cannot be reached or refuses a statement.
Result<PostgresBaselineReport> RunPostgresBaselineWith(const PostgresBaselineOptions& options,
                                                       PostgresEventSource& source);

// W's commands (Setup, then producer 0) through a CommandProcessor of W's domain.
template <tools::Workload W>
class WorkloadEventSource final : public PostgresEventSource {
  using Domain = typename W::Domain;

 public:
  // REQUIRES: `workload` outlives the source.
  WorkloadEventSource(const W& workload, const PostgresBaselineOptions& o)
      : workload_(workload),
        processor_({.expected_aggregates = static_cast<std::size_t>(o.aggregates) + 1024}),
        producer_(workload.MakeProducer(0)),
        producers_(o.producers < 1 ? 1 : o.producers) {
    if constexpr (engine::kKindCount < Domain >> 1 && engine::HasRegisterEvents<Domain>) {
      // Number the kinds by their aggregate names, as the registry knows them from the schema.
      codecs::SchemaRegistryBuilder builder;
      Domain::RegisterEvents(builder);
      if (auto registry = std::move(builder).Build(); registry.ok()) {
        std::map<std::string, std::uint16_t> kinds;
        for (const codecs::EventTypeInfo& t : registry->types()) kinds.emplace(t.aggregate, 0);
        std::uint16_t next = 0;
        for (auto& [name, number] : kinds) number = next++;
        for (const codecs::EventTypeInfo& t : registry->types()) kind_of_type_[t.type_id] = kinds[t.aggregate];
      }
    }
  }

  void Setup(std::vector<PostgresRow>& rows) override {
    const std::vector<typename Domain::Command> setup = workload_.Setup();
    ids_ = tools::CommandIds{.setup = setup.size(), .producers = producers_};
    for (std::size_t i = 0; i < setup.size(); ++i) Decide(ids_.Setup(i), setup[i], rows);
  }
  bool Next(std::vector<PostgresRow>& rows) override {
    const typename Domain::Command command = producer_.Next();
    return Decide(ids_.Produced(0, drawn_++), command, rows);
  }
  StateCheck Check() const override {
    StateCheck check = CheckWorkloadState(workload_, tools::StateView<Domain>(processor_), tally_);
    if (!check.ran) check.detail = "no state check: the workload has no Tally/Total or CheckInvariants";
    return check;
  }

 private:
  bool Decide(std::uint64_t id, const typename Domain::Command& command, std::vector<PostgresRow>& rows) {
    auto sink = [&](std::span<const std::uint8_t> record) -> std::optional<std::uint64_t> {
      PostgresRow row;
      // Envelope (codecs/envelope.h): u64 stream id at 0, u64 version at 8, u32 type at 32.
      std::memcpy(&row.stream_id, record.data(), sizeof row.stream_id);
      std::memcpy(&row.version, record.data() + 8, sizeof row.version);
      std::memcpy(&row.type, record.data() + 32, sizeof row.type);
      if (const auto it = kind_of_type_.find(row.type); it != kind_of_type_.end()) row.kind = it->second;
      row.payload.assign(reinterpret_cast<const char*>(record.data()), record.size());
      rows.push_back(std::move(row));
      return ++position_;
    };
    const bool accepted = processor_.Process({.command_id = id}, command, NowNs(), sink).accepted();
    if constexpr (tools::kHasTally<W>) {
      if (accepted) tally_ += workload_.Tally(command);
    }
    return accepted;
  }
  static std::int64_t NowNs() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  const W& workload_;
  engine::CommandProcessor<Domain> processor_;
  typename W::Producer producer_;
  int producers_;
  tools::CommandIds ids_;
  std::uint64_t drawn_ = 0, position_ = 0;
  std::int64_t tally_ = 0;
  std::unordered_map<std::uint32_t, std::uint16_t> kind_of_type_;  // empty: every event is kind 0
};

template <tools::Workload W>
Result<PostgresBaselineReport> RunPostgresBaseline(const W& workload, const PostgresBaselineOptions& options) {
  WorkloadEventSource<W> source(workload, options);
  return RunPostgresBaselineWith(options, source);
}

// The workload built from the options (aggregates, producers, seed).
template <tools::Workload W>
Result<PostgresBaselineReport> RunPostgresBaseline(const PostgresBaselineOptions& options) {
  const W workload(
      tools::WorkloadOptions{.aggregates = options.aggregates, .producers = options.producers, .seed = options.seed});
  return RunPostgresBaseline(workload, options);
}

}  // namespace rill::bench
