//! `check` against the Doppler stand-in: one request per source, however many of the check's
//! resolutions need it, and a service token for another environment as a finding of its own.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::doppler::stub;
use crate::support::{self, Run};

const DOWNLOAD: &str = "/v3/configs/config/secrets/download";

/// `secretrun ARGS check` in a directory holding `.env` (mode 0600), with the stub's host.
fn check(env_file: &str, extra: &[(&str, &str)], args: &[&str]) -> Run {
    let dir = support::temp_dir();
    let path = support::write(dir.path(), ".env", env_file);
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
    let mut env = vec![("DOPPLER_API_HOST", stub().url.as_str())];
    env.extend_from_slice(extra);
    let mut all = vec!["-e", ".env"];
    all.extend(args);
    all.push("check");
    support::run_in(dir.path(), all, &env)
}

#[test]
fn check_downloads_each_doppler_config_once() {
    let token = stub().service_token("dev", "dev", &[("APP_KEY", "k-7f3a"), ("OTHER", "o")]);
    let counter = stub().fault(&token, json!({ "path": DOWNLOAD }));
    // The token in .env: the source's own check and the merged environment both read it.
    let run = check(
        &format!("DOPPLER_TOKEN={token}\nLOCAL=1\n"),
        &[],
        &["-s", "doppler:APP", "-r", "APP_KEY,LOCAL"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "ok     source       dotenv:.env: 2 names\n\
         ok     permissions  dotenv:.env: not readable by every user (mode 0600)\n\
         ok     git          dotenv:.env: not in a git repository\n\
         ok     source       doppler:APP: 1 name\n\
         ok     required     set: APP_KEY, LOCAL\n\
         0 errors, 0 warnings\n"
    );
    assert_eq!(stub().fault_hits(&counter), 1, "downloads: {run:?}");

    // The same through SECRETS_MANAGER settings, which check resolves as a group of their own.
    let token = stub().service_token("dev", "dev", &[("APP_KEY", "k-7f3a")]);
    let counter = stub().fault(&token, json!({ "path": DOWNLOAD }));
    let run = check(
        &format!(
            "DOPPLER_TOKEN={token}\nSECRETS_MANAGER=doppler\nSECRETS_DOPPLER_APP_SECRET_NAME=APP\n"
        ),
        &[],
        &["-r", "APP_KEY"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("ok     source       doppler:APP: 1 name\n"),
        "{run:?}"
    );
    assert_eq!(stub().fault_hits(&counter), 1, "downloads: {run:?}");
}

#[test]
fn a_broken_source_is_asked_once_too() {
    let token = stub().service_token("dev", "dev", &[("APP_KEY", "k")]);
    let failing = stub().fault(&token, json!({ "path": DOWNLOAD, "status": 404 }));
    let run = check(
        "LOCAL=1\n",
        &[("DOPPLER_TOKEN", &token)],
        &["-s", "doppler:APP"],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.contains("error  source       doppler:APP: "),
        "{run:?}"
    );
    assert_eq!(stub().fault_hits(&failing), 1, "{run:?}");
}

const MISMATCH: &str = "the Doppler service token from DOPPLER_TOKEN is for environment 'prd', \
                        but config 'dev' is asked for; Doppler will refuse it (a service token \
                        reads only its own config)";

#[test]
fn a_service_token_for_another_environment_is_a_check_error() {
    let token = stub().service_token("prd", "prd", &[("APP_KEY", "prod-secret-91c2")]);
    // DOPPLER_CONFIG from the .env file, as the seed projects keep it.
    let run = check(
        "DOPPLER_CONFIG=dev\n",
        &[("DOPPLER_TOKEN", &token)],
        &["-s", "doppler:APP"],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let source = lines
        .iter()
        .position(|line| line.starts_with("error  source       doppler:APP: "))
        .unwrap_or_else(|| panic!("no source error: {run:?}"));
    assert!(lines[source].contains("403"), "{run:?}");
    assert_eq!(
        lines[source + 1],
        format!("error  token        doppler:APP: {MISMATCH}")
    );
    assert!(!run.stdout.contains(&token) && !run.stderr.contains(&token));
    assert!(!run.stdout.contains("prod-secret-91c2"));

    // From SECRETS_BACKEND settings (the whole config, Muse Protocol style) and the config=
    // option alike.
    let run = check(
        "SECRETS_BACKEND=doppler\nDOPPLER_CONFIG=dev\n",
        &[("DOPPLER_TOKEN", &token)],
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("error  token        doppler:*: {MISMATCH}\n")),
        "{run:?}"
    );
    let run = check(
        "",
        &[("DOPPLER_TOKEN", &token)],
        &["-s", "doppler:*?config=dev"],
    );
    assert!(
        run.stdout.contains(&format!(
            "error  token        doppler:*?config=dev: {MISMATCH}\n"
        )),
        "{run:?}"
    );
}

#[test]
fn a_service_token_for_the_configured_environment_draws_no_token_finding() {
    let token = stub().service_token("prd", "prd", &[("APP_KEY", "k")]);
    // A branch config of the token's environment may be the token's own: not an error.
    for config in ["prd", "prd_eu"] {
        let run = check(
            &format!("DOPPLER_CONFIG={config}\n"),
            &[("DOPPLER_TOKEN", &token)],
            &["-s", "doppler:APP"],
        );
        assert!(!run.stdout.contains(" token "), "{config}: {run:?}");
    }
}
