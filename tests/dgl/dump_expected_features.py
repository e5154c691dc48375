#!/usr/bin/env python3
"""Dumps every node/edge array of a (GraphStorm reference) DistDGL output per raw ID to JSON.

    cd sample_data/shop_transforms
    REF=~/.cache/graphprep-refenv/bin/python
    $REF -m graphstorm.gconstruct.construct_graph --conf-file config.json \
        --output-dir /tmp/st-ref --graph-name shop
    $REF ../../tests/dgl/dump_expected_features.py /tmp/st-ref --conf config.json \
        > expected_features.json

Output (read by tests/transforms_compat.rs and tests/roundtrip.rs):
  {"source": ..., "transform_state": {"<type>/<feature>": transform dict of the runtime config},
   "node_types": {ntype: {"ids": [raw IDs in construction order],
                     "features": {name: {"transform", "dtype", "values": [[...] per node],
                                         "unique": [[bool per column] per node] (rank_gauss)}}}},
   "edge_types": {"src:rel:dst": {"src": [...], "dst": [...]  (raw IDs per construction EID),
                             "features": {name: {... "values": [[...] per edge]}}}}}
(Not "nodes"/"edges": a JSON under sample_data/ with a "nodes" key is taken for a config.)
Hard-negative values are raw dst IDs, null where GraphStorm padded with -1. Labels and masks
are left out (masks are random; labels are checked by the DGL oracle).
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_with_reference import Output, codes_for, feature_specs, unique_rows  # noqa: E402


def py(v):
    return v.item() if isinstance(v, np.generic) else v


def rows(x):
    x = x.reshape(len(x), -1)
    if x.dtype.kind == "f":
        return [[float(v) for v in r] for r in x]
    return [[int(v) for v in r] for r in x]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--conf", required=True)
    args = ap.parse_args()
    o = Output(args.out, "ref")
    with open(args.conf) as f:
        conf = json.load(f)
    base = os.path.dirname(os.path.abspath(args.conf))
    specs = feature_specs(conf)
    rt = o.runtime_conf()
    res = {"source": "GraphStorm 0.5.1 construct_graph (DGL 2.1.0), --num-parts 1; "
                     "regenerate with tests/dgl/dump_expected_features.py",
           "transform_state": {}, "node_types": {}, "edge_types": {}}
    for sect, kind in (("nodes", "node"), ("edges", "edge")):
        for b in rt[sect]:
            key = b["node_type"] if kind == "node" else ":".join(b["relation"])
            for f in b.get("features", []):
                res["transform_state"][f"{key}/{f['feature_name']}"] = f.get("transform", {})
    nf, ef = o.node_feats(), o.edge_feats()
    for t in o.ntypes:
        c = codes_for(o.raw[t], o.raw[t])
        ent = {"ids": [py(v) for v in o.raw[t]], "features": {}}
        for (tt, name), x in sorted(nf.items()):
            sp = specs["node"].get((tt, name))
            if tt != t or sp is None or sp["kind"] != "feature":
                continue
            x = x[np.argsort(o.nmap[t])]  # shuffled -> construction order (identity for 1 part)
            d = {"transform": sp["transform"]["name"], "dtype": str(x.dtype), "values": rows(x)}
            if d["transform"] == "rank_gauss":
                u = unique_rows(sp["block"], sp["cols"], base, "node", c, {})
                d["unique"] = [[bool(v) for v in r] for r in u[c[0]]]
            ent["features"][name] = d
        res["node_types"][t] = ent
    edges = o.edges()
    for t in o.etypes:
        s_t, _, d_t = t.split(":")
        src, dst = edges[t]
        ent = {"src": [py(v) for v in o.raw[s_t][src]], "dst": [py(v) for v in o.raw[d_t][dst]],
               "features": {}}
        for (tt, name), x in sorted(ef.items()):
            sp = specs["edge"].get((tt, name))
            if tt != t or sp is None or sp["kind"] != "feature":
                continue
            y = np.empty_like(x)
            y[o.emap[t]] = x
            tr = sp["transform"]["name"]
            d = {"transform": tr, "dtype": str(y.dtype)}
            if tr == "edge_dst_hard_negative":
                d["values"] = [[None if v < 0 else py(o.raw[d_t][o.nmap[d_t][v]]) for v in r]
                               for r in y]
            else:
                d["values"] = rows(y)
            if tr == "rank_gauss":
                u = unique_rows(sp["block"], sp["cols"], base, "edge", None, {})
                d["unique"] = [[bool(v) for v in r] for r in u]
            ent["features"][name] = d
        res["edge_types"][t] = ent
    json.dump(res, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
