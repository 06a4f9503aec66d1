//! Secrets as files (between stage 4 and stage 5): `--mount` writes the merged secrets to one
//! file (dotenv, json, env, or a `--mount-template` rendered with them), `--file NAME=PATH`
//! writes one secret's raw bytes to a file of its own, and the child is told where they are
//! (`SECRETRUN_MOUNT`, `NAME_FILE`). [`Mounted::refresh`] rewrites the files with new values.
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
//! - A template sees exactly the names the other formats would write, as variables and in the
//!   `secrets` mapping, so every one of them is taken out (whether the template uses it or
//!   not). The template is read and compiled when the plan is built, before anything is
//!   fetched. An unknown name is an error (strict undefined), nothing is escaped. A template
//!   error names the file and line and never quotes a value: minijinja's own detail is kept
//!   only for errors made from the template's text (syntax, unknown filter, ...), as others
//!   (a failed operation) can quote one, and minijinja's `debug` feature, whose reports list
//!   the variables' values, is off.
//! - [`Mounted::refresh`] renders everything before it changes anything, then replaces each
//!   file by renaming a complete 0600 temporary file over it: a reader sees the old content or
//!   the new, never a mix.

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::env::merge::{ChildEnv, Entry, Value};
use crate::env::origin::Origin;
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::output::{export, show};
use crate::plan::secret_files::{Format, MountTarget, SecretFiles};
use crate::secret::EnvName;
use crate::secret::{display_name, SecretValue};

/// The variable that tells the child where the `--mount` file is.
pub const MOUNT_VAR: &str = "SECRETRUN_MOUNT";

impl SecretFiles {
    fn is_empty(&self) -> bool {
        self.mount.is_none() && self.files.is_empty() && self.from_sources.is_empty()
    }

    /// Every one-value file with its name: `--file`s, then the sources' `?file=`, each source
    /// by the one name it set (as the merge left it: a value another source overrode is not
    /// that source's any more). Every problem at once.
    fn named_files(&self, child_env: &ChildEnv) -> Result<Vec<(EnvName, MountTarget)>, Error> {
        let mut named = self.files.clone();
        let mut errors = Vec::new();
        for (origin, target) in &self.from_sources {
            let set: Vec<&OsString> = child_env
                .vars
                .iter()
                .filter(|(_, entry)| entry.origin.spec() == Some(origin.as_str()))
                .map(|(name, _)| name)
                .collect();
            let problem = match set.as_slice() {
                [name] => match EnvName::new(name.to_string_lossy().into_owned()) {
                    Ok(name) if named.iter().any(|(other, _)| other == &name) => {
                        format!("{name} is also given to --file")
                    }
                    Ok(name) => {
                        named.push((name, target.clone()));
                        continue;
                    }
                    Err(problem) => problem.to_string(),
                },
                [] => "it sets no value the command gets (none, or all overridden)".into(),
                names => format!(
                    "?file= takes a source that sets one value, and it sets {}: {}",
                    names.len(),
                    names
                        .iter()
                        .map(|name| display_name(name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            errors.push(Error::Settings {
                setting: "?file=",
                problem: format!("{origin}: {problem}"),
            });
        }
        Error::from_many(errors).map_or(Ok(named), Err)
    }
}

impl Format {
    /// The content of the `--mount` file: the names `export` (without `--all`) writes.
    fn render(&self, child_env: &ChildEnv) -> Result<SecretValue, Error> {
        match self {
            Format::Export(format) => export::render(child_env, *format, false),
            Format::Template(template) => template.render(child_env),
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

/// The files written for a run; dropping it removes them (and closes the in-memory ones).
#[derive(Debug, Default)]
pub struct Mounted {
    /// In the order of [`render`]'s contents: the `--mount` file, then each named file.
    /// Emptied by [`Mounted::remove`].
    written: Vec<Written>,
    /// The names of the one-value files, in order (see [`SecretFiles::named_files`]).
    names: Vec<EnvName>,
}

/// One file written for the child.
#[derive(Debug)]
enum Written {
    /// On a file system; removed by [`Mounted::remove`].
    Path(PathBuf),
    /// In memory: the child's `/dev/fd/N`, closed when dropped.
    Memfd(OwnedFd),
}

impl Written {
    /// How the child names it.
    fn child_path(&self) -> PathBuf {
        match self {
            Written::Path(path) => path.clone(),
            Written::Memfd(fd) => PathBuf::from(format!("/dev/fd/{}", fd.as_raw_fd())),
        }
    }
}

impl Mounted {
    /// Rewrites every file `prepare` wrote, with the values now in `child_env`, each one
    /// atomically (a temporary 0600 file in the same directory, fsync, rename over the old
    /// path), so a reader sees the old content or the new, never a mix. Renders everything
    /// first, so a value the format cannot hold fails before any file changes. Changes
    /// `child_env` the way `prepare` does.
    ///
    /// The paths are the ones `prepare` wrote, not placed again, so `env` goes unused; it is
    /// taken to mirror `prepare`.
    pub fn refresh(
        &mut self,
        files: &SecretFiles,
        child_env: &mut ChildEnv,
        env: &ParentEnv,
    ) -> Result<(), Error> {
        let _ = env;
        let mut paths = Vec::with_capacity(self.written.len());
        for written in &self.written {
            match written {
                Written::Path(path) => paths.push(path),
                Written::Memfd(_) => {
                    return Err(Error::Settings {
                        setting: "memfd",
                        problem: "an in-memory file cannot be rewritten: it is sealed and the \
                                  command holds it open; write to a PATH to have it refreshed"
                            .into(),
                    })
                }
            }
        }
        let named = files.named_files(child_env)?;
        if named.iter().map(|(name, _)| name).ne(self.names.iter()) {
            return Err(Error::Settings {
                setting: "?file=",
                problem: "a source now sets its value under another name than the file was \
                          written for"
                    .into(),
            });
        }
        let contents = render(files, &named, child_env)?;
        if contents.len() != paths.len() {
            return Err(Error::Settings {
                setting: "--mount",
                problem: "the secret files were already removed; nothing to refresh".into(),
            });
        }
        // Every temporary file complete and on disk before the first rename, so that a
        // failure to write leaves every file as it was.
        let mut written = Vec::with_capacity(contents.len());
        for (path, content) in paths.into_iter().zip(&contents) {
            written.push((path, temporary_with(path, content.expose())?));
        }
        for (path, temporary) in written {
            temporary.persist(path).map_err(|error| Error::WriteFile {
                path: path.clone(),
                source: error.error,
            })?;
            tracing::debug!(path = %path.display(), "refreshed a secret file");
        }
        self.tell(files, child_env);
        Ok(())
    }

    /// The path the child is given for the `--mount` file (after it was written).
    fn mount_path(&self, files: &SecretFiles) -> Option<PathBuf> {
        files.mount.as_ref()?;
        self.written.first().map(Written::child_path)
    }

    /// Adds `SECRETRUN_MOUNT` and the `NAME_FILE` variables for the files written.
    fn tell(&self, files: &SecretFiles, child_env: &mut ChildEnv) {
        let mount = self.mount_path(files);
        let skip = usize::from(mount.is_some());
        let file_vars = self
            .names
            .iter()
            .map(|name| OsString::from(format!("{name}_FILE")));
        let told = mount
            .map(|path| (OsString::from(MOUNT_VAR), path))
            .into_iter()
            .chain(file_vars.zip(self.written.iter().skip(skip).map(Written::child_path)));
        for (name, path) in told {
            child_env.vars.insert(
                name,
                Entry {
                    value: Value::Parent(path.into_os_string()),
                    origin: Origin::Secretrun,
                    overridden: Vec::new(),
                },
            );
        }
    }

    /// Removes every file now (and closes the in-memory ones); idempotent.
    pub fn remove(&mut self) {
        let paths = self.written.drain(..).filter_map(|written| match written {
            Written::Path(path) => Some(path),
            Written::Memfd(_) => None,
        });
        for path in paths {
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
        self.written.push(Written::Path(path.to_path_buf()));
        // The umask can only take bits away; set 0600 exactly all the same.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .and_then(|()| file.write_all(content))
            .map_err(failed)
    }

    /// An in-memory file holding `content`, inherited by the child (no close-on-exec) and
    /// sealed so that nobody can change it; returns the child's path to it.
    fn create_memfd(&mut self, what: &str, content: &[u8]) -> Result<(), Error> {
        use nix::fcntl::{fcntl, FcntlArg, SealFlag};
        use nix::sys::memfd::{memfd_create, MFdFlags};
        // Shown as the link of /proc/PID/fd/N: says what it is, never which secret.
        let name = format!("secretrun-{what}");
        let failed = |error: nix::Error| Error::WriteFile {
            path: PathBuf::from(format!("memfd:{name}")),
            source: error.into(),
        };
        let fd = memfd_create(name.as_str(), MFdFlags::MFD_ALLOW_SEALING).map_err(failed)?;
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
        self.written.push(Written::Memfd(OwnedFd::from(file)));
        Ok(())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A complete, synced 0600 temporary file in `path`'s directory holding `content`, to be
/// renamed over `path` (removed if dropped before).
fn temporary_with(path: &Path, content: &[u8]) -> Result<tempfile::NamedTempFile, Error> {
    let failed = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".secretrun-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(failed)?;
    // The umask can only take bits away; set 0600 exactly all the same.
    let file = temporary.as_file_mut();
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| file.write_all(content))
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    Ok(temporary)
}

/// What the files hold, in the order of [`Mounted`]'s files: the `--mount` content (if any),
/// then each of `named`'s values. Everything is rendered before anything is written, and every
/// failure is reported at once. Takes the written names out of `child_env` unless
/// `--mount-keep-env`; on failure `child_env` is left as it was.
fn render(
    files: &SecretFiles,
    named: &[(EnvName, MountTarget)],
    child_env: &mut ChildEnv,
) -> Result<Vec<SecretValue>, Error> {
    let missing: Vec<Error> = named
        .iter()
        .filter(|(name, _)| !child_env.contains(name.as_str()))
        .map(|(name, _)| Error::NotSet {
            name: name.to_string(),
        })
        .collect();
    if let Some(error) = Error::from_many(missing) {
        return Err(error);
    }
    // `--file` names are left out of the mount.
    let taken: Vec<(&EnvName, Entry)> = named
        .iter()
        .filter_map(|(name, _)| Some((name, child_env.vars.remove(name.as_os_str())?)))
        .collect();
    let mount = files
        .mount
        .as_ref()
        .map(|mount| mount.format.render(child_env))
        .transpose();
    let put_back = |child_env: &mut ChildEnv, taken: Vec<(&EnvName, Entry)>| {
        for (name, entry) in taken {
            child_env.vars.insert(name.as_os_str().to_owned(), entry);
        }
    };
    let mount = match mount {
        Ok(mount) => mount,
        Err(error) => {
            put_back(child_env, taken);
            return Err(error);
        }
    };
    let mut contents = Vec::with_capacity(taken.len() + 1);
    if let Some(content) = mount {
        contents.push(content);
        if !files.keep_env {
            child_env
                .vars
                .retain(|_, entry| show::is_plain_parent(entry));
        }
    }
    contents.extend(
        taken
            .iter()
            .map(|(_, entry)| SecretValue::new(entry.value.as_bytes().to_vec())),
    );
    if files.keep_env {
        put_back(child_env, taken);
    }
    Ok(contents)
}

/// Whether `child_env` can be written as `files` asks (every `--file` name set, every value one
/// the format can hold), without writing anything: how a restart with new values is checked
/// before the running command is stopped.
pub fn check(files: &SecretFiles, child_env: &ChildEnv) -> Result<(), Error> {
    let mut scratch = ChildEnv {
        vars: child_env.vars.clone(),
    };
    let named = files.named_files(&scratch)?;
    render(files, &named, &mut scratch).map(drop)
}

/// Writes the files `files` asks for from `child_env`, takes the written names out of it
/// (unless kept) and adds `SECRETRUN_MOUNT` and the `NAME_FILE` variables.
pub fn prepare(
    files: &SecretFiles,
    child_env: &mut ChildEnv,
    env: &ParentEnv,
) -> Result<Mounted, Error> {
    let mut mounted = Mounted::default();
    if files.is_empty() {
        return Ok(mounted);
    }
    let named = files.named_files(child_env)?;
    let contents = render(files, &named, child_env)?;
    let targets = files
        .mount
        .iter()
        .map(|mount| (&mount.target, "mount"))
        .chain(named.iter().map(|(_, target)| (target, "file")));
    for ((target, what), content) in targets.zip(&contents) {
        match target {
            MountTarget::Path(path) => mounted.create(&place(path, env), content.expose())?,
            MountTarget::Memfd => mounted.create_memfd(what, content.expose())?,
        }
    }
    if let Some(path) = mounted.mount_path(files) {
        tracing::debug!(path = %path.display(), "mounted the secrets");
    }
    mounted.names = named.into_iter().map(|(name, _)| name).collect();
    mounted.tell(files, child_env);
    Ok(mounted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::settings::FileSettings;
    use crate::cli::{ExportFormat, LaunchArgs, MountFormat};
    use crate::output::template::template_environment;
    use crate::secret::SecretValue;
    use crate::source::SourceClass;

    /// The command line's files, no source with `?file=`.
    fn from_args(args: &LaunchArgs) -> Result<SecretFiles, Error> {
        SecretFiles::build(&FileSettings::from_args(args), Vec::new())
    }

    fn entry(value: &str, origin: Origin) -> Entry {
        Entry {
            value: match origin {
                Origin::Parent => Value::Parent(value.into()),
                _ => Value::Secret(SecretValue::from(value.to_string())),
            },
            origin,
            overridden: Vec::new(),
        }
    }

    fn env_file(spec: &str) -> Origin {
        Origin::source(spec, SourceClass::EnvFile)
    }

    fn secrets(spec: &str) -> Origin {
        Origin::source(spec, SourceClass::Secret)
    }

    fn child_env() -> ChildEnv {
        let mut env = ChildEnv::default();
        env.vars
            .insert("PATH".into(), entry("/bin", Origin::Parent));
        env.vars
            .insert("TOKEN".into(), entry("t0k\"en", env_file("dotenv:.env")));
        env.vars.insert(
            "KEY".into(),
            entry("-----BEGIN\nx\n", secrets("dir:/run/s")),
        );
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
        assert!(!from_args(&args(None, &[])).unwrap().needs_cleanup());
        assert!(!from_args(&args(Some("memfd"), &[]))
            .unwrap()
            .needs_cleanup());
        assert!(from_args(&args(Some("app.env"), &[]))
            .unwrap()
            .needs_cleanup());
        assert!(from_args(&args(Some("memfd"), &["K=k.pem"]))
            .unwrap()
            .needs_cleanup());
    }

    #[test]
    fn bad_file_flags_are_all_reported() {
        let err = from_args(&args(None, &["K", "A=B=", "K2=", "X=a", "X=b"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--file: 'K': expected NAME=PATH\nsecretrun: error: --file: 'K2=': the PATH after \
             '=' is empty\nsecretrun: error: --file: X is given more than once"
        );
        // A=B= is NAME=A, PATH=B=: a path may hold '='.
        let files = from_args(&args(None, &["A=B="])).unwrap();
        assert_eq!(files.files[0].1, MountTarget::Path(PathBuf::from("B=")));
    }

    #[test]
    fn a_sources_file_is_its_one_value_and_never_a_name_given_twice() {
        let origin = |name: &str| format!("file:{name}?file=memfd");
        let mut env = child_env();
        // KEY came from dir:/run/s; call that source's origin what a ?file= spec would be.
        env.vars
            .get_mut(std::ffi::OsStr::new("KEY"))
            .unwrap()
            .origin = secrets(&origin("key"));
        let mut files = from_args(&args(None, &[])).unwrap();
        files.from_sources = vec![(origin("key"), MountTarget::Memfd)];
        assert!(!files.needs_cleanup());
        let named = files.named_files(&env).unwrap();
        assert_eq!(named, [(EnvName::new("KEY").unwrap(), MountTarget::Memfd)]);
        // The same name from --file as well: refused, not written twice.
        let mut both = from_args(&args(None, &["KEY=k.pem"])).unwrap();
        both.from_sources = files.from_sources.clone();
        assert!(both.needs_cleanup());
        let err = both.named_files(&env).unwrap_err().to_string();
        assert_eq!(
            err,
            "?file=: file:key?file=memfd: KEY is also given to --file"
        );
        // A source no value comes from.
        files.from_sources = vec![(origin("none"), MountTarget::Memfd)];
        let err = files.named_files(&env).unwrap_err().to_string();
        assert!(err.contains("it sets no value the command gets"), "{err}");
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
        let files = from_args(&args(
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
        let mut files = from_args(&args(
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
        let files = from_args(&args(
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
        let files = from_args(&args(
            None,
            &[&format!("NOPE={}", dir.path().join("n").display())],
        ))
        .unwrap();
        let err = prepare(&files, &mut child_env(), &ParentEnv::default()).unwrap_err();
        assert!(matches!(err, Error::NotSet { .. }), "{err}");
        // env (docker's format) cannot hold KEY's line break.
        let mount = dir.path().join("m");
        let mut files = from_args(&args(Some(mount.to_str().unwrap()), &[])).unwrap();
        files.mount.as_mut().unwrap().format = Format::Export(ExportFormat::Docker);
        let err = prepare(&files, &mut child_env(), &ParentEnv::default()).unwrap_err();
        assert!(err.to_string().starts_with("variable KEY: "), "{err}");
        assert!(!mount.exists());
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// `--mount MOUNT --mount-format template --mount-template DIR/t.tmpl` with `text`.
    fn template_args(dir: &Path, mount: &str, text: &str) -> LaunchArgs {
        let template = dir.join("t.tmpl");
        std::fs::write(&template, text).unwrap();
        LaunchArgs {
            mount_format: MountFormat::Template,
            mount_template: Some(template),
            ..args(Some(mount), &[])
        }
    }

    fn settings_error(args: &LaunchArgs) -> String {
        let err = from_args(args).unwrap_err();
        assert!(matches!(err, Error::Settings { .. }), "{err}");
        assert_eq!(err.exit_code(), crate::error::EXIT_FAILURE);
        err.to_string()
    }

    #[test]
    fn template_format_and_template_file_go_together() {
        let dir = tempfile::tempdir().unwrap();
        let without_file = LaunchArgs {
            mount_format: MountFormat::Template,
            ..args(Some("m"), &[])
        };
        assert_eq!(
            settings_error(&without_file),
            "--mount-format template: needs --mount-template FILE, the template to render"
        );
        let other_format = LaunchArgs {
            mount_format: MountFormat::Json,
            ..template_args(dir.path(), "m", "{{ TOKEN }}")
        };
        assert_eq!(
            settings_error(&other_format),
            "--mount-template: only --mount-format template uses it (the format is json); add \
             --mount-format template"
        );
        let missing = LaunchArgs {
            mount_template: Some(dir.path().join("nope.tmpl")),
            ..template_args(dir.path(), "m", "")
        };
        assert_eq!(
            settings_error(&missing),
            format!(
                "--mount-template: cannot read '{}': No such file or directory (os error 2)",
                dir.path().join("nope.tmpl").display()
            )
        );
    }

    #[test]
    fn a_template_syntax_error_is_found_when_the_plan_is_built() {
        let dir = tempfile::tempdir().unwrap();
        let args = template_args(dir.path(), "m", "a\n{% if %}\n");
        assert_eq!(
            settings_error(&args),
            format!(
                "--mount-template: '{}', line 2: syntax error: unexpected end of block",
                dir.path().join("t.tmpl").display()
            )
        );
    }

    #[test]
    fn template_sees_what_sources_set_and_takes_it_out_of_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("app.conf");
        let files = from_args(&template_args(
            dir.path(),
            mount.to_str().unwrap(),
            "token = {{ TOKEN|tojson }}\n<{{ TOKEN }}>\n\
             {% for name, value in secrets|items %}{{ name }}:{{ value|length }}\n{% endfor %}",
        ))
        .unwrap();
        let mut env = child_env();
        let _mounted = prepare(&files, &mut env, &ParentEnv::default()).unwrap();
        // No escaping (not even in `<...>`), the final newline kept, PATH (a plain parent
        // variable) not offered.
        assert_eq!(
            std::fs::read_to_string(&mount).unwrap(),
            "token = \"t0k\\\"en\"\n<t0k\"en>\nKEY:13\nTOKEN:6\n"
        );
        assert_eq!(mode(&mount), 0o600);
        assert_eq!(value(&env, "TOKEN"), None);
        assert_eq!(
            value(&env, "KEY"),
            None,
            "unused by the template, taken out all the same"
        );
        assert_eq!(value(&env, "PATH").as_deref(), Some("/bin"));
        assert_eq!(value(&env, MOUNT_VAR), Some(mount.display().to_string()));
    }

    #[test]
    fn template_unknown_name_is_an_error_naming_file_line_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("m");
        let files = from_args(&template_args(
            dir.path(),
            mount.to_str().unwrap(),
            "{{ TOKEN }}\n{{ PATH }}\n",
        ))
        .unwrap();
        let mut env = child_env();
        let err = prepare(&files, &mut env, &ParentEnv::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "--mount-template: '{}', line 2: undefined value (no source sets PATH; the \
                 names it can use are those `secretrun export` lists)",
                dir.path().join("t.tmpl").display()
            )
        );
        assert!(!mount.exists());
        assert_eq!(
            value(&env, "TOKEN").as_deref(),
            Some("t0k\"en"),
            "env untouched"
        );
    }

    #[test]
    fn a_template_error_never_quotes_a_value() {
        const SECRET: &str = "98765432109876543210987654321";
        let text = "ok\n{{ DB|int * DB|int }}\n";
        // minijinja's own message quotes the value: this is what must not get through.
        let raw = template_environment()
            .render_str(text, minijinja::context! { DB => SECRET })
            .unwrap_err();
        assert!(raw.to_string().contains(SECRET), "{raw}");

        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("m");
        let files = from_args(&template_args(dir.path(), mount.to_str().unwrap(), text)).unwrap();
        let mut env = child_env();
        env.vars
            .insert("DB".into(), entry(SECRET, secrets("vault:db")));
        let err = prepare(&files, &mut env, &ParentEnv::default()).unwrap_err();
        for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
            assert!(!shown.contains(SECRET), "{shown}");
            assert!(!shown.contains("98765"), "{shown}");
        }
        assert_eq!(
            err.to_string(),
            format!(
                "--mount-template: '{}', line 2: invalid operation (the details are left out: \
                 they may quote a value)",
                dir.path().join("t.tmpl").display()
            )
        );
        assert!(!mount.exists());
    }

    #[test]
    fn a_template_refuses_a_value_that_is_not_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("m");
        let files = from_args(&template_args(dir.path(), mount.to_str().unwrap(), "x")).unwrap();
        let mut env = child_env();
        env.vars.insert(
            "BIN".into(),
            Entry {
                value: Value::Secret(SecretValue::new(vec![0xff, 0xfe])),
                origin: secrets("dir:/s"),
                overridden: Vec::new(),
            },
        );
        let err = prepare(&files, &mut env, &ParentEnv::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "variable BIN: the value is not valid UTF-8, which a template cannot hold (--file \
             NAME=PATH writes raw bytes)"
        );
        assert!(!mount.exists());
    }

    #[test]
    fn memfd_holds_a_rendered_template() {
        let dir = tempfile::tempdir().unwrap();
        let files = from_args(&template_args(dir.path(), "memfd", "t={{ TOKEN }}\n")).unwrap();
        assert!(!files.needs_cleanup());
        let mut env = child_env();
        let mounted = prepare(&files, &mut env, &ParentEnv::default()).unwrap();
        let path = value(&env, MOUNT_VAR).unwrap();
        assert!(path.starts_with("/dev/fd/"), "{path}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "t=t0k\"en\n");
        drop(mounted);
    }

    /// `child_env` with other values, as a new resolution would give.
    fn changed_env() -> ChildEnv {
        let mut env = child_env();
        env.vars
            .insert("TOKEN".into(), entry("new", env_file("dotenv:.env")));
        env.vars
            .insert("KEY".into(), entry("KEY2", secrets("dir:/run/s")));
        env
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
    fn refresh_rewrites_every_file_at_the_same_paths() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("app.conf");
        let key = dir.path().join("key.pem");
        let files = from_args(&LaunchArgs {
            file: vec![format!("KEY={}", key.display())],
            ..template_args(dir.path(), mount.to_str().unwrap(), "token={{ TOKEN }}\n")
        })
        .unwrap();
        let mut env = child_env();
        let mut mounted = prepare(&files, &mut env, &ParentEnv::default()).unwrap();
        let before = listing(dir.path());
        let inode = std::fs::metadata(&mount).unwrap().ino();

        let mut new_env = changed_env();
        mounted
            .refresh(&files, &mut new_env, &ParentEnv::default())
            .unwrap();
        assert_eq!(std::fs::read_to_string(&mount).unwrap(), "token=new\n");
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "KEY2");
        assert_ne!(
            std::fs::metadata(&mount).unwrap().ino(),
            inode,
            "replaced by a rename, not rewritten in place"
        );
        assert_eq!((mode(&mount), mode(&key)), (0o600, 0o600));
        assert_eq!(listing(dir.path()), before, "no temporary file left");
        // The same variables as `prepare` left, pointing at the same paths.
        let names = |env: &ChildEnv| env.vars.keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(&new_env), names(&env));
        assert_eq!(value(&new_env, MOUNT_VAR), value(&env, MOUNT_VAR));
        assert_eq!(value(&new_env, "KEY_FILE"), Some(key.display().to_string()));
        assert_eq!(value(&new_env, "TOKEN"), None);

        mounted.remove();
        assert!(!mount.exists() && !key.exists());
    }

    #[test]
    fn refresh_changes_nothing_when_a_value_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("m.env");
        let key = dir.path().join("key.pem");
        let mut files = from_args(&args(
            Some(mount.to_str().unwrap()),
            &[&format!("KEY={}", key.display())],
        ))
        .unwrap();
        files.mount.as_mut().unwrap().format = Format::Export(ExportFormat::Docker);
        let mut env = child_env();
        env.vars.remove(std::ffi::OsStr::new("KEY"));
        env.vars
            .insert("KEY".into(), entry("one line", secrets("dir:/run/s")));
        let mut mounted = prepare(&files, &mut env, &ParentEnv::default()).unwrap();
        let before = listing(dir.path());

        // docker's format cannot hold a line break: refused before the key file changes.
        let mut new_env = changed_env();
        new_env
            .vars
            .insert("TOKEN".into(), entry("two\nlines", env_file("dotenv:.env")));
        let err = mounted
            .refresh(&files, &mut new_env, &ParentEnv::default())
            .unwrap_err();
        assert!(err.to_string().starts_with("variable TOKEN: "), "{err}");
        assert_eq!(std::fs::read_to_string(&mount).unwrap(), "TOKEN=t0k\"en\n");
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "one line");
        assert_eq!(listing(dir.path()), before);
        assert_eq!(
            value(&new_env, "KEY").as_deref(),
            Some("KEY2"),
            "env untouched"
        );
    }

    #[test]
    fn refresh_refuses_an_in_memory_mount() {
        let files = from_args(&args(Some("memfd"), &[])).unwrap();
        let mut mounted = prepare(&files, &mut child_env(), &ParentEnv::default()).unwrap();
        let err = mounted
            .refresh(&files, &mut child_env(), &ParentEnv::default())
            .unwrap_err();
        assert!(matches!(err, Error::Settings { .. }), "{err}");
        assert!(err.to_string().contains("cannot be rewritten"), "{err}");
    }
}
