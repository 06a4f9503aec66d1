//! The seed projects' own secrets settings (`SECRETS_MANAGER=...` in a `.env` file) work with
//! no config file, against each provider's test server: the secrets manager's values beat the
//! `.env` values, `show` makes the override visible, and consumed credentials stay out of the
//! child.

use crate::contract::Fixture;
use crate::support;

/// Writes `.env` with `lines`, runs `secretrun --env-file .env` with `args` and `env`.
fn run_with_env_file(lines: &[String], env: &[(String, String)], args: &[&str]) -> support::Run {
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", &(lines.join("\n") + "\n"));
    let mut command = support::secretrun(dir.path());
    command.args(["--env-file", ".env"]).args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    support::run(&mut command)
}

fn value_of<'a>(run: &'a support::Run, name: &str) -> Option<&'a str> {
    run.stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
}

#[test]
fn stream_daemon_doppler_env_file() {
    let doppler = crate::doppler::fixture();
    let seeded = doppler.seed("twitch", &[("client_id", "from-doppler-123")]);
    // The fixture's groups are configs of a personal token; the .env names them the seed's way.
    let (name, _) = &seeded.vars[0];
    let query = seeded.spec.split_once('?').map_or("", |(_, q)| q);
    let mut lines = vec![
        "SECRETS_MANAGER=doppler".to_string(),
        format!(
            "SECRETS_DOPPLER_TWITCH_SECRET_NAME={}",
            name.split('_').next().unwrap()
        ),
        format!("{name}=stale-value-from-env-file"),
        "TWITCH_USERNAME=streamer".to_string(),
    ];
    let mut env = Vec::new();
    for (key, value) in doppler.env() {
        // The token lives in .env, as the Stream Daemon guide has it.
        lines.push(format!("{key}={value}"));
    }
    for part in query.split('&').filter(|p| !p.is_empty()) {
        if let Some((key, value)) = part.split_once('=') {
            env.push((format!("DOPPLER_{}", key.to_uppercase()), value.to_string()));
        }
    }
    let run = run_with_env_file(&lines, &env, &["--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(value_of(&run, name), Some("from-doppler-123"), "{run:?}");
    assert_eq!(value_of(&run, "TWITCH_USERNAME"), Some("streamer"));
    assert_eq!(
        value_of(&run, "DOPPLER_TOKEN"),
        None,
        "the token stays out of the child"
    );

    let show = run_with_env_file(&lines, &env, &["show"]);
    assert_eq!(show.code, Some(0), "{show:?}");
    let row = show
        .stdout
        .lines()
        .find(|line| line.starts_with(name.as_str()))
        .unwrap_or_else(|| panic!("{name} in {}", show.stdout));
    assert!(
        row.ends_with("dotenv:.env"),
        "overrides the .env value: {row}"
    );
    assert!(
        row.contains(&format!("doppler:{}", name.split('_').next().unwrap())),
        "{row}"
    );
}

#[test]
fn stream_daemon_aws_groups_prefix_their_keys() {
    let aws = crate::aws_sm::fixture();
    let seeded = aws.seed(
        "compat",
        &[("client_id", "aws-id-1"), ("client_secret", "aws-s-2")],
    );
    let secret_name = seeded.spec.strip_prefix("aws-sm:").unwrap();
    let lines = vec![
        "SECRETS_MANAGER=aws".to_string(),
        format!("SECRETS_AWS_TWITCH_SECRET_NAME={secret_name}"),
        "TWITCH_CLIENT_ID=stale".to_string(),
    ];
    let run = run_with_env_file(&lines, &aws.env(), &["--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(value_of(&run, "TWITCH_CLIENT_ID"), Some("aws-id-1"));
    assert_eq!(value_of(&run, "TWITCH_CLIENT_SECRET"), Some("aws-s-2"));
}

#[test]
fn stream_daemon_vault_settings_in_env_file() {
    let vault = crate::vault::fixture();
    let seeded = vault.seed("compat", &[("client_id", "vault-id-9")]);
    let path = seeded.spec.strip_prefix("vault:").unwrap();
    let mut lines = vec![
        "SECRETS_MANAGER=vault".to_string(),
        format!("SECRETS_VAULT_TWITCH_SECRET_PATH={path}"),
    ];
    for (key, value) in vault.env() {
        let seed_key = match key.as_str() {
            "VAULT_ADDR" => "SECRETS_VAULT_URL",
            "VAULT_TOKEN" => "SECRETS_VAULT_TOKEN",
            _ => continue,
        };
        lines.push(format!("{seed_key}={value}"));
    }
    let run = run_with_env_file(&lines, &[], &["--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(value_of(&run, "TWITCH_CLIENT_ID"), Some("vault-id-9"));
    assert_eq!(
        value_of(&run, "SECRETS_VAULT_TOKEN"),
        None,
        "the token stays out"
    );
}

#[test]
fn none_and_no_secrets_settings_fetch_nothing() {
    let lines = vec![
        "SECRETS_MANAGER=doppler".to_string(),
        "SECRETS_DOPPLER_X_SECRET_NAME=X".to_string(),
    ];
    // No token anywhere: fetching would fail, so exit 0 proves nothing was fetched.
    let run = run_with_env_file(&lines, &[], &["--no-secrets-settings", "--", "true"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let fetched = run_with_env_file(&lines, &[], &["--", "true"]);
    assert_eq!(fetched.code, Some(125), "{fetched:?}");
    assert!(fetched.stderr.contains("doppler:X"), "{fetched:?}");
    let none = vec!["SECRETS_MANAGER=none".to_string()];
    assert_eq!(run_with_env_file(&none, &[], &["--", "true"]).code, Some(0));
}

#[test]
fn an_unknown_manager_fails_before_the_child() {
    let lines = vec!["SECRETS_MANAGER=keepass".to_string()];
    let run = run_with_env_file(&lines, &[], &["--", "true"]);
    assert_eq!(run.code, Some(125));
    assert_eq!(
        run.stderr,
        "secretrun: error: SECRETS_MANAGER: expected doppler, aws (or aws_secrets), vault, \
         azure_keyvault or none\n"
    );
}
