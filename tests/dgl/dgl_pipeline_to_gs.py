#!/usr/bin/env python3
"""Turns the output of DGL's own dispatch pipeline (tools/distpartitioning/data_proc_pipeline.py
with --save-orig-nids --save-orig-eids) into the layout GraphStorm's trainers and
check_output.py read: <G>.json (DGL's metadata.json), node_mapping.pt / edge_mapping.pt
(shuffled per-type ID -> original per-type ID, concatenated over partitions, from
part*/orig_nids.dgl / orig_eids.dgl: what GraphStorm's gpartition does after dispatch), plus
the chunked folder's raw_id_mappings/, data_transform_new.json and label statistics.

    dgl_pipeline_to_gs.py --dgl-out DIR --chunked DIR --graph-name G
"""
import argparse
import json
import os
import shutil

import torch
from dgl.data.utils import load_tensors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dgl-out", required=True)
    ap.add_argument("--chunked", required=True)
    ap.add_argument("--graph-name", required=True)
    a = ap.parse_args()
    meta = json.load(open(os.path.join(a.dgl_out, "metadata.json")))
    P = meta["num_parts"]
    nmap, emap = {}, {}
    for p in range(P):
        for t, v in load_tensors(os.path.join(a.dgl_out, f"part{p}", "orig_nids.dgl")).items():
            nmap.setdefault(t, []).append(v)
        for t, v in load_tensors(os.path.join(a.dgl_out, f"part{p}", "orig_eids.dgl")).items():
            emap.setdefault(tuple(t.split(":")), []).append(v)
    nmap = {t: torch.cat(v) for t, v in nmap.items()}
    emap = {t: torch.cat(v) for t, v in emap.items()}
    if list(nmap) == ["_N"] and list(emap) == [("_N", "_E", "_N")]:
        nmap, emap = nmap["_N"], emap[("_N", "_E", "_N")]
    torch.save(nmap, os.path.join(a.dgl_out, "node_mapping.pt"))
    torch.save(emap, os.path.join(a.dgl_out, "edge_mapping.pt"))
    shutil.copy(os.path.join(a.dgl_out, "metadata.json"),
                os.path.join(a.dgl_out, a.graph_name + ".json"))
    for f in ("data_transform_new.json", "node_label_stats.json", "edge_label_stats.json"):
        if os.path.isfile(os.path.join(a.chunked, f)):
            shutil.copy(os.path.join(a.chunked, f), a.dgl_out)
    if os.path.isdir(os.path.join(a.chunked, "raw_id_mappings")):
        shutil.copytree(os.path.join(a.chunked, "raw_id_mappings"),
                        os.path.join(a.dgl_out, "raw_id_mappings"), dirs_exist_ok=True)


if __name__ == "__main__":
    main()
