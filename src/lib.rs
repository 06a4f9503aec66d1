//! secretrun: resolve secrets, merge them over the environment by documented priority rules,
//! then run a command with them.
//!
//! One-way pipeline: [`cli`] → [`plan`] → [`resolve`] → [`env`] → [`run`]; see ARCHITECTURE.md.
//! Each stage sees only the previous stage's output type.

pub mod cli;
pub(crate) mod commands;
pub(crate) mod compat;
pub(crate) mod dotenvx;
pub(crate) mod env;
pub(crate) mod envfile;
pub(crate) mod environment;
pub(crate) mod error;
pub(crate) mod logging;
pub(crate) mod output;
pub mod parsers;
pub(crate) mod pipeline;
pub(crate) mod plan;
pub mod providers;
pub(crate) mod reference;
pub(crate) mod resolve;
pub(crate) mod run;
pub(crate) mod secret;
pub(crate) mod signals;
pub mod source;

use std::io::Write;
use std::sync::Arc;

use clap::ArgMatches;

use crate::cli::settings::{CliInput, Settings};
use crate::cli::{args, Cli};
use crate::environment::ParentEnv;
use crate::error::{Error, EXIT_FAILURE};
use crate::pipeline::{Session, Stop};
use crate::plan::{Mode, Plan};
use crate::run::exit::{self, ChildExit};
use crate::run::watch::Watcher;
use crate::run::{child, mount};
use crate::signals::Signals;

/// What a successful run ends with.
enum Outcome {
    /// A subcommand finished with this exit status.
    Done(i32),
    Child(ChildExit),
    /// A signal stopped secretrun before the child started.
    Interrupted(nix::sys::signal::Signal),
}

pub fn main() -> ! {
    if let Some(error) = child::hand_over_listen_pid() {
        fail(&error);
    }
    // Block signals before anything else, so none is lost and every later thread inherits it.
    let signals = match Signals::block() {
        Ok(signals) => signals,
        Err(err) => fail(&Error::Supervise(err)),
    };
    let (cli, sides) = match args::parse() {
        Ok(parsed) => parsed,
        Err(err) => {
            // --help and --version are not failures; usage errors are ours (125, as env(1)).
            let _ = err.print();
            std::process::exit(if err.use_stderr() { EXIT_FAILURE } else { 0 });
        }
    };
    logging::init(cli.output.quiet, cli.output.verbose);
    match run(cli, &sides, &signals) {
        Ok(Outcome::Done(code)) => std::process::exit(code),
        Ok(Outcome::Child(exit)) => exit::exit_as(exit),
        Ok(Outcome::Interrupted(signal)) => {
            signals.restore();
            exit::die_of(signal)
        }
        Err(err) => fail(&err),
    }
}

fn fail(err: &Error) -> ! {
    let _ = writeln!(std::io::stderr(), "secretrun: error: {err}");
    std::process::exit(err.exit_code())
}

fn run(cli: Cli, sides: &[ArgMatches], signals: &Signals) -> Result<Outcome, Error> {
    let env = ParentEnv::capture();
    let is_pid1 = nix::unistd::getpid().as_raw() == 1;
    let input = CliInput {
        ordered_specs: args::ordered_source_specs(&cli, sides)?,
        sources: cli.sources,
        rules: cli.rules,
        launch: cli.launch,
        command: cli.command,
    };
    // Shared with the thread that watches for changes (`--watch`).
    let settings = Settings::build(input, &env)?;
    let plan = Arc::new(Plan::build(settings, &env, is_pid1)?);
    if cli.subcommand.is_none() && plan.launch.command.is_none() {
        return Err(Error::NoCommand);
    }
    tracing::debug!(sources = plan.sources.declared.len(), mode = ?plan.launch.mode, "planned");

    let session = Session {
        plan: &plan,
        env: &env,
        signals,
    };
    let outcome = match cli.subcommand {
        Some(subcommand) => commands::run(subcommand, &session).map(Outcome::Done),
        None => run_command(&session, &plan),
    };
    match outcome {
        Err(Stop::Signal(signal)) => Ok(Outcome::Interrupted(signal)),
        Err(Stop::Failed(error)) => Err(error),
        Ok(outcome) => Ok(outcome),
    }
}

/// Runs the planned command with the merged environment.
fn run_command(session: &Session, plan: &Arc<Plan>) -> Result<Outcome, Stop> {
    let command = plan.launch.command.clone().ok_or(Error::NoCommand)?;
    let mut child_env = session.merged_env()?;
    session.require(&child_env)?;
    match plan.launch.mode {
        Mode::Exec => {
            // Only an in-memory mount can be asked for here (see `plan`): inherited through
            // `execve`, it leaves nothing to remove.
            let _mounted = mount::prepare(&plan.launch.secret_files, &mut child_env, session.env)?;
            let pairs = child_env.to_pairs();
            drop(child_env);
            Err(child::exec(&command, pairs, session.signals).into())
        }
        Mode::Supervise => {
            let watcher = match &plan.launch.watch {
                Some(settings) => Some(Watcher::start(
                    settings.clone(),
                    Arc::clone(plan),
                    session.env.clone(),
                    &child_env,
                )?),
                None => None,
            };
            child::supervise(
                &command,
                child_env,
                &plan.launch,
                session.env,
                session.signals,
                watcher,
            )
            .map(Outcome::Child)
            .map_err(Stop::from)
        }
    }
}
