//! `graphprep` binary: everything lives in the library; this only maps the outcome to an exit code.
fn main() {
    std::process::exit(graphprep::cli::run(std::env::args_os()));
}
