//! `graphprep remap` on sample_data/shop: synthetic embeddings/predictions in GraphStorm's
//! layout (construction IDs) → Parquet/CSV whose `nid` column holds the raw IDs of
//! `raw_id_mappings`, with `emb`/`pred` rows lined up; chunking, `--preserve-input`, CSV, `--cf`,
//! edge predictions, a missing ID map, and bad inputs.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow::array::{Array, AsArray, Int64Array, ListArray, StringArray};
use arrow::datatypes::{DataType, Float32Type};
use common::{construct_named, raw_ids, repo};
use graphprep::format::results::{
    save_edge_predictions, save_embeddings, save_predictions, write_emb_info,
    write_result_info_edges, write_result_info_nodes, Pred,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

/// The shop graph built once per test into `tmp/out`.
fn shop(tmp: &Path) -> PathBuf {
    let out = tmp.join("out");
    construct_named(
        &repo().join("sample_data/shop/config.json"),
        &out,
        "shop",
        &[],
    );
    out
}

fn remap(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .arg("remap")
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &std::process::Output) {
    assert!(
        o.status.success(),
        "remap failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The embedding value of construction ID `c`, column `k`.
fn emb_val(c: i64, k: usize) -> f32 {
    c as f32 * 10.0 + k as f32 * 0.5
}

/// Embeddings of every `ntype` node, rows in reverse construction-ID order.
fn write_embs(dir: &Path, ntype: &str, n: usize, dim: usize) -> Vec<i64> {
    let nids: Vec<i64> = (0..n as i64).rev().collect();
    let data: Vec<f32> = nids
        .iter()
        .flat_map(|&c| (0..dim).map(move |k| emb_val(c, k)))
        .collect();
    save_embeddings(dir, ntype, 0, &data, n, dim, &nids).unwrap();
    nids
}

fn read_parquet(p: &Path) -> arrow::record_batch::RecordBatch {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(p).unwrap()).unwrap();
    let schema = builder.schema().clone();
    let batches: Vec<_> = builder.build().unwrap().map(|b| b.unwrap()).collect();
    arrow::compute::concat_batches(&schema, &batches).unwrap()
}

fn nid_values(a: &dyn Array) -> Vec<Value> {
    if let Some(s) = a.as_any().downcast_ref::<StringArray>() {
        (0..s.len()).map(|i| Value::from(s.value(i))).collect()
    } else if let Some(s) = a.as_any().downcast_ref::<Int64Array>() {
        (0..s.len()).map(|i| Value::from(s.value(i))).collect()
    } else {
        panic!("nid has type {}", a.data_type())
    }
}

fn list_rows(a: &dyn Array) -> Vec<Vec<f32>> {
    let l = a
        .as_any()
        .downcast_ref::<ListArray>()
        .expect("a list column");
    (0..l.len())
        .map(|i| l.value(i).as_primitive::<Float32Type>().values().to_vec())
        .collect()
}

fn col_names(b: &arrow::record_batch::RecordBatch) -> Vec<String> {
    b.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[test]
fn embeddings_and_predictions_map_to_raw_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shop(tmp.path());
    let raw_user = raw_ids(&out, "user").unwrap();
    let raw_item = raw_ids(&out, "item").unwrap();
    let emb = tmp.path().join("emb");
    let pred = tmp.path().join("pred");
    let nids_user = write_embs(&emb, "user", raw_user.len(), 3);
    let nids_item = write_embs(&emb, "item", raw_item.len(), 2);
    write_emb_info(&emb, &["user".into(), "item".into()], &[3, 2]).unwrap();
    // user: probabilities; item: class IDs (c % 3), in construction order.
    let n = raw_user.len();
    let proba: Vec<f32> = (0..n).flat_map(|c| [c as f32 / 100.0, 1.0]).collect();
    save_predictions(
        &pred,
        "user",
        0,
        &Pred::Proba {
            data: proba,
            rows: n,
            cols: 2,
        },
        &(0..n as i64).collect::<Vec<_>>(),
    )
    .unwrap();
    let m = raw_item.len();
    let cls: Vec<i64> = (0..m as i64).map(|c| c % 3).collect();
    save_predictions(
        &pred,
        "item",
        0,
        &Pred::Class(cls),
        &(0..m as i64).collect::<Vec<_>>(),
    )
    .unwrap();
    write_result_info_nodes(&pred, &["user".into(), "item".into()]).unwrap();

    let o = remap(&[
        "--node-id-mapping",
        s(&out.join("raw_id_mappings")),
        "--node-emb-dir",
        s(&emb),
        "--prediction-dir",
        s(&pred),
    ]);
    ok(&o);

    for (t, raw, nids, dim) in [
        ("user", &raw_user, &nids_user, 3),
        ("item", &raw_item, &nids_item, 2),
    ] {
        let b = read_parquet(&emb.join(t).join("embed-00000_00000.parquet"));
        assert_eq!(col_names(&b), ["emb", "nid"]);
        let DataType::List(f) = b.column(0).data_type() else {
            panic!("emb is not a list")
        };
        assert_eq!(f.data_type(), &DataType::Float32);
        let ids = nid_values(b.column(1).as_ref());
        let rows = list_rows(b.column(0).as_ref());
        assert_eq!(ids.len(), nids.len());
        for (i, &c) in nids.iter().enumerate() {
            assert_eq!(ids[i], raw[c as usize], "{t} row {i}");
            let want: Vec<f32> = (0..dim).map(|k| emb_val(c, k)).collect();
            assert_eq!(rows[i], want, "{t} row {i}");
        }
        assert!(
            !emb.join(t).join("embed-00000.pt").exists(),
            "input removed"
        );
        assert!(!emb.join(t).join("embed_nids-00000.pt").exists());
    }
    assert!(emb.join("emb_info.json").exists(), "emb_info.json stays");

    let b = read_parquet(&pred.join("user/pred.predict-00000_00000.parquet"));
    assert_eq!(col_names(&b), ["pred", "nid"]);
    assert_eq!(nid_values(b.column(1).as_ref()), raw_user);
    let rows = list_rows(b.column(0).as_ref());
    for (c, r) in rows.iter().enumerate() {
        assert_eq!(r, &vec![c as f32 / 100.0, 1.0]);
    }
    let b = read_parquet(&pred.join("item/pred.predict-00000_00000.parquet"));
    assert_eq!(b.column(0).data_type(), &DataType::Int64);
    assert_eq!(nid_values(b.column(1).as_ref()), raw_item);
    let p = b.column(0).as_primitive::<arrow::datatypes::Int64Type>();
    assert!((0..m).all(|c| p.value(c) == c as i64 % 3));
    assert!(pred.join("result_info.json").exists());
    assert!(!pred.join("item/predict-00000.pt").exists());
}

#[test]
fn chunks_preserve_input_and_column_names() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shop(tmp.path());
    let raw = raw_ids(&out, "user").unwrap();
    let emb = tmp.path().join("emb");
    let nids = write_embs(&emb, "user", raw.len(), 4);
    write_emb_info(&emb, &["user".into()], &[4]).unwrap();
    let o = remap(&[
        "--node-id-mapping",
        s(&out.join("raw_id_mappings")),
        "--node-emb-dir",
        s(&emb),
        "--output-chunk-size",
        "5",
        "--preserve-input",
        "true",
        "--column-names",
        "nid,node_id",
        "emb,embedding",
    ]);
    ok(&o);
    let n = raw.len();
    let chunks = n.div_ceil(5);
    let mut all_ids = Vec::new();
    for c in 0..chunks {
        let b = read_parquet(&emb.join(format!("user/embed-00000_{c:05}.parquet")));
        assert_eq!(col_names(&b), ["embedding", "node_id"]);
        assert_eq!(b.num_rows(), 5.min(n - 5 * c));
        all_ids.extend(nid_values(b.column(1).as_ref()));
    }
    assert!(!emb
        .join(format!("user/embed-00000_{chunks:05}.parquet"))
        .exists());
    let want: Vec<Value> = nids.iter().map(|&c| raw[c as usize].clone()).collect();
    assert_eq!(all_ids, want);
    assert!(emb.join("user/embed-00000.pt").exists(), "--preserve-input");
    assert!(emb.join("user/embed_nids-00000.pt").exists());
    // No temporary files left behind.
    for e in std::fs::read_dir(emb.join("user")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(!name.starts_with('.'), "left over {name}");
    }
}

#[test]
fn csv_output_joins_lists_with_semicolons() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shop(tmp.path());
    let raw = raw_ids(&out, "user").unwrap();
    let pred = tmp.path().join("pred");
    let n = raw.len();
    let nids: Vec<i64> = (0..n as i64).collect();
    let data: Vec<f32> = (0..n).flat_map(|c| [c as f32, 0.25]).collect();
    save_predictions(
        &pred,
        "user",
        0,
        &Pred::Proba {
            data,
            rows: n,
            cols: 2,
        },
        &nids,
    )
    .unwrap();
    write_result_info_nodes(&pred, &["user".into()]).unwrap();
    let o = remap(&[
        "--node-id-mapping",
        s(&out.join("raw_id_mappings")),
        "--prediction-dir",
        s(&pred),
        "--output-format",
        "csv",
        "--output-delimiter",
        "|",
    ]);
    ok(&o);
    let text = std::fs::read_to_string(pred.join("user/pred.predict-00000_00000.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "pred|nid");
    assert_eq!(lines.len(), n + 1);
    for (c, line) in lines[1..].iter().enumerate() {
        let raw_s = match &raw[c] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        assert_eq!(*line, format!("{}.0;0.25|{raw_s}", c));
    }
}

#[test]
fn cf_derives_folders_from_the_training_yaml() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shop(tmp.path());
    let raw = raw_ids(&out, "user").unwrap();
    let emb = tmp.path().join("emb");
    let nids = write_embs(&emb, "user", raw.len(), 2);
    write_emb_info(&emb, &["user".into()], &[2]).unwrap();
    let yaml = format!(
        "version: 1.0\ngsf:\n  basic:\n    part_config: {}\n  gnn:\n    model_encoder_type: mlp\n    \
         hidden_size: 4\n  output:\n    save_embed_path: {}\n  hyperparam:\n    lr: 0.1\n    \
         batch_size: 4\n  node_classification:\n    target_ntype: user\n    label_field: cls\n    \
         num_classes: 2\n",
        s(&out.join("shop.json")),
        s(&emb)
    );
    let cf = tmp.path().join("nc.yaml");
    std::fs::write(&cf, yaml).unwrap();
    let o = remap(&["--cf", s(&cf)]);
    ok(&o);
    let b = read_parquet(&emb.join("user/embed-00000_00000.parquet"));
    let want: Vec<Value> = nids.iter().map(|&c| raw[c as usize].clone()).collect();
    assert_eq!(nid_values(b.column(1).as_ref()), want);
}

#[test]
fn edge_predictions_map_both_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shop(tmp.path());
    let raw_user = raw_ids(&out, "user").unwrap();
    let raw_item = raw_ids(&out, "item").unwrap();
    let pred = tmp.path().join("pred");
    let et = ("user".to_string(), "buys".to_string(), "item".to_string());
    let src = vec![0i64, 3, 1];
    let dst = vec![2i64, 0, 1];
    save_edge_predictions(&pred, &et, 0, &Pred::Class(vec![1, 0, 1]), &src, &dst).unwrap();
    write_result_info_edges(&pred, std::slice::from_ref(&et)).unwrap();
    let o = remap(&[
        "--node-id-mapping",
        s(&out.join("raw_id_mappings")),
        "--prediction-dir",
        s(&pred),
    ]);
    ok(&o);
    let b = read_parquet(&pred.join("user_buys_item/pred.predict-00000_00000.parquet"));
    assert_eq!(col_names(&b), ["pred", "src_nid", "dst_nid"]);
    let want_src: Vec<Value> = src.iter().map(|&c| raw_user[c as usize].clone()).collect();
    let want_dst: Vec<Value> = dst.iter().map(|&c| raw_item[c as usize].clone()).collect();
    assert_eq!(nid_values(b.column(1).as_ref()), want_src);
    assert_eq!(nid_values(b.column(2).as_ref()), want_dst);
}

#[test]
fn missing_id_map_warns_and_keeps_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shop(tmp.path());
    // `store` is integer-keyed: construct writes no raw ID map for it.
    assert!(raw_ids(&out, "store").is_none());
    let emb = tmp.path().join("emb");
    write_embs(&emb, "store", 5, 2);
    write_embs(&emb, "user", 3, 2);
    write_emb_info(&emb, &["store".into(), "user".into()], &[2, 2]).unwrap();
    let o = remap(&[
        "--node-id-mapping",
        s(&out.join("raw_id_mappings")),
        "--node-emb-dir",
        s(&emb),
    ]);
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no raw ID mapping for node type(s) store"),
        "{err}"
    );
    assert!(emb.join("store/embed-00000.pt").exists());
    assert!(emb.join("user/embed-00000.pt").exists());
    assert!(!emb.join("user/embed-00000_00000.parquet").exists());
}

#[test]
fn bad_inputs_fail_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shop(tmp.path());
    let n = raw_ids(&out, "user").unwrap().len();
    let emb = tmp.path().join("emb");
    // A construction ID beyond the map.
    let nids: Vec<i64> = vec![0, n as i64];
    save_embeddings(&emb, "user", 0, &[1.0, 2.0], 2, 1, &nids).unwrap();
    write_emb_info(&emb, &["user".into()], &[1]).unwrap();
    let map = out.join("raw_id_mappings");
    let o = remap(&["--node-id-mapping", s(&map), "--node-emb-dir", s(&emb)]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("embed_nids-00000.pt") && err.contains("row 1"),
        "{err}"
    );
    assert!(
        emb.join("user/embed-00000.pt").exists(),
        "inputs kept on error"
    );
    // Row count mismatch between embeddings and IDs.
    save_embeddings(&emb, "user", 0, &[1.0], 1, 1, &[0]).unwrap();
    std::fs::copy(
        emb.join("user/embed-00000.pt"),
        tmp.path().join("one_row.pt"),
    )
    .unwrap();
    save_embeddings(&emb, "user", 0, &[1.0, 2.0], 2, 1, &[0, 1]).unwrap();
    std::fs::copy(
        tmp.path().join("one_row.pt"),
        emb.join("user/embed-00000.pt"),
    )
    .unwrap();
    let o = remap(&["--node-id-mapping", s(&map), "--node-emb-dir", s(&emb)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("2 IDs but"));
    // A truncated .pt file.
    std::fs::write(emb.join("user/embed-00000.pt"), b"PK\x03\x04junk").unwrap();
    let o = remap(&["--node-id-mapping", s(&map), "--node-emb-dir", s(&emb)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("embed-00000.pt"));
    // Nothing to do / usage.
    let o = remap(&["--node-id-mapping", s(&map)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to remap"));
    let o = remap(&["--output-format", "xml"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Copies the folder tree `from` to `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// Relative paths of the files under `dir`, sorted.
fn tree(dir: &Path) -> Vec<PathBuf> {
    common::files(dir).into_keys().collect()
}

/// Same inputs through GraphStorm 0.5.1's `remap_result` (the reference env of
/// shared/refenv.sh, `REFENV` or ~/.cache/graphprep-refenv) and `graphprep remap`: the same
/// files, Parquet columns with the same names, types and values, byte-identical CSV.
#[test]
#[ignore = "needs the GraphStorm reference env (shared/refenv.sh)"]
fn matches_graphstorm_remap_result() {
    let env = std::env::var("REFENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/graphprep-refenv")
        });
    let py = env.join("bin/python");
    assert!(py.exists(), "no reference env at {}", env.display());
    let tmp = tempfile::tempdir().unwrap();
    let out = shop(tmp.path());
    let n_user = raw_ids(&out, "user").unwrap().len();
    let n_item = raw_ids(&out, "item").unwrap().len();
    let src = tmp.path().join("src");
    let (emb, pred) = (src.join("emb"), src.join("pred"));
    write_embs(&emb, "user", n_user, 3);
    write_embs(&emb, "item", n_item, 2);
    write_emb_info(&emb, &["user".into(), "item".into()], &[3, 2]).unwrap();
    let proba: Vec<f32> = (0..n_user)
        .flat_map(|c| [c as f32 / 7.0, 1e-5, 1.0])
        .collect();
    let nids: Vec<i64> = (0..n_user as i64).rev().collect();
    let p = Pred::Proba {
        data: proba,
        rows: n_user,
        cols: 3,
    };
    save_predictions(&pred, "user", 0, &p, &nids).unwrap();
    let cls: Vec<i64> = (0..n_item as i64).map(|c| c % 4).collect();
    let inids: Vec<i64> = (0..n_item as i64).collect();
    save_predictions(&pred, "item", 0, &Pred::Class(cls), &inids).unwrap();
    write_result_info_nodes(&pred, &["user".into(), "item".into()]).unwrap();
    let map = out.join("raw_id_mappings");
    for (format, chunk) in [("parquet", "5"), ("csv", "100")] {
        let (gs, gp) = (
            tmp.path().join(format!("gs-{format}")),
            tmp.path().join(format!("gp-{format}")),
        );
        copy_tree(&src, &gs);
        copy_tree(&src, &gp);
        let args = |root: &Path| -> Vec<String> {
            [
                "--node-id-mapping",
                s(&map),
                "--node-emb-dir",
                s(&root.join("emb")),
                "--prediction-dir",
                s(&root.join("pred")),
                "--output-format",
                format,
                "--output-chunk-size",
                chunk,
            ]
            .iter()
            .map(|x| x.to_string())
            .collect()
        };
        let o = Command::new(&py)
            .args(["-m", "graphstorm.gconstruct.remap_result"])
            .args(args(&gs))
            .args(["--num-processes", "1"])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "remap_result failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let strs = args(&gp);
        ok(&remap(&strs.iter().map(String::as_str).collect::<Vec<_>>()));
        // GraphStorm leaves SUCC_<rank> markers; compare the data files.
        let files = |d: &Path| -> Vec<PathBuf> {
            tree(d)
                .into_iter()
                .filter(|p| !p.to_string_lossy().contains("SUCC"))
                .collect()
        };
        assert_eq!(files(&gs), files(&gp), "{format}: file sets");
        for f in files(&gp) {
            let (a, b) = (gs.join(&f), gp.join(&f));
            match f.extension().and_then(|x| x.to_str()) {
                Some("parquet") => {
                    let (ba, bb) = (read_parquet(&a), read_parquet(&b));
                    assert_eq!(col_names(&ba), col_names(&bb), "{f:?}");
                    for (ca, cb) in ba.columns().iter().zip(bb.columns()) {
                        assert_eq!(ca.data_type(), cb.data_type(), "{f:?}");
                        assert_eq!(ca.as_ref(), cb.as_ref(), "{f:?}");
                    }
                }
                Some("csv") => assert_eq!(
                    std::fs::read_to_string(&a).unwrap(),
                    std::fs::read_to_string(&b).unwrap(),
                    "{f:?}"
                ),
                _ => assert_eq!(
                    std::fs::read(&a).unwrap(),
                    std::fs::read(&b).unwrap(),
                    "{f:?}"
                ),
            }
        }
    }
}

#[test]
fn ranks_split_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shop(tmp.path());
    let map = out.join("raw_id_mappings");
    let emb = tmp.path().join("emb");
    for r in 0..3 {
        save_embeddings(&emb, "user", r, &[r as f32], 1, 1, &[r as i64]).unwrap();
    }
    write_emb_info(&emb, &["user".into()], &[1]).unwrap();
    // Shared FS, 3 files on 2 ranks: rank 0 takes 1, rank 1 takes 2.
    let o = remap(&[
        "--node-id-mapping",
        s(&map),
        "--node-emb-dir",
        s(&emb),
        "--rank",
        "1",
        "--world-size",
        "2",
    ]);
    ok(&o);
    let d = emb.join("user");
    assert!(d.join("embed-00000.pt").exists());
    assert!(!d.join("embed-00000_00000.parquet").exists());
    for r in ["00001", "00002"] {
        assert!(d.join(format!("embed-{r}_00000.parquet")).exists());
        assert!(!d.join(format!("embed-{r}.pt")).exists());
    }
    // No shared FS: a rank converts the files of its own suffix.
    let o = remap(&[
        "--node-id-mapping",
        s(&map),
        "--node-emb-dir",
        s(&emb),
        "--rank",
        "0",
        "--world-size",
        "2",
        "--with-shared-fs",
        "false",
    ]);
    ok(&o);
    assert!(d.join("embed-00000_00000.parquet").exists());
    let o = remap(&[
        "--node-id-mapping",
        s(&map),
        "--node-emb-dir",
        s(&emb),
        "--rank",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("rank 2 is not in 0..world size 1"));
}

#[test]
fn an_empty_input_gives_one_empty_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shop(tmp.path());
    let pred = tmp.path().join("pred");
    save_predictions(
        &pred,
        "user",
        0,
        &Pred::Proba {
            data: vec![],
            rows: 0,
            cols: 2,
        },
        &[],
    )
    .unwrap();
    let o = remap(&[
        "--node-id-mapping",
        s(&out.join("raw_id_mappings")),
        "--prediction-dir",
        s(&pred),
        "--pred-ntypes",
        "user",
    ]);
    ok(&o);
    let b = read_parquet(&pred.join("user/pred.predict-00000_00000.parquet"));
    assert_eq!(b.num_rows(), 0);
    assert_eq!(col_names(&b), ["pred", "nid"]);
}
