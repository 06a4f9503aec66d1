//! `vault:PATH`, `vault:FOLDER/`: secrets from the KV secrets engine (version 1 or 2) of
//! HashiCorp Vault or OpenBao, read the way `vault kv get` reads them.
//!
//! Spec: `vault:LOCATION[?OPTION&...][#FIELD]`. The location starts with the mount:
//! - `secret/stream-daemon/twitch`: one secret; each of its keys becomes a variable, upper-cased
//!   with anything outside `[A-Za-z0-9_]` turned into `_` (`client-id` → `CLIENT_ID`), values
//!   that are not strings as compact JSON. Which part is the mount, and whether it is KV v1 or
//!   v2, is asked of the server (`sys/internal/ui/mounts/PATH`, as `vault kv` does; any token
//!   that may use the path may call it, unlike `sys/mounts`), once per mount and run.
//! - `secret/data/stream-daemon/twitch`: the same in the KV v2 API form. In a KV v2 mount a first
//!   segment `data` or `metadata` after the mount is always taken as that API form and dropped,
//!   so a secret whose own path starts with `data/` is written `secret/data/data/...`.
//! - `kv1/app/db`: a KV v1 secret, the path as it is.
//! - `secret/stream-daemon/` (a trailing `/` makes a folder): every secret directly in the folder,
//!   listed (LIST on `secret/metadata/stream-daemon` in KV v2, on the path in KV v1) and read in
//!   sorted path order, so of two secrets with the same key the later path wins. Sub-folders are
//!   skipped unless `recursive`. `secret/` reads a whole mount. A listed KV v2 secret whose
//!   latest version is deleted is skipped; a folder that does not exist is "not found".
//!
//! `#FIELD` keeps one key of a secret: `vault:secret/app#client-id` yields `CLIENT_ID` only (named
//! like any key, with the prefix); a missing key is an error. Not with a folder.
//!
//! Options:
//! - `prefix=TEXT`: put before every name (`prefix=TWITCH_` → `TWITCH_CLIENT_ID`).
//! - `version=N`: version N of a KV v2 secret (not with a folder or KV v1).
//! - `recursive`: with a folder, also every sub-folder, at any depth.
//! - `auth=token` (default), `auth=approle` or `auth=kubernetes`:
//!   - approle: `role-id=ID` (default `$VAULT_ROLE_ID`), `secret-id-file=PATH` (default
//!     `$VAULT_SECRET_ID_FILE`), `approle-mount=PATH` (default `approle`).
//!   - kubernetes: `role=NAME` (required), `jwt-file=PATH` (default the pod's service account
//!     token, `/var/run/secrets/kubernetes.io/serviceaccount/token`), `kubernetes-mount=PATH`
//!     (default `kubernetes`).
//!
//!   A secret id is only ever read from a file: specs are printed in errors and by `show`.
//!
//! Environment, read from secretrun's environment as the `vault` CLI reads it:
//! - `VAULT_ADDR` (required): the server, without a path; plain `http://` only to a loopback
//!   host unless `--allow-insecure-http`.
//! - with token auth, the token is the first found of `VAULT_TOKEN`; `VAULT_TOKEN_FILE` (a file
//!   holding it, one trailing newline removed; not a `vault` CLI variable); `~/.vault-token`
//!   (`$HOME`, where `vault login` writes it).
//! - `VAULT_NAMESPACE`: sent with every request, logins included.
//! - `VAULT_CACERT`: a PEM file of CA certificates trusted besides the system's (or, without a
//!   system bundle, the embedded) roots;
//!   `VAULT_SKIP_VERIFY=true`: no certificate check at all (warned about).
//!
//! `VAULT_CAPATH`, client certificates and token helpers are not supported.
//!
//! Logins: every vault source of a run with the same auth settings (`auth=` and its options)
//! shares one client, so ten sources are one AppRole login; sources with different settings each
//! log in once with their own, so nothing has to agree across sources. Tokens are not renewed: a
//! run lasts seconds. Kept from the child unless `--keep-config-vars`: `VAULT_TOKEN` and
//! `VAULT_TOKEN_FILE` (token auth), `VAULT_ROLE_ID` and `VAULT_SECRET_ID_FILE` (AppRole). The
//! address, namespace and CA settings are not credentials and pass through.
//!
//! Errors name paths and statuses, never Vault's own error text or a response body: a missing
//! secret is `not found: secret 'secret/app/x'`, a refusal `HTTP 403 (permission denied: ...)`.
//! vaultrs' own logging is muted for the same reason (it logs every API error at ERROR level).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::Url;
use rustify::endpoint::Endpoint;
use rustls::pki_types::{pem::PemObject as _, CertificateDer};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};
use tracing::subscriber::NoSubscriber;
use vaultrs::api::auth::approle::requests::LoginWithApproleRequest;
use vaultrs::api::auth::kubernetes::requests::LoginWithKubernetesRequest;
use vaultrs::api::kv1::requests::{GetSecretRequest, ListSecretRequest};
use vaultrs::api::kv1::responses::{GetSecretResponse, ListSecretResponse};
use vaultrs::api::kv2::requests::{
    ListSecretsRequest, ReadSecretMetadataRequest, ReadSecretRequest,
};
use vaultrs::api::kv2::responses::{
    ListSecretsResponse, ReadSecretMetadataResponse, ReadSecretResponse,
};
use vaultrs::api::{AuthInfo, EndpointMiddleware, EndpointResult};
use vaultrs::client::{Client as _, VaultClient, VaultClientSettingsBuilder};

use super::spec::{SourceKind, SourceSpec};

mod location;
use location::{parse_location, relative_path, valid_segment, Location};

mod auth;
use crate::environment::ParentEnv;
use crate::error::{SourceError, SpecProblem};
use auth::{checked_token, env_text, read_secret_file, refused, token_from_env, Auth};

pub(crate) mod write;

use super::{
    http, listing, lock, naming, tls_roots, trim_one_newline, unconditional, ConditionalFuture,
    Context, Entries, FetchFuture, Fetched, Provider,
};

/// Where Kubernetes mounts a pod's service account token.
const DEFAULT_JWT_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

#[derive(Debug)]
pub struct Vault {
    context: Arc<Context>,
    location: Location,
    field: Option<String>,
    prefix: String,
    version: Option<u64>,
    recursive: bool,
    auth: Auth,
}

impl Vault {
    pub fn from_spec(spec: &mut SourceSpec, context: Arc<Context>) -> Result<Self, SpecProblem> {
        let prefix = spec.take_value("prefix")?.unwrap_or_default();
        let version = spec
            .take_value("version")?
            .map(|text| parse_version(&text))
            .transpose()?;
        let recursive = spec.take_flag("recursive")?;
        let auth = Auth::from_spec(spec, &context.env)?;
        let folder = spec.location.ends_with('/');
        // A field of a folder would be ambiguous (which secret's?), so '#' is refused there.
        spec.finish(!folder)?;
        if folder && version.is_some() {
            return Err(SpecProblem::BadOptionValue {
                option: "version".into(),
                expected: "a secret, not a folder ending in '/'",
            });
        }
        if !folder && recursive {
            return Err(SpecProblem::BadOptionValue {
                option: "recursive".into(),
                expected: "a folder location ending in '/'",
            });
        }
        Ok(Self {
            location: parse_location(&spec.location).map_err(SpecProblem::BadLocation)?,
            field: spec.key.clone(),
            prefix,
            version,
            recursive,
            auth,
            context,
        })
    }

    /// Reads the source; a single KV v2 secret whose version is still `validator` (asked of its
    /// metadata, which holds no value) is not read again.
    async fn read(&self, validator: Option<String>) -> Result<Fetched, SourceError> {
        let location = &self.location;
        let shared = self
            .context
            .vault
            .get_or_try_init(|| async { SharedClient::new(&self.context) })
            .await?;
        let client = shared.client(&self.auth, &self.context).await?;
        let mount = shared
            .mount_for(&client, &location.path, &self.context)
            .await?;
        let relative = relative_path(location, &mount)?;
        let reader = Reader {
            context: &self.context,
            client: &client,
            mount: &mount,
        };
        if !location.folder {
            if let Some(validator) = validator {
                let current = reader.current_version(&relative, self.version).await?;
                if current.is_some_and(|version| version.to_string() == validator) {
                    return Ok(Fetched::Unchanged);
                }
            }
            let (secret, version) = reader.read(&relative, self.version).await?;
            return Ok(Fetched::Entries {
                entries: naming::expand_object(&secret, &self.prefix, self.field.as_deref())?,
                validator: version.map(|version| version.to_string()),
            });
        }

        let paths = reader.list_tree(&relative, self.recursive).await?;
        tracing::debug!(
            folder = %mount.display(&relative),
            secrets = paths.len(),
            "vault folder listed"
        );
        let reader = &reader;
        // Owned paths: a closure over borrowed ones is not `Send` enough for the fetch future.
        let entries = listing::read_each(paths, |path| async move {
            match reader.read_listed(&path).await? {
                Some(secret) => naming::expand_object(&secret, &self.prefix, None),
                None => Ok(Entries::new()),
            }
        })
        .await?;
        // A folder's versions would cost a metadata request per secret: no cheaper than reading.
        Ok(Fetched::Entries {
            entries,
            validator: None,
        })
    }
}

impl Provider for Vault {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(unconditional(self.read(None)))
    }

    fn fetch_if_changed(&self, validator: Option<String>) -> ConditionalFuture<'_> {
        Box::pin(self.read(validator))
    }

    /// The registry's credential variables are a token's two, then an AppRole's two; a
    /// Kubernetes login reads a file the child never gets.
    fn consumed(&self) -> &'static [&'static str] {
        let (token, approle) = SourceKind::Vault.credential_variables().split_at(2);
        match self.auth {
            Auth::Token => token,
            Auth::AppRole { .. } => approle,
            Auth::Kubernetes { .. } => &[],
        }
    }
}

fn parse_version(text: &str) -> Result<u64, SpecProblem> {
    text.parse::<u64>()
        .ok()
        .filter(|version| *version > 0)
        .ok_or_else(|| SpecProblem::BadOptionValue {
            option: "version".into(),
            expected: "a version number (1 or more)",
        })
}

/// What every vault source of a run shares: how to reach the server, one logged-in client per
/// auth setting, and the mounts looked up so far. Created on the first fetch; no I/O until then.
pub struct SharedClient {
    connection: Connection,
    logins: Mutex<HashMap<Auth, Arc<tokio::sync::OnceCell<Arc<VaultClient>>>>>,
    mounts: Mutex<Vec<Mount>>,
}

/// Names only: the clients hold tokens.
impl std::fmt::Debug for SharedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let logins: Vec<Auth> = lock(&self.logins).keys().cloned().collect();
        f.debug_struct("SharedClient")
            .field("connection", &self.connection)
            .field("logins", &logins)
            .field("mounts", &*lock(&self.mounts))
            .finish()
    }
}

impl SharedClient {
    fn new(context: &Context) -> Result<Self, SourceError> {
        Ok(Self {
            connection: Connection::from_env(context)?,
            logins: Mutex::default(),
            mounts: Mutex::default(),
        })
    }

    /// The client logged in with `auth`, logging in on first use. Sources fetched concurrently
    /// wait for the one login in progress; a failed login is tried again by the next source.
    async fn client(
        &self,
        auth: &Auth,
        context: &Context,
    ) -> Result<Arc<VaultClient>, SourceError> {
        let cell = lock(&self.logins).entry(auth.clone()).or_default().clone();
        cell.get_or_try_init(|| self.log_in(auth, context))
            .await
            .cloned()
    }

    async fn log_in(
        &self,
        auth: &Auth,
        context: &Context,
    ) -> Result<Arc<VaultClient>, SourceError> {
        let (mount, token) = match auth {
            Auth::Token => {
                let token = token_from_env(&context.env).await?;
                return Ok(Arc::new(self.connection.client(Some(&token))?));
            }
            Auth::AppRole {
                mount,
                role_id,
                secret_id_file,
            } => {
                let secret_id =
                    read_secret_file(secret_id_file, "the AppRole secret id file").await?;
                let client = self.connection.client(None)?;
                let login = LoginWithApproleRequest::builder()
                    .mount(mount)
                    .role_id(role_id)
                    .secret_id(secret_id.expose_secret())
                    .build()
                    .map_err(|_| unbuildable("AppRole login"))?;
                let info = login_with(context, &client, "Vault AppRole login", login)
                    .await
                    .map_err(|error| {
                        refused(
                            error,
                            format!("the AppRole login at auth/{mount}"),
                            "role-id and the secret id",
                        )
                    })?;
                (mount, info.client_token)
            }
            Auth::Kubernetes {
                mount,
                role,
                jwt_file,
            } => {
                let jwt =
                    read_secret_file(jwt_file, "the Kubernetes service account token file").await?;
                let client = self.connection.client(None)?;
                let login = LoginWithKubernetesRequest::builder()
                    .mount(mount)
                    .role(role)
                    .jwt(jwt.expose_secret())
                    .build()
                    .map_err(|_| unbuildable("Kubernetes login"))?;
                let info = login_with(context, &client, "Vault Kubernetes login", login)
                    .await
                    .map_err(|error| {
                        refused(
                            error,
                            format!("the Kubernetes login at auth/{mount} as role '{role}'"),
                            "the role and the service account token",
                        )
                    })?;
                (mount, info.client_token)
            }
        };
        let token = checked_token(SecretString::from(token), "the login's answer")?;
        tracing::debug!(mount = %mount, "logged in to Vault");
        Ok(Arc::new(self.connection.client(Some(&token))?))
    }

    /// The KV mount holding `path`, from this run's cache or the server. Vault refuses a mount
    /// inside another, so a cached mount that is a prefix of `path` is the right one.
    async fn mount_for(
        &self,
        client: &VaultClient,
        path: &str,
        context: &Context,
    ) -> Result<Mount, SourceError> {
        if let Some(mount) = cached_mount(&lock(&self.mounts), path) {
            return Ok(mount);
        }
        let mount = self.look_up_mount(client, path, context).await?;
        if !format!("{path}/").starts_with(&mount.path) {
            return Err(SourceError::BadResponse {
                problem: format!("Vault named the mount '{}' for '{path}'", mount.path),
            });
        }
        tracing::debug!(mount = %mount.path, kv2 = mount.kv2, "vault mount found");
        lock(&self.mounts).push(mount.clone());
        Ok(mount)
    }

    /// `GET sys/internal/ui/mounts/PATH`, which vaultrs does not wrap. Sent through the shared
    /// HTTP plumbing (retries, status and transport errors), but with the Vault client's own
    /// reqwest client: only that one trusts `VAULT_CACERT` (or skips verification).
    async fn look_up_mount(
        &self,
        client: &VaultClient,
        path: &str,
        context: &Context,
    ) -> Result<Mount, SourceError> {
        const REQUEST: &str = "Vault mount lookup";
        let mut url = self.connection.address.clone();
        url.path_segments_mut()
            .map_err(|_| SourceError::Config {
                problem: "VAULT_ADDR cannot take a path".into(),
            })?
            .clear()
            .extend(["v1", "sys", "internal", "ui", "mounts"])
            .extend(path.split('/'));
        let token = match client.settings().token.as_str() {
            "" => None,
            token => {
                let mut value = HeaderValue::from_str(token).map_err(|_| SourceError::Config {
                    problem: "the Vault token is not a valid header".into(),
                })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let response = http::send(context, REQUEST, |_| {
            let mut request = client
                .http
                .http
                .get(url.clone())
                .header("X-Vault-Request", "true");
            if let Some(token) = &token {
                request = request.header("X-Vault-Token", token.clone());
            }
            if let Some(namespace) = &self.connection.namespace {
                request = request.header("X-Vault-Namespace", namespace.as_str());
            }
            request
        })
        .await
        .map_err(|error| match error {
            // Vault answers 403 both to a token that may not use the path and for a path where
            // nothing is mounted; it cannot be told which from here.
            SourceError::Http { status: 403, .. } => SourceError::Config {
                problem: format!(
                    "HTTP 403 (permission denied) looking up the mount of '{path}': the token \
                     may be invalid or not allowed this path, or no secrets engine is mounted \
                     there"
                ),
            },
            other => other,
        })?;
        let answer: MountLookup = http::json(response, REQUEST).await?;
        Mount::from_lookup(answer.data)
    }
}

/// Where the server is and how to talk to it, from the parent environment.
#[derive(Debug)]
struct Connection {
    address: Url,
    namespace: Option<String>,
    /// `VAULT_CACERT`'s certificates, trusted besides the system's (or the embedded) roots.
    ca_certs: Vec<CertificateDer<'static>>,
    verify: bool,
    timeout: Duration,
}

impl Connection {
    fn from_env(context: &Context) -> Result<Self, SourceError> {
        let env = &context.env;
        let text = env_text(env, "VAULT_ADDR")?.ok_or_else(|| SourceError::Config {
            problem: "VAULT_ADDR is not set: give the Vault server's address, e.g. \
                      https://vault.example.com:8200"
                .into(),
        })?;
        let address = http::base_url(text, "VAULT_ADDR", context.settings.allow_insecure_http)?;
        // vaultrs puts `/v1` before the address's own path, so a path would be silently lost.
        if address.path() != "/" || address.query().is_some() || address.fragment().is_some() {
            return Err(SourceError::Config {
                problem: "VAULT_ADDR must be the server's address without a path, e.g. \
                          https://vault.example.com:8200"
                    .into(),
            });
        }
        let namespace = env_text(env, "VAULT_NAMESPACE")?.map(str::to_string);
        // vaultrs builds its header with `unwrap`: an unusable namespace would panic there.
        if namespace
            .as_deref()
            .is_some_and(|namespace| HeaderValue::from_str(namespace).is_err())
        {
            return Err(SourceError::Config {
                problem: "VAULT_NAMESPACE contains characters a header cannot hold".into(),
            });
        }
        let ca_certs = match env_text(env, "VAULT_CACERT")? {
            Some(path) => read_ca_file(Path::new(path))?,
            None => Vec::new(),
        };
        let verify = match env_text(env, "VAULT_SKIP_VERIFY")? {
            None => true,
            Some(text) => !parse_bool(text).ok_or_else(|| SourceError::Config {
                problem: "VAULT_SKIP_VERIFY must be true or false".into(),
            })?,
        };
        if !verify {
            tracing::warn!(
                "VAULT_SKIP_VERIFY is set: the Vault server's certificate is not checked"
            );
        }
        Ok(Self {
            address,
            namespace,
            ca_certs,
            verify,
            timeout: context.settings.request_timeout,
        })
    }

    /// A vaultrs client. Every setting is given: vaultrs' defaults read `std::env`, and
    /// secretrun reads the environment only through its `ParentEnv` snapshot.
    fn client(&self, token: Option<&SecretString>) -> Result<VaultClient, SourceError> {
        let settings = VaultClientSettingsBuilder::default()
            .address(self.address.as_str())
            .token(token.map(|token| token.expose_secret()).unwrap_or_default())
            .namespace(self.namespace.clone())
            // Trusted by the HTTP client set below instead.
            .ca_certs(Vec::new())
            .verify(self.verify)
            .identity(None)
            .timeout(Some(self.timeout))
            .build()
            .map_err(|_| SourceError::Config {
                problem: "cannot configure the Vault client".into(),
            })?;
        // Assembled here rather than by `VaultClient::new`, whose HTTP client trusts only the
        // system's CA bundle and cannot even be built without one (a FROM-scratch image).
        let middle = EndpointMiddleware {
            token: settings.token.clone(),
            version: format!("v{}", settings.version),
            wrap: None,
            namespace: settings.namespace.clone(),
        };
        let http =
            rustify::clients::reqwest::Client::new(settings.address.as_str(), self.http_client()?);
        Ok(VaultClient {
            http,
            middle,
            settings,
        })
    }

    /// The HTTP client vaultrs would build, trusting the roots every provider trusts.
    fn http_client(&self) -> Result<reqwest::Client, SourceError> {
        let builder = reqwest::Client::builder().timeout(self.timeout);
        let builder = if self.verify {
            builder.tls_backend_preconfigured(tls_roots::reqwest_tls(self.ca_certs.clone()))
        } else {
            builder.tls_danger_accept_invalid_certs(true)
        };
        builder.build().map_err(|_| SourceError::Config {
            problem: "cannot configure the Vault client".into(),
        })
    }
}

/// `VAULT_CACERT`'s certificates. A file without any, or with one that cannot be a CA, is
/// refused here: the failure would otherwise show only later, as an unknown issuer.
fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, SourceError> {
    let pem = std::fs::read(path).map_err(|source| SourceError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let certificates = CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>();
    match certificates {
        Ok(certificates) if !certificates.is_empty() => {
            if certificates.iter().all(tls_roots::is_usable_root) {
                Ok(certificates)
            } else {
                Err(SourceError::Config {
                    problem: format!(
                        "VAULT_CACERT: '{}' holds a certificate that cannot be a CA",
                        path.display()
                    ),
                })
            }
        }
        _ => Err(SourceError::Config {
            problem: format!(
                "VAULT_CACERT: '{}' holds no PEM certificate",
                path.display()
            ),
        }),
    }
}

/// `VAULT_SKIP_VERIFY` as the `vault` CLI reads it (Go's `strconv.ParseBool`).
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// A KV mount as `sys/internal/ui/mounts` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mount {
    /// With its trailing slash, as Vault writes it: `secret/`.
    path: String,
    kv2: bool,
}

#[derive(Deserialize)]
pub(super) struct MountLookup {
    pub(super) data: MountData,
}

#[derive(Deserialize)]
pub(super) struct MountData {
    path: String,
    #[serde(rename = "type")]
    engine: String,
    #[serde(default)]
    options: Option<Map<String, Value>>,
}

/// Secrets engines Vault and OpenBao ship besides KV, named in the error for a mount of one.
const OTHER_ENGINES: &[&str] = &[
    "cubbyhole",
    "transit",
    "pki",
    "database",
    "ssh",
    "totp",
    "aws",
    "azure",
    "gcp",
    "kubernetes",
    "ldap",
    "rabbitmq",
    "consul",
    "nomad",
    "identity",
    "system",
];

impl Mount {
    pub(super) fn from_lookup(data: MountData) -> Result<Self, SourceError> {
        let version = data
            .options
            .as_ref()
            .and_then(|options| options.get("version"))
            .and_then(Value::as_str);
        let kv2 = match (data.engine.as_str(), version) {
            ("kv", Some("2")) => true,
            // KV v1 was once called `generic`, and a KV mount without a version is version 1.
            ("kv", None | Some("1")) | ("generic", _) => false,
            // The mount's path, type and version are the server's text, so an error names
            // them only when they are words Vault itself uses, never whatever was answered.
            ("kv", Some(_)) => {
                return Err(SourceError::BadResponse {
                    problem: "the KV mount has a version other than 1 or 2".into(),
                })
            }
            (engine, _) => {
                let engine = OTHER_ENGINES
                    .iter()
                    .find(|known| **known == engine)
                    .map_or_else(|| "not a KV".to_string(), |known| format!("a {known}"));
                return Err(SourceError::Config {
                    problem: format!(
                        "the mount holding this path is {engine} secrets engine; vault sources \
                         read only KV (version 1 or 2)"
                    ),
                });
            }
        };
        let mut path = data.path;
        if !path.ends_with('/') {
            path.push('/');
        }
        Ok(Self { path, kv2 })
    }

    /// The mount's name as vaultrs takes it.
    fn name(&self) -> &str {
        self.path.trim_end_matches('/')
    }

    /// A secret's logical path, for messages: `secret/app/db`.
    fn display(&self, relative: &str) -> String {
        format!("{}{relative}", self.path)
    }
}

/// The longest cached mount that `path` is in.
fn cached_mount(mounts: &[Mount], path: &str) -> Option<Mount> {
    let path = format!("{path}/");
    mounts
        .iter()
        .filter(|mount| path.starts_with(&mount.path))
        .max_by_key(|mount| mount.path.len())
        .cloned()
}

/// KV reads and lists with one logged-in client, in one mount.
struct Reader<'a> {
    context: &'a Context,
    client: &'a VaultClient,
    mount: &'a Mount,
}

impl Reader<'_> {
    /// One secret, with its KV v2 version; a missing one (or a missing version) is "not found".
    async fn read(
        &self,
        relative: &str,
        version: Option<u64>,
    ) -> Result<(Map<String, Value>, Option<u64>), SourceError> {
        self.read_optional(relative, version)
            .await?
            .ok_or_else(|| SourceError::NotFound {
                what: match version {
                    Some(version) => format!(
                        "version {version} of secret '{}'",
                        self.mount.display(relative)
                    ),
                    None => format!("secret '{}'", self.mount.display(relative)),
                },
            })
    }

    /// A secret a listing named: gone by now, or its latest version deleted (KV v2 lists those
    /// too), it is skipped.
    async fn read_listed(&self, relative: &str) -> Result<Option<Map<String, Value>>, SourceError> {
        let secret = self
            .read_optional(relative, None)
            .await?
            .map(|(secret, _)| secret);
        if secret.is_none() {
            tracing::debug!(
                secret = %self.mount.display(relative),
                "listed secret skipped: no current version"
            );
        }
        Ok(secret)
    }

    /// The version a KV v2 secret's reader gets now (`pinned`, if given), unless it is deleted;
    /// `None` when that cannot be told (KV v1, no permission on the metadata, ...). A failure
    /// worth waiting out is the source's failure, not a reason to try reading the secret with
    /// a second retry budget.
    async fn current_version(
        &self,
        relative: &str,
        pinned: Option<u64>,
    ) -> Result<Option<u64>, SourceError> {
        if !self.mount.kv2 {
            return Ok(None);
        }
        if pinned.is_some() {
            return Ok(pinned);
        }
        let request = ReadSecretMetadataRequest::builder()
            .mount(self.mount.name())
            .path(relative)
            .build()
            .map_err(|_| unbuildable("metadata read"))?;
        let metadata: ReadSecretMetadataResponse =
            match self.exec_data("Vault metadata read", request).await {
                Ok(metadata) => metadata,
                Err(error) if error.is_retryable() => return Err(error),
                Err(error) => {
                    tracing::debug!(%error, "no metadata; reading the secret");
                    return Ok(None);
                }
            };
        let current = metadata.current_version;
        let live = metadata
            .versions
            .get(&current.to_string())
            .is_some_and(|version| version.deletion_time.is_empty() && !version.destroyed);
        Ok(live.then_some(current))
    }

    async fn read_optional(
        &self,
        relative: &str,
        version: Option<u64>,
    ) -> Result<Option<(Map<String, Value>, Option<u64>)>, SourceError> {
        let mount = self.mount.name();
        let object = |data: Value| match data {
            Value::Object(secret) => Ok(secret),
            _ => Err(not_kv("read")),
        };
        let result = match (self.mount.kv2, version) {
            (false, Some(_)) => {
                return Err(SourceError::Config {
                    problem: format!(
                        "version= needs KV version 2, and '{}' is KV version 1",
                        self.mount.path
                    ),
                })
            }
            (false, None) => {
                let request = GetSecretRequest::builder()
                    .mount(mount)
                    .path(relative)
                    .build()
                    .map_err(|_| unbuildable("read"))?;
                exec::<_, GetSecretResponse>(self.context, self.client, "Vault read", request)
                    .await
                    .and_then(|response| Ok((object(response.data)?, None)))
            }
            (true, version) => {
                // The raw request, for the version the response names beside the data.
                let request = ReadSecretRequest {
                    mount: mount.to_string(),
                    path: relative.to_string(),
                    version,
                };
                self.exec_data::<_, ReadSecretResponse>("Vault read", request)
                    .await
                    .and_then(|response| {
                        Ok((object(response.data)?, Some(response.metadata.version)))
                    })
            }
        };
        found(result)
    }

    /// The paths of the secrets in `folder` (relative to the mount), and in its sub-folders when
    /// `recursive`, sorted.
    async fn list_tree(&self, folder: &str, recursive: bool) -> Result<Vec<String>, SourceError> {
        let mut pending = vec![folder.to_string()];
        let mut secrets = Vec::new();
        while let Some(current) = pending.pop() {
            let Some(keys) = self.list(&current).await? else {
                if current == folder {
                    return Err(SourceError::NotFound {
                        what: format!(
                            "secrets under '{}/'",
                            self.mount.display(folder).trim_end_matches('/')
                        ),
                    });
                }
                // A sub-folder emptied since its parent was listed.
                continue;
            };
            let base = if current.is_empty() {
                String::new()
            } else {
                format!("{current}/")
            };
            for key in keys {
                let (name, is_folder) = match key.strip_suffix('/') {
                    Some(name) => (name, true),
                    None => (key.as_str(), false),
                };
                // A key is one path segment; anything else would make us read another path.
                if !valid_segment(name) || name.contains('/') {
                    return Err(SourceError::BadResponse {
                        problem: format!(
                            "the listing of '{}' holds a key that is not a path segment",
                            self.mount.display(&current)
                        ),
                    });
                }
                match (is_folder, recursive) {
                    (true, true) => pending.push(format!("{base}{name}")),
                    (true, false) => {}
                    (false, _) => secrets.push(format!("{base}{name}")),
                }
            }
        }
        secrets.sort();
        Ok(secrets)
    }

    async fn list(&self, folder: &str) -> Result<Option<Vec<String>>, SourceError> {
        let mount = self.mount.name();
        let result = if self.mount.kv2 {
            let request = ListSecretsRequest::builder()
                .mount(mount)
                .path(folder)
                .build()
                .map_err(|_| unbuildable("list"))?;
            self.exec_data::<_, ListSecretsResponse>("Vault list", request)
                .await
                .map(|response| response.keys)
        } else {
            let request = ListSecretRequest::builder()
                .mount(mount)
                .path(folder)
                .build()
                .map_err(|_| unbuildable("list"))?;
            exec::<_, ListSecretResponse>(self.context, self.client, "Vault list", request)
                .await
                .map(|response| response.data.keys)
        };
        found(result)
    }

    /// [`exec`] of a request whose answer is in the `data` of Vault's envelope.
    async fn exec_data<E, T>(&self, what: &'static str, request: E) -> Result<T, SourceError>
    where
        E: Endpoint,
        T: DeserializeOwned,
    {
        exec::<_, EndpointResult<T>>(self.context, self.client, what, request)
            .await?
            .data
            .ok_or_else(|| SourceError::BadResponse {
                problem: format!("the {what} response has no data"),
            })
    }
}

/// A 404 as `None`: whether that is an error depends on the caller.
fn found<T>(result: Result<T, SourceError>) -> Result<Option<T>, SourceError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(SourceError::Http { status: 404, .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

fn not_kv(what: &str) -> SourceError {
    SourceError::BadResponse {
        problem: format!("the Vault {what} response is not a KV secret"),
    }
}

/// One Vault API request: built by vaultrs (path, query, body, and the token and namespace
/// headers of `client`), sent through the shared HTTP plumbing with the Vault client's own
/// reqwest client (the one that trusts `VAULT_CACERT`). vaultrs' own sending would drop a 429's
/// `Retry-After`, which OpenBao's rate-limit quotas send and the shared retries honour. The
/// answer is read as `T`: Vault's envelope, or KV v1's bare answer.
async fn exec<E, T>(
    context: &Context,
    client: &VaultClient,
    what: &'static str,
    request: E,
) -> Result<T, SourceError>
where
    E: Endpoint,
    T: DeserializeOwned,
{
    http::json(send(context, client, what, request).await?, what).await
}

/// [`exec`] without reading the answer: a write's success may have no body.
async fn send<E: Endpoint>(
    context: &Context,
    client: &VaultClient,
    what: &'static str,
    request: E,
) -> Result<reqwest::Response, SourceError> {
    let built = quietly(|| {
        request
            .with_middleware(&client.middle)
            .request(&client.http.base)
    })
    .map_err(|_| SourceError::Config {
        problem: format!("cannot build the {what} request"),
    })?;
    let (parts, body) = built.into_parts();
    let url = Url::parse(&parts.uri.to_string()).map_err(|_| SourceError::Config {
        problem: format!("cannot build the {what} request"),
    })?;
    let mut headers = parts.headers;
    if let Some(token) = headers.get_mut("X-Vault-Token") {
        token.set_sensitive(true);
    }
    http::send(context, what, |_| {
        client
            .http
            .http
            .request(parts.method.clone(), url.clone())
            .headers(headers.clone())
            .body(body.clone())
    })
    .await
}

/// A login: the token is in the `auth` of Vault's envelope.
async fn login_with<E: Endpoint>(
    context: &Context,
    client: &VaultClient,
    what: &'static str,
    request: E,
) -> Result<AuthInfo, SourceError> {
    exec::<_, EndpointResult<()>>(context, client, what, request)
        .await?
        .auth
        .ok_or_else(|| SourceError::BadResponse {
            problem: format!("the {what} response has no auth"),
        })
}

/// vaultrs' request builders fail only on a missing field, which the code always sets.
fn unbuildable(what: &str) -> SourceError {
    SourceError::Config {
        problem: format!("cannot build the Vault {what} request"),
    }
}

/// vaultrs logs every API error at ERROR level, with Vault's error strings, whatever secretrun's
/// verbosity; our own error says what failed, once.
fn quietly<T>(work: impl FnOnce() -> T) -> T {
    tracing::subscriber::with_default(NoSubscriber::default(), work)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(text: &str) -> Location {
        parse_location(text).unwrap()
    }

    fn kv(path: &str, kv2: bool) -> Mount {
        Mount {
            path: path.into(),
            kv2,
        }
    }

    fn context(env: &[(&str, &str)]) -> Arc<Context> {
        Arc::new(Context::new(
            ParentEnv::from_pairs(env.iter().copied()),
            Default::default(),
        ))
    }

    fn build(text: &str, env: &[(&str, &str)]) -> Result<Vault, SpecProblem> {
        Vault::from_spec(&mut SourceSpec::parse(text).unwrap(), context(env))
    }

    fn bad_option(text: &str) -> String {
        match build(text, &[]) {
            Err(SpecProblem::BadOptionValue { option, .. }) => option,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn a_trailing_slash_makes_a_folder() {
        assert_eq!(
            location("secret/stream-daemon/twitch"),
            Location {
                path: "secret/stream-daemon/twitch".into(),
                folder: false
            }
        );
        assert_eq!(
            location("secret/stream-daemon/"),
            Location {
                path: "secret/stream-daemon".into(),
                folder: true
            }
        );
        assert_eq!(
            location("secret/"),
            Location {
                path: "secret".into(),
                folder: true
            }
        );
    }

    #[test]
    fn paths_the_url_would_change_are_refused() {
        for text in [
            "/secret/a",
            "secret//a",
            "secret/../sys/a",
            "secret/./a",
            "secret/a//",
            "/",
        ] {
            let problem = parse_location(text).unwrap_err();
            assert!(problem.contains("is not a Vault path"), "{text}: {problem}");
        }
    }

    #[test]
    fn kv2_paths_lose_the_mount_and_the_api_segment() {
        let v2 = kv("secret/", true);
        let rel = |text| relative_path(&location(text), &v2).unwrap();
        assert_eq!(rel("secret/stream-daemon/twitch"), "stream-daemon/twitch");
        assert_eq!(
            rel("secret/data/stream-daemon/twitch"),
            "stream-daemon/twitch"
        );
        assert_eq!(rel("secret/data/data/x"), "data/x");
        assert_eq!(rel("secret/metadata/app/"), "app");
        assert_eq!(rel("secret/stream-daemon/"), "stream-daemon");
        assert_eq!(rel("secret/"), "");
        assert_eq!(rel("secret/data/"), "");
        assert_eq!(rel("secret/database/x"), "database/x");
    }

    #[test]
    fn kv1_paths_keep_everything_after_the_mount() {
        let v1 = kv("kv1/", false);
        let rel = |text| relative_path(&location(text), &v1).unwrap();
        assert_eq!(rel("kv1/app/db"), "app/db");
        assert_eq!(rel("kv1/data/app"), "data/app");
        assert_eq!(rel("kv1/"), "");
        let nested = kv("team/kv/", false);
        assert_eq!(
            relative_path(&location("team/kv/a/b"), &nested).unwrap(),
            "a/b"
        );
    }

    #[test]
    fn a_mount_alone_is_not_a_secret() {
        let err = relative_path(&location("secret"), &kv("secret/", true)).unwrap_err();
        assert!(
            err.to_string()
                .contains("is the mount 'secret/', not a secret"),
            "{err}"
        );
        let err = relative_path(&location("secret/data"), &kv("secret/", true)).unwrap_err();
        assert!(matches!(err, SourceError::Config { .. }), "{err}");
    }

    #[test]
    fn the_longest_cached_mount_wins_and_only_on_segment_boundaries() {
        let mounts = [
            kv("secret/", true),
            kv("team/", false),
            kv("team/kv/", true),
        ];
        assert_eq!(cached_mount(&mounts, "secret/a/b"), Some(mounts[0].clone()));
        assert_eq!(cached_mount(&mounts, "secret"), Some(mounts[0].clone()));
        assert_eq!(cached_mount(&mounts, "team/kv/x"), Some(mounts[2].clone()));
        assert_eq!(cached_mount(&mounts, "secrets/a"), None);
        assert_eq!(cached_mount(&mounts, "kv1/a"), None);
    }

    #[test]
    fn mount_versions_from_the_lookup() {
        let lookup = |body: Value| {
            let data: MountData = serde_json::from_value(body).unwrap();
            Mount::from_lookup(data)
        };
        let v2 =
            lookup(serde_json::json!({"path":"secret/","type":"kv","options":{"version":"2"}}));
        assert_eq!(v2.unwrap(), kv("secret/", true));
        let v1 = lookup(serde_json::json!({"path":"kv1/","type":"kv","options":{"version":"1"}}));
        assert_eq!(v1.unwrap(), kv("kv1/", false));
        let bare = lookup(serde_json::json!({"path":"old/","type":"kv","options":null}));
        assert_eq!(bare.unwrap(), kv("old/", false));
        let other = lookup(serde_json::json!({"path":"cubbyhole/","type":"cubbyhole"}));
        assert!(other
            .unwrap_err()
            .to_string()
            .contains("a cubbyhole secrets engine"));
        // What the server answers is outside input: an engine or version Vault does not ship
        // is described, never quoted.
        let odd = lookup(serde_json::json!({"path":"p-marker/","type":"t-marker"}));
        let odd = odd.unwrap_err().to_string();
        assert!(odd.contains("not a KV secrets engine"), "{odd}");
        assert!(!odd.contains("marker"), "{odd}");
        let version = lookup(serde_json::json!({"path":"p-marker/","type":"kv",
            "options":{"version":"v-marker"}}));
        assert!(!version.unwrap_err().to_string().contains("marker"));
    }

    #[test]
    fn options_are_parsed() {
        let vault = build("vault:secret/app?prefix=TW_&version=3#client-id", &[]).unwrap();
        assert_eq!(vault.prefix, "TW_");
        assert_eq!(vault.version, Some(3));
        assert_eq!(vault.field.as_deref(), Some("client-id"));
        assert_eq!(vault.auth, Auth::Token);
        let folder = build("vault:secret/app/?recursive", &[]).unwrap();
        assert!(folder.recursive);
        assert!(folder.location.folder);
    }

    #[test]
    fn options_that_do_not_fit_are_refused() {
        assert_eq!(bad_option("vault:secret/app?version=0"), "version");
        assert_eq!(bad_option("vault:secret/app?version=latest"), "version");
        assert_eq!(bad_option("vault:secret/app/?version=2"), "version");
        assert_eq!(bad_option("vault:secret/app?recursive"), "recursive");
        assert_eq!(bad_option("vault:secret/app?auth=ldap"), "auth");
        assert_eq!(bad_option("vault:secret/app?role-id=x"), "role-id");
        assert_eq!(bad_option("vault:secret/app?auth=kubernetes"), "role");
        assert_eq!(
            bad_option("vault:secret/app?auth=kubernetes&role=r&secret-id-file=/f"),
            "secret-id-file"
        );
        assert_eq!(
            bad_option("vault:secret/app?auth=approle&secret-id-file=/f"),
            "role-id"
        );
        assert_eq!(
            bad_option("vault:secret/app?auth=approle&role-id=r"),
            "secret-id-file"
        );
        assert_eq!(bad_option("vault:secret/app?auth=kubernetes&role="), "role");
        assert_eq!(
            bad_option("vault:secret/app?auth=kubernetes&role=r&kubernetes-mount=a/../b"),
            "kubernetes-mount"
        );
        assert_eq!(
            build("vault:secret/app/#key", &[]).unwrap_err(),
            SpecProblem::KeyNotSupported
        );
        assert_eq!(
            build("vault:secret/app?bogus", &[]).unwrap_err(),
            SpecProblem::UnknownOption("bogus".into())
        );
    }

    #[test]
    fn auth_settings_with_defaults_and_env() {
        let approle = build(
            "vault:secret/app?auth=approle",
            &[
                ("VAULT_ROLE_ID", "rid"),
                ("VAULT_SECRET_ID_FILE", "/run/sid"),
            ],
        )
        .unwrap();
        assert_eq!(
            approle.auth,
            Auth::AppRole {
                mount: "approle".into(),
                role_id: "rid".into(),
                secret_id_file: "/run/sid".into()
            }
        );
        assert_eq!(
            approle.consumed(),
            ["VAULT_ROLE_ID", "VAULT_SECRET_ID_FILE"]
        );
        let k8s = build(
            "vault:secret/app?auth=kubernetes&role=web&kubernetes-mount=/k8s/",
            &[],
        )
        .unwrap();
        assert_eq!(
            k8s.auth,
            Auth::Kubernetes {
                mount: "k8s".into(),
                role: "web".into(),
                jwt_file: DEFAULT_JWT_FILE.into()
            }
        );
        assert!(k8s.consumed().is_empty());
        assert_eq!(
            build("vault:secret/app", &[]).unwrap().consumed(),
            ["VAULT_TOKEN", "VAULT_TOKEN_FILE"]
        );
    }

    #[test]
    fn a_bad_location_is_a_spec_problem() {
        let err = build("vault:secret//app", &[("VAULT_ADDR", "http://127.0.0.1:1")]).unwrap_err();
        assert!(
            matches!(&err, SpecProblem::BadLocation(problem) if problem.contains("is not a Vault path")),
            "{err}"
        );
    }

    #[test]
    fn skip_verify_reads_like_go() {
        assert_eq!(parse_bool("true"), Some(true));
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("F"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn the_address_is_checked() {
        let connection = |addr: &str| Connection::from_env(&context(&[("VAULT_ADDR", addr)]));
        assert!(connection("http://127.0.0.1:8200").is_ok());
        assert!(connection("https://vault.example.com/").is_ok());
        let err = connection("http://vault.example.com:8200").unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
        let err = connection("https://vault.example.com/vault").unwrap_err();
        assert!(err.to_string().contains("without a path"), "{err}");
        let err = Connection::from_env(&context(&[])).unwrap_err();
        assert!(err.to_string().contains("VAULT_ADDR is not set"), "{err}");
        let err = Connection::from_env(&context(&[
            ("VAULT_ADDR", "http://127.0.0.1:8200"),
            ("VAULT_SKIP_VERIFY", "maybe"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("VAULT_SKIP_VERIFY"), "{err}");
    }

    #[tokio::test]
    async fn token_sources_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").unwrap();
        std::fs::write(dir.path().join(".vault-token"), "from-home").unwrap();
        let home = dir.path().to_str().unwrap();
        let file = file.to_str().unwrap();
        let token = |env: &[(&str, &str)]| {
            let env = ParentEnv::from_pairs(env.iter().copied());
            async move {
                token_from_env(&env)
                    .await
                    .map(|token| token.expose_secret().to_string())
            }
        };
        let all = [
            ("VAULT_TOKEN", "from-env"),
            ("VAULT_TOKEN_FILE", file),
            ("HOME", home),
        ];
        assert_eq!(token(&all).await.unwrap(), "from-env");
        assert_eq!(token(&all[1..]).await.unwrap(), "from-file");
        assert_eq!(token(&all[2..]).await.unwrap(), "from-home");
        let err = token(&[("HOME", "/nonexistent")]).await.unwrap_err();
        assert!(err.to_string().contains("no Vault token"), "{err}");
        let err = token(&[("VAULT_TOKEN", "two words")]).await.unwrap_err();
        assert!(
            err.to_string().contains("VAULT_TOKEN contains spaces"),
            "{err}"
        );
        assert!(!err.to_string().contains("two words"));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let context = context(&[("VAULT_ADDR", "http://127.0.0.1:8200")]);
        let shared = SharedClient::new(&context).unwrap();
        let token = SecretString::from("s.super-secret-token");
        let client = shared.connection.client(Some(&token)).unwrap();
        let cell = tokio::sync::OnceCell::new_with(Some(Arc::new(client)));
        lock(&shared.logins).insert(Auth::Token, Arc::new(cell));
        let shown = format!("{shared:?}");
        assert!(shown.contains("Token"), "{shown}");
        assert!(!shown.contains("super-secret"), "{shown}");
    }
}
