//! The contract every remote provider keeps, written once and run against each provider's real
//! (or, for Doppler, stand-in) server through a [`Fixture`].
//!
//! `contract_tests!(fixture_fn)` expands to one `#[test]` per clause, so a failure names the
//! provider and the clause.

#![allow(dead_code)]

use std::path::Path;

use crate::support::{self, Run};

/// A secret stored on a provider's server, and how secretrun should see it.
pub struct Seeded {
    /// The spec that reads exactly this secret group, e.g. `aws-sm:app/db`.
    pub spec: String,
    /// The environment names and values the spec yields.
    pub vars: Vec<(String, String)>,
}

/// The name a key becomes in providers that upper-case and sanitize keys (AWS, Vault): an
/// oracle independent of `naming.rs`, enough for the keys these tests use.
pub fn expected_name(key: &str) -> String {
    key.to_uppercase().replace(['-', '.'], "_")
}

/// The variables `pairs` become under [`expected_name`].
pub fn expected_vars<'a>(
    pairs: impl IntoIterator<Item = &'a (&'a str, &'a str)>,
) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(key, value)| (expected_name(key), value.to_string()))
        .collect()
}

pub trait Fixture: Sync {
    /// The provider's scheme, e.g. `vault`.
    fn scheme(&self) -> &'static str;
    /// Variables secretrun needs to reach the server with valid credentials.
    fn env(&self) -> Vec<(String, String)>;
    /// The same, with credentials the server rejects (HTTP 401 or 403, or the SDK's equivalent).
    fn env_with_bad_credentials(&self) -> Vec<(String, String)>;
    /// Names of credential variables that must not reach the child.
    fn credential_vars(&self) -> Vec<String>;
    /// Stores a new secret group holding `pairs` (keys as written, e.g. `client_id`), under a
    /// name unique to the caller, and says how secretrun reads it by path. The names it yields
    /// depend on the keys only, not on the group (so two groups can define the same name).
    fn seed(&self, group: &str, pairs: &[(&str, &str)]) -> Seeded;
    /// Stores several groups under one new prefix; the spec reads them all by prefix.
    fn seed_prefix(&self, groups: &[(&str, &[(&str, &str)])]) -> Seeded;
    /// A spec naming a secret that does not exist.
    fn missing_spec(&self) -> String;
}

fn run_with(fixture: &dyn Fixture, env: &[(String, String)], args: &[&str]) -> Run {
    let dir = support::temp_dir();
    run_in(fixture, dir.path(), env, args)
}

fn run_in(fixture: &dyn Fixture, dir: &Path, env: &[(String, String)], args: &[&str]) -> Run {
    let _ = fixture;
    let mut command = support::secretrun(dir);
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    support::run(&mut command)
}

fn assert_no_value_leaks(run: &Run, values: &[&str]) {
    for value in values {
        assert!(
            !run.stderr.contains(value),
            "a secret value reached secretrun's stderr: {run:?}"
        );
    }
}

/// By path: every value reaches the child under the documented name.
pub fn path_values_reach_the_child(fixture: &dyn Fixture) {
    let seeded = fixture.seed(
        "app",
        &[("client_id", "id-123"), ("client-secret", "s3cr3t-xyz")],
    );
    let names: Vec<&str> = seeded.vars.iter().map(|(n, _)| n.as_str()).collect();
    let mut args = vec!["--source", &seeded.spec, "--", "printenv"];
    args.extend(&names);
    let run = run_with(fixture, &fixture.env(), &args);
    assert_eq!(run.code, Some(0), "{run:?}");
    let expected: String = seeded.vars.iter().map(|(_, v)| format!("{v}\n")).collect();
    assert_eq!(run.stdout, expected);
}

/// By prefix: every group under the prefix is fetched.
pub fn prefix_values_reach_the_child(fixture: &dyn Fixture) {
    let seeded = fixture.seed_prefix(&[
        ("one", &[("alpha", "a-value-1")]),
        ("two", &[("beta", "b-value-2")]),
    ]);
    let names: Vec<&str> = seeded.vars.iter().map(|(n, _)| n.as_str()).collect();
    let mut args = vec!["--source", &seeded.spec, "--", "printenv"];
    args.extend(&names);
    let run = run_with(fixture, &fixture.env(), &args);
    assert_eq!(run.code, Some(0), "{run:?}");
    let expected: String = seeded.vars.iter().map(|(_, v)| format!("{v}\n")).collect();
    assert_eq!(run.stdout, expected);
}

/// A missing secret: exit 125, the source named, a not-found hint, the child never started.
pub fn missing_secret_fails_before_the_child(fixture: &dyn Fixture) {
    let dir = support::temp_dir();
    let marker = dir.path().join("started");
    let spec = fixture.missing_spec();
    let script = format!("touch {}", marker.display());
    let run = run_in(
        fixture,
        dir.path(),
        &fixture.env(),
        &["--source", &spec, "--command", &script],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(&spec),
        "the error names the source: {run:?}"
    );
    assert!(
        run.stderr.contains("not found"),
        "a not-found hint: {run:?}"
    );
    assert!(!marker.exists(), "the child must not start");
}

/// Rejected credentials: exit 125 with an authentication hint; the credentials never printed.
pub fn bad_credentials_fail_with_a_hint(fixture: &dyn Fixture) {
    let seeded = fixture.seed("auth", &[("key", "never-shown-value")]);
    let env = fixture.env_with_bad_credentials();
    let run = run_with(fixture, &env, &["--source", &seeded.spec, "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains(&seeded.spec), "{run:?}");
    assert!(
        run.stderr.contains("401")
            || run.stderr.contains("403")
            || run.stderr.contains("permission denied")
            || run.stderr.contains("unauthenticated"),
        "an authentication hint: {run:?}"
    );
    let secrets: Vec<&str> = env
        .iter()
        .filter(|(name, _)| fixture.credential_vars().contains(name))
        .map(|(_, value)| value.as_str())
        .collect();
    assert_no_value_leaks(&run, &secrets);
    assert_no_value_leaks(&run, &["never-shown-value"]);
}

/// Credentials secretrun consumed stay out of the child's environment unless asked.
pub fn credentials_are_not_passed_to_the_child(fixture: &dyn Fixture) {
    let seeded = fixture.seed("creds", &[("key", "v")]);
    let run = run_with(
        fixture,
        &fixture.env(),
        &["--source", &seeded.spec, "--", "env"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    for name in fixture.credential_vars() {
        assert!(
            !run.stdout
                .lines()
                .any(|line| line.starts_with(&format!("{name}="))),
            "{name} reached the child: {}",
            run.stdout
        );
    }
    let kept = run_with(
        fixture,
        &fixture.env(),
        &["--keep-config-vars", "--source", &seeded.spec, "--", "env"],
    );
    let first = fixture
        .credential_vars()
        .into_iter()
        .find(|name| fixture.env().iter().any(|(n, _)| n == name));
    if let Some(name) = first {
        assert!(
            kept.stdout
                .lines()
                .any(|line| line.starts_with(&format!("{name}="))),
            "--keep-config-vars keeps {name}: {}",
            kept.stdout
        );
    }
}

/// `show` names the provider's source as the winner, masked by default.
pub fn show_names_the_source(fixture: &dyn Fixture) {
    let seeded = fixture.seed("show", &[("token", "abcdefghijklmnopqrstuvwxyz")]);
    let run = run_with(fixture, &fixture.env(), &["show", "--source", &seeded.spec]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let (name, _) = &seeded.vars[0];
    let line = run
        .stdout
        .lines()
        .find(|line| line.starts_with(name.as_str()))
        .unwrap_or_else(|| panic!("{name} in {}", run.stdout));
    assert!(line.contains("ab********yz (26 chars)"), "{line}");
    assert!(line.contains(&seeded.spec), "{line}");
    assert!(!run.stdout.contains("abcdefghijklmnopqrstuvwxyz"));
}

/// At -vvv, no value reaches secretrun's own stdout or stderr.
pub fn no_secret_in_logs(fixture: &dyn Fixture) {
    let value = "leak-canary-7f3a9c2e";
    let seeded = fixture.seed("logs", &[("canary", value)]);
    let run = run_with(
        fixture,
        &fixture.env(),
        &["-vvv", "--source", &seeded.spec, "--", "true"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        !run.stdout.contains(value) && !run.stderr.contains(value),
        "{run:?}"
    );
    let show = run_with(
        fixture,
        &fixture.env(),
        &["-vvv", "show", "--source", &seeded.spec],
    );
    assert_eq!(show.code, Some(0), "{show:?}");
    assert!(
        !show.stdout.contains(value) && !show.stderr.contains(value),
        "{show:?}"
    );
}

/// Several sources of one provider resolve together, and a later one beats an earlier one.
pub fn later_source_beats_earlier(fixture: &dyn Fixture) {
    let first = fixture.seed("first", &[("shared", "from-first"), ("only_first", "1")]);
    let second = fixture.seed("second", &[("shared", "from-second")]);
    let shared_first = &first.vars[0].0;
    assert_eq!(shared_first, &second.vars[0].0, "names depend on keys only");
    let run = run_with(
        fixture,
        &fixture.env(),
        &[
            "--source",
            &first.spec,
            "--source",
            &second.spec,
            "--",
            "printenv",
            shared_first,
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "from-second\n");
}

/// Every failing source is reported, not only the first.
pub fn every_failure_is_reported(fixture: &dyn Fixture) {
    let good = fixture.seed("good", &[("k", "v")]);
    let missing = fixture.missing_spec();
    let run = run_with(
        fixture,
        &fixture.env_with_bad_credentials(),
        &["--source", &good.spec, "--source", &missing, "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains(&good.spec), "{run:?}");
    assert!(run.stderr.contains(&missing), "{run:?}");
}

/// One `#[test]` per clause for the fixture returned by `$fixture()`.
#[macro_export]
macro_rules! contract_tests {
    ($fixture:path) => {
        mod contract {
            use $crate::contract as c;

            #[test]
            fn path_values_reach_the_child() {
                c::path_values_reach_the_child($fixture());
            }
            #[test]
            fn prefix_values_reach_the_child() {
                c::prefix_values_reach_the_child($fixture());
            }
            #[test]
            fn missing_secret_fails_before_the_child() {
                c::missing_secret_fails_before_the_child($fixture());
            }
            #[test]
            fn bad_credentials_fail_with_a_hint() {
                c::bad_credentials_fail_with_a_hint($fixture());
            }
            #[test]
            fn credentials_are_not_passed_to_the_child() {
                c::credentials_are_not_passed_to_the_child($fixture());
            }
            #[test]
            fn show_names_the_source() {
                c::show_names_the_source($fixture());
            }
            #[test]
            fn no_secret_in_logs() {
                c::no_secret_in_logs($fixture());
            }
            #[test]
            fn later_source_beats_earlier() {
                c::later_source_beats_earlier($fixture());
            }
            #[test]
            fn every_failure_is_reported() {
                c::every_failure_is_reported($fixture());
            }
        }
    };
}
