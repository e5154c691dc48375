//! Tests of [`compute_label`]: the spec §6.1 `test_label` cases (with global split counts),
//! dtypes, custom splits, stats, determinism and disjointness.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float32Array, Float64Array, Int32Array, Int64Array, ListArray, StringArray,
};
use arrow::datatypes::Float64Type;

use super::*;
use crate::config::plan::CustomSplit;

fn spec(task: TaskType, split: Split) -> LabelSpec {
    LabelSpec {
        json_path: "nodes[0].labels[0]".into(),
        column: (task != TaskType::LinkPrediction).then(|| "y".to_string()),
        task,
        split,
        frequency_stats: false,
        mask_names: ["train_mask", "val_mask", "test_mask"].map(String::from),
    }
}

fn file(label: Option<ArrayRef>, ids: Vec<ArrayRef>, rows: usize) -> LabelFile<'static> {
    LabelFile {
        path: Path::new("f.csv"),
        rows,
        label,
        ids,
    }
}

fn lbl(a: ArrayRef) -> LabelFile<'static> {
    let n = a.len();
    file(Some(a), vec![], n)
}

fn mask<'a>(out: &'a LabelOutput, name: &str) -> &'a [i8] {
    out.tensors
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tensor {name}"))
        .tensor
        .as_slice::<i8>()
        .unwrap()
}

fn count(m: &[i8]) -> usize {
    m.iter().filter(|&&x| x == 1).count()
}

fn counts(out: &LabelOutput) -> (usize, usize, usize) {
    (
        count(mask(out, "train_mask")),
        count(mask(out, "val_mask")),
        count(mask(out, "test_mask")),
    )
}

fn assert_disjoint(out: &LabelOutput, names: [&str; 3]) {
    let n = mask(out, names[0]).len();
    for i in 0..n {
        let s: i8 = names.iter().map(|m| mask(out, m)[i]).sum();
        assert!(s <= 1, "row {i} is in several masks");
    }
}

const PCT: Split = Split::Pct([0.8, 0.1, 0.1]);

#[test]
fn classification_8_1_1_of_10() {
    let a: ArrayRef = Arc::new(Int64Array::from((0..10).collect::<Vec<i64>>()));
    let out = compute_label(&spec(TaskType::Classification, PCT), &[lbl(a)], 1).unwrap();
    assert_eq!(counts(&out), (8, 1, 1));
    assert_disjoint(&out, ["train_mask", "val_mask", "test_mask"]);
    let l = &out.tensors[0];
    assert_eq!(l.name, "y");
    assert_eq!(l.tensor.dtype, DType::I32);
    assert_eq!(l.tensor.shape, vec![10]);
    assert_eq!(
        l.tensor.as_slice::<i32>().unwrap(),
        &(0..10).collect::<Vec<i32>>()[..]
    );
    assert_eq!(mask(&out, "train_mask").len(), 10);
    assert!(out.stats.is_none());
}

#[test]
fn global_counts_across_files() {
    // GraphStorm's per-file floors give 8/0/0 for two files of 5 rows; global counts give 8/1/1.
    let a: ArrayRef = Arc::new(Int64Array::from(vec![0i64; 5]));
    let b: ArrayRef = Arc::new(Int64Array::from(vec![1i64; 5]));
    let out = compute_label(&spec(TaskType::Regression, PCT), &[lbl(a), lbl(b)], 3).unwrap();
    assert_eq!(counts(&out), (8, 1, 1));
    assert_eq!(out.tensors[0].tensor.dtype, DType::I64);
}

#[test]
fn nan_rows_excluded() {
    let mut v: Vec<f64> = (0..10).map(|x| x as f64).collect();
    v.extend([f64::NAN; 3]);
    let a: ArrayRef = Arc::new(Float64Array::from(v));
    let out = compute_label(&spec(TaskType::Classification, PCT), &[lbl(a)], 5).unwrap();
    assert_eq!(counts(&out), (8, 1, 1));
    let labels = out.tensors[0].tensor.as_slice::<i32>().unwrap();
    assert_eq!(&labels[10..], &[i32::MIN; 3]);
    for name in ["train_mask", "val_mask", "test_mask"] {
        assert!(mask(&out, name)[10..].iter().all(|&x| x == 0));
    }
    // Regression keeps float64 and NaN.
    let a: ArrayRef = Arc::new(Float32Array::from(vec![1.0, f32::NAN, 2.0]));
    let out = compute_label(
        &spec(TaskType::Regression, Split::Pct([1.0, 0.0, 0.0])),
        &[lbl(a)],
        5,
    )
    .unwrap();
    assert_eq!(out.tensors[0].tensor.dtype, DType::F32);
    assert_eq!(mask(&out, "train_mask"), &[1, 0, 1]);
}

#[test]
fn multi_label_nan_rows_excluded() {
    let rows: Vec<Option<Vec<Option<f64>>>> = (0..13)
        .map(|i| {
            let nan = if i >= 10 { Some(f64::NAN) } else { Some(1.0) };
            Some(vec![Some(i as f64), nan])
        })
        .collect();
    let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(rows));
    let out = compute_label(&spec(TaskType::Regression, PCT), &[lbl(a)], 9).unwrap();
    assert_eq!(counts(&out), (8, 1, 1));
    assert_eq!(out.tensors[0].tensor.shape, vec![13, 2]);
    assert_eq!(out.tensors[0].tensor.dtype, DType::F64);
    for name in ["train_mask", "val_mask", "test_mask"] {
        assert!(mask(&out, name)[10..].iter().all(|&x| x == 0));
    }
}

#[test]
fn split_0_4_0_05_0_05_of_20() {
    let a: ArrayRef = Arc::new(Int32Array::from((0..20).collect::<Vec<i32>>()));
    let out = compute_label(
        &spec(TaskType::Classification, Split::Pct([0.4, 0.05, 0.05])),
        &[lbl(a)],
        2,
    )
    .unwrap();
    assert_eq!(counts(&out), (8, 1, 1));
}

#[test]
fn custom_mask_names() {
    let a: ArrayRef = Arc::new(Int64Array::from((0..10).collect::<Vec<i64>>()));
    let mut s = spec(TaskType::Classification, PCT);
    s.mask_names = ["tr", "va", "te"].map(String::from);
    let out = compute_label(&s, &[lbl(a)], 2).unwrap();
    let names: Vec<_> = out.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["y", "tr", "va", "te"]);
    assert_disjoint(&out, ["tr", "va", "te"]);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn custom(train: Vec<PathBuf>, valid: Vec<PathBuf>, test: Vec<PathBuf>) -> Split {
    Split::Custom(CustomSplit {
        train,
        valid,
        test,
        column: vec![],
    })
}

#[test]
fn custom_split_json_nodes() {
    let d = tempfile::tempdir().unwrap();
    let tr = write(d.path(), "tr.json", "0\n1\n2\n3\n4\n5\n6\n");
    let va = write(d.path(), "va.json", "7\n8\n\"9\"\n");
    let te = write(d.path(), "te.json", "9\n0\n");
    let ids: ArrayRef = Arc::new(Int64Array::from((0..10).collect::<Vec<i64>>()));
    let labels: ArrayRef = Arc::new(Int64Array::from(vec![0i64, 1, 2, 0, 1, 2, 0, 1, 2, 0]));
    let mut s = spec(
        TaskType::Classification,
        custom(vec![tr], vec![va], vec![te]),
    );
    s.frequency_stats = true;
    let out = compute_label(&s, &[file(Some(labels), vec![ids], 10)], 0).unwrap();
    assert_eq!(mask(&out, "train_mask"), &[1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    // "9" (a string) does not match the integer 9.
    assert_eq!(mask(&out, "val_mask"), &[0, 0, 0, 0, 0, 0, 0, 1, 1, 0]);
    // 0 is also in train: train wins.
    assert_eq!(mask(&out, "test_mask"), &[0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    let stats = out.stats.unwrap();
    assert_eq!(stats, BTreeMap::from([(0, 3), (1, 2), (2, 2)]));
}

#[test]
fn custom_split_json_edges() {
    let d = tempfile::tempdir().unwrap();
    let tr = write(d.path(), "tr.json", "[\"a\", \"b\"]\n[\"b\", \"c\"]\n");
    let te = write(d.path(), "te.json", "[\"c\", \"a\"]\n");
    let src: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "c", "a"]));
    let dst: ArrayRef = Arc::new(StringArray::from(vec!["b", "c", "a", "b"]));
    let s = spec(TaskType::LinkPrediction, custom(vec![tr], vec![], vec![te]));
    let out = compute_label(&s, &[file(None, vec![src, dst], 4)], 0).unwrap();
    assert_eq!(out.tensors.len(), 3);
    // Duplicate edges all get the mask.
    assert_eq!(mask(&out, "train_mask"), &[1, 1, 0, 1]);
    assert_eq!(mask(&out, "val_mask"), &[0, 0, 0, 0]);
    assert_eq!(mask(&out, "test_mask"), &[0, 0, 1, 0]);
}

#[test]
fn custom_split_train_only() {
    let d = tempfile::tempdir().unwrap();
    let tr = write(d.path(), "tr.json", "\"n1\"\n\"n3\"\n");
    let ids: ArrayRef = Arc::new(StringArray::from(vec!["n1", "n2", "n3"]));
    let labels: ArrayRef = Arc::new(Float64Array::from(vec![0.5, 1.5, 2.5]));
    let s = spec(TaskType::Regression, custom(vec![tr], vec![], vec![]));
    let out = compute_label(&s, &[file(Some(labels), vec![ids], 3)], 0).unwrap();
    assert_eq!(mask(&out, "train_mask"), &[1, 0, 1]);
    assert_eq!(count(mask(&out, "val_mask")), 0);
    assert_eq!(count(mask(&out, "test_mask")), 0);
    assert_eq!(
        out.tensors[0].tensor.as_slice::<f64>().unwrap(),
        &[0.5, 1.5, 2.5]
    );
}

#[test]
fn custom_split_parquet_edges() {
    use arrow::record_batch::RecordBatch;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("tr.parquet");
    let batch = RecordBatch::try_from_iter(vec![
        ("s", Arc::new(Int64Array::from(vec![1i64, 2])) as ArrayRef),
        ("t", Arc::new(Int64Array::from(vec![2i64, 3])) as ArrayRef),
    ])
    .unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&p).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let src: ArrayRef = Arc::new(Int64Array::from(vec![1i64, 2, 3]));
    let dst: ArrayRef = Arc::new(Int64Array::from(vec![2i64, 3, 1]));
    let split = Split::Custom(CustomSplit {
        train: vec![p.clone()],
        valid: vec![],
        test: vec![],
        column: vec!["s".into(), "t".into()],
    });
    let s = spec(TaskType::LinkPrediction, split);
    let out = compute_label(&s, &[file(None, vec![src.clone(), dst.clone()], 3)], 0).unwrap();
    assert_eq!(mask(&out, "train_mask"), &[1, 1, 0]);
    // A missing column is reported with the file name.
    let split = Split::Custom(CustomSplit {
        train: vec![p],
        valid: vec![],
        test: vec![],
        column: vec!["s".into(), "x".into()],
    });
    let err = compute_label(
        &spec(TaskType::LinkPrediction, split),
        &[file(None, vec![src, dst], 3)],
        0,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("tr.parquet") && err.contains("no column 'x'"),
        "{err}"
    );
}

#[test]
fn zero_split_gives_no_masks() {
    let a: ArrayRef = Arc::new(Int64Array::from(vec![1i64, 2, 3]));
    let out = compute_label(
        &spec(TaskType::Classification, Split::Pct([0.0; 3])),
        &[lbl(a)],
        0,
    )
    .unwrap();
    assert_eq!(out.tensors.len(), 1);
    assert_eq!(out.tensors[0].name, "y");
    let out = compute_label(
        &spec(TaskType::LinkPrediction, Split::Pct([0.0; 3])),
        &[file(None, vec![], 4)],
        0,
    )
    .unwrap();
    assert!(out.tensors.is_empty());
}

#[test]
fn link_prediction_masks_only() {
    let out = compute_label(
        &spec(TaskType::LinkPrediction, PCT),
        &[file(None, vec![], 6), file(None, vec![], 4)],
        4,
    )
    .unwrap();
    assert_eq!(out.tensors.len(), 3);
    assert_eq!(counts(&out), (8, 1, 1));
    assert_eq!(mask(&out, "train_mask").len(), 10);
    assert_eq!(out.tensors[0].tensor.dtype, DType::I8);
    assert_eq!(out.tensors[0].tensor.shape, vec![10]);
}

#[test]
fn deterministic_for_a_seed() {
    let run = |seed| {
        let a: ArrayRef = Arc::new(Int64Array::from((0..1000).collect::<Vec<i64>>()));
        let out = compute_label(&spec(TaskType::Classification, PCT), &[lbl(a)], seed).unwrap();
        ["train_mask", "val_mask", "test_mask"].map(|n| mask(&out, n).to_vec())
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
    let m = run(42);
    assert!((0..1000).all(|i| m[0][i] + m[1][i] + m[2][i] <= 1));
    assert_eq!(
        m.iter().map(|x| count(x)).collect::<Vec<_>>(),
        [800, 100, 100]
    );
}

#[test]
fn frequency_stats_over_train_rows() {
    let a: ArrayRef = Arc::new(Int64Array::from(vec![0i64, 1, 1, 2, 2, 2]));
    let mut s = spec(TaskType::Classification, Split::Pct([1.0, 0.0, 0.0]));
    s.frequency_stats = true;
    let out = compute_label(&s, &[lbl(a)], 0).unwrap();
    assert_eq!(out.stats.unwrap(), BTreeMap::from([(0, 1), (1, 2), (2, 3)]));
}

#[test]
fn string_labels_rejected() {
    let a: ArrayRef = Arc::new(StringArray::from(vec!["cat", "dog"]));
    let err = compute_label(&spec(TaskType::Classification, PCT), &[lbl(a)], 0)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("f.csv") && err.contains("'y'") && err.contains("must be numeric"),
        "{err}"
    );
}

#[test]
fn non_integral_classification_label_rejected() {
    let a: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 1.5]));
    let err = compute_label(&spec(TaskType::Classification, PCT), &[lbl(a)], 0)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("row 1") && err.contains("not an integer"),
        "{err}"
    );
}

#[test]
fn regression_dtype_promotion_and_int_nulls() {
    let a: ArrayRef = Arc::new(Int64Array::from(vec![1i64, 2]));
    let b: ArrayRef = Arc::new(Float64Array::from(vec![0.5]));
    let out = compute_label(&spec(TaskType::Regression, PCT), &[lbl(a), lbl(b)], 0).unwrap();
    assert_eq!(out.tensors[0].tensor.dtype, DType::F64);
    assert_eq!(
        out.tensors[0].tensor.as_slice::<f64>().unwrap(),
        &[1.0, 2.0, 0.5]
    );
    // Integer column with a null: float64 with NaN (pandas), row excluded from masks.
    let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1i64), None]));
    let out = compute_label(
        &spec(TaskType::Regression, Split::Pct([1.0, 0.0, 0.0])),
        &[lbl(a)],
        0,
    )
    .unwrap();
    let v = out.tensors[0].tensor.as_slice::<f64>().unwrap();
    assert_eq!(v[0], 1.0);
    assert!(v[1].is_nan());
    assert_eq!(mask(&out, "train_mask"), &[1, 0]);
}

#[test]
fn row_count_mismatch_rejected() {
    let a: ArrayRef = Arc::new(Int64Array::from(vec![1i64, 2]));
    let err = compute_label(
        &spec(TaskType::Regression, PCT),
        &[file(Some(a), vec![], 3)],
        0,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("2 rows"), "{err}");
}
