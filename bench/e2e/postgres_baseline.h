// rill/bench/e2e/postgres_baseline.h: `rill bench --baselines`' PostgreSQL baselines: the bank
// workload's events appended to a real PostgreSQL server used as an event store, at
// synchronous commit, the way a team without rill would journal them.
//
//   auto server = PostgresServer::Start({.directory = tmp});          // postgres_server.h
//   PostgresBaselineOptions o{.conninfo = (*server)->conninfo(), .mode = PostgresMode::kPerTxn,
//                             .seconds = 2};
//   Result<PostgresBaselineReport> r = RunPostgresBaseline(o);       // Status: could not run
//   if (r.ok()) std::printf("%.0f events/s\n", r->events_per_s);
//
// Table (created afresh, dropped first if present):
//   events(stream_id bigint, version bigint, type int, payload bytea,
//          PRIMARY KEY (stream_id, version))     -- a stream's versions are unique, as in rill
// payload is the record rill would journal: codecs envelope + FlatBuffers body
// (examples/bank's Encode); type is the envelope's event type id.
// Each command is decided by the same bank domain code (BankLedger) on one client thread,
// then its events are appended:
// - kPerTxn: one INSERT statement (of the command's one or two rows) per command, in its own
//   transaction: a commit, so an fsync of the WAL, per command. Latency: decide to commit.
// - kCopy: events are gathered into binary COPY batches of about copy_batch_events rows, one
//   transaction each (group commit by hand). Latency: a command's decide to its batch's commit.
// Setup commands (opens, initial deposits) are loaded with one COPY before the clock starts.
// Thread safety: one call runs on the calling thread with its own connection.
#pragma once

#include <cstdint>
#include <string>

#include "rill/base/result.h"
#include "rill/bench/e2e/bank_workload.h"
#include "rill/bench/e2e/latency_histogram.h"

namespace rill::bench {

enum class PostgresMode { kPerTxn, kCopy };
const char* PostgresModeName(PostgresMode mode) noexcept;  // "per_txn", "copy"

struct PostgresBaselineOptions {
  std::string conninfo{};  // libpq connection string, e.g. PostgresServer::conninfo()
  PostgresMode mode = PostgresMode::kPerTxn;
  BankWorkloadOptions workload;  // one client: producer 0's stream
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
};

// Unavailable (with libpq's message) when the server cannot be reached or refuses a statement.
Result<PostgresBaselineReport> RunPostgresBaseline(const PostgresBaselineOptions& options);

}  // namespace rill::bench
