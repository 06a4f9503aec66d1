//! The priority table, cell by cell, through the real binary: `.env` files (later beats earlier)
//! < the parent environment < secret sources (declared order, later beats earlier);
//! `--preserve-env` and `--pristine`; protected names; secretrun's own variables;
//! `$CREDENTIALS_DIRECTORY`; `--file-vars`; how a secrets directory is read; and `show`'s
//! provenance, pinned exactly in every format.
//!
//! Every run starts from an empty parent environment plus what the test names (and PATH, so the
//! child is found), so the child's whole environment can be compared exactly.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use crate::support::{self, Run};

fn secretrun(dir: &Path, vars: &[(&str, &str)]) -> Command {
    support::secretrun_with(dir, vars)
}

fn run(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    support::run(secretrun(dir, vars).args(args))
}

/// The value the child sees for `name` (`printenv NAME`), asserting the run succeeded.
fn child_value(dir: &Path, vars: &[(&str, &str)], args: &[&str], name: &str) -> String {
    let mut all = args.to_vec();
    all.extend(["--", "printenv", name]);
    let run = run(dir, vars, &all);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr, "", "{run:?}");
    run.stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("printenv prints a line: {run:?}"))
        .to_string()
}

/// The child's whole environment (`env`), asserting the run succeeded.
fn child_env(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--", "env"]);
    let run = run(dir, vars, &all);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr, "", "{run:?}");
    run.stdout
}

/// `NAME=value` lines as `env` prints them, sorted as secretrun builds the environment.
fn env_lines(pairs: &[(&str, &str)]) -> String {
    let mut pairs = pairs.to_vec();
    pairs.sort();
    pairs.iter().map(|(n, v)| format!("{n}={v}\n")).collect()
}

/// A secrets directory `name` in `dir`, one file per variable, written as given.
fn secrets_dir(dir: &Path, name: &str, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    for (file, content) in files {
        support::write(dir, &format!("{name}/{file}"), content);
    }
}

// ---------------------------------------------------------------------------------------------
// .env files

#[test]
fn a_later_env_file_beats_an_earlier_one() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "a.env", "K=from-a\nONLY_A=a\n");
    support::write(d, "b.env", "K=from-b\n");
    assert_eq!(
        child_value(d, &[], &["-e", "a.env", "-e", "b.env"], "K"),
        "from-b"
    );
    assert_eq!(
        child_value(d, &[], &["-e", "b.env", "-e", "a.env"], "K"),
        "from-a"
    );
    // The loser's other names are still there.
    assert_eq!(
        child_value(d, &[], &["-e", "b.env", "-e", "a.env"], "ONLY_A"),
        "a"
    );
    assert_eq!(
        child_value(
            d,
            &[],
            &["--env-file", "a.env", "--env-file", "b.env"],
            "ONLY_A"
        ),
        "a"
    );
}

#[test]
fn a_later_definition_within_one_env_file_wins() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "K=first\nK=second\n");
    assert_eq!(child_value(d, &[], &["-e", ".env"], "K"), "second");
}

#[test]
fn the_parent_environment_beats_env_files() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "a.env", "K=from-file\nFILE_ONLY=f\n");
    support::write(d, "b.env", "K=from-later-file\n");
    let parent = [("K", "from-parent")];
    assert_eq!(
        child_value(d, &parent, &["-e", "a.env", "-e", "b.env"], "K"),
        "from-parent"
    );
    assert_eq!(child_value(d, &parent, &["-e", "a.env"], "FILE_ONLY"), "f");
}

#[test]
fn an_empty_parent_value_still_beats_an_env_file() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "K=from-file\n");
    assert_eq!(child_value(d, &[("K", "")], &["-e", ".env"], "K"), "");
}

// ---------------------------------------------------------------------------------------------
// Secret sources

#[test]
fn a_secrets_dir_beats_the_parent_environment_and_env_files() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "K=from-file\n");
    secrets_dir(d, "secrets", &[("K", "from-dir\n")]);
    let parent = [("K", "from-parent")];
    assert_eq!(child_value(d, &parent, &["-d", "secrets"], "K"), "from-dir");
    // Class decides before declared order: a dir given first still beats a later .env file.
    assert_eq!(
        child_value(d, &parent, &["-d", "secrets", "-e", ".env"], "K"),
        "from-dir"
    );
    assert_eq!(
        child_value(
            d,
            &[],
            &["--secrets-dir", "secrets", "--env-file", ".env"],
            "K"
        ),
        "from-dir"
    );
}

#[test]
fn a_later_secrets_dir_beats_an_earlier_one() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(d, "one", &[("K", "from-one"), ("ONLY_ONE", "1")]);
    secrets_dir(d, "two", &[("K", "from-two")]);
    assert_eq!(
        child_value(d, &[], &["-d", "one", "-d", "two"], "K"),
        "from-two"
    );
    assert_eq!(
        child_value(d, &[], &["-d", "two", "-d", "one"], "K"),
        "from-one"
    );
    assert_eq!(
        child_value(d, &[], &["-d", "one", "-d", "two"], "ONLY_ONE"),
        "1"
    );
}

// ---------------------------------------------------------------------------------------------
// Declared order: flags interleave in the order given

#[test]
fn source_and_env_file_flags_keep_the_order_given() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "a.env", "K=from-a\n");
    support::write(d, "b.env", "K=from-b\n");
    assert_eq!(
        child_value(
            d,
            &[],
            &["--source", "dotenv:a.env", "--env-file", "b.env"],
            "K"
        ),
        "from-b"
    );
    assert_eq!(
        child_value(
            d,
            &[],
            &["--env-file", "b.env", "--source", "dotenv:a.env"],
            "K"
        ),
        "from-a"
    );
    assert_eq!(
        child_value(d, &[], &["-s", "dotenv:b.env", "-e", "a.env"], "K"),
        "from-a"
    );
}

#[test]
fn source_and_secrets_dir_flags_keep_the_order_given() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(d, "one", &[("K", "from-one")]);
    secrets_dir(d, "two", &[("K", "from-two")]);
    assert_eq!(
        child_value(
            d,
            &[],
            &["--source", "dir:one", "--secrets-dir", "two"],
            "K"
        ),
        "from-two"
    );
    assert_eq!(
        child_value(
            d,
            &[],
            &["--secrets-dir", "two", "--source", "dir:one"],
            "K"
        ),
        "from-one"
    );
}

#[test]
fn three_kinds_of_flag_interleaved_keep_the_order_given() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "a.env", "E=from-a\n");
    support::write(d, "b.env", "E=from-b\n");
    secrets_dir(d, "one", &[("S", "from-one")]);
    secrets_dir(d, "two", &[("S", "from-two")]);
    let args = [
        "-e",
        "b.env",
        "-d",
        "two",
        "-s",
        "dotenv:a.env",
        "-s",
        "dir:one",
    ];
    let run = run(d, &[], &[&args[..], &["show", "--reveal"]].concat());
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "\
NAME  VALUE     SOURCE        OVERRIDES
E     from-a    dotenv:a.env  dotenv:b.env
S     from-one  dir:one       dir:two
"
    );
}

/// Flags given on both sides of `show` all count, in the order given: clap keeps only the values
/// after the subcommand of a global list flag, and numbers each side from its own start.
#[test]
fn source_flags_on_both_sides_of_show_all_count_in_the_order_given() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "a.env", "K=from-a\nONLY_A=a\n");
    support::write(d, "b.env", "K=from-b\nONLY_B=b\n");
    secrets_dir(d, "one", &[("S", "from-one")]);
    secrets_dir(d, "two", &[("S", "from-two")]);

    let show = |args: &[&str]| {
        let run = run(d, &[], args);
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(run.stderr, "", "{run:?}");
        run.stdout
    };
    assert_eq!(
        show(&["-e", "a.env", "show", "--reveal", "-e", "b.env"]),
        "\
NAME    VALUE   SOURCE        OVERRIDES
K       from-b  dotenv:b.env  dotenv:a.env
ONLY_A  a       dotenv:a.env
ONLY_B  b       dotenv:b.env
"
    );
    assert_eq!(
        show(&["-e", "b.env", "show", "--reveal", "-s", "dotenv:a.env"]),
        "\
NAME    VALUE   SOURCE        OVERRIDES
K       from-a  dotenv:a.env  dotenv:b.env
ONLY_A  a       dotenv:a.env
ONLY_B  b       dotenv:b.env
"
    );
    assert_eq!(
        show(&["-d", "two", "-d", "one", "show", "--reveal", "-d", "two"]),
        "\
NAME  VALUE     SOURCE   OVERRIDES
S     from-two  dir:two  dir:two, dir:one
"
    );
    // --require on both sides: every name counts.
    let run = run(
        d,
        &[],
        &["-r", "ONLY_A,MISSING_1", "show", "-r", "MISSING_2"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stderr,
        "secretrun: error: required variable(s) missing: ONLY_A, MISSING_1, MISSING_2\n"
    );
}

// ---------------------------------------------------------------------------------------------
// The config file

#[test]
fn config_sources_come_before_command_line_sources() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(d, "cfg-dir", &[("S", "from-config-dir"), ("CFG_ONLY", "c")]);
    secrets_dir(d, "cli-dir", &[("S", "from-cli-dir")]);
    support::write(d, "cfg.env", "E=from-config-env\nX=from-config-env\n");
    support::write(d, "cli.env", "E=from-cli-env\n");
    support::write(
        d,
        "secretrun.toml",
        "sources = [\"dir:cfg-dir\", \"dotenv:cfg.env\"]\n",
    );
    let args = ["-e", "cli.env", "-d", "cli-dir"];
    assert_eq!(child_value(d, &[], &args, "S"), "from-cli-dir");
    assert_eq!(child_value(d, &[], &args, "E"), "from-cli-env");
    assert_eq!(child_value(d, &[], &args, "CFG_ONLY"), "c");
    // Rank still comes first: a config dir beats a command-line .env file.
    support::write(d, "cli.env", "S=from-cli-env\n");
    assert_eq!(
        child_value(d, &[], &["-e", "cli.env"], "S"),
        "from-config-dir"
    );
}

#[test]
fn config_paths_are_relative_to_the_config_file() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "conf/app.env", "K=next-to-the-config\n");
    support::write(d, "app.env", "K=in-the-working-directory\n");
    secrets_dir(d, "conf/secrets", &[("S", "config-relative-dir")]);
    support::write(
        d,
        "conf/secretrun.toml",
        "sources = [\"dotenv:app.env\", \"dir:secrets\"]\n",
    );
    let run = run(
        d,
        &[],
        &["--config", "conf/secretrun.toml", "show", "--reveal"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    // The source keeps the spec text as written; the file read is the one next to the config.
    assert_eq!(
        run.stdout,
        "\
NAME  VALUE                SOURCE          OVERRIDES
K     next-to-the-config   dotenv:app.env
S     config-relative-dir  dir:secrets
"
    );
}

// ---------------------------------------------------------------------------------------------
// --preserve-env and --pristine

#[test]
fn preserve_env_lifts_the_parent_above_secret_sources() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(
        d,
        "secrets",
        &[("A", "dir-a"), ("B", "dir-b"), ("DIR_ONLY", "d")],
    );
    let parent = [("A", "parent-a"), ("B", "parent-b")];
    let args = ["--preserve-env", "-d", "secrets"];
    assert_eq!(child_value(d, &parent, &args, "A"), "parent-a");
    assert_eq!(child_value(d, &parent, &args, "B"), "parent-b");
    assert_eq!(child_value(d, &parent, &args, "DIR_ONLY"), "d");
    // Without it, the dir wins.
    assert_eq!(child_value(d, &parent, &["-d", "secrets"], "A"), "dir-a");

    let run = run(
        d,
        &parent,
        &["--preserve-env", "-d", "secrets", "show", "--reveal"],
    );
    assert_eq!(
        run.stdout,
        "\
NAME      VALUE     SOURCE       OVERRIDES
A         parent-a  environment  dir:secrets
B         parent-b  environment  dir:secrets
DIR_ONLY  d         dir:secrets
"
    );
}

#[test]
fn preserve_env_with_names_lifts_only_those() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(
        d,
        "secrets",
        &[("A", "dir-a"), ("B", "dir-b"), ("C", "dir-c")],
    );
    let parent = [("A", "parent-a"), ("B", "parent-b"), ("C", "parent-c")];
    let args = ["--preserve-env=A,C", "-d", "secrets"];
    assert_eq!(child_value(d, &parent, &args, "A"), "parent-a");
    assert_eq!(child_value(d, &parent, &args, "B"), "dir-b");
    assert_eq!(child_value(d, &parent, &args, "C"), "parent-c");
}

#[test]
fn preserve_env_from_the_config_file() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(d, "secrets", &[("A", "dir-a"), ("B", "dir-b")]);
    support::write(d, "secretrun.toml", "preserve-env = [\"A\"]\n");
    let parent = [("A", "parent-a"), ("B", "parent-b")];
    assert_eq!(child_value(d, &parent, &["-d", "secrets"], "A"), "parent-a");
    assert_eq!(child_value(d, &parent, &["-d", "secrets"], "B"), "dir-b");
    support::write(d, "secretrun.toml", "preserve-env = true\n");
    assert_eq!(child_value(d, &parent, &["-d", "secrets"], "B"), "parent-b");
}

#[test]
fn pristine_keeps_only_the_minimal_parent_set_and_the_resolved_secrets() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "FROM_FILE=f\nRANDOM_PARENT=from-file\n");
    secrets_dir(d, "secrets", &[("FROM_DIR", "s\n")]);
    let parent = [
        ("HOME", "/home/app"),
        ("LANG", "C.UTF-8"),
        ("LC_ALL", "C"),
        ("LC_TIME", "POSIX"),
        ("TERM", "dumb"),
        ("TZ", "UTC"),
        ("USER", "app"),
        ("NOTIFY_SOCKET", "/run/notify"),
        ("INVOCATION_ID", "abc"),
        ("RANDOM_PARENT", "from-parent"),
        ("OTHER_PARENT", "dropped"),
        ("LD_LIBRARY_PATH", "/opt/lib"),
        ("LCX", "not-a-locale"),
    ];
    let env = child_env(d, &parent, &["--pristine", "-e", ".env", "-d", "secrets"]);
    let path = support::path();
    assert_eq!(
        env,
        env_lines(&[
            ("FROM_DIR", "s"),
            ("FROM_FILE", "f"),
            ("HOME", "/home/app"),
            ("INVOCATION_ID", "abc"),
            ("LANG", "C.UTF-8"),
            ("LC_ALL", "C"),
            ("LC_TIME", "POSIX"),
            ("NOTIFY_SOCKET", "/run/notify"),
            ("PATH", &path),
            // Dropped from the parent, so the .env file's value is the only one.
            ("RANDOM_PARENT", "from-file"),
            ("TERM", "dumb"),
            ("TZ", "UTC"),
            ("USER", "app"),
        ])
    );
}

#[test]
fn pristine_and_preserve_env_conflict() {
    let dir = support::temp_dir();
    let run = run(dir.path(), &[], &["--pristine", "--preserve-env", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.starts_with(
            "error: the argument '--pristine' cannot be used with '--preserve-env[=<NAMES>]'\n"
        ),
        "{run:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Protected names

#[test]
fn a_secrets_dir_may_not_set_a_protected_name() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(d, "secrets", &[("PATH", "/evil\n"), ("OK", "fine")]);
    let run = run(d, &[], &["-d", "secrets", "--", "touch", "started"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stderr,
        "secretrun: error: dir:secrets sets the protected variable PATH; a secret source may not \
         set it unless you allow it with --allow-name PATH\n"
    );
    assert_eq!(run.stdout, "");
    assert!(!d.join("started").exists(), "the child must not start");
}

#[test]
fn every_protected_name_is_reported_at_once() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(
        d,
        "secrets",
        &[
            ("NODE_OPTIONS", "--require=/tmp/x.js"),
            ("LD_PRELOAD", "/tmp/x.so"),
            ("DYLD_INSERT_LIBRARIES", "x"),
            ("BASH_ENV", "/tmp/x.sh"),
            ("HOME", "/tmp"),
        ],
    );
    let run = run(d, &[], &["-d", "secrets", "--", "touch", "started"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    // A directory is read in file-name order.
    let line = |name: &str| {
        format!(
            "secretrun: error: dir:secrets sets the protected variable {name}; a secret source \
             may not set it unless you allow it with --allow-name {name}\n"
        )
    };
    assert_eq!(
        run.stderr,
        [
            "BASH_ENV",
            "DYLD_INSERT_LIBRARIES",
            "HOME",
            "LD_PRELOAD",
            "NODE_OPTIONS"
        ]
        .map(line)
        .concat()
    );
    assert!(!d.join("started").exists(), "the child must not start");
}

#[test]
fn allow_name_lets_a_secret_source_set_a_protected_name() {
    let dir = support::temp_dir();
    let d = dir.path();
    // A PATH the child can still be found by.
    let secret_path = format!("/opt/from-secret:{}", support::path());
    secrets_dir(
        d,
        "secrets",
        &[
            ("PATH", &secret_path),
            ("NODE_OPTIONS", "--max-old-space-size=64"),
        ],
    );
    let args = [
        "--allow-name",
        "PATH",
        "--allow-name",
        "NODE_OPTIONS",
        "-d",
        "secrets",
    ];
    assert_eq!(child_value(d, &[], &args, "PATH"), secret_path);
    assert_eq!(
        child_value(d, &[], &args, "NODE_OPTIONS"),
        "--max-old-space-size=64"
    );
    // Comma-separated, and from the config file.
    let args = ["--allow-name", "PATH,NODE_OPTIONS", "-d", "secrets"];
    assert_eq!(child_value(d, &[], &args, "PATH"), secret_path);
    support::write(
        d,
        "secretrun.toml",
        "allow-names = [\"PATH\", \"NODE_OPTIONS\"]\n",
    );
    assert_eq!(child_value(d, &[], &["-d", "secrets"], "PATH"), secret_path);
    // Allowing one name does not allow another.
    std::fs::remove_file(d.join("secretrun.toml")).unwrap();
    let run = run(d, &[], &["--allow-name", "PATH", "-d", "secrets", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stderr,
        "secretrun: error: dir:secrets sets the protected variable NODE_OPTIONS; a secret source \
         may not set it unless you allow it with --allow-name NODE_OPTIONS\n"
    );
}

/// Documented: only secret stores are restricted; a .env file is the user's own.
#[test]
fn an_env_file_may_set_protected_names() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "NODE_OPTIONS=--inspect\nBASH_ENV=/etc/profile\n");
    assert_eq!(
        child_value(d, &[], &["-e", ".env"], "NODE_OPTIONS"),
        "--inspect"
    );
    assert_eq!(
        child_value(d, &[], &["-e", ".env"], "BASH_ENV"),
        "/etc/profile"
    );
}

#[test]
fn a_protected_name_in_the_parent_is_untouched() {
    let dir = support::temp_dir();
    let d = dir.path();
    let parent = [("NODE_OPTIONS", "--from-parent")];
    assert_eq!(
        child_value(d, &parent, &[], "NODE_OPTIONS"),
        "--from-parent"
    );
}

// ---------------------------------------------------------------------------------------------
// secretrun's own variables

#[test]
fn secretrun_variables_are_removed_unless_kept() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "SECRETRUN_FROM_FILE=f\n");
    let parent = [
        ("SECRETRUN_FOO", "bar"),
        ("SECRETRUN_LOG", "error"),
        ("X", "1"),
    ];
    let path = support::path();
    assert_eq!(
        child_env(d, &parent, &["-e", ".env"]),
        env_lines(&[("PATH", &path), ("X", "1")])
    );
    assert_eq!(
        child_env(d, &parent, &["-e", ".env", "--keep-config-vars"]),
        env_lines(&[
            ("PATH", &path),
            ("SECRETRUN_FOO", "bar"),
            ("SECRETRUN_FROM_FILE", "f"),
            ("SECRETRUN_LOG", "error"),
            ("X", "1"),
        ])
    );
    support::write(d, "secretrun.toml", "keep-config-vars = true\n");
    assert_eq!(child_value(d, &parent, &[], "SECRETRUN_FOO"), "bar");
}

#[test]
fn the_config_file_variable_is_removed_too() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, "conf.toml", "");
    let path = support::path();
    assert_eq!(
        child_env(d, &[("SECRETRUN_CONFIG", "conf.toml")], &[]),
        env_lines(&[("PATH", &path)])
    );
}

// ---------------------------------------------------------------------------------------------
// $CREDENTIALS_DIRECTORY

#[test]
fn credentials_directory_is_read_by_default_as_the_first_secret_source() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(
        d,
        "creds",
        &[("CRED", "from-credentials\n"), ("BOTH", "creds")],
    );
    secrets_dir(d, "secrets", &[("BOTH", "from-cli-dir")]);
    let creds = d.join("creds");
    let creds = creds.to_str().unwrap();
    let parent = [("CREDENTIALS_DIRECTORY", creds), ("CRED", "from-parent")];
    assert_eq!(child_value(d, &parent, &[], "CRED"), "from-credentials");
    // Declared before every other secret source, so any of them beats it.
    assert_eq!(
        child_value(d, &parent, &["-d", "secrets"], "BOTH"),
        "from-cli-dir"
    );
    // The variable itself reaches the child, as systemd set it.
    assert_eq!(child_value(d, &parent, &[], "CREDENTIALS_DIRECTORY"), creds);

    let run = run(d, &parent, &["show", "--reveal"]);
    assert_eq!(
        run.stdout,
        format!(
            "\
NAME  VALUE             SOURCE{pad}  OVERRIDES
BOTH  creds             dir:{creds}
CRED  from-credentials  dir:{creds}  environment
",
            pad = " ".repeat(format!("dir:{creds}").len() - "SOURCE".len()),
        )
    );
}

#[test]
fn credentials_directory_is_not_read_when_turned_off() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(d, "creds", &[("CRED", "from-credentials")]);
    let creds = d.join("creds");
    let creds = creds.to_str().unwrap();
    let parent = [("CREDENTIALS_DIRECTORY", creds)];
    let path = support::path();
    let expected = env_lines(&[("CREDENTIALS_DIRECTORY", creds), ("PATH", &path)]);
    assert_eq!(
        child_env(d, &parent, &["--no-credentials-directory"]),
        expected
    );
    support::write(d, "secretrun.toml", "credentials-directory = false\n");
    assert_eq!(child_env(d, &parent, &[]), expected);
    // The flag wins over a config that asks for it.
    support::write(d, "secretrun.toml", "credentials-directory = true\n");
    assert_eq!(
        child_env(d, &parent, &["--no-credentials-directory"]),
        expected
    );
    assert_eq!(child_value(d, &parent, &[], "CRED"), "from-credentials");
}

#[test]
fn a_missing_credentials_directory_is_an_error() {
    let dir = support::temp_dir();
    let d = dir.path();
    let missing = d.join("nope");
    let missing = missing.to_str().unwrap();
    let run = run(
        d,
        &[("CREDENTIALS_DIRECTORY", missing)],
        &["touch", "started"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "secretrun: error: dir:{missing}: cannot read '{missing}': No such file or directory \
             (os error 2)\n"
        )
    );
    assert!(!d.join("started").exists());
}

// ---------------------------------------------------------------------------------------------
// --file-vars

#[test]
fn file_vars_fill_an_unset_name_and_drop_the_file_variable() {
    let dir = support::temp_dir();
    let d = dir.path();
    let pw = support::write(d, "pw", "s3cret\n");
    let pw = pw.to_str().unwrap();
    let path = support::path();
    assert_eq!(
        child_env(d, &[("DB_PASSWORD_FILE", pw)], &["--file-vars"]),
        env_lines(&[("DB_PASSWORD", "s3cret"), ("PATH", &path)])
    );
    // Off by default.
    assert_eq!(
        child_env(d, &[("DB_PASSWORD_FILE", pw)], &[]),
        env_lines(&[("DB_PASSWORD_FILE", pw), ("PATH", &path)])
    );
    // On from the config file.
    support::write(d, "secretrun.toml", "file-vars = true\n");
    assert_eq!(
        child_value(d, &[("DB_PASSWORD_FILE", pw)], &[], "DB_PASSWORD"),
        "s3cret"
    );
}

#[test]
fn file_vars_come_from_any_source_and_show_their_file() {
    let dir = support::temp_dir();
    let d = dir.path();
    let token = support::write(d, "token.txt", "tok\n\n");
    support::write(d, ".env", &format!("API_TOKEN_FILE={}\n", token.display()));
    let run = run(
        d,
        &[],
        &[
            "--file-vars",
            "-e",
            ".env",
            "show",
            "--reveal",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    // Only one trailing newline is trimmed.
    assert_eq!(
        run.stdout,
        format!(
            "\
{{
  \"API_TOKEN\": {{
    \"overrides\": [],
    \"source\": \"file:{}\",
    \"value\": \"tok\\n\"
  }}
}}
",
            token.display()
        )
    );
}

/// Pinned: when NAME is set, NAME_FILE is left as it is (both reach the child).
#[test]
fn file_vars_do_not_override_a_set_name() {
    let dir = support::temp_dir();
    let d = dir.path();
    let pw = support::write(d, "pw", "from-file\n");
    let pw = pw.to_str().unwrap();
    let parent = [("DB_PASSWORD", "direct"), ("DB_PASSWORD_FILE", pw)];
    let path = support::path();
    assert_eq!(
        child_env(d, &parent, &["--file-vars"]),
        env_lines(&[
            ("DB_PASSWORD", "direct"),
            ("DB_PASSWORD_FILE", pw),
            ("PATH", &path)
        ])
    );
    // Set by a .env file counts as set too.
    support::write(d, ".env", "DB_PASSWORD=from-env-file\n");
    assert_eq!(
        child_value(
            d,
            &[("DB_PASSWORD_FILE", pw)],
            &["--file-vars", "-e", ".env"],
            "DB_PASSWORD"
        ),
        "from-env-file"
    );
}

#[test]
fn file_vars_with_an_unreadable_file_name_the_variable_and_path() {
    let dir = support::temp_dir();
    let d = dir.path();
    let missing = d.join("missing-pw");
    let missing = missing.to_str().unwrap();
    let run = run(
        d,
        &[("DB_PASSWORD_FILE", missing)],
        &["--file-vars", "--", "touch", "started"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "secretrun: error: variable DB_PASSWORD_FILE: cannot read '{missing}': No such file \
             or directory (os error 2)\n"
        )
    );
    assert!(!d.join("started").exists());
}

#[test]
fn file_vars_may_not_set_a_protected_name() {
    let dir = support::temp_dir();
    let d = dir.path();
    let hook = support::write(d, "hook", "/tmp/x.so\n");
    let run = run(
        d,
        &[("LD_PRELOAD_FILE", hook.to_str().unwrap())],
        &["--file-vars", "--", "touch", "started"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "secretrun: error: file:{} sets the protected variable LD_PRELOAD; a secret source \
             may not set it unless you allow it with --allow-name LD_PRELOAD\n",
            hook.display()
        )
    );
    assert!(!d.join("started").exists());
}

// ---------------------------------------------------------------------------------------------
// How a secrets directory is read

#[test]
fn dir_files_lose_exactly_one_trailing_newline() {
    let dir = support::temp_dir();
    let d = dir.path();
    secrets_dir(
        d,
        "secrets",
        &[
            ("ONE", "v\n"),
            ("TWO", "v\n\n"),
            ("CRLF", "v\r\n"),
            ("NONE", "v"),
            ("INNER", "a\nb\n"),
            ("EMPTY", ""),
            ("JUST_NEWLINE", "\n"),
            ("SPACES", " v \n"),
        ],
    );
    let run = run(
        d,
        &[],
        &[
            "-d",
            "secrets",
            "--",
            "printenv",
            "ONE",
            "TWO",
            "CRLF",
            "NONE",
            "INNER",
            "EMPTY",
            "JUST_NEWLINE",
            "SPACES",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "v\nv\n\nv\nv\na\nb\n\n\n v \n");
}

#[test]
fn kubernetes_secret_volume_entries_are_skipped() {
    let dir = support::temp_dir();
    let d = dir.path();
    // What a mounted Kubernetes Secret looks like: a timestamped folder holding the data, a
    // `..data` link to it, and one link per key through `..data`.
    let secrets = d.join("secrets");
    let stamped = "..2024_01_01_00_00_00.123456789";
    support::write(&secrets, &format!("{stamped}/API_KEY"), "key-value\n");
    support::write(&secrets, &format!("{stamped}/DB_URL"), "postgres://db\n");
    std::os::unix::fs::symlink(stamped, secrets.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/API_KEY", secrets.join("API_KEY")).unwrap();
    std::os::unix::fs::symlink("..data/DB_URL", secrets.join("DB_URL")).unwrap();
    // Other hidden files and sub-directories are skipped too.
    support::write(&secrets, ".hidden", "no");
    support::write(&secrets, "nested/INNER", "no");

    let run = run(
        d,
        &[],
        &["-d", "secrets", "show", "--reveal", "--format", "dotenv"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "API_KEY=\"key-value\"\nDB_URL=\"postgres://db\"\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Bytes

#[test]
fn a_non_utf8_parent_value_passes_through_byte_for_byte() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "OTHER=x\n");
    let raw: &[u8] = b"\xff\xfe-latin1-\xe9t\xe9-\x80";
    let mut command = secretrun(d, &[]);
    command
        .env("RAW", OsStr::from_bytes(raw))
        .args(["-e", ".env", "--", "printenv", "RAW"]);
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(output.stderr, b"");
    assert_eq!(output.stdout, [raw, b"\n"].concat());
}

#[test]
fn a_binary_dir_value_passes_through_byte_for_byte() {
    let dir = support::temp_dir();
    let d = dir.path();
    std::fs::create_dir(d.join("secrets")).unwrap();
    let raw: &[u8] = b"\xff\x01\x02binary\xc3\x28";
    std::fs::write(d.join("secrets/BIN"), raw).unwrap();
    let output = secretrun(d, &[])
        .args(["-d", "secrets", "--", "printenv", "BIN"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(output.stdout, [raw, b"\n"].concat());
}

// ---------------------------------------------------------------------------------------------
// show: provenance, pinned exactly

/// Two .env files, the parent environment and a secrets dir, touching the same names in every
/// combination.
fn show_setup() -> tempfile::TempDir {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(
        d,
        "base.env",
        "APP_NAME=demo\nLOG_LEVEL=info\nSHARED=base\nAPI_TOKEN=from-base-env\nEMPTY=\n",
    );
    support::write(
        d,
        "local.env",
        "LOG_LEVEL=debug\nSHARED=local\nMULTI=\"line1\\nline2\"\n",
    );
    secrets_dir(
        d,
        "secrets",
        &[
            ("DB_PASSWORD", "hunter2\n"),
            ("API_TOKEN", "tok-0123456789abcdef\n"),
        ],
    );
    dir
}

fn show(dir: &Path, extra: &[&str]) -> Run {
    let mut command = support::secretrun(dir);
    // Exactly this parent environment, PATH included: `show` starts no child.
    command.env_clear().envs([
        ("PATH", "/usr/bin:/bin"),
        ("HOME", "/home/app"),
        ("LOG_LEVEL", "warn"),
        ("API_TOKEN", "from-parent"),
        ("PLAIN", "untouched"),
    ]);
    command.args(["-e", "base.env", "-e", "local.env", "-d", "secrets", "show"]);
    command.args(extra);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr, "", "{run:?}");
    run
}

#[test]
fn show_table_masked() {
    let dir = show_setup();
    assert_eq!(
        show(dir.path(), &[]).stdout,
        "\
NAME         VALUE                    SOURCE            OVERRIDES
API_TOKEN    to********ef (20 chars)  dir:secrets       dotenv:base.env, environment
APP_NAME     **** (4 chars)           dotenv:base.env
DB_PASSWORD  ******* (7 chars)        dir:secrets
EMPTY        (empty)                  dotenv:base.env
LOG_LEVEL    **** (4 chars)           environment       dotenv:base.env, dotenv:local.env
MULTI        ******** (11 chars)      dotenv:local.env
SHARED       ***** (5 chars)          dotenv:local.env  dotenv:base.env
"
    );
    // The table is the default format.
    assert_eq!(
        show(dir.path(), &["--format", "table"]).stdout,
        show(dir.path(), &[]).stdout
    );
}

#[test]
fn show_table_revealed() {
    let dir = show_setup();
    assert_eq!(
        show(dir.path(), &["--reveal"]).stdout,
        "\
NAME         VALUE                 SOURCE            OVERRIDES
API_TOKEN    tok-0123456789abcdef  dir:secrets       dotenv:base.env, environment
APP_NAME     demo                  dotenv:base.env
DB_PASSWORD  hunter2               dir:secrets
EMPTY                              dotenv:base.env
LOG_LEVEL    warn                  environment       dotenv:base.env, dotenv:local.env
MULTI        line1\\nline2          dotenv:local.env
SHARED       local                 dotenv:local.env  dotenv:base.env
"
    );
}

#[test]
fn show_table_all_lists_untouched_parent_names() {
    let dir = show_setup();
    assert_eq!(
        show(dir.path(), &["--all"]).stdout,
        "\
NAME         VALUE                    SOURCE            OVERRIDES
API_TOKEN    to********ef (20 chars)  dir:secrets       dotenv:base.env, environment
APP_NAME     **** (4 chars)           dotenv:base.env
DB_PASSWORD  ******* (7 chars)        dir:secrets
EMPTY        (empty)                  dotenv:base.env
HOME         ******** (9 chars)       environment
LOG_LEVEL    **** (4 chars)           environment       dotenv:base.env, dotenv:local.env
MULTI        ******** (11 chars)      dotenv:local.env
PATH         ******** (13 chars)      environment
PLAIN        ******** (9 chars)       environment
SHARED       ***** (5 chars)          dotenv:local.env  dotenv:base.env
"
    );
}

const SHOW_JSON_MASKED: &str = r#"{
  "API_TOKEN": {
    "overrides": [
      "dotenv:base.env",
      "environment"
    ],
    "source": "dir:secrets",
    "value": "to********ef (20 chars)"
  },
  "APP_NAME": {
    "overrides": [],
    "source": "dotenv:base.env",
    "value": "**** (4 chars)"
  },
  "DB_PASSWORD": {
    "overrides": [],
    "source": "dir:secrets",
    "value": "******* (7 chars)"
  },
  "EMPTY": {
    "overrides": [],
    "source": "dotenv:base.env",
    "value": "(empty)"
  },
  "LOG_LEVEL": {
    "overrides": [
      "dotenv:base.env",
      "dotenv:local.env"
    ],
    "source": "environment",
    "value": "**** (4 chars)"
  },
  "MULTI": {
    "overrides": [],
    "source": "dotenv:local.env",
    "value": "******** (11 chars)"
  },
  "SHARED": {
    "overrides": [
      "dotenv:base.env"
    ],
    "source": "dotenv:local.env",
    "value": "***** (5 chars)"
  }
}
"#;

#[test]
fn show_json_masked() {
    let dir = show_setup();
    assert_eq!(
        show(dir.path(), &["--format", "json"]).stdout,
        SHOW_JSON_MASKED
    );
}

#[test]
fn show_json_revealed() {
    let dir = show_setup();
    assert_eq!(
        show(dir.path(), &["--format", "json", "--reveal"]).stdout,
        r#"{
  "API_TOKEN": {
    "overrides": [
      "dotenv:base.env",
      "environment"
    ],
    "source": "dir:secrets",
    "value": "tok-0123456789abcdef"
  },
  "APP_NAME": {
    "overrides": [],
    "source": "dotenv:base.env",
    "value": "demo"
  },
  "DB_PASSWORD": {
    "overrides": [],
    "source": "dir:secrets",
    "value": "hunter2"
  },
  "EMPTY": {
    "overrides": [],
    "source": "dotenv:base.env",
    "value": ""
  },
  "LOG_LEVEL": {
    "overrides": [
      "dotenv:base.env",
      "dotenv:local.env"
    ],
    "source": "environment",
    "value": "warn"
  },
  "MULTI": {
    "overrides": [],
    "source": "dotenv:local.env",
    "value": "line1\nline2"
  },
  "SHARED": {
    "overrides": [
      "dotenv:base.env"
    ],
    "source": "dotenv:local.env",
    "value": "local"
  }
}
"#
    );
}

#[test]
fn show_json_all_revealed() {
    let dir = show_setup();
    let run = show(dir.path(), &["--format", "json", "--reveal", "--all"]);
    let parsed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = parsed
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "API_TOKEN",
            "APP_NAME",
            "DB_PASSWORD",
            "EMPTY",
            "HOME",
            "LOG_LEVEL",
            "MULTI",
            "PATH",
            "PLAIN",
            "SHARED"
        ]
    );
    assert_eq!(
        parsed["PLAIN"],
        serde_json::json!({"overrides": [], "source": "environment", "value": "untouched"})
    );
}

#[test]
fn show_dotenv_masked() {
    let dir = show_setup();
    assert_eq!(
        show(dir.path(), &["--format", "dotenv"]).stdout,
        "\
API_TOKEN=\"to********ef (20 chars)\"
APP_NAME=\"**** (4 chars)\"
DB_PASSWORD=\"******* (7 chars)\"
EMPTY=\"(empty)\"
LOG_LEVEL=\"**** (4 chars)\"
MULTI=\"******** (11 chars)\"
SHARED=\"***** (5 chars)\"
"
    );
}

#[test]
fn show_dotenv_revealed_reads_back_as_the_same_values() {
    let dir = show_setup();
    let d = dir.path();
    let run = show(d, &["--format", "dotenv", "--reveal"]);
    assert_eq!(
        run.stdout,
        "\
API_TOKEN=\"tok-0123456789abcdef\"
APP_NAME=\"demo\"
DB_PASSWORD=\"hunter2\"
EMPTY=\"\"
LOG_LEVEL=\"warn\"
MULTI=\"line1\\nline2\"
SHARED=\"local\"
"
    );
    // Round trip: the output, read as a .env file, gives the child the same values.
    support::write(d, "exported.env", &run.stdout);
    assert_eq!(
        child_value(d, &[], &["-e", "exported.env"], "MULTI"),
        "line1\nline2"
    );
}

#[test]
fn show_needs_no_command_and_runs_none() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "K=v\n");
    let out = run(d, &[], &["-e", ".env", "show", "--reveal"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout,
        "NAME  VALUE  SOURCE       OVERRIDES\nK     v      dotenv:.env\n"
    );
    // Nothing resolved: only the header.
    let out = run(d, &[("X", "1")], &["show"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "NAME  VALUE  SOURCE  OVERRIDES\n");
    let out = run(d, &[("X", "1")], &["show", "--format", "json"]);
    assert_eq!(out.stdout, "{}\n");
    let out = run(d, &[("X", "1")], &["show", "--format", "dotenv"]);
    assert_eq!(out.stdout, "");
}
