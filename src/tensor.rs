//! Dense n-dimensional arrays as raw little-endian bytes plus a dtype and a shape.
//!
//! Every node/edge data array (features, labels, masks) travels through the pipeline as a
//! [`Tensor`]: row-major (C order), first axis = rows (one per node or edge). The storage is
//! either owned bytes, a read-only memory map of a spill file, or a byte range of a shared
//! buffer such as a mapped output file that [`crate::format`] read ([`Bytes`]), so writers can
//! gather rows from spilled arrays and readers can hand out tensors without copying them.
//!
//! Views into read files may be unaligned for their dtype (DGL records start wherever the
//! previous name ended): [`Tensor::as_slice`] then says `None`, while [`Tensor::values`] and
//! [`Tensor::get`] work on any storage.

use std::borrow::Cow;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// Element type of a [`Tensor`]. These are the dtypes GraphStorm produces and DGL/torch load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    I8,
    U8,
    I16,
    I32,
    I64,
    F16,
    F32,
    F64,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::I8 | DType::U8 => 1,
            DType::I16 | DType::F16 => 2,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    /// numpy-style name (`"float32"`, `"int8"`, ...), as used in configs and messages.
    pub fn name(self) -> &'static str {
        match self {
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F16 => "float16",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Parses a GraphStorm `out_dtype` value (only the four it accepts).
    pub fn from_out_dtype(s: &str) -> Option<DType> {
        match s {
            "float16" => Some(DType::F16),
            "float32" => Some(DType::F32),
            "float64" => Some(DType::F64),
            "int8" => Some(DType::I8),
            _ => None,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::F32 | DType::F64)
    }
}

/// Read-only byte storage: owned bytes, an owned typed vector (kept as built, so building a
/// tensor from `Vec<f32>` never copies), a memory-mapped spill file, or a range of a shared
/// buffer (a view into a file that a reader mapped once for all its tensors).
pub enum Bytes {
    Owned(Vec<u8>),
    Typed(Box<dyn TypedStorage>),
    Mapped(memmap2::Mmap),
    /// Bytes `range` of a shared buffer; always inside it (checked where it is built).
    Shared {
        buf: Arc<SharedBuf>,
        range: Range<usize>,
    },
    /// A 0/1 int8 matrix stored as the set columns of each row (see [`OneHot`]).
    OneHot(Box<OneHot>),
}

/// A one-/multi-hot int8 matrix (`to_categorical` output) kept as the set columns of each
/// row: 8 B per row + 4 B per set entry instead of `width` bytes per row. Writers expand rows
/// on the fly ([`OneHot::write_row`]); anything that asks for the bytes gets them materialized
/// once (in parallel) and cached.
pub struct OneHot {
    width: usize,
    /// Row `r`'s set columns are `cols[offsets[r]..offsets[r + 1]]`.
    offsets: Vec<u64>,
    cols: Vec<u32>,
    dense: std::sync::OnceLock<Vec<u8>>,
}

impl std::fmt::Debug for OneHot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OneHot({} rows × {})", self.rows(), self.width)
    }
}

impl OneHot {
    /// Panics if `offsets` is empty, not ascending, does not end at `cols.len()`, or a column
    /// is `>= width` (programming errors).
    pub fn new(width: usize, offsets: Vec<u64>, cols: Vec<u32>) -> OneHot {
        assert!(
            offsets.first() == Some(&0)
                && offsets.last() == Some(&(cols.len() as u64))
                && offsets.windows(2).all(|w| w[0] <= w[1]),
            "bad one-hot offsets"
        );
        assert!(
            cols.iter().all(|&c| (c as usize) < width),
            "one-hot column out of range"
        );
        OneHot {
            width,
            offsets,
            cols,
            dense: std::sync::OnceLock::new(),
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Bytes of the compact form (offsets and set columns), not of the dense rows.
    pub fn stored_bytes(&self) -> usize {
        self.offsets.len() * 8 + self.cols.len() * 4
    }

    /// Writes row `r` (`width` bytes of 0/1) into `out`.
    #[inline]
    pub fn write_row(&self, r: usize, out: &mut [u8]) {
        out.fill(0);
        for &c in &self.cols[self.offsets[r] as usize..self.offsets[r + 1] as usize] {
            out[c as usize] = 1;
        }
    }

    fn dense(&self) -> &[u8] {
        self.dense.get_or_init(|| {
            use rayon::prelude::*;
            let mut v = vec![0u8; self.rows() * self.width];
            if self.width > 0 {
                v.par_chunks_mut(self.width)
                    .enumerate()
                    .for_each(|(r, row)| self.write_row(r, row));
            }
            v
        })
    }
}

/// A buffer that many tensors view: a read-only file mapping or bytes on the heap.
pub enum SharedBuf {
    Map(memmap2::Mmap),
    Heap(Vec<u8>),
}

impl Deref for SharedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SharedBuf::Map(m) => m,
            SharedBuf::Heap(v) => v,
        }
    }
}

/// A typed vector viewed as bytes.
pub trait TypedStorage: Send + Sync {
    fn as_bytes(&self) -> &[u8];
}

impl<T: bytemuck::Pod + Send + Sync> TypedStorage for Vec<T> {
    fn as_bytes(&self) -> &[u8] {
        bytemuck::cast_slice(self)
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Typed(t) => t.as_bytes(),
            Bytes::Mapped(m) => m,
            Bytes::Shared { buf, range } => &buf[range.clone()],
            Bytes::OneHot(o) => o.dense(),
        }
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bytes::Owned(v) => write!(f, "Owned({} bytes)", v.len()),
            Bytes::Typed(t) => write!(f, "Typed({} bytes)", t.as_bytes().len()),
            Bytes::Mapped(m) => write!(f, "Mapped({} bytes)", m.len()),
            Bytes::Shared { range, .. } => write!(f, "Shared({} bytes)", range.len()),
            Bytes::OneHot(o) => o.fmt(f),
        }
    }
}

/// A row-major array. `data.len() == shape.iter().product() * dtype.size()` always holds.
#[derive(Debug)]
pub struct Tensor {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: Bytes,
}

/// Element types that can be viewed as a [`Tensor`]'s storage.
pub trait Element: bytemuck::Pod + Send + Sync {
    const DTYPE: DType;
}
macro_rules! element {
    ($t:ty, $d:expr) => {
        impl Element for $t {
            const DTYPE: DType = $d;
        }
    };
}
element!(i8, DType::I8);
element!(u8, DType::U8);
element!(i16, DType::I16);
element!(i32, DType::I32);
element!(i64, DType::I64);
element!(half::f16, DType::F16);
element!(f32, DType::F32);
element!(f64, DType::F64);

impl Tensor {
    /// Builds a tensor from typed values. Panics if `shape` does not match `values.len()`
    /// (a programming error, never user input).
    pub fn from_vec<T: Element>(shape: Vec<usize>, values: Vec<T>) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            values.len(),
            "shape/len mismatch"
        );
        let data = match bytemuck::allocation::try_cast_vec::<T, u8>(values) {
            Ok(v) => Bytes::Owned(v),
            Err((_, v)) => Bytes::Typed(Box::new(v)),
        };
        Tensor {
            dtype: T::DTYPE,
            shape,
            data,
        }
    }

    /// An int8 `(rows, width)` one-/multi-hot tensor in its compact form.
    pub fn one_hot(o: OneHot) -> Tensor {
        Tensor {
            dtype: DType::I8,
            shape: vec![o.rows(), o.width],
            data: Bytes::OneHot(Box::new(o)),
        }
    }

    /// 1-D tensor.
    pub fn from_1d<T: Element>(values: Vec<T>) -> Tensor {
        let n = values.len();
        Tensor::from_vec(vec![n], values)
    }

    /// Raw bytes, row-major, little-endian.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Typed view; `None` if `T` is not this tensor's dtype or the storage is misaligned.
    pub fn as_slice<T: Element>(&self) -> Option<&[T]> {
        if T::DTYPE != self.dtype {
            return None;
        }
        if self.data.is_empty() {
            // An empty Vec<u8> has an unaligned dangling pointer; its typed view is just empty.
            return Some(&[]);
        }
        bytemuck::try_cast_slice(&self.data).ok()
    }

    /// The values as `T`, whatever the storage's alignment: borrowed when the bytes are aligned
    /// for `T`, copied otherwise. `None` if `T` is not this tensor's dtype.
    pub fn values<T: Element>(&self) -> Option<Cow<'_, [T]>> {
        if T::DTYPE != self.dtype {
            return None;
        }
        Some(match self.as_slice::<T>() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(
                self.bytes()
                    .chunks_exact(std::mem::size_of::<T>())
                    .map(bytemuck::pod_read_unaligned)
                    .collect(),
            ),
        })
    }

    /// The values as `T` one by one (unaligned loads: no copy of the storage, whatever its
    /// alignment). `None` if `T` is not this tensor's dtype.
    pub fn iter_values<T: Element>(&self) -> Option<impl Iterator<Item = T> + '_> {
        (T::DTYPE == self.dtype).then(|| {
            self.bytes()
                .chunks_exact(std::mem::size_of::<T>())
                .map(bytemuck::pod_read_unaligned)
        })
    }

    /// Element `i` (row-major, counting all elements) as `T`, from any storage alignment.
    /// `None` if `T` is not this tensor's dtype or `i` is out of range.
    #[inline]
    pub fn get<T: Element>(&self, i: usize) -> Option<T> {
        if T::DTYPE != self.dtype {
            return None;
        }
        let n = std::mem::size_of::<T>();
        let b = self
            .bytes()
            .get(i.checked_mul(n)?..(i + 1).checked_mul(n)?)?;
        Some(bytemuck::pod_read_unaligned(b))
    }

    /// Number of rows (first axis); 0-dim tensors are never built.
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// Elements per row (product of the trailing axes).
    pub fn row_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// Bytes per row.
    pub fn row_bytes(&self) -> usize {
        self.row_len() * self.dtype.size()
    }

    /// New tensor holding rows `idx[0], idx[1], ...` of `self`, in that order.
    pub fn gather_rows(&self, idx: &[usize]) -> Tensor {
        let rb = self.row_bytes();
        let src = self.bytes();
        let mut out = Vec::with_capacity(idx.len() * rb);
        for &i in idx {
            out.extend_from_slice(&src[i * rb..(i + 1) * rb]);
        }
        let mut shape = self.shape.clone();
        shape[0] = idx.len();
        Tensor {
            dtype: self.dtype,
            shape,
            data: Bytes::Owned(out),
        }
    }

    /// Whether the storage is a memory-mapped spill file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.data, Bytes::Mapped(_))
    }

    /// Whether the storage is a view into a buffer shared with other tensors (for example a
    /// file mapped by a reader).
    pub fn is_shared_view(&self) -> bool {
        matches!(self.data, Bytes::Shared { .. })
    }

    /// For spilled or read (memory-mapped) tensors: drops the whole pages inside byte range `r` from
    /// this process's resident set (they stay in the page cache and the spill file; a later
    /// read faults them in again). No-op for in-memory storage.
    pub fn release(&self, r: std::ops::Range<usize>) {
        let b = match &self.data {
            Bytes::Mapped(m) => &m[r],
            Bytes::Shared { buf, range } if matches!(**buf, SharedBuf::Map(_)) => {
                &buf[range.start + r.start..range.start + r.end]
            }
            _ => return,
        };
        // SAFETY: `b` lies inside a shared, read-only file mapping (a spill file, or a file a
        // reader mapped with `format::map_file`), so dropping its pages loses no data.
        unsafe { release_pages(b.as_ptr(), b.len()) }
    }

    /// Stacks tensors with equal dtype and trailing shape along the first axis.
    pub fn concat_rows(parts: &[Tensor]) -> Option<Tensor> {
        let first = parts.first()?;
        let mut rows = 0;
        let mut data = Vec::new();
        for p in parts {
            if p.dtype != first.dtype || p.shape[1..] != first.shape[1..] {
                return None;
            }
            rows += p.rows();
            data.extend_from_slice(p.bytes());
        }
        let mut shape = first.shape.clone();
        shape[0] = rows;
        Some(Tensor {
            dtype: first.dtype,
            shape,
            data: Bytes::Owned(data),
        })
    }
}

/// `madvise(MADV_DONTNEED)` on the whole pages inside `[ptr, ptr + len)`.
///
/// # Safety
/// The range must lie inside a `MAP_SHARED` file mapping: there the call only drops page-table
/// entries and the data stays in the file, while on anonymous memory it would zero the pages.
unsafe fn release_pages(ptr: *const u8, len: usize) {
    const PAGE: usize = 4096;
    let start = (ptr as usize).div_ceil(PAGE) * PAGE;
    let end = (ptr as usize + len) / PAGE * PAGE;
    if end > start {
        // Errors are harmless here (the pages just stay resident).
        // SAFETY: whole pages inside the caller's shared file mapping (see above).
        let _ =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_materializes_like_dense() {
        let t = Tensor::one_hot(OneHot::new(4, vec![0, 1, 1, 3], vec![2, 0, 3]));
        assert_eq!(t.shape, vec![3, 4]);
        assert_eq!(
            t.as_slice::<i8>().unwrap(),
            &[0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1]
        );
        assert_eq!(t.gather_rows(&[2]).bytes(), &[1, 0, 0, 1]);
    }

    #[test]
    fn gather_and_concat() {
        let t = Tensor::from_vec(vec![3, 2], vec![1f32, 2., 3., 4., 5., 6.]);
        let g = t.gather_rows(&[2, 0]);
        assert_eq!(g.shape, vec![2, 2]);
        assert_eq!(g.as_slice::<f32>().unwrap(), &[5., 6., 1., 2.]);
        let c = Tensor::concat_rows(&[g, t]).unwrap();
        assert_eq!(c.rows(), 5);
        assert!(c.as_slice::<i64>().is_none());
    }
}
