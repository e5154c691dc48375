//! `torch.save`-compatible `.pt` files (spec `distdgl-format.md` §8.1): a bare tensor, a dict
//! `str → tensor`, or a dict `(str, str, str) → tensor`. Used for `node_mapping.pt` and
//! `edge_mapping.pt`; they load with `torch.load(path, weights_only=True)` and `mmap=True`.
//!
//! Layout: a ZIP archive of STORED entries under one top-level folder `<archive>/`:
//! `data.pkl` (pickle protocol 2 that rebuilds each tensor with
//! `torch._utils._rebuild_tensor_v2` from a persistent-ID storage), `byteorder` (`little`),
//! `data/<k>` (raw little-endian storage bytes of tensor k) and `version` (`3\n`). Like torch,
//! every entry's data starts 64-byte aligned: the local header carries an extra field `FB`
//! of `Z` padding bytes. ZIP64 records are used only when an entry or an offset reaches
//! 4 GiB (or 65535 entries).
//!
//! Algorithm: one sequential pass. Each tensor payload is read twice from the caller's arrays:
//! once to compute its CRC-32 (crc32fast), once to write it, so no data descriptor is needed
//! and nothing is buffered.
//!
//! # Memory
//! O(number of entries + pickle size) besides the 64 KiB chunk buffers; payloads are streamed.
//!
//! Reading ([`read_pt`], [`load_pt`]) walks the zip's central directory (ZIP64 included) and
//! runs a small pickle machine that knows only what `torch.save` emits for tensors and dicts
//! of tensors: it builds strings, ints, tuples, lists, dicts, `OrderedDict()` and
//! `torch._utils._rebuild_tensor_v2` over persistent-ID storages, and refuses every other
//! global by name. Nothing is executed, so an untrusted `.pt` cannot run code; tensors are
//! views into the mapped file (no payload is copied).
//!
//! Parallelism: none (one file is one sequential stream).

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use super::array::ArraySource;
use super::{map_file, ByteCursor, FormatError, ParseResult};
use crate::error::Result;
use crate::tensor::{Bytes, DType, SharedBuf, Tensor};

/// A dict key of a `.pt` mapping file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PtKey<'a> {
    /// A node type name.
    Str(&'a str),
    /// A canonical edge type `(src, rel, dst)`.
    Tuple3(&'a str, &'a str, &'a str),
}

/// The object to pickle.
#[derive(Clone, Debug)]
pub enum PtObject<'a> {
    /// A bare tensor (homogeneous graphs).
    Tensor(ArraySource<'a>),
    /// A dict, written in the given key order.
    Dict(Vec<(PtKey<'a>, ArraySource<'a>)>),
}

/// The torch storage class that `torch.save` pickles for a dtype.
pub fn torch_storage(dtype: DType) -> &'static str {
    match dtype {
        DType::I8 => "CharStorage",
        DType::U8 => "ByteStorage",
        DType::I16 => "ShortStorage",
        DType::I32 => "IntStorage",
        DType::I64 => "LongStorage",
        DType::F16 => "HalfStorage",
        DType::F32 => "FloatStorage",
        DType::F64 => "DoubleStorage",
    }
}

/// The dtype of a torch storage class name (the inverse of [`torch_storage`]).
pub fn dtype_from_storage(name: &str) -> Option<DType> {
    [
        DType::I8,
        DType::U8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::F16,
        DType::F32,
        DType::F64,
    ]
    .into_iter()
    .find(|&d| torch_storage(d) == name)
}

/// Alignment of entry data, as torch's `PyTorchStreamWriter` (`kFieldAlignment`).
const ALIGN: u64 = 64;
const U32_MAX: u64 = 0xFFFF_FFFF;
const LOCAL_HEADER: u64 = 30;
/// DOS date 1980-01-01, time 00:00.
const DOS_DATE: u16 = (1 << 5) | 1;

// ---------------------------------------------------------------------------------------------
// Pickle (protocol 2)
// ---------------------------------------------------------------------------------------------

fn pickle_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'X'); // BINUNICODE
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn pickle_int(out: &mut Vec<u8>, v: u64) {
    if v < 256 {
        out.extend_from_slice(&[b'K', v as u8]); // BININT1
    } else if v < 65536 {
        out.push(b'M'); // BININT2
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v < 1 << 31 {
        out.push(b'J'); // BININT
        out.extend_from_slice(&(v as i32).to_le_bytes());
    } else {
        out.extend_from_slice(&[0x8A, 8]); // LONG1, 8 bytes two's complement
        out.extend_from_slice(&(v as i64).to_le_bytes());
    }
}

/// A tuple of small non-negative integers.
fn pickle_int_tuple(out: &mut Vec<u8>, vals: &[u64]) {
    match vals.len() {
        0 => out.push(b')'),
        1..=3 => {
            for &v in vals {
                pickle_int(out, v);
            }
            out.push(0x84 + vals.len() as u8); // TUPLE1/2/3 = 0x85/0x86/0x87
        }
        _ => {
            out.push(b'(');
            for &v in vals {
                pickle_int(out, v);
            }
            out.push(b't');
        }
    }
}

/// `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())` where
/// `storage` is the persistent ID `('storage', torch.<X>Storage, key, 'cpu', numel)`.
fn pickle_tensor(out: &mut Vec<u8>, a: &ArraySource<'_>, key: usize) {
    let numel: u64 = a.shape.iter().map(|&d| d as u64).product();
    let size: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
    let mut stride = vec![1u64; size.len()];
    for i in (0..size.len().saturating_sub(1)).rev() {
        stride[i] = stride[i + 1] * size[i + 1];
    }
    out.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\n(");
    out.push(b'(');
    pickle_str(out, "storage");
    out.extend_from_slice(format!("ctorch\n{}\n", torch_storage(a.dtype)).as_bytes());
    pickle_str(out, &key.to_string());
    pickle_str(out, "cpu");
    pickle_int(out, numel);
    out.extend_from_slice(b"tQ"); // TUPLE, BINPERSID
    pickle_int(out, 0); // storage offset
    pickle_int_tuple(out, &size);
    pickle_int_tuple(out, &stride);
    out.push(0x89); // NEWFALSE: requires_grad
    out.extend_from_slice(b"ccollections\nOrderedDict\n)R"); // backward_hooks
    out.extend_from_slice(b"tR"); // TUPLE, REDUCE
}

/// `data.pkl` for `obj`, and the arrays in storage-key order.
fn pickle<'o, 'a>(obj: &'o PtObject<'a>) -> (Vec<u8>, Vec<&'o ArraySource<'a>>) {
    let mut out = vec![0x80, 2]; // PROTO 2
    let mut arrays = Vec::new();
    match obj {
        PtObject::Tensor(a) => {
            pickle_tensor(&mut out, a, 0);
            arrays.push(a);
        }
        PtObject::Dict(items) => {
            out.extend_from_slice(b"}("); // EMPTY_DICT, MARK
            for (k, a) in items {
                match k {
                    PtKey::Str(s) => pickle_str(&mut out, s),
                    PtKey::Tuple3(s, r, d) => {
                        for x in [s, r, d] {
                            pickle_str(&mut out, x);
                        }
                        out.push(0x87); // TUPLE3
                    }
                }
                pickle_tensor(&mut out, a, arrays.len());
                arrays.push(a);
            }
            out.push(b'u'); // SETITEMS
        }
    }
    out.push(b'.'); // STOP
    (out, arrays)
}

// ---------------------------------------------------------------------------------------------
// ZIP (STORED entries, optional ZIP64)
// ---------------------------------------------------------------------------------------------

struct CentralEntry {
    name: String,
    crc: u32,
    size: u64,
    offset: u64,
}

struct ZipOut<'w, W: Write> {
    w: &'w mut W,
    pos: u64,
    entries: Vec<CentralEntry>,
    force_zip64: bool,
}

impl<W: Write> ZipOut<'_, W> {
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.w.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    /// Adds a STORED entry of `size` bytes with checksum `crc`; `body` writes exactly the data.
    fn add<F>(&mut self, name: String, size: u64, crc: u32, body: F) -> io::Result<()>
    where
        F: FnOnce(&mut W) -> io::Result<()>,
    {
        let offset = self.pos;
        let zip64 = self.force_zip64 || size >= U32_MAX;
        let mut h = Vec::with_capacity(128 + name.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&(if zip64 { 45u16 } else { 20u16 }).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // flags
        h.extend_from_slice(&0u16.to_le_bytes()); // STORED
        h.extend_from_slice(&0u16.to_le_bytes()); // time
        h.extend_from_slice(&DOS_DATE.to_le_bytes());
        h.extend_from_slice(&crc.to_le_bytes());
        let small = if zip64 { U32_MAX as u32 } else { size as u32 };
        h.extend_from_slice(&small.to_le_bytes()); // compressed size
        h.extend_from_slice(&small.to_le_bytes()); // uncompressed size
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        let zip64_extra = if zip64 { 20 } else { 0 };
        // Data start without padding: header, name, zip64 extra, "FB" + u16 length.
        let start = offset + LOCAL_HEADER + name.len() as u64 + zip64_extra + 4;
        let pad = (ALIGN - start % ALIGN) % ALIGN;
        h.extend_from_slice(&((zip64_extra + 4 + pad) as u16).to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        if zip64 {
            h.extend_from_slice(&1u16.to_le_bytes());
            h.extend_from_slice(&16u16.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
        }
        h.extend_from_slice(b"FB");
        h.extend_from_slice(&(pad as u16).to_le_bytes());
        h.resize(h.len() + pad as usize, b'Z');
        self.put(&h)?;
        debug_assert_eq!(self.pos % ALIGN, 0);
        body(self.w)?;
        self.pos += size;
        self.entries.push(CentralEntry {
            name,
            crc,
            size,
            offset,
        });
        Ok(())
    }

    fn add_bytes(&mut self, name: String, data: &[u8]) -> io::Result<()> {
        let crc = crc32fast::hash(data);
        self.add(name, data.len() as u64, crc, |w| w.write_all(data))
    }

    /// Central directory and end records.
    fn finish(mut self) -> io::Result<()> {
        let cd_start = self.pos;
        let entries = std::mem::take(&mut self.entries);
        for e in &entries {
            let big_size = self.force_zip64 || e.size >= U32_MAX;
            let big_off = self.force_zip64 || e.offset >= U32_MAX;
            let mut extra = Vec::new();
            if big_size || big_off {
                let mut fields = Vec::new();
                if big_size {
                    fields.extend_from_slice(&e.size.to_le_bytes());
                    fields.extend_from_slice(&e.size.to_le_bytes());
                }
                if big_off {
                    fields.extend_from_slice(&e.offset.to_le_bytes());
                }
                extra.extend_from_slice(&1u16.to_le_bytes());
                extra.extend_from_slice(&(fields.len() as u16).to_le_bytes());
                extra.extend_from_slice(&fields);
            }
            let version: u16 = if extra.is_empty() { 20 } else { 45 };
            let mut h = Vec::with_capacity(46 + e.name.len() + extra.len());
            h.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            h.extend_from_slice(&version.to_le_bytes()); // made by
            h.extend_from_slice(&version.to_le_bytes()); // needed
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&0u16.to_le_bytes()); // STORED
            h.extend_from_slice(&0u16.to_le_bytes()); // time
            h.extend_from_slice(&DOS_DATE.to_le_bytes());
            h.extend_from_slice(&e.crc.to_le_bytes());
            let size32 = if big_size {
                U32_MAX as u32
            } else {
                e.size as u32
            };
            h.extend_from_slice(&size32.to_le_bytes());
            h.extend_from_slice(&size32.to_le_bytes());
            h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            h.extend_from_slice(&[0; 6]); // comment len, disk start, internal attr
            h.extend_from_slice(&0u32.to_le_bytes()); // external attr
            let off32 = if big_off {
                U32_MAX as u32
            } else {
                e.offset as u32
            };
            h.extend_from_slice(&off32.to_le_bytes());
            h.extend_from_slice(e.name.as_bytes());
            h.extend_from_slice(&extra);
            self.put(&h)?;
        }
        let cd_size = self.pos - cd_start;
        let n = entries.len() as u64;
        let zip64 = self.force_zip64 || n >= 0xFFFF || cd_size >= U32_MAX || cd_start >= U32_MAX;
        if zip64 {
            let eocd64 = self.pos;
            let mut h = Vec::with_capacity(76);
            h.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
            h.extend_from_slice(&44u64.to_le_bytes());
            h.extend_from_slice(&45u16.to_le_bytes());
            h.extend_from_slice(&45u16.to_le_bytes());
            h.extend_from_slice(&[0; 8]); // this disk, disk with the central directory
            h.extend_from_slice(&n.to_le_bytes());
            h.extend_from_slice(&n.to_le_bytes());
            h.extend_from_slice(&cd_size.to_le_bytes());
            h.extend_from_slice(&cd_start.to_le_bytes());
            // ZIP64 end of central directory locator.
            h.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
            h.extend_from_slice(&0u32.to_le_bytes());
            h.extend_from_slice(&eocd64.to_le_bytes());
            h.extend_from_slice(&1u32.to_le_bytes());
            self.put(&h)?;
        }
        let mut h = Vec::with_capacity(22);
        h.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        h.extend_from_slice(&[0; 4]); // disk numbers
        let n16 = if zip64 { 0xFFFF } else { n as u16 };
        h.extend_from_slice(&n16.to_le_bytes());
        h.extend_from_slice(&n16.to_le_bytes());
        let cd_size32 = if zip64 {
            U32_MAX as u32
        } else {
            cd_size as u32
        };
        let cd_start32 = if zip64 {
            U32_MAX as u32
        } else {
            cd_start as u32
        };
        h.extend_from_slice(&cd_size32.to_le_bytes());
        h.extend_from_slice(&cd_start32.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // comment length
        self.put(&h)
    }
}

fn write_pt_impl<W: Write>(
    w: &mut W,
    archive: &str,
    obj: &PtObject<'_>,
    force_zip64: bool,
) -> io::Result<()> {
    if archive.is_empty() || archive.contains(['/', '\\']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad archive name '{archive}'"),
        ));
    }
    let (pkl, arrays) = pickle(obj);
    let mut z = ZipOut {
        w,
        pos: 0,
        entries: Vec::new(),
        force_zip64,
    };
    z.add_bytes(format!("{archive}/data.pkl"), &pkl)?;
    z.add_bytes(format!("{archive}/byteorder"), b"little")?;
    for (k, a) in arrays.into_iter().enumerate() {
        let mut h = crc32fast::Hasher::new();
        a.for_each_chunk(|b| {
            h.update(b);
            Ok(())
        })?;
        z.add(
            format!("{archive}/data/{k}"),
            a.nbytes(),
            h.finalize(),
            |w| a.write_data(w),
        )?;
    }
    z.add_bytes(format!("{archive}/version"), b"3\n")?;
    z.finish()
}

/// Writes `obj` as a `torch.save` zip file to `w`. `archive` is the top-level folder name inside
/// the zip (torch uses the file stem, e.g. `node_mapping`).
pub fn write_pt<W: Write>(w: &mut W, archive: &str, obj: &PtObject<'_>) -> io::Result<()> {
    write_pt_impl(w, archive, obj, false)
}

/// [`write_pt`] into a new file at `path`, with the file stem as archive name.
pub fn save_pt(path: &Path, obj: &PtObject<'_>) -> Result<()> {
    let archive = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("archive");
    super::write_file(path, |w| write_pt(w, archive, obj))
}

/// Test hook: the same file with ZIP64 records everywhere, to exercise the >4 GiB code path
/// on small inputs.
#[doc(hidden)]
pub fn save_pt_forced_zip64(path: &Path, obj: &PtObject<'_>) -> Result<()> {
    super::write_file(path, |w| write_pt_impl(w, "archive", obj, true))
}

// ---------------------------------------------------------------------------------------------
// Reader: zip central directory + a pickle machine restricted to tensors
// ---------------------------------------------------------------------------------------------

/// A dict key read from a `.pt` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PtKeyBuf {
    Str(String),
    /// A tuple of strings, e.g. a canonical edge type `(src, rel, dst)`.
    Tuple(Vec<String>),
}

/// What a `.pt` file holds: a bare tensor or a dict of tensors (in file order).
#[derive(Debug)]
pub enum PtContent {
    Tensor(Tensor),
    Dict(Vec<(PtKeyBuf, Tensor)>),
}

/// One STORED zip entry: its name and the byte range of its data.
#[derive(Clone, Debug)]
pub struct ZipEntry {
    pub name: String,
    pub data: std::ops::Range<usize>,
}

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_EOCD64: u32 = 0x0606_4b50;
const SIG_EOCD64_LOC: u32 = 0x0706_4b50;

/// The entries of a zip archive of STORED entries, from its central directory.
pub fn zip_entries(buf: &[u8]) -> ParseResult<Vec<ZipEntry>> {
    // End of central directory: 22 bytes + a comment of at most 65535 bytes.
    let lo = buf.len().saturating_sub(22 + 0xFFFF);
    let eocd = (lo..=buf.len().saturating_sub(22))
        .rev()
        .find(|&p| buf[p..].starts_with(&SIG_EOCD.to_le_bytes()))
        .ok_or_else(|| {
            FormatError::new(
                buf.len(),
                "no zip end-of-central-directory record: not a torch.save file, or truncated",
            )
        })?;
    let mut c = ByteCursor::new(buf);
    c.seek(eocd + 10)?;
    let mut count = u64::from(c.u16("zip entry count")?);
    let _cd_size = c.u32("zip central directory size")?;
    let mut cd_start = u64::from(c.u32("zip central directory offset")?);
    if count == 0xFFFF || cd_start == 0xFFFF_FFFF {
        let loc = eocd
            .checked_sub(20)
            .ok_or_else(|| FormatError::new(eocd, "ZIP64 locator missing"))?;
        c.seek(loc)?;
        if c.u32("ZIP64 locator")? != SIG_EOCD64_LOC {
            return Err(FormatError::new(loc, "ZIP64 locator missing"));
        }
        c.seek(loc + 8)?;
        let rec = c.u64("ZIP64 end record offset")?;
        let rec = usize::try_from(rec).map_err(|_| FormatError::new(loc, "bad ZIP64 offset"))?;
        c.seek(rec)?;
        if c.u32("ZIP64 end record")? != SIG_EOCD64 {
            return Err(FormatError::new(rec, "bad ZIP64 end record signature"));
        }
        c.seek(rec + 32)?;
        count = c.u64("ZIP64 entry count")?;
        let _size = c.u64("ZIP64 central directory size")?;
        cd_start = c.u64("ZIP64 central directory offset")?;
    }
    let cd_start = usize::try_from(cd_start)
        .map_err(|_| FormatError::new(eocd, "central directory offset out of range"))?;
    c.seek(cd_start)?;
    // Each central record is at least 46 bytes.
    if (count as u128) * 46 > c.remaining() as u128 {
        return Err(FormatError::new(
            eocd,
            format!("implausible zip entry count {count}"),
        ));
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let at = c.pos();
        if c.u32("zip central record")? != SIG_CENTRAL {
            return Err(FormatError::new(at, "bad zip central record signature"));
        }
        c.seek(at + 10)?;
        let method = c.u16("zip compression method")?;
        c.seek(at + 20)?;
        let mut csize = u64::from(c.u32("zip compressed size")?);
        let mut usize_ = u64::from(c.u32("zip size")?);
        let nlen = c.u16("zip name length")? as usize;
        let elen = c.u16("zip extra length")? as usize;
        let clen = c.u16("zip comment length")? as usize;
        c.seek(at + 42)?;
        let mut local = u64::from(c.u32("zip local header offset")?);
        let name_at = c.pos();
        let name = std::str::from_utf8(c.take(nlen, "zip entry name")?)
            .map_err(|_| FormatError::new(name_at, "zip entry name is not UTF-8"))?
            .to_string();
        let extra = c.take(elen, "zip extra field")?;
        c.take(clen, "zip comment")?;
        // ZIP64 extended information: the fields that are 0xFFFFFFFF, in this order.
        let mut x = ByteCursor::new(extra);
        while x.remaining() >= 4 {
            let id = x.u16("zip extra id")?;
            let len = x.u16("zip extra length")? as usize;
            let body = x.take(len, "zip extra field")?;
            if id == 1 {
                let mut b = ByteCursor::new(body);
                if usize_ == 0xFFFF_FFFF {
                    usize_ = b.u64("ZIP64 size")?;
                }
                if csize == 0xFFFF_FFFF {
                    csize = b.u64("ZIP64 compressed size")?;
                }
                if local == 0xFFFF_FFFF {
                    local = b.u64("ZIP64 local header offset")?;
                }
            }
        }
        if method != 0 || csize != usize_ {
            return Err(FormatError::new(
                at,
                format!("zip entry '{name}' is compressed (method {method}); torch.save writes STORED entries only"),
            ));
        }
        let local = usize::try_from(local)
            .map_err(|_| FormatError::new(at, "local header offset out of range"))?;
        let mut l = ByteCursor::new(buf);
        l.seek(local)?;
        if l.u32("zip local header")? != SIG_LOCAL {
            return Err(FormatError::new(
                local,
                format!("bad local header of '{name}'"),
            ));
        }
        l.seek(local + 26)?;
        let ln = l.u16("zip local name length")? as usize;
        let le = l.u16("zip local extra length")? as usize;
        l.take(ln + le, "zip local header")?;
        let size =
            usize::try_from(usize_).map_err(|_| FormatError::new(at, "entry size out of range"))?;
        let data = l.span(size, &format!("zip entry '{name}'"))?;
        out.push(ZipEntry { name, data });
    }
    Ok(out)
}

/// A value on the pickle machine's stack.
#[derive(Clone, Debug)]
enum Val {
    Mark,
    None,
    /// `True` / `False` (the values are not needed: only `requires_grad` uses them).
    Bool,
    Int(i64),
    /// A float (none of the objects read needs its value).
    Float,
    Str(String),
    Tuple(Vec<Val>),
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    Global(String, String),
    Storage {
        dtype: DType,
        key: String,
    },
    Tensor(TensorRef),
}

/// A tensor as the pickle describes it: a storage entry plus offset, size and stride.
#[derive(Clone, Debug)]
struct TensorRef {
    dtype: DType,
    key: String,
    offset: usize,
    size: Vec<usize>,
    stride: Vec<usize>,
}

fn as_usize_tuple(v: &Val, what: &str, at: usize) -> ParseResult<Vec<usize>> {
    match v {
        Val::Tuple(xs) => xs
            .iter()
            .map(|x| match x {
                Val::Int(i) if *i >= 0 => Ok(*i as usize),
                _ => Err(FormatError::new(
                    at,
                    format!("{what}: expected non-negative ints"),
                )),
            })
            .collect(),
        _ => Err(FormatError::new(at, format!("{what}: expected a tuple"))),
    }
}

/// Runs `data.pkl` and returns the top-level object.
fn unpickle(pkl: &[u8]) -> ParseResult<Val> {
    let mut c = ByteCursor::new(pkl);
    let mut stack: Vec<Val> = Vec::new();
    let mut memo: std::collections::HashMap<u32, Val> = std::collections::HashMap::new();
    let pop = |stack: &mut Vec<Val>, at: usize| {
        stack
            .pop()
            .ok_or_else(|| FormatError::new(at, "pickle stack underflow"))
    };
    let pop_mark = |stack: &mut Vec<Val>, at: usize| -> ParseResult<Vec<Val>> {
        let m = stack
            .iter()
            .rposition(|v| matches!(v, Val::Mark))
            .ok_or_else(|| FormatError::new(at, "pickle MARK missing"))?;
        let items = stack.split_off(m + 1);
        stack.pop();
        Ok(items)
    };
    loop {
        let at = c.pos();
        let op = c.u8("pickle opcode")?;
        match op {
            0x80 => {
                c.u8("pickle protocol")?;
            }
            0x95 => {
                c.u64("pickle frame")?;
            }
            b'.' => return pop(&mut stack, at),
            b'(' => stack.push(Val::Mark),
            b'N' => stack.push(Val::None),
            0x88 | 0x89 => stack.push(Val::Bool),
            b'K' => stack.push(Val::Int(i64::from(c.u8("BININT1")?))),
            b'M' => stack.push(Val::Int(i64::from(c.u16("BININT2")?))),
            b'J' => stack.push(Val::Int(i64::from(c.i32("BININT")?))),
            0x8a => {
                let n = c.u8("LONG1 length")? as usize;
                let b = c.take(n, "LONG1")?;
                if n > 8 {
                    return Err(FormatError::new(at, "integer wider than 64 bits"));
                }
                let neg = b.last().is_some_and(|&x| x & 0x80 != 0);
                let mut v = [if neg { 0xFF } else { 0 }; 8];
                v[..n].copy_from_slice(b);
                stack.push(Val::Int(i64::from_le_bytes(v)));
            }
            b'G' => {
                c.take(8, "BINFLOAT")?;
                stack.push(Val::Float);
            }
            b'X' | 0x8c | 0x8d | b'U' | b'T' => {
                let n = match op {
                    b'X' | b'T' => c.u32("string length")? as usize,
                    0x8c | b'U' => c.u8("string length")? as usize,
                    _ => usize::try_from(c.u64("string length")?)
                        .map_err(|_| FormatError::new(at, "string too long"))?,
                };
                let s = c.take(n, "pickled string")?;
                let s = std::str::from_utf8(s)
                    .map_err(|_| FormatError::new(at, "pickled string is not UTF-8"))?;
                stack.push(Val::Str(s.to_string()));
            }
            b'c' => {
                let mut line = |what: &str| -> ParseResult<String> {
                    let start = c.pos();
                    loop {
                        if c.u8(what)? == b'\n' {
                            break;
                        }
                    }
                    let b = &pkl[start..c.pos() - 1];
                    std::str::from_utf8(b)
                        .map(str::to_string)
                        .map_err(|_| FormatError::new(start, "GLOBAL name is not UTF-8"))
                };
                let module = line("GLOBAL module")?;
                let name = line("GLOBAL name")?;
                stack.push(Val::Global(module, name));
            }
            b')' => stack.push(Val::Tuple(Vec::new())),
            b']' => stack.push(Val::List(Vec::new())),
            b'}' => stack.push(Val::Dict(Vec::new())),
            b't' => {
                let items = pop_mark(&mut stack, at)?;
                stack.push(Val::Tuple(items));
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if stack.len() < n {
                    return Err(FormatError::new(at, "pickle stack underflow"));
                }
                let items = stack.split_off(stack.len() - n);
                if items.iter().any(|v| matches!(v, Val::Mark)) {
                    return Err(FormatError::new(at, "MARK inside a tuple"));
                }
                stack.push(Val::Tuple(items));
            }
            b'l' => {
                let items = pop_mark(&mut stack, at)?;
                stack.push(Val::List(items));
            }
            b'a' | b'e' => {
                let items = if op == b'a' {
                    vec![pop(&mut stack, at)?]
                } else {
                    pop_mark(&mut stack, at)?
                };
                match stack.last_mut() {
                    Some(Val::List(l)) => l.extend(items),
                    _ => return Err(FormatError::new(at, "APPEND to a non-list")),
                }
            }
            b's' | b'u' => {
                let items = if op == b's' {
                    let v = pop(&mut stack, at)?;
                    let k = pop(&mut stack, at)?;
                    vec![k, v]
                } else {
                    pop_mark(&mut stack, at)?
                };
                if items.len() % 2 != 0 {
                    return Err(FormatError::new(at, "SETITEMS with an odd item count"));
                }
                match stack.last_mut() {
                    Some(Val::Dict(d)) => {
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            d.push((k, v));
                        }
                    }
                    _ => return Err(FormatError::new(at, "SETITEM on a non-dict")),
                }
            }
            b'q' | b'r' | 0x94 => {
                let key = match op {
                    b'q' => u32::from(c.u8("BINPUT")?),
                    b'r' => c.u32("LONG_BINPUT")?,
                    _ => memo.len() as u32,
                };
                let top = stack
                    .last()
                    .ok_or_else(|| FormatError::new(at, "memo of an empty stack"))?;
                memo.insert(key, top.clone());
            }
            b'h' | b'j' => {
                let key = if op == b'h' {
                    u32::from(c.u8("BINGET")?)
                } else {
                    c.u32("LONG_BINGET")?
                };
                let v = memo
                    .get(&key)
                    .ok_or_else(|| FormatError::new(at, format!("memo key {key} unset")))?;
                stack.push(v.clone());
            }
            b'Q' => {
                let pid = pop(&mut stack, at)?;
                let storage = match pid {
                    Val::Tuple(f) if f.len() == 5 => match (&f[0], &f[1], &f[2]) {
                        (Val::Str(tag), Val::Global(m, cls), Val::Str(key))
                            if tag == "storage" && m == "torch" =>
                        {
                            let dtype = dtype_from_storage(cls).ok_or_else(|| {
                                FormatError::new(at, format!("unsupported storage torch.{cls}"))
                            })?;
                            Val::Storage {
                                dtype,
                                key: key.clone(),
                            }
                        }
                        _ => return Err(FormatError::new(at, "unsupported persistent ID")),
                    },
                    _ => return Err(FormatError::new(at, "unsupported persistent ID")),
                };
                stack.push(storage);
            }
            b'R' => {
                let args = pop(&mut stack, at)?;
                let f = pop(&mut stack, at)?;
                let Val::Global(m, n) = f else {
                    return Err(FormatError::new(at, "REDUCE of a non-global"));
                };
                let Val::Tuple(args) = args else {
                    return Err(FormatError::new(at, "REDUCE arguments are not a tuple"));
                };
                let v = match (m.as_str(), n.as_str()) {
                    ("collections", "OrderedDict") if args.is_empty() => Val::Dict(Vec::new()),
                    ("torch._utils", "_rebuild_tensor_v2") if args.len() >= 4 => {
                        let Val::Storage { dtype, key } = &args[0] else {
                            return Err(FormatError::new(at, "tensor without a storage"));
                        };
                        let offset = match args[1] {
                            Val::Int(o) if o >= 0 => o as usize,
                            _ => return Err(FormatError::new(at, "bad storage offset")),
                        };
                        Val::Tensor(TensorRef {
                            dtype: *dtype,
                            key: key.clone(),
                            offset,
                            size: as_usize_tuple(&args[2], "tensor size", at)?,
                            stride: as_usize_tuple(&args[3], "tensor stride", at)?,
                        })
                    }
                    _ => {
                        return Err(FormatError::new(
                            at,
                            format!("refusing to unpickle {m}.{n}: only tensors and dicts of tensors are read"),
                        ))
                    }
                };
                stack.push(v);
            }
            _ => {
                return Err(FormatError::new(
                    at,
                    format!("unsupported pickle opcode {op:#04x}"),
                ))
            }
        }
    }
}

/// Builds the tensor a [`TensorRef`] describes as a view into `buf`.
fn materialize(
    t: &TensorRef,
    storages: &std::collections::HashMap<String, std::ops::Range<usize>>,
    buf: &Arc<SharedBuf>,
    at: usize,
) -> ParseResult<Tensor> {
    let range = storages.get(&t.key).ok_or_else(|| {
        FormatError::new(
            at,
            format!("storage data/{} missing from the archive", t.key),
        )
    })?;
    let mut want = 1usize;
    for i in (0..t.size.len()).rev() {
        if t.size[i] > 1 && t.stride[i] != want {
            return Err(FormatError::new(
                at,
                "non-contiguous tensors are not supported",
            ));
        }
        want = want
            .checked_mul(t.size[i])
            .ok_or_else(|| FormatError::new(at, "tensor size overflows"))?;
    }
    if t.stride.len() != t.size.len() {
        return Err(FormatError::new(
            at,
            "tensor stride and size differ in length",
        ));
    }
    let es = t.dtype.size();
    let start = t
        .offset
        .checked_mul(es)
        .and_then(|o| o.checked_add(range.start));
    let end = want
        .checked_mul(es)
        .zip(start)
        .and_then(|(n, s)| s.checked_add(n));
    let (Some(start), Some(end)) = (start, end) else {
        return Err(FormatError::new(at, "tensor extent overflows"));
    };
    if end > range.end {
        return Err(FormatError::new(
            range.start,
            format!(
                "storage data/{} holds {} bytes, the tensor needs {}",
                t.key,
                range.len(),
                end - range.start
            ),
        ));
    }
    let mut shape = t.size.clone();
    if shape.is_empty() {
        shape.push(1);
    }
    Ok(Tensor {
        dtype: t.dtype,
        shape,
        data: Bytes::Shared {
            buf: Arc::clone(buf),
            range: start..end,
        },
    })
}

fn parse_pt(buf: &Arc<SharedBuf>) -> ParseResult<PtContent> {
    let entries = zip_entries(buf)?;
    let pkl = entries
        .iter()
        .find(|e| e.name.ends_with("/data.pkl") || e.name == "data.pkl")
        .ok_or_else(|| FormatError::new(0, "no data.pkl entry: not a torch.save zip file"))?;
    let prefix = &pkl.name[..pkl.name.len() - "data.pkl".len()];
    let storages: std::collections::HashMap<String, std::ops::Range<usize>> = entries
        .iter()
        .filter_map(|e| {
            let key = e.name.strip_prefix(prefix)?.strip_prefix("data/")?;
            Some((key.to_string(), e.data.clone()))
        })
        .collect();
    let at = pkl.data.start;
    let top = unpickle(&buf[pkl.data.clone()])
        .map_err(|e| FormatError::new(at + e.offset as usize, format!("data.pkl: {}", e.msg)))?;
    match top {
        Val::Tensor(t) => Ok(PtContent::Tensor(materialize(&t, &storages, buf, at)?)),
        Val::Dict(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (k, v) in items {
                let key = match k {
                    Val::Str(s) => PtKeyBuf::Str(s),
                    Val::Tuple(xs) => PtKeyBuf::Tuple(
                        xs.into_iter()
                            .map(|x| match x {
                                Val::Str(s) => Ok(s),
                                _ => Err(FormatError::new(at, "dict key tuple of non-strings")),
                            })
                            .collect::<ParseResult<_>>()?,
                    ),
                    _ => return Err(FormatError::new(at, "dict key is not a string or tuple")),
                };
                let Val::Tensor(t) = v else {
                    return Err(FormatError::new(at, "dict value is not a tensor"));
                };
                out.push((key, materialize(&t, &storages, buf, at)?));
            }
            Ok(PtContent::Dict(out))
        }
        _ => Err(FormatError::new(
            at,
            "data.pkl holds neither a tensor nor a dict of tensors",
        )),
    }
}

/// Parses a `.pt` file's bytes (copied once into a buffer the tensors share).
///
/// ```
/// use graphprep::format::array::ArraySource;
/// use graphprep::format::pt::{read_pt, write_pt, PtContent, PtKey, PtKeyBuf, PtObject};
///
/// let ids = [2i64, 0, 1];
/// let obj = PtObject::Dict(vec![(PtKey::Str("item"), ArraySource::slice(&ids))]);
/// let mut bytes = Vec::new();
/// write_pt(&mut bytes, "node_mapping", &obj).unwrap();
/// let PtContent::Dict(d) = read_pt(&bytes).unwrap() else { panic!() };
/// assert_eq!(d[0].0, PtKeyBuf::Str("item".into()));
/// assert_eq!(d[0].1.values::<i64>().unwrap().as_ref(), &ids);
/// ```
pub fn read_pt(bytes: &[u8]) -> ParseResult<PtContent> {
    parse_pt(&Arc::new(SharedBuf::Heap(bytes.to_vec())))
}

/// Maps and parses a `.pt` file; tensors are views into the mapping. Errors name the file and
/// the byte offset.
pub fn load_pt(path: &Path) -> Result<PtContent> {
    parse_pt(&map_file(path)?).map_err(|e| e.at(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::array::Ids;

    /// Minimal zip reader over the central directory: name → (data offset, size, crc).
    fn entries(zip: &[u8]) -> Vec<(String, usize, usize, u32)> {
        let u16_at = |p: usize| u16::from_le_bytes([zip[p], zip[p + 1]]) as usize;
        let u32_at = |p: usize| u32::from_le_bytes(zip[p..p + 4].try_into().unwrap());
        let eocd = zip.len() - 22;
        assert_eq!(u32_at(eocd), 0x0605_4b50);
        let n = u16_at(eocd + 10);
        let mut p = u32_at(eocd + 16) as usize;
        let mut out = Vec::new();
        for _ in 0..n {
            assert_eq!(u32_at(p), 0x0201_4b50);
            let crc = u32_at(p + 16);
            let size = u32_at(p + 24) as usize;
            let (nl, el, cl) = (u16_at(p + 28), u16_at(p + 30), u16_at(p + 32));
            let off = u32_at(p + 42) as usize;
            let name = String::from_utf8(zip[p + 46..p + 46 + nl].to_vec()).unwrap();
            assert_eq!(u32_at(off), 0x0403_4b50);
            let data = off + 30 + u16_at(off + 26) + u16_at(off + 28);
            out.push((name, data, size, crc));
            p += 46 + nl + el + cl;
        }
        out
    }

    #[test]
    fn dict_layout_and_alignment() {
        let a = [2i64, 0, 1];
        let b: Vec<u32> = vec![1, 0];
        let obj = PtObject::Dict(vec![
            (PtKey::Str("item"), ArraySource::slice(&a)),
            (PtKey::Str("user"), ArraySource::ids(Ids::U32(&b))),
        ]);
        let mut out = Vec::new();
        write_pt(&mut out, "node_mapping", &obj).unwrap();
        let es = entries(&out);
        let names: Vec<&str> = es.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "node_mapping/data.pkl",
                "node_mapping/byteorder",
                "node_mapping/data/0",
                "node_mapping/data/1",
                "node_mapping/version"
            ]
        );
        for (_, off, size, crc) in &es {
            assert_eq!(off % 64, 0);
            assert_eq!(crc32fast::hash(&out[*off..off + size]), *crc);
        }
        let d1 = &es[3];
        assert_eq!(
            &out[d1.1..d1.1 + d1.2],
            [1i64, 0].map(i64::to_le_bytes).concat().as_slice()
        );
        let pkl = &out[es[0].1..es[0].1 + es[0].2];
        assert_eq!(&pkl[..4], &[0x80, 2, b'}', b'(']);
        assert!(pkl.ends_with(b"u."));
        assert!(pkl.windows(11).any(|w| w == b"LongStorage"));
    }

    #[test]
    fn pickle_ints() {
        let enc = |v| {
            let mut o = Vec::new();
            pickle_int(&mut o, v);
            o
        };
        assert_eq!(enc(5), vec![b'K', 5]);
        assert_eq!(enc(300), vec![b'M', 44, 1]);
        assert_eq!(enc(70000), vec![b'J', 0x70, 0x11, 1, 0]);
        assert_eq!(enc(1 << 33), vec![0x8A, 8, 0, 0, 0, 0, 2, 0, 0, 0]);
    }

    #[test]
    fn bare_tensor_and_tuple_keys() {
        let a = [0i64, 1];
        let mut out = Vec::new();
        write_pt(&mut out, "x", &PtObject::Tensor(ArraySource::slice(&a))).unwrap();
        let es = entries(&out);
        let pkl = &out[es[0].1..es[0].1 + es[0].2];
        assert!(pkl.starts_with(b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n"));
        let obj = PtObject::Dict(vec![(
            PtKey::Tuple3("user", "clicks", "item"),
            ArraySource::slice(&a),
        )]);
        let mut out = Vec::new();
        write_pt(&mut out, "x", &obj).unwrap();
        let es = entries(&out);
        let pkl = &out[es[0].1..es[0].1 + es[0].2];
        assert!(pkl.windows(5).any(|w| w == b"item\x87"));
    }
}
