#!/usr/bin/env python3
"""Compares two DistDGL output directories of the same construction config per raw ID.

Typical use: graphprep's output (A) against GraphStorm's `construct_graph` output (B), with any
number of partitions on either side. Needs torch + dgl (the GraphStorm refenv or the DGL test
venv) and pyarrow/pandas only if rank_gauss inputs are read. graphprep itself is not used.

    python tests/dgl/compare_with_reference.py A_DIR B_DIR --conf CONFIG.json [--base-dir DIR]

Every node and edge is mapped back to raw IDs through `node_mapping.pt` / `edge_mapping.pt` and
each directory's own `raw_id_mappings/` (types without one are NoopMap: raw ID = construction
ID). Then it compares:
  * node sets per type;
  * edge multisets per relation, as raw (src, dst) pairs (numpy sort of int64 keys), and whether
    the construction edge IDs agree (same (src, dst) at every construction EID);
  * every node/edge array per raw ID (edges: per construction EID when those agree):
      - no-op features and labels: exact (values and dtype); float64 values within 1e-12
        relative pass with the count and largest ulp distance reported (GraphStorm reads CSV
        with pandas' default float parser, which is not correctly rounded);
      - max_min_norm / standard / bucket_numerical / to_categorical: rtol 1e-5 (dtype must match);
      - rank_gauss: per column the sorted values (rtol 1e-5) and, per raw ID, only rows whose input
        value is unique in its column (GraphStorm breaks ties in numpy's unstable sort order);
      - edge_dst_hard_negative: the lists mapped back to raw dst IDs (shuffled -> raw), -1 kept;
      - masks: counts only (GraphStorm's splits are random per file; GraphStorm floors per
        file, graphprep globally, so counts may differ by up to one per file and mask);
  * learned transform state in data_transform_new.json (max_val/min_val/sum/mapping/...).
Exit status 0 when nothing differs beyond the mask-count report, 1 otherwise.
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np
import torch
from dgl.data.utils import load_tensors
import dgl

MASK_DEFAULT = ("train_mask", "val_mask", "test_mask")
RTOL = 1e-5


def log(*a):
    print(*a, flush=True)


# ------------------------------------------------------------------------------------------------
# loading one output directory
# ------------------------------------------------------------------------------------------------
class Output:
    def __init__(self, path, name):
        self.path = path
        self.name = name
        cfgs = [p for p in glob.glob(os.path.join(path, "*.json"))
                if os.path.basename(p) not in ("data_transform_new.json", "node_label_stats.json",
                                               "edge_label_stats.json", "partition_stats.json")]
        part_cfg = None
        for p in cfgs:
            with open(p) as f:
                d = json.load(f)
            if "node_map" in d and "num_parts" in d:
                part_cfg = d
        assert part_cfg is not None, f"{path}: no partition config json"
        self.pc = part_cfg
        self.num_parts = part_cfg["num_parts"]
        self.ntypes = sorted(part_cfg["ntypes"], key=lambda t: part_cfg["ntypes"][t])
        self.etypes = sorted(part_cfg["etypes"], key=lambda t: part_cfg["etypes"][t])
        self.homogeneous = self.ntypes == ["_N"]
        self.counts_n = {t: [e - s for s, e in part_cfg["node_map"][t]] for t in self.ntypes}
        self.counts_e = {t: [e - s for s, e in part_cfg["edge_map"][t]] for t in self.etypes}
        nm = torch.load(os.path.join(path, "node_mapping.pt"), weights_only=True)
        em = torch.load(os.path.join(path, "edge_mapping.pt"), weights_only=True)
        if not isinstance(nm, dict):
            nm = {self.ntypes[0]: nm}
        if not isinstance(em, dict):
            em = {self.etypes[0]: em}
        # shuffled per-type ID -> construction ID
        self.nmap = {t: nm[t].numpy().astype(np.int64) for t in self.ntypes}
        self.emap = {}
        for k, v in em.items():
            key = ":".join(k) if isinstance(k, tuple) else k
            self.emap[key] = v.numpy().astype(np.int64)
        for t in self.ntypes:
            assert len(self.nmap[t]) == sum(self.counts_n[t]), (name, t)
        # construction ID -> raw ID
        self.raw = {}
        for t in self.ntypes:
            d = os.path.join(path, "raw_id_mappings", t)
            n = sum(self.counts_n[t])
            if os.path.isdir(d):
                import pyarrow.parquet as pq
                files = sorted(glob.glob(os.path.join(d, "*.parquet")))
                tabs = [pq.read_table(f) for f in files]
                orig = np.concatenate([tb.column("orig").to_numpy(zero_copy_only=False)
                                       for tb in tabs])
                new = np.concatenate([tb.column("new").to_numpy() for tb in tabs])
                assert len(new) == n, (name, t, len(new), n)
                raw = np.empty(n, dtype=orig.dtype)
                raw[new] = orig
                if raw.dtype == object:
                    raw = raw.astype(str)
                self.raw[t] = raw
            else:
                self.raw[t] = np.arange(n, dtype=np.int64)
        self._feats = None

    def _load_feats(self):
        """Concatenates every partition's feature dicts; rows indexed by shuffled per-type ID."""
        nf, ef = {}, {}
        for p in range(self.num_parts):
            meta = self.pc[f"part-{p}"]
            base = self.path
            for key, dst in (("node_feats", nf), ("edge_feats", ef)):
                fpath = os.path.join(base, meta[key])
                if not os.path.exists(fpath):
                    continue
                for k, v in load_tensors(fpath).items():
                    dst.setdefault(k, []).append((p, v.numpy()))
        self.nfeat = {}
        for k, parts in nf.items():
            t, f = k.split("/", 1)
            self.nfeat[(t, f)] = self._concat(parts, self.counts_n[t], k)
        self.efeat = {}
        for k, parts in ef.items():
            t, f = k.split("/", 1)
            self.efeat[(t, f)] = self._concat(parts, self.counts_e[t], k)
        self._feats = True

    def _concat(self, parts, counts, key):
        by_p = dict(parts)
        arrs = []
        for p, c in enumerate(counts):
            if c == 0 and p not in by_p:
                continue
            a = by_p[p]
            # GraphStorm squeezes 1-row partition tensors (quirk): restore the row axis
            if a.shape[0] != c and c == 1:
                a = a.reshape((1,) + a.shape)
            assert a.shape[0] == c, f"{self.name}: {key} part {p} has {a.shape[0]} rows, want {c}"
            arrs.append(a)
        return np.concatenate(arrs) if len(arrs) > 1 else arrs[0]

    def node_feats(self):
        if self._feats is None:
            self._load_feats()
        return self.nfeat

    def edge_feats(self):
        if self._feats is None:
            self._load_feats()
        return self.efeat

    def edges(self):
        """Per relation: (src construction IDs, dst construction IDs) indexed by construction EID."""
        nstarts, nends, ntyp, noff = self._ranges(self.pc["node_map"], self.ntypes)
        estarts, eends, etyp, eoff = self._ranges(self.pc["edge_map"], self.etypes)
        out_src = {t: np.full(sum(self.counts_e[t]), -1, np.int64) for t in self.etypes}
        out_dst = {t: np.full(sum(self.counts_e[t]), -1, np.int64) for t in self.etypes}
        for p in range(self.num_parts):
            g = dgl.load_graphs(os.path.join(self.path, self.pc[f"part-{p}"]["part_graph"]))[0][0]
            u, v = g.edges()
            inner = g.edata["inner_edge"].numpy().astype(bool)
            gnid = g.ndata["_ID"].numpy()
            geid = g.edata["_ID"].numpy()[inner]
            su = gnid[u.numpy()[inner]]
            sv = gnid[v.numpy()[inner]]
            ek = np.searchsorted(estarts, geid, side="right") - 1
            assert np.all(geid < eends[ek])
            for ti, t in enumerate(self.etypes):
                sel = etyp[ek] == ti
                if not sel.any():
                    continue
                shuf_eid = geid[sel] - estarts[ek[sel]] + eoff[ek[sel]]
                ceid = self.emap[t][shuf_eid]
                s_t, _, d_t = t.split(":")
                for arr, nodes, nt in ((out_src, su[sel], s_t), (out_dst, sv[sel], d_t)):
                    nk = np.searchsorted(nstarts, nodes, side="right") - 1
                    assert np.all(ntyp[nk] == self.ntypes.index(nt)), (self.name, t)
                    shuf_nid = nodes - nstarts[nk] + noff[nk]
                    arr[t][ceid] = self.nmap[nt][shuf_nid]
        for t in self.etypes:
            assert (out_src[t] >= 0).all() and (out_dst[t] >= 0).all(), (self.name, t)
        return {t: (out_src[t], out_dst[t]) for t in self.etypes}

    @staticmethod
    def _ranges(mp, types):
        rows = []
        for ti, t in enumerate(types):
            off = 0
            for s, e in mp[t]:
                if e > s:
                    rows.append((s, e, ti, off))
                off += e - s
        rows.sort()
        a = np.array(rows, dtype=np.int64).reshape(-1, 4)
        return a[:, 0], a[:, 1], a[:, 2], a[:, 3]

    def runtime_conf(self):
        p = os.path.join(self.path, "data_transform_new.json")
        if os.path.exists(p):
            with open(p) as f:
                return json.load(f)
        return None


# ------------------------------------------------------------------------------------------------
# reading raw input columns (only needed for rank_gauss uniqueness)
# ------------------------------------------------------------------------------------------------
def read_columns(block, cols, base_dir):
    import pandas as pd
    import pyarrow.parquet as pq
    files = block["files"]
    files = [files] if isinstance(files, str) else files
    paths = []
    for f in files:
        f = os.path.join(base_dir, f)
        if "*" in f:
            paths.extend(sorted(glob.glob(f)))
        elif os.path.isdir(f):
            paths.extend(sorted(glob.glob(os.path.join(f, "*"))))
        else:
            paths.append(f)
    paths = sorted(paths)
    fmt = block["format"]["name"]
    out = {c: [] for c in cols}
    for p in paths:
        if fmt == "parquet":
            df = pq.read_table(p, columns=cols).to_pandas()
        elif fmt == "csv":
            df = pd.read_csv(p, sep=block["format"].get("separator", ","))
        elif fmt == "json":
            df = pd.read_json(p, lines=True)
        else:
            raise ValueError(f"unsupported format {fmt}")
        for c in cols:
            out[c].append(df[c].to_numpy())
    return {c: np.concatenate(v) for c, v in out.items()}


# ------------------------------------------------------------------------------------------------
# comparison
# ------------------------------------------------------------------------------------------------
class Report:
    def __init__(self):
        self.problems = []
        self.notes = []

    def bad(self, msg):
        self.problems.append(msg)
        log("  DIFF  " + msg)

    def ok(self, msg):
        log("  ok    " + msg)

    def note(self, msg):
        self.notes.append(msg)
        log("  note  " + msg)


def codes_for(raw_a, raw_b):
    """Common integer codes of the raw IDs of one node type (None if the sets differ)."""
    if len(raw_a) != len(raw_b):
        return None
    sa, sb = np.sort(raw_a), np.sort(raw_b)
    if sa.dtype != sb.dtype and sa.dtype.kind != sb.dtype.kind:
        return None
    if not np.array_equal(sa, sb):
        return None
    return np.searchsorted(sa, raw_a), np.searchsorted(sa, raw_b), sa


def by_code(arr, nmap, code):
    """Rows of a per-shuffled-ID array reordered to code order (code = raw ID rank)."""
    out = np.empty_like(arr)
    out[code[nmap]] = arr
    return out


def feature_specs(conf, homogeneous=False):
    """(kind, type_key, name) -> dict with transform name, label/mask info. A homogeneous
    output names its one type `_N` / `_N:_E:_N` whatever the config calls it."""
    specs = {"node": {}, "edge": {}}
    for kind, blocks in (("node", conf.get("nodes", [])), ("edge", conf.get("edges", []))):
        for b in blocks:
            key = b["node_type"] if kind == "node" else ":".join(b["relation"])
            if homogeneous:
                key = "_N" if kind == "node" else "_N:_E:_N"
            for f in b.get("features", []):
                cols = f["feature_col"]
                name = f.get("feature_name", cols if isinstance(cols, str) else None)
                tr = f.get("transform", {"name": "no-op"})
                specs[kind][(key, name)] = {"kind": "feature", "transform": tr, "block": b,
                                            "cols": [cols] if isinstance(cols, str) else cols}
            for lab in b.get("labels", []):
                masks = tuple(lab.get("mask_field_names", MASK_DEFAULT))
                if lab["task_type"] != "link_prediction" and "label_col" in lab:
                    specs[kind][(key, lab["label_col"])] = {"kind": "label", "label": lab}
                for m in masks:
                    specs[kind][(key, m)] = {"kind": "mask", "label": lab, "masks": masks}
    return specs


def close(a, b, rtol=RTOL):
    """Elementwise comparison; integer arrays exactly, floats with rtol (chunked: the multi-hot
    matrices can be GBs)."""
    if a.shape != b.shape:
        return False, f"shape {a.shape} vs {b.shape}"
    if a.size == 0:
        return True, "empty"
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        if np.array_equal(a, b):
            return True, "exact"
        bad = a != b
        idx = np.argwhere(bad)[0]
        return False, (f"{int(bad.sum())} values differ (first at {tuple(int(i) for i in idx)}: "
                       f"{a[tuple(idx)]!r} vs {b[tuple(idx)]!r})")
    a2, b2 = a.reshape(len(a), -1), b.reshape(len(b), -1)
    nbad, first, maxdiff = 0, None, 0.0
    step = max(1, (1 << 22) // max(1, a2.shape[1]))
    for s in range(0, len(a2), step):
        x, y = a2[s:s + step].astype(np.float64), b2[s:s + step].astype(np.float64)
        d = np.abs(x - y)
        d[np.isnan(x) & np.isnan(y)] = 0
        if d.size:
            maxdiff = max(maxdiff, float(np.nanmax(d)))
        bad = ~np.isclose(x, y, rtol=rtol, atol=1e-7, equal_nan=True)
        if bad.any():
            nbad += int(bad.sum())
            if first is None:
                r, c = np.argwhere(bad)[0]
                first = (s + int(r), int(c), x[r, c], y[r, c])
    if nbad:
        return False, (f"{nbad} values differ (first at row {first[0]} col {first[1]}: "
                       f"{first[2]!r} vs {first[3]!r}; max abs diff {maxdiff:.3g})")
    return True, f"max abs diff {maxdiff:.3g}"


def compare_state(rep, ca, cb):
    """Learned transform state in the two runtime configs."""
    if ca is None or cb is None:
        rep.note("a data_transform_new.json is missing; learned state not compared")
        return
    for sect in ("nodes", "edges"):
        for ba, bb in zip(ca.get(sect, []), cb.get(sect, [])):
            for fa, fb in zip(ba.get("features", []), bb.get("features", [])):
                ta, tb = fa.get("transform", {}), fb.get("transform", {})
                name = fa.get("feature_name", fa.get("feature_col"))
                for k in sorted(set(ta) | set(tb)):
                    va, vb = ta.get(k), tb.get(k)
                    if va == vb:
                        continue
                    try:
                        if np.allclose(np.asarray(va, float), np.asarray(vb, float), rtol=RTOL):
                            continue
                    except (TypeError, ValueError):
                        pass
                    if isinstance(va, dict) and isinstance(vb, dict) and \
                            {str(x): y for x, y in va.items()} == {str(x): y for x, y in vb.items()}:
                        continue
                    rep.bad(f"runtime config {sect} {name}: transform[{k!r}] {str(va)[:80]} vs "
                            f"{str(vb)[:80]}")
                if fa.get("feature_dim") != fb.get("feature_dim"):
                    rep.bad(f"runtime config {name}: feature_dim {fa.get('feature_dim')} vs "
                            f"{fb.get('feature_dim')}")
    rep.ok("learned transform state in data_transform_new.json compared")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="first output dir (graphprep)")
    ap.add_argument("b", help="second output dir (GraphStorm reference)")
    ap.add_argument("--conf", help="construction config (default: A's data_transform_new.json)")
    ap.add_argument("--base-dir", help="where the config's relative input paths resolve "
                    "(default: the config's folder); only read for rank_gauss")
    ap.add_argument("--rtol", type=float, default=RTOL)
    args = ap.parse_args()
    t0 = time.time()
    rep = Report()
    A = Output(args.a, "A")
    B = Output(args.b, "B")
    log(f"A = {args.a} ({A.num_parts} part(s)); B = {args.b} ({B.num_parts} part(s))")
    conf_path = args.conf or os.path.join(args.a, "data_transform_new.json")
    with open(conf_path) as f:
        conf = json.load(f)
    base_dir = args.base_dir or os.path.dirname(os.path.abspath(conf_path))
    specs = feature_specs(conf, homogeneous=A.homogeneous)

    # ---- node sets ------------------------------------------------------------------------------
    log("[nodes]")
    if A.ntypes != B.ntypes:
        rep.bad(f"node types {A.ntypes} vs {B.ntypes}")
    codes = {}
    for t in A.ntypes:
        if t not in B.ntypes:
            continue
        c = codes_for(A.raw[t], B.raw[t])
        if c is None:
            ra, rb = set(A.raw[t].tolist()), set(B.raw[t].tolist())
            rep.bad(f"node set of {t}: {len(ra)} vs {len(rb)} nodes, {len(ra - rb)} only in A, "
                    f"{len(rb - ra)} only in B")
            continue
        codes[t] = c
        same_ids = np.array_equal(A.raw[t], B.raw[t])
        rep.ok(f"{t}: {len(A.raw[t])} nodes, same raw ID set; construction IDs "
               f"{'identical' if same_ids else 'DIFFER'}")
        if not same_ids:
            rep.note(f"{t}: construction IDs differ (allowed only for featureless order changes)")

    # ---- edges ----------------------------------------------------------------------------------
    log("[edges]")
    if sorted(A.etypes) != sorted(B.etypes):
        rep.bad(f"edge types {A.etypes} vs {B.etypes}")
    t1 = time.time()
    ea, eb = A.edges(), B.edges()
    log(f"  (edges loaded in {time.time() - t1:.1f} s)")
    same_eid = {}
    for t in A.etypes:
        if t not in eb:
            continue
        s_t, _, d_t = t.split(":")
        if s_t not in codes or d_t not in codes:
            rep.bad(f"{t}: endpoint node sets differ, edges not compared")
            continue
        nd = len(codes[d_t][2])
        ka = codes[s_t][0][ea[t][0]] * nd + codes[d_t][0][ea[t][1]]
        kb = codes[s_t][1][eb[t][0]] * nd + codes[d_t][1][eb[t][1]]
        if len(ka) != len(kb):
            rep.bad(f"{t}: {len(ka)} vs {len(kb)} edges")
            continue
        if not np.array_equal(np.sort(ka), np.sort(kb)):
            sa, sb = np.sort(ka), np.sort(kb)
            rep.bad(f"{t}: edge multisets differ ({int((sa != sb).sum())} sorted positions)")
            continue
        same_eid[t] = bool(np.array_equal(ka, kb))
        rep.ok(f"{t}: {len(ka)} edges, same raw (src,dst) multiset; per-construction-EID "
               f"endpoints {'identical' if same_eid[t] else 'DIFFER'}")
        if not same_eid[t]:
            rep.bad(f"{t}: construction edge IDs differ (same multiset, different order)")

    # ---- node data ------------------------------------------------------------------------------
    log("[node data]")
    nfa, nfb = A.node_feats(), B.node_feats()
    keys = sorted(set(nfa) | set(nfb))
    raw_cache = {}
    mask_rows = []
    for key in keys:
        t, name = key
        if key not in nfa or key not in nfb:
            rep.bad(f"node {t}/{name} only in {'A' if key in nfa else 'B'}")
            continue
        if t not in codes:
            continue
        xa = by_code(nfa[key], A.nmap[t], codes[t][0])
        xb = by_code(nfb[key], B.nmap[t], codes[t][1])
        spec = specs["node"].get((t, name)) or specs["node"].get(("_N", name)) or {"kind": "?"}
        compare_array(rep, f"node {t}/{name}", xa, xb, spec, codes[t], None, raw_cache,
                      base_dir, mask_rows, "node", None, None)
    log("[edge data]")
    efa, efb = A.edge_feats(), B.edge_feats()
    for key in sorted(set(efa) | set(efb)):
        t, name = key
        if key not in efa or key not in efb:
            rep.bad(f"edge {t}/{name} only in {'A' if key in efa else 'B'}")
            continue
        if not same_eid.get(t):
            rep.bad(f"edge {t}/{name}: not compared (construction EIDs differ)")
            continue
        xa = np.empty_like(efa[key])
        xa[A.emap[t]] = efa[key]
        xb = np.empty_like(efb[key])
        xb[B.emap[t]] = efb[key]
        spec = specs["edge"].get((t, name)) or {"kind": "?"}
        compare_array(rep, f"edge {t}/{name}", xa, xb, spec, None, t, raw_cache, base_dir,
                      mask_rows, "edge", A, B)

    log("[masks]")
    for label, ca, cb, note in mask_rows:
        log(f"  {label:50s} A {ca:>9d}  B {cb:>9d}  diff {ca - cb:+d}{note}")

    log("[runtime config]")
    compare_state(rep, A.runtime_conf(), B.runtime_conf())
    for fn in ("node_label_stats.json", "edge_label_stats.json"):
        pa, pb = os.path.join(args.a, fn), os.path.join(args.b, fn)
        if os.path.exists(pa) != os.path.exists(pb):
            rep.bad(f"{fn} present in only one output")
        elif os.path.exists(pa):
            with open(pa) as f:
                ja = json.load(f)
            with open(pb) as f:
                jb = json.load(f)
            if ja.keys() != jb.keys():
                rep.bad(f"{fn}: types {list(ja)} vs {list(jb)}")
            else:
                rep.ok(f"{fn}: same types (counts depend on the random train mask)")

    log(f"compare_with_reference: {'OK' if not rep.problems else 'DIFF'} "
        f"({len(rep.problems)} difference(s), {len(rep.notes)} note(s), "
        f"{time.time() - t0:.1f} s)")
    return 0 if not rep.problems else 1


PARSE_NOTE = ("GraphStorm reads CSV through pandas' default float parser, which is not correctly "
              "rounded; graphprep parses the value the file holds")
PARSE_RTOL = 1e-12


def parse_close(xa, xb):
    """float64 arrays whose differences are all within PARSE_RTOL relative (pandas' default CSV
    parser is off by up to ~5e-13, thousands of ulps for small values): a message saying how
    many differ and by how much, or None."""
    if xa.dtype != np.float64 or xb.dtype != np.float64 or xa.shape != xb.shape:
        return None
    if not np.array_equal(np.isnan(xa), np.isnan(xb)):
        return None
    a, b = np.nan_to_num(xa), np.nan_to_num(xb)
    scale = np.maximum(np.abs(a), np.abs(b))
    if not np.all(np.abs(a - b) <= PARSE_RTOL * scale):
        return None
    d = a != b
    ulps = np.abs(a - b)[d] / np.spacing(scale[d])
    return (f"{int(d.sum())} values differ, by at most {ulps.max():.0f} ulps "
            f"(relative {PARSE_RTOL:g}): {PARSE_NOTE}")


def compare_array(rep, label, xa, xb, spec, code, etype, raw_cache, base_dir, mask_rows, kind,
                  A, B):
    if xa.dtype != xb.dtype:
        rep.bad(f"{label}: dtype {xa.dtype} vs {xb.dtype}")
    if xa.shape != xb.shape:
        rep.bad(f"{label}: shape {xa.shape} vs {xb.shape}")
        return
    k = spec["kind"]
    if k == "mask":
        ca, cb = int((xa != 0).sum()), int((xb != 0).sum())
        mask_rows.append((label, ca, cb, ""))
        if not set(np.unique(xa).tolist()) <= {0, 1}:
            rep.bad(f"{label}: A has values other than 0/1")
        return
    if k == "label":
        same = np.array_equal(xa, xb, equal_nan=True) if xa.dtype.kind == "f" \
            else np.array_equal(xa, xb)
        if same:
            rep.ok(f"{label}: label identical per raw ID")
        elif why := parse_close(xa, xb):
            rep.ok(f"{label}: label equal per raw ID up to CSV parsing; {why}")
        else:
            rep.bad(f"{label}: label differs at {int((xa != xb).sum())} rows")
        return
    if k != "feature":
        ok, msg = close(xa, xb)
        (rep.ok if ok else rep.bad)(f"{label} (unknown kind): {msg}")
        return
    tr = spec["transform"]["name"]
    if tr == "no-op":
        if np.array_equal(xa, xb):
            rep.ok(f"{label} (no-op): exact")
        elif why := parse_close(xa, xb):
            rep.ok(f"{label} (no-op): exact up to CSV parsing; {why}")
        else:
            ok, msg = close(xa, xb)
            rep.bad(f"{label} (no-op): not exact; {msg}")
    elif tr == "rank_gauss":
        ok1, msg1 = close(np.sort(xa, axis=0), np.sort(xb, axis=0))
        (rep.ok if ok1 else rep.bad)(f"{label} (rank_gauss): sorted columns: {msg1}")
        # per raw ID where the input value is unique in its column
        block = spec["block"]
        try:
            uniq = unique_rows(block, spec["cols"], base_dir, kind, code, raw_cache)
        except Exception as e:  # noqa: BLE001  (inputs unreadable: report, don't fail)
            rep.note(f"{label} (rank_gauss): inputs not readable ({e}); per-ID check skipped")
            return
        xa2 = xa.reshape(len(xa), -1)
        xb2 = xb.reshape(len(xb), -1)
        tot = 0
        for c in range(xa2.shape[1]):
            sel = uniq[:, c] if uniq.ndim == 2 else uniq
            tot += int(sel.sum())
            ok, msg = close(xa2[sel, c], xb2[sel, c])
            if not ok:
                rep.bad(f"{label} (rank_gauss) column {c}, unique-input rows: {msg}")
                return
        rep.ok(f"{label} (rank_gauss): per raw ID equal on {tot} unique-input values "
               f"of {xa2.size}")
    elif tr == "edge_dst_hard_negative":
        d_t = etype.split(":")[2]
        ra = hardneg_raw(xa, A, d_t)
        rb = hardneg_raw(xb, B, d_t)
        if ra.shape == rb.shape and np.array_equal(ra, rb):
            rep.ok(f"{label} (hard negative): identical raw dst IDs per edge")
        else:
            rep.bad(f"{label} (hard negative): raw dst IDs differ")
    else:
        ok, msg = close(xa, xb)
        (rep.ok if ok else rep.bad)(f"{label} ({tr}): {msg}")


def hardneg_raw(x, out, d_t):
    """Shuffled dst IDs (or -1) -> raw dst IDs as strings ('' for -1)."""
    x = x.astype(np.int64)
    raw = out.raw[d_t]
    res = np.full(x.shape, "", dtype=object)
    m = x >= 0
    res[m] = raw[out.nmap[d_t][x[m]]].astype(str)
    return res.astype(str)


def unique_rows(block, cols, base_dir, kind, code, cache):
    """Boolean (N, ncols): the row's input value is unique within its column. Nodes: rows in
    code order (raw ID rank); edges: rows in construction EID order (= input row order, valid
    when no edge was skipped)."""
    key = (id(block), tuple(cols))
    if key in cache:
        return cache[key]

    def as_2d(v, n):
        if v.dtype == object:  # list column (e.g. parquet fixed_size_list)
            v = np.stack([np.asarray(x, dtype=np.float64) for x in v])
        return np.asarray(v, dtype=np.float64).reshape(n, -1)

    if kind == "node":
        idc = block["node_id_col"]
        data = read_columns(block, [idc] + list(cols), base_dir)
        ids = data[idc]
        sorted_raw = code[2]
        ids = ids.astype(sorted_raw.dtype) if sorted_raw.dtype.kind != "U" else ids.astype(str)
        pos = np.searchsorted(sorted_raw, ids)
        n = len(sorted_raw)
    else:
        data = read_columns(block, list(cols), base_dir)
        n = len(data[cols[0]])
        pos = np.arange(n)
    vals = np.column_stack([as_2d(data[c], len(pos)) for c in cols])
    out = np.zeros((n, vals.shape[1]), dtype=bool)
    for c in range(vals.shape[1]):
        _, inv, cnt = np.unique(vals[:, c], return_inverse=True, return_counts=True)
        out[pos, c] = cnt[inv] == 1
    cache[key] = out
    return out


if __name__ == "__main__":
    sys.exit(main())
