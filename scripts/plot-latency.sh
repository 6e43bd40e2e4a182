#!/usr/bin/env bash
# Plots latency distributions written by `rill bench --plot` (LatencyHistogram::WritePlotData:
# "value_ns fraction 1/(1-fraction)" per line) as an HdrHistogram-style percentile chart: the
# x axis stretches the tail (50%, 90%, 99%, 99.9%, ...), the y axis is latency, log scale.
#
#   scripts/plot-latency.sh OUT.png|OUT.svg "title" rill.dat:rill mutex.dat:mutex ...
#
# Needs gnuplot (Debian: gnuplot-nox, installed by scripts/install-deps.sh).
# Exit codes: 0 ok, 1 usage, 2 gnuplot missing, 3 gnuplot failed.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 OUT.png|OUT.svg TITLE DATA:LABEL [DATA:LABEL...]" >&2
  exit 1
fi
out=$1
title=$2
shift 2
if ! command -v gnuplot > /dev/null 2>&1; then
  echo "plot-latency: gnuplot is not installed (apt-get install gnuplot-nox); no plot written" >&2
  exit 2
fi

case "$out" in
  *.svg) terminal="svg size 900,540 dynamic background rgb 'white' font 'sans,12'" ;;
  *.png) terminal="pngcairo size 900,540 font 'sans,10'" ;;
  *)
    echo "plot-latency: $out: the output must end in .png or .svg" >&2
    exit 1
    ;;
esac
# pngcairo is in gnuplot-nox; fall back to the plain png terminal when it is not.
if [[ "$out" == *.png ]] && ! gnuplot -e "set terminal pngcairo" > /dev/null 2>&1; then
  terminal="png size 900,540"
fi

plots=()
for spec in "$@"; do
  data=${spec%%:*}
  label=${spec#*:}
  [ -s "$data" ] || continue
  plots+=("'$data' using 3:(\$1/1000.0) with lines lw 2 title '$label'")
done
if [ ${#plots[@]} -eq 0 ]; then
  echo "plot-latency: no data to plot" >&2
  exit 1
fi
joined=$(printf '%s, ' "${plots[@]}")
joined=${joined%, }

if ! gnuplot > /dev/null 2> "$out.gnuplot.log" << GNUPLOT; then
set terminal $terminal
set output '$out'
set termoption noenhanced
set title "$title"
set logscale x
set logscale y
set xrange [1:1e6]
set xtics ("0%%" 1, "50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000, "99.9999%%" 1000000)
set xlabel "percentile"
set ylabel "latency (microseconds)"
set grid xtics ytics mytics
set key top left
plot $joined
GNUPLOT
  cat "$out.gnuplot.log" >&2
  rm -f "$out.gnuplot.log"
  exit 3
fi
rm -f "$out.gnuplot.log"
echo "plot-latency: wrote $out"
