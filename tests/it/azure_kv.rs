//! Azure Key Vault against `tests/servers/azure_stub.py`. Azure has no installable emulator, so
//! the stub stands in for Key Vault (REST api-version 7.4), Entra ID's token endpoint and both
//! managed identity endpoints, serving their documented shapes. The shared contract runs with a
//! client secret; then Key Vault's own rules (names, versions, listings, `json`), every
//! credential of the chain, the challenge flow, retries and the plain-http refusal.
//!
//! One stub serves the whole test binary. It re-reads its data file on every request, so each
//! test adds its own vault and identity, and scopes its faults to its vault: nothing one test
//! arms reaches another.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::contract::{Fixture, Seeded};
use crate::support::{self, Run};

/// The tenant of every vault and app registration of the stub.
const TENANT: &str = "5f1e7c3a-0b6d-4c2e-9a41-7d3b2e8f6a10";

struct Stub {
    url: String,
    data_path: PathBuf,
    /// The data file's content; every change is written whole, under this lock.
    data: Mutex<Value>,
    /// The vault the contract seeds, and the app registration that reads it.
    contract_vault: String,
    contract_client: Client,
    _server: support::StubServer,
}

/// An app registration: what `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` hold.
#[derive(Clone)]
struct Client {
    id: String,
    secret: String,
}

fn stub() -> &'static Stub {
    static STUB: OnceLock<Stub> = OnceLock::new();
    STUB.get_or_init(Stub::start)
}

pub fn fixture() -> &'static dyn Fixture {
    stub()
}

crate::contract_tests!(crate::azure_kv::fixture);

impl Stub {
    fn start() -> Stub {
        // Under cargo's per-target temp dir: a static is never dropped, so a TempDir would leak
        // into /tmp anyway.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(support::unique("azure-stub-"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("stub dir");
        let data = json!({
            "page_size": 2,
            "tenants": {TENANT: {"clients": {}}},
            "app_service": {},
            "imds": {},
            "access_tokens": {},
            "vaults": {},
            "faults": {},
        });
        let server = support::StubServer::start(&dir, "azure_stub.py", &data);
        let mut stub = Stub {
            url: server.url.clone(),
            data_path: server.data_path.clone(),
            data: Mutex::new(data),
            contract_vault: String::new(),
            contract_client: Client {
                id: String::new(),
                secret: String::new(),
            },
            _server: server,
        };
        stub.contract_vault = stub.vault(json!({}));
        stub.contract_client = stub.client(&[&stub.contract_vault.clone()]);
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

    /// A new vault holding `secrets` (name → the stub's secret entry); returns its name.
    fn vault(&self, secrets: Value) -> String {
        let name = support::unique("kv");
        self.update(|data| {
            data["vaults"][name.as_str()] = json!({"tenant": TENANT, "secrets": secrets});
        });
        name
    }

    fn vault_url(&self, vault: &str) -> String {
        format!("{}/{vault}", self.url)
    }

    fn add_secret(&self, vault: &str, name: &str, entry: Value) {
        self.update(|data| data["vaults"][vault]["secrets"][name] = entry);
    }

    /// A new access token that reads `vaults`.
    fn access_token(&self, vaults: &[&str]) -> String {
        let token = support::unique("at-");
        self.update(|data| data["access_tokens"][token.as_str()] = json!({"vaults": vaults}));
        token
    }

    /// A new app registration whose token reads `vaults`; it also accepts the federated token
    /// `assertion-{id}` (workload identity).
    fn client(&self, vaults: &[&str]) -> Client {
        let client = Client {
            id: support::unique("app-"),
            secret: support::unique("client-secret-"),
        };
        let token = self.access_token(vaults);
        self.update(|data| {
            data["tenants"][TENANT]["clients"][client.id.as_str()] = json!({
                "secret": client.secret,
                "assertion": format!("assertion-{}", client.id),
                "access_token": token,
            });
        });
        client
    }

    /// Arms a fault; returns its id.
    fn fault(&self, fault: Value) -> String {
        let id = support::unique("fault");
        self.update(|data| data["faults"][id.as_str()] = fault);
        id
    }

    /// The stub's counters.
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

    /// The requests a vault got, in order.
    fn vault_requests(&self, vault: &str) -> Vec<Value> {
        self.stats()["vault_requests"][vault]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn token_requests(&self, identity: &str) -> u64 {
        self.stats()["token_requests"][identity]
            .as_u64()
            .unwrap_or(0)
    }

    /// What a client secret credential needs, reading `vault` by default.
    fn client_env(&self, client: &Client, vault: &str) -> Vec<(String, String)> {
        vec![
            ("AZURE_CLIENT_ID".into(), client.id.clone()),
            ("AZURE_CLIENT_SECRET".into(), client.secret.clone()),
            ("AZURE_TENANT_ID".into(), TENANT.into()),
            ("AZURE_AUTHORITY_HOST".into(), self.url.clone()),
            ("AZURE_KEYVAULT_URL".into(), self.vault_url(vault)),
        ]
    }
}

/// A secret entry of the stub's data.
fn secret(value: &str) -> Value {
    json!({"value": value})
}

/// How a JSON key becomes a name: upper-case, `_` for anything else.
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

fn json_object(pairs: &[(&str, &str)]) -> String {
    let object: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(key, value)| (key.to_string(), json!(value)))
        .collect();
    Value::Object(object).to_string()
}

impl Fixture for Stub {
    fn scheme(&self) -> &'static str {
        "azure-kv"
    }

    fn env(&self) -> Vec<(String, String)> {
        self.client_env(&self.contract_client, &self.contract_vault)
    }

    fn env_with_bad_credentials(&self) -> Vec<(String, String)> {
        let wrong = Client {
            id: self.contract_client.id.clone(),
            secret: "wrong-client-secret-4f2a".into(),
        };
        self.client_env(&wrong, &self.contract_vault)
    }

    fn credential_vars(&self) -> Vec<String> {
        vec!["AZURE_CLIENT_SECRET".into()]
    }

    /// One secret holding the pairs as a JSON object, read with `json`.
    fn seed(&self, group: &str, pairs: &[(&str, &str)]) -> Seeded {
        let name = support::unique(&format!("{}-", group.to_lowercase()));
        self.add_secret(&self.contract_vault, &name, secret(&json_object(pairs)));
        Seeded {
            spec: format!("azure-kv:{name}?json"),
            vars: pairs
                .iter()
                .map(|(key, value)| (env_name(key), value.to_string()))
                .collect(),
        }
    }

    fn seed_prefix(&self, groups: &[(&str, &[(&str, &str)])]) -> Seeded {
        let prefix = support::unique("pfx");
        let mut vars = Vec::new();
        for (group, pairs) in groups {
            let name = format!("{prefix}-{group}");
            self.add_secret(&self.contract_vault, &name, secret(&json_object(pairs)));
            vars.extend(
                pairs
                    .iter()
                    .map(|(key, value)| (env_name(key), value.to_string())),
            );
        }
        // A secret outside the prefix, which the spec must not yield.
        self.add_secret(
            &self.contract_vault,
            &format!("other-{prefix}"),
            secret(r#"{"outside": "outside-the-prefix"}"#),
        );
        Seeded {
            spec: format!("azure-kv:{prefix}-*?json"),
            vars,
        }
    }

    fn missing_spec(&self) -> String {
        format!("azure-kv:{}", support::unique("no-such-secret-"))
    }
}

/// A new vault holding `secrets` and a client that reads it, with the env to use them.
fn vault_with(secrets: Value) -> (String, Client, Vec<(String, String)>) {
    let stub = stub();
    let vault = stub.vault(secrets);
    let client = stub.client(&[&vault]);
    let env = stub.client_env(&client, &vault);
    (vault, client, env)
}

fn run(env: &[(String, String)], args: &[&str]) -> Run {
    let dir = support::temp_dir();
    run_in(dir.path(), env, args)
}

fn run_in(dir: &Path, env: &[(String, String)], args: &[&str]) -> Run {
    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    support::run_in(dir, args, &env)
}

fn env_lines(run: &Run) -> Vec<&str> {
    run.stdout.lines().collect()
}

fn has_var(run: &Run, name: &str) -> bool {
    run.stdout
        .lines()
        .any(|line| line.starts_with(&format!("{name}=")))
}

fn without(env: &[(String, String)], name: &str) -> Vec<(String, String)> {
    env.iter().filter(|(n, _)| n != name).cloned().collect()
}

#[test]
fn full_url_reads_a_version() {
    let stub = stub();
    let (vault, _, env) = vault_with(json!({
        "db-pass": {"value": "current-v2", "version": "00000000000000000000000000000002",
                    "versions": {"00000000000000000000000000000001": {"value": "older-v1"}}},
    }));
    // The URL names the vault: no AZURE_KEYVAULT_URL needed.
    let url_env = without(&env, "AZURE_KEYVAULT_URL");
    let url = format!("{}/secrets/db-pass", stub.vault_url(&vault));
    let versioned = format!("azure-kv:{url}/00000000000000000000000000000001");
    let run_it = |spec: &str| run(&url_env, &["--source", spec, "--", "printenv", "DB_PASS"]);
    let old = run_it(&versioned);
    assert_eq!(old.code, Some(0), "{old:?}");
    assert_eq!(old.stdout, "older-v1\n");
    let current = run_it(&format!("azure-kv:{url}"));
    assert_eq!(current.code, Some(0), "{current:?}");
    assert_eq!(current.stdout, "current-v2\n");
    // The short form takes a version too; an unknown one is "not found", naming it.
    let short = run(
        &env,
        &[
            "--source",
            "azure-kv:db-pass/00000000000000000000000000000009",
            "--",
            "true",
        ],
    );
    assert_eq!(short.code, Some(125), "{short:?}");
    assert!(
        short.stderr.contains(
            "not found: no secret 'db-pass' with version \
             '00000000000000000000000000000009'"
        ),
        "{short:?}"
    );
}

#[test]
fn dashes_become_underscores_and_names_can_be_chosen() {
    let (_, _, env) = vault_with(json!({"CH-HOST": secret("clickhouse.internal")}));
    let run_env = run(&env, &["--source", "azure-kv:CH-HOST", "--", "env"]);
    assert_eq!(run_env.code, Some(0), "{run_env:?}");
    assert!(
        env_lines(&run_env).contains(&"CH_HOST=clickhouse.internal"),
        "{run_env:?}"
    );
    // Key Vault's names are case-insensitive; `#NAME` names the variable exactly.
    let named = run(
        &env,
        &["--source", "azure-kv:ch-host#ClickHouse_Host", "--", "env"],
    );
    assert_eq!(named.code, Some(0), "{named:?}");
    assert!(
        env_lines(&named).contains(&"ClickHouse_Host=clickhouse.internal"),
        "{named:?}"
    );
    let prefixed = run(
        &env,
        &["--source", "azure-kv:CH-HOST?prefix=APP_", "--", "env"],
    );
    assert!(
        env_lines(&prefixed).contains(&"APP_CH_HOST=clickhouse.internal"),
        "{prefixed:?}"
    );
}

#[test]
fn prefix_listing_reads_every_page() {
    let stub = stub();
    let (vault, _, env) = vault_with(json!({
        "app-a": secret("1"), "app-b": secret("2"), "APP-C": secret("3"),
        "app-d": secret("4"), "app-e": secret("5"),
        "app-off": {"value": "disabled-value", "enabled": false},
        "apple": secret("not-under-app-"), "other": secret("o"),
    }));
    let run_it = run(&env, &["--source", "azure-kv:app-*", "--", "env"]);
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    let lines = env_lines(&run_it);
    for expected in ["APP_A=1", "APP_B=2", "APP_C=3", "APP_D=4", "APP_E=5"] {
        assert!(lines.contains(&expected), "{expected} in {run_it:?}");
    }
    for absent in ["APP_OFF", "APPLE", "OTHER"] {
        assert!(!has_var(&run_it, absent), "{absent} in {}", run_it.stdout);
    }
    // Eight secrets, two per page: four pages, each read with the token (after the request
    // that drew the challenge).
    let lists = stub
        .vault_requests(&vault)
        .iter()
        .filter(|request| {
            request["path"] == format!("/{vault}/secrets") && request["bearer"] == json!(true)
        })
        .count();
    assert_eq!(lists, 4, "{:?}", stub.vault_requests(&vault));

    let none = run(&env, &["--source", "azure-kv:nothing-*", "--", "true"]);
    assert_eq!(none.code, Some(125), "{none:?}");
    assert!(
        none.stderr
            .contains("not found: no enabled secret name starts with 'nothing-'"),
        "{none:?}"
    );
}

#[test]
fn star_reads_the_whole_vault_of_azure_keyvault_url() {
    let (_, _, env) = vault_with(json!({
        "CH-HOST": secret("ch"), "CH-PASSWORD": secret("pw"), "api-key": secret("k"),
        "retired": {"value": "never-shown", "enabled": false},
    }));
    let run_it = run(&env, &["--source", "azure-kv:*", "--", "env"]);
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    let lines = env_lines(&run_it);
    for expected in ["CH_HOST=ch", "CH_PASSWORD=pw", "API_KEY=k"] {
        assert!(lines.contains(&expected), "{expected} in {run_it:?}");
    }
    assert!(!has_var(&run_it, "RETIRED"), "{}", run_it.stdout);
    assert!(!run_it.stdout.contains("never-shown"));
}

#[test]
fn muse_protocol_secrets_backend_reads_the_whole_vault() {
    let (_, _, mut env) = vault_with(json!({"CH-HOST": secret("from-the-vault")}));
    env.push(("SECRETS_BACKEND".into(), "azure_keyvault".into()));
    let run_it = run(&env, &["--", "printenv", "CH_HOST"]);
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    assert_eq!(run_it.stdout, "from-the-vault\n");
}

#[test]
fn a_disabled_secret_is_refused_by_name() {
    let (_, _, env) = vault_with(json!({"retired": {"value": "x", "enabled": false}}));
    let run_it = run(&env, &["--source", "azure-kv:retired", "--", "true"]);
    assert_eq!(run_it.code, Some(125), "{run_it:?}");
    assert!(
        run_it.stderr.contains("azure-kv:retired") && run_it.stderr.contains("is disabled"),
        "{run_it:?}"
    );
}

#[test]
fn json_expands_objects() {
    let (_, _, env) = vault_with(json!({
        "twitch": secret(r#"{"client-id": "abc", "client_secret": "s", "port": 5432}"#),
        "plain": secret("not json"),
    }));
    let run_it = run(
        &env,
        &[
            "--source",
            "azure-kv:twitch?json&prefix=TWITCH_",
            "--",
            "env",
        ],
    );
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    let lines = env_lines(&run_it);
    for expected in [
        "TWITCH_CLIENT_ID=abc",
        "TWITCH_CLIENT_SECRET=s",
        "TWITCH_PORT=5432",
    ] {
        assert!(lines.contains(&expected), "{expected} in {run_it:?}");
    }
    let picked = run(
        &env,
        &["--source", "azure-kv:twitch?json#client-id", "--", "env"],
    );
    assert!(
        env_lines(&picked).contains(&"CLIENT_ID=abc") && !has_var(&picked, "PORT"),
        "{picked:?}"
    );
    let plain = run(&env, &["--source", "azure-kv:plain?json", "--", "true"]);
    assert_eq!(plain.code, Some(125), "{plain:?}");
    assert!(
        plain.stderr.contains("does not hold a JSON object") && !plain.stderr.contains("not json"),
        "{plain:?}"
    );
}

#[test]
fn workload_identity_sends_the_federated_token() {
    let stub = stub();
    let (_, client, env) = vault_with(json!({"WI-SECRET": secret("via-workload-identity")}));
    let dir = support::temp_dir();
    let token_file = support::write(
        dir.path(),
        "azure-identity-token",
        &format!("assertion-{}\n", client.id),
    );
    let mut env = without(&env, "AZURE_CLIENT_SECRET");
    env.push((
        "AZURE_FEDERATED_TOKEN_FILE".into(),
        token_file.display().to_string(),
    ));
    let run_it = run_in(
        dir.path(),
        &env,
        &["--source", "azure-kv:WI-SECRET", "--", "env"],
    );
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    assert!(
        env_lines(&run_it).contains(&"WI_SECRET=via-workload-identity"),
        "{run_it:?}"
    );
    assert_eq!(stub.token_requests(&client.id), 1);

    // A token the directory does not accept: the error names the credential.
    std::fs::write(&token_file, "not-the-federated-token").unwrap();
    let refused = run_in(
        dir.path(),
        &env,
        &["--source", "azure-kv:WI-SECRET", "--", "true"],
    );
    assert_eq!(refused.code, Some(125), "{refused:?}");
    assert!(
        refused.stderr.contains("workload identity")
            && refused.stderr.contains("HTTP 400")
            && refused.stderr.contains("invalid_grant"),
        "{refused:?}"
    );
    assert!(!refused.stderr.contains("not-the-federated-token"));
}

#[test]
fn app_service_managed_identity() {
    let stub = stub();
    let vault = stub.vault(json!({"MI-SECRET": secret("via-app-service")}));
    let header = support::unique("identity-header-");
    let id = support::unique("site");
    let token = stub.access_token(&[&vault]);
    stub.update(|data| {
        data["app_service"][header.as_str()] = json!({"id": id, "access_token": token});
    });
    let env = vec![
        (
            "IDENTITY_ENDPOINT".to_string(),
            format!("{}/msi/token", stub.url),
        ),
        ("IDENTITY_HEADER".to_string(), header.clone()),
        ("AZURE_KEYVAULT_URL".to_string(), stub.vault_url(&vault)),
    ];
    let run_it = run(
        &env,
        &["-vvv", "--source", "azure-kv:MI-SECRET", "--", "env"],
    );
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    assert!(
        env_lines(&run_it).contains(&"MI_SECRET=via-app-service"),
        "{run_it:?}"
    );
    assert_eq!(stub.token_requests(&format!("app-service:{id}")), 1);
    assert!(!run_it.stderr.contains(&token) && !run_it.stderr.contains(&header));

    let wrong = vec![
        env[0].clone(),
        ("IDENTITY_HEADER".to_string(), "wrong-header".to_string()),
        env[2].clone(),
    ];
    let refused = run(&wrong, &["--source", "azure-kv:MI-SECRET", "--", "true"]);
    assert_eq!(refused.code, Some(125), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("IDENTITY_ENDPOINT, IDENTITY_HEADER")
            && refused.stderr.contains("HTTP 401"),
        "{refused:?}"
    );
}

#[test]
fn imds_managed_identity_at_an_overridden_address() {
    let stub = stub();
    let vault = stub.vault(json!({"VM-SECRET": secret("via-imds")}));
    let user_assigned = support::unique("uami-");
    let token = stub.access_token(&[&vault]);
    let system_token = stub.access_token(&[&vault]);
    stub.update(|data| {
        data["imds"][user_assigned.as_str()] = json!(token);
        data["imds"]["system"] = json!(system_token);
    });
    let base = vec![
        (
            "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_string(),
            stub.url.clone(),
        ),
        ("AZURE_KEYVAULT_URL".to_string(), stub.vault_url(&vault)),
    ];
    // A user-assigned identity, named by AZURE_CLIENT_ID.
    let mut env = base.clone();
    env.push(("AZURE_CLIENT_ID".into(), user_assigned.clone()));
    let run_it = run(&env, &["--source", "azure-kv:VM-SECRET", "--", "env"]);
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    assert!(
        env_lines(&run_it).contains(&"VM_SECRET=via-imds"),
        "{run_it:?}"
    );
    assert_eq!(stub.token_requests(&format!("imds:{user_assigned}")), 1);
    // The system-assigned one.
    let run_it = run(&base, &["--source", "azure-kv:VM-SECRET", "--", "env"]);
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    assert!(
        env_lines(&run_it).contains(&"VM_SECRET=via-imds"),
        "{run_it:?}"
    );
}

const AZ_ARGS: &str = "account get-access-token --resource https://vault.azure.net -o json";

/// A fake `az` that checks its arguments and prints a token (or fails like a logged-out CLI).
fn fake_az(dir: &Path, answer: &str) -> String {
    fake_az_expecting(dir, AZ_ARGS, answer)
}

fn fake_az_expecting(dir: &Path, args: &str, answer: &str) -> String {
    let log = dir.join("az.log");
    let script = format!(
        "#!/bin/sh\n\
         echo \"$*\" >> '{log}'\n\
         if [ \"$*\" != '{args}' ]; then\n\
           echo \"ERROR: unexpected arguments: $*\" >&2; exit 2\n\
         fi\n\
         {answer}\n",
        log = log.display(),
    );
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let az = bin.join("az");
    std::fs::write(&az, script).unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Where no instance metadata service answers: a closed loopback port.
fn no_imds() -> (String, String) {
    (
        "AZURE_POD_IDENTITY_AUTHORITY_HOST".into(),
        format!("http://127.0.0.1:{}", support::free_port()),
    )
}

#[test]
fn azure_cli_token_when_nothing_else_is_configured() {
    let stub = stub();
    let vault = stub.vault(json!({"CLI-SECRET": secret("via-az")}));
    let token = stub.access_token(&[&vault]);
    let dir = support::temp_dir();
    let path = fake_az(
        dir.path(),
        &format!(
            "printf '%s' '{{\"accessToken\": \"{token}\", \
             \"expiresOn\": \"2099-01-01 00:00:00.000000\", \
             \"tenant\": \"{TENANT}\", \"tokenType\": \"Bearer\"}}'"
        ),
    );
    let env = vec![
        ("PATH".to_string(), path),
        ("AZURE_KEYVAULT_URL".to_string(), stub.vault_url(&vault)),
        no_imds(),
    ];
    let run_it = run_in(
        dir.path(),
        &env,
        &["--source", "azure-kv:CLI-SECRET", "--", "env"],
    );
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    assert!(
        env_lines(&run_it).contains(&"CLI_SECRET=via-az"),
        "{run_it:?}"
    );
    let calls = std::fs::read_to_string(dir.path().join("az.log")).unwrap();
    assert_eq!(calls.lines().count(), 1, "{calls}");

    // A logged-out CLI: its own message says what to do.
    let logged_out = support::temp_dir();
    let path = fake_az(
        logged_out.path(),
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1",
    );
    let env = vec![
        ("PATH".to_string(), path),
        ("AZURE_KEYVAULT_URL".to_string(), stub.vault_url(&vault)),
        no_imds(),
    ];
    let run_it = run_in(
        logged_out.path(),
        &env,
        &["--source", "azure-kv:CLI-SECRET", "--", "true"],
    );
    assert_eq!(run_it.code, Some(125), "{run_it:?}");
    assert!(
        run_it.stderr.contains("Azure CLI credential")
            && run_it.stderr.contains("Please run 'az login'"),
        "{run_it:?}"
    );
}

#[test]
fn a_refused_token_is_unauthenticated_and_a_tenant_mismatch_is_named() {
    let stub = stub();
    let vault = stub.vault(json!({"X": secret("never-shown-x")}));
    let dir = support::temp_dir();
    // A token the vault does not accept, as one for another tenant would be.
    let path = fake_az_expecting(
        dir.path(),
        &format!("{AZ_ARGS} --tenant other-tenant"),
        r#"printf '%s' '{"accessToken": "token-of-another-tenant"}'"#,
    );
    let env = vec![
        ("PATH".to_string(), path),
        ("AZURE_TENANT_ID".to_string(), "other-tenant".to_string()),
        ("AZURE_KEYVAULT_URL".to_string(), stub.vault_url(&vault)),
        no_imds(),
    ];
    let run_it = run_in(dir.path(), &env, &["--source", "azure-kv:X", "--", "true"]);
    assert_eq!(run_it.code, Some(125), "{run_it:?}");
    assert!(
        run_it.stderr.contains("HTTP 401 (unauthenticated")
            && run_it.stderr.contains(&format!(
                "names tenant '{TENANT}' in its challenge, but AZURE_TENANT_ID is 'other-tenant'"
            )),
        "{run_it:?}"
    );
    assert!(
        !run_it.stderr.contains("token-of-another-tenant"),
        "{run_it:?}"
    );
}

#[test]
fn no_credential_at_all_says_what_to_set() {
    let stub = stub();
    let vault = stub.vault(json!({"X": secret("x")}));
    let empty = support::temp_dir();
    let env = vec![
        // No `az` anywhere.
        ("PATH".to_string(), empty.path().display().to_string()),
        ("AZURE_KEYVAULT_URL".to_string(), stub.vault_url(&vault)),
        no_imds(),
    ];
    let run_it = run(&env, &["--source", "azure-kv:X", "--", "/bin/true"]);
    assert_eq!(run_it.code, Some(125), "{run_it:?}");
    assert!(
        run_it.stderr.contains("no Azure credential")
            && run_it.stderr.contains("AZURE_CLIENT_SECRET")
            && run_it.stderr.contains("az login"),
        "{run_it:?}"
    );
}

#[test]
fn one_challenge_and_one_token_serve_every_source() {
    let stub = stub();
    let vault = stub.vault(json!({
        "first": secret("1"), "second": secret("2"), "third-a": secret("3"),
        "third-b": secret("4"),
    }));
    // The `scope=` form of the challenge, and no AZURE_TENANT_ID: the tenant comes from it.
    stub.update(|data| data["vaults"][vault.as_str()]["challenge"] = json!("scope"));
    let client = stub.client(&[&vault]);
    let env = without(&stub.client_env(&client, &vault), "AZURE_TENANT_ID");
    let run_it = run(
        &env,
        &[
            "--source",
            "azure-kv:first",
            "--source",
            "azure-kv:second",
            "--source",
            "azure-kv:third-*",
            "--",
            "env",
        ],
    );
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    let lines = env_lines(&run_it);
    for expected in ["FIRST=1", "SECOND=2", "THIRD_A=3", "THIRD_B=4"] {
        assert!(lines.contains(&expected), "{expected} in {run_it:?}");
    }
    let requests = stub.vault_requests(&vault);
    assert_eq!(
        (&requests[0]["bearer"], &requests[0]["status"]),
        (&json!(false), &json!(401)),
        "the first request goes without a token and draws the challenge: {requests:?}"
    );
    // The other sources waited for that challenge instead of drawing their own.
    assert!(
        requests[1..]
            .iter()
            .all(|request| request["bearer"] == json!(true) && request["status"] == json!(200)),
        "{requests:?}"
    );
    assert_eq!(stub.token_requests(&client.id), 1);
}

#[test]
fn rate_limit_is_retried_after_retry_after() {
    let stub = stub();
    let (vault, _, env) = vault_with(json!({"AFTER-429": secret("served")}));
    let fault = stub.fault(json!({
        "vault": vault, "authenticated": true, "status": 429, "retry_after": 1, "count": 1,
    }));
    let started = Instant::now();
    let run_it = run(
        &env,
        &[
            "-v",
            "--source",
            "azure-kv:AFTER-429",
            "--",
            "printenv",
            "AFTER_429",
        ],
    );
    let elapsed = started.elapsed();
    assert_eq!(run_it.code, Some(0), "{run_it:?}");
    assert_eq!(run_it.stdout, "served\n");
    assert!(
        run_it.stderr.contains("retrying") && run_it.stderr.contains("HTTP 429"),
        "the retry is visible: {run_it:?}"
    );
    // Backoff alone would wait at most 200 ms: the server's Retry-After was honoured.
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert_eq!(stub.stats()["fault_hits"][fault.as_str()], json!(1));
}

#[test]
fn a_token_without_access_is_permission_denied() {
    let stub = stub();
    let vault = stub.vault(json!({"GUARDED": secret("never-shown-guarded")}));
    let outsider = stub.client(&[]);
    let run_it = run(
        &stub.client_env(&outsider, &vault),
        &["--source", "azure-kv:GUARDED", "--", "true"],
    );
    assert_eq!(run_it.code, Some(125), "{run_it:?}");
    assert!(
        run_it.stderr.contains("azure-kv:GUARDED")
            && run_it.stderr.contains("HTTP 403")
            && run_it.stderr.contains("permission denied"),
        "{run_it:?}"
    );
    assert!(!run_it.stderr.contains("never-shown-guarded"));
}

#[test]
fn a_wrong_client_secret_names_the_credential_not_the_secret() {
    let stub = stub();
    let (vault, client, _) = vault_with(json!({"S": secret("s")}));
    let wrong = Client {
        id: client.id.clone(),
        secret: "wrong-secret-8d3e1f".into(),
    };
    let run_it = run(
        &stub.client_env(&wrong, &vault),
        &["--source", "azure-kv:S", "--", "true"],
    );
    assert_eq!(run_it.code, Some(125), "{run_it:?}");
    assert!(
        run_it.stderr.contains("client secret credential")
            && run_it.stderr.contains("HTTP 401")
            && run_it.stderr.contains("invalid_client"),
        "{run_it:?}"
    );
    assert!(!run_it.stderr.contains("wrong-secret-8d3e1f"), "{run_it:?}");
}

#[test]
fn plain_http_to_a_remote_vault_is_refused_without_connecting() {
    let stub = stub();
    let client = stub.client(&[]);
    let mut env = without(&stub.client_env(&client, "unused"), "AZURE_KEYVAULT_URL");
    env.push((
        "AZURE_KEYVAULT_URL".into(),
        "http://kv.example.invalid".into(),
    ));
    let started = Instant::now();
    let run_it = run(&env, &["--source", "azure-kv:ANY", "--", "true"]);
    assert_eq!(run_it.code, Some(125), "{run_it:?}");
    assert!(
        run_it
            .stderr
            .contains("AZURE_KEYVAULT_URL uses plain http to a non-loopback host"),
        "{run_it:?}"
    );
    // Refused before any attempt: no connection error, no retry, no DNS wait, no token.
    assert!(!run_it.stderr.contains("cannot connect") && !run_it.stderr.contains("retrying"));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stub.token_requests(&client.id), 0);
}

/// A stand-in of its own for the write tests (`write_stores.rs`): secretrun's writes go to the
/// stub's data file, which [`Stub::update`] rewrites whole, so every vault and the client are
/// made before any test writes, and this stub's file is never rewritten after.
struct WriteStub {
    stub: Stub,
    client: Client,
    vaults: Vec<String>,
    next: std::sync::atomic::AtomicUsize,
}

/// Vaults enough for every write test; each takes a new one.
const WRITE_VAULTS: usize = 24;

fn write_stub() -> &'static WriteStub {
    static WRITE_STUB: OnceLock<WriteStub> = OnceLock::new();
    WRITE_STUB.get_or_init(|| {
        let stub = Stub::start();
        let vaults: Vec<String> = (0..WRITE_VAULTS).map(|_| stub.vault(json!({}))).collect();
        let names: Vec<&str> = vaults.iter().map(String::as_str).collect();
        let client = stub.client(&names);
        WriteStub {
            stub,
            client,
            vaults,
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    })
}

/// The environment of the write tests' app registration.
pub(crate) fn writer_env() -> Vec<(String, String)> {
    let write = write_stub();
    write.stub.client_env(&write.client, &write.vaults[0])
}

/// A vault no other write test uses, empty; its URL.
pub(crate) fn writable_vault() -> String {
    let write = write_stub();
    let next = write.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let vault = write
        .vaults
        .get(next)
        .expect("more write tests than WRITE_VAULTS: raise it");
    write.stub.vault_url(vault)
}
