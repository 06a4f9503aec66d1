//! `secretrun init --store SPEC --yes`: moves a project's `.env` secrets into a store and sets
//! the project up to read them from there. `--yes` is the non-interactive path (what CI scripts
//! use); without it, on a terminal, the wizard ([`wizard`]) asks for the same choices, then the
//! same steps run.
//!
//! Steps, in an order that leaves nothing half-done when one fails or a signal stops it:
//! 1. The store: `--store`, else the first source of `./secretrun.toml` that is not a `.env`
//!    file (a re-run starts from the saved choice).
//! 2. The secrets of the `.env` file (`--from`, default `.env`; `--only` selects names), written
//!    to the store by [`write_plan::apply`], which first reads the store with its own reader:
//!    credentials that do not work fail here, before any file is touched. A name the store
//!    holds with another value needs `--overwrite`.
//! 3. A copy of the `.env` file (`.env.secretrun-backup-UNIXTIME`, mode 0600), then the file
//!    with each moved assignment commented out under a note naming the store.
//! 4. `secretrun.toml` (`sources = [".env file", STORE]`) when there is none; an existing one is
//!    left as it is, with a warning when it does not read the store.
//! 5. `.env.example`: every name of the `.env` file (and of an existing example), no values.
//! 6. `.env` in `.gitignore`, inside a git work tree.
//! 7. The command to run.
//!
//! Every file is replaced atomically (a temporary file renamed over it), so an interruption
//! leaves each file old or new, never half-written.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::cli::config::{LoadedConfig, DEFAULT_FILE_NAME};
use crate::cli::{InitArgs, WriteArgs};
use crate::envfile;
use crate::error::Error;
use crate::providers::{self, write::replace_file};
use crate::secret::{EnvName, SecretValue};
use crate::source::SourceKind;

use super::{write_plan, Session, Stop};

mod wizard;

/// What init does, collected from the flags (`--yes`) or asked by the wizard.
struct Choices {
    /// `None`: the secrets stay in the `.env` file (the wizard's ".env only").
    store: Option<String>,
    from: String,
    /// `None`: every name of the `.env` file.
    only: Option<Vec<String>>,
    overwrite: bool,
}

pub fn run(session: &Session, args: &InitArgs) -> Result<i32, Stop> {
    let choices = if args.yes {
        Choices {
            store: Some(store_spec(args.store.as_deref())?),
            from: args.from.clone(),
            only: (!args.only.is_empty()).then(|| args.only.clone()),
            overwrite: args.overwrite,
        }
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        match wizard::ask(session, args)? {
            Some(choices) => choices,
            None => return Ok(1),
        }
    } else {
        return Err(init_error(
            "no terminal for the wizard: name the store and confirm with \
             `secretrun init --store SPEC --yes` (add --from FILE for another .env file)",
        )
        .into());
    };
    apply(session, &choices)
}

/// The steps listed above, for choices already made.
fn apply(session: &Session, choices: &Choices) -> Result<i32, Stop> {
    let env_path = PathBuf::from(&choices.from);
    let dotenv_spec = format!("dotenv:{}", choices.from);

    let text = match std::fs::read_to_string(&env_path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(Error::WriteFile {
                path: env_path,
                source,
            }
            .into())
        }
    };
    let wanted: Vec<(EnvName, SecretValue)> = match &choices.store {
        None => Vec::new(),
        Some(_) => read_values(session, &dotenv_spec)?
            .into_iter()
            .filter(|(name, _)| {
                choices
                    .only
                    .as_ref()
                    .is_none_or(|only| only.iter().any(|only| only == name.as_str()))
            })
            .collect(),
    };
    let mut out = std::io::stdout().lock();
    let say = |out: &mut std::io::StdoutLock, line: String| {
        writeln!(out, "{line}").map_err(Error::Output)
    };

    if let (Some(store), false) = (&choices.store, wanted.is_empty()) {
        drop(out);
        let write = WriteArgs {
            to: store.clone(),
            dry_run: false,
            overwrite: choices.overwrite,
        };
        let status = write_plan::apply(session, &write, wanted.clone())?;
        if status != 0 {
            return Ok(status);
        }
        out = std::io::stdout().lock();
        let backup = back_up(&env_path)?;
        say(&mut out, format!("backup     {}", backup.display()))?;
        let moved: BTreeSet<&str> = wanted.iter().map(|(name, _)| name.as_str()).collect();
        let commented = comment_out(&text, &moved, store);
        replace_file(&env_path, commented.as_bytes()).map_err(|source| Error::WriteFile {
            path: env_path.clone(),
            source,
        })?;
        say(
            &mut out,
            format!("commented  {} name(s) out of {}", moved.len(), choices.from),
        )?;
    } else if choices.store.is_some() {
        say(&mut out, format!("nothing to move from {}", choices.from))?;
    }

    let config = Path::new(DEFAULT_FILE_NAME);
    if config.exists() {
        let loaded = LoadedConfig::load(config)?;
        let store = choices.store.as_ref();
        if let Some(store) = store.filter(|store| !loaded.config.sources.contains(store)) {
            tracing::warn!("{DEFAULT_FILE_NAME} does not read {store}: add it to its sources");
        }
    } else {
        let sources: Vec<toml::Value> = std::iter::once(&dotenv_spec)
            .chain(&choices.store)
            .map(|spec| spec.clone().into())
            .collect();
        let sources = toml::Value::Array(sources);
        let note = match choices.store {
            Some(_) => "the .env file first, the store above it",
            None => "the .env file",
        };
        let content = format!("# Written by secretrun init: {note}.\nsources = {sources}\n");
        write_new(config, &content)?;
        say(&mut out, format!("wrote      {DEFAULT_FILE_NAME}"))?;
    }

    let example = PathBuf::from(format!("{}.example", choices.from));
    write_example(&example, &text)?;
    say(&mut out, format!("wrote      {}", example.display()))?;
    if ignore_in_git(&choices.from)? {
        say(
            &mut out,
            format!("ignored    {} in .gitignore", choices.from),
        )?;
    }
    say(
        &mut out,
        "\nDone. Run your command with its secrets:\n  secretrun -- YOUR_COMMAND".to_string(),
    )?;
    Ok(0)
}

fn init_error(problem: &str) -> Error {
    Error::Settings {
        setting: "init",
        problem: problem.to_string(),
    }
}

/// `--store`, else the saved choice in `./secretrun.toml`.
fn store_spec(given: Option<&str>) -> Result<String, Error> {
    if let Some(store) = given.map(str::to_string).or(saved_store()?) {
        return Ok(store);
    }
    Err(init_error(
        "no store: give --store SPEC (e.g. vault:secret/app), or run where secretrun.toml names one",
    ))
}

/// The first source of `./secretrun.toml` that is not a `.env` file.
fn saved_store() -> Result<Option<String>, Error> {
    let config = Path::new(DEFAULT_FILE_NAME);
    if config.exists() {
        let loaded = LoadedConfig::load(config)?;
        let saved = loaded.config.sources.into_iter().find(|text| {
            crate::source::SourceSpec::parse(text).is_ok_and(|spec| spec.kind != SourceKind::Dotenv)
        });
        return Ok(saved);
    }
    Ok(None)
}

/// The `.env` file's names and values, read as `--env-file` reads it (none when it is missing).
fn read_values(session: &Session, spec: &str) -> Result<Vec<(EnvName, SecretValue)>, Stop> {
    let mut parsed = crate::cli::settings::parse_spec(&format!("{spec}?optional"))?;
    parsed = parsed.with_text(spec);
    let context = std::sync::Arc::new(providers::Context::new(
        session.env.clone(),
        session.plan.sources.fetch.clone(),
    ));
    let provider = providers::build(parsed, &context).map_err(|problem| Error::Spec {
        spec: spec.to_string(),
        problem,
    })?;
    let entries = session
        .block_on(provider.fetch())?
        .map_err(|error| Error::Source {
            origin: spec.to_string(),
            error,
        })?;
    // A later assignment wins, as when the file is read.
    let mut values: Vec<(EnvName, SecretValue)> = Vec::new();
    for (name, value) in entries {
        values.retain(|(earlier, _)| *earlier != name);
        values.push((name, value));
    }
    Ok(values)
}

/// Copies `path` (if it exists) beside itself, mode 0600; the copy's path.
fn back_up(path: &Path) -> Result<PathBuf, Error> {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let backup = PathBuf::from(format!("{}.secretrun-backup-{seconds}", path.display()));
    let content = std::fs::read(path).unwrap_or_default();
    write_new(&backup, &String::from_utf8_lossy(&content))?;
    Ok(backup)
}

/// `text` with every assignment of a moved name commented out, each under a note.
fn comment_out(text: &str, moved: &BTreeSet<&str>, store: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64 * moved.len());
    let mut copied = 0;
    for assignment in envfile::assignments(text) {
        let name = assignment.name(text);
        if !moved.contains(name) {
            continue;
        }
        let start = text[..assignment.raw.start]
            .rfind('\n')
            .map_or(0, |at| at + 1);
        if start < copied {
            continue;
        }
        let end = text[assignment.raw.end..]
            .find('\n')
            .map_or(text.len(), |at| assignment.raw.end + at);
        out.push_str(&text[copied..start]);
        out.push_str(&format!("# {name}: moved to {store} by secretrun init\n"));
        for line in text[start..end].split('\n') {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        copied = (end + 1).min(text.len());
    }
    out.push_str(&text[copied..]);
    out
}

/// Writes `.env.example`: the names of `text` and of the example already there, no values.
fn write_example(path: &Path, text: &str) -> Result<(), Error> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for source in [&existing, &text.to_string()] {
        for assignment in envfile::assignments(source) {
            let name = assignment.name(source).to_string();
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let content: String = names.iter().map(|name| format!("{name}=\n")).collect();
    replace_file(path, content.as_bytes()).map_err(|source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    })
}

/// Adds `entry` to `./.gitignore` inside a git work tree; whether it was added.
fn ignore_in_git(entry: &str) -> Result<bool, Error> {
    let in_git = std::process::Command::new("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !in_git {
        return Ok(false);
    }
    let path = Path::new(".gitignore");
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let wanted = [entry, &format!("/{entry}")];
    if existing.lines().any(|line| wanted.contains(&line.trim())) {
        return Ok(false);
    }
    let mut content = existing;
    if !content.is_empty() && !content.ends_with('\n') {
        content.push('\n');
    }
    content.push_str(entry);
    content.push('\n');
    replace_file(path, content.as_bytes()).map_err(|source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(true)
}

/// Creates `path` with `content`, atomically, mode 0600.
fn write_new(path: &Path, content: &str) -> Result<(), Error> {
    replace_file(path, content.as_bytes()).map_err(|source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moved_assignments_are_commented_out_under_a_note() {
        let text = "# db\nA=1\nB=\"two\nlines\"\nexport C=3 # keep\n";
        let moved = BTreeSet::from(["B", "C"]);
        assert_eq!(
            comment_out(text, &moved, "vault:secret/app"),
            "# db\nA=1\n# B: moved to vault:secret/app by secretrun init\n# B=\"two\n# lines\"\n\
             # C: moved to vault:secret/app by secretrun init\n# export C=3 # keep\n"
        );
    }
}
