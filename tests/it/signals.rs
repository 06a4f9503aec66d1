//! Process behaviour of the real binary: the exit status passes through, signals reach the child
//! exactly once, orphans are reaped as PID 1 and as a subreaper, one Ctrl-C on a terminal is one
//! SIGINT, a signal during resolution stops secretrun, and stdio is inherited.
//!
//! Real processes only. Every process a test starts leads its own process group (or session),
//! and that group gets SIGKILL when the test ends, passed or failed, so nothing outlives a test.
//! Waits poll for readiness files with generous timeouts. The only timed assertions are loose
//! upper bounds (seconds, against a grace period or timeout that would take far longer) and one
//! lower bound that cannot be flaky; the fine-grained latency is the benchmark's job.

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::support;

/// How long anything that should happen may take before a test gives up (a loaded 2-core machine).
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);
/// The loose bound for "promptly": far above the expected milliseconds, far below any grace
/// period (5 s by default) or timeout secretrun could be waiting for instead.
const PROMPTLY: Duration = Duration::from_secs(2);
/// How long to keep watching for a duplicate delivery after the first one arrived.
const SETTLE: Duration = Duration::from_millis(400);

/// Exec mode (the default when not PID 1) and supervise mode.
const MODES: [&[&str]; 2] = [&[], &["--supervise"]];

fn mode_name(mode: &[&str]) -> &'static str {
    if mode.is_empty() {
        "exec"
    } else {
        "supervise"
    }
}

fn args<'a>(first: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
    first.iter().chain(rest).copied().collect()
}

// ---------------------------------------------------------------------------------------------
// Processes

/// A process that leads its own process group (or session). The whole group gets SIGKILL when
/// this is dropped, so a failing test leaves nothing running.
pub(crate) struct Group {
    child: Child,
    what: String,
    stderr: Option<PathBuf>,
}

impl Group {
    /// `command` must make the child a group leader (`process_group(0)` or `setsid()`).
    pub(crate) fn spawn(mut command: Command, what: &str, stderr: Option<PathBuf>) -> Self {
        let child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {what}: {err}"));
        // Closes our copies of the descriptors the command was given (a pty's slave side).
        drop(command);
        Self {
            child,
            what: what.to_owned(),
            stderr,
        }
    }

    pub(crate) fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    fn status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    pub(crate) fn stderr_text(&self) -> String {
        match &self.stderr {
            Some(path) => read(path),
            None => "(on the terminal)".to_owned(),
        }
    }

    /// Waits for the exit (polling, so a hang fails the test instead of blocking it); returns
    /// the status and when it was first seen.
    pub(crate) fn wait(&mut self, timeout: Duration) -> (ExitStatus, Instant) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.status() {
                return (status, Instant::now());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {timeout:?}; stderr: {}",
                self.what,
                self.stderr_text()
            );
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Polls `check` until it gives a value; fails at once if the process ends first.
    pub(crate) fn await_until<T>(&mut self, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(value) = check() {
                return value;
            }
            if let Some(status) = self.status() {
                panic!(
                    "{} ended ({status}) while waiting for {what}; stderr: {}",
                    self.what,
                    self.stderr_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {PATIENCE:?} waiting for {what}; stderr: {}",
                self.stderr_text()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn await_file(&mut self, path: &Path) {
        self.await_until(&format!("{} to appear", path.display()), || {
            path.exists().then_some(())
        });
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let _ = killpg(self.pid(), Signal::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the process with no signal blocked and the default action for every signal these
/// tests use, whatever this test process inherited (a harness or `nohup` may block or ignore
/// some): the tests are about secretrun's signal handling, not the caller's.
fn clean_signals(command: &mut Command) {
    use nix::sys::signal::{signal, SigHandler, SigSet};
    // SAFETY: pthread_sigmask and sigaction are async-signal-safe; only the new process changes.
    unsafe {
        command.pre_exec(|| {
            SigSet::empty().thread_set_mask()?;
            for used in [
                Signal::SIGHUP,
                Signal::SIGINT,
                Signal::SIGQUIT,
                Signal::SIGTERM,
                Signal::SIGUSR1,
                Signal::SIGUSR2,
                Signal::SIGWINCH,
                Signal::SIGCONT,
                Signal::SIGALRM,
                Signal::SIGPIPE,
                Signal::SIGURG,
                Signal::SIGCHLD,
                Signal::SIGSEGV,
            ] {
                signal(used, SigHandler::SigDfl)?;
            }
            Ok(())
        });
    }
}

/// `secretrun ARGS` in `dir`, scrubbed environment, leading its own process group.
pub(crate) fn secretrun<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Command {
    let mut command = support::secretrun(dir);
    command.args(args).process_group(0);
    clean_signals(&mut command);
    command
}

/// Sends stdout and stderr to files in `dir`. Never pipes: a leftover process that holds a
/// pipe open would make reading it block.
pub(crate) fn capture(command: &mut Command, dir: &Path) -> (PathBuf, PathBuf) {
    let tag = support::unique("io");
    let stdout = dir.join(format!("{tag}.out"));
    let stderr = dir.join(format!("{tag}.err"));
    command
        .stdout(fs::File::create(&stdout).unwrap())
        .stderr(fs::File::create(&stderr).unwrap());
    (stdout, stderr)
}

struct Finished {
    pid: Pid,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn run_command(mut command: Command, dir: &Path) -> Finished {
    let (stdout, stderr) = capture(&mut command, dir);
    let mut group = Group::spawn(command, "secretrun", Some(stderr.clone()));
    let (status, _) = group.wait(PATIENCE);
    Finished {
        pid: group.pid(),
        status,
        stdout: read(&stdout),
        stderr: read(&stderr),
    }
}

fn run(dir: &Path, args: &[&str]) -> Finished {
    run_command(secretrun(dir, args), dir)
}

/// Lets the process dump core (as `ulimit -c unlimited` would), so a missing core file means
/// something decided not to dump, not that dumping was off anyway.
fn allow_core_dumps(command: &mut Command) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
    // SAFETY: getrlimit and setrlimit are async-signal-safe syscalls on the new process only.
    unsafe {
        command.pre_exec(|| {
            if setrlimit(Resource::RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY).is_err() {
                let (_, hard) = getrlimit(Resource::RLIMIT_CORE)?;
                setrlimit(Resource::RLIMIT_CORE, hard, hard)?;
            }
            Ok(())
        });
    }
}

fn core_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("core"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Files and /proc

pub(crate) fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

pub(crate) fn lines(path: &Path) -> Vec<String> {
    read(path).lines().map(str::to_owned).collect()
}

fn count(path: &Path, line: &str) -> usize {
    lines(path).iter().filter(|l| *l == line).count()
}

/// State, parent and name of a process, from `/proc/PID/stat`.
#[derive(Debug)]
struct Stat {
    pid: i32,
    state: char,
    ppid: i32,
    comm: String,
}

fn stat(pid: i32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, rest) = text.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_owned();
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some(Stat {
        pid,
        state,
        ppid,
        comm,
    })
}

fn processes() -> Vec<Stat> {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(stat)
        .collect()
}

fn children_of(parent: Pid) -> Vec<Stat> {
    processes()
        .into_iter()
        .filter(|p| p.ppid == parent.as_raw())
        .collect()
}

fn cmdline(pid: i32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|b| *b == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// Whether `pid` has `signal` blocked (secretrun blocks its signals before anything else).
fn blocks(pid: Pid, signal: Signal) -> bool {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigBlk:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signal as i32 - 1)) != 0)
}

// ---------------------------------------------------------------------------------------------
// PID 1

/// secretrun as PID 1 of a new PID namespace:
/// `unshare --pid --fork --mount-proc --kill-child secretrun ARGS`.
struct Pid1 {
    /// The unshare process: it exits with secretrun's status.
    unshare: Group,
    /// secretrun's PID as seen from here.
    pid: Pid,
}

fn spawn_pid1<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Pid1 {
    let scrubbed = support::secretrun(dir);
    let mut command = Command::new("unshare");
    command.env_clear();
    for (name, value) in scrubbed.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    command
        .args(["--pid", "--fork", "--mount-proc", "--kill-child"])
        .arg(support::bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .process_group(0);
    clean_signals(&mut command);
    let (_, stderr) = capture(&mut command, dir);
    let mut unshare = Group::spawn(command, "unshare … secretrun", Some(stderr.clone()));
    let children = format!("/proc/{0}/task/{0}/children", unshare.pid());
    let deadline = Instant::now() + PATIENCE;
    let pid = loop {
        if let Some(status) = unshare.status() {
            panic!(
                "unshare ended ({status}) before secretrun ran as PID 1: {}\nThese tests need \
                 to create a PID namespace (root, or CAP_SYS_ADMIN); EPERM means this machine or \
                 sandbox forbids unshare(CLONE_NEWPID). They fail rather than skip.",
                read(&stderr).trim()
            );
        }
        let child = fs::read_to_string(&children)
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse::<i32>().ok());
        // Before its exec the forked child is still `unshare`.
        if let Some(pid) = child.filter(|pid| stat(*pid).is_some_and(|s| s.comm == "secretrun")) {
            break Pid::from_raw(pid);
        }
        assert!(
            Instant::now() < deadline,
            "secretrun did not start under unshare within {PATIENCE:?}; stderr: {}",
            read(&stderr)
        );
        thread::sleep(Duration::from_millis(5));
    };
    Pid1 { unshare, pid }
}

// ---------------------------------------------------------------------------------------------
// 1. Exit status matrix

#[test]
fn exit_codes_pass_through_in_exec_and_supervise_mode() {
    let dir = support::temp_dir();
    for mode in MODES {
        for code in [0, 3, 255] {
            let script = format!("exit {code}");
            let run = run(dir.path(), &args(mode, &["--", "sh", "-c", &script]));
            assert_eq!(
                run.status.code(),
                Some(code),
                "{} mode, child exits {code}: secretrun {}; stderr: {}",
                mode_name(mode),
                run.status,
                run.stderr
            );
        }
    }
}

/// The premise of the matrix: the two modes really differ.
#[test]
fn exec_mode_becomes_the_child_and_supervise_mode_stays_its_parent() {
    let dir = support::temp_dir();
    let exec = run(dir.path(), &["--", "sh", "-c", "echo $$"]);
    assert_eq!(exec.stdout.trim(), exec.pid.to_string(), "{}", exec.stderr);

    let supervise = run(
        dir.path(),
        &["--supervise", "--", "sh", "-c", "echo $$ $PPID"],
    );
    let pids: Vec<&str> = supervise.stdout.split_whitespace().collect();
    assert_eq!(pids.len(), 2, "{}", supervise.stdout);
    assert_ne!(pids[0], supervise.pid.to_string());
    assert_eq!(pids[1], supervise.pid.to_string(), "{}", supervise.stderr);
}

/// secretrun blocks the signals it forwards; the child must not inherit that. It gets the mask
/// secretrun started with, in both modes (here: only SIGPWR blocked, a signal secretrun leaves alone).
#[test]
fn the_child_starts_with_the_signal_mask_secretrun_started_with() {
    use nix::sys::signal::SigSet;
    let dir = support::temp_dir();
    for mode in MODES {
        let mut command = secretrun(
            dir.path(),
            &args(mode, &["--", "grep", "SigBlk", "/proc/self/status"]),
        );
        // SAFETY: pthread_sigmask is async-signal-safe; runs after clean_signals' closure.
        unsafe {
            command.pre_exec(|| {
                let mut only = SigSet::empty();
                only.add(Signal::SIGPWR);
                only.thread_set_mask()?;
                Ok(())
            });
        }
        let run = run_command(command, dir.path());
        let expected = format!("{:016x}", 1u64 << (Signal::SIGPWR as i32 - 1));
        assert_eq!(
            run.stdout.split_whitespace().collect::<Vec<_>>(),
            ["SigBlk:", expected.as_str()],
            "{} mode: the child's blocked signals; stderr: {}",
            mode_name(mode),
            run.stderr
        );
    }
}

#[test]
fn a_child_killed_by_a_signal_kills_secretrun_with_that_signal_and_leaves_no_core() {
    for mode in MODES {
        for (signal, name) in [(Signal::SIGTERM, "TERM"), (Signal::SIGSEGV, "SEGV")] {
            // A fresh directory per case, so a core file is attributable.
            let dir = support::temp_dir();
            // The child forbids itself a core dump while secretrun may dump: any core file here
            // would be secretrun's own, which it must not leave behind after its child's crash.
            let script = format!("ulimit -c 0; kill -{name} $$");
            let mut command = secretrun(dir.path(), &args(mode, &["--", "sh", "-c", &script]));
            allow_core_dumps(&mut command);
            let run = run_command(command, dir.path());
            let what = format!("{} mode, child killed by SIG{name}", mode_name(mode));
            assert_eq!(
                run.status.signal(),
                Some(signal as i32),
                "{what}: secretrun {}; stderr: {}",
                run.status,
                run.stderr
            );
            assert!(!run.status.core_dumped(), "{what}: secretrun dumped core");
            assert_eq!(core_files(dir.path()), Vec::<String>::new(), "{what}");
        }
    }
    // Shows the core checks above mean something here: the same setup does leave a core.
    let control = support::temp_dir();
    let mut command = Command::new("sh");
    command
        .args(["-c", "kill -SEGV $$"])
        .current_dir(control.path())
        .process_group(0);
    clean_signals(&mut command);
    allow_core_dumps(&mut command);
    let _ = run_command(command, control.path());
    if core_files(control.path()).is_empty() {
        let pattern = read(Path::new("/proc/sys/kernel/core_pattern"));
        println!(
            "note: core files do not land in the working directory here (core_pattern {:?}); \
             only the core_dumped() check was meaningful",
            pattern.trim()
        );
    }
}

#[test]
fn a_broken_source_is_125_and_the_child_never_runs() {
    let dir = support::temp_dir();
    for mode in MODES {
        let run = run(
            dir.path(),
            &args(
                &["--env-file", "missing.env"],
                &args(mode, &["--", "sh", "-c", "touch ran"]),
            ),
        );
        assert_eq!(
            run.status.code(),
            Some(125),
            "{} mode: {}; stderr: {}",
            mode_name(mode),
            run.status,
            run.stderr
        );
        assert!(run.stderr.contains("missing.env"), "{}", run.stderr);
        assert!(!dir.path().join("ran").exists(), "the child ran");
    }
}

#[test]
fn a_command_that_cannot_be_executed_is_126() {
    let dir = support::temp_dir();
    support::write(dir.path(), "not-executable.sh", "#!/bin/sh\ntouch ran\n");
    fs::create_dir(dir.path().join("a-directory")).unwrap();
    for mode in MODES {
        for program in ["./not-executable.sh", "./a-directory"] {
            let run = run(dir.path(), &args(mode, &["--", program]));
            assert_eq!(
                run.status.code(),
                Some(126),
                "{} mode, {program}: {}; stderr: {}",
                mode_name(mode),
                run.status,
                run.stderr
            );
        }
    }
    assert!(!dir.path().join("ran").exists());
}

#[test]
fn a_command_that_does_not_exist_is_127() {
    let dir = support::temp_dir();
    for mode in MODES {
        for program in ["secretrun-test-no-such-command", "./no-such-file"] {
            let run = run(dir.path(), &args(mode, &["--", program]));
            assert_eq!(
                run.status.code(),
                Some(127),
                "{} mode, {program}: {}; stderr: {}",
                mode_name(mode),
                run.status,
                run.stderr
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. PID 1 and subreaper

#[test]
fn as_pid1_a_term_from_outside_reaches_the_child_once_and_its_exit_code_is_kept() {
    let dir = support::temp_dir();
    support::write(
        dir.path(),
        "child.sh",
        "trap 'echo TERM >> term.log; exit 7' TERM\n\
         echo ready > ready\n\
         while :; do sleep 0.05 & wait $!; done\n",
    );
    let mut pid1 = spawn_pid1(dir.path(), &["--", "sh", "child.sh"]);
    pid1.unshare.await_file(&dir.path().join("ready"));

    let sent = Instant::now();
    kill(pid1.pid, Signal::SIGTERM).unwrap();
    let (status, exited) = pid1.unshare.wait(PATIENCE);
    let latency = exited - sent;
    println!("TERM → exit as PID 1: {latency:?}");

    assert_eq!(
        status.code(),
        Some(7),
        "{status}; stderr: {}",
        pid1.unshare.stderr_text()
    );
    assert_eq!(lines(&dir.path().join("term.log")), ["TERM"]);
    assert!(
        latency < PROMPTLY,
        "PID 1 took {latency:?} to exit after its child did: a grace-period wait?"
    );
}

/// The child's orphan is adopted by secretrun as PID 1 and reaped: the child itself then looks
/// for zombies in the namespace's own /proc.
#[test]
fn as_pid1_an_orphaned_grandchild_is_reaped() {
    let dir = support::temp_dir();
    support::write(
        dir.path(),
        "child.sh",
        r#"# The middle shell exits at once: its background subshell is orphaned, adopted by PID 1.
sh -c '(while [ ! -e gate ]; do sleep 0.02; done) & echo $! > grandchild.pid'
read gc < grandchild.pid
read -r stat < /proc/$gc/stat
set -- ${stat##*)}
echo "$2" > grandchild.ppid
: > gate
# Gone from /proc means reaped; a zombie stays until the loop gives up (~10 s).
i=0
while [ -e /proc/$gc ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
: > zombies
for f in /proc/[0-9]*/stat; do
  read -r stat 2>/dev/null < "$f" || continue
  set -- ${stat##*)}
  if [ "$1" = Z ]; then echo "$stat" >> zombies; fi
done
exit 0
"#,
    );
    let mut pid1 = spawn_pid1(dir.path(), &["--", "sh", "child.sh"]);
    let (status, _) = pid1.unshare.wait(PATIENCE);
    let stderr = pid1.unshare.stderr_text();
    assert_eq!(status.code(), Some(0), "{status}; stderr: {stderr}");
    assert_eq!(
        read(&dir.path().join("grandchild.ppid")).trim(),
        "1",
        "the grandchild was not adopted by PID 1, so the test proves nothing"
    );
    assert_eq!(
        read(&dir.path().join("zombies")),
        "",
        "zombies left in the namespace; stderr: {stderr}"
    );
}

/// The main child exits while a process it started still runs: PID 1 sends that leftover
/// SIGTERM and exits with the child's code without waiting out the (long) grace period.
#[test]
fn as_pid1_leftovers_get_term_and_secretrun_exits_with_the_childs_code() {
    let dir = support::temp_dir();
    support::write(
        dir.path(),
        "child.sh",
        r#"sh -c 'trap "echo TERM >> leftover.log; exit 0" TERM
echo $$ > leftover.pid
while :; do sleep 0.05 & wait $!; done' &
while [ ! -s leftover.pid ]; do sleep 0.02; done
exit 5
"#,
    );
    let mut pid1 = spawn_pid1(
        dir.path(),
        &["--grace-period", "30s", "--", "sh", "child.sh"],
    );
    pid1.unshare.await_file(&dir.path().join("leftover.pid"));
    let seen = Instant::now();
    let (status, exited) = pid1.unshare.wait(PATIENCE);
    let elapsed = exited - seen;
    println!("leftover started → PID 1 exit: {elapsed:?}");
    assert_eq!(
        status.code(),
        Some(5),
        "{status}; stderr: {}",
        pid1.unshare.stderr_text()
    );
    assert_eq!(lines(&dir.path().join("leftover.log")), ["TERM"]);
    assert!(
        elapsed < Duration::from_secs(10),
        "took {elapsed:?}: did PID 1 wait out the 30 s grace period instead of sending TERM?"
    );
}

#[test]
fn as_pid1_a_child_that_ignores_term_is_killed_after_kill_after() {
    let dir = support::temp_dir();
    let script = "trap '' TERM; echo ready > ready; exec sleep 30";
    let mut pid1 = spawn_pid1(
        dir.path(),
        &["--kill-after", "300ms", "--", "sh", "-c", script],
    );
    pid1.unshare.await_file(&dir.path().join("ready"));
    let sent = Instant::now();
    kill(pid1.pid, Signal::SIGTERM).unwrap();
    let (status, exited) = pid1.unshare.wait(PATIENCE);
    let elapsed = exited - sent;
    println!("TERM → SIGKILL → exit as PID 1 with --kill-after 300ms: {elapsed:?}");
    assert_eq!(
        status.code(),
        Some(128 + 9),
        "{status}; stderr: {}",
        pid1.unshare.stderr_text()
    );
    assert!(
        elapsed >= Duration::from_millis(300),
        "killed after {elapsed:?}, before --kill-after ran out"
    );
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn supervising_a_child_that_ignores_term_kills_it_after_kill_after() {
    let dir = support::temp_dir();
    let script = "trap '' TERM; echo ready > ready; exec sleep 30";
    let mut command = secretrun(
        dir.path(),
        &["--kill-after", "300ms", "--", "sh", "-c", script],
    );
    let (_, stderr) = capture(&mut command, dir.path());
    let mut secretrun = Group::spawn(command, "secretrun", Some(stderr));
    secretrun.await_file(&dir.path().join("ready"));
    let sent = Instant::now();
    kill(secretrun.pid(), Signal::SIGTERM).unwrap();
    let (status, exited) = secretrun.wait(PATIENCE);
    let elapsed = exited - sent;
    assert_eq!(
        status.signal(),
        Some(Signal::SIGKILL as i32),
        "{status}; stderr: {}",
        secretrun.stderr_text()
    );
    assert!(elapsed >= Duration::from_millis(300), "after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn with_subreaper_an_orphaned_grandchild_is_adopted_and_reaped() {
    let dir = support::temp_dir();
    support::write(
        dir.path(),
        "child.sh",
        "sh -c '(while [ ! -e gate ]; do sleep 0.02; done) & echo $! > grandchild.pid'\n\
         while [ ! -e done ]; do sleep 0.05 & wait $!; done\n\
         exit 0\n",
    );
    let mut command = secretrun(dir.path(), &["--subreaper", "--", "sh", "child.sh"]);
    let (_, stderr) = capture(&mut command, dir.path());
    let mut secretrun = Group::spawn(command, "secretrun --subreaper", Some(stderr));
    let me = secretrun.pid();
    let pid_file = dir.path().join("grandchild.pid");
    let grandchild: i32 = secretrun.await_until("the grandchild's pid", || {
        read(&pid_file).trim().parse().ok()
    });

    secretrun.await_until("secretrun to adopt the orphaned grandchild", || {
        let found = stat(grandchild).expect("the grandchild ended before the gate opened");
        (found.ppid == me.as_raw()).then_some(())
    });
    fs::write(dir.path().join("gate"), "").unwrap();
    // Ours until reaped: alive, then a zombie for as long as nobody reaps it.
    secretrun.await_until("secretrun to reap the grandchild", || {
        match stat(grandchild) {
            Some(found) if found.ppid == me.as_raw() => None,
            _ => Some(()),
        }
    });
    let zombies: Vec<Stat> = children_of(me)
        .into_iter()
        .filter(|p| p.state == 'Z')
        .collect();
    assert!(
        zombies.is_empty(),
        "zombies whose parent is secretrun: {zombies:?}"
    );
    assert!(secretrun.status().is_none(), "secretrun ended early");

    fs::write(dir.path().join("done"), "").unwrap();
    let (status, _) = secretrun.wait(PATIENCE);
    assert_eq!(
        status.code(),
        Some(0),
        "{status}; {}",
        secretrun.stderr_text()
    );
}

// ---------------------------------------------------------------------------------------------
// 3. A terminal

/// `bash -c SCRIPT` as a session leader on a new pseudo-terminal, which is its controlling
/// terminal: its process group (shared by secretrun and secretrun's child, since bash -c has
/// no job control) is the terminal's foreground group, so Ctrl-C reaches all of them.
struct Terminal {
    master: Arc<nix::pty::PtyMaster>,
    slave_name: String,
    output: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    bash: Group,
}

impl Terminal {
    fn start(dir: &Path, script: &str) -> Self {
        use nix::fcntl::OFlag;
        use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
        use nix::sys::stat::Mode;

        // Close-on-exec from the start: other tests spawn processes concurrently, and an
        // inherited copy of either side would keep this terminal open.
        let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        let master = posix_openpt(flags).expect("posix_openpt");
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let slave_name = ptsname_r(&master).unwrap();
        let slave = nix::fcntl::open(slave_name.as_str(), flags, Mode::empty()).unwrap();

        let scrubbed = support::secretrun(dir);
        let mut command = Command::new("bash");
        command.env_clear();
        for (name, value) in scrubbed.get_envs() {
            if let Some(value) = value {
                command.env(name, value);
            }
        }
        command
            .env("SR", support::bin())
            .args(["-c", script])
            .current_dir(dir)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        clean_signals(&mut command);
        // SAFETY: setsid and ioctl are async-signal-safe and act on the new process only.
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid()?;
                // stdin (the slave) becomes the controlling terminal, our group its foreground.
                if nix::libc::ioctl(0, nix::libc::TIOCSCTTY, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let bash = Group::spawn(command, "bash on a pty", None);

        // Keep draining the master side, or the session blocks once the buffer is full.
        let master = Arc::new(master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (master, output, stop) = (master.clone(), output.clone(), stop.clone());
            thread::spawn(move || {
                use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
                let mut buffer = [0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
                    match poll(&mut fds, PollTimeout::from(100u16)) {
                        Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                        Ok(_) => {}
                        Err(_) => break,
                    }
                    match (&*master).read(&mut buffer) {
                        // EIO: nobody has the slave side open any more.
                        Ok(0) | Err(_) => break,
                        Ok(n) => output.lock().unwrap().extend_from_slice(&buffer[..n]),
                    }
                }
            })
        };
        let terminal = Self {
            master,
            slave_name,
            output,
            stop,
            reader: Some(reader),
            bash,
        };
        let foreground = nix::unistd::tcgetpgrp(terminal.master.as_fd()).unwrap();
        assert_eq!(
            foreground,
            terminal.bash.pid(),
            "bash's group is not the foreground group"
        );
        terminal
    }

    /// Types Ctrl-C: the line discipline sends SIGINT to the foreground process group.
    fn ctrl_c(&self) {
        (&*self.master).write_all(b"\x03").unwrap();
    }

    /// Everything the session wrote, once it is over (all slave sides closed) or after a while.
    fn final_output(&mut self) -> String {
        let _ = killpg(self.bash.pid(), Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.reader.as_ref().is_some_and(|r| !r.is_finished()) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        self.output_so_far()
    }

    fn output_so_far(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // Kill the session first (the Group would only do so after the reader is joined).
        let _ = killpg(self.bash.pid(), Signal::SIGKILL);
        self.stop.store(true, Ordering::Relaxed);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The process `bash` started that is `secretrun`, and the child that secretrun started.
fn secretrun_and_child_under(terminal: &mut Terminal, child_comm: &str) -> (Stat, Stat) {
    let bash = terminal.bash.pid();
    terminal
        .bash
        .await_until("secretrun and its child on the terminal", || {
            let secretrun = children_of(bash)
                .into_iter()
                .find(|p| p.comm == "secretrun")?;
            let child = children_of(Pid::from_raw(secretrun.pid))
                .into_iter()
                .find(|p| p.comm == child_comm)?;
            Some((secretrun, child))
        })
}

#[test]
fn one_ctrl_c_on_a_terminal_reaches_a_supervised_child_once() {
    let dir = support::temp_dir();
    support::write(
        dir.path(),
        "child.sh",
        "trap 'echo INT >> int.log' INT\n\
         echo \"$(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1)\" > tty.txt\n\
         echo ready > ready\n\
         while :; do sleep 0.05; done\n",
    );
    // Not the last command, so bash does not exec secretrun but waits for it, as a shell does.
    let mut terminal = Terminal::start(
        dir.path(),
        r#""$SR" -vv --supervise -- sh child.sh 2> secretrun.log; echo "secretrun-exit=$?""#,
    );
    terminal.bash.await_file(&dir.path().join("ready"));
    let (secretrun, child) = secretrun_and_child_under(&mut terminal, "sh");
    let group = |pid: i32| nix::unistd::getpgid(Some(Pid::from_raw(pid))).unwrap();
    assert_eq!(group(secretrun.pid), terminal.bash.pid());
    assert_eq!(group(child.pid), terminal.bash.pid());
    let tty = format!("{0} {0}", terminal.slave_name);
    assert_eq!(read(&dir.path().join("tty.txt")).trim(), tty);

    let log = dir.path().join("int.log");
    terminal.ctrl_c();
    terminal.bash.await_until("the child's INT trap", || {
        (count(&log, "INT") >= 1).then_some(())
    });
    thread::sleep(SETTLE);
    assert_eq!(
        lines(&log),
        ["INT"],
        "one Ctrl-C reached the child more than once; secretrun's log:\n{}",
        read(&dir.path().join("secretrun.log"))
    );
    let forwarded_int = |log: String| forwarded(&log, "SIGINT");
    assert_eq!(
        forwarded_int(read(&dir.path().join("secretrun.log"))),
        0,
        "secretrun forwarded the terminal's SIGINT"
    );
    assert!(terminal.bash.status().is_none(), "the session ended");

    // Control: a SIGINT sent with kill(2) is forwarded (and logged as such).
    kill(Pid::from_raw(secretrun.pid), Signal::SIGINT).unwrap();
    terminal.bash.await_until("the forwarded INT", || {
        (count(&log, "INT") >= 2).then_some(())
    });
    thread::sleep(SETTLE);
    assert_eq!(lines(&log), ["INT", "INT"]);
    assert_eq!(
        forwarded_int(read(&dir.path().join("secretrun.log"))),
        1,
        "{}",
        read(&dir.path().join("secretrun.log"))
    );
}

/// ^C in a shell loop stops the loop: bash sees its command die of SIGINT and dies of it too.
fn ctrl_c_stops_a_shell_loop(secretrun_args: &str) {
    let dir = support::temp_dir();
    let script = format!(
        "for i in 1 2 3; do echo \"iteration $i\" >> iterations.log; \
         \"$SR\" {secretrun_args} -- sleep 10; done; echo loop-finished"
    );
    let mut terminal = Terminal::start(dir.path(), &script);
    let bash = terminal.bash.pid();
    // secretrun's `sleep 10`: under secretrun (supervise) or secretrun turned into it (exec).
    terminal.bash.await_until("sleep 10 to start", || {
        processes().into_iter().find(|p| {
            let parent_is_ours = p.ppid == bash.as_raw()
                || stat(p.ppid).is_some_and(|s| s.comm == "secretrun" && s.ppid == bash.as_raw());
            p.comm == "sleep" && parent_is_ours && cmdline(p.pid) == ["sleep", "10"]
        })
    });

    terminal.ctrl_c();
    let (status, _) = terminal.bash.wait(PATIENCE);
    let output = terminal.final_output();
    let iterations = lines(&dir.path().join("iterations.log"));
    assert_eq!(
        status.signal(),
        Some(Signal::SIGINT as i32),
        "bash should die of SIGINT ({status}); iterations {iterations:?}; terminal:\n{output}"
    );
    assert_eq!(iterations, ["iteration 1"], "terminal:\n{output}");
    assert!(!output.contains("loop-finished"), "terminal:\n{output}");
}

#[test]
fn ctrl_c_stops_a_shell_loop_around_supervising_secretrun() {
    ctrl_c_stops_a_shell_loop("--supervise");
}

#[test]
fn ctrl_c_stops_a_shell_loop_around_exec_mode_secretrun() {
    ctrl_c_stops_a_shell_loop("");
}

// ---------------------------------------------------------------------------------------------
// 4. Forwarding

const TRAPPED: &str = r#"for s in HUP INT QUIT TERM USR1 USR2 WINCH CONT ALRM PIPE URG; do
  trap "echo $s >> signals.log" $s
done
echo ready > ready
while [ ! -e stop ]; do sleep 0.05 & wait $!; done
exit 0
"#;

/// How many times secretrun's `-vv` log says it forwarded `signal` (e.g. "SIGINT").
///
/// Two back-to-back kill(2)s of a standard signal usually merge in the child's pending set
/// before it runs, and shells run a trap once however often it fired meanwhile, so the child
/// cannot see a duplicate sent in a burst: only the sender's side can. This reads the debug
/// line `forwarding signal=SIGINT`; if its wording changes, update this.
fn forwarded(log: &str, signal: &str) -> usize {
    let field = format!("signal={signal}");
    log.lines()
        .filter(|line| line.contains("forwarding"))
        .filter(|line| line.split_whitespace().any(|word| word == field))
        .count()
}

/// Sends each forwarded signal to `target` (secretrun, run with `-vv`) and checks that the
/// child traps it exactly once and that secretrun sent it once; then that SIGPIPE, SIGURG and
/// SIGCHLD are not forwarded.
fn check_forwarding(dir: &Path, process: &mut Group, target: Pid) {
    let log = dir.join("signals.log");
    process.await_file(&dir.join("ready"));
    let forwarded_signals = [
        (Signal::SIGHUP, "HUP"),
        (Signal::SIGINT, "INT"),
        (Signal::SIGQUIT, "QUIT"),
        (Signal::SIGTERM, "TERM"),
        (Signal::SIGUSR1, "USR1"),
        (Signal::SIGUSR2, "USR2"),
        (Signal::SIGWINCH, "WINCH"),
        (Signal::SIGCONT, "CONT"),
        (Signal::SIGALRM, "ALRM"),
    ];
    for (signal, name) in forwarded_signals {
        kill(target, signal).unwrap();
        process.await_until(&format!("the child to trap SIG{name}"), || {
            (count(&log, name) >= 1).then_some(())
        });
    }
    thread::sleep(SETTLE);
    let names: Vec<&str> = forwarded_signals.iter().map(|(_, name)| *name).collect();
    assert_eq!(lines(&log), names, "each signal exactly once, in order");

    // Not forwarded. USR2 afterwards marks the point by which they would have arrived.
    for signal in [Signal::SIGPIPE, Signal::SIGURG, Signal::SIGCHLD] {
        kill(target, signal).unwrap();
    }
    kill(target, Signal::SIGUSR2).unwrap();
    process.await_until("the marker USR2", || {
        (count(&log, "USR2") >= 2).then_some(())
    });
    thread::sleep(SETTLE);
    let seen = lines(&log);
    assert!(
        !seen.iter().any(|name| name == "PIPE" || name == "URG"),
        "forwarded: {seen:?}"
    );
    assert!(process.status().is_none(), "secretrun ended");

    fs::write(dir.join("stop"), "").unwrap();
    let (status, _) = process.wait(PATIENCE);
    let log = process.stderr_text();
    assert_eq!(status.code(), Some(0), "{status}; {log}");
    for (_, name) in forwarded_signals {
        let times = if name == "USR2" { 2 } else { 1 };
        assert_eq!(
            forwarded(&log, &format!("SIG{name}")),
            times,
            "how often secretrun forwarded SIG{name}; log:\n{log}"
        );
    }
    for name in ["SIGPIPE", "SIGURG", "SIGCHLD"] {
        assert_eq!(forwarded(&log, name), 0, "{name}; log:\n{log}");
    }
}

#[test]
fn supervise_forwards_each_signal_to_the_child_exactly_once() {
    let dir = support::temp_dir();
    support::write(dir.path(), "child.sh", TRAPPED);
    let mut command = secretrun(dir.path(), &["-vv", "--supervise", "--", "sh", "child.sh"]);
    let (_, stderr) = capture(&mut command, dir.path());
    let mut secretrun = Group::spawn(command, "secretrun --supervise", Some(stderr));
    let pid = secretrun.pid();
    check_forwarding(dir.path(), &mut secretrun, pid);
}

#[test]
fn as_pid1_forwards_each_signal_to_the_child_exactly_once() {
    let dir = support::temp_dir();
    support::write(dir.path(), "child.sh", TRAPPED);
    let mut pid1 = spawn_pid1(dir.path(), &["-vv", "--", "sh", "child.sh"]);
    check_forwarding(dir.path(), &mut pid1.unshare, pid1.pid);
}

// ---------------------------------------------------------------------------------------------
// 5. A signal during resolution

/// A dotenv "file" that is a FIFO nobody writes to: reading it hangs.
fn hanging_env_file(dir: &Path) -> PathBuf {
    use nix::sys::stat::Mode;
    let fifo = dir.join("hangs.env");
    nix::unistd::mkfifo(&fifo, Mode::S_IRUSR | Mode::S_IWUSR).unwrap();
    fifo
}

/// Waits until `pid` blocks its signals (it started) and then a bit more, so it is stuck
/// reading the FIFO rather than still starting up.
fn await_resolution(process: &mut Group, pid: Pid) {
    process.await_until("secretrun to block its signals", || {
        blocks(pid, Signal::SIGTERM).then_some(())
    });
    thread::sleep(Duration::from_millis(200));
    assert!(
        process.status().is_none(),
        "secretrun did not hang on the FIFO: {}",
        process.stderr_text()
    );
}

#[test]
fn a_signal_during_resolution_stops_secretrun_promptly() {
    let dir = support::temp_dir();
    let fifo = hanging_env_file(dir.path());
    let fifo = fifo.to_str().unwrap();
    let mut command = secretrun(
        dir.path(),
        &["--env-file", fifo, "--", "sh", "-c", "touch ran"],
    );
    let (_, stderr) = capture(&mut command, dir.path());
    let mut secretrun = Group::spawn(command, "secretrun", Some(stderr));
    let pid = secretrun.pid();
    await_resolution(&mut secretrun, pid);

    let sent = Instant::now();
    kill(pid, Signal::SIGTERM).unwrap();
    let (status, exited) = secretrun.wait(PATIENCE);
    let elapsed = exited - sent;
    println!("TERM during resolution → death: {elapsed:?}");
    assert_eq!(
        status.signal(),
        Some(Signal::SIGTERM as i32),
        "{status}; stderr: {}",
        secretrun.stderr_text()
    );
    assert!(elapsed < PROMPTLY, "took {elapsed:?}");
    assert!(!dir.path().join("ran").exists(), "the child ran");
}

#[test]
fn as_pid1_a_signal_during_resolution_exits_128_plus_n() {
    let dir = support::temp_dir();
    let fifo = hanging_env_file(dir.path());
    let fifo = fifo.to_str().unwrap();
    let mut pid1 = spawn_pid1(
        dir.path(),
        &["--env-file", fifo, "--", "sh", "-c", "touch ran"],
    );
    await_resolution(&mut pid1.unshare, pid1.pid);

    let sent = Instant::now();
    kill(pid1.pid, Signal::SIGTERM).unwrap();
    let (status, exited) = pid1.unshare.wait(PATIENCE);
    let elapsed = exited - sent;
    println!("TERM during resolution → exit as PID 1: {elapsed:?}");
    assert_eq!(
        status.code(),
        Some(128 + 15),
        "{status}; stderr: {}",
        pid1.unshare.stderr_text()
    );
    assert!(elapsed < PROMPTLY, "took {elapsed:?}");
    assert!(!dir.path().join("ran").exists(), "the child ran");
}

// ---------------------------------------------------------------------------------------------
// 6. Inherited stdio and systemd variables

const REPORT_STDIO: &str = r#"for fd in 0 1 2; do
  echo "child $fd $(readlink /proc/$$/fd/$fd)"
  echo "parent $fd $(readlink /proc/$PPID/fd/$fd)"
done
echo "parent-name $(cat /proc/$PPID/comm)"
echo "fd3 $(readlink /proc/$$/fd/3)"
echo "NOTIFY_SOCKET=$NOTIFY_SOCKET"
echo "LISTEN_FDS=$LISTEN_FDS"
read -r line
echo "stdin $line"
"#;

#[test]
fn stdio_is_inherited_and_systemd_variables_and_fds_pass_through() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixListener;

    let dir = support::temp_dir();
    let root = fs::canonicalize(dir.path()).unwrap();
    let stdin_path = support::write(&root, "stdin.txt", "from-stdin\n");
    // A listening socket passed as fd 3, as systemd socket activation does with LISTEN_FDS=1.
    let listener = UnixListener::bind(root.join("listen.sock")).unwrap();
    let listener_fd = listener.as_raw_fd();
    let socket = fs::read_link(format!("/proc/self/fd/{listener_fd}")).unwrap();
    let socket = socket.to_string_lossy().into_owned();

    for extra in [&[][..], &["--pristine"][..]] {
        for mode in MODES {
            let what = format!("{} mode {extra:?}", mode_name(mode));
            let tag = support::unique("stdio");
            let stdout_path = root.join(format!("{tag}.out"));
            let stderr_path = root.join(format!("{tag}.err"));
            let mut command = secretrun(
                &root,
                &args(extra, &args(mode, &["--", "sh", "-c", REPORT_STDIO])),
            );
            command
                .env("NOTIFY_SOCKET", "/run/test/notify")
                .env("LISTEN_FDS", "1")
                .stdin(fs::File::open(&stdin_path).unwrap())
                .stdout(fs::File::create(&stdout_path).unwrap())
                .stderr(fs::File::create(&stderr_path).unwrap());
            // SAFETY: dup2 and fcntl are async-signal-safe and act on the new process only.
            unsafe {
                command.pre_exec(move || {
                    use nix::libc;
                    // dup2 leaves the copy inheritable; onto itself it would change nothing.
                    let result = if listener_fd == 3 {
                        libc::fcntl(3, libc::F_SETFD, 0)
                    } else {
                        libc::dup2(listener_fd, 3)
                    };
                    if result == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let mut process = Group::spawn(command, "secretrun", Some(stderr_path.clone()));
            let (status, _) = process.wait(PATIENCE);
            let report = read(&stdout_path);
            assert_eq!(
                status.code(),
                Some(0),
                "{what}: {status}; {}",
                read(&stderr_path)
            );
            let line = |prefix: &str| {
                report
                    .lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .unwrap_or_else(|| panic!("{what}: no {prefix:?} in {report}"))
                    .to_owned()
            };
            let expected = [&stdin_path, &stdout_path, &stderr_path];
            for (fd, path) in expected.iter().enumerate() {
                let path = path.to_string_lossy();
                assert_eq!(line(&format!("child {fd} ")), path, "{what}: child fd {fd}");
                if mode_name(mode) == "supervise" {
                    assert_eq!(
                        line(&format!("parent {fd} ")),
                        path,
                        "{what}: secretrun fd {fd}"
                    );
                }
            }
            if mode_name(mode) == "supervise" {
                assert_eq!(line("parent-name "), "secretrun", "{what}");
            }
            assert_eq!(line("fd3 "), socket, "{what}: the passed socket");
            assert_eq!(line("NOTIFY_SOCKET="), "/run/test/notify", "{what}");
            assert_eq!(line("LISTEN_FDS="), "1", "{what}");
            assert_eq!(line("stdin "), "from-stdin", "{what}");
        }
    }
    drop(listener);
}

/// systemd's socket activation names the process that may take the descriptors in
/// LISTEN_PID. The shell execs secretrun, so `$$` is secretrun's PID when it reads LISTEN_PID.
#[test]
fn socket_activation_names_the_child_in_every_mode() {
    let dir = support::temp_dir();
    let probe = "echo \"$LISTEN_PID $$ $LISTEN_FDS\"";
    for (mode, listen_pid) in [
        ("--exec", "$$"),
        ("--supervise", "$$"),
        // Descriptors meant for another process stay meant for it.
        ("--supervise", "1"),
    ] {
        let script =
            format!("LISTEN_PID={listen_pid} LISTEN_FDS=1 exec \"$0\" {mode} --command '{probe}'");
        let mut command = Command::new("sh");
        command
            .args(["-c", &script, support::bin()])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", support::path())
            .env("XDG_CACHE_HOME", dir.path());
        let run = support::run(&mut command);
        assert_eq!(run.code, Some(0), "{mode}: {run:?}");
        let fields: Vec<&str> = run.stdout.split_whitespace().collect();
        assert_eq!(fields.len(), 3, "{mode}: {run:?}");
        match listen_pid {
            "1" => assert_eq!(fields[0], "1", "{run:?}"),
            _ => assert_eq!(
                fields[0], fields[1],
                "{mode}: LISTEN_PID is the command's: {run:?}"
            ),
        }
        assert_eq!(fields[2], "1");
    }
}

// ---------------------------------------------------------------------------------------------
// 7. --signal-group: the child's whole process group

/// The shell the child runs waits for `sleep` and dies only once it ends (a shell defers a
/// signal while it waits for a foreground command): the case the issue names.
const WAITING_SHELL: &[&str] = &["sh", "-c", "sleep 30; exit 3"];

/// secretrun's child `sh` and that shell's `sleep`, once both run.
fn shell_and_sleep(process: &mut Group) -> (Stat, Stat) {
    let secretrun = process.pid();
    process.await_until("sh and its sleep to start", || {
        let shell = children_of(secretrun)
            .into_iter()
            .find(|p| p.comm == "sh")?;
        let sleep = children_of(Pid::from_raw(shell.pid))
            .into_iter()
            .find(|p| p.comm == "sleep")?;
        Some((shell, sleep))
    })
}

fn group_of(pid: i32) -> Option<Pid> {
    nix::unistd::getpgid(Some(Pid::from_raw(pid))).ok()
}

#[test]
fn by_default_a_signal_reaches_only_the_child_not_its_process_group() {
    let dir = support::temp_dir();
    let mut command = secretrun(dir.path(), &args(&["--supervise", "--"], WAITING_SHELL));
    let (_, stderr) = capture(&mut command, dir.path());
    let mut process = Group::spawn(command, "secretrun --supervise", Some(stderr));
    let (shell, sleep) = shell_and_sleep(&mut process);
    // Without --signal-group the child stays in secretrun's group, as before.
    assert_eq!(group_of(shell.pid), Some(process.pid()));

    kill(process.pid(), Signal::SIGINT).unwrap();
    thread::sleep(Duration::from_secs(1));
    assert!(
        stat(sleep.pid).is_some_and(|s| s.state != 'Z'),
        "sleep got the SIGINT meant for sh alone"
    );
    assert!(
        process.status().is_none(),
        "secretrun ended although sh still waits for sleep: {}",
        process.stderr_text()
    );
}

#[test]
fn with_signal_group_a_sigint_stops_a_shell_and_the_command_it_waits_for_promptly() {
    let dir = support::temp_dir();
    let mut command = secretrun(dir.path(), &args(&["--signal-group", "--"], WAITING_SHELL));
    let (_, stderr) = capture(&mut command, dir.path());
    let mut process = Group::spawn(command, "secretrun --signal-group", Some(stderr));
    let (shell, sleep) = shell_and_sleep(&mut process);
    // The child leads a group of its own (not secretrun's), and its sleep is in it.
    let child_group = Pid::from_raw(shell.pid);
    assert_eq!(group_of(shell.pid), Some(child_group));
    assert_eq!(group_of(sleep.pid), Some(child_group));

    let sent = Instant::now();
    kill(process.pid(), Signal::SIGINT).unwrap();
    let (status, exited) = process.wait(PATIENCE);
    // Nothing of the child's group may outlive a failed assertion below.
    let _ = killpg(child_group, Signal::SIGKILL);
    assert!(
        exited - sent < PROMPTLY,
        "took {:?}: sleep did not get the signal",
        exited - sent
    );
    assert_eq!(
        status.signal(),
        Some(Signal::SIGINT as i32),
        "{status}; {}",
        process.stderr_text()
    );
    assert!(
        stat(sleep.pid).is_none_or(|s| s.state == 'Z'),
        "sleep still runs"
    );
}

#[test]
fn as_pid1_with_signal_group_a_term_stops_a_waiting_shell_promptly() {
    let dir = support::temp_dir();
    let mut pid1 = spawn_pid1(dir.path(), &args(&["--signal-group", "--"], WAITING_SHELL));
    pid1.unshare.await_until("sh and its sleep to start", || {
        let shell = children_of(pid1.pid).into_iter().find(|p| p.comm == "sh")?;
        children_of(Pid::from_raw(shell.pid))
            .into_iter()
            .find(|p| p.comm == "sleep")
    });
    let sent = Instant::now();
    kill(pid1.pid, Signal::SIGTERM).unwrap();
    let (status, exited) = pid1.unshare.wait(PATIENCE);
    assert!(exited - sent < PROMPTLY, "took {:?}", exited - sent);
    // As PID 1, a child killed by signal N is exit 128+N.
    assert_eq!(
        status.code(),
        Some(128 + Signal::SIGTERM as i32),
        "{status}; {}",
        pid1.unshare.stderr_text()
    );
}

#[test]
fn with_signal_group_on_a_terminal_the_child_group_takes_the_terminal_and_gets_ctrl_c_once() {
    let dir = support::temp_dir();
    support::write(
        dir.path(),
        "child.sh",
        "trap 'echo INT >> int.log; exit 4' INT\n\
         echo ready > ready\n\
         while :; do sleep 0.05; done\n",
    );
    let mut terminal = Terminal::start(
        dir.path(),
        r#""$SR" -vv --signal-group -- sh child.sh 2> secretrun.log; echo $? > exit.txt; sleep 30"#,
    );
    terminal.bash.await_file(&dir.path().join("ready"));
    let (secretrun, child) = secretrun_and_child_under(&mut terminal, "sh");
    assert_eq!(group_of(secretrun.pid), Some(terminal.bash.pid()));
    assert_eq!(group_of(child.pid), Some(Pid::from_raw(child.pid)));
    assert_eq!(
        nix::unistd::tcgetpgrp(terminal.master.as_fd()).unwrap(),
        Pid::from_raw(child.pid),
        "the child's group is not the terminal's foreground group"
    );

    terminal.ctrl_c();
    let exit_file = dir.path().join("exit.txt");
    let exit = terminal.bash.await_until("secretrun to exit", || {
        let text = read(&exit_file);
        text.ends_with('\n').then_some(text)
    });
    assert_eq!(
        exit.trim(),
        "4",
        "{}",
        read(&dir.path().join("secretrun.log"))
    );
    assert_eq!(lines(&dir.path().join("int.log")), ["INT"]);
    let log = read(&dir.path().join("secretrun.log"));
    assert_eq!(forwarded(&log, "SIGINT"), 0, "{log}");
    // secretrun gave the terminal back to its own group before exiting.
    assert_eq!(
        nix::unistd::tcgetpgrp(terminal.master.as_fd()).unwrap(),
        terminal.bash.pid()
    );
}
