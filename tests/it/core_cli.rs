//! The command line through the real binary: every bad input with its exact message and exit
//! status 125 (the child never started), `--require`, the command forms (`--`, `--command`,
//! `show`), help and version, logging levels, and the config file.
//!
//! The hygiene test runs every kind of command at the highest verbosity with known secret values
//! and checks none of them reaches secretrun's own stdout or stderr (`show --reveal`'s stdout
//! excepted).

use std::path::Path;
use std::process::Command;

use crate::support::{self, Run};

/// The marker file a child that starts would create.
const MARKER: &str = "child-started";

fn secretrun(dir: &Path, vars: &[(&str, &str)]) -> Command {
    support::secretrun_with(dir, vars)
}

fn invoke(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    support::run(secretrun(dir, vars).args(args))
}

/// Runs `args -- touch MARKER` and checks secretrun failed with 125 before starting the child,
/// printing nothing on stdout. Returns stderr.
fn fails(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--", "touch", MARKER]);
    let run = invoke(dir, vars, &all);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(run.stdout, "", "{run:?}");
    assert!(
        !dir.join(MARKER).exists(),
        "the child must not start: {run:?}"
    );
    run.stderr
}

/// The message secretrun prints for an error of its own.
fn error(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|line| format!("secretrun: error: {line}\n"))
        .collect()
}

/// Every source kind, as the unknown-kind message lists them.
fn known_kinds() -> String {
    secretrun::source::SourceKind::ALL
        .iter()
        .map(|kind| kind.scheme())
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// Bad input: exit 125, exact message, the child never starts

#[test]
fn a_missing_env_file_names_the_file() {
    let dir = support::temp_dir();
    assert_eq!(
        fails(dir.path(), &[], &["--env-file", "missing.env"]),
        error(&[
            "dotenv:missing.env: cannot read 'missing.env': No such file or directory (os error 2)"
        ])
    );
    assert_eq!(
        fails(dir.path(), &[], &["--source", "dotenv:sub/missing.env"]),
        error(&["dotenv:sub/missing.env: cannot read 'sub/missing.env': No such file or directory (os error 2)"])
    );
}

#[test]
fn an_optional_missing_source_yields_nothing() {
    let dir = support::temp_dir();
    let run = invoke(
        dir.path(),
        &[],
        &[
            "-s",
            "dotenv:missing.env?optional",
            "-s",
            "dir:missing-dir?optional",
            "--",
            "env",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("PATH={}\n", support::path()));
}

#[test]
fn a_missing_secrets_dir_or_a_file_given_as_one_is_an_error() {
    let dir = support::temp_dir();
    let d = dir.path();
    assert_eq!(
        fails(d, &[], &["--secrets-dir", "nodir"]),
        error(&["dir:nodir: cannot read 'nodir': No such file or directory (os error 2)"])
    );
    support::write(d, "file", "K=v\n");
    assert_eq!(
        fails(d, &[], &["-d", "file"]),
        error(&["dir:file: cannot read 'file': Not a directory (os error 20)"])
    );
}

#[test]
fn a_bad_line_names_the_file_and_line_but_never_the_value() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(
        d,
        "app.env",
        "GOOD=1\n\n# a comment\nAPI_KEY sk-live-BADLINE-51f0c9\nLATER=2\n",
    );
    let stderr = fails(d, &[], &["-e", "app.env"]);
    assert_eq!(
        stderr,
        error(&["dotenv:app.env: 'app.env', line 4: invalid syntax"])
    );
    assert!(!stderr.contains("BADLINE"), "{stderr}");
}

#[test]
fn an_unterminated_quote_names_the_line_where_it_opened() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(
        d,
        ".env",
        "A=1\nB=2\nTOKEN=\"tok-OPENQUOTE-8d2e\nstill inside\nC=3\n",
    );
    let stderr = fails(d, &[], &["-e", ".env"]);
    assert_eq!(
        stderr,
        error(&["dotenv:.env: '.env', line 3: unterminated quoted value"])
    );
    assert!(!stderr.contains("OPENQUOTE"), "{stderr}");
}

#[test]
fn an_unknown_source_kind() {
    let dir = support::temp_dir();
    assert_eq!(
        fails(dir.path(), &[], &["--source", "nope:x"]),
        error(&[&format!(
            "source 'nope:x': unknown source kind 'nope' (known: {})",
            known_kinds()
        )])
    );
}

#[test]
fn an_unknown_source_option() {
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", "K=v\n");
    assert_eq!(
        fails(dir.path(), &[], &["--source", "dotenv:.env?bogus"]),
        error(&["source 'dotenv:.env?bogus': unknown option 'bogus'"])
    );
    assert_eq!(
        fails(dir.path(), &[], &["--source", "dotenv:.env?optional=maybe"]),
        error(&["source 'dotenv:.env?optional=maybe': option 'optional' expects true or false"])
    );
    assert_eq!(
        fails(dir.path(), &[], &["--source", "dir:.#KEY"]),
        error(&["source 'dir:.#KEY': this kind of source does not take a '#KEY'"])
    );
}

#[test]
fn an_empty_location() {
    let dir = support::temp_dir();
    let d = dir.path();
    let empty = |spec: &str| format!("source '{spec}': the location after 'KIND:' is empty");
    assert_eq!(
        fails(d, &[], &["--source", "dotenv:"]),
        error(&[&empty("dotenv:")])
    );
    assert_eq!(
        fails(d, &[], &["--source", "dir:"]),
        error(&[&empty("dir:")])
    );
    assert_eq!(
        fails(d, &[], &["--env-file", ""]),
        error(&[&empty("dotenv:")])
    );
    assert_eq!(
        fails(d, &[], &["--secrets-dir", ""]),
        error(&[&empty("dir:")])
    );
}

#[test]
fn a_spec_without_a_kind() {
    let dir = support::temp_dir();
    assert_eq!(
        fails(dir.path(), &[], &["--source", ".env"]),
        error(&["source '.env': expected KIND:LOCATION, e.g. dotenv:.env or dir:/run/secrets"])
    );
}

#[test]
fn every_unparsable_spec_is_reported_at_once_in_the_order_given() {
    let dir = support::temp_dir();
    assert_eq!(
        fails(
            dir.path(),
            &[],
            &["-s", "nope:x", "-e", "", "-s", ".env", "-d", ""]
        ),
        error(&[
            &format!(
                "source 'nope:x': unknown source kind 'nope' (known: {})",
                known_kinds()
            ),
            "source 'dotenv:': the location after 'KIND:' is empty",
            "source '.env': expected KIND:LOCATION, e.g. dotenv:.env or dir:/run/secrets",
            "source 'dir:': the location after 'KIND:' is empty",
        ])
    );
}

#[test]
fn an_invalid_name_in_a_secrets_dir() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "secrets/A=B", "dir-value-NAMEERR\n");
    support::write(d, "secrets/OK", "fine\n");
    let stderr = fails(d, &[], &["-d", "secrets"]);
    assert_eq!(
        stderr,
        error(&["dir:secrets: invalid variable name 'A=B': the name contains '='"])
    );
    assert!(!stderr.contains("NAMEERR"));
}

#[test]
fn a_nul_in_a_value() {
    let dir = support::temp_dir();
    let d = dir.path();
    std::fs::create_dir(d.join("secrets")).unwrap();
    std::fs::write(d.join("secrets/BLOB"), b"before-NULVALUE\0after\n").unwrap();
    let stderr = fails(d, &[], &["-d", "secrets"]);
    assert_eq!(
        stderr,
        error(&["dir:secrets: variable BLOB: the value contains a NUL byte, which no environment variable can hold"])
    );
    assert!(!stderr.contains("NULVALUE"));
}

#[test]
fn a_nul_in_a_value_from_an_env_file() {
    let dir = support::temp_dir();
    let d = dir.path();
    std::fs::write(d.join(".env"), b"OK=1\nBLOB=before-NULVALUE\0after\n").unwrap();
    let stderr = fails(d, &[], &["-e", ".env"]);
    assert_eq!(
        stderr,
        error(&["dotenv:.env: variable BLOB: the value contains a NUL byte, which no environment variable can hold"])
    );
    assert!(!stderr.contains("NULVALUE"));
}

#[test]
fn a_nul_in_a_name_is_rejected() {
    let dir = support::temp_dir();
    let d = dir.path();
    // In a .env file, a NUL in a name is a syntax error.
    std::fs::write(d.join(".env"), b"A\0B=1\n").unwrap();
    assert_eq!(
        fails(d, &[], &["-e", ".env"]),
        error(&["dotenv:.env: '.env', line 1: invalid syntax"])
    );
    // From the config file (TOML can spell one).
    support::write(d, "secretrun.toml", "require = [\"A\\u0000B\"]\n");
    let stderr = fails(d, &[], &[]);
    assert!(
        stderr.starts_with("secretrun: error: invalid required name 'A")
            && stderr.ends_with("B': the name contains a NUL byte\n"),
        "{stderr:?}"
    );
}

#[test]
fn a_value_over_128_kib_says_why_exec_would_fail() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "secrets/BIG", &"x".repeat(200 * 1024));
    assert_eq!(
        fails(d, &[], &["-d", "secrets"]),
        error(&["dir:secrets: variable BIG: the value is 204800 bytes; Linux refuses environment entries over 131072 bytes (execve would fail with E2BIG)"])
    );
    // From a .env file too.
    support::write(d, "big.env", &format!("HUGE={}\n", "y".repeat(200 * 1024)));
    assert_eq!(
        fails(d, &[], &["-e", "big.env"]),
        error(&["dotenv:big.env: variable HUGE: the value is 204800 bytes; Linux refuses environment entries over 131072 bytes (execve would fail with E2BIG)"])
    );
}

/// The limit is Linux's: `NAME=value` and its NUL must fit in 131072 bytes.
#[test]
fn the_largest_value_exec_accepts_passes() {
    let dir = support::temp_dir();
    let d = dir.path();
    let fits = 131072 - "BIG=".len() - 1;
    support::write(d, "secrets/BIG", &"x".repeat(fits));
    let run = invoke(
        d,
        &[],
        &["-d", "secrets", "--command", "printenv BIG | wc -c"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout.trim(), (fits + 1).to_string());

    support::write(d, "secrets/BIG", &"x".repeat(fits + 1));
    assert_eq!(
        fails(d, &[], &["-d", "secrets"]),
        error(&[&format!(
            "dir:secrets: variable BIG: the value is {} bytes; Linux refuses environment entries \
             over 131072 bytes (execve would fail with E2BIG)",
            fits + 1
        )])
    );
}

#[test]
fn every_bad_value_is_reported_at_once() {
    let dir = support::temp_dir();
    let d = dir.path();
    std::fs::create_dir(d.join("secrets")).unwrap();
    std::fs::write(d.join("secrets/A_NUL"), b"a\0b").unwrap();
    std::fs::write(d.join("secrets/LD_PRELOAD"), b"x.so").unwrap();
    std::fs::write(d.join("secrets/Z_BIG"), "z".repeat(140_000)).unwrap();
    assert_eq!(
        fails(d, &[], &["-d", "secrets"]),
        error(&[
            "dir:secrets: variable A_NUL: the value contains a NUL byte, which no environment variable can hold",
            "dir:secrets sets the protected variable LD_PRELOAD; a secret source may not set it unless you allow it with --allow-name LD_PRELOAD",
            "dir:secrets: variable Z_BIG: the value is 140000 bytes; Linux refuses environment entries over 131072 bytes (execve would fail with E2BIG)",
        ])
    );
}

#[test]
fn an_unknown_config_key_names_the_file_and_line() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(
        d,
        "secretrun.toml",
        "require = []\nsorces = [\"dotenv:.env\"]\n",
    );
    let stderr = fails(d, &[], &[]);
    // The message goes on to list every known key.
    let start = "secretrun: error: config file 'secretrun.toml', line 2: unknown field `sorces`, \
                 expected one of `sources`, `require`, ";
    assert!(stderr.starts_with(start), "{stderr}");
    assert!(
        stderr.ends_with("`\n") && stderr.lines().count() == 1,
        "{stderr}"
    );

    support::write(d, "conf/other.toml", "\n\npristine = true\nbogus-key = 1\n");
    let stderr = fails(d, &[], &["--config", "conf/other.toml"]);
    assert!(
        stderr.starts_with(
            "secretrun: error: config file 'conf/other.toml', line 4: unknown field `bogus-key`, \
             expected one of `sources`, "
        ),
        "{stderr}"
    );
}

#[test]
fn a_config_type_error_never_echoes_the_value() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(
        d,
        "secretrun.toml",
        "sources = []\n\nrequire = \"cfg-TYPEERR-secret\"\n",
    );
    let stderr = fails(d, &[], &[]);
    assert_eq!(
        stderr,
        error(&[
            "config file 'secretrun.toml', line 3: invalid type: string \"…\", expected a sequence"
        ])
    );
    support::write(d, "secretrun.toml", "pristine = \"cfg-TYPEERR-secret\"\n");
    assert_eq!(
        fails(d, &[], &[]),
        error(&[
            "config file 'secretrun.toml', line 1: invalid type: string \"…\", expected a boolean"
        ])
    );
    support::write(d, "secretrun.toml", "mode = \"sometimes\"\n");
    assert_eq!(
        fails(d, &[], &[]),
        error(&["config file 'secretrun.toml', line 1: unknown variant `…`, expected one of `auto`, `exec`, `supervise`"])
    );
}

#[test]
fn a_bad_config_duration_names_its_line_and_not_its_value() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(
        d,
        "secretrun.toml",
        "require = []\n\ntimeout = \"10DURSECRET\"\n",
    );
    let stderr = fails(d, &[], &[]);
    assert!(
        stderr.starts_with(
            "secretrun: error: config file 'secretrun.toml', line 3: timeout: unknown time unit \
             \"…\", supported units: "
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("DURSECRET"), "{stderr}");
    support::write(d, "secretrun.toml", "kill-after = \"soon\"\n");
    assert_eq!(
        fails(d, &[], &[]),
        error(&["config file 'secretrun.toml', line 1: kill-after: expected number at 0 (e.g. 500ms, 10s, 2m)"])
    );
}

#[test]
fn a_config_syntax_error() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "secretrun.toml", "require = [\n");
    assert_eq!(
        fails(d, &[], &[]),
        error(&["config file 'secretrun.toml', line 1: unclosed array, expected `]`"])
    );
}

#[test]
fn a_missing_config_file() {
    let dir = support::temp_dir();
    let d = dir.path();
    assert_eq!(
        fails(d, &[], &["--config", "nope.toml"]),
        error(&["cannot read config file 'nope.toml': No such file or directory (os error 2)"])
    );
    assert_eq!(
        fails(d, &[("SECRETRUN_CONFIG", "from-env.toml")], &[]),
        error(&["cannot read config file 'from-env.toml': No such file or directory (os error 2)"])
    );
}

#[test]
fn a_bad_source_in_the_config_file() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(
        d,
        "conf/secretrun.toml",
        "sources = [\"dotenv:missing.env\"]\n",
    );
    // The spec as written, the path as read: relative to the config file.
    assert_eq!(
        fails(d, &[], &["-c", "conf/secretrun.toml"]),
        error(&["dotenv:missing.env: cannot read 'conf/missing.env': No such file or directory (os error 2)"])
    );
    support::write(d, "conf/secretrun.toml", "sources = [\"nope:x\"]\n");
    assert_eq!(
        fails(d, &[], &["-c", "conf/secretrun.toml"]),
        error(&[&format!(
            "source 'nope:x': unknown source kind 'nope' (known: {})",
            known_kinds()
        )])
    );
}

// ---------------------------------------------------------------------------------------------
// --require

#[test]
fn require_lists_every_missing_name_in_order() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "PRESENT=1\n");
    support::write(
        d,
        "secretrun.toml",
        "require = [\"CFG_MISSING\", \"PRESENT\"]\n",
    );
    assert_eq!(
        fails(
            d,
            &[("FROM_PARENT", "1")],
            &[
                "-e",
                ".env",
                "--require",
                "ZED",
                "-r",
                "FROM_PARENT,ALPHA",
                "--require",
                "MID",
                "-r",
                "ZED",
            ],
        ),
        error(&["required variable(s) missing: CFG_MISSING, ZED, ALPHA, MID"])
    );
}

#[test]
fn require_satisfied_runs_the_child() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "FROM_FILE=1\n");
    support::write(d, "secrets/FROM_DIR", "1");
    let run = invoke(
        d,
        &[("FROM_PARENT", "1")],
        &[
            "-e",
            ".env",
            "-d",
            "secrets",
            "-r",
            "FROM_FILE,FROM_DIR",
            "-r",
            "FROM_PARENT",
            "--",
            "touch",
            MARKER,
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr, "");
    assert!(d.join(MARKER).exists());
}

#[test]
fn an_empty_value_counts_as_set() {
    let dir = support::temp_dir();
    let run = invoke(dir.path(), &[("EMPTY", "")], &["-r", "EMPTY", "true"]);
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn require_is_checked_after_file_vars() {
    let dir = support::temp_dir();
    let d = dir.path();
    let pw = support::write(d, "pw", "x\n");
    let run = invoke(
        d,
        &[("DB_PASSWORD_FILE", pw.to_str().unwrap())],
        &[
            "--file-vars",
            "-r",
            "DB_PASSWORD",
            "printenv",
            "DB_PASSWORD",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "x\n");
}

#[test]
fn an_invalid_required_name() {
    let dir = support::temp_dir();
    assert_eq!(
        fails(dir.path(), &[], &["--require", "A=B"]),
        error(&["invalid required name 'A=B': the name contains '='"])
    );
    assert_eq!(
        fails(dir.path(), &[], &["--allow-name", "X=1"]),
        error(&["invalid allowed name 'X=1': the name contains '='"])
    );
    assert_eq!(
        fails(dir.path(), &[], &["--preserve-env=A=B"]),
        error(&["invalid preserved name 'A=B': the name contains '='"])
    );
}

#[test]
fn show_with_a_missing_required_name_prints_the_table_then_fails() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "K=v\n");
    let run = invoke(d, &[], &["-e", ".env", "-r", "K,NOPE", "show", "--reveal"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stdout,
        "NAME  VALUE  SOURCE       OVERRIDES\nK     v      dotenv:.env\n"
    );
    assert_eq!(run.stderr, error(&["required variable(s) missing: NOPE"]));
}

// ---------------------------------------------------------------------------------------------
// The command line itself

#[test]
fn no_command_is_a_usage_error() {
    let dir = support::temp_dir();
    let expected = error(&["no command given; usage: secretrun [OPTIONS] [--] COMMAND [ARGS...]"]);
    for args in [&[][..], &["-e", ".env"], &["--"]] {
        let run = invoke(dir.path(), &[], args);
        assert_eq!(run.code, Some(125), "{args:?}: {run:?}");
        assert_eq!(run.stdout, "");
        assert_eq!(run.stderr, expected, "{args:?}");
    }
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let dir = support::temp_dir();
    let run = invoke(dir.path(), &[], &["--bogus", "touch", MARKER]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "\
error: unexpected argument '--bogus' found

  tip: to pass '--bogus' as a value, use '-- --bogus'

Usage: secretrun [OPTIONS] [--] COMMAND [ARGS]...
       secretrun [OPTIONS] --command STRING
       secretrun show [OPTIONS]
       secretrun get [OPTIONS] NAME
       secretrun export [OPTIONS]
       secretrun scan [OPTIONS] [PATH]...
       secretrun check [OPTIONS]
       secretrun encrypt|decrypt [-f FILE]... [-k NAME]...
       secretrun set --to SPEC NAME... < VALUES
       secretrun push|copy --from SPEC... --to SPEC
       secretrun init --store SPEC --yes

For more information, try '--help'.
"
    );
    assert!(!dir.path().join(MARKER).exists());
    // An unknown flag of `show`, and a bad value.
    let run = invoke(dir.path(), &[], &["show", "--format", "yaml"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: invalid value 'yaml' for '--format <FORMAT>'\n"),
        "{run:?}"
    );
}

#[test]
fn command_and_command_string_conflict() {
    let dir = support::temp_dir();
    let run = invoke(dir.path(), &[], &["--command", "touch a", "touch", MARKER]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.starts_with(
            "error: the argument '--command <STRING>' cannot be used with '[COMMAND]...'\n"
        ),
        "{run:?}"
    );
    assert!(!dir.path().join(MARKER).exists());
}

#[test]
fn help_exits_0_with_the_usage_and_the_priority_rules() {
    let dir = support::temp_dir();
    for flag in ["--help", "-h"] {
        let run = invoke(dir.path(), &[], &[flag]);
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(run.stderr, "");
        assert!(
            run.stdout
                .contains("Usage: secretrun [OPTIONS] [--] COMMAND [ARGS]...\n"),
            "{flag}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains("Priority, lowest to highest"),
            "{flag}: {}",
            run.stdout
        );
    }
    let run = invoke(dir.path(), &[], &["show", "--help"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("Usage: secretrun show [OPTIONS]\n"),
        "{run:?}"
    );
}

#[test]
fn version() {
    let dir = support::temp_dir();
    for flag in ["--version", "-V"] {
        let run = invoke(dir.path(), &[], &[flag]);
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(run.stdout, "secretrun 0.1.0\n");
        assert_eq!(run.stderr, "");
    }
}

#[test]
fn command_string_runs_through_sh() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "X='hello world'\n");
    let run = invoke(d, &[], &["-e", ".env", "--command", "echo \"$X\"; exit 3"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert_eq!(run.stdout, "hello world\n");
}

#[test]
fn arguments_after_the_command_are_the_commands_own() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "X=from-file\n");
    // `-c` is also secretrun's --config: after COMMAND it is sh's.
    let run = invoke(
        d,
        &[],
        &["-e", ".env", "sh", "-c", "echo \"$X\" \"$0\"", "-e"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "from-file -e\n");
}

#[test]
fn the_commands_exit_status_is_secretruns() {
    let dir = support::temp_dir();
    let run = invoke(dir.path(), &[], &["sh", "-c", "exit 42"]);
    assert_eq!(run.code, Some(42), "{run:?}");
}

#[test]
fn double_dash_runs_a_program_even_named_show() {
    let dir = support::temp_dir();
    let run = invoke(dir.path(), &[], &["--", "show"]);
    assert_eq!(run.code, Some(127), "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, error(&["show: command not found"]));
    let run = invoke(dir.path(), &[], &["--", "--bogus"]);
    assert_eq!(run.code, Some(127), "{run:?}");
    assert_eq!(run.stderr, error(&["--bogus: command not found"]));
    // `--` then options of the command.
    let run = invoke(dir.path(), &[("K", "v")], &["--", "printenv", "--", "K"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "v\n");
}

// ---------------------------------------------------------------------------------------------
// Logging

/// A .env file and a secrets dir with recognizable values.
fn logging_setup(d: &Path) {
    support::write(d, ".env", "FILE_SECRET=file-LOGSECRET-1111\n");
    support::write(d, "secrets/DIR_SECRET", "dir-LOGSECRET-2222\n");
}

#[test]
fn verbosity_flags_log_sources_to_stderr_never_values() {
    let dir = support::temp_dir();
    let d = dir.path();
    logging_setup(d);
    let args = |v: &'static str| vec![v, "-e", ".env", "-d", "secrets", "--", "true"];

    let quiet = invoke(d, &[], &args("-q"));
    assert_eq!(quiet.code, Some(0), "{quiet:?}");
    assert_eq!(quiet.stderr, "");
    let plain = invoke(d, &[], &["-e", ".env", "-d", "secrets", "true"]);
    assert_eq!(plain.stderr, "");

    let info = invoke(d, &[], &args("-v"));
    assert_eq!(info.code, Some(0), "{info:?}");
    assert_eq!(
        info.stderr,
        " INFO resolved source=dotenv:.env names=1\n INFO resolved source=dir:secrets names=1\n"
    );

    for v in ["-vv", "-vvv", "--verbose"] {
        let run = invoke(d, &[], &args(v));
        assert_eq!(run.code, Some(0), "{v}: {run:?}");
        assert!(run.stderr.contains("source=dotenv:.env"), "{v}: {run:?}");
        assert!(run.stderr.contains("source=dir:secrets"), "{v}: {run:?}");
        assert!(!run.stderr.contains("LOGSECRET"), "{v}: {run:?}");
        // Plain text: stderr is not a terminal.
        assert!(!run.stderr.contains('\u{1b}'), "{v}: {run:?}");
    }
    let debug = invoke(d, &[], &args("-vv"));
    assert!(
        debug.stderr.contains("DEBUG fetching source=dotenv:.env\n"),
        "{debug:?}"
    );
    // Counted on both sides of `show`.
    let run = invoke(d, &[], &["-v", "-e", ".env", "show", "-v"]);
    assert!(run.stderr.contains("DEBUG fetching"), "{run:?}");
}

#[test]
fn secretrun_log_sets_the_filter() {
    let dir = support::temp_dir();
    let d = dir.path();
    logging_setup(d);
    let run = invoke(
        d,
        &[("SECRETRUN_LOG", "debug")],
        &["-e", ".env", "--", "true"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("DEBUG fetching source=dotenv:.env\n"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains(" INFO resolved source=dotenv:.env names=1\n"),
        "{run:?}"
    );
    // It wins over the flags.
    let run = invoke(
        d,
        &[("SECRETRUN_LOG", "error")],
        &["-vvv", "-e", ".env", "--", "true"],
    );
    assert_eq!(run.stderr, "", "{run:?}");
}

/// The one warning reachable without a server: Vault's certificate check turned off. The
/// address is a closed port, so the fetch then fails (and retries, with more warnings).
#[test]
fn quiet_suppresses_warnings_but_not_errors() {
    let dir = support::temp_dir();
    let port = support::free_port().to_string();
    let addr = format!("http://127.0.0.1:{port}");
    let vars = [
        ("VAULT_ADDR", addr.as_str()),
        ("VAULT_TOKEN", "root-WARNTOKEN"),
        ("VAULT_SKIP_VERIFY", "true"),
    ];
    let args = ["-s", "vault:secret/app", "--deadline", "2s"];
    let loud = fails(dir.path(), &vars, &args);
    assert!(loud.contains(" WARN "), "{loud}");
    assert!(loud.contains("VAULT_SKIP_VERIFY"), "{loud}");
    assert!(!loud.contains("WARNTOKEN"), "{loud}");

    let quiet = fails(dir.path(), &vars, &[&["--quiet"][..], &args].concat());
    assert!(!quiet.contains("WARN"), "{quiet}");
    assert_eq!(quiet.lines().count(), 1, "{quiet}");
    assert!(
        quiet.starts_with("secretrun: error: vault:secret/app: "),
        "{quiet}"
    );
    let short = fails(dir.path(), &vars, &[&["-q"][..], &args].concat());
    assert_eq!(short, quiet);
}

#[test]
fn quiet_and_verbose_conflict() {
    let dir = support::temp_dir();
    let run = invoke(dir.path(), &[], &["-q", "-v", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: the argument '--quiet' cannot be used with '--verbose...'\n"),
        "{run:?}"
    );
}

/// Every kind of command, at the highest verbosity, with known secret values: none reaches
/// secretrun's own output but `show --reveal`'s stdout.
#[test]
fn no_secret_value_ever_reaches_secretruns_own_output() {
    let dir = support::temp_dir();
    let d = dir.path();
    // Every value is long enough to be shown as its first and last two characters when masked;
    // the middle part is what must never appear.
    let secrets = [
        ("ENV_SECRET", "env-HYGIENE-ENVFILE-1", "HYGIENE-ENVFILE"),
        ("OTHER_ENV", "env-HYGIENE-OTHERENV-2", "HYGIENE-OTHERENV"),
        ("DIR_SECRET", "dir-HYGIENE-DIRFILE-3", "HYGIENE-DIRFILE"),
        ("FILE_VAR", "fv-HYGIENE-FILEVAR-4", "HYGIENE-FILEVAR"),
        ("PARENT_SECRET", "par-HYGIENE-PARENT-5", "HYGIENE-PARENT"),
        ("PROTECTED", "pro-HYGIENE-PROTECTED-6", "HYGIENE-PROTECTED"),
        ("NUL", "nul-HYGIENE-NULVALUE-7", "HYGIENE-NULVALUE"),
        ("BADLINE", "bad-HYGIENE-BADLINE-8", "HYGIENE-BADLINE"),
        ("OPENQUOTE", "quo-HYGIENE-OPENQUOTE-9", "HYGIENE-OPENQUOTE"),
        ("CONFIG", "cfg-HYGIENE-CONFIG-10", "HYGIENE-CONFIG"),
        ("BIG", "big-HYGIENE-BIGVALUE-11", "HYGIENE-BIGVALUE"),
    ];
    let value = |name: &str| secrets.iter().find(|s| s.0 == name).unwrap().1;
    support::write(
        d,
        ".env",
        &format!(
            "ENV_SECRET={}\nOTHER_ENV='{}'\nFILE_VAR_FILE=fv.txt\nPARENT_SECRET=from-file\n",
            value("ENV_SECRET"),
            value("OTHER_ENV")
        ),
    );
    support::write(d, "fv.txt", &format!("{}\n", value("FILE_VAR")));
    support::write(
        d,
        "secrets/DIR_SECRET",
        &format!("{}\n", value("DIR_SECRET")),
    );
    support::write(d, "protected/LD_PRELOAD", value("PROTECTED"));
    std::fs::create_dir(d.join("nul")).unwrap();
    std::fs::write(d.join("nul/NUL"), format!("{}\0tail", value("NUL"))).unwrap();
    support::write(
        d,
        "badline.env",
        &format!("OK=1\nBROKEN {}\n", value("BADLINE")),
    );
    support::write(d, "openquote.env", &format!("Q=\"{}\n", value("OPENQUOTE")));
    support::write(
        d,
        "bad.toml",
        &format!("require = \"{}\"\n", value("CONFIG")),
    );
    support::write(
        d,
        "big/BIG",
        &format!("{}{}", value("BIG"), "b".repeat(140_000)),
    );
    let parent = [("PARENT_SECRET", value("PARENT_SECRET"))];

    let good = ["-vvv", "--file-vars", "-e", ".env", "-d", "secrets"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> { [&good[..], extra].concat() };
    let runs: Vec<(Vec<&str>, Option<i32>)> = vec![
        (with(&["--", "true"]), Some(0)),
        (with(&["--command", "true"]), Some(0)),
        (with(&["--supervise", "--", "true"]), Some(0)),
        (with(&["show"]), Some(0)),
        (with(&["show", "--all"]), Some(0)),
        (with(&["show", "--format", "json"]), Some(0)),
        (with(&["show", "--format", "json", "--all"]), Some(0)),
        (with(&["show", "--format", "dotenv"]), Some(0)),
        (with(&["show", "--format", "dotenv", "--all"]), Some(0)),
        (with(&["-r", "MISSING", "--", "true"]), Some(125)),
        (with(&["-r", "MISSING", "show"]), Some(125)),
        (with(&["-d", "protected", "--", "true"]), Some(125)),
        (with(&["-d", "protected", "show"]), Some(125)),
        (with(&["-d", "nul", "--", "true"]), Some(125)),
        (with(&["-d", "big", "--", "true"]), Some(125)),
        (with(&["-e", "badline.env", "--", "true"]), Some(125)),
        (with(&["-e", "openquote.env", "--", "true"]), Some(125)),
        (with(&["-c", "bad.toml", "--", "true"]), Some(125)),
        (with(&["--", "no-such-program-anywhere"]), Some(127)),
        (with(&["--pristine", "--", "true"]), Some(0)),
        (with(&["--preserve-env", "show"]), Some(0)),
    ];
    let check = |what: &str, text: &str| {
        for (name, full, middle) in &secrets {
            assert!(
                !text.contains(full) && !text.contains(middle),
                "{name}'s value reached {what}:\n{text}"
            );
        }
    };
    for (args, code) in &runs {
        for log in [None, Some("trace")] {
            let mut command = secretrun(d, &parent);
            if let Some(log) = log {
                command.env("SECRETRUN_LOG", log);
            }
            let run = support::run(command.args(args));
            assert_eq!(run.code, *code, "{args:?}: {run:?}");
            check(&format!("stdout of {args:?}"), &run.stdout);
            check(&format!("stderr of {args:?}"), &run.stderr);
            assert!(
                run.stderr.contains("TRACE") || run.stderr.contains("DEBUG") || *code != Some(0),
                "{args:?} logged nothing: {run:?}"
            );
        }
    }

    // `show --reveal` prints values on stdout, which is what it is for, and still none on stderr.
    for format in ["table", "json", "dotenv"] {
        let run = support::run(
            secretrun(d, &parent).args(with(&["show", "--reveal", "--format", format])),
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        check("stderr of show --reveal", &run.stderr);
        for name in ["ENV_SECRET", "DIR_SECRET", "FILE_VAR", "PARENT_SECRET"] {
            assert!(
                run.stdout.contains(value(name)),
                "{format}: {name}: {run:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The config file

#[test]
fn the_config_file_in_the_working_directory_is_read_unless_no_config() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "app.env", "K=from-config-source\n");
    support::write(
        d,
        "secretrun.toml",
        "sources = [\"dotenv:app.env\"]\nrequire = [\"K\"]\n",
    );
    let run = invoke(d, &[], &["printenv", "K"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "from-config-source\n");
    let run = invoke(d, &[], &["--no-config", "--", "printenv", "K"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "");
}

#[test]
fn config_require_is_enforced() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "secretrun.toml", "require = [\"NEEDED\", \"ALSO\"]\n");
    assert_eq!(
        fails(d, &[("ALSO", "1")], &[]),
        error(&["required variable(s) missing: NEEDED"])
    );
    let run = invoke(d, &[("ALSO", "1"), ("NEEDED", "1")], &["true"]);
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn secretrun_config_selects_a_config_file() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "conf/app.env", "K=from-env-config\n");
    support::write(d, "conf/chosen.toml", "sources = [\"dotenv:app.env\"]\n");
    support::write(d, "cwd.env", "K=from-cwd-config\n");
    support::write(d, "secretrun.toml", "sources = [\"dotenv:cwd.env\"]\n");
    support::write(d, "flag.env", "K=from-flag-config\n");
    support::write(d, "flag.toml", "sources = [\"dotenv:flag.env\"]\n");
    let vars = [("SECRETRUN_CONFIG", "conf/chosen.toml")];
    let value = |vars: &[(&str, &str)], args: &[&str]| {
        let run = invoke(d, vars, &[args, &["--", "printenv", "K"]].concat());
        assert_eq!(run.stderr, "", "{run:?}");
        run.stdout
    };
    // $SECRETRUN_CONFIG beats ./secretrun.toml; --config beats both.
    assert_eq!(value(&vars, &[]), "from-env-config\n");
    assert_eq!(value(&[], &[]), "from-cwd-config\n");
    assert_eq!(
        value(&vars, &["--config", "flag.toml"]),
        "from-flag-config\n"
    );
    // --no-config ignores $SECRETRUN_CONFIG (and ./secretrun.toml), as documented.
    assert_eq!(value(&vars, &["--no-config"]), "");
    let run = invoke(d, &vars, &["--no-config", "show"]);
    assert_eq!(run.stdout, "NAME  VALUE  SOURCE  OVERRIDES\n", "{run:?}");
    let run = invoke(d, &vars, &["show", "--no-config"]);
    assert_eq!(run.stdout, "NAME  VALUE  SOURCE  OVERRIDES\n", "{run:?}");
}

#[test]
fn no_config_and_config_flags_conflict() {
    let dir = support::temp_dir();
    let run = invoke(
        dir.path(),
        &[],
        &["--config", "x.toml", "--no-config", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.starts_with(
            "error: the argument '--config <PATH>' cannot be used with '--no-config'\n"
        ),
        "{run:?}"
    );
}

#[test]
fn config_sources_and_settings_work() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "conf/base.env", "A=base\nB=base\n");
    support::write(d, "conf/secrets/B", "from-dir\n");
    support::write(
        d,
        "conf/secretrun.toml",
        "\
sources = [\"dotenv:base.env\", \"dir:secrets\", \"dotenv:missing.env?optional\"]
require = [\"A\", \"B\"]
pristine = true
",
    );
    let run = invoke(
        d,
        &[("DROPPED", "x")],
        &["-c", "conf/secretrun.toml", "--", "env"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        format!("A=base\nB=from-dir\nPATH={}\n", support::path())
    );
}
