//! The memory budget: spilled and in-memory runs write byte-identical output, and a run whose
//! unspillable part does not fit stops early with a budget error and leaves nothing behind.

use std::path::Path;

mod common;

fn run(conf: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    common::construct_cmd(conf, out)
        .args(["--graph-name", "g", "--seed", "3"])
        .args(extra)
        .output()
        .unwrap()
}

/// In memory vs. every feature spilled (`--ext-mem-feat-size 1`) under a 1 MiB budget.
fn assert_spill_equivalent(sample: &str, extra: &[&str]) {
    let conf = common::repo()
        .join("sample_data")
        .join(sample)
        .join("config.json");
    let tmp = tempfile::tempdir().unwrap();
    let (mem, spill, ws) = (
        tmp.path().join("mem"),
        tmp.path().join("spill"),
        tmp.path().join("ws"),
    );
    std::fs::create_dir(&ws).unwrap();
    let a = run(&conf, &mem, extra);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    common::read_back(&mem);
    let mut args = extra.to_vec();
    let ws_arg = ws.to_str().unwrap();
    args.extend([
        "--memory",
        "1MiB",
        "--ext-mem-workspace",
        ws_arg,
        "--ext-mem-feat-size",
        "1",
        "--threads",
        "2",
    ]);
    let b = run(&conf, &spill, &args);
    let log = String::from_utf8_lossy(&b.stderr);
    assert!(b.status.success(), "{log}");
    assert!(
        log.contains("spilled"),
        "{sample} {extra:?}: nothing spilled:\n{log}"
    );
    assert_eq!(
        std::fs::read_dir(&ws).unwrap().count(),
        0,
        "the spill folder is removed after the run"
    );
    let (fa, fb) = (common::files(&mem), common::files(&spill));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "{sample} {extra:?}: different file sets"
    );
    for (k, v) in &fa {
        assert!(
            common::without_timings(k, v) == common::without_timings(k, &fb[k]),
            "{sample} {extra:?}: {} differs between the in-memory and the spilled run",
            k.display()
        );
    }
}

#[test]
fn spilled_output_is_byte_identical() {
    let two_random = ["--num-parts", "2", "--part-method", "random"];
    for sample in ["shop", "homo", "shop_transforms"] {
        assert_spill_equivalent(sample, &[]);
        assert_spill_equivalent(sample, &two_random);
    }
    assert_spill_equivalent(
        "shop",
        &[
            "--num-parts",
            "3",
            "--part-method",
            "metis",
            "--add-reverse-edges",
            "--output-format",
            "DGL",
            "DistDGL",
        ],
    );
}

#[test]
fn over_budget_fails_early_with_a_budget_message() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // 1000 nodes, 200000 edges: 2.3 MiB of edge lists, over a 1 MiB budget.
    let mut nodes = String::from("id\n");
    for i in 0..1000 {
        nodes += &format!("{i}\n");
    }
    std::fs::write(d.join("nodes.csv"), nodes).unwrap();
    let mut edges = String::from("src,dst\n");
    for i in 0..200_000u64 {
        edges += &format!("{},{}\n", i % 1000, (i * 7919) % 1000);
    }
    std::fs::write(d.join("edges.csv"), edges).unwrap();
    let conf = serde_json::json!({
        "version": "gconstruct-v0.1",
        "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": ["nodes.csv"],
                   "node_id_col": "id"}],
        "edges": [{"relation": ["n", "e", "n"], "format": {"name": "csv"},
                   "files": ["edges.csv"], "source_id_col": "src", "dest_id_col": "dst"}]
    });
    let cpath = d.join("conf.json");
    std::fs::write(&cpath, conf.to_string()).unwrap();
    let out = d.join("out");
    let r = run(&cpath, &out, &["--memory", "1MiB"]);
    let log = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{log}");
    assert!(
        log.contains("memory budget") && log.contains("200000 edges") && log.contains("--memory"),
        "{log}"
    );
    assert!(!out.exists(), "nothing is left behind");
    // The same graph fits a larger budget.
    let ok = run(&cpath, &out, &["--memory", "64MiB"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // Bad budgets are usage errors.
    let bad = run(&cpath, &d.join("out2"), &["--memory", "lots"]);
    assert_eq!(bad.status.code(), Some(2));
}
