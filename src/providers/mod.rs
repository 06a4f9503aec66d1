//! Providers: one folder per kind of source, all behind [`Provider`], each kind described by
//! its entry in [`registry`].
//!
//! A provider turns one [`SourceSpec`] into names and secret values. It knows nothing of ranks,
//! merging or processes, and does no I/O until [`Provider::fetch`] is awaited, so building a
//! plan stays cheap and a run that uses no cloud source never initialises a cloud SDK. What
//! several providers need (HTTP, retries, JSON expansion) lives once, in [`http`], [`retry`]
//! and [`naming`]; clients shared by several sources of one kind live in [`Context`].

pub mod answers;
mod aws;
mod aws_sm;
mod aws_ssm;
mod azure_kv;
mod dir;
mod doppler;
mod dotenv;
mod file;
mod gcp_sm;
pub(crate) mod http;
mod listing;
pub(crate) mod naming;
mod oauth;
pub(crate) mod registry;
pub mod retry;
pub mod spec;
mod tls_roots;
mod vault;
pub(crate) mod write;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::environment::ParentEnv;
use crate::error::{SourceError, SpecProblem};
use crate::secret::{EnvName, SecretValue};
use spec::SourceSpec;

pub(crate) use dir::trim_one_newline;

/// What one source yields, in the order it defines them; a later duplicate beats an earlier one.
pub type Entries = Vec<(EnvName, SecretValue)>;

pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Entries, SourceError>> + Send + 'a>>;

/// What a conditional fetch gives.
#[derive(Debug)]
pub enum Fetched {
    /// The entries, and the provider's version tag for them (an HTTP `ETag`), if it has one.
    Entries {
        entries: Entries,
        validator: Option<String>,
    },
    /// The tag sent still matches: the entries are the ones fetched with it, not downloaded again.
    Unchanged,
}

pub type ConditionalFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Fetched, SourceError>> + Send + 'a>>;

pub trait Provider: Send + Sync + std::fmt::Debug {
    /// Fetches every name this source defines.
    fn fetch(&self) -> FetchFuture<'_>;

    /// Fetches unless `validator`, a tag an earlier fetch of this source returned, still
    /// matches. Providers without version tags fetch every time.
    fn fetch_if_changed(&self, validator: Option<String>) -> ConditionalFuture<'_> {
        drop(validator);
        Box::pin(async {
            Ok(Fetched::Entries {
                entries: self.fetch().await?,
                validator: None,
            })
        })
    }

    /// Names of the parent's variables this source reads as its own credentials; they are kept
    /// from the child unless the user asks otherwise.
    fn consumed(&self) -> &'static [&'static str] {
        &[]
    }

    /// [`Provider::consumed`], for a provider whose credential names depend on its spec.
    fn consumed_names(&self) -> Vec<String> {
        self.consumed().iter().map(ToString::to_string).collect()
    }

    /// What is wrong with this source's settings, found without a request, that the store's
    /// own answer would not explain (`check` reports it as an error). No I/O beyond reading a
    /// credential file.
    fn advice(&self) -> Option<Advice> {
        None
    }
}

/// A source's settings cannot work, though nothing was fetched yet. The message names settings
/// and sources, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub message: String,
}

/// A short stable tag for `bytes` (SHA-256, base64): a version made of several, or a key that
/// must not hold a credential in the clear.
pub(crate) fn digest_text(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest.as_ref())
}

/// A provider's plain [`Provider::fetch`] when its reads go through its conditional one.
async fn unconditional(
    fetched: impl Future<Output = Result<Fetched, SourceError>>,
) -> Result<Entries, SourceError> {
    match fetched.await? {
        Fetched::Entries { entries, .. } => Ok(entries),
        Fetched::Unchanged => unreachable!("a fetch without a validator is never unchanged"),
    }
}

/// How remote fetches behave; the same for every provider.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Each request's limit.
    pub request_timeout: Duration,
    /// The limit for one source, retries included.
    pub deadline: Duration,
    pub retry: retry::RetryPolicy,
    /// Allow plain HTTP to non-loopback hosts.
    pub allow_insecure_http: bool,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(60),
            retry: retry::RetryPolicy::default(),
            allow_insecure_http: false,
        }
    }
}

/// What every provider of a run shares: the parent environment, the settings, and clients
/// created on first use (so an unused kind costs nothing).
#[derive(Debug, Default)]
pub struct Context {
    pub env: ParentEnv,
    pub settings: FetchSettings,
    http: OnceLock<reqwest::Client>,
    /// The SDK configuration and service clients shared by `aws-sm` and `aws-ssm` sources.
    pub(crate) aws: aws::Shared,
    pub(crate) vault: tokio::sync::OnceCell<vault::SharedClient>,
    pub(crate) azure: tokio::sync::OnceCell<azure_kv::SharedClient>,
    pub(crate) gcp: tokio::sync::OnceCell<gcp_sm::SharedClient>,
    /// Doppler downloads shared by the sources that read one config with one token.
    pub(crate) doppler: doppler::Downloads,
}

impl Context {
    pub fn new(env: ParentEnv, settings: FetchSettings) -> Self {
        Self {
            env,
            settings,
            ..Self::default()
        }
    }

    /// The run's reqwest client, built on first use.
    pub fn http_client(&self) -> Result<&reqwest::Client, SourceError> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("secretrun/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.settings.request_timeout)
            .tls_backend_preconfigured(tls_roots::reqwest_tls(Vec::new()))
            .build()
            .map_err(|_| SourceError::Config {
                problem: "cannot initialise the HTTP client".into(),
            })?;
        Ok(self.http.get_or_init(|| client))
    }
}

/// Builds the provider for `spec` as its kind's registry entry says, validating its options.
/// Pure: no I/O, no network.
pub fn build(
    mut spec: SourceSpec,
    context: &Arc<Context>,
) -> Result<Box<dyn Provider>, SpecProblem> {
    (spec.kind.store().build)(&mut spec, context)
}

/// Builds the writer for a `set`/`push` target `spec`, validating its options. Pure: no I/O.
pub fn writer(
    mut spec: SourceSpec,
    context: &Arc<Context>,
) -> Result<Box<dyn write::Writer>, SpecProblem> {
    (spec.kind.store().write)(&mut spec, context)
}

/// The most secretrun reads from one local file (a `.env` file, a secret file): far above any
/// real one, and a bound on memory when a path names `/dev/zero` or a pipe that never ends.
pub const MAX_LOCAL_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// `std::fs::read`, refusing a file larger than [`MAX_LOCAL_FILE_BYTES`].
pub(crate) fn read_capped(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    capped(path)?.read_to_end(&mut bytes)?;
    within_cap(bytes)
}

fn capped(path: &std::path::Path) -> std::io::Result<std::io::Take<std::fs::File>> {
    use std::io::Read;
    Ok(std::fs::File::open(path)?.take(MAX_LOCAL_FILE_BYTES + 1))
}

fn within_cap<T: AsRef<[u8]>>(content: T) -> std::io::Result<T> {
    if content.as_ref().len() as u64 > MAX_LOCAL_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "larger than {} MiB, the most secretrun reads from one file",
                MAX_LOCAL_FILE_BYTES >> 20
            ),
        ));
    }
    Ok(content)
}

/// Reads a local path: at once when it is a regular file or a directory (the usual case, and a
/// thread costs more than the read), otherwise (a FIFO, a device) on the blocking pool, where a
/// read that never ends cannot keep a signal from stopping secretrun.
async fn read_local<T: Send + 'static>(
    path: &std::path::Path,
    read: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    match std::fs::metadata(path) {
        Ok(metadata) if !(metadata.is_file() || metadata.is_dir()) => off_runtime(read).await,
        _ => read(),
    }
}

/// Runs a local file read on tokio's blocking pool: a read that hangs (a FIFO, a stale network
/// mount) must not stall the runtime, or a signal could not stop secretrun while it waits.
async fn off_runtime<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    tokio::task::spawn_blocking(read).await.unwrap_or_else(|_| {
        Err(SourceError::Config {
            problem: "the file reader stopped unexpectedly".into(),
        })
    })
}

/// Reads a credential file (a token, a key, a secret id) on the blocking pool, as
/// [`off_runtime`] says why.
pub(crate) async fn read_credential_file(path: &std::path::Path) -> Result<Vec<u8>, SourceError> {
    let path = path.to_path_buf();
    off_runtime(move || std::fs::read(&path).map_err(|source| SourceError::Read { path, source }))
        .await
}

/// Locks a mutex of a shared client. The data behind these locks is valid after any panic (plain
/// inserts), so poison is ignored.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Entries as plain text pairs, for tests to compare.
#[cfg(test)]
pub(crate) fn plain_entries(entries: Entries) -> Vec<(String, String)> {
    entries
        .into_iter()
        .map(|(name, value)| {
            let text = String::from_utf8(value.expose().to_vec()).expect("UTF-8 test values");
            (name.to_string(), text)
        })
        .collect()
}

/// Validates a name a source produced.
pub fn env_name(name: impl Into<String>) -> Result<EnvName, SourceError> {
    let name = name.into();
    EnvName::new(name.clone()).map_err(|problem| SourceError::InvalidName { name, problem })
}
