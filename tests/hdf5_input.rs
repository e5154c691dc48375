//! HDF5 input end to end (GraphStorm's typical use, spec §2.2): node IDs come from a CSV block,
//! features from a feature-only `hdf5` block of the same node type (no `node_id_col`), aligned
//! by row position. The HDF5 rows are split over two files to check that file order is kept.
//! Row alignment is checked through a CSV feature `x`: after partitioning, the HDF5 features of
//! row k of `part0/node_feat.dgl` (one node type and one relation: a homogeneous graph, so the
//! keys are `_N/<feature>`) must be the ones written for the node whose `x` is in row k.
#![cfg(feature = "hdf5")]

use std::path::Path;
use std::process::Output;

use graphprep::format::dgl::load_tensor_dict;
use graphprep::tensor::Tensor;

mod common;

/// Raw IDs and their `x`, in CSV row order.
const USERS: [(&str, f32); 5] = [
    ("u5", 5.0),
    ("u2", 2.0),
    ("u9", 9.0),
    ("u1", 1.0),
    ("u7", 7.0),
];

fn write_h5(path: &Path, xs: &[f32]) {
    let f = hdf5::File::create(path).unwrap();
    let emb: Vec<f32> = xs.iter().flat_map(|&x| [x, 10.0 * x]).collect();
    f.new_dataset::<f32>()
        .shape([xs.len(), 2])
        .create("emb")
        .unwrap()
        .write_raw(&emb)
        .unwrap();
    let score: Vec<f64> = xs.iter().map(|&x| f64::from(x) / 2.0).collect();
    f.new_dataset::<f64>()
        .shape([xs.len()])
        .create("score")
        .unwrap()
        .write_raw(&score)
        .unwrap();
    let rank: Vec<i32> = xs.iter().map(|&x| x as i32).collect();
    f.new_dataset::<i32>()
        .shape([xs.len()])
        .create("rank")
        .unwrap()
        .write_raw(&rank)
        .unwrap();
}

/// Writes the inputs and a config whose HDF5 block has `hdf5_features`.
fn write_inputs(dir: &Path, hdf5_features: serde_json::Value) -> std::path::PathBuf {
    let mut csv = String::from("uid,x\n");
    for (id, x) in USERS {
        csv.push_str(&format!("{id},{x}\n"));
    }
    std::fs::write(dir.join("users.csv"), csv).unwrap();
    std::fs::write(
        dir.join("follows.csv"),
        "src,dst\nu5,u2\nu2,u9\nu9,u1\nu1,u7\nu7,u5\n",
    )
    .unwrap();
    let xs: Vec<f32> = USERS.iter().map(|u| u.1).collect();
    write_h5(&dir.join("user_feat_0.h5"), &xs[..3]);
    write_h5(&dir.join("user_feat_1.h5"), &xs[3..]);
    let conf = serde_json::json!({
        "version": "gconstruct-v0.1",
        "nodes": [
            {"node_type": "user", "format": {"name": "csv"}, "files": "users.csv",
             "node_id_col": "uid", "features": [{"feature_col": "x"}]},
            {"node_type": "user", "format": {"name": "hdf5"}, "files": "user_feat_*.h5",
             "features": hdf5_features}
        ],
        "edges": [
            {"relation": ["user", "follows", "user"], "format": {"name": "csv"},
             "files": "follows.csv", "source_id_col": "src", "dest_id_col": "dst"}
        ]
    });
    let p = dir.join("config.json");
    std::fs::write(&p, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
    p
}

fn construct(conf: &Path, out: &Path) -> Output {
    common::construct_cmd(conf, out)
        .args(["--graph-name", "g", "--quiet", "--num-parts", "1"])
        // The HDF5 library of this test process may still hold its write lock on a file it
        // just wrote (another test thread can keep the library's handles alive); the reader
        // only reads, so it does not need locks.
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .unwrap()
}

fn f32_rows(t: &Tensor) -> Vec<Vec<f32>> {
    let v = t.values::<f32>().expect("float32 tensor");
    v.chunks(t.row_len()).map(<[f32]>::to_vec).collect()
}

#[test]
fn hdf5_feature_block_aligned_with_csv_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = write_inputs(
        tmp.path(),
        serde_json::json!([
            {"feature_col": "emb", "feature_name": "emb"},
            {"feature_col": "score"},
            {"feature_col": "rank", "feature_name": "rank16", "out_dtype": "float16"}
        ]),
    );
    let out = tmp.path().join("out");
    let st = construct(&conf, &out);
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    common::read_back(&out);

    let nf = load_tensor_dict(&out.join("part0/node_feat.dgl")).unwrap();
    let get = |k: &str| {
        &nf.iter()
            .find(|(n, _)| n == k)
            .unwrap_or_else(|| {
                panic!(
                    "{k} missing in {:?}",
                    nf.iter().map(|e| &e.0).collect::<Vec<_>>()
                )
            })
            .1
    };
    let x = f32_rows(get("_N/x"));
    let emb = f32_rows(get("_N/emb"));
    let score = f32_rows(get("_N/score"));
    let rank = get("_N/rank16");
    assert_eq!(rank.shape, vec![5, 1]);
    let rank: Vec<f32> = rank
        .values::<half::f16>()
        .expect("float16 tensor")
        .iter()
        .map(|v| v.to_f32())
        .collect();
    assert_eq!(x.len(), 5);
    let mut seen: Vec<f32> = x.iter().map(|r| r[0]).collect();
    seen.sort_by(f32::total_cmp);
    assert_eq!(seen, [1.0, 2.0, 5.0, 7.0, 9.0]);
    for k in 0..5 {
        let xv = x[k][0];
        assert_eq!(emb[k], [xv, 10.0 * xv], "row {k}");
        assert_eq!(score[k], [xv / 2.0], "row {k}");
        assert_eq!(rank[k], xv, "row {k}");
    }
}

#[test]
fn hdf5_missing_dataset_fails_with_the_available_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = write_inputs(
        tmp.path(),
        serde_json::json!([{"feature_col": "embedding"}]),
    );
    let out = tmp.path().join("out");
    let st = construct(&conf, &out);
    let stderr = String::from_utf8_lossy(&st.stderr);
    assert_eq!(st.status.code(), Some(1), "{stderr}");
    // Files are read in parallel: either file may be the one reported.
    assert!(stderr.contains("user_feat_"), "{stderr}");
    assert!(
        stderr.contains("dataset 'embedding' not found; the file has datasets: emb, rank, score"),
        "{stderr}"
    );
}
