//! One fixture per invalid input under `tests/fixtures/invalid/<case>/`: `config.json` plus its
//! data files and `expected_error.txt` (a phrase the error message must contain). Each case must
//! exit with code 1, print that phrase on stderr and leave no output behind.

mod common;

use std::path::Path;
use std::process::Command;

fn run_case(case: &Path) -> Result<(), String> {
    let expected =
        std::fs::read_to_string(case.join("expected_error.txt")).map_err(|e| e.to_string())?;
    let expected = expected.trim();
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out_dir = tmp.path().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(["construct", "--quiet", "--graph-name", "g", "--conf-file"])
        .arg(case.join("config.json"))
        .arg("--output-dir")
        .arg(&out_dir)
        .current_dir(tmp.path())
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(1) {
        return Err(format!(
            "exit code {:?} (want 1); stderr: {stderr}",
            out.status.code()
        ));
    }
    if !stderr.contains(expected) {
        return Err(format!("stderr does not contain {expected:?}: {stderr}"));
    }
    if out_dir.exists()
        && std::fs::read_dir(&out_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        return Err(format!("output left behind in {}", out_dir.display()));
    }
    Ok(())
}

#[test]
fn every_invalid_fixture_fails_cleanly() {
    let cases = common::invalid_cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            run_case(c)
                .err()
                .map(|e| format!("{}: {e}", c.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args([
            "construct",
            "--conf-file",
            "x.json",
            "--output-dir",
            "o",
            "--graph-name",
            "my graph",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--graph-name"));
    let out = Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(["construct", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
