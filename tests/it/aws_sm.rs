//! `aws-sm:` against one `moto_server` per test binary, with moto's IAM checks switched on so
//! that wrong credentials are really rejected.
//!
//! moto accepts any credentials unless told otherwise. The server is started open, an IAM user
//! allowed `secretsmanager:*` and `ssm:*` and one allowed nothing are created, then `POST
//! /moto-api/reset-auth 0` makes moto check every later request's SigV4 signature and IAM
//! policy. secretrun then signs with the allowed user's key; a made-up key is refused with
//! `InvalidClientTokenId`, a wrong secret key with `SignatureDoesNotMatch`, the other user with
//! `AccessDenied`. moto sends those three as XML with HTTP 403 (AWS sends JSON typed errors), so
//! the JSON SDK cannot read their type: what they exercise is secretrun's fallback to the status
//! and its hint. The typed mapping is unit-tested in `src/providers/aws.rs`.
//!
//! Secrets are seeded with boto3 from the test venv. Tests run in parallel against the one
//! server, so every secret has a unique name instead of the server being reset.
//!
//! `aws_ssm.rs` uses the same server, users and helpers (hence the `pub(crate)` items): one
//! moto per test binary, whichever AWS service a test reads.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::contract::{expected_vars, Fixture, Seeded};
use crate::support::{self, Run};

pub(crate) const REGION: &str = "us-east-1";

/// Seeds through boto3: reads `{"endpoint","key","secret","calls":[{"service","op","args"}]}` on
/// stdin, prints the responses as a JSON list. `SecretBinaryHex` stands for bytes in `args`.
const BOTO: &str = r#"
import json, sys, boto3
req = json.load(sys.stdin)
kw = dict(endpoint_url=req["endpoint"], region_name=req["region"],
          aws_access_key_id=req["key"], aws_secret_access_key=req["secret"])
clients, out = {}, []
for call in req["calls"]:
    svc = call["service"]
    if svc not in clients:
        clients[svc] = boto3.client(svc, **kw)
    args = dict(call.get("args", {}))
    if "SecretBinaryHex" in args:
        args["SecretBinary"] = bytes.fromhex(args.pop("SecretBinaryHex"))
    result = getattr(clients[svc], call["op"])(**args)
    result.pop("ResponseMetadata", None)
    out.append(result)
json.dump(out, sys.stdout, default=str)
"#;

pub(crate) struct Moto {
    /// Kept, never waited for: the server lives as long as the test binary (and dies with it,
    /// see `support::spawn_server`).
    _server: std::process::Child,
    port: u16,
    /// The access key and secret key of the user allowed `secretsmanager:*` and `ssm:*`.
    pub(crate) reader: (String, String),
    /// A user moto knows, allowed nothing.
    pub(crate) denied: (String, String),
}

impl Moto {
    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn start() -> Moto {
        let port = support::free_port();
        let log_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aws_sm-moto.log");
        let log = std::fs::File::create(&log_path).expect("moto log file");
        let mut command = Command::new(support::venv_bin("moto_server"));
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // A file, not a pipe: moto logs every request and would block on a full pipe.
            .stderr(log);
        let mut child = support::spawn_server(command);
        let started = Instant::now();
        while http(port, "GET", "/moto-api/", "").is_none_or(|answer| !is_ok(&answer)) {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("moto_server exited ({status}); see {}", log_path.display());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto_server not ready after 30 s; see {}",
                log_path.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The server is still open: any key may create the users.
        let setup = boto_as(
            port,
            ("setup", "setup"),
            &[
                iam("create_user", json!({"UserName": "reader"})),
                iam("create_access_key", json!({"UserName": "reader"})),
                iam(
                    "put_user_policy",
                    json!({
                        "UserName": "reader",
                        "PolicyName": "secrets",
                        "PolicyDocument": json!({
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": ["secretsmanager:*", "ssm:*"], "Resource": "*"}]
                        }).to_string(),
                    }),
                ),
                iam("create_user", json!({"UserName": "denied"})),
                iam("create_access_key", json!({"UserName": "denied"})),
            ],
        );
        let key = |answer: &Value| {
            (
                answer["AccessKey"]["AccessKeyId"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                answer["AccessKey"]["SecretAccessKey"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        };
        // From now on moto checks every request's signature and policy.
        let answer = http(port, "POST", "/moto-api/reset-auth", "0").expect("reset-auth");
        assert!(is_ok(&answer), "reset-auth: {answer}");
        Moto {
            _server: child,
            port,
            reader: key(&setup[1]),
            denied: key(&setup[4]),
        }
    }
}

fn iam(op: &str, args: Value) -> Value {
    json!({"service": "iam", "op": op, "args": args})
}

fn sm(op: &str, args: Value) -> Value {
    json!({"service": "secretsmanager", "op": op, "args": args})
}

fn is_ok(answer: &str) -> bool {
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}

/// A bare HTTP/1.0 request; the whole answer, or `None` when the server cannot be reached.
fn http(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    // text/plain: moto reads reset-auth's count from the raw body, which a form type would eat.
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

fn boto_as(port: u16, (key, secret): (&str, &str), calls: &[Value]) -> Vec<Value> {
    let request = json!({
        "endpoint": format!("http://127.0.0.1:{port}"),
        "region": REGION,
        "key": key,
        "secret": secret,
        "calls": calls,
    });
    let mut child = Command::new(support::venv_bin("python"))
        .args(["-c", BOTO])
        .env_clear()
        .envs([
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the venv's python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "seeding failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("boto answers JSON")
}

pub(crate) fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// Runs calls as the allowed user.
pub(crate) fn boto(calls: &[Value]) -> Vec<Value> {
    let moto = moto();
    boto_as(moto.port, (&moto.reader.0, &moto.reader.1), calls)
}

/// A new secret name under a test-unique folder, ending in `leaf`.
fn secret_name(leaf: &str) -> String {
    format!("{}/{leaf}", support::unique("secretrun-test/t"))
}

fn object(pairs: &[(&str, &str)]) -> String {
    let map: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(key, value)| (key.to_string(), Value::from(*value)))
        .collect();
    Value::Object(map).to_string()
}

fn create(name: &str, secret_string: &str) -> Value {
    boto(&[sm(
        "create_secret",
        json!({"Name": name, "SecretString": secret_string}),
    )])
    .remove(0)
}

pub struct AwsFixture;

/// The environment every run gets besides credentials and endpoint: no profile files, no
/// instance metadata, so nothing but the variables here decides.
fn isolated_env() -> Vec<(String, String)> {
    [
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect()
}

pub(crate) fn env_with(key: &str, secret: &str) -> Vec<(String, String)> {
    let mut env = isolated_env();
    env.extend(
        [
            ("AWS_ACCESS_KEY_ID", key.to_string()),
            ("AWS_SECRET_ACCESS_KEY", secret.to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ENDPOINT_URL", moto().endpoint()),
        ]
        .map(|(n, v)| (n.to_string(), v)),
    );
    env
}

impl Fixture for AwsFixture {
    fn scheme(&self) -> &'static str {
        "aws-sm"
    }

    fn env(&self) -> Vec<(String, String)> {
        let moto = moto();
        env_with(&moto.reader.0, &moto.reader.1)
    }

    /// A key id moto's IAM does not know: rejected with `InvalidClientTokenId` (HTTP 403).
    fn env_with_bad_credentials(&self) -> Vec<(String, String)> {
        env_with("AKIAUNKNOWNKEY000000", "not-a-real-secret-key-canary")
    }

    fn credential_vars(&self) -> Vec<String> {
        [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ]
        .map(String::from)
        .to_vec()
    }

    fn seed(&self, group: &str, pairs: &[(&str, &str)]) -> Seeded {
        let name = secret_name(group);
        create(&name, &object(pairs));
        Seeded {
            spec: format!("aws-sm:{name}"),
            vars: expected_vars(pairs),
        }
    }

    fn seed_prefix(&self, groups: &[(&str, &[(&str, &str)])]) -> Seeded {
        let prefix = format!("{}/", support::unique("secretrun-test/p"));
        let calls: Vec<Value> = groups
            .iter()
            .map(|(group, pairs)| {
                sm(
                    "create_secret",
                    json!({"Name": format!("{prefix}{group}"), "SecretString": object(pairs)}),
                )
            })
            .collect();
        boto(&calls);
        Seeded {
            spec: format!("aws-sm:{prefix}*"),
            vars: expected_vars(groups.iter().flat_map(|(_, pairs)| pairs.iter())),
        }
    }

    fn missing_spec(&self) -> String {
        format!("aws-sm:{}", secret_name("missing"))
    }
}

pub fn fixture() -> &'static AwsFixture {
    static FIXTURE: AwsFixture = AwsFixture;
    &FIXTURE
}

crate::contract_tests!(super::fixture);

pub(crate) fn run_with(env: &[(String, String)], args: &[&str]) -> Run {
    let dir = support::temp_dir();
    run_in(dir.path(), env, args)
}

pub(crate) fn run_in(dir: &Path, env: &[(String, String)], args: &[&str]) -> Run {
    let mut command = support::secretrun(dir);
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

pub(crate) fn var<'a>(run: &'a Run, name: &str) -> Option<&'a str> {
    child_env(run)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

pub(crate) fn without(env: Vec<(String, String)>, names: &[&str]) -> Vec<(String, String)> {
    env.into_iter()
        .filter(|(name, _)| !names.contains(&name.as_str()))
        .collect()
}

pub(crate) fn with(
    mut env: Vec<(String, String)>,
    name: &str,
    value: &str,
) -> Vec<(String, String)> {
    env.retain(|(n, _)| n != name);
    env.push((name.to_string(), value.to_string()));
    env
}

#[test]
fn arn_form_reads_the_secret_in_its_own_region() {
    let name = secret_name("by-arn");
    let created = create(&name, &object(&[("api_key", "arn-value-1")]));
    let arn = created["ARN"].as_str().expect("an ARN");
    assert!(
        arn.starts_with("arn:aws:secretsmanager:us-east-1:"),
        "{arn}"
    );
    let spec = format!("aws-sm:{arn}");
    let env = fixture().env();
    // The configured region, another region, and none at all: the ARN's region is used.
    for env in [
        env.clone(),
        with(env.clone(), "AWS_REGION", "eu-west-1"),
        without(env, &["AWS_REGION"]),
    ] {
        let run = run_with(&env, &["--source", &spec, "--", "printenv", "API_KEY"]);
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(run.stdout, "arn-value-1\n");
    }
}

#[test]
fn key_picks_one_key_of_a_json_secret() {
    let name = secret_name("twitch");
    create(
        &name,
        &object(&[("client_id", "picked-id"), ("client_secret", "not-picked")]),
    );
    let spec = format!("aws-sm:{name}#client_id");
    let run = run_with(&fixture().env(), &["--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "CLIENT_ID"), Some("picked-id"));
    assert_eq!(var(&run, "CLIENT_SECRET"), None, "only the picked key");

    let spec = format!("aws-sm:{name}#nope");
    let run = run_with(&fixture().env(), &["--source", &spec, "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("the secret has no key 'nope'"),
        "{run:?}"
    );
}

#[test]
fn prefix_option_prefixes_every_name() {
    let name = secret_name("twitch");
    create(
        &name,
        &object(&[
            ("client-id", "prefixed-id"),
            ("client_secret", "prefixed-secret"),
        ]),
    );
    let spec = format!("aws-sm:{name}?prefix=TWITCH_");
    let run = run_with(
        &fixture().env(),
        &[
            "--source",
            &spec,
            "--",
            "printenv",
            "TWITCH_CLIENT_ID",
            "TWITCH_CLIENT_SECRET",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "prefixed-id\nprefixed-secret\n");
}

#[test]
fn plain_string_is_named_by_its_last_segment_or_by_the_key() {
    let name = secret_name("db-password");
    create(&name, "plain-hunter2");
    let env = fixture().env();
    let by_path = format!("aws-sm:{name}");
    let run = run_with(
        &env,
        &["--source", &by_path, "--", "printenv", "DB_PASSWORD"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "plain-hunter2\n");

    let named = format!("aws-sm:{name}#PG_PASSWORD");
    let run = run_with(&env, &["--source", &named, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "PG_PASSWORD"), Some("plain-hunter2"));
    assert_eq!(var(&run, "DB_PASSWORD"), None);

    // JSON that is not an object is a plain string, kept as written.
    let name = secret_name("ports");
    create(&name, "[80,443]");
    let spec = format!("aws-sm:{name}?prefix=APP_");
    let run = run_with(&env, &["--source", &spec, "--", "printenv", "APP_PORTS"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "[80,443]\n");
}

#[test]
fn binary_secret_reaches_the_child_as_raw_bytes() {
    let name = secret_name("cert.der");
    // Not UTF-8, no NUL (which no environment variable can hold).
    let bytes: &[u8] = &[0xff, 0xfe, 0x01, b'b', b'i', b'n', 0x80];
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    boto(&[sm(
        "create_secret",
        json!({"Name": name, "SecretBinaryHex": hex}),
    )]);
    let dir = support::temp_dir();
    let spec = format!("aws-sm:{name}");
    let run = run_in(
        dir.path(),
        &fixture().env(),
        &[
            "--source",
            &spec,
            "--",
            "sh",
            "-c",
            "printf %s \"$CERT_DER\" > out",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(std::fs::read(dir.path().join("out")).unwrap(), bytes);
}

#[test]
fn version_stage_and_version_id_read_an_older_version() {
    let name = secret_name("rotated");
    let created = create(&name, &object(&[("password", "old-password")]));
    let first_version = created["VersionId"]
        .as_str()
        .expect("a version id")
        .to_string();
    boto(&[sm(
        "put_secret_value",
        json!({"SecretId": name, "SecretString": object(&[("password", "new-password")])}),
    )]);
    let env = fixture().env();
    for (spec, expected) in [
        (format!("aws-sm:{name}"), "new-password\n"),
        (
            format!("aws-sm:{name}?version-stage=AWSCURRENT"),
            "new-password\n",
        ),
        (
            format!("aws-sm:{name}?version-stage=AWSPREVIOUS"),
            "old-password\n",
        ),
        (
            format!("aws-sm:{name}?version-id={first_version}"),
            "old-password\n",
        ),
    ] {
        let run = run_with(&env, &["--source", &spec, "--", "printenv", "PASSWORD"]);
        assert_eq!(run.code, Some(0), "{spec}: {run:?}");
        assert_eq!(run.stdout, expected, "{spec}");
    }

    let spec = format!("aws-sm:{name}?version-stage=NOSUCHSTAGE");
    let run = run_with(&env, &["--source", &spec, "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "not found: secret '{name}' at version stage 'NOSUCHSTAGE'"
        )),
        "{run:?}"
    );
}

/// Strips the colours tracing puts around fields.
pub(crate) fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn prefix_listing_reads_more_than_one_batch_in_name_order() {
    let prefix = format!("{}/", support::unique("secretrun-test/many"));
    // 25 secrets: BatchGetSecretValue takes 20 ids per call, so two calls. Every secret also
    // sets SHARED; the last by name must win. Created in reverse so creation order cannot pass
    // for name order.
    let calls: Vec<Value> = (0..25)
        .rev()
        .map(|i| {
            let pairs = [
                (format!("key_{i:02}"), format!("value-{i:02}")),
                ("shared".to_string(), format!("from-{i:02}")),
            ];
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            sm(
                "create_secret",
                json!({"Name": format!("{prefix}s{i:02}"), "SecretString": object(&pairs)}),
            )
        })
        .collect();
    boto(&calls);
    // Another secret whose name merely begins the same way is not under the prefix.
    create(
        &format!("{}x", prefix.trim_end_matches('/')),
        &object(&[("outside", "no")]),
    );

    let spec = format!("aws-sm:{prefix}*");
    let run = run_with(&fixture().env(), &["-vv", "--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    for i in 0..25 {
        assert_eq!(
            var(&run, &format!("KEY_{i:02}")),
            Some(format!("value-{i:02}").as_str()),
            "{}",
            run.stdout
        );
    }
    assert_eq!(var(&run, "SHARED"), Some("from-24"));
    assert_eq!(var(&run, "OUTSIDE"), None);
    let log = plain(&run.stderr);
    let batches: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("BatchGetSecretValue"))
        .collect();
    assert_eq!(batches.len(), 2, "{log}");
    assert!(batches[0].contains("secrets=20"), "{log}");
    assert!(batches[1].contains("secrets=5"), "{log}");
}

#[test]
fn prefix_matching_nothing_is_not_found() {
    let spec = format!("aws-sm:{}/*", support::unique("secretrun-test/none"));
    let run = run_with(&fixture().env(), &["--source", &spec, "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("not found: no secret whose name starts with"),
        "{run:?}"
    );
}

#[test]
fn service_endpoint_variable_alone_works() {
    let seeded = fixture().seed("endpoint", &[("via_service_url", "service-url-value")]);
    let env = without(fixture().env(), &["AWS_ENDPOINT_URL"]);
    let env = with(env, "AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto().endpoint());
    let run = run_with(
        &env,
        &[
            "--source",
            &seeded.spec,
            "--",
            "printenv",
            "VIA_SERVICE_URL",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "service-url-value\n");
}

#[test]
fn a_user_without_permission_gets_the_permission_hint() {
    let seeded = fixture().seed("denied", &[("key", "denied-canary-value")]);
    let (key, secret) = &moto().denied;
    let run = run_with(
        &env_with(key, secret),
        &["--source", &seeded.spec, "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("permission denied"), "{run:?}");
    assert!(!run.stderr.contains(secret.as_str()), "{run:?}");
    assert!(!run.stderr.contains("denied-canary-value"), "{run:?}");
}

#[test]
fn a_wrong_secret_key_is_rejected() {
    let seeded = fixture().seed("signature", &[("key", "v")]);
    let key = &moto().reader.0;
    let wrong = "wrong-secret-key-canary-1234";
    let run = run_with(
        &env_with(key, wrong),
        &["--source", &seeded.spec, "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("HTTP 403"), "{run:?}");
    assert!(!run.stderr.contains(wrong), "{run:?}");
}

#[test]
fn no_region_is_a_clear_config_error() {
    let env = without(fixture().env(), &["AWS_REGION", "AWS_DEFAULT_REGION"]);
    let run = run_with(&env, &["--source", "aws-sm:app/db", "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("aws-sm:app/db: no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION)"),
        "{run:?}"
    );
    // AWS_DEFAULT_REGION is enough.
    let seeded = fixture().seed("default-region", &[("k", "default-region-ok")]);
    let env = with(env, "AWS_DEFAULT_REGION", REGION);
    let run = run_with(&env, &["--source", &seeded.spec, "--", "printenv", "K"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "default-region-ok\n");
}

#[test]
fn plain_http_to_a_remote_endpoint_is_refused() {
    let env = with(fixture().env(), "AWS_ENDPOINT_URL", "http://192.0.2.1:4566");
    let run = run_with(&env, &["--source", "aws-sm:app/db", "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("AWS_ENDPOINT_URL uses plain http to a non-loopback host"),
        "{run:?}"
    );
}

#[test]
fn an_unreachable_endpoint_is_a_network_error() {
    let port = support::free_port();
    let env = with(
        fixture().env(),
        "AWS_ENDPOINT_URL",
        &format!("http://127.0.0.1:{port}"),
    );
    let run = run_with(&env, &["--source", "aws-sm:app/db", "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("aws-sm:app/db: cannot connect:"),
        "{run:?}"
    );
}

/// A TCP listener that counts the connections made to it, standing in for EC2 instance
/// metadata: the AWS SDK probes it when the environment holds no region or credentials.
struct Listener {
    port: u16,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Listener {
    fn start() -> Listener {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = count.clone();
        // Accepts and hangs up at once, so a probing SDK fails fast; the thread ends with the
        // test binary.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counted.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Listener { port, count }
    }

    fn connections(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn an_env_file_only_run_never_initialises_the_aws_sdk() {
    let imds = Listener::start();
    let env: Vec<(String, String)> = [
        ("AWS_CONFIG_FILE", "/dev/null".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
        (
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://127.0.0.1:{}", imds.port),
        ),
    ]
    .map(|(n, v)| (n.to_string(), v))
    .to_vec();
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", "FROM_DOTENV=1\n");

    let run = run_in(
        dir.path(),
        &env,
        &["--env-file", ".env", "--", "printenv", "FROM_DOTENV"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        imds.connections(),
        0,
        "a run without aws-sm reached instance metadata"
    );

    // The control: the same environment with an aws-sm source does probe it (for a region),
    // so the zero above means something.
    let run = run_in(
        dir.path(),
        &env,
        &["--source", "aws-sm:app/db", "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("no AWS region"), "{run:?}");
    assert!(
        imds.connections() > 0,
        "the SDK did not probe the stand-in: {run:?}"
    );
}

/// Runs `spec` printing NAME with `-vv`, with its own fallback cache (so its snapshot, and the
/// version ids kept in it, are the previous run's).
fn run_versioned(cache: &Path, spec: &str, name: &str) -> Run {
    let env = with(fixture().env(), "XDG_CACHE_HOME", cache.to_str().unwrap());
    let run = run_with(&env, &["-vv", "--source", spec, "--", "printenv", name]);
    assert_eq!(run.code, Some(0), "{spec}: {run:?}");
    run
}

const REUSED: &str = "unchanged; reusing the snapshot";

#[test]
fn an_unchanged_version_is_not_read_again_and_a_new_one_is() {
    let name = secret_name("watched");
    create(&name, &object(&[("token", "first-token")]));
    let cache = support::temp_dir();
    let spec = format!("aws-sm:{name}");
    let first = run_versioned(cache.path(), &spec, "TOKEN");
    assert_eq!(first.stdout, "first-token\n");
    assert!(!first.stderr.contains(REUSED), "{first:?}");
    // DescribeSecret says the version is the one in the snapshot: no value is read.
    let again = run_versioned(cache.path(), &spec, "TOKEN");
    assert_eq!(again.stdout, "first-token\n");
    assert!(plain(&again.stderr).contains(REUSED), "{again:?}");
    boto(&[sm(
        "put_secret_value",
        json!({"SecretId": name, "SecretString": object(&[("token", "second-token")])}),
    )]);
    let rotated = run_versioned(cache.path(), &spec, "TOKEN");
    assert_eq!(rotated.stdout, "second-token\n");
    assert!(!rotated.stderr.contains(REUSED), "{rotated:?}");
    assert!(!rotated.stderr.contains("token\n"), "{rotated:?}");
}

#[test]
fn a_prefix_whose_listed_versions_are_unchanged_is_not_read_again() {
    let folder = support::unique("secretrun-test/watch");
    create(&format!("{folder}/a"), &object(&[("one", "value-one")]));
    let cache = support::temp_dir();
    let spec = format!("aws-sm:{folder}/*");
    assert_eq!(
        run_versioned(cache.path(), &spec, "ONE").stdout,
        "value-one\n"
    );
    let again = run_versioned(cache.path(), &spec, "ONE");
    assert_eq!(again.stdout, "value-one\n");
    assert!(plain(&again.stderr).contains(REUSED), "{again:?}");
    // A new secret under the prefix changes the listing: everything is read again.
    create(&format!("{folder}/b"), &object(&[("two", "value-two")]));
    let grown = run_versioned(cache.path(), &spec, "TWO");
    assert_eq!(grown.stdout, "value-two\n");
    assert!(!grown.stderr.contains(REUSED), "{grown:?}");
    // So does a new version of a listed one.
    boto(&[sm(
        "put_secret_value",
        json!({"SecretId": format!("{folder}/a"), "SecretString": object(&[("one", "value-1b")])}),
    )]);
    let rotated = run_versioned(cache.path(), &spec, "ONE");
    assert_eq!(rotated.stdout, "value-1b\n");
    assert!(!rotated.stderr.contains(REUSED), "{rotated:?}");
}
