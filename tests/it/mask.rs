//! `--mask-output`: the real binary around real children, output read through pipes.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::support;

/// How long anything that should happen may take before a test gives up.
const PATIENCE: Duration = Duration::from_secs(20);
/// The loose bound for "promptly" (the child sleeps far longer than this).
const PROMPTLY: Duration = Duration::from_secs(2);

const NAME: &str = "API_TOKEN";
const VALUE: &str = "Zq9-s3cret/Val+ue";
const MASKED: &str = "[secretrun:API_TOKEN]";

/// A directory with `secrets/API_TOKEN` (a `--secrets-dir` source, no .env file).
fn setup(value: &str) -> tempfile::TempDir {
    let dir = support::temp_dir();
    support::write(dir.path(), &format!("secrets/{NAME}"), value);
    dir
}

/// `secretrun --secrets-dir secrets --mask-output -- sh -c SCRIPT`, leading its own group.
fn masked(dir: &Path, script: &str) -> Command {
    let mut command = support::secretrun(dir);
    command
        .args([
            "--secrets-dir",
            "secrets",
            "--mask-output",
            "--",
            "sh",
            "-c",
        ])
        .arg(script)
        .process_group(0);
    command
}

/// Runs to the end with piped stdout and stderr; kills the group if it takes too long.
fn output(mut command: Command) -> Output {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.spawn().expect("secretrun starts");
    let group = Pid::from_raw(child.id() as i32);
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(PATIENCE) {
        Ok(output) => output.expect("secretrun output"),
        Err(_) => {
            let _ = killpg(group, Signal::SIGKILL);
            panic!("secretrun did not finish within {PATIENCE:?}");
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn mask_a_secret_on_stdout_and_stderr_is_replaced_by_its_name() {
    let dir = setup(VALUE);
    let mut command = masked(
        dir.path(),
        "printf 'out %s.\\n' \"$API_TOKEN\"; printf 'err %s.\\n' \"$API_TOKEN\" >&2; \
         printf 'parent %s\\n' \"$PLAIN\"",
    );
    // A value of the parent environment is not a secret: it passes as it is.
    command.env("PLAIN", "parent-value-not-secret");
    let out = output(command);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("out {MASKED}.\nparent parent-value-not-secret\n")
    );
    assert_eq!(text(&out.stderr), format!("err {MASKED}.\n"));
}

#[test]
fn mask_base64_and_url_encoded_forms_are_replaced() {
    let dir = setup(VALUE);
    let standard = base64::engine::general_purpose::STANDARD;
    let url_safe = base64::engine::general_purpose::URL_SAFE;
    let basic = standard.encode(format!("user:{VALUE}"));
    let plain = standard.encode(VALUE);
    let token = url_safe.encode(format!("xy{VALUE}"));
    let percent = "Zq9-s3cret%2FVal%2Bue";
    let form = "Zq9-s3cret%2FVal%2Bue";
    let script = format!(
        "echo 'Authorization: Basic {basic}'; echo '{plain}'; echo '{token}'; \
         echo 'https://x/?t={percent}&f={form}'"
    );
    let out = output(masked(dir.path(), &script));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for encoded in [&basic, &plain, &token] {
        // The part of the encoding that depends on the value alone is gone.
        let core = &encoded[encoded.len() / 2 - 4..encoded.len() / 2 + 4];
        assert!(!stdout.contains(core), "{encoded} left in:\n{stdout}");
    }
    assert_eq!(stdout.matches(MASKED).count(), 5, "{stdout}");
    assert!(
        stdout.ends_with(&format!("https://x/?t={MASKED}&f={MASKED}\n")),
        "{stdout}"
    );
}

#[test]
fn mask_a_value_split_across_two_writes_is_still_replaced() {
    let dir = setup("abcdef");
    let out = output(masked(
        dir.path(),
        "printf 'x abc'; sleep 0.2; printf 'def y\\n'; printf 'abc' >&2; sleep 0.2; \
         printf 'def\\n' >&2",
    ));
    assert_eq!(text(&out.stdout), format!("x {MASKED} y\n"));
    assert_eq!(text(&out.stderr), format!("{MASKED}\n"));
}

#[test]
fn mask_other_output_passes_byte_for_byte_and_promptly() {
    let dir = setup(VALUE);
    // Every byte value, twice: output that is not a secret is not touched.
    let bytes: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
    std::fs::write(dir.path().join("bytes"), &bytes).unwrap();
    let out = output(masked(dir.path(), "cat bytes; cat bytes >&2"));
    assert_eq!(out.stdout, bytes);
    assert_eq!(out.stderr, bytes);

    // A line is visible while the child is still running.
    let mut command = masked(dir.path(), "echo ready; sleep 5; echo done");
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let group = Pid::from_raw(child.id() as i32);
    let mut stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buffer = [0u8; 256];
        while let Ok(read) = stdout.read(&mut buffer) {
            if read == 0 {
                break;
            }
            seen.extend_from_slice(&buffer[..read]);
            let _ = sender.send(seen.clone());
        }
    });
    let started = Instant::now();
    let mut seen = Vec::new();
    while seen != b"ready\n" && started.elapsed() < PROMPTLY {
        if let Ok(now) = receiver.recv_timeout(PROMPTLY.saturating_sub(started.elapsed())) {
            seen = now;
        }
    }
    let running = child.try_wait().unwrap().is_none();
    let _ = killpg(group, Signal::SIGKILL);
    let _ = child.wait();
    assert_eq!(text(&seen), "ready\n", "after {:?}", started.elapsed());
    assert!(running, "the line came only when the child had ended");
}

#[test]
fn mask_exit_codes_and_death_by_signal_pass_through_after_all_output() {
    let dir = setup(VALUE);
    for code in [0, 3, 255] {
        let script = format!("printf 'last %s' \"$API_TOKEN\"; exit {code}");
        let out = output(masked(dir.path(), &script));
        assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), format!("last {MASKED}"));
    }
    let out = output(masked(dir.path(), "echo bye; kill -TERM $$"));
    assert_eq!(out.status.signal(), Some(Signal::SIGTERM as i32));
    assert_eq!(text(&out.stdout), "bye\n");
}

#[test]
fn mask_large_output_passes_intact_with_masking() {
    let dir = setup(VALUE);
    // 5 MB of lines (letters the value and its encodings do not end or start with) with the
    // value at intervals that fall across every read boundary sooner or later.
    let mut input = Vec::with_capacity(5 << 20);
    let mut expected = Vec::with_capacity(5 << 20);
    let mut n: u64 = 0;
    while input.len() < 5 << 20 {
        n += 1;
        let line = format!("line {n} {}\n", "abcdefghijklmnop".repeat((n % 7) as usize));
        input.extend_from_slice(line.as_bytes());
        expected.extend_from_slice(line.as_bytes());
        if n % 97 == 0 {
            input.extend_from_slice(VALUE.as_bytes());
            expected.extend_from_slice(MASKED.as_bytes());
        }
    }
    std::fs::write(dir.path().join("big"), &input).unwrap();
    let out = output(masked(dir.path(), "cat big; cat big >&2"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout.len(), expected.len());
    assert!(out.stdout == expected, "stdout differs");
    assert!(out.stderr == expected, "stderr differs");
}

#[test]
fn mask_output_cannot_be_combined_with_exec() {
    let dir = setup(VALUE);
    let out = output({
        let mut command = support::secretrun(dir.path());
        command.args(["--exec", "--mask-output", "--", "true"]);
        command
    });
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("--mask-output"),
        "{}",
        text(&out.stderr)
    );
}

/// Reads a pseudo-terminal's master side until every process closed the other side.
fn read_terminal(master: std::os::fd::OwnedFd) -> String {
    let mut master = std::fs::File::from(master);
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match master.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => seen.extend_from_slice(&buffer[..read]),
            // Linux reports the end of a pseudo-terminal as EIO.
            Err(error) if error.raw_os_error() == Some(nix::libc::EIO) => break,
            Err(error) => panic!("reading the terminal: {error}"),
        }
    }
    text(&seen)
}

#[test]
fn mask_on_a_terminal_the_child_gets_a_terminal_and_its_output_is_masked() {
    let dir = setup(VALUE);
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut command = masked(
        dir.path(),
        "test -t 1 && echo \"tty $API_TOKEN\"; test -t 2 && echo \"err $API_TOKEN\" >&2; exit 4",
    );
    command
        .stdout(Stdio::from(pty.slave.try_clone().unwrap()))
        .stderr(Stdio::from(pty.slave));
    let mut child = command.spawn().unwrap();
    // Our copies of the terminal's slave side go, so its end is seen.
    drop(command);
    let group = Pid::from_raw(child.id() as i32);
    let (sender, receiver) = mpsc::channel();
    let master = pty.master;
    std::thread::spawn(move || {
        let _ = sender.send(read_terminal(master));
    });
    let Ok(seen) = receiver.recv_timeout(PATIENCE) else {
        let _ = killpg(group, Signal::SIGKILL);
        panic!("secretrun did not finish within {PATIENCE:?}");
    };
    assert_eq!(child.wait().unwrap().code(), Some(4));
    // The outer terminal turns "\n" into "\r\n"; the inner one passes bytes as they are.
    assert_eq!(seen, format!("tty {MASKED}\r\nerr {MASKED}\r\n"));
}

#[test]
fn mask_on_a_terminal_with_stderr_elsewhere_stderr_is_masked_separately() {
    let dir = setup(VALUE);
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut command = masked(
        dir.path(),
        "test -t 1 && echo \"tty $API_TOKEN\"; test -t 2 || echo \"pipe $API_TOKEN\" >&2",
    );
    command
        .stdout(Stdio::from(pty.slave))
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    drop(command);
    let group = Pid::from_raw(child.id() as i32);
    let mut stderr = child.stderr.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    let master = pty.master;
    std::thread::spawn(move || {
        let _ = sender.send(read_terminal(master));
    });
    let Ok(seen) = receiver.recv_timeout(PATIENCE) else {
        let _ = killpg(group, Signal::SIGKILL);
        panic!("secretrun did not finish within {PATIENCE:?}");
    };
    let mut errors = String::new();
    stderr.read_to_string(&mut errors).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{errors}");
    assert_eq!(seen, format!("tty {MASKED}\r\n"));
    assert_eq!(errors, format!("pipe {MASKED}\n"));
}

#[test]
fn mask_on_a_terminal_a_window_size_change_reaches_the_childs_terminal() {
    use nix::pty::Winsize;
    let size = |rows, cols| Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let dir = setup(VALUE);
    let pty = nix::pty::openpty(Some(&size(24, 80)), None).unwrap();
    // The child prints its own terminal's size at start and again on SIGWINCH.
    let mut command = masked(
        dir.path(),
        "trap 'stty -F /dev/stdout size; exit 0' WINCH; stty -F /dev/stdout size; \
         while :; do sleep 0.05; done",
    );
    command
        .stdout(Stdio::from(pty.slave.try_clone().unwrap()))
        .stderr(Stdio::from(pty.slave));
    let mut child = command.spawn().unwrap();
    drop(command);
    let group = Pid::from_raw(child.id() as i32);
    let mut master = std::fs::File::from(pty.master.try_clone().unwrap());
    let (sender, chunks) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read) = master.read(&mut buffer) {
            if read == 0 || sender.send(buffer[..read].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let mut await_text = |want: &str| {
        let deadline = Instant::now() + PATIENCE;
        while !seen.contains(want) {
            let left = deadline.saturating_duration_since(Instant::now());
            match chunks.recv_timeout(left) {
                Ok(chunk) => seen.push_str(&text(&chunk)),
                Err(_) => {
                    let _ = killpg(group, Signal::SIGKILL);
                    panic!("no {want:?} on the terminal; saw {seen:?}");
                }
            }
        }
    };
    await_text("24 80");
    // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer.
    let resized = unsafe {
        nix::libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&pty.master),
            nix::libc::TIOCSWINSZ,
            &size(50, 132),
        )
    };
    assert_eq!(resized, 0);
    nix::sys::signal::kill(group, Signal::SIGWINCH).unwrap();
    await_text("50 132");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
