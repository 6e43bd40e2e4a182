#!/usr/bin/env bash
# The README's screenshot of `rill top` (docs/rill-top.svg): `rill bench` runs the bank workload
# with a projector for a few seconds, `rill top` watches it in a private tmux server, and the
# pane is captured and rendered by scripts/terminal-svg.py.
# Usage: scripts/screenshot-top.sh [OUT.svg]   (needs build/release, tmux, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/rill-top.svg}
rill=build/release/bin/rill
dir=$(mktemp -d /tmp/rill-top-shot-XXXXXX)
socket=rill-shot-$$
cleanup() { tmux -L "$socket" kill-server 2>/dev/null || true; kill "$bench" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
"$rill" bench --seconds 8 --rate 500000 --inflight 4096 --dir "$dir/journal" --keep > "$dir/bench.log" 2>&1 &
bench=$!
for _ in $(seq 100); do [ -e "$dir/journal/counters" ] && break; sleep 0.05; done
tmux -L "$socket" new-session -d -s top -x 110 -y 22 "$rill top $dir/journal --interval 1"
sleep 4.5
tmux -L "$socket" capture-pane -p -t top | sed "s|$dir|/var/lib/bank|g" > "$dir/screen.txt"
python3 scripts/terminal-svg.py "$dir/screen.txt" "$out" "rill top /var/lib/bank/journal"
echo "wrote $out"
