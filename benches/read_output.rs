//! Reader cost of `dataset::distdgl` (the Rust side of `benches/read_compare.sh`): opens every
//! partition of an output (partition JSON, `graph.dgl`, `node_feat.dgl`, `edge_feat.dgl`, all
//! memory-mapped and header-checked) and then touches every feature row, summing every element
//! as float64 so every payload byte is read, like `benches/read_dgl.py` does with real DGL.
//! Pages are released behind the cursor (8 MiB at a time), so peak RSS stays at the reader's
//! own footprint instead of growing with the mapped file.
//!
//!     cargo bench --bench read_output -- OUTPUT_DIR_OR_PARTITION_JSON
//!
//! Prints `read_output: parts=P open_s=X touch_s=Y total_s=Z feat_bytes=B checksum=C`.
//! Without a path (as `cargo test --release --all-targets` runs it) it only prints its usage.

use std::path::PathBuf;
use std::time::Instant;

use graphprep::dataset::distdgl;
use graphprep::tensor::{DType, Tensor};

/// Bytes touched between page releases.
const SPAN: usize = 8 << 20;

/// NaN-skipping float64 sum of every element (every byte of the payload is read), releasing
/// the mapped pages behind the cursor as a streaming consumer does.
fn checksum(t: &Tensor) -> f64 {
    fn sum<T: graphprep::tensor::Element>(t: &Tensor, f: impl Fn(T) -> f64) -> f64 {
        let size = std::mem::size_of::<T>();
        let per = (SPAN / size).max(1);
        let n = t.bytes().len() / size;
        let mut acc = 0.0;
        let mut i = 0;
        while i < n {
            let m = per.min(n - i);
            let block = &t.bytes()[i * size..(i + m) * size];
            acc += block
                .chunks_exact(size)
                .map(|c| f(bytemuck::pod_read_unaligned(c)))
                .filter(|x| !x.is_nan())
                .sum::<f64>();
            t.release(i * size..(i + m) * size);
            i += m;
        }
        acc
    }
    match t.dtype {
        DType::I8 => sum::<i8>(t, f64::from),
        DType::U8 => sum::<u8>(t, f64::from),
        DType::I16 => sum::<i16>(t, f64::from),
        DType::I32 => sum::<i32>(t, f64::from),
        DType::I64 => sum::<i64>(t, |x| x as f64),
        DType::F16 => sum::<half::f16>(t, f64::from),
        DType::F32 => sum::<f32>(t, f64::from),
        DType::F64 => sum::<f64>(t, |x| x),
    }
}

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from);
    let Some(path) = path else {
        println!("usage: cargo bench --bench read_output -- OUTPUT_DIR_OR_PARTITION_JSON");
        return;
    };
    let t0 = Instant::now();
    let out = match distdgl::open(&path) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let parts: Vec<_> = (0..out.num_parts())
        .map(|p| {
            out.partition(p).unwrap_or_else(|e| {
                eprintln!("error: {e}");
                std::process::exit(1)
            })
        })
        .collect();
    let open_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let (mut bytes, mut total) = (0usize, 0f64);
    for part in &parts {
        for (_, _, t) in part.all_node_feats().chain(part.all_edge_feats()) {
            bytes += t.bytes().len();
            total += checksum(t);
        }
    }
    let touch_s = t1.elapsed().as_secs_f64();
    println!(
        "read_output: parts={} open_s={open_s:.3} touch_s={touch_s:.3} total_s={:.3} feat_bytes={bytes} checksum={total:.6e}",
        parts.len(),
        open_s + touch_s
    );
}
