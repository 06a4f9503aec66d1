//! `man/` and `completions/` are generated from the clap definition and checked in; this test
//! fails when they are stale. Regenerate with:
//!     SECRETRUN_REGENERATE=1 cargo test --test it generated

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use secretrun::cli::Cli;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every generated file with its expected content.
fn expected_files() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let command = Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .unwrap();
    files.push((repo().join("man/secretrun.1"), page));
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut page = Vec::new();
        let name = format!("secretrun-{}", sub.get_name());
        clap_mangen::Man::new(sub.clone().name(&*name.clone().leak()))
            .render(&mut page)
            .unwrap();
        files.push((repo().join(format!("man/{name}.1")), page));
    }
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut script = Vec::new();
        let mut command = Cli::command();
        clap_complete::generate(shell, &mut command, "secretrun", &mut script);
        let file = match shell {
            Shell::Bash => "secretrun.bash",
            Shell::Zsh => "_secretrun",
            Shell::Fish => "secretrun.fish",
            Shell::Elvish => "secretrun.elv",
            _ => "_secretrun.ps1",
        };
        files.push((repo().join("completions").join(file), script));
    }
    files
}

#[test]
fn man_pages_and_completions_are_up_to_date() {
    let regenerate = std::env::var_os("SECRETRUN_REGENERATE").is_some();
    let mut stale = Vec::new();
    for (path, content) in expected_files() {
        if regenerate {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &content).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(content.as_slice()) {
            stale.push(path.strip_prefix(repo()).unwrap().display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files: {}; regenerate with: SECRETRUN_REGENERATE=1 cargo test --test it \
         generated",
        stale.join(", ")
    );
}

#[test]
fn help_states_the_priority_rules() {
    let help = Cli::command().render_long_help().to_string();
    assert!(help.contains("Priority, lowest to highest"), "{help}");
    let page = std::fs::read_to_string(repo().join("man/secretrun.1")).unwrap();
    assert!(page.contains("Priority, lowest to highest"));
}
