//! Shell conventions: completion scripts and man pages are generated from the clap definition
//! (so every subcommand and flag is in them), every subcommand's `--help` carries examples, and
//! a bad `man` subcommand is a usage error.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const SUBCOMMANDS: [&str; 10] = [
    "construct",
    "decode",
    "inspect",
    "remap",
    "train",
    "infer",
    "gs_node_classification",
    "gs_node_regression",
    "completions",
    "man",
];

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, out, err) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for sub in SUBCOMMANDS {
            assert!(out.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(out.contains("conf-file"), "{shell}: construct's flags");
        assert!(err.is_empty(), "{shell}: stderr {err}");
    }
    let (code, _, _) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2, "unknown shell is a usage error");
}

#[test]
fn man_pages_for_the_tool_and_each_subcommand() {
    let (code, out, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(out.contains(".TH graphprep 1"), "{out}");
    for sub in SUBCOMMANDS {
        assert!(out.contains(sub), "main page lists {sub}");
        let (code, page, err) = run(&["man", sub]);
        assert_eq!(code, 0, "{sub}: {err}");
        assert!(
            page.contains(&format!(".TH graphprep-{sub} 1")),
            "{sub}: {page}"
        );
        assert!(
            page.contains(env!("CARGO_PKG_VERSION")),
            "{sub}: version in the header"
        );
    }
    let (_, page, _) = run(&["man", "construct"]);
    assert!(
        page.contains("\\-\\-conf\\-file"),
        "construct page lists its flags"
    );
    let (code, _, err) = run(&["man", "nosuch"]);
    assert_eq!(code, 2);
    assert!(err.contains("no subcommand 'nosuch'"), "{err}");
}

#[test]
fn every_subcommand_help_has_examples() {
    for sub in SUBCOMMANDS {
        let (code, out, err) = run(&[sub, "--help"]);
        assert_eq!(code, 0, "{sub}: {err}");
        assert!(
            out.contains("Example"),
            "{sub} --help has no example:\n{out}"
        );
        assert!(
            out.contains(&format!("graphprep {sub}")),
            "{sub}: example runs {sub}"
        );
    }
}
