//! A fleet starting at once, the small version of `scripts/bench`'s: 50 secretrun processes
//! launched together against a real OpenBao with a rate-limit quota, and against moto behind
//! the fault proxy answering a share of the requests with 429 and `Retry-After`. The driver is
//! `benches/fleet.py` (shared with the benchmark, which runs 500); these tests assert what it
//! found, never how long it took: every child got every secret, the requests stayed bounded (no
//! storm), and the shared fallback snapshot came through whole.
//!
//! Against moto, the AWS SDK's calls are followed at the proxy: each refused call must wait
//! out the `Retry-After` it was told before its next attempt.
//!
//! And one run against an OpenBao quota whose `Retry-After` is at least a second: secretrun
//! waits at least that long before asking again.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use secretrun::providers::retry::RetryPolicy;

use crate::support;
use crate::vault::bao_bin;

const PROCESSES: u64 = 50;
/// A KV v2 read: the mount's options, then the secret.
const REQUESTS_PER_READ: u64 = 2;

fn fleet(args: &[&str]) -> Value {
    let out = support::temp_dir();
    let json_path = out.path().join("fleet.json");
    let run = support::run(
        Command::new(support::venv_bin("python"))
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fleet.py"))
            .args(["--secretrun", support::bin()])
            .args(["--processes", &PROCESSES.to_string()])
            .args(args)
            .arg("--json")
            .arg(&json_path),
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let figures: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap())
        .unwrap_or_else(|error| panic!("{error}: {run:?}"));
    println!("{figures:#}");
    figures
}

/// What every fleet must show, whatever the server.
fn assert_every_child_got_everything(figures: &Value) {
    assert_eq!(figures["complete"], json!(PROCESSES), "{figures:#}");
    assert_eq!(figures["failed"], json!(0), "{figures:#}");
    assert_eq!(figures["secret_on_stderr"], json!(0), "{figures:#}");
    assert_eq!(figures["snapshot_files"], json!(1), "{figures:#}");
    assert_eq!(figures["snapshot_temp_files"], json!(0), "{figures:#}");
    assert_eq!(
        figures["fallback_only_reads_all"],
        json!(true),
        "{figures:#}"
    );
}

fn answers(figures: &Value, status: &str) -> u64 {
    figures["answers_by_status"][status].as_u64().unwrap_or(0)
}

#[test]
fn fifty_processes_against_an_openbao_rate_limit_quota() {
    // 5 requests per second for 50 processes that need 2 each: the fleet needs 20 s of quota,
    // however slowly a loaded machine launches it, so many are refused at first.
    let figures = fleet(&["--scenario", "vault", "--quota", "5"]);
    assert_every_child_got_everything(&figures);
    let refused = answers(&figures, "429");
    assert!(refused > 0, "the quota never refused: {figures:#}");
    // Every request that did not succeed (refused, or given up on after --timeout on a loaded
    // machine) was retried once, as logged, unless it was its source's last attempt, which
    // sends that process to the snapshot; nothing else was sent: no request went out that the
    // fleet did not need or that a retry did not account for.
    let requests = figures["requests"].as_u64().unwrap();
    let unsuccessful = requests - answers(&figures, "200");
    let retried = figures["retries_logged"].as_u64().unwrap();
    let from_snapshot = figures["from_snapshot"].as_u64().unwrap();
    assert!(retried <= unsuccessful, "{figures:#}");
    assert!(unsuccessful - retried <= from_snapshot, "{figures:#}");
    // No storm: each of a process's two requests (the mount, the secret) is refused at most
    // its 429 attempt budget, after a jittered backoff each time. How many of those attempts
    // a fleet uses depends on how tightly the machine launched it (a quiet machine starts all
    // 50 within a second, so most hear the quota several times), but never more: an immediate
    // retry of OpenBao's `Retry-After: 0` would be refused hundreds of times per process.
    let budget = RetryPolicy::default().max_rate_limited_attempts as u64;
    assert!(
        refused <= PROCESSES * REQUESTS_PER_READ * budget,
        "{refused} refusals: {figures:#}"
    );
}

#[test]
fn fifty_processes_against_moto_answering_a_quarter_429() {
    let figures = fleet(&["--scenario", "aws", "--share", "0.25"]);
    assert_every_child_got_everything(&figures);
    let requests = figures["requests"].as_u64().unwrap();
    let refused = answers(&figures, "429");
    // Every fourth request is refused, and each refused one is asked again, within the
    // SDK's attempts: one answered request per process, at most its four attempts in all.
    // No call is refused more than twice (the proxy's `per_call`): a fourth refusal in a row
    // would send a process to the snapshot by design, and which process draws the refused
    // slots is up to the scheduler.
    assert!(refused > 0, "nothing was refused: {figures:#}");
    assert_eq!(answers(&figures, "200"), PROCESSES, "{figures:#}");
    assert!(requests <= 4 * PROCESSES, "{figures:#}");
    // Each refused call waited out its `Retry-After: 1` before asking again (the SDK's own
    // backoff would be under 0.4 s), the waits spread by jitter rather than all at once.
    let waits: Vec<u64> = figures["retry_waits_ms"]
        .as_array()
        .expect("the proxy's retry waits")
        .iter()
        .map(|wait| wait.as_u64().unwrap())
        .collect();
    assert!(
        !waits.is_empty(),
        "no refused call was retried: {figures:#}"
    );
    assert!(waits.iter().all(|wait| *wait >= 1000), "{figures:#}");
    if waits.len() >= 8 {
        let spread = waits.iter().max().unwrap() - waits.iter().min().unwrap();
        assert!(spread >= 100, "the waits were not spread: {figures:#}");
    }
}

/// A real OpenBao quota of one request per 6 s window, its rate-limit headers on: a KV v2 read
/// takes two requests (the mount, the secret), so the second is refused with `Retry-After` of
/// about 5 seconds (whole seconds to the window's end, rounded down), and secretrun's retry
/// must wait at least that (its backoff alone would be under 0.2 s). A refusal later in the
/// same window says `Retry-After: 0` and gets the backoff.
#[test]
fn an_openbao_retry_after_is_waited_out() {
    let port = support::free_port();
    let address = format!("http://127.0.0.1:{port}");
    let mut bao = support::spawn_server({
        let mut command = Command::new(bao_bin());
        command
            .args([
                "server",
                "-dev",
                "-dev-no-store-token",
                "-dev-root-token-id=root-token",
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    });
    // OpenBao's own CLI, as an operator would set the quota.
    let bao_cli = |args: &[&str]| {
        support::run(
            Command::new(bao_bin())
                .args(args)
                .env("VAULT_ADDR", &address)
                .env("VAULT_TOKEN", "root-token"),
        )
    };
    let ready = (0..300).any(|_| {
        let up = bao_cli(&["status"]).code == Some(0);
        if !up {
            std::thread::sleep(Duration::from_millis(50));
        }
        up
    });
    assert!(ready, "OpenBao did not start");
    for args in [
        &["kv", "put", "secret/limited", "LIMITED_ONE=value-one"][..],
        &[
            "write",
            "sys/quotas/config",
            "enable_rate_limit_response_headers=true",
        ],
        &[
            "write",
            "sys/quotas/rate-limit/one-per-window",
            "rate=1",
            "interval=6s",
        ],
    ] {
        let run = bao_cli(args);
        assert_eq!(run.code, Some(0), "bao {args:?}: {run:?}");
    }

    let dir = support::temp_dir();
    let run = support::run(
        support::secretrun_with(
            dir.path(),
            &[("VAULT_ADDR", &address), ("VAULT_TOKEN", "root-token")],
        )
        .args([
            "--no-fallback",
            "-s",
            "vault:secret/limited",
            "--",
            "printenv",
            "LIMITED_ONE",
        ]),
    );
    let _ = bao.kill();
    let _ = bao.wait();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "value-one\n");
    let delays: Vec<u64> = run
        .stderr
        .lines()
        .filter(|line| line.contains("retrying") && line.contains("HTTP 429"))
        .filter_map(|line| line.split("delay_ms=").nth(1))
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .filter_map(|digits| digits.parse().ok())
        .collect();
    assert!(!delays.is_empty(), "no 429 was retried: {run:?}");
    assert!(
        delays[0] >= 1000,
        "a retry sooner than OpenBao's Retry-After: {delays:?}: {run:?}"
    );
}
