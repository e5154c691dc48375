//! Criterion benches of the hot kernels: ID-map build and lookup (string IDs), symmetric CSR
//! construction, the no-op feature path over a vector column, and DistDGL partition writing.
//! Inputs are synthetic and seeded; sizes are products-0.1-like but smaller so a run stays short.
//! Run with `cargo bench --bench kernels`; `cargo test --release --all-targets` runs each once as a smoke test.

use std::sync::Arc;

use arrow::array::{ArrayRef, FixedSizeListArray, Float32Array, StringArray};
use arrow::datatypes::{DataType, Field};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use graphprep::config::plan::{FeatureSpec, Transform};
use graphprep::features::{compute_feature, FeatureCtx, FileColumns};
use graphprep::graph::{CanonicalEtype, EdgeList, Graph, GraphParts, NamedTensor};
use graphprep::idmap::{IdMap, RawIds, StrArena};
use graphprep::partition::{csr::build_symmetric_csr, random_partition};
use graphprep::tensor::Tensor;
use graphprep::writers::distdgl::{write_distdgl, DistDglOptions};

/// Deterministic xorshift generator (benches need no statistical quality).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const NODES: usize = 200_000;
const EDGES: usize = 2_000_000;

fn ids() -> Vec<String> {
    (0..NODES)
        .map(|i| format!("p{:09}", (i * 7919) % NODES))
        .collect()
}

fn graph() -> Graph {
    let mut r = Rng(42);
    let src: Vec<u32> = (0..EDGES).map(|_| r.below(NODES as u64) as u32).collect();
    let dst: Vec<u32> = (0..EDGES).map(|_| r.below(NODES as u64) as u32).collect();
    let feat: Vec<f32> = (0..NODES * 16).map(|i| i as f32).collect();
    Graph::new(GraphParts {
        ntypes: vec!["product".into()],
        num_nodes: vec![NODES as u64],
        etypes: vec![CanonicalEtype::new("product", "co", "product")],
        edges: vec![EdgeList { src, dst }],
        node_data: vec![vec![NamedTensor {
            name: "feat".into(),
            tensor: Tensor::from_vec(vec![NODES, 16], feat),
        }]],
        edge_data: vec![vec![]],
        hard_negatives: vec![vec![]],
        is_homogeneous: false,
    })
    .expect("consistent graph")
}

fn bench_idmap(c: &mut Criterion) {
    let ids = ids();
    let mut g = c.benchmark_group("idmap");
    g.throughput(Throughput::Elements(NODES as u64));
    g.sample_size(10);
    let arena = || {
        let mut a = StrArena::new();
        for s in &ids {
            a.push(s);
        }
        RawIds::Str(a)
    };
    g.bench_function("build 200K string ids", |b| {
        b.iter_batched(
            arena,
            |raw| IdMap::from_node_ids(raw, false).map(|m| m.len()).ok(),
            BatchSize::LargeInput,
        )
    });
    let map = IdMap::from_node_ids(arena(), false).expect("unique ids");
    let col: ArrayRef = Arc::new(StringArray::from_iter_values(ids.iter().rev()));
    g.bench_function("lookup 200K string ids", |b| {
        b.iter(|| {
            map.lookup_array(&col, std::path::Path::new("bench"), "id")
                .map(|v| v.len())
        })
    });
    g.finish();
}

fn bench_csr(c: &mut Criterion) {
    let graph = graph();
    let mut g = c.benchmark_group("csr");
    g.throughput(Throughput::Elements(EDGES as u64));
    g.sample_size(10);
    g.bench_function("symmetric dedup CSR, 2M edges", |b| {
        b.iter(|| build_symmetric_csr(&graph).map(|c| c.num_vertices()))
    });
    g.finish();
}

fn bench_noop(c: &mut Criterion) {
    let values = Float32Array::from_iter_values((0..NODES * 100).map(|i| i as f32 * 0.5));
    let list = FixedSizeListArray::new(
        Arc::new(Field::new("item", DataType::Float32, true)),
        100,
        Arc::new(values),
        None,
    );
    let col: ArrayRef = Arc::new(list);
    let spec = FeatureSpec {
        json_path: "nodes[0].features[0]".into(),
        columns: vec!["feat".into()],
        name: "feat".into(),
        out_dtype: None,
        transform: Transform::Noop {
            separator: None,
            truncate_dim: None,
        },
        feature_dim: None,
    };
    let path = std::path::PathBuf::from("bench.parquet");
    let ctx = FeatureCtx {
        validate: true,
        dst_ids: None,
        store: None,
        lm: Default::default(),
        progress: None,
    };
    let mut g = c.benchmark_group("features");
    g.throughput(Throughput::Elements(NODES as u64));
    g.sample_size(10);
    g.bench_function("no-op 200K x 100 float32 vectors", |b| {
        b.iter(|| {
            let files = [FileColumns {
                path: &path,
                columns: vec![col.clone()],
            }];
            compute_feature(&spec, &files, &ctx).map(|o| o.tensors.len())
        })
    });
    // to_categorical over 5000 categories (compact one-hot), then expanding it as the writers do.
    let mut rng = Rng(7);
    let brands: ArrayRef = Arc::new(arrow::array::StringArray::from_iter_values(
        (0..NODES).map(|_| format!("brand-{}", rng.below(5000))),
    ));
    let cat = FeatureSpec {
        json_path: "nodes[0].features[1]".into(),
        columns: vec!["brand".into()],
        name: "brand".into(),
        out_dtype: None,
        transform: Transform::Categorical {
            separator: None,
            mapping: None,
        },
        feature_dim: None,
    };
    let files = [FileColumns {
        path: &path,
        columns: vec![brands.clone()],
    }];
    g.bench_function("to_categorical 200K rows, 5000 categories", |b| {
        b.iter(|| compute_feature(&cat, &files, &ctx).map(|o| o.tensors.len()))
    });
    let onehot = compute_feature(&cat, &files, &ctx).expect("categorical");
    let t = &onehot.tensors[0].tensor;
    g.bench_function("expand 200K x 5000 one-hot rows for writing", |b| {
        b.iter(|| {
            let mut n = 0usize;
            graphprep::format::array::ArraySource::tensor(t)
                .for_each_chunk(|c| {
                    n += c.len();
                    Ok(())
                })
                .map(|_| n)
        })
    });
    g.finish();
}

fn bench_writer(c: &mut Criterion) {
    let graph = graph();
    let asg = random_partition(&graph, 2, 1);
    let mut g = c.benchmark_group("writers");
    g.throughput(Throughput::Elements(EDGES as u64));
    g.sample_size(10);
    g.bench_function("DistDGL 2 partitions, 2M edges", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("tempdir"),
            |dir| {
                write_distdgl(
                    dir.path(),
                    &graph,
                    &asg,
                    &DistDglOptions::new("bench", "random"),
                )
                .map(|l| l.num_parts())
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(kernels, bench_idmap, bench_csr, bench_noop, bench_writer);
criterion_main!(kernels);
