#include "rill/bench/e2e/postgres_baseline.h"

#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

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

// PostgreSQL's binary COPY format: a signature, then per row a field count and length-prefixed
// big-endian fields, then -1.
class CopyBuffer {
 public:
  void Start() {
    buf_.assign("PGCOPY\n\377\r\n\0", 11);
    PutBE(buf_, 0, 4);  // flags
    PutBE(buf_, 0, 4);  // header extension length
  }
  void Add(const PostgresRow& r) {
    PutBE(buf_, 5, 2);
    PutBE(buf_, 2, 4);
    PutBE(buf_, r.kind, 2);
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
    const std::string sql = "COPY " + table + " (kind, stream_id, version, type, payload) FROM STDIN (FORMAT binary)";
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

// One INSERT of a command's rows, a statement per row count prepared on first use, parameters
// in binary.
class Inserter {
 public:
  explicit Inserter(std::string table) : table_(std::move(table)) {}
  // One statement in autocommit mode: its own transaction, committed before it returns.
  Status Insert(PGconn* c, std::span<const PostgresRow> rows) {
    const std::size_t n = rows.size();
    if (n >= prepared_.size()) prepared_.resize(n + 1, false);
    if (!prepared_[n]) {
      if (Status s = Prepare(c, n); !s.ok()) return s;
      prepared_[n] = true;
    }
    ints_.resize(n * kIntBytes);
    values_.resize(n * kColumns);
    lengths_.resize(n * kColumns);
    formats_.assign(n * kColumns, 1);
    for (std::size_t i = 0; i < n; ++i) {
      const PostgresRow& r = rows[i];
      char* p = ints_.data() + i * kIntBytes;
      for (int k = 0; k < 2; ++k) p[k] = static_cast<char>(r.kind >> (8 - 8 * k));
      for (int k = 0; k < 8; ++k) p[2 + k] = static_cast<char>(r.stream_id >> (56 - 8 * k));
      for (int k = 0; k < 8; ++k) p[10 + k] = static_cast<char>(r.version >> (56 - 8 * k));
      for (int k = 0; k < 4; ++k) p[18 + k] = static_cast<char>(r.type >> (24 - 8 * k));
      const std::size_t b = i * kColumns;
      values_[b] = p;
      values_[b + 1] = p + 2;
      values_[b + 2] = p + 10;
      values_[b + 3] = p + 18;
      values_[b + 4] = r.payload.data();
      lengths_[b] = 2;
      lengths_[b + 1] = lengths_[b + 2] = 8;
      lengths_[b + 3] = 4;
      lengths_[b + 4] = static_cast<int>(r.payload.size());
    }
    Res r(PQexecPrepared(c, Name(n).c_str(), static_cast<int>(n * kColumns), values_.data(), lengths_.data(),
                         formats_.data(), 0));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return PgError("INSERT", c);
    return Status::OK();
  }

 private:
  static constexpr std::size_t kColumns = 5;
  static constexpr std::size_t kIntBytes = 2 + 8 + 8 + 4;  // kind, stream_id, version, type
  static std::string Name(std::size_t n) { return "rill_ins" + std::to_string(n); }

  Status Prepare(PGconn* c, std::size_t n) {
    std::string sql = "INSERT INTO " + table_ + " (kind, stream_id, version, type, payload) VALUES ";
    std::vector<Oid> types;
    for (std::size_t i = 0; i < n; ++i) {
      sql += i ? ", (" : "(";
      for (std::size_t k = 0; k < kColumns; ++k) sql += (k ? ", $" : "$") + std::to_string(i * kColumns + k + 1);
      sql += ")";
      types.insert(types.end(), {21, 20, 20, 23, 17});  // int2, int8, int8, int4, bytea
    }
    Res r(PQprepare(c, Name(n).c_str(), sql.c_str(), static_cast<int>(types.size()), types.data()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return PgError("PREPARE", c);
    return Status::OK();
  }

  std::string table_;
  std::vector<bool> prepared_;
  std::vector<char> ints_;
  std::vector<const char*> values_;
  std::vector<int> lengths_, formats_;
};

}  // namespace

const char* PostgresModeName(PostgresMode mode) noexcept { return mode == PostgresMode::kPerTxn ? "per_txn" : "copy"; }

Result<PostgresBaselineReport> RunPostgresBaselineWith(const PostgresBaselineOptions& options,
                                                       PostgresEventSource& source) {
  Conn conn(PQconnectdb(options.conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) return PgError(("connect to " + options.conninfo).c_str(), conn.get());
  PGconn* c = conn.get();
  const std::string& table = options.table;
  for (const std::string& sql :
       {std::string("SET synchronous_commit = on"), std::string("SET client_min_messages = warning"),
        "DROP TABLE IF EXISTS " + table,
        "CREATE TABLE " + table +
            " (kind smallint NOT NULL, stream_id bigint NOT NULL, version bigint NOT NULL, type integer NOT NULL,"
            " payload bytea NOT NULL, PRIMARY KEY (kind, stream_id, version))"}) {
    if (Status s = Exec(c, sql); !s.ok()) return s;
  }

  PostgresBaselineReport report;
  std::vector<PostgresRow> rows;
  {
    CopyBuffer setup;
    setup.Start();
    source.Setup(rows);
    for (const PostgresRow& r : rows) setup.Add(r);
    report.setup_events = rows.size();
    if (Status s = setup.Send(c, table); !s.ok()) return s;
    rows.clear();
  }

  Inserter inserter(table);
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
    const std::int64_t t0 = NowNs();
    rows.clear();
    const bool accepted = source.Next(rows);
    ++report.commands;
    ++(accepted ? report.accepted : report.rejected);
    report.events += rows.size();
    if (options.mode == PostgresMode::kPerTxn) {
      if (!rows.empty()) {
        if (Status s = inserter.Insert(c, rows); !s.ok()) return s;
        ++report.transactions;
      }
      report.latency.Record(static_cast<std::uint64_t>(NowNs() - t0));
    } else {
      // A rejected command waits for its batch too: its answer depends on everything before it.
      for (const PostgresRow& r : rows) copy.Add(r);
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
  const StateCheck check = source.Check();
  report.state_consistent = check.ok;
  report.check_detail = check.detail;
  return report;
}

}  // namespace rill::bench
