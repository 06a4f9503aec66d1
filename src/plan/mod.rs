//! Stage 2: turn the command line, the config file and the environment into a validated [`Plan`].
//!
//! No I/O beyond reading the config file: every spec, name and option is checked here, so a bad
//! input fails before anything is fetched. Sources keep their declared order (config file
//! first, then the command line in the order its flags were given), which decides ties in the
//! merge.

pub mod secret_files;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::config::ModeSetting;
use crate::cli::settings::{
    ChildCommand, LaunchSettings, OnChange, PreserveNames, Settings, WatchSettings,
};
use crate::env::merge::{Layer, MergeRules, Preserve};
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::providers::{self, Context};
use crate::resolve::{PlannedSource, SourcePlan};
use crate::secret::{EnvName, SecretValue};
use crate::source::SourceClass;
use secret_files::{MountTarget, SecretFiles};

#[derive(Debug)]
pub struct Plan {
    /// What `resolve` needs, and nothing else of the plan.
    pub sources: SourcePlan,
    pub rules: MergeRules,
    pub required: Vec<EnvName>,
    pub file_vars: bool,
    pub launch: Launch,
    /// `--env-keys-file`: dotenvx's private keys, instead of `.env.keys` beside each file.
    pub env_keys_file: Option<PathBuf>,
    /// `--require-from` files and `[rules.NAME]` tables (see `rules`).
    pub checks: crate::env::rules::Checks,
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
    pub secret_files: SecretFiles,
    /// `--watch`: re-resolve periodically and act on changes (see `watch`).
    pub watch: Option<WatchSettings>,
    pub command: Option<ChildCommand>,
}

impl Plan {
    pub fn build(settings: Settings, env: &ParentEnv, is_pid1: bool) -> Result<Plan, Error> {
        let context = Arc::new(Context::new(env.clone(), settings.fetch.clone()));
        let mut errors = Vec::new();
        let mut sources = Vec::new();
        let mut consumed = BTreeSet::new();
        let mut source_files = Vec::new();
        for mut spec in settings.specs {
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

        let required = names("required name", settings.required.iter())?;
        let checks = crate::env::rules::Checks::build(
            &settings.example_files,
            &settings.rule_tables,
            settings.environment,
            settings.config_path.as_deref(),
        )?;
        let allowed = names("allowed name", settings.allowed.iter())?;
        let preserve = match &settings.preserve {
            PreserveNames::All => Preserve::All,
            PreserveNames::Names(list) => Preserve::Names(name_set("preserved name", list)?),
            PreserveNames::None => Preserve::None,
        };
        let rules = MergeRules {
            preserve,
            pristine: settings.pristine,
            allowed: allowed.into_iter().collect(),
            consumed,
            keep_config_vars: settings.keep_config_vars,
        };

        let config_env = match &settings.config_path {
            Some(path) if !settings.config_env.is_empty() => Some(Layer {
                origin: format!("config:{}", path.display()),
                class: SourceClass::EnvFile,
                entries: settings
                    .config_env
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
        let launch = build_launch(settings.launch, is_pid1, source_files)?;
        Ok(Plan {
            sources: SourcePlan {
                declared: sources,
                config_env,
                fetch: settings.fetch,
                fallback: settings.fallback,
                secrets_settings: settings.secrets_settings,
                references: settings.references,
            },
            rules,
            required,
            file_vars: settings.file_vars,
            launch,
            env_keys_file: settings.env_keys_file,
            checks,
        })
    }
}

fn build_launch(
    settings: LaunchSettings,
    is_pid1: bool,
    source_files: Vec<(String, MountTarget)>,
) -> Result<Launch, Error> {
    let secret_files = SecretFiles::build(&settings.files, source_files)?;
    if let Some(watch) = &settings.watch {
        check_watch(watch, settings.mask_output, &secret_files)?;
    }
    if settings.exec_flag && secret_files.needs_cleanup() {
        return Err(Error::Settings {
            setting: "--exec",
            problem: "secret files at a PATH (--mount, --file, ?file=) need secretrun to stay \
                      and remove them; use memfd instead of the PATH in exec mode"
                .into(),
        });
    }
    // Reaping adopted orphans, killing after a timeout, masking output and removing secret
    // files all need secretrun to stay.
    let mode = match settings.mode {
        ModeSetting::Supervise => Mode::Supervise,
        _ if settings.subreaper
            || settings.signal_group
            || settings.kill_after.is_some()
            || settings.mask_output =>
        {
            Mode::Supervise
        }
        _ if secret_files.needs_cleanup() || settings.watch.is_some() => Mode::Supervise,
        ModeSetting::Exec => Mode::Exec,
        ModeSetting::Auto if is_pid1 => Mode::Supervise,
        ModeSetting::Auto => Mode::Exec,
    };
    Ok(Launch {
        mode,
        subreaper: settings.subreaper,
        signal_group: settings.signal_group,
        kill_after: settings.kill_after,
        grace_period: settings.grace_period,
        mask_output: settings.mask_output,
        secret_files,
        watch: settings.watch,
        command: settings.command,
    })
}

/// What watching cannot do: signal new values to a command that could only see them in files
/// it does not have; mask values it learns later in output it keeps copying with the old ones.
fn check_watch(watch: &WatchSettings, mask_output: bool, files: &SecretFiles) -> Result<(), Error> {
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
        if mask_output {
            return refused(
                "--mask-output with --on-change signal:SIG would copy the command's output \
                 masked for the old values only; use --on-change restart",
            );
        }
    }
    Ok(())
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

fn name_set(what: &'static str, list: &[String]) -> Result<BTreeSet<EnvName>, Error> {
    Ok(names(what, list.iter())?.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    use crate::cli::settings::{parse_spec, CliInput};
    use crate::cli::SourceArgs;

    fn plan_from(cli: CliInput, env: &ParentEnv, is_pid1: bool) -> Result<Plan, Error> {
        Plan::build(Settings::build(cli, env)?, env, is_pid1)
    }

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
            plan_from(input(&["true"]), &env, false)
                .unwrap()
                .launch
                .mode,
            Mode::Exec
        );
        assert_eq!(
            plan_from(input(&["true"]), &env, true).unwrap().launch.mode,
            Mode::Supervise
        );
    }

    #[test]
    fn subreaper_signal_group_and_kill_after_imply_supervise() {
        let env = ParentEnv::default();
        let mut cli = input(&["true"]);
        cli.launch.subreaper = true;
        assert_eq!(
            plan_from(cli, &env, false).unwrap().launch.mode,
            Mode::Supervise
        );
        let mut cli = input(&["true"]);
        cli.launch.kill_after = Some(Duration::from_secs(1));
        assert_eq!(
            plan_from(cli, &env, false).unwrap().launch.mode,
            Mode::Supervise
        );
        let mut cli = input(&["true"]);
        cli.launch.signal_group = true;
        assert_eq!(
            plan_from(cli, &env, false).unwrap().launch.mode,
            Mode::Supervise
        );
        let mut cli = input(&["true"]);
        cli.launch.mask_output = true;
        assert_eq!(
            plan_from(cli, &env, false).unwrap().launch.mode,
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
            plan_from(cli, &env, false).map(|plan| plan.launch.mode)
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
        let plan = plan_from(cli, &ParentEnv::default(), false).unwrap();
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
        let plan = plan_from(cli, &env, false).unwrap();
        let origins: Vec<_> = plan.sources.iter().map(|s| s.origin.as_str()).collect();
        assert_eq!(origins, ["dir:/run/credentials/app", "dir:/run/secrets"]);

        let mut cli = input(&["true"]);
        cli.sources.no_credentials_directory = true;
        assert!(plan_from(cli, &env, false)
            .unwrap()
            .sources
            .declared
            .is_empty());
    }

    #[test]
    fn every_bad_spec_is_reported() {
        let mut cli = input(&["true"]);
        cli.ordered_specs = vec![
            parse_spec("dotenv:a?bogus").unwrap(),
            parse_spec("dir:b#KEY").unwrap(),
        ];
        let err = plan_from(cli, &ParentEnv::default(), false).unwrap_err();
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
        let err = plan_from(cli, &ParentEnv::default(), false).unwrap_err();
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
            plan_from(cli, &env, false).unwrap().rules.preserve,
            Preserve::All
        );
        let mut cli = input(&["true"]);
        cli.rules.preserve_env = Some(vec!["A".into(), "B".into()]);
        assert_eq!(
            plan_from(cli, &env, false).unwrap().rules.preserve,
            Preserve::Names([EnvName::new("A").unwrap(), EnvName::new("B").unwrap()].into())
        );
    }
}
