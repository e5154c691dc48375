//! `partition_stats.json`: the quality report written with `--num-parts > 1`.

use std::path::Path;

mod common;

fn stats(method: &str) -> serde_json::Value {
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/shop/config.json");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    common::construct(&conf, &out, &["--num-parts", "2", "--part-method", method]);
    serde_json::from_str(&std::fs::read_to_string(out.join("partition_stats.json")).unwrap())
        .unwrap()
}

#[test]
fn metis_report_is_balanced_and_timed() {
    let s = stats("metis");
    assert_eq!(s["num_parts"], 2);
    assert_eq!(s["num_nodes"], 38);
    assert_eq!(s["num_edges"], 54);
    assert_eq!(s["part_method"], "metis");
    let cut = s["edge_cut_fraction"].as_f64().unwrap();
    assert!(
        cut > 0.0 && cut < 0.5,
        "METIS should cut fewer than half the edges here: {cut}"
    );
    // Regression: tiny balance groups made METIS put almost everything in one partition.
    let balance = s["node_balance"].as_f64().unwrap();
    assert!(balance < 1.3, "node balance {balance}");
    assert!(s["metis"]["metis_seconds"].as_f64().unwrap() >= 0.0);
    let parts = s["partitions"].as_array().unwrap();
    let inner: u64 = parts
        .iter()
        .map(|p| p["inner_nodes"].as_u64().unwrap())
        .sum();
    assert_eq!(inner, 38);
}

#[test]
fn random_report_has_no_metis_section() {
    let s = stats("random");
    assert_eq!(s["part_method"], "random");
    assert!(s.get("metis").is_none());
    let edges: u64 = s["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["inner_edges"].as_u64().unwrap())
        .sum();
    assert_eq!(edges, 54);
}
