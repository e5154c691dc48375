//! Command-line interface (in progress).
use std::ffi::OsString;
pub fn run(_args: impl IntoIterator<Item = OsString>) -> i32 {
    0
}
