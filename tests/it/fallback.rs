//! The encrypted last-known-good snapshot, against the Doppler stand-in and its fault injection.
//!
//! Every test has its own token (so faults armed for it reach nothing else) and its own
//! `XDG_CACHE_HOME` (so snapshots of one test never meet another's).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::doppler::stub;
use crate::support::{self, Run};

const SPEC: &str = "doppler:*";

/// One test's token, value and cache directory.
struct Case {
    token: String,
    value: String,
    cache: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let value = support::unique("lkg-canary-");
        let token = stub().service_token("dev", "dev", &[("LKG", &value)]);
        Case {
            token,
            value,
            cache: support::temp_dir(),
        }
    }

    /// secretrun printing LKG, against `host`, with `extra` environment and `flags`.
    fn run_at(&self, host: &str, extra: &[(&str, &str)], flags: &[&str]) -> Run {
        let dir = support::temp_dir();
        let cache = self.cache.path().to_str().unwrap();
        let mut env = vec![
            ("DOPPLER_TOKEN", self.token.as_str()),
            ("DOPPLER_API_HOST", host),
            ("XDG_CACHE_HOME", cache),
        ];
        env.extend_from_slice(extra);
        let mut args: Vec<&str> = flags.to_vec();
        args.extend(["--source", SPEC, "--", "printenv", "LKG"]);
        support::run_in(dir.path(), args, &env)
    }

    fn run(&self, extra: &[(&str, &str)], flags: &[&str]) -> Run {
        self.run_at(&stub().url, extra, flags)
    }

    /// A fresh, successful run, which writes the snapshot.
    fn prime(&self, extra: &[(&str, &str)], flags: &[&str]) {
        let run = self.run(extra, flags);
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(run.stdout, format!("{}\n", self.value));
    }

    /// Arms a 503 storm longer than the retry budget (4 attempts per run).
    fn storm(&self) -> String {
        stub().fault(&self.token, json!({"status": 503, "count": 1000}))
    }

    fn snapshots(&self) -> Vec<PathBuf> {
        snapshots_in(&self.cache.path().join("secretrun"))
    }

    fn served(&self, run: &Run) {
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(run.stdout, format!("{}\n", self.value), "{run:?}");
        assert!(
            run.stderr.contains("WARN")
                && run.stderr.contains(SPEC)
                && run.stderr.contains("HTTP 503")
                && run.stderr.contains("last-known-good")
                && run.stderr.contains(" old"),
            "the fallback is named, with its age: {run:?}"
        );
        assert!(!run.stderr.contains(&self.value), "{run:?}");
    }
}

fn snapshots_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    paths
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn success_writes_a_private_encrypted_snapshot() {
    let case = Case::new();
    case.prime(&[], &[]);
    let files = case.snapshots();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    assert!(
        file.extension().is_some_and(|ext| ext == "snapshot"),
        "{file:?}"
    );
    assert_eq!(mode(file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    let bytes = std::fs::read(file).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains(&case.value) && !text.contains("LKG"),
        "{text}"
    );
    assert!(!text.contains(&case.token));
    // The name says nothing of the token either.
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        !name.contains(&case.token) && !name.contains("dev"),
        "{name}"
    );
}

#[test]
fn storm_beyond_the_retry_budget_serves_the_last_known_good_value() {
    let case = Case::new();
    case.prime(&[], &[]);
    let fault = case.storm();
    let run = case.run(&[], &[]);
    case.served(&run);
    // The provider's retries were all spent before the snapshot was used.
    assert_eq!(stub().fault_hits(&fault), 4);
    // Serving from the snapshot does not rewrite it.
    assert_eq!(case.snapshots().len(), 1);
}

#[test]
fn revoked_token_fails_and_deletes_the_snapshot() {
    // 401: the token is gone from the service.
    let case = Case::new();
    case.prime(&[], &[]);
    assert_eq!(case.snapshots().len(), 1);
    let token = case.token.clone();
    stub().update(|data| {
        data["tokens"].as_object_mut().unwrap().remove(&token);
    });
    let run = case.run(&[], &[]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("HTTP 401"), "{run:?}");
    assert!(
        run.stderr.contains("deleted the fallback snapshot"),
        "{run:?}"
    );
    assert_eq!(case.snapshots(), Vec::<PathBuf>::new());
    assert!(!run.stdout.contains(&case.value));

    // 403: the token may no longer read the config.
    let case = Case::new();
    case.prime(&[], &[]);
    let token = case.token.clone();
    stub().update(|data| data["tokens"][token.as_str()]["forbidden"] = json!(true));
    let run = case.run(&[], &[]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("HTTP 403"), "{run:?}");
    assert_eq!(case.snapshots(), Vec::<PathBuf>::new());
}

#[test]
fn no_fallback_neither_reads_nor_writes() {
    let case = Case::new();
    case.run(&[], &["--no-fallback"]);
    assert_eq!(case.snapshots(), Vec::<PathBuf>::new(), "nothing written");

    case.prime(&[], &[]);
    case.storm();
    let run = case.run(&[], &["--no-fallback"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(SPEC) && run.stderr.contains("HTTP 503"),
        "{run:?}"
    );
    assert!(!run.stdout.contains(&case.value));
    // The same through the config file.
    let dir = support::temp_dir();
    let config = support::write(dir.path(), "secretrun.toml", "no-fallback = true\n");
    let run = case.run(&[], &["--config", config.to_str().unwrap()]);
    assert_eq!(run.code, Some(125), "{run:?}");
}

#[test]
fn fallback_only_never_contacts_the_provider() {
    let case = Case::new();
    case.prime(&[], &[]);
    // The stub answers 500 to this token from now on: any contact would show in its counter.
    let fault = stub().fault(&case.token, json!({"status": 500}));
    for flag in ["--fallback-only", "--offline"] {
        let run = case.run(&[], &[flag]);
        assert_eq!(run.code, Some(0), "{flag}: {run:?}");
        assert_eq!(run.stdout, format!("{}\n", case.value));
    }
    assert_eq!(stub().fault_hits(&fault), 0);

    // An explicit file, read with the service unreachable (a closed port).
    let case = Case::new();
    let file = case.cache.path().join("mine/app.snapshot");
    let file = file.to_str().unwrap();
    case.prime(&[], &["--fallback", file]);
    assert!(Path::new(file).is_file());
    let closed = format!("http://127.0.0.1:{}", support::free_port());
    let run = case.run_at(&closed, &[], &["--fallback-only", "--fallback", file]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("{}\n", case.value));
}

#[test]
fn fallback_only_without_a_snapshot_fails() {
    let case = Case::new();
    let run = case.run(&[], &["--fallback-only"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("--fallback-only: no usable fallback snapshot")
            && run.stderr.contains("there is no snapshot"),
        "{run:?}"
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn max_age_ignores_an_older_snapshot() {
    let case = Case::new();
    case.prime(&[], &[]);
    std::thread::sleep(Duration::from_millis(20));
    case.storm();
    let run = case.run(&[], &["--fallback-max-age", "1ms"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("HTTP 503") && run.stderr.contains("older than --fallback-max-age 1ms"),
        "{run:?}"
    );
    // A generous limit, in the config file, serves it.
    let dir = support::temp_dir();
    let config = support::write(dir.path(), "secretrun.toml", "fallback-max-age = \"1h\"\n");
    let run = case.run(&[], &["--config", config.to_str().unwrap()]);
    case.served(&run);
}

#[test]
fn changed_passphrase_means_no_snapshot() {
    let case = Case::new();
    let first = [("SECRETRUN_FALLBACK_PASSPHRASE", "correct horse")];
    case.prime(&first, &[]);
    case.storm();
    let run = case.run(&[("SECRETRUN_FALLBACK_PASSPHRASE", "battery staple")], &[]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("WARN")
            && run.stderr.contains("ignoring the fallback snapshot")
            && run.stderr.contains("cannot be decrypted")
            && run.stderr.contains("HTTP 503"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("correct horse") && !run.stderr.contains("battery"));
    // The right passphrase still opens it: a failed decryption deletes nothing.
    let run = case.run(&first, &[]);
    case.served(&run);
}

#[test]
fn concurrent_writers_leave_one_valid_snapshot() {
    let case = Case::new();
    let cache = case.cache.path().to_str().unwrap();
    let dir = support::temp_dir();
    let children: Vec<_> = (0..50)
        .map(|_| {
            let mut command = support::secretrun(dir.path());
            command
                .env("DOPPLER_TOKEN", &case.token)
                .env("DOPPLER_API_HOST", &stub().url)
                .env("XDG_CACHE_HOME", cache)
                .args(["--source", SPEC, "--", "true"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            command.spawn().expect("secretrun starts")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        // No writer saw a torn file or failed to write.
        assert!(
            output.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // One file, no temp files left behind.
    let files = case.snapshots();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&files[0]), 0o600);
    case.storm();
    let run = case.run(&[], &[]);
    case.served(&run);
}

/// Arms a fault that cuts every downloaded body in half: a run that still succeeds was
/// answered "304 Not Modified", which has no body to cut.
fn cut_bodies(case: &Case) -> String {
    stub().fault(&case.token, json!({"truncate": true, "count": 1000}))
}

#[test]
fn unchanged_config_is_confirmed_not_downloaded() {
    let case = Case::new();
    case.prime(&[], &[]);
    let fault = cut_bodies(&case);
    let run = case.run(&[], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("{}\n", case.value));
    // Fresh, not served as a fallback: nothing to warn about.
    assert!(!run.stderr.contains("WARN"), "{run:?}");
    assert_eq!(stub().fault_hits(&fault), 1, "one conditional request");
    // --no-fallback sends no tag, so the same fault now breaks the download.
    let run = case.run(&[], &["--no-fallback"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains(SPEC), "{run:?}");
    assert!(!run.stderr.contains(&case.value), "{run:?}");
}

#[test]
fn changed_config_is_downloaded_and_becomes_the_snapshot() {
    let case = Case::new();
    case.prime(&[], &[]);
    let rotated = support::unique("rotated-");
    stub().update(|data| data["tokens"][case.token.as_str()]["secrets"]["LKG"] = json!(rotated));
    let run = case.run(&[], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("{rotated}\n"), "{run:?}");
    // The snapshot now holds the new value: a storm serves it, not the old one.
    case.storm();
    let run = case.run(&[], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("{rotated}\n"), "{run:?}");
    assert!(run.stderr.contains("last-known-good"), "{run:?}");
}

/// The key derivation a snapshot file names in its header: the rounds field after the magic,
/// 0 for HKDF.
fn kdf_rounds(path: &Path) -> u32 {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"SRFBK\0\0\x03", "today's format");
    u32::from_be_bytes(bytes[8..12].try_into().unwrap())
}

#[test]
fn token_snapshots_use_hkdf_and_passphrase_snapshots_pbkdf2() {
    let case = Case::new();
    case.prime(&[], &[]);
    let files = case.snapshots();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(kdf_rounds(&files[0]), 0, "HKDF");
    std::fs::remove_file(&files[0]).unwrap();
    case.prime(&[("SECRETRUN_FALLBACK_PASSPHRASE", "correct horse")], &[]);
    assert_eq!(kdf_rounds(&files[0]), 200_000, "PBKDF2");
    // Both are served in a storm.
    case.storm();
    let run = case.run(&[("SECRETRUN_FALLBACK_PASSPHRASE", "correct horse")], &[]);
    case.served(&run);
}

#[test]
fn an_unchanged_config_leaves_the_snapshot_file_as_it_is() {
    use std::os::unix::fs::MetadataExt;
    let case = Case::new();
    case.prime(&[], &[]);
    let file = case.snapshots().remove(0);
    let before = std::fs::read(&file).unwrap();
    let inode = std::fs::metadata(&file).unwrap().ino();
    for _ in 0..2 {
        case.prime(&[], &[]);
        assert_eq!(
            std::fs::metadata(&file).unwrap().ino(),
            inode,
            "not replaced"
        );
        assert_eq!(std::fs::read(&file).unwrap(), before, "not rewritten");
    }
    // A change is written.
    let rotated = support::unique("rotated-");
    stub().update(|data| data["tokens"][case.token.as_str()]["secrets"]["LKG"] = json!(rotated));
    let run = case.run(&[], &[]);
    assert_eq!(run.stdout, format!("{rotated}\n"), "{run:?}");
    assert_ne!(std::fs::metadata(&file).unwrap().ino(), inode, "replaced");
}
