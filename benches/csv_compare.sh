#!/usr/bin/env bash
# CSV input: graphprep's CSV decoding against polars' CSV reader on the same files and threads,
# and graphprep's whole construct from CSV against the same graph from Parquet.
#
#   benches/csv_compare.sh [--scale S] [--runs N] [--threads T] [--polars-python PY] [--data DIR]
#
# Generates products-S twice with ../shared/bench/gen_products.py (seeded; `--csv` writes the
# 100-d features as `;`-joined strings), then per run, under /usr/bin/time -v:
#   decode-csv       graphprep decode of the CSV config (every requested column of every file)
#   polars-csv       polars.read_csv of the same files, the same columns (`columns=`), with
#                    POLARS_MAX_THREADS=T, one file after another (each file is read in parallel)
#   construct-csv    graphprep construct of the CSV config (2 random parts, reverse edges)
#   construct-parquet  the same of the Parquet config
# and prints a markdown table of medians with the two ratios the performance issue asks for.
# PY is a Python with polars (default: python3); the script says how to get one when it lacks it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${GRAPHPREP_SHARED:-$repo/../shared}
. "$repo/benches/time_v.sh"
scale=0.1; runs=3; threads=$(nproc); polars_py=python3; data=""
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift 2;; --runs) runs=$2; shift 2;; --threads) threads=$2; shift 2;;
    --polars-python) polars_py=$2; shift 2;; --data) data=$2; shift 2;;
    -h|--help) sed -n '2,15p' "$0"; exit 0;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
if ! "$polars_py" -c 'import polars' 2>/dev/null; then
  echo "error: $polars_py has no polars; make one with" >&2
  echo "  python3 -m venv /tmp/polarsenv && /tmp/polarsenv/bin/pip install polars" >&2
  echo "and pass --polars-python /tmp/polarsenv/bin/python" >&2
  exit 2
fi
data=${data:-${TMPDIR:-/tmp}/graphprep-bench}
py=$(bash "$shared/refenv.sh" | tail -1)
csv=$data/products-$scale-csv; pq=$data/products-$scale
[ -f "$csv/config.json" ] || "$py" "$shared/bench/gen_products.py" "$csv" --scale "$scale" --csv >&2
[ -f "$pq/config.json" ] || "$py" "$shared/bench/gen_products.py" "$pq" --scale "$scale" >&2
(cd "$repo" && cargo build --release --features hdf5 -q)
bin=$repo/target/release/graphprep
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT


for i in $(seq "$runs"); do
  time_measure "$work" decode-csv "$bin" decode --conf-file "$csv/config.json" --threads "$threads"
  time_measure "$work" polars-csv env POLARS_MAX_THREADS="$threads" "$polars_py" "$repo/benches/polars_read.py" "$csv/config.json"
  for f in csv parquet; do
    d=$csv; [ $f = parquet ] && d=$pq
    rm -rf "$work/out"
    time_measure "$work" "construct-$f" "$bin" construct --conf-file "$d/config.json" --output-dir "$work/out" \
      --graph-name products --num-parts 2 --part-method random --add-reverse-edges --threads "$threads" --quiet
  done
  rm -rf "$work/out"
done

col() { cut -d' ' -f"$2" "$work/$1" | median; }
pv=$("$polars_py" -c 'import polars; print(polars.__version__)')
echo
echo "products-$scale as CSV ($(du -sm "$csv" | cut -f1) MB, $(ls "$csv"/*.csv | wc -l) files) and as Parquet; $threads threads, $(nproc) cores, medians of $runs"
echo
echo "| run | median wall (s) | median peak RSS (MiB) | ratio |"
echo "|---|---|---|---|"
row() { printf "| %s | %.2f | %.0f | %s |\n" "$1" "$(col "$2" 1)" "$(echo "$(col "$2" 2)/1024" | bc -l)" "$3"; }
row "graphprep decode (CSV)" decode-csv "$(printf '%.2f× polars' "$(echo "$(col decode-csv 1)/$(col polars-csv 1)" | bc -l)")"
row "polars $pv read_csv (same files and columns)" polars-csv "1×"
row "graphprep construct from CSV" construct-csv "$(printf '%.2f× Parquet' "$(echo "$(col construct-csv 1)/$(col construct-parquet 1)" | bc -l)")"
row "graphprep construct from Parquet" construct-parquet "1×"
