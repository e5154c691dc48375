//! `construct --output-format chunked` and `graphprep partition`: partitioning graphprep's own
//! chunked output gives `construct`'s DistDGL output file for file, byte for byte (timings in
//! `partition_stats.json` aside), with the same partition assignment; a real GSProcessing
//! output (`shared/bench/gsprocessing-sample/`) partitions into the graph `construct` builds
//! from the same tables (per raw ID); bad chunked input fails with the file and place named.
//! (DGL loads both: `tests/dgl_compat.rs`.)

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{files, raw_ids, repo, without_timings};
use serde_json::Value;

fn graphprep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) {
    let o = graphprep(args);
    assert!(
        o.status.success(),
        "graphprep {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file of `a` equals the one of `b` (same set of files).
fn assert_same_files(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "file sets of {a:?} and {b:?}"
    );
    for (name, bytes) in &fa {
        if name == Path::new(".graphprep-manifest") {
            continue; // lists partition_assignment/, removed from one side before comparing
        }
        assert!(
            without_timings(name, bytes) == without_timings(name, &fb[name]),
            "{name:?} differs between {a:?} and {b:?}"
        );
    }
}

/// construct (DistDGL) vs construct (chunked) + partition, for one sample and flag set.
fn partition_equals_construct(sample: &str, graph: &str, flags: &[&str]) {
    let conf = repo().join("sample_data").join(sample).join("config.json");
    let tmp = tempfile::tempdir().unwrap();
    let direct = tmp.path().join("direct");
    let chunked = tmp.path().join("chunked-out");
    let parted = tmp.path().join("parted");
    let base = [
        "construct",
        "--conf-file",
        s(&conf),
        "--graph-name",
        graph,
        "--quiet",
    ];
    let mut a: Vec<&str> = base.to_vec();
    a.extend(["--output-dir", s(&direct)]);
    a.extend(flags);
    ok(&a);
    let mut a: Vec<&str> = base.iter().copied().filter(|f| *f != "--quiet").collect();
    a.extend([
        "--output-dir",
        s(&chunked),
        "--output-format",
        "chunked",
        "--chunk-rows",
        "3",
    ]);
    a.extend(flags);
    let o = graphprep(&a);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "graphprep {a:?} failed: {log}");
    // nodes moved for DGL's dispatch rules make the exported assignment differ from the one
    // construct's DistDGL output used
    let moved = log.contains("partition assignment: moved");
    // partition reads the chunked folder with the same partitioning flags
    let input = chunked.join("chunked");
    let mut a = vec![
        "partition",
        "--input-dir",
        s(&input),
        "--output-dir",
        s(&parted),
        "--quiet",
        "--partition-assignment",
    ];
    let part_flags: Vec<&str> = flags
        .iter()
        .copied()
        .filter(|f| *f != "--add-reverse-edges")
        .collect();
    a.extend(part_flags);
    ok(&a);
    // the assignment construct wrote beside the chunked graph is partition's
    assert_same_files(
        &chunked.join("partition_assignment"),
        &parted.join("partition_assignment"),
    );
    std::fs::remove_dir_all(parted.join("partition_assignment")).unwrap();
    assert_same_files(&direct, &parted);
    common::read_back(&parted);
    // with construct's assignment instead of partitioning again (DGL's dispatch step on one
    // machine): the same partitions; partition_stats.json has no METIS section then
    let given = tmp.path().join("given");
    let assignment = chunked.join("partition_assignment");
    ok(&[
        "partition",
        "--input-dir",
        s(&input),
        "--output-dir",
        s(&given),
        "--quiet",
        "--assignment",
        s(&assignment),
    ]);
    common::read_back(&given);
    if moved {
        return;
    }
    let (fd, fg) = (files(&direct), files(&given));
    assert_eq!(fd.keys().collect::<Vec<_>>(), fg.keys().collect::<Vec<_>>());
    for (name, bytes) in &fd {
        let skip = [".graphprep-manifest", "partition_stats.json"];
        if !skip.iter().any(|k| name == Path::new(k)) {
            assert!(
                *bytes == fg[name],
                "{name:?} differs with --assignment ({sample} {flags:?})"
            );
        }
    }
}

#[test]
fn partition_of_chunked_output_equals_construct_byte_for_byte() {
    partition_equals_construct("shop", "shop", &["--num-parts", "2"]);
    partition_equals_construct(
        "shop",
        "shop",
        &[
            "--num-parts",
            "3",
            "--part-method",
            "random",
            "--add-reverse-edges",
            "--seed",
            "7",
        ],
    );
    // every transform, hard negatives (construction IDs in the chunked files, shuffled IDs
    // after partitioning), homogeneous graph
    partition_equals_construct("shop_transforms", "shop", &["--num-parts", "2"]);
    partition_equals_construct("homo", "homo", &["--num-parts", "2"]);
}

fn gsp() -> PathBuf {
    repo().join("../shared/bench/gsprocessing-sample")
}

/// `part0/node_feat.dgl` of a one-partition output: `type/name` → rows as f64, in
/// construction-ID order (one partition: shuffled = construction order within a type).
fn node_rows(out: &Path) -> BTreeMap<String, Vec<Vec<f64>>> {
    common::part0(out, "node_feat.dgl")
        .iter()
        .map(|(k, t)| (k.clone(), common::rows_f64(t)))
        .collect()
}

/// Rows keyed by raw ID.
fn by_raw(out: &Path, ntype: &str, rows: &[Vec<f64>]) -> BTreeMap<String, Vec<f64>> {
    let ids = raw_ids(out, ntype).expect("raw ID map");
    assert_eq!(ids.len(), rows.len(), "{ntype}");
    ids.iter()
        .map(|v| v.as_str().unwrap().to_string())
        .zip(rows.iter().cloned())
        .collect()
}

#[test]
fn gsprocessing_output_partitions_into_the_graph_construct_builds() {
    let g = gsp();
    if !g.join("output/metadata.json").is_file() {
        panic!("the GSProcessing sample is missing at {g:?} (shared/bench/gsprocessing-sample)");
    }
    let tmp = tempfile::tempdir().unwrap();
    let parted = tmp.path().join("parted");
    let built = tmp.path().join("built");
    ok(&[
        "partition",
        "--input-dir",
        s(&g.join("output")),
        "--output-dir",
        s(&parted),
        "--quiet",
    ]);
    common::read_back(&parted);
    ok(&[
        "construct",
        "--conf-file",
        s(&g.join("input/gconstruct-config.json")),
        "--output-dir",
        s(&built),
        "--graph-name",
        "gsp",
        "--add-reverse-edges",
        "--quiet",
    ]);
    let cfg: Value =
        serde_json::from_slice(&std::fs::read(parted.join("gsp.json")).unwrap()).unwrap();
    assert_eq!(cfg["num_nodes"], 102);
    assert_eq!(cfg["num_edges"], 780);
    let (p, built_rows) = (node_rows(&parted), node_rows(&built));
    let b = &built_rows;
    // same feature names (GSProcessing's `feat` is its own: one column of the three)
    assert_eq!(
        p.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "feature names"
    );
    // user/age: what DGL's pipeline reads (the files concatenated in listed order), node by
    // node; the same values as construct's, but GSProcessing 0.5.1 wrote this sample's user
    // feature rows in an order that does not follow its own raw ID map (measured: DGL's own
    // data_proc_pipeline.py gives the same per-node values as graphprep), so per raw ID only
    // the multiset agrees
    let meta: Value =
        serde_json::from_slice(&std::fs::read(g.join("output/metadata.json")).unwrap()).unwrap();
    let files: Vec<PathBuf> = meta["node_data"]["user"]["age"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| g.join("output").join(f.as_str().unwrap()))
        .collect();
    let age_files = int_column(&files, "age");
    let ours: Vec<i64> = p["user/age"].iter().map(|r| r[0] as i64).collect();
    assert_eq!(
        ours, age_files,
        "user/age row i = node i, files in listed order"
    );
    let mut a: Vec<i64> = ours.clone();
    let mut b: Vec<i64> = b["user/age"].iter().map(|r| r[0] as i64).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "user/age values");
    // label per raw item ID: GSProcessing's label_map applied to construct's raw label
    let meta: Value =
        serde_json::from_slice(&std::fs::read(g.join("output/metadata.json")).unwrap()).unwrap();
    let label_map = &meta["graph_info"]["label_map"];
    let (pl, bl) = (
        by_raw(&parted, "item", &p["item/label"]),
        by_raw(&built, "item", &built_rows["item/label"]),
    );
    assert_eq!(pl.len(), 40);
    for (id, raw) in &bl {
        let want = label_map[(raw[0] as i64).to_string()].as_i64().unwrap() as f64;
        assert_eq!(pl[id], vec![want], "label of item {id}");
    }
    // masks are GSProcessing's own (this sample: every item in train), node by node as its
    // files hold them
    for m in ["train_mask", "val_mask", "test_mask"] {
        let files: Vec<PathBuf> = meta["node_data"]["item"][m]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| g.join("output").join(f.as_str().unwrap()))
            .collect();
        let ours: Vec<i64> = p[&format!("item/{m}")]
            .iter()
            .map(|r| r[0] as i64)
            .collect();
        assert_eq!(ours, int_column(&files, m), "item/{m}");
    }
}

/// An integer column of Parquet files, concatenated in order.
fn int_column(files: &[PathBuf], name: &str) -> Vec<i64> {
    use arrow::array::AsArray;
    let mut out = Vec::new();
    for f in files {
        let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(f).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
        for b in r {
            let b = b.unwrap();
            let c = arrow::compute::cast(
                b.column_by_name(name).unwrap(),
                &arrow::datatypes::DataType::Int64,
            )
            .unwrap();
            out.extend(
                c.as_primitive::<arrow::datatypes::Int64Type>()
                    .values()
                    .iter()
                    .copied(),
            );
        }
    }
    out
}

fn partition_err(input: &Path, out: &Path) -> String {
    let o = graphprep(&[
        "partition",
        "--input-dir",
        s(input),
        "--output-dir",
        s(out),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "must fail with exit code 1");
    assert!(!out.join("gsp.json").exists(), "nothing half-written");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

type Breaker = Box<dyn Fn(&Path)>;

#[test]
fn bad_chunked_input_names_the_file_and_place() {
    let tmp = tempfile::tempdir().unwrap();
    let src = gsp().join("output");
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "edges.user:clicks:item.row_counts[1]",
            Box::new(|d: &Path| {
                edit_meta(d, |m| {
                    m["edges"]["user:clicks:item"]["row_counts"] = serde_json::json!([150, 149])
                })
            }),
        ),
        (
            "num_nodes_per_type",
            Box::new(|d: &Path| {
                edit_meta(d, |m| m["num_nodes_per_type"] = serde_json::json!([40, 12]))
            }),
        ),
        (
            "is out of range: its type has 45 nodes",
            Box::new(|d: &Path| {
                edit_meta(d, |m| {
                    m["num_nodes_per_type"] = serde_json::json!([40, 12, 45])
                })
            }),
        ),
        (
            "missing required key",
            Box::new(|d: &Path| {
                edit_meta(d, |m| {
                    m.as_object_mut().unwrap().remove("edge_type");
                })
            }),
        ),
        (
            "not a readable Parquet file",
            Box::new(|d: &Path| {
                let m = read_meta(d);
                let f = m["edges"]["item:tagged:tag"]["data"][0].as_str().unwrap();
                std::fs::write(d.join(f), b"PAR1 not really").unwrap();
            }),
        ),
    ];
    for (i, (want, break_it)) in cases.iter().enumerate() {
        let d = tmp.path().join(format!("in{i}"));
        common::copy_dir(&src, &d);
        break_it(&d);
        let e = partition_err(&d, &tmp.path().join(format!("out{i}")));
        assert!(e.contains(want), "want '{want}' in: {e}");
        assert!(!e.contains("panicked"), "{e}");
    }
    // an assignment that does not fit the graph
    let asg = tmp.path().join("asg");
    std::fs::create_dir_all(&asg).unwrap();
    std::fs::write(
        asg.join("partition_meta.json"),
        r#"{"algo_name": "metis", "num_parts": 2, "version": "1.0.0"}"#,
    )
    .unwrap();
    for (t, n) in [("item", 40), ("tag", 12), ("user", 49)] {
        std::fs::write(asg.join(format!("{t}.txt")), "1\n".repeat(n)).unwrap();
    }
    let o = graphprep(&[
        "partition",
        "--input-dir",
        s(&src),
        "--output-dir",
        s(&tmp.path().join("oa")),
        "--assignment",
        s(&asg),
        "--quiet",
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("user.txt") && e.contains("49 lines"), "{e}");
    // no metadata.json
    let e = partition_err(tmp.path(), &tmp.path().join("o"));
    assert!(e.contains("metadata.json"), "{e}");
    // an output dir holding the input is refused before anything is replaced
    let d = tmp.path().join("in0");
    let o = graphprep(&[
        "partition",
        "--input-dir",
        s(&d),
        "--output-dir",
        s(tmp.path()),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds --input-dir"));
    assert!(d.join("metadata.json").is_file());
}

fn read_meta(d: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(d.join("metadata.json")).unwrap()).unwrap()
}

fn edit_meta(d: &Path, f: impl Fn(&mut Value)) {
    let mut m = read_meta(d);
    f(&mut m);
    std::fs::write(d.join("metadata.json"), m.to_string()).unwrap();
}

#[test]
fn chunked_output_rejects_what_dgl_would_silently_break_on() {
    // a node type with no nodes: the chunked writer refuses (a 0-byte / 0-row file)
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    std::fs::write(data.join("n.csv"), "id\n1\n2\n").unwrap();
    std::fs::write(data.join("e.csv"), "s,d\n1,2\n").unwrap();
    std::fs::write(data.join("lonely.csv"), "id\n").unwrap();
    let conf = serde_json::json!({"version": "gconstruct-v0.1",
        "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": ["n.csv"], "node_id_col": "id"},
                  {"node_type": "lonely", "format": {"name": "csv"}, "files": ["lonely.csv"], "node_id_col": "id"}],
        "edges": [{"relation": ["n", "to", "n"], "format": {"name": "csv"}, "files": ["e.csv"],
                   "source_id_col": "s", "dest_id_col": "d"}]});
    std::fs::write(data.join("c.json"), conf.to_string()).unwrap();
    let out = data.join("out");
    let o = graphprep(&[
        "construct",
        "--conf-file",
        s(&data.join("c.json")),
        "--output-dir",
        s(&out),
        "--graph-name",
        "g",
        "--output-format",
        "chunked",
        "--quiet",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("lonely"), "{err}");
    assert!(!out.join("chunked").exists(), "nothing half-written");
}
