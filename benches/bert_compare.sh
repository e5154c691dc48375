#!/usr/bin/env bash
# bert_hf throughput: graphprep vs GraphStorm's construct_graph on the same texts, on the CPU.
#
#   benches/bert_compare.sh [--rows N] [--runs N] [--ref-runs N] [--threads T] [--max-len L]
#                           [--layers K] [--no-ref]
#
# Makes (once, seeded) a randomly initialised BERT of bert-base's shape (12 layers, hidden 768,
# 12 heads, intermediate 3072, vocab 30522; `--layers` for fewer) with the reference env's
# `transformers`, saved with the tiny test tokenizer (tests/fixtures/tiny-bert: every unknown
# word is one [UNK] token, so token counts are word counts + 2), and N texts of 4–120 words
# (uniform) in a Parquet node table with a ring of edges. Each tool builds the graph twice per
# run: with the bert_hf feature (max_seq_length L, infer_batch_size 1024 = GraphStorm's default)
# and without it; the difference is the bert_hf time, and N over it the throughput. Medians over
# the runs; peak RSS from /usr/bin/time -v of the run with the feature.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${GRAPHPREP_SHARED:-$repo/../shared}
. "$repo/benches/time_v.sh"
rows=2000; runs=3; ref_runs=1; threads=$(nproc); max_len=128; layers=12; ref=1
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2;; --runs) runs=$2; shift 2;; --ref-runs) ref_runs=$2; shift 2;;
    --threads) threads=$2; shift 2;; --max-len) max_len=$2; shift 2;;
    --layers) layers=$2; shift 2;; --no-ref) ref=0; shift;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
py=$(bash "$shared/refenv.sh" | tail -1)
data=${TMPDIR:-/tmp}/graphprep-bench/bert-$layers-$rows-$max_len
if [ ! -f "$data/with.json" ]; then
  echo "generating the model and $rows texts into $data" >&2
  mkdir -p "$data"
  "$py" - "$data" "$rows" "$max_len" "$layers" "$repo/tests/fixtures/tiny-bert/tokenizer.json" <<'PY'
import json, os, random, shutil, sys
import pyarrow as pa, pyarrow.parquet as pq, torch
from transformers import BertConfig, BertModel
data, rows, max_len, layers, tok = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
torch.manual_seed(0)
model = BertModel(BertConfig(num_hidden_layers=layers))
lm = os.path.join(data, "lm")
model.save_pretrained(lm, safe_serialization=True)
shutil.copy(tok, os.path.join(lm, "tokenizer.json"))
rng = random.Random(0)
words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "graph", "storm",
         "hello", "world", "cafe", "product", "review", "great", "price", "fast", "ship"]
texts = [" ".join(rng.choice(words) for _ in range(rng.randint(4, 120))) for _ in range(rows)]
pq.write_table(pa.table({"id": list(range(rows)), "text": texts}), os.path.join(data, "nodes.parquet"))
pq.write_table(pa.table({"src": list(range(rows)), "dst": [(i + 1) % rows for i in range(rows)]}),
               os.path.join(data, "edges.parquet"))
def conf(features):
    n = {"node_type": "item", "files": "nodes.parquet", "format": {"name": "parquet"},
         "node_id_col": "id"}
    if features:
        n["features"] = [{"feature_col": "text", "feature_name": "bert",
                          "transform": {"name": "bert_hf", "bert_model": lm,
                                        "max_seq_length": max_len}}]
    return {"version": "gconstruct-v0.1", "nodes": [n],
            "edges": [{"relation": ["item", "to", "item"], "files": "edges.parquet",
                       "format": {"name": "parquet"}, "source_id_col": "src",
                       "dest_id_col": "dst"}]}
json.dump(conf(True), open(os.path.join(data, "with.json"), "w"), indent=1)
json.dump(conf(False), open(os.path.join(data, "without.json"), "w"), indent=1)
PY
fi
(cd "$repo" && cargo build --release --features hdf5 -q)
bin=$repo/target/release/graphprep
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

measure() {
  local name=$1; shift
  /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; exit 1; }
  time_record "$work/time.txt" "$work/$name" "$name"
}
for i in $(seq "$runs"); do
  for c in with without; do
    rm -rf "$work/gp"
    measure "graphprep-$c" "$bin" construct --conf-file "$data/$c.json" --output-dir "$work/gp" \
      --graph-name g --num-parts 1 --threads "$threads" --device cpu --quiet
  done
done
if [ $ref = 1 ]; then
  for i in $(seq "$ref_runs"); do
    for c in with without; do
      rm -rf "$work/gs"
      measure "graphstorm-$c" bash -c "cd '$data' && CUDA_VISIBLE_DEVICES= OMP_NUM_THREADS=$threads \
        '$py' -m graphstorm.gconstruct.construct_graph --conf-file '$data/$c.json' \
        --output-dir '$work/gs' --graph-name g --num-parts 1 --num-processes 1"
    done
  done
fi
col() { cut -d' ' -f"$2" "$work/$1" | median; }
echo
echo "bert_hf: $rows texts of 4–120 words, max_seq_length $max_len, $layers-layer bert-base-shaped model, $threads threads, CPU ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
echo
echo "| tool | runs | wall with bert_hf (s) | wall without (s) | bert_hf (s) | texts/s | peak RSS with (MiB) |"
echo "|---|---|---|---|---|---|---|"
row() {
  local name=$1 n=$2 w o
  w=$(col "$name-with" 1); o=$(col "$name-without" 1)
  printf "| %s | %s | %.2f | %.2f | %.2f | %.1f | %.0f |\n" "$3" "$n" "$w" "$o" "$(echo "$w-$o" | bc -l)" \
    "$(echo "$rows/($w-$o)" | bc -l)" "$(echo "$(col "$name-with" 2)/1024" | bc -l)"
}
[ $ref = 1 ] && row graphstorm "$ref_runs" "GraphStorm construct_graph (torch 2.2.1)"
row graphprep "$runs" "graphprep (libtorch 2.11.0)"
if [ $ref = 1 ]; then
  echo
  echo "speed-up of bert_hf: $(echo "($(col graphstorm-with 1)-$(col graphstorm-without 1))/($(col graphprep-with 1)-$(col graphprep-without 1))" | bc -l | xargs printf '%.2f')×"
fi
