#!/usr/bin/env bash
# End-to-end comparison: graphprep vs GraphStorm's construct_graph on products-shaped data.
#
#   benches/compare.sh [--scale S] [--runs N] [--ref-runs N] [--parts P] [--method metis|random]
#                      [--noop-only] [--threads T] [--data DIR] [--no-ref] [--memory SIZE]...
#
# Generates the data once with ../shared/bench/gen_products.py (seeded), builds graphprep in
# release mode, runs GraphStorm (env from ../shared/refenv.sh) and graphprep under
# /usr/bin/time -v, and prints a markdown table of median wall time, median peak RSS and the
# ratios. --noop-only rewrites the generated config to keep only no-op features (the numeric
# transforms are dropped), the setting used for the construct issue's measurement.
# --memory SIZE (repeatable) adds a graphprep row per budget (e.g. --memory 512MiB: arrays
# spill to the workspace); without it graphprep runs with its default budget.
# The floor is measured as often: decode (graphprep decode: the same input files decoded and
# discarded, same readers and threads) plus write (dd of as many bytes as graphprep's output
# holds into the page cache); the last column is each run's wall time over their sum.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${GRAPHPREP_SHARED:-$repo/../shared}
. "$repo/benches/time_v.sh"
scale=0.1; runs=3; ref_runs=1; parts=1; method=random; noop=0; threads=$(nproc); data=""; ref=1
budgets=()
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift 2;; --runs) runs=$2; shift 2;; --ref-runs) ref_runs=$2; shift 2;;
    --parts) parts=$2; shift 2;; --method) method=$2; shift 2;; --noop-only) noop=1; shift;;
    --threads) threads=$2; shift 2;; --data) data=$2; shift 2;; --no-ref) ref=0; shift;;
    --memory) budgets+=("$2"); shift 2;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
data=${data:-${TMPDIR:-/tmp}/graphprep-bench/products-$scale}
py=$(bash "$shared/refenv.sh" | tail -1)
if [ ! -f "$data/config.json" ]; then
  echo "generating products-$scale into $data" >&2
  "$py" "$shared/bench/gen_products.py" "$data" --scale "$scale" >&2
fi
conf=$data/config.json
if [ $noop = 1 ]; then
  conf=$data/config-noop.json
  "$py" - "$data/config.json" "$conf" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for block in c["nodes"] + c["edges"]:
    block["features"] = [f for f in block.get("features", [])
                         if f.get("transform", {"name": "no-op"})["name"] == "no-op"]
    if not block["features"]:
        del block["features"]
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
fi
(cd "$repo" && cargo build --release --features hdf5 -q)
bin=$repo/target/release/graphprep
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# measure NAME CMD...: time_measure into $work (benches/time_v.sh)
measure() { time_measure "$work" "$@"; }

[ ${#budgets[@]} = 0 ] && budgets=(default)
for i in $(seq "$runs"); do
  measure decode "$bin" decode --conf-file "$conf" --threads "$threads"
  for b in "${budgets[@]}"; do
    rm -rf "$work/gp"
    mem=(); [ "$b" != default ] && mem=(--memory "$b")
    measure "graphprep-$b" "$bin" construct --conf-file "$conf" --output-dir "$work/gp" --graph-name products \
      --num-parts "$parts" --part-method "$method" --add-reverse-edges --threads "$threads" --quiet "${mem[@]}"
  done
  # write floor: as many bytes as the output holds, written the way graphprep writes (into the
  # page cache, no fsync) in 8 MiB blocks
  out_bytes=$(du -sb "$work/gp" | cut -f1)
  rm -rf "$work/gp"
  # (the first large write after deleting a large output is slowed by the file system freeing
  # its blocks: one unmeasured write first)
  for m in warm measure; do
    rm -f "$work/write-floor.bin"
    [ $m = warm ] && { sync; dd if=/dev/zero of="$work/write-floor.bin" bs=8M count=$(( out_bytes / 8388608 + 1 )) status=none; continue; }
    measure write-floor dd if=/dev/zero of="$work/write-floor.bin" bs=8M count=$(( out_bytes / 8388608 + 1 )) status=none
  done
  rm -f "$work/write-floor.bin"
done
if [ $ref = 1 ]; then
  for i in $(seq "$ref_runs"); do
    rm -rf "$work/gs"
    measure graphstorm bash -c "cd '$data' && '$py' -m graphstorm.gconstruct.construct_graph --conf-file '$conf' \
      --output-dir '$work/gs' --graph-name products --num-parts $parts --part-method $method \
      --add-reverse-edges --num-processes $threads"
  done
fi

col() { cut -d' ' -f"$2" "$work/$1" | median; }
dw=$(col decode 1)
ww=$(col write-floor 1)
fw=$(echo "$dw + $ww" | bc -l)
echo
echo "products-$scale ($(basename "$conf"), $parts part(s), $method, --add-reverse-edges, $threads threads, $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo))"
echo
if [ $ref = 1 ]; then
  sw=$(col graphstorm 1); sr=$(col graphstorm 2)
  echo "| tool | runs | median wall (s) | median peak RSS (MiB) | vs GraphStorm: speed | vs GraphStorm: memory | wall / floor (decode + write) |"
  echo "|---|---|---|---|---|---|---|"
  printf "| GraphStorm construct_graph | %s | %.2f | %.0f | 1× | 1× | %.1f |\n" "$ref_runs" "$sw" "$(echo "$sr/1024" | bc -l)" "$(echo "$sw/$fw" | bc -l)"
else
  echo "| tool | runs | median wall (s) | median peak RSS (MiB) | wall / floor (decode + write) |"
  echo "|---|---|---|---|---|"
fi
for b in "${budgets[@]}"; do
  gw=$(col "graphprep-$b" 1); gr=$(col "graphprep-$b" 2)
  name="graphprep"; [ "$b" != default ] && name="graphprep --memory $b"
  if [ $ref = 1 ]; then
    printf "| %s | %s | %.2f | %.0f | **%.1f× faster** | **1/%.1f** | %.1f |\n" "$name" "$runs" "$gw" "$(echo "$gr/1024" | bc -l)" \
      "$(echo "$sw/$gw" | bc -l)" "$(echo "$sr/$gr" | bc -l)" "$(echo "$gw/$fw" | bc -l)"
  else
    printf "| %s | %s | %.2f | %.0f | %.2f |\n" "$name" "$runs" "$gw" "$(echo "$gr/1024" | bc -l)" "$(echo "$gw/$fw" | bc -l)"
  fi
done
extra=""; [ $ref = 1 ] && extra=" | |"
printf "| decode floor (graphprep decode) | %s | %.2f | %.0f%s | |\n" "$runs" "$dw" "$(echo "$(col decode 2)/1024" | bc -l)" "$extra"
printf "| write floor (dd, %s MB into the page cache) | %s | %.2f | %.0f%s | |\n" "$(( out_bytes / 1000000 ))" "$runs" "$ww" "$(echo "$(col write-floor 2)/1024" | bc -l)" "$extra"
printf "| floor (decode + write) | | %.2f | %s | 1.0 |\n" "$fw" "$extra"
