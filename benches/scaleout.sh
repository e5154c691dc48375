#!/usr/bin/env bash
# Scale-out routes on products-shaped data: a normal `construct` (DistDGL), `construct
# --output-format chunked` (DGL's chunked format + partition assignment), `partition` of that
# chunked folder (partitioning again) and `partition --assignment` (with construct's
# assignment: DGL's dispatch step on one machine), each under /usr/bin/time -v; prints median
# wall time and peak RSS, and checks that both partition outputs are construct's.
#
#   benches/scaleout.sh [--scale S] [--runs N] [--parts P] [--method metis|random]
#                       [--data DIR] [--dgl-tools DIR]
#
# --dgl-tools DIR (the tools/ folder of DGL v2.1.0, e.g. from `git archive v2.1.0 tools` of
# dmlc/dgl) also runs DGL's own dispatch pipeline (data_proc_pipeline.py, world size 1, no
# ssh) on the chunked output + assignment, turns its output into GraphStorm's layout
# (tests/dgl/dgl_pipeline_to_gs.py) and checks it per raw ID against the input tables with
# the oracle (tests/dgl/check_output.py), and checks that its partition book equals
# construct's DistDGL one.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${GRAPHPREP_SHARED:-$repo/../shared}
. "$repo/benches/time_v.sh"
scale=0.1; runs=3; parts=4; method=metis; data=""; tools=""
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift 2;; --runs) runs=$2; shift 2;; --parts) parts=$2; shift 2;;
    --method) method=$2; shift 2;; --data) data=$2; shift 2;; --dgl-tools) tools=$2; shift 2;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
data=${data:-${TMPDIR:-/tmp}/graphprep-bench/products-$scale}
py=$(bash "$shared/refenv.sh" | tail -1)
if [ ! -f "$data/config.json" ]; then
  echo "generating products-$scale into $data" >&2
  "$py" "$shared/bench/gen_products.py" "$data" --scale "$scale" >&2
fi
(cd "$repo" && cargo build --release --features hdf5 -q)
bin=$repo/target/release/graphprep
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# measure NAME CMD...: time_measure into $work (benches/time_v.sh)
measure() { time_measure "$work" "$@"; }
common=(--conf-file "$data/config.json" --graph-name products --num-parts "$parts" --part-method "$method"
        --add-reverse-edges --quiet)
for i in $(seq "$runs"); do
  rm -rf "$work/direct" "$work/chunked" "$work/parted" "$work/given"
  measure construct "$bin" construct "${common[@]}" --output-dir "$work/direct"
  measure construct-chunked "$bin" construct "${common[@]}" --output-dir "$work/chunked" --output-format chunked
  measure partition "$bin" partition --input-dir "$work/chunked/chunked" --output-dir "$work/parted" \
    --num-parts "$parts" --part-method "$method" --quiet
  measure partition-assignment "$bin" partition --input-dir "$work/chunked/chunked" --output-dir "$work/given" \
    --assignment "$work/chunked/partition_assignment" --quiet
done
# partition's outputs must be construct's, byte for byte (partition_stats.json aside: METIS
# timings, and no METIS section with --assignment)
for f in $(cd "$work/direct" && find . -type f ! -name partition_stats.json ! -name .graphprep-manifest | sort); do
  for o in parted given; do
    cmp -s "$work/direct/$f" "$work/$o/$f" || { echo "partition output ($o) differs from construct's: $f" >&2; exit 1; }
  done
done
col() { cut -d' ' -f"$2" "$work/$1" | median; }
cw=$(col construct 1)
echo
echo "products-$scale ($parts parts, $method, --add-reverse-edges, $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)); chunked folder $(du -sh "$work/chunked/chunked" | cut -f1)"
echo
echo "| run | runs | median wall (s) | median peak RSS (MiB) | vs construct (DistDGL) |"
echo "|---|---|---|---|---|"
for n in construct construct-chunked partition partition-assignment; do
  printf "| %s | %s | %.2f | %.0f | %.2f |\n" "$n" "$runs" "$(col $n 1)" "$(echo "$(col $n 2)/1024" | bc -l)" "$(echo "$(col $n 1)/$cw" | bc -l)"
done
echo "partition outputs == construct output: byte-identical (partition_stats.json aside)"
if [ -n "$tools" ]; then
  dglpy=$(bash "$repo/tests/dgl/setup_env.sh" | tail -1)
  rm -rf "$work/dglout"
  (cd "$tools" && sync && RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=${MASTER_PORT:-29571} \
    /usr/bin/time -v -o "$work/time.txt" "$dglpy" distpartitioning/data_proc_pipeline.py --world-size 1 \
    --num-parts "$parts" --partitions-dir "$work/chunked/partition_assignment" \
    --input-dir "$work/chunked/chunked" --graph-name products --schema metadata.json \
    --output "$work/dglout" --process-group-timeout 3600 --save-orig-nids --save-orig-eids \
    > "$work/dgl.log" 2>&1) || { tail -30 "$work/dgl.log" >&2; exit 1; }
  time_record "$work/time.txt" "$work/dgl" "DGL data_proc_pipeline.py"
  "$dglpy" "$repo/tests/dgl/dgl_pipeline_to_gs.py" --dgl-out "$work/dglout" --chunked "$work/chunked/chunked" --graph-name products
  "$dglpy" - "$work/dglout/metadata.json" "$work/direct/products.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["node_map"] == b["node_map"] and a["edge_map"] == b["edge_map"], "partition books differ"
print("DGL pipeline partition book == construct's (node_map, edge_map)")
PY
  DGL_DIST_DEBUG=1 "$dglpy" "$repo/tests/dgl/check_output.py" --conf "$data/config.json" --out "$work/dglout" \
    --graph-name products --reverse-edges
  printf "| DGL data_proc_pipeline.py (dispatch of the chunked output) | 1 | %.2f | %.0f | %.2f |\n" \
    "$(col dgl 1)" "$(echo "$(col dgl 2)/1024" | bc -l)" "$(echo "$(col dgl 1)/$cw" | bc -l)"
fi
