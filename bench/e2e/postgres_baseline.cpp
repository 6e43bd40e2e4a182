#include "rill/bench/e2e/postgres_baseline.h"

#include <libpq-fe.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "rill/bench/e2e/bank_ledger.h"
#include "rill/codecs/encoder.h"

namespace rill::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, PgConnDeleter>;
using Res = std::unique_ptr<PGresult, PgResultDeleter>;

Status PgError(const char* what, PGconn* c) {
  return Status::Unavailable(std::string("postgres baseline: ") + what + ": " + PQerrorMessage(c));
}

Status Exec(PGconn* c, const std::string& sql, ExecStatusType want = PGRES_COMMAND_OK) {
  Res r(PQexec(c, sql.c_str()));
  if (PQresultStatus(r.get()) != want) return PgError(sql.c_str(), c);
  return Status::OK();
}

void PutBE(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// One event as the table stores it: the record rill would journal, and its type id.
struct Row {
  std::uint64_t stream_id = 0, version = 0;
  std::uint32_t type = 0;
  std::string payload;
};

// Decides a command with the bank domain and encodes its events, as rill's writer does.
class EventSource {
 public:
  explicit EventSource(std::uint64_t accounts) : ledger_(accounts) {}
  // Appends the accepted command's rows to `rows`; false when the command was rejected.
  bool Apply(const BankCommand& c, std::vector<Row>& rows) {
    const std::int64_t now = NowNs();
    const BankLedger::Applied applied = ledger_.Apply(c.command, now, c.meta.command_id);
    if (!applied.decision.accepted()) return false;
    const auto events = applied.decision.events();
    for (std::size_t e = 0; e < events.size(); ++e) {
      const auto record = BankLedger::Domain::Encode(
          encoder_, codecs::EnvelopeFields{events[e].stream_id, applied.versions[e], now, c.meta.command_id},
          events[e].event);
      Row row{events[e].stream_id, applied.versions[e], 0, {}};
      std::memcpy(&row.type, record.data() + 32, sizeof row.type);  // envelope: u32 type at 32 (envelope.h)
      row.payload.assign(reinterpret_cast<const char*>(record.data()), record.size());
      rows.push_back(std::move(row));
    }
    return true;
  }

 private:
  BankLedger ledger_;
  codecs::Encoder encoder_;
};

// PostgreSQL's binary COPY format: a signature, then per row a field count and length-prefixed
// big-endian fields, then -1.
class CopyBuffer {
 public:
  void Start() {
    buf_.assign("PGCOPY\n\377\r\n\0", 11);
    PutBE(buf_, 0, 4);  // flags
    PutBE(buf_, 0, 4);  // header extension length
  }
  void Add(const Row& r) {
    PutBE(buf_, 4, 2);
    PutBE(buf_, 8, 4);
    PutBE(buf_, r.stream_id, 8);
    PutBE(buf_, 8, 4);
    PutBE(buf_, r.version, 8);
    PutBE(buf_, 4, 4);
    PutBE(buf_, r.type, 4);
    PutBE(buf_, r.payload.size(), 4);
    buf_ += r.payload;
  }
  Status Send(PGconn* c, const std::string& table) {
    PutBE(buf_, 0xffff, 2);
    const std::string sql = "COPY " + table + " (stream_id, version, type, payload) FROM STDIN (FORMAT binary)";
    {
      Res r(PQexec(c, sql.c_str()));
      if (PQresultStatus(r.get()) != PGRES_COPY_IN) return PgError("COPY", c);
    }
    if (PQputCopyData(c, buf_.data(), static_cast<int>(buf_.size())) != 1 || PQputCopyEnd(c, nullptr) != 1) {
      return PgError("COPY data", c);
    }
    Status s;
    while (PGresult* raw = PQgetResult(c)) {
      Res r(raw);
      if (PQresultStatus(raw) != PGRES_COMMAND_OK && s.ok()) s = PgError("COPY commit", c);
    }
    return s;
  }

 private:
  std::string buf_;
};

// One INSERT of one or two rows, prepared once, parameters in binary.
class Inserter {
 public:
  Status Prepare(PGconn* c, const std::string& table) {
    for (int n = 1; n <= 2; ++n) {
      std::string sql = "INSERT INTO " + table + " (stream_id, version, type, payload) VALUES ";
      for (int i = 0; i < n; ++i) {
        const int b = 4 * i;
        sql += (i ? ", ($" : "($") + std::to_string(b + 1) + ", $" + std::to_string(b + 2) + ", $" +
               std::to_string(b + 3) + ", $" + std::to_string(b + 4) + ")";
      }
      static constexpr Oid kTypes[] = {20, 20, 23, 17, 20, 20, 23, 17};  // int8, int8, int4, bytea
      Res r(PQprepare(c, Name(n), sql.c_str(), 4 * n, kTypes));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return PgError("PREPARE", c);
    }
    return Status::OK();
  }
  // One statement in autocommit mode: its own transaction, committed before it returns.
  Status Insert(PGconn* c, const Row* rows, int n) {
    char ints[2][20];
    const char* values[8];
    int lengths[8];
    int formats[8];
    for (int i = 0; i < n; ++i) {
      char* p = ints[i];
      for (int k = 0; k < 8; ++k) p[k] = static_cast<char>(rows[i].stream_id >> (56 - 8 * k));
      for (int k = 0; k < 8; ++k) p[8 + k] = static_cast<char>(rows[i].version >> (56 - 8 * k));
      for (int k = 0; k < 4; ++k) p[16 + k] = static_cast<char>(rows[i].type >> (24 - 8 * k));
      values[4 * i] = p;
      values[4 * i + 1] = p + 8;
      values[4 * i + 2] = p + 16;
      values[4 * i + 3] = rows[i].payload.data();
      lengths[4 * i] = lengths[4 * i + 1] = 8;
      lengths[4 * i + 2] = 4;
      lengths[4 * i + 3] = static_cast<int>(rows[i].payload.size());
      for (int k = 0; k < 4; ++k) formats[4 * i + k] = 1;
    }
    Res r(PQexecPrepared(c, Name(n), 4 * n, values, lengths, formats, 0));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return PgError("INSERT", c);
    return Status::OK();
  }

 private:
  static const char* Name(int n) { return n == 1 ? "rill_ins1" : "rill_ins2"; }
};

}  // namespace

const char* PostgresModeName(PostgresMode mode) noexcept { return mode == PostgresMode::kPerTxn ? "per_txn" : "copy"; }

Result<PostgresBaselineReport> RunPostgresBaseline(const PostgresBaselineOptions& options) {
  Conn conn(PQconnectdb(options.conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) return PgError(("connect to " + options.conninfo).c_str(), conn.get());
  PGconn* c = conn.get();
  const std::string& table = options.table;
  for (const std::string& sql :
       {std::string("SET synchronous_commit = on"), std::string("SET client_min_messages = warning"),
        "DROP TABLE IF EXISTS " + table,
        "CREATE TABLE " + table +
            " (stream_id bigint NOT NULL, version bigint NOT NULL, type integer NOT NULL, payload bytea NOT NULL,"
            " PRIMARY KEY (stream_id, version))"}) {
    if (Status s = Exec(c, sql); !s.ok()) return s;
  }

  PostgresBaselineReport report;
  EventSource source(options.workload.accounts);
  std::vector<Row> rows;
  {
    CopyBuffer setup;
    setup.Start();
    for (const BankCommand& cmd : SetupCommands(options.workload)) source.Apply(cmd, rows);
    for (const Row& r : rows) setup.Add(r);
    report.setup_events = rows.size();
    if (Status s = setup.Send(c, table); !s.ok()) return s;
    rows.clear();
  }

  Inserter inserter;
  if (options.mode == PostgresMode::kPerTxn) {
    if (Status s = inserter.Prepare(c, table); !s.ok()) return s;
  }
  BankCommandStream stream(options.workload, 0);
  CopyBuffer copy;
  copy.Start();
  std::vector<std::int64_t> batch_starts;  // the commands waiting for the open COPY batch
  std::size_t batch_events = 0;
  const auto flush = [&]() -> Status {
    if (batch_starts.empty()) return Status::OK();
    if (Status s = copy.Send(c, table); !s.ok()) return s;
    ++report.transactions;
    const std::int64_t now = NowNs();
    for (std::int64_t t : batch_starts) report.latency.Record(static_cast<std::uint64_t>(now - t));
    batch_starts.clear();
    batch_events = 0;
    copy.Start();
    return Status::OK();
  };

  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
  while (options.commands > 0 ? report.commands < options.commands : Clock::now() < deadline) {
    const BankCommand cmd = stream.Next();
    const std::int64_t t0 = NowNs();
    rows.clear();
    const bool accepted = source.Apply(cmd, rows);
    ++report.commands;
    ++(accepted ? report.accepted : report.rejected);
    report.events += rows.size();
    if (options.mode == PostgresMode::kPerTxn) {
      if (!rows.empty()) {
        if (Status s = inserter.Insert(c, rows.data(), static_cast<int>(rows.size())); !s.ok()) return s;
        ++report.transactions;
      }
      report.latency.Record(static_cast<std::uint64_t>(NowNs() - t0));
    } else {
      // A rejected command waits for its batch too: its answer depends on everything before it.
      for (const Row& r : rows) copy.Add(r);
      batch_events += rows.size();
      batch_starts.push_back(t0);
      if (batch_events >= options.copy_batch_events) {
        if (Status s = flush(); !s.ok()) return s;
      }
    }
  }
  if (Status s = flush(); !s.ok()) return s;
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (report.seconds > 0) {
    report.commands_per_s = static_cast<double>(report.commands) / report.seconds;
    report.events_per_s = static_cast<double>(report.events) / report.seconds;
  }

  Res count(PQexec(c, ("SELECT count(*) FROM " + table).c_str()));
  if (PQresultStatus(count.get()) != PGRES_TUPLES_OK) return PgError("SELECT count(*)", c);
  report.rows = std::strtoull(PQgetvalue(count.get(), 0, 0), nullptr, 10);
  return report;
}

}  // namespace rill::bench
