//! The everyday subcommands against the real binary: `get`, `export`, `scan` and `check`
//! (`doctor`), with exact output for every report format and every refusal, then each against
//! the provider fixtures, then a hygiene sweep (no value where none belongs, even at -vvv).

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine;

use crate::contract::Fixture;
use crate::support::{self, Run};

fn invoke(dir: &Path, args: &[&str]) -> Run {
    support::run_in(dir, args, &[])
}

fn error(line: &str) -> String {
    format!("secretrun: error: {line}\n")
}

/// A secrets directory with values that each format must escape its own way.
fn tricky_dir(d: &Path) {
    for (name, value) in [
        ("QUOTES", "she said \"hi\" & it's"),
        ("DOLLAR", "$HOME ${PATH} `$(id)`"),
        ("BACKSLASH", "C:\\new\\table\\\\"),
        ("UNICODE", "héllo wörld ✓ 🔑"),
        ("SPACES", "  padded  "),
    ] {
        // The dir: source trims one trailing newline; these values have none to lose.
        support::write(d, &format!("secrets/{name}"), value);
    }
}

fn with_multiline(d: &Path) {
    support::write(d, "secrets/MULTI", "line one\nline two");
}

// ---------------------------------------------------------------------------------------------
// get

#[test]
fn get_prints_the_raw_value_without_a_newline_off_a_terminal() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    with_multiline(d);
    support::write(d, "secrets/TRAILING", "ends with a newline\n\n");
    let run = invoke(d, &["-d", "secrets", "get", "MULTI"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "line one\nline two");
    assert_eq!(run.stderr, "");
    // The dir source trims one newline; the other is the value's own and survives the pipe.
    let run = invoke(d, &["-d", "secrets", "get", "TRAILING"]);
    assert_eq!(run.stdout, "ends with a newline\n");
    // The `--source` flag is the global one, after `get` too; inherited names can be read.
    let run = invoke(d, &["get", "UNICODE", "--source", "dir:secrets"]);
    assert_eq!(run.stdout, "héllo wörld ✓ 🔑");
    let run = support::run_in(d, ["get", "INHERITED"], &[("INHERITED", "from-parent")]);
    assert_eq!(run.stdout, "from-parent");
}

#[test]
fn get_a_missing_name_fails_with_125() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    let run = invoke(d, &["-d", "secrets", "get", "NOPE"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        error("variable NOPE is not set: no source sets it and the environment does not have it")
    );
    // A required name is checked first, as for a run.
    let run = invoke(d, &["-d", "secrets", "-r", "MUST", "get", "QUOTES"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(run.stderr, error("required variable(s) missing: MUST"));
    // No argument: a usage error, 125 as every usage error.
    let run = invoke(d, &["get"]);
    assert_eq!(run.code, Some(125), "{run:?}");
}

#[test]
fn get_adds_a_newline_on_a_terminal() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    let (code, output) = on_terminal(d, &["-d", "secrets", "get", "QUOTES"]);
    assert_eq!(code, Some(0));
    // The terminal turns "\n" into "\r\n".
    assert_eq!(output, "she said \"hi\" & it's\r\n");
}

#[test]
fn a_program_named_like_a_subcommand_runs_after_double_dash() {
    let dir = support::temp_dir();
    for name in ["get", "export", "scan", "check", "doctor"] {
        let run = invoke(dir.path(), &["--", name]);
        assert_eq!(run.code, Some(127), "{run:?}");
        assert_eq!(run.stderr, error(&format!("{name}: command not found")));
    }
}

/// Runs secretrun with a pseudo-terminal as stdout; returns the exit code and what it printed
/// there.
fn on_terminal(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let status = {
        let mut command = support::secretrun(dir);
        command
            .args(args)
            .stdout(Stdio::from(pty.slave))
            .stderr(Stdio::null());
        command.status().expect("secretrun runs")
        // `command`, and with it our copy of the terminal's slave side, is dropped here, so
        // reading the master side ends once the output is read.
    };
    let mut master = fs::File::from(pty.master);
    let mut output = Vec::new();
    let mut chunk = [0u8; 4096];
    // Linux answers EIO once the slave side is closed and everything was read.
    while let Ok(n @ 1..) = master.read(&mut chunk) {
        output.extend_from_slice(&chunk[..n]);
    }
    (status.code(), String::from_utf8(output).unwrap())
}

// ---------------------------------------------------------------------------------------------
// export

#[test]
fn export_dotenv() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    with_multiline(d);
    let run = invoke(d, &["-d", "secrets", "export", "--format", "dotenv"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        r#"BACKSLASH="C:\\new\\table\\\\"
DOLLAR="\$HOME \${PATH} `\$(id)`"
MULTI="line one\nline two"
QUOTES="she said \"hi\" & it's"
SPACES="  padded  "
UNICODE="héllo wörld ✓ 🔑"
"#
    );
    assert_eq!(run.stderr, "");
    // The default format, and read back by secretrun itself: the same values.
    let default = invoke(d, &["-d", "secrets", "export"]);
    assert_eq!(default.stdout, run.stdout);
    support::write(d, "exported.env", &run.stdout);
    let direct = invoke(d, &["-d", "secrets", "export", "--format", "json"]);
    let round_trip = invoke(d, &["-e", "exported.env", "export", "--format", "json"]);
    assert_eq!(round_trip.code, Some(0), "{round_trip:?}");
    assert_eq!(round_trip.stdout, direct.stdout);
}

#[test]
fn export_json() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    with_multiline(d);
    let run = invoke(d, &["-d", "secrets", "export", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        r#"{
  "BACKSLASH": "C:\\new\\table\\\\",
  "DOLLAR": "$HOME ${PATH} `$(id)`",
  "MULTI": "line one\nline two",
  "QUOTES": "she said \"hi\" & it's",
  "SPACES": "  padded  ",
  "UNICODE": "héllo wörld ✓ 🔑"
}
"#
    );
    // Nothing to export: an empty object, still valid JSON.
    let empty = invoke(d, &["export", "--format", "json"]);
    assert_eq!(empty.stdout, "{}\n");
}

#[test]
fn export_shell() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    with_multiline(d);
    let run = invoke(d, &["-d", "secrets", "export", "--format", "shell"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        r#"export BACKSLASH='C:\new\table\\'
export DOLLAR='$HOME ${PATH} `$(id)`'
export MULTI='line one
line two'
export QUOTES='she said "hi" & it'\''s'
export SPACES='  padded  '
export UNICODE='héllo wörld ✓ 🔑'
"#
    );
    // A POSIX shell reads back exactly the values.
    support::write(d, "exported.sh", &run.stdout);
    let names = "BACKSLASH DOLLAR MULTI QUOTES SPACES UNICODE";
    let script = format!(
        ". ./exported.sh; for n in {names}; do eval \"printf '%s|' \\\"\\${{$n}}\\\"\"; done"
    );
    let shell = Command::new("sh")
        .args(["-c", &script])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(shell.stdout).unwrap(),
        "C:\\new\\table\\\\|$HOME ${PATH} `$(id)`|line one\nline two|she said \"hi\" & it's|  \
         padded  |héllo wörld ✓ 🔑|"
    );
}

#[test]
fn export_docker() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    let run = invoke(d, &["-d", "secrets", "export", "--format", "docker"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "BACKSLASH=C:\\new\\table\\\\\n\
         DOLLAR=$HOME ${PATH} `$(id)`\n\
         QUOTES=she said \"hi\" & it's\n\
         SPACES=  padded  \n\
         UNICODE=héllo wörld ✓ 🔑\n"
    );
}

#[test]
fn export_docker_refuses_a_value_with_a_line_break() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    with_multiline(d);
    support::write(d, "secrets/CR", "ends with CR\r");
    let run = invoke(
        d,
        &["-d", "secrets", "export", "--format", "docker", "-o", "out"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(run.stdout, "");
    let problem = "the value contains a line break, which docker's --env-file format cannot \
                   hold (one variable per line, no quoting); use --format dotenv, json or systemd";
    assert_eq!(
        run.stderr,
        format!(
            "{}{}",
            error(&format!("variable CR: {problem}")),
            error(&format!("variable MULTI: {problem}"))
        )
    );
    assert!(!d.join("out").exists(), "nothing is written");
}

#[test]
fn export_systemd() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    with_multiline(d);
    let run = invoke(d, &["-d", "secrets", "export", "--format", "systemd"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        r#"BACKSLASH="C:\\new\\table\\\\"
DOLLAR="\$HOME \${PATH} \`\$(id)\`"
MULTI="line one
line two"
QUOTES="she said \"hi\" & it's"
SPACES="  padded  "
UNICODE="héllo wörld ✓ 🔑"
"#
    );
}

#[test]
fn export_leaves_out_inherited_names_unless_all() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "secrets/FROM_DIR", "d");
    support::write(d, ".env", "OVERRIDDEN=from-file\n");
    let vars = [("OVERRIDDEN", "from-parent"), ("ONLY_PARENT", "p")];
    let run = support::run_in(d, ["-e", ".env", "-d", "secrets", "export"], &vars);
    assert_eq!(run.stdout, "FROM_DIR=\"d\"\nOVERRIDDEN=\"from-parent\"\n");
    let all = support::run_in(d, ["-e", ".env", "-d", "secrets", "export", "--all"], &vars);
    assert!(all.stdout.contains("ONLY_PARENT=\"p\"\n"), "{all:?}");
    assert!(all.stdout.contains("PATH=\""), "{all:?}");
}

#[test]
fn export_names_every_variable_a_format_cannot_hold() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "secrets/my-var", "v");
    support::write(d, "secrets/OK", "v");
    let run = invoke(d, &["-d", "secrets", "export", "--format", "shell"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        error(
            "variable my-var: the name is not a shell identifier (letters, digits and _, not \
             starting with a digit), so a shell cannot export it"
        )
    );
    // JSON holds any name.
    let run = invoke(d, &["-d", "secrets", "export", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn export_refuses_a_terminal_without_reveal() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    let (code, output) = on_terminal(d, &["-d", "secrets", "export"]);
    assert_eq!(code, Some(125));
    assert_eq!(output, "");
    // The same refusal's message, with stderr captured (stdout still the terminal).
    let pty = nix::pty::openpty(None, None).unwrap();
    let run = support::run(
        support::secretrun(d)
            .args(["-d", "secrets", "export", "--format", "json"])
            .stdout(Stdio::from(pty.slave)),
    );
    assert_eq!(run.code, Some(125));
    assert_eq!(
        run.stderr,
        error(
            "refusing to print secrets to a terminal: write them to a file with --output FILE, \
             pipe or redirect stdout, or pass --reveal"
        )
    );
    let (code, output) = on_terminal(d, &["-d", "secrets", "export", "--reveal"]);
    assert_eq!(code, Some(0));
    assert!(
        output.contains("QUOTES=\"she said \\\"hi\\\" & it's\"\r\n"),
        "{output}"
    );
}

#[test]
fn export_to_a_file_is_private_and_never_replaces_one_without_force() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    let run = invoke(d, &["-d", "secrets", "export", "-o", "out.env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    let written = fs::read_to_string(d.join("out.env")).unwrap();
    assert!(written.starts_with("BACKSLASH=\""), "{written}");
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&d.join("out.env")), 0o600);

    // An existing file: refused, untouched, with or without a source change.
    fs::write(d.join("existing"), "keep me").unwrap();
    fs::set_permissions(d.join("existing"), fs::Permissions::from_mode(0o644)).unwrap();
    let run = invoke(d, &["-d", "secrets", "export", "--output", "existing"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stderr,
        error("'existing' already exists; pass --force to replace it")
    );
    assert_eq!(fs::read_to_string(d.join("existing")).unwrap(), "keep me");

    // --force replaces it, and the new file is private whatever the old one's mode was.
    let run = invoke(
        d,
        &[
            "-d", "secrets", "export", "--output", "existing", "--force", "--format", "json",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(fs::read_to_string(d.join("existing"))
        .unwrap()
        .starts_with("{\n"));
    assert_eq!(mode(&d.join("existing")), 0o600);

    // In another directory, through a relative path; no temporary file is left anywhere.
    fs::create_dir(d.join("sub")).unwrap();
    let run = invoke(d, &["-d", "secrets", "export", "-o", "sub/app.env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(mode(&d.join("sub/app.env")), 0o600);
    let mut left: Vec<String> = fs::read_dir(d)
        .unwrap()
        .chain(fs::read_dir(d.join("sub")).unwrap())
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["app.env", "existing", "out.env", "secrets", "sub"]);

    // --force only means something with --output.
    let run = invoke(d, &["-d", "secrets", "export", "--force"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("--output <FILE>"), "{run:?}");
}

#[test]
fn export_to_a_missing_directory_fails_naming_the_file() {
    let dir = support::temp_dir();
    let d = dir.path();
    tricky_dir(d);
    let run = invoke(d, &["-d", "secrets", "export", "-o", "nope/out.env"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .starts_with("secretrun: error: cannot write 'nope/out.env': "),
        "{run:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// scan

const TOKEN: &str = "tok_live_4f9a8b7c6d5e";

/// A tree with the token planted in several forms and places.
fn scan_tree(d: &Path) {
    support::write(d, "secrets/API_TOKEN", TOKEN);
    support::write(d, "secrets/SHORT", "abc12");
    let b64 = base64::engine::general_purpose::STANDARD.encode(TOKEN);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("user:{TOKEN}"));
    support::write(
        d,
        "src/config.py",
        &format!("# settings\nDEBUG = True\nTOKEN = \"{TOKEN}\"\n"),
    );
    support::write(
        d,
        "deploy/k8s.yaml",
        &format!("data:\n  token: {b64}\n  auth: Basic {basic}\n"),
    );
    support::write(
        d,
        "logs/request.log",
        &format!("GET /api?key={TOKEN}%2B%2F&x=1\nPOST /api token=tok%5Flive\n"),
    );
    support::write(
        d,
        "clean.txt",
        "nothing here\nabc12 is too short to count\n",
    );
}

#[test]
fn scan_finds_a_planted_secret_in_every_form() {
    let dir = support::temp_dir();
    let d = dir.path();
    scan_tree(d);
    // The URL-encoded form: the token with characters a URL must escape.
    support::write(d, "secrets/URL_SECRET", "p@ss/w0rd+x y");
    support::write(
        d,
        "logs/url.log",
        "https://db?password=p%40ss%2Fw0rd%2Bx%20y\nq=p%40ss%2Fw0rd%2Bx+y\n",
    );
    let run = invoke(d, &["-d", "secrets", "scan"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout,
        "deploy/k8s.yaml:2: API_TOKEN (dir:secrets, base64-encoded)\n\
         deploy/k8s.yaml:3: API_TOKEN (dir:secrets, base64-encoded)\n\
         logs/request.log:1: API_TOKEN (dir:secrets)\n\
         logs/url.log:1: URL_SECRET (dir:secrets, URL-encoded)\n\
         logs/url.log:2: URL_SECRET (dir:secrets, URL-encoded)\n\
         src/config.py:3: API_TOKEN (dir:secrets)\n"
    );
    assert_eq!(run.stderr, "");
    assert!(!run.stdout.contains(TOKEN));
}

#[test]
fn scan_respects_gitignore_without_a_repository() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "secrets/API_TOKEN", TOKEN);
    support::write(d, ".gitignore", "build/\n*.log\n");
    support::write(d, "build/bundle.js", &format!("var t=\"{TOKEN}\";"));
    support::write(d, "debug.log", TOKEN);
    support::write(d, ".env.local", &format!("API_TOKEN={TOKEN}\n"));
    let run = invoke(d, &["-d", "secrets", "scan"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    // Hidden files are searched; ignored ones are not.
    assert_eq!(run.stdout, ".env.local:1: API_TOKEN (dir:secrets)\n");
    let run = invoke(d, &["-d", "secrets", "scan", "--no-ignore"]);
    assert_eq!(
        run.stdout,
        ".env.local:1: API_TOKEN (dir:secrets)\n\
         build/bundle.js:1: API_TOKEN (dir:secrets)\n\
         debug.log:1: API_TOKEN (dir:secrets)\n"
    );
    // Inside a git repository too, and a .git directory is never searched.
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(d)
        .status()
        .expect("git is installed");
    assert!(git.success());
    support::write(d, ".git/leak", TOKEN);
    let run = invoke(d, &["-d", "secrets", "scan"]);
    assert_eq!(run.stdout, ".env.local:1: API_TOKEN (dir:secrets)\n");
}

#[test]
fn scan_exits_0_when_clean_and_searches_the_paths_given() {
    let dir = support::temp_dir();
    let d = dir.path();
    scan_tree(d);
    let run = invoke(d, &["-d", "secrets", "scan", "clean.txt", "src/config.py"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stdout, "src/config.py:3: API_TOKEN (dir:secrets)\n");
    let run = invoke(d, &["-d", "secrets", "scan", "clean.txt"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    // Short values are skipped unless --min-length allows them.
    let run = invoke(
        d,
        &["-d", "secrets", "scan", "--min-length", "5", "clean.txt"],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stdout, "clean.txt:2: SHORT (dir:secrets)\n");
}

#[test]
fn scan_does_not_report_a_value_in_the_file_that_defines_it() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(
        d,
        ".env",
        &format!("API_TOKEN={TOKEN}\nOTHER=other-value-123\n"),
    );
    support::write(d, "secrets/DIR_TOKEN", "dir-token-value-9");
    support::write(
        d,
        "notes.md",
        &format!("copied: {TOKEN}\nand dir-token-value-9\n"),
    );
    let run = invoke(d, &["-e", ".env", "-d", "secrets", "scan"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout,
        "notes.md:1: API_TOKEN (dotenv:.env)\nnotes.md:2: DIR_TOKEN (dir:secrets)\n"
    );
    // A value defined in .env but overridden by a secret source is the secret source's: the
    // .env file holding that same value is a leak of it.
    support::write(d, "secrets/OTHER", "other-value-123");
    let run = invoke(d, &["-e", ".env", "-d", "secrets", "scan", ".env"]);
    assert_eq!(run.stdout, ".env:2: OTHER (dir:secrets)\n");
}

#[test]
fn scan_errors_exit_125_after_reporting_what_was_found() {
    let dir = support::temp_dir();
    let d = dir.path();
    scan_tree(d);
    let run = invoke(d, &["-d", "secrets", "scan", "src", "no-such-dir"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(run.stdout, "src/config.py:3: API_TOKEN (dir:secrets)\n");
    assert!(
        run.stderr
            .starts_with("secretrun: error: cannot search no-such-dir: "),
        "{run:?}"
    );
    // Nothing to look for: a warning, and a clean exit.
    let run = invoke(d, &["scan"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("no resolved secret value"), "{run:?}");
}

// ---------------------------------------------------------------------------------------------
// check

/// A project whose .env is world-readable and tracked by git, and whose API_KEY a secrets
/// directory overrides.
fn check_project(d: &Path) {
    support::write(
        d,
        ".env",
        "API_KEY=old-key-in-dotenv\nDB_HOST=localhost\nDEBUG=1\n",
    );
    fs::set_permissions(d.join(".env"), fs::Permissions::from_mode(0o644)).unwrap();
    support::write(d, "secrets/API_KEY", "new-key-from-secrets");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(d)
            .stdout(Stdio::null())
            .status()
            .expect("git is installed");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", ".env"]);
}

const GIT_TRACKED: &str = "tracked by git: its values are in the repository and its history; \
                           run: git rm --cached .env and add it to .gitignore";
const OVERRIDE: &str = "API_KEY is overridden by dir:secrets: the value here is never used; \
                        remove it so no stale credential stays on disk";

#[test]
fn check_reports_the_env_file_traps() {
    let dir = support::temp_dir();
    let d = dir.path();
    check_project(d);
    let run = invoke(
        d,
        &[
            "-e",
            ".env",
            "-d",
            "secrets",
            "-r",
            "API_KEY,DB_HOST",
            "check",
        ],
    );
    assert_eq!(run.code, Some(0), "warnings only: {run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "ok     source       dotenv:.env: 3 names\n\
             warn   permissions  dotenv:.env: readable by every user (mode 0644); run: chmod 600 .env\n\
             warn   git          dotenv:.env: {GIT_TRACKED}\n\
             ok     source       dir:secrets: 1 name\n\
             ok     required     set: API_KEY, DB_HOST\n\
             warn   override     dotenv:.env: {OVERRIDE}\n\
             0 errors, 3 warnings\n"
        )
    );
    assert_eq!(run.stderr, "");

    // Fixed: private, untracked, no override.
    fs::set_permissions(d.join(".env"), fs::Permissions::from_mode(0o600)).unwrap();
    Command::new("git")
        .args(["rm", "-q", "--cached", ".env"])
        .current_dir(d)
        .status()
        .unwrap();
    fs::remove_file(d.join("secrets/API_KEY")).unwrap();
    support::write(d, "secrets/TOKEN", "t");
    let run = invoke(d, &["-e", ".env", "-d", "secrets", "doctor"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "ok     source       dotenv:.env: 3 names\n\
         ok     permissions  dotenv:.env: not readable by every user (mode 0600)\n\
         ok     git          dotenv:.env: not tracked by git\n\
         ok     source       dir:secrets: 1 name\n\
         0 errors, 0 warnings\n"
    );
}

#[test]
fn check_json() {
    let dir = support::temp_dir();
    let d = dir.path();
    check_project(d);
    let run = invoke(
        d,
        &[
            "-e", ".env", "-d", "secrets", "-r", "MISSING", "check", "--format", "json",
        ],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    let finding = |level: &str, check: &str, source: &str, message: &str| {
        format!(
            "  {{\n    \"level\": \"{level}\",\n    \"check\": \"{check}\",\n    \"source\": \
             {source},\n    \"message\": \"{message}\"\n  }}"
        )
    };
    let findings = [
        finding("ok", "source", "\"dotenv:.env\"", "3 names"),
        finding(
            "warn",
            "permissions",
            "\"dotenv:.env\"",
            "readable by every user (mode 0644); run: chmod 600 .env",
        ),
        finding("warn", "git", "\"dotenv:.env\"", GIT_TRACKED),
        finding("ok", "source", "\"dir:secrets\"", "1 name"),
        finding("error", "required", "null", "missing: MISSING"),
        finding("warn", "override", "\"dotenv:.env\"", OVERRIDE),
    ];
    assert_eq!(run.stdout, format!("[\n{}\n]\n", findings.join(",\n")));
}

#[test]
fn check_reports_every_broken_source_and_still_checks_the_others() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "good.env", "A=1\n");
    fs::set_permissions(d.join("good.env"), fs::Permissions::from_mode(0o600)).unwrap();
    support::write(d, "bad.env", "NOT VALID\n");
    fs::set_permissions(d.join("bad.env"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::create_dir(d.join("empty")).unwrap();
    let run = invoke(
        d,
        &[
            "-e",
            "missing.env",
            "-e",
            "good.env",
            "-e",
            "bad.env",
            "-d",
            "empty",
            "-d",
            "nope",
            "-r",
            "A",
            "check",
        ],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout,
        "error  source       dotenv:missing.env: cannot read 'missing.env': No such file or directory (os error 2)\n\
         ok     source       dotenv:good.env: 1 name\n\
         ok     permissions  dotenv:good.env: not readable by every user (mode 0600)\n\
         ok     git          dotenv:good.env: not in a git repository\n\
         error  source       dotenv:bad.env: 'bad.env', line 1: invalid syntax\n\
         ok     permissions  dotenv:bad.env: not readable by every user (mode 0600)\n\
         ok     git          dotenv:bad.env: not in a git repository\n\
         warn   source       dir:empty: yields no names (a wrong path, prefix or file?)\n\
         error  source       dir:nope: cannot read 'nope': No such file or directory (os error 2)\n\
         warn   required     not checked: the environment could not be resolved\n\
         3 errors, 2 warnings\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn check_without_sources_warns() {
    let dir = support::temp_dir();
    let run = invoke(dir.path(), &["check"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "warn   source       no sources: nothing is resolved (add --env-file, --secrets-dir or \
         --source)\n0 errors, 1 warning\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Every command against the provider fixtures

fn every_command_against(fixture: &dyn Fixture) {
    let value = "fixture-value-7d1e5a";
    let seeded = fixture.seed("cmds", &[("api_key", value)]);
    let name = seeded.vars[0].0.clone();
    let dir = support::temp_dir();
    let d = dir.path();
    let with = |env: &[(String, String)], args: &[&str]| {
        let mut command = support::secretrun(d);
        command.args(["--source", &seeded.spec]).args(args);
        for (k, v) in env {
            command.env(k, v);
        }
        support::run(&mut command)
    };
    let good = fixture.env();

    let run = with(&good, &["get", &name]);
    assert_eq!((run.code, run.stdout.as_str()), (Some(0), value), "{run:?}");

    let run = with(&good, &["export", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let exported: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(exported[&name], value, "{run:?}");
    // Consumed credentials are not exported.
    for credential in fixture.credential_vars() {
        assert!(exported.get(&credential).is_none(), "{credential}: {run:?}");
    }

    support::write(d, "leak.txt", &format!("x\nkey={value}\n"));
    let run = with(&good, &["scan"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout,
        format!("leak.txt:2: {name} ({})\n", seeded.spec)
    );

    let run = with(&good, &["check"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "ok     source       {}: 1 name\n0 errors, 0 warnings\n",
            seeded.spec
        )
    );

    let run = with(&fixture.env_with_bad_credentials(), &["check"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let line = run.stdout.lines().next().unwrap_or_default();
    assert!(
        line.starts_with(&format!("error  source       {}: ", seeded.spec)),
        "{run:?}"
    );
    assert!(
        ["401", "403", "unauthenticated", "permission denied"]
            .iter()
            .any(|hint| line.contains(hint)),
        "an authentication hint: {run:?}"
    );
    let credentials: Vec<String> = fixture
        .env_with_bad_credentials()
        .into_iter()
        .filter(|(k, _)| fixture.credential_vars().contains(k))
        .map(|(_, v)| v)
        .collect();
    for secret in credentials.iter().map(String::as_str).chain([value]) {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{run:?}"
        );
    }

    let missing = fixture.missing_spec();
    let mut command = support::secretrun(d);
    command.args(["--source", &missing, "check", "--format", "json"]);
    for (k, v) in &good {
        command.env(k, v);
    }
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(1), "{run:?}");
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(findings[0]["level"], "error", "{run:?}");
    assert_eq!(findings[0]["source"], missing.as_str(), "{run:?}");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{run:?}"
    );
}

#[test]
fn every_command_against_doppler() {
    every_command_against(crate::doppler::fixture());
}

#[test]
fn every_command_against_vault() {
    every_command_against(crate::vault::fixture());
}

#[test]
fn every_command_against_aws_secrets_manager() {
    every_command_against(crate::aws_sm::fixture());
}

#[test]
fn every_command_against_aws_ssm() {
    every_command_against(crate::aws_ssm::fixture());
}

// ---------------------------------------------------------------------------------------------
// Hygiene

/// At -vvv, no value reaches secretrun's stderr, and none its stdout unless printing values is
/// the command's purpose (`get`, `export` to stdout).
#[test]
fn no_command_prints_a_value_where_none_belongs() {
    let dir = support::temp_dir();
    let d = dir.path();
    let values = [
        "dotenv-canary-0a1b2c3d",
        "dir-canary-4e5f6a7b",
        "overridden-canary-8c9d0e1f",
    ];
    support::write(
        d,
        ".env",
        &format!("FROM_DOTENV={}\nOVERRIDDEN={}\n", values[0], values[2]),
    );
    support::write(d, "secrets/FROM_DIR", values[1]);
    support::write(d, "secrets/OVERRIDDEN", "winner-canary-2a3b4c5d");
    support::write(d, "leak.txt", &values.join("\n"));
    let all_values: Vec<&str> = values
        .iter()
        .copied()
        .chain(["winner-canary-2a3b4c5d"])
        .collect();
    let base = ["-vvv", "-e", ".env", "-d", "secrets"];
    let cases: [(&[&str], bool); 9] = [
        (&["get", "FROM_DIR"], true),
        (&["export"], true),
        (&["export", "--format", "json", "-o", "out.json"], false),
        (&["export", "--format", "shell", "--reveal"], true),
        (&["scan"], false),
        (&["check"], false),
        (&["doctor", "--format", "json"], false),
        (&["get", "NOPE"], false),
        (&["export", "--format", "systemd", "-o", "out.env"], false),
    ];
    for (args, prints_values) in cases {
        let mut all = base.to_vec();
        all.extend(args);
        let run = invoke(d, &all);
        assert!(run.code.is_some(), "{args:?}: {run:?}");
        for value in &all_values {
            assert!(
                !run.stderr.contains(value),
                "{args:?}: a value on stderr: {}",
                run.stderr
            );
            if !prints_values {
                assert!(
                    !run.stdout.contains(value),
                    "{args:?}: a value on stdout: {}",
                    run.stdout
                );
            }
        }
        assert!(
            run.stderr.contains("resolved"),
            "-vvv logs: {args:?}: {run:?}"
        );
    }
}
