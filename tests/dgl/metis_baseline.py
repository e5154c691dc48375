#!/usr/bin/env python3
"""Standalone-METIS baseline for graphprep's partitioner (refenv or DGL-venv python).

  write OUT GRAPH [--constraints none|graphstorm]
      From a 1-partition DistDGL output OUT, writes the symmetrized, deduplicated, self-loop-free
      graph (DGL's homogeneous ID space, what graphprep's METIS gets) in METIS graph-file format,
      plus GRAPH.src.npy / GRAPH.dst.npy for `cut`. `graphstorm` adds GraphStorm/DGL's vertex
      weights: one 0/1 column per balance tag (node type without masks, or a type's
      unlabeled/train/val/test group) and one in-degree column per tag. Then: `gpmetis GRAPH k`.
  cut GRAPH ITEM...
      Undirected edge cut and part sizes of each ITEM: a gpmetis `.part.k` file or a DistDGL
      output dir (partition of every node from node_map + node_mapping.pt).
"""
import argparse
import json
import os

import numpy as np
import torch
import dgl
from dgl.data.utils import load_tensors


def part_config(d):
    for f in os.listdir(d):
        if f.endswith(".json"):
            with open(os.path.join(d, f)) as fh:
                c = json.load(fh)
            if "node_map" in c:
                return c
    raise SystemExit(f"{d}: no partition config")


def write(out, gfile, constraints):
    g = dgl.load_graphs(os.path.join(out, "part0/graph.dgl"))[0][0]
    nid = g.ndata["_ID"].numpy()
    u, v = (nid[x.numpy()] for x in g.edges())
    n = g.num_nodes()
    a, b = np.concatenate([u, v]), np.concatenate([v, u])
    keep = a != b
    key = np.unique(a[keep].astype(np.int64) * n + b[keep])
    src, dst = key // n, key % n
    np.save(gfile + ".src.npy", src)
    np.save(gfile + ".dst.npy", dst)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])
    weights = None
    if constraints == "graphstorm":
        cfg = part_config(out)
        ntypes = sorted(cfg["ntypes"], key=lambda t: cfg["ntypes"][t])
        nf = load_tensors(os.path.join(out, "part0/node_feat.dgl"))
        indeg = np.bincount(v, minlength=n)
        tag = np.zeros(n, np.int64)
        ntag = 0
        for t in ntypes:
            s, e = cfg["node_map"][t][0]
            val = np.zeros(e - s, np.int64)
            for k, m in enumerate(("train_mask", "val_mask", "test_mask")):
                if f"{t}/{m}" in nf:
                    val += nf[f"{t}/{m}"].numpy().astype(np.int64) * (k + 1)
            uniq, inv = np.unique(val, return_inverse=True)
            tag[s:e] = ntag + inv
            ntag += len(uniq)
        cols = [(tag == k).astype(np.int64) for k in range(ntag)]
        cols += [np.where(tag == k, indeg, 0) for k in range(ntag)]
        weights = np.stack(cols, 1).astype(str)
        print("constraint totals:", [int(c.sum()) for c in cols])
    d1 = (dst + 1).astype(str)
    with open(gfile, "w") as f:
        f.write(f"{n} {len(key) // 2}" + (f" 010 {weights.shape[1]}" if weights is not None else "")
                + "\n")
        for i in range(n):
            row = d1[indptr[i]:indptr[i + 1]]
            f.write(" ".join(list(weights[i]) + list(row) if weights is not None else row) + "\n")
    print(f"{gfile}: {n} vertices, {len(key) // 2} undirected edges ({len(u)} directed input)")


def cut(gfile, items):
    src, dst = np.load(gfile + ".src.npy"), np.load(gfile + ".dst.npy")
    m = src < dst
    for it in items:
        if os.path.isdir(it):
            cfg = part_config(it)
            nm = torch.load(os.path.join(it, "node_mapping.pt"), weights_only=True)
            nm = nm if isinstance(nm, dict) else {"_N": nm}
            ntypes = sorted(cfg["ntypes"], key=lambda t: cfg["ntypes"][t])
            counts = [sum(e - s for s, e in cfg["node_map"][t]) for t in ntypes]
            off = np.concatenate([[0], np.cumsum(counts)])
            part = np.empty(off[-1], np.int64)
            for i, t in enumerate(ntypes):
                mp, k = nm[t].numpy(), 0
                for p, (s, e) in enumerate(cfg["node_map"][t]):
                    part[off[i] + mp[k:k + e - s]] = p
                    k += e - s
        else:
            part = np.loadtxt(it, dtype=np.int64)
        c = int((part[src[m]] != part[dst[m]]).sum())
        print(f"{it}: undirected cut {c} / {int(m.sum())} = {c / m.sum():.4f}; "
              f"part sizes {np.bincount(part).tolist()}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("out")
    w.add_argument("graph")
    w.add_argument("--constraints", choices=["none", "graphstorm"], default="none")
    c = sub.add_parser("cut")
    c.add_argument("graph")
    c.add_argument("items", nargs="+")
    args = ap.parse_args()
    if args.cmd == "write":
        write(args.out, args.graph, args.constraints)
    else:
        cut(args.graph, args.items)
