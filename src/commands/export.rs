//! `secretrun export`: the merged result in a format another tool reads, on stdout or in a file.
//! The formats themselves are rendered by [`crate::output::export`].
//!
//! Invariants:
//! - Nothing is written unless every variable can be written: the whole output is rendered
//!   first, and every variable a format cannot hold is reported at once, by name.
//! - Secrets go to a terminal only with `--reveal` (checked before anything is fetched).
//! - `--output FILE` is created with mode 0600 and appears whole or not at all: the content goes
//!   to a temporary file in FILE's directory, which is renamed onto FILE (without `--force`, a
//!   rename that refuses to replace, so a file created meanwhile is not lost either).

use std::io::{IsTerminal, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::cli::{ExportArgs, ExportFormat};
use crate::error::Error;
use crate::output::export::render;

use crate::pipeline::{Session, Stop};

pub fn run(session: &Session, args: &ExportArgs) -> Result<i32, Stop> {
    // Refuse before fetching anything, so a refusal costs no request.
    match &args.output {
        // An example file holds no value: nothing to refuse.
        None if !args.reveal
            && args.format != ExportFormat::Example
            && std::io::stdout().is_terminal() =>
        {
            return Err(Error::RefuseTerminal.into())
        }
        Some(path) if !args.force && path.symlink_metadata().is_ok() => {
            return Err(Error::OutputExists { path: path.clone() }.into())
        }
        _ => {}
    }
    let child_env = session.merged_env()?;
    session.require(&child_env)?;
    let text = render(&child_env, args.format, args.all)?;
    drop(child_env);
    match &args.output {
        Some(path) => write_file(path, text.expose(), args.force)?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.expose())
                .and_then(|()| out.flush())
                .map_err(Error::Output)?;
        }
    }
    Ok(0)
}

/// Writes `content` to `path` atomically with mode 0600.
fn write_file(path: &Path, content: &[u8], replace: bool) -> Result<(), Error> {
    let failed = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    // The temporary file lives beside the target, so the rename stays on one file system.
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // tempfile creates it with O_EXCL and mode 0600; set 0600 again so no umask changes it.
    let mut file = tempfile::Builder::new()
        .prefix(".secretrun-export-")
        .tempfile_in(dir)
        .map_err(failed)?;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| file.write_all(content))
        .and_then(|()| file.as_file().sync_all())
        .map_err(failed)?;
    let persisted = if replace {
        file.persist(path)
    } else {
        file.persist_noclobber(path)
    };
    // On failure the temporary file is removed when the error is dropped.
    persisted.map_err(|error| {
        if !replace && error.error.kind() == std::io::ErrorKind::AlreadyExists {
            Error::OutputExists {
                path: path.to_path_buf(),
            }
        } else {
            failed(error.error)
        }
    })?;
    // The rename is durable only once the directory is synced; a failure here loses nothing
    // that a later sync would not write.
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}
