//! Stage 2: turn the command line, the config file and the environment into a validated [`Plan`].
//!
//! No I/O beyond reading the config file: every spec, name and option is checked here, so a bad
//! input fails before anything is fetched. Sources keep their declared order (config file
//! first, then the command line in the order its flags were given), which decides ties in the
//! merge.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::config::{LoadedConfig, ModeSetting, PreserveSetting, DEFAULT_FILE_NAME};
use crate::cli::{LaunchArgs, RuleArgs, SourceArgs};
use crate::env::environment::ParentEnv;
use crate::env::merge::{Layer, MergeRules, Preserve};
use crate::error::Error;
use crate::providers::{self, Context, FetchSettings};
use crate::run::mount::MountTarget;
use crate::run::watch::{OnChange, WatchSettings};
use crate::secret::EnvName;
use crate::secret::SecretValue;
use crate::source::{SourceClass, SourceKind, SourceSpec};

/// Leftover processes get this long after SIGTERM before SIGKILL, unless configured.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Plan {
    pub sources: Vec<PlannedSource>,
    pub rules: MergeRules,
    pub required: Vec<EnvName>,
    pub file_vars: bool,
    /// Whether `SECRETS_MANAGER`-style settings add sources (see `compat`).
    pub secrets_settings: bool,
    /// Whether values such as `vault:PATH#KEY` are replaced by the secret (see `reference`).
    pub references: bool,
    /// The config file's own `env` table, the lowest-ranked layer.
    pub config_env: Option<Layer>,
    pub fetch: FetchSettings,
    /// The last-known-good snapshot's settings (see `fallback`).
    pub fallback: crate::resolve::fallback::FallbackSettings,
    pub launch: Launch,
    /// `--env-keys-file`: dotenvx's private keys, instead of `.env.keys` beside each file.
    pub env_keys_file: Option<PathBuf>,
    /// `--require-from` files and `[rules.NAME]` tables (see `rules`).
    pub checks: crate::env::rules::Checks,
}

/// A validated source. Providers are built again at resolve time, when `.env` values can
/// configure them; building here proves the spec and its options are valid.
#[derive(Debug)]
pub struct PlannedSource {
    /// The spec text: how errors and `show` name this source.
    pub origin: String,
    pub class: SourceClass,
    pub spec: SourceSpec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Replace secretrun with the child (`execve`).
    Exec,
    /// Stay as the child's parent: forward signals, reap, exit as the child did.
    Supervise,
}

#[derive(Debug)]
pub struct Launch {
    pub mode: Mode,
    pub subreaper: bool,
    /// `--signal-group`: the child leads its own process group, and signals go to all of it.
    pub signal_group: bool,
    pub kill_after: Option<Duration>,
    pub grace_period: Duration,
    /// `--mask-output`: the child's stdout and stderr go through `mask` (supervise mode only).
    pub mask_output: bool,
    /// `--mount` and `--file`: secrets written as files (see `mount`).
    pub secret_files: crate::run::mount::SecretFiles,
    /// `--watch`: re-resolve periodically and act on changes (see `watch`).
    pub watch: Option<WatchSettings>,
    pub command: Option<ChildCommand>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCommand {
    pub program: OsString,
    pub args: Vec<OsString>,
}

/// What the command line says, with source flags already in the order they were given.
#[derive(Debug, Default)]
pub struct CliInput {
    pub sources: SourceArgs,
    pub ordered_specs: Vec<SourceSpec>,
    pub rules: RuleArgs,
    pub launch: LaunchArgs,
    pub command: Vec<OsString>,
}

impl Plan {
    pub fn build(cli: CliInput, env: &ParentEnv, is_pid1: bool) -> Result<Plan, Error> {
        let loaded = load_config(&cli.sources, env)?;
        let empty = crate::cli::config::Config::default();
        let config = loaded.as_ref().map_or(&empty, |loaded| &loaded.config);

        let mut specs = Vec::new();
        let reads_credentials =
            !cli.sources.no_credentials_directory && config.credentials_directory.unwrap_or(true);
        if let Some(dir) = env
            .get_str("CREDENTIALS_DIRECTORY")
            .filter(|_| reads_credentials)
        {
            specs.push(
                SourceSpec::for_path(SourceKind::Dir, dir).map_err(|problem| Error::Spec {
                    spec: "$CREDENTIALS_DIRECTORY".into(),
                    problem,
                })?,
            );
        }
        if let Some(loaded) = &loaded {
            for text in &config.sources {
                let mut spec = parse_spec(text)?;
                spec.rebase_paths(loaded.base_dir());
                specs.push(spec);
            }
        }
        specs.extend(cli.ordered_specs);
        if let Some(keys) = &cli.sources.env_keys_file {
            for spec in specs.iter_mut().filter(|s| s.kind == SourceKind::Dotenv) {
                spec.default_option("keys", &keys.to_string_lossy());
            }
        }

        let fetch = fetch_settings(&cli.sources, loaded.as_ref())?;
        let fallback =
            crate::resolve::fallback::FallbackSettings::build(&cli.sources, loaded.as_ref())?;
        let context = Arc::new(Context::new(env.clone(), fetch.clone()));
        let mut errors = Vec::new();
        let mut sources = Vec::new();
        let mut consumed = BTreeSet::new();
        let mut source_files = Vec::new();
        for mut spec in specs {
            let origin = spec.text().to_string();
            let class = spec.class();
            // `?file=PATH|memfd`, which any source takes: the one value it sets as a file
            // (see `mount`); the provider never sees it.
            let file = match spec.take_value("file") {
                Ok(file) => file,
                Err(problem) => {
                    errors.push(Error::Spec {
                        spec: origin,
                        problem,
                    });
                    continue;
                }
            };
            match providers::build(spec.clone(), &context) {
                Ok(provider) => {
                    consumed.extend(provider.consumed_names());
                    source_files.extend(
                        file.map(|file| (origin.clone(), MountTarget::parse(Path::new(&file)))),
                    );
                    sources.push(PlannedSource {
                        origin,
                        class,
                        spec,
                    })
                }
                Err(problem) => errors.push(Error::Spec {
                    spec: origin,
                    problem,
                }),
            }
        }
        if let Some(error) = Error::from_many(errors) {
            return Err(error);
        }

        let required = names(
            "required name",
            config.require.iter().chain(&cli.rules.require),
        )?;
        let example_files: Vec<PathBuf> = loaded
            .iter()
            .flat_map(|loaded| {
                config
                    .require_from
                    .iter()
                    .map(|path| loaded.base_dir().join(path))
            })
            .chain(cli.rules.require_from.iter().map(PathBuf::from))
            .collect();
        let checks = crate::env::rules::Checks::build(
            &example_files,
            &config.rules,
            cli.rules.environment.clone().or(config.environment.clone()),
            loaded.as_ref().map(|loaded| loaded.path.as_path()),
        )?;
        let allowed = names(
            "allowed name",
            config.allow_names.iter().chain(&cli.rules.allow_name),
        )?;
        let preserve = match (&cli.rules.preserve_env, &config.preserve_env) {
            (Some(list), _) if list.is_empty() => Preserve::All,
            (Some(list), _) => Preserve::Names(name_set("preserved name", list)?),
            (None, Some(PreserveSetting::All(true))) => Preserve::All,
            (None, Some(PreserveSetting::Names(list))) => {
                Preserve::Names(name_set("preserved name", list)?)
            }
            (None, Some(PreserveSetting::All(false)) | None) => Preserve::None,
        };
        let rules = MergeRules {
            preserve,
            pristine: cli.rules.pristine || config.pristine.unwrap_or(false),
            allowed: allowed.iter().map(|n| n.to_string()).collect(),
            consumed,
            keep_config_vars: cli.rules.keep_config_vars
                || config.keep_config_vars.unwrap_or(false),
        };

        let config_env = match &loaded {
            Some(loaded) if !config.env.is_empty() => Some(Layer {
                origin: format!("config:{}", loaded.path.display()),
                class: SourceClass::EnvFile,
                entries: config
                    .env
                    .iter()
                    .map(|(name, value)| {
                        let name =
                            EnvName::new(name.clone()).map_err(|problem| Error::InvalidName {
                                what: "config env name",
                                name: name.clone(),
                                problem,
                            })?;
                        Ok((name, SecretValue::from(value.clone())))
                    })
                    .collect::<Result<_, Error>>()?,
            }),
            _ => None,
        };
        let launch = build_launch(
            &cli.launch,
            cli.command,
            loaded.as_ref(),
            is_pid1,
            source_files,
        )?;
        Ok(Plan {
            sources,
            rules,
            required,
            file_vars: cli.sources.file_vars || config.file_vars.unwrap_or(false),
            secrets_settings: !cli.sources.no_secrets_settings
                && config.secrets_settings.unwrap_or(true),
            references: !cli.sources.no_references && config.references.unwrap_or(true),
            config_env,
            fetch,
            fallback,
            launch,
            env_keys_file: cli.sources.env_keys_file.clone(),
            checks,
        })
    }
}

fn fetch_settings(
    args: &SourceArgs,
    loaded: Option<&LoadedConfig>,
) -> Result<FetchSettings, Error> {
    let defaults = FetchSettings::default();
    let from_config = |key, get: fn(&crate::cli::config::Config) -> &Option<String>| match loaded {
        Some(loaded) => loaded.duration(key, get(&loaded.config)),
        None => Ok(None),
    };
    let request_timeout = match args.timeout {
        Some(timeout) => timeout,
        None => from_config("timeout", |c| &c.timeout)?.unwrap_or(defaults.request_timeout),
    };
    let deadline = match args.deadline {
        Some(deadline) => deadline,
        None => from_config("deadline", |c| &c.deadline)?.unwrap_or(defaults.deadline),
    };
    Ok(FetchSettings {
        request_timeout,
        deadline,
        allow_insecure_http: args.allow_insecure_http
            || loaded
                .and_then(|l| l.config.allow_insecure_http)
                .unwrap_or(false),
        ..defaults
    })
}

fn build_launch(
    args: &LaunchArgs,
    command: Vec<OsString>,
    loaded: Option<&LoadedConfig>,
    is_pid1: bool,
    source_files: Vec<(String, MountTarget)>,
) -> Result<Launch, Error> {
    let config = loaded.map(|l| &l.config);
    let setting = |get: fn(&crate::cli::config::Config) -> &Option<String>, key| match loaded {
        Some(loaded) => loaded.duration(key, get(&loaded.config)),
        None => Ok(None),
    };
    let kill_after = match args.kill_after {
        Some(duration) => Some(duration),
        None => setting(|c| &c.kill_after, "kill-after")?,
    };
    let grace_period = match args.grace_period {
        Some(duration) => duration,
        None => setting(|c| &c.grace_period, "grace-period")?.unwrap_or(DEFAULT_GRACE_PERIOD),
    };
    let subreaper = args.subreaper || config.and_then(|c| c.subreaper).unwrap_or(false);
    let signal_group = args.signal_group || config.and_then(|c| c.signal_group).unwrap_or(false);
    let configured = if args.exec {
        ModeSetting::Exec
    } else if args.supervise {
        ModeSetting::Supervise
    } else {
        config.and_then(|c| c.mode).unwrap_or(ModeSetting::Auto)
    };
    let secret_files = crate::run::mount::SecretFiles::from_args(args, source_files)?;
    let watch = WatchSettings::build(args, loaded)?;
    if let Some(watch) = &watch {
        check_watch(watch, args, &secret_files)?;
    }
    if args.exec && secret_files.needs_cleanup() {
        return Err(Error::Settings {
            setting: "--exec",
            problem: "secret files at a PATH (--mount, --file, ?file=) need secretrun to stay \
                      and remove them; use memfd instead of the PATH in exec mode"
                .into(),
        });
    }
    // Reaping adopted orphans, killing after a timeout, masking output and removing secret
    // files all need secretrun to stay.
    let mode = match configured {
        ModeSetting::Supervise => Mode::Supervise,
        _ if subreaper || signal_group || kill_after.is_some() || args.mask_output => {
            Mode::Supervise
        }
        _ if secret_files.needs_cleanup() || watch.is_some() => Mode::Supervise,
        ModeSetting::Exec => Mode::Exec,
        ModeSetting::Auto if is_pid1 => Mode::Supervise,
        ModeSetting::Auto => Mode::Exec,
    };
    let command = match (&args.command_string, command.split_first()) {
        (Some(script), _) => Some(ChildCommand {
            program: "sh".into(),
            args: vec!["-c".into(), script.clone()],
        }),
        (None, Some((program, rest))) => Some(ChildCommand {
            program: program.clone(),
            args: rest.to_vec(),
        }),
        (None, None) => None,
    };
    Ok(Launch {
        mode,
        subreaper,
        signal_group,
        kill_after,
        grace_period,
        mask_output: args.mask_output,
        secret_files,
        watch,
        command,
    })
}

/// What watching cannot do: signal new values to a command that could only see them in files
/// it does not have; mask values it learns later in output it keeps copying with the old ones.
fn check_watch(
    watch: &WatchSettings,
    args: &LaunchArgs,
    files: &crate::run::mount::SecretFiles,
) -> Result<(), Error> {
    let refused = |problem: &str| {
        Err(Error::Settings {
            setting: "--watch",
            problem: problem.into(),
        })
    };
    if let OnChange::Signal(_) = watch.on_change {
        if !files.needs_cleanup() {
            return refused(
                "--on-change signal:SIG tells the command to re-read its secret files: it needs \
                 --mount PATH or --file (an environment cannot change, and a memfd is sealed)",
            );
        }
        if args.mask_output {
            return refused(
                "--mask-output with --on-change signal:SIG would copy the command's output \
                 masked for the old values only; use --on-change restart",
            );
        }
    }
    Ok(())
}

fn load_config(args: &SourceArgs, env: &ParentEnv) -> Result<Option<LoadedConfig>, Error> {
    if args.no_config {
        return Ok(None);
    }
    if let Some(path) = &args.config {
        return LoadedConfig::load(path).map(Some);
    }
    // Read here, not through clap's `env`, so that `--no-config` can ignore it.
    if let Some(path) = env.get_str("SECRETRUN_CONFIG") {
        return LoadedConfig::load(Path::new(path)).map(Some);
    }
    let default = PathBuf::from(DEFAULT_FILE_NAME);
    if default.is_file() {
        return LoadedConfig::load(&default).map(Some);
    }
    Ok(None)
}

pub fn parse_spec(text: &str) -> Result<SourceSpec, Error> {
    SourceSpec::parse(text).map_err(|problem| Error::Spec {
        spec: text.to_string(),
        problem,
    })
}

/// The spec for a path flag (`--env-file`, `--secrets-dir`).
pub fn path_spec(kind: SourceKind, path: &str) -> Result<SourceSpec, Error> {
    SourceSpec::for_path(kind, path).map_err(|problem| Error::Spec {
        spec: format!("{}:{path}", kind.scheme()),
        problem,
    })
}

fn names<'a>(
    what: &'static str,
    list: impl Iterator<Item = &'a String>,
) -> Result<Vec<EnvName>, Error> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for name in list {
        let valid = EnvName::new(name.clone()).map_err(|problem| Error::InvalidName {
            what,
            name: name.clone(),
            problem,
        })?;
        if seen.insert(valid.clone()) {
            out.push(valid);
        }
    }
    Ok(out)
}

fn name_set(what: &'static str, list: &[String]) -> Result<BTreeSet<String>, Error> {
    Ok(names(what, list.iter())?
        .into_iter()
        .map(|n| n.to_string())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(command: &[&str]) -> CliInput {
        CliInput {
            sources: SourceArgs {
                no_config: true,
                ..SourceArgs::default()
            },
            command: command.iter().map(OsString::from).collect(),
            ..CliInput::default()
        }
    }

    #[test]
    fn auto_mode_execs_unless_pid1() {
        let env = ParentEnv::default();
        assert_eq!(
            Plan::build(input(&["true"]), &env, false)
                .unwrap()
                .launch
                .mode,
            Mode::Exec
        );
        assert_eq!(
            Plan::build(input(&["true"]), &env, true)
                .unwrap()
                .launch
                .mode,
            Mode::Supervise
        );
    }

    #[test]
    fn subreaper_signal_group_and_kill_after_imply_supervise() {
        let env = ParentEnv::default();
        let mut cli = input(&["true"]);
        cli.launch.subreaper = true;
        assert_eq!(
            Plan::build(cli, &env, false).unwrap().launch.mode,
            Mode::Supervise
        );
        let mut cli = input(&["true"]);
        cli.launch.kill_after = Some(Duration::from_secs(1));
        assert_eq!(
            Plan::build(cli, &env, false).unwrap().launch.mode,
            Mode::Supervise
        );
        let mut cli = input(&["true"]);
        cli.launch.signal_group = true;
        assert_eq!(
            Plan::build(cli, &env, false).unwrap().launch.mode,
            Mode::Supervise
        );
        let mut cli = input(&["true"]);
        cli.launch.mask_output = true;
        assert_eq!(
            Plan::build(cli, &env, false).unwrap().launch.mode,
            Mode::Supervise
        );
    }

    #[test]
    fn secret_files_imply_supervise_but_memfd_execs() {
        let env = ParentEnv::default();
        let mode = |mount: Option<&str>, file: &[&str], exec: bool| {
            let mut cli = input(&["true"]);
            cli.launch.mount = mount.map(PathBuf::from);
            cli.launch.file = file.iter().map(|f| f.to_string()).collect();
            cli.launch.exec = exec;
            Plan::build(cli, &env, false).map(|plan| plan.launch.mode)
        };
        assert_eq!(mode(Some("app.env"), &[], false).unwrap(), Mode::Supervise);
        assert_eq!(mode(None, &["K=k.pem"], false).unwrap(), Mode::Supervise);
        assert_eq!(mode(Some("memfd"), &[], false).unwrap(), Mode::Exec);
        assert_eq!(mode(Some("memfd"), &[], true).unwrap(), Mode::Exec);
        assert!(mode(Some("/run/app.env"), &[], true).is_err());
    }

    #[test]
    fn command_string_runs_through_sh() {
        let mut cli = input(&[]);
        cli.launch.command_string = Some("echo hi".into());
        let plan = Plan::build(cli, &ParentEnv::default(), false).unwrap();
        assert_eq!(
            plan.launch.command,
            Some(ChildCommand {
                program: "sh".into(),
                args: vec!["-c".into(), "echo hi".into()]
            })
        );
    }

    #[test]
    fn credentials_directory_is_the_first_secret_source() {
        let env = ParentEnv::from_pairs([("CREDENTIALS_DIRECTORY", "/run/credentials/app")]);
        let mut cli = input(&["true"]);
        cli.ordered_specs = vec![parse_spec("dir:/run/secrets").unwrap()];
        let plan = Plan::build(cli, &env, false).unwrap();
        let origins: Vec<_> = plan.sources.iter().map(|s| s.origin.as_str()).collect();
        assert_eq!(origins, ["dir:/run/credentials/app", "dir:/run/secrets"]);

        let mut cli = input(&["true"]);
        cli.sources.no_credentials_directory = true;
        assert!(Plan::build(cli, &env, false).unwrap().sources.is_empty());
    }

    #[test]
    fn every_bad_spec_is_reported() {
        let mut cli = input(&["true"]);
        cli.ordered_specs = vec![
            parse_spec("dotenv:a?bogus").unwrap(),
            parse_spec("dir:b#KEY").unwrap(),
        ];
        let err = Plan::build(cli, &ParentEnv::default(), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "source 'dotenv:a?bogus': unknown option 'bogus'\nsecretrun: error: source \
             'dir:b#KEY': this kind of source does not take a '#KEY'"
        );
    }

    #[test]
    fn invalid_required_names_are_errors() {
        let mut cli = input(&["true"]);
        cli.rules.require = vec!["A=B".into()];
        let err = Plan::build(cli, &ParentEnv::default(), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid required name 'A=B': the name contains '='"
        );
    }

    #[test]
    fn preserve_env_forms() {
        let env = ParentEnv::default();
        let mut cli = input(&["true"]);
        cli.rules.preserve_env = Some(vec![]);
        assert_eq!(
            Plan::build(cli, &env, false).unwrap().rules.preserve,
            Preserve::All
        );
        let mut cli = input(&["true"]);
        cli.rules.preserve_env = Some(vec!["A".into(), "B".into()]);
        assert_eq!(
            Plan::build(cli, &env, false).unwrap().rules.preserve,
            Preserve::Names(["A".to_string(), "B".to_string()].into())
        );
    }
}
