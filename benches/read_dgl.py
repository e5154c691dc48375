#!/usr/bin/env python3
"""Reader-cost baseline: open a DistDGL output with real DGL and read every feature byte.

usage: read_dgl.py PARTITION_JSON_OR_OUTPUT_DIR

(a) open: dgl.distributed.load_partition(..., load_feats=True) for every partition (graph
    structure plus its node/edge feature tensors; all partitions stay loaded, as a reader of the
    whole output would hold them);
(b) touch: every node and edge feature tensor of every partition is summed in float64 chunks of
    at most ~64 MiB, so every row is converted and read.
Prints on stdout: read_dgl: parts=P open_s=X touch_s=Y total_s=Z feat_bytes=B
(feat_bytes: the in-memory size of all feature tensors). The import time of dgl/torch is printed
on stderr only; /usr/bin/time around this script sees it too.
Runs under any python with torch + dgl 2.1 (DGL venv or refenv).
"""
import glob, json, os, sys, time

t_imp = time.perf_counter()
import torch  # noqa: E402
import dgl  # noqa: E402
t_imp = time.perf_counter() - t_imp


def part_json(arg):
    if os.path.isfile(arg):
        return arg
    found = []
    for p in sorted(glob.glob(os.path.join(arg, "*.json"))):
        try:
            d = json.load(open(p))
        except ValueError:
            continue
        if isinstance(d, dict) and "num_parts" in d and "node_map" in d:
            found.append(p)
    if len(found) != 1:
        sys.exit(f"read_dgl: expected one partition JSON in {arg}, found {found or 'none'}")
    return found[0]


def touch(t, chunk_bytes=64 << 20):
    """Sum of every element as float64, in row chunks; returns the checksum."""
    if t.numel() == 0:
        return 0.0
    rows = t.shape[0] if t.dim() > 0 else 1
    flat = t.reshape(rows, -1)
    step = max(1, chunk_bytes // (8 * max(1, flat.shape[1])))
    s = 0.0
    for lo in range(0, rows, step):
        s += flat[lo:lo + step].to(torch.float64).sum().item()
    return s


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    conf = part_json(sys.argv[1])
    nparts = json.load(open(conf))["num_parts"]
    t0 = time.perf_counter()
    parts = []
    for i in range(nparts):
        g, nfeat, efeat, *_ = dgl.distributed.load_partition(conf, i, load_feats=True)
        parts.append((g, nfeat, efeat))
    t1 = time.perf_counter()
    feat_bytes = 0; checksum = 0.0; ntensors = 0
    for g, nfeat, efeat in parts:
        for feats in (nfeat, efeat):
            for t in feats.values():
                feat_bytes += t.numel() * t.element_size()
                checksum += touch(t)
                ntensors += 1
    t2 = time.perf_counter()
    nodes = sum(g.num_nodes() for g, _, _ in parts); edges = sum(g.num_edges() for g, _, _ in parts)
    print(f"read_dgl: import_s={t_imp:.3f} tensors={ntensors} local_nodes={nodes} "
          f"local_edges={edges} checksum={checksum:.6g}", file=sys.stderr)
    print(f"read_dgl: parts={nparts} open_s={t1 - t0:.3f} touch_s={t2 - t1:.3f} "
          f"total_s={t2 - t0:.3f} feat_bytes={feat_bytes}", flush=True)


if __name__ == "__main__":
    main()
