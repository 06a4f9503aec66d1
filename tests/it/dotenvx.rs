//! dotenvx interop, against the real dotenvx from npm (`scripts/setup-dotenvx`, `$DOTENVX_BIN`):
//! dotenvx encrypts fixtures that secretrun must read exactly as dotenvx's own loader does, and
//! decrypts what secretrun encrypts.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{self, Run};

/// The pinned dotenvx CLI. Missing, the test fails: run `scripts/setup-dotenvx`.
fn dotenvx_bin() -> PathBuf {
    let path = std::env::var_os("DOTENVX_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".test-tools/dotenvx/node_modules/.bin/dotenvx")
        });
    assert!(
        path.is_file(),
        "dotenvx is missing at {}: run scripts/setup-dotenvx (scripts/test does)",
        path.display()
    );
    path
}

/// Runs dotenvx in `dir` with `args`, with a scrubbed environment; panics unless it succeeds.
fn dotenvx(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> String {
    let output = Command::new(dotenvx_bin())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", support::path())
        .env("HOME", dir)
        .envs(vars.iter().copied())
        .output()
        .expect("dotenvx runs");
    assert!(
        output.status.success(),
        "dotenvx {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The names and values the `.env` files give, as `secretrun export --format json` writes them.
fn exported(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> serde_json::Value {
    let mut command = support::secretrun_with(dir, vars);
    command.args(args).args(["export", "--format", "json"]);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(0), "{run:?}");
    serde_json::from_str(&run.stdout).expect("JSON")
}

/// The hex private key `name` from `dir/.env.keys`, as dotenvx wrote it.
fn private_key(dir: &Path, name: &str) -> String {
    let keys = std::fs::read_to_string(dir.join(".env.keys")).expect(".env.keys");
    keys.lines()
        .rev()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} in .env.keys"))
        .trim_matches('"')
        .to_string()
}

const FIXTURE: &str = concat!(
    "# app settings\n",
    "HELLO=world\n",
    "MULTI=\"line one\nline two\"\n",
    "ESCAPED=\"tab\\there\\nnext\"\n",
    "QUOTES='say \"hi\" $NOT_EXPANDED'\n",
    "GREETING=\"${HELLO}, again\"\n",
    "LATER=${DEFINED_BELOW}x\n",
    "DEFINED_BELOW=below\n",
    "PLAIN_PLAIN=stays-plaintext\n",
);

fn fixture_values() -> serde_json::Value {
    serde_json::json!({
        "HELLO": "world",
        "MULTI": "line one\nline two",
        "ESCAPED": "tab\there\nnext",
        "QUOTES": "say \"hi\" $NOT_EXPANDED",
        "GREETING": "world, again",
        "LATER": "x",
        "DEFINED_BELOW": "below",
        "PLAIN_PLAIN": "stays-plaintext",
    })
}

#[test]
fn reads_what_dotenvx_encrypted_as_dotenvx_runs_it() {
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", FIXTURE);
    dotenvx(dir.path(), &["encrypt", "-f", ".env"], &[]);
    let encrypted = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(encrypted.contains("HELLO=encrypted:"), "{encrypted}");
    assert!(!encrypted.contains("world"), "{encrypted}");

    // dotenvx's own loader and secretrun agree on every value.
    let by_dotenvx = dotenvx(
        dir.path(),
        &[
            "run",
            "-f",
            ".env",
            "--",
            "sh",
            "-c",
            "printf '%s|' \"$MULTI\" \"$GREETING\" \"$QUOTES\" \"$LATER\"",
        ],
        &[],
    );
    assert_eq!(
        by_dotenvx,
        "line one\nline two|world, again|say \"hi\" $NOT_EXPANDED|x|"
    );
    assert_eq!(exported(dir.path(), &["-e", ".env"], &[]), fixture_values());
}

#[test]
fn each_environment_uses_its_own_key_from_the_environment_and_the_keys_are_not_passed_on() {
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", "SHARED=development value\n");
    support::write(
        dir.path(),
        ".env.production",
        "SHARED=production value\nONLY_PROD=yes\n",
    );
    dotenvx(dir.path(), &["encrypt", "-f", ".env"], &[]);
    dotenvx(dir.path(), &["encrypt", "-f", ".env.production"], &[]);
    let development = private_key(dir.path(), "DOTENV_PRIVATE_KEY");
    let production = private_key(dir.path(), "DOTENV_PRIVATE_KEY_PRODUCTION");
    std::fs::remove_file(dir.path().join(".env.keys")).unwrap();

    let keys = [
        ("DOTENV_PRIVATE_KEY", development.as_str()),
        ("DOTENV_PRIVATE_KEY_PRODUCTION", production.as_str()),
    ];
    assert_eq!(
        exported(dir.path(), &["-e", ".env", "-e", ".env.production"], &keys),
        serde_json::json!({"SHARED": "production value", "ONLY_PROD": "yes"})
    );
    let keys = [("DOTENV_PRIVATE_KEY_PRODUCTION", production.as_str())];
    let mut command = support::secretrun_with(dir.path(), &keys);
    command.args(["-e", ".env.production", "--", "env"]);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("SHARED=production value\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("DOTENV_"), "{}", run.stdout);

    let mut command = support::secretrun_with(dir.path(), &keys);
    command.args(["-e", ".env.production", "--keep-config-vars", "--", "env"]);
    let run = support::run(&mut command);
    assert!(
        run.stdout
            .contains(&format!("DOTENV_PRIVATE_KEY_PRODUCTION={production}\n")),
        "{run:?}"
    );
}

/// Runs `secretrun -e FILE -- CHILD` expecting exit 125, the child not started, and no value,
/// ciphertext or key on stderr; returns stderr.
fn refused(dir: &Path, file: &str, vars: &[(&str, &str)], secrets: &[&str]) -> String {
    let marker = dir.join("child-ran");
    let mut command = support::secretrun_with(dir, vars);
    command.args(["-e", file, "--", "touch"]).arg(&marker);
    let run: Run = support::run(&mut command);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(!marker.exists(), "the command started");
    for secret in secrets {
        assert!(!run.stderr.contains(secret), "{}", run.stderr);
    }
    assert!(!run.stderr.contains("encrypted:"), "{}", run.stderr);
    run.stderr
}

#[test]
fn a_key_mismatch_a_missing_key_and_a_corrupt_value_stop_the_run() {
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", "FIRST=one\nTOKEN=s3cret-token\n");
    support::write(dir.path(), ".env.production", "OTHER=x\n");
    dotenvx(dir.path(), &["encrypt", "-f", ".env"], &[]);
    dotenvx(dir.path(), &["encrypt", "-f", ".env.production"], &[]);
    let production = private_key(dir.path(), "DOTENV_PRIVATE_KEY_PRODUCTION");
    let development = private_key(dir.path(), "DOTENV_PRIVATE_KEY");
    let secrets = ["s3cret-token", production.as_str(), development.as_str()];

    // Another file's key, given as this file's.
    let stderr = refused(
        dir.path(),
        ".env",
        &[("DOTENV_PRIVATE_KEY", production.as_str())],
        &secrets,
    );
    assert_eq!(
        stderr,
        "secretrun: error: dotenv:.env: '.env', line 8: variable FIRST: DOTENV_PRIVATE_KEY does \
         not match the file's DOTENV_PUBLIC_KEY: it is another file's key\n"
    );

    // No key anywhere.
    std::fs::rename(dir.path().join(".env.keys"), dir.path().join("keys.backup")).unwrap();
    let stderr = refused(dir.path(), ".env", &[], &secrets);
    assert_eq!(
        stderr,
        "secretrun: error: dotenv:.env: '.env', line 8: variable FIRST: no private key to \
         decrypt it: set DOTENV_PRIVATE_KEY in the environment or in '.env.keys'\n"
    );

    // A value altered after encryption: the tag no longer matches.
    let text = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    let start = text.find("TOKEN=encrypted:").unwrap() + "TOKEN=encrypted:".len() + 100;
    let mut bytes = text.into_bytes();
    bytes[start] = if bytes[start] == b'A' { b'B' } else { b'A' };
    std::fs::write(dir.path().join(".env"), bytes).unwrap();
    let stderr = refused(
        dir.path(),
        ".env",
        &[("DOTENV_PRIVATE_KEY", development.as_str())],
        &secrets,
    );
    assert_eq!(
        stderr,
        "secretrun: error: dotenv:.env: '.env', line 9: variable TOKEN: the private key does \
         not decrypt it (another key encrypted it, or it was altered)\n"
    );
}

#[test]
fn invalid_utf8_names_the_line_and_the_variable() {
    let dir = support::temp_dir();
    std::fs::write(
        dir.path().join(".env"),
        b"A=1\nMULTI=\"first line\nsecond \xff line\"\nB=2\n",
    )
    .unwrap();
    let stderr = refused(dir.path(), ".env", &[], &[]);
    assert_eq!(
        stderr,
        "secretrun: error: dotenv:.env: '.env', line 3: variable MULTI: the value is not valid \
         UTF-8\n"
    );
}

/// The text `dotenvx encrypt` puts before a `.env` file's own lines.
fn header(public_name: &str, public_hex: &str, file: &str) -> String {
    format!(
        "#/-------------------[DOTENV_PUBLIC_KEY]--------------------/\n\
         #/            public-key encryption for .env files          /\n\
         #/       [how it works](https://dotenvx.com/encryption)     /\n\
         #/----------------------------------------------------------/\n\
         {public_name}=\"{public_hex}\"\n\n# {file}\n"
    )
}

fn public_key(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=\"")))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{name} in {text}"))
        .to_string()
}

fn secretrun_ok(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut command = support::secretrun_with(dir, vars);
    command.args(args);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(0), "{run:?}");
    run
}

#[test]
fn dotenvx_reads_and_decrypts_what_secretrun_encrypted() {
    use std::os::unix::fs::PermissionsExt;
    let dir = support::temp_dir();
    support::write(dir.path(), ".env", FIXTURE);
    support::write(
        dir.path(),
        ".env.staging",
        "# staging\nexport API=\"https://x\" # api\n",
    );
    let run = secretrun_ok(
        dir.path(),
        &["encrypt", "-f", ".env", "-f", ".env.staging"],
        &[],
    );
    assert_eq!(
        run.stderr,
        "secretrun: encrypted 7 value(s) in .env\nsecretrun: encrypted 1 value(s) in .env.staging\n"
    );
    let keys_mode = std::fs::metadata(dir.path().join(".env.keys"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(keys_mode & 0o777, 0o600);
    let encrypted = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    let staging = std::fs::read_to_string(dir.path().join(".env.staging")).unwrap();
    assert!(staging.contains("\nexport API=\"encrypted:"), "{staging}");
    assert!(staging.ends_with("\" # api\n"), "{staging}");
    let public = public_key(&staging, "DOTENV_PUBLIC_KEY_STAGING");
    assert!(staging.starts_with(&header(
        "DOTENV_PUBLIC_KEY_STAGING",
        &public,
        ".env.staging"
    )));
    assert!(!encrypted.contains("world"), "{encrypted}");
    assert!(
        encrypted.contains("\nPLAIN_PLAIN=stays-plaintext\n"),
        "{encrypted}"
    );

    // dotenvx's loader gets the fixture's values from secretrun's file ...
    let by_dotenvx = dotenvx(
        dir.path(),
        &[
            "run",
            "-f",
            ".env",
            "--",
            "sh",
            "-c",
            "printf '%s|' \"$MULTI\" \"$GREETING\" \"$QUOTES\" \"$ESCAPED\"",
        ],
        &[],
    );
    assert_eq!(
        by_dotenvx,
        "line one\nline two|world, again|say \"hi\" $NOT_EXPANDED|tab\there\nnext|"
    );
    // ... and so does secretrun.
    assert_eq!(exported(dir.path(), &["-e", ".env"], &[]), fixture_values());

    // dotenvx decrypts secretrun's file back to the original lines under the header.
    dotenvx(dir.path(), &["decrypt", "-f", ".env.staging"], &[]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".env.staging")).unwrap(),
        format!(
            "{}# staging\nexport API=\"https://x\" # api\n",
            header("DOTENV_PUBLIC_KEY_STAGING", &public, ".env.staging")
        )
    );
}

#[test]
fn secretrun_decrypts_what_dotenvx_encrypted_and_writes_nothing_on_failure() {
    let dir = support::temp_dir();
    let original = "A=one\nB=\"two\nlines\"\nC='three' # kept\n";
    support::write(dir.path(), ".env.production", original);
    dotenvx(dir.path(), &["encrypt", "-f", ".env.production"], &[]);
    let encrypted = std::fs::read_to_string(dir.path().join(".env.production")).unwrap();
    let public = public_key(&encrypted, "DOTENV_PUBLIC_KEY_PRODUCTION");

    // Only B, then the rest, with the key from the environment.
    let key = private_key(dir.path(), "DOTENV_PRIVATE_KEY_PRODUCTION");
    std::fs::rename(dir.path().join(".env.keys"), dir.path().join("keys")).unwrap();
    let vars = [("DOTENV_PRIVATE_KEY_PRODUCTION", key.as_str())];
    secretrun_ok(
        dir.path(),
        &["decrypt", "-f", ".env.production", "-k", "B"],
        &vars,
    );
    let partly = std::fs::read_to_string(dir.path().join(".env.production")).unwrap();
    assert!(
        partly.contains("\nA=encrypted:") && partly.contains("\nB=\"two\nlines\"\n"),
        "{partly}"
    );

    // A wrong key fails naming the variable, and the file is left as it was.
    let wrong = [("DOTENV_PRIVATE_KEY_PRODUCTION", "1".repeat(64))];
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let mut command = support::secretrun_with(dir.path(), &wrong);
    command.args(["decrypt", "-f", ".env.production"]);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("line 8: variable A: DOTENV_PRIVATE_KEY_PRODUCTION does not match"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".env.production")).unwrap(),
        partly
    );

    secretrun_ok(dir.path(), &["decrypt", "-f", ".env.production"], &vars);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".env.production")).unwrap(),
        format!(
            "{}{original}",
            header("DOTENV_PUBLIC_KEY_PRODUCTION", &public, ".env.production")
        )
    );
}

#[test]
fn check_warns_about_committed_keys_and_plaintext_beside_encrypted_values() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "SECRET=hidden-value\n");
    dotenvx(d, &["encrypt", "-f", ".env"], &[]);
    let mut text = std::fs::read_to_string(d.join(".env")).unwrap();
    text.push_str("LEAKED=plain-value\nNOTE_PLAIN=fine\n");
    std::fs::write(d.join(".env"), text).unwrap();
    for args in [&["init", "-q"][..], &["add", ".env", ".env.keys"]] {
        let status = Command::new("git")
            .args(args)
            .current_dir(d)
            .status()
            .expect("git is installed");
        assert!(status.success(), "git {args:?}");
    }
    let run = secretrun_ok(d, &["-e", ".env", "check"], &[]);
    let dotenvx_lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("warn   dotenvx"))
        .collect();
    assert_eq!(
        dotenvx_lines,
        [
            "warn   dotenvx      dotenv:.env: the private keys in .env.keys are tracked by git: \
             whoever reads the repository can decrypt the file; run: git rm --cached .env.keys \
             and add it to .gitignore",
            "warn   dotenvx      dotenv:.env: tracked by git with plaintext values beside \
             encrypted ones: LEAKED; run: secretrun encrypt -f .env (or name them *_PLAIN)",
        ],
        "{}",
        run.stdout
    );
    for value in ["hidden-value", "plain-value"] {
        assert!(!run.stdout.contains(value), "{}", run.stdout);
    }
}

#[test]
fn show_marks_decrypted_values_and_scan_finds_the_private_key() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "SECRET=hidden-value-1234\nOPEN_PLAIN=visible\n");
    dotenvx(d, &["encrypt", "-f", ".env"], &[]);
    let key = private_key(d, "DOTENV_PRIVATE_KEY");

    let run = secretrun_ok(d, &["-e", ".env", "show", "--format", "json"], &[]);
    let shown: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        shown["SECRET"]["source"], "dotenv:.env (encrypted)",
        "{shown}"
    );
    assert_eq!(shown["OPEN_PLAIN"]["source"], "dotenv:.env", "{shown}");

    // The key copied into a script is found, as the value is; in .env.keys it is expected.
    support::write(
        d,
        "deploy.sh",
        &format!("export DOTENV_PRIVATE_KEY={key}\n"),
    );
    let mut command = support::secretrun_with(d, &[]);
    command.args(["-e", ".env", "scan"]);
    let run = support::run(&mut command);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout,
        "deploy.sh:1: DOTENV_PRIVATE_KEY (dotenv:.env)\n"
    );
}

#[test]
fn keys_can_live_in_another_file() {
    let dir = support::temp_dir();
    let d = dir.path();
    support::write(d, ".env", "SECRET=from-elsewhere\n");
    std::fs::create_dir(d.join("vault")).unwrap();
    dotenvx(d, &["encrypt", "-f", ".env", "-fk", "vault/app.keys"], &[]);
    assert!(!d.join(".env.keys").exists());
    let expected = serde_json::json!({"SECRET": "from-elsewhere"});
    assert_eq!(
        exported(d, &["--env-keys-file", "vault/app.keys", "-e", ".env"], &[]),
        expected
    );
    assert_eq!(
        exported(d, &["-s", "dotenv:.env?keys=vault/app.keys"], &[]),
        expected
    );
    // secretrun encrypt writes the key there too, and notes it as dotenvx does.
    support::write(d, ".env.test", "OTHER=x\n");
    secretrun_ok(
        d,
        &[
            "--env-keys-file",
            "vault/app.keys",
            "encrypt",
            "-f",
            ".env.test",
        ],
        &[],
    );
    let text = std::fs::read_to_string(d.join(".env.test")).unwrap();
    assert!(text.contains("\" # -fk vault/app.keys\n"), "{text}");
    let by_dotenvx = dotenvx(
        d,
        &[
            "run",
            "-f",
            ".env.test",
            "-fk",
            "vault/app.keys",
            "--",
            "printenv",
            "OTHER",
        ],
        &[],
    );
    assert_eq!(by_dotenvx, "x\n");
}
