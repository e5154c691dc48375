#!/usr/bin/env bash
# Reader cost: graphprep's Rust DistDGL reader vs real DGL on the same output.
#
#   benches/read_compare.sh OUTPUT_DIR_OR_PARTITION_JSON [--runs N] [--python-only]
#
# Rust side: the `read_output` bench (`cargo bench --bench read_output -- PARTITION_JSON`, which
# prints a line starting `read_output:`). It is built once with `--no-run` and its executable is
# run directly (with the `--bench` argument cargo would append), so /usr/bin/time measures only
# the reader, not cargo. Python side: benches/read_dgl.py under $READPY (default: the DGL venv
# python, else the refenv python), which loads every partition with
# dgl.distributed.load_partition and sums every feature tensor (prints `read_dgl:`).
# Each side runs N times (default 3) under /usr/bin/time -v after `sync`; prints a markdown table
# of median wall time, median peak RSS and the ratios, plus each side's last report line.
# If the Rust bench is missing or fails to build, the Python side still runs, the table says so
# and the script exits 1; --python-only skips the Rust side on purpose (exit 0).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/benches/time_v.sh"
target=""; runs=3; rust=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2;; --python-only) rust=0; shift;;
    -*) echo "unknown argument $1" >&2; exit 2;;
    *) [ -z "$target" ] || { echo "one output dir or partition JSON, got a second: $1" >&2; exit 2; }
       target=$1; shift;;
  esac
done
[ -n "$target" ] || { sed -n '2,16p' "$0" >&2; exit 2; }
# the partition JSON: the argument itself, or the one *.json in the dir with "num_parts" and
# "node_map" (graphprep's partition_stats.json has "num_parts" too)
if [ -d "$target" ]; then
  js=()
  for f in "$target"/*.json; do
    [ -f "$f" ] && grep -q '"num_parts"' "$f" && grep -q '"node_map"' "$f" && js+=("$f")
  done
  [ ${#js[@]} = 1 ] || { echo "expected one partition JSON (with \"num_parts\" and \"node_map\") in $target, found ${#js[@]}" >&2; exit 2; }
  conf=${js[0]}
else
  conf=$target
fi
[ -f "$conf" ] || { echo "no such file: $conf" >&2; exit 2; }
conf=$(cd "$(dirname "$conf")" && pwd)/$(basename "$conf")
py=${READPY:-}
if [ -z "$py" ]; then
  for c in "$HOME/.cache/graphprep-dgl-venv/bin/python" "$HOME/.cache/graphprep-refenv/bin/python"; do
    if [ -x "$c" ] && "$c" -c 'import torch, dgl' >/dev/null 2>&1; then py=$c; break; fi
  done
  [ -n "$py" ] || { echo "no python with torch + dgl found (set READPY, or run tests/dgl/setup_env.sh)" >&2; exit 2; }
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

rust_err=""; bin=""
if [ $rust = 1 ]; then
  if (cd "$repo" && cargo bench --bench read_output --no-run) >"$work/build.log" 2>&1; then
    rel=$(sed -n 's/^ *Executable .*(\(.*read_output-[^)]*\))$/\1/p' "$work/build.log" | tail -1)
    case $rel in /*) bin=$rel;; ?*) bin=$repo/$rel;; esac
    [ -n "$bin" ] && [ -x "$bin" ] || rust_err="built, but no read_output executable in cargo's output (see below)"
  elif grep -q "no bench target named .read_output" "$work/build.log"; then
    rust_err="this tree has no \`read_output\` bench yet (benches/read_output.rs + [[bench]] in Cargo.toml)"
  else
    rust_err="\`cargo bench --bench read_output --no-run\` failed"
  fi
  if [ -n "$rust_err" ]; then
    echo "Rust side unavailable: $rust_err; last lines of the build:" >&2
    tail -n 8 "$work/build.log" | sed 's/^/  | /' >&2
    echo "running the Python side only" >&2
  fi
fi

# measure NAME PREFIX CMD...: appends "wall_s rss_kb" to $work/NAME; the command's last line
# starting with PREFIX goes to $work/NAME.line. Returns 1 (and shows the log) if it fails.
measure() {
  local name=$1 prefix=$2; shift 2
  sync  # earlier writes must not compete with this run
  if ! /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/$name.log" 2>&1; then
    echo "$name failed; last lines of its output:" >&2; tail -n 15 "$work/$name.log" >&2; return 1
  fi
  grep "^$prefix" "$work/$name.log" | tail -1 > "$work/$name.line" || true
  if [ ! -s "$work/$name.line" ]; then
    echo "$name printed no line starting '$prefix'; its output:" >&2; tail -n 15 "$work/$name.log" >&2; return 1
  fi
  time_record "$work/time.txt" "$work/$name" "$name"
}
col() { cut -d' ' -f"$2" "$work/$1" | median; }

for i in $(seq "$runs"); do
  if [ $rust = 1 ] && [ -z "$rust_err" ]; then
    # run from the package root with cargo's trailing --bench, as `cargo bench -- JSON` would
    (cd "$repo" && measure rust read_output: "$bin" "$conf" --bench) || rust_err="the read_output bench failed (see above)"
  fi
  measure python read_dgl: "$py" "$repo/benches/read_dgl.py" "$conf" || exit 1
  sed -n 's/.* total_s=\([0-9.]*\).*/\1/p' "$work/python.line" >> "$work/python.inproc"
done

echo
echo "read $(basename "$conf") ($(dirname "$conf")), $runs run(s) each, $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo
pw=$(col python 1); pr=$(col python 2)
echo "| reader | runs | median wall (s) | median peak RSS (MiB) | vs DGL: speed | vs DGL: memory |"
echo "|---|---|---|---|---|---|"
printf "| DGL load_partition + feature sum (read_dgl.py) | %s | %.2f | %.0f | 1× | 1× |\n" "$runs" "$pw" "$(echo "$pr/1024" | bc -l)"
if [ $rust = 1 ] && [ -z "$rust_err" ]; then
  rw=$(col rust 1); rr=$(col rust 2)
  # time -v reports wall to 10 ms: a faster run reads 0.00 and gets no speed ratio
  speed="n/a (under 10 ms)"; [ "$(echo "$rw > 0" | bc -l)" = 1 ] && speed=$(printf "**%.1f× faster**" "$(echo "$pw/$rw" | bc -l)")
  printf "| graphprep read_output bench | %s | %.2f | %.0f | %s | **1/%.1f** |\n" "$runs" "$rw" "$(echo "$rr/1024" | bc -l)" \
    "$speed" "$(echo "$pr/$rr" | bc -l)"
elif [ $rust = 1 ]; then
  echo "| graphprep read_output bench | – | n/a | n/a | – | – |"
fi
echo
echo "python: $(cat "$work/python.line")"
echo "(the DGL wall includes importing torch + dgl; in-process open + touch alone: median $(median < "$work/python.inproc") s)"
[ -s "$work/rust.line" ] 2>/dev/null && echo "rust:   $(cat "$work/rust.line")"
if [ $rust = 1 ] && [ -n "$rust_err" ]; then
  echo "Rust side not measured: $rust_err" >&2; exit 1
fi
exit 0
