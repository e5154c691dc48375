//! The two optimizers of a GraphStorm run (spec/training.md §2.9), with exportable state so a
//! checkpoint resumes exactly: dense Adam with `torch.optim.Adam`'s update (coupled L2 weight
//! decay, bias correction folded into the step size), and DGL's lazy sparse Adam for learnable
//! node embeddings (only touched rows, per-row step counts, duplicate indices averaged).

use tch::{Kind, Tensor};

pub const BETA1: f64 = 0.9;
pub const BETA2: f64 = 0.999;
pub const EPS: f64 = 1e-8;

/// `torch.optim.Adam(params, lr, weight_decay)` over a fixed list of parameters.
pub struct Adam {
    pub lr: f64,
    pub weight_decay: f64,
    pub step: i64,
    /// (exp_avg, exp_avg_sq) per parameter, in the parameter order.
    pub state: Vec<(Tensor, Tensor)>,
}

impl Adam {
    pub fn new(params: &[&Tensor], lr: f64, weight_decay: f64) -> Adam {
        let state = params
            .iter()
            .map(|p| (p.zeros_like(), p.zeros_like()))
            .collect();
        Adam {
            lr,
            weight_decay,
            step: 0,
            state,
        }
    }

    /// One step over `params` (whose `.grad()` holds the gradients); parameters without a
    /// gradient are skipped, as torch does.
    pub fn step(&mut self, params: &mut [&mut Tensor]) {
        self.step += 1;
        let t = self.step as f64;
        let bc1 = 1.0 - BETA1.powf(t);
        let bc2 = 1.0 - BETA2.powf(t);
        let step_size = self.lr / bc1;
        tch::no_grad(|| {
            for (p, (m, v)) in params.iter_mut().zip(self.state.iter_mut()) {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let g = if self.weight_decay != 0.0 {
                    &g + &**p * self.weight_decay
                } else {
                    g
                };
                let _ = m.g_mul_scalar_(BETA1).g_add_(&(&g * (1.0 - BETA1)));
                let _ = v.g_mul_scalar_(BETA2).g_add_(&(&g * &g * (1.0 - BETA2)));
                let denom = v.sqrt() / bc2.sqrt() + EPS;
                let upd = &*m / denom * step_size;
                let _ = p.g_sub_(&upd);
            }
        });
    }
}

/// Zeroes (drops) the gradients of `params`.
pub fn zero_grad(params: &mut [&mut Tensor]) {
    for p in params.iter_mut() {
        p.zero_grad();
    }
}

/// `torch.nn.utils.clip_grad_norm_`: scales all gradients so their joint `norm_type`-norm is at
/// most `max_norm`; returns the norm before clipping.
pub fn clip_grad_norm(params: &[&Tensor], max_norm: f64, norm_type: f64) -> f64 {
    tch::no_grad(|| {
        let grads: Vec<Tensor> = params
            .iter()
            .map(|p| p.grad())
            .filter(|g| g.defined())
            .collect();
        if grads.is_empty() {
            return 0.0;
        }
        let total = if norm_type.is_infinite() {
            grads
                .iter()
                .map(|g| g.abs().max().double_value(&[]))
                .fold(0.0, f64::max)
        } else {
            let s: f64 = grads
                .iter()
                .map(|g| {
                    g.abs()
                        .pow_tensor_scalar(norm_type)
                        .sum(Kind::Double)
                        .double_value(&[])
                })
                .sum();
            s.powf(1.0 / norm_type)
        };
        let coef = max_norm / (total + 1e-6);
        if coef < 1.0 {
            for g in &grads {
                let mut g = g.shallow_clone();
                let _ = g.g_mul_scalar_(coef);
            }
        }
        total
    })
}

/// DGL's `SparseAdam` state for one embedding table.
pub struct SparseAdam {
    pub lr: f64,
    /// Per row: number of steps that touched it.
    pub step: Tensor,
    pub mem: Tensor,
    pub power: Tensor,
}

impl SparseAdam {
    pub fn new(table: &Tensor, lr: f64) -> SparseAdam {
        let rows = table.size()[0];
        SparseAdam {
            lr,
            step: Tensor::zeros([rows], (Kind::Float, table.device())),
            mem: table.zeros_like(),
            power: table.zeros_like(),
        }
    }

    /// Applies `grad` (one row per entry of `idx`, duplicates allowed) to `table`.
    pub fn update(&mut self, table: &mut Tensor, idx: &Tensor, grad: &Tensor) {
        let cpu = |t: &Tensor| {
            t.device() == tch::Device::Cpu && t.kind() == Kind::Float && t.is_contiguous()
        };
        if cpu(table) && cpu(&self.step) && cpu(&self.mem) && cpu(&self.power) {
            self.update_cpu(table, idx, grad);
            return;
        }
        tch::no_grad(|| {
            let (uniq, inverse, counts) = idx.internal_unique2(true, true, true);
            let n = uniq.size()[0];
            let dim = grad.size()[1];
            let summed =
                Tensor::zeros([n, dim], (Kind::Float, grad.device())).index_add(0, &inverse, grad);
            let g = summed / counts.to_kind(Kind::Float).unsqueeze(1);
            let step = self.step.index_select(0, &uniq) + 1.0;
            let _ = self.step.index_copy_(0, &uniq, &step);
            let m = self.mem.index_select(0, &uniq) * BETA1 + &g * (1.0 - BETA1);
            let v = self.power.index_select(0, &uniq) * BETA2 + &g * &g * (1.0 - BETA2);
            let _ = self.mem.index_copy_(0, &uniq, &m);
            let _ = self.power.index_copy_(0, &uniq, &v);
            let step = step.unsqueeze(1);
            let bc1 = -(step.shallow_clone() * BETA1.ln()).exp() + 1.0;
            let bc2 = -(step * BETA2.ln()).exp() + 1.0;
            let upd = (&m / bc1) / ((&v / bc2).sqrt() + EPS) * self.lr;
            let rows = table.index_select(0, &uniq) - upd;
            let _ = table.index_copy_(0, &uniq, &rows);
        });
    }

    /// [`SparseAdam::update`] for contiguous float32 CPU tensors: one fused pass over the
    /// touched rows (the tensor version makes ~20 passes over them).
    fn update_cpu(&mut self, table: &mut Tensor, idx: &Tensor, grad: &Tensor) {
        let (Ok(ids), Ok(g)) = (
            Vec::<i64>::try_from(idx),
            Vec::<f32>::try_from(grad.to_kind(Kind::Float).contiguous().flatten(0, -1)),
        ) else {
            return;
        };
        let rows = table.size()[0] as usize;
        let dim = table.size().get(1).copied().unwrap_or(1) as usize;
        let mut order: Vec<(i64, usize)> = ids.iter().copied().zip(0..).collect();
        order.sort_unstable();
        let n = rows * dim;
        // SAFETY: the four tensors are contiguous float32 CPU tensors of `rows` rows (`step`)
        // or `rows × dim` elements (the others), owned by this optimizer and the caller's
        // table; nothing else reads or writes them during this call (the sampler threads never
        // touch model state), and every index is bounds-checked below before use.
        let (p, m, v, st) = unsafe {
            (
                std::slice::from_raw_parts_mut(table.data_ptr() as *mut f32, n),
                std::slice::from_raw_parts_mut(self.mem.data_ptr() as *mut f32, n),
                std::slice::from_raw_parts_mut(self.power.data_ptr() as *mut f32, n),
                std::slice::from_raw_parts_mut(self.step.data_ptr() as *mut f32, rows),
            )
        };
        let (b1, b2, eps) = (BETA1 as f32, BETA2 as f32, EPS as f32);
        let mut avg = vec![0f32; dim];
        let mut i = 0;
        while i < order.len() {
            let r = order[i].0;
            let mut j = i;
            avg.fill(0.0);
            while j < order.len() && order[j].0 == r {
                let pos = order[j].1;
                for (a, x) in avg.iter_mut().zip(&g[pos * dim..(pos + 1) * dim]) {
                    *a += *x;
                }
                j += 1;
            }
            let count = (j - i) as f32;
            i = j;
            if r < 0 || r as usize >= rows {
                continue;
            }
            let r = r as usize;
            st[r] += 1.0;
            let t = st[r];
            let bc1 = 1.0 - (t * b1.ln()).exp();
            let bc2 = 1.0 - (t * b2.ln()).exp();
            let step = self.lr as f32 / bc1;
            let base = r * dim;
            let (pr, mr, vr) = (
                &mut p[base..base + dim],
                &mut m[base..base + dim],
                &mut v[base..base + dim],
            );
            for k in 0..dim {
                let gk = avg[k] / count;
                let mk = b1 * mr[k] + (1.0 - b1) * gk;
                let vk = b2 * vr[k] + (1.0 - b2) * gk * gk;
                mr[k] = mk;
                vr[k] = vk;
                pr[k] -= step * mk / ((vk / bc2).sqrt() + eps);
            }
        }
    }
}
