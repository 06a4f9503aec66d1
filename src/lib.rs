//! secretrun: resolve secrets, merge them over the environment by documented priority rules,
//! then run a command with them.
//!
//! One-way pipeline: [`cli`] → [`plan`] → [`resolve`] → [`merge`] → [`child`] → [`exit`].
//! Each stage sees only the previous stage's output type.

pub mod child;
pub mod cli;
pub mod compat;
pub mod config;
pub mod environment;
pub mod error;
pub mod exit;
pub mod file_vars;
pub mod merge;
pub mod plan;
pub mod providers;
pub mod resolve;
pub mod secret;
pub mod show;
pub mod signals;
pub mod source;

use std::io::Write;

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, ShowArgs};
use crate::environment::ParentEnv;
use crate::error::{Error, EXIT_FAILURE};
use crate::exit::ChildExit;
use crate::plan::{CliInput, Mode, Plan};
use crate::signals::Signals;
use crate::source::{SourceKind, SourceSpec};

/// What a successful run ends with.
enum Outcome {
    Shown,
    Child(ChildExit),
    /// A signal stopped secretrun before the child started.
    Interrupted(nix::sys::signal::Signal),
}

pub fn main() -> ! {
    // Block signals before anything else, so none is lost and every later thread inherits it.
    let signals = match Signals::block() {
        Ok(signals) => signals,
        Err(err) => fail(&Error::Supervise(err)),
    };
    let matches = match Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(err) => {
            // --help and --version are not failures; usage errors are ours (125, as env(1)).
            let _ = err.print();
            std::process::exit(if err.use_stderr() { EXIT_FAILURE } else { 0 });
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            std::process::exit(EXIT_FAILURE);
        }
    };
    init_logging(&cli);
    match run(cli, &matches, &signals) {
        Ok(Outcome::Shown) => std::process::exit(0),
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

fn run(cli: Cli, matches: &ArgMatches, signals: &Signals) -> Result<Outcome, Error> {
    let env = ParentEnv::capture();
    let is_pid1 = nix::unistd::getpid().as_raw() == 1;
    let input = CliInput {
        ordered_specs: ordered_source_specs(&cli, matches)?,
        sources: cli.sources,
        rules: cli.rules,
        launch: cli.launch,
        command: cli.command,
    };
    let plan = Plan::build(input, &env, is_pid1)?;
    let show = cli.subcommand.map(|Command::Show(args)| args);
    let command = match (&show, &plan.launch.command) {
        (None, None) => return Err(Error::NoCommand),
        (_, command) => command.clone(),
    };
    tracing::debug!(sources = plan.sources.len(), mode = ?plan.launch.mode, "planned");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Output)?;
    let resolved = runtime.block_on(async {
        tokio::select! {
            resolved = resolve::resolve(&plan, &env) => Ok(resolved),
            signal = signals.stop_requested() => Err(signal),
        }
    });
    // Not `drop`: that would wait for a blocking read still hung after a signal.
    runtime.shutdown_background();
    let resolved = match resolved {
        Ok(resolved) => resolved?,
        Err(signal) => return Ok(Outcome::Interrupted(signal)),
    };

    let mut rules = plan.rules.clone();
    rules.consumed.extend(resolved.consumed);
    let mut child_env = merge::merge(&env, &resolved.layers, &rules)?;
    drop(resolved.layers);
    if plan.file_vars {
        file_vars::apply(&mut child_env, &rules)?;
    }
    if let Some(args) = show {
        print_show(&child_env, &args)?;
        check_required(&child_env, &plan)?;
        return Ok(Outcome::Shown);
    }
    check_required(&child_env, &plan)?;

    let command = command.ok_or(Error::NoCommand)?;
    let pairs = child_env.to_pairs();
    drop(child_env);
    match plan.launch.mode {
        Mode::Exec => Err(child::exec(&command, pairs, signals)),
        Mode::Supervise => {
            child::supervise(&command, pairs, &plan.launch, signals).map(Outcome::Child)
        }
    }
}

fn print_show(child_env: &merge::ChildEnv, args: &ShowArgs) -> Result<(), Error> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    show::render(child_env, args, &mut out)
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

fn check_required(child_env: &merge::ChildEnv, plan: &Plan) -> Result<(), Error> {
    let missing: Vec<String> = plan
        .required
        .iter()
        .filter(|name| !child_env.contains(name.as_str()))
        .map(ToString::to_string)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingRequired(missing))
    }
}

/// `--env-file`, `--secrets-dir` and `--source` as specs, in the order they were given on the
/// command line (before or after a subcommand), since that order breaks ties in the merge.
fn ordered_source_specs(cli: &Cli, matches: &ArgMatches) -> Result<Vec<SourceSpec>, Error> {
    let mut found: Vec<(usize, SourceSpec)> = Vec::new();
    let mut scopes = vec![matches];
    if let Some((_, sub)) = matches.subcommand() {
        scopes.push(sub);
    }
    for scope in scopes {
        for (id, kind) in [
            ("env_file", Some(SourceKind::Dotenv)),
            ("secrets_dir", Some(SourceKind::Dir)),
            ("source", None),
        ] {
            let (Some(indices), Some(values)) =
                (scope.indices_of(id), scope.get_many::<String>(id))
            else {
                continue;
            };
            for (index, value) in indices.zip(values) {
                if found.iter().any(|(seen, _)| *seen == index) {
                    continue;
                }
                let spec = match kind {
                    Some(kind) => plan::path_spec(kind, value)?,
                    None => plan::parse_spec(value)?,
                };
                found.push((index, spec));
            }
        }
    }
    found.sort_by_key(|(index, _)| *index);
    let specs: Vec<SourceSpec> = found.into_iter().map(|(_, spec)| spec).collect();
    debug_assert_eq!(
        specs.len(),
        cli.sources.env_file.len() + cli.sources.secrets_dir.len() + cli.sources.source.len()
    );
    Ok(specs)
}

fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    // Flags raise only secretrun's own verbosity: a dependency's trace output may hold
    // response bodies. SECRETRUN_LOG takes the full filter syntax, at the user's choice.
    let default = match (cli.output.quiet, cli.output.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,secretrun=info",
        (false, 2) => "warn,secretrun=debug",
        (false, _) => "warn,secretrun=trace",
    };
    let filter = std::env::var("SECRETRUN_LOG")
        .ok()
        .and_then(|text| EnvFilter::try_new(text).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
}
