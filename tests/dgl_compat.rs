//! Compatibility with real DGL 2.1: graphprep's output for the sample graphs is loaded with
//! `dgl.distributed.load_partition` (under `DGL_DIST_DEBUG=1`), `load_partition_feats`,
//! `dgl.load_graphs` and `torch.load(weights_only=True)` by `tests/dgl/check_output.py`, an
//! independent oracle that recomputes the expected graph per raw ID from the input tables.
//!
//! The Python env (torch 2.2.1 + dgl 2.1.0) is created once by `tests/dgl/setup_env.sh` and
//! cached in `$GRAPHPREP_DGL_VENV` (default `~/.cache/graphprep-dgl-venv`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python, built once per test process.
fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo().join("tests/dgl/setup_env.sh"))
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run tests/dgl/setup_env.sh");
        assert!(out.status.success(), "tests/dgl/setup_env.sh failed");
        let stdout = String::from_utf8_lossy(&out.stdout);
        PathBuf::from(stdout.lines().last().expect("python path").trim())
    })
}

/// Runs graphprep with `args` into a fresh dir, then the oracle with `check_args`.
fn construct_and_check(sample: &str, graph: &str, args: &[&str], check_args: &[&str]) {
    let conf = repo().join("sample_data").join(sample).join("config.json");
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .arg("construct")
        .arg("--conf-file")
        .arg(&conf)
        .arg("--output-dir")
        .arg(&out_dir)
        .args(["--graph-name", graph, "--quiet"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "graphprep {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = Command::new(python())
        .arg(repo().join("tests/dgl/check_output.py"))
        .arg("--conf")
        .arg(&conf)
        .arg("--out")
        .arg(&out_dir)
        .args(["--graph-name", graph])
        .args(check_args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        check.status.success(),
        "DGL check failed for graphprep {args:?}:\n{text}"
    );
    assert!(text.contains("check_output: OK"), "{text}");
    common::read_back(&out_dir);
    eprintln!(
        "{sample} {args:?}: {}",
        text.lines()
            .find(|l| l.contains("check_output: OK"))
            .unwrap_or("")
    );
}

#[test]
fn shop_one_partition() {
    construct_and_check("shop", "shop", &[], &[]);
}

#[test]
fn shop_metis_partitions() {
    for p in ["2", "3"] {
        construct_and_check(
            "shop",
            "shop",
            &["--num-parts", p, "--part-method", "metis"],
            &[],
        );
    }
}

#[test]
fn shop_random_partitions_with_reverse_edges() {
    construct_and_check(
        "shop",
        "shop",
        &[
            "--num-parts",
            "4",
            "--part-method",
            "random",
            "--add-reverse-edges",
        ],
        &["--reverse-edges"],
    );
}

#[test]
fn shop_both_formats() {
    construct_and_check(
        "shop",
        "shop",
        &["--output-format", "DGL", "DistDGL"],
        &["--expect-format", "both"],
    );
    construct_and_check(
        "shop",
        "shop",
        &["--output-format", "DGL"],
        &["--expect-format", "DGL"],
    );
}

#[test]
fn homogeneous_graph() {
    construct_and_check("homo", "homo", &[], &[]);
    construct_and_check(
        "homo",
        "homo",
        &[
            "--num-parts",
            "2",
            "--part-method",
            "metis",
            "--add-reverse-edges",
        ],
        &["--reverse-edges"],
    );
}

/// Every numeric/categorical transform plus hard negatives, loaded in real DGL from 2
/// partitions. With METIS the `item` node mapping is not the identity, so the oracle's
/// hard-negative check (raw dst IDs via node_mapping.pt) proves the IDs are in shuffled space;
/// a METIS partition owning no `views` edge also exercises the left-out zero-row features.
#[test]
fn shop_transforms_two_partitions() {
    for method in ["metis", "random"] {
        construct_and_check(
            "shop_transforms",
            "shop",
            &["--num-parts", "2", "--part-method", method],
            &[],
        );
    }
}

/// `--output-format chunked`: the oracle reads `<out>/chunked/` as DGL's dispatch pipeline
/// reads it (edge files concatenated in listed order = edge IDs, data files concatenated =
/// node order) and checks it per raw ID against the input tables, plus the rules the
/// pipeline breaks on silently and the partition assignment's invariants.
#[test]
fn chunked_output_read_as_dgls_pipeline_reads_it() {
    construct_and_check(
        "shop",
        "shop",
        &[
            "--output-format",
            "chunked",
            "--num-parts",
            "3",
            "--chunk-rows",
            "4",
        ],
        &["--expect-format", "chunked", "--num-parts", "3"],
    );
    construct_and_check(
        "shop_transforms",
        "shop",
        &[
            "--output-format",
            "DistDGL",
            "chunked",
            "--num-parts",
            "2",
            "--part-method",
            "random",
            "--add-reverse-edges",
        ],
        &[
            "--expect-format",
            "DistDGL+chunked",
            "--num-parts",
            "2",
            "--reverse-edges",
        ],
    );
    construct_and_check(
        "homo",
        "homo",
        &[
            "--output-format",
            "chunked",
            "--num-parts",
            "2",
            "--chunk-rows",
            "7",
        ],
        &["--expect-format", "chunked", "--num-parts", "2"],
    );
}

/// `graphprep partition` of a real GSProcessing output loads in DGL 2.1 (`DGL_DIST_DEBUG=1`)
/// and carries, per raw ID, the nodes and edges of its input tables with reverse edges
/// (GSProcessing's default); its data arrays are GSProcessing's own (see tests/chunked.rs).
#[test]
fn partition_of_gsprocessing_output_loads_in_dgl() {
    let g = repo().join("../shared/bench/gsprocessing-sample");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("parts");
    for parts in ["1", "3"] {
        let st = Command::new(env!("CARGO_BIN_EXE_graphprep"))
            .args(["partition", "--quiet", "--num-parts", parts, "--input-dir"])
            .arg(g.join("output"))
            .arg("--output-dir")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let check = Command::new(python())
            .arg(repo().join("tests/dgl/check_output.py"))
            .arg("--conf")
            .arg(g.join("input/gconstruct-config.json"))
            .arg("--out")
            .arg(&out)
            .args(["--graph-name", "gsp", "--reverse-edges", "--structure-only"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&check.stdout);
        assert!(
            check.status.success() && text.contains("check_output: OK"),
            "{text}{}",
            String::from_utf8_lossy(&check.stderr)
        );
        eprintln!("gsprocessing sample, {parts} part(s): {}", text.trim());
    }
}
