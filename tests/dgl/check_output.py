#!/usr/bin/env python3
"""Independent oracle for GraphStorm-gconstruct-compatible output (graphprep's or GraphStorm's).

    check_output.py --conf CONFIG.json --out OUTDIR --graph-name G
                    [--reverse-edges] [--expect-format DistDGL|DGL|both|chunked|DistDGL+chunked]
                    [--num-parts P]
                    [--split-counts global|reference|either] [--base-dir DIR]
                    [--remap-node-id] [--skip-nonexist-edges]

1. Reads the raw input tables named by the config itself (pandas / pyarrow / json; CSV, Parquet,
   JSON lines; globs expanded and the file list sorted lexicographically) and derives, following
   the rules of shared/spec/gconstruct.md (3.2 homogeneous renaming, 3.3 featureless types,
   3.4 IdMap/NoopMap, 3.6 edge order, 3.7 splits, 3.9 reverse edges):
   expected node sets keyed by raw ID (and their construction IDs), expected edge lists,
   expected no-op feature values, label values and mask counts.
2. Loads the output with REAL DGL (2.1): DistDGL partitions via load_partition_book /
   load_partition (DGL_DIST_DEBUG=1) / load_partition_feats for every partition, re-checks the
   static partition invariants, node_mapping.pt / edge_mapping.pt (torch.load weights_only=True),
   raw_id_mappings/<ntype>/part-*.parquet; and/or the DGL file <out>/<G>.dgl via dgl.load_graphs.
   Everything is mapped back to construction IDs and raw IDs and compared.
3. Checks data_transform_new.json and node/edge_label_stats.json.

Exit 0 with a one-line "check_output: OK (...)" summary, or exit 1 listing every failure.
Floats of no-op features are compared exactly (same float64->out_dtype cast as GraphStorm).
Hard negatives (edge_dst_hard_negative) are checked per edge as raw dst IDs (shuffled IDs are
mapped back through node_mapping.pt, so a DistDGL output left in construction-ID space fails).
Values of other non-no-op transforms (max_min_norm, to_categorical, ...) are only checked for
presence/row count/feature_dim; custom splits only for mask validity/disjointness.

Split counts (--split-counts): `global` (default) expects floor(N_valid * p) over the whole
type (int(n * p) in float64, like GraphStorm); `reference` expects GraphStorm's actual behaviour,
the sum over input files of floor(n_file * p); `either` accepts both. The sample data in
sample_data/ is laid out so that both agree.
"""
import argparse
import collections
import glob
import json
import os
import sys

import numpy as np

DEFAULT_MASKS = ("train_mask", "val_mask", "test_mask")
OUT_DTYPES = {"float16": np.float16, "float32": np.float32, "float64": np.float64, "int8": np.int8}
RUNTIME_VERSION = "gconstruct-runtime-v0.1"


class Fatal(Exception):
    pass


class Done(Exception):
    """Every requested check ran."""


class Report:
    def __init__(self):
        self.errors = []
        self.notes = []

    def check(self, cond, msg):
        if not cond:
            self.errors.append(msg)
        return bool(cond)

    def fatal(self, msg):
        self.errors.append(msg)
        raise Fatal(msg)


R = Report()


# ============================================================================ input side
def in_files(files, base):
    """get_in_files: str -> [str]; single dir -> dir/*; globs expanded; whole list sorted."""
    if isinstance(files, str):
        files = [files]
    files = [f if os.path.isabs(f) else os.path.join(base, f) for f in files]
    if len(files) == 1 and os.path.isdir(files[0]):
        files = [os.path.join(files[0], "*")]
    out = []
    for f in files:
        if "*" in f:
            m = sorted(glob.glob(f))
            if not m:
                R.fatal(f"input: no file matches {f}")
            out.extend(m)
        else:
            out.append(f)
    for f in out:
        if not os.path.isfile(f):
            R.fatal(f"input: {f} does not exist or is not a file")
    return sorted(out)


def _stack_rows(vals):
    """Rows that are arrays -> 2-D array (padded with zeros if ragged, like the JSON reader)."""
    width = max(len(v) for v in vals)
    if all(len(v) == width for v in vals):
        return np.stack([np.asarray(v) for v in vals])
    out = np.zeros((len(vals), width), dtype=np.asarray(vals[0]).dtype)
    for i, v in enumerate(vals):
        out[i, :len(v)] = v
    return out


def read_table(fmt, path, cols):
    """Returns {col: np.ndarray} (None for a file without data rows)."""
    name = fmt.get("name")
    if name == "csv":
        import pandas as pd
        df = pd.read_csv(path, delimiter=fmt.get("separator", ","))
        if df.shape[0] == 0:
            return None
        for c in cols:
            if c not in df:
                R.fatal(f"input: column {c!r} missing in {path}")
        return {c: df[c].to_numpy() for c in cols}
    if name == "parquet":
        import pyarrow.parquet as pq
        df = pq.read_table(path).to_pandas()
        if df.shape[0] == 0:
            return None
        out = {}
        for c in cols:
            if c not in df:
                R.fatal(f"input: column {c!r} missing in {path}")
            d = df[c].to_numpy()
            if d.dtype.hasobject and len(d) and isinstance(d[0], np.ndarray):
                lens = {len(x) for x in d}
                if len(lens) == 1:
                    d = np.stack(list(d))
            out[c] = d
        return out
    if name == "json":
        recs = []
        with open(path, encoding="utf8") as f:
            for line in f:
                if line.strip():
                    recs.append(json.loads(line))
        if not recs:
            R.fatal(f"input: JSON file {path} is empty")
        out = {}
        for c in cols:
            vals = []
            for r in recs:
                if c not in r:
                    R.fatal(f"input: field {c!r} missing in a record of {path}")
                vals.append(np.array(r[c]) if isinstance(r[c], list) else r[c])
            out[c] = _stack_rows(vals) if isinstance(vals[0], np.ndarray) else np.array(vals)
        return out
    if name == "hdf5":
        R.fatal("oracle: hdf5 input is not supported by check_output.py")
    R.fatal(f"input: unknown file format {name!r}")


def is_int(a):
    return np.issubdtype(np.asarray(a).dtype, np.integer)


class IdSpace:
    """Construction IDs of one node type: keys[i] = raw key of construction ID i."""

    def __init__(self, ntype, keys, noop, int_keys):
        self.ntype, self.keys, self.noop, self.int_keys = ntype, list(keys), noop, int_keys
        self.pos = {k: i for i, k in enumerate(self.keys)}

    def __len__(self):
        return len(self.keys)

    def norm(self, raw):
        """Normalize raw input values to map keys (IdMap: int for int maps, else str)."""
        raw = np.asarray(raw)
        if self.noop:
            if not is_int(raw):
                R.fatal(f"input: node type {self.ntype} has integer IDs 0..N-1 (NoopMap) "
                        f"but an edge file gives non-integer IDs ({raw.dtype})")
            return [int(x) for x in raw]
        if self.int_keys:
            if not is_int(raw):
                R.fatal(f"input: ID map of {self.ntype} has integer keys, edge IDs are {raw.dtype}")
            return [int(x) for x in raw]
        if is_int(raw):
            R.fatal(f"input: ID map of {self.ntype} has string keys, edge IDs are integers")
        return [str(x) for x in raw]


class Expected:
    def __init__(self):
        self.homog = False
        self.ntypes = {}          # ntype -> IdSpace
        self.node_blocks = []     # ntypes in config order (for label stats)
        self.edge_blocks = []     # relations in config order
        self.rels = collections.OrderedDict()   # (s,r,d) -> {"src": [keys], "dst": [keys]}
        self.ndata = collections.defaultdict(dict)  # ntype -> name -> spec
        self.edata = collections.defaultdict(dict)  # rel -> name -> spec
        self.nlabels = collections.defaultdict(list)  # ntype -> [label spec]
        self.elabels = collections.defaultdict(list)
        self.feat_dims = []       # (path in conf, type key, feature name)


def feature_values(fconf, cols_data, where):
    """Expected output arrays {name: array or None (unchecked)} of one feature dict for one file."""
    col = fconf.get("feature_col")
    tr = fconf.get("transform")
    name = fconf.get("feature_name", col)
    tname = tr["name"] if tr else "no-op"
    if tname == "tokenize_hf":
        return {"input_ids": None, "attention_mask": None, "token_type_ids": None}
    if tname == "edge_dst_hard_negative":
        # raw dst IDs per edge (mapped, filtered and padded in check_hard_negatives)
        sep = tr.get("separator")
        x = cols_data[col]
        lists = np.empty(len(x), dtype=object)
        for i, v in enumerate(x):
            if v is None:
                lists[i] = []
            elif sep is not None:
                lists[i] = str(v).split(sep)
            else:
                lists[i] = list(v)
        return {name: HardNegRaw(lists)}
    if tname != "no-op":
        return {name: None}
    src = tr if tr else fconf
    sep, trunc = src.get("separator"), src.get("truncate_dim")
    dt = OUT_DTYPES[fconf.get("out_dtype", "float32")]
    parts = []
    for c in ([col] if isinstance(col, str) else col):
        x = cols_data[c]
        if sep is not None:
            x = np.array([[float(p) for p in str(v).split(sep)] for v in x], dtype=dt)
        elif not (is_int(x) or np.issubdtype(x.dtype, np.floating)):
            R.fatal(f"input: feature {name} of {where} is {x.dtype}, not numeric (no-op)")
        if trunc is not None:
            x = x[:, :trunc]
        x = x.astype(dt)
        parts.append(x.reshape(-1, 1) if x.ndim == 1 else x)
    return {name: parts[0] if len(parts) == 1 else np.column_stack(parts)}


class HardNegRaw:
    """Per-edge lists of raw hard-negative dst IDs of one file."""

    def __init__(self, lists):
        self.lists = lists


def label_values(lconf, cols_data, nrows, where):
    """-> (label name or None, label array or None, valid bool array, mask names, pct)."""
    task = lconf["task_type"]
    masks = tuple(lconf.get("mask_field_names", DEFAULT_MASKS))
    pct = lconf.get("split_pct", [0.8, 0.1, 0.1])
    custom = "custom_split_filenames" in lconf
    if task == "link_prediction":
        return None, None, np.ones(nrows, bool), masks, pct, custom
    col = lconf["label_col"]
    y = cols_data[col]
    if np.issubdtype(y.dtype, np.floating):
        valid = ~np.isnan(y) if y.ndim == 1 else ~np.isnan(y).any(axis=1)
    elif is_int(y):
        valid = np.ones(len(y), bool)
    else:
        R.fatal(f"input: label {col} of {where} has dtype {y.dtype} (must be int or float)")
    if task == "classification":
        with np.errstate(invalid="ignore"):
            y = np.where(valid if y.ndim == 1 else valid[:, None], y, 0).astype(np.int32)
    return col, y, valid, masks, pct, custom


def block_columns(b, is_node):
    cols = []
    if is_node and "node_id_col" in b:
        cols.append(b["node_id_col"])
    if not is_node and "source_id_col" in b:
        cols += [b["source_id_col"], b["dest_id_col"]]
    for l in b.get("labels", []):
        if "label_col" in l:
            cols.append(l["label_col"])
    for f in b.get("features", []):
        c = f.get("feature_col")
        cols += [c] if isinstance(c, str) else list(c or [])
    return list(dict.fromkeys(cols))


def read_block(b, base, is_node, where):
    files = in_files(b["files"], base)
    out = []
    for f in files:
        d = read_table(b["format"], f, block_columns(b, is_node))
        if d is None:
            if is_node:
                R.fatal(f"input: node file {f} is empty")
            continue
        out.append((f, d))
    if not out:
        R.fatal(f"input: {where} has no data rows")
    return out


def process_block_data(b, per_file, where, data_dict, label_list):
    """Features and labels of one block (rows = concatenation of its files)."""
    nrows = [len(next(iter(d.values()))) for _, d in per_file]
    for fconf in b.get("features", []):
        merged = collections.defaultdict(list)
        for _, d in per_file:
            for k, v in feature_values(fconf, d, where).items():
                merged[k].append(v)
        for k, vs in merged.items():
            if k in data_dict:
                R.fatal(f"input: duplicate data name {k} in {where}")
            if isinstance(vs[0], HardNegRaw):
                data_dict[k] = {"kind": "feature", "value": None,
                                "hardneg": np.concatenate([v.lists for v in vs])}
                continue
            data_dict[k] = {"kind": "feature",
                            "value": None if vs[0] is None else np.concatenate(vs)}
    for lconf in b.get("labels", []):
        ys, valids = [], []
        for (_, d), n in zip(per_file, nrows):
            name, y, valid, masks, pct, custom = label_values(lconf, d, n, where)
            ys.append(y)
            valids.append(valid)
        valid = np.concatenate(valids)
        spec = {"task": lconf["task_type"], "name": name, "masks": masks, "pct": pct,
                "custom": custom, "valid": valid,
                "file_valid": [int(v.sum()) for v in valids],
                "stats": lconf.get("label_stats_type")}
        if name is not None:
            data_dict[name] = {"kind": "label", "task": lconf["task_type"],
                               "value": np.concatenate(ys), "valid": valid}
        if tuple(pct) != (0, 0, 0) or custom:
            for m in masks:
                data_dict[m] = {"kind": "mask", "label": spec}
        label_list.append(spec)
    return sum(nrows)


def build_expected(conf, base, args):
    E = Expected()
    nodes, edges = conf["nodes"], conf["edges"]
    nts = {n["node_type"] for n in nodes}
    rels_set = {tuple(e["relation"]) for e in edges}
    E.homog = len(nts) == 1 and len(rels_set) == 1
    ren = (lambda t: "_N") if E.homog else (lambda t: t)
    renr = (lambda r: ("_N", "_E", "_N")) if E.homog else (lambda r: tuple(r))

    # --- node blocks (3.4/3.5)
    nrows_by_type = collections.defaultdict(list)
    for b in nodes:
        t = ren(b["node_type"])
        if t not in E.node_blocks:
            E.node_blocks.append(t)
        per_file = read_block(b, base, True, f"node type {t}")
        n = process_block_data(b, per_file, f"node type {t}", E.ndata[t], E.nlabels[t])
        nrows_by_type[t].append(n)
        if "node_id_col" in b:
            if t in E.ntypes:
                R.fatal(f"input: two node blocks of {t} have node_id_col")
            raw = np.concatenate([d[b["node_id_col"]] for _, d in per_file])
            if is_int(raw):
                noop = (not args.remap_node_id) and np.array_equal(raw, np.arange(len(raw)))
                keys, int_keys = [int(x) for x in raw], True
            else:
                noop, keys, int_keys = False, [str(x) for x in raw], False
            if len(set(keys)) != len(keys):
                R.fatal(f"input: node type {t} has duplicate raw IDs")
            E.ntypes[t] = IdSpace(t, keys, noop, int_keys)
    for t, ns in nrows_by_type.items():
        if t not in E.ntypes:
            R.fatal(f"input: node type {t} has no block with node_id_col")
        for n in ns:
            if n != len(E.ntypes[t]):
                R.fatal(f"input: node type {t}: a block has {n} rows, IDs: {len(E.ntypes[t])}")

    # --- edge blocks: read once; featureless types (3.3)
    edge_reads = []
    featless = collections.defaultdict(list)
    for b in edges:
        rel = renr(b["relation"])
        per_file = read_block(b, base, False, f"edge type {rel}")
        edge_reads.append((b, rel, per_file))
        if "source_id_col" in b:
            for side, col in ((0, b["source_id_col"]), (2, b["dest_id_col"])):
                if rel[side] not in E.ntypes:
                    featless[rel[side]].append(
                        np.unique(np.concatenate([d[col] for _, d in per_file])))
    for t, arrs in featless.items():
        u = np.unique(np.concatenate(arrs))
        if is_int(u):
            noop = (not args.remap_node_id) and np.array_equal(u, np.arange(len(u)))
            E.ntypes[t] = IdSpace(t, [int(x) for x in u], noop, True)
        else:
            E.ntypes[t] = IdSpace(t, [str(x) for x in u], False, False)

    # --- edges (3.6)
    erows = collections.defaultdict(list)
    for b, rel, per_file in edge_reads:
        where = f"edge type {rel}"
        if rel not in E.edge_blocks:
            E.edge_blocks.append(rel)
        n = process_block_data(b, per_file, where, E.edata[rel], E.elabels[rel])
        erows[rel].append(n)
        if "source_id_col" in b:
            s_sp, d_sp = E.ntypes[rel[0]], E.ntypes[rel[2]]
            src = s_sp.norm(np.concatenate([d[b["source_id_col"]] for _, d in per_file]))
            dst = d_sp.norm(np.concatenate([d[b["dest_id_col"]] for _, d in per_file]))
            keep = np.array([(s in s_sp.pos) and (d in d_sp.pos) for s, d in zip(src, dst)], bool)
            if not keep.all():
                bad = [(s, d) for s, d, k in zip(src, dst, keep) if not k][:5]
                if not args.skip_nonexist_edges:
                    R.fatal(f"input: {where} has edges with unknown endpoints, e.g. {bad} "
                            "(use --skip-nonexist-edges)")
                R.notes.append(f"{where}: {int((~keep).sum())} edges with unknown endpoints dropped")
                src = [s for s, k in zip(src, keep) if k]
                dst = [d for d, k in zip(dst, keep) if k]
                for spec in E.edata[rel].values():
                    if spec.get("value") is not None:
                        spec["value"] = spec["value"][keep]
                    if "valid" in spec:
                        spec["valid"] = spec["valid"][keep]
                for l in E.elabels[rel]:
                    l["valid"] = l["valid"][keep]
                    l["skipped"] = True
            E.rels[rel] = {"src": src, "dst": dst}
    for rel, ns in erows.items():
        if rel not in E.rels:
            R.fatal(f"input: edge type {rel} has no block with source_id_col/dest_id_col")

    # --- reverse edges (3.9)
    if args.reverse_edges:
        if E.homog:
            (rel,) = E.rels
            r = E.rels[rel]
            E.rels[rel] = {"src": r["src"] + r["dst"], "dst": r["dst"] + r["src"]}
            for name, spec in E.edata[rel].items():
                if spec["kind"] in ("feature", "label") and spec.get("value") is not None:
                    spec["value"] = np.concatenate([spec["value"], spec["value"]])
                if "valid" in spec:
                    spec["valid"] = np.concatenate([spec["valid"], spec["valid"]])
            for l in E.elabels[rel]:
                l["valid"] = np.concatenate([l["valid"], np.zeros(len(l["valid"]), bool)])
        else:
            for (s, r, d) in list(E.rels):
                x = E.rels[(s, r, d)]
                E.rels[(d, r + "-rev", s)] = {"src": list(x["dst"]), "dst": list(x["src"])}
    return E


def expected_mask_counts(spec, mode):
    """-> list of acceptable (train, val, test) tuples."""
    pct = spec["pct"]
    glob_ = tuple(int(sum(spec["file_valid"]) * p) for p in pct)   # int(n*p) like GraphStorm
    ref = tuple(sum(int(nf * p) for nf in spec["file_valid"]) for p in pct)
    return {"global": [glob_], "reference": [ref], "either": [glob_, ref]}[mode]


# ============================================================================ output side
class Graph:
    """One output graph in construction-ID space."""

    def __init__(self, label):
        self.label = label
        self.num_nodes = {}
        self.edges = {}       # rel -> (src int64[], dst int64[]) indexed by construction EID
        self.ndata = {}       # ntype -> {name: np.ndarray}
        self.edata = {}       # rel -> {name: np.ndarray}
        self.nmap = None      # DistDGL: ntype -> shuffled ID -> construction ID (hard negatives)


def tnp(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def same(a, b):
    """Exact equality of two arrays (dtype, shape, values; NaN == NaN)."""
    a, b = tnp(a), tnp(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return bool(np.array_equal(a, b, equal_nan=np.issubdtype(a.dtype, np.floating)))


def concat_parts(where, parts, args):
    """Concatenate one feature's per-partition tensors (partition order)."""
    arrs = [v for _, v in sorted(parts, key=lambda x: x[0])]
    ndim = max(a.ndim for a in arrs)
    tail = next((a.shape[1:] for a in arrs if a.ndim == ndim), None)
    fixed = []
    for (p, _), a in zip(sorted(parts, key=lambda x: x[0]), arrs):
        if a.ndim != ndim and a.ndim == ndim - 1 and a.shape == tail:
            # GraphStorm 0.5.1 bug: a partition owning exactly ONE node/edge of a type gets every
            # feature of that type indexed with a 1-element torch tensor (numpy treats it as a
            # scalar index), so (1, d) is saved squeezed as (d,).
            msg = (f"{where}: partition {p} tensor has shape {a.shape}, expected {(1,) + tail} "
                   "(one-row partition saved squeezed)")
            if args.reference_quirks:
                R.notes.append("one-row partition feature saved squeezed (tolerated)")
                a = a.reshape((1,) + tail)
            else:
                R.errors.append(msg)
                return None
        elif a.ndim != ndim or a.shape[1:] != tail or a.dtype != arrs[0].dtype:
            R.errors.append(f"{where}: partition {p} tensor is {a.dtype}{a.shape}, other partitions "
                            f"{arrs[0].dtype}(*, {', '.join(map(str, tail))})")
            return None
        fixed.append(a)
    return np.concatenate(fixed)


def present_where_owned(where, parts, ranges, P):
    """A feature must be in every partition that owns rows of its type. A partition owning none
    may leave it out (spec: no zero-row tensors, DistGraphServer cannot map them); GraphStorm
    writes zero-row tensors instead. Both are accepted."""
    have = {p for p, _ in parts}
    missing = [p for p in range(P) if p not in have]
    owning = [p for p in missing if ranges[p, 1] > ranges[p, 0]]
    if owning:
        R.errors.append(f"{where} missing in partitions {owning}, which own rows of its type "
                        f"(present in {sorted(have)})")
        return False
    if missing:
        R.notes.append(f"features of types with no rows in a partition left out there")
    return True


def load_distdgl(out, gname, E, args):
    import torch
    import dgl
    from dgl.distributed import load_partition, load_partition_book, load_partition_feats
    cfg = os.path.join(out, gname + ".json")
    if not os.path.isfile(cfg):
        R.fatal(f"DistDGL: partition config {cfg} missing")
    meta = json.load(open(cfg))
    lbl = "DistDGL"
    for k in ("graph_name", "num_parts", "num_nodes", "num_edges", "node_map", "edge_map",
              "ntypes", "etypes"):
        if k not in meta:
            R.fatal(f"{lbl}: {gname}.json lacks key {k!r}")
    R.check(meta["graph_name"] == gname, f"{lbl}: graph_name {meta['graph_name']!r} != {gname!r}")
    P = meta["num_parts"]
    ntypes = sorted(meta["ntypes"], key=lambda t: meta["ntypes"][t])
    etypes = sorted(meta["etypes"], key=lambda t: meta["etypes"][t])
    R.check([meta["ntypes"][t] for t in ntypes] == list(range(len(ntypes))),
            f"{lbl}: ntypes ids are not 0..T-1: {meta['ntypes']}")
    R.check([meta["etypes"][t] for t in etypes] == list(range(len(etypes))),
            f"{lbl}: etypes ids are not 0..R-1: {meta['etypes']}")
    R.check(set(meta["node_map"]) == set(ntypes), f"{lbl}: node_map keys != ntypes keys")
    R.check(set(meta["edge_map"]) == set(etypes), f"{lbl}: edge_map keys != etypes keys")
    for i in range(P):
        if f"part-{i}" not in meta:
            R.fatal(f"{lbl}: {gname}.json lacks part-{i}")
        for k in ("node_feats", "edge_feats", "part_graph"):
            R.check(k in meta[f"part-{i}"], f"{lbl}: part-{i} lacks {k}")

    # ranges: partition-major, type-minor tiling of [0, N)
    def tiling(m, types, total, what):
        ranges = np.array([m[t] for t in types], dtype=np.int64)   # (T, P, 2)
        if ranges.shape != (len(types), P, 2):
            R.fatal(f"{lbl}: {what}_map has shape {ranges.shape}, expected ({len(types)}, {P}, 2)")
        pos = 0
        for p in range(P):
            for i, t in enumerate(types):
                a, b = ranges[i, p]
                if a != pos or b < a:
                    R.fatal(f"{lbl}: {what}_map[{t}][{p}] = [{a},{b}] is not the contiguous "
                            f"partition-major/type-minor range starting at {pos}")
                pos = b
        R.check(pos == total, f"{lbl}: {what}_map covers {pos} ids but num_{what}s = {total}")
        return ranges
    nr = tiling(meta["node_map"], ntypes, meta["num_nodes"], "node")
    er = tiling(meta["edge_map"], etypes, meta["num_edges"], "edge")
    ncnt = {t: int((nr[i, :, 1] - nr[i, :, 0]).sum()) for i, t in enumerate(ntypes)}
    ecnt = {t: int((er[i, :, 1] - er[i, :, 0]).sum()) for i, t in enumerate(etypes)}

    def to_per_type(gids, ranges, types):
        """global homogeneous IDs -> (type index, shuffled per-type id), own implementation."""
        gids = np.asarray(gids, dtype=np.int64)
        tix = np.full(len(gids), -1, np.int64)
        loc = np.full(len(gids), -1, np.int64)
        for i in range(len(types)):
            before = 0
            for p in range(P):
                a, b = ranges[i, p]
                m = (gids >= a) & (gids < b)
                tix[m] = i
                loc[m] = gids[m] - a + before
                before += b - a
        if (tix < 0).any():
            R.fatal(f"{lbl}: ids {gids[tix < 0][:5]} fall outside every map range")
        return tix, loc

    os.environ["DGL_DIST_DEBUG"] = "1"
    gpb0, name0, nt0, et0 = load_partition_book(cfg, 0)
    R.check(name0 == gname, f"{lbl}: load_partition_book graph name {name0!r}")
    R.check(dict(nt0) == meta["ntypes"], f"{lbl}: load_partition_book ntypes {nt0}")
    ets = {tuple(k.split(":")): v for k, v in meta["etypes"].items()}
    R.check({tuple(k): v for k, v in et0.items()} == ets, f"{lbl}: load_partition_book etypes {et0}")

    nfe = {t: collections.defaultdict(list) for t in ntypes}
    efe = {t: collections.defaultdict(list) for t in etypes}
    esrc = {t: np.full(ecnt[t], -1, np.int64) for t in etypes}   # shuffled per-type node ids
    edst = {t: np.full(ecnt[t], -1, np.int64) for t in etypes}
    seen = {t: np.zeros(ecnt[t], np.int64) for t in etypes}
    for p in range(P):
        pl = f"{lbl} part {p}"
        g, nfeat, efeat, gpb, name, _, _ = load_partition(cfg, p)
        nfeat2, efeat2 = load_partition_feats(cfg, p)
        R.check(set(nfeat) == set(nfeat2) and all(same(nfeat[k], nfeat2[k]) for k in nfeat),
                f"{pl}: load_partition_feats node feats differ from load_partition's")
        R.check(set(efeat) == set(efeat2) and all(same(efeat[k], efeat2[k]) for k in efeat),
                f"{pl}: load_partition_feats edge feats differ from load_partition's")
        R.check(name == gname and gpb.num_partitions() == P and gpb.partid == p,
                f"{pl}: partition book says name={name} parts={gpb.num_partitions()} id={gpb.partid}")
        R.check(g.ntypes == ["_N"] and g.etypes == ["_E"],
                f"{pl}: graph.dgl must be homogeneous _N/_E, got {g.ntypes} {g.etypes}")
        for k, dt in ((dgl.NID, torch.int64), ("inner_node", torch.uint8)):
            if k not in g.ndata:
                R.fatal(f"{pl}: graph.dgl ndata lacks {k}")
            R.check(g.ndata[k].dtype == dt, f"{pl}: ndata[{k}] is {g.ndata[k].dtype}, not {dt}")
        for k, dt in ((dgl.EID, torch.int64), ("inner_edge", torch.uint8)):
            if k not in g.edata:
                R.fatal(f"{pl}: graph.dgl edata lacks {k}")
            R.check(g.edata[k].dtype == dt, f"{pl}: edata[{k}] is {g.edata[k].dtype}, not {dt}")
        nid, inner = tnp(g.ndata[dgl.NID]), tnp(g.ndata["inner_node"])
        eid, inner_e = tnp(g.edata[dgl.EID]), tnp(g.edata["inner_edge"])
        ni, ne = int(inner.sum()), int(inner_e.sum())
        na, nb = nr[0, p, 0], nr[-1, p, 1]
        ea, eb = er[0, p, 0], er[-1, p, 1]
        R.check((inner[:ni] == 1).all() and (inner[ni:] == 0).all(),
                f"{pl}: inner nodes are not the first {ni} local nodes")
        R.check(np.array_equal(nid[:ni], np.arange(na, nb)),
                f"{pl}: inner node ids are not exactly [{na},{nb}) in order")
        R.check(np.array_equal(nid[:ni], tnp(gpb.partid2nids(p))),
                f"{pl}: inner node ids != partition book partid2nids")
        R.check((inner_e[:ne] == 1).all() and (inner_e[ne:] == 0).all(),
                f"{pl}: inner edges are not the first {ne} local edges")
        R.check(np.array_equal(eid[:ne], np.arange(ea, eb)),
                f"{pl}: inner edge ids are not exactly [{ea},{eb}) in order")
        R.check(np.array_equal(eid[:ne], tnp(gpb.partid2eids(p))),
                f"{pl}: inner edge ids != partition book partid2eids")
        src, dst = (tnp(x) for x in g.edges())
        R.check((inner_e[inner[dst] == 1] == 1).all(),
                f"{pl}: an in-edge of an inner node is not an inner edge")
        R.check((inner[dst[inner_e == 1]] == 1).all(),
                f"{pl}: an inner edge has a non-inner destination (edges belong to dst's partition)")
        ntix, nloc = to_per_type(nid, nr, ntypes)
        etix, eloc = to_per_type(eid, er, etypes)
        gnt, _ = gpb.map_to_per_ntype(g.ndata[dgl.NID])
        get, _ = gpb.map_to_per_etype(g.edata[dgl.EID])
        R.check(np.array_equal(tnp(gnt), ntix), f"{pl}: map_to_per_ntype disagrees with node_map")
        R.check(np.array_equal(tnp(get), etix), f"{pl}: map_to_per_etype disagrees with edge_map")
        if dgl.NTYPE in g.ndata:
            R.check(np.array_equal(tnp(g.ndata[dgl.NTYPE]).astype(np.int64), ntix),
                    f"{pl}: ndata[_TYPE] disagrees with node_map")
        elif not E.homog:
            R.errors.append(f"{pl}: heterogeneous partition without ndata[_TYPE]")
        if dgl.ETYPE in g.edata:
            R.check(np.array_equal(tnp(g.edata[dgl.ETYPE]).astype(np.int64), etix),
                    f"{pl}: edata[_TYPE] disagrees with edge_map")
        R.check((np.diff(etix[:ne]) >= 0).all(), f"{pl}: inner edges are not grouped by etype id")
        lno = list(gpb.local_ntype_offset)
        for i in range(len(lno) - 1):
            R.check((ntix[lno[i]:lno[i + 1]] == i).all(), f"{pl}: local_ntype_offset mismatch")
        leo = list(gpb.local_etype_offset)
        for i in range(len(leo) - 1):
            R.check((etix[leo[i]:leo[i + 1]] == i).all(), f"{pl}: local_etype_offset mismatch")
        # structure of the inner edges in shuffled per-type ids
        for j in range(ne):
            ti = etix[j]
            c = etypes[ti]
            s_t, _, d_t = c.split(":")
            if ntypes[ntix[src[j]]] != s_t or ntypes[ntix[dst[j]]] != d_t:
                R.fatal(f"{pl}: edge {eid[j]} of {c} connects {ntypes[ntix[src[j]]]} -> "
                        f"{ntypes[ntix[dst[j]]]}")
            esrc[c][eloc[j]] = nloc[src[j]]
            edst[c][eloc[j]] = nloc[dst[j]]
            seen[c][eloc[j]] += 1
        # features: rows = the partition's nodes/edges of the type, in shuffled order
        for k, v in nfeat.items():
            if k.count("/") != 1:
                R.fatal(f"{pl}: node feature key {k!r} must contain exactly one '/'")
            t, f = k.split("/")
            if t not in nfe:
                R.fatal(f"{pl}: node feature {k} of unknown type")
            i = ntypes.index(t)
            want = nr[i, p, 1] - nr[i, p, 0]
            R.check(v.shape[0] == want, f"{pl}: node feature {k} has {v.shape[0]} rows, "
                                        f"partition owns {want} {t} nodes")
            R.check(len(gpb.partid2nids(p, t)) == want, f"{pl}: partid2nids({t}) != node_map")
            if v.shape[0] == 0:
                R.notes.append(f"{pl}: zero-row tensor {k} (DistGraphServer cannot mmap it)")
            nfe[t][f].append((p, tnp(v)))
        for k, v in efeat.items():
            if k.count("/") != 1:
                R.fatal(f"{pl}: edge feature key {k!r} must contain exactly one '/'")
            t, f = k.split("/")
            if t not in efe:
                R.fatal(f"{pl}: edge feature {k} of unknown etype")
            i = etypes.index(t)
            want = er[i, p, 1] - er[i, p, 0]
            R.check(v.shape[0] == want, f"{pl}: edge feature {k} has {v.shape[0]} rows, "
                                        f"partition owns {want} {t} edges")
            if v.shape[0] == 0:
                R.notes.append(f"{pl}: zero-row tensor {k} (DistGraphServer cannot mmap it)")
            efe[t][f].append((p, tnp(v)))
    for c in etypes:
        R.check((seen[c] == 1).all(), f"{lbl}: {c}: shuffled edge ids not covered exactly once "
                                      f"(missing {np.nonzero(seen[c] == 0)[0][:5]})")

    # node_mapping.pt / edge_mapping.pt
    def load_map(fn, keys, counts, tuple_keys):
        path = os.path.join(out, fn)
        if not os.path.isfile(path):
            R.fatal(f"{lbl}: {fn} missing")
        m = torch.load(path, weights_only=True)
        if E.homog:
            if not torch.is_tensor(m):
                R.errors.append(f"{lbl}: {fn} of a homogeneous graph must be a bare tensor, "
                                f"got {type(m).__name__}")
                m = {tuple(k) if tuple_keys else k: v for k, v in dict(m).items()}
            else:
                m = {(("_N", "_E", "_N") if tuple_keys else "_N"): m}
        elif not isinstance(m, dict):
            R.fatal(f"{lbl}: {fn} must be a dict for a heterogeneous graph, got {type(m).__name__}")
        res = {}
        for k in keys:
            kk = tuple(k.split(":")) if tuple_keys else k
            if kk not in m:
                R.fatal(f"{lbl}: {fn} lacks key {kk!r} (has {list(m)})")
            v = m[kk]
            R.check(v.dtype == torch.int64 and v.dim() == 1, f"{lbl}: {fn}[{kk}] is {v.dtype} {v.dim()}-D")
            v = tnp(v).astype(np.int64)
            if not np.array_equal(np.sort(v), np.arange(counts[k])):
                R.fatal(f"{lbl}: {fn}[{kk}] is not a permutation of 0..{counts[k] - 1}")
            if P == 1:
                R.check(np.array_equal(v, np.arange(counts[k])),
                        f"{lbl}: {fn}[{kk}] is not the identity although num_parts == 1")
            res[k] = v
        R.check(len(m) == len(keys), f"{lbl}: {fn} has extra keys {set(m) - set(res)}")
        return res
    nmap = load_map("node_mapping.pt", ntypes, ncnt, False)
    emap = load_map("edge_mapping.pt", etypes, ecnt, True)

    G = Graph(f"DistDGL({P} part{'s' if P > 1 else ''})")
    G.nmap = nmap
    for t in ntypes:
        G.num_nodes[t] = ncnt[t]
        G.ndata[t] = {}
        for f, parts in nfe[t].items():
            if not present_where_owned(f"{lbl}: node feature {t}/{f}", parts,
                                       nr[ntypes.index(t)], P):
                continue
            arr_s = concat_parts(f"{lbl}: node feature {t}/{f}", parts, args)
            if arr_s is None:
                continue
            arr = np.empty_like(arr_s)
            arr[nmap[t]] = arr_s
            G.ndata[t][f] = arr
    for c in etypes:
        s_t, _, d_t = c.split(":")
        rel = tuple(c.split(":"))
        src_c = np.empty(ecnt[c], np.int64)
        dst_c = np.empty(ecnt[c], np.int64)
        src_c[emap[c]] = nmap[s_t][esrc[c]]
        dst_c[emap[c]] = nmap[d_t][edst[c]]
        G.edges[rel] = (src_c, dst_c)
        G.edata[rel] = {}
        for f, parts in efe[c].items():
            if not present_where_owned(f"{lbl}: edge feature {c}/{f}", parts,
                                       er[etypes.index(c)], P):
                continue
            arr_s = concat_parts(f"{lbl}: edge feature {c}/{f}", parts, args)
            if arr_s is None:
                continue
            arr = np.empty_like(arr_s)
            arr[emap[c]] = arr_s
            G.edata[rel][f] = arr
    return G, meta


def load_dgl(out, gname, E, both):
    import dgl
    path = os.path.join(out, gname + ".dgl")
    if not os.path.isfile(path):
        R.fatal(f"DGL: {path} missing")
    gs, _ = dgl.load_graphs(path)
    if len(gs) != 1:
        R.fatal(f"DGL: {path} holds {len(gs)} graphs, expected 1")
    g = gs[0]
    G = Graph("DGL")
    for t in g.ntypes:
        G.num_nodes[t] = g.num_nodes(t)
        G.ndata[t] = {k: tnp(v) for k, v in g.nodes[t].data.items()}
    for c in g.canonical_etypes:
        s, d = g.edges(etype=c, order="eid")
        G.edges[tuple(c)] = (tnp(s).astype(np.int64), tnp(d).astype(np.int64))
        G.edata[tuple(c)] = {k: tnp(v) for k, v in g.edges[c].data.items()}
    # __gs_orig_id leaks into the DGL file when both formats are requested (GraphStorm bug, 4.3)
    for dd, cnt in [(G.ndata[t], G.num_nodes[t]) for t in G.ndata] + \
                   [(G.edata[c], len(G.edges[c][0])) for c in G.edata]:
        if "__gs_orig_id" in dd:
            v = dd.pop("__gs_orig_id")
            if not both:
                R.errors.append("DGL: __gs_orig_id present although only DGL output was requested")
            R.check(np.array_equal(v, np.arange(cnt)), "DGL: __gs_orig_id is not arange")
            if "__gs_orig_id" not in R.notes:
                R.notes.append("__gs_orig_id")
    return G


def _dgl_read_parquet(path):
    """A Parquet data file as DGL 2.1's pipeline reads it (tools/distpartitioning
    array_readwriter): one list<> column -> rows of vectors, else the columns as a matrix;
    schema metadata `shape` reshapes."""
    import ast
    import pyarrow.parquet as pq
    t = pq.read_table(path)
    if t.num_columns == 1 and str(t.schema.types[0]).startswith(("list", "large_list", "fixed_size_list")):
        arr = np.array(t.column(0).to_pylist(), dtype=t.schema.types[0].value_type.to_pandas_dtype())
    else:
        arr = t.to_pandas().to_numpy()
    md = t.schema.metadata or {}
    if b"shape" in md:
        arr = arr.reshape(ast.literal_eval(md[b"shape"].decode()))
    return arr


def load_chunked(out, gname, E, args, P):
    """<out>/chunked/ read as DGL's dispatch pipeline reads it (distdgl-format.md §10): edge
    files of a type concatenated in listed order are its edges (EID = row); data files
    concatenated in listed order are its rows. Also checks what the pipeline silently breaks
    on, and <out>/partition_assignment/ (one ID per line per node; every partition holds a
    node of every type and owns an edge destination)."""
    import pyarrow.parquet as pq
    lbl = "chunked"
    d = os.path.join(out, "chunked")
    mp = os.path.join(d, "metadata.json")
    if not os.path.isfile(mp):
        R.fatal(f"{lbl}: {mp} missing")
    m = json.load(open(mp))
    for k in ("graph_name", "node_type", "num_nodes_per_type", "edge_type", "num_edges_per_type",
              "edges", "node_data", "edge_data"):
        if k not in m:
            R.fatal(f"{lbl}: metadata.json lacks {k!r}")
    R.check(m["graph_name"] == gname, f"{lbl}: graph_name {m['graph_name']!r} != {gname!r}")
    nts, ets = m["node_type"], m["edge_type"]
    R.check(nts == sorted(nts), f"{lbl}: node_type {nts} not in DGL's (sorted) order")
    R.check([tuple(e.split(":")) for e in ets] == sorted(tuple(e.split(":")) for e in ets),
            f"{lbl}: edge_type {ets} not in DGL's (sorted) order")
    G = Graph("chunked")
    for t, n in zip(nts, m["num_nodes_per_type"]):
        R.check(n > 0, f"{lbl}: node type {t} has no nodes (DGL's pipeline breaks on it)")
        G.num_nodes[t] = n

    def files(fs, where):
        out_files = []
        for f in fs["data"]:
            p = f if os.path.isabs(f) else os.path.join(d, f)
            if not os.path.isfile(p):
                R.fatal(f"{lbl}: {where}: {f} missing")
            R.check(os.path.getsize(p) > 0, f"{lbl}: {where}: {f} is a 0-byte file")
            out_files.append(p)
        return out_files

    for i, e in enumerate(ets):
        fs = m["edges"].get(e)
        if fs is None:
            R.fatal(f"{lbl}: edges lacks {e}")
        s_t, _, d_t = e.split(":")
        srcs, dsts = [], []
        for p in files(fs, f"edges.{e}"):
            if fs["format"]["name"] == "parquet":
                t = pq.read_table(p)
                R.check(t.num_columns == 2, f"{lbl}: {p}: {t.num_columns} columns, expected 2")
                for c in range(2):
                    R.check(str(t.schema.types[c]) == "int64",
                            f"{lbl}: {p}: endpoint column {c} is {t.schema.types[c]}, expected int64")
                srcs.append(t.column(0).to_numpy())
                dsts.append(t.column(1).to_numpy())
            else:
                a = np.loadtxt(p, delimiter=" ", dtype=np.int64, ndmin=2)
                srcs.append(a[:, 0])
                dsts.append(a[:, 1])
        src = np.concatenate(srcs).astype(np.int64)
        dst = np.concatenate(dsts).astype(np.int64)
        R.check(len(src) > 0, f"{lbl}: edge type {e} has no edges (DGL's pipeline breaks on it)")
        R.check(m["num_edges_per_type"][i] == len(src),
                f"{lbl}: num_edges_per_type[{i}] = {m['num_edges_per_type'][i]}, files hold {len(src)}")
        R.check(((src >= 0) & (src < G.num_nodes[s_t])).all() and
                ((dst >= 0) & (dst < G.num_nodes[d_t])).all(), f"{lbl}: {e}: endpoint out of range")
        G.edges[(s_t, e.split(":")[1], d_t)] = (src, dst)

    def data(dd, key, rows):
        res = {}
        for name, fs in dd.items():
            parts = []
            for p in files(fs, f"{key}.{name}"):
                parts.append(np.load(p) if fs["format"]["name"] == "numpy" else _dgl_read_parquet(p))
            dts = {a.dtype for a in parts}
            R.check(len(dts) == 1, f"{lbl}: {key}.{name}: dtypes {dts} across files")
            R.check(all(a.ndim in (1, 2) for a in parts), f"{lbl}: {key}.{name}: not 1-D/2-D")
            v = np.concatenate(parts)
            R.check(len(v) == rows, f"{lbl}: {key}.{name}: {len(v)} rows, expected {rows}")
            res[name] = v
        return res

    for t in nts:
        G.ndata[t] = data(m["node_data"].get(t, {}), f"node_data.{t}", G.num_nodes[t])
    for e in ets:
        rel = tuple(e.split(":"))
        G.edata[rel] = data(m["edge_data"].get(e, {}), f"edge_data.{e}", len(G.edges[rel][0]))

    # the partition assignment
    ad = os.path.join(out, "partition_assignment")
    pm = os.path.join(ad, "partition_meta.json")
    if not os.path.isfile(pm):
        R.errors.append(f"{lbl}: partition_assignment/partition_meta.json missing")
        return G
    meta = json.load(open(pm))
    R.check(meta.get("version") == "1.0.0" and meta.get("algo_name") in ("metis", "random")
            and meta.get("num_parts") == P, f"{lbl}: partition_meta.json is {meta}, expected num_parts {P}")
    part = {}
    for t in nts:
        p = os.path.join(ad, f"{t}.txt")
        if not os.path.isfile(p):
            R.errors.append(f"{lbl}: partition_assignment/{t}.txt missing")
            return G
        a = np.loadtxt(p, dtype=np.int64, ndmin=1)
        R.check(len(a) == G.num_nodes[t], f"{lbl}: {t}.txt has {len(a)} lines, expected {G.num_nodes[t]}")
        R.check(((a >= 0) & (a < P)).all(), f"{lbl}: {t}.txt holds IDs outside 0..{P - 1}")
        R.check(len(np.unique(a)) == P, f"{lbl}: some partition holds no {t} node "
                                        f"(partitions {sorted(set(range(P)) - set(np.unique(a).tolist()))})")
        part[t] = a
    owned = np.zeros(P, np.int64)
    for (s_t, _, d_t), (_, dst) in G.edges.items():
        if d_t in part and len(part[d_t]) == G.num_nodes[d_t]:
            owned += np.bincount(part[d_t][dst], minlength=P)[:P]
    R.check((owned > 0).all(), f"{lbl}: partitions {np.nonzero(owned == 0)[0].tolist()} own no edge "
                               "destination (DGL's dispatch breaks on it)")
    return G


def load_raw_id_maps(out, E):
    """raw_id_mappings/<ntype>/part-*.parquet -> {ntype: keys in construction order}."""
    import pyarrow.parquet as pq
    base = os.path.join(out, "raw_id_mappings")
    res = {}
    present = set(os.listdir(base)) if os.path.isdir(base) else set()
    for t, sp in E.ntypes.items():
        d = os.path.join(base, t)
        if sp.noop:
            R.check(t not in present, f"raw_id_mappings/{t} exists but {t} has IDs 0..N-1 in order "
                                      "(NoopMap: no mapping must be written)")
            res[t] = list(range(len(sp)))
            continue
        files = sorted(glob.glob(os.path.join(d, "part-*.parquet")))
        if not files:
            R.errors.append(f"raw_id_mappings/{t}/part-*.parquet missing (IdMap type)")
            continue
        for f in files:
            b = os.path.basename(f)
            R.check(len(b) == len("part-00000.parquet") and b[5:10].isdigit(),
                    f"raw_id_mappings/{t}/{b}: name must be part-NNNNN.parquet")
        tabs = [pq.read_table(f) for f in files]
        for f, tb in zip(files, tabs):
            if set(tb.column_names) != {"orig", "new"}:
                R.fatal(f"raw_id_mappings/{t}/{os.path.basename(f)} has columns "
                        f"{tb.column_names}, expected orig,new")
            nt = str(tb.schema.field("new").type)
            R.check(nt == "int64", f"raw_id_mappings/{t}: column new is {nt}, not int64")
            ot = str(tb.schema.field("orig").type)
            want = "int64" if sp.int_keys else ("string", "large_string")
            R.check(ot == want if isinstance(want, str) else ot in want,
                    f"raw_id_mappings/{t}: column orig is {ot}, expected {want}")
        orig = sum((tb.column("orig").to_pylist() for tb in tabs), [])
        new = np.array(sum((tb.column("new").to_pylist() for tb in tabs), []), np.int64)
        R.check(np.array_equal(new, np.arange(len(new))),
                f"raw_id_mappings/{t}: new is not 0..N-1 in increasing order across the files")
        keys = [None] * len(orig)
        for o, n in zip(orig, new):
            if 0 <= n < len(keys):
                keys[n] = int(o) if sp.int_keys else str(o)
        res[t] = keys
    extra = present - {t for t in E.ntypes}
    R.check(not extra, f"raw_id_mappings has directories for unknown types {sorted(extra)}")
    return res


def cmp_array(where, got, exp, valid=None):
    if got.dtype != exp.dtype:
        R.errors.append(f"{where}: dtype {got.dtype}, expected {exp.dtype}")
        return False
    if got.shape != exp.shape:
        R.errors.append(f"{where}: shape {got.shape}, expected {exp.shape}")
        return False
    g, e = got, exp
    if valid is not None:
        g, e = got[valid], exp[valid]
    eq = (g == e)
    if np.issubdtype(g.dtype, np.floating):
        eq = eq | (np.isnan(g) & np.isnan(e))
    if eq.ndim > 1:
        eq = eq.reshape(len(eq), -1).all(axis=1)
    if not eq.all():
        i = int(np.nonzero(~eq)[0][0])
        rows = np.nonzero(valid)[0] if valid is not None else np.arange(len(got))
        R.errors.append(f"{where}: {int((~eq).sum())} rows differ; first at row {rows[i]}: "
                        f"got {g[i].tolist()}, expected {e[i].tolist()}")
        return False
    return True


def check_masks(where, data, spec, mode, nrows, summary):
    ms = []
    for m in spec["masks"]:
        if m not in data:
            R.errors.append(f"{where}: mask {m} missing")
            return None
        v = data[m]
        R.check(v.dtype == np.int8, f"{where}: mask {m} dtype {v.dtype}, expected int8")
        R.check(v.shape == (nrows,), f"{where}: mask {m} shape {v.shape}, expected ({nrows},)")
        R.check(np.isin(v, [0, 1]).all(), f"{where}: mask {m} has values other than 0/1")
        ms.append(v.astype(bool))
    tot = ms[0].astype(int) + ms[1] + ms[2]
    R.check((tot <= 1).all(), f"{where}: masks {spec['masks']} overlap at rows "
                              f"{np.nonzero(tot > 1)[0][:5].tolist()}")
    inv = (tot > 0) & ~spec["valid"]
    R.check(not inv.any(), f"{where}: rows {np.nonzero(inv)[0][:5].tolist()} are in a mask but "
                           "have no valid label (NaN) or are reverse edges")
    counts = tuple(int(x.sum()) for x in ms)
    if spec["custom"]:
        pass
    elif spec.get("skipped"):
        ok = expected_mask_counts(spec, "reference")[0]
        R.check(all(c <= o for c, o in zip(counts, ok)),
                f"{where}: mask counts {counts} exceed pre-filter counts {ok}")
    else:
        acc = expected_mask_counts(spec, mode)
        R.check(counts in acc, f"{where}: mask counts (train,val,test) = {counts}, expected "
                               f"{' or '.join(map(str, acc))} (--split-counts {mode}; valid rows "
                               f"per file {spec['file_valid']}, split_pct {spec['pct']})")
    summary.append(f"{where.split(': ')[-1]} {'/'.join(map(str, counts))}")
    return ms


def compare(G, E, raw_keys, args, summary, stats_out):
    L = G.label
    want_nt = set(E.ntypes)
    if set(G.num_nodes) != want_nt:
        R.fatal(f"{L}: node types {sorted(G.num_nodes)}, expected {sorted(want_nt)}")
    want_et = set(E.rels)
    if set(G.edges) != want_et:
        R.fatal(f"{L}: edge types {sorted(G.edges)}, expected {sorted(want_et)}")
    for t, sp in E.ntypes.items():
        R.check(G.num_nodes[t] == len(sp), f"{L}: {t} has {G.num_nodes[t]} nodes, expected {len(sp)}")
    if any(G.num_nodes[t] != len(E.ntypes[t]) for t in E.ntypes):
        raise Fatal("node counts differ")
    # raw ID <-> construction ID, for every node type
    perm = {}
    for t, sp in E.ntypes.items():
        keys = raw_keys.get(t)
        if keys is None:
            continue
        got = collections.Counter(keys)
        miss = [k for k in sp.keys if k not in got]
        extra = [k for k in got if k not in sp.pos]
        dup = [k for k, c in got.items() if c > 1]
        if miss or extra or dup:
            R.fatal(f"{L}: node type {t}: raw ID set differs: missing {miss[:5]}, unexpected "
                    f"{extra[:5]}, duplicated {dup[:5]}")
        perm[t] = np.array([sp.pos[k] for k in keys], np.int64)   # output cid -> expected cid
        if not np.array_equal(perm[t], np.arange(len(sp))):
            i = int(np.nonzero(perm[t] != np.arange(len(sp)))[0][0])
            rule = ("sorted unique raw IDs of the edge files (featureless type)"
                    if t not in E.node_blocks else "row position in the sorted input files")
            R.errors.append(f"{L}: node type {t}: construction ID {i} is raw ID {keys[i]!r}, "
                            f"expected {sp.keys[i]!r} ({rule})")
    # edges: multiset of raw (src, dst), then per construction EID
    for rel, x in E.rels.items():
        s_t, _, d_t = rel
        src, dst = G.edges[rel]
        if s_t not in raw_keys or d_t not in raw_keys:
            continue
        got = list(zip((raw_keys[s_t][i] for i in src), (raw_keys[d_t][i] for i in dst)))
        exp = list(zip(x["src"], x["dst"]))
        cg, ce = collections.Counter(got), collections.Counter(exp)
        if cg != ce:
            R.errors.append(f"{L}: edges of {rel} differ (as raw (src,dst) multisets): "
                            f"{len(got)} vs {len(exp)} expected; missing {list((ce - cg).items())[:5]}, "
                            f"unexpected {list((cg - ce).items())[:5]}")
            continue
        if got != exp and not args.structure_only:   # another tool may order edges its way
            i = next(i for i, (a, b) in enumerate(zip(got, exp)) if a != b)
            R.errors.append(f"{L}: edges of {rel}: same multiset but construction EID {i} is "
                            f"{got[i]}, expected {exp[i]} (EID = position in the sorted input files)")
    if args.structure_only:
        for t, dd in G.ndata.items():
            for k, v in dd.items():
                R.check(len(v) == G.num_nodes[t], f"{L}: node {t}/{k}: {len(v)} rows, expected {G.num_nodes[t]}")
        for rel, dd in G.edata.items():
            for k, v in dd.items():
                R.check(len(v) == len(G.edges[rel][0]), f"{L}: edge {rel}/{k}: {len(v)} rows")
        return
    # node data
    for t in E.ntypes:
        got = dict(G.ndata.get(t, {}))
        exp = E.ndata.get(t, {})
        extra = set(got) - set(exp)
        R.check(not extra, f"{L}: node type {t} has unexpected data {sorted(extra)}")
        R.check(not (set(exp) - set(got)), f"{L}: node type {t} lacks data {sorted(set(exp) - set(got))}")
        if t not in perm:
            continue
        inv = np.empty_like(perm[t])
        inv[perm[t]] = np.arange(len(inv))   # expected cid -> output cid
        got = {k: v[inv] for k, v in got.items()}  # now in expected construction order (per raw ID)
        check_data(f"{L}: node {t}", got, exp, E.nlabels.get(t, []), len(E.ntypes[t]), args,
                   summary, stats_out.setdefault(t, {}), t)
    for rel in E.rels:
        got = G.edata.get(rel, {})
        exp = E.edata.get(rel, {})
        extra = set(got) - set(exp)
        R.check(not extra, f"{L}: edge type {rel} has unexpected data {sorted(extra)}")
        R.check(not (set(exp) - set(got)), f"{L}: edge type {rel} lacks data {sorted(set(exp) - set(got))}")
        check_hard_negatives(f"{L}: edge {':'.join(rel)}", G, got, exp, E, raw_keys, rel)
        check_data(f"{L}: edge {':'.join(rel)}", got, exp, E.elabels.get(rel, []),
                   len(E.rels[rel]["src"]), args, summary, stats_out.setdefault(",".join(rel), {}),
                   rel)


def check_hard_negatives(where, G, got, exp, E, raw_keys, rel):
    """edge_dst_hard_negative values: int64, -1 padded to the longest input list; unknown raw IDs
    dropped; DistDGL: shuffled dst IDs (node_mapping applied back), DGL: construction IDs."""
    d_t = rel[2]
    sp = E.ntypes[d_t]
    for name, spec in exp.items():
        if "hardneg" not in spec or name not in got:
            continue
        lists = spec["hardneg"]
        width = max((len(x) for x in lists), default=0)
        want = []
        for x in lists:
            keys = [int(v) if sp.int_keys or sp.noop else str(v) for v in x]
            keys = [k for k in keys if k in sp.pos]
            want.append(keys + [None] * (width - len(keys)))
        v = got[name]
        lbl = f"{where}/{name} (hard negative)"
        R.check(v.dtype == np.int64, f"{lbl}: dtype {v.dtype}, expected int64")
        if v.shape != (len(lists), width):
            R.errors.append(f"{lbl}: shape {v.shape}, expected {(len(lists), width)}")
            continue
        ids = v.astype(np.int64)
        if G.nmap is not None:   # shuffled -> construction IDs
            ok = ids >= 0
            if (ids[ok] >= len(G.nmap[d_t])).any():
                R.errors.append(f"{lbl}: IDs beyond the {d_t} node count")
                continue
            ids = np.where(ok, G.nmap[d_t][np.where(ok, ids, 0)], -1)
        keys = raw_keys.get(d_t)
        if keys is None:
            continue
        gotk = [[None if i < 0 else keys[i] for i in row] for row in ids.tolist()]
        bad = [i for i, (a, b) in enumerate(zip(gotk, want)) if a != b]
        if bad:
            i = bad[0]
            R.errors.append(f"{lbl}: {len(bad)} rows differ; EID {i}: {gotk[i]} (as raw IDs), "
                            f"expected {want[i]}")


def check_data(where, got, exp, labels, nrows, args, summary, stats_out, tkey):
    for name, spec in exp.items():
        if name not in got:
            continue
        v = got[name]
        if spec["kind"] == "feature":
            if spec["value"] is None:
                R.check(v.shape[0] == nrows, f"{where}/{name}: {v.shape[0]} rows, expected {nrows}")
            else:
                cmp_array(f"{where}/{name}", v, spec["value"])
        elif spec["kind"] == "label":
            cmp_array(f"{where}/{name} (label)", v, spec["value"],
                      valid=spec["valid"] if spec["task"] == "classification" else None)
    for spec in labels:
        if tuple(spec["pct"]) == (0, 0, 0) and not spec["custom"]:
            continue
        ms = check_masks(f"{where}/{spec['name'] or 'lp'}", got, spec, args.split_counts,
                         nrows, summary)
        if ms is not None and spec["stats"] == "frequency_cnt" and spec["task"] == "classification" \
                and spec["name"] in got:
            y = got[spec["name"]][ms[0]]
            vals, cnts = np.unique(y, return_counts=True)
            stats_out[spec["name"]] = {"stats_type": "frequency_cnt",
                                       "info": {str(int(a)): int(b) for a, b in zip(vals, cnts)}}


def check_side_files(out, E, conf, args, graphs, stats_by_graph):
    # data_transform_new.json
    p = os.path.join(out, "data_transform_new.json")
    if not os.path.isfile(p):
        R.errors.append("data_transform_new.json missing")
    else:
        rc = json.load(open(p))
        R.check(rc.get("version") == RUNTIME_VERSION,
                f"data_transform_new.json: version {rc.get('version')!r}, expected {RUNTIME_VERSION}")
        R.check(rc.get("is_homogeneous") is E.homog,
                f"data_transform_new.json: is_homogeneous {rc.get('is_homogeneous')!r}, expected {E.homog}")
        R.check(rc.get("add_reverse_edges") is bool(args.reverse_edges),
                f"data_transform_new.json: add_reverse_edges {rc.get('add_reverse_edges')!r}")
        G = graphs[0]
        for kind, key in (("nodes", "node_type"), ("edges", "relation")):
            ic, oc = conf[kind], rc.get(kind, [])
            if len(ic) != len(oc):
                R.errors.append(f"data_transform_new.json: {len(oc)} {kind} blocks, input has {len(ic)}")
                continue
            for bi, (ib, ob) in enumerate(zip(ic, oc)):
                t = ("_N" if kind == "nodes" else ["_N", "_E", "_N"]) if E.homog else ib[key]
                R.check(ob.get(key) == t, f"data_transform_new.json: {kind}[{bi}].{key} = "
                                          f"{ob.get(key)!r}, expected {t!r}")
                ifs, ofs = ib.get("features", []), ob.get("features", [])
                if len(ifs) != len(ofs):
                    R.errors.append(f"data_transform_new.json: {kind}[{bi}] has {len(ofs)} features")
                    continue
                data = G.ndata.get(t, {}) if kind == "nodes" else G.edata.get(tuple(t), {})
                for fi, (f_in, f_out) in enumerate(zip(ifs, ofs)):
                    fd = f_out.get("feature_dim")
                    w = f"data_transform_new.json: {kind}[{bi}].features[{fi}]"
                    if not (isinstance(fd, list) and all(isinstance(x, int) for x in fd)):
                        R.errors.append(f"{w}: feature_dim {fd!r} is not a list of ints")
                        continue
                    tr = (f_in.get("transform") or {}).get("name", "no-op")
                    name = f_in.get("feature_name", f_in.get("feature_col"))
                    if tr == "no-op" and name in data:
                        R.check(fd == list(data[name].shape[1:]),
                                f"{w}: feature_dim {fd} != output shape {list(data[name].shape[1:])}")
                    for k2, v2 in f_in.items():
                        if k2 == "feature_dim":
                            continue
                        o2 = f_out.get(k2)
                        if isinstance(v2, dict) and isinstance(o2, dict):
                            # transforms may gain learned state (mapping, max_val, sum, ...)
                            changed = {k3 for k3, v3 in v2.items() if o2.get(k3) != v3}
                            R.check(not changed, f"{w}: {k2} keys {sorted(changed)} changed "
                                                 f"from {v2!r} to {o2!r}")
                        else:
                            R.check(o2 == v2, f"{w}: key {k2} changed from {v2!r} to {o2!r}")
    # label stats (3.8)
    for fname, blocks, joiner in (("node_label_stats.json", E.node_blocks, None),
                                  ("edge_label_stats.json", E.edge_blocks, ",")):
        p = os.path.join(out, fname)
        if not blocks:
            continue
        if not os.path.isfile(p):
            R.errors.append(f"{fname} missing")
            continue
        got = json.load(open(p))
        keys = [joiner.join(b) if joiner else b for b in blocks]
        R.check(isinstance(got, dict) and set(got) == set(keys),
                f"{fname}: keys {sorted(got) if isinstance(got, dict) else got}, expected {sorted(keys)}")
        for gstats in stats_by_graph:
            for k in keys:
                want = gstats.get(k, {})
                have = got.get(k)
                if have != want:
                    R.errors.append(f"{fname}[{k}] = {json.dumps(have)}, expected {json.dumps(want)} "
                                    "(frequency of each label value over the train mask of the output)")
        for k in keys:
            for lab, st in (got.get(k) or {}).items():
                R.check(isinstance(st, dict) and st.get("stats_type") == "frequency_cnt"
                        and isinstance(st.get("info"), dict),
                        f"{fname}[{k}][{lab}]: must be {{stats_type: frequency_cnt, info: {{...}}}}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conf", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--graph-name", required=True)
    ap.add_argument("--reverse-edges", action="store_true")
    ap.add_argument("--expect-format", choices=["DistDGL", "DGL", "both", "chunked", "DistDGL+chunked"],
                    default="DistDGL",
                    help="chunked: <out>/chunked/ (DGL's chunked format, read as DGL's pipeline "
                         "reads it) and <out>/partition_assignment/")
    ap.add_argument("--num-parts", type=int, default=1, help="chunked: the assignment's partitions")
    ap.add_argument("--split-counts", choices=["global", "reference", "either"], default="global")
    ap.add_argument("--base-dir", help="directory relative input paths resolve against "
                                       "(default: the config file's directory)")
    ap.add_argument("--remap-node-id", action="store_true", help="output built with --remap-node-id")
    ap.add_argument("--skip-nonexist-edges", action="store_true",
                    help="output built with --skip-nonexist-edges")
    ap.add_argument("--reference-quirks", action="store_true",
                    help="tolerate known GraphStorm 0.5.1 output bugs (see sample_data/README.md): "
                         "a 1-row partition feature saved squeezed to 1-D")
    ap.add_argument("--structure-only", action="store_true",
                    help="compare nodes and edges per raw ID only (data arrays: row counts), no "
                         "side files: for an output another tool built from the same tables "
                         "(GSProcessing: its own splits, label maps and feature handling)")
    args = ap.parse_args(argv)
    summary = []
    labels = []
    try:
        conf = json.load(open(args.conf))
        for k in ("nodes", "edges"):
            if k not in conf:
                R.fatal(f"config lacks {k!r}")
        base = args.base_dir or os.path.dirname(os.path.abspath(args.conf))
        E = build_expected(conf, base, args)
        fmt = args.expect_format
        chunked = fmt in ("chunked", "DistDGL+chunked")
        graphs, stats = [], []
        if chunked:
            ck = os.path.join(args.out, "chunked")
            ck_keys = load_raw_id_maps(ck, E)
            G = load_chunked(args.out, args.graph_name, E, args, args.num_parts)
            s = {}
            compare(G, E, ck_keys, args, summary, s)
            check_side_files(ck, E, conf, args, [G], [s])
            labels.append("chunked")
            if fmt == "chunked":
                raise Done
        raw_keys = load_raw_id_maps(args.out, E)
        if args.expect_format in ("DistDGL", "both", "DistDGL+chunked"):
            G, meta = load_distdgl(args.out, args.graph_name, E, args)
            graphs.append(G)
            s = {}
            compare(G, E, raw_keys, args, [] if summary else summary, s)
            stats.append(s)
        if args.expect_format in ("DGL", "both"):
            G = load_dgl(args.out, args.graph_name, E, args.expect_format == "both")
            graphs.append(G)
            s = {}
            sm = []
            compare(G, E, raw_keys, args, sm if summary else summary, s)
            stats.append(s)
        if not args.structure_only:
            check_side_files(args.out, E, conf, args, graphs, stats)
    except (Fatal, Done):
        pass
    except Exception:  # an oracle crash is a failure too, never a pass
        import traceback
        R.errors.append("oracle crashed:\n" + traceback.format_exc())
    if R.errors:
        print(f"check_output: FAIL ({len(R.errors)} problem{'s' if len(R.errors) > 1 else ''})")
        for e in R.errors:
            print("  - " + e)
        return 1
    nt = " ".join(f"{t}={len(sp)}" for t, sp in sorted(E.ntypes.items()))
    et = " ".join(f"{':'.join(r)}={len(x['src'])}" for r, x in sorted(E.rels.items()))
    fmt = " + ".join(labels + [g.label for g in graphs])
    notes = list(dict.fromkeys(n for n in R.notes if n != "__gs_orig_id"))
    print(f"check_output: OK ({fmt}; nodes {nt}; edges {et}; masks {', '.join(summary)}"
          f"{'; notes: ' + '; '.join(notes) if notes else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
