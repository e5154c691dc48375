//! Unit tests of the transforms over in-memory Arrow columns: the spec's worked examples
//! (§2.5), GraphStorm's test checklist (§6.1–§6.2), dtypes and shapes of every output, and
//! determinism (1 vs N threads, 1 file vs 3 files).

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float16Array, Float32Array, Float64Array, Int32Array, Int64Array,
    ListArray, StringArray, UInt8Array,
};
use arrow::datatypes::Float64Type;

use super::*;
use crate::config::plan::Transform;
use crate::tensor::DType;

pub(super) fn spec(cols: &[&str], transform: Transform) -> FeatureSpec {
    FeatureSpec {
        json_path: "nodes[0].features[0]".into(),
        columns: cols.iter().map(|s| s.to_string()).collect(),
        name: cols.join("_"),
        out_dtype: None,
        transform,
        feature_dim: None,
    }
}

pub(super) fn noop() -> Transform {
    Transform::Noop {
        separator: None,
        truncate_dim: None,
    }
}

pub(super) fn paths(n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| PathBuf::from(format!("part-{i}.parquet")))
        .collect()
}

/// Runs a feature over files given as lists of columns.
pub(super) fn run(spec: &FeatureSpec, files: Vec<Vec<ArrayRef>>) -> Result<FeatureOutput> {
    let ps = paths(files.len());
    let fc: Vec<FileColumns<'_>> = files
        .into_iter()
        .zip(&ps)
        .map(|(columns, p)| FileColumns { path: p, columns })
        .collect();
    compute_feature(
        spec,
        &fc,
        &FeatureCtx {
            validate: true,
            dst_ids: None,
        },
    )
}

pub(super) fn f64s(v: &[f64]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}

pub(super) fn i64s(v: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(v.to_vec()))
}

pub(super) fn strs(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

pub(super) fn list_f64(rows: &[&[f64]]) -> ArrayRef {
    Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(
        rows.iter()
            .map(|r| Some(r.iter().map(|&x| Some(x)).collect::<Vec<_>>())),
    ))
}

/// The output as f64 values (whatever its dtype) plus its shape.
pub(super) fn values(out: &FeatureOutput) -> (Vec<usize>, Vec<f64>) {
    let t = &out.tensors[0].tensor;
    let v: Vec<f64> = match t.dtype {
        DType::F32 => t
            .as_slice::<f32>()
            .unwrap()
            .iter()
            .map(|&x| x as f64)
            .collect(),
        DType::F64 => t.as_slice::<f64>().unwrap().to_vec(),
        DType::F16 => t
            .as_slice::<half::f16>()
            .unwrap()
            .iter()
            .map(|x| x.to_f64())
            .collect(),
        DType::I8 => t
            .as_slice::<i8>()
            .unwrap()
            .iter()
            .map(|&x| x as f64)
            .collect(),
        DType::I64 => t
            .as_slice::<i64>()
            .unwrap()
            .iter()
            .map(|&x| x as f64)
            .collect(),
        d => panic!("unexpected dtype {d:?}"),
    };
    (t.shape.clone(), v)
}

// ---------------------------------------------------------------- no-op

#[test]
fn noop_scalar_column_is_n_by_1_float32() {
    let out = run(&spec(&["a"], noop()), vec![vec![i64s(&[1, 2, 3])]]).unwrap();
    assert_eq!(out.tensors[0].name, "a");
    assert_eq!(out.tensors[0].tensor.dtype, DType::F32);
    assert_eq!(values(&out), (vec![3, 1], vec![1., 2., 3.]));
    assert_eq!(out.feature_dim, vec![1]);
    assert!(out.learned.is_empty());
}

#[test]
fn noop_all_numeric_input_types() {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![1, 2])),
        Arc::new(UInt8Array::from(vec![1, 2])),
        Arc::new(Float16Array::from(vec![
            half::f16::from_f32(1.0),
            half::f16::from_f32(2.0),
        ])),
        Arc::new(Float32Array::from(vec![1.0, 2.0])),
        Arc::new(BooleanArray::from(vec![true, false])),
    ];
    for c in cols {
        let dt = c.data_type().clone();
        let out = run(&spec(&["a"], noop()), vec![vec![c]]).unwrap();
        let (shape, v) = values(&out);
        assert_eq!(shape, vec![2, 1], "{dt}");
        if dt == arrow::datatypes::DataType::Boolean {
            assert_eq!(v, vec![1., 0.]);
        } else {
            assert_eq!(v, vec![1., 2.], "{dt}");
        }
    }
}

#[test]
fn noop_out_dtypes() {
    for (d, want) in [
        (DType::F16, DType::F16),
        (DType::F64, DType::F64),
        (DType::I8, DType::I8),
    ] {
        let mut s = spec(&["a"], noop());
        s.out_dtype = Some(d);
        let out = run(&s, vec![vec![f64s(&[1.0, 2.5, -3.0])]]).unwrap();
        assert_eq!(out.tensors[0].tensor.dtype, want);
        let (shape, v) = values(&out);
        assert_eq!(shape, vec![3, 1]);
        if d == DType::I8 {
            assert_eq!(v, vec![1., 2., -3.]); // truncation toward zero, like numpy astype
        } else {
            assert_eq!(v, vec![1., 2.5, -3.]);
        }
    }
}

#[test]
fn noop_rejects_nan_inf_and_missing_naming_file_row_column() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = run(
            &spec(&["a"], noop()),
            vec![vec![f64s(&[1.0])], vec![f64s(&[2.0, bad])]],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("part-1.parquet")
                && e.contains("row 1")
                && e.contains("'a'")
                && e.contains("There are NaN, Inf or missing value in the a feature"),
            "{e}"
        );
    }
    let missing: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
    let e = run(&spec(&["a"], noop()), vec![vec![missing.clone()]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("row 1") && e.contains("missing"), "{e}");
    // Validation off: the value passes (null → NaN).
    let ps = paths(1);
    let fc = vec![FileColumns {
        path: &ps[0],
        columns: vec![missing],
    }];
    let out = compute_feature(
        &spec(&["a"], noop()),
        &fc,
        &FeatureCtx {
            validate: false,
            dst_ids: None,
        },
    )
    .unwrap();
    assert!(values(&out).1[1].is_nan());
}

#[test]
fn noop_list_column_and_truncate() {
    let rows: Vec<Vec<f64>> = (0..4)
        .map(|r| (0..32).map(|j| (r * 32 + j) as f64).collect())
        .collect();
    let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
    let out = run(&spec(&["emb"], noop()), vec![vec![list_f64(&refs)]]).unwrap();
    assert_eq!(values(&out).0, vec![4, 32]);
    let t = Transform::Noop {
        separator: None,
        truncate_dim: Some(16),
    };
    let out = run(&spec(&["emb"], t), vec![vec![list_f64(&refs)]]).unwrap();
    let (shape, v) = values(&out);
    assert_eq!(shape, vec![4, 16]);
    assert_eq!(out.feature_dim, vec![16]);
    assert_eq!(&v[16..18], &[32., 33.]);
}

#[test]
fn noop_truncate_on_scalar_column_is_an_error() {
    let t = Transform::Noop {
        separator: None,
        truncate_dim: Some(2),
    };
    let e = run(&spec(&["a"], t), vec![vec![f64s(&[1.0])]])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("nodes[0].features[0]") && e.contains("truncate_dim"),
        "{e}"
    );
}

#[test]
fn noop_ragged_list_across_files_is_an_error() {
    let e = run(
        &spec(&["emb"], noop()),
        vec![
            vec![list_f64(&[&[1., 2.]])],
            vec![list_f64(&[&[1., 2., 3.]])],
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("part-1.parquet") && e.contains("same length"),
        "{e}"
    );
}

#[test]
fn noop_string_vectors_with_separator() {
    // GraphStorm's test_noop_str_vector: ";"-separated rows → (3, 3).
    let t = Transform::Noop {
        separator: Some(";".into()),
        truncate_dim: None,
    };
    let col = strs(&["1;2;3", "4;5;6", "7;8;9"]);
    let out = run(&spec(&["s"], t), vec![vec![col.clone()]]).unwrap();
    assert_eq!(
        values(&out),
        (vec![3, 3], (1..=9).map(|x| x as f64).collect())
    );
    let t = Transform::Noop {
        separator: Some(";".into()),
        truncate_dim: Some(2),
    };
    let out = run(&spec(&["s"], t), vec![vec![col.clone()]]).unwrap();
    assert_eq!(values(&out), (vec![3, 2], vec![1., 2., 4., 5., 7., 8.]));
    // Without separator: error naming the column and suggesting separator / a transform.
    let e = run(&spec(&["s"], noop()), vec![vec![col]])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'s'") && e.contains("has to be integers or floats") && e.contains("separator"),
        "{e}"
    );
    let t = Transform::Noop {
        separator: Some(";".into()),
        truncate_dim: None,
    };
    let e = run(&spec(&["s"], t), vec![vec![strs(&["1;2", "3"])]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("row 1") && e.contains("same length"), "{e}");
}

#[test]
fn noop_multi_column_stacks_in_list_order() {
    let out = run(
        &spec(&["a", "b", "c"], noop()),
        vec![
            vec![
                i64s(&[1, 2]),
                list_f64(&[&[10., 11.], &[20., 21.]]),
                f64s(&[0.5, 0.25]),
            ],
            vec![i64s(&[3]), list_f64(&[&[30., 31.]]), f64s(&[0.125])],
        ],
    )
    .unwrap();
    assert_eq!(out.tensors[0].name, "a_b_c");
    assert_eq!(out.feature_dim, vec![4]);
    assert_eq!(
        values(&out),
        (
            vec![3, 4],
            vec![1., 10., 11., 0.5, 2., 20., 21., 0.25, 3., 30., 31., 0.125]
        )
    );
}

#[test]
fn feature_dim_from_config_must_match() {
    let mut s = spec(&["a"], noop());
    s.feature_dim = Some(vec![1]);
    assert!(run(&s, vec![vec![f64s(&[1.0])]]).is_ok());
    s.feature_dim = Some(vec![2]);
    let e = run(&s, vec![vec![f64s(&[1.0])]]).unwrap_err().to_string();
    assert!(
        e.contains("nodes[0].features[0].feature_dim") && e.contains("[2]"),
        "{e}"
    );
}

#[test]
fn model_transforms_are_not_supported_yet() {
    let t = Transform::BertHf {
        bert_model: "bert-base-uncased".into(),
        max_seq_length: 16,
        infer_batch_size: 8,
    };
    let e = run(&spec(&["text"], t), vec![vec![strs(&["hi"])]])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("nodes[0].features[0]")
            && e.contains("not supported yet")
            && e.contains("precompute"),
        "{e}"
    );
}

#[test]
fn empty_file_among_others() {
    let out = run(
        &spec(&["emb"], noop()),
        vec![vec![list_f64(&[])], vec![list_f64(&[&[1., 2.]])]],
    )
    .unwrap();
    assert_eq!(values(&out), (vec![1, 2], vec![1., 2.]));
}
