"""Mutation tests for check_output.py: it must accept a good output directory and reject each
single corruption of it with a precise message.
    python tests/dgl/test_oracle.py GOOD_SHOP_DISTDGL_P1_DIR GOOD_SHOP_DGL_DIR [GOOD_HOMO_REV_P1_DIR]
(typically /tmp/graphprep-ref/shop-p1, shop-dgl and homo-rev from run_reference.sh;
graphprep output works too). Prints 'N passed, N failed'."""
import json, os, shutil, subprocess, sys, tempfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, "..", "..", "sample_data", "shop", "config.json")


HOMO = os.path.join(HERE, "..", "..", "sample_data", "homo", "config.json")


def oracle(out, *extra, homo=False):
    p = subprocess.run([sys.executable, os.path.join(HERE, "check_output.py"),
                        "--conf", HOMO if homo else CONF, "--out", out,
                        "--graph-name", "homo" if homo else "shop", "--reference-quirks", *extra],
                       capture_output=True, text=True)
    return p.returncode, p.stdout


def edit_tensors(path, fn):
    from dgl.data.utils import load_tensors, save_tensors
    d = load_tensors(path)
    fn(d)
    save_tensors(path, d)


def m_feature(d):
    def f(t):
        t["user/age"][3, 0] += 1
    edit_tensors(f"{d}/part0/node_feat.dgl", f)


def m_emb_dtype(d):
    def f(t):
        t["user/emb"] = t["user/emb"].double()
    edit_tensors(f"{d}/part0/node_feat.dgl", f)


def m_mask(d):
    def f(t):
        m = t["user/train_mask"]
        m[int((m == 0).nonzero()[0])] = 1
    edit_tensors(f"{d}/part0/node_feat.dgl", f)


def m_lp_mask(d):
    def f(t):
        t["user:buys:item/val_mask"][:] = 0
    edit_tensors(f"{d}/part0/edge_feat.dgl", f)


def m_regression_nan(d):
    def f(t):
        t["item/rating"][:] = t["item/rating"].nan_to_num(0.0)
    edit_tensors(f"{d}/part0/node_feat.dgl", f)


def m_rawid_swap(d):
    import pyarrow as pa, pyarrow.parquet as pq
    p = f"{d}/raw_id_mappings/user/part-00000.parquet"
    t = pq.read_table(p).to_pydict()
    t["orig"][0], t["orig"][1] = t["orig"][1], t["orig"][0]
    pq.write_table(pa.table({"orig": pa.array(t["orig"], pa.string()),
                             "new": pa.array(t["new"], pa.int64())}), p)


def m_noop_map(d):
    shutil.copytree(f"{d}/raw_id_mappings/tag", f"{d}/raw_id_mappings/store")


def m_feature_dim(d):
    p = f"{d}/data_transform_new.json"
    c = json.load(open(p))
    c["nodes"][0]["features"][1]["feature_dim"] = [4]
    json.dump(c, open(p, "w"))


def m_label_stats(d):
    p = f"{d}/node_label_stats.json"
    c = json.load(open(p))
    c["user"]["cls"]["info"]["0"] += 1
    json.dump(c, open(p, "w"))


def m_edge_mapping(d):
    import torch
    p = f"{d}/edge_mapping.pt"
    m = torch.load(p, weights_only=True)
    k = ("user", "buys", "item")
    m[k] = m[k][torch.tensor([1, 0] + list(range(2, len(m[k]))))]
    torch.save(m, p)


def m_dgl_drop_edge(d):
    import dgl
    g = dgl.load_graphs(f"{d}/shop.dgl")[0][0]
    g = dgl.remove_edges(g, [0], etype=("user", "follows", "user"))
    dgl.save_graphs(f"{d}/shop.dgl", [g])


def m_dgl_reverse_missing(d):
    pass  # checked with --reverse-edges against a non-reverse output


CASES = [  # (name, mutate, which dir, extra oracle flags, expected substring)
    ("feature value", m_feature, 0, [], "user/age: 1 rows differ"),
    ("feature dtype", m_emb_dtype, 0, [], "dtype float64, expected float32"),
    ("node mask count", m_mask, 0, [], "mask counts (train,val,test)"),
    ("edge mask count", m_lp_mask, 0, [], "user:buys:item/lp: mask counts"),
    ("regression NaN", m_regression_nan, 0, [], "item/rating (label)"),
    ("raw id order", m_rawid_swap, 0, [], "construction ID 0 is raw ID"),
    ("NoopMap dir", m_noop_map, 0, [], "raw_id_mappings/store exists"),
    ("feature_dim", m_feature_dim, 0, [], "feature_dim [4] != output shape [3]"),
    ("label stats", m_label_stats, 0, [], "node_label_stats.json[user]"),
    ("edge mapping", m_edge_mapping, 0, [], "edge_mapping.pt"),
    ("DGL dropped edge", m_dgl_drop_edge, 1, ["--expect-format", "DGL"], "edges of ('user', 'follows', 'user') differ"),
    ("missing reverse", m_dgl_reverse_missing, 0, ["--reverse-edges"], "edge types"),
    ("wrong format", m_dgl_reverse_missing, 0, ["--expect-format", "DGL"], "shop.dgl missing"),
]


def main():
    good = sys.argv[1:3]
    passed = failed = 0
    for i, fmt in enumerate(good):
        extra = [] if i == 0 else ["--expect-format", "DGL"]
        rc, out = oracle(good[i], *extra)
        ok = rc == 0 and out.startswith("check_output: OK")
        print(f"{'PASS' if ok else 'FAIL'} unmodified {fmt}: {out.strip()[:200]}")
        passed += ok; failed += not ok
    for name, fn, which, extra, want in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "o")
            shutil.copytree(good[which], d)
            fn(d)
            rc, out = oracle(d, *extra)
        ok = rc == 1 and want in out
        print(f"{'PASS' if ok else 'FAIL'} {name}: rc={rc} {out.strip().splitlines()[-1][:300] if out.strip() else ''}")
        passed += ok; failed += not ok
    if len(sys.argv) > 3:   # homogeneous + reverse edges: reverse half must have zero masks
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "o")
            shutil.copytree(sys.argv[3], d)
            rc, out = oracle(d, "--reverse-edges", homo=True)
            ok = rc == 0
            print(f"{'PASS' if ok else 'FAIL'} unmodified homo-rev: {out.strip()[:150]}")
            passed += ok; failed += not ok

            def f(t):
                t["_N:_E:_N/train_mask"][15] = 1
                t["_N:_E:_N/train_mask"][int((t["_N:_E:_N/train_mask"][:10] == 1).nonzero()[0])] = 0
            edit_tensors(f"{d}/part0/edge_feat.dgl", f)
            rc, out = oracle(d, "--reverse-edges", homo=True)
            ok = rc == 1 and "are in a mask but have no valid label (NaN) or are reverse edges" in out
            print(f"{'PASS' if ok else 'FAIL'} homo reverse-half mask set: rc={rc} "
                  f"{out.strip().splitlines()[-1][:200]}")
            passed += ok; failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
