//! `twinport completions <shell>` and `twinport man`: shell completions and manual pages generated from the
//! command's own clap definition, so they list exactly the subcommands and flags this build accepts.

use std::path::Path;

use clap::CommandFactory;

use super::Cli;

/// Writes the completion script for `shell` to stdout (e.g. `twinport completions bash >
/// /etc/bash_completion.d/twinport`).
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "twinport", &mut std::io::stdout());
    Ok(())
}

/// The manual page of `twinport` as roff on stdout, or, with `dir`, one page per command and subcommand
/// (`twinport.1`, `twinport-serve.1`, `twinport-config-check.1`, ...) written into it.
pub fn man(dir: Option<&Path>) -> anyhow::Result<()> {
    let command = Cli::command();
    match dir {
        None => {
            clap_mangen::Man::new(command).render(&mut std::io::stdout())?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
            clap_mangen::generate_to(command, dir).map_err(|e| {
                anyhow::anyhow!("cannot write manual pages into {}: {e}", dir.display())
            })?;
            println!("manual pages written to {}", dir.display());
        }
    }
    Ok(())
}
