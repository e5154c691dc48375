//! `graphprep completions SHELL` and `graphprep man [SUBCOMMAND]`: shell completion scripts
//! (clap_complete) and roff man pages (clap_mangen) generated from the same clap definition the
//! parser uses, so they never drift from the real flags. Both print on stdout only.

use clap::{Args, CommandFactory};

use super::Cli;

/// Flags of `graphprep completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to generate the completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `graphprep man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand's page (`graphprep-construct(1)`, ...) instead of the main page.
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

pub fn completions(a: CompletionsArgs) -> i32 {
    let mut cmd = Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "graphprep", &mut std::io::stdout());
    0
}

pub fn man(a: ManArgs) -> i32 {
    let cmd = Cli::command();
    let page = match &a.subcommand {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => {
                // clap names are &'static str; one page per process, so leaking it is fine.
                let full: &'static str = Box::leak(format!("graphprep-{name}").into_boxed_str());
                sub.clone().name(full).version(env!("CARGO_PKG_VERSION"))
            }
            None => {
                let names: Vec<String> = cmd
                    .get_subcommands()
                    .map(|s| s.get_name().to_string())
                    .collect();
                eprintln!(
                    "error: no subcommand '{name}' (subcommands: {})",
                    names.join(", ")
                );
                return 2;
            }
        },
    };
    let mut out = Vec::new();
    if let Err(e) = clap_mangen::Man::new(page).render(&mut out) {
        eprintln!("error: cannot render the man page: {e}");
        return 1;
    }
    if let Err(e) = std::io::Write::write_all(&mut std::io::stdout(), &out) {
        eprintln!("error: cannot write the man page: {e}");
        return 1;
    }
    0
}
