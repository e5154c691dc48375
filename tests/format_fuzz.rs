//! Fuzz-style property test of the readers of graphprep's own output: real output files of the
//! sample graphs (written by the binary) are truncated at random points and have random bytes
//! flipped, then read back through `format::*::read_*` and through `dataset::distdgl` (open,
//! every partition, CSC, every feature row touched). Every outcome must be `Ok` or a typed
//! error; a panic or an out-of-bounds read fails the test. Corruptions that leave a file
//! readable (a flipped feature byte) are fine: the readers check structure, not payload values.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use graphprep::dataset::distdgl;
use graphprep::format::{dgl, partition_json::PartitionConfig, pt};
use proptest::prelude::*;

/// Output dirs built once per test process: shop with 2 random partitions and reverse edges,
/// and the homogeneous graph in 1 partition.
fn outputs() -> &'static Vec<PathBuf> {
    static OUT: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    &OUT.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let shop = tmp.path().join("shop");
        common::construct(
            &common::repo().join("sample_data/shop/config.json"),
            &shop,
            &[
                "--num-parts",
                "2",
                "--part-method",
                "random",
                "--add-reverse-edges",
            ],
        );
        let homo = tmp.path().join("homo");
        let conf = common::repo().join("sample_data/homo/config.json");
        common::construct_named(&conf, &homo, "homo", &[]);
        (tmp, vec![shop, homo])
    })
    .1
}

/// Every reader-facing file of the outputs (relative to its output dir).
fn files() -> Vec<(PathBuf, PathBuf)> {
    let mut v = Vec::new();
    for out in outputs() {
        for (rel, _) in common::files(out) {
            let name = rel.to_string_lossy().to_string();
            let keep = name.ends_with(".dgl")
                || name.ends_with(".pt")
                || (name.ends_with(".json") && !name.contains('/') && !name.starts_with("data_"));
            if keep && !name.ends_with("_stats.json") {
                v.push((out.clone(), rel));
            }
        }
    }
    v.sort();
    v
}

/// Reads every byte of a tensor.
fn touch(t: &graphprep::tensor::Tensor) {
    let _: u64 = t.bytes().iter().map(|&b| u64::from(b)).sum();
}

/// Parses `bytes` as the format its name says; touches every array so lazy views are read.
fn read_as(name: &Path, bytes: &[u8]) -> bool {
    let n = name.to_string_lossy();
    if n.ends_with("graph.dgl") {
        match dgl::read_graph(bytes) {
            Ok(g) => {
                for rel in &g.relations {
                    if let Some((_, coo)) = &rel.coo {
                        let _: i64 = coo.row.iter().chain(coo.col.iter()).sum();
                    }
                }
                for list in g.node_data.iter().chain(&g.edge_data) {
                    list.iter().for_each(|(_, t)| touch(t));
                }
                true
            }
            Err(e) => {
                assert!(!e.msg.is_empty() && e.offset <= bytes.len() as u64, "{e}");
                false
            }
        }
    } else if n.ends_with(".dgl") {
        match dgl::read_tensor_dict(bytes) {
            Ok(list) => {
                list.iter().for_each(|(_, t)| touch(t));
                true
            }
            Err(e) => {
                assert!(e.offset <= bytes.len() as u64, "{e}");
                false
            }
        }
    } else if n.ends_with(".pt") {
        match pt::read_pt(bytes) {
            Ok(pt::PtContent::Tensor(t)) => {
                touch(&t);
                true
            }
            Ok(pt::PtContent::Dict(d)) => {
                d.iter().for_each(|(_, t)| touch(t));
                true
            }
            Err(e) => {
                assert!(e.offset <= bytes.len() as u64, "{e}");
                false
            }
        }
    } else {
        let text = String::from_utf8_lossy(bytes);
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => PartitionConfig::from_value(&v).is_ok(),
            Err(_) => false,
        }
    }
}

/// Copies the output dir holding `rel`, writes `bytes` over `rel` and reads the whole copy
/// through the dataset door.
fn open_corrupted(out: &Path, rel: &Path, bytes: &[u8]) {
    let tmp = tempfile::tempdir().unwrap();
    for (r, b) in common::files(out) {
        let p = tmp.path().join(&r);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, if r == rel { bytes } else { &b[..] }).unwrap();
    }
    let Ok(o) = distdgl::open(tmp.path()) else {
        return;
    };
    let _ = o.node_mapping();
    let _ = o.edge_mapping();
    for p in 0..o.num_parts() {
        let Ok(part) = o.partition(p) else {
            continue;
        };
        let _ = part.csc();
        for j in 0..part.num_edges() {
            let _ = (part.src().get(j), part.dst().get(j), part.global_eid(j));
        }
        part.all_node_feats()
            .chain(part.all_edge_feats())
            .for_each(|(_, _, t)| touch(t));
    }
}

#[test]
fn every_real_file_reads_back() {
    let fs = files();
    assert!(fs.len() >= 10, "{fs:?}");
    for (out, rel) in &fs {
        let bytes = std::fs::read(out.join(rel)).unwrap();
        assert!(read_as(rel, &bytes), "{} does not read back", rel.display());
        // Every proper prefix of a binary file is an error, never a panic.
        if !rel.to_string_lossy().ends_with(".json") {
            for cut in [0, 1, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
                if cut < bytes.len() {
                    assert!(
                        !read_as(rel, &bytes[..cut]),
                        "{} cut at {cut} read",
                        rel.display()
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn truncations_and_flips_never_panic(
        pick in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 0..4),
        whole_dir in any::<bool>(),
    ) {
        let fs = files();
        let (out, rel) = &fs[pick.index(fs.len())];
        let mut bytes = std::fs::read(out.join(rel)).unwrap();
        if flips.is_empty() {
            let at = cut.index(bytes.len());
            bytes.truncate(at);
        }
        for (at, x) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        read_as(rel, &bytes);
        if whole_dir {
            open_corrupted(out, rel, &bytes);
        }
    }
}
