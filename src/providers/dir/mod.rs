//! `dir:PATH`: one variable per file, the layout of Docker swarm `/run/secrets`, Kubernetes
//! mounted Secrets and systemd credentials (`$CREDENTIALS_DIRECTORY`).
//!
//! Names are file names, values the content with one trailing newline removed. Hidden entries
//! (Kubernetes' `..data` links and timestamped folders) and sub-directories are skipped.
//! Options: `optional` (a missing directory yields nothing instead of an error).

use std::io;
use std::path::PathBuf;

use super::spec::SourceSpec;
use crate::error::{SourceError, SpecProblem};
use crate::secret::SecretValue;

use super::{env_name, read_local, Entries, FetchFuture, Provider};

#[derive(Debug)]
pub struct Dir {
    path: PathBuf,
    optional: bool,
}

impl Dir {
    pub fn new(path: PathBuf, optional: bool) -> Self {
        Self { path, optional }
    }

    pub fn from_spec(spec: &mut SourceSpec) -> Result<Self, SpecProblem> {
        let optional = spec.take_flag("optional")?;
        spec.finish(false)?;
        Ok(Self::new(PathBuf::from(&spec.location), optional))
    }

    fn read(&self) -> Result<Entries, SourceError> {
        let read_error = |path: PathBuf| move |source| SourceError::Read { path, source };
        let listing = match std::fs::read_dir(&self.path) {
            Ok(listing) => listing,
            Err(err) if err.kind() == io::ErrorKind::NotFound && self.optional => {
                return Ok(Entries::new())
            }
            Err(err) => return Err(read_error(self.path.clone())(err)),
        };
        let mut files = Vec::new();
        for entry in listing {
            let entry = entry.map_err(read_error(self.path.clone()))?;
            let file_name = entry.file_name();
            if file_name.as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let path = entry.path();
            // Follows links, as Kubernetes mounts every key as a link into `..data/`.
            let metadata = std::fs::metadata(&path).map_err(read_error(path.clone()))?;
            if metadata.is_dir() {
                continue;
            }
            // A FIFO or a device would be read on the runtime's thread, where a read that never
            // ends could not be stopped by the deadline or a signal.
            if !metadata.is_file() {
                return Err(read_error(path)(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a regular file (a FIFO, socket or device)",
                )));
            }
            let name = file_name.to_string_lossy().into_owned();
            files.push((name, path));
        }
        files.sort();
        files
            .into_iter()
            .map(|(name, path)| {
                let name = env_name(name)?;
                let content = super::read_capped(&path).map_err(read_error(path))?;
                Ok((name, SecretValue::new(trim_one_newline(content))))
            })
            .collect()
    }
}

impl Provider for Dir {
    fn fetch(&self) -> FetchFuture<'_> {
        let reader = Self {
            path: self.path.clone(),
            optional: self.optional,
        };
        Box::pin(async move {
            let path = reader.path.clone();
            read_local(&path, move || reader.read()).await
        })
    }
}

/// Removes one trailing `\n` (or `\r\n`), the newline editors and `echo` add to a secret file.
pub fn trim_one_newline(mut content: Vec<u8>) -> Vec<u8> {
    if content.ends_with(b"\r\n") {
        content.truncate(content.len() - 2);
    } else if content.ends_with(b"\n") {
        content.pop();
    }
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_exactly_one_newline() {
        assert_eq!(trim_one_newline(b"abc\n".to_vec()), b"abc");
        assert_eq!(trim_one_newline(b"abc\r\n".to_vec()), b"abc");
        assert_eq!(trim_one_newline(b"abc\n\n".to_vec()), b"abc\n");
        assert_eq!(trim_one_newline(b"abc".to_vec()), b"abc");
    }
}
