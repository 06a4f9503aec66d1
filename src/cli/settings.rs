//! The command line and the config file, made into typed [`Settings`]: the one place where
//! "the flag, else the config file's key, else the default" is decided. The stages below
//! (`plan` and after) receive these settings and never see the arguments or the config file.
//!
//! Nothing here is validated against the environment or the sources: names, specs' options,
//! providers and launch combinations are checked by `plan`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::cli::config::{Config, LoadedConfig, ModeSetting, PreserveSetting, DEFAULT_FILE_NAME};
use crate::cli::{LaunchArgs, MountFormat, RuleArgs, SourceArgs};
use crate::env::rules::RuleTable;
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::providers::FetchSettings;
use crate::resolve::fallback::{FallbackMode, FallbackSettings};
use crate::source::{SourceKind, SourceSpec};

/// Leftover processes get this long after SIGTERM before SIGKILL, unless configured.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(5);
/// Shorter `--watch` intervals would only load the providers.
pub const MIN_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// What the command line says, with source flags already in the order they were given.
#[derive(Debug, Default)]
pub struct CliInput {
    pub sources: SourceArgs,
    pub ordered_specs: Vec<SourceSpec>,
    pub rules: RuleArgs,
    pub launch: LaunchArgs,
    pub command: Vec<OsString>,
}

/// Every setting of a run, each decided once from the command line, the config file and the
/// defaults.
#[derive(Debug)]
pub struct Settings {
    /// Every source in declared order: `$CREDENTIALS_DIRECTORY`, the config file's, then the
    /// command line's in the order its flags were given.
    pub specs: Vec<SourceSpec>,
    pub fetch: FetchSettings,
    pub fallback: FallbackSettings,
    /// The config file's `require`, then `--require`: names not yet validated.
    pub required: Vec<String>,
    /// The config file's `allow-names`, then `--allow-name`.
    pub allowed: Vec<String>,
    pub preserve: PreserveNames,
    pub pristine: bool,
    pub keep_config_vars: bool,
    pub file_vars: bool,
    pub secrets_settings: bool,
    pub references: bool,
    /// `--env-keys-file`: dotenvx's private keys, instead of `.env.keys` beside each file.
    pub env_keys_file: Option<PathBuf>,
    /// `--require-from` files (the config file's, relative to it, first).
    pub example_files: Vec<PathBuf>,
    /// The config file's `[rules.NAME]` tables.
    pub rule_tables: BTreeMap<String, RuleTable>,
    /// `--environment`, else the config file's `environment`.
    pub environment: Option<String>,
    /// The config file read, if any: where its tables and `env` come from.
    pub config_path: Option<PathBuf>,
    /// The config file's own `env` table.
    pub config_env: BTreeMap<String, String>,
    pub launch: LaunchSettings,
}

/// `--preserve-env` (or the config file's `preserve-env`), names not yet validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreserveNames {
    None,
    All,
    Names(Vec<String>),
}

/// How the child is started; `plan` turns this into a `Launch`, choosing the mode.
#[derive(Debug)]
pub struct LaunchSettings {
    /// `--exec`, `--supervise`, else the config file's `mode`.
    pub mode: ModeSetting,
    /// `--exec` itself was given (not only the config file's `mode`).
    pub exec_flag: bool,
    pub subreaper: bool,
    pub signal_group: bool,
    pub kill_after: Option<Duration>,
    pub grace_period: Duration,
    pub mask_output: bool,
    /// `--mount` and `--file`; the sources' `?file=` options are added by `plan`.
    pub files: FileSettings,
    pub watch: Option<WatchSettings>,
    pub command: Option<ChildCommand>,
}

/// `--mount`, `--mount-format`, `--mount-template`, `--file` and `--mount-keep-env`, as given
/// (command line only); `plan` validates them and reads the template.
#[derive(Debug, Clone, Default)]
pub struct FileSettings {
    pub mount: Option<PathBuf>,
    pub mount_format: MountFormat,
    pub mount_template: Option<PathBuf>,
    /// `--file NAME=TARGET`, in the order given.
    pub files: Vec<String>,
    pub keep_env: bool,
}

impl FileSettings {
    pub fn from_args(args: &LaunchArgs) -> Self {
        FileSettings {
            mount: args.mount.clone(),
            mount_format: args.mount_format,
            mount_template: args.mount_template.clone(),
            files: args.file.clone(),
            keep_env: args.mount_keep_env,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCommand {
    pub program: OsString,
    pub args: Vec<OsString>,
}

/// What the supervisor does when a value changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    /// Stop the child (`--stop-signal`, the grace period, then SIGKILL) and start it again
    /// with the new environment.
    Restart,
    /// Rewrite the `--mount`/`--file` files in place and send the child this signal.
    Signal(Signal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSettings {
    pub interval: Duration,
    pub on_change: OnChange,
    pub stop_signal: Signal,
}

/// One setting's two outside sources: the command line, then the config file.
struct Layers<'a> {
    loaded: Option<&'a LoadedConfig>,
    config: &'a Config,
}

impl Layers<'_> {
    /// The flag, else the config file's duration `key`.
    fn duration(
        &self,
        flag: Option<Duration>,
        key: &str,
        get: fn(&Config) -> &Option<String>,
    ) -> Result<Option<Duration>, Error> {
        match (flag, self.loaded) {
            (Some(duration), _) => Ok(Some(duration)),
            (None, Some(loaded)) => loaded.duration(key, get(self.config)),
            (None, None) => Ok(None),
        }
    }

    /// A switch: on when the flag is given, else the config file's key, else `default`.
    fn switch(&self, flag: bool, get: fn(&Config) -> Option<bool>, default: bool) -> bool {
        flag || get(self.config).unwrap_or(default)
    }

    /// A switch that is on by default and turned off by a `--no-...` flag or the config file.
    fn unless(&self, no_flag: bool, get: fn(&Config) -> Option<bool>) -> bool {
        !no_flag && get(self.config).unwrap_or(true)
    }

    /// The config file's paths, relative to its directory.
    fn paths<'p>(&self, list: &'p [PathBuf]) -> impl Iterator<Item = PathBuf> + 'p {
        let base = self.loaded.map(|loaded| loaded.base_dir().to_path_buf());
        list.iter()
            .filter_map(move |path| base.as_ref().map(|base| base.join(path)))
    }
}

impl Settings {
    pub fn build(cli: CliInput, env: &ParentEnv) -> Result<Settings, Error> {
        let loaded = load_config(&cli.sources, env)?;
        let empty = Config::default();
        let layers = Layers {
            loaded: loaded.as_ref(),
            config: loaded.as_ref().map_or(&empty, |loaded| &loaded.config),
        };
        let config = layers.config;
        let args = &cli.sources;

        let mut specs = Vec::new();
        let reads_credentials =
            layers.unless(args.no_credentials_directory, |c| c.credentials_directory);
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
        if let Some(keys) = &args.env_keys_file {
            for spec in specs.iter_mut().filter(|s| s.kind == SourceKind::Dotenv) {
                spec.default_option("keys", &keys.to_string_lossy());
            }
        }

        let defaults = FetchSettings::default();
        let fetch = FetchSettings {
            request_timeout: layers
                .duration(args.timeout, "timeout", |c| &c.timeout)?
                .unwrap_or(defaults.request_timeout),
            deadline: layers
                .duration(args.deadline, "deadline", |c| &c.deadline)?
                .unwrap_or(defaults.deadline),
            allow_insecure_http: layers.switch(
                args.allow_insecure_http,
                |c| c.allow_insecure_http,
                false,
            ),
            ..defaults
        };
        let fallback = fallback_settings(args, &layers)?;

        let rules = &cli.rules;
        let preserve = match (&rules.preserve_env, &config.preserve_env) {
            (Some(list), _) if list.is_empty() => PreserveNames::All,
            (Some(list), _) => PreserveNames::Names(list.clone()),
            (None, Some(PreserveSetting::All(true))) => PreserveNames::All,
            (None, Some(PreserveSetting::Names(list))) => PreserveNames::Names(list.clone()),
            (None, Some(PreserveSetting::All(false)) | None) => PreserveNames::None,
        };
        let launch = launch_settings(&cli.launch, cli.command, &layers)?;
        Ok(Settings {
            specs,
            fetch,
            fallback,
            required: config
                .require
                .iter()
                .chain(&rules.require)
                .cloned()
                .collect(),
            allowed: config
                .allow_names
                .iter()
                .chain(&rules.allow_name)
                .cloned()
                .collect(),
            preserve,
            pristine: layers.switch(rules.pristine, |c| c.pristine, false),
            keep_config_vars: layers.switch(rules.keep_config_vars, |c| c.keep_config_vars, false),
            file_vars: layers.switch(args.file_vars, |c| c.file_vars, false),
            secrets_settings: layers.unless(args.no_secrets_settings, |c| c.secrets_settings),
            references: layers.unless(args.no_references, |c| c.references),
            env_keys_file: args.env_keys_file.clone(),
            example_files: layers
                .paths(&config.require_from)
                .chain(rules.require_from.iter().map(PathBuf::from))
                .collect(),
            environment: rules.environment.clone().or(config.environment.clone()),
            rule_tables: config.rules.clone(),
            config_env: config.env.clone(),
            config_path: loaded.as_ref().map(|loaded| loaded.path.clone()),
            launch,
        })
    }
}

/// The last-known-good snapshot's settings.
fn fallback_settings(args: &SourceArgs, layers: &Layers) -> Result<FallbackSettings, Error> {
    let config = layers.config;
    let mode = if args.no_fallback {
        FallbackMode::Off
    } else if args.fallback_only {
        FallbackMode::Only
    } else if config.no_fallback.unwrap_or(false) {
        FallbackMode::Off
    } else if config.fallback_only.unwrap_or(false) {
        FallbackMode::Only
    } else {
        FallbackMode::On
    };
    let path = match &args.fallback {
        Some(path) => Some(path.clone()),
        None => layers.paths(config.fallback.as_slice()).next(),
    };
    let max_age = layers.duration(args.fallback_max_age, "fallback-max-age", |c| {
        &c.fallback_max_age
    })?;
    Ok(FallbackSettings {
        mode,
        path,
        max_age,
    })
}

fn launch_settings(
    args: &LaunchArgs,
    command: Vec<OsString>,
    layers: &Layers,
) -> Result<LaunchSettings, Error> {
    let kill_after = layers.duration(args.kill_after, "kill-after", |c| &c.kill_after)?;
    let grace_period = layers
        .duration(args.grace_period, "grace-period", |c| &c.grace_period)?
        .unwrap_or(DEFAULT_GRACE_PERIOD);
    let mode = if args.exec {
        ModeSetting::Exec
    } else if args.supervise {
        ModeSetting::Supervise
    } else {
        layers.config.mode.unwrap_or(ModeSetting::Auto)
    };
    let watch = watch_settings(args, layers)?;
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
    Ok(LaunchSettings {
        mode,
        exec_flag: args.exec,
        subreaper: layers.switch(args.subreaper, |c| c.subreaper, false),
        signal_group: layers.switch(args.signal_group, |c| c.signal_group, false),
        kill_after,
        grace_period,
        mask_output: args.mask_output,
        files: FileSettings::from_args(args),
        watch,
        command,
    })
}

/// `--watch`, `--on-change` and `--stop-signal`, each from the command line or else the config
/// file; `None` when not watching.
fn watch_settings(args: &LaunchArgs, layers: &Layers) -> Result<Option<WatchSettings>, Error> {
    let config = layers.config;
    let interval = layers.duration(args.watch, "watch", |c| &c.watch)?;
    let on_change_text = args.on_change.clone().or_else(|| config.on_change.clone());
    let stop_signal_text = args
        .stop_signal
        .clone()
        .or_else(|| config.stop_signal.clone());
    let Some(interval) = interval else {
        if on_change_text.is_some() || stop_signal_text.is_some() {
            return Err(Error::Settings {
                setting: "--on-change/--stop-signal",
                problem: "they apply only with --watch".into(),
            });
        }
        return Ok(None);
    };
    if interval < MIN_WATCH_INTERVAL {
        return Err(Error::Settings {
            setting: "--watch",
            problem: format!(
                "the interval must be at least {}",
                humantime::format_duration(MIN_WATCH_INTERVAL)
            ),
        });
    }
    let on_change = match on_change_text {
        Some(text) => parse_on_change(&text).map_err(|problem| Error::Settings {
            setting: "--on-change",
            problem,
        })?,
        None => OnChange::Restart,
    };
    let stop_signal = match stop_signal_text {
        Some(text) => parse_signal(&text).map_err(|problem| Error::Settings {
            setting: "--stop-signal",
            problem,
        })?,
        None => Signal::SIGTERM,
    };
    Ok(Some(WatchSettings {
        interval,
        on_change,
        stop_signal,
    }))
}

/// `restart` or `signal:SIG`.
fn parse_on_change(text: &str) -> Result<OnChange, String> {
    match text.split_once(':') {
        None if text == "restart" => Ok(OnChange::Restart),
        Some(("signal", signal)) => parse_signal(signal).map(OnChange::Signal),
        _ => Err(format!(
            "'{text}': expected restart or signal:SIG (e.g. signal:HUP)"
        )),
    }
}

/// A signal by name, with or without `SIG`, in any case: `HUP`, `sigusr1`, `SIGTERM`.
fn parse_signal(text: &str) -> Result<Signal, String> {
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    match name.parse::<Signal>() {
        Ok(Signal::SIGKILL | Signal::SIGSTOP) => Err(format!(
            "'{text}' cannot be caught, so it cannot ask for anything"
        )),
        Ok(signal) => Ok(signal),
        Err(_) => Err(format!(
            "'{text}' is not a signal name (e.g. HUP, USR1, TERM)"
        )),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_change_and_signal_names() {
        assert_eq!(parse_on_change("restart"), Ok(OnChange::Restart));
        assert_eq!(
            parse_on_change("signal:HUP"),
            Ok(OnChange::Signal(Signal::SIGHUP))
        );
        assert_eq!(
            parse_on_change("signal:sigusr1"),
            Ok(OnChange::Signal(Signal::SIGUSR1))
        );
        assert!(parse_on_change("signal:").is_err());
        assert!(parse_on_change("reload").is_err());
        assert_eq!(parse_signal("term"), Ok(Signal::SIGTERM));
        assert!(parse_signal("KILL")
            .unwrap_err()
            .contains("cannot be caught"));
        assert!(parse_signal("NOPE").unwrap_err().contains("not a signal"));
    }
}
