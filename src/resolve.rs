//! Stage 3: fetch every planned source concurrently and return one [`Layer`] per source, in
//! declared order whatever order the fetches finish in.
//!
//! Every failure is collected, so the user sees all broken sources at once, not the first.

use futures_util::stream::{self, StreamExt};

use std::time::Duration;

use crate::error::{Error, SourceError};
use crate::merge::Layer;
use crate::plan::PlannedSource;

/// How many sources are fetched at once.
pub const MAX_CONCURRENT_FETCHES: usize = 16;

/// Fetches every source, each within `deadline` (retries included).
pub async fn resolve(sources: &[PlannedSource], deadline: Duration) -> Result<Vec<Layer>, Error> {
    let results: Vec<_> = stream::iter(sources)
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
