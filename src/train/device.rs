//! The compute device of libtorch work (`train`, `infer`, and `construct`'s `bert_hf`):
//! `--device auto|cpu|cuda`.
//!
//! The binary links libtorch's CPU library only; CUDA is libtorch's `libtorch_cuda.so`, loaded
//! into the process at run time when asked for (searched in `$GRAPHPREP_TORCH_LIB`, then on
//! the dynamic loader's path, e.g. a Python env's `site-packages/torch/lib` in
//! `LD_LIBRARY_PATH`). `auto` uses CUDA device 0 when that works and the CPU otherwise.

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DevicePref {
    /// CUDA when a GPU and a CUDA libtorch are present, else CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

/// The libtorch device for `pref`; `Err` only for `Cuda` without a usable GPU, saying why.
#[cfg(feature = "train")]
pub fn resolve(pref: DevicePref) -> Result<tch::Device, String> {
    if pref == DevicePref::Cpu {
        return Ok(tch::Device::Cpu);
    }
    let loaded = load_cuda();
    if tch::Cuda::is_available() {
        log::info!(
            "using CUDA device 0 ({} GPUs visible)",
            tch::Cuda::device_count()
        );
        Ok(tch::Device::Cuda(0))
    } else if pref == DevicePref::Cuda {
        Err(format!(
            "--device cuda: no usable GPU ({}). Put the directory of a CUDA libtorch 2.11.0 \
             (e.g. <venv>/lib/python3.x/site-packages/torch/lib of torch==2.11.0) in \
             GRAPHPREP_TORCH_LIB or LD_LIBRARY_PATH",
            loaded
                .err()
                .unwrap_or_else(|| "libtorch_cuda.so loaded, but torch sees no GPU".into()),
        ))
    } else {
        Ok(tch::Device::Cpu)
    }
}

/// Loads `libtorch_cuda.so` into the process (see the module docs).
#[cfg(feature = "train")]
fn load_cuda() -> Result<(), String> {
    use std::ffi::CString;
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("GRAPHPREP_TORCH_LIB") {
        candidates.push(std::path::Path::new(&dir).join("libtorch_cuda.so"));
    }
    candidates.push(std::path::PathBuf::from("libtorch_cuda.so"));
    let mut last = String::new();
    for c in candidates {
        let Ok(name) = CString::new(c.to_string_lossy().as_bytes()) else {
            continue;
        };
        // SAFETY: dlopen with a valid NUL-terminated path; the library stays loaded for the
        // process's lifetime (the handle is intentionally never closed).
        let h = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if !h.is_null() {
            return Ok(());
        }
        // SAFETY: dlerror returns a thread-local C string or null.
        let err = unsafe { libc::dlerror() };
        if !err.is_null() {
            // SAFETY: non-null dlerror result is a valid C string until the next dl* call.
            last = unsafe { std::ffi::CStr::from_ptr(err) }
                .to_string_lossy()
                .into_owned();
        }
    }
    Err(last)
}
