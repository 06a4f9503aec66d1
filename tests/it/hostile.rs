//! Hostile input, one test per row of the README's table (*Reliability*): files and answers
//! built to hurt a parser or a process. Each must end in a clear error (exit 125, naming the
//! source, the file or the variable, never a value) or in the right result, within a bound,
//! without the command starting on half an environment.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{self, Run};

/// What no hostile input may make secretrun wait for (a loaded 2-core machine included).
const PATIENCE: Duration = Duration::from_secs(30);

/// The command the tests give: it prints `ran` if secretrun ever starts it.
const PROBE: [&str; 4] = ["--", "sh", "-c", "echo ran"];

fn run_in(dir: &Path, args: &[&str]) -> Run {
    support::run_in(dir, args, &[])
}

/// Exit 125 with `message` on stderr, and the command never ran.
fn refused(run: &Run, message: &str) {
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(message),
        "expected {message:?}: {run:?}"
    );
    assert!(!run.stdout.contains("ran"), "the command started: {run:?}");
}

#[test]
fn invalid_utf8_in_an_env_file_names_the_file() {
    let dir = support::temp_dir();
    fs::write(
        dir.path().join("bad.env"),
        b"A=ok\nB=\xff\xfe-hidden-value\n",
    )
    .unwrap();
    let run = run_in(dir.path(), &[&["-e", "bad.env"][..], &PROBE].concat());
    refused(&run, "secretrun: error: dotenv:bad.env: ");
    assert!(!run.stderr.contains("hidden-value"), "{run:?}");
}

#[test]
fn a_nul_byte_in_a_value_names_the_variable() {
    let dir = support::temp_dir();
    fs::write(dir.path().join("nul.env"), b"A=before\0after\n").unwrap();
    let run = run_in(dir.path(), &[&["-e", "nul.env"][..], &PROBE].concat());
    refused(
        &run,
        "dotenv:nul.env: variable A: the value contains a NUL byte",
    );
    assert!(!run.stderr.contains("before"), "{run:?}");
}

#[test]
fn a_10_mb_line_is_refused_by_name() {
    let dir = support::temp_dir();
    let line = format!("BIG={}\n", "x".repeat(10_000_000));
    fs::write(dir.path().join("big.env"), line).unwrap();
    let run = run_in(dir.path(), &[&["-e", "big.env"][..], &PROBE].concat());
    refused(
        &run,
        "dotenv:big.env: variable BIG: the value is 10000000 bytes; Linux refuses environment \
         entries over 131072 bytes",
    );
}

#[test]
fn a_100k_line_file_is_read_whole_and_too_large_an_environment_is_named() {
    let dir = support::temp_dir();
    let text: String = (0..100_000).map(|i| format!("V{i}=value-{i}\n")).collect();
    fs::write(dir.path().join("many.env"), text).unwrap();
    let run = run_in(dir.path(), &["-e", "many.env", "get", "V99999"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "value-99999"),
        "{run:?}"
    );
    // 1.7 MB of environment: execve refuses it (E2BIG), which secretrun says as such.
    let run = run_in(dir.path(), &[&["-e", "many.env"][..], &PROBE].concat());
    assert_eq!(run.code, Some(126), "{run:?}");
    assert!(
        run.stderr
            .contains("the argument list and environment are too large for execve (E2BIG)"),
        "{run:?}"
    );
}

#[test]
fn symlink_loops_are_named() {
    let dir = support::temp_dir();
    std::os::unix::fs::symlink("loop.env", dir.path().join("loop.env")).unwrap();
    let run = run_in(dir.path(), &[&["-e", "loop.env"][..], &PROBE].concat());
    refused(
        &run,
        "dotenv:loop.env: cannot read 'loop.env': Too many levels of symbolic links",
    );
    fs::create_dir(dir.path().join("secrets")).unwrap();
    std::os::unix::fs::symlink("KEY", dir.path().join("secrets/KEY")).unwrap();
    let run = run_in(dir.path(), &[&["-d", "secrets"][..], &PROBE].concat());
    refused(
        &run,
        "dir:secrets: cannot read 'secrets/KEY': Too many levels of symbolic links",
    );
}

#[test]
fn unreadable_files_are_named() {
    let dir = support::temp_dir();
    fs::create_dir(dir.path().join("a-directory")).unwrap();
    let run = run_in(dir.path(), &[&["-e", "a-directory"][..], &PROBE].concat());
    refused(
        &run,
        "dotenv:a-directory: cannot read 'a-directory': Is a directory",
    );
    // A file whose read fails (EIO), as a failing disk's would; chmod 000 cannot stand for one
    // here, since the tests run as root in CI.
    let run = run_in(
        dir.path(),
        &[&["-e", "/proc/self/mem"][..], &PROBE].concat(),
    );
    refused(&run, "cannot read '/proc/self/mem': Input/output error");
}

#[test]
fn a_fifo_nobody_writes_ends_at_the_deadline_and_a_pipe_with_a_writer_is_read() {
    let dir = support::temp_dir();
    nix::unistd::mkfifo(
        &dir.path().join("fifo.env"),
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
    )
    .unwrap();
    let started = Instant::now();
    let run = run_in(
        dir.path(),
        &[&["--deadline", "1s", "-e", "fifo.env"][..], &PROBE].concat(),
    );
    refused(&run, "dotenv:fifo.env: no answer within 1s");
    assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());

    // `--env-file <(sops -d .env)`: a pipe with a writer is read like a file.
    let mut command = support::secretrun(dir.path());
    command
        .args(["-e", "/dev/stdin", "--", "printenv", "FROM_PIPE"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM_PIPE=piped\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "piped\n");
}

#[test]
fn a_fifo_in_a_secrets_directory_is_refused_at_once() {
    let dir = support::temp_dir();
    fs::create_dir(dir.path().join("secrets")).unwrap();
    nix::unistd::mkfifo(
        &dir.path().join("secrets/KEY"),
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
    )
    .unwrap();
    // Before the fix this hung for good: the read blocked the thread that handles signals and
    // the deadline, so only SIGKILL ended it.
    let run = run_in(
        dir.path(),
        &[&["--deadline", "5s", "-d", "secrets"][..], &PROBE].concat(),
    );
    refused(
        &run,
        "dir:secrets: cannot read 'secrets/KEY': not a regular file (a FIFO, socket or device)",
    );
}

#[test]
fn an_endless_file_is_refused_after_64_mib() {
    let dir = support::temp_dir();
    let (run, max_rss_kib) =
        measured(support::secretrun(dir.path()).args([&["-e", "/dev/zero"][..], &PROBE].concat()));
    refused(
        &run,
        "dotenv:/dev/zero: cannot read '/dev/zero': larger than 64 MiB, the most secretrun reads \
         from one file",
    );
    println!("peak memory: {max_rss_kib} KiB");
    assert!(max_rss_kib < 512 * 1024, "peak memory {max_rss_kib} KiB");
}

// ---------------------------------------------------------------------------------------------
// Stores that misbehave: a raw HTTP server posing as Doppler.

/// What the fake store does after reading a request.
#[derive(Clone, Copy)]
enum Misbehaviour {
    /// Announces a 1 GiB JSON body (Content-Length), then sends it.
    AnnouncedGigabyte,
    /// Streams a JSON string without end (chunked, no length).
    Endless,
    /// Sends the headers, then nothing.
    Stall,
}

/// Serves every connection on 127.0.0.1 the way `misbehaviour` says; returns the base URL and
/// the count of body bytes sent so far.
fn fake_store(misbehaviour: Misbehaviour) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = counter.clone();
            thread::spawn(move || serve(stream, misbehaviour, &counter));
        }
    });
    (url, sent)
}

fn serve(mut stream: TcpStream, misbehaviour: Misbehaviour, sent: &AtomicUsize) {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => request.push(byte[0]),
            _ => return,
        }
    }
    let gigabyte = 1usize << 30;
    let head = match misbehaviour {
        Misbehaviour::AnnouncedGigabyte => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {gigabyte}\r\n\r\n"
        ),
        Misbehaviour::Endless => {
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_string()
        }
        Misbehaviour::Stall => {
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                .to_string()
        }
    };
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = vec![b'x'; 64 * 1024];
    match misbehaviour {
        Misbehaviour::Stall => thread::sleep(PATIENCE),
        Misbehaviour::AnnouncedGigabyte => {
            let _ = stream.write_all(b"{\"A\":\"");
            while sent.load(Ordering::Relaxed) < gigabyte && stream.write_all(&chunk).is_ok() {
                sent.fetch_add(chunk.len(), Ordering::Relaxed);
            }
        }
        Misbehaviour::Endless => {
            let _ = stream.write_all(b"6\r\n{\"A\":\"\r\n");
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            while sent.load(Ordering::Relaxed) < gigabyte && stream.write_all(&framed).is_ok() {
                sent.fetch_add(chunk.len(), Ordering::Relaxed);
            }
        }
    }
}

fn against_store(url: &str, extra: &[&str]) -> (Run, u64) {
    let dir = support::temp_dir();
    let mut command = support::secretrun(dir.path());
    command
        .env("DOPPLER_TOKEN", "dp.st.dev.hostile-test")
        .env("DOPPLER_API_HOST", url)
        .args(["--no-fallback", "-s", "doppler:*"])
        .args(extra)
        .args(PROBE);
    measured(&mut command)
}

/// Runs `command` to its end; its result and its peak memory (KiB): the largest `VmHWM` read
/// from /proc while it ran. (`wait4`'s `ru_maxrss` will not do: a process spawned by this big
/// test binary carries the binary's own peak across `execve`.) VmHWM only grows, so the last
/// read before the exit holds the peak unless it came in the last few milliseconds.
fn measured(command: &mut std::process::Command) -> (Run, u64) {
    let dir = support::temp_dir();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    command
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap());
    let mut child = command.spawn().unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        let high_water = fs::read_to_string(&status_file)
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok());
        peak = peak.max(high_water.unwrap_or(0));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        thread::sleep(Duration::from_millis(2));
    };
    assert!(peak > 0, "ended before its memory could be read");
    let run = Run {
        code: status.code(),
        signal: std::os::unix::process::ExitStatusExt::signal(&status),
        stdout: fs::read_to_string(out).unwrap_or_default(),
        stderr: fs::read_to_string(err).unwrap_or_default(),
    };
    (run, peak)
}

#[test]
fn a_1_gib_answer_is_refused_without_reading_it() {
    let (url, sent) = fake_store(Misbehaviour::AnnouncedGigabyte);
    let (run, max_rss_kib) = against_store(&url, &[]);
    refused(
        &run,
        "doppler:*: unexpected response: the Doppler secrets download response is larger than 32 \
         MiB",
    );
    println!("peak memory: {max_rss_kib} KiB");
    assert!(max_rss_kib < 256 * 1024, "peak memory {max_rss_kib} KiB");
    assert!(sent.load(Ordering::Relaxed) < 1 << 30, "read it all");
}

#[test]
fn an_endless_answer_is_cut_at_32_mib() {
    let (url, sent) = fake_store(Misbehaviour::Endless);
    let (run, max_rss_kib) = against_store(&url, &[]);
    refused(
        &run,
        "the Doppler secrets download response is larger than 32 MiB",
    );
    println!("peak memory: {max_rss_kib} KiB");
    assert!(max_rss_kib < 256 * 1024, "peak memory {max_rss_kib} KiB");
    // What the socket buffers held besides the 32 MiB read.
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent < 48 << 20, "{sent} bytes sent");
}

#[test]
fn a_store_that_sends_headers_then_stalls_fails_at_the_timeout() {
    let (url, _) = fake_store(Misbehaviour::Stall);
    let started = Instant::now();
    let (run, _) = against_store(&url, &["--timeout", "1s", "--deadline", "10s"]);
    refused(
        &run,
        "doppler:*: unexpected response: the Doppler secrets download response stalled before its \
         end",
    );
    assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
}
