//! Fit-state round trip through the runtime config (`data_transform_new.json`).
//!
//! 1. Build `sample_data/shop_transforms`, then rebuild from the written runtime config (with
//!    its `files` made absolute, since relative paths resolve against the config's folder):
//!    every feature tensor must be identical, and still match GraphStorm's values.
//! 2. Rebuild a *different* dataset (a subset of the rows, whose own statistics differ) with the
//!    saved runtime config: the old statistics (max/min, sum, category mapping) must be applied,
//!    which is asserted numerically.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::{json, Value};

fn runtime_conf(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("data_transform_new.json")).unwrap())
        .unwrap()
}

/// Makes every `files` entry absolute (relative to `base`) and writes the config to `dst`.
fn absolutize(mut conf: Value, base: &Path, dst: &Path) -> Value {
    for sect in ["nodes", "edges"] {
        for b in conf[sect].as_array_mut().unwrap() {
            let files: Vec<Value> = b["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| json!(base.join(f.as_str().unwrap()).to_str().unwrap()))
                .collect();
            b["files"] = Value::Array(files);
        }
    }
    std::fs::write(dst, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
    conf
}

#[test]
fn rebuild_from_runtime_config_is_identical() {
    let base = repo().join("sample_data/shop_transforms");
    let tmp = tempfile::tempdir().unwrap();
    let out1 = tmp.path().join("out1");
    construct(&base.join("config.json"), &out1, &[]);
    let conf2 = tmp.path().join("runtime.json");
    absolutize(runtime_conf(&out1), &base, &conf2);
    let out2 = tmp.path().join("out2");
    construct(&conf2, &out2, &[]);
    for file in ["node_feat.dgl", "edge_feat.dgl"] {
        let a = part0(&out1, file);
        let b = part0(&out2, file);
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "{file}"
        );
        for (k, ta) in &a {
            let tb = &b[k];
            assert_eq!((ta.dtype, &ta.shape), (tb.dtype, &tb.shape), "{k}");
            assert!(
                ta.bytes() == tb.bytes(),
                "{k}: values differ after the rebuild"
            );
        }
    }
    check_against_expected(&out2, &expected());
    // the state survives a second round
    let (s1, s2) = (runtime_conf(&out1), runtime_conf(&out2));
    for sect in ["nodes", "edges"] {
        for (b1, b2) in s1[sect]
            .as_array()
            .unwrap()
            .iter()
            .zip(s2[sect].as_array().unwrap())
        {
            assert_eq!(b1["features"], b2["features"], "{sect}");
        }
    }
}

/// One feature of graphprep's 1-partition output, as rows of f64 keyed by raw ID.
fn by_raw(out: &Path, kind: &str, ty: &str, name: &str, n: usize) -> BTreeMap<String, Vec<f64>> {
    let file = if kind == "node" {
        "node_feat.dgl"
    } else {
        "edge_feat.dgl"
    };
    let t = &part0(out, file)[&format!("{ty}/{name}")];
    let rows = rows_f64(t);
    assert_eq!(rows.len(), n, "{ty}/{name}");
    match raw_ids(out, ty) {
        Some(ids) if kind == "node" => ids
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            })
            .zip(rows)
            .collect(),
        _ => rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| (i.to_string(), r))
            .collect(),
    }
}

fn assert_rows(what: &str, got: &BTreeMap<String, Vec<f64>>, want: &[(&str, Vec<f64>)]) {
    assert_eq!(got.len(), want.len(), "{what}: row count");
    for (id, w) in want {
        let g = got
            .get(*id)
            .unwrap_or_else(|| panic!("{what}: no row for {id}"));
        assert!(
            g.len() == w.len() && g.iter().zip(w).all(|(a, b)| close(*a, *b)),
            "{what}[{id}]: {g:?}, expected {w:?} (saved statistics)"
        );
    }
}

#[test]
fn saved_state_applies_to_a_different_dataset() {
    let base = repo().join("sample_data/shop_transforms");
    let tmp = tempfile::tempdir().unwrap();
    let out1 = tmp.path().join("out1");
    construct(&base.join("config.json"), &out1, &[]);
    let state = runtime_conf(&out1);

    // The subset: users of user-1.csv only (ages 22..61; the full data has min 19), two stores
    // using 2 of the 3 tags/kinds, buys without the cheapest (0.5) row, two views with device
    // "tv" only. Its own statistics would differ from the saved ones everywhere asserted below.
    let d = tmp.path().join("subset");
    std::fs::create_dir_all(d.join("users")).unwrap();
    std::fs::copy(
        repo().join("sample_data/shop/users/user-1.csv"),
        d.join("users/user-1.csv"),
    )
    .unwrap();
    std::fs::copy(
        repo().join("sample_data/shop/items.parquet"),
        d.join("items.parquet"),
    )
    .unwrap();
    std::fs::write(
        d.join("stores.json"),
        "{\"sid\": 0, \"area\": 80, \"tags\": \"food\", \"kind\": \"small\"}\n\
         {\"sid\": 1, \"area\": 150, \"tags\": \"outlet\", \"kind\": \"mid\"}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("buys.csv"),
        "user,item,price\nivan,104,6\njudy,115,8.5\nmallory,108,11\nolivia,105,9\n\
         peggy,101,3\nrupert,110,19.5\nsybil,103,7.5\n",
    )
    .unwrap();
    std::fs::write(
        d.join("views.csv"),
        // 4 hard negatives in one row: the width (not saved, recomputed) must stay 4, since
        // the runtime config asserts feature_dim like GraphStorm does
        "user,item,negs,device\nivan,101,103;105;120;130,tv\njudy,105,101,tv\n",
    )
    .unwrap();
    let mut conf = state.clone();
    let files = [
        ("nodes", "user", "users/user-*.csv"),
        ("nodes", "item", "items.parquet"),
        ("nodes", "store", "stores.json"),
        ("edges", "buys", "buys.csv"),
        ("edges", "views", "views.csv"),
    ];
    let mut edges = Vec::new();
    for b in conf["edges"].as_array().unwrap() {
        let rel = b["relation"][1].as_str().unwrap();
        if rel == "buys" || rel == "views" {
            edges.push(b.clone());
        }
    }
    conf["edges"] = Value::Array(edges);
    for (sect, ty, f) in files {
        for b in conf[sect].as_array_mut().unwrap() {
            let name = if sect == "nodes" {
                b["node_type"].as_str().unwrap().to_string()
            } else {
                b["relation"][1].as_str().unwrap().to_string()
            };
            if name == ty {
                b["files"] = json!([f]);
            }
        }
    }
    let conf_path = d.join("conf.json");
    std::fs::write(&conf_path, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
    let out2 = tmp.path().join("out2");
    construct(&conf_path, &out2, &[]);

    // saved state as written by the first run
    let feat = |sect: &str, ty: &str, name: &str| -> Value {
        for b in state[sect].as_array().unwrap() {
            let t = if sect == "nodes" {
                b["node_type"].as_str().unwrap()
            } else {
                b["relation"][1].as_str().unwrap()
            };
            if t == ty {
                for f in b["features"].as_array().unwrap() {
                    if f["feature_name"] == name {
                        return f["transform"].clone();
                    }
                }
            }
        }
        panic!("{ty}/{name} not in the runtime config")
    };
    assert_eq!(feat("nodes", "user", "age_mm")["max_val"], json!([61]));
    assert_eq!(feat("nodes", "user", "age_mm")["min_val"], json!([19]));
    assert_eq!(feat("nodes", "user", "age_std")["sum"], json!([563]));
    assert_eq!(
        feat("nodes", "item", "vec_std")["sum"],
        json!([66.0, 69.0, -66.0, 12.0])
    );
    assert_eq!(
        feat("nodes", "store", "tags")["mapping"],
        json!({"food": 0, "mall": 1, "outlet": 2})
    );
    assert_eq!(feat("edges", "buys", "price_mm")["min_val"], json!([0.5]));
    assert_eq!(
        feat("edges", "views", "device")["mapping"],
        json!({"app": 0, "tv": 1, "web": 2})
    );

    // user-1.csv: sybil 48, ivan 33, peggy 29, judy 61, olivia 22, mallory 45, rupert 38, niaj 27;
    // cls 2,0,1,2,0,1,2,0
    let users = [
        ("sybil", 48.0, 2),
        ("ivan", 33.0, 0),
        ("peggy", 29.0, 1),
        ("judy", 61.0, 2),
        ("olivia", 22.0, 0),
        ("mallory", 45.0, 1),
        ("rupert", 38.0, 2),
        ("niaj", 27.0, 0),
    ];
    let mm: Vec<(&str, Vec<f64>)> = users
        .iter()
        .map(|&(u, a, _)| (u, vec![(a - 19.0) / (61.0 - 19.0)]))
        .collect();
    assert_rows(
        "user/age_mm",
        &by_raw(&out2, "node", "user", "age_mm", 8),
        &mm,
    );
    let sd: Vec<(&str, Vec<f64>)> = users
        .iter()
        .map(|&(u, a, _)| (u, vec![a / 563.0]))
        .collect();
    assert_rows(
        "user/age_std",
        &by_raw(&out2, "node", "user", "age_std", 8),
        &sd,
    );
    let cat: Vec<(&str, Vec<f64>)> = users
        .iter()
        .map(|&(u, _, c)| (u, (0..3).map(|j| (j == c) as i32 as f64).collect()))
        .collect();
    assert_rows(
        "user/cls_cat",
        &by_raw(&out2, "node", "user", "cls_cat", 8),
        &cat,
    );
    // stores (NoopMap: key = sid): the saved 3-column mappings, not the subset's own 2 columns
    assert_rows(
        "store/tags",
        &by_raw(&out2, "node", "store", "tags", 2),
        &[("0", vec![1.0, 0.0, 0.0]), ("1", vec![0.0, 0.0, 1.0])],
    );
    assert_rows(
        "store/kind",
        &by_raw(&out2, "node", "store", "kind", 2),
        &[("0", vec![0.0, 0.0, 1.0]), ("1", vec![0.0, 1.0, 0.0])],
    );
    // items: vec = [r, r + 0.25, -r, 1] / saved sums
    let items = by_raw(&out2, "node", "item", "vec_std", 12);
    let iids = [105, 101, 110, 103, 120, 102, 111, 130, 104, 115, 108, 109];
    let want: Vec<(String, Vec<f64>)> = iids
        .iter()
        .enumerate()
        .map(|(r, id)| {
            let r = r as f64;
            (
                id.to_string(),
                vec![r / 66.0, (r + 0.25) / 69.0, -r / -66.0, 1.0 / 12.0],
            )
        })
        .collect();
    let want: Vec<(&str, Vec<f64>)> = want.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    assert_rows("item/vec_std", &items, &want);
    // buys (construction EID = row): (p - 0.5) / (15 - 0.5), clipped to 1 above max_bound 15
    let prices = [6.0, 8.5, 11.0, 9.0, 3.0, 19.5, 7.5];
    let want: Vec<(String, Vec<f64>)> = prices
        .iter()
        .enumerate()
        .map(|(i, p)| (i.to_string(), vec![((p - 0.5) / 14.5f64).min(1.0)]))
        .collect();
    let want: Vec<(&str, Vec<f64>)> = want.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    assert_rows(
        "buys/price_mm",
        &by_raw(&out2, "edge", "user:buys:item", "price_mm", 7),
        &want,
    );
    assert_rows(
        "views/device",
        &by_raw(&out2, "edge", "user:views:item", "device", 2),
        &[("0", vec![0.0, 1.0, 0.0]), ("1", vec![0.0, 1.0, 0.0])],
    );
    // the rebuild's runtime config carries the old state unchanged
    let s2 = runtime_conf(&out2);
    let f2 = |ty: &str, name: &str| -> Value {
        for b in s2["nodes"].as_array().unwrap() {
            if b["node_type"] == ty {
                for f in b["features"].as_array().unwrap() {
                    if f["feature_name"] == name {
                        return f["transform"].clone();
                    }
                }
            }
        }
        Value::Null
    };
    assert_eq!(f2("user", "age_mm"), feat("nodes", "user", "age_mm"));
    assert_eq!(f2("store", "tags"), feat("nodes", "store", "tags"));
}
