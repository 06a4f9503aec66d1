//! `--watch`: real secretrun processes supervising a shell script, against the Doppler
//! stand-in, whose secrets a test changes while the command runs.
//!
//! The script appends what it sees (its PID and the value, or the mounted file) to a log file
//! that the test polls; every wait is bounded by `PATIENCE`, never timed more closely.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use serde_json::json;

use crate::doppler::stub;
use crate::signals::{capture, lines, read, secretrun, Group, PATIENCE};
use crate::support;

/// A command whose lines say when it starts (`start PID VALUE`) and stops (`stop PID`, on TERM).
const PRINTS_V: &str = r#"echo "start $$ $V" >> log
trap 'echo "stop $$" >> log; exit 0' TERM
while :; do sleep 0.05; done"#;

/// One test's token (reading V), working directory and cache.
struct Case {
    token: String,
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Case {
    fn new(value: &str) -> Case {
        Case {
            token: stub().service_token("dev", "dev", &[("V", value)]),
            dir: support::temp_dir(),
            cache: support::temp_dir(),
        }
    }

    fn set(&self, value: &str) {
        stub().update(|data| data["tokens"][self.token.as_str()]["secrets"]["V"] = json!(value));
    }

    /// secretrun with `flags`, reading `doppler:*`, running `script` with `sh -c`.
    fn start(&self, flags: &[&str], script: &str) -> (Group, PathBuf) {
        let mut args = vec!["--source", "doppler:*"];
        args.extend_from_slice(flags);
        args.extend(["--command", script]);
        let mut command = secretrun(self.dir.path(), &args);
        command
            .env("DOPPLER_TOKEN", &self.token)
            .env("DOPPLER_API_HOST", &stub().url)
            .env("XDG_CACHE_HOME", self.cache.path());
        let (_, stderr) = capture(&mut command, self.dir.path());
        (
            Group::spawn(command, "secretrun --watch", Some(stderr.clone())),
            stderr,
        )
    }

    fn log(&self) -> Vec<String> {
        lines(&self.dir.path().join("log"))
    }

    /// Waits until the log has a line that `line` accepts.
    fn await_line(&self, group: &mut Group, what: &str, line: impl Fn(&str) -> bool) {
        group.await_until(what, || self.log().iter().any(|l| line(l)).then_some(()));
    }
}

fn starts(log: &[String]) -> Vec<&str> {
    log.iter()
        .filter(|line| line.starts_with("start "))
        .map(String::as_str)
        .collect()
}

#[test]
fn a_changed_value_restarts_the_command_with_it() {
    let case = Case::new("first-value");
    let (mut group, stderr) = case.start(&["--watch=1s"], PRINTS_V);
    case.await_line(&mut group, "the first start", |l| {
        l.ends_with(" first-value")
    });
    case.set("second-value");
    case.await_line(&mut group, "the restart", |l| l.ends_with(" second-value"));

    kill(group.pid(), Signal::SIGTERM).unwrap();
    let (status, _) = group.wait(PATIENCE);
    assert_eq!(status.code(), Some(0), "{}", read(&stderr));
    let log = case.log();
    let starts = starts(&log);
    assert_eq!(starts.len(), 2, "{log:?}");
    // The first command was stopped with TERM before the second started, then the second
    // got the TERM sent to secretrun.
    let first_pid = starts[0].split(' ').nth(1).unwrap();
    let second_pid = starts[1].split(' ').nth(1).unwrap();
    assert_ne!(first_pid, second_pid);
    assert_eq!(
        log,
        [
            format!("start {first_pid} first-value"),
            format!("stop {first_pid}"),
            format!("start {second_pid} second-value"),
            format!("stop {second_pid}"),
        ]
    );
    let stderr = read(&stderr);
    assert!(
        stderr.contains("changed: V; restarting the command"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("first-value") && !stderr.contains("second-value"),
        "{stderr}"
    );
}

#[test]
fn a_command_that_exits_by_itself_ends_secretrun_with_its_code() {
    let case = Case::new("v");
    let (mut group, stderr) = case.start(&["--watch=1s"], "sleep 1.5; exit 7");
    let (status, _) = group.wait(PATIENCE);
    assert_eq!(status.code(), Some(7), "{}", read(&stderr));
}

#[test]
fn stop_signal_and_grace_period_apply_to_restarts() {
    let case = Case::new("one");
    // The command ignores TERM: --stop-signal INT stops it; a command that ignored that too
    // would get SIGKILL after the grace period (the second restart below).
    let script = r#"echo "start $$ $V" >> log
trap '' TERM
case "$V" in one) trap 'echo "int $$" >> log; exit 0' INT ;; *) trap '' INT ;; esac
while :; do sleep 0.05; done"#;
    let (mut group, stderr) = case.start(
        &[
            "--watch=1s",
            "--stop-signal",
            "INT",
            "--grace-period",
            "500ms",
        ],
        script,
    );
    case.await_line(&mut group, "the first start", |l| l.ends_with(" one"));
    case.set("two");
    case.await_line(&mut group, "the first restart", |l| l.ends_with(" two"));
    assert!(
        case.log().iter().any(|l| l.starts_with("int ")),
        "{:?}",
        case.log()
    );
    case.set("three");
    case.await_line(&mut group, "the restart after SIGKILL", |l| {
        l.ends_with(" three")
    });
    let stderr_text = read(&stderr);
    assert!(
        stderr_text.contains("ignored the stop signal; sending SIGKILL"),
        "{stderr_text}"
    );
    // The third command ignores TERM and INT: SIGKILL ends secretrun, as a test's cleanup.
    drop(group);
}

#[test]
fn a_failed_round_keeps_the_command_and_a_later_one_restarts_it() {
    let case = Case::new("steady");
    let (mut group, stderr) = case.start(&["--watch=1s", "--no-fallback"], PRINTS_V);
    case.await_line(&mut group, "the first start", |l| l.ends_with(" steady"));
    // Every attempt of the next round fails (4 per round), and the value changes meanwhile.
    let fault = stub().fault(&case.token, json!({"status": 503, "count": 4}));
    case.set("recovered");
    case.await_line(&mut group, "the restart", |l| l.ends_with(" recovered"));
    assert_eq!(stub().fault_hits(&fault), 4);
    let stderr_text = read(&stderr);
    assert!(
        stderr_text.contains("watch: ")
            && stderr_text.contains("HTTP 503")
            && stderr_text.contains("keeps its current values; next try in 2s"),
        "{stderr_text}"
    );
    // Until the round that worked, the first command ran on.
    let log = case.log();
    assert_eq!(starts(&log).len(), 2, "{log:?}");
    assert!(log[1].starts_with("stop "), "{log:?}");
    kill(group.pid(), Signal::SIGTERM).unwrap();
    assert_eq!(group.wait(PATIENCE).0.code(), Some(0));
}

#[test]
fn signal_on_change_rewrites_the_mount_and_keeps_the_command() {
    let case = Case::new("before");
    let mount = case.dir.path().join("secrets.env");
    let script = r#"echo "start $$" >> log
trap 'echo "hup $(cat "$SECRETRUN_MOUNT")" >> log' HUP
trap 'exit 0' TERM
while :; do sleep 0.05; done"#;
    let mount_arg = mount.to_str().unwrap();
    let (mut group, stderr) = case.start(
        &[
            "--watch=1s",
            "--on-change",
            "signal:HUP",
            "--mount",
            mount_arg,
        ],
        script,
    );
    case.await_line(&mut group, "the start", |l| l.starts_with("start "));
    assert_eq!(std::fs::read_to_string(&mount).unwrap(), "V=\"before\"\n");
    case.set("after");
    case.await_line(&mut group, "the HUP", |l| l == "hup V=\"after\"");
    assert_eq!(mode(&mount), 0o600);
    kill(group.pid(), Signal::SIGTERM).unwrap();
    let (status, _) = group.wait(PATIENCE);
    assert_eq!(status.code(), Some(0), "{}", read(&stderr));
    // One command all along, and its file is gone with it.
    assert_eq!(starts(&case.log()).len(), 1, "{:?}", case.log());
    assert!(!mount.exists());
    let stderr = read(&stderr);
    assert!(
        stderr.contains("changed: V; rewrote the secret files, sending SIGHUP"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("before") && !stderr.contains("after\""),
        "{stderr}"
    );
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn watch_settings_are_checked_before_anything_runs() {
    let dir = support::temp_dir();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let cases: &[(&[&str], &str)] = &[
        (&["--on-change", "restart"], "they apply only with --watch"),
        (&["--watch=10ms"], "at least 1s"),
        (
            &["--watch", "--on-change", "reload"],
            "expected restart or signal:SIG",
        ),
        (&["--watch", "--stop-signal", "KILL"], "cannot be caught"),
        (
            &["--watch", "--on-change", "signal:HUP"],
            "needs --mount PATH or --file",
        ),
        (
            &["--watch", "--on-change", "signal:HUP", "--mount", "memfd"],
            "needs --mount PATH or --file",
        ),
        (
            &[
                "--watch",
                "--on-change",
                "signal:USR1",
                "--mask-output",
                "--mount",
                "m",
            ],
            "use --on-change restart",
        ),
        (&["--watch", "--exec"], "cannot be used with"),
    ];
    for (flags, problem) in cases {
        let mut args: Vec<&str> = flags.to_vec();
        args.extend(["--command", &touch]);
        let run = support::run_in(dir.path(), &args, &[]);
        assert_eq!(run.code, Some(125), "{flags:?}: {run:?}");
        assert!(run.stderr.contains(problem), "{flags:?}: {run:?}");
        assert!(!marker.exists(), "{flags:?} ran the command");
    }
    // From the config file as well, with the line of a bad duration.
    support::write(
        dir.path(),
        "secretrun.toml",
        "mode = \"auto\"\nwatch = \"soon\"\n",
    );
    let run = support::run_in(dir.path(), ["--command", &touch], &[]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("line 2") && run.stderr.contains("watch"),
        "{run:?}"
    );
}

#[test]
fn an_unchanged_config_is_confirmed_each_round_without_restarts() {
    let case = Case::new("same");
    let (mut group, stderr) = case.start(&["--watch=1s", "-vv"], PRINTS_V);
    case.await_line(&mut group, "the start", |l| l.ends_with(" same"));
    group.await_until("two unchanged rounds", || {
        (read(&stderr)
            .matches("unchanged; reusing the snapshot")
            .count()
            >= 2)
            .then_some(())
    });
    assert_eq!(starts(&case.log()).len(), 1, "{:?}", case.log());
    kill(group.pid(), Signal::SIGTERM).unwrap();
    assert_eq!(group.wait(Duration::from_secs(20)).0.code(), Some(0));
}

#[test]
fn a_value_the_files_cannot_hold_keeps_the_command_running() {
    let case = Case::new("one-line");
    let mount = case.dir.path().join("app.env");
    let script = r#"echo "start $$ $(cat "$SECRETRUN_MOUNT")" >> log
trap 'exit 0' TERM
while :; do sleep 0.05; done"#;
    let (mut group, stderr) = case.start(
        &[
            "--watch=1s",
            "--mount",
            mount.to_str().unwrap(),
            "--mount-format",
            "env",
        ],
        script,
    );
    case.await_line(&mut group, "the start", |l| l.ends_with(" V=one-line"));
    // Docker's env format has no line breaks: the new command could not get its file. The
    // change is offered again (after a backoff), not taken as applied.
    case.set("two\nlines");
    group.await_until("the refusal, twice", || {
        (read(&stderr)
            .matches("so the command keeps running with the old ones")
            .count()
            >= 2)
            .then_some(())
    });
    assert_eq!(std::fs::read_to_string(&mount).unwrap(), "V=one-line\n");
    case.set("fixed");
    case.await_line(&mut group, "the restart", |l| l.ends_with(" V=fixed"));
    assert_eq!(starts(&case.log()).len(), 2, "{:?}", case.log());
    kill(group.pid(), Signal::SIGTERM).unwrap();
    assert_eq!(group.wait(PATIENCE).0.code(), Some(0));
    let stderr = read(&stderr);
    assert!(stderr.contains("variable V: "), "{stderr}");
    assert!(!stderr.contains("lines"), "{stderr}");
}
