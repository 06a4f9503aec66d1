//! `--mount` and `--file`: secrets written as files for the real binary's child, with mode
//! 0600, removed when the child exits or secretrun dies of a forwarded signal; `--mount memfd`
//! in exec mode. Every child runs `sh -c` and reports what it saw on stdout.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::support;

const PATIENCE: Duration = Duration::from_secs(20);

/// The child's report: the mode of `$SECRETRUN_MOUNT`, its content, and whether API_TOKEN is in
/// its environment.
const REPORT: &str = "stat -c %a \"$SECRETRUN_MOUNT\"; cat \"$SECRETRUN_MOUNT\"; \
                      printenv API_TOKEN || echo unset";

/// A directory with a `.env` file of two secrets; the parent environment has only PATH.
fn setup() -> tempfile::TempDir {
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", "API_TOKEN='t0k\"en'\nDB_PASS=pw\n");
    dir
}

fn secretrun(dir: &Path, args: &[&str], script: &str) -> Command {
    let mut command = support::secretrun_with(dir, &[]);
    command
        .args(["--env-file", ".env"])
        .args(args)
        .args(["--", "sh", "-c", script]);
    command
}

fn mount_with(format: &str, expected: &str) {
    let dir = setup();
    let mount = dir.path().join("secrets.out");
    let run = support::run(&mut secretrun(
        dir.path(),
        &["--mount", mount.to_str().unwrap(), "--mount-format", format],
        REPORT,
    ));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("600\n{expected}unset\n"), "{format}");
    assert!(
        !mount.exists(),
        "the mount is removed after the child exits"
    );
}

#[test]
fn mount_dotenv_is_0600_while_the_child_runs_and_gone_after() {
    mount_with("dotenv", "API_TOKEN=\"t0k\\\"en\"\nDB_PASS=\"pw\"\n");
}

#[test]
fn mount_json() {
    mount_with(
        "json",
        "{\n  \"API_TOKEN\": \"t0k\\\"en\",\n  \"DB_PASS\": \"pw\"\n}\n",
    );
}

#[test]
fn mount_env() {
    mount_with("env", "API_TOKEN=t0k\"en\nDB_PASS=pw\n");
}

#[test]
fn mount_is_the_default_dotenv_and_keep_env_keeps_the_variables() {
    let dir = setup();
    let mount = dir.path().join("m");
    let run = support::run(&mut secretrun(
        dir.path(),
        &["--mount", mount.to_str().unwrap(), "--mount-keep-env"],
        REPORT,
    ));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "600\nAPI_TOKEN=\"t0k\\\"en\"\nDB_PASS=\"pw\"\nt0k\"en\n"
    );
    assert!(!mount.exists());
}

#[test]
fn mount_env_refuses_a_value_with_a_line_break() {
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", "PEM=\"a\\nb\"\n");
    let mount = dir.path().join("m");
    let started = dir.path().join("started");
    let run = support::run(&mut secretrun(
        dir.path(),
        &["--mount", mount.to_str().unwrap(), "--mount-format", "env"],
        &format!("touch {}", started.display()),
    ));
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .starts_with("secretrun: error: variable PEM: the value contains a line break"),
        "{}",
        run.stderr
    );
    assert!(!started.exists() && !mount.exists());
}

#[test]
fn relative_mount_goes_under_xdg_runtime_dir() {
    let dir = setup();
    let runtime = dir.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    let mut command = secretrun(
        dir.path(),
        &["--mount", "app.env"],
        "echo \"$SECRETRUN_MOUNT\"",
    );
    command.env("XDG_RUNTIME_DIR", &runtime);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        format!("{}\n", runtime.join("app.env").display())
    );
    assert_eq!(std::fs::read_dir(&runtime).unwrap().count(), 0);
}

#[test]
fn mount_refuses_an_existing_file_and_the_child_never_starts() {
    let dir = setup();
    let mount = support::write(dir.path(), "existing", "keep me");
    let started = dir.path().join("started");
    let run = support::run(&mut secretrun(
        dir.path(),
        &["--mount", mount.to_str().unwrap()],
        &format!("touch {}", started.display()),
    ));
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "secretrun: error: '{}' already exists; --mount and --file create their file and \
             never replace one\n",
            mount.display()
        )
    );
    assert!(!started.exists());
    assert_eq!(std::fs::read_to_string(&mount).unwrap(), "keep me");
}

#[test]
fn mount_with_exec_is_refused() {
    let dir = setup();
    let mount = dir.path().join("m");
    let run = support::run(&mut secretrun(
        dir.path(),
        &["--exec", "--mount", mount.to_str().unwrap()],
        "true",
    ));
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("use memfd instead of the PATH in exec mode"),
        "{}",
        run.stderr
    );
    assert!(!mount.exists());
    // A source's ?file=PATH as well.
    let spec = format!("file:.env?file={}#ALL", mount.display());
    let run = support::run(&mut secretrun(
        dir.path(),
        &["--exec", "--source", &spec],
        "true",
    ));
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("(--mount, --file, ?file=)"), "{run:?}");
    assert!(!mount.exists());
}

/// Kills the whole process group when dropped, so a failing test leaves nothing running.
struct Group(Pid);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = killpg(self.0, Signal::SIGKILL);
    }
}

#[test]
fn mount_is_removed_when_secretrun_dies_of_term() {
    let dir = setup();
    let mount = dir.path().join("m");
    let ready = dir.path().join("ready");
    let mut command = secretrun(
        dir.path(),
        &["--mount", mount.to_str().unwrap()],
        &format!("touch {}; exec sleep 60", ready.display()),
    );
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = command.spawn().expect("secretrun starts");
    let pid = Pid::from_raw(child.id() as i32);
    let _group = Group(pid);
    let deadline = Instant::now() + PATIENCE;
    while !ready.exists() {
        assert!(child.try_wait().unwrap().is_none(), "secretrun ended early");
        assert!(Instant::now() < deadline, "the child never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(mount.exists(), "the mount exists while the child runs");
    kill(pid, Signal::SIGTERM).unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "secretrun did not exit after TERM"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(status.signal(), Some(Signal::SIGTERM as i32), "{status}");
    assert!(
        !mount.exists(),
        "the mount is removed before secretrun dies"
    );
}

/// A secret with line breaks and a byte that is not UTF-8, from a secrets directory (which
/// trims one final newline).
const PEM: &[u8] = b"-----BEGIN KEY-----\nab\xffc\n-----END KEY-----\n";

fn key_dir() -> tempfile::TempDir {
    let dir = support::temp_dir();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(dir.path().join("secrets/KEY"), [PEM, b"\n"].concat()).unwrap();
    std::fs::write(dir.path().join("expected"), PEM).unwrap();
    dir
}

#[test]
fn file_writes_raw_bytes_0600_sets_name_file_and_is_removed() {
    let dir = key_dir();
    let key = dir.path().join("key.pem");
    let mut command = support::secretrun_with(dir.path(), &[]);
    command
        .args(["--secrets-dir", "secrets", "--file"])
        .arg(format!("KEY={}", key.display()))
        .args([
            "--",
            "sh",
            "-c",
            "echo \"$KEY_FILE\"; stat -c %a \"$KEY_FILE\"; cmp \"$KEY_FILE\" expected && echo \
             same; printenv KEY >/dev/null || echo unset",
        ]);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("{}\n600\nsame\nunset\n", key.display()));
    assert!(!key.exists(), "the file is removed after the child exits");
}

#[test]
fn file_with_an_unresolved_name_fails_before_the_child_starts() {
    let dir = key_dir();
    let started = dir.path().join("started");
    let key = dir.path().join("nope.pem");
    let mut command = support::secretrun_with(dir.path(), &[]);
    command
        .args(["--secrets-dir", "secrets", "--file"])
        .arg(format!("NOPE={}", key.display()))
        .args(["--", "touch"])
        .arg(&started);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stderr,
        "secretrun: error: variable NOPE is not set: no source sets it and the environment does \
         not have it\n"
    );
    assert!(!started.exists() && !key.exists());
}

#[test]
fn memfd_mount_works_in_exec_mode_without_a_file() {
    let dir = setup();
    let before: Vec<PathBuf> = listing(dir.path());
    let mut command = secretrun(
        dir.path(),
        &["--mount", "memfd", "--mount-format", "json"],
        "echo $$; echo \"$SECRETRUN_MOUNT\"; readlink \"$SECRETRUN_MOUNT\"; \
         cat \"$SECRETRUN_MOUNT\"; printenv API_TOKEN || echo unset",
    );
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.spawn().expect("secretrun starts");
    let pid = child.id();
    let run: support::Run = child.wait_with_output().unwrap().into();
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    // Exec mode: the shell is the process secretrun was.
    assert_eq!(lines[0], pid.to_string(), "{run:?}");
    assert!(lines[1].starts_with("/dev/fd/"), "{run:?}");
    assert!(lines[2].starts_with("/memfd:secretrun-mount"), "{run:?}");
    assert_eq!(
        lines[3..].join("\n"),
        "{\n  \"API_TOKEN\": \"t0k\\\"en\",\n  \"DB_PASS\": \"pw\"\n}\nunset"
    );
    assert_eq!(listing(dir.path()), before, "nothing was written to disk");
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths
}

#[test]
fn mount_template_renders_what_sources_set() {
    let dir = setup();
    support::write(
        dir.path(),
        "app.tmpl",
        "token: {{ API_TOKEN|tojson }}\nurl: postgres://app:{{ DB_PASS|urlencode }}@db/app\n\
         {% for name, value in secrets|items %}{{ name }}\n{% endfor %}",
    );
    let mount = dir.path().join("app.yaml");
    let run = support::run(&mut secretrun(
        dir.path(),
        &[
            "--mount",
            mount.to_str().unwrap(),
            "--mount-format",
            "template",
            "--mount-template",
            "app.tmpl",
        ],
        REPORT,
    ));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "600\ntoken: \"t0k\\\"en\"\nurl: postgres://app:pw@db/app\nAPI_TOKEN\nDB_PASS\nunset\n"
    );
    assert!(
        !mount.exists(),
        "the mount is removed after the child exits"
    );
}

#[test]
fn mount_template_in_memory_works_in_exec_mode() {
    let dir = setup();
    support::write(dir.path(), "t", "{{ DB_PASS }}\n");
    let run = support::run(&mut secretrun(
        dir.path(),
        &[
            "--mount",
            "memfd",
            "--mount-format",
            "template",
            "--mount-template",
            "t",
        ],
        "cat \"$SECRETRUN_MOUNT\"; printenv DB_PASS || echo unset",
    ));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "pw\nunset\n");
}

#[test]
fn mount_template_flags_are_checked_before_anything_runs() {
    let dir = setup();
    support::write(dir.path(), "t", "{{ DB_PASS }}\n");
    let started = dir.path().join("started");
    let touch = format!("touch {}", started.display());
    let cases: [(&[&str], &str); 3] = [
        (
            &["--mount", "m", "--mount-format", "template"],
            "--mount-format template: needs --mount-template FILE, the template to render",
        ),
        (
            &["--mount", "m", "--mount-template", "t"],
            "--mount-template: only --mount-format template uses it (the format is dotenv); add \
             --mount-format template",
        ),
        (
            &[
                "--mount",
                "m",
                "--mount-format",
                "template",
                "--mount-template",
                "nope",
            ],
            "--mount-template: cannot read 'nope': No such file or directory (os error 2)",
        ),
    ];
    for (args, error) in cases {
        let run = support::run(&mut secretrun(dir.path(), args, &touch));
        assert_eq!(run.code, Some(125), "{args:?}: {run:?}");
        assert_eq!(
            run.stderr,
            format!("secretrun: error: {error}\n"),
            "{args:?}"
        );
        assert!(!started.exists());
    }
}

#[test]
fn mount_template_error_names_the_file_and_line_and_never_a_value() {
    const SECRET: &str = "98765432109876543210987654321";
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", &format!("BIG={SECRET}\n"));
    // minijinja's own message for this overflow quotes both operands.
    support::write(dir.path(), "t", "ok\n{{ BIG|int * BIG|int }}\n");
    let mount = dir.path().join("m");
    let started = dir.path().join("started");
    let run = support::run(&mut secretrun(
        dir.path(),
        &[
            "--mount",
            mount.to_str().unwrap(),
            "--mount-format",
            "template",
            "--mount-template",
            "t",
            "-vvv",
        ],
        &format!("touch {}", started.display()),
    ));
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(!run.stderr.contains("98765"), "{}", run.stderr);
    assert!(
        run.stderr.ends_with(
            "secretrun: error: --mount-template: 't', line 2: invalid operation (the details are \
             left out: they may quote a value)\n"
        ),
        "{}",
        run.stderr
    );
    assert!(!started.exists() && !mount.exists());
}

#[test]
fn a_sources_file_option_writes_its_one_value_under_its_name() {
    let dir = key_dir();
    let key = dir.path().join("tls.pem");
    let spec = format!("file:secrets/KEY?file={}", key.display());
    let mut command = support::secretrun_with(dir.path(), &[]);
    command.args(["--source", &spec, "--", "sh", "-c"]).arg(
        "echo \"$KEY_FILE\"; stat -c %a \"$KEY_FILE\"; cmp \"$KEY_FILE\" expected && echo same; \
         printenv KEY >/dev/null || echo unset",
    );
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("{}\n600\nsame\nunset\n", key.display()));
    assert!(!key.exists(), "the file is removed after the child exits");
}

#[test]
fn file_memfd_works_in_exec_mode_for_a_flag_and_a_source() {
    let dir = key_dir();
    let before = listing(dir.path());
    let mut command = support::secretrun_with(dir.path(), &[]);
    command
        .args(["--source", "file:secrets/KEY?file=memfd#TLS_KEY"])
        .args(["--secrets-dir", "secrets", "--file", "KEY=memfd"])
        .args(["--", "sh", "-c"])
        .arg(
            "echo $$; readlink \"$KEY_FILE\"; cmp \"$KEY_FILE\" expected && echo same; \
             cmp \"$TLS_KEY_FILE\" expected && echo same too",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("secretrun starts");
    let pid = child.id();
    let run: support::Run = child.wait_with_output().unwrap().into();
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    // Exec mode: nothing had to stay to remove a file.
    assert_eq!(lines[0], pid.to_string(), "{run:?}");
    assert!(lines[1].starts_with("/memfd:secretrun-file"), "{run:?}");
    assert_eq!(lines[2..], ["same", "same too"], "{run:?}");
    assert_eq!(listing(dir.path()), before, "nothing was written to disk");
}

#[test]
fn a_file_option_on_a_source_of_many_values_fails_before_the_child_starts() {
    let dir = setup();
    let started = dir.path().join("started");
    let mut command = support::secretrun_with(dir.path(), &[]);
    command
        .args(["--source", "dotenv:.env?file=memfd", "--", "touch"])
        .arg(&started);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stderr,
        "secretrun: error: ?file=: dotenv:.env?file=memfd: ?file= takes a source that sets one \
         value, and it sets 2: API_TOKEN, DB_PASS\n"
    );
    assert!(!started.exists());
    // And a value the source no longer gives the command (overridden) is no file either.
    let mut command = support::secretrun_with(dir.path(), &[("API_TOKEN", "from-parent")]);
    command
        .args(["--preserve-env=API_TOKEN", "--source"])
        .arg("file:.env?file=memfd#API_TOKEN")
        .args(["--", "touch"])
        .arg(&started);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("it sets no value the command gets"),
        "{run:?}"
    );
    assert!(!started.exists());
}
