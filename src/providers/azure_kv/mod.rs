//! `azure-kv:`: secrets of an Azure Key Vault, read over its REST API (`api-version=7.4`) the way
//! the Azure SDK's `SecretClient` with `DefaultAzureCredential` reads them.
//!
//! ```text
//! azure-kv:NAME[/VERSION][?OPTIONS][#NAME]    one secret, e.g. azure-kv:CH-HOST
//! azure-kv:https://VAULT.vault.azure.net/secrets/NAME[/VERSION][?OPTIONS][#NAME]
//! azure-kv:PREFIX*[?OPTIONS]                  every enabled secret whose name starts with PREFIX
//! azure-kv:*[?OPTIONS]                        every enabled secret of the vault
//! ```
//!
//! The vault is the full URL's, else the `vault=` option, else `$AZURE_KEYVAULT_URL` (a URL such
//! as `https://NAME.vault.azure.net`, or a bare vault name meaning exactly that). A vault URL may
//! carry a path (a proxy), which requests keep.
//!
//! Names: a secret becomes one variable named after it, upper-cased with `-` turned into `_`
//! ([`naming::sanitize`]: `CH-HOST` → `CH_HOST`), or exactly `#NAME` when given. Options:
//! - `prefix=P`: put `P` before every name (`prefix=APP_` → `APP_CH_HOST`).
//! - `json`: the value is a JSON object, and each key becomes a variable instead
//!   ([`naming::expand_object`]: `{"client-id": ..}` → `CLIENT_ID`); `#KEY` then picks one key.
//!   A value that is not a JSON object is an error.
//! - `vault=URL|NAME`: the vault, when the location is not a full URL.
//!
//! Listings (`GET {vault}/secrets`, every page through `nextLink`) keep the enabled secrets whose
//! name starts with the prefix, compared without regard to case as Key Vault compares names, and
//! read them 8 at a time; the entries follow name order, so of two secrets defining one variable
//! (through `json`) the later name wins. A prefix matching nothing is "not found", as a typo must
//! not start the command without its secrets; an empty vault under `*` is no error. `#` is refused
//! there. A named secret that is missing is "not found", a disabled one an error saying so.
//!
//! Authentication follows `DefaultAzureCredential`'s order; the first one configured is used,
//! and its failure is final:
//! 1. client secret: `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` (+ `AZURE_TENANT_ID`);
//! 2. workload identity: `AZURE_FEDERATED_TOKEN_FILE` + `AZURE_CLIENT_ID` (+ `AZURE_TENANT_ID`),
//!    the file's token sent as a client assertion;
//! 3. managed identity, App Service style: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`;
//! 4. managed identity on a VM (IMDS), only when none of the above is configured: probed first
//!    with a 500 ms limit, and skipped when it does not answer or has no identity. The address is
//!    `http://169.254.169.254` unless `AZURE_POD_IDENTITY_AUTHORITY_HOST` (the Azure SDK's own
//!    override) names another; plain http is allowed to that exact address or to loopback only;
//! 5. the Azure CLI: `az account get-access-token --resource RESOURCE -o json` when `az` is on
//!    `PATH` (`--tenant` added when `AZURE_TENANT_ID` is set).
//!
//! Managed identities and the two Entra credentials use `AZURE_CLIENT_ID` as the user-assigned
//! identity's id when set. Entra tokens come from `$AZURE_AUTHORITY_HOST` (default
//! `https://login.microsoftonline.com`; set it for a sovereign cloud).
//!
//! The vault says itself which token it wants: the first request to a vault goes without one and
//! its `401` carries `WWW-Authenticate: Bearer authorization="…/{tenant}", resource="…"` (or
//! `scope="…"`). The resource (and the tenant, when `AZURE_TENANT_ID` is not set) is taken from
//! it, the token fetched, and the request repeated. Two guards, as in the Azure SDK: the resource
//! must be a parent domain of the vault's host (`vault.azure.net` for `x.vault.azure.net`), or a
//! vault URL pointing elsewhere could collect tokens for real vaults (waived for a loopback
//! vault, which only tests and local proxies use); and only the tenant is taken from the
//! challenge's authority, never its host, so a client secret only ever goes to the configured
//! authority. One challenge per vault and one token per tenant and resource serve every source of
//! a run ([`SharedClient`]); tokens are not refreshed, as a run lasts seconds.
//!
//! Plain `http://` to a vault, authority or `IDENTITY_ENDPOINT` other than loopback is refused
//! unless `--allow-insecure-http`. Errors name secrets, vaults and credentials, never a value, a
//! token or a client secret; `AZURE_CLIENT_SECRET` is kept from the child unless
//! `--keep-config-vars` (ids, tenant and URLs are no credentials and pass through).
//!
//! Azure has no installable emulator here: the tests run against `tests/servers/azure_stub.py`,
//! a stand-in serving the documented REST shapes of Key Vault, Entra ID's token endpoint and both
//! managed identity endpoints.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) mod write;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

use super::spec::{SourceKind, SourceSpec};

mod location;
use location::{parse_location, Location, VaultUrl, What};

mod auth;
use crate::environment::ParentEnv;
use crate::error::{SourceError, SpecProblem};
use crate::secret::SecretValue;
use auth::fetch_token;
pub(super) use auth::OAuthError;
use oauth::{Token, TokenCache};

use super::{
    env_name, http, listing, lock, naming, oauth, Context, Entries, FetchFuture, Provider,
};

const API_VERSION: &str = "7.4";
/// Key Vault's own maximum page size: the fewest round trips.
const PAGE_SIZE: &str = "25";

const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The instance metadata service, plain http by design (a link-local address, never routed).
const IMDS_ADDRESS: &str = "http://169.254.169.254";
/// Long enough for IMDS to refuse a request (it answers at once); short enough that a machine
/// outside Azure, where the address drops packets, loses little before the Azure CLI is tried.
const IMDS_PROBE_TIMEOUT: Duration = Duration::from_millis(500);

const GET: &str = "Azure Key Vault get secret";
const LIST: &str = "Azure Key Vault list secrets";

const CLIENT_SECRET: &str =
    "the Azure client secret credential (AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)";
const WORKLOAD_IDENTITY: &str =
    "the Azure workload identity credential (AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID)";
const APP_SERVICE: &str =
    "the Azure managed identity credential (IDENTITY_ENDPOINT, IDENTITY_HEADER)";
const IMDS: &str = "the Azure managed identity credential (instance metadata service)";
const AZURE_CLI: &str = "the Azure CLI credential (az account get-access-token)";

#[derive(Debug)]
pub struct AzureKv {
    context: Arc<Context>,
    location: Location,
    /// The `vault=` option.
    vault: Option<String>,
    prefix: String,
    json: bool,
    /// `#NAME`: the variable's name, or with `json` the key to keep.
    key: Option<String>,
}

impl AzureKv {
    pub fn from_spec(spec: &mut SourceSpec, context: Arc<Context>) -> Result<Self, SpecProblem> {
        let prefix = spec.take_value("prefix")?.unwrap_or_default();
        let json = spec.take_flag("json")?;
        let vault = match spec.take_value("vault")? {
            Some(value) if value.is_empty() => {
                return Err(SpecProblem::BadOptionValue {
                    option: "vault".into(),
                    expected: "a vault URL or name",
                })
            }
            value => value,
        };
        let location = parse_location(&spec.location);
        // `#` names one secret (or picks one key of it): a listing has many.
        let listing = matches!(
            location,
            Ok(Location {
                what: What::Listing { .. },
                ..
            })
        );
        spec.finish(!listing)?;
        if let (Ok(Location { vault: Some(_), .. }), Some(_)) = (&location, &vault) {
            return Err(SpecProblem::BadOptionValue {
                option: "vault".into(),
                expected: "no value: the location's URL names the vault",
            });
        }
        Ok(Self {
            context,
            location: location.map_err(SpecProblem::BadLocation)?,
            vault,
            prefix,
            json,
            key: spec.key.clone(),
        })
    }

    async fn read(&self) -> Result<Entries, SourceError> {
        let location = &self.location;
        let vault = self.vault_url(location)?;
        let shared = self
            .context
            .azure
            .get_or_init(|| async { SharedClient::default() })
            .await;
        let client = VaultClient {
            context: &self.context,
            shared,
            vault: &vault,
        };
        match &location.what {
            What::Secret { name, version } => {
                self.read_one(&client, name, version.as_deref()).await
            }
            What::Listing { prefix } => self.read_listing(&client, prefix).await,
        }
    }

    async fn read_one(
        &self,
        client: &VaultClient<'_>,
        name: &str,
        version: Option<&str>,
    ) -> Result<Entries, SourceError> {
        let vault = client.vault;
        match client.read(name, version).await? {
            Read::Value(value) => self.entries(name, value, self.key.as_deref()),
            Read::Missing => {
                let version = version
                    .map(|version| format!(" with version '{version}'"))
                    .unwrap_or_default();
                Err(SourceError::NotFound {
                    what: format!("no secret '{name}'{version} in vault {vault}"),
                })
            }
            Read::Disabled => Err(SourceError::Config {
                problem: format!("the secret '{name}' in vault {vault} is disabled"),
            }),
        }
    }

    async fn read_listing(
        &self,
        client: &VaultClient<'_>,
        prefix: &str,
    ) -> Result<Entries, SourceError> {
        let vault = client.vault;
        let names = client.list(prefix).await?;
        tracing::debug!(vault = %vault, prefix, secrets = names.len(), "azure-kv listed");
        if names.is_empty() && !prefix.is_empty() {
            return Err(SourceError::NotFound {
                what: format!("no enabled secret name starts with '{prefix}' in vault {vault}"),
            });
        }
        listing::read_each(names, |name| async move {
            match client.read(&name, None).await? {
                Read::Value(value) => self.entries(&name, value, None),
                // Deleted or disabled since the listing: as if it had not been listed.
                Read::Missing | Read::Disabled => {
                    tracing::debug!(secret = %name, "azure-kv secret gone since listed");
                    Ok(Entries::new())
                }
            }
        })
        .await
    }

    /// The vault of this source: the location's URL, else `vault=`, else `AZURE_KEYVAULT_URL`.
    fn vault_url(&self, location: &Location) -> Result<VaultUrl, SourceError> {
        let (text, setting) = match (&location.vault, &self.vault) {
            (Some(url), _) => (url.as_str(), "the secret URL"),
            (None, Some(option)) => (option.as_str(), "the source's vault option"),
            (None, None) => match self.context.env.get_str("AZURE_KEYVAULT_URL") {
                Some(url) => (url, "AZURE_KEYVAULT_URL"),
                None => {
                    return Err(SourceError::Config {
                        problem: "no Key Vault: set AZURE_KEYVAULT_URL (e.g. \
                                  https://NAME.vault.azure.net), add ?vault=URL to the source, or \
                                  give the secret's full URL"
                            .into(),
                    })
                }
            },
        };
        VaultUrl::parse(text, setting, self.context.settings.allow_insecure_http)
    }

    /// The variables one secret's value becomes.
    fn entries(
        &self,
        name: &str,
        value: SecretValue,
        pick: Option<&str>,
    ) -> Result<Entries, SourceError> {
        if !self.json {
            let shown = pick.map_or_else(|| naming::sanitize(name), str::to_string);
            return Ok(vec![(env_name(format!("{}{shown}", self.prefix))?, value)]);
        }
        listing::json_object_entries(name, &value, &self.prefix, pick)
    }
}

impl Provider for AzureKv {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.read())
    }

    /// Only the secret: ids, tenant and URLs name no credential, and the child may need them.
    fn consumed(&self) -> &'static [&'static str] {
        SourceKind::AzureKv.credential_variables()
    }
}

/// What several azure-kv sources of a run share: each vault's challenge, and the tokens.
#[derive(Default)]
pub struct SharedClient {
    /// Per vault URL, the challenge its first 401 carried. The async lock makes sources of one
    /// vault wait for the first one's unauthenticated request instead of each drawing a 401.
    challenges: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Challenge>>>>>,
    /// Per tenant and scope, the token: fetched by the first source that needs it, and again
    /// when it nears its expiry.
    tokens: Mutex<HashMap<TokenKey, Arc<TokenCache>>>,
}

/// A token's tenant (`""` when none is known) and scope.
type TokenKey = (String, String);

/// Vaults and scopes only: the tokens stay out.
impl std::fmt::Debug for SharedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let vaults: Vec<String> = lock(&self.challenges).keys().cloned().collect();
        let tokens: Vec<TokenKey> = lock(&self.tokens).keys().cloned().collect();
        f.debug_struct("SharedClient")
            .field("vaults", &vaults)
            .field("tokens", &tokens)
            .finish()
    }
}

impl SharedClient {
    fn challenge_slot(&self, vault: &VaultUrl) -> Arc<tokio::sync::Mutex<Option<Challenge>>> {
        lock(&self.challenges)
            .entry(vault.0.to_string())
            .or_default()
            .clone()
    }

    /// The token `challenge` asks for, fetched on first use.
    async fn bearer(
        &self,
        context: &Context,
        challenge: &Challenge,
    ) -> Result<Bearer, SourceError> {
        let tenant = context
            .env
            .get_str("AZURE_TENANT_ID")
            .map(str::to_string)
            .or_else(|| challenge.tenant.clone());
        let key = (tenant.clone().unwrap_or_default(), challenge.scope.clone());
        let cache = lock(&self.tokens).entry(key).or_default().clone();
        let token = cache
            .get(|| fetch_token(context, tenant.as_deref(), &challenge.scope))
            .await?;
        Bearer::new(&token)
    }
}

/// What a vault's `WWW-Authenticate` challenge asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Challenge {
    /// The OAuth scope, e.g. `https://vault.azure.net/.default`.
    scope: String,
    /// The tenant at the end of the challenge's `authorization` URL.
    tenant: Option<String>,
}

impl Challenge {
    /// The first `Bearer` challenge among `headers`' `WWW-Authenticate` values.
    fn from_headers(headers: &HeaderMap) -> Option<Self> {
        headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(Self::parse)
    }

    /// `Bearer authorization="https://login.microsoftonline.com/TENANT",
    /// resource="https://vault.azure.net"`, or with `scope=` (and `authorization_uri=`, the older
    /// spelling).
    fn parse(header: &str) -> Option<Self> {
        let (scheme, rest) = header.trim().split_once(char::is_whitespace)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = challenge_params(rest);
        let param = |names: &[&str]| {
            params
                .iter()
                .find(|(key, value)| names.contains(&key.as_str()) && !value.is_empty())
                .map(|(_, value)| value.as_str())
        };
        let scope = match param(&["scope"]) {
            Some(scope) => scope.to_string(),
            None => format!(
                "{}/.default",
                param(&["resource", "resource_id"])?.trim_end_matches('/')
            ),
        };
        let tenant = param(&["authorization", "authorization_uri"])
            .and_then(|authority| Url::parse(authority).ok())
            .and_then(|url| {
                url.path_segments()?
                    .rfind(|segment| !segment.is_empty())
                    .map(str::to_string)
            })
            .filter(|tenant| valid_tenant(tenant));
        Some(Self { scope, tenant })
    }
}

/// The resource a managed identity or the Azure CLI is asked a token for: they take the v1
/// `resource`, where Entra ID's v2 endpoint takes the scope `{resource}/.default`.
fn resource_of(scope: &str) -> &str {
    scope.strip_suffix("/.default").unwrap_or(scope)
}

/// `key="value", key=value, …` up to the next scheme (a key with a space in it).
fn challenge_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            break;
        }
        let after = after.trim_start();
        let value = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            rest = quoted.get(end + 1..).unwrap_or("");
            &quoted[..end]
        } else {
            let end = after.find(',').unwrap_or(after.len());
            rest = &after[end..];
            after[..end].trim()
        };
        params.push((key.to_ascii_lowercase(), value.to_string()));
    }
    params
}

/// A tenant id or domain, safe as a path segment: a challenge is the server's word, not ours.
fn valid_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= 256
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// One vault, read with the run's shared challenges and tokens.
struct VaultClient<'a> {
    context: &'a Context,
    shared: &'a SharedClient,
    vault: &'a VaultUrl,
}

/// What reading one secret found.
enum Read {
    Value(SecretValue),
    Missing,
    Disabled,
}

impl VaultClient<'_> {
    /// GETs `url` from the vault, authenticated through Key Vault's challenge. A 403 or 404 is
    /// returned for the caller to interpret; a 401 despite a token is an error.
    async fn get(&self, url: &Url, what: &'static str) -> Result<Response, SourceError> {
        let slot = self.shared.challenge_slot(self.vault);
        let mut known = slot.lock().await;
        let challenge = match known.clone() {
            Some(challenge) => challenge,
            None => {
                // The vault's first request goes without a token: its 401 names the tenant and
                // resource to get one for. Other sources of the vault wait meanwhile.
                let response = self.send(url, what, None).await?;
                if response.status() != StatusCode::UNAUTHORIZED {
                    return Ok(response);
                }
                let challenge = Challenge::from_headers(response.headers()).ok_or_else(|| {
                    SourceError::BadResponse {
                        problem: format!(
                            "{} answered HTTP 401 without a Bearer challenge (is it a Key Vault?)",
                            self.vault
                        ),
                    }
                })?;
                self.vault.check_challenge(&challenge)?;
                *known = Some(challenge.clone());
                challenge
            }
        };
        drop(known);
        let bearer = self.shared.bearer(self.context, &challenge).await?;
        let response = self.send(url, what, Some(&bearer)).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(self.token_refused(&challenge));
        }
        Ok(response)
    }

    /// A 401 despite a token. A vault of another tenant is the usual cause, and Key Vault's
    /// answer does not say it, so a disagreement with `AZURE_TENANT_ID` is pointed out.
    fn token_refused(&self, challenge: &Challenge) -> SourceError {
        let status = SourceError::Http {
            status: 401,
            retry_after: None,
        };
        match (
            self.context.env.get_str("AZURE_TENANT_ID"),
            &challenge.tenant,
        ) {
            (Some(ours), Some(theirs)) if !ours.eq_ignore_ascii_case(theirs) => {
                SourceError::Config {
                    problem: format!(
                        "{status}; {} names tenant '{theirs}' in its challenge, but \
                         AZURE_TENANT_ID is '{ours}'",
                        self.vault
                    ),
                }
            }
            _ => status,
        }
    }

    async fn send(
        &self,
        url: &Url,
        what: &'static str,
        bearer: Option<&Bearer>,
    ) -> Result<Response, SourceError> {
        let answered = |status: StatusCode| matches!(status.as_u16(), 401 | 403 | 404);
        http::send_accepting(self.context, what, answered, |client| {
            let request = client.get(url.clone());
            match bearer {
                Some(bearer) => request.header(AUTHORIZATION, bearer.0.clone()),
                None => request,
            }
        })
        .await
    }

    /// The names of the enabled secrets starting with `prefix`, every page, in name order.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut url = self.vault.url(&["secrets"]);
        url.query_pairs_mut().append_pair("maxresults", PAGE_SIZE);
        let mut visited = Vec::new();
        let mut names = Vec::new();
        loop {
            let response = self.get(&url, LIST).await?;
            if !response.status().is_success() {
                return Err(status_error(&response));
            }
            let page: Page = http::json(response, LIST).await?;
            for item in page.value {
                if item.attributes.enabled == Some(false) {
                    continue;
                }
                let name = secret_name(&item.id)?;
                // Key Vault's names are case-insensitive.
                let matches = name
                    .get(..prefix.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(prefix));
                if matches {
                    names.push(name);
                }
            }
            visited.push(url);
            match page.next_link.filter(|link| !link.is_empty()) {
                Some(link) => {
                    url = self.vault.next_page(&link)?;
                    // A server that links back would otherwise keep us paging until the deadline.
                    if visited.contains(&url) {
                        return Err(SourceError::BadResponse {
                            problem: "the secret listing's nextLink repeats a page".into(),
                        });
                    }
                }
                None => break,
            }
        }
        // Key Vault's names differ by more than case, so this order is total.
        names.sort_by_key(|name| name.to_ascii_lowercase());
        Ok(names)
    }

    async fn read(&self, name: &str, version: Option<&str>) -> Result<Read, SourceError> {
        let mut segments = vec!["secrets", name];
        segments.extend(version);
        let response = self.get(&self.vault.url(&segments), GET).await?;
        match response.status().as_u16() {
            200..=299 => {
                let bundle: Bundle = http::json(response, GET).await?;
                bundle
                    .value
                    .map(Read::Value)
                    .ok_or_else(|| SourceError::BadResponse {
                        problem: format!("the secret '{name}' came without a value"),
                    })
            }
            404 => Ok(Read::Missing),
            // Key Vault refuses to read a disabled secret with a 403, told apart by its code.
            403 if is_disabled(response).await => Ok(Read::Disabled),
            status => Err(SourceError::Http {
                status,
                retry_after: None,
            }),
        }
    }
}

/// The error for a status the caller does not handle itself.
fn status_error(response: &Response) -> SourceError {
    SourceError::Http {
        status: response.status().as_u16(),
        retry_after: None,
    }
}

/// A 403 whose Key Vault error code says the secret is disabled.
async fn is_disabled(response: Response) -> bool {
    let Ok(body) = http::json::<KeyVaultError>(response, GET).await else {
        return false;
    };
    let mut detail = Some(&body.error);
    while let Some(error) = detail {
        if error.code.as_deref() == Some("SecretDisabled") {
            return true;
        }
        detail = error.innererror.as_deref();
    }
    false
}

/// The secret's name in its id, `https://VAULT/secrets/NAME[/VERSION]`.
pub(super) fn secret_name(id: &str) -> Result<String, SourceError> {
    let url = Url::parse(id).ok();
    let segments: Vec<&str> = url
        .as_ref()
        .and_then(Url::path_segments)
        .map(|segments| segments.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let at = segments.iter().rposition(|segment| *segment == "secrets");
    match at.and_then(|at| segments.get(at + 1)) {
        Some(name) => Ok(name.to_string()),
        None => Err(SourceError::BadResponse {
            problem: "a listed secret has no usable id".into(),
        }),
    }
}

/// `GET /secrets/NAME`: a `SecretBundle`, of which only the value matters.
#[derive(Deserialize)]
pub(super) struct Bundle {
    #[serde(default, deserialize_with = "secret_value")]
    value: Option<SecretValue>,
}

/// `GET /secrets`: a `SecretListResult` page.
#[derive(Deserialize)]
pub(super) struct Page {
    #[serde(default)]
    pub(super) value: Vec<SecretItem>,
    #[serde(rename = "nextLink", default)]
    next_link: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct SecretItem {
    pub(super) id: String,
    #[serde(default)]
    attributes: Attributes,
}

#[derive(Deserialize, Default)]
struct Attributes {
    enabled: Option<bool>,
}

/// `{"error": {"code": "...", "message": "...", "innererror": {...}}}`; the message is unused.
#[derive(Deserialize)]
pub(super) struct KeyVaultError {
    error: KeyVaultErrorDetail,
}

#[derive(Deserialize)]
struct KeyVaultErrorDetail {
    code: Option<String>,
    innererror: Option<Box<KeyVaultErrorDetail>>,
}

/// Wraps a secret straight from the JSON, so no plain copy outlives the parse.
fn secret_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretValue>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretValue::from))
}

/// An `Authorization: Bearer …` header, marked sensitive so that no debug output shows it.
#[derive(Clone)]
struct Bearer(HeaderValue);

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bearer([REDACTED])")
    }
}

impl Bearer {
    fn new(token: &Token) -> Result<Self, SourceError> {
        token.bearer("token").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::auth::{find_program, imds_url, Credential};
    use super::*;

    fn location(text: &str) -> Result<Location, String> {
        parse_location(text)
    }

    fn secret(vault: Option<&str>, name: &str, version: Option<&str>) -> Location {
        Location {
            vault: vault.map(str::to_string),
            what: What::Secret {
                name: name.into(),
                version: version.map(str::to_string),
            },
        }
    }

    #[test]
    fn locations() {
        assert_eq!(location("CH-HOST"), Ok(secret(None, "CH-HOST", None)));
        assert_eq!(
            location("db/0123abcd"),
            Ok(secret(None, "db", Some("0123abcd")))
        );
        assert_eq!(
            location("app-*").unwrap().what,
            What::Listing {
                prefix: "app-".into()
            }
        );
        assert_eq!(
            location("*").unwrap().what,
            What::Listing { prefix: "".into() }
        );
        assert!(location("db_password")
            .unwrap_err()
            .contains("letters, digits and '-'"));
        assert!(location("a/b/c").is_err());
        assert!(location("a*b*").is_err());
    }

    #[test]
    fn secret_urls() {
        assert_eq!(
            location("https://kv1.vault.azure.net/secrets/db-pass"),
            Ok(secret(
                Some("https://kv1.vault.azure.net/"),
                "db-pass",
                None
            ))
        );
        assert_eq!(
            location("https://kv1.vault.azure.net/secrets/db-pass/4387e9f3d6e14c45/"),
            Ok(secret(
                Some("https://kv1.vault.azure.net/"),
                "db-pass",
                Some("4387e9f3d6e14c45")
            ))
        );
        assert_eq!(
            location("http://127.0.0.1:8080/proxy/kv/secrets/db"),
            Ok(secret(Some("http://127.0.0.1:8080/proxy/kv"), "db", None))
        );
        assert_eq!(
            location("https://kv1.vault.azure.net/secrets/app-*")
                .unwrap()
                .what,
            What::Listing {
                prefix: "app-".into()
            }
        );
        for bad in [
            "https://kv1.vault.azure.net",
            "https://kv1.vault.azure.net/keys/k",
            "https://kv1.vault.azure.net/secrets/app-*/v1",
            "https://kv1.vault.azure.net/secrets/a_b",
        ] {
            assert!(location(bad).is_err(), "{bad}");
        }
    }

    fn spec(text: &str) -> Result<AzureKv, SpecProblem> {
        let mut spec = SourceSpec::parse(text).unwrap();
        AzureKv::from_spec(&mut spec, Arc::new(Context::default()))
    }

    #[test]
    fn spec_options_are_checked() {
        assert_eq!(
            spec("azure-kv:app-*#X").unwrap_err(),
            SpecProblem::KeyNotSupported
        );
        assert!(matches!(
            spec("azure-kv:https://v.vault.azure.net/secrets/x?vault=https://w.vault.azure.net")
                .unwrap_err(),
            SpecProblem::BadOptionValue { option, .. } if option == "vault"
        ));
        assert_eq!(
            spec("azure-kv:x?bogus").unwrap_err(),
            SpecProblem::UnknownOption("bogus".into())
        );
        let source = spec("azure-kv:x?json&prefix=APP_&vault=kv1#client-id").unwrap();
        assert!(source.json);
        assert_eq!(source.prefix, "APP_");
        assert_eq!(source.vault.as_deref(), Some("kv1"));
        assert_eq!(source.key.as_deref(), Some("client-id"));
    }

    fn names(source: &AzureKv, name: &str, value: &str) -> Result<Vec<String>, SourceError> {
        let entries = source.entries(name, SecretValue::from(value.to_string()), None)?;
        Ok(entries.into_iter().map(|(n, _)| n.to_string()).collect())
    }

    #[test]
    fn names_follow_the_secret_or_the_key() {
        assert_eq!(
            names(&spec("azure-kv:CH-HOST").unwrap(), "CH-HOST", "h").unwrap(),
            ["CH_HOST"]
        );
        assert_eq!(
            names(&spec("azure-kv:x?prefix=APP_").unwrap(), "db-url", "u").unwrap(),
            ["APP_DB_URL"]
        );
        let json = spec("azure-kv:x?json&prefix=T_").unwrap();
        assert_eq!(
            names(&json, "x", r#"{"client-id": "a", "port": 1}"#).unwrap(),
            ["T_CLIENT_ID", "T_PORT"]
        );
        let err = names(&json, "x", "plain").unwrap_err();
        assert!(err.to_string().contains("JSON object"), "{err}");
        assert!(!err.to_string().contains("plain"));
        let named = spec("azure-kv:ch-host#CLICKHOUSE_HOST").unwrap();
        let entries = named
            .entries(
                "ch-host",
                SecretValue::from("h".to_string()),
                Some("CLICKHOUSE_HOST"),
            )
            .unwrap();
        assert_eq!(entries[0].0.to_string(), "CLICKHOUSE_HOST");
    }

    #[test]
    fn vault_urls() {
        let vault = VaultUrl::parse("https://kv1.vault.azure.net/", "X", false).unwrap();
        assert_eq!(
            vault.url(&["secrets", "a-b", "v1"]).as_str(),
            "https://kv1.vault.azure.net/secrets/a-b/v1?api-version=7.4"
        );
        assert_eq!(vault.to_string(), "https://kv1.vault.azure.net");
        let named = VaultUrl::parse("kv1", "X", false).unwrap();
        assert_eq!(named.0.as_str(), "https://kv1.vault.azure.net/");
        let proxied = VaultUrl::parse("http://127.0.0.1:9/kv", "X", false).unwrap();
        assert_eq!(
            proxied.url(&["secrets"]).as_str(),
            "http://127.0.0.1:9/kv/secrets?api-version=7.4"
        );
        let err =
            VaultUrl::parse("http://kv1.vault.azure.net", "AZURE_KEYVAULT_URL", false).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("AZURE_KEYVAULT_URL uses plain http"));
        assert!(VaultUrl::parse("not a vault", "X", false).is_err());

        assert!(vault
            .next_page("https://kv1.vault.azure.net:443/secrets?api-version=7.4&$skiptoken=x")
            .is_ok());
        assert!(vault.next_page("https://evil.example/secrets").is_err());
        assert!(vault
            .next_page("http://kv1.vault.azure.net/secrets")
            .is_err());
    }

    #[test]
    fn challenges() {
        let parsed = Challenge::parse(concat!(
            r#"Bearer authorization="https://login.microsoftonline.com/"#,
            r#"72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#,
        ))
        .unwrap();
        assert_eq!(
            parsed,
            Challenge {
                scope: "https://vault.azure.net/.default".into(),
                tenant: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
            }
        );
        assert_eq!(resource_of(&parsed.scope), "https://vault.azure.net");
        let scoped = Challenge::parse(concat!(
            r#"Bearer authorization_uri="https://login.windows.net/contoso.onmicrosoft.com/","#,
            r#"scope="https://vault.azure.cn/.default""#,
        ))
        .unwrap();
        assert_eq!(scoped.scope, "https://vault.azure.cn/.default");
        assert_eq!(scoped.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(Challenge::parse(r#"Basic realm="x""#), None);
        assert_eq!(Challenge::parse(r#"Bearer authorization="x""#), None);
        // A hostile tenant is dropped, not pasted into a path.
        let odd = Challenge::parse(r#"Bearer authorization="https://a/%2e%2e", resource="r""#);
        assert_eq!(odd.unwrap().tenant, None);

        let mut headers = HeaderMap::new();
        headers.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("PoP nonce=\"x\""),
        );
        headers.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer resource=\"https://vault.azure.net\""),
        );
        assert_eq!(
            Challenge::from_headers(&headers).unwrap().scope,
            "https://vault.azure.net/.default"
        );
    }

    #[test]
    fn a_challenge_must_be_for_the_vaults_domain() {
        let challenge = |scope: &str| Challenge {
            scope: scope.into(),
            tenant: None,
        };
        let vault = VaultUrl::parse("https://kv1.vault.azure.net", "X", false).unwrap();
        assert!(vault
            .check_challenge(&challenge("https://vault.azure.net/.default"))
            .is_ok());
        let err = vault
            .check_challenge(&challenge("https://evil.example/.default"))
            .unwrap_err();
        assert!(err.to_string().contains("not its own domain"), "{err}");
        let lookalike = VaultUrl::parse("https://kv1.notvault.azure.net", "X", false).unwrap();
        assert!(lookalike
            .check_challenge(&challenge("https://vault.azure.net/.default"))
            .is_err());
        let local = VaultUrl::parse("http://127.0.0.1:1234/kv", "X", false).unwrap();
        assert!(local
            .check_challenge(&challenge("https://vault.azure.net/.default"))
            .is_ok());
    }

    fn env(pairs: &[(&str, &str)]) -> ParentEnv {
        ParentEnv::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn credentials_in_order() {
        let all = [
            ("AZURE_CLIENT_ID", "app"),
            ("AZURE_CLIENT_SECRET", "s3cret"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token"),
            ("IDENTITY_HEADER", "h"),
        ];
        let found = |pairs: &[(&str, &str)]| Credential::from_env(&env(pairs));
        assert!(matches!(
            found(&all).unwrap(),
            Some(Credential::ClientSecret { .. })
        ));
        assert!(matches!(
            found(&all[2..]).unwrap_err(),
            SourceError::Config { problem } if problem.contains("AZURE_CLIENT_ID is not")
        ));
        let mut workload = all.to_vec();
        workload.remove(1);
        assert!(matches!(
            found(&workload).unwrap(),
            Some(Credential::WorkloadIdentity { .. })
        ));
        assert!(matches!(
            found(&all[3..]).unwrap(),
            Some(Credential::AppService {
                client_id: None,
                ..
            })
        ));
        assert!(found(&all[4..]).unwrap().is_none());
        assert!(found(&[]).unwrap().is_none());
        let shown = format!("{:?}", found(&all).unwrap());
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn imds_address_and_override() {
        let allowed = |pairs: &[(&str, &str)]| imds_url(&env(pairs), false);
        assert_eq!(
            allowed(&[]).unwrap().as_str(),
            "http://169.254.169.254/metadata/identity/oauth2/token"
        );
        let host = "AZURE_POD_IDENTITY_AUTHORITY_HOST";
        assert_eq!(
            allowed(&[(host, "http://169.254.169.254/")])
                .unwrap()
                .as_str(),
            "http://169.254.169.254/metadata/identity/oauth2/token"
        );
        assert_eq!(
            allowed(&[(host, "http://127.0.0.1:5000")])
                .unwrap()
                .as_str(),
            "http://127.0.0.1:5000/metadata/identity/oauth2/token"
        );
        assert!(allowed(&[(host, "http://169.254.169.253")]).is_err());
        assert!(allowed(&[(host, "http://imds.example")]).is_err());
    }

    #[test]
    fn listed_names_come_from_ids() {
        assert_eq!(
            secret_name("https://kv1.vault.azure.net/secrets/CH-HOST").unwrap(),
            "CH-HOST"
        );
        assert_eq!(
            secret_name("http://127.0.0.1:1/kv/secrets/a/0123").unwrap(),
            "a"
        );
        assert!(secret_name("not a url").is_err());
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let token = |text: &str| Token::new(SecretString::from(text.to_string()), "x", None);
        let bearer = Bearer::new(&token("tok-123")).unwrap();
        assert!(!format!("{bearer:?}").contains("tok-123"));
        assert!(!format!("{:?}", bearer.0).contains("tok-123"));
        assert!(Bearer::new(&token("a\nb")).is_err());
    }

    #[test]
    fn programs_are_found_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let az = dir.path().join("az");
        std::fs::write(&az, "#!/bin/sh\n").unwrap();
        assert_eq!(find_program(Some(dir.path().as_os_str()), "az"), None);
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths(["/nonexistent".as_ref(), dir.path()]).unwrap();
        assert_eq!(find_program(Some(&path), "az"), Some(az));
        assert_eq!(find_program(None, "az"), None);
    }
}
