//! The subcommands (`show`, `get`, `export`, `scan`, `check`), one file each, and the
//! [`Session`] they share with a plain run.
//!
//! Every subcommand and the run itself get the merged environment from [`merged`]: the same
//! stages (resolve → merge → file variables) in the same order, so what a subcommand prints,
//! writes, searches for or checks is exactly what the command would get. A subcommand returns
//! its exit status; a signal that arrives while sources are being fetched stops it the way it
//! stops a run (see [`Stop`]).

pub mod check;
pub mod encrypt;
pub mod export;
pub mod get;
pub mod init;
pub mod push;
pub mod scan;
pub mod set;
pub mod write_plan;

use std::future::Future;
use std::io::Write;

use nix::sys::signal::Signal;

use crate::cli::{Command, ShowArgs};
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::merge::{self, ChildEnv};
use crate::plan::Plan;
use crate::signals::Signals;
use crate::{file_vars, resolve, show};

/// Exit status of `scan` when a value was found and of `check` when a check failed: a result,
/// not a failure of secretrun (which is 125).
pub const EXIT_FOUND: i32 = 1;

/// Why a run or a subcommand ended before it finished.
#[derive(Debug)]
pub enum Stop {
    Failed(Error),
    /// A signal arrived while sources were being fetched; secretrun dies of it.
    Signal(Signal),
}

impl From<Error> for Stop {
    fn from(error: Error) -> Self {
        Stop::Failed(error)
    }
}

/// What every subcommand and the run need: the plan, the parent environment, and the signals
/// that may interrupt fetching.
pub struct Session<'a> {
    pub plan: &'a Plan,
    pub env: &'a ParentEnv,
    pub signals: &'a Signals,
}

impl Session<'_> {
    /// Runs `work` on a fresh single-threaded runtime, unless a stop signal arrives first.
    pub fn block_on<T>(&self, work: impl Future<Output = T>) -> Result<T, Stop> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Output)?;
        let finished = runtime.block_on(async {
            tokio::select! {
                done = work => Ok(done),
                signal = self.signals.stop_requested() => Err(signal),
            }
        });
        // Not `drop`: that would wait for a blocking read still hung after a signal.
        runtime.shutdown_background();
        finished.map_err(Stop::Signal)
    }

    /// The environment the command would get.
    pub fn merged_env(&self) -> Result<ChildEnv, Stop> {
        Ok(self.block_on(merged(self.plan, self.env))??)
    }

    /// See [`check_required`].
    pub fn require(&self, child_env: &ChildEnv) -> Result<(), Error> {
        check_required(self.plan, child_env)
    }
}

/// Fails, naming every one, when a `--require`d name or a `--require-from` file's name is not
/// set, or a `[rules.NAME]` rule is broken.
pub fn check_required(plan: &Plan, child_env: &ChildEnv) -> Result<(), Error> {
    let mut missing = missing_required(plan, child_env);
    for name in plan.checks.missing_examples(child_env) {
        if !missing.contains(&name) {
            missing.push(name);
        }
    }
    let mut errors = Vec::new();
    if !missing.is_empty() {
        errors.push(Error::MissingRequired(missing));
    }
    let environment = rules_environment(plan, child_env);
    errors.extend(
        plan.checks
            .violations(child_env, environment.as_deref())
            .into_iter()
            .map(Error::RuleBroken),
    );
    Error::from_many(errors).map_or(Ok(()), Err)
}

/// The environment `[rules.NAME]` tables see: as given, else the Doppler config's when a
/// `doppler:` source is used (its `config=`, else `DOPPLER_CONFIG`).
pub fn rules_environment(plan: &Plan, child_env: &ChildEnv) -> Option<String> {
    if plan.checks.environment.is_some() {
        return plan.checks.environment.clone();
    }
    let doppler = plan
        .sources
        .iter()
        .find(|source| source.spec.kind == crate::source::SourceKind::Doppler)?;
    let config = doppler.spec.clone().take_value("config").ok().flatten();
    let config = config.or_else(|| {
        let entry = child_env.vars.get(std::ffi::OsStr::new("DOPPLER_CONFIG"))?;
        Some(String::from_utf8_lossy(entry.value.as_bytes()).into_owned())
    });
    crate::rules::doppler_environment(config.as_deref())
}

/// The required names `child_env` lacks, in the order they were required.
pub fn missing_required(plan: &Plan, child_env: &ChildEnv) -> Vec<String> {
    plan.required
        .iter()
        .filter(|name| !child_env.contains(name.as_str()))
        .map(ToString::to_string)
        .collect()
}

/// Resolves every source of `plan` and merges them over `env`: the one path from a plan to the
/// child's environment.
pub async fn merged(plan: &Plan, env: &ParentEnv) -> Result<ChildEnv, Error> {
    merged_sharing(plan, env, None).await
}

/// [`merged`], with answers shared with other resolutions of the same command.
pub async fn merged_sharing(
    plan: &Plan,
    env: &ParentEnv,
    shared: Option<&resolve::Sharing>,
) -> Result<ChildEnv, Error> {
    let resolved = resolve::resolve_sharing(plan, env, shared).await?;
    let mut rules = plan.rules.clone();
    rules.consumed.extend(resolved.consumed);
    let mut child_env = merge::merge(env, &resolved.layers, &resolved.substitutions, &rules)?;
    // The layers hold a second copy of every secret; free it as soon as possible.
    drop(resolved.layers);
    if plan.file_vars {
        file_vars::apply(&mut child_env, &rules)?;
    }
    Ok(child_env)
}

/// Runs a subcommand; returns its exit status.
pub fn run(command: Command, session: &Session) -> Result<i32, Stop> {
    match command {
        Command::Show(args) => show_env(session, &args),
        Command::Get(args) => get::run(session, &args),
        Command::Export(args) => export::run(session, &args),
        Command::Scan(args) => scan::run(session, &args),
        Command::Check(args) => check::run(session, &args),
        Command::Encrypt(args) => encrypt::encrypt(session, &args),
        Command::Decrypt(args) => encrypt::decrypt(session, &args),
        Command::Set(args) => set::run(session, &args),
        Command::Push(args) | Command::Copy(args) => push::run(session, &args),
        Command::Init(args) => init::run(session, &args),
    }
}

/// `show` prints the table even when a required name is missing, so the user sees what is
/// there; then it fails.
fn show_env(session: &Session, args: &ShowArgs) -> Result<i32, Stop> {
    let child_env = session.merged_env()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let encrypted = encrypted_names(session.plan);
    show::render(&child_env, args, &encrypted, &mut out)
        .and_then(|()| out.flush())
        .map_err(Error::Output)?;
    session.require(&child_env)?;
    Ok(0)
}

/// The (source, name) pairs of the plan's `.env` files whose values are dotenvx-encrypted, for
/// `show` to mark. Read from the files as they are now; a file that cannot be read marks none.
fn encrypted_names(plan: &Plan) -> std::collections::BTreeSet<(String, String)> {
    let mut found = std::collections::BTreeSet::new();
    for source in &plan.sources {
        if source.spec.kind != crate::source::SourceKind::Dotenv {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&source.spec.location) else {
            continue;
        };
        for assignment in crate::envfile::assignments(&text) {
            if assignment
                .inner(&text)
                .starts_with(crate::dotenvx::ENCRYPTED_PREFIX)
            {
                let name = assignment.name(&text).to_string();
                found.insert((source.origin.clone(), name));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::SourceArgs;
    use crate::merge::MergeRules;
    use crate::plan::CliInput;
    use crate::source::SourceSpec;

    fn plan(specs: &[&str], environment: Option<&str>) -> Plan {
        let mut input = CliInput {
            sources: SourceArgs {
                no_config: true,
                ..SourceArgs::default()
            },
            ordered_specs: specs
                .iter()
                .map(|s| SourceSpec::parse(s).unwrap())
                .collect(),
            ..CliInput::default()
        };
        input.rules.environment = environment.map(String::from);
        Plan::build(input, &ParentEnv::default(), false).unwrap()
    }

    fn child_env(pairs: &[(&str, &str)]) -> ChildEnv {
        let parent = ParentEnv::from_pairs(pairs.iter().copied());
        merge::merge(&parent, &[], &Default::default(), &MergeRules::default()).unwrap()
    }

    #[test]
    fn rules_see_the_given_environment_else_the_doppler_configs() {
        let doppler_config = child_env(&[("DOPPLER_CONFIG", "stg_eu")]);
        assert_eq!(
            rules_environment(&plan(&["doppler:*?config=prd_eu"], None), &doppler_config),
            Some("prd".into())
        );
        assert_eq!(
            rules_environment(&plan(&["doppler:APP"], None), &doppler_config),
            Some("stg".into())
        );
        assert_eq!(
            rules_environment(&plan(&["doppler:APP"], Some("dev")), &doppler_config),
            Some("dev".into())
        );
        assert_eq!(
            rules_environment(&plan(&["dotenv:.env"], None), &doppler_config),
            None
        );
    }
}
