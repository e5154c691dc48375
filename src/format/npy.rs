//! numpy `.npy` files (format versions 1.0 and 2.0), both directions: the per-chunk feature,
//! label and mask files of DGL's chunked graph format (spec `distdgl-format.md` §10).
//!
//! Layout: `\x93NUMPY`, major, minor, a little-endian header length (u16 in 1.0, u32 in 2.0),
//! then a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`
//! padded with spaces and a final `\n` so the data starts 64-byte aligned, then the row-major
//! little-endian data. Writing emits version 1.0 exactly as `numpy.save` does; reading accepts
//! C-order arrays of the dtypes graphprep knows (`|b1` reads as uint8).
//!
//! # Memory
//! Writing streams the payload ([`ArraySource`]); reading maps the file and returns a view.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use super::array::ArraySource;
use super::{map_file, ByteCursor, FormatError, ParseResult};
use crate::error::Result;
use crate::tensor::{Bytes, DType, SharedBuf, Tensor};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// numpy's `descr` of a dtype.
pub fn descr(dtype: DType) -> &'static str {
    match dtype {
        DType::I8 => "|i1",
        DType::U8 => "|u1",
        DType::I16 => "<i2",
        DType::I32 => "<i4",
        DType::I64 => "<i8",
        DType::F16 => "<f2",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
    }
}

fn dtype_of_descr(d: &str) -> Option<DType> {
    Some(match d {
        "|i1" | "i1" => DType::I8,
        "|u1" | "u1" | "|b1" | "b1" => DType::U8,
        "<i2" => DType::I16,
        "<i4" => DType::I32,
        "<i8" => DType::I64,
        "<f2" => DType::F16,
        "<f4" => DType::F32,
        "<f8" => DType::F64,
        _ => return None,
    })
}

/// The header of `numpy.save` for `dtype` and `shape` (magic to final newline).
fn header(dtype: DType, shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {dims}, }}",
        descr(dtype)
    );
    // magic(6) + version(2) + len(2) + dict + padding + '\n' ≡ 0 (mod 64)
    let unpadded = 10 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let mut h = Vec::with_capacity(unpadded + pad);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&[1, 0]);
    h.extend_from_slice(&((dict.len() + pad + 1) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(h.len() + pad, b' ');
    h.push(b'\n');
    h
}

/// Writes `a` as a version 1.0 `.npy` stream.
pub fn write_npy<W: Write>(w: &mut W, a: &ArraySource<'_>) -> io::Result<()> {
    w.write_all(&header(a.dtype, &a.shape))?;
    a.write_data(w)
}

/// [`write_npy`] into a new file at `path`.
pub fn save_npy(path: &Path, a: &ArraySource<'_>) -> Result<()> {
    super::write_file(path, |w| write_npy(w, a))
}

/// The value of `'key': ...` in the header dict, up to the next top-level `,` or `}`.
fn dict_value<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let at = dict.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = dict[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

fn parse_npy(buf: &Arc<SharedBuf>) -> ParseResult<Tensor> {
    let mut c = ByteCursor::new(buf);
    if c.take(6, "npy magic")? != MAGIC {
        return Err(FormatError::new(0, "not a .npy file (bad magic)"));
    }
    let major = c.u8("npy version")?;
    let _minor = c.u8("npy version")?;
    let hlen = match major {
        1 => c.u16("npy header length")? as usize,
        2 | 3 => c.u32("npy header length")? as usize,
        v => return Err(FormatError::new(6, format!("unsupported .npy version {v}"))),
    };
    let at = c.pos();
    let dict = std::str::from_utf8(c.take(hlen, "npy header")?)
        .map_err(|_| FormatError::new(at, "npy header is not text"))?;
    let bad = |m: String| FormatError::new(at, m);
    let d = dict_value(dict, "descr").ok_or_else(|| bad("npy header has no 'descr'".into()))?;
    let d = d.trim_matches(|ch| ch == '\'' || ch == '"');
    let dtype = dtype_of_descr(d).ok_or_else(|| bad(format!("unsupported npy dtype '{d}'")))?;
    if dict_value(dict, "fortran_order") != Some("False") {
        return Err(bad("Fortran-order .npy arrays are not supported".into()));
    }
    let s = dict_value(dict, "shape").ok_or_else(|| bad("npy header has no 'shape'".into()))?;
    let inner = s
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| bad(format!("bad npy shape {s}")))?;
    let mut shape = inner
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<usize>()
                .map_err(|_| bad(format!("bad npy shape {s}")))
        })
        .collect::<ParseResult<Vec<_>>>()?;
    if shape.is_empty() {
        shape.push(1);
    }
    let nbytes = shape
        .iter()
        .try_fold(dtype.size(), |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad(format!("npy shape {s} overflows")))?;
    let range = c.span(nbytes, "npy data")?;
    c.expect_end("the npy data")?;
    Ok(Tensor {
        dtype,
        shape,
        data: Bytes::Shared {
            buf: Arc::clone(buf),
            range,
        },
    })
}

/// Parses `.npy` bytes (copied once into a shared buffer).
///
/// ```
/// use graphprep::format::{array::ArraySource, npy};
///
/// let labels = [3i64, 1, 4];
/// let mut bytes = Vec::new();
/// npy::write_npy(&mut bytes, &ArraySource::slice(&labels)).unwrap();
/// assert_eq!(bytes.len(), 128 + 24); // numpy's 128-byte header, then the data
/// let t = npy::read_npy(&bytes).unwrap();
/// assert_eq!((t.shape.as_slice(), t.get::<i64>(2)), (&[3][..], Some(4)));
/// assert!(npy::read_npy(&bytes[..100]).is_err());
/// ```
pub fn read_npy(bytes: &[u8]) -> ParseResult<Tensor> {
    parse_npy(&Arc::new(SharedBuf::Heap(bytes.to_vec())))
}

/// Maps and parses a `.npy` file; the tensor is a view into the mapping.
pub fn load_npy(path: &Path) -> Result<Tensor> {
    parse_npy(&map_file(path)?).map_err(|e| e.at(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_numpy_save() {
        // What numpy 1.26's `np.save` writes for zeros((3, 4), float32) and zeros(5, int64):
        // 128 bytes, header length 0x76, the dict padded with spaces, then a newline.
        let numpy = |dict: &str| {
            let mut v = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
            v.extend_from_slice(dict.as_bytes());
            v.resize(127, b' ');
            v.push(b'\n');
            v
        };
        assert_eq!(
            header(DType::F32, &[3, 4]),
            numpy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }")
        );
        assert_eq!(
            header(DType::I64, &[5]),
            numpy("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }")
        );
    }

    #[test]
    fn round_trip_and_errors() {
        let v = [1.5f32, -2.0, 3.25, 4.0, 5.0, 6.0];
        let t = Tensor::from_vec(vec![3, 2], v.to_vec());
        let mut bytes = Vec::new();
        write_npy(&mut bytes, &ArraySource::tensor(&t)).unwrap();
        let back = read_npy(&bytes).unwrap();
        assert_eq!(back.shape, vec![3, 2]);
        assert_eq!(back.values::<f32>().unwrap().as_ref(), &v);
        let e = read_npy(&bytes[..bytes.len() - 2]).unwrap_err();
        assert!(e.msg.contains("truncated"), "{e}");
        let mut f = bytes.clone();
        f[20] = b'X';
        assert!(read_npy(&f).is_err());
    }
}
