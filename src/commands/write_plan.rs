//! What `set`, `push` and `copy` share: the diff of the wanted values against what the target
//! holds, and applying it safely.
//!
//! Invariants:
//! - Every name and value is checked before any I/O; a name the target could not read back as
//!   written, or a value no store holds (not UTF-8, a NUL byte), fails the command with nothing
//!   written.
//! - A name the target holds with a different value is replaced only with `--overwrite`;
//!   without it nothing at all is written. An unchanged value is never written again.
//! - `--dry-run` reads the target and prints `create`, `update` or `unchanged` per name.
//! - Output names names and outcomes, never a value. A partial failure prints each name's
//!   outcome and fails (125); since unchanged values are skipped, a re-run writes only the rest.

use std::io::Write;
use std::sync::Arc;

use crate::cli::settings;
use crate::cli::WriteArgs;
use crate::error::Error;
use crate::providers::write::{Change, Writer};
use crate::providers::{self, Context, Entries};
use crate::secret::{EnvName, SecretValue};

use super::{Session, Stop};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Unchanged,
}

impl Action {
    fn planned(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Unchanged => "unchanged",
        }
    }
}

/// What to do with each wanted name, in the order wanted, given what the target holds now (a
/// later duplicate in `current` wins, as when it is read).
pub fn diff(current: &Entries, wanted: &[(EnvName, SecretValue)]) -> Vec<Action> {
    wanted
        .iter()
        .map(
            |(name, value)| match current.iter().rev().find(|(held, _)| held == name) {
                None => Action::Create,
                Some((_, held)) if held.expose() == value.expose() => Action::Unchanged,
                Some(_) => Action::Update,
            },
        )
        .collect()
}

/// The names the store `target` holds now, read as a write reads them first (which checks the
/// credentials; a secret not created yet holds none).
pub fn stored_names(session: &Session, target: &str) -> Result<Vec<EnvName>, Stop> {
    let writer = writer(session, target)?;
    let current = current(session, target, writer.as_ref())?;
    Ok(current.into_iter().map(|(name, _)| name).collect())
}

fn writer(session: &Session, target: &str) -> Result<Box<dyn Writer>, Error> {
    let spec = settings::parse_spec(target)?;
    let context = Arc::new(Context::new(
        session.env.clone(),
        session.plan.sources.fetch.clone(),
    ));
    providers::writer(spec, &context).map_err(|problem| Error::Spec {
        spec: target.to_string(),
        problem,
    })
}

fn current(session: &Session, target: &str, writer: &dyn Writer) -> Result<Entries, Stop> {
    Ok(session
        .block_on(writer.current())?
        .map_err(|error| Error::Source {
            origin: target.to_string(),
            error,
        })?)
}

/// Writes `wanted` to the target `args.to` names; returns the exit status.
pub fn apply(
    session: &Session,
    args: &WriteArgs,
    wanted: Vec<(EnvName, SecretValue)>,
) -> Result<i32, Stop> {
    let target = args.to.as_str();
    let writer = writer(session, target)?;
    let unwritable = |name: &EnvName, problem| Error::Unwritable {
        target: target.to_string(),
        name: name.to_string(),
        problem,
    };
    let mut errors = Vec::new();
    for (name, value) in &wanted {
        if let Some(problem) = writer.refuses_name(name) {
            errors.push(unwritable(name, problem));
        } else if let Some(problem) = writer.refuses_value(value) {
            errors.push(unwritable(name, problem));
        } else if value.contains_nul() {
            errors.push(unwritable(
                name,
                "the value contains a NUL byte, which no environment variable can hold",
            ));
        } else if std::str::from_utf8(value.expose()).is_err() {
            errors.push(unwritable(
                name,
                "the value is not UTF-8 text, which the stores hold",
            ));
        }
    }
    if let Some(error) = Error::from_many(errors) {
        return Err(error.into());
    }

    let current = current(session, target, writer.as_ref())?;
    let actions = diff(&current, &wanted);
    drop(current);
    let out = std::io::stdout();
    let mut out = out.lock();
    let print = |out: &mut std::io::StdoutLock, word: &str, name: &EnvName| {
        writeln!(out, "{word:<9} {name}").map_err(Error::Output)
    };
    if args.dry_run {
        for ((name, _), action) in wanted.iter().zip(&actions) {
            print(&mut out, action.planned(), name)?;
        }
        return Ok(0);
    }
    let blocked: Vec<String> = wanted
        .iter()
        .zip(&actions)
        .filter(|(_, action)| **action == Action::Update)
        .map(|((name, _), _)| name.to_string())
        .collect();
    if !args.overwrite && !blocked.is_empty() {
        return Err(Error::WouldOverwrite {
            target: target.to_string(),
            names: blocked,
        }
        .into());
    }

    let mut changes = Vec::new();
    let mut order = Vec::new();
    for ((name, value), action) in wanted.into_iter().zip(actions) {
        order.push((name.clone(), action));
        if action != Action::Unchanged {
            changes.push(Change {
                name,
                value,
                exists: action == Action::Update,
            });
        }
    }
    let mut outcomes = if changes.is_empty() {
        Vec::new()
    } else {
        session.block_on(writer.write(&changes))?
    };
    drop(changes);
    let total = outcomes.len();
    let mut failed = Vec::new();
    // Each name's outcome in the order the names were given.
    for (name, action) in order {
        let outcome = match outcomes.iter().position(|(written, _)| *written == name) {
            Some(at) => outcomes.swap_remove(at).1,
            None => Ok(()),
        };
        match outcome {
            Ok(()) => print(&mut out, action.done(), &name)?,
            Err(error) => {
                print(&mut out, "failed", &name)?;
                // Said at once, beside the name's line; the summary error comes last.
                let _ = writeln!(
                    std::io::stderr(),
                    "secretrun: error: {target}: variable {name} not written: {error}"
                );
                failed.push(name.to_string());
            }
        }
    }
    out.flush().map_err(Error::Output)?;
    if failed.is_empty() {
        Ok(0)
    } else {
        Err(Error::WriteIncomplete {
            target: target.to_string(),
            failed,
            total,
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> (EnvName, SecretValue) {
        (
            EnvName::new(name).unwrap(),
            SecretValue::from(value.to_string()),
        )
    }

    #[test]
    fn diff_tells_create_update_and_unchanged_with_the_last_duplicate_winning() {
        let current = vec![pair("A", "1"), pair("B", "old"), pair("B", "2")];
        let wanted = [
            pair("A", "1"),
            pair("B", "2"),
            pair("C", "3"),
            pair("A", "x"),
        ];
        assert_eq!(
            diff(&current, &wanted),
            [
                Action::Unchanged,
                Action::Unchanged,
                Action::Create,
                Action::Update
            ]
        );
    }
}
