#!/usr/bin/env bash
# Installs the Debian packages rill needs, and only those that are missing.
# Idempotent: when everything is present it asks dpkg and exits (about a second).
# Usage: scripts/install-deps.sh            (called by `make deps`, `make test`, `make demo`)
set -euo pipefail

packages=(
  # build tools
  make cmake ninja-build g++ pkg-config lld
  # libraries (TOOLCHAIN.md has the verified names and CMake targets)
  libboost-dev libmimalloc-dev libflatbuffers-dev flatbuffers-compiler
  libbenchmark-dev catch2 libcli11-dev
  # clang + libFuzzer runtime for the codecs fuzz target
  clang libclang-rt-14-dev
  # rill bench's baselines and plot: a throwaway PostgreSQL server, libpq, gnuplot
  postgresql libpq-dev gnuplot-nox
  # replication (replication/): NATS JetStream, the C client and a server for the tests'
  # throwaway 3-node cluster (scripts/nats-throwaway.sh)
  nats-server libnats-dev
  # observability (observability/): rill top's terminal test, and a real Prometheus that scrapes
  # rill metrics in its test (started on 127.0.0.1 with a throwaway config, stopped by pid)
  tmux prometheus
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: these Debian packages are missing: ${missing[*]}" >&2
  echo "install-deps: run this script as root, or install sudo, or install them yourself with:" >&2
  echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
