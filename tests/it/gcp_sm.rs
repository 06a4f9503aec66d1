//! `gcp-sm:` against `tests/servers/gcp_stub.py`: the shared contract, then Secret Manager's own
//! rules (versions, projects, checksums, listings by prefix and label, JSON) and every way to a
//! token (service account key, authorized user, gcloud's ADC file, the metadata server, a plain
//! access token).
//!
//! GCP ships no Secret Manager emulator that could be installed here, so the stub stands in: it
//! serves the documented REST shapes of Secret Manager v1, Google's OAuth 2.0 token endpoint (it
//! verifies the service account JWT's RS256 signature) and the metadata server, and
//! `tests/servers/check_gcp_stub.sh` checks it against Google's own gcloud where installed.
//!
//! One stub serves the whole test binary. It re-reads its data file on every request, so tests
//! add what they need while others run. Each test uses its own secret ids and, where it counts
//! requests or arms faults, its own service account and token, so nothing one test arms reaches
//! another. The RSA keys are made once per test binary with `openssl`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::contract::{Fixture, Seeded};
use crate::support::{self, Run};

/// The contract's project; the contract's service account reads it, and its key names it.
const PROJECT: &str = "contract-proj";
/// What the API answers with instead of the id, as GCP does.
const PROJECT_NUMBER: &str = "100000000001";
/// A second project, for the project-selection tests.
const OTHER_PROJECT: &str = "other-proj";
/// The project the metadata server's token reads and reports.
const METADATA_PROJECT: &str = "meta-proj";
const ENDPOINT_VAR: &str = "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER";

struct Stub {
    /// `http://127.0.0.1:PORT`.
    url: String,
    dir: PathBuf,
    data_path: PathBuf,
    /// The data file's content; every change is written whole, under this lock.
    data: Mutex<Value>,
    /// The private key (PKCS#8 PEM) every test service account uses; the stub knows its public
    /// half.
    key_pem: String,
    /// A key the stub does not know.
    rogue_key_pem: String,
    /// The contract's service account key file.
    contract_key_file: PathBuf,
    _server: support::StubServer,
}

fn stub() -> &'static Stub {
    static STUB: OnceLock<Stub> = OnceLock::new();
    STUB.get_or_init(Stub::start)
}

pub fn fixture() -> &'static dyn Fixture {
    stub()
}

crate::contract_tests!(crate::gcp_sm::fixture);

/// A service account of one test: its key file and the token the stub issues for it.
struct Account {
    email: String,
    key_file: PathBuf,
    token: String,
}

impl Stub {
    fn start() -> Stub {
        // Under cargo's per-target temp dir: a static is never dropped, so a TempDir would leak
        // into /tmp anyway.
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gcp-stub-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("stub dir");
        let (key_pem, public_pem) = rsa_key(&dir, "key");
        let (rogue_key_pem, _) = rsa_key(&dir, "rogue");

        let data = json!({
            "projects": {
                PROJECT: {"number": PROJECT_NUMBER, "secrets": {}},
                OTHER_PROJECT: {"number": "100000000002", "secrets": {}},
                METADATA_PROJECT: {"number": "100000000003", "secrets": {}},
            },
            "tokens": {},
            "service_accounts": {},
            "refresh_tokens": {},
            "max_page_size": 2,
            "faults": {},
        });
        let server = support::StubServer::start(&dir, "gcp_stub.py", &data);
        let mut stub = Stub {
            url: server.url.clone(),
            dir,
            data_path: server.data_path.clone(),
            data: Mutex::new(data),
            key_pem,
            rogue_key_pem,
            contract_key_file: PathBuf::new(),
            _server: server,
        };
        stub.update(|data| {
            data["public_key"] = json!(public_pem);
            data["metadata"] = json!({
                "token": "ya29.metadata-token",
                "project_id": METADATA_PROJECT,
            });
            data["tokens"]["ya29.metadata-token"] = json!({"projects": [METADATA_PROJECT]});
        });
        stub.contract_key_file = stub.account(&[PROJECT], PROJECT).key_file;
        stub
    }

    fn update(&self, change: impl FnOnce(&mut Value)) {
        // A test that panicked elsewhere must not fail every later one.
        let mut data = self
            .data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut data);
        support::write_atomically(&self.data_path, &data);
    }

    /// A new service account whose key file names `key_project` and whose token reads
    /// `projects`.
    fn account(&self, projects: &[&str], key_project: &str) -> Account {
        let name = support::unique("sa");
        let email = format!("{name}@{key_project}.iam.gserviceaccount.com");
        let token = format!("ya29.{name}");
        let key_id = format!("kid-{name}");
        self.update(|data| {
            let public_key = data["public_key"].clone();
            data["service_accounts"][email.as_str()] = json!({
                "public_key": public_key,
                "key_id": key_id,
                "token": token,
            });
            data["tokens"][token.as_str()] = json!({"projects": projects});
        });
        let key_file = self.key_file(&email, &key_id, key_project, &self.key_pem);
        Account {
            email,
            key_file,
            token,
        }
    }

    /// A service account key file, as the Cloud console downloads it, pointing at the stub.
    fn key_file(&self, email: &str, key_id: &str, project: &str, pem: &str) -> PathBuf {
        let path = self.dir.join(format!("{}.json", support::unique("key")));
        let file = json!({
            "type": "service_account",
            "project_id": project,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": format!("{}/token", self.url),
        });
        std::fs::write(&path, file.to_string()).expect("key file");
        path
    }

    /// A new `authorized_user` login (gcloud's ADC file) whose token reads `projects`; returns
    /// the file's content and the token.
    fn authorized_user(&self, projects: &[&str]) -> (String, String) {
        let name = support::unique("user");
        let refresh_token = format!("1//refresh-{name}");
        let token = format!("ya29.{name}");
        let client_id = format!("{name}.apps.googleusercontent.com");
        self.update(|data| {
            data["refresh_tokens"][refresh_token.as_str()] = json!({
                "client_id": client_id,
                "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty",
                "token": token,
            });
            data["tokens"][token.as_str()] = json!({"projects": projects});
        });
        let file = json!({
            "type": "authorized_user",
            "client_id": client_id,
            "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty",
            "refresh_token": refresh_token,
            "token_uri": format!("{}/token", self.url),
            "quota_project_id": PROJECT,
        });
        (file.to_string(), token)
    }

    /// Stores a secret; `versions` maps "1", "2", ... to `{"data": ...}` (see the stub).
    fn put_secret(&self, project: &str, id: &str, versions: Value, labels: Value) {
        self.update(|data| {
            data["projects"][project]["secrets"][id] = json!({
                "versions": versions,
                "labels": labels,
            });
        });
    }

    /// A secret with one version holding `text`.
    fn put_text(&self, project: &str, id: &str, text: &str) {
        self.put_secret(project, id, json!({"1": {"data": text}}), json!({}));
    }

    /// Arms a fault; returns its id.
    fn fault(&self, fault: Value) -> String {
        let id = support::unique("fault");
        self.update(|data| data["faults"][id.as_str()] = fault);
        id
    }

    fn stats(&self) -> Value {
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
        serde_json::from_str(body).expect("stats JSON")
    }

    fn token_requests(&self, who: &str) -> u64 {
        self.stats()["token_requests"][who].as_u64().unwrap_or(0)
    }

    fn fault_hits(&self, id: &str) -> u64 {
        self.stats()["fault_hits"][id].as_u64().unwrap_or(0)
    }
}

/// Makes an RSA key with openssl; returns the private key (PKCS#8 PEM) and the public key.
fn rsa_key(dir: &Path, name: &str) -> (String, String) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    support::openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            private.to_str().unwrap(),
        ],
    );
    support::openssl(
        dir,
        &[
            "pkey",
            "-in",
            private.to_str().unwrap(),
            "-pubout",
            "-out",
            public.to_str().unwrap(),
        ],
    );
    (
        std::fs::read_to_string(private).unwrap(),
        std::fs::read_to_string(public).unwrap(),
    )
}

/// How secretrun names a key or secret id: upper-case, `_` for anything else.
fn env_name(key: &str) -> String {
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

/// A secret id unique to the caller, e.g. `db-1234x5`.
fn unique_id(prefix: &str) -> String {
    support::unique(&format!("{prefix}-"))
}

impl Fixture for Stub {
    fn scheme(&self) -> &'static str {
        "gcp-sm"
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "GOOGLE_APPLICATION_CREDENTIALS".into(),
                self.contract_key_file.to_str().unwrap().into(),
            ),
            (ENDPOINT_VAR.into(), format!("{}/", self.url)),
        ]
    }

    /// A token the API does not know, which beats the key file: Secret Manager answers 401.
    fn env_with_bad_credentials(&self) -> Vec<(String, String)> {
        let mut env = self.env();
        env.push((
            "GOOGLE_OAUTH_ACCESS_TOKEN".into(),
            "ya29.rejected-by-the-stub".into(),
        ));
        env
    }

    fn credential_vars(&self) -> Vec<String> {
        vec!["GOOGLE_OAUTH_ACCESS_TOKEN".into()]
    }

    /// One secret holding the pairs as a JSON object, read with `json`.
    fn seed(&self, group: &str, pairs: &[(&str, &str)]) -> Seeded {
        let id = unique_id(&group.to_lowercase());
        let object: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), json!(value)))
            .collect();
        self.put_text(PROJECT, &id, &Value::Object(object).to_string());
        Seeded {
            spec: format!("gcp-sm:projects/{PROJECT}/secrets/{id}?json"),
            vars: pairs
                .iter()
                .map(|(key, value)| (env_name(key), value.to_string()))
                .collect(),
        }
    }

    /// One secret per group, `PREFIX-GROUP`, read by prefix with the project from the key file.
    fn seed_prefix(&self, groups: &[(&str, &[(&str, &str)])]) -> Seeded {
        let prefix = unique_id("pfx");
        let mut vars = Vec::new();
        for (group, pairs) in groups {
            let object: serde_json::Map<String, Value> = pairs
                .iter()
                .map(|(key, value)| (key.to_string(), json!(value)))
                .collect();
            self.put_text(
                PROJECT,
                &format!("{prefix}-{group}"),
                &Value::Object(object).to_string(),
            );
            vars.extend(
                pairs
                    .iter()
                    .map(|(key, value)| (env_name(key), value.to_string())),
            );
        }
        // Contains the prefix, so the server's `name:` filter lets it through; the prefix test
        // must not.
        self.put_text(
            PROJECT,
            &format!("x-{prefix}-outside"),
            r#"{"outside": "never"}"#,
        );
        Seeded {
            spec: format!("gcp-sm:{prefix}-*?json"),
            vars,
        }
    }

    fn missing_spec(&self) -> String {
        format!("gcp-sm:projects/{PROJECT}/secrets/no-such-secret")
    }
}

/// Runs secretrun against the stub with an empty HOME (no gcloud ADC file of the machine's
/// user), plus `env`, which wins.
fn run(env: &[(&str, &str)], args: &[&str]) -> Run {
    let dir = support::temp_dir();
    run_in(dir.path(), env, args)
}

fn run_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let endpoint = format!("{}/", stub().url);
    let mut all = vec![
        ("HOME", home.to_str().unwrap()),
        (ENDPOINT_VAR, endpoint.as_str()),
    ];
    all.extend_from_slice(env);
    support::run_in(dir, args, &all)
}

/// Runs with `account`'s key file.
fn run_as(account: &Account, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut all = vec![(
        "GOOGLE_APPLICATION_CREDENTIALS",
        account.key_file.to_str().unwrap(),
    )];
    all.extend_from_slice(env);
    run(&all, args)
}

fn has_var(run: &Run, name: &str) -> bool {
    run.stdout
        .lines()
        .any(|line| line.starts_with(&format!("{name}=")))
}

#[test]
fn full_path_reads_the_named_version() {
    let stub = stub();
    let id = unique_id("db-password");
    stub.put_secret(
        PROJECT,
        &id,
        json!({"1": {"data": "old-value"}, "2": {"data": "new\nvalue ✓"}}),
        json!({}),
    );
    let account = stub.account(&[PROJECT], PROJECT);
    let name = env_name(&id);
    let read = |spec: &str| run_as(&account, &[], &["--source", spec, "--", "printenv", &name]);

    let run = read(&format!(
        "gcp-sm:projects/{PROJECT}/secrets/{id}/versions/1"
    ));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "old-value\n");
    // latest, byte for byte.
    let run = read(&format!("gcp-sm:projects/{PROJECT}/secrets/{id}"));
    assert_eq!(run.stdout, "new\nvalue ✓\n", "{run:?}");
    let run = read(&format!("gcp-sm:projects/{PROJECT}/secrets/{id}?version=1"));
    assert_eq!(run.stdout, "old-value\n", "{run:?}");
    // The project by number, as GCP names it in answers.
    let run = read(&format!(
        "gcp-sm:projects/{PROJECT_NUMBER}/secrets/{id}/versions/2"
    ));
    assert_eq!(run.stdout, "new\nvalue ✓\n", "{run:?}");
    // A version that does not exist.
    let spec = format!("gcp-sm:projects/{PROJECT}/secrets/{id}/versions/9");
    let run = read(&spec);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(&spec) && run.stderr.contains("not found"),
        "{run:?}"
    );
}

#[test]
fn short_form_takes_the_project_from_option_environment_or_key() {
    let stub = stub();
    let id = unique_id("api-key");
    stub.put_text(PROJECT, &id, "from-contract-proj");
    stub.put_text(OTHER_PROJECT, &id, "from-other-proj");
    let account = stub.account(&[PROJECT, OTHER_PROJECT], PROJECT);
    let name = env_name(&id);
    let spec = format!("gcp-sm:{id}");
    let read = |env: &[(&str, &str)], spec: &str| {
        let run = run_as(&account, env, &["--source", spec, "--", "printenv", &name]);
        assert_eq!(run.code, Some(0), "{run:?}");
        run.stdout
    };
    // The key file's project_id.
    assert_eq!(read(&[], &spec), "from-contract-proj\n");
    assert_eq!(
        read(&[("GOOGLE_CLOUD_PROJECT", OTHER_PROJECT)], &spec),
        "from-other-proj\n"
    );
    assert_eq!(
        read(&[("CLOUDSDK_CORE_PROJECT", OTHER_PROJECT)], &spec),
        "from-other-proj\n"
    );
    let with_option = format!("{spec}?project={PROJECT}");
    assert_eq!(
        read(&[("GOOGLE_CLOUD_PROJECT", OTHER_PROJECT)], &with_option),
        "from-contract-proj\n"
    );
}

#[test]
fn checksum_mismatch_is_an_unexpected_response_and_no_value_is_shown() {
    let stub = stub();
    let id = unique_id("corrupted");
    let value = "crc-canary-8e1f27";
    stub.put_text(PROJECT, &id, value);
    let fault = stub.fault(json!({"corrupt_crc": true, "secret": id}));
    let dir = support::temp_dir();
    let marker = dir.path().join("started");
    let spec = format!("gcp-sm:projects/{PROJECT}/secrets/{id}");
    let key_file = stub.contract_key_file.to_str().unwrap();
    let run = run_in(
        dir.path(),
        &[("GOOGLE_APPLICATION_CREDENTIALS", key_file)],
        &[
            "-vvv",
            "--source",
            &spec,
            "--command",
            &format!("touch {}", marker.display()),
        ],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(&spec)
            && run.stderr.contains("unexpected response")
            && run.stderr.contains("CRC32C"),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains(value) && !run.stdout.contains(value),
        "{run:?}"
    );
    assert!(!marker.exists(), "the child must not start");
    // Not retried: a corrupted answer is not a transient failure.
    assert_eq!(stub.fault_hits(&fault), 1);
}

#[test]
fn prefix_listing_reads_every_page() {
    let stub = stub();
    let prefix = unique_id("app");
    let ids: Vec<String> = (1..=5).map(|n| format!("{prefix}-key{n}")).collect();
    for (n, id) in ids.iter().enumerate() {
        stub.put_text(PROJECT, id, &format!("value-{n}"));
    }
    // Containing the prefix is not starting with it.
    stub.put_text(PROJECT, &format!("not-{prefix}-key9"), "outside");
    let account = stub.account(&[PROJECT], PROJECT);
    let run = run_as(
        &account,
        &[],
        &["--source", &format!("gcp-sm:{prefix}-*"), "--", "env"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    for (n, id) in ids.iter().enumerate() {
        let line = format!("{}=value-{n}", env_name(id));
        assert!(run.stdout.lines().any(|l| l == line), "{line} in {run:?}");
    }
    assert!(!has_var(&run, &env_name(&format!("not-{prefix}-key9"))));
    // Five secrets at two a page.
    let list_path = format!("/v1/projects/{PROJECT}/secrets");
    assert!(stub.stats()["by_path"][&list_path].as_u64().unwrap() >= 3);

    let run = run_as(
        &account,
        &[],
        &["--source", "gcp-sm:no-such-prefix-*", "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("not found: no secret in project 'contract-proj' whose id starts with"),
        "{run:?}"
    );
}

#[test]
fn label_filter_selects_secrets() {
    let stub = stub();
    let team = support::unique("team");
    let id = |name: &str| format!("{team}-{name}");
    let labelled = |env: &str| json!({"team": team, "env": env});
    stub.put_secret(
        PROJECT,
        &id("a"),
        json!({"1": {"data": "a-prod"}}),
        labelled("prod"),
    );
    stub.put_secret(
        PROJECT,
        &id("b"),
        json!({"1": {"data": "b-dev"}}),
        labelled("dev"),
    );
    stub.put_secret(
        PROJECT,
        &id("c"),
        json!({"1": {"data": "c-prod"}}),
        labelled("prod"),
    );
    let account = stub.account(&[PROJECT], PROJECT);
    let spec = format!("gcp-sm:*?label=team:{team}&label=env=prod");
    let run = run_as(&account, &[], &["--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.contains(&format!("{}=a-prod", env_name(&id("a"))).as_str()));
    assert!(lines.contains(&format!("{}=c-prod", env_name(&id("c"))).as_str()));
    assert!(!has_var(&run, &env_name(&id("b"))), "{}", run.stdout);

    // A prefix and a label together; a label alone with any value.
    let spec = format!("gcp-sm:{}*?label=team:{team}", id("b"));
    let run = run_as(&account, &[], &["--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(has_var(&run, &env_name(&id("b"))) && !has_var(&run, &env_name(&id("a"))));

    // Reading a whole project is refused.
    let run = run_as(&account, &[], &["--source", "gcp-sm:*", "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("'*' alone"), "{run:?}");
}

#[test]
fn json_option_expands_an_object_and_picks_a_key() {
    let stub = stub();
    let id = unique_id("twitch");
    stub.put_text(
        PROJECT,
        &id,
        r#"{"client-id": "abc", "client_secret": "s3cr3t", "port": 5432}"#,
    );
    let account = stub.account(&[PROJECT], PROJECT);
    let run = run_as(
        &account,
        &[],
        &[
            "--source",
            &format!("gcp-sm:{id}?json&prefix=TW_"),
            "--",
            "env",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    for line in [
        "TW_CLIENT_ID=abc",
        "TW_CLIENT_SECRET=s3cr3t",
        "TW_PORT=5432",
    ] {
        assert!(lines.contains(&line), "{line} in {}", run.stdout);
    }
    let run = run_as(
        &account,
        &[],
        &[
            "--source",
            &format!("gcp-sm:{id}?json#client-id"),
            "--",
            "env",
        ],
    );
    assert!(
        has_var(&run, "CLIENT_ID") && !has_var(&run, "PORT"),
        "{run:?}"
    );
    // Without `json` the payload is one value, named after the secret or `#NAME`.
    let run = run_as(
        &account,
        &[],
        &[
            "--source",
            &format!("gcp-sm:{id}#TWITCH_JSON"),
            "--",
            "printenv",
            "TWITCH_JSON",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("{\"client-id\""), "{run:?}");
}

#[test]
fn authorized_user_credentials_from_google_application_credentials() {
    let stub = stub();
    let id = unique_id("user-secret");
    stub.put_text(PROJECT, &id, "read-as-a-user");
    let (file, _) = stub.authorized_user(&[PROJECT]);
    let dir = support::temp_dir();
    let path = support::write(dir.path(), "adc.json", &file);
    let spec = format!("gcp-sm:{id}?project={PROJECT}");
    let run = run_in(
        dir.path(),
        &[("GOOGLE_APPLICATION_CREDENTIALS", path.to_str().unwrap())],
        &["--source", &spec, "--", "printenv", &env_name(&id)],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "read-as-a-user\n");

    // A revoked refresh token: the error names the file and says what to do, never the token.
    let revoked = file.replace("1//refresh-", "1//revoked-");
    let path = support::write(dir.path(), "revoked.json", &revoked);
    let run = run_in(
        dir.path(),
        &[("GOOGLE_APPLICATION_CREDENTIALS", path.to_str().unwrap())],
        &["--source", &spec, "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(path.to_str().unwrap())
            && run.stderr.contains("refused the credentials (HTTP 400)")
            && run.stderr.contains("gcloud auth application-default login"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("1//revoked-"), "{run:?}");
}

#[test]
fn gcloud_adc_file_under_home() {
    let stub = stub();
    let id = unique_id("adc-secret");
    stub.put_text(PROJECT, &id, "read-through-adc");
    let (file, _) = stub.authorized_user(&[PROJECT]);
    let dir = support::temp_dir();
    support::write(
        dir.path(),
        "home/.config/gcloud/application_default_credentials.json",
        &file,
    );
    let run = run_in(
        dir.path(),
        &[("GOOGLE_CLOUD_PROJECT", PROJECT)],
        &[
            "--source",
            &format!("gcp-sm:{id}"),
            "--",
            "printenv",
            &env_name(&id),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "read-through-adc\n");
}

#[test]
fn metadata_server_gives_the_token_and_the_project() {
    let stub = stub();
    let id = unique_id("on-gce");
    stub.put_text(METADATA_PROJECT, &id, "read-on-gce");
    let host = stub.url.trim_start_matches("http://");
    let before = stub.token_requests("metadata");
    let run = run(
        &[("GCE_METADATA_HOST", host)],
        &[
            "--source",
            &format!("gcp-sm:{id}"),
            "--",
            "printenv",
            &env_name(&id),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "read-on-gce\n");
    assert!(stub.token_requests("metadata") > before);

    // A metadata host where nothing answers names itself.
    let closed = format!("127.0.0.1:{}", support::free_port());
    let refused = self::run(
        &[("GCE_METADATA_HOST", &closed)],
        &["--source", &format!("gcp-sm:{id}"), "--", "true"],
    );
    assert_eq!(refused.code, Some(125), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains(&format!("the metadata server at {closed}: no access token")),
        "{refused:?}"
    );
}

#[test]
fn access_token_variable_wins_and_is_kept_from_the_child() {
    let stub = stub();
    let id = unique_id("by-token");
    stub.put_text(PROJECT, &id, "read-with-a-token");
    let account = stub.account(&[PROJECT], PROJECT);
    let spec = format!("gcp-sm:projects/{PROJECT}/secrets/{id}");
    let env = [("GOOGLE_OAUTH_ACCESS_TOKEN", account.token.as_str())];
    let run = run_as(&account, &env, &["--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        has_var(&run, &env_name(&id)) && !has_var(&run, "GOOGLE_OAUTH_ACCESS_TOKEN"),
        "{run:?}"
    );
    // The key file's path is no credential: the child may need it.
    assert!(has_var(&run, "GOOGLE_APPLICATION_CREDENTIALS"), "{run:?}");
    // The token was used as it is: the key file was never exchanged.
    assert_eq!(stub.token_requests(&account.email), 0);

    let run = run_as(
        &account,
        &env,
        &["--keep-config-vars", "--source", &spec, "--", "env"],
    );
    assert!(has_var(&run, "GOOGLE_OAUTH_ACCESS_TOKEN"), "{run:?}");
}

#[test]
fn one_token_request_serves_every_source() {
    let stub = stub();
    let prefix = unique_id("shared");
    for name in ["a", "b", "c"] {
        stub.put_text(PROJECT, &format!("{prefix}-{name}"), name);
    }
    let account = stub.account(&[PROJECT], PROJECT);
    let run = run_as(
        &account,
        &[],
        &[
            "--source",
            &format!("gcp-sm:{prefix}-a"),
            "--source",
            &format!("gcp-sm:projects/{PROJECT}/secrets/{prefix}-b"),
            "--source",
            &format!("gcp-sm:{prefix}-*"),
            "--",
            "env",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    for name in ["a", "b", "c"] {
        assert!(
            has_var(&run, &env_name(&format!("{prefix}-{name}"))),
            "{run:?}"
        );
    }
    assert_eq!(stub.token_requests(&account.email), 1);
}

#[test]
fn pkcs1_keys_are_accepted_too() {
    let stub = stub();
    let id = unique_id("pkcs1");
    stub.put_text(PROJECT, &id, "pkcs1-ok");
    let account = stub.account(&[PROJECT], PROJECT);
    // The same key in the traditional `BEGIN RSA PRIVATE KEY` form.
    let dir = support::temp_dir();
    let pkcs8 = support::write(dir.path(), "key.pem", &stub.key_pem);
    let pkcs1 = dir.path().join("key1.pem");
    support::openssl(
        dir.path(),
        &[
            "pkey",
            "-in",
            pkcs8.to_str().unwrap(),
            "-traditional",
            "-out",
            pkcs1.to_str().unwrap(),
        ],
    );
    let pem = std::fs::read_to_string(&pkcs1).unwrap();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(&account.key_file).unwrap()).unwrap();
    file["private_key"] = json!(pem);
    let key_file = support::write(dir.path(), "sa.json", &file.to_string());
    let run = run_in(
        dir.path(),
        &[("GOOGLE_APPLICATION_CREDENTIALS", key_file.to_str().unwrap())],
        &[
            "--source",
            &format!("gcp-sm:{id}"),
            "--",
            "printenv",
            &env_name(&id),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "pkcs1-ok\n");
}

#[test]
fn refused_key_names_the_key_file_and_never_the_key() {
    let stub = stub();
    let id = unique_id("rogue");
    stub.put_text(PROJECT, &id, "never-read");
    let account = stub.account(&[PROJECT], PROJECT);
    let rogue = stub.key_file(&account.email, "kid-rogue", PROJECT, &stub.rogue_key_pem);
    let run = run(
        &[("GOOGLE_APPLICATION_CREDENTIALS", rogue.to_str().unwrap())],
        &["-vvv", "--source", &format!("gcp-sm:{id}"), "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(rogue.to_str().unwrap())
            && run.stderr.contains("refused the credentials (HTTP 400)"),
        "{run:?}"
    );
    // No line of either key, nor the assertion's signature input.
    for line in stub.rogue_key_pem.lines().chain(stub.key_pem.lines()) {
        if !line.starts_with("-----") {
            assert!(!run.stderr.contains(line), "{run:?}");
        }
    }
    assert!(!run.stderr.contains("eyJ"), "no JWT in the output: {run:?}");
}

#[test]
fn permission_denied_missing_secret_and_disabled_version() {
    let stub = stub();
    let id = unique_id("guarded");
    stub.put_secret(
        PROJECT,
        &id,
        json!({"1": {"data": "v1"}, "2": {"data": "v2", "state": "DISABLED"}}),
        json!({}),
    );
    // A token for another project only.
    let outsider = stub.account(&[OTHER_PROJECT], PROJECT);
    let spec = format!("gcp-sm:projects/{PROJECT}/secrets/{id}/versions/1");
    let run = run_as(&outsider, &[], &["--source", &spec, "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("HTTP 403 (permission denied")
            && run.stderr.contains("roles/secretmanager.secretAccessor"),
        "{run:?}"
    );

    let reader = stub.account(&[PROJECT], PROJECT);
    // latest is the newest version, disabled: an error, not version 1.
    let spec = format!("gcp-sm:projects/{PROJECT}/secrets/{id}");
    let run = run_as(&reader, &[], &["--source", &spec, "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("versions/latest cannot be read (HTTP 400)")
            && run.stderr.contains("disabled or destroyed"),
        "{run:?}"
    );
    let spec = format!("gcp-sm:projects/{PROJECT}/secrets/{id}/versions/1");
    let run = run_as(
        &reader,
        &[],
        &["--source", &spec, "--", "printenv", &env_name(&id)],
    );
    assert_eq!(run.stdout, "v1\n", "{run:?}");
}

#[test]
fn rate_limit_is_retried_after_retry_after() {
    let stub = stub();
    let id = unique_id("throttled");
    stub.put_text(PROJECT, &id, "after-429");
    let account = stub.account(&[PROJECT], PROJECT);
    let fault = stub.fault(json!({
        "status": 429, "retry_after": 1, "count": 1, "token": account.token,
    }));
    let started = Instant::now();
    let run = run_as(
        &account,
        &[],
        &[
            "-v",
            "--source",
            &format!("gcp-sm:{id}"),
            "--",
            "printenv",
            &env_name(&id),
        ],
    );
    let elapsed = started.elapsed();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "after-429\n");
    assert!(
        run.stderr.contains("retrying") && run.stderr.contains("HTTP 429"),
        "the retry is visible: {run:?}"
    );
    // Backoff alone would wait at most 200 ms: the server's Retry-After was honoured.
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert_eq!(stub.fault_hits(&fault), 1);
}

#[test]
fn token_endpoint_failures_are_retried_too() {
    let stub = stub();
    let id = unique_id("token-503");
    stub.put_text(PROJECT, &id, "after-503");
    let account = stub.account(&[PROJECT], PROJECT);
    let fault = stub.fault(json!({"status": 503, "count": 1, "path": "/token"}));
    let run = run_as(
        &account,
        &[],
        &[
            "--source",
            &format!("gcp-sm:{id}"),
            "--",
            "printenv",
            &env_name(&id),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "after-503\n");
    assert_eq!(stub.fault_hits(&fault), 1);
}

#[test]
fn plain_http_to_a_remote_endpoint_is_refused_without_connecting() {
    let stub = stub();
    let account = stub.account(&[PROJECT], PROJECT);
    let started = Instant::now();
    let run = run_as(
        &account,
        &[(ENDPOINT_VAR, "http://secretmanager.example.invalid/")],
        &["--source", "gcp-sm:anything", "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER uses plain http to a non-loopback host"
        ),
        "{run:?}"
    );
    // Refused before anything: no connection, no retry, not even a token.
    assert!(!run.stderr.contains("cannot connect") && !run.stderr.contains("retrying"));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stub.token_requests(&account.email), 0);
}
