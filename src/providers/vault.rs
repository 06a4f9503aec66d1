//! PLACEHOLDER while the provider is written; replaced before it is committed.

use std::sync::Arc;

use crate::error::{SourceError, SpecProblem};
use crate::source::SourceSpec;

use super::{Context, FetchFuture, Provider};

#[derive(Debug)]
pub struct SharedClient;

#[derive(Debug)]
pub struct Vault {
    _context: Arc<Context>,
}

impl Vault {
    pub fn from_spec(spec: &mut SourceSpec, context: Arc<Context>) -> Result<Self, SpecProblem> {
        spec.finish(true)?;
        Ok(Self { _context: context })
    }
}

impl Provider for Vault {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            Err(SourceError::Config {
                problem: "not written yet".into(),
            })
        })
    }
}
