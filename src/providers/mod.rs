//! Providers: one file per kind of source, all behind [`Provider`].
//!
//! A provider turns one [`SourceSpec`] into names and secret values. It knows nothing of ranks,
//! merging or processes, and does no I/O until [`Provider::fetch`] is awaited, so building a
//! plan stays cheap and a run that uses no cloud source never initialises a cloud SDK.

mod dir;
mod dotenv;

use std::future::Future;
use std::pin::Pin;

use crate::environment::ParentEnv;
use crate::error::{SourceError, SpecProblem};
use crate::secret::{EnvName, SecretValue};
use crate::source::{SourceKind, SourceSpec};

pub use dir::{trim_one_newline, Dir};
pub use dotenv::Dotenv;

/// What one source yields, in the order it defines them; a later duplicate beats an earlier one.
pub type Entries = Vec<(EnvName, SecretValue)>;

pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Entries, SourceError>> + Send + 'a>>;

pub trait Provider: Send + Sync + std::fmt::Debug {
    /// Fetches every name this source defines.
    fn fetch(&self) -> FetchFuture<'_>;
}

/// Builds the provider for `spec`, validating its options. Pure: no I/O, no network.
pub fn build(mut spec: SourceSpec, env: &ParentEnv) -> Result<Box<dyn Provider>, SpecProblem> {
    let _ = env;
    let provider: Box<dyn Provider> = match spec.kind {
        SourceKind::Dotenv => Box::new(Dotenv::from_spec(&mut spec)?),
        SourceKind::Dir => Box::new(Dir::from_spec(&mut spec)?),
    };
    Ok(provider)
}

/// Validates a name a source produced.
pub fn env_name(name: impl Into<String>) -> Result<EnvName, SourceError> {
    let name = name.into();
    EnvName::new(name.clone()).map_err(|problem| SourceError::InvalidName { name, problem })
}
