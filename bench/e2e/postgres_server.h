// rill/bench/e2e/postgres_server.h: a throwaway PostgreSQL for the postgres baseline, started
// by scripts/pg-throwaway.sh in a directory of its own, bound to 127.0.0.1, and stopped when
// this object goes away. The script is found at run time (script_path.h): $RILL_PG_THROWAWAY_SCRIPT,
// else the source tree's, else <executable's dir>/../share/rill/pg-throwaway.sh.
//
//   auto server = rill::bench::PostgresServer::Start({.directory = tmp});   // port: a free one
//   if (!server.ok()) {                       // NotFound: no server binaries; else why it failed
//     std::fprintf(stderr, "postgres baseline skipped: %s\n", server.status().ToString().c_str());
//   } else {
//     RunPostgresBaseline({.conninfo = (*server)->conninfo(), ...});
//   }
//
// Thread safety: one owner; Stop (or the destructor) runs the script's stop once.
#pragma once

#include <memory>
#include <string>

#include "rill/base/result.h"

namespace rill::bench {

struct PostgresServerOptions {
  // Holds the cluster (DIR/data) and its logs; as root its owner becomes the `postgres` user,
  // so use a directory directly under /tmp. Created when missing; never removed by this class.
  std::string directory{};
  int port = 0;          // 0: a free loopback port, chosen here
  std::string script{};  // empty: DefaultScript()
};

class PostgresServer {
 public:
  // NotFound when the PostgreSQL server binaries or the script are not installed; Unavailable
  // (with the script's output) when the server could not be started for another reason.
  static Result<std::unique_ptr<PostgresServer>> Start(const PostgresServerOptions& options);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // libpq connection string for the superuser on the loopback port.
  std::string conninfo() const;
  int port() const { return port_; }
  long pid() const { return pid_; }
  // Fast shutdown; idempotent. An error says the server may still be running (and its pid).
  Status Stop();

  // pg-throwaway.sh, found as script_path.h says.
  static std::string DefaultScript();

 private:
  PostgresServer(std::string script, std::string directory, int port, long pid)
      : script_(std::move(script)), directory_(std::move(directory)), port_(port), pid_(pid) {}

  std::string script_;
  std::string directory_;
  int port_;
  long pid_;
  bool stopped_ = false;
};

}  // namespace rill::bench
