#!/usr/bin/env python3
"""Streaming generator of a large, featureless homogeneous edge list for scale runs.

    gen_edges.py OUT_DIR --edges E --nodes N [--files F] [--seed S]

Writes OUT_DIR/nodes.parquet (id: int64 0..N-1), OUT_DIR/edges-NNNN.parquet (src, dst: int32,
power-law-ish sources, uniform destinations) in F files, generated one file at a time so the
generator's memory stays at one file, and OUT_DIR/config.json (gconstruct) for graphprep.
Needs numpy and pyarrow (the env of ../shared/refenv.sh has both).
"""
import argparse
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--edges", type=int, required=True)
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--files", type=int, default=0, help="default: one file per 25M edges")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    assert a.nodes < 2**31
    os.makedirs(a.out, exist_ok=True)
    files = a.files or max(1, -(-a.edges // 25_000_000))
    rng = np.random.default_rng(a.seed)
    pq.write_table(pa.table({"id": np.arange(a.nodes, dtype=np.int64)}),
                   os.path.join(a.out, "nodes.parquet"))
    per = -(-a.edges // files)
    done = 0
    for f in range(files):
        n = min(per, a.edges - done)
        # Skewed sources (a few hubs), uniform destinations.
        src = (a.nodes * rng.random(n) ** 2).astype(np.int32)
        dst = rng.integers(0, a.nodes, n, dtype=np.int32)
        pq.write_table(pa.table({"src": src, "dst": dst}),
                       os.path.join(a.out, f"edges-{f:04d}.parquet"),
                       row_group_size=1 << 22)
        done += n
        print(f"wrote file {f + 1}/{files} ({done} edges)", flush=True)
    conf = {
        "version": "gconstruct-v0.1",
        "nodes": [{"node_type": "node", "format": {"name": "parquet"},
                   "files": ["nodes.parquet"], "node_id_col": "id"}],
        "edges": [{"relation": ["node", "links", "node"], "format": {"name": "parquet"},
                   "files": ["edges-*.parquet"], "source_id_col": "src", "dest_id_col": "dst"}],
    }
    with open(os.path.join(a.out, "config.json"), "w") as fh:
        json.dump(conf, fh, indent=2)


if __name__ == "__main__":
    main()
