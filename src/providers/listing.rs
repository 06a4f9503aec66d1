//! Reading what a listing named: every store that lists a folder, a prefix or a label reads the
//! listed secrets the same way, a few at a time and in the listing's order.

use std::future::Future;

use futures_util::{stream, StreamExt, TryStreamExt};

use crate::error::SourceError;
use crate::secret::SecretValue;

use super::{naming, Entries};

/// Secrets read at once: enough to hide latency, few enough for the stores' request quotas.
const READS_AT_ONCE: usize = 8;

/// The entries of every listed item, `read` giving one item's (none for one gone since it was
/// listed). They come in the listing's order, which decides which of two equal names wins; the
/// first failure in that order is the answer.
pub(crate) async fn read_each<T, F, R>(listed: Vec<T>, read: F) -> Result<Entries, SourceError>
where
    F: FnMut(T) -> R,
    R: Future<Output = Result<Entries, SourceError>>,
{
    let parts: Vec<Entries> = stream::iter(listed)
        .map(read)
        .buffered(READS_AT_ONCE)
        .try_collect()
        .await?;
    Ok(parts.into_iter().flatten().collect())
}

/// The variables a secret holding a JSON object becomes, as the `json` option asks: one per key
/// (or only `pick`), named `prefix` + the key.
pub(crate) fn json_object_entries(
    secret: &str,
    value: &SecretValue,
    prefix: &str,
    pick: Option<&str>,
) -> Result<Entries, SourceError> {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(value.expose()) else {
        return Err(SourceError::Config {
            problem: format!(
                "the secret '{secret}' does not hold a JSON object, which the json option expects"
            ),
        });
    };
    naming::expand_object(&object, prefix, pick)
}
