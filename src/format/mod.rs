//! Byte formats, both directions: every file format graphprep writes has its writer and its
//! reader side by side here, so a format's magic numbers, dtype codes and layout rules live in
//! one place with their round-trip tests.
//!
//! | module | format | write | read |
//! |---|---|---|---|
//! | [`dgl`] | DGL NDArray records, tensor dicts (`node_feat.dgl`), `dgl.save_graphs` files | `write_* / save_*` | `read_* / load_*` |
//! | [`pt`] | `torch.save` zip (`node_mapping.pt`, `edge_mapping.pt`) | `write_pt / save_pt` | `read_pt / load_pt` |
//! | [`partition_json`] | DistDGL partition config (`<graph>.json`) and the Python-compatible JSON printer | `PartitionConfig::to_json` | `PartitionConfig::load` |
//! | [`raw_id_map`] | `raw_id_mappings/<ntype>/part-*.parquet` | `save_raw_id_map` | `load_raw_id_map` |
//! | [`npy`] | numpy `.npy` v1.0 | `write_npy / save_npy` | `read_npy / load_npy` |
//! | [`chunked`] | DGL chunked-format `metadata.json`, `partition_meta.json`, `<ntype>.txt` | `Metadata::to_json`, `save_assignment_txt` | `Metadata::load`, `load_assignment_txt` |
//!
//! This wing knows only [`crate::tensor`] and [`crate::error`]: no `Graph`, no config, no
//! pipeline. Layouts (a whole output directory) are assembled by `writers/` and read back by
//! `dataset/`, both through these modules.
//!
//! Verb scheme: `write_x(W)` streams into a writer, `save_x(path)` writes a new file,
//! `read_x(bytes)` parses bytes in memory, `load_x(path)` maps a file and parses it.
//!
//! # Readers
//! Readers memory-map the file once ([`map_file`]) and hand out tensors that are views into
//! the mapping ([`crate::tensor::Bytes::Shared`]): opening a 50 GB `node_feat.dgl` costs its
//! headers, not its payload. Every read goes through [`ByteCursor`], which checks bounds and
//! counts before it slices or allocates, so a truncated or corrupted file is an
//! [`Error::Format`] naming the file and the byte offset, never a panic or an out-of-bounds
//! read. `tests/format_fuzz.rs` flips bytes and truncates real output files to hold them to
//! that.
//!
//! # Memory
//! Writers: one 1 MiB buffer per open file ([`WRITE_BUF`]) plus the chunk buffers of
//! [`array`]. Readers: the mapping (address space, paged in on touch) plus O(number of
//! entries) of headers; index arrays and payloads stay in the mapping.

pub mod array;
pub mod chunked;
pub mod dgl;
pub mod npy;
pub mod partition_json;
pub mod pt;
pub mod raw_id_map;
pub mod results;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::tensor::SharedBuf;

/// Buffer size of the output [`BufWriter`]s: large enough that the OS sees big sequential
/// writes.
pub(crate) const WRITE_BUF: usize = 1 << 20;

/// Creates (truncates) `path`, runs `body` on a 1 MiB buffered writer to it and flushes.
/// I/O errors are reported with the path.
pub(crate) fn write_file<F>(path: &Path, body: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    let file = File::create(path).map_err(|e| Error::write(path, e))?;
    let mut w = BufWriter::with_capacity(WRITE_BUF, file);
    body(&mut w).map_err(|e| Error::write(path, e))?;
    w.flush().map_err(|e| Error::write(path, e))
}

/// Maps `path` read-only (an empty file becomes an empty heap buffer: zero-length mappings
/// are not allowed).
///
/// The mapping is only sound while nobody truncates or rewrites the file; graphprep's outputs
/// are written once into a staging folder and never modified in place, and readers treat the
/// bytes as untrusted input either way (every access is bounds-checked).
pub fn map_file(path: &Path) -> Result<Arc<SharedBuf>> {
    let file = File::open(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    let len = file
        .metadata()
        .map_err(|e| Error::input(path, format!("cannot stat: {e}")))?
        .len();
    if len == 0 {
        return Ok(Arc::new(SharedBuf::Heap(Vec::new())));
    }
    // SAFETY: a read-only shared mapping of a regular file we just opened. Rust's aliasing rules
    // assume the bytes do not change underneath; that holds as long as no other process
    // truncates or rewrites the file while it is open here (graphprep never modifies finished
    // output). Every read through the mapping is bounds-checked against its length.
    let map = unsafe { memmap2::Mmap::map(&file) }
        .map_err(|e| Error::input(path, format!("cannot map: {e}")))?;
    Ok(Arc::new(SharedBuf::Map(map)))
}

/// A format violation at a byte offset; [`FormatError::at`] adds the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub offset: u64,
    pub msg: String,
}

impl FormatError {
    pub fn new(offset: usize, msg: impl Into<String>) -> FormatError {
        FormatError {
            offset: offset as u64,
            msg: msg.into(),
        }
    }

    /// The crate error for this violation in `file`.
    pub fn at(self, file: &Path) -> Error {
        Error::Format {
            file: file.to_path_buf(),
            offset: self.offset,
            msg: self.msg,
        }
    }
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "byte offset {}: {}", self.offset, self.msg)
    }
}

/// Result of the parsing layer (offset-carrying errors, no file name yet).
pub type ParseResult<T> = std::result::Result<T, FormatError>;

/// A bounds-checked little-endian reader over a byte slice that reports the offset of every
/// failure. Offsets are absolute within the slice the cursor was made for.
#[derive(Clone, Debug)]
pub struct ByteCursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> ByteCursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        ByteCursor { buf, pos: 0 }
    }

    /// Current offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left after the current offset.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// An error at the current offset.
    pub fn err(&self, msg: impl Into<String>) -> FormatError {
        FormatError::new(self.pos, msg)
    }

    /// Moves to absolute offset `pos` (which may be the end, not beyond).
    pub fn seek(&mut self, pos: usize) -> ParseResult<()> {
        if pos > self.buf.len() {
            return Err(self.err(format!(
                "file ends at {} bytes, before offset {pos}",
                self.buf.len()
            )));
        }
        self.pos = pos;
        Ok(())
    }

    /// The next `n` bytes, or a truncation error naming what was being read.
    pub fn take(&mut self, n: usize, what: &str) -> ParseResult<&'a [u8]> {
        let r = self.span(n, what)?;
        Ok(&self.buf[r])
    }

    /// The range of the next `n` bytes (advancing past them), for zero-copy views.
    pub fn span(&mut self, n: usize, what: &str) -> ParseResult<Range<usize>> {
        match self.pos.checked_add(n).filter(|&e| e <= self.buf.len()) {
            Some(end) => {
                let r = self.pos..end;
                self.pos = end;
                Ok(r)
            }
            None => Err(self.err(format!(
                "{what} needs {n} bytes, {} left: the file is truncated or corrupted",
                self.remaining()
            ))),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> ParseResult<[u8; N]> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub fn u8(&mut self, what: &str) -> ParseResult<u8> {
        Ok(self.array::<1>(what)?[0])
    }
    pub fn u16(&mut self, what: &str) -> ParseResult<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    pub fn u32(&mut self, what: &str) -> ParseResult<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    pub fn i32(&mut self, what: &str) -> ParseResult<i32> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }
    pub fn u64(&mut self, what: &str) -> ParseResult<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    pub fn i64(&mut self, what: &str) -> ParseResult<i64> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    /// A `u64` element count whose elements take at least `min_elem_bytes` each: counts that
    /// cannot fit in the rest of the file are rejected before anything is allocated.
    pub fn count(&mut self, min_elem_bytes: usize, what: &str) -> ParseResult<usize> {
        let at = self.pos;
        let n = self.u64(what)?;
        let fits = (n as u128) * (min_elem_bytes.max(1) as u128) <= self.remaining() as u128;
        if !fits {
            return Err(FormatError::new(
                at,
                format!(
                    "implausible {what} {n}: only {} bytes follow; the file is truncated or corrupted",
                    self.remaining()
                ),
            ));
        }
        Ok(n as usize)
    }

    /// Checks an 8-byte magic number.
    pub fn magic(&mut self, want: u64, what: &str) -> ParseResult<()> {
        let at = self.pos;
        let got = self.u64(what)?;
        if got != want {
            return Err(FormatError::new(
                at,
                format!("bad {what} magic {got:#018x}, expected {want:#018x}"),
            ));
        }
        Ok(())
    }

    /// Fails unless the cursor is at the end of its slice.
    pub fn expect_end(&self, what: &str) -> ParseResult<()> {
        if self.remaining() != 0 {
            return Err(self.err(format!("{} trailing bytes after {what}", self.remaining())));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_reports_offsets() {
        let b = [1u8, 0, 0, 0, 0, 0, 0, 0, 9];
        let mut c = ByteCursor::new(&b);
        assert_eq!(c.u64("x").unwrap(), 1);
        let e = c.u64("y").unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(e.msg.contains("y needs 8 bytes, 1 left"), "{}", e.msg);
        let mut c = ByteCursor::new(&b);
        let e = c.count(2, "entry count").unwrap_err();
        assert!(e.msg.contains("implausible entry count 1"), "{}", e.msg);
        assert!(c.seek(10).is_err());
    }
}
