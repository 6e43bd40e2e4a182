// The PostgreSQL baselines for any workload: every accepted command's events are rows, each
// stream's versions run 1..n, the primary key refuses a version twice, and a domain with two
// kinds whose ids overlap (the shop) keeps them apart by the kind column.
#include "rill/bench/e2e/postgres_baseline.h"

#include <libpq-fe.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "rill/bench/e2e/postgres_server.h"
#include "rill/examples/bank/bank_workload.h"
#include "rill/tests/bench/shop_workload.h"
#include "rill/tests/support/temp_dir.h"

using rill::examples::bank::BankWorkload;

namespace {

std::string Query(PGconn* c, const char* sql) {
  PGresult* r = PQexec(c, sql);
  std::string out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "?";
  PQclear(r);
  return out;
}

// Whatever the mode, each stream's versions are 1..n without gaps, and the primary key
// refuses a second event at a version that is taken.
void CheckStreams(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  CHECK(Query(c,
              "SELECT count(*) FROM (SELECT kind, stream_id FROM events GROUP BY kind, stream_id "
              "HAVING max(version) <> count(*) OR min(version) <> 1) AS gaps") == "0");
  PGresult* dup = PQexec(c, "INSERT INTO events SELECT kind, stream_id, version, type, payload FROM events LIMIT 1");
  CHECK(PQresultStatus(dup) == PGRES_FATAL_ERROR);
  CHECK(std::string(PQresultErrorField(dup, PG_DIAG_SQLSTATE)) == "23505");  // unique_violation
  PQclear(dup);
  PQfinish(c);
}

}  // namespace

// A throwaway server on 127.0.0.1 in a temporary directory, stopped by the RAII object (and
// the directory removed) whatever the checks say. Skipped, with a warning, only when the
// PostgreSQL server binaries are not installed (`make deps` installs them).
TEST_CASE("the postgres baseline appends every event once, per transaction and by COPY", "[bench][postgres]") {
  rill::test::TempDir dir("rill-pg");
  REQUIRE(!dir.path().empty());
  auto server = rill::bench::PostgresServer::Start({.directory = dir.path()});
  if (!server.ok() && server.status().IsNotFound()) {
    WARN("skipped: " << server.status().ToString());
    return;
  }
  INFO(server.status().ToString());
  REQUIRE(server.ok());

  rill::bench::PostgresBaselineOptions o;
  o.conninfo = (*server)->conninfo();
  o.aggregates = 20;
  o.seed = 3;
  const BankWorkload w({.aggregates = 20, .seed = 3}, BankWorkload::Mix{.initial_balance = 5000, .max_amount = 2000});

  SECTION("bank, one transaction per command") {
    o.mode = rill::bench::PostgresMode::kPerTxn;
    o.commands = 200;
    auto r = rill::bench::RunPostgresBaseline(w, o);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->commands == 200);
    CHECK(r->accepted + r->rejected == 200);
    CHECK(r->setup_events == 40);
    CHECK(r->events >= r->accepted);  // a transfer appends two
    CHECK(r->rows == r->setup_events + r->events);
    CHECK(r->latency.count() == 200);
    CHECK(r->transactions == r->accepted);
    CHECK(r->state_consistent);
    CHECK(r->check_detail.find("money") != std::string::npos);
    CheckStreams((*server)->conninfo());
  }
  SECTION("bank, batched COPY") {
    o.mode = rill::bench::PostgresMode::kCopy;
    o.commands = 2000;
    o.copy_batch_events = 256;
    auto r = rill::bench::RunPostgresBaseline(w, o);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->commands == 2000);
    CHECK(r->rows == r->setup_events + r->events);
    CHECK(r->latency.count() == 2000);
    CHECK(r->transactions >= r->events / 258);
    CHECK(r->transactions <= r->events / 256 + 1);
    CHECK(r->state_consistent);
    CheckStreams((*server)->conninfo());
  }
  SECTION("two kinds with overlapping ids, per transaction and by COPY") {
    o.commands = 600;
    for (const auto mode : {rill::bench::PostgresMode::kPerTxn, rill::bench::PostgresMode::kCopy}) {
      o.mode = mode;
      auto r = rill::bench::RunPostgresBaseline<rill::testing::shop::ShopWorkload>(o);
      INFO(rill::bench::PostgresModeName(mode) << ": " << r.status().ToString());
      REQUIRE(r.ok());
      CHECK(r->rows == r->setup_events + r->events);
      CHECK(r->accepted > 0);
      CheckStreams((*server)->conninfo());
      // Order 1 and SKU 1 both exist: the kind column tells their streams apart.
      PGconn* c = PQconnectdb((*server)->conninfo().c_str());
      REQUIRE(PQstatus(c) == CONNECTION_OK);
      CHECK(Query(c, "SELECT count(DISTINCT kind) FROM events WHERE stream_id = 1") == "2");
      PQfinish(c);
    }
  }
  CHECK((*server)->Stop().ok());
}

TEST_CASE("the postgres baseline reports an unreachable server as a status", "[bench][postgres]") {
  rill::bench::PostgresBaselineOptions o;
  o.conninfo = "host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2";
  o.commands = 1;
  auto r = rill::bench::RunPostgresBaseline<BankWorkload>(o);
  REQUIRE(!r.ok());
  CHECK(r.status().IsUnavailable());
}

TEST_CASE("a missing throwaway-server script is NotFound, naming where it looked", "[bench][postgres]") {
  rill::test::TempDir dir("rill-pg");
  ::setenv("RILL_PG_THROWAWAY_SCRIPT", "/nonexistent/pg-throwaway.sh", 1);
  auto server = rill::bench::PostgresServer::Start({.directory = dir.path()});
  ::unsetenv("RILL_PG_THROWAWAY_SCRIPT");
  REQUIRE(!server.ok());
  CHECK(server.status().IsNotFound());
  CHECK(server.status().ToString().find("/nonexistent/pg-throwaway.sh") != std::string::npos);
  CHECK(server.status().ToString().find("RILL_PG_THROWAWAY_SCRIPT") != std::string::npos);
}
