//! `secretrun check` (alias `doctor`): what is wrong with the set-up, without running anything.
//!
//! Checks, in the order they are reported:
//! - `source`: each source on its own (reachable, authenticated, its path or prefix exists and
//!   yields at least one name). Each is resolved by itself, so one broken source hides no
//!   other; a secret source is resolved together with the `.env` files that read, since their
//!   values may hold its credentials. Sources that `SECRETS_MANAGER` style settings add are
//!   resolved together, after the declared ones. Every resolution of a check shares its answers
//!   ([`Sharing`]): each source is fetched once, and its finding and the merged
//!   environment below come from that one answer. Nothing is read from or written to the
//!   fallback snapshot: a check is about the sources as they are now.
//! - `token`: what a provider finds wrong with a source's settings before any request (a
//!   Doppler service token for another environment than the configured config's, which Doppler
//!   refuses with a bare 403), after that source's own line.
//! - `permissions` and `git`, for each `.env` file: readable by every user of the machine,
//!   tracked by git (asked of `git ls-files` in the file's directory, when git is installed).
//! - `resolve`: what fails only once everything is merged (a protected name, a reference).
//! - `required`: the `--require`d names, in the merged environment ([`crate::pipeline::merged`], exactly
//!   what a run would get).
//! - `dotenvx`, for each dotenvx-encrypted `.env` file: its `.env.keys` tracked by git, or
//!   plaintext values beside encrypted ones in a file git tracks.
//! - `example` and `rules`: the `--require-from` files' names no source sets and every broken
//!   `[rules.NAME]` rule, in the merged environment (see [`crate::env::rules`]).
//! - `override`: a name a `.env` file sets that a secret source overrides. The `.env` value is
//!   never used, and is often the old credential the secret manager replaced.
//!
//! An `error` is what makes a run fail; a `warn` is what a run survives but should not. Exit 1
//! when there is an error. Messages never hold a value: provider errors never do, and the
//! other checks name variables and files only.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use futures_util::future::join_all;
use serde::Serialize;

use crate::cli::{CheckArgs, CheckFormat};
use crate::env::merge::ChildEnv;
use crate::env::origin::Origin;
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::plan::Plan;
use crate::providers::Advice;
use crate::resolve::{self, PlannedSource, Resolved, Sharing};
use crate::source::{SourceClass, SourceKind};

use super::EXIT_FOUND;
use crate::pipeline::{merged_sharing, missing_required, rules_environment, Session, Stop};

/// The widest check name, for the text report's column.
const CHECK_WIDTH: usize = "permissions".len();

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Error,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Finding {
    pub level: Level,
    pub check: &'static str,
    /// The source (spec text) the finding is about, if any.
    pub source: Option<String>,
    pub message: String,
}

impl Finding {
    fn new(level: Level, check: &'static str, source: Option<&str>, message: String) -> Self {
        Self {
            level,
            check,
            source: source.map(str::to_string),
            message,
        }
    }
}

pub fn run(session: &Session, args: &CheckArgs) -> Result<i32, Stop> {
    let plan = session.plan;
    let shared = Sharing::default();
    // The whole plan as a run would resolve it, but never from the fallback snapshot.
    let whole = plan.sources.probe(
        &plan.sources.iter().collect::<Vec<_>>(),
        plan.sources.secrets_settings,
        plan.sources.references,
    );
    let (probes, merged) = session.block_on(futures_util::future::join(
        probe_sources(plan, session.env, &shared),
        merged_sharing(plan, &whole, session.env, Some(&shared)),
    ))?;
    let findings = report(plan, probes, merged, shared.take_advice());

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        CheckFormat::Text => write_text(&findings, &mut out),
        CheckFormat::Json => serde_json::to_writer_pretty(&mut out, &findings)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
    }
    .and_then(|()| out.flush())
    .map_err(Error::Output)?;
    let failed = findings.iter().any(|f| f.level == Level::Error);
    Ok(if failed { EXIT_FOUND } else { 0 })
}

/// Each source resolved on its own, in declared order; then those the settings add.
struct Probes<'p> {
    declared: Vec<(&'p PlannedSource, Result<Resolved, Error>)>,
    /// `None` when `SECRETS_MANAGER`-style settings are off.
    settings: Option<Result<Resolved, Error>>,
}

async fn probe_sources<'p>(plan: &'p Plan, env: &ParentEnv, shared: &Sharing) -> Probes<'p> {
    let (env_files, secrets): (Vec<&PlannedSource>, Vec<&PlannedSource>) = plan
        .sources
        .iter()
        .partition(|source| source.class == SourceClass::EnvFile);
    let env_results = join_all(
        env_files
            .iter()
            .map(|s| probe(plan, env, vec![*s], false, shared)),
    )
    .await;
    // A secret source reads with the `.env` files that can be read, as it would in a run.
    let readable: Vec<&PlannedSource> = env_files
        .iter()
        .zip(&env_results)
        .filter(|(_, result)| result.is_ok())
        .map(|(source, _)| *source)
        .collect();
    let with_env_files = |source: Option<&'p PlannedSource>| {
        let mut sources = readable.clone();
        sources.extend(source);
        sources
    };
    let secret_probes = join_all(
        secrets
            .iter()
            .map(|source| probe(plan, env, with_env_files(Some(source)), false, shared)),
    );
    let settings_probe = async {
        if plan.sources.secrets_settings {
            Some(probe(plan, env, with_env_files(None), true, shared).await)
        } else {
            None
        }
    };
    let (secret_results, settings) =
        futures_util::future::join(secret_probes, settings_probe).await;

    let mut results: Vec<_> = env_files.into_iter().zip(env_results).collect();
    results.extend(secrets.into_iter().zip(secret_results));
    // Back in declared order, as a user wrote them.
    let position = |source: &PlannedSource| {
        plan.sources
            .iter()
            .position(|planned| std::ptr::eq(planned, source))
    };
    results.sort_by_key(|(source, _)| position(source));
    Probes {
        declared: results,
        settings,
    }
}

/// Resolves `sources` alone, with `plan`'s limits; nothing else of the plan.
async fn probe(
    plan: &Plan,
    env: &ParentEnv,
    sources: Vec<&PlannedSource>,
    settings: bool,
    shared: &Sharing,
) -> Result<Resolved, Error> {
    let probe = plan.sources.probe(&sources, settings, false);
    resolve::resolve(&probe, env, Some(shared)).await
}

fn report(
    plan: &Plan,
    probes: Probes,
    merged: Result<ChildEnv, Error>,
    mut advice: BTreeMap<String, Advice>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    // Sources with an error finding: the merged environment's errors about them are repeats.
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let env_origins: BTreeSet<&str> = plan
        .sources
        .iter()
        .filter(|source| source.class == SourceClass::EnvFile)
        .map(|source| source.origin.as_str())
        .collect();

    for (source, result) in probes.declared {
        match result {
            Ok(resolved) => {
                let names = resolved
                    .layers
                    .iter()
                    .find(|layer| layer.origin == source.origin)
                    .map_or(0, |layer| layer.entries.len());
                findings.push(names_found(&source.origin, names));
            }
            Err(error) => {
                for finding in error_findings(error, Some(&source.origin)) {
                    failed.extend(finding.source.clone());
                    findings.push(finding);
                }
            }
        }
        findings.extend(advice_finding(&mut advice, &source.origin));
        if source.spec.kind == SourceKind::Dotenv {
            findings.extend(env_file_findings(source));
            findings.extend(dotenvx_findings(source));
        }
    }
    match probes.settings {
        None => {}
        Some(Ok(resolved)) => {
            for layer in &resolved.layers {
                if !env_origins.contains(layer.origin.as_str()) {
                    findings.push(names_found(&layer.origin, layer.entries.len()));
                    findings.extend(advice_finding(&mut advice, &layer.origin));
                }
            }
        }
        Some(Err(error)) => {
            for finding in error_findings(error, None) {
                failed.extend(finding.source.clone());
                findings.push(finding);
            }
        }
    }

    // Sources the settings add, when they failed: after their errors.
    findings.extend(
        advice
            .into_iter()
            .map(|(origin, found)| token_finding(&origin, found)),
    );

    if !findings.iter().any(|finding| finding.check == "source") {
        findings.push(Finding::new(
            Level::Warn,
            "source",
            None,
            "no sources: nothing is resolved (add --env-file, --secrets-dir or --source)".into(),
        ));
    }

    let child_env = match merged {
        Ok(child_env) => child_env,
        Err(error) => {
            for finding in error_findings(error, None) {
                let repeated = finding
                    .source
                    .as_ref()
                    .is_some_and(|source| failed.contains(source));
                if !repeated {
                    findings.push(Finding {
                        check: "resolve",
                        ..finding
                    });
                }
            }
            if !plan.required.is_empty() {
                findings.push(Finding::new(
                    Level::Warn,
                    "required",
                    None,
                    "not checked: the environment could not be resolved".into(),
                ));
            }
            return findings;
        }
    };
    if !plan.required.is_empty() {
        let missing = missing_required(plan, &child_env);
        findings.push(if missing.is_empty() {
            let names: Vec<String> = plan.required.iter().map(ToString::to_string).collect();
            Finding::new(
                Level::Ok,
                "required",
                None,
                format!("set: {}", names.join(", ")),
            )
        } else {
            Finding::new(
                Level::Error,
                "required",
                None,
                format!("missing: {}", missing.join(", ")),
            )
        });
    }
    findings.extend(rule_findings(plan, &child_env));
    findings.extend(override_findings(&child_env));
    findings
}

/// The advice about `origin`'s settings, taken out of `advice`.
fn advice_finding(advice: &mut BTreeMap<String, Advice>, origin: &str) -> Option<Finding> {
    let found = advice.remove(origin)?;
    Some(token_finding(origin, found))
}

/// Settings that cannot work are an error: the run would fail on them.
fn token_finding(origin: &str, advice: Advice) -> Finding {
    Finding::new(Level::Error, "token", Some(origin), advice.message)
}

fn names_found(origin: &str, names: usize) -> Finding {
    if names == 0 {
        Finding::new(
            Level::Warn,
            "source",
            Some(origin),
            "yields no names (a wrong path, prefix or file?)".into(),
        )
    } else {
        let plural = if names == 1 { "" } else { "s" };
        Finding::new(
            Level::Ok,
            "source",
            Some(origin),
            format!("{names} name{plural}"),
        )
    }
}

/// One error finding per failure, about the source it names (else `source`).
fn error_findings(error: Error, source: Option<&str>) -> Vec<Finding> {
    match error {
        Error::Many(errors) => errors
            .into_iter()
            .flat_map(|error| error_findings(error, source))
            .collect(),
        Error::Source { origin, error } => vec![Finding::new(
            Level::Error,
            "source",
            Some(&origin),
            error.to_string(),
        )],
        Error::Spec { spec, problem } => vec![Finding::new(
            Level::Error,
            "source",
            Some(&spec),
            problem.to_string(),
        )],
        error @ Error::Settings { .. } => {
            vec![Finding::new(
                Level::Error,
                "settings",
                None,
                error.to_string(),
            )]
        }
        error => vec![Finding::new(
            Level::Error,
            "source",
            source,
            error.to_string(),
        )],
    }
}

/// Who else can read a `.env` file, and whether git tracks it.
fn env_file_findings(source: &PlannedSource) -> Vec<Finding> {
    let path = Path::new(&source.spec.location);
    let origin = Some(source.origin.as_str());
    // A missing file is the source check's finding (or fine, for an optional one).
    let Ok(metadata) = std::fs::metadata(path) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    let mode = metadata.permissions().mode() & 0o7777;
    findings.push(if mode & 0o004 != 0 {
        Finding::new(
            Level::Warn,
            "permissions",
            origin,
            format!(
                "readable by every user (mode {mode:04o}); run: chmod 600 {}",
                path.display()
            ),
        )
    } else {
        Finding::new(
            Level::Ok,
            "permissions",
            origin,
            format!("not readable by every user (mode {mode:04o})"),
        )
    });
    if let Some(tracked) = git_tracks(path) {
        findings.push(match tracked {
            Tracking::Tracked => Finding::new(
                Level::Warn,
                "git",
                origin,
                format!(
                    "tracked by git: its values are in the repository and its history; run: \
                     git rm --cached {} and add it to .gitignore",
                    path.display()
                ),
            ),
            Tracking::Untracked => {
                Finding::new(Level::Ok, "git", origin, "not tracked by git".into())
            }
            Tracking::NoRepository => {
                Finding::new(Level::Ok, "git", origin, "not in a git repository".into())
            }
        });
    }
    findings
}

/// For a dotenvx-encrypted `.env` file: its private keys committed to git, and plaintext values
/// beside encrypted ones in a file git tracks (each a leak in the repository's history).
fn dotenvx_findings(source: &PlannedSource) -> Vec<Finding> {
    use crate::dotenvx::{self, ENCRYPTED_PREFIX};
    let path = Path::new(&source.spec.location);
    let origin = Some(source.origin.as_str());
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let assignments = crate::envfile::assignments(&text);
    let encrypted = |a: &crate::envfile::Assignment| a.inner(&text).starts_with(ENCRYPTED_PREFIX);
    if !assignments.iter().any(encrypted) {
        return Vec::new();
    }
    let mut findings = Vec::new();
    let keys_option = source.spec.clone().take_value("keys").ok().flatten();
    let keys = dotenvx::keys_path(path, keys_option.as_deref().map(Path::new));
    if keys.exists() {
        if let Some(Tracking::Tracked) = git_tracks(&keys) {
            findings.push(Finding::new(
                Level::Warn,
                "dotenvx",
                origin,
                format!(
                    "the private keys in {} are tracked by git: whoever reads the repository \
                     can decrypt the file; run: git rm --cached {} and add it to .gitignore",
                    keys.display(),
                    keys.display()
                ),
            ));
        }
    }
    let plaintext: Vec<&str> = assignments
        .iter()
        .filter(|a| !encrypted(a) && !a.inner(&text).is_empty())
        .map(|a| a.name(&text))
        .filter(|name| !name.starts_with(dotenvx::PUBLIC_KEY_NAME) && !name.ends_with("_PLAIN"))
        .collect();
    if !plaintext.is_empty() {
        if let Some(Tracking::Tracked) = git_tracks(path) {
            findings.push(Finding::new(
                Level::Warn,
                "dotenvx",
                origin,
                format!(
                    "tracked by git with plaintext values beside encrypted ones: {}; run: \
                     secretrun encrypt -f {} (or name them *_PLAIN)",
                    plaintext.join(", "),
                    path.display()
                ),
            ));
        }
    }
    findings
}

/// The `--require-from` names no source sets, and every broken `[rules.NAME]` rule (errors:
/// a run would fail on them).
fn rule_findings(plan: &Plan, child_env: &ChildEnv) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (path, names) in &plan.checks.examples {
        let origin = format!("require-from:{}", path.display());
        let missing: Vec<&str> = names
            .iter()
            .filter(|name| !child_env.contains(name))
            .map(String::as_str)
            .collect();
        findings.push(if missing.is_empty() {
            Finding::new(
                Level::Ok,
                "example",
                Some(&origin),
                format!("all {} names set", names.len()),
            )
        } else {
            Finding::new(
                Level::Error,
                "example",
                Some(&origin),
                format!("not set by any source: {}", missing.join(", ")),
            )
        });
    }
    let environment = rules_environment(plan, child_env);
    let violations = plan.checks.violations(child_env, environment.as_deref());
    if plan.checks.has_rules() && violations.is_empty() {
        findings.push(Finding::new(
            Level::Ok,
            "rules",
            None,
            "every rule is met".into(),
        ));
    }
    for violation in violations {
        findings.push(Finding::new(
            Level::Error,
            "rules",
            None,
            format!("[rules.{}]: {}", violation.name, violation.rule),
        ));
    }
    findings
}

enum Tracking {
    Tracked,
    Untracked,
    NoRepository,
}

/// Asks git, in the file's own directory (it may be in another repository than the working
/// directory). `None` when git is not installed or cannot answer.
fn git_tracks(path: &Path) -> Option<Tracking> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let status = Command::new("git")
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(path.file_name()?)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status.map(|status| status.code()) {
        Ok(Some(0)) => Some(Tracking::Tracked),
        // --error-unmatch: 1 for a file git does not know; 128 outside a repository.
        Ok(Some(1)) => Some(Tracking::Untracked),
        Ok(Some(128)) => Some(Tracking::NoRepository),
        Ok(_) => None,
        Err(error) => {
            tracing::debug!(%error, "git not available; .env files not checked against git");
            None
        }
    }
}

/// Names a secret source sets over a `.env` file's value.
fn override_findings(child_env: &ChildEnv) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, entry) in &child_env.vars {
        if entry.origin == Origin::Parent || entry.origin.class() == Some(SourceClass::EnvFile) {
            continue;
        }
        for loser in &entry.overridden {
            if loser.class() == Some(SourceClass::EnvFile) {
                findings.push(Finding::new(
                    Level::Warn,
                    "override",
                    Some(&loser.to_string()),
                    format!(
                        "{} is overridden by {}: the value here is never used; remove it so no \
                         stale credential stays on disk",
                        name.to_string_lossy(),
                        entry.origin
                    ),
                ));
            }
        }
    }
    findings
}

fn write_text(findings: &[Finding], out: &mut impl Write) -> std::io::Result<()> {
    for finding in findings {
        // One line per finding, even for a service's multi-line error text.
        let message: Vec<&str> = finding.message.split_whitespace().collect();
        let message = message.join(" ");
        let about = match &finding.source {
            Some(source) => format!("{source}: {message}"),
            None => message,
        };
        writeln!(
            out,
            "{:<5}  {:<CHECK_WIDTH$}  {about}",
            finding.level.label(),
            finding.check
        )?;
    }
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    let (errors, warnings) = (count(Level::Error), count(Level::Warn));
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    writeln!(
        out,
        "{errors} error{}, {warnings} warning{}",
        plural(errors),
        plural(warnings)
    )
}
