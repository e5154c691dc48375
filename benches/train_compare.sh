#!/usr/bin/env bash
# Training side by side: GraphStorm 0.5.1 (../shared/bench/train/run_gs_train.sh: its own
# construct_graph + launcher, torch 2.2.1, DGL 2.1.0) and graphprep (construct + train) on the
# same planted-signal graph with the anchor YAMLs unchanged (nc_rgcn.yaml, nc_mlp.yaml,
# lp_rgcn.yaml), back to back on this machine. Reports per task: median seconds per training
# epoch ("Epoch N take X seconds", evaluation excluded, epoch 0 included), median eval seconds,
# the test metric (best validation's test score, GraphStorm's "Best Test": accuracy, or MRR under
# GraphStorm's protocol for LP), peak RSS (GraphStorm: the whole process tree by measure.py;
# graphprep: /usr/bin/time -v), and graphprep's per-epoch profile. A task `X@off` runs
# graphprep only, with `--exclusion off` (target edges left in message passing, as GraphStorm
# 0.5.1 on DGL 2.1 does), next to the default correct exclusion.
#
#   usage: benches/train_compare.sh [OUT_DIR]     (default target/train-compare)
#   env: SCALE=1 (gen_planted.py --scale), REPEATS=3, TASKS="nc_rgcn nc_mlp" (also lp_rgcn,
#        lp_rgcn@off), EPOCHS= (override num_epochs on both sides),
#        GS=1 (0: skip GraphStorm, reuse OUT_DIR/gs/summary.json if there),
#        GP_FLAGS="" (extra graphprep flags, e.g. "--num-omp-threads 1 --threads 1")
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
shared=$repo/../shared
out=${1:-$repo/target/train-compare}
SCALE=${SCALE:-1}
REPEATS=${REPEATS:-3}
TASKS=${TASKS:-nc_rgcn nc_mlp}
GS=${GS:-1}
GP_FLAGS=${GP_FLAGS:-}
EPOCHS=${EPOCHS:-}
GS_TASKS=$(for t in $TASKS; do echo "${t%@*}"; done | awk '!seen[$0]++' | tr '\n' ' ')
source "$here/time_v.sh"
mkdir -p "$out"
out=$(cd "$out" && pwd)
PY=${PY:-$(bash "$shared/refenv.sh" | tail -1)}
log() { echo "[$(date +%T)] $*" >&2; }

data=$out/planted-$SCALE
if [ ! -f "$data/config.json" ]; then
  log "gen_planted.py --scale $SCALE -> $data"
  "$PY" "$shared/bench/train/gen_planted.py" "$data" --scale "$SCALE" --no-baselines >/dev/null
fi

(cd "$repo" && cargo build --release --features hdf5 --quiet)
gp=$repo/target/release/graphprep

# ---- GraphStorm ----
if [ "$GS" = 1 ]; then
  log "GraphStorm: run_gs_train.sh (TASKS=$GS_TASKS REPEATS=$REPEATS)"
  TASKS="$GS_TASKS" REPEATS="$REPEATS" EPOCHS="$EPOCHS" PY="$PY" WAIT_IDLE= \
    bash "$shared/bench/train/run_gs_train.sh" "$data" "$out/gs" >"$out/gs.log" 2>&1 \
    || { tail -20 "$out/gs.log" >&2; exit 1; }
fi

# ---- graphprep ----
graph=$out/gp-graph
if [ ! -f "$graph/planted.json" ]; then
  (cd "$data" && /usr/bin/time -v -o "$out/gp-construct.time" "$gp" construct --conf-file config.json \
     --output-dir "$graph" --graph-name planted --num-parts 1 --add-reverse-edges --quiet)
  time_record "$out/gp-construct.time" "$out/gp-construct.txt" "graphprep construct"
fi
for task in $TASKS; do
  base=${task%@*}; extra=()
  case $base in lp_*) cmd=gs_link_prediction ;; *) cmd=gs_node_classification ;; esac
  [ "$task" != "$base" ] && extra=(--exclusion "${task#*@}")
  [ -n "$EPOCHS" ] && extra+=(--num-epochs "$EPOCHS")
  for rep in $(seq 1 "$REPEATS"); do
    ws=$out/gp/$task/r$rep; rm -rf "$ws"; mkdir -p "$ws"
    # shellcheck disable=SC2086
    /usr/bin/time -v -o "$ws/time.txt" "$gp" $cmd --part-config "$graph/planted.json" \
      --num-trainers 1 --num-servers 1 --num-samplers 0 --cf "$shared/bench/train/$base.yaml" \
      --metrics-file "$ws/metrics.json" ${extra[@]+"${extra[@]}"} $GP_FLAGS 2>"$ws/train.log"
    grep -E "Epoch [0-9]+ take|Best Test" "$ws/train.log" | tail -2 | sed 's/^/    /' >&2
  done
done

# ---- table ----
"$PY" - "$out" "$TASKS" "$REPEATS" <<'EOF'
import json, re, statistics, sys, pathlib
out, tasks, reps = pathlib.Path(sys.argv[1]), sys.argv[2].split(), int(sys.argv[3])
def med(v): return statistics.median(v) if v else float("nan")
def gs_task(task):
    ep, ev, acc, rss = [], [], [], []
    for r in range(1, reps + 1):
        d = out / "gs" / task / f"r{r}"
        if not (d / "train.log").exists(): continue
        t = (d / "train.log").read_text()
        ep += [float(x) for x in re.findall(r"Epoch \d+ take ([\d.]+) seconds", t)]
        ev += [float(x) for x in re.findall(r"Eval time: ([\d.]+)", t)]
        b = re.findall(r"Best Test \w+: ([\d.]+)", t)
        if b: acc.append(float(b[-1]))
        m = d / "mem.json"
        if m.exists():
            j = json.loads(m.read_text())
            rss.append(j["peak_tree_rss_mb"])
    return med(ep), med(ev), med(acc), med(rss)
def gp_task(task):
    ep, ev, acc, rss, prof = [], [], [], [], []
    for r in range(1, reps + 1):
        d = out / "gp" / task / f"r{r}"
        m = json.loads((d / "metrics.json").read_text())
        ep += [e["train_seconds"] for e in m["epochs"]]
        ev += [e["eval_seconds"] for e in m["epochs"] if e["eval_seconds"] is not None]
        acc.append(m["best"]["test"])
        prof += [e["profile"] for e in m["epochs"]]
        t = (d / "time.txt").read_text()
        rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024)
    p = {k: med([x[k] for x in prof]) for k in prof[0]} if prof else {}
    return med(ep), med(ev), med(acc), med(rss), p
rows = ["| task | tool | s/epoch (median) | eval s (median) | test metric (median) | peak RSS MiB |", "|---|---|---|---|---|---|"]
for task in tasks:
    g = gs_task(task.split("@")[0]); p = gp_task(task)
    rows.append(f"| {task} | GraphStorm 0.5.1 | {g[0]:.3f} | {g[1]:.3f} | {g[2]:.4f} | {g[3]:.0f} |")
    rows.append(f"| {task} | graphprep | {p[0]:.3f} | {p[1]:.3f} | {p[2]:.4f} | {p[3]:.0f} |")
    if g[0] == g[0] and p[0] > 0:
        rows.append(f"| {task} | ratio | {g[0] / p[0]:.1f}x faster | {g[1] / max(p[1], 1e-9):.1f}x | {p[2] - g[2]:+.4f} | {p[3] / g[3]:.2f} of GS |")
    rows.append(f"|  | graphprep profile (median s per epoch) | " + ", ".join(f"{k} {v:.3f}" for k, v in p[4].items()) + " | | | |")
text = "\n".join(rows)
(out / "summary.md").write_text(text + "\n")
print(text)
EOF
