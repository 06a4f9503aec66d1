//! `file:/PATH`: one file, one variable: the content with one trailing newline trimmed, named by
//! `#NAME` or after the file (`/run/secrets/db-password` → `DB_PASSWORD`). Mostly used as a
//! reference in an environment value (`CERT=file:/run/secrets/cert.pem`).
//!
//! Options: `optional` (a missing file yields nothing instead of an error).

use std::io;
use std::path::PathBuf;

use super::spec::SourceSpec;
use crate::error::{SourceError, SpecProblem};
use crate::secret::SecretValue;

use super::{env_name, naming, read_local, trim_one_newline, FetchFuture, Provider};

#[derive(Debug)]
pub struct File {
    path: PathBuf,
    name: String,
    optional: bool,
}

impl File {
    pub fn from_spec(spec: &mut SourceSpec) -> Result<Self, SpecProblem> {
        let optional = spec.take_flag("optional")?;
        spec.finish(true)?;
        let name = match &spec.key {
            Some(name) => name.clone(),
            None => naming::from_path(&spec.location),
        };
        Ok(Self {
            path: PathBuf::from(&spec.location),
            name,
            optional,
        })
    }
}

impl Provider for File {
    fn fetch(&self) -> FetchFuture<'_> {
        let (path, optional) = (self.path.clone(), self.optional);
        Box::pin(async move {
            let content = read_local(&path.clone(), move || match super::read_capped(&path) {
                Ok(content) => Ok(Some(trim_one_newline(content))),
                Err(err) if err.kind() == io::ErrorKind::NotFound && optional => Ok(None),
                Err(source) => Err(SourceError::Read { path, source }),
            })
            .await?;
            content
                .into_iter()
                .map(|content| Ok((env_name(self.name.clone())?, SecretValue::new(content))))
                .collect()
        })
    }
}
