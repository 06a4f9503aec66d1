//! `--require-from` and `[rules.NAME]`: checked on the merged environment before the command
//! starts; every violation at once, exit 125, names and rules only, never a value.

use std::path::Path;

use crate::support::{self, Run};

const CONFIG: &str = r#"
require-from = [".env.example"]

[rules.DATABASE_URL]
required = ["production"]
scheme = "postgres"

[rules.CORS_ORIGIN]
forbid = ["*"]

[rules.API_URL]
scheme = "https"

[rules.API_KEY]
required = true
min-length = 12
pattern = "^sk_"

[rules.LOG_LEVEL]
one-of = ["debug", "info", "warn"]
"#;

/// Runs `secretrun -- touch MARKER` in `dir`; returns the run and whether the command ran.
fn run_child(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> (Run, bool) {
    let marker = dir.join("ran");
    let _ = std::fs::remove_file(&marker);
    let mut command = support::secretrun_with(dir, vars);
    command.args(args).args(["--", "touch"]).arg(&marker);
    let run = support::run(&mut command);
    (run, marker.exists())
}

#[test]
fn every_broken_rule_is_reported_at_once_without_values() {
    let dir = support::temp_dir();
    support::write(dir.path(), "secretrun.toml", CONFIG);
    support::write(
        dir.path(),
        ".env.example",
        "API_KEY=sk_example\nSENTRY_DSN=\nCORS_ORIGIN=*\n",
    );
    support::write(
        dir.path(),
        ".env",
        "CORS_ORIGIN=*\nAPI_URL=http://api.internal\nAPI_KEY=shortkey\nLOG_LEVEL=verbose\n",
    );
    let (run, ran) = run_child(
        dir.path(),
        &["-e", ".env", "--environment", "production"],
        &[],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(!ran, "the command started");
    assert_eq!(
        run.stderr,
        "secretrun: error: required variable(s) missing: SENTRY_DSN\n\
         secretrun: error: [rules.API_KEY]: shorter than min-length 12\n\
         secretrun: error: [rules.API_KEY]: does not match pattern '^sk_'\n\
         secretrun: error: [rules.API_URL]: not a https:// URL (scheme)\n\
         secretrun: error: [rules.CORS_ORIGIN]: has a value that forbid lists\n\
         secretrun: error: [rules.DATABASE_URL]: required in environment 'production', but not set\n\
         secretrun: error: [rules.LOG_LEVEL]: not one of: debug, info, warn\n"
    );
    for value in ["shortkey", "api.internal", "verbose"] {
        assert!(!run.stderr.contains(value), "{}", run.stderr);
    }
}

#[test]
fn a_clean_environment_runs_and_required_lists_follow_the_environment() {
    let dir = support::temp_dir();
    support::write(dir.path(), "secretrun.toml", CONFIG);
    support::write(dir.path(), ".env.example", "API_KEY=\n");
    support::write(
        dir.path(),
        ".env",
        "CORS_ORIGIN=https://app.example\nAPI_URL=https://api.example\nAPI_KEY=sk_0123456789\n",
    );
    // DATABASE_URL is required in production only.
    let (run, ran) = run_child(dir.path(), &["-e", ".env"], &[]);
    assert_eq!((run.code, ran), (Some(0), true), "{run:?}");
    let (run, ran) = run_child(
        dir.path(),
        &["-e", ".env"],
        &[("SECRETRUN_ENVIRONMENT", "staging")],
    );
    assert_eq!((run.code, ran), (Some(0), true), "{run:?}");
    let (run, ran) = run_child(
        dir.path(),
        &["-e", ".env"],
        &[("SECRETRUN_ENVIRONMENT", "production")],
    );
    assert_eq!((run.code, ran), (Some(125), false), "{run:?}");
    assert_eq!(
        run.stderr,
        "secretrun: error: [rules.DATABASE_URL]: required in environment 'production', but not set\n"
    );
    let (run, ran) = run_child(
        dir.path(),
        &["-e", ".env"],
        &[
            ("SECRETRUN_ENVIRONMENT", "production"),
            ("DATABASE_URL", "postgres://db/app"),
        ],
    );
    assert_eq!((run.code, ran), (Some(0), true), "{run:?}");
}

#[test]
fn require_from_on_the_command_line_ignores_the_example_values() {
    let dir = support::temp_dir();
    support::write(
        dir.path(),
        ".env.example",
        "# every name the app reads\nexport A=example-a\nB=\"multi\nline example\"\nC=\n",
    );
    let (run, ran) = run_child(
        dir.path(),
        &["--require-from", ".env.example"],
        &[("A", "1"), ("C", "3")],
    );
    assert_eq!((run.code, ran), (Some(125), false), "{run:?}");
    assert_eq!(
        run.stderr,
        "secretrun: error: required variable(s) missing: B\n"
    );
    let (run, _) = run_child(dir.path(), &["--require-from", "missing.example"], &[]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.starts_with(
            "secretrun: error: require-from:missing.example: cannot read 'missing.example'"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_bad_rule_fails_before_anything_runs() {
    let dir = support::temp_dir();
    support::write(dir.path(), "secretrun.toml", "[rules.X]\npattern = \"(\"\n");
    let (run, ran) = run_child(dir.path(), &[], &[]);
    assert_eq!((run.code, ran), (Some(125), false), "{run:?}");
    assert_eq!(
        run.stderr,
        "secretrun: error: rules: 'secretrun.toml': [rules.X]: pattern is not a valid regular expression\n"
    );
    support::write(dir.path(), "secretrun.toml", "[rules.X]\nrequird = true\n");
    let (run, _) = run_child(dir.path(), &[], &[]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("unknown field `requird`"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_reports_unset_example_names_and_every_broken_rule() {
    let dir = support::temp_dir();
    support::write(dir.path(), "secretrun.toml", CONFIG);
    support::write(dir.path(), ".env.example", "API_KEY=\nSENTRY_DSN=\n");
    support::write(dir.path(), ".env", "CORS_ORIGIN=*\nAPI_KEY=sk_0123456789\n");
    let mut command = support::secretrun_with(dir.path(), &[]);
    command.args(["-e", ".env", "check"]);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.contains(" example ") || line.contains(" rules "))
        .collect();
    assert_eq!(
        lines,
        [
            "error  example      require-from:.env.example: not set by any source: SENTRY_DSN",
            "error  rules        [rules.CORS_ORIGIN]: has a value that forbid lists",
        ],
        "{}",
        run.stdout
    );
}

#[test]
fn export_example_writes_names_without_values_that_require_from_reads() {
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", "B_TOKEN=secret-b\nA_URL=https://a\n");
    let mut command = support::secretrun_with(dir.path(), &[("INHERITED", "x")]);
    command.args([
        "-e",
        ".env",
        "export",
        "--format",
        "example",
        "-o",
        ".env.example",
    ]);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(0), "{run:?}");
    let example = std::fs::read_to_string(dir.path().join(".env.example")).unwrap();
    assert_eq!(example, "A_URL=\nB_TOKEN=\n");
    let (run, ran) = run_child(
        dir.path(),
        &["--require-from", ".env.example"],
        &[("A_URL", "1")],
    );
    assert_eq!((run.code, ran), (Some(125), false), "{run:?}");
    assert_eq!(
        run.stderr,
        "secretrun: error: required variable(s) missing: B_TOKEN\n"
    );
}
