"""Regenerates sample_data/shop, sample_data/shop_transforms and sample_data/homo (deterministic; needs pyarrow for the Parquet
files). The generated files are committed; rerun only after changing this script:
    python sample_data/make_sample_data.py
Every value is chosen to be checkable by hand; see sample_data/README.md."""
import json, os
import pyarrow as pa, pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf8", newline="\n") as f:
        f.write(text)

def jsonl(path, rows):
    write(path, "".join(json.dumps(r) + "\n" for r in rows))

def csv(path, header, rows):
    write(path, ",".join(header) + "\n" + "".join(",".join(str(x) for x in r) + "\n" for r in rows))

def num(x):  # 3.0 -> "3", 3.5 -> "3.5"
    return str(int(x)) if float(x).is_integer() else str(x)

# ------------------------------------------------------------------ shop (heterogeneous)
shop = os.path.join(HERE, "shop")
# users: string IDs, NOT in sorted order (IdMap = row position), two files matched by a glob.
users = [["dave", "alice", "grace", "bob", "heidi", "carol", "frank", "erin"],
         ["sybil", "ivan", "peggy", "judy", "olivia", "mallory", "rupert", "niaj"]]
ages = [31, 25, 42, 19, 28, 55, 37, 23, 48, 33, 29, 61, 22, 45, 38, 27]
cls = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0]   # 6 x "0", 5 x "1", 5 x "2"
k = 0
for f, names in enumerate(users):
    rows = []
    for name in names:
        # emb (user number k, 0-based over both files) = "k;k+0.5;2k"
        rows.append([name, ages[k], f"{k};{num(k + 0.5)};{2 * k}", cls[k]])
        k += 1
    csv(os.path.join(shop, "users", f"user-{f}.csv"), ["uid", "age", "emb", "cls"], rows)

# items: integer IDs that are not 0..N-1 (IdMap, integer keys), Parquet,
# vec = fixed_size_list<float32>[4] = [r, r+0.25, -r, 1] for row r, rating float64 with one NaN.
iids = [105, 101, 110, 103, 120, 102, 111, 130, 104, 115, 108, 109]
rating = [4.5, 3.0, float("nan"), 5.0, 2.5, 4.0, 3.5, 1.0, 4.5, 2.0, 3.0, 5.0]
vec = [[float(r), r + 0.25, -float(r), 1.0] for r in range(len(iids))]
pq.write_table(pa.table({
    "iid": pa.array(iids, pa.int64()),
    "vec": pa.array(vec, pa.list_(pa.float32(), 4)),
    "rating": pa.array(rating, pa.float64()),
}), os.path.join(shop, "items.parquet"))

# stores: integer IDs exactly 0..N-1 in order (NoopMap), CSV.
areas = [120, 80, 200, 150, 60]
csv(os.path.join(shop, "stores.csv"), ["sid", "area"], list(enumerate(areas)))

# user -buys-> item: CSV, float feature price, LP label. (alice,105) appears twice (duplicate edge).
buys = [("alice", 105, 9.5), ("bob", 101, 3.25), ("carol", 110, 20.0), ("dave", 103, 7.75),
        ("erin", 120, 1.5), ("frank", 102, 4.0), ("grace", 111, 15.5), ("heidi", 130, 2.25),
        ("ivan", 104, 6.0), ("judy", 115, 8.5), ("mallory", 108, 11.0), ("niaj", 109, 0.5),
        ("olivia", 105, 9.0), ("peggy", 101, 3.0), ("rupert", 110, 19.5), ("sybil", 103, 7.5),
        ("alice", 105, 12.25), ("bob", 120, 1.75), ("carol", 102, 4.5), ("dave", 111, 14.0)]
csv(os.path.join(shop, "buys.csv"), ["user", "item", "price"], [[u, i, num(p)] for u, i, p in buys])

# user -follows-> user: CSV, no data. (alice,alice) self-loop, (bob,carol) twice.
follows = [("alice", "alice"), ("bob", "carol"), ("carol", "dave"), ("bob", "carol"),
           ("erin", "alice"), ("frank", "grace"), ("ivan", "judy"), ("judy", "ivan"),
           ("sybil", "bob"), ("niaj", "olivia")]
csv(os.path.join(shop, "follows.csv"), ["src", "dst"], follows)

# item -sold_at-> store: Parquet (int64 columns), 14 edges.
sold = [(105, 0), (101, 1), (110, 2), (103, 3), (120, 4), (102, 0), (111, 1), (130, 2),
        (104, 3), (115, 4), (108, 0), (109, 1), (105, 2), (101, 0)]
pq.write_table(pa.table({"item": pa.array([s for s, _ in sold], pa.int64()),
                         "store": pa.array([d for _, d in sold], pa.int64())}),
               os.path.join(shop, "sold_at.parquet"))

# item -tagged-> tag: Parquet (int64, string); `tag` is featureless (IDs = sorted unique strings).
tagged = [(105, "red"), (101, "blue"), (110, "sale"), (103, "new"), (120, "green"),
          (105, "sale"), (130, "red"), (104, "blue"), (115, "new"), (109, "sale")]
pq.write_table(pa.table({"item": pa.array([i for i, _ in tagged], pa.int64()),
                         "tag": pa.array([t for _, t in tagged], pa.string())}),
               os.path.join(shop, "tagged.parquet"))

shop_conf = {
    "version": "gconstruct-v0.1",
    "nodes": [
        {"node_type": "user", "format": {"name": "csv", "separator": ","},
         "files": ["users/user-*.csv"], "node_id_col": "uid",
         "features": [{"feature_col": "age"},
                      {"feature_col": "emb", "feature_name": "emb",
                       "transform": {"name": "no-op", "separator": ";"}}],
         "labels": [{"label_col": "cls", "task_type": "classification",
                     "split_pct": [0.5, 0.25, 0.25], "label_stats_type": "frequency_cnt"}]},
        {"node_type": "item", "format": {"name": "parquet"}, "files": ["items.parquet"],
         "node_id_col": "iid",
         "features": [{"feature_col": "vec", "feature_name": "vec"}],
         "labels": [{"label_col": "rating", "task_type": "regression",
                     "split_pct": [0.8, 0.1, 0.1]}]},
        {"node_type": "store", "format": {"name": "csv", "separator": ","},
         "files": ["stores.csv"], "node_id_col": "sid",
         "features": [{"feature_col": "area", "feature_name": "area",
                       "transform": {"name": "no-op"}}]},
    ],
    "edges": [
        {"relation": ["user", "buys", "item"], "format": {"name": "csv", "separator": ","},
         "files": ["buys.csv"], "source_id_col": "user", "dest_id_col": "item",
         "features": [{"feature_col": "price"}],
         "labels": [{"task_type": "link_prediction", "split_pct": [0.8, 0.1, 0.1]}]},
        {"relation": ["user", "follows", "user"], "format": {"name": "csv", "separator": ","},
         "files": ["follows.csv"], "source_id_col": "src", "dest_id_col": "dst"},
        {"relation": ["item", "sold_at", "store"], "format": {"name": "parquet"},
         "files": ["sold_at.parquet"], "source_id_col": "item", "dest_id_col": "store"},
        {"relation": ["item", "tagged", "tag"], "format": {"name": "parquet"},
         "files": ["tagged.parquet"], "source_id_col": "item", "dest_id_col": "tag"},
    ],
}
write(os.path.join(shop, "config.json"), json.dumps(shop_conf, indent=4) + "\n")

# ------------------------------------------------------------------ shop_transforms
# The shop graph again (data files reused by relative path ../shop/...), with every numeric and
# categorical transform, plus three small new files: stores.json (adds a multi-category string
# column: GraphStorm splits on a separator only for JSON input) and views.csv (hard negatives), and
# tagged.json, shop's tagged edges as JSON lines. This sample keeps graphprep's JSON-lines input
# covered (nodes and edges), so it prints the json-deprecation warning twice; shop prints none.
st = os.path.join(HERE, "shop_transforms")
# stores: NoopMap IDs 0..4; tags = ","-separated categories (multi-hot); kind = one category
store_tags = ["mall,food", "food", "outlet,mall,food", "outlet", "mall"]
store_kind = ["big", "small", "big", "mid", "small"]
jsonl(os.path.join(st, "tagged.json"), [{"item": i, "tag": t} for i, t in tagged])
jsonl(os.path.join(st, "stores.json"),
      [{"sid": i, "area": a, "tags": t, "kind": k}
       for i, (a, t, k) in enumerate(zip(areas, store_tags, store_kind))])
# user -views-> item: hard negatives = ";"-separated raw item IDs (999 and 777 are unknown and
# silently dropped; rows padded with -1 up to the longest list, 4); device = string category.
views = [("alice", 101, "103;105", "web"), ("bob", 105, "101;999;110;120", "app"),
         ("carol", 120, "130", "web"), ("dave", 110, "104;108;109", "tv"),
         ("erin", 103, "777;101", "app"), ("frank", 101, "102;111;115;130", "web"),
         ("alice", 101, "109", "app")]
csv(os.path.join(st, "views.csv"), ["user", "item", "negs", "device"],
    [list(v) for v in views])
st_conf = {
    "version": "gconstruct-v0.1",
    "nodes": [
        {"node_type": "user", "format": {"name": "csv", "separator": ","},
         "files": ["../shop/users/user-*.csv"], "node_id_col": "uid",
         "features": [
             {"feature_col": "age", "feature_name": "age_mm",
              "transform": {"name": "max_min_norm"}},
             {"feature_col": "age", "feature_name": "age_std", "transform": {"name": "standard"}},
             {"feature_col": "age", "feature_name": "age_rg", "transform": {"name": "rank_gauss"}},
             {"feature_col": "age", "feature_name": "age_bucket",
              "transform": {"name": "bucket_numerical", "range": [20, 60], "bucket_cnt": 4,
                            "slide_window_size": 6}},
             {"feature_col": "cls", "feature_name": "cls_cat",
              "transform": {"name": "to_categorical"}},
             {"feature_col": "emb", "feature_name": "emb",
              "transform": {"name": "no-op", "separator": ";"}}],
         "labels": [{"label_col": "cls", "task_type": "classification",
                     "split_pct": [0.5, 0.25, 0.25], "label_stats_type": "frequency_cnt"}]},
        {"node_type": "item", "format": {"name": "parquet"}, "files": ["../shop/items.parquet"],
         "node_id_col": "iid",
         "features": [
             {"feature_col": "vec", "feature_name": "vec_rg", "transform": {"name": "rank_gauss"}},
             {"feature_col": "vec", "feature_name": "vec_std", "transform": {"name": "standard"}}],
         "labels": [{"label_col": "rating", "task_type": "regression",
                     "split_pct": [0.8, 0.1, 0.1]}]},
        {"node_type": "store", "format": {"name": "json"}, "files": ["stores.json"],
         "node_id_col": "sid",
         "features": [
             {"feature_col": "area", "feature_name": "area_bucket",
              "transform": {"name": "bucket_numerical", "range": [50, 250], "bucket_cnt": 5}},
             {"feature_col": "tags", "feature_name": "tags",
              "transform": {"name": "to_categorical", "separator": ","}},
             {"feature_col": "kind", "feature_name": "kind",
              "transform": {"name": "to_categorical"}}]},
    ],
    "edges": [
        {"relation": ["user", "buys", "item"], "format": {"name": "csv", "separator": ","},
         "files": ["../shop/buys.csv"], "source_id_col": "user", "dest_id_col": "item",
         "features": [
             {"feature_col": "price", "feature_name": "price_mm",
              "transform": {"name": "max_min_norm", "max_bound": 15.0}},
             {"feature_col": "price", "feature_name": "price_rg",
              "transform": {"name": "rank_gauss"}}],
         "labels": [{"task_type": "link_prediction", "split_pct": [0.8, 0.1, 0.1]}]},
        {"relation": ["user", "views", "item"], "format": {"name": "csv", "separator": ","},
         "files": ["views.csv"], "source_id_col": "user", "dest_id_col": "item",
         "features": [
             {"feature_col": "negs", "feature_name": "hard_neg",
              "transform": {"name": "edge_dst_hard_negative", "separator": ";"}},
             {"feature_col": "device", "feature_name": "device",
              "transform": {"name": "to_categorical"}}]},
        {"relation": ["user", "follows", "user"], "format": {"name": "csv", "separator": ","},
         "files": ["../shop/follows.csv"], "source_id_col": "src", "dest_id_col": "dst"},
        {"relation": ["item", "sold_at", "store"], "format": {"name": "parquet"},
         "files": ["../shop/sold_at.parquet"], "source_id_col": "item", "dest_id_col": "store"},
        {"relation": ["item", "tagged", "tag"], "format": {"name": "json"},
         "files": ["tagged.json"], "source_id_col": "item", "dest_id_col": "tag"},
    ],
}
write(os.path.join(st, "config.json"), json.dumps(st_conf, indent=4) + "\n")

# ------------------------------------------------------------------ homo (homogeneous)
homo = os.path.join(HERE, "homo")
pids = ["p07", "p02", "p10", "p01", "p05", "p03", "p09", "p04", "p08", "p06"]
# year = 2000 + number in the ID; field = (number in the ID) % 3
csv(os.path.join(homo, "papers.csv"), ["pid", "year", "field"],
    [[p, 2000 + int(p[1:]), int(p[1:]) % 3] for p in pids])
cites = [("p02", "p01"), ("p03", "p01"), ("p03", "p02"), ("p04", "p03"), ("p05", "p01"),
         ("p06", "p05"), ("p07", "p06"), ("p08", "p06"), ("p09", "p08"), ("p10", "p09")]
# weight = 0.5 * (edge row number + 1)
csv(os.path.join(homo, "cites.csv"), ["src", "dst", "weight"],
    [[s, d, num(0.5 * (i + 1))] for i, (s, d) in enumerate(cites)])
homo_conf = {
    "version": "gconstruct-v0.1",
    "nodes": [{"node_type": "paper", "format": {"name": "csv", "separator": ","},
               "files": ["papers.csv"], "node_id_col": "pid",
               "features": [{"feature_col": "year", "feature_name": "year"}],
               "labels": [{"label_col": "field", "task_type": "classification",
                           "split_pct": [0.8, 0.1, 0.1], "label_stats_type": "frequency_cnt"}]}],
    "edges": [{"relation": ["paper", "cites", "paper"], "format": {"name": "csv", "separator": ","},
               "files": ["cites.csv"], "source_id_col": "src", "dest_id_col": "dst",
               "features": [{"feature_col": "weight", "feature_name": "weight"}],
               "labels": [{"task_type": "link_prediction", "split_pct": [0.8, 0.1, 0.1]}]}],
}
write(os.path.join(homo, "config.json"), json.dumps(homo_conf, indent=4) + "\n")
print("sample data written under", HERE)
