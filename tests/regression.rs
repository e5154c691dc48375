//! Regression tests, one per fixed bug (ripgrep style): a comment saying what the bug was,
//! then a test running the real binary on a tiny generated input.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, NullArray, StringArray};
use arrow::record_batch::RecordBatch;
use graphprep::tensor::DType;
use serde_json::{json, Value};

fn write_parquet(path: &Path, cols: Vec<(&str, ArrayRef)>) {
    let batch =
        RecordBatch::try_from_iter_with_nullable(cols.into_iter().map(|(n, a)| (n, a, true)))
            .unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn strings(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn nulls(n: usize) -> ArrayRef {
    Arc::new(NullArray::new(n))
}

fn write_conf(dir: &Path, conf: &Value) -> std::path::PathBuf {
    let p = dir.join("conf.json");
    std::fs::write(&p, serde_json::to_string_pretty(conf).unwrap()).unwrap();
    p
}

fn run(conf: &Path, out: &Path, extra: &[&str]) -> Output {
    common::construct_cmd(conf, out)
        .args(["--graph-name", "g", "--quiet"])
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean failure: exit code 1 and an `error:` line containing `phrase`.
fn assert_fails_with(o: &Output, phrase: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("error:") && e.contains(phrase), "{e}");
}

fn assert_ok(o: &Output, out: &Path) {
    assert!(o.status.success(), "{}", stderr(o));
    common::read_back(out);
}

fn parquet_nodes(dir: &Path) {
    write_parquet(
        &dir.join("nodes.parquet"),
        vec![("id", strings(&["a", "b", "c"]))],
    );
}

fn num_edges(out: &Path) -> u64 {
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("g.json")).unwrap()).unwrap();
    g["num_edges"].as_u64().unwrap()
}

// Bug: an edge block with a Parquet file whose columns have Arrow type Null (a zero-row
// block as pandas/pyarrow write it, found in GraphStorm's end-to-end test data) stopped
// `construct` with "column 'src' has type Null; node IDs must be integers or strings".
// GraphStorm skips empty edge files.
#[test]
fn null_typed_parquet_edge_block() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    parquet_nodes(d);
    write_parquet(
        &d.join("e0.parquet"),
        vec![("src", strings(&["a", "b"])), ("dst", strings(&["b", "c"]))],
    );
    write_parquet(
        &d.join("e1.parquet"),
        vec![("src", nulls(0)), ("dst", nulls(0))],
    );
    let conf = |files: &[&str]| {
        json!({"version": "gconstruct-v0.1",
            "nodes": [{"node_type": "n", "format": {"name": "parquet"},
                       "files": ["nodes.parquet"], "node_id_col": "id"}],
            "edges": [{"relation": ["n", "r", "n"], "format": {"name": "parquet"},
                       "files": files, "source_id_col": "src", "dest_id_col": "dst"},
                      {"relation": ["n", "s", "n"], "format": {"name": "parquet"},
                       "files": ["e0.parquet"], "source_id_col": "src", "dest_id_col": "dst"}]})
    };
    // The empty Null-typed file is skipped; the other file's edges are kept.
    let out = d.join("out");
    let o = run(
        &write_conf(d, &conf(&["e0.parquet", "e1.parquet"])),
        &out,
        &[],
    );
    assert_ok(&o, &out);
    assert_eq!(num_edges(&out), 4);
    // Every file empty: a clear error (GraphStorm: "does not contain any edges").
    let o = run(&write_conf(d, &conf(&["e1.parquet"])), &d.join("out2"), &[]);
    assert_fails_with(&o, "has no edges");
    // Null-typed columns with rows: every ID is missing.
    write_parquet(
        &d.join("e2.parquet"),
        vec![("src", nulls(2)), ("dst", nulls(2))],
    );
    let o = run(&write_conf(d, &conf(&["e2.parquet"])), &d.join("out3"), &[]);
    assert_fails_with(&o, "missing node ID");
}

// Bug: a node table with a header and no rows (its feature column read as strings) panicked
// with "Trying to access an element at index 0 from a StringArray of length 0" once edges
// referenced that node type. Zero-row node files are now skipped like zero-row edge files;
// edges into a type without nodes get the unknown-endpoint error, naming the empty type.
#[test]
fn header_only_node_table_referenced_by_edges() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    parquet_nodes(d);
    std::fs::write(d.join("m-0.csv"), "id,f,y\n").unwrap();
    std::fs::write(d.join("e.parquet.csv"), "src,dst\na,x\nb,y\n").unwrap();
    std::fs::write(d.join("r.csv"), "src,dst\na,b\n").unwrap();
    let conf = |m_files: &[&str], s_files: &[&str]| {
        json!({"version": "gconstruct-v0.1",
            "nodes": [{"node_type": "n", "format": {"name": "parquet"},
                       "files": ["nodes.parquet"], "node_id_col": "id"},
                      {"node_type": "m", "format": {"name": "csv", "separator": ","},
                       "files": m_files, "node_id_col": "id",
                       "features": [{"feature_col": "f"}],
                       "labels": [{"label_col": "y", "task_type": "regression",
                                   "split_pct": [0.5, 0.25, 0.25]}]}],
            "edges": [{"relation": ["n", "r", "n"], "format": {"name": "csv", "separator": ","},
                       "files": ["r.csv"], "source_id_col": "src", "dest_id_col": "dst"},
                      {"relation": ["n", "s", "m"], "format": {"name": "csv", "separator": ","},
                       "files": s_files, "source_id_col": "src", "dest_id_col": "dst"}]})
    };
    let o = run(
        &write_conf(d, &conf(&["m-0.csv"], &["e.parquet.csv"])),
        &d.join("o1"),
        &[],
    );
    assert_fails_with(&o, "Node type 'm' has no nodes");
    let o = run(
        &write_conf(d, &conf(&["m-0.csv"], &["e.parquet.csv"])),
        &d.join("o2"),
        &["--skip-nonexist-edges"],
    );
    assert_fails_with(&o, "no edges left");
    // A header-only file next to a file with rows is skipped; the rows are used.
    std::fs::write(d.join("m-1.csv"), "id,f,y\nx,1.5,1\ny,2.5,2\n").unwrap();
    let out = d.join("o3");
    let o = run(
        &write_conf(d, &conf(&["m-0.csv", "m-1.csv"], &["e.parquet.csv"])),
        &out,
        &[],
    );
    assert_ok(&o, &out);
    let idx = common::id_index(&out, "m", 2);
    let f = common::rows_f64(&common::part0(&out, "node_feat.dgl")["m/f"]);
    assert_eq!(f[idx["s:x"]], vec![1.5]);
    assert_eq!(f[idx["s:y"]], vec![2.5]);
}

// Bug: float16 features were rounded through float32 (half's hardware path), so values whose
// float32 rounding lands halfway between two float16 values came out one ulp off numpy's
// correctly rounded `np.float16(np.float64(x))`, which GraphStorm writes (65 of 1,000,000
// values in one of GraphStorm's test features).
#[test]
fn float16_rounds_once_from_float64() {
    // (input, numpy's float16 bits)
    let cases: [(f64, u16); 14] = [
        (1.0288085800147668, 0x3c1d), // via float32: 0x3c1e
        (1.02880859375, 0x3c1e),      // a true tie: to even
        (1.0 + 2f64.powi(-11), 0x3c00),
        (1.0 + 3.0 * 2f64.powi(-11), 0x3c02),
        (65504.0, 0x7bff),
        (65519.99999, 0x7bff), // via float32: inf
        (65520.0, 0x7c00),
        (-1e300, 0xfc00),
        (2f64.powi(-24), 0x0001),
        (2f64.powi(-25), 0x0000),                  // tie to even: zero
        (2.980232536792755e-08, 0x0001),           // just above the tie
        (3.0 * 2f64.powi(-25), 0x0002),            // subnormal tie to even
        (2f64.powi(-14) - 2f64.powi(-25), 0x0400), // rounds up to the smallest normal
        (0.1, 0x2e66),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let ids: Vec<String> = (0..cases.len()).map(|i| format!("n{i}")).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    write_parquet(
        &d.join("nodes.parquet"),
        vec![
            ("id", strings(&id_refs)),
            (
                "x",
                Arc::new(Float64Array::from(
                    cases.iter().map(|c| c.0).collect::<Vec<_>>(),
                )) as ArrayRef,
            ),
        ],
    );
    write_parquet(
        &d.join("e.parquet"),
        vec![
            ("src", strings(&["n0", "n1"])),
            ("dst", strings(&["n1", "n2"])),
        ],
    );
    let conf = json!({"version": "gconstruct-v0.1",
        "nodes": [{"node_type": "n", "format": {"name": "parquet"}, "files": ["nodes.parquet"],
                   "node_id_col": "id",
                   "features": [{"feature_col": "x", "out_dtype": "float16"}]}],
        "edges": [{"relation": ["n", "r", "n"], "format": {"name": "parquet"},
                   "files": ["e.parquet"], "source_id_col": "src", "dest_id_col": "dst"}]});
    let out = d.join("out");
    let o = run(&write_conf(d, &conf), &out, &[]);
    assert_ok(&o, &out);
    let t = &common::part0(&out, "node_feat.dgl")["_N/x"];
    assert_eq!(t.dtype, DType::F16);
    let v = t.values::<half::f16>().unwrap();
    let idx = common::id_index(&out, "_N", cases.len());
    for (i, (x, bits)) in cases.iter().enumerate() {
        assert_eq!(
            v[idx[&format!("s:{}", ids[i])]].to_bits(),
            *bits,
            "input {x:e}"
        );
    }
}

// Bug: a one-element `feature_col` list with `tokenize_hf` and no `feature_name` was rejected
// ("`feature_name` is required when `feature_col` is a list"); GraphStorm accepts it, since the
// tokenizer names its outputs (`input_ids`, `attention_mask`, `token_type_ids`).
#[test]
fn tokenize_hf_single_column_list_without_feature_name() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("papers.csv"),
        "id,title\n0,Hello world\n1,GraphStorm\n",
    )
    .unwrap();
    std::fs::write(d.join("cites.csv"), "src,dst\n0,1\n1,0\n").unwrap();
    let bert = common::repo().join("tests/fixtures/tiny-bert");
    let conf = json!({"version": "gconstruct-v0.1",
        "nodes": [{"node_type": "paper", "files": "papers.csv", "format": {"name": "csv"},
                   "node_id_col": "id",
                   "features": [{"feature_col": ["title"],
                                 "transform": {"name": "tokenize_hf",
                                               "bert_model": bert.to_str().unwrap(),
                                               "max_seq_length": 6}}]}],
        "edges": [{"relation": ["paper", "cites", "paper"], "files": "cites.csv",
                   "format": {"name": "csv"}, "source_id_col": "src", "dest_id_col": "dst"}]});
    let out = d.join("out");
    let o = run(&write_conf(d, &conf), &out, &[]);
    assert_ok(&o, &out);
    let t = common::part0(&out, "node_feat.dgl");
    for name in ["input_ids", "attention_mask", "token_type_ids"] {
        assert_eq!(t[&format!("_N/{name}")].shape, vec![2, 6], "{name}");
    }
}

fn one_csv_node_type(d: &Path, node_csv: &str, features: Value) -> std::path::PathBuf {
    std::fs::write(d.join("n.csv"), node_csv).unwrap();
    std::fs::write(d.join("e.csv"), "src,dst\na,b\n").unwrap();
    write_conf(
        d,
        &json!({"version": "gconstruct-v0.1",
            "nodes": [{"node_type": "n", "format": {"name": "csv", "separator": ","},
                       "files": ["n.csv"], "node_id_col": "id", "features": features}],
            "edges": [{"relation": ["n", "r", "n"], "format": {"name": "csv", "separator": ","},
                       "files": ["e.csv"], "source_id_col": "src", "dest_id_col": "dst"}]}),
    )
}

// Checked against GraphStorm 0.5.1 (pandas): a UTF-8 byte-order mark and CRLF line ends are
// not part of the header or the values, and quoted fields may hold the separator and
// newlines. Pinned so a reader change cannot regress them.
#[test]
fn csv_bom_crlf_and_quoted_fields_read_as_graphstorm_does() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let conf = one_csv_node_type(
        d,
        "\u{feff}id,x,t\r\na,1.5,\"p,q\"\r\nb,2.5,\"line1\nline2\"\r\n",
        json!([{"feature_col": "x"},
               {"feature_col": "t", "transform": {"name": "to_categorical"}}]),
    );
    let out = d.join("out");
    let o = run(&conf, &out, &[]);
    assert_ok(&o, &out);
    let idx = common::id_index(&out, "_N", 2);
    assert_eq!(idx.len(), 2, "IDs without BOM or \\r: {idx:?}");
    let t = common::part0(&out, "node_feat.dgl");
    let x = common::rows_f64(&t["_N/x"]);
    assert_eq!((x[idx["s:a"]][0], x[idx["s:b"]][0]), (1.5, 2.5));
    // Categories sorted as strings: "line1\nline2" < "p,q".
    let c = common::rows_f64(&t["_N/t"]);
    assert_eq!(
        (c[idx["s:a"]].clone(), c[idx["s:b"]].clone()),
        (vec![0.0, 1.0], vec![1.0, 0.0])
    );
}

// Non-UTF-8 bytes in a CSV: GraphStorm (pandas) fails with a UnicodeDecodeError; graphprep
// must fail cleanly too, naming the file and line.
#[test]
fn csv_non_utf8_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let conf = one_csv_node_type(d, "id,x\na\u{0},1\n", json!([{"feature_col": "x"}]));
    let mut bytes = std::fs::read(d.join("n.csv")).unwrap();
    let i = bytes.iter().position(|&b| b == 0).unwrap();
    bytes[i] = 0xff;
    std::fs::write(d.join("n.csv"), bytes).unwrap();
    let o = run(&conf, &d.join("out"), &[]);
    assert_fails_with(&o, "n.csv");
    assert!(stderr(&o).contains("UTF-8"), "{}", stderr(&o));
}

// Bug: a file without a header (0 bytes) was reported as "column 'id' not found; the file
// has columns: ." — now the message says the file is empty. (pandas: EmptyDataError.)
#[test]
fn empty_file_without_header_is_named_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let conf = one_csv_node_type(d, "", json!([]));
    let o = run(&conf, &d.join("out"), &[]);
    assert_fails_with(&o, "the file is empty");
}

// An all-empty CSV feature column (every cell empty) was reported as "got strings (e.g. \"\")";
// now the message says every value is empty.
#[test]
fn all_empty_csv_feature_column_is_named_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let conf = one_csv_node_type(d, "id,x\na,\nb,\n", json!([{"feature_col": "x"}]));
    let o = run(&conf, &d.join("out"), &[]);
    assert_fails_with(&o, "every value of the column is empty");
}

// A node type whose every file has no rows (GraphStorm crashes on empty node files) and that
// no edge references: the graph is built with zero nodes of that type, and reads back.
#[test]
fn node_type_with_only_empty_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    parquet_nodes(d);
    std::fs::write(d.join("m.csv"), "id,f\n").unwrap();
    write_parquet(
        &d.join("m.parquet"),
        vec![("id", nulls(0)), ("f", nulls(0))],
    );
    std::fs::write(d.join("r.csv"), "src,dst\na,b\nb,c\n").unwrap();
    let conf = json!({"version": "gconstruct-v0.1",
        "nodes": [{"node_type": "n", "format": {"name": "parquet"},
                   "files": ["nodes.parquet"], "node_id_col": "id"},
                  {"node_type": "m", "format": {"name": "csv", "separator": ","},
                   "files": ["m.csv"], "node_id_col": "id",
                   "features": [{"feature_col": "f"}]},
                  {"node_type": "k", "format": {"name": "parquet"},
                   "files": ["m.parquet"], "node_id_col": "id"}],
        "edges": [{"relation": ["n", "r", "n"], "format": {"name": "csv", "separator": ","},
                   "files": ["r.csv"], "source_id_col": "src", "dest_id_col": "dst"}]});
    let out = d.join("out");
    let o = run(&write_conf(d, &conf), &out, &[]);
    assert_ok(&o, &out);
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("g.json")).unwrap()).unwrap();
    assert_eq!(g["num_nodes"].as_u64(), Some(3), "{g}");
    assert_eq!(num_edges(&out), 2);
}

// A JSON lines file starting with a UTF-8 byte-order mark: GraphStorm fails ("Unexpected
// UTF-8 BOM"); graphprep fails too, and says why. CRLF line ends are fine in both.
#[test]
fn json_lines_bom_is_a_clear_error_crlf_is_fine() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("e.csv"), "src,dst\na,b\n").unwrap();
    let conf = write_conf(
        d,
        &json!({"version": "gconstruct-v0.1",
            "nodes": [{"node_type": "n", "format": {"name": "json"}, "files": ["n.json"],
                       "node_id_col": "id", "features": [{"feature_col": "x"}]}],
            "edges": [{"relation": ["n", "r", "n"], "format": {"name": "csv", "separator": ","},
                       "files": ["e.csv"], "source_id_col": "src", "dest_id_col": "dst"}]}),
    );
    let lines = "{\"id\": \"a\", \"x\": 1}\r\n{\"id\": \"b\", \"x\": 2}\r\n";
    std::fs::write(d.join("n.json"), lines).unwrap();
    let out = d.join("out");
    assert_ok(&run(&conf, &out, &[]), &out);
    std::fs::write(d.join("n.json"), format!("\u{feff}{lines}")).unwrap();
    let o = run(&conf, &d.join("out2"), &[]);
    assert_fails_with(&o, "byte-order mark");
}

// Unicode type, relation and feature names (issue 11, "valid but hostile" inputs): the
// partition JSON must escape them as Python's json.dump does (ensure_ascii, surrogate pairs
// beyond the BMP), while the tensor keys, raw ID map folders and the generated config keep them
// as UTF-8, as GraphStorm writes them.
#[test]
fn unicode_type_relation_and_feature_names() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("users.csv"), "id,âge\nu1,30\nu2,40\nu3,50\n").unwrap();
    std::fs::write(d.path().join("cafes.csv"), "id,prix\nc1,1.5\nc2,2.5\n").unwrap();
    std::fs::write(
        d.path().join("visits.csv"),
        "src,dst\nu1,c1\nu2,c1\nu3,c2\nu1,c2\n",
    )
    .unwrap();
    let conf = write_conf(
        d.path(),
        &json!({
            "version": "gconstruct-v0.1",
            "nodes": [
                {"node_type": "用户", "format": {"name": "csv"}, "files": "users.csv",
                 "node_id_col": "id", "features": [{"feature_col": "âge", "feature_name": "âge"}]},
                {"node_type": "café", "format": {"name": "csv"}, "files": "cafes.csv",
                 "node_id_col": "id", "features": [{"feature_col": "prix", "feature_name": "prix€"}]}
            ],
            "edges": [
                {"relation": ["用户", "訪れる😀", "café"], "format": {"name": "csv"},
                 "files": "visits.csv", "source_id_col": "src", "dest_id_col": "dst"}
            ]
        }),
    );
    let out = d.path().join("out");
    let o = run(&conf, &out, &["--add-reverse-edges"]);
    assert_ok(&o, &out);
    let text = std::fs::read_to_string(out.join("g.json")).unwrap();
    assert!(
        text.is_ascii(),
        "partition JSON is ASCII (ensure_ascii): {text}"
    );
    assert!(
        text.contains("\"\\u7528\\u6237\"") && text.contains("\"caf\\u00e9\""),
        "{text}"
    );
    assert!(
        text.contains("\\u7528\\u6237:\\u8a2a\\u308c\\u308b\\ud83d\\ude00:caf\\u00e9"),
        "{text}"
    );
    let g: Value = serde_json::from_str(&text).unwrap();
    assert!(
        g["ntypes"].get("用户").is_some() && g["etypes"].get("café:訪れる😀-rev:用户").is_some()
    );
    let feats = common::part0(&out, "node_feat.dgl");
    assert!(
        feats.contains_key("café/prix€") && feats.contains_key("用户/âge"),
        "{feats:?}"
    );
    assert!(out.join("raw_id_mappings").join("用户").is_dir());
    assert_eq!(common::raw_ids(&out, "café").map(|v| v.len()), Some(2));
}

/// Rewrites the footer of a Parquet file so that it declares `rows` rows (the data pages are
/// left as they are), as a file of billions of rows looks from its metadata.
fn declare_rows(path: &Path, rows: i64) {
    use parquet::file::metadata::{FileMetaData, ParquetMetaData, ParquetMetaDataWriter};
    let bytes = std::fs::read(path).unwrap();
    let md = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(path).unwrap(),
    )
    .unwrap()
    .metadata()
    .clone();
    let fm = md.file_metadata();
    let new_fm = FileMetaData::new(
        fm.version(),
        rows,
        fm.created_by().map(str::to_string),
        fm.key_value_metadata().cloned(),
        fm.schema_descr_ptr(),
        fm.column_orders().cloned(),
    );
    // The writer sums the row groups' counts into the file's: the one row group declares them.
    assert_eq!(md.row_groups().len(), 1);
    let rg = md.row_groups()[0]
        .clone()
        .into_builder()
        .set_num_rows(rows)
        .build()
        .unwrap();
    let new_md = ParquetMetaData::new(new_fm, vec![rg]);
    let n = bytes.len();
    let footer_len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    let mut out = bytes[..n - 8 - footer_len].to_vec();
    ParquetMetaDataWriter::new(&mut out, &new_md)
        .finish()
        .unwrap();
    std::fs::write(path, out).unwrap();
}

// Parquet footers declaring more nodes than a limit allows (issue 11: "2^31+ rows declared
// in a Parquet footer"): METIS's 32-bit vertex IDs and the per-type ID limit (2^32 - 1) are
// checked from the footers before any data is read, with the numbers and the alternatives.
#[test]
fn parquet_footer_beyond_metis_and_id_limits() {
    let d = tempfile::tempdir().unwrap();
    parquet_nodes(d.path());
    std::fs::write(d.path().join("edges.csv"), "src,dst\na,b\nb,c\n").unwrap();
    let conf = write_conf(
        d.path(),
        &json!({
            "version": "gconstruct-v0.1",
            "nodes": [{"node_type": "n", "format": {"name": "parquet"}, "files": "nodes.parquet",
                       "node_id_col": "id"}],
            "edges": [{"relation": ["n", "r", "n"], "format": {"name": "csv"}, "files": "edges.csv",
                       "source_id_col": "src", "dest_id_col": "dst"}]
        }),
    );
    let out = d.path().join("out");
    // The untouched file builds; so does the rewritten footer with the true count.
    declare_rows(&d.path().join("nodes.parquet"), 3);
    assert_ok(&run(&conf, &out, &["--num-parts", "2"]), &out);
    declare_rows(&d.path().join("nodes.parquet"), 3_000_000_000);
    let o = run(&conf, &out, &["--num-parts", "2", "--part-method", "metis"]);
    assert_fails_with(
        &o,
        "declare 3000000000 nodes, more than METIS's 32-bit indices",
    );
    assert!(
        stderr(&o).contains("--part-method random"),
        "{}",
        stderr(&o)
    );
    declare_rows(&d.path().join("nodes.parquet"), 5_000_000_000);
    let o = run(
        &conf,
        &out,
        &["--num-parts", "2", "--part-method", "random"],
    );
    assert_fails_with(
        &o,
        "declare 5000000000 rows, more than the 4294967294 nodes",
    );
    assert!(stderr(&o).contains("nodes[0].files"), "{}", stderr(&o));
    declare_rows(&d.path().join("nodes.parquet"), -1);
    assert_fails_with(
        &run(&conf, &out, &[]),
        "the Parquet footer declares -1 rows; the file is damaged",
    );
}

// Bug: GraphStorm's own end-to-end config `movielens_homogeneous.json` has an edge feature
// `rate` (no feature_name) and a classification label `rate` in the same block; GraphStorm
// keeps one array per name and block, the label's, where graphprep refused the config ("name
// `rate` ... is already produced by edges[0].features[0].feature_col").
#[test]
fn label_named_like_a_feature_of_its_block_replaces_it() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("n.csv"), "id\na\nb\nc\n").unwrap();
    std::fs::write(
        d.path().join("e.csv"),
        "src,dst,rate,w\na,b,2,0.5\nb,c,0,1.5\nc,a,1,2.5\na,c,2,3.5\n",
    )
    .unwrap();
    let conf = write_conf(
        d.path(),
        &json!({
            "version": "gconstruct-v0.1",
            "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": "n.csv",
                       "node_id_col": "id"}],
            "edges": [{"relation": ["n", "r", "n"], "format": {"name": "csv"}, "files": "e.csv",
                       "source_id_col": "src", "dest_id_col": "dst",
                       "features": [{"feature_col": "w"}, {"feature_col": "rate"}],
                       "labels": [{"label_col": "rate", "task_type": "classification",
                                   "split_pct": [0.5, 0.25, 0.25]}]}]
        }),
    );
    let out = d.path().join("out");
    let o = run(&conf, &out, &[]);
    assert_ok(&o, &out);
    assert!(
        stderr(&o).contains("label `rate` replaces the feature"),
        "{}",
        stderr(&o)
    );
    let e = common::part0(&out, "edge_feat.dgl");
    let names: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "_N:_E:_N/rate",
            "_N:_E:_N/test_mask",
            "_N:_E:_N/train_mask",
            "_N:_E:_N/val_mask",
            "_N:_E:_N/w"
        ]
    );
    let rate = &e["_N:_E:_N/rate"];
    assert_eq!(rate.dtype, DType::I32, "the label's array (int32, 1-D)");
    assert_eq!(rate.shape, vec![4]);
    // data_transform_new.json keeps the feature's entry with its feature_dim, as GraphStorm's.
    let rt: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("data_transform_new.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rt["edges"][0]["features"][1]["feature_dim"], json!([1]));
}

// Very long string IDs (issue 11, "valid but hostile" inputs): 256 KiB node IDs that differ
// only in their last byte map, join edges and come back byte for byte in raw_id_mappings.
#[test]
fn very_long_string_ids() {
    let d = tempfile::tempdir().unwrap();
    let base = "k".repeat(256 * 1024);
    let ids: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|s| format!("{base}{s}"))
        .collect();
    let conf = one_csv_node_type(
        d.path(),
        &format!("id,x\n{},1\n{},2\n{},3\n", ids[0], ids[1], ids[2]),
        json!([{"feature_col": "x"}]),
    );
    std::fs::write(
        d.path().join("e.csv"),
        format!("src,dst\n{},{}\n{},{}\n", ids[0], ids[2], ids[2], ids[1]),
    )
    .unwrap();
    let out = d.path().join("out");
    assert_ok(&run(&conf, &out, &[]), &out);
    let raw = common::raw_ids(&out, "_N").expect("raw ID map");
    let got: Vec<&str> = raw.iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(num_edges(&out), 2);
}
