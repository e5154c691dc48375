"""Reads every input file of a CSV construction config with polars' read_csv, exactly the columns
the config names for each file's block, one file after another (polars parallelises each file
over POLARS_MAX_THREADS threads). Prints the total row count. Used by benches/csv_compare.sh.
usage: polars_read.py CONFIG.json"""
import glob, json, os, sys
import polars as pl

conf_path = sys.argv[1]
base = os.path.dirname(conf_path)
conf = json.load(open(conf_path))
rows = 0
for block in conf["nodes"] + conf["edges"]:
    cols = [block[k] for k in ("node_id_col", "source_id_col", "dest_id_col") if k in block]
    cols += [f["feature_col"] for f in block.get("features", [])]
    cols += [l["label_col"] for l in block.get("labels", []) if "label_col" in l]
    cols = list(dict.fromkeys(cols))
    sep = block["format"].get("separator", ",")
    for pat in block["files"]:
        for f in sorted(glob.glob(os.path.join(base, pat))):
            rows += pl.read_csv(f, columns=cols, separator=sep).height
print(rows)
