//! Secrets as files (between stage 4 and stage 5): `--mount` writes the merged secrets to one
//! file (dotenv, json or env), `--file NAME=PATH` writes one secret's raw bytes to a file of its
//! own, and the child is told where they are (`SECRETRUN_MOUNT`, `NAME_FILE`).
//!
//! Invariants:
//! - A file is created exclusively (never replacing what is there), with mode 0600, and is
//!   removed when [`Mounted`] is dropped: after the child ended, in every way it can end, and
//!   before secretrun exits as the child did or dies of a forwarded signal. A file therefore
//!   needs secretrun to stay (supervise mode); `plan` makes it so. SIGKILL to secretrun leaves
//!   the file behind: nothing can run then, which is why the default place is a memory file
//!   system.
//! - `--mount memfd` writes nothing to any file system: an anonymous in-memory file (sealed
//!   against changes) that the child inherits, named to it as `/dev/fd/N`. It works in exec
//!   mode, where nothing could remove a file later.
//! - A relative PATH is placed under `$XDG_RUNTIME_DIR`, else `/dev/shm` (memory file systems),
//!   else the temporary directory (with a warning); an absolute PATH is used as given.
//! - The mount holds what `export` (without `--all`) writes, in the same renderer, so a value a
//!   format cannot hold is refused by name before anything is written. Names given to `--file`
//!   are left out of the mount. Without `--mount-keep-env` the mounted names and the `--file`
//!   names are taken out of the child's environment.

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::cli::{ExportFormat, LaunchArgs, MountFormat};
use crate::commands::export;
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::merge::{ChildEnv, Entry, Value};
use crate::secret::EnvName;
use crate::show;

/// The variable that tells the child where the `--mount` file is.
pub const MOUNT_VAR: &str = "SECRETRUN_MOUNT";
/// The `--mount` value that asks for an in-memory file instead of a path.
pub const MEMFD: &str = "memfd";
/// The provenance `show`-style code would see for the variables secretrun adds.
const ORIGIN: &str = "secretrun";

/// Where `--mount` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountTarget {
    /// A file at this path (relative: under a memory file system, see [`place`]).
    Path(PathBuf),
    /// An anonymous in-memory file, `/dev/fd/N` to the child.
    Memfd,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub target: MountTarget,
    pub format: MountFormat,
}

/// What the command line asks to be written as files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretFiles {
    pub mount: Option<Mount>,
    /// `--file NAME=PATH`, in the order given.
    pub files: Vec<(EnvName, PathBuf)>,
    /// `--mount-keep-env`: the written names stay in the environment too.
    pub keep_env: bool,
}

impl SecretFiles {
    /// Validates `--mount`, `--mount-format`, `--file` and `--mount-keep-env`.
    pub fn from_args(args: &LaunchArgs) -> Result<Self, Error> {
        let mount = args.mount.as_ref().map(|path| Mount {
            target: if path.as_os_str() == MEMFD {
                MountTarget::Memfd
            } else {
                MountTarget::Path(path.clone())
            },
            format: args.mount_format,
        });
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for text in &args.file {
            match parse_file(text) {
                Ok(file) if files.iter().any(|(name, _)| name == &file.0) => {
                    errors.push(Error::Settings {
                        setting: "--file",
                        problem: format!("{} is given more than once", file.0),
                    })
                }
                Ok(file) => files.push(file),
                Err(error) => errors.push(error),
            }
        }
        if let Some(error) = Error::from_many(errors) {
            return Err(error);
        }
        Ok(SecretFiles {
            mount,
            files,
            keep_env: args.mount_keep_env,
        })
    }

    /// Whether a file must be removed later, so secretrun has to stay (supervise mode).
    pub fn needs_cleanup(&self) -> bool {
        !self.files.is_empty()
            || self
                .mount
                .as_ref()
                .is_some_and(|mount| mount.target != MountTarget::Memfd)
    }
}

fn parse_file(text: &str) -> Result<(EnvName, PathBuf), Error> {
    let bad = |problem: &str| Error::Settings {
        setting: "--file",
        problem: format!("'{text}': {problem}"),
    };
    let (name, path) = text
        .split_once('=')
        .ok_or_else(|| bad("expected NAME=PATH"))?;
    if path.is_empty() {
        return Err(bad("the PATH after '=' is empty"));
    }
    let name = EnvName::new(name).map_err(|problem| Error::InvalidName {
        what: "--file name",
        name: name.to_string(),
        problem,
    })?;
    Ok((name, PathBuf::from(path)))
}

impl MountFormat {
    /// The export format that renders it.
    fn export(self) -> ExportFormat {
        match self {
            MountFormat::Dotenv => ExportFormat::Dotenv,
            MountFormat::Json => ExportFormat::Json,
            MountFormat::Env => ExportFormat::Docker,
        }
    }
}

/// Where a PATH goes: as given when absolute, else under the first memory file system there is
/// (`$XDG_RUNTIME_DIR`, then `/dev/shm`), else under the temporary directory.
pub fn place(path: &Path, env: &ParentEnv) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    let runtime = env
        .get("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute() && dir.is_dir());
    let base = runtime.or_else(|| {
        let shm = PathBuf::from("/dev/shm");
        shm.is_dir().then_some(shm)
    });
    match base {
        Some(base) => base.join(path),
        None => {
            let base = std::env::temp_dir();
            tracing::warn!(
                dir = %base.display(),
                "neither $XDG_RUNTIME_DIR nor /dev/shm exists; secret files go to the temporary \
                 directory, which may be on disk"
            );
            base.join(path)
        }
    }
}

/// The files written for a run; dropping it removes them (and closes the in-memory file).
#[derive(Debug, Default)]
pub struct Mounted {
    paths: Vec<PathBuf>,
    memfd: Option<OwnedFd>,
}

impl Mounted {
    /// Removes every file now; idempotent.
    pub fn remove(&mut self) {
        for path in self.paths.drain(..) {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "cannot remove a secret file")
                }
            }
        }
    }

    /// Creates `path` exclusively with mode 0600 and writes `content`; remembered for removal
    /// as soon as it exists, so a failed write leaves nothing behind.
    fn create(&mut self, path: &Path, content: &[u8]) -> Result<(), Error> {
        let failed = |source| Error::WriteFile {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(path)
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::AlreadyExists => Error::SecretFileExists {
                    path: path.to_path_buf(),
                },
                _ => failed(error),
            })?;
        self.paths.push(path.to_path_buf());
        // The umask can only take bits away; set 0600 exactly all the same.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .and_then(|()| file.write_all(content))
            .map_err(failed)
    }

    /// An in-memory file holding `content`, inherited by the child (no close-on-exec) and
    /// sealed so that nobody can change it; returns the child's path to it.
    fn create_memfd(&mut self, content: &[u8]) -> Result<PathBuf, Error> {
        use nix::fcntl::{fcntl, FcntlArg, SealFlag};
        use nix::sys::memfd::{memfd_create, MFdFlags};
        let failed = |error: nix::Error| Error::WriteFile {
            path: PathBuf::from("memfd:secretrun-mount"),
            source: error.into(),
        };
        let fd = memfd_create("secretrun-mount", MFdFlags::MFD_ALLOW_SEALING).map_err(failed)?;
        let mut file = std::fs::File::from(fd);
        file.write_all(content)
            .map_err(|error| failed(nix::Error::from_raw(error.raw_os_error().unwrap_or(0))))?;
        nix::unistd::lseek(&file, 0, nix::unistd::Whence::SeekSet).map_err(failed)?;
        fcntl(
            &file,
            FcntlArg::F_ADD_SEALS(
                SealFlag::F_SEAL_WRITE
                    | SealFlag::F_SEAL_SHRINK
                    | SealFlag::F_SEAL_GROW
                    | SealFlag::F_SEAL_SEAL,
            ),
        )
        .map_err(failed)?;
        let fd = OwnedFd::from(file);
        let path = PathBuf::from(format!("/dev/fd/{}", fd.as_raw_fd()));
        self.memfd = Some(fd);
        Ok(path)
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Writes the files `files` asks for from `child_env`, takes the written names out of it
/// (unless kept) and adds `SECRETRUN_MOUNT` and the `NAME_FILE` variables.
pub fn prepare(
    files: &SecretFiles,
    child_env: &mut ChildEnv,
    env: &ParentEnv,
) -> Result<Mounted, Error> {
    let mut mounted = Mounted::default();
    if files.mount.is_none() && files.files.is_empty() {
        return Ok(mounted);
    }
    // Every unresolved name at once, before anything is written.
    let missing: Vec<Error> = files
        .files
        .iter()
        .filter(|(name, _)| !child_env.contains(name.as_str()))
        .map(|(name, _)| Error::NotSet {
            name: name.to_string(),
        })
        .collect();
    if let Some(error) = Error::from_many(missing) {
        return Err(error);
    }
    let taken: Vec<(&EnvName, &PathBuf, Entry)> = files
        .files
        .iter()
        .filter_map(|(name, path)| Some((name, path, child_env.vars.remove(name.as_os_str())?)))
        .collect();

    let mut added: Vec<(OsString, OsString)> = Vec::new();
    if let Some(mount) = &files.mount {
        let content = export::render(child_env, mount.format.export(), false)?;
        let path = match &mount.target {
            MountTarget::Path(path) => {
                let path = place(path, env);
                mounted.create(&path, content.expose())?;
                path
            }
            MountTarget::Memfd => mounted.create_memfd(content.expose())?,
        };
        tracing::debug!(path = %path.display(), "mounted the secrets");
        added.push((MOUNT_VAR.into(), path.into_os_string()));
        if !files.keep_env {
            child_env
                .vars
                .retain(|_, entry| show::is_plain_parent(entry));
        }
    }
    for (name, path, entry) in taken {
        let path = place(path, env);
        mounted.create(&path, entry.value.as_bytes())?;
        added.push((format!("{name}_FILE").into(), path.into_os_string()));
        if files.keep_env {
            child_env.vars.insert(name.as_os_str().to_owned(), entry);
        }
    }
    for (name, value) in added {
        child_env.vars.insert(
            name,
            Entry {
                value: Value::Parent(value),
                origin: ORIGIN.to_string(),
                overridden: Vec::new(),
            },
        );
    }
    Ok(mounted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::PARENT_ORIGIN;
    use crate::secret::SecretValue;

    fn entry(value: &str, origin: &str) -> Entry {
        Entry {
            value: match origin {
                PARENT_ORIGIN => Value::Parent(value.into()),
                _ => Value::Secret(SecretValue::from(value.to_string())),
            },
            origin: origin.to_string(),
            overridden: Vec::new(),
        }
    }

    fn child_env() -> ChildEnv {
        let mut env = ChildEnv::default();
        env.vars.insert("PATH".into(), entry("/bin", PARENT_ORIGIN));
        env.vars
            .insert("TOKEN".into(), entry("t0k\"en", "dotenv:.env"));
        env.vars
            .insert("KEY".into(), entry("-----BEGIN\nx\n", "dir:/run/s"));
        env
    }

    fn args(mount: Option<&str>, file: &[&str]) -> LaunchArgs {
        LaunchArgs {
            mount: mount.map(PathBuf::from),
            file: file.iter().map(|f| f.to_string()).collect(),
            ..LaunchArgs::default()
        }
    }

    fn value(env: &ChildEnv, name: &str) -> Option<String> {
        env.vars
            .get(std::ffi::OsStr::new(name))
            .map(|entry| String::from_utf8_lossy(entry.value.as_bytes()).into_owned())
    }

    #[test]
    fn memfd_is_the_only_mount_without_cleanup() {
        assert!(!SecretFiles::from_args(&args(None, &[]))
            .unwrap()
            .needs_cleanup());
        assert!(!SecretFiles::from_args(&args(Some("memfd"), &[]))
            .unwrap()
            .needs_cleanup());
        assert!(SecretFiles::from_args(&args(Some("app.env"), &[]))
            .unwrap()
            .needs_cleanup());
        assert!(SecretFiles::from_args(&args(Some("memfd"), &["K=k.pem"]))
            .unwrap()
            .needs_cleanup());
    }

    #[test]
    fn bad_file_flags_are_all_reported() {
        let err = SecretFiles::from_args(&args(None, &["K", "A=B=", "K2=", "X=a", "X=b"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--file: 'K': expected NAME=PATH\nsecretrun: error: --file: 'K2=': the PATH after \
             '=' is empty\nsecretrun: error: --file: X is given more than once"
        );
        // A=B= is NAME=A, PATH=B=: a path may hold '='.
        let files = SecretFiles::from_args(&args(None, &["A=B="])).unwrap();
        assert_eq!(files.files[0].1, PathBuf::from("B="));
    }

    #[test]
    fn relative_paths_go_under_the_runtime_dir() {
        let dir = tempfile::tempdir().unwrap();
        let env = ParentEnv::from_pairs([("XDG_RUNTIME_DIR", dir.path().as_os_str())]);
        assert_eq!(place(Path::new("a.env"), &env), dir.path().join("a.env"));
        assert_eq!(
            place(Path::new("/x/a.env"), &env),
            PathBuf::from("/x/a.env")
        );
        let env = ParentEnv::from_pairs([("XDG_RUNTIME_DIR", "relative")]);
        if Path::new("/dev/shm").is_dir() {
            assert_eq!(place(Path::new("a.env"), &env), Path::new("/dev/shm/a.env"));
        }
    }

    #[test]
    fn mount_and_files_replace_the_variables() {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("m.env");
        let key = dir.path().join("key.pem");
        let files = SecretFiles::from_args(&args(
            Some(mount.to_str().unwrap()),
            &[&format!("KEY={}", key.display())],
        ))
        .unwrap();
        let mut env = child_env();
        let mut mounted = prepare(&files, &mut env, &ParentEnv::default()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&mount).unwrap(),
            "TOKEN=\"t0k\\\"en\"\n"
        );
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "-----BEGIN\nx\n");
        assert_eq!(value(&env, "TOKEN"), None);
        assert_eq!(value(&env, "KEY"), None);
        assert_eq!(value(&env, "PATH").as_deref(), Some("/bin"));
        assert_eq!(value(&env, MOUNT_VAR), Some(mount.display().to_string()));
        assert_eq!(value(&env, "KEY_FILE"), Some(key.display().to_string()));
        mounted.remove();
        assert!(!mount.exists() && !key.exists());
    }

    #[test]
    fn keep_env_keeps_the_variables() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = SecretFiles::from_args(&args(
            Some(dir.path().join("m.json").to_str().unwrap()),
            &[&format!("KEY={}", dir.path().join("k").display())],
        ))
        .unwrap();
        files.keep_env = true;
        let mut env = child_env();
        let _mounted = prepare(&files, &mut env, &ParentEnv::default()).unwrap();
        assert_eq!(value(&env, "TOKEN").as_deref(), Some("t0k\"en"));
        assert_eq!(value(&env, "KEY").as_deref(), Some("-----BEGIN\nx\n"));
    }

    #[test]
    fn an_existing_file_is_refused_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "old").unwrap();
        let mount = dir.path().join("m.env");
        let files = SecretFiles::from_args(&args(
            Some(mount.to_str().unwrap()),
            &[&format!("KEY={}", key.display())],
        ))
        .unwrap();
        let err = prepare(&files, &mut child_env(), &ParentEnv::default()).unwrap_err();
        assert!(matches!(err, Error::SecretFileExists { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "old");
        assert!(!mount.exists(), "the mount written first was removed");
    }

    #[test]
    fn unset_file_names_and_unwritable_values_fail_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let files = SecretFiles::from_args(&args(
            None,
            &[&format!("NOPE={}", dir.path().join("n").display())],
        ))
        .unwrap();
        let err = prepare(&files, &mut child_env(), &ParentEnv::default()).unwrap_err();
        assert!(matches!(err, Error::NotSet { .. }), "{err}");
        // env (docker's format) cannot hold KEY's line break.
        let mount = dir.path().join("m");
        let mut files = SecretFiles::from_args(&args(Some(mount.to_str().unwrap()), &[])).unwrap();
        files.mount.as_mut().unwrap().format = MountFormat::Env;
        let err = prepare(&files, &mut child_env(), &ParentEnv::default()).unwrap_err();
        assert!(err.to_string().starts_with("variable KEY: "), "{err}");
        assert!(!mount.exists());
    }
}
