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
//! Parallelism: none (one file is one sequential stream).

use std::io::{self, Write};
use std::path::Path;

use crate::error::Result;
use crate::writers::dglfmt::ArrayRef;

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
    Tensor(ArrayRef<'a>),
    /// A dict, written in the given key order.
    Dict(Vec<(PtKey<'a>, ArrayRef<'a>)>),
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
fn pickle_tensor(out: &mut Vec<u8>, a: &ArrayRef<'_>, key: usize) {
    let numel: u64 = a.shape.iter().map(|&d| d as u64).product();
    let size: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
    let mut stride = vec![1u64; size.len()];
    for i in (0..size.len().saturating_sub(1)).rev() {
        stride[i] = stride[i + 1] * size[i + 1];
    }
    out.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\n(");
    out.push(b'(');
    pickle_str(out, "storage");
    out.extend_from_slice(format!("ctorch\n{}\n", a.dtype.torch_storage()).as_bytes());
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
fn pickle<'o, 'a>(obj: &'o PtObject<'a>) -> (Vec<u8>, Vec<&'o ArrayRef<'a>>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writers::dglfmt::Ids;

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
            (PtKey::Str("item"), ArrayRef::slice(&a)),
            (PtKey::Str("user"), ArrayRef::ids(Ids::U32(&b))),
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
        write_pt(&mut out, "x", &PtObject::Tensor(ArrayRef::slice(&a))).unwrap();
        let es = entries(&out);
        let pkl = &out[es[0].1..es[0].1 + es[0].2];
        assert!(pkl.starts_with(b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n"));
        let obj = PtObject::Dict(vec![(
            PtKey::Tuple3("user", "clicks", "item"),
            ArrayRef::slice(&a),
        )]);
        let mut out = Vec::new();
        write_pt(&mut out, "x", &obj).unwrap();
        let es = entries(&out);
        let pkl = &out[es[0].1..es[0].1 + es[0].2];
        assert!(pkl.windows(5).any(|w| w == b"item\x87"));
    }
}
