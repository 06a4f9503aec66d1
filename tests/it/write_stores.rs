//! `set`, `push` and `copy` against each writable store: the shared round-trip suite
//! (`write_roundtrip`) per store, and what is particular to each (a `.env` file's comments and
//! mode, Vault's merge with existing keys and its refusal of a read-only token).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use serde_json::json;

use crate::support;
use crate::write_roundtrip::{self as contract, WriteTarget};

pub mod dotenv {
    use super::*;

    pub struct DotenvTarget;

    impl WriteTarget for DotenvTarget {
        fn env(&self) -> Vec<(String, String)> {
            Vec::new()
        }

        fn new_spec(&self, _dir: &Path) -> String {
            "dotenv:target.env".into()
        }

        /// Every write renames a new file into place: the inode tells whether one happened.
        fn revision(&self, dir: &Path, spec: &str) -> Option<String> {
            let path = dir.join(spec.strip_prefix("dotenv:").unwrap());
            Some(std::fs::metadata(path).unwrap().ino().to_string())
        }
    }

    pub fn target() -> &'static DotenvTarget {
        &DotenvTarget
    }

    crate::write_tests!(super::target);

    #[test]
    fn keeps_comments_order_and_writes_mode_0600() {
        let dir = support::temp_dir();
        let path = support::write(
            dir.path(),
            ".env",
            "# database\nexport DB_HOST=localhost # local\n\nDB_PASS=old\n# end\n",
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let run = contract::run(
            target(),
            dir.path(),
            &[
                "set",
                "--overwrite",
                "--to",
                "dotenv:.env",
                "DB_PASS",
                "API",
            ],
            b"DB_PASS=new\nAPI=\"a b\"\n",
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# database\nexport DB_HOST=localhost # local\n\nDB_PASS=\"new\"\n# end\nAPI=\"a b\"\n"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .filter(|name| name != ".env")
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    /// `set` in a real terminal (a tmux pane): `script` runs in `dir` with a scrubbed
    /// environment, then writes its exit status to `done` and the terminal's settings to `stty`.
    pub(super) struct Terminal {
        socket: std::path::PathBuf,
    }

    impl Terminal {
        fn start(dir: &Path, args: &str) -> Terminal {
            Terminal::start_with(dir, &[], args)
        }

        /// As [`Terminal::start`], with `env` added to the scrubbed environment.
        pub(super) fn start_with(dir: &Path, env: &[(String, String)], args: &str) -> Terminal {
            // A socket of its own: a server just killed may still hold the previous one.
            static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let started = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let socket = dir.join(format!("tmux-{started}.sock"));
            let env: String = env
                .iter()
                .map(|(name, value)| format!(" {name}='{value}'"))
                .collect();
            let script = format!(
                // The shell outlives a Ctrl-C (a trap, not an ignore, which secretrun would
                // inherit) to report how secretrun ended.
                "trap true INT; cd '{}' && env -i PATH=\"$PATH\" HOME=/nonexistent{env} {} {args}; \
                 echo $? > done; stty -a > stty; sleep 60",
                dir.display(),
                support::bin()
            );
            let terminal = Terminal { socket };
            terminal.tmux(&[
                "new-session",
                "-d",
                "-x",
                "150",
                "-y",
                "30",
                "sh",
                "-c",
                &script,
            ]);
            terminal
        }

        pub(super) fn tmux(&self, args: &[&str]) -> String {
            let output = std::process::Command::new("tmux")
                .arg("-S")
                .arg(&self.socket)
                .args(args)
                .output()
                .expect("tmux runs");
            assert!(output.status.success(), "tmux {args:?}: {output:?}");
            String::from_utf8_lossy(&output.stdout).into_owned()
        }

        pub(super) fn screen(&self) -> String {
            self.tmux(&["capture-pane", "-p"])
        }

        pub(super) fn wait_for(&self, text: &str) -> String {
            let started = std::time::Instant::now();
            loop {
                let screen = self.screen();
                if screen.contains(text) {
                    return screen;
                }
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(20),
                    "'{text}' never appeared; the screen:\n{screen}"
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }

        pub(super) fn type_line(&self, text: &str) {
            self.tmux(&["send-keys", "-l", text]);
            self.tmux(&["send-keys", "Enter"]);
        }
    }

    impl Drop for Terminal {
        fn drop(&mut self) {
            let _ = std::process::Command::new("tmux")
                .arg("-S")
                .arg(&self.socket)
                .arg("kill-server")
                .output();
        }
    }

    pub(super) fn wait_for_file(path: &Path) -> String {
        let started = std::time::Instant::now();
        while !path.exists() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{} never appeared",
                path.display()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn on_a_terminal_each_value_is_asked_for_without_echo() {
        let dir = support::temp_dir();
        let terminal = Terminal::start(dir.path(), "set --to dotenv:.env API_KEY DB_PASS");
        terminal.wait_for("API_KEY (input hidden):");
        terminal.type_line("typed-canary-one $x");
        terminal.wait_for("DB_PASS (input hidden):");
        terminal.type_line("typed-canary-two");
        assert_eq!(wait_for_file(&dir.path().join("done")).trim(), "0");
        let screen = terminal.screen();
        assert!(
            !screen.contains("typed-canary"),
            "a value was echoed:\n{screen}"
        );
        assert!(screen.contains("created   API_KEY"), "{screen}");
        assert!(
            wait_for_file(&dir.path().join("stty")).contains(" echo "),
            "echo was not restored"
        );
        assert_eq!(
            contract::read_back(target(), dir.path(), "dotenv:.env"),
            vec![
                ("API_KEY".to_string(), "typed-canary-one $x".to_string()),
                ("DB_PASS".to_string(), "typed-canary-two".to_string())
            ]
        );
    }

    #[test]
    fn ctrl_c_at_the_prompt_writes_nothing_and_restores_echo() {
        let dir = support::temp_dir();
        let terminal = Terminal::start(dir.path(), "set --to dotenv:.env API_KEY DB_PASS");
        terminal.wait_for("API_KEY (input hidden):");
        terminal.type_line("half-canary");
        terminal.wait_for("DB_PASS (input hidden):");
        terminal.tmux(&["send-keys", "C-c"]);
        // Killed by SIGINT, as the shell reports it.
        assert_eq!(wait_for_file(&dir.path().join("done")).trim(), "130");
        let stty = wait_for_file(&dir.path().join("stty"));
        assert!(
            stty.contains(" echo ") && !stty.contains("-echo "),
            "{stty}"
        );
        assert!(!dir.path().join(".env").exists());
        assert!(!terminal.screen().contains("half-canary"));
    }

    #[test]
    fn a_value_on_the_command_line_is_refused_without_echoing_it() {
        let dir = support::temp_dir();
        let run = contract::run(
            target(),
            dir.path(),
            &["set", "--to", "dotenv:.env", "TOKEN=hunter2-canary"],
            b"",
        );
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(run.stderr.contains("'TOKEN=...'"), "{run:?}");
        assert!(run.stderr.contains("stdin"), "{run:?}");
        assert!(!run.stderr.contains("hunter2-canary"), "{run:?}");
        assert!(!dir.path().join(".env").exists());
    }

    #[test]
    fn stdin_lines_must_match_the_names_given() {
        let dir = support::temp_dir();
        let missing = contract::run(
            target(),
            dir.path(),
            &["set", "--to", "dotenv:.env", "A", "B"],
            b"A=secret-a-value\n",
        );
        assert_eq!(missing.code, Some(125), "{missing:?}");
        assert!(missing.stderr.contains("has no line for B"), "{missing:?}");
        let extra = contract::run(
            target(),
            dir.path(),
            &["set", "--to", "dotenv:.env", "A", "B"],
            b"A=1\nB=2\nC=secret-c-value\n",
        );
        assert_eq!(extra.code, Some(125), "{extra:?}");
        assert!(extra.stderr.contains("sets C, not named"), "{extra:?}");
        for run in [&missing, &extra] {
            assert!(!run.stderr.contains("secret-"), "{run:?}");
        }
        assert!(!dir.path().join(".env").exists());
    }

    #[test]
    fn a_store_that_cannot_be_written_is_refused_before_anything_is_read() {
        let dir = support::temp_dir();
        let run = contract::run(
            target(),
            dir.path(),
            &["set", "--to", "dir:/tmp", "A"],
            b"1",
        );
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(
            run.stderr
                .contains("source 'dir:/tmp': cannot be written to"),
            "{run:?}"
        );
    }

    #[test]
    fn push_merges_its_sources_and_selects_names() {
        let dir = support::temp_dir();
        support::write(
            dir.path(),
            "a.env",
            "APP_ONE=from-a\nAPP_TWO=from-a\nOTHER=o\n",
        );
        support::write(dir.path(), "secrets/APP_TWO", "from-dir\n");
        let run = contract::run(
            target(),
            dir.path(),
            &[
                "push",
                "--from",
                "dotenv:a.env",
                "--from",
                "dir:secrets",
                "--prefix",
                "APP_",
                "--to",
                "dotenv:out.env",
            ],
            b"",
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(
            contract::read_back(target(), dir.path(), "dotenv:out.env"),
            vec![
                ("APP_ONE".to_string(), "from-a".to_string()),
                ("APP_TWO".to_string(), "from-dir".to_string())
            ]
        );
        let only = contract::run(
            target(),
            dir.path(),
            &[
                "copy",
                "--from",
                "dotenv:a.env",
                "--only",
                "OTHER,NOPE",
                "--to",
                "dotenv:o.env",
            ],
            b"",
        );
        assert_eq!(only.code, Some(125), "{only:?}");
        assert!(
            only.stderr.contains("no --from source sets NOPE"),
            "{only:?}"
        );
    }
}

pub mod vault {
    use super::*;
    use crate::vault::{api, bao, ROOT_TOKEN};

    pub struct VaultTarget {
        /// The KV mount: `secret` (KV v2) or `kv1`.
        mount: &'static str,
    }

    fn env_with(token: &str) -> Vec<(String, String)> {
        vec![
            ("VAULT_ADDR".into(), bao().addr()),
            ("VAULT_TOKEN".into(), token.into()),
        ]
    }

    impl WriteTarget for VaultTarget {
        fn env(&self) -> Vec<(String, String)> {
            env_with(ROOT_TOKEN)
        }

        fn new_spec(&self, _dir: &Path) -> String {
            format!("vault:{}/{}", self.mount, support::unique("write/t"))
        }

        /// KV v2's current version; KV v1 keeps none.
        fn revision(&self, _dir: &Path, spec: &str) -> Option<String> {
            let path = spec.strip_prefix("vault:secret/")?;
            let metadata = api("GET", &format!("/v1/secret/metadata/{path}"), json!({}));
            Some(metadata["data"]["current_version"].to_string())
        }
    }

    pub mod kv2 {
        pub fn target() -> &'static super::VaultTarget {
            &super::VaultTarget { mount: "secret" }
        }
        crate::write_tests!(super::target);
    }

    pub mod kv1 {
        pub fn target() -> &'static super::VaultTarget {
            &super::VaultTarget { mount: "kv1" }
        }
        crate::write_tests!(super::target);
    }

    #[test]
    fn writes_merge_with_the_keys_a_secret_has() {
        let target = kv2::target();
        let dir = support::temp_dir();
        let path = support::unique("write/m");
        api(
            "POST",
            &format!("/v1/secret/data/{path}"),
            json!({"data": {"client-id": "old-id", "region": "eu"}}),
        );
        let spec = format!("vault:secret/{path}");
        let run = contract::push(
            target,
            dir.path(),
            &spec,
            &[("CLIENT_ID", "new-id"), ("TOKEN", "t")],
            &["--overwrite"],
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(run.stdout, "updated   CLIENT_ID\ncreated   TOKEN\n");
        let data = api("GET", &format!("/v1/secret/data/{path}"), json!({}));
        assert_eq!(
            data["data"]["data"],
            json!({"client-id": "new-id", "region": "eu", "TOKEN": "t"})
        );
        assert_eq!(data["data"]["metadata"]["version"], json!(2));
    }

    #[test]
    fn a_read_only_token_is_refused_naming_the_store_and_the_permission() {
        let dir = support::temp_dir();
        let token = api(
            "POST",
            "/v1/auth/token/create",
            json!({"policies": ["app-read"], "ttl": "1h"}),
        )["auth"]["client_token"]
            .as_str()
            .expect("a token")
            .to_string();
        let path = support::unique("write/ro");
        let spec = format!("vault:secret/{path}");
        let dir_path = dir.path();
        let source = support::write(dir_path, "from/ALPHA", "ro-canary-alpha");
        support::write(dir_path, "from/BETA", "ro-canary-beta");
        let from = format!("dir:{}", source.parent().unwrap().display());
        let env = env_with(&token);
        let pairs: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let run = support::run(
            support::secretrun_with(dir_path, &pairs)
                .args(["push", "--from", &from, "--to", &spec]),
        );
        assert_eq!(run.code, Some(125), "{run:?}");
        assert_eq!(run.stdout, "failed    ALPHA\nfailed    BETA\n");
        assert!(
            run.stderr.contains(&format!(
                "Vault ('secret/{path}') refused the write (HTTP 403)"
            )),
            "{run:?}"
        );
        assert!(
            run.stderr.contains(&format!(
                "lack the 'create' and 'update' capabilities on secret/data/{path}"
            )),
            "{run:?}"
        );
        assert!(
            run.stderr
                .contains("2 of 2 name(s) not written (ALPHA, BETA)"),
            "{run:?}"
        );
        assert!(!run.stderr.contains("ro-canary"), "{run:?}");
        // With a token that may write, the same command finishes the job.
        let run = contract::push(
            kv2::target(),
            dir_path,
            &spec,
            &[("ALPHA", "ro-canary-alpha"), ("BETA", "ro-canary-beta")],
            &[],
        );
        assert_eq!(run.code, Some(0), "{run:?}");
    }

    /// `init --store vault:... --yes` in a git work tree: the chosen names move into OpenBao,
    /// the project reads them from there, and a re-run takes the store from secretrun.toml.
    #[test]
    fn init_moves_a_dotenv_file_into_openbao_and_a_rerun_starts_from_its_choice() {
        let target = kv2::target();
        let original =
            "# app\nDB_HOST=localhost\nDB_PASS='s3cret canary'\nAPI_KEY=k-canary # key\n";
        let (dir, spec) = git_project(original);
        let run = contract::run(
            target,
            dir.path(),
            &[
                "init",
                "--store",
                &spec,
                "--only",
                "DB_PASS,API_KEY",
                "--yes",
            ],
            b"",
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        assert!(
            run.stdout
                .contains("created   DB_PASS\ncreated   API_KEY\n"),
            "{run:?}"
        );
        assert!(run.stdout.contains("secretrun -- YOUR_COMMAND"), "{run:?}");
        assert!(
            !run.stdout.contains("canary") && !run.stderr.contains("canary"),
            "{run:?}"
        );

        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(
            read(".env"),
            format!(
                "# app\nDB_HOST=localhost\n# DB_PASS: moved to {spec} by secretrun init\n\
                 # DB_PASS='s3cret canary'\n# API_KEY: moved to {spec} by secretrun init\n\
                 # API_KEY=k-canary # key\n"
            )
        );
        let backup = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|path| path.to_string_lossy().contains(".env.secretrun-backup-"))
            .expect("a backup");
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), original);
        assert_eq!(
            std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_set_up_for(dir.path(), &spec);

        // The project now reads the moved names from OpenBao, the rest from .env.
        let env = target.env();
        let pairs: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let run = support::run(
            support::secretrun_with(dir.path(), &pairs)
                .args(["--", "printenv", "DB_HOST", "DB_PASS", "API_KEY"]),
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(run.stdout, "localhost\ns3cret canary\nk-canary\n");

        // Again, without --store: the saved choice; what is left moves there too.
        let rerun = contract::run(target, dir.path(), &["init", "--yes"], b"");
        assert_eq!(rerun.code, Some(0), "{rerun:?}");
        assert!(rerun.stdout.starts_with("created   DB_HOST\n"), "{rerun:?}");
        assert_eq!(
            contract::read_back(target, dir.path(), &spec),
            vec![
                ("API_KEY".to_string(), "k-canary".to_string()),
                ("DB_HOST".to_string(), "localhost".to_string()),
                ("DB_PASS".to_string(), "s3cret canary".to_string()),
            ]
        );
        let third = contract::run(target, dir.path(), &["init", "--yes"], b"");
        assert_eq!(third.code, Some(0), "{third:?}");
        assert!(
            third.stdout.starts_with("nothing to move from .env\n"),
            "{third:?}"
        );
    }

    /// A git work tree holding `.env` with `content`, and a new KV v2 secret to move it into.
    fn git_project(content: &str) -> (tempfile::TempDir, String) {
        let dir = support::temp_dir();
        let git = std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(dir.path())
            .status()
            .expect("git runs");
        assert!(git.success());
        support::write(dir.path(), ".env", content);
        let spec = kv2::target().new_spec(dir.path());
        (dir, spec)
    }

    /// What `init` writes beside the store: secretrun.toml reading `.env` then `spec`, an
    /// `.env.example` of the three names, and `.env` ignored by git.
    fn assert_set_up_for(dir: &Path, spec: &str) {
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let config: toml::Value = toml::from_str(&read("secretrun.toml")).unwrap();
        assert_eq!(
            config["sources"],
            toml::Value::Array(vec!["dotenv:.env".into(), spec.into()])
        );
        assert_eq!(read(".env.example"), "DB_HOST=\nDB_PASS=\nAPI_KEY=\n");
        assert!(read(".gitignore").lines().any(|line| line == ".env"));
    }

    /// The wizard started again in `dir`, past its first two questions with their defaults: the
    /// saved store and its `location`.
    fn wizard_from_saved_choices(dir: &Path, location: &str) -> (super::dotenv::Terminal, String) {
        let terminal = super::dotenv::Terminal::start_with(dir, &kv2::target().env(), "init");
        // The saved store is the default, marked once the list is drawn.
        let screen = terminal.wait_for("> OpenBao / Vault KV");
        assert!(
            screen.contains("Where should the secrets live?"),
            "{screen}"
        );
        terminal.tmux(&["send-keys", "Enter"]);
        terminal.wait_for(&format!("Location (vault:...) [{location}]"));
        terminal.tmux(&["send-keys", "Enter"]);
        (terminal, screen)
    }

    /// Every file of `dir` but the terminal's own (`done`, `stty`, tmux sockets), with content.
    fn project_files(dir: &Path) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.is_file())
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .filter(|name| !["done", "stty"].contains(&name.as_str()) && !name.starts_with("tmux-"))
            .map(|name| {
                let content = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
                (name, content)
            })
            .collect();
        files.sort();
        files
    }

    /// The wizard on a real terminal: a first run moves two of three names into OpenBao; a
    /// re-run offers the saved store, its location and the store's names as defaults, and a
    /// Ctrl-C there leaves every file as it was; a last run with the defaults moves the rest.
    #[test]
    fn init_wizard_on_a_terminal_migrates_into_openbao_and_starts_again_from_its_choices() {
        use super::dotenv::{wait_for_file, Terminal};
        let target = kv2::target();
        let original = "DB_HOST=localhost\nDB_PASS='s3cret canary'\nAPI_KEY=k-canary\n";
        let (dir, spec) = git_project(original);
        let location = spec.strip_prefix("vault:").unwrap();

        let terminal = Terminal::start_with(dir.path(), &target.env(), "init");
        // Waited for as drawn: the prompt shows before the list under it, this is its last entry.
        let screen = terminal.wait_for("Google Secret Manager");
        assert!(
            screen.contains("Where should the secrets live?"),
            "{screen}"
        );
        assert!(screen.contains("> .env only"), "{screen}");
        terminal.tmux(&["send-keys", "Down", "Enter"]);
        terminal.wait_for("Location (vault:...) [secret/app]");
        terminal.type_line(location);
        let screen = terminal.wait_for("Secrets to move out of .env");
        assert!(
            screen.contains("Credentials found: VAULT_ADDR, VAULT_TOKEN"),
            "{screen}"
        );
        assert!(
            screen.contains(&format!("{spec} holds 0 name(s)")),
            "{screen}"
        );
        // Every name is offered, checked; the first (DB_HOST) is unchecked to stay in .env.
        terminal.tmux(&["send-keys", "Space", "Enter"]);
        terminal.wait_for("Move 2 name(s) into");
        terminal.tmux(&["send-keys", "y"]);
        assert_eq!(wait_for_file(&dir.path().join("done")).trim(), "0");
        let screen = terminal.screen();
        assert!(screen.contains("created   DB_PASS"), "{screen}");
        assert!(screen.contains("created   API_KEY"), "{screen}");
        assert!(screen.contains("secretrun -- YOUR_COMMAND"), "{screen}");
        assert!(!screen.contains("canary"), "a value was shown:\n{screen}");
        drop(terminal);

        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(
            read(".env"),
            format!(
                "DB_HOST=localhost\n# DB_PASS: moved to {spec} by secretrun init\n\
                 # DB_PASS='s3cret canary'\n# API_KEY: moved to {spec} by secretrun init\n\
                 # API_KEY=k-canary\n"
            )
        );
        assert_set_up_for(dir.path(), &spec);
        // Read from elsewhere: here, secretrun.toml adds the .env file's names.
        let elsewhere = support::temp_dir();
        assert_eq!(
            contract::read_back(target, elsewhere.path(), &spec),
            vec![
                ("API_KEY".to_string(), "k-canary".to_string()),
                ("DB_PASS".to_string(), "s3cret canary".to_string()),
            ]
        );

        // A re-run starts from the saved choices; Ctrl-C at the names changes nothing.
        std::fs::remove_file(dir.path().join("done")).unwrap();
        let before = project_files(dir.path());
        let (terminal, screen) = wizard_from_saved_choices(dir.path(), location);
        assert!(screen.contains("> OpenBao / Vault KV"), "{screen}");
        let screen = terminal.wait_for("Secrets to move out of .env");
        assert!(
            screen.contains(&format!("{spec} holds 2 name(s): API_KEY, DB_PASS")),
            "{screen}"
        );
        assert!(screen.contains("DB_HOST"), "{screen}");
        terminal.tmux(&["send-keys", "C-c"]);
        assert_eq!(wait_for_file(&dir.path().join("done")).trim(), "130");
        drop(terminal);
        std::fs::remove_file(dir.path().join("done")).unwrap();
        assert_eq!(project_files(dir.path()), before);

        // The defaults, accepted: what is left moves too.
        let (terminal, _) = wizard_from_saved_choices(dir.path(), location);
        terminal.wait_for("Secrets to move out of .env");
        terminal.tmux(&["send-keys", "Enter"]);
        terminal.wait_for("Move 1 name(s) into");
        terminal.tmux(&["send-keys", "y"]);
        assert_eq!(wait_for_file(&dir.path().join("done")).trim(), "0");
        assert!(terminal.screen().contains("created   DB_HOST"));
        assert_eq!(
            contract::read_back(target, elsewhere.path(), &spec),
            vec![
                ("API_KEY".to_string(), "k-canary".to_string()),
                ("DB_HOST".to_string(), "localhost".to_string()),
                ("DB_PASS".to_string(), "s3cret canary".to_string()),
            ]
        );
    }

    #[test]
    fn init_without_yes_or_a_store_says_what_to_give() {
        let dir = support::temp_dir();
        let run = contract::run(kv2::target(), dir.path(), &["init"], b"");
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(run.stderr.contains("--store SPEC --yes"), "{run:?}");
        let run = contract::run(kv2::target(), dir.path(), &["init", "--yes"], b"");
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(
            run.stderr.contains("no store: give --store SPEC"),
            "{run:?}"
        );
    }

    #[test]
    fn lower_case_names_are_refused_before_any_write() {
        let dir = support::temp_dir();
        let spec = kv2::target().new_spec(dir.path());
        let run = contract::run(
            kv2::target(),
            dir.path(),
            &["set", "--to", &spec, "api_key"],
            b"v",
        );
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(
            run.stderr
                .contains("variable api_key: this store's reader upper-cases"),
            "{run:?}"
        );
    }
}

pub mod aws {
    use super::*;
    use crate::aws_sm::{boto, fixture as sm_fixture};
    use crate::contract::Fixture as _;
    use serde_json::Value;

    #[derive(Clone, Copy)]
    pub enum Layout {
        /// `aws-sm:NAME`: one JSON secret.
        Secret,
        /// `aws-sm:PREFIX/*`: one secret per name.
        PerName,
        /// `aws-ssm:/PATH/`: one parameter per name.
        Parameters,
    }

    pub struct AwsTarget {
        layout: Layout,
    }

    fn call(service: &str, op: &str, args: Value) -> Value {
        boto(&[json!({"service": service, "op": op, "args": args})]).remove(0)
    }

    impl WriteTarget for AwsTarget {
        fn env(&self) -> Vec<(String, String)> {
            sm_fixture().env()
        }

        fn new_spec(&self, _dir: &Path) -> String {
            let unique = support::unique("secretrun-write/t");
            match self.layout {
                Layout::Secret => format!("aws-sm:{unique}"),
                Layout::PerName => format!("aws-sm:{unique}/*"),
                Layout::Parameters => format!("aws-ssm:/{unique}/"),
            }
        }

        /// The current version ids (Secrets Manager) or version numbers (Parameter Store).
        fn revision(&self, _dir: &Path, spec: &str) -> Option<String> {
            match self.layout {
                Layout::Secret => {
                    let id = spec.strip_prefix("aws-sm:")?;
                    let described =
                        call("secretsmanager", "describe_secret", json!({"SecretId": id}));
                    Some(described["VersionIdsToStages"].to_string())
                }
                Layout::PerName => None,
                Layout::Parameters => {
                    let path = spec.strip_prefix("aws-ssm:")?;
                    let listed = call(
                        "ssm",
                        "get_parameters_by_path",
                        json!({"Path": path, "WithDecryption": false}),
                    );
                    let versions: Vec<String> = listed["Parameters"]
                        .as_array()?
                        .iter()
                        .map(|p| format!("{}={}", p["Name"], p["Version"]))
                        .collect();
                    Some(versions.join(","))
                }
            }
        }

        /// Only inside a JSON secret: a secret or parameter of its own cannot hold one.
        fn holds_empty(&self) -> bool {
            matches!(self.layout, Layout::Secret)
        }
    }

    pub mod secret {
        pub fn target() -> &'static super::AwsTarget {
            &super::AwsTarget {
                layout: super::Layout::Secret,
            }
        }
        crate::write_tests!(super::target);
    }

    pub mod per_name {
        pub fn target() -> &'static super::AwsTarget {
            &super::AwsTarget {
                layout: super::Layout::PerName,
            }
        }
        crate::write_tests!(super::target);
    }

    pub mod parameters {
        pub fn target() -> &'static super::AwsTarget {
            &super::AwsTarget {
                layout: super::Layout::Parameters,
            }
        }
        crate::write_tests!(super::target);
    }

    #[test]
    fn parameters_are_secure_strings_and_an_empty_value_is_refused() {
        let target = parameters::target();
        let dir = support::temp_dir();
        let spec = target.new_spec(dir.path());
        let run = contract::push(target, dir.path(), &spec, &[("DB_PASS", "p4ss")], &[]);
        assert_eq!(run.code, Some(0), "{run:?}");
        let path = spec.strip_prefix("aws-ssm:").unwrap();
        let parameter = call(
            "ssm",
            "get_parameter",
            json!({"Name": format!("{path}DB_PASS"), "WithDecryption": true}),
        );
        assert_eq!(parameter["Parameter"]["Type"], json!("SecureString"));
        assert_eq!(parameter["Parameter"]["Value"], json!("p4ss"));

        let run = contract::push(
            target,
            dir.path(),
            &spec,
            &[("EMPTY", ""), ("OTHER", "o")],
            &[],
        );
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(
            run.stderr
                .contains("variable EMPTY: the value is empty, which Parameter Store cannot hold"),
            "{run:?}"
        );
        assert_eq!(
            contract::read_back(target, dir.path(), &spec),
            vec![("DB_PASS".to_string(), "p4ss".to_string())]
        );
    }

    #[test]
    fn a_json_secret_merges_with_its_keys_and_plain_text_is_left_alone() {
        let target = secret::target();
        let dir = support::temp_dir();
        let id = support::unique("secretrun-write/m");
        call(
            "secretsmanager",
            "create_secret",
            json!({"Name": id, "SecretString": "{\"client-id\":\"old\",\"region\":\"eu\"}"}),
        );
        let spec = format!("aws-sm:{id}");
        let run = contract::push(
            target,
            dir.path(),
            &spec,
            &[("CLIENT_ID", "new"), ("TOKEN", "t")],
            &["--overwrite"],
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        let stored = call(
            "secretsmanager",
            "get_secret_value",
            json!({"SecretId": id}),
        );
        let object: Value = serde_json::from_str(stored["SecretString"].as_str().unwrap()).unwrap();
        assert_eq!(
            object,
            json!({"client-id": "new", "region": "eu", "TOKEN": "t"})
        );

        let plain = support::unique("secretrun-write/plain");
        call(
            "secretsmanager",
            "create_secret",
            json!({"Name": plain, "SecretString": "just text"}),
        );
        let run = contract::push(
            target,
            dir.path(),
            &format!("aws-sm:{plain}"),
            &[("OTHER", "x")],
            &[],
        );
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(run.stderr.contains("not a JSON object"), "{run:?}");
        let stored = call(
            "secretsmanager",
            "get_secret_value",
            json!({"SecretId": plain}),
        );
        assert_eq!(stored["SecretString"], json!("just text"));
    }

    /// A secret scheduled for deletion cannot be created again: that name fails, the others are
    /// written, each outcome is printed, and once the secret is restored a re-run finishes.
    #[test]
    fn a_partial_failure_names_every_outcome_and_a_rerun_finishes() {
        let target = per_name::target();
        let dir = support::temp_dir();
        let prefix = format!("{}/", support::unique("secretrun-write/partial"));
        let blocked = format!("{prefix}BLOCKED");
        call(
            "secretsmanager",
            "create_secret",
            json!({"Name": blocked, "SecretString": "old-blocked"}),
        );
        call(
            "secretsmanager",
            "delete_secret",
            json!({"SecretId": blocked, "RecoveryWindowInDays": 7}),
        );
        let spec = format!("aws-sm:{prefix}*");
        let values = &[
            ("ALPHA", "alpha-canary"),
            ("BLOCKED", "blocked-canary"),
            ("OMEGA", "omega-canary"),
        ];
        let run = contract::push(target, dir.path(), &spec, values, &[]);
        assert_eq!(run.code, Some(125), "{run:?}");
        assert_eq!(
            run.stdout,
            "created   ALPHA\nfailed    BLOCKED\ncreated   OMEGA\n"
        );
        assert!(
            run.stderr.contains("1 of 3 name(s) not written (BLOCKED)"),
            "{run:?}"
        );
        assert!(!run.stderr.contains("canary"), "{run:?}");

        call(
            "secretsmanager",
            "restore_secret",
            json!({"SecretId": blocked}),
        );
        let run = contract::push(target, dir.path(), &spec, values, &["--overwrite"]);
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(
            run.stdout,
            "unchanged ALPHA\nupdated   BLOCKED\nunchanged OMEGA\n"
        );
        assert_eq!(
            contract::read_back(target, dir.path(), &spec),
            vec![
                ("ALPHA".to_string(), "alpha-canary".to_string()),
                ("BLOCKED".to_string(), "blocked-canary".to_string()),
                ("OMEGA".to_string(), "omega-canary".to_string()),
            ]
        );
    }
}

pub mod azure {
    use super::*;
    use crate::azure_kv::{writable_vault, writer_env};

    pub struct AzureTarget;

    impl WriteTarget for AzureTarget {
        fn env(&self) -> Vec<(String, String)> {
            writer_env()
        }

        fn new_spec(&self, _dir: &Path) -> String {
            format!("azure-kv:*?vault={}", writable_vault())
        }

        fn revision(&self, _dir: &Path, _spec: &str) -> Option<String> {
            None
        }
    }

    pub fn target() -> &'static AzureTarget {
        &AzureTarget
    }

    crate::write_tests!(super::target);

    #[test]
    fn names_become_dashed_secrets_under_the_listing_prefix() {
        let dir = support::temp_dir();
        let vault = writable_vault();
        let spec = format!("azure-kv:app-*?vault={vault}");
        let run = contract::run(
            target(),
            dir.path(),
            &["set", "--to", &spec, "APP_CH_HOST", "OTHER"],
            b"APP_CH_HOST=db.internal\nOTHER=x\n",
        );
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(
            run.stderr
                .contains("variable OTHER: its secret (the name with '_' as '-') would not start"),
            "{run:?}"
        );
        let run = contract::run(
            target(),
            dir.path(),
            &["set", "--to", &spec, "APP_CH_HOST"],
            b"db.internal",
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        let single = format!("azure-kv:APP-CH-HOST?vault={vault}");
        assert_eq!(
            contract::read_back(target(), dir.path(), &single),
            vec![("APP_CH_HOST".to_string(), "db.internal".to_string())]
        );
    }
}

pub mod doppler {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    const PERSONAL: &str = "dp.pt.write-tests";
    const READ_ONLY: &str = "dp.st.ro.write-tests-read-only";
    const PROJECT: &str = "writes";
    /// Configs enough for every write test; each takes a new one.
    const CONFIGS: usize = 16;

    /// A stand-in of its own, every config made before any test writes (secretrun's writes go
    /// to its data file, which is never rewritten by the tests after).
    fn stub() -> &'static support::StubServer {
        static STUB: OnceLock<support::StubServer> = OnceLock::new();
        STUB.get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(support::unique("doppler-write-"));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let configs: serde_json::Map<String, serde_json::Value> = (0..CONFIGS)
                .map(|n| (format!("c{n}"), json!({})))
                .collect();
            let data = json!({
                "tokens": {
                    PERSONAL: {"type": "personal", "configs": {PROJECT: configs}},
                    READ_ONLY: {"project": PROJECT, "config": "ro", "secrets": {}, "access": "read"},
                },
                "faults": {},
            });
            support::StubServer::start(&dir, "doppler_stub.py", &data)
        })
    }

    pub struct DopplerTarget;

    impl WriteTarget for DopplerTarget {
        fn env(&self) -> Vec<(String, String)> {
            vec![
                ("DOPPLER_TOKEN".into(), PERSONAL.into()),
                ("DOPPLER_API_HOST".into(), stub().url.clone()),
            ]
        }

        fn new_spec(&self, _dir: &Path) -> String {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let next = NEXT.fetch_add(1, Ordering::SeqCst);
            assert!(next < CONFIGS, "more write tests than CONFIGS: raise it");
            format!("doppler:*?project={PROJECT}&config=c{next}")
        }

        fn revision(&self, _dir: &Path, _spec: &str) -> Option<String> {
            None
        }
    }

    pub fn target() -> &'static DopplerTarget {
        &DopplerTarget
    }

    crate::write_tests!(super::target);

    #[test]
    fn a_read_only_service_token_is_refused_naming_the_access_it_lacks() {
        let dir = support::temp_dir();
        let env = [
            ("DOPPLER_TOKEN", READ_ONLY),
            ("DOPPLER_API_HOST", stub().url.as_str()),
        ];
        let mut command = support::secretrun_with(dir.path(), &env);
        command.args(["set", "--to", "doppler:*", "API_KEY"]);
        command.stdin(std::process::Stdio::piped());
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"ro-canary-value")
            .unwrap();
        let run: support::Run = child.wait_with_output().unwrap().into();
        assert_eq!(run.code, Some(125), "{run:?}");
        assert_eq!(run.stdout, "failed    API_KEY\n");
        assert!(
            run.stderr.contains("Doppler (the token's config) refused the write (HTTP 403): the credentials lack the write access"),
            "{run:?}"
        );
        assert!(!run.stderr.contains("ro-canary-value"), "{run:?}");
    }

    #[test]
    fn doppler_names_are_refused_before_any_write() {
        let dir = support::temp_dir();
        let spec = target().new_spec(dir.path());
        let run = contract::run(
            target(),
            dir.path(),
            &["set", "--to", &spec, "DOPPLER_CONFIG"],
            b"x",
        );
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(
            run.stderr
                .contains("Doppler manages the DOPPLER_* names itself"),
            "{run:?}"
        );
    }
}

pub mod gcp {
    use super::*;
    use std::sync::OnceLock;

    const PROJECT: &str = "write-proj";
    const TOKEN: &str = "ya29.write-tests";

    /// A stand-in of its own, set up before any test writes (secretrun's writes go to its data
    /// file, which the tests never rewrite after).
    fn stub() -> &'static support::StubServer {
        static STUB: OnceLock<support::StubServer> = OnceLock::new();
        STUB.get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(support::unique("gcp-write-"));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let data = json!({
                "projects": {PROJECT: {"number": "100000000009", "secrets": {}}},
                "tokens": {TOKEN: {"projects": [PROJECT]}},
                "service_accounts": {},
                "refresh_tokens": {},
                "max_page_size": 2,
                "faults": {},
            });
            support::StubServer::start(&dir, "gcp_stub.py", &data)
        })
    }

    pub struct GcpTarget;

    impl WriteTarget for GcpTarget {
        fn env(&self) -> Vec<(String, String)> {
            vec![
                ("GOOGLE_OAUTH_ACCESS_TOKEN".into(), TOKEN.into()),
                ("GOOGLE_CLOUD_PROJECT".into(), PROJECT.into()),
                (
                    "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER".into(),
                    stub().url.clone(),
                ),
            ]
        }

        /// Every name of the suite in one project: a label per test keeps them apart.
        fn new_spec(&self, _dir: &Path) -> String {
            format!(
                "gcp-sm:*?label=suite:{}",
                support::unique("t").to_lowercase()
            )
        }

        fn revision(&self, _dir: &Path, _spec: &str) -> Option<String> {
            None
        }
    }

    pub fn target() -> &'static GcpTarget {
        &GcpTarget
    }

    crate::write_tests!(super::target);

    #[test]
    fn new_secrets_carry_the_label_and_the_prefix_is_kept() {
        let dir = support::temp_dir();
        let label = support::unique("l").to_lowercase();
        let spec = format!("gcp-sm:APP_*?label=suite:{label}");
        let run = contract::run(
            target(),
            dir.path(),
            &["set", "--to", &spec, "APP_TOKEN", "OTHER"],
            b"APP_TOKEN=t\nOTHER=o\n",
        );
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(
            run.stderr
                .contains("variable OTHER: its secret id (the name) would not start"),
            "{run:?}"
        );
        let run = contract::run(
            target(),
            dir.path(),
            &["set", "--to", &spec, "APP_TOKEN"],
            b"t0k",
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        let data: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&stub().data_path).unwrap()).unwrap();
        let secret = &data["projects"][PROJECT]["secrets"]["APP_TOKEN"];
        assert_eq!(secret["labels"], json!({"suite": label}), "{secret}");
        assert_eq!(
            contract::read_back(target(), dir.path(), &spec),
            vec![("APP_TOKEN".to_string(), "t0k".to_string())]
        );
    }
}
