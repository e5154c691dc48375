//! Test-only: writes sample outputs of every writer for checks with real DGL / torch.
//!
//! `GRAPHPREP_SAMPLE_OUT=/tmp/out cargo test --lib writers::sample_output -- --ignored`
//! writes, for a synthetic heterogeneous graph (`het`) and a homogeneous one (`homo`):
//! `<out>/<g>/source.json` (the source graph: types, edges, data values), `<out>/<g>/dgl/<g>.dgl`
//! (`write_dgl_graph`) and `<out>/<g>/p<P>/` (`write_distdgl`, P = 1 and 3), plus
//! `<out>/zip64.pt` (a mapping file with forced ZIP64 records). A Python script then loads them
//! with DGL (`verify_partition.py --orig`, `dgl.load_graphs`, `torch.load`).
//!
//! Memory/parallelism: tiny graphs; the writers use the ambient rayon pool.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::format::array::{ArraySource, Ids};
use crate::format::pt::{self, PtKey, PtObject};
use crate::graph::{CanonicalEtype, EdgeList, Graph, GraphParts, NamedTensor};
use crate::partition::Assignment;
use crate::tensor::{DType, Tensor};
use crate::writers::{write_dgl_graph, write_distdgl, DistDglOptions};

fn tensor_json(t: &Tensor) -> Value {
    let b = t.bytes();
    let values: Vec<Value> = match t.dtype {
        DType::F32 => b
            .chunks_exact(4)
            .map(|c| json!(f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
            .collect(),
        DType::F64 => b
            .chunks_exact(8)
            .map(|c| json!(f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))))
            .collect(),
        DType::I64 => b
            .chunks_exact(8)
            .map(|c| json!(i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))))
            .collect(),
        DType::I32 => b
            .chunks_exact(4)
            .map(|c| json!(i32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
            .collect(),
        DType::U8 => b.iter().map(|&x| json!(x)).collect(),
        DType::I8 => b.iter().map(|&x| json!(x as i8)).collect(),
        d => panic!("sample graphs do not use {}", d.name()),
    };
    json!({"dtype": t.dtype.name(), "shape": t.shape, "values": values})
}

fn source_json(g: &Graph) -> Value {
    let data = |names: &[String], lists: &[Vec<NamedTensor>]| -> Value {
        let mut m = serde_json::Map::new();
        for (n, l) in names.iter().zip(lists) {
            let mut d = serde_json::Map::new();
            for nt in l {
                d.insert(nt.name.clone(), tensor_json(&nt.tensor));
            }
            m.insert(n.clone(), Value::Object(d));
        }
        Value::Object(m)
    };
    let ekeys: Vec<String> = g.etypes().iter().map(|e| e.colon_key()).collect();
    json!({
        "ntypes": g.ntypes(),
        "num_nodes": g.num_nodes(),
        "etypes": g.etypes().iter().map(|e| [&e.src, &e.rel, &e.dst]).collect::<Vec<_>>(),
        "edges": g.edges().iter().map(|e| [&e.src, &e.dst]).collect::<Vec<_>>(),
        "node_data": data(g.ntypes(), g.node_data()),
        "edge_data": data(&ekeys, g.edge_data()),
        "hard_negatives": g.hard_negatives(),
        "is_homogeneous": g.is_homogeneous(),
    })
}

fn random_edges(rng: &mut ChaCha8Rng, n: usize, ns: u64, nd: u64) -> EdgeList {
    EdgeList {
        src: (0..n).map(|_| rng.random_range(0..ns) as u32).collect(),
        dst: (0..n).map(|_| rng.random_range(0..nd) as u32).collect(),
    }
}

fn named(name: &str, tensor: Tensor) -> NamedTensor {
    NamedTensor {
        name: name.into(),
        tensor,
    }
}

/// item(30), user(50), zzz(3, no edges, no data); three relations; features of several
/// dtypes; hard negatives (user IDs, `-1` padded) on `user:follows:user`.
fn hetero(rng: &mut ChaCha8Rng) -> Graph {
    let etypes = vec![
        CanonicalEtype::new("item", "rev", "user"),
        CanonicalEtype::new("user", "clicks", "item"),
        CanonicalEtype::new("user", "follows", "user"),
    ];
    let edges = vec![
        random_edges(rng, 70, 30, 50),
        random_edges(rng, 120, 50, 30),
        random_edges(rng, 90, 50, 50),
    ];
    let hn: Vec<i64> = (0..90 * 3)
        .map(|i| {
            if i % 4 == 3 {
                -1
            } else {
                rng.random_range(0..50)
            }
        })
        .collect();
    Graph::new(GraphParts {
        ntypes: vec!["item".into(), "user".into(), "zzz".into()],
        num_nodes: vec![30, 50, 3],
        etypes,
        edges,
        node_data: vec![
            vec![named(
                "label",
                Tensor::from_1d((0..30).map(|_| rng.random_range(0..5i64)).collect()),
            )],
            vec![
                named(
                    "feat",
                    Tensor::from_vec(
                        vec![50, 4],
                        (0..200).map(|i| i as f32 * 0.25 - 7.0).collect(),
                    ),
                ),
                named(
                    "train_mask",
                    Tensor::from_1d((0..50).map(|i| u8::from(i % 3 == 0)).collect()),
                ),
            ],
            vec![],
        ],
        edge_data: vec![
            vec![],
            vec![named(
                "w",
                Tensor::from_1d((0..120).map(|i| i as f32 * 0.5).collect()),
            )],
            vec![
                named("hard_neg", Tensor::from_vec(vec![90, 3], hn)),
                named("ts", Tensor::from_1d((0..90).collect::<Vec<i32>>())),
            ],
        ],
        hard_negatives: vec![vec![], vec![], vec!["hard_neg".into()]],
        is_homogeneous: false,
    })
    .expect("consistent graph")
}

fn homogeneous(rng: &mut ChaCha8Rng) -> Graph {
    Graph::new(GraphParts {
        ntypes: vec!["_N".into()],
        num_nodes: vec![60],
        etypes: vec![CanonicalEtype::new("_N", "_E", "_N")],
        edges: vec![random_edges(rng, 300, 60, 60)],
        node_data: vec![vec![named(
            "feat",
            Tensor::from_vec(vec![60, 3], (0..180).map(|i| i as f32 - 90.0).collect()),
        )]],
        edge_data: vec![vec![named(
            "ew",
            Tensor::from_1d((0..300).map(|i| f64::from(i) / 8.0).collect()),
        )]],
        hard_negatives: vec![vec![]],
        is_homogeneous: true,
    })
    .expect("consistent graph")
}

/// Random assignment that puts at least one node of every type with data in every partition.
fn assignment(rng: &mut ChaCha8Rng, g: &Graph, num_parts: u32) -> Assignment {
    let node_part = g
        .num_nodes()
        .iter()
        .map(|&n| {
            (0..n)
                .map(|i| {
                    if i < u64::from(num_parts) {
                        i as u32
                    } else {
                        rng.random_range(0..num_parts)
                    }
                })
                .collect()
        })
        .collect();
    Assignment {
        num_parts,
        node_part,
    }
}

fn write_samples(out: &Path) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for (name, g) in [("het", hetero(&mut rng)), ("homo", homogeneous(&mut rng))] {
        let gdir = out.join(name);
        std::fs::create_dir_all(gdir.join("dgl")).unwrap();
        std::fs::write(gdir.join("source.json"), source_json(&g).to_string()).unwrap();
        write_dgl_graph(&gdir.join("dgl").join(format!("{name}.dgl")), &g).unwrap();
        for parts in [1, 3] {
            let asg = assignment(&mut rng, &g, parts);
            let mut opts = DistDglOptions::new(name, if parts == 1 { "None" } else { "random" });
            opts.write_orig_ids = true;
            let layout = write_distdgl(&gdir.join(format!("p{parts}")), &g, &asg, &opts).unwrap();
            eprintln!("{name} P={parts}: {:?}", layout.parts);
        }
    }
    let a: Vec<u32> = (0..1000).rev().collect();
    let b = [5i64, -3, 1 << 40];
    let obj = PtObject::Dict(vec![
        (PtKey::Str("a"), ArraySource::ids(Ids::U32(&a))),
        (PtKey::Tuple3("x", "y", "z"), ArraySource::slice(&b)),
    ]);
    pt::save_pt_forced_zip64(&out.join("zip64.pt"), &obj).unwrap();
    let f = Tensor::from_vec(vec![2, 3], vec![1f32, 2., 3., 4., 5., 6.]);
    pt::save_pt(
        &out.join("float2d.pt"),
        &PtObject::Tensor(ArraySource::tensor(&f)),
    )
    .unwrap();
}

#[test]
#[ignore = "writes sample files for checks with real DGL; set GRAPHPREP_SAMPLE_OUT"]
fn sample_outputs() {
    let Ok(out) = std::env::var("GRAPHPREP_SAMPLE_OUT") else {
        eprintln!("GRAPHPREP_SAMPLE_OUT not set; nothing written");
        return;
    };
    write_samples(Path::new(&out));
}
