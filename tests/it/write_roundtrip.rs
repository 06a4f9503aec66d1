//! The write path's contract, written once and run against every writable store: after `push`
//! or `set` to SPEC, `secretrun --source SPEC -- env` yields exactly the names and values
//! written, byte for byte; a re-run writes nothing; a different value needs `--overwrite`; no
//! value reaches stderr, even at `-vvv`.
//!
//! `write_tests!(target_fn)` expands to one `#[test]` per clause, so a failure names the store
//! and the clause.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

use crate::support::{self, Run};

/// Values that trip up quoting: newlines, a tab, quotes, `$`, `#`, backslashes, unicode, an
/// empty value (those the Doppler stand-in check uses, and more).
pub const AWKWARD: &[(&str, &str)] = &[
    ("PLAIN", "hello"),
    ("SPACES", "a b  c "),
    ("QUOTES", "it's \"quoted\" `tick`"),
    ("DOLLAR", "$HOME ${PATH} $(id) \\$x"),
    ("EQUALS", "k=v&x=y#frag"),
    ("HASH", "# not a comment"),
    ("MULTILINE", "line1\nline2\n\tindented"),
    ("BACKSLASH", "C:\\dir\\n\\\\end\\"),
    ("UNICODE", "päss wörd ✓"),
    ("EMPTY", ""),
];

pub trait WriteTarget: Sync {
    /// What secretrun needs to reach the store with credentials that may write.
    fn env(&self) -> Vec<(String, String)>;
    /// A spec naming a target that holds nothing yet; relative paths are relative to `dir`.
    fn new_spec(&self, dir: &Path) -> String;
    /// A tag that changes whenever the target is written (a KV v2 version, the file's inode),
    /// if the store has one.
    fn revision(&self, dir: &Path, spec: &str) -> Option<String>;
    /// Whether the store can hold an empty value (Parameter Store cannot).
    fn holds_empty(&self) -> bool {
        true
    }
}

/// The awkward values `target` can hold.
pub fn awkward(target: &dyn WriteTarget) -> Vec<(&'static str, &'static str)> {
    AWKWARD
        .iter()
        .copied()
        .filter(|(_, value)| target.holds_empty() || !value.is_empty())
        .collect()
}

/// secretrun in `dir` with the target's environment (and PATH), `args`, and `stdin`.
pub fn run(target: &dyn WriteTarget, dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let env = target.env();
    let pairs: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let mut command = support::secretrun_with(dir, &pairs);
    command.args(args).stdin(Stdio::piped());
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("secretrun starts");
    child
        .stdin
        .take()
        .expect("stdin piped")
        .write_all(stdin)
        .expect("stdin written");
    child.wait_with_output().expect("secretrun runs").into()
}

/// Pushes `values` from a `dir:` source (one file per name, bytes as they are) to `spec`.
pub fn push(
    target: &dyn WriteTarget,
    dir: &Path,
    spec: &str,
    values: &[(&str, &str)],
    extra: &[&str],
) -> Run {
    let source = tempfile::Builder::new()
        .prefix("from-")
        .tempdir_in(dir)
        .expect("source dir");
    for (name, value) in values {
        std::fs::write(source.path().join(name), value).unwrap();
    }
    let from = format!("dir:{}", source.path().display());
    let mut args = vec!["push", "--from", &from, "--to", spec];
    args.extend(extra);
    run(target, dir, &args, b"")
}

/// What `--source SPEC -- env -0` gives the child, without PATH and the target's own settings.
pub fn read_back(target: &dyn WriteTarget, dir: &Path, spec: &str) -> Vec<(String, String)> {
    let run = run(target, dir, &["--source", spec, "--", "env", "-0"], b"");
    assert_eq!(run.code, Some(0), "{run:?}");
    let settings: Vec<String> = target.env().into_iter().map(|(name, _)| name).collect();
    let mut vars: Vec<(String, String)> = run
        .stdout
        .split('\0')
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (name, value) = entry.split_once('=').expect("NAME=VALUE");
            (name.to_string(), value.to_string())
        })
        .filter(|(name, _)| name != "PATH" && !settings.contains(name))
        .collect();
    vars.sort();
    vars
}

fn sorted(values: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = values
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    vars.sort();
    vars
}

fn assert_no_value_on_stderr(run: &Run, values: &[(&str, &str)]) {
    for (_, value) in values.iter().filter(|(_, value)| value.len() >= 5) {
        assert!(
            !run.stderr.contains(value),
            "a value reached stderr: {run:?}"
        );
    }
}

/// Every awkward value reads back exactly, and nothing else is there.
pub fn awkward_values_round_trip(target: &dyn WriteTarget) {
    let dir = support::temp_dir();
    let spec = target.new_spec(dir.path());
    let awkward = awkward(target);
    let run = push(target, dir.path(), &spec, &awkward, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    for (name, _) in &awkward {
        assert!(
            run.stdout
                .lines()
                .any(|line| line == format!("created   {name}")),
            "{run:?}"
        );
    }
    assert_eq!(read_back(target, dir.path(), &spec), sorted(&awkward));
}

/// `set` with one name takes all of stdin as the value, its trailing newline included.
pub fn set_takes_all_of_stdin_for_one_name(target: &dyn WriteTarget) {
    let dir = support::temp_dir();
    let spec = target.new_spec(dir.path());
    let value = "first line\nsecond = \"line\" $HOME\n";
    let run = run(
        target,
        dir.path(),
        &["set", "--to", &spec, "CERT"],
        value.as_bytes(),
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "created   CERT\n");
    assert_eq!(
        read_back(target, dir.path(), &spec),
        sorted(&[("CERT", value)])
    );
}

/// `set` with several names reads dotenv lines, one per name.
pub fn set_takes_dotenv_lines_for_several_names(target: &dyn WriteTarget) {
    let dir = support::temp_dir();
    let spec = target.new_spec(dir.path());
    let stdin = "API_KEY='k $1 # x'\nDB_URL=\"postgres://u:p@h/db\\nnext\"\n";
    let run = run(
        target,
        dir.path(),
        &["set", "--to", &spec, "DB_URL", "API_KEY"],
        stdin.as_bytes(),
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "created   DB_URL\ncreated   API_KEY\n");
    assert_eq!(
        read_back(target, dir.path(), &spec),
        sorted(&[
            ("API_KEY", "k $1 # x"),
            ("DB_URL", "postgres://u:p@h/db\nnext")
        ])
    );
}

/// A second identical push changes nothing: every name unchanged, no new revision.
pub fn rerun_writes_nothing(target: &dyn WriteTarget) {
    let dir = support::temp_dir();
    let spec = target.new_spec(dir.path());
    let values = &[("ONE", "1"), ("TWO", "two\nlines")];
    assert_eq!(push(target, dir.path(), &spec, values, &[]).code, Some(0));
    let before = target.revision(dir.path(), &spec);
    let run = push(target, dir.path(), &spec, values, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "unchanged ONE\nunchanged TWO\n");
    assert_eq!(target.revision(dir.path(), &spec), before);
    // One more name: only it is written; the others stay as they are.
    let run = push(
        target,
        dir.path(),
        &spec,
        &[("ONE", "1"), ("THREE", "3")],
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "unchanged ONE\ncreated   THREE\n");
    assert_eq!(
        read_back(target, dir.path(), &spec),
        sorted(&[("ONE", "1"), ("THREE", "3"), ("TWO", "two\nlines")])
    );
}

/// A different value is not replaced without --overwrite (nothing at all is written then);
/// --dry-run says what would happen and writes nothing.
pub fn different_value_needs_overwrite(target: &dyn WriteTarget) {
    let dir = support::temp_dir();
    let spec = target.new_spec(dir.path());
    assert_eq!(
        push(target, dir.path(), &spec, &[("KEEP", "first-value")], &[]).code,
        Some(0)
    );
    let wanted = &[("KEEP", "second-value"), ("NEW", "new-value")];

    let dry = push(target, dir.path(), &spec, wanted, &["--dry-run"]);
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert_eq!(dry.stdout, "update    KEEP\ncreate    NEW\n");

    let refused = push(target, dir.path(), &spec, wanted, &[]);
    assert_eq!(refused.code, Some(125), "{refused:?}");
    assert!(
        refused.stderr.contains("different value for KEEP")
            && refused.stderr.contains("--overwrite"),
        "{refused:?}"
    );
    assert_no_value_on_stderr(&refused, wanted);
    assert_eq!(
        read_back(target, dir.path(), &spec),
        sorted(&[("KEEP", "first-value")])
    );

    let replaced = push(target, dir.path(), &spec, wanted, &["--overwrite"]);
    assert_eq!(replaced.code, Some(0), "{replaced:?}");
    assert_eq!(replaced.stdout, "updated   KEEP\ncreated   NEW\n");
    assert_eq!(read_back(target, dir.path(), &spec), sorted(wanted));
}

/// --dry-run on a new target lists creations and leaves the target as it was.
pub fn dry_run_writes_nothing(target: &dyn WriteTarget) {
    let dir = support::temp_dir();
    let spec = target.new_spec(dir.path());
    let run = push(target, dir.path(), &spec, &[("A", "1")], &["--dry-run"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "create    A\n");
    let after = push(target, dir.path(), &spec, &[("A", "1")], &["--dry-run"]);
    assert_eq!(
        after.stdout, "create    A\n",
        "the dry run wrote: {after:?}"
    );
}

/// Nothing of a value reaches secretrun's stderr at -vvv, for push and set.
pub fn no_value_on_stderr_at_trace(target: &dyn WriteTarget) {
    let dir = support::temp_dir();
    let spec = target.new_spec(dir.path());
    let values = &[
        ("TRACE_ONE", "canary-one-7f3a"),
        ("TRACE_TWO", "canary-two-9b1c"),
    ];
    let run = push(target, dir.path(), &spec, values, &["-vvv"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stderr.is_empty(), "-vvv logged nothing: {run:?}");
    assert_no_value_on_stderr(&run, values);
    let run = run_set(target, dir.path(), &spec, "TRACE_ONE", "canary-three-5d2e");
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_no_value_on_stderr(&run, &[("", "canary-three-5d2e"), ("", "canary-one-7f3a")]);
}

fn run_set(target: &dyn WriteTarget, dir: &Path, spec: &str, name: &str, value: &str) -> Run {
    run(
        target,
        dir,
        &["-vvv", "set", "--overwrite", "--to", spec, name],
        value.as_bytes(),
    )
}

#[macro_export]
macro_rules! write_tests {
    ($target:path) => {
        mod write_contract {
            use $crate::write_roundtrip as c;

            #[test]
            fn awkward_values_round_trip() {
                c::awkward_values_round_trip($target());
            }

            #[test]
            fn set_takes_all_of_stdin_for_one_name() {
                c::set_takes_all_of_stdin_for_one_name($target());
            }

            #[test]
            fn set_takes_dotenv_lines_for_several_names() {
                c::set_takes_dotenv_lines_for_several_names($target());
            }

            #[test]
            fn rerun_writes_nothing() {
                c::rerun_writes_nothing($target());
            }

            #[test]
            fn different_value_needs_overwrite() {
                c::different_value_needs_overwrite($target());
            }

            #[test]
            fn dry_run_writes_nothing() {
                c::dry_run_writes_nothing($target());
            }

            #[test]
            fn no_value_on_stderr_at_trace() {
                c::no_value_on_stderr_at_trace($target());
            }
        }
    };
}
