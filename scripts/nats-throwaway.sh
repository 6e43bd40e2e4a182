#!/usr/bin/env bash
# A throwaway NATS JetStream cluster on 127.0.0.1 for trying replication by hand: N nodes with
# their own ports and store directories under DIR, stopped and forgotten afterwards.
#
#   scripts/nats-throwaway.sh start DIR [NODES=3] [BASE_PORT]   # prints the client URLs, comma-separated
#   scripts/nats-throwaway.sh stop DIR                          # SIGTERM each node, SIGKILL after 5 s
#
# Node i (1..N) uses BASE_PORT+3(i-1) for clients, +1 for cluster routes, +2 for monitoring
# (http), writes DIR/nI.conf, stores in DIR/nI/, logs to DIR/nI.log, and its pid is in DIR/nI.pid.
# BASE_PORT defaults to a value derived from this shell's pid (20000..39997). Server names are
# n1..nN and the cluster is named "rill". Start returns once every node's /healthz answers ok
# (JetStream up, and in a cluster a meta leader elected), waiting at most 20 s.
# The tests do not use this script (tests/replication/nats_cluster.h starts its own nodes).
#
# Exit codes: 0 ok, 1 usage, 2 nats-server missing, 3 a port is taken, 4 start failed or not
# healthy in time (the logs' tails are printed), 5 stop failed (a node survived SIGKILL).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [NODES=3] [BASE_PORT] | stop DIR" >&2
  exit 1
}

NATS_SERVER="${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}"

port_taken() {  # something accepts connections on 127.0.0.1:$1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_dir() {
  local dir="$1" pidfile pid survivors=0
  for pidfile in "$dir"/n*.pid; do
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pidfile in "$dir"/n*.pid; do
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      if kill -0 "$pid" 2>/dev/null; then
        echo "nats-throwaway: pid $pid ($pidfile) survived SIGKILL" >&2
        survivors=1
        continue
      fi
    fi
    rm -f "$pidfile"
  done
  return $survivors
}

start_dir() {
  local dir="$1" nodes="$2" base="$3" i p
  if [ ! -x "$NATS_SERVER" ]; then
    echo "nats-throwaway: nats-server not found (install Debian's nats-server: scripts/install-deps.sh)" >&2
    exit 2
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  for ((i = 0; i < nodes * 3; i++)); do
    p=$((base + i))
    if port_taken "$p"; then
      echo "nats-throwaway: port $p on 127.0.0.1 is taken; pass another BASE_PORT" >&2
      exit 3
    fi
  done
  local routes=""
  for ((i = 1; i <= nodes; i++)); do
    routes="${routes}${routes:+, }nats-route://127.0.0.1:$((base + 3 * (i - 1) + 1))"
  done
  local urls=""
  for ((i = 1; i <= nodes; i++)); do
    local cport=$((base + 3 * (i - 1))) rport=$((base + 3 * (i - 1) + 1)) mport=$((base + 3 * (i - 1) + 2))
    mkdir -p "$dir/n$i"
    {
      echo "server_name: n$i"
      echo "listen: 127.0.0.1:$cport"
      echo "http: 127.0.0.1:$mport"
      echo "jetstream { store_dir: \"$dir/n$i\" }"
      if [ "$nodes" -gt 1 ]; then
        echo "cluster { name: rill, listen: 127.0.0.1:$rport, routes: [ $routes ] }"
      fi
    } >"$dir/n$i.conf"
    "$NATS_SERVER" -c "$dir/n$i.conf" >"$dir/n$i.log" 2>&1 &
    echo $! >"$dir/n$i.pid"
    urls="${urls}${urls:+,}nats://127.0.0.1:$cport"
  done
  local deadline=$((SECONDS + 20)) healthy=0
  while [ $SECONDS -lt $deadline ]; do
    healthy=1
    for ((i = 1; i <= nodes; i++)); do
      local mport=$((base + 3 * (i - 1) + 2))
      if ! kill -0 "$(cat "$dir/n$i.pid")" 2>/dev/null; then
        healthy=-1
        break 2
      fi
      if ! curl -fsS "http://127.0.0.1:$mport/healthz" 2>/dev/null | grep -q '"ok"'; then
        healthy=0
      fi
    done
    [ $healthy -eq 1 ] && break
    sleep 0.2
  done
  if [ $healthy -ne 1 ]; then
    echo "nats-throwaway: the cluster in $dir did not become healthy within 20 s" >&2
    for ((i = 1; i <= nodes; i++)); do
      echo "--- n$i.log" >&2
      tail -n 15 "$dir/n$i.log" >&2 || true
    done
    stop_dir "$dir" || true
    exit 4
  fi
  echo "$urls"
}

[ $# -ge 2 ] || usage
case "$1" in
  start)
    nodes="${3:-3}"
    base="${4:-$((20000 + ($$ % 6666) * 3))}"
    [[ "$nodes" =~ ^[1-9][0-9]*$ ]] || usage
    [[ "$base" =~ ^[0-9]+$ ]] && [ "$base" -ge 1024 ] && [ $((base + 3 * nodes)) -le 65535 ] || usage
    start_dir "$2" "$nodes" "$base"
    ;;
  stop)
    [ -d "$2" ] || { echo "nats-throwaway: no directory $2" >&2; exit 1; }
    stop_dir "$2" || exit 5
    ;;
  *)
    usage
    ;;
esac
