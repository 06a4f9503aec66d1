//! Running the real binary with a clean environment, temp files, and the test servers.

#![allow(dead_code)]

mod tls;

pub use tls::{make_certificates, openssl, Certificates};

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Prefixes of ambient variables that would change what secretrun does; never inherited.
const SCRUBBED_PREFIXES: &[&str] = &["AWS_", "VAULT_", "DOPPLER_", "SECRETRUN_", "SECRETS_"];
const SCRUBBED_NAMES: &[&str] = &["CREDENTIALS_DIRECTORY", "BAO_ADDR", "BAO_TOKEN"];

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_secretrun")
}

/// `secretrun` with a scrubbed environment (PATH and HOME kept) in `dir`, with no config file.
pub fn secretrun(dir: &Path) -> Command {
    let mut command = Command::new(bin());
    command.env_clear();
    for (name, value) in std::env::vars_os() {
        let Some(text) = name.to_str() else { continue };
        let scrubbed =
            SCRUBBED_PREFIXES.iter().any(|p| text.starts_with(p)) || SCRUBBED_NAMES.contains(&text);
        if !scrubbed && matches!(text, "PATH" | "HOME" | "LANG" | "TMPDIR") {
            command.env(&name, &value);
        }
    }
    // The fallback snapshots of every test go under cargo's temp dir, never the user's cache.
    command.env(
        "XDG_CACHE_HOME",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"),
    );
    command.current_dir(dir).stdin(Stdio::null());
    command
}

/// The test process's PATH, handed on so `printenv` and `env` are found.
pub fn path() -> String {
    std::env::var("PATH").expect("PATH is set")
}

/// `secretrun` in `dir` whose parent environment is exactly PATH (so `printenv` and `env` are
/// found) and `vars`.
pub fn secretrun_with(dir: &Path, vars: &[(&str, &str)]) -> Command {
    let mut command = secretrun(dir);
    command.env_clear().env("PATH", path());
    command.envs(vars.iter().copied());
    command
}

/// The result of a run, with stdout and stderr as text.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        use std::os::unix::process::ExitStatusExt;
        Run {
            code: output.status.code(),
            signal: output.status.signal(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

pub fn run(command: &mut Command) -> Run {
    command.output().expect("secretrun runs").into()
}

/// Runs secretrun in `dir` with `args` and extra environment.
pub fn run_in<I, S>(dir: &Path, args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = secretrun(dir);
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    run(&mut command)
}

pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, content).unwrap();
    path
}

/// Where `scripts/setup-test-deps` installs the test servers' binaries.
pub fn venv_bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("SECRETRUN_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    let path = dir.join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/test (or scripts/setup-test-deps) first; tests that need a \
         server fail rather than skip",
        path.display()
    );
    path
}

/// A free TCP port on 127.0.0.1 (bound and released; the server binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A unique name for test isolation on a shared server.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Starts a long-running server process that dies with the test binary, however the binary ends.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that spawned the child exits, so servers are
/// spawned from one thread that lives as long as the process.
pub fn spawn_server(mut command: Command) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc;
    use std::sync::{Mutex, OnceLock};

    type Request = (Command, mpsc::Sender<std::io::Result<std::process::Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (send, receive) = mpsc::channel::<Request>();
        std::thread::spawn(move || {
            for (mut command, reply) in receive {
                let _ = reply.send(command.spawn());
            }
            // The channel lives in a static and is never closed, so this thread never ends.
        });
        Mutex::new(send)
    });
    // SAFETY: prctl is async-signal-safe and touches only the new process.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)
        });
    }
    let (reply, answer) = mpsc::channel();
    spawner
        .lock()
        .unwrap()
        .send((command, reply))
        .expect("spawner thread alive");
    answer
        .recv()
        .expect("spawner answers")
        .unwrap_or_else(|err| panic!("cannot start a test server: {err}"))
}

/// A stand-in server of `tests/servers/` (`doppler_stub.py`, `azure_stub.py`, `gcp_stub.py`),
/// started on a free port with its data file in `dir`, alive as long as the test binary.
pub struct StubServer {
    pub url: String,
    pub data_path: PathBuf,
    // Kept so the process and its stdout pipe live as long as the test binary; the stub dies
    // with the binary (`spawn_server` sets PR_SET_PDEATHSIG).
    _process: std::process::Child,
    _stdout: std::process::ChildStdout,
}

impl StubServer {
    pub fn start(dir: &Path, script: &str, data: &serde_json::Value) -> StubServer {
        use std::io::{BufRead, BufReader};
        let data_path = dir.join("data.json");
        write_atomically(&data_path, data);
        let log_path = dir.join("stub.log");
        let log = std::fs::File::create(&log_path).expect("stub log");
        let mut command = Command::new("python3");
        command
            .arg(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/servers")
                    .join(script),
            )
            .arg("--data")
            .arg(&data_path)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // The stub logs every request; a file never fills up and blocks it as a pipe would.
            .stderr(log);
        let mut process = spawn_server(command);
        let mut stdout = process.stdout.take().expect("stub stdout");
        let mut line = String::new();
        BufReader::new(&mut stdout)
            .read_line(&mut line)
            .expect("stub stdout readable");
        let Some(address) = line.trim().strip_prefix("listening on ") else {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("{script} did not start (stdout {line:?}); its log:\n{log}");
        };
        StubServer {
            url: format!("http://{address}"),
            data_path,
            _process: process,
            _stdout: stdout,
        }
    }
}

/// Writes a temp file and renames it over `path`: a stub re-reads its data file on every
/// request and must never see it half-written.
pub fn write_atomically(path: &Path, data: &serde_json::Value) {
    let temp = path.with_extension("json.new");
    std::fs::write(&temp, serde_json::to_vec_pretty(data).unwrap()).expect("write stub data");
    std::fs::rename(&temp, path).expect("replace stub data");
}
