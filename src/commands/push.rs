//! `secretrun push --from SPEC... --to SPEC` and `copy` (the same between two stores): every
//! name the `--from` sources resolve to, written by [`super::write_plan`].
//!
//! The `--from` sources are resolved as a run resolves them (the same stages, ranks and
//! declared order), but on their own: no config file, no `$CREDENTIALS_DIRECTORY`, no
//! `SECRETS_MANAGER` settings and no snapshot, and the parent environment is not merged in, so
//! only what the sources hold is written (the parent still provides their credentials).

use std::collections::BTreeSet;

use crate::cli::settings::{self, CliInput, Settings};
use crate::cli::{PushArgs, SourceArgs};
use crate::env::merge::{self, ChildEnv};
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::plan::Plan;
use crate::resolve;
use crate::secret::{EnvName, SecretValue};

use super::{write_plan, Session, Stop};

pub fn run(session: &Session, args: &PushArgs) -> Result<i32, Stop> {
    let from = sources_plan(session, &args.from)?;
    let resolved = session.block_on(read_sources(&from, session.env))??;
    let wanted = selected(resolved, args)?;
    write_plan::apply(session, &args.write, wanted)
}

/// A plan of the `--from` sources alone, with the run's fetch settings.
fn sources_plan(session: &Session, from: &[String]) -> Result<Plan, Error> {
    let specs = from
        .iter()
        .map(|text| settings::parse_spec(text))
        .collect::<Result<Vec<_>, _>>()?;
    let input = CliInput {
        sources: SourceArgs {
            no_config: true,
            no_credentials_directory: true,
            no_secrets_settings: true,
            no_fallback: true,
            ..SourceArgs::default()
        },
        ordered_specs: specs,
        ..CliInput::default()
    };
    let mut plan = Plan::build(Settings::build(input, session.env)?, session.env, false)?;
    plan.sources.fetch = session.plan.sources.fetch.clone();
    Ok(plan)
}

/// The sources' names and values, merged by the usual ranks over an empty parent.
async fn read_sources(plan: &Plan, env: &ParentEnv) -> Result<ChildEnv, Error> {
    let resolved = resolve::resolve(&plan.sources, env, None).await?;
    let mut rules = plan.rules.clone();
    rules.consumed.extend(resolved.consumed);
    merge::merge(
        &ParentEnv::default(),
        &resolved.layers,
        &resolved.substitutions,
        &rules,
    )
}

/// The names `--only` and `--prefix` select, in name order; an `--only` name no source sets
/// is an error.
fn selected(resolved: ChildEnv, args: &PushArgs) -> Result<Vec<(EnvName, SecretValue)>, Error> {
    let only: BTreeSet<&str> = args.only.iter().map(String::as_str).collect();
    let missing: Vec<String> = only
        .iter()
        .filter(|name| !resolved.contains(name))
        .map(ToString::to_string)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Settings {
            setting: "--only",
            problem: format!("no --from source sets {}", missing.join(", ")),
        });
    }
    let mut wanted = Vec::new();
    for (name, entry) in resolved.vars {
        let Some(name) = name.to_str() else { continue };
        let chosen = (only.is_empty() || only.contains(name))
            && args
                .prefix
                .as_deref()
                .is_none_or(|prefix| name.starts_with(prefix));
        if !chosen {
            continue;
        }
        let name = EnvName::new(name).map_err(|problem| Error::InvalidName {
            what: "name",
            name: name.to_string(),
            problem,
        })?;
        wanted.push((name, SecretValue::new(entry.value.as_bytes().to_vec())));
    }
    Ok(wanted)
}
