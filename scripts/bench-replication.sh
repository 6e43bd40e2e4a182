#!/usr/bin/env bash
# Issue 18's replication benchmark in one sitting: a throwaway 3-node NATS cluster on 127.0.0.1
# (nats-throwaway.sh), then `rill bench` on the same bank workload with
#   1. --ack journaled   (no replication: what the local engine does; with a replicator but
#                         nobody waiting for it, the engine outruns the cluster and answers
#                         kReplicationUnavailable beyond max_replication_lag, as designed)
#   2. --ack durable     (--durability batch, no replication)
#   3. --ack replicated  (--replicate; closed loop: the throughput; its nats_raw_publish baseline row is the
#                         cluster's raw async-publish ceiling for 64 KiB messages, measured right
#                         after it, and "rill is R x" is the fraction of that ceiling reached)
#   4. --ack replicated, open loop at half the ceiling measured in 3 (the p99 goal)
# and a table of the four. Each run's full report and JSON are kept in OUT.
#
#   scripts/bench-replication.sh [SECONDS=5]
#   RILL=path/to/rill OUT=dir scripts/bench-replication.sh 10
#
# Exit codes: 0 ok; 1 a run failed (its report says why); 2 the cluster did not start.
set -euo pipefail

seconds="${1:-5}"
here="$(cd "$(dirname "$0")" && pwd)"
RILL="${RILL:-$here/../build/release/bin/rill}"
OUT="${OUT:-$here/../build/release/bench-replication}"
[ -x "$RILL" ] || { echo "bench-replication: $RILL is not built (make build, or set RILL=)" >&2; exit 1; }

work="$(mktemp -d -t rill-bench-rep.XXXXXX)"
cleanup() {
  "$here/nats-throwaway.sh" stop "$work/nats" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if ! urls="$("$here/nats-throwaway.sh" start "$work/nats")"; then
  echo "bench-replication: the throwaway cluster did not start (see above)" >&2
  exit 2
fi
mkdir -p "$OUT"
echo "bench-replication: cluster $urls, $(nproc) CPUs, $seconds s per run, reports in $OUT"

run() {  # run NAME FLAGS...: one rill bench, its report in OUT/NAME.txt
  local name="$1"
  shift
  echo "=== $name: rill bench $*"
  "$RILL" bench --inflight 4096 --seconds "$seconds" --json "$OUT/$name.json" "$@" >"$OUT/$name.txt" 2>&1 || {
    cat "$OUT/$name.txt"
    echo "bench-replication: the $name run failed" >&2
    exit 1
  }
}

# The commands/s of the report's throughput line, or of a baseline row.
throughput() { awk '/ commands in .* commands\/s/ { for (i = 1; i <= NF; i++) if ($i == "commands/s") { print $(i - 1); exit } }' "$1"; }
ceiling() { awk '$1 == "nats_raw_publish" { print $2; exit }' "$1"; }

run journaled --ack journaled
run durable --durability batch --ack durable
run replicated --ack replicated --replicate "$urls" --baseline-seconds 3
raw="$(ceiling "$OUT/replicated.txt")"
if [ -z "$raw" ]; then
  echo "bench-replication: no nats_raw_publish row in $OUT/replicated.txt" >&2
  exit 1
fi
half="$(awk -v r="$raw" 'BEGIN { printf "%.0f", r / 2 }')"
run replicated-open-half --ack replicated --replicate "$urls" --baseline-seconds 3 --rate "$half"

echo
printf '%-22s %14s %s\n' "run" "commands/s" "end to end latency"
for name in journaled durable replicated replicated-open-half; do
  printf '%-22s %14s %s\n' "$name" "$(throughput "$OUT/$name.txt")" \
    "$(awk '$1 == "end" && $2 == "to" { $1 = $2 = $3 = ""; print; exit }' "$OUT/$name.txt")"
done
echo "cluster's raw publish ceiling (same run, after the replicated run): $raw commands/s;" \
  "replicated closed loop reached $(awk -v t="$(throughput "$OUT/replicated.txt")" -v r="$raw" 'BEGIN { printf "%.2f", t / r }')x of it;" \
  "open loop offered $half commands/s (half the ceiling)"
