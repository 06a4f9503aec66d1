//! The fault matrix: every run reads two real sources at once, the Doppler stand-in
//! (`doppler:*`) and a second one, and one of them fails in a chosen way. The second source is
//! the real OpenBao server (`vault:secret/...`), or, for the rows faulting AWS, AWS Secrets
//! Manager as the real `moto_server` serves it (`aws-sm:...`, signed with SigV4 and checked by
//! moto's IAM; see `aws_sm.rs`). Faults on Doppler use the stand-in's own fault injection;
//! faults on OpenBao and AWS go through `tests/servers/fault_proxy.py`, one proxy per case,
//! which the run's `VAULT_ADDR` or `AWS_ENDPOINT_URL` names (so priming and the faulted run
//! share one snapshot). The proxy forwards body and headers unchanged, the `Host` header
//! included, which SigV4 signs: moto refuses a rewritten one (`SignatureDoesNotMatch`).
//!
//! Every row runs twice: after a successful run primed the fallback snapshot, and with an empty
//! cache (no snapshot). For every run the same properties are checked:
//!
//! - the exit code: 0 (the child's own) or 125 (secretrun's);
//! - all or nothing: the child (`sh -c 'touch MARKER && exec env'`) either ran and saw every one
//!   of the four expected names with its exact value, or never ran (no marker, empty stdout): a
//!   failure in one source never yields a child with only the other source's values;
//! - no secret value and no credential (token, AWS key id and secret key) on stderr;
//! - the outcome: fresh values, the fallback (a warning naming the failed source, the error and
//!   the snapshot's age), or a specific error naming the failed source;
//! - what happens to the snapshot (kept, or deleted after a 401/403).
//!
//! The single faults already tested per provider (`doppler.rs`, `vault.rs`, `fallback.rs`) are
//! not repeated one by one; what is new is the combination: two sources, a snapshot or none,
//! every property above for every fault. `cargo test --test it faults -- --nocapture` prints
//! the matrix and the concurrency figures as Markdown.
//!
//! The AWS rows assert what the other providers do, not what secretrun did when they were added:
//! a throttling answer and AWS's typed 500 are expected to be served from the snapshot, and a
//! broken 200 to be an `unexpected response`. Rows secretrun does not meet fail the test, and
//! the table marks them "not as specified" with the error it printed (see BENCHMARKS.md,
//! "Reliability").
//!
//! The concurrency test starts its own Doppler stand-in (with a deeper listen backlog), so it
//! can kill it during 200 simultaneous runs without touching the shared one.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use secretrun::providers::retry::RetryPolicy;

use crate::contract::Fixture;
use crate::doppler::stub;
use crate::support::{self, Certificates, Run};

/// Cases run at once: the shared Doppler stand-in has a listen backlog of 5, and the slow rows
/// use a 1 s request timeout that a dropped SYN (1 s retransmission) would eat.
const PARALLEL: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Doppler,
    Vault,
    /// AWS Secrets Manager (moto) behind the proxy, read alongside Doppler.
    Aws,
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Connection refused: the proxy closes its listening socket.
    Down,
    /// Every answer later than the 1 s `--timeout`.
    Slow,
    /// 429 with `Retry-After: 1` on every request.
    RateLimitStorm,
    /// A few 5xx, fewer than the four attempts a request gets.
    BurstRecovers,
    /// 5xx on every request, beyond the retry budget.
    ServerErrorStorm,
    /// AWS's own 5xx on every request: HTTP 500 with a typed JSON body
    /// (`InternalServiceError`), as Secrets Manager answers a failure of its own.
    TypedServerErrorStorm,
    /// AWS JSON-protocol throttling on every request: HTTP 400, `x-amzn-ErrorType:
    /// ThrottlingException` and `{"__type":"ThrottlingException","message":"Rate exceeded"}`.
    Throttled,
    /// The answer's body cut in half (Content-Length of the cut body).
    TruncatedJson,
    /// A 200 whose body is not JSON.
    InvalidJson,
    /// The token is gone from the service (the stand-in's real 401).
    Unauthenticated,
    /// The token was revoked (OpenBao's real 403 for a revoked token).
    Revoked,
    /// HTTPS, with `VAULT_CACERT` naming a CA that did not sign the server's certificate.
    WrongCa,
}

/// What a row must do with a primed snapshot and without one.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Class {
    /// Retryable, still failing after the retries: the fallback when there is a snapshot,
    /// else an error.
    Transient,
    /// Recovered within the retries: fresh values either way.
    Recovers,
    /// Neither transient nor a refusal (a broken answer, TLS): an error; the snapshot is kept
    /// but not used.
    Broken,
    /// A refusal (401, 403): an error, and the snapshot is deleted.
    Definitive,
}

struct Row {
    name: &'static str,
    target: Target,
    fault: Fault,
    class: Class,
    /// Text the error (or the fallback warning) must hold, besides the failed source's spec.
    error: &'static str,
}

const ROWS: &[Row] = &[
    Row {
        name: "provider down (connection refused)",
        target: Target::Vault,
        fault: Fault::Down,
        class: Class::Transient,
        error: "cannot connect",
    },
    Row {
        name: "slow beyond --timeout 1s",
        target: Target::Vault,
        fault: Fault::Slow,
        class: Class::Transient,
        error: "no answer within 1s",
    },
    Row {
        name: "slow beyond --timeout 1s",
        target: Target::Doppler,
        fault: Fault::Slow,
        class: Class::Transient,
        error: "no answer within 1s",
    },
    Row {
        name: "429 storm, Retry-After: 1",
        target: Target::Doppler,
        fault: Fault::RateLimitStorm,
        class: Class::Transient,
        error: "HTTP 429",
    },
    Row {
        name: "429 storm, Retry-After: 1",
        target: Target::Vault,
        fault: Fault::RateLimitStorm,
        class: Class::Transient,
        error: "HTTP 429",
    },
    Row {
        name: "5xx burst within the retry budget",
        target: Target::Vault,
        fault: Fault::BurstRecovers,
        class: Class::Recovers,
        error: "",
    },
    Row {
        name: "5xx burst within the retry budget",
        target: Target::Doppler,
        fault: Fault::BurstRecovers,
        class: Class::Recovers,
        error: "",
    },
    Row {
        name: "5xx beyond the retry budget",
        target: Target::Vault,
        fault: Fault::ServerErrorStorm,
        class: Class::Transient,
        error: "HTTP 502",
    },
    Row {
        name: "truncated JSON body",
        target: Target::Vault,
        fault: Fault::TruncatedJson,
        class: Class::Broken,
        error: "unexpected response",
    },
    Row {
        name: "invalid JSON body (HTML)",
        target: Target::Vault,
        fault: Fault::InvalidJson,
        class: Class::Broken,
        error: "unexpected response",
    },
    Row {
        name: "token deleted: 401",
        target: Target::Doppler,
        fault: Fault::Unauthenticated,
        class: Class::Definitive,
        error: "HTTP 401",
    },
    Row {
        name: "token revoked: 403",
        target: Target::Vault,
        fault: Fault::Revoked,
        class: Class::Definitive,
        error: "HTTP 403",
    },
    Row {
        name: "TLS, wrong CA",
        target: Target::Vault,
        fault: Fault::WrongCa,
        class: Class::Broken,
        error: "TLS failed",
    },
    Row {
        name: "provider down (connection refused)",
        target: Target::Aws,
        fault: Fault::Down,
        class: Class::Transient,
        error: "cannot connect",
    },
    Row {
        name: "slow beyond --timeout 1s",
        target: Target::Aws,
        fault: Fault::Slow,
        class: Class::Transient,
        error: "no answer within 1s",
    },
    Row {
        name: "5xx burst within the retry budget",
        target: Target::Aws,
        fault: Fault::BurstRecovers,
        class: Class::Recovers,
        error: "",
    },
    Row {
        name: "5xx beyond the retry budget",
        target: Target::Aws,
        fault: Fault::ServerErrorStorm,
        class: Class::Transient,
        error: "HTTP 502",
    },
    Row {
        name: "5xx beyond the retry budget, typed (500 InternalServiceError)",
        target: Target::Aws,
        fault: Fault::TypedServerErrorStorm,
        class: Class::Transient,
        error: "InternalServiceError",
    },
    Row {
        name: "throttled (400 ThrottlingException)",
        target: Target::Aws,
        fault: Fault::Throttled,
        class: Class::Transient,
        error: "ThrottlingException",
    },
    Row {
        name: "429 storm, Retry-After: 1",
        target: Target::Aws,
        fault: Fault::RateLimitStorm,
        class: Class::Transient,
        error: "HTTP 429",
    },
    Row {
        name: "truncated JSON body",
        target: Target::Aws,
        fault: Fault::TruncatedJson,
        class: Class::Broken,
        error: "unexpected response",
    },
    Row {
        name: "invalid JSON body (HTML)",
        target: Target::Aws,
        fault: Fault::InvalidJson,
        class: Class::Broken,
        error: "unexpected response",
    },
];

// ---- the fault proxy --------------------------------------------------------------------------

/// One `fault_proxy.py` in front of OpenBao or moto, controlled through its data file.
struct Proxy {
    server: support::StubServer,
    data: Mutex<Value>,
    _dir: tempfile::TempDir,
}

impl Proxy {
    fn start(upstream: &str, tls: Option<&Certificates>) -> Proxy {
        let dir = tempfile::Builder::new()
            .prefix("fault-proxy-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("proxy dir");
        let mut data = json!({"upstream": upstream, "faults": {}});
        if let Some(certs) = tls {
            data["tls"] = json!({"cert": certs.server_cert, "key": certs.server_key});
        }
        let server = support::StubServer::start(dir.path(), "fault_proxy.py", &data);
        Proxy {
            server,
            data: Mutex::new(data),
            _dir: dir,
        }
    }

    fn port(&self) -> u16 {
        self.server.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    fn update(&self, change: impl FnOnce(&mut Value)) {
        let mut data = self.data.lock().unwrap();
        change(&mut data);
        support::write_atomically(&self.server.data_path, &data);
    }

    fn fault(&self, fault: Value) -> String {
        let id = support::unique("fault");
        self.update(|data| data["faults"][id.as_str()] = fault);
        id
    }

    /// How long each AWS SDK call waited after an armed answer with `Retry-After` before its
    /// next attempt, as the proxy saw it.
    fn retry_waits(&self) -> Vec<Duration> {
        let stats = self.server.data_path.with_extension("json.stats");
        let stats: Value = serde_json::from_slice(&std::fs::read(stats).unwrap_or_default())
            .unwrap_or(Value::Null);
        stats["retry_waits"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|wait| wait["waited_ms"].as_u64())
            .map(Duration::from_millis)
            .collect()
    }

    fn fault_hits(&self, id: &str) -> u64 {
        let stats = self.server.data_path.with_extension("json.stats");
        std::fs::read(stats)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|stats| stats["fault_hits"][id].as_u64())
            .unwrap_or(0)
    }

    /// Closes the listening socket and waits until connections are refused.
    fn go_down(&self) {
        self.update(|data| data["down"] = json!(true));
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port())).is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the proxy still accepts connections"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The certificates of the TLS proxy, made once.
fn certificates() -> &'static Certificates {
    static CERTS: OnceLock<Certificates> = OnceLock::new();
    CERTS.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("fault-certs-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("cert dir")
            .keep();
        support::make_certificates(&dir)
    })
}

// ---- OpenBao ----------------------------------------------------------------------------------

/// A variable of the Vault fixture's environment (asking for it starts the shared OpenBao).
fn vault_env(name: &str) -> String {
    crate::vault::fixture()
        .env()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("the Vault fixture sets {name}"))
        .1
}

/// One call to OpenBao with the root token; the JSON answer of a 2xx.
fn bao_api(method: &str, path: &str, body: &Value) -> Value {
    let address = vault_env("VAULT_ADDR");
    let address = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("OpenBao reachable");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.to_string();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nX-Vault-Token: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        vault_env("VAULT_TOKEN"),
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!((200..300).contains(&status), "{method} {path}: {answer}");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// A new token (a child of the root token), so each case can revoke its own.
fn vault_token() -> String {
    bao_api("POST", "/v1/auth/token/create", &json!({"ttl": "1h"}))["auth"]["client_token"]
        .as_str()
        .expect("a client token")
        .to_string()
}

// ---- AWS Secrets Manager (moto) -----------------------------------------------------------------

/// The secret every AWS case reads, seeded once (each boto3 start costs about a second of CPU);
/// the cases fault their own proxies, so sharing the secret shares nothing else.
fn aws_secret() -> &'static (String, Vec<(String, String)>) {
    static SECRET: OnceLock<(String, Vec<(String, String)>)> = OnceLock::new();
    SECRET.get_or_init(|| {
        let canary = support::unique("fault-canary-");
        let values = [
            ("aws_secret", format!("aws-secret-{canary}")),
            ("aws_password", format!("aws-pass-{canary}")),
        ];
        let pairs: Vec<(&str, &str)> = values
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .collect();
        let seeded = crate::aws_sm::fixture().seed("faults", &pairs);
        (seeded.spec, seeded.vars)
    })
}

/// An AWS JSON-protocol error answer of the proxy: `status`, the error type as header and as
/// `__type`, and a message.
fn aws_error(status: u16, kind: &str, message: &str) -> Value {
    json!({
        "status": status,
        "headers": {
            "Content-Type": "application/x-amz-json-1.1",
            "x-amzn-ErrorType": kind,
            "x-amzn-RequestId": "fault-proxy-request",
        },
        "body": json!({"__type": kind, "message": message}).to_string(),
    })
}

// ---- one case ---------------------------------------------------------------------------------

/// The source read alongside Doppler: OpenBao, or AWS Secrets Manager for the AWS rows, always
/// through the case's proxy.
struct Second {
    spec: String,
    /// Its variables of the run's environment, its address being the proxy's.
    env: Vec<(String, String)>,
    /// The OpenBao token of the case (revoked by the 403 row).
    vault_token: Option<String>,
    /// What must never reach stderr besides the values: its token or keys.
    credentials: Vec<String>,
    /// Every name it yields, with its value.
    vars: Vec<(String, String)>,
}

impl Second {
    fn vault(canary: &str, proxy_url: &str) -> Second {
        let vault_values = [
            ("vault_secret", format!("vault-secret-{canary}")),
            ("vault_password", format!("vault-pass-{canary}")),
        ];
        let pairs: Vec<(&str, &str)> = vault_values
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .collect();
        let seeded = crate::vault::fixture().seed("faults", &pairs);
        let token = vault_token();
        Second {
            spec: seeded.spec,
            env: vec![
                ("VAULT_ADDR".into(), proxy_url.to_string()),
                ("VAULT_TOKEN".into(), token.clone()),
            ],
            vault_token: Some(token.clone()),
            credentials: vec![token],
            vars: seeded.vars,
        }
    }

    fn aws(proxy_url: &str) -> Second {
        let (spec, vars) = aws_secret().clone();
        // The fixture's credentials, region and isolation, with the proxy as the endpoint.
        let mut env: Vec<(String, String)> = crate::aws_sm::fixture()
            .env()
            .into_iter()
            .filter(|(name, _)| name != "AWS_ENDPOINT_URL")
            .collect();
        let credentials = env
            .iter()
            .filter(|(name, _)| name == "AWS_ACCESS_KEY_ID" || name == "AWS_SECRET_ACCESS_KEY")
            .map(|(_, value)| value.clone())
            .collect();
        env.push(("AWS_ENDPOINT_URL".into(), proxy_url.to_string()));
        Second {
            spec,
            env,
            vault_token: None,
            credentials,
            vars,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// A successful run wrote the snapshot first.
    Primed,
    /// An empty cache directory: no snapshot.
    Empty,
}

/// What one faulted run did, as the table reports it.
struct Outcome {
    row: &'static Row,
    mode: Mode,
    code: Option<i32>,
    child_started: bool,
    secret_in_stderr: bool,
    outcome: String,
    /// Requests the armed fault answered (or delayed): the attempts a run made.
    faulted_requests: Option<u64>,
    seconds: f64,
    problems: Vec<String>,
}

struct Case {
    row: &'static Row,
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    doppler_token: String,
    second: Second,
    proxy: Proxy,
    /// Every name the child must see, with its value.
    expected: BTreeMap<String, String>,
    tls: bool,
}

const DOPPLER_SPEC: &str = "doppler:*";

impl Case {
    fn new(row: &'static Row) -> Case {
        let canary = support::unique("fault-canary-");
        let doppler_values = [
            ("DP_API_KEY", format!("dp-key-{canary}")),
            ("DP_DB_URL", format!("pg://user:dp-pass-{canary}@db/app")),
        ];
        let pairs: Vec<(&str, &str)> = doppler_values
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let doppler_token = stub().service_token("dev", "dev", &pairs);
        let tls = matches!(row.fault, Fault::WrongCa);
        let upstream = match row.target {
            Target::Aws => crate::aws_sm::moto().endpoint(),
            Target::Doppler | Target::Vault => vault_env("VAULT_ADDR"),
        };
        let proxy = Proxy::start(&upstream, tls.then(certificates));
        let scheme = if tls { "https" } else { "http" };
        let proxy_url = format!("{scheme}://127.0.0.1:{}", proxy.port());
        let second = match row.target {
            Target::Aws => Second::aws(&proxy_url),
            Target::Doppler | Target::Vault => Second::vault(&canary, &proxy_url),
        };
        let mut expected: BTreeMap<String, String> = doppler_values
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        expected.extend(second.vars.iter().cloned());
        Case {
            row,
            dir: support::temp_dir(),
            cache: support::temp_dir(),
            doppler_token,
            second,
            proxy,
            expected,
            tls,
        }
    }

    fn marker(&self) -> PathBuf {
        self.dir.path().join("child-started")
    }

    /// secretrun reading both sources; the child records that it ran and prints its environment.
    fn run(&self, flags: &[&str], ca: Option<&Path>) -> Run {
        let mut command = support::secretrun(self.dir.path());
        command
            .env("DOPPLER_TOKEN", &self.doppler_token)
            .env("DOPPLER_API_HOST", &stub().url)
            .envs(self.second.env.iter().map(|(name, value)| (name, value)))
            .env("XDG_CACHE_HOME", self.cache.path())
            .args(flags)
            .args(["--source", DOPPLER_SPEC, "--source", &self.second.spec])
            .args(["--", "sh", "-c", "touch \"$0\" && exec env"])
            .arg(self.marker());
        if let Some(ca) = ca {
            command.env("VAULT_CACERT", ca);
        }
        support::run(&mut command)
    }

    fn right_ca(&self) -> Option<&'static Path> {
        self.tls.then(|| certificates().ca.as_path())
    }

    fn snapshots(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.cache.path().join("secretrun")) else {
            return Vec::new();
        };
        entries
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "snapshot"))
            .collect()
    }

    /// A fresh run that writes the snapshot.
    fn prime(&self) -> Result<(), String> {
        let run = self.run(&[], self.right_ca());
        let _ = std::fs::remove_file(self.marker());
        if run.code != Some(0) || self.child_env(&run) != self.expected {
            return Err(format!("priming failed: {run:?}"));
        }
        if self.snapshots().len() != 1 {
            return Err(format!("priming wrote no snapshot: {run:?}"));
        }
        Ok(())
    }

    fn child_env(&self, run: &Run) -> BTreeMap<String, String> {
        run.stdout
            .lines()
            .filter_map(|line| line.split_once('='))
            .filter(|(name, _)| self.expected.contains_key(*name))
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    /// Arms the row's fault; returns which server counts its hits, and its id.
    fn arm(&self) -> Option<(Target, String)> {
        let token = &self.doppler_token;
        let doppler = |fault: Value| Some((Target::Doppler, stub().fault(token, fault)));
        let vault = |fault: Value| Some((Target::Vault, self.proxy.fault(fault)));
        let aws = |fault: Value| Some((Target::Aws, self.proxy.fault(fault)));
        match (self.row.target, self.row.fault) {
            (Target::Vault | Target::Aws, Fault::Down) => {
                self.proxy.go_down();
                None
            }
            (Target::Vault, Fault::Slow) => vault(json!({"delay_ms": 4000})),
            (Target::Aws, Fault::Slow) => aws(json!({"delay_ms": 4000})),
            (Target::Aws, Fault::BurstRecovers) => aws(json!({"status": 503, "count": 2})),
            (Target::Aws, Fault::ServerErrorStorm) => aws(json!({"status": 502})),
            (Target::Aws, Fault::TypedServerErrorStorm) => aws(aws_error(
                500,
                "InternalServiceError",
                "An error occurred on the server side.",
            )),
            (Target::Aws, Fault::Throttled) => {
                aws(aws_error(400, "ThrottlingException", "Rate exceeded"))
            }
            // Untyped (the proxy's own JSON body): a 429 is throttling whatever it says.
            (Target::Aws, Fault::RateLimitStorm) => aws(json!({"status": 429, "retry_after": 1})),
            (Target::Aws, Fault::TruncatedJson) => aws(json!({"truncate": true})),
            (Target::Aws, Fault::InvalidJson) => aws(json!({"invalid_json": true})),
            (Target::Doppler, Fault::Slow) => doppler(json!({"delay_ms": 4000})),
            (Target::Vault, Fault::RateLimitStorm) => {
                vault(json!({"status": 429, "retry_after": 1}))
            }
            (Target::Doppler, Fault::RateLimitStorm) => {
                doppler(json!({"status": 429, "retry_after": 1}))
            }
            (Target::Vault, Fault::BurstRecovers) => vault(json!({"status": 503, "count": 2})),
            (Target::Doppler, Fault::BurstRecovers) => doppler(json!({"status": 500, "count": 3})),
            (Target::Vault, Fault::ServerErrorStorm) => vault(json!({"status": 502})),
            (Target::Vault, Fault::TruncatedJson) => vault(json!({"truncate": true})),
            (Target::Vault, Fault::InvalidJson) => vault(json!({"invalid_json": true})),
            (Target::Doppler, Fault::Unauthenticated) => {
                let token = token.clone();
                stub().update(|data| {
                    data["tokens"].as_object_mut().unwrap().remove(&token);
                });
                None
            }
            (Target::Vault, Fault::Revoked) => {
                bao_api(
                    "POST",
                    "/v1/auth/token/revoke",
                    &json!({"token": self.second.vault_token}),
                );
                None
            }
            (Target::Vault, Fault::WrongCa) => None,
            (target, fault) => panic!("no {fault:?} for {target:?}"),
        }
    }

    fn target_spec(&self) -> &str {
        match self.row.target {
            Target::Doppler => DOPPLER_SPEC,
            Target::Vault | Target::Aws => &self.second.spec,
        }
    }

    fn faulted_run(&self) -> Run {
        match self.row.fault {
            Fault::Slow => self.run(&["--timeout", "1s"], None),
            Fault::WrongCa => self.run(&[], Some(&certificates().other_ca)),
            _ => self.run(&[], None),
        }
    }

    /// Runs the case and checks every property; problems are collected, not panicked on, so
    /// the matrix is reported whole.
    fn check(self, mode: Mode) -> Outcome {
        let mut problems = Vec::new();
        if mode == Mode::Primed {
            if let Err(problem) = self.prime() {
                problems.push(problem);
            }
        }
        let armed = self.arm();
        let started = Instant::now();
        let run = self.faulted_run();
        let seconds = started.elapsed().as_secs_f64();
        let child_started = self.marker().exists();
        let secret_in_stderr = self
            .expected
            .values()
            .any(|value| run.stderr.contains(value.as_str()))
            || run.stderr.contains(&self.doppler_token)
            || self
                .second
                .credentials
                .iter()
                .any(|credential| run.stderr.contains(credential.as_str()));
        let mut problem = |text: String| problems.push(format!("{text}: {run:?}"));

        // All or nothing.
        let env = self.child_env(&run);
        if child_started {
            if env != self.expected {
                problem(format!("a partial environment: {env:?}"));
            }
        } else if !run.stdout.is_empty() {
            problem("output without a child".into());
        }
        if secret_in_stderr {
            problem("a secret or credential on stderr".into());
        }

        let fallback_used = run.stderr.contains("last-known-good");
        // secretrun's own error line, the failed source's spec shortened (the table reports
        // what happened when it is not what should have).
        let error_line = run
            .stderr
            .lines()
            .find_map(|line| line.strip_prefix("secretrun: error: "))
            .map(|line| line.replace(self.target_spec(), "SOURCE"))
            .unwrap_or_default();
        let success = self.row.class == Class::Recovers
            || (self.row.class == Class::Transient && mode == Mode::Primed);
        let outcome = if success {
            if run.code != Some(0) || !child_started {
                problem("expected the child to run".into());
            }
            if fallback_used {
                let named = run.stderr.lines().any(|line| {
                    line.contains("WARN")
                        && line.contains(self.target_spec())
                        && line.contains(self.row.error)
                        && line.contains("last-known-good")
                        && line.contains(" old")
                });
                if !named {
                    problem("the fallback warning names no source, error or age".into());
                }
                // Only the failed source is served from the snapshot.
                let other = match self.row.target {
                    Target::Doppler => self.second.spec.as_str(),
                    Target::Vault | Target::Aws => DOPPLER_SPEC,
                };
                if run
                    .stderr
                    .lines()
                    .any(|line| line.contains("last-known-good") && line.contains(other))
                {
                    problem("the healthy source was served from the snapshot".into());
                }
                if self.row.class == Class::Recovers {
                    problem("the fallback was used although the retries succeed".into());
                }
                format!(
                    "fallback: this source from the snapshot (warning: source, `{}`, age), the other fresh",
                    self.row.error
                )
            } else if child_started {
                if self.row.class == Class::Transient {
                    problem("expected the fallback".into());
                }
                "fresh values after the retries".to_string()
            } else {
                // Reported as it happened (the problems above fail the test).
                if self.row.class == Class::Transient {
                    problem("expected the fallback".into());
                }
                let kept = match (mode, self.snapshots().len()) {
                    (Mode::Primed, 1) => "; snapshot kept, not used",
                    (Mode::Primed, _) => "; snapshot lost",
                    (Mode::Empty, _) => "",
                };
                format!("**not as specified**: error `{error_line}`{kept}")
            }
        } else {
            if run.code != Some(125) || child_started {
                problem("expected exit 125 before the child".into());
            }
            let named = run
                .stderr
                .lines()
                .any(|line| line.contains(self.target_spec()) && line.contains(self.row.error));
            if !named {
                problem(format!(
                    "the error does not name the source and `{}`",
                    self.row.error
                ));
            }
            if fallback_used {
                problem("the fallback was used".into());
            }
            let mut text = if named {
                format!("error naming the source: `{}`", self.row.error)
            } else {
                format!("**not as specified**: error `{error_line}`")
            };
            match (mode, self.row.class) {
                (Mode::Primed, Class::Definitive) => {
                    if !run.stderr.contains("deleted the fallback snapshot")
                        || !self.snapshots().is_empty()
                    {
                        problem("the snapshot outlived a refusal".into());
                    }
                    text.push_str("; snapshot deleted");
                }
                (Mode::Primed, _) => {
                    if self.snapshots().len() != 1 {
                        problem("the snapshot was lost".into());
                    }
                    text.push_str("; snapshot kept, not used");
                }
                (Mode::Empty, Class::Transient) => text.push_str("; no snapshot to fall back on"),
                (Mode::Empty, _) => {}
            }
            text
        };
        let faulted_requests = armed.as_ref().map(|(target, id)| {
            let hits = match target {
                Target::Doppler => stub().fault_hits(id),
                Target::Vault | Target::Aws => self.proxy.fault_hits(id),
            };
            if hits == 0 {
                problem("the fault was never hit".into());
            }
            hits
        });
        if let (Target::Aws, Fault::RateLimitStorm) = (self.row.target, self.row.fault) {
            // The SDK's own backoff would be under 0.4 s: each retry waited out `Retry-After:
            // 1`, and no call went beyond its attempts (no storm).
            let waits = self.proxy.retry_waits();
            if waits.is_empty() || waits.iter().any(|wait| *wait < Duration::from_secs(1)) {
                problem(format!("Retry-After: 1 not waited out: {waits:?}"));
            }
            let attempts = u64::from(RetryPolicy::default().max_attempts);
            if faulted_requests.is_some_and(|hits| hits > attempts) {
                problem(format!("more than the {attempts} attempts of a request"));
            }
        }
        Outcome {
            row: self.row,
            mode,
            code: run.code,
            child_started,
            secret_in_stderr,
            outcome,
            faulted_requests,
            seconds,
            problems,
        }
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

#[test]
fn fault_matrix_two_sources_with_and_without_a_snapshot() {
    let started = Instant::now();
    let cases: Vec<(usize, Mode)> = (0..ROWS.len())
        .flat_map(|index| [(index, Mode::Primed), (index, Mode::Empty)])
        .collect();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| {
                while let Some(&(index, mode)) = cases.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let outcome = Case::new(&ROWS[index]).check(mode);
                    results.lock().unwrap().push((index, outcome));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(index, outcome)| (*index, outcome.mode == Mode::Empty));

    println!(
        "\n| fault | on | snapshot | outcome | exit | child started? | secret in stderr? | \
         faulted requests | run |"
    );
    println!("|---|---|---|---|---|---|---|---:|---|");
    let mut problems = Vec::new();
    for (_, outcome) in &results {
        let target = match outcome.row.target {
            Target::Doppler => "Doppler stand-in",
            Target::Vault => "OpenBao via proxy",
            Target::Aws => "AWS SM (moto) via proxy",
        };
        let mode = match outcome.mode {
            Mode::Primed => "primed",
            Mode::Empty => "none",
        };
        let code = outcome
            .code
            .map_or_else(|| "signal".to_string(), |code| code.to_string());
        let requests = outcome
            .faulted_requests
            .map_or_else(|| "–".to_string(), |hits| hits.to_string());
        println!(
            "| {} | {target} | {mode} | {} | {code} | {} | {} | {requests} | {:.1} s |",
            outcome.row.name,
            outcome.outcome,
            yes_no(outcome.child_started),
            yes_no(outcome.secret_in_stderr),
            outcome.seconds,
        );
        for problem in &outcome.problems {
            problems.push(format!(
                "{} on {target}, snapshot {mode}: {problem}",
                outcome.row.name
            ));
        }
    }
    println!(
        "\n{} cases in {:.1} s\n",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

// ---- concurrency ------------------------------------------------------------------------------

/// A Doppler stand-in of its own (the shared one must not die), with a listen backlog of 512
/// instead of socketserver's 5, as `benches/doppler_stub_big_backlog.py` does for the
/// benchmark: 200 connections at once would otherwise wait out SYN retransmissions.
struct OwnStub {
    url: String,
    process: std::process::Child,
    _stdout: std::process::ChildStdout,
}

impl OwnStub {
    fn start(dir: &Path, data: &Value) -> OwnStub {
        let data_path = dir.join("data.json");
        support::write_atomically(&data_path, data);
        let stub = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/doppler_stub.py");
        let wrapper = "import runpy, sys\n\
                       from http.server import ThreadingHTTPServer\n\
                       ThreadingHTTPServer.request_queue_size = 512\n\
                       sys.argv = sys.argv[1:]\n\
                       runpy.run_path(sys.argv[0], run_name='__main__')\n";
        let mut command = Command::new("python3");
        command
            .args(["-c", wrapper])
            .arg(&stub)
            .arg("--data")
            .arg(&data_path)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("stub.log")).unwrap());
        let mut process = support::spawn_server(command);
        let mut stdout = process.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(&mut stdout).read_line(&mut line).unwrap();
        let address = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the stand-in did not start: {line:?}"))
            .to_string();
        OwnStub {
            url: format!("http://{address}"),
            process,
            _stdout: stdout,
        }
    }

    fn kill(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[test]
fn two_hundred_runs_share_one_snapshot_while_the_provider_dies() {
    const RUNS: usize = 200;
    const KILL_AFTER: usize = 50;
    let work = support::temp_dir();
    let cache = support::temp_dir();
    let canary = support::unique("storm-");
    let token = "dp.st.dev.storm-token";
    let secrets: BTreeMap<String, String> = (1..=5)
        .map(|n| (format!("STORM_{n}"), format!("storm-value-{n}-{canary}")))
        .collect();
    let data = json!({
        "tokens": {token: {"project": "storm", "config": "dev", "secrets": secrets}},
        "faults": {},
    });
    let mut server = OwnStub::start(work.path(), &data);
    let url = server.url.clone();

    let command = |index: usize, flags: &[&str]| {
        let mut command = support::secretrun(work.path());
        command
            .env("DOPPLER_TOKEN", token)
            .env("DOPPLER_API_HOST", &url)
            .env("XDG_CACHE_HOME", cache.path())
            .args(flags)
            .args(["--source", "doppler:*"])
            .args(["--", "sh", "-c", "touch \"$0\" && exec env"])
            .arg(work.path().join(format!("started-{index}")));
        command
    };
    let child_env = |stdout: &str| -> BTreeMap<String, String> {
        stdout
            .lines()
            .filter_map(|line| line.split_once('='))
            .filter(|(name, _)| secrets.contains_key(*name))
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    };

    // Prime.
    let primed = support::run(&mut command(RUNS, &[]));
    assert_eq!(primed.code, Some(0), "{primed:?}");
    assert_eq!(child_env(&primed.stdout), secrets);

    // 200 at once: each is spawned as `sh`, held at the open of a FIFO (no CPU used) until all
    // are there, then every one execs secretrun at the same moment. Output goes to files (200
    // pipes could fill up unread).
    let gate = work.path().join("gate");
    let made = Command::new("mkfifo")
        .arg(&gate)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let mut children: Vec<Option<std::process::Child>> = (0..RUNS)
        .map(|index| {
            let out = std::fs::File::create(work.path().join(format!("out-{index}"))).unwrap();
            let err = std::fs::File::create(work.path().join(format!("err-{index}"))).unwrap();
            let run = command(index, &[]);
            let mut gated = Command::new("sh");
            gated
                .env_clear()
                .envs(
                    run.get_envs()
                        .filter_map(|(name, value)| Some((name, value?))),
                )
                .current_dir(work.path())
                .args(["-c", ": < \"$0\" && exec \"$@\""])
                .arg(&gate)
                .arg(run.get_program())
                .args(run.get_args())
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err);
            Some(gated.spawn().expect("sh starts"))
        })
        .collect();
    // Opening the write end releases every reader; it stays open so none can miss it.
    let started = Instant::now();
    let _gate = std::fs::OpenOptions::new()
        .write(true)
        .open(&gate)
        .expect("gate opens");
    let mut codes: Vec<Option<i32>> = vec![None; RUNS];
    let mut finished = 0;
    let mut killed_at = None;
    while finished < RUNS {
        for (index, slot) in children.iter_mut().enumerate() {
            if let Some(child) = slot {
                if let Some(status) = child.try_wait().unwrap() {
                    codes[index] = status.code();
                    *slot = None;
                    finished += 1;
                }
            }
        }
        if finished >= KILL_AFTER && killed_at.is_none() {
            server.kill();
            killed_at = Some((finished, started.elapsed()));
        }
        if started.elapsed() > Duration::from_secs(240) {
            for child in children.iter_mut().flatten() {
                let _ = child.kill();
            }
            panic!("{} runs still going after 240 s", RUNS - finished);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = started.elapsed();

    let (mut fresh, mut fallback, mut failed) = (0, 0, 0);
    let mut problems = Vec::new();
    for (index, code) in codes.iter().enumerate() {
        let stdout = std::fs::read_to_string(work.path().join(format!("out-{index}"))).unwrap();
        let stderr = std::fs::read_to_string(work.path().join(format!("err-{index}"))).unwrap();
        let child_started = work.path().join(format!("started-{index}")).exists();
        let mut problem = |text: &str| {
            problems.push(format!(
                "run {index}: {text}: exit {code:?}\n{stdout}\n{stderr}"
            ))
        };
        if secrets
            .values()
            .any(|value| stderr.contains(value.as_str()))
            || stderr.contains(token)
        {
            problem("a secret on stderr");
        }
        if stderr.contains("ignoring the fallback snapshot")
            || stderr.contains("cannot write the fallback snapshot")
        {
            problem("the snapshot was unreadable or unwritable");
        }
        match code {
            Some(0) => {
                if !child_started || child_env(&stdout) != secrets {
                    problem("exit 0 without the complete set");
                }
                if stderr.contains("last-known-good") {
                    fallback += 1;
                } else {
                    fresh += 1;
                }
            }
            Some(125) => {
                failed += 1;
                if child_started || !stdout.is_empty() {
                    problem("the child ran although secretrun failed");
                }
                if !stderr.contains("doppler:*") {
                    problem("the error does not name the source");
                }
            }
            _ => problem("neither 0 nor 125"),
        }
    }

    // The snapshot came through whole: one file, no temp files, and it decrypts.
    let names: Vec<String> = std::fs::read_dir(cache.path().join("secretrun"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let leftovers = names.iter().filter(|n| n.starts_with(".snapshot-")).count();
    let snapshots = names.iter().filter(|n| n.ends_with(".snapshot")).count();
    let offline = support::run(&mut command(RUNS + 1, &["--fallback-only"]));
    let (killed_after, killed_time) = killed_at.expect("the provider was killed");
    println!(
        "\n{RUNS} runs sharing one snapshot, provider killed after {killed_after} had finished \
         ({:.1} s in): {fresh} fresh, {fallback} from the fallback, {failed} failed cleanly; \
         all done in {:.1} s; {snapshots} snapshot file(s), {leftovers} \
         temp file(s) left; --fallback-only afterwards: exit {:?}\n",
        killed_time.as_secs_f64(),
        wall.as_secs_f64(),
        offline.code,
    );
    assert!(problems.is_empty(), "{}", problems.join("\n---\n"));
    assert_eq!(fresh + fallback + failed, RUNS);
    assert_eq!(snapshots, 1, "{names:?}");
    assert_eq!(leftovers, 0, "{names:?}");
    assert_eq!(offline.code, Some(0), "{offline:?}");
    assert_eq!(child_env(&offline.stdout), secrets, "{offline:?}");
}

// ---- answers too large to hold ----------------------------------------------------------------

/// How a store sends an answer larger than secretrun holds (32 MiB).
#[derive(Clone, Copy, Debug)]
enum Oversized {
    /// `Content-Length: 1 GiB`, then the body.
    Announced,
    /// A chunked body without end (up to 1 GiB).
    Endless,
}

/// A store on 127.0.0.1 that answers requests whose path starts with `huge_path` with an
/// oversized JSON body, and any other with `other` (HTTP 200, JSON). Returns its URL, the
/// requests for `huge_path` and the body bytes sent to them.
fn oversized_store(
    huge_path: &'static str,
    other: &'static str,
    how: Oversized,
) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (requests, sent) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counters = (requests.clone(), sent.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (requests, sent) = counters.clone();
            std::thread::spawn(move || {
                answer_oversized(stream, huge_path, other, how, &requests, &sent)
            });
        }
    });
    (url, requests, sent)
}

fn answer_oversized(
    stream: TcpStream,
    huge_path: &str,
    other: &str,
    how: Oversized,
    requests: &AtomicUsize,
    sent: &AtomicUsize,
) {
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|read| read > 0) && line != "\r\n" {
        head.push(std::mem::take(&mut line));
    }
    let Some(path) = head.first().and_then(|line| line.split(' ').nth(1)) else {
        return;
    };
    let length: usize = head
        .iter()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let _ = (&mut reader)
        .take(length as u64)
        .read_to_end(&mut Vec::new());
    let mut stream = reader.into_inner();
    if !path.starts_with(huge_path) {
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{other}",
            other.len()
        );
        return;
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let gigabyte = 1usize << 30;
    let chunk = vec![b'x'; 64 * 1024];
    let (head, opening, framed) = match how {
        Oversized::Announced => (
            format!("Content-Length: {gigabyte}"),
            b"{\"A\":\"".to_vec(),
            chunk,
        ),
        Oversized::Endless => (
            "Transfer-Encoding: chunked".to_string(),
            b"6\r\n{\"A\":\"\r\n".to_vec(),
            [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat(),
        ),
    };
    let head =
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n{head}\r\n\r\n");
    if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&opening).is_err() {
        return;
    }
    while sent.load(Ordering::Relaxed) < gigabyte && stream.write_all(&framed).is_ok() {
        sent.fetch_add(64 * 1024, Ordering::Relaxed);
    }
}

/// The source's error names it and the cap; the store was asked once and sent at most the cap
/// and what the socket buffers held (never the whole body), and no child ran.
fn assert_refused_as_too_large(
    run: &Run,
    spec: &str,
    how: Oversized,
    requests: &AtomicUsize,
    sent: &AtomicUsize,
) {
    assert_eq!(run.code, Some(125), "{how:?}: {run:?}");
    assert!(run.stdout.is_empty(), "{how:?}: {run:?}");
    assert!(
        run.stderr.lines().any(|line| line.contains(spec)
            && line.contains("unexpected response")
            && line.contains("larger than 32 MiB")),
        "{how:?}: {run:?}"
    );
    // Not asked again: the answer would be as large.
    assert_eq!(requests.load(Ordering::SeqCst), 1, "{how:?}: {run:?}");
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent < 48 << 20, "{how:?}: {sent} bytes sent");
}

#[test]
fn an_oversized_aws_answer_is_refused_naming_the_source() {
    for spec in ["aws-sm:app/huge", "aws-ssm:/app/huge"] {
        for how in [Oversized::Announced, Oversized::Endless] {
            // Every AWS JSON request is a POST to `/`: the whole store is oversized.
            let (url, requests, sent) = oversized_store("/", "", how);
            let dir = support::temp_dir();
            let run = support::run(
                support::secretrun(dir.path())
                    .envs([
                        ("AWS_ACCESS_KEY_ID", "testing"),
                        ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_REGION", "us-east-1"),
                        ("AWS_EC2_METADATA_DISABLED", "true"),
                        ("AWS_CONFIG_FILE", "/nonexistent"),
                        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
                        ("AWS_ENDPOINT_URL", url.as_str()),
                    ])
                    .args(["--no-fallback", "-s", spec, "--", "env"]),
            );
            assert_refused_as_too_large(&run, spec, how, &requests, &sent);
        }
    }
}

#[test]
fn an_oversized_vault_answer_is_refused_naming_the_source() {
    const KV2_MOUNT: &str = r#"{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}"#;
    let spec = "vault:secret/huge";
    for how in [Oversized::Announced, Oversized::Endless] {
        // The mount lookup is answered; the secret's read is oversized.
        let (url, requests, sent) = oversized_store("/v1/secret/", KV2_MOUNT, how);
        let dir = support::temp_dir();
        let run = support::run(
            support::secretrun(dir.path())
                .envs([("VAULT_ADDR", url.as_str()), ("VAULT_TOKEN", "test-token")])
                .args(["--no-fallback", "-s", spec, "--", "env"]),
        );
        assert_refused_as_too_large(&run, spec, how, &requests, &sent);
    }
}

/// AWS over HTTPS: the SDK's HTTPS client, built on the first `https://` request, trusts the
/// system bundle (`SSL_CERT_FILE` here). The right CA reads the secret; another CA fails at the
/// handshake, before the child starts.
#[test]
fn aws_over_https_trusts_the_system_bundle() {
    let proxy = Proxy::start(&crate::aws_sm::moto().endpoint(), Some(certificates()));
    let second = Second::aws(&format!("https://127.0.0.1:{}", proxy.port()));
    let run_trusting = |ca: &Path| {
        let (dir, cache) = (support::temp_dir(), support::temp_dir());
        support::run(
            support::secretrun(dir.path())
                .envs(second.env.iter().map(|(name, value)| (name, value)))
                .env("SSL_CERT_FILE", ca)
                .env("XDG_CACHE_HOME", cache.path())
                .args(["--no-fallback", "--source", &second.spec, "--", "env"]),
        )
    };

    let run = run_trusting(&certificates().ca);
    assert_eq!(run.code, Some(0), "{run:?}");
    for (name, value) in &second.vars {
        assert!(
            run.stdout
                .lines()
                .any(|line| line == format!("{name}={value}")),
            "{name} over HTTPS: {run:?}"
        );
    }

    let run = run_trusting(&certificates().other_ca);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr.contains(&second.spec) && run.stderr.contains("certificate"),
        "a certificate error naming the source: {run:?}"
    );
}
