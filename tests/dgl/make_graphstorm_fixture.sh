#!/usr/bin/env bash
# Regenerates tests/fixtures/graphstorm/<name>/: GraphStorm's own construct_graph output (refenv
# python: torch 2.2.1, dgl 2.1.0, graphstorm 0.5.1) on the sample graphs, for readers that must
# accept GraphStorm's output as well as graphprep's.
#   usage: tests/dgl/make_graphstorm_fixture.sh [NAME...]   (default: all cases below)
# Env: REFPY (python with graphstorm 0.5.1; default ~/.cache/graphprep-refenv/bin/python).
# GraphStorm resolves relative input paths against the working directory, so it runs from the
# config's folder. Its output is not reproducible byte for byte (the random partitioning and
# the train/val/test splits are unseeded), so a rerun changes the committed bytes.
# The whole output folder is kept as GraphStorm wrote it; only the construct log (written next
# to the output by this script, not by GraphStorm) is left out.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
refpy=${REFPY:-$HOME/.cache/graphprep-refenv/bin/python}
dest=$root/tests/fixtures/graphstorm
cases=(
  "shop-rev-p1|shop|--num-parts 1 --add-reverse-edges"
  "shop-p2|shop|--num-parts 2 --part-method random"
  "homo-p1|homo|--num-parts 1"
)
want=("$@")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"
fails=0
for c in "${cases[@]}"; do
  IFS='|' read -r name graph flags <<<"$c"
  if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
  out=$work/$name; log=$work/$name.log
  ok=0
  # DGL 2.1 random partitioning is unseeded and crashes (IndexError in partition_graph) when a
  # partition gets no node of some type (~1 run in 8 with the 5-node store/tag types): retry.
  for try in 1 2 3 4 5; do
    rm -rf "$out"
    # shellcheck disable=SC2086  # flags are word lists
    if (cd "$root/sample_data/$graph" && "$refpy" -m graphstorm.gconstruct.construct_graph \
        --conf-file config.json --output-dir "$out" --graph-name "$graph" $flags >"$log" 2>&1); then
      ok=1; break
    fi
    grep -q "IndexError: index 0 is out of bounds" "$log" || break
    echo "  ($name: DGL's empty-partition crash, retrying)" >&2
  done
  if [ $ok -ne 1 ]; then
    echo "FAIL $name: construct_graph failed, last lines of its log:" >&2; tail -n 20 "$log" >&2
    fails=$((fails+1)); continue
  fi
  rm -rf "${dest:?}/$name"
  cp -a "$out" "$dest/$name"
  echo "$name: $(du -sh "$dest/$name" | cut -f1) ($(find "$dest/$name" -type f | wc -l) files)"
done
echo "total: $(du -sh "$dest" | cut -f1)"
[ $fails -eq 0 ]
