//! `graphprep inspect`: its numbers on sample_data/shop checked against the input tables,
//! against `partition_stats.json`, and against GraphStorm's own output of the same config.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;
use std::process::Command;

use arrow::array::StringArray;
use common::{construct_named, copy_dir, repo};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;

fn inspect(path: &Path, format: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(["inspect", "--format", format])
        .arg(path)
        .output()
        .unwrap()
}

fn inspect_json(path: &Path) -> Value {
    let o = inspect(path, "json");
    assert!(
        o.status.success(),
        "inspect failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("stdout is one JSON object")
}

/// Data lines of a CSV table (header skipped).
fn lines(p: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(p).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// The values of string column `col` of a Parquet file, in row order.
fn parquet_strings(p: &Path, col: &str) -> Vec<String> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(p).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let a = batch.column_by_name(col).unwrap();
        let a = a.as_any().downcast_ref::<StringArray>().unwrap();
        out.extend(a.iter().map(|v| v.unwrap().to_string()));
    }
    out
}

fn parquet_rows(p: &Path) -> u64 {
    let r = SerializedFileReader::new(File::open(p).unwrap()).unwrap();
    r.metadata().file_metadata().num_rows() as u64
}

/// `name` → entry of the JSON array `v[key]`.
fn by_name<'a>(v: &'a Value, key: &str) -> BTreeMap<String, &'a Value> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["name"].as_str().unwrap().to_string(), x))
        .collect()
}

fn feature<'a>(v: &'a Value, list: &str, owner: &str, name: &str) -> &'a Value {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["owner"] == owner && f["name"] == name)
        .unwrap_or_else(|| panic!("no {list} {owner}/{name}"))
}

fn mask_set(v: &Value, owner: &str, name: &str) -> (u64, u64) {
    let m = v["masks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["owner"] == owner && m["name"] == name)
        .unwrap_or_else(|| panic!("no mask {owner}/{name}"));
    (m["set"].as_u64().unwrap(), m["rows"].as_u64().unwrap())
}

/// The `(src, dst)` columns of a CSV edge file.
fn csv_pairs(p: &Path) -> Vec<(String, String)> {
    lines(p)
        .iter()
        .map(|l| {
            let mut it = l.split(',');
            (it.next().unwrap().into(), it.next().unwrap().into())
        })
        .collect()
}

fn self_loops_and_dups(pairs: &[(String, String)]) -> (u64, u64) {
    let loops = pairs.iter().filter(|(s, d)| s == d).count() as u64;
    let distinct: BTreeSet<_> = pairs.iter().collect();
    (loops, (pairs.len() - distinct.len()) as u64)
}

#[test]
fn shop_report_matches_inputs_stats_and_graphstorm() {
    let data = repo().join("sample_data/shop");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    construct_named(
        &data.join("config.json"),
        &out,
        "shop",
        &["--num-parts", "2", "--part-method", "random"],
    );
    let v = inspect_json(&out);
    assert_eq!(v["graph_name"], "shop");
    assert_eq!(v["num_parts"], 2);

    // Node counts straight from the input files.
    let users: usize = ["users/user-0.csv", "users/user-1.csv"]
        .iter()
        .map(|f| lines(&data.join(f)).len())
        .sum();
    let tagged = parquet_strings(&data.join("tagged.parquet"), "tag");
    let tags: BTreeSet<&String> = tagged.iter().collect();
    let want_nodes = [
        ("user", users as u64),
        ("item", parquet_rows(&data.join("items.parquet"))),
        ("store", lines(&data.join("stores.csv")).len() as u64),
        ("tag", tags.len() as u64),
    ];
    let nt = by_name(&v, "node_types");
    for (t, n) in want_nodes {
        assert_eq!(nt[t]["total"], n, "{t}");
        let per: u64 = nt[t]["per_partition"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .sum();
        assert_eq!(per, n, "{t} per partition");
    }

    // Edge counts per relation, self-loops and duplicates from the edge files.
    let buys = csv_pairs(&data.join("buys.csv"));
    let follows = csv_pairs(&data.join("follows.csv"));
    let et = by_name(&v, "edge_types");
    let want_edges = [
        ("user:buys:item", buys.len() as u64),
        ("user:follows:user", follows.len() as u64),
        (
            "item:sold_at:store",
            parquet_rows(&data.join("sold_at.parquet")),
        ),
        ("item:tagged:tag", tagged.len() as u64),
    ];
    for (r, n) in want_edges {
        assert_eq!(et[r]["total"], n, "{r}");
    }
    let (loops, dups) = self_loops_and_dups(&follows);
    assert_eq!(et["user:follows:user"]["self_loops"], loops);
    assert_eq!(et["user:follows:user"]["duplicate_edges"], dups);
    assert_eq!(
        et["user:buys:item"]["duplicate_edges"],
        self_loops_and_dups(&buys).1
    );
    assert_eq!(
        et["user:buys:item"]["self_loops"], 0,
        "not a same-type relation"
    );
    // Users nobody follows = users minus distinct follow targets.
    let followed: BTreeSet<_> = follows.iter().map(|(_, d)| d).collect();
    assert_eq!(
        et["user:follows:user"]["isolated_dst"],
        users as u64 - followed.len() as u64
    );
    let out_deg = &et["user:follows:user"]["out_degree"];
    let mut per_src: BTreeMap<&str, u64> = BTreeMap::new();
    for (s, _) in &follows {
        *per_src.entry(s).or_default() += 1;
    }
    assert_eq!(out_deg["max"], *per_src.values().max().unwrap());

    // Features: dtype and shape.
    let emb = feature(&v, "node_features", "user", "emb");
    assert_eq!(emb["dtype"], "float32");
    assert_eq!(emb["shape"], serde_json::json!([users, 3]));
    assert_eq!(emb["columns"].as_array().unwrap().len(), 3);
    let price = feature(&v, "edge_features", "user:buys:item", "price");
    assert_eq!(price["shape"], serde_json::json!([buys.len(), 1]));
    let prices: Vec<f64> = buys_prices(&data.join("buys.csv"));
    let c0 = &price["columns"][0];
    let max = prices.iter().cloned().fold(f64::MIN, f64::max);
    let min = prices.iter().cloned().fold(f64::MAX, f64::min);
    assert_eq!(c0["max"].as_f64().unwrap(), max);
    assert_eq!(c0["min"].as_f64().unwrap(), min);
    let mean = prices.iter().sum::<f64>() / prices.len() as f64;
    assert!((c0["mean"].as_f64().unwrap() - mean).abs() < 1e-5);

    // Masks add up to the splits: every user and every buys edge is in exactly one split
    // (labels complete), items at most once (regression labels with a missing value).
    for (owner, rows) in [
        ("user", users as u64),
        ("user:buys:item", buys.len() as u64),
    ] {
        let sets: Vec<(u64, u64)> = ["train_mask", "val_mask", "test_mask"]
            .iter()
            .map(|m| mask_set(&v, owner, m))
            .collect();
        assert!(sets.iter().all(|&(_, r)| r == rows), "{owner}");
        assert_eq!(sets.iter().map(|s| s.0).sum::<u64>(), rows, "{owner}");
    }
    // Labels: class counts of `cls` add up to the users.
    let cls = v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["owner"] == "user" && l["name"] == "cls")
        .expect("cls is reported as a label");
    let classes: u64 = cls["classes"]
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(classes, users as u64);

    // Balance equals partition_stats.json where they overlap.
    let stats: Value =
        serde_json::from_slice(&std::fs::read(out.join("partition_stats.json")).unwrap()).unwrap();
    let b = &v["balance"];
    for (p, s) in stats["partitions"].as_array().unwrap().iter().enumerate() {
        assert_eq!(b["inner_nodes"][p], s["inner_nodes"]);
        assert_eq!(b["inner_edges"][p], s["inner_edges"]);
        for (t, n) in s["inner_nodes_per_type"].as_object().unwrap() {
            assert_eq!(nt[t.as_str()]["per_partition"][p], *n);
        }
        for (r, n) in s["inner_edges_per_etype"].as_object().unwrap() {
            assert_eq!(et[r.as_str()]["per_partition"][p], *n);
        }
    }
    assert_eq!(b["edge_cut"], stats["edge_cut"]);
    for k in ["node_balance", "edge_balance"] {
        assert!((b[k].as_f64().unwrap() - stats[k].as_f64().unwrap()).abs() < 1e-12);
    }

    // GraphStorm's own partitions of the same config: the same totals, degrees and features.
    let gs = inspect_json(&repo().join("tests/fixtures/graphstorm/shop-p2"));
    for key in ["num_nodes", "num_edges", "num_parts", "graph_name"] {
        assert_eq!(gs[key], v[key], "{key}");
    }
    let gnt = by_name(&gs, "node_types");
    for (t, x) in &nt {
        assert_eq!(gnt[t]["total"], x["total"], "{t}");
    }
    let get = by_name(&gs, "edge_types");
    for (r, x) in &et {
        for k in [
            "total",
            "out_degree",
            "in_degree",
            "isolated_dst",
            "self_loops",
            "duplicate_edges",
        ] {
            assert_eq!(get[r][k], x[k], "{r} {k}");
        }
    }
    for list in ["node_features", "edge_features"] {
        let a = v[list].as_array().unwrap();
        let g = gs[list].as_array().unwrap();
        assert_eq!(a.len(), g.len(), "{list}");
        for (x, y) in a.iter().zip(g) {
            for k in ["owner", "name", "dtype", "shape", "nan", "inf"] {
                assert_eq!(x[k], y[k], "{list} {} {k}", x["name"]);
            }
        }
    }
    assert_eq!(gs["masks"], v["masks"]);

    // The table names every type.
    let t = inspect(&out, "table");
    assert!(t.status.success());
    let table = String::from_utf8(t.stdout).unwrap();
    for name in [
        "user:follows:user",
        "item:tagged:tag",
        "partition balance",
        "edge cut",
    ] {
        assert!(table.contains(name), "{name} missing in\n{table}");
    }
    // The partition JSON itself is accepted too.
    assert_eq!(
        inspect_json(&out.join("shop.json"))["num_edges"],
        v["num_edges"]
    );
}

fn buys_prices(p: &Path) -> Vec<f64> {
    lines(p)
        .iter()
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn bad_paths_exit_1_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let o = inspect(&missing, "table");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error: ") && err.contains("nope"), "{err}");
    assert!(o.stdout.is_empty());

    // A folder without a partition config.
    let o = inspect(tmp.path(), "json");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no partition config"));

    // A corrupt partition graph: the reader's message names the file.
    let out = tmp.path().join("out");
    copy_dir(&repo().join("tests/fixtures/graphstorm/shop-p2"), &out);
    let g = out.join("part1/graph.dgl");
    let bytes = std::fs::read(&g).unwrap();
    std::fs::write(&g, &bytes[..bytes.len() / 2]).unwrap();
    let o = inspect(&out, "json");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("graph.dgl"),
        "{err}"
    );

    // Usage errors exit 2.
    let o = Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(["inspect", "--format", "yaml", "x"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Runs `inspect --plot DIR` (JSON on stdout) and returns the stderr lines.
fn plot(path: &Path, dir: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(["inspect", "--format", "json", "--plot"])
        .arg(dir)
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<Value>(&o.stdout).expect("stdout is still the JSON report");
    String::from_utf8(o.stderr).unwrap()
}

/// The stems in `dir` that have both a valid PNG and an SVG containing `title` text.
fn charts(dir: &Path) -> BTreeSet<String> {
    let mut stems = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "png") {
            let png = std::fs::read(&p).unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", p.display());
            let svg = std::fs::read_to_string(p.with_extension("svg")).unwrap();
            assert!(svg.trim_start().starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            stems.insert(p.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    stems
}

#[test]
fn plot_writes_one_chart_per_data_set() {
    let tmp = tempfile::tempdir().unwrap();
    let data = repo().join("sample_data/shop");
    let out = tmp.path().join("out");
    construct_named(
        &data.join("config.json"),
        &out,
        "shop",
        &["--num-parts", "2"],
    );
    let dir = tmp.path().join("plots/nested");
    let err = plot(&out, &dir);
    let want: BTreeSet<String> = [
        "degree_item_sold_at_store",
        "degree_item_tagged_tag",
        "degree_user_buys_item",
        "degree_user_follows_user",
        "balance",
        "label_user_cls",
        "masks",
    ]
    .map(String::from)
    .into();
    assert_eq!(charts(&dir), want);
    for stem in &want {
        assert!(err.contains(&format!("{stem}.{{svg,png}}")), "{err}");
    }
    let svg = |s: &str| std::fs::read_to_string(dir.join(format!("{s}.svg"))).unwrap();
    assert!(svg("degree_user_buys_item").contains("Degree distribution of user:buys:item"));
    assert!(
        svg("label_user_cls").contains("Label &apos;cls&apos; of user")
            || svg("label_user_cls").contains("Label 'cls' of user")
    );
    assert!(
        svg("masks").contains("train_mask") && svg("balance").contains("Inner edges per partition")
    );

    // Without labels and masks: no label or mask chart, and stderr says so.
    let bare = tmp.path().join("bare");
    copy_dir(&data, &bare);
    let conf = bare.join("config.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&conf).unwrap()).unwrap();
    for key in ["nodes", "edges"] {
        for t in v[key].as_array_mut().unwrap() {
            t.as_object_mut().unwrap().remove("labels");
        }
    }
    std::fs::write(&conf, serde_json::to_vec(&v).unwrap()).unwrap();
    let out = tmp.path().join("bare-out");
    construct_named(&conf, &out, "shop", &[]);
    let dir = tmp.path().join("bare-plots");
    let err = plot(&out, &dir);
    let got = charts(&dir);
    assert!(
        got.contains("balance") && got.contains("degree_user_buys_item"),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|s| s.starts_with("label") || s == "masks"),
        "{got:?}"
    );
    assert!(err.contains("skipped label charts: no labels"), "{err}");
    assert!(err.contains("skipped mask chart: no masks"), "{err}");

    // A DIR that cannot be created: exit 1, the reason on stderr, nothing on stdout.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(["inspect", "--plot"])
        .arg(file.join("sub"))
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: --plot: ") && err.contains("a-file"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}
