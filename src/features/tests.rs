//! Unit tests of the transforms over in-memory Arrow columns: the spec's worked examples
//! (§2.5), GraphStorm's test checklist (§6.1–§6.2), dtypes and shapes of every output, and
//! determinism (1 vs N threads, 1 file vs 3 files).

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float16Array, Float32Array, Float64Array, Int32Array, Int64Array,
    ListArray, StringArray, UInt8Array,
};
use arrow::datatypes::{Float64Type, Int64Type};

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
            store: None,
            lm: Default::default(),
            progress: None,
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
            store: None,
            lm: Default::default(),
            progress: None,
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
fn empty_file_among_others() {
    let out = run(
        &spec(&["emb"], noop()),
        vec![vec![list_f64(&[])], vec![list_f64(&[&[1., 2.]])]],
    )
    .unwrap();
    assert_eq!(values(&out), (vec![1, 2], vec![1., 2.]));
}

// ---------------------------------------------------------------- max_min_norm

fn maxmin(max_val: Option<Vec<f64>>, min_val: Option<Vec<f64>>, bounds: f64) -> Transform {
    Transform::MaxMinNorm {
        max_bound: bounds,
        min_bound: -bounds,
        max_val,
        min_val,
    }
}

#[test]
fn maxmin_two_files_per_column_with_bounds() {
    // GraphStorm's test_feat_ops_maxmin: stats over both files, per column, clamped to ±2.
    let f1 = list_f64(&[&[-5.0, 0.5], &[1.0, 1.5]]);
    let f2 = list_f64(&[&[0.0, 0.0], &[3.0, 1.0]]);
    let out = run(
        &spec(&["x"], maxmin(None, None, 2.0)),
        vec![vec![f1], vec![f2]],
    )
    .unwrap();
    assert_eq!(out.learned["max_val"], serde_json::json!([2.0, 1.5]));
    assert_eq!(out.learned["min_val"], serde_json::json!([-2.0, 0.0]));
    assert_eq!(out.tensors[0].tensor.dtype, DType::F32);
    let (shape, v) = values(&out);
    assert_eq!(shape, vec![4, 2]);
    // (x - min) / (max - min), clipped to [0, 1].
    let want = [0.0, 0.5 / 1.5, 0.75, 1.0, 0.5, 0.0, 1.0, 1.0 / 1.5];
    for (a, b) in v.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{v:?}");
    }
}

#[test]
fn maxmin_int_column_learns_int_lists_and_reuses_given_values() {
    let out = run(
        &spec(&["a"], maxmin(None, None, f64::MAX)),
        vec![vec![i64s(&[1, 10, 4])]],
    )
    .unwrap();
    assert_eq!(
        serde_json::Value::Object(out.learned.clone()).to_string(),
        r#"{"max_val":[10],"min_val":[1]}"#
    );
    assert_eq!(values(&out).1, vec![0.0, 1.0, (3.0f32 / 9.0) as f64]);
    // Given values (scalar broadcast) skip fitting; clipping applies.
    let out = run(
        &spec(&["a"], maxmin(Some(vec![5.0]), Some(vec![1.0]), f64::MAX)),
        vec![vec![i64s(&[1, 10, 3])]],
    )
    .unwrap();
    assert_eq!(values(&out).1, vec![0.0, 1.0, 0.5]);
    // One side given: the other is learned.
    let out = run(
        &spec(&["a"], maxmin(Some(vec![20.0]), None, f64::MAX)),
        vec![vec![i64s(&[0, 10])]],
    )
    .unwrap();
    assert_eq!(out.learned["max_val"], serde_json::json!([20]));
    assert_eq!(out.learned["min_val"], serde_json::json!([0]));
    assert_eq!(values(&out).1, vec![0.0, 0.5]);
}

#[test]
fn maxmin_bounds_capped_by_out_dtype_and_fp16_output() {
    let mut s = spec(&["a"], maxmin(None, None, f64::MAX));
    s.out_dtype = Some(DType::F16);
    let out = run(&s, vec![vec![f64s(&[-1e6, 0.0, 1e6])]]).unwrap();
    assert_eq!(out.learned["max_val"], serde_json::json!([65504.0]));
    assert_eq!(out.learned["min_val"], serde_json::json!([-65504.0]));
    assert_eq!(out.tensors[0].tensor.dtype, DType::F16);
    assert_eq!(values(&out), (vec![3, 1], vec![0.0, 0.5, 1.0]));
}

#[test]
fn maxmin_errors() {
    let e = run(
        &spec(&["a"], maxmin(None, None, f64::MAX)),
        vec![vec![f64s(&[3.0, 3.0])]],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("nodes[0].features[0]") && e.contains("max == min") && e.contains("'a'"),
        "{e}"
    );
    let e = run(
        &spec(&["a"], maxmin(None, None, f64::MAX)),
        vec![vec![f64s(&[1.0, f64::NAN])]],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("row 1") && e.contains("NaN, Inf or missing"),
        "{e}"
    );
}

// ---------------------------------------------------------------- standard

#[test]
fn standard_sums_over_files_and_divides() {
    let t = Transform::Standard { sum: None };
    let out = run(
        &spec(&["x"], t),
        vec![
            vec![list_f64(&[&[1.0, 2.0]])],
            vec![list_f64(&[&[3.0, 6.0]])],
        ],
    )
    .unwrap();
    assert_eq!(out.learned["sum"], serde_json::json!([4.0, 8.0]));
    assert_eq!(values(&out), (vec![2, 2], vec![0.25, 0.25, 0.75, 0.75]));
    // A given sum is used and not written back.
    let t = Transform::Standard {
        sum: Some(vec![2.0]),
    };
    let out = run(&spec(&["a"], t), vec![vec![i64s(&[1, 3])]]).unwrap();
    assert!(out.learned.is_empty());
    assert_eq!(values(&out).1, vec![0.5, 1.5]);
    let e = run(
        &spec(&["a"], Transform::Standard { sum: None }),
        vec![vec![f64s(&[1.0, -1.0])]],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("sum of element 0 is 0"), "{e}");
}

// ---------------------------------------------------------------- rank_gauss

fn rank(uniquify: bool) -> Transform {
    Transform::RankGauss {
        epsilon: 1e-6,
        uniquify,
    }
}

#[test]
fn rank_gauss_float32_antisymmetric_200_unique() {
    let v: Vec<f64> = (0..200).map(|i| ((i * 73) % 200) as f64).collect();
    let out = run(
        &spec(&["a"], rank(false)),
        vec![vec![f64s(&v[..120])], vec![f64s(&v[120..])]],
    )
    .unwrap();
    assert_eq!(out.tensors[0].tensor.dtype, DType::F32);
    let (shape, mut y) = values(&out);
    assert_eq!(shape, vec![200, 1]);
    y.sort_by(f64::total_cmp);
    y.dedup();
    assert_eq!(y.len(), 200);
    for k in 0..200 {
        assert!((y[k] + y[199 - k]).abs() < 1e-6);
    }
    // uniquify on 0/1 data: two distinct outputs.
    let bits: Vec<f64> = (0..50).map(|i| (i % 2) as f64).collect();
    let out = run(&spec(&["a"], rank(true)), vec![vec![f64s(&bits)]]).unwrap();
    let (_, mut y) = values(&out);
    y.sort_by(f64::total_cmp);
    y.dedup();
    assert_eq!(y.len(), 2);
    let e = run(
        &spec(&["a"], rank(false)),
        vec![vec![f64s(&[1.0, f64::INFINITY])]],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("NaN, Inf or missing"), "{e}");
}

#[test]
fn rank_gauss_fp16_output() {
    let mut s = spec(&["a"], rank(false));
    s.out_dtype = Some(DType::F16);
    let out = run(&s, vec![vec![f64s(&[3.0, 1.0, 2.0])]]).unwrap();
    assert_eq!(out.tensors[0].tensor.dtype, DType::F16);
    let (_, v) = values(&out);
    assert_eq!(v[2], 0.0);
    assert!((v[0] + v[1]).abs() < 1e-3 && v[0] > 3.4);
}

// ---------------------------------------------------------------- bucket_numerical

#[test]
fn bucket_feature_shapes_and_dtypes() {
    let t = Transform::Bucket {
        range: [10.0, 30.0],
        bucket_cnt: 2,
        slide_window_size: 0.0,
    };
    let out = run(
        &spec(&["a"], t.clone()),
        vec![vec![f64s(&[1.0, 11.0, 21.0, 31.0, 10.0, 20.0, 30.0])]],
    )
    .unwrap();
    assert_eq!(out.tensors[0].tensor.dtype, DType::F32);
    assert_eq!(out.feature_dim, vec![2]);
    assert_eq!(
        values(&out),
        (
            vec![7, 2],
            vec![1., 0., 1., 0., 0., 1., 0., 1., 1., 0., 0., 1., 0., 1.]
        )
    );
    let mut s = spec(&["a"], t.clone());
    s.out_dtype = Some(DType::F16);
    assert_eq!(
        run(&s, vec![vec![i64s(&[21])]]).unwrap().tensors[0]
            .tensor
            .dtype,
        DType::F16
    );
    let e = run(&spec(&["a"], t.clone()), vec![vec![f64s(&[f64::NAN])]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("NaN, Inf or missing"), "{e}");
    let e = run(&spec(&["v"], t), vec![vec![list_f64(&[&[1.0, 2.0]])]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("one value per row"), "{e}");
}

// ---------------------------------------------------------------- multi-column

#[test]
fn multi_column_equals_column_stack_of_single_results() {
    let a = f64s(&[1.0, 5.0, 3.0, 4.0]);
    let b = f64s(&[10.0, 20.0, 15.0, 12.0]);
    let transforms = [
        noop(),
        Transform::Bucket {
            range: [0.0, 20.0],
            bucket_cnt: 4,
            slide_window_size: 1.0,
        },
        rank(false),
        maxmin(Some(vec![20.0]), Some(vec![0.0]), f64::MAX),
        Transform::Standard {
            sum: Some(vec![2.0]),
        },
    ];
    for t in transforms {
        let multi = run(
            &spec(&["a", "b"], t.clone()),
            vec![vec![a.clone(), b.clone()]],
        )
        .unwrap();
        let sa = values(&run(&spec(&["a"], t.clone()), vec![vec![a.clone()]]).unwrap());
        let sb = values(&run(&spec(&["b"], t.clone()), vec![vec![b.clone()]]).unwrap());
        let (shape, v) = values(&multi);
        let (wa, wb) = (sa.0[1], sb.0[1]);
        assert_eq!(shape, vec![4, wa + wb], "{t:?}");
        assert_eq!(multi.feature_dim, vec![wa + wb]);
        for r in 0..4 {
            assert_eq!(
                &v[r * (wa + wb)..r * (wa + wb) + wa],
                &sa.1[r * wa..(r + 1) * wa],
                "{t:?}"
            );
            assert_eq!(
                &v[r * (wa + wb) + wa..(r + 1) * (wa + wb)],
                &sb.1[r * wb..(r + 1) * wb],
                "{t:?}"
            );
        }
    }
}

// ---------------------------------------------------------------- to_categorical

fn cat(separator: Option<&str>, mapping: Option<&[(&str, usize)]>) -> Transform {
    Transform::Categorical {
        separator: separator.map(str::to_string),
        mapping: mapping.map(|m| m.iter().map(|(k, v)| (k.to_string(), *v)).collect()),
    }
}

#[test]
fn categorical_mapping_across_files_sorted_strings() {
    let f1: ArrayRef = Arc::new(StringArray::from(vec![Some("b"), None, Some("10")]));
    let f2: ArrayRef = Arc::new(StringArray::from(vec![Some("2"), Some("a"), Some("b")]));
    let out = run(&spec(&["c"], cat(None, None)), vec![vec![f1], vec![f2]]).unwrap();
    assert_eq!(
        serde_json::Value::Object(out.learned.clone()).to_string(),
        r#"{"mapping":{"10":0,"2":1,"a":2,"b":3}}"#
    );
    assert_eq!(out.tensors[0].tensor.dtype, DType::I8);
    let (shape, v) = values(&out);
    assert_eq!(shape, vec![6, 4]);
    #[rustfmt::skip]
    assert_eq!(v, vec![
        0., 0., 0., 1.,
        0., 0., 0., 0., // null → zero row
        1., 0., 0., 0.,
        0., 1., 0., 0.,
        0., 0., 1., 0.,
        0., 0., 0., 1.,
    ]);
}

#[test]
fn categorical_ints_floats_bools_spelled_like_python() {
    let out = run(
        &spec(&["c"], cat(None, None)),
        vec![vec![i64s(&[3, 10, 3])]],
    )
    .unwrap();
    assert_eq!(out.learned["mapping"], serde_json::json!({"10": 0, "3": 1}));
    let out = run(
        &spec(&["c"], cat(None, None)),
        vec![vec![f64s(&[1.0, 0.5, f64::NAN])]],
    )
    .unwrap();
    assert_eq!(
        out.learned["mapping"],
        serde_json::json!({"0.5": 0, "1.0": 1, "nan": 2})
    );
    let b: ArrayRef = Arc::new(BooleanArray::from(vec![true, false]));
    let out = run(&spec(&["c"], cat(None, None)), vec![vec![b]]).unwrap();
    assert_eq!(
        out.learned["mapping"],
        serde_json::json!({"False": 0, "True": 1})
    );
}

#[test]
fn categorical_given_mapping_unknown_and_legacy_int_keys() {
    // A given mapping (keys already strings, e.g. from int keys) is used as is: no fitting,
    // nothing written back, unknown values give zero rows.
    let out = run(
        &spec(&["c"], cat(None, Some(&[("1", 0), ("2", 1)]))),
        vec![vec![i64s(&[2, 7, 1])]],
    )
    .unwrap();
    assert!(out.learned.is_empty());
    assert_eq!(values(&out), (vec![3, 2], vec![0., 1., 0., 0., 1., 0.]));
}

#[test]
fn categorical_separator_multi_hot_for_csv_strings_and_lists() {
    let col = strs(&["a,b", "c", ",a"]);
    let out = run(&spec(&["c"], cat(Some(","), None)), vec![vec![col]]).unwrap();
    // The empty piece of ",a" is the category "".
    assert_eq!(
        out.learned["mapping"],
        serde_json::json!({"": 0, "a": 1, "b": 2, "c": 3})
    );
    assert_eq!(
        values(&out),
        (
            vec![3, 4],
            vec![0., 1., 1., 0., 0., 0., 0., 1., 1., 1., 0., 0.]
        )
    );
    let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        None,
        Some(vec![Some(2)]),
    ]));
    let out = run(&spec(&["c"], cat(None, None)), vec![vec![list]]).unwrap();
    assert_eq!(values(&out), (vec![3, 2], vec![1., 1., 0., 0., 0., 1.]));
}

// ---------------------------------------------------------------- edge_dst_hard_negative

struct Ids;
impl crate::idmap::RawIdLookup for Ids {
    fn lookup_str(&self, raw: &str) -> Option<u32> {
        ["n0", "n1", "n2", "n3"]
            .iter()
            .position(|&s| s == raw)
            .map(|i| i as u32)
    }
    fn lookup_int(&self, _raw: i64) -> Option<u32> {
        None
    }
}

struct IntIds;
impl crate::idmap::RawIdLookup for IntIds {
    fn lookup_str(&self, _raw: &str) -> Option<u32> {
        None
    }
    fn lookup_int(&self, raw: i64) -> Option<u32> {
        (100..104).contains(&raw).then(|| (raw - 100) as u32 * 10)
    }
}

fn run_ctx(
    spec: &FeatureSpec,
    files: Vec<Vec<ArrayRef>>,
    ids: &dyn crate::idmap::RawIdLookup,
) -> Result<FeatureOutput> {
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
            dst_ids: Some(ids),
            store: None,
            lm: Default::default(),
            progress: None,
        },
    )
}

#[test]
fn hard_negative_separator_strings_pad_to_global_width() {
    let t = Transform::HardNegative {
        separator: Some(";".into()),
    };
    let f1: ArrayRef = Arc::new(StringArray::from(vec![Some("n1;n3"), None]));
    let f2: ArrayRef = Arc::new(StringArray::from(vec![Some("n2;nX;n0")]));
    let out = run_ctx(&spec(&["neg"], t), vec![vec![f1], vec![f2]], &Ids).unwrap();
    assert_eq!(out.tensors[0].tensor.dtype, DType::I64);
    assert_eq!(out.feature_dim, vec![3]);
    let t = &out.tensors[0].tensor;
    assert_eq!(t.shape, vec![3, 3]);
    // Unknown nX dropped, remaining IDs shift left, -1 padding; null row all -1.
    assert_eq!(
        t.as_slice::<i64>().unwrap(),
        &[1, 3, -1, -1, -1, -1, 2, 0, -1]
    );
}

#[test]
fn hard_negative_int_lists_and_missing_id_map() {
    let t = Transform::HardNegative { separator: None };
    let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(101), Some(999)]),
        Some(vec![Some(103)]),
    ]));
    let out = run_ctx(
        &spec(&["neg"], t.clone()),
        vec![vec![list.clone()]],
        &IntIds,
    )
    .unwrap();
    assert_eq!(
        out.tensors[0].tensor.as_slice::<i64>().unwrap(),
        &[10, -1, 30, -1]
    );
    let e = run(&spec(&["neg"], t), vec![vec![list]])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("nodes[0].features[0]") && e.contains("ID map"),
        "{e}"
    );
}

// ---------------------------------------------------------------- determinism

/// Every transform on the same rows: (1 file, 1 thread) vs (3 files, 4 threads) give
/// byte-identical tensors and identical learned state.
#[test]
fn deterministic_across_threads_and_file_splits() {
    let n = 3000;
    let x: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % 1009) as f64 * 0.37 - 50.0 + 1e-3 * i as f64)
        .collect();
    let cats: Vec<String> = (0..n).map(|i| format!("c{}", (i * 31) % 17)).collect();
    let transforms = [
        noop(),
        maxmin(None, None, f64::MAX),
        Transform::Standard { sum: None },
        rank(false),
        rank(true),
        Transform::Bucket {
            range: [-50.0, 300.0],
            bucket_cnt: 7,
            slide_window_size: 20.0,
        },
        cat(None, None),
    ];
    let split = |cuts: &[usize], is_cat: bool| -> Vec<Vec<ArrayRef>> {
        let mut b = vec![0];
        b.extend_from_slice(cuts);
        b.push(n);
        b.windows(2)
            .map(|w| {
                if is_cat {
                    let s: Vec<&str> = cats[w[0]..w[1]].iter().map(|s| s.as_str()).collect();
                    vec![strs(&s)]
                } else {
                    vec![f64s(&x[w[0]..w[1]])]
                }
            })
            .collect()
    };
    for t in transforms {
        let is_cat = matches!(t, Transform::Categorical { .. });
        let s = spec(&["x"], t.clone());
        let pool1 = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let pool4 = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let one = pool1.install(|| run(&s, split(&[], is_cat))).unwrap();
        let three = pool4
            .install(|| run(&s, split(&[1000, 1001], is_cat)))
            .unwrap();
        let other = pool4
            .install(|| run(&s, split(&[7, 2500], is_cat)))
            .unwrap();
        for o in [&three, &other] {
            assert_eq!(
                one.tensors[0].tensor.shape, o.tensors[0].tensor.shape,
                "{t:?}"
            );
            assert_eq!(
                one.tensors[0].tensor.bytes(),
                o.tensors[0].tensor.bytes(),
                "{t:?}"
            );
            assert_eq!(one.learned, o.learned, "{t:?}");
        }
    }
}

#[test]
fn errors_in_later_slices_report_file_rows() {
    let mut v: Vec<f64> = (0..40).map(|i| i as f64).collect();
    v[33] = f64::NAN;
    let e = run(
        &spec(&["a"], noop()),
        vec![vec![f64s(&[1.0])], vec![f64s(&v)]],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("part-1.parquet") && e.contains("row 33,"), "{e}");
    let rows: Vec<Vec<f64>> = (0..20)
        .map(|i| vec![i as f64; if i == 17 { 3 } else { 2 }])
        .collect();
    let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
    let e = run(&spec(&["v"], noop()), vec![vec![list_f64(&refs)]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("row 17,") && e.contains("row 14 has 2"), "{e}");
}

#[test]
fn list_columns_across_many_slices() {
    let rows: Vec<Vec<f64>> = (0..50).map(|i| vec![i as f64, -(i as f64), 0.5]).collect();
    let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
    let want: Vec<f64> = rows.iter().flatten().copied().collect();
    let out = run(
        &spec(&["v"], noop()),
        vec![vec![list_f64(&refs[..23])], vec![list_f64(&refs[23..])]],
    )
    .unwrap();
    assert_eq!(values(&out), (vec![50, 3], want));
    let t = Transform::Standard { sum: None };
    let out = run(&spec(&["v"], t), vec![vec![list_f64(&refs)]]).unwrap();
    assert_eq!(
        out.learned["sum"],
        serde_json::json!([1225.0, -1225.0, 25.0])
    );
}

#[test]
fn maxmin_given_per_element_lists_on_vector_column() {
    let col = list_f64(&[&[0.0, 10.0], &[4.0, 30.0]]);
    let t = maxmin(Some(vec![4.0, 30.0]), Some(vec![0.0, 10.0]), f64::MAX);
    let out = run(&spec(&["v"], t), vec![vec![col.clone()]]).unwrap();
    assert_eq!(values(&out), (vec![2, 2], vec![0.0, 0.0, 1.0, 1.0]));
    assert_eq!(out.learned["max_val"], serde_json::json!([4.0, 30.0]));
    let t = maxmin(Some(vec![1.0, 2.0, 3.0]), Some(vec![0.0]), f64::MAX);
    let e = run(&spec(&["v"], t), vec![vec![col]])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("transform.max_val") && e.contains("3 values"),
        "{e}"
    );
}

/// float16 output is rounded once from float64, as `numpy.float16(np.float64(x))`.
#[test]
fn f16_from_f64_matches_numpy() {
    // (input, numpy float16 bits), from numpy 1.x/2.x.
    let cases: &[(f64, u16)] = &[
        (1.0288085800147668, 0x3c1d),
        (1.02880859375, 0x3c1e),
        (1.0 + 2f64.powi(-11), 0x3c00),
        (1.0 + 3.0 * 2f64.powi(-11), 0x3c02),
        (65504.0, 0x7bff),
        (65519.99999, 0x7bff),
        (65520.0, 0x7c00),
        (1e300, 0x7c00),
        (-1e300, 0xfc00),
        (2f64.powi(-24), 0x0001),
        (2f64.powi(-25), 0x0000),
        (2.980232536792755e-08, 0x0001),
        (3.0 * 2f64.powi(-25), 0x0002),
        (2f64.powi(-14) - 2f64.powi(-25), 0x0400),
        (-0.0, 0x8000),
        (1e-30, 0x0000),
        (f64::MIN_POSITIVE / 4.0, 0x0000),
        (0.1, 0x2e66),
        (-2.5, 0xc100),
        (1.0 / 3.0, 0x3555),
        (f64::INFINITY, 0x7c00),
        (f64::NAN, 0x7e00),
    ];
    for &(x, bits) in cases {
        assert_eq!(super::f16_from_f64(x).to_bits(), bits, "{x:e}");
    }
    // A float32 input is rounded once either way: agree with half's float32 conversion.
    let mut s = 0x9E37_79B9u32;
    for _ in 0..200_000 {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        let f = f32::from_bits(s);
        if f.is_nan() {
            continue;
        }
        assert_eq!(
            super::f16_from_f64(f as f64).to_bits(),
            half::f16::from_f32(f).to_bits(),
            "{f:e}"
        );
    }
}
