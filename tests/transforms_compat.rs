//! Transform values against GraphStorm: graphprep builds `sample_data/shop_transforms` (every
//! numeric/categorical transform, separator multi-hot, hard negatives) and every feature value
//! is compared per raw ID with `expected_features.json`, which was produced once by GraphStorm
//! 0.5.1's own `construct_graph` and dumped by `tests/dgl/dump_expected_features.py`.

mod common;

use common::*;

#[test]
fn shop_transforms_match_graphstorm() {
    let conf = repo().join("sample_data/shop_transforms/config.json");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    construct(&conf, &out, &[]);
    let exp = expected();
    let n = check_against_expected(&out, &exp);
    // 16 users x (1+1+1+4+3+3) + 12 items x (4+4) - 12 tied rank_gauss inputs (vec[3] == 1)
    // + 5 stores x (5+3+3) + 20 buys x 2 + 7 views x (4+3)
    assert_eq!(
        n,
        16 * 13 + 12 * 8 - 12 + 5 * 11 + 20 * 2 + 7 * 7,
        "compared values"
    );
}

/// The learned state written to data_transform_new.json equals GraphStorm's.
#[test]
fn shop_transforms_runtime_state_matches_graphstorm() {
    let conf = repo().join("sample_data/shop_transforms/config.json");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    construct(&conf, &out, &[]);
    let rt: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("data_transform_new.json")).unwrap(),
    )
    .unwrap();
    let exp = expected();
    let state = exp["transform_state"].as_object().unwrap();
    let mut seen = 0;
    for (sect, key_of) in [("nodes", 0), ("edges", 1)] {
        for b in rt[sect].as_array().unwrap() {
            let ty = if key_of == 0 {
                b["node_type"].as_str().unwrap().to_string()
            } else {
                b["relation"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(":")
            };
            for f in b["features"].as_array().into_iter().flatten() {
                let k = format!("{ty}/{}", f["feature_name"].as_str().unwrap());
                let want = &state[&k];
                let got = &f["transform"];
                for field in ["max_val", "min_val", "sum"] {
                    if let Some(w) = want.get(field) {
                        let w: Vec<f64> = w
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|v| v.as_f64().unwrap())
                            .collect();
                        let g: Vec<f64> = got[field]
                            .as_array()
                            .unwrap_or_else(|| panic!("{k}: {field} missing"))
                            .iter()
                            .map(|v| v.as_f64().unwrap())
                            .collect();
                        assert_eq!(g.len(), w.len(), "{k}.{field}");
                        assert!(
                            g.iter().zip(&w).all(|(a, b)| close(*a, *b)),
                            "{k}.{field}: {g:?} vs {w:?}"
                        );
                        seen += 1;
                    }
                }
                if let Some(w) = want.get("mapping") {
                    assert_eq!(&got["mapping"], w, "{k}.mapping");
                    seen += 1;
                }
            }
        }
    }
    // age_mm (2), age_std, cls_cat, vec_std, tags, kind, price_mm (2), device
    assert_eq!(seen, 10);
}
