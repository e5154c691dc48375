//! Build script: with the `train` feature, give the binary an rpath to the libtorch it was
//! linked against (torch-sys passes its lib dir to direct dependents as DEP_TCH_LIBTORCH_LIB), so
//! `target/release/graphprep train` runs from any directory without LD_LIBRARY_PATH.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if std::env::var_os("CARGO_FEATURE_TRAIN").is_some() {
        if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
            // libtorch.so in .libtorch is an empty stub; keep the real libtorch_cpu.so needed.
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        }
    }
}
