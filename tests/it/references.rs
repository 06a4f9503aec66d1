//! References in environment values (`DB_PASSWORD=vault:secret/app#password`) are replaced by
//! the secret before the child starts, whether they come from the parent environment or a
//! `.env` file, against each provider's test server.

use crate::contract::Fixture;
use crate::support::{self, Run};

/// Runs secretrun with `env` plus the fixture's credentials, `.env` lines, and `args`.
fn run(
    fixture_env: &[(String, String)],
    env: &[(&str, &str)],
    dotenv: &[&str],
    args: &[&str],
) -> Run {
    let dir = support::temp_dir();
    let mut command = support::secretrun(dir.path());
    if !dotenv.is_empty() {
        support::write(dir.path(), ".env", &(dotenv.join("\n") + "\n"));
        command.args(["--env-file", ".env"]);
    }
    command.args(args);
    for (name, value) in fixture_env {
        command.env(name, value);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    support::run(&mut command)
}

fn printed(run: &Run) -> &str {
    assert_eq!(run.code, Some(0), "{run:?}");
    &run.stdout
}

#[test]
fn file_reference_in_the_parent_environment() {
    let dir = support::temp_dir();
    let cert = support::write(dir.path(), "cert.pem", "-----BEGIN CERT-----\nabc\n");
    let reference = format!("file:{}", cert.display());
    let out = run(
        &[],
        &[("CERT", &reference)],
        &[],
        &["--", "printenv", "CERT"],
    );
    assert_eq!(printed(&out), "-----BEGIN CERT-----\nabc\n");

    let show = run(&[], &[("CERT", &reference)], &[], &["show"]);
    assert_eq!(show.code, Some(0), "{show:?}");
    assert!(
        show.stdout.contains(&format!("environment → {reference}")),
        "show names the reference: {}",
        show.stdout
    );
    assert!(!show.stdout.contains("abc"), "{}", show.stdout);
}

#[test]
fn vault_reference_in_a_dotenv_file() {
    let vault = crate::vault::fixture();
    let seeded = vault.seed("ref", &[("password", "vault-pw-1"), ("user", "app")]);
    let line = format!("DB_PASSWORD={}#password", seeded.spec);
    let out = run(
        &vault.env(),
        &[],
        &[&line],
        &["--", "printenv", "DB_PASSWORD"],
    );
    assert_eq!(printed(&out), "vault-pw-1\n");
}

#[test]
fn aws_and_doppler_references() {
    let aws = crate::aws_sm::fixture();
    let seeded = aws.seed("ref", &[("key", "aws-key-7")]);
    let reference = format!("{}#key", seeded.spec);
    let out = run(
        &aws.env(),
        &[("API_KEY", &reference)],
        &[],
        &["--", "printenv", "API_KEY"],
    );
    assert_eq!(printed(&out), "aws-key-7\n");

    let doppler = crate::doppler::fixture();
    let seeded = doppler.seed("ref", &[("token", "doppler-tok-3")]);
    // The fixture reads a config by query options; a reference carries them the same way.
    let (name, _) = &seeded.vars[0];
    let query = seeded.spec.split_once('?').map(|(_, q)| q).unwrap_or("");
    let query = query.split('#').next().unwrap();
    let reference = format!("doppler:{name}?{query}");
    let out = run(
        &doppler.env(),
        &[("TOKEN", &reference)],
        &[],
        &["--", "printenv", "TOKEN"],
    );
    assert_eq!(printed(&out), "doppler-tok-3\n");
}

#[test]
fn an_unresolvable_reference_fails_before_the_child() {
    let dir = support::temp_dir();
    let marker = dir.path().join("started");
    let script = format!("touch {}", marker.display());
    let out = run(
        &[],
        &[("CERT", "file:/nonexistent/cert.pem")],
        &[],
        &["--command", &script],
    );
    assert_eq!(out.code, Some(125), "{out:?}");
    assert_eq!(
        out.stderr,
        "secretrun: error: CERT=file:/nonexistent/cert.pem: cannot read '/nonexistent/cert.pem': \
         No such file or directory (os error 2)\n"
    );
    assert!(!marker.exists());
}

#[test]
fn a_reference_to_several_values_asks_for_a_key() {
    let vault = crate::vault::fixture();
    let seeded = vault.seed("multi", &[("a", "1"), ("b", "2")]);
    let out = run(&vault.env(), &[("X", &seeded.spec)], &[], &["--", "true"]);
    assert_eq!(out.code, Some(125), "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "secretrun: error: variable X: reference '{}': it yields 2 values; name one with \
             #KEY\n",
            seeded.spec
        )
    );
}

#[test]
fn malformed_reference_names_the_variable() {
    let out = run(&[], &[("X", "vault:")], &[], &["--", "true"]);
    assert_eq!(out.code, Some(125), "{out:?}");
    assert_eq!(
        out.stderr,
        "secretrun: error: variable X: reference 'vault:': the location after 'KIND:' is empty\n"
    );
}

#[test]
fn no_references_and_literal_escapes_pass_values_through() {
    let out = run(
        &[],
        &[("X", "vault:not/a/ref")],
        &[],
        &["--no-references", "--", "printenv", "X"],
    );
    assert_eq!(printed(&out), "vault:not/a/ref\n");
    let out = run(
        &[],
        &[("X", "literal:vault:not/a/ref")],
        &[],
        &["--", "printenv", "X"],
    );
    assert_eq!(printed(&out), "vault:not/a/ref\n");
    let out = run(
        &[],
        &[("URL", "file:///etc/hosts")],
        &[],
        &["--", "printenv", "URL"],
    );
    assert_eq!(printed(&out), "file:///etc/hosts\n");
}

#[test]
fn a_reference_keeps_its_variables_rank() {
    let dir = support::temp_dir();
    let file = support::write(dir.path(), "v", "from-reference\n");
    let line = format!("K=file:{}", file.display());
    // A .env reference loses to the parent's plain value, as the .env value would.
    let out = run(
        &[],
        &[("K", "from-parent")],
        &[&line],
        &["--", "printenv", "K"],
    );
    assert_eq!(printed(&out), "from-parent\n");
    let out = run(&[], &[], &[&line], &["--", "printenv", "K"]);
    assert_eq!(printed(&out), "from-reference\n");
}

#[test]
fn config_env_table_sets_variables_and_may_hold_references() {
    let dir = support::temp_dir();
    let file = support::write(dir.path(), "pw", "from-config-reference\n");
    support::write(
        dir.path(),
        "secretrun.toml",
        &format!(
            "[env]\nPASSWORD = \"file:{}\"\nLOG_LEVEL = \"info\"\n",
            file.display()
        ),
    );
    support::write(dir.path(), ".env", "LOG_LEVEL=debug\n");
    let mut command = support::secretrun(dir.path());
    command.args([
        "--env-file",
        ".env",
        "--",
        "sh",
        "-c",
        "echo $PASSWORD $LOG_LEVEL",
    ]);
    let out = support::run(&mut command);
    // The config's table ranks below every .env file.
    assert_eq!(printed(&out), "from-config-reference debug\n");

    let mut show = support::secretrun(dir.path());
    show.args(["show", "--reveal"]);
    let out = support::run(&mut show);
    assert_eq!(out.code, Some(0), "{out:?}");
    let line = out
        .stdout
        .lines()
        .find(|line| line.starts_with("PASSWORD"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        line.contains(&format!("config:secretrun.toml → file:{}", file.display())),
        "{line}"
    );
}
