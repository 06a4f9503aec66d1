//! The write side of the stores: one [`Writer`] per writable kind, built from the same spec
//! syntax as `--source`, so that after a write `--source SPEC` reads back exactly what was
//! written (the round trip is the contract; each store's layout is its reading rules inverted).
//!
//! A writer knows nothing of diffs, `--dry-run` or `--overwrite` (see `commands::write_plan`):
//! it says what the target holds now ([`Writer::current`], read by the store's own reader) and
//! writes the values it is given, reporting each name's outcome.

use std::future::Future;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::pin::Pin;

use serde_json::{Map, Value};

use crate::error::{SourceError, SpecProblem};
use crate::secret::{EnvName, SecretValue};

use super::spec::SourceSpec;
use super::{http, Context, Entries, FetchFuture, Provider};

/// One value to write.
#[derive(Debug, Clone)]
pub struct Change {
    pub name: EnvName,
    pub value: SecretValue,
    /// The target holds the name already (with another value).
    pub exists: bool,
}

/// Each change's outcome, in the order given. A store that writes all names in one request
/// gives every name the same answer.
pub type Outcomes = Vec<(EnvName, Result<(), SourceError>)>;

pub type WriteFuture<'a> = Pin<Box<dyn Future<Output = Outcomes> + Send + 'a>>;

pub trait Writer: Send + Sync + std::fmt::Debug {
    /// What the target holds now, as `--source SPEC` reads it; empty when it does not exist yet.
    fn current(&self) -> FetchFuture<'_>;

    /// Why `name` cannot be written so that reading yields it back (a store whose reader
    /// upper-cases keys cannot hold `api_key`); `None` when it can.
    fn refuses_name(&self, name: &EnvName) -> Option<&'static str> {
        let _ = name;
        None
    }

    /// Why `value` cannot be written so that reading yields it back; `None` when it can.
    fn refuses_value(&self, value: &SecretValue) -> Option<&'static str> {
        let _ = value;
        None
    }

    /// Writes every change; a name unchanged is never given.
    fn write<'a>(&'a self, changes: &'a [Change]) -> WriteFuture<'a>;
}

/// What `reader` yields, or nothing when the target does not exist yet.
pub(crate) async fn read_or_empty(reader: &dyn Provider) -> Result<Entries, SourceError> {
    match reader.fetch().await {
        Err(SourceError::NotFound { .. }) => Ok(Entries::new()),
        Err(SourceError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(Entries::new())
        }
        other => other,
    }
}

/// The same outcome for every change: a store that writes them all in one request.
pub(crate) fn all_alike(changes: &[Change], result: Result<(), SourceError>) -> Outcomes {
    changes
        .iter()
        .map(|change| (change.name.clone(), result.clone()))
        .collect()
}

/// Refuses a target spec with `#KEY`: it reads one key (or secret) of a set, and a write goes
/// to the set; `why` says so in the kind's words.
pub(crate) fn refuse_key(spec: &SourceSpec, why: &'static str) -> Result<(), SpecProblem> {
    match spec.key {
        Some(_) => Err(SpecProblem::Unwritable(why)),
        None => Ok(()),
    }
}

/// `name` without the `prefix=` option's text, as the store holds it.
pub(crate) fn unprefixed<'a>(name: &'a EnvName, prefix: &str) -> &'a str {
    name.as_str().strip_prefix(prefix).unwrap_or(name.as_str())
}

/// What a store whose reader takes `prefix=` and sanitises names holds `name` as, or why it
/// cannot: a name without the prefix (or only the prefix) would not be read back as itself, nor
/// would one the reader changes (see [`refuses_unsanitized`]).
pub(crate) fn prefixed_own<'a>(name: &'a EnvName, prefix: &str) -> Result<&'a str, &'static str> {
    match name.as_str().strip_prefix(prefix) {
        None | Some("") => Err("with prefix=, every name must start with the prefix"),
        Some(own) => refuses_unsanitized(name).map_or(Ok(own), Err),
    }
}

/// The key of a JSON secret that `own` is read from: an existing key that reads as it
/// (`client-id` for `CLIENT_ID`), else `own` itself, so the secret never holds two keys that
/// read as one name.
pub(crate) fn key_for(object: &Map<String, Value>, own: &str) -> String {
    object
        .keys()
        .find(|key| super::naming::sanitize(key) == own)
        .cloned()
        .unwrap_or_else(|| own.to_string())
}

/// Writes each change on its own with `put` once `ready` (what every write needs: a client, a
/// project) is had, so some may fail while others are written; when `ready` failed, every
/// change fails alike.
pub(crate) async fn one_by_one<'a, T, F>(
    changes: &'a [Change],
    ready: &'a Result<T, SourceError>,
    put: impl Fn(&'a T, &'a Change) -> F,
) -> Outcomes
where
    F: Future<Output = Result<(), SourceError>>,
{
    let mut outcomes = Vec::with_capacity(changes.len());
    for change in changes {
        let outcome = match ready {
            Ok(ready) => put(ready, change).await,
            Err(error) => Err(error.clone()),
        };
        outcomes.push((change.name.clone(), outcome));
    }
    outcomes
}

/// Sends one write request to an HTTP store, a refusal told as [`write_refused`] does.
pub(crate) async fn send_write(
    context: &Context,
    what: &str,
    build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    store: &str,
    permission: &str,
) -> Result<(), SourceError> {
    http::send(context, what, build)
        .await
        .map(drop)
        .map_err(|error| write_refused(error, store, permission))
}

/// Names a reader that upper-cases keys and turns other characters into `_` gives back as they
/// are (see [`super::naming::sanitize`]).
pub(crate) fn refuses_unsanitized(name: &EnvName) -> Option<&'static str> {
    (super::naming::sanitize(name.as_str()) != name.as_str()).then_some(
        "this store's reader upper-cases names and turns characters other than letters, digits \
         and _ into _, so it would read the name back as another; use upper-case letters, \
         digits and _",
    )
}

/// A refusal of a write the credentials are not allowed, told as such: the read side's hint
/// ("may not read") would mislead.
pub(crate) fn write_refused(error: SourceError, store: &str, permission: &str) -> SourceError {
    let status = match &error {
        SourceError::Http { status, .. }
        | SourceError::Service {
            status: Some(status),
            ..
        } => *status,
        _ => return error,
    };
    if !matches!(status, 401 | 403) {
        return error;
    }
    SourceError::Config {
        problem: format!(
            "{store} refused the write (HTTP {status}): the credentials lack the {permission} \
             permission"
        ),
    }
}

/// Replaces (or creates) `path` with `content` atomically, mode 0600, durably: a temporary file
/// in the same directory renamed over it, so a reader or an interruption sees the old file or
/// the new one, never half of one.
pub(crate) fn replace_file(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".secretrun-write-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    // Again, so no umask widens it.
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    temp.write_all(content)?;
    temp.as_file().sync_all()?;
    // On failure the temporary file is removed when the error is dropped.
    temp.persist(path).map_err(|error| error.error)?;
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_that_picks_one_key_is_refused_with_the_kinds_reason() {
        let keyed = SourceSpec::parse("vault:secret/app#password").unwrap();
        assert!(matches!(
            refuse_key(&keyed, "why"),
            Err(SpecProblem::Unwritable("why"))
        ));
        assert!(refuse_key(&SourceSpec::parse("vault:secret/app").unwrap(), "why").is_ok());
    }

    #[test]
    fn prefixed_names_lose_the_prefix_and_must_read_back_as_themselves() {
        let name = |text: &str| EnvName::new(text).unwrap();
        assert_eq!(prefixed_own(&name("APP_DB_HOST"), "APP_"), Ok("DB_HOST"));
        assert_eq!(prefixed_own(&name("DB_HOST"), ""), Ok("DB_HOST"));
        assert!(prefixed_own(&name("DB_HOST"), "APP_").is_err());
        assert!(prefixed_own(&name("APP_"), "APP_").is_err());
        assert!(prefixed_own(&name("APP_db_host"), "APP_").is_err());
        assert_eq!(unprefixed(&name("APP_DB_HOST"), "APP_"), "DB_HOST");
        assert_eq!(unprefixed(&name("DB_HOST"), "APP_"), "DB_HOST");
    }

    #[test]
    fn a_name_is_written_under_the_key_it_is_read_from() {
        let object: Map<String, Value> =
            serde_json::from_str(r#"{"client-id": "a", "other": "b"}"#).unwrap();
        assert_eq!(key_for(&object, "CLIENT_ID"), "client-id");
        assert_eq!(key_for(&object, "NEW_NAME"), "NEW_NAME");
    }

    #[test]
    fn only_401_and_403_are_told_as_a_refused_write() {
        let http = |status| SourceError::Http {
            status,
            retry_after: None,
        };
        let refused = write_refused(http(403), "Store (x)", "write").to_string();
        assert!(
            refused.contains("Store (x) refused the write (HTTP 403)"),
            "{refused}"
        );
        assert!(refused.contains("lack the write permission"), "{refused}");
        assert!(matches!(
            write_refused(http(500), "Store (x)", "write"),
            SourceError::Http { status: 500, .. }
        ));
    }
}
