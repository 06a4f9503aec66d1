//! Stage 3: fetch every planned source and return one [`Layer`] per source, in declared order
//! whatever order the fetches finish in.
//!
//! Two phases: the `.env` files first, because their values may configure the secret sources
//! (a `DOPPLER_TOKEN` or `SECRETS_MANAGER=vault` kept in `.env`; the parent environment still
//! wins); then every secret source at once, bounded. Every failure is collected, so the user
//! sees all broken sources at once, not the first.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use crate::compat;
use crate::environment::ParentEnv;
use crate::error::{Error, SourceError};
use crate::merge::Layer;
use crate::plan::Plan;
use crate::providers::{self, Context, Provider};
use crate::secret;
use crate::source::{SourceClass, SourceSpec};

/// How many sources are fetched at once.
pub const MAX_CONCURRENT_FETCHES: usize = 32;

#[derive(Debug)]
pub struct Resolved {
    /// `.env` layers first, then secret layers, each in declared order.
    pub layers: Vec<Layer>,
    /// Credential variables the providers consumed, kept from the child.
    pub consumed: BTreeSet<String>,
}

struct Fetch {
    origin: String,
    class: SourceClass,
    provider: Box<dyn Provider>,
}

pub async fn resolve(plan: &Plan, parent: &ParentEnv) -> Result<Resolved, Error> {
    let (env_files, secret_specs): (Vec<_>, Vec<_>) = plan
        .sources
        .iter()
        .partition(|source| source.class == SourceClass::EnvFile);

    let local = Arc::new(Context::new(parent.clone(), plan.fetch.clone()));
    let env_files = build(env_files.into_iter().map(|s| s.spec.clone()), &local)?;
    let mut layers = fetch_all(env_files.fetches, plan.fetch.deadline).await?;

    // Provider settings: the parent environment over the `.env` values.
    let dotenv_values = layers.iter().flat_map(|layer| {
        layer
            .entries
            .iter()
            .map(|(name, value)| (name.as_os_str().to_os_string(), secret::to_os_string(value)))
    });
    let mut settings = parent.over(dotenv_values);
    let mut consumed = BTreeSet::new();
    let mut specs = Vec::new();
    if plan.secrets_settings {
        let translated = compat::translate(&settings)?;
        settings = settings.over(
            translated
                .env
                .into_iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
        );
        consumed.extend(translated.consumed);
        specs.extend(translated.specs);
    }
    specs.extend(secret_specs.into_iter().map(|s| s.spec.clone()));
    if specs.is_empty() {
        return Ok(Resolved { layers, consumed });
    }

    let context = Arc::new(Context::new(settings, plan.fetch.clone()));
    let secrets = build(specs.into_iter(), &context)?;
    consumed.extend(secrets.consumed);
    layers.extend(fetch_all(secrets.fetches, plan.fetch.deadline).await?);
    Ok(Resolved { layers, consumed })
}

struct Built {
    fetches: Vec<Fetch>,
    consumed: BTreeSet<String>,
}

fn build(specs: impl Iterator<Item = SourceSpec>, context: &Arc<Context>) -> Result<Built, Error> {
    let mut built = Built {
        fetches: Vec::new(),
        consumed: BTreeSet::new(),
    };
    let mut errors = Vec::new();
    for spec in specs {
        let origin = spec.text().to_string();
        let class = spec.class();
        match providers::build(spec, context) {
            Ok(provider) => {
                built
                    .consumed
                    .extend(provider.consumed().iter().map(|n| n.to_string()));
                built.fetches.push(Fetch {
                    origin,
                    class,
                    provider,
                });
            }
            Err(problem) => errors.push(Error::Spec {
                spec: origin,
                problem,
            }),
        }
    }
    Error::from_many(errors).map_or(Ok(built), Err)
}

/// Fetches every source, each within `deadline` (retries included), up to
/// [`MAX_CONCURRENT_FETCHES`] at once.
async fn fetch_all(fetches: Vec<Fetch>, deadline: Duration) -> Result<Vec<Layer>, Error> {
    let results: Vec<_> = stream::iter(&fetches)
        .map(|source| async move {
            tracing::debug!(source = %source.origin, "fetching");
            let fetched = tokio::time::timeout(deadline, source.provider.fetch())
                .await
                .unwrap_or(Err(SourceError::Timeout { after: deadline }));
            (source, fetched)
        })
        // `buffered` keeps declared order while running up to the limit at once.
        .buffered(MAX_CONCURRENT_FETCHES)
        .collect()
        .await;

    let mut layers = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for (source, result) in results {
        match result {
            Ok(entries) => {
                tracing::info!(source = %source.origin, names = entries.len(), "resolved");
                layers.push(Layer {
                    origin: source.origin.clone(),
                    class: source.class,
                    entries,
                });
            }
            Err(error) => errors.push(Error::Source {
                origin: source.origin.clone(),
                error,
            }),
        }
    }
    Error::from_many(errors).map_or(Ok(layers), Err)
}
