//! Doppler against `tests/servers/doppler_stub.py`: the shared contract, then Doppler's own rules
//! (selection, metadata, token sources, retries, faults, the service-token mismatch warning).
//!
//! One stub serves the whole test binary. It re-reads its data file on every request, so tests
//! add what they need (a token, a config, a fault) while others run; each test uses its own
//! token and scopes its faults to it, so nothing one test arms reaches another.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::contract::{Fixture, Seeded};
use crate::support::{self, Run};

/// The project the contract's personal token reads; each seeded group is a config in it.
const PROJECT: &str = "contract";
/// The contract's config that exists but lacks the secret `missing_spec` asks for.
const EMPTY_CONFIG: &str = "missing";
/// The project of every service token the Doppler tests create.
const SERVICE_PROJECT: &str = "svc";

pub(crate) struct Stub {
    pub(crate) url: String,
    data_path: PathBuf,
    /// The data file's content; every change is written whole, under this lock.
    data: Mutex<Value>,
    /// A personal token that reads every config of [`PROJECT`].
    personal_token: String,
    _server: support::StubServer,
}

pub(crate) fn stub() -> &'static Stub {
    static STUB: OnceLock<Stub> = OnceLock::new();
    STUB.get_or_init(Stub::start)
}

pub fn fixture() -> &'static dyn Fixture {
    stub()
}

crate::contract_tests!(crate::doppler::fixture);

impl Stub {
    fn start() -> Stub {
        // Under cargo's per-target temp dir: a static is never dropped, so a TempDir would leak
        // into /tmp anyway.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("doppler-stub-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("stub dir");
        let personal_token = format!("dp.pt.{}", support::unique("contract"));
        let data = json!({
            "tokens": {
                personal_token.as_str(): {
                    "type": "personal",
                    "configs": {PROJECT: {EMPTY_CONFIG: {"PRESENT": "x"}}},
                },
            },
            "faults": {},
        });
        let server = support::StubServer::start(&dir, "doppler_stub.py", &data);
        Stub {
            url: server.url.clone(),
            data_path: server.data_path.clone(),
            data: Mutex::new(data),
            personal_token,
            _server: server,
        }
    }

    pub(crate) fn update(&self, change: impl FnOnce(&mut Value)) {
        // A test that panicked elsewhere must not fail every later one.
        let mut data = self
            .data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut data);
        support::write_atomically(&self.data_path, &data);
    }

    /// A new service token, e.g. `dp.st.prd.…`, reading its own config of `secrets`.
    pub(crate) fn service_token(
        &self,
        environment: &str,
        config: &str,
        secrets: &[(&str, &str)],
    ) -> String {
        let token = format!("dp.st.{environment}.{}", support::unique("tok"));
        let secrets: serde_json::Map<String, Value> = secrets
            .iter()
            .map(|(name, value)| (name.to_string(), json!(value)))
            .collect();
        self.update(|data| {
            data["tokens"][token.as_str()] = json!({
                "project": SERVICE_PROJECT,
                "config": config,
                "environment": environment,
                "secrets": secrets,
            });
        });
        token
    }

    /// Arms a fault that hits only requests made with `token`; returns its id.
    pub(crate) fn fault(&self, token: &str, mut fault: Value) -> String {
        let id = support::unique("fault");
        fault["token"] = json!(token);
        self.update(|data| data["faults"][id.as_str()] = fault);
        id
    }

    /// How many requests a fault has hit, from the stub's own counters.
    pub(crate) fn fault_hits(&self, id: &str) -> u64 {
        let address = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("stub reachable");
        write!(
            stream,
            "GET /__stub/stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (_, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        let stats: Value = serde_json::from_str(body).expect("stats JSON");
        stats["fault_hits"][id].as_u64().unwrap_or(0)
    }

    /// Adds a config to the contract's project and returns its name.
    fn contract_config(&self, group: &str, secrets: &[(String, String)]) -> String {
        let config = support::unique(&format!("{}-", group.to_lowercase()));
        let secrets: serde_json::Map<String, Value> = secrets
            .iter()
            .map(|(name, value)| (name.clone(), json!(value)))
            .collect();
        let token = self.personal_token.clone();
        self.update(|data| {
            data["tokens"][token.as_str()]["configs"][PROJECT][config.as_str()] = json!(secrets);
        });
        config
    }
}

/// How Doppler itself names a secret typed as `client-id`: upper-case, `_` for anything else.
fn doppler_name(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl Fixture for Stub {
    fn scheme(&self) -> &'static str {
        "doppler"
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DOPPLER_TOKEN".into(), self.personal_token.clone()),
            ("DOPPLER_API_HOST".into(), self.url.clone()),
        ]
    }

    fn env_with_bad_credentials(&self) -> Vec<(String, String)> {
        vec![
            ("DOPPLER_TOKEN".into(), "dp.pt.rejected-by-the-stub".into()),
            ("DOPPLER_API_HOST".into(), self.url.clone()),
        ]
    }

    fn credential_vars(&self) -> Vec<String> {
        vec!["DOPPLER_TOKEN".into(), "DOPPLER_TOKEN_FILE".into()]
    }

    fn seed(&self, group: &str, pairs: &[(&str, &str)]) -> Seeded {
        let vars: Vec<(String, String)> = pairs
            .iter()
            .map(|(key, value)| (doppler_name(key), value.to_string()))
            .collect();
        let config = self.contract_config(group, &vars);
        Seeded {
            spec: format!("doppler:*?project={PROJECT}&config={config}"),
            vars,
        }
    }

    fn seed_prefix(&self, groups: &[(&str, &[(&str, &str)])]) -> Seeded {
        let prefix = doppler_name(&support::unique("pfx"));
        let vars: Vec<(String, String)> = groups
            .iter()
            .flat_map(|(group, pairs)| {
                let prefix = &prefix;
                pairs.iter().map(move |(key, value)| {
                    let name = format!("{prefix}_{}_{}", doppler_name(group), doppler_name(key));
                    (name, value.to_string())
                })
            })
            .collect();
        // A secret outside the prefix, which the spec must not yield.
        let mut secrets = vars.clone();
        secrets.push((format!("OTHER_{prefix}"), "outside-the-prefix".into()));
        let config = self.contract_config("prefix", &secrets);
        Seeded {
            spec: format!("doppler:{prefix}?project={PROJECT}&config={config}"),
            vars,
        }
    }

    fn missing_spec(&self) -> String {
        format!("doppler:*?project={PROJECT}&config={EMPTY_CONFIG}#NO_SUCH_SECRET")
    }
}

/// Runs secretrun with `token` against the stub, plus `extra` environment.
fn run_with_token(token: &str, extra: &[(&str, &str)], args: &[&str]) -> Run {
    let stub = stub();
    let mut env = vec![
        ("DOPPLER_TOKEN", token),
        ("DOPPLER_API_HOST", stub.url.as_str()),
    ];
    env.extend_from_slice(extra);
    let dir = support::temp_dir();
    support::run_in(dir.path(), args, &env)
}

fn env_lines(run: &Run) -> Vec<&str> {
    run.stdout.lines().collect()
}

fn has_var(run: &Run, name: &str) -> bool {
    run.stdout
        .lines()
        .any(|line| line.starts_with(&format!("{name}=")))
}

#[test]
fn service_token_reads_its_config_without_metadata() {
    let token = stub().service_token("dev", "dev", &[("API_KEY", "k-1"), ("DB_URL", "pg://x")]);
    let run = run_with_token(&token, &[], &["--source", "doppler:*", "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines = env_lines(&run);
    assert!(
        lines.contains(&"API_KEY=k-1") && lines.contains(&"DB_URL=pg://x"),
        "{run:?}"
    );
    for name in [
        "DOPPLER_PROJECT",
        "DOPPLER_CONFIG",
        "DOPPLER_ENVIRONMENT",
        "DOPPLER_TOKEN",
    ] {
        assert!(
            !has_var(&run, name),
            "{name} reached the child: {}",
            run.stdout
        );
    }
}

#[test]
fn values_arrive_byte_for_byte() {
    let values = [
        (
            "MULTILINE",
            "-----BEGIN KEY-----\nabc\n\tdef\n-----END KEY-----",
        ),
        ("QUOTES", "it's \"quoted\" `tick` $HOME ${PATH} $(id)"),
        ("UNICODE", "päss wörd ✓"),
        ("EQUALS", "k=v&x=y#frag"),
    ];
    let token = stub().service_token("dev", "dev", &values);
    for (name, value) in values {
        let run = run_with_token(
            &token,
            &[],
            &["--source", "doppler:*", "--", "printenv", name],
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(run.stdout, format!("{value}\n"));
    }
}

#[test]
fn prefix_keeps_names_and_strip_prefix_drops_it() {
    let token = stub().service_token(
        "dev",
        "dev",
        &[
            ("APP_DB_URL", "pg://app"),
            ("APP_PORT", "5432"),
            ("APPLE", "a"),
            ("OTHER", "o"),
        ],
    );
    let run = run_with_token(&token, &[], &["--source", "doppler:APP", "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines = env_lines(&run);
    assert!(lines.contains(&"APP_DB_URL=pg://app") && lines.contains(&"APP_PORT=5432"));
    assert!(
        !has_var(&run, "APPLE") && !has_var(&run, "OTHER"),
        "{}",
        run.stdout
    );

    let run = run_with_token(
        &token,
        &[],
        &["--source", "doppler:APP?strip-prefix", "--", "env"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines = env_lines(&run);
    assert!(
        lines.contains(&"DB_URL=pg://app") && lines.contains(&"PORT=5432"),
        "{run:?}"
    );
    assert!(
        !has_var(&run, "APP_DB_URL") && !has_var(&run, "OTHER"),
        "{}",
        run.stdout
    );
}

#[test]
fn include_metadata_injects_dopplers_names() {
    let token = stub().service_token("stg", "stg_eu", &[("APP_KEY", "v")]);
    let run = run_with_token(
        &token,
        &[],
        &[
            "--source",
            "doppler:APP?strip-prefix&include-metadata",
            "--",
            "env",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines = env_lines(&run);
    for expected in [
        "KEY=v",
        "DOPPLER_PROJECT=svc",
        "DOPPLER_CONFIG=stg_eu",
        "DOPPLER_ENVIRONMENT=stg",
    ] {
        assert!(lines.contains(&expected), "{expected} in {}", run.stdout);
    }
}

#[test]
fn pick_one_secret_by_name() {
    let token = stub().service_token("dev", "dev", &[("APP_PORT", "5432"), ("OTHER", "o")]);
    let run = run_with_token(&token, &[], &["--source", "doppler:*#OTHER", "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        env_lines(&run).contains(&"OTHER=o") && !has_var(&run, "APP_PORT"),
        "{run:?}"
    );
    // With a prefix the name is relative to it.
    let run = run_with_token(&token, &[], &["--source", "doppler:APP#PORT", "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        env_lines(&run).contains(&"APP_PORT=5432") && !has_var(&run, "OTHER"),
        "{run:?}"
    );
}

#[test]
fn prefix_matching_nothing_is_not_found() {
    let token = stub().service_token("dev", "dev", &[("APP_PORT", "5432")]);
    let run = run_with_token(&token, &[], &["--source", "doppler:NOPE", "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("doppler:NOPE")
            && run
                .stderr
                .contains("not found: no secret name starts with 'NOPE_'")
            && run.stderr.contains("config 'dev' of project 'svc'"),
        "{run:?}"
    );
}

#[test]
fn token_from_doppler_token_file() {
    let token = stub().service_token("dev", "dev", &[("FROM_FILE", "yes")]);
    let dir = support::temp_dir();
    // As a Docker secret or `echo > file` leaves it: with a trailing newline.
    let file = support::write(dir.path(), "doppler-token", &format!("{token}\n"));
    let run = support::run_in(
        dir.path(),
        ["--source", "doppler:*", "--", "env"],
        &[
            ("DOPPLER_TOKEN_FILE", file.to_str().unwrap()),
            ("DOPPLER_API_HOST", &stub().url),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(env_lines(&run).contains(&"FROM_FILE=yes"), "{run:?}");
    assert!(!has_var(&run, "DOPPLER_TOKEN_FILE"), "{}", run.stdout);
}

#[test]
fn token_file_option_beats_doppler_token() {
    let token = stub().service_token("dev", "dev", &[("CHOSEN", "spec-file")]);
    let dir = support::temp_dir();
    let file = support::write(dir.path(), "token", &format!("{token}\n"));
    let spec = format!("doppler:*?token-file={}", file.display());
    let run = run_with_token(
        "dp.st.dev.not-this-one",
        &[],
        &["--source", &spec, "--", "printenv", "CHOSEN"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "spec-file\n");
}

#[test]
fn missing_token_names_the_variables() {
    let dir = support::temp_dir();
    let run = support::run_in(
        dir.path(),
        ["--source", "doppler:*", "--", "true"],
        &[("DOPPLER_API_HOST", &stub().url)],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("doppler:*")
            && run.stderr.contains("DOPPLER_TOKEN,")
            && run.stderr.contains("DOPPLER_TOKEN_FILE")
            && run.stderr.contains("token-file"),
        "{run:?}"
    );
}

#[test]
fn personal_token_needs_project_and_config() {
    let stub = stub();
    let config = stub.contract_config("personal", &[("VIA_ENV".into(), "ok".into())]);
    let token = stub.personal_token.clone();
    let run = run_with_token(&token, &[], &["--source", "doppler:*", "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("needs a project and a config"),
        "{run:?}"
    );
    assert!(!run.stderr.contains(&token), "{run:?}");
    // DOPPLER_PROJECT and DOPPLER_CONFIG are the defaults, as for Doppler's CLI.
    let run = run_with_token(
        &token,
        &[("DOPPLER_PROJECT", PROJECT), ("DOPPLER_CONFIG", &config)],
        &["--source", "doppler:*", "--", "printenv", "VIA_ENV"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "ok\n");
}

#[test]
fn rate_limit_is_retried_after_retry_after() {
    let stub = stub();
    let token = stub.service_token("dev", "dev", &[("AFTER_429", "served")]);
    let fault = stub.fault(&token, json!({"status": 429, "retry_after": 1, "count": 1}));
    let started = Instant::now();
    let run = run_with_token(
        &token,
        &[],
        &["-v", "--source", "doppler:*", "--", "printenv", "AFTER_429"],
    );
    let elapsed = started.elapsed();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "served\n");
    assert!(
        run.stderr.contains("WARN")
            && run.stderr.contains("retrying")
            && run.stderr.contains("HTTP 429"),
        "the retry is visible: {run:?}"
    );
    // Backoff alone would wait at most 200 ms: the server's Retry-After was honoured.
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert_eq!(stub.fault_hits(&fault), 1);
}

#[test]
fn service_unavailable_beyond_the_retry_budget_fails() {
    let stub = stub();
    let token = stub.service_token("dev", "dev", &[("NEVER", "never-served-value")]);
    let fault = stub.fault(&token, json!({"status": 503, "count": 100}));
    let run = run_with_token(
        &token,
        &[],
        &["--deadline", "20s", "--source", "doppler:*", "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("doppler:*") && run.stderr.contains("HTTP 503"),
        "{run:?}"
    );
    // The default policy: four attempts, then the last error.
    assert_eq!(stub.fault_hits(&fault), 4);
}

#[test]
fn truncated_body_is_an_unexpected_response() {
    let stub = stub();
    let value = "truncated-canary-5d1e";
    for truncate in [json!(true), json!("connection")] {
        let token = stub.service_token("dev", "dev", &[("CANARY", value), ("PAD", "padding")]);
        stub.fault(&token, json!({"truncate": truncate}));
        let run = run_with_token(
            &token,
            &[],
            &["-vvv", "--source", "doppler:*", "--", "true"],
        );
        assert_eq!(run.code, Some(125), "{truncate}: {run:?}");
        assert!(
            run.stderr.contains("unexpected response"),
            "{truncate}: {run:?}"
        );
        assert!(
            !run.stderr.contains(value) && !run.stdout.contains(value),
            "{run:?}"
        );
        assert!(!run.stderr.contains(&token), "{run:?}");
    }
}

#[test]
fn plain_http_to_a_remote_host_is_refused_without_connecting() {
    let dir = support::temp_dir();
    let started = Instant::now();
    let run = support::run_in(
        dir.path(),
        ["--source", "doppler:*", "--", "true"],
        &[
            ("DOPPLER_TOKEN", "dp.st.dev.never-sent"),
            ("DOPPLER_API_HOST", "http://example.invalid"),
        ],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("DOPPLER_API_HOST uses plain http to a non-loopback host"),
        "{run:?}"
    );
    // Refused before any attempt: no connection error, no retry, no DNS wait.
    assert!(!run.stderr.contains("cannot connect") && !run.stderr.contains("retrying"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn service_token_for_another_environment_warns() {
    let stub = stub();
    let token = stub.service_token("prd", "prd", &[("PROD_ONLY", "p")]);
    let run = run_with_token(
        &token,
        &[],
        &["--source", "doppler:*?config=dev", "--", "true"],
    );
    // Doppler refuses a service token a config other than its own.
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("HTTP 403"), "{run:?}");
    assert!(
        run.stderr.contains("WARN")
            && run
                .stderr
                .contains("service token from DOPPLER_TOKEN is for environment 'prd'")
            && run.stderr.contains("config 'dev' is asked for"),
        "{run:?}"
    );
    // One explanation is enough: the generic 403 hint is not added.
    assert!(!run.stderr.contains("made for"), "{run:?}");
    assert!(!run.stderr.contains(&token), "{run:?}");

    // The same through DOPPLER_CONFIG.
    let run = run_with_token(
        &token,
        &[("DOPPLER_CONFIG", "dev")],
        &["--source", "doppler:*", "--", "true"],
    );
    assert!(run.stderr.contains("environment 'prd'"), "{run:?}");

    // A wrong project draws a 403 too; the hint then comes with Doppler's answer.
    let run = run_with_token(
        &token,
        &[],
        &["--source", "doppler:*?project=other", "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("HTTP 403")
            && run.stderr.contains("reads only the config it was made for"),
        "{run:?}"
    );
    assert!(!run.stderr.contains(&token), "{run:?}");
}

#[test]
fn branch_config_of_the_tokens_environment_does_not_warn() {
    let token = stub().service_token("prd", "prd_eu", &[("REGION", "eu")]);
    let run = run_with_token(
        &token,
        &[],
        &[
            "--source",
            "doppler:*?config=prd_eu",
            "--",
            "printenv",
            "REGION",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "eu\n");
    assert!(!run.stderr.contains("WARN"), "{run:?}");
}

#[test]
fn slow_answer_times_out() {
    let stub = stub();
    let token = stub.service_token("dev", "dev", &[("SLOW", "s")]);
    stub.fault(&token, json!({"delay_ms": 1000}));
    let run = run_with_token(
        &token,
        &[],
        &[
            "--timeout",
            "200ms",
            "--deadline",
            "10s",
            "--source",
            "doppler:*",
            "--",
            "true",
        ],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("doppler:*") && run.stderr.contains("no answer within 200ms"),
        "{run:?}"
    );
}

#[test]
fn unknown_option_is_refused() {
    let token = stub().service_token("dev", "dev", &[("A", "a")]);
    let run = run_with_token(
        &token,
        &[],
        &["--source", "doppler:*?projekt=x", "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("unknown option 'projekt'"), "{run:?}");
}

#[test]
fn sources_reading_one_config_with_one_token_share_one_download() {
    let token = stub().service_token(
        "dev",
        "dev",
        &[("APP_KEY", "k-1"), ("DB_URL", "pg://x"), ("OTHER", "o")],
    );
    // Counts the downloads made with this token (a fault with nothing to do but count).
    let counter = stub().fault(&token, json!({"delay_ms": 0}));
    let run = run_with_token(
        &token,
        &[],
        &[
            "--no-fallback",
            "--source",
            "doppler:APP",
            "--source",
            "doppler:DB",
            "--",
            "env",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines = env_lines(&run);
    assert!(
        lines.contains(&"APP_KEY=k-1") && lines.contains(&"DB_URL=pg://x"),
        "{run:?}"
    );
    assert!(!has_var(&run, "OTHER"), "{run:?}");
    assert_eq!(
        stub().fault_hits(&counter),
        1,
        "one download for both sources"
    );

    // Failures are shared the same way: one request's retries, both sources named.
    let storm = stub().fault(&token, json!({"status": 503, "count": 1000}));
    let run = run_with_token(
        &token,
        &[],
        &[
            "--no-fallback",
            "--source",
            "doppler:APP",
            "--source",
            "doppler:DB",
            "--",
            "true",
        ],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("doppler:APP: HTTP 503") && run.stderr.contains("doppler:DB: HTTP 503"),
        "{run:?}"
    );
    assert_eq!(
        stub().fault_hits(&storm),
        4,
        "one retry budget, not one per source"
    );
}
