#!/usr/bin/env bash
# Scale run: a large featureless edge list (benches/gen_edges.py) through graphprep under a
# memory budget, with /usr/bin/time -v; prints wall time, peak RSS, input and output size.
#
#   benches/scale.sh [--edges E] [--nodes N] [--memory SIZE] [--parts P] [--method random|metis]
#                    [--data DIR] [--out DIR] [--keep]
#
# Defaults: 500M edges, 50M nodes, --memory 8GiB, 2 random partitions. Data goes to
# ${TMPDIR:-/tmp}/graphprep-scale/<edges> (kept for reruns); the output is removed unless --keep.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${GRAPHPREP_SHARED:-$repo/../shared}
. "$repo/benches/time_v.sh"
edges=500000000; nodes=50000000; memory=8GiB; parts=2; method=random; data=""; out=""; keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --edges) edges=$2; shift 2;; --nodes) nodes=$2; shift 2;; --memory) memory=$2; shift 2;;
    --parts) parts=$2; shift 2;; --method) method=$2; shift 2;; --data) data=$2; shift 2;;
    --out) out=$2; shift 2;; --keep) keep=1; shift;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
data=${data:-${TMPDIR:-/tmp}/graphprep-scale/$edges}
out=${out:-$data.out}
py=$(bash "$shared/refenv.sh" | tail -1)
if [ ! -f "$data/config.json" ]; then
  /usr/bin/time -f "generated in %e s" "$py" "$repo/benches/gen_edges.py" "$data" --edges "$edges" --nodes "$nodes" >&2
fi
(cd "$repo" && cargo build --release --features hdf5 -q)
rm -rf "$out"
log=$(mktemp)
set +e
/usr/bin/time -v -o "$log.time" "$repo/target/release/graphprep" construct --conf-file "$data/config.json" \
  --output-dir "$out" --graph-name scale --num-parts "$parts" --part-method "$method" --memory "$memory" \
  >"$log" 2>&1
rc=$?
set -e
grep -v '^\[' "$log" | tail -30
wall=$(time_wall "$log.time")
rss=$(time_rss "$log.time")
echo
echo "| edges | nodes | partitions | --memory | exit | wall (s) | peak RSS (MiB) | input | output |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| $edges | $nodes | $parts $method | $memory | $rc | $wall | $((rss / 1024)) | $(du -sh "$data" | cut -f1) | $( [ -d "$out" ] && du -sh "$out" | cut -f1 || echo -) |"
[ $keep = 1 ] || rm -rf "$out"
rm -f "$log" "$log.time"
exit $rc
