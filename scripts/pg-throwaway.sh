#!/usr/bin/env bash
# A throwaway PostgreSQL for the benchmark baselines and their test: a fresh cluster in a
# directory, trust authentication on 127.0.0.1 only, stopped and forgotten afterwards.
#
#   scripts/pg-throwaway.sh start DIR PORT   # initdb DIR/data, start, print the server's pid
#   scripts/pg-throwaway.sh stop DIR         # fast shutdown (pg_ctl), else the pid from DIR
#
# Connect with: host=127.0.0.1 port=PORT user=postgres dbname=postgres.
# Durability as a real event store would need it: fsync=on, synchronous_commit=on.
# As root: Debian's server binaries refuse to run as root, so they run as the `postgres`
# user (created by Debian's postgresql package), and DIR is handed to that user; DIR's parent
# must be searchable by it (e.g. a directory made by mktemp -d under /tmp, used as DIR itself).
# Exit codes: 0 ok, 1 usage, 2 server binaries missing, 3 cannot run as an unprivileged user,
# 4 initdb or start failed (the log is printed), 5 stop failed.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 1
}

find_bin() {
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then
    echo "$PG_BIN"
    return
  fi
  # Debian keeps each major version's server tools in /usr/lib/postgresql/<major>/bin.
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5 -n -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
      echo "$d"
      return
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return
  fi
  echo "pg-throwaway: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found;" \
    "install Debian's postgresql package (make deps) or set PG_BIN" >&2
  exit 2
}

# Runs a command as the unprivileged server user when we are root, else as ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
PG_USER=${PG_USER:-postgres}

case "$cmd" in
  start)
    [ $# -eq 3 ] || usage
    port=$3
    bin=$(find_bin)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
      if ! id "$PG_USER" >/dev/null 2>&1 || ! command -v runuser >/dev/null 2>&1; then
        echo "pg-throwaway: running as root, but there is no '$PG_USER' user or no runuser to drop to;" \
          "PostgreSQL refuses to run as root. Install Debian's postgresql package (it creates the user)" \
          "or run as an unprivileged user" >&2
        exit 3
      fi
      chown "$PG_USER" "$dir"
      chmod 700 "$dir"
      if ! runuser -u "$PG_USER" -- test -w "$dir"; then
        echo "pg-throwaway: user '$PG_USER' cannot write $dir: a parent directory is not searchable by it;" \
          "use a directory directly under /tmp (mktemp -d)" >&2
        exit 3
      fi
    fi
    data=$dir/data
    if ! as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1; then
      echo "pg-throwaway: initdb failed:" >&2
      cat "$dir/initdb.log" >&2
      exit 4
    fi
    # Loopback TCP and a socket inside DIR only; trust for local connections, nothing else.
    as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 20
EOF
    as_pg tee "$data/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
    if ! as_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
      echo "pg-throwaway: the server did not start on 127.0.0.1:$port; its log:" >&2
      cat "$dir/server.log" >&2 2>/dev/null || true
      exit 4
    fi
    head -n 1 "$data/postmaster.pid"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    data=$dir/data
    [ -f "$data/postmaster.pid" ] || exit 0 # not running: nothing to stop
    pid=$(head -n 1 "$data/postmaster.pid")
    bin=$(find_bin 2>/dev/null || true)
    if [ -n "$bin" ] && as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1; then
      exit 0
    fi
    # pg_ctl could not do it: SIGINT is PostgreSQL's fast shutdown, SIGKILL the last resort.
    kill -INT "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || exit 0
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    echo "pg-throwaway: server $pid did not stop in 5 s and was killed" >&2
    exit 5
    ;;
  *) usage ;;
esac
