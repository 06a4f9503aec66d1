//! `gcp-sm:`: Google Cloud Secret Manager, one secret version by name, or the latest version of
//! every secret whose id starts with a prefix or that carries a label.
//!
//! ```text
//! gcp-sm:projects/PROJECT/secrets/SECRET[/versions/VERSION][?OPTIONS][#NAME]
//! gcp-sm:SECRET[/versions/VERSION][?OPTIONS][#NAME]   project from ?project= or the environment
//! gcp-sm:PREFIX*[?label=KEY:VALUE][&OPTIONS]          every secret whose id starts with PREFIX
//! gcp-sm:*?label=KEY:VALUE[&label=KEY2[:VALUE2]]      every secret carrying the label(s)
//! ```
//!
//! (`projects/PROJECT/secrets/` may start a listing too.) What a secret becomes:
//!
//! - one variable holding the payload's bytes unchanged, named after the secret id through the
//!   mapping every provider uses ([`naming::sanitize`]: `db-password` → `DB_PASSWORD`), or after
//!   `#NAME` through the same mapping;
//! - with the `json` option, the payload must be a JSON object: one variable per key
//!   ([`naming::expand_object`]), and `#KEY` picks one key.
//!
//! Options:
//!
//! - `prefix=P`: put `P` before every name (`prefix=APP_` → `APP_DB_PASSWORD`).
//! - `json`: expand a JSON object, as above.
//! - `project=P`: the project of a short location.
//! - `version=V`: read version `V` (a number, an alias, or `latest`, the default); the same as
//!   `/versions/V` in the location. `latest` is Secret Manager's newest version whatever its
//!   state, so a disabled newest version is an error rather than a silent fall-back to an older
//!   one, as for `gcloud secrets versions access latest`.
//! - `label=KEY:VALUE` (or `KEY=VALUE`), `label=KEY` (any value): listings only; repeat it to
//!   require several labels.
//!
//! A listing asks `ListSecrets` with a `filter` (`name:PREFIX AND labels.KEY=VALUE`, unquoted as
//! gcloud sends it), every page, and checks each answer locally as well: the server's `name:`
//! matches anywhere in the name. It then reads the latest version of each secret, 8 at a time,
//! and yields them in order of secret id, so when two secrets define the same name the id that
//! sorts last wins. A listing that matches nothing is a "not found" error, as a typo must not run
//! the command without its secrets, and a bare `*` without a label is refused: reading a whole
//! project is never what a typo should do. `#` has nothing to name or pick in a listing and is
//! refused there. IAM: `roles/secretmanager.secretAccessor`, and `secretmanager.secrets.list`
//! (e.g. `roles/secretmanager.viewer`) for listings.
//!
//! Every payload's CRC32C checksum, which Secret Manager returns with it, is verified: a payload
//! that does not match is an "unexpected response" error and never reaches the child.
//!
//! The project of a short location, first found: `project=`, `$GOOGLE_CLOUD_PROJECT`,
//! `$CLOUDSDK_CORE_PROJECT`, the service account key's `project_id`, and the metadata server's
//! project when the token came from it. The API is at
//! `$CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER` (gcloud's variable, e.g.
//! `http://127.0.0.1:8080/`), default `https://secretmanager.googleapis.com`; plain `http://` is
//! refused unless the host is loopback or `--allow-insecure-http` is given.
//!
//! Credentials, the first found, as Google's client libraries look for them:
//!
//! 1. `$GOOGLE_OAUTH_ACCESS_TOKEN`: an access token obtained elsewhere (e.g.
//!    `$(gcloud auth print-access-token)`), used as it is.
//! 2. `$GOOGLE_APPLICATION_CREDENTIALS`: a service account key file (`type: service_account`): a
//!    JWT signed with its RS256 key is exchanged at its `token_uri`; or an `authorized_user`
//!    file: its refresh token is exchanged at its `token_uri` (default Google's).
//! 3. gcloud's application default credentials
//!    (`$CLOUDSDK_CONFIG` or `~/.config/gcloud`, then `/application_default_credentials.json`,
//!    written by `gcloud auth application-default login`), the same way.
//! 4. The metadata server of GCE, GKE and Cloud Run (`http://metadata.google.internal`, or
//!    `$GCE_METADATA_HOST`), asked only when nothing else is configured: off GCP its name does
//!    not resolve, and that ends the search at once. It is plain HTTP by design, on the local
//!    link, so the loopback rule does not apply to it.
//!
//! The token is obtained once per run, on the first fetch of a `gcp-sm` source, and shared by
//! all of them. `GOOGLE_CLOUD_QUOTA_PROJECT` or the file's `quota_project_id` is sent as
//! `x-goog-user-project`, as user credentials need it. Tokens, keys, refresh tokens and
//! assertions stay in [`secrecy`] types or sensitive header values, and no message quotes them.
//! `GOOGLE_OAUTH_ACCESS_TOKEN` is kept from the child unless `--keep-config-vars`: it is the
//! credential itself. `GOOGLE_APPLICATION_CREDENTIALS` is not: it is a path, the file stays
//! readable whatever the variable, and a child that is itself a Google client needs it.
//!
//! GCP ships no Secret Manager emulator that could be installed here, so the integration tests
//! run against `tests/servers/gcp_stub.py`, a stand-in serving the documented REST shapes (Secret
//! Manager v1, Google's OAuth 2.0 token endpoint, the metadata server), which
//! `tests/servers/check_gcp_stub.sh` checks against Google's own gcloud CLI where installed.

pub(crate) mod write;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Response, Url};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use super::spec::{SourceKind, SourceSpec};

mod auth;
use auth::{metadata_get, metadata_url, Credentials};

mod location;
use crate::environment::ParentEnv;
use crate::error::{SourceError, SpecProblem};
use crate::secret::SecretValue;
use location::{list_filter, listing_subject, Label, Location, Target};

use super::{env_name, http, listing, naming, oauth, Context, Entries, FetchFuture, Provider};
use oauth::{Token, TokenCache};

const DEFAULT_ENDPOINT: &str = "https://secretmanager.googleapis.com";
const ENDPOINT_VAR: &str = "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER";
const TOKEN_VAR: &str = "GOOGLE_OAUTH_ACCESS_TOKEN";
const CREDENTIALS_VAR: &str = "GOOGLE_APPLICATION_CREDENTIALS";
const METADATA_HOST_VAR: &str = "GCE_METADATA_HOST";
const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const PROJECT_VARS: [&str; 2] = ["GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"];
const QUOTA_PROJECT_VAR: &str = "GOOGLE_CLOUD_QUOTA_PROJECT";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// How messages name the token (`the access token from GOOGLE_OAUTH_ACCESS_TOKEN contains spaces`).
const ACCESS_TOKEN: &str = "access token";
const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const USER_PROJECT: HeaderName = HeaderName::from_static("x-goog-user-project");
const METADATA_FLAVOR: HeaderName = HeaderName::from_static("metadata-flavor");

/// A signed assertion's lifetime: the most Google accepts.
const ASSERTION_LIFETIME_SECS: u64 = 3600;
/// Bounds a slow resolver's answer for the metadata server's name off GCP.
const METADATA_PROBE: Duration = Duration::from_secs(3);
/// Secrets per list page (the API caps it at 25000); few pages, small answers.
const PAGE_SIZE: &str = "500";

#[derive(Debug)]
pub struct GcpSm {
    context: Arc<Context>,
    location: Location,
    /// Put before every name (the `prefix=` option).
    name_prefix: String,
    json: bool,
    /// `#NAME`, or `#KEY` with `json`.
    key: Option<String>,
}

impl GcpSm {
    pub fn from_spec(spec: &mut SourceSpec, context: Arc<Context>) -> Result<Self, SpecProblem> {
        let name_prefix = spec.take_value("prefix")?.unwrap_or_default();
        let json = spec.take_flag("json")?;
        let project = spec.take_non_empty("project", "a project ID")?;
        let version = spec.take_non_empty("version", "a version number, an alias or latest")?;
        let mut labels = Vec::new();
        while let Some(text) = spec.take_value("label")? {
            labels.push(Label::parse(&text).ok_or(SpecProblem::BadOptionValue {
                option: "label".into(),
                expected: "KEY:VALUE or KEY, written as GCP labels are (lower-case letters, \
                           digits, '_' and '-')",
            })?);
        }
        let mut location = Location::parse(&spec.location);
        if let Ok(parsed) = &mut location {
            parsed.apply(project, version, labels)?;
        }
        // '#' has nothing to name or pick in a listing, which yields many secrets.
        let listing = matches!(&location, Ok(parsed) if parsed.is_listing());
        spec.finish(!listing)?;
        if location.as_ref().is_ok_and(Location::reads_whole_project) {
            let problem = "'*' alone would read every secret of the project: give a name \
                           prefix (APP_*) or a label (?label=KEY:VALUE)";
            location = Err(problem.into());
        }
        Ok(Self {
            context,
            location: location.map_err(SpecProblem::BadLocation)?,
            name_prefix,
            json,
            key: spec.key.clone(),
        })
    }

    async fn read(&self) -> Result<Entries, SourceError> {
        let location = &self.location;
        let shared = self
            .context
            .gcp
            .get_or_try_init(|| SharedClient::load(&self.context))
            .await?;
        let project = self.project(shared, location).await?;
        match &location.target {
            Target::Secret { id, version } => {
                let version = version.as_deref().unwrap_or("latest");
                let value = self.access(shared, &project, id, version).await?;
                self.entries(id, value, self.key.as_deref())
            }
            Target::Listing { prefix, labels } => {
                let ids = self.list(shared, &project, prefix, labels).await?;
                if ids.is_empty() {
                    return Err(SourceError::NotFound {
                        what: listing_subject(&project, prefix, labels),
                    });
                }
                tracing::debug!(project, secrets = ids.len(), "secrets listed");
                let project = project.as_str();
                listing::read_each(ids, |id| async move {
                    let value = self.access(shared, project, &id, "latest").await?;
                    self.entries(&id, value, None)
                })
                .await
            }
        }
    }

    /// The project a location reads (see the module documentation for the order).
    async fn project(
        &self,
        shared: &SharedClient,
        location: &Location,
    ) -> Result<String, SourceError> {
        if let Some(project) = &location.project {
            return Ok(project.clone());
        }
        let env = &self.context.env;
        if let Some(project) = PROJECT_VARS.iter().find_map(|name| env.get_str(name)) {
            return Ok(project.to_string());
        }
        if let Some(project) = &shared.credentials_project {
            return Ok(project.clone());
        }
        if let Some(project) = shared.metadata_project(&self.context).await? {
            return Ok(project.to_string());
        }
        Err(SourceError::Config {
            problem: "no Google Cloud project: write projects/PROJECT/secrets/..., add \
                      ?project=PROJECT, or set GOOGLE_CLOUD_PROJECT"
                .into(),
        })
    }

    /// One version's payload, its checksum verified.
    async fn access(
        &self,
        shared: &SharedClient,
        project: &str,
        id: &str,
        version: &str,
    ) -> Result<SecretValue, SourceError> {
        let resource = format!("projects/{project}/secrets/{id}/versions/{version}");
        let last = format!("{version}:access");
        let url = shared.url(&["v1", "projects", project, "secrets", id, "versions", &last]);
        let response = shared
            .get(&self.context, "Secret Manager access", &url)
            .await
            .map_err(|error| match error {
                SourceError::Http { status: 404, .. } => SourceError::NotFound {
                    what: format!("{resource} (check the project, the secret id and the version)"),
                },
                // The API's answer to a disabled or destroyed version (FAILED_PRECONDITION); the
                // ids in the request were checked before it was sent.
                SourceError::Http { status: 400, .. } => SourceError::Config {
                    problem: format!(
                        "{resource} cannot be read (HTTP 400): the version is disabled or \
                         destroyed"
                    ),
                },
                other => shared.explain_refusal(
                    other,
                    &format!("read {resource}"),
                    "roles/secretmanager.secretAccessor",
                ),
            })?;
        let answer: AccessResponse = http::json(response, "Secret Manager access").await?;
        answer.payload.into_value(&resource)
    }

    /// The ids of the secrets a listing selects, sorted.
    async fn list(
        &self,
        shared: &SharedClient,
        project: &str,
        prefix: &str,
        labels: &[Label],
    ) -> Result<Vec<String>, SourceError> {
        let filter = list_filter(prefix, labels);
        let parent = format!("projects/{project}");
        let mut ids = Vec::new();
        let mut page_token = String::new();
        loop {
            let mut url = shared.url(&["v1", "projects", project, "secrets"]);
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("pageSize", PAGE_SIZE);
                if !filter.is_empty() {
                    query.append_pair("filter", &filter);
                }
                if !page_token.is_empty() {
                    query.append_pair("pageToken", &page_token);
                }
            }
            let response = shared
                .get(&self.context, "Secret Manager list", &url)
                .await
                .map_err(|error| match error {
                    SourceError::Http { status: 404, .. } => SourceError::NotFound {
                        what: format!("project '{project}'"),
                    },
                    other => shared.explain_refusal(
                        other,
                        &format!("list the secrets of {parent}"),
                        "secretmanager.secrets.list (e.g. roles/secretmanager.viewer)",
                    ),
                })?;
            let page: ListResponse = http::json(response, "Secret Manager list").await?;
            for secret in page.secrets {
                // The id is the name's last segment (the API names the project by number).
                let id = secret.name.rsplit('/').next().unwrap_or_default();
                if id.starts_with(prefix)
                    && labels.iter().all(|label| label.matches(&secret.labels))
                {
                    ids.push(id.to_string());
                }
            }
            if page.next_page_token.is_empty() {
                break;
            }
            if page.next_page_token == page_token {
                return Err(SourceError::BadResponse {
                    problem: "the secret list returned the same page token twice".into(),
                });
            }
            page_token = page.next_page_token;
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// The variables one secret yields (see the module documentation).
    fn entries(
        &self,
        id: &str,
        value: SecretValue,
        key: Option<&str>,
    ) -> Result<Entries, SourceError> {
        if self.json {
            return listing::json_object_entries(id, &value, &self.name_prefix, key);
        }
        let name = naming::sanitize(key.unwrap_or(id));
        Ok(vec![(
            env_name(format!("{}{name}", self.name_prefix))?,
            value,
        )])
    }
}

impl Provider for GcpSm {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.read())
    }

    /// Only the token itself: see the module documentation for why not the key file's path.
    fn consumed(&self) -> &'static [&'static str] {
        SourceKind::GcpSm.credential_variables()
    }
}

/// What every `gcp-sm` source of a run shares: the endpoint, the credentials and one access
/// token, renewed when it nears its expiry. Created by the first fetch; no file is read and no
/// request sent until then.
pub struct SharedClient {
    endpoint: Url,
    credentials: Credentials,
    token: TokenCache,
    /// Where the token came from, for messages.
    origin: String,
    quota_project: Option<HeaderValue>,
    /// The project the credentials name (a service account key's `project_id`).
    credentials_project: Option<String>,
    /// The metadata server the token came from, which also knows the project.
    metadata: Option<Url>,
    metadata_project: tokio::sync::OnceCell<String>,
}

/// Never the token.
impl std::fmt::Debug for SharedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedClient")
            .field("endpoint", &self.endpoint.as_str())
            .field("origin", &self.origin)
            .field("credentials_project", &self.credentials_project)
            .finish_non_exhaustive()
    }
}

impl SharedClient {
    async fn load(context: &Context) -> Result<Self, SourceError> {
        // The endpoint first: a refused endpoint fails before any credential is used.
        let text = context
            .env
            .get_str(ENDPOINT_VAR)
            .unwrap_or(DEFAULT_ENDPOINT);
        let endpoint = http::base_url(text, ENDPOINT_VAR, context.settings.allow_insecure_http)?;
        let credentials = Credentials::find(context).await?;
        let origin = credentials.origin();
        // The first token now: credentials that give none fail the source before any request.
        let token = TokenCache::default();
        token
            .get(|| credentials.token(context))
            .await?
            .bearer(ACCESS_TOKEN)?;
        tracing::debug!(credentials = %origin, "Google access token obtained");
        let quota_project = context
            .env
            .get_str(QUOTA_PROJECT_VAR)
            .or(credentials.quota_project())
            .map(|project| {
                HeaderValue::from_str(project).map_err(|_| SourceError::Config {
                    problem: format!("the quota project '{project}' is not a valid header"),
                })
            })
            .transpose()?;
        let (credentials_project, metadata) = match &credentials {
            Credentials::ServiceAccount(account) => (account.project.clone(), None),
            Credentials::Metadata { base, .. } => (None, Some(base.clone())),
            _ => (None, None),
        };
        Ok(Self {
            endpoint,
            credentials,
            token,
            origin,
            quota_project,
            credentials_project,
            metadata,
            metadata_project: tokio::sync::OnceCell::new(),
        })
    }

    /// `{endpoint}/SEGMENTS…`, under whatever path the endpoint has (a proxy at
    /// `https://proxy/gcp/`, which `Url::join` with an absolute path would drop).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.endpoint.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// `Authorization: Bearer TOKEN`, marked sensitive, with a token that is not about to expire.
    async fn authorization(&self, context: &Context) -> Result<HeaderValue, SourceError> {
        let token = self.token.get(|| self.credentials.token(context)).await?;
        token.bearer(ACCESS_TOKEN)
    }

    async fn get(
        &self,
        context: &Context,
        what: &'static str,
        url: &Url,
    ) -> Result<Response, SourceError> {
        let authorization = self.authorization(context).await?;
        http::send(context, what, |client| {
            let request = client
                .get(url.clone())
                .header(AUTHORIZATION, authorization.clone());
            match &self.quota_project {
                Some(project) => request.header(USER_PROJECT, project.clone()),
                None => request,
            }
        })
        .await
    }

    /// Says, next to a 401 or 403, what GCP's bare status leaves out: where the token came
    /// from, and the permission `action` needs.
    fn explain_refusal(&self, error: SourceError, action: &str, needs: &str) -> SourceError {
        match &error {
            SourceError::Http { status: 401, .. } => tracing::warn!(
                "Secret Manager did not accept the access token from {}: it may have expired or \
                 been revoked",
                self.origin
            ),
            SourceError::Http { status: 403, .. } => tracing::warn!(
                "the credentials from {} may not {action}: that needs {needs}; GCP answers 403 \
                 as well for a project that does not exist or has the Secret Manager API \
                 disabled",
                self.origin
            ),
            _ => {}
        }
        error
    }

    /// The metadata server's project, asked once, when the token came from it.
    async fn metadata_project(&self, context: &Context) -> Result<Option<&str>, SourceError> {
        let Some(base) = &self.metadata else {
            return Ok(None);
        };
        let project = self
            .metadata_project
            .get_or_try_init(|| async {
                let url = metadata_url(base, "project/project-id")?;
                let response = metadata_get(context, &url).await?;
                let text = response
                    .text()
                    .await
                    .map_err(|_| SourceError::BadResponse {
                        problem: "the metadata server's project answer was cut off".into(),
                    })?;
                Ok::<_, SourceError>(text.trim().to_string())
            })
            .await?;
        Ok(Some(project.as_str()).filter(|project| !project.is_empty()))
    }
}

/// `AccessSecretVersionResponse`. No `Debug`: the payload is the secret.
#[derive(Deserialize)]
pub(super) struct AccessResponse {
    #[serde(default)]
    pub(super) payload: Payload,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct Payload {
    /// Base64; left out when the payload is empty (proto3 JSON omits empty fields).
    #[serde(default)]
    data: String,
    #[serde(default)]
    data_crc32c: Option<Int64>,
}

/// An int64 in proto3 JSON: a string, though a number is accepted too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Int64 {
    Text(String),
    Number(i64),
}

impl Int64 {
    /// A CRC32C travels as an int64 "for compatibility"; anything beyond u32 is no checksum.
    fn as_u32(&self) -> Option<u32> {
        match self {
            Int64::Text(text) => text.parse().ok(),
            Int64::Number(number) => u32::try_from(*number).ok(),
        }
    }
}

impl Payload {
    /// The payload's bytes once its checksum matches; never the bytes otherwise.
    pub(super) fn into_value(self, resource: &str) -> Result<SecretValue, SourceError> {
        let bytes =
            STANDARD
                .decode(self.data.as_bytes())
                .map_err(|_| SourceError::BadResponse {
                    problem: format!("the payload of {resource} is not base64"),
                })?;
        match self.data_crc32c.as_ref().map(Int64::as_u32) {
            Some(Some(expected)) if crc32c::crc32c(&bytes) == expected => {}
            Some(Some(_)) => {
                return Err(SourceError::BadResponse {
                    problem: format!(
                        "the payload of {resource} does not match its CRC32C checksum: it was \
                         corrupted on the way"
                    ),
                })
            }
            Some(None) => {
                return Err(SourceError::BadResponse {
                    problem: format!("the checksum of {resource} is not a CRC32C value"),
                })
            }
            // Versions from before Secret Manager kept checksums come without one.
            None => tracing::debug!(resource, "no checksum to verify"),
        }
        Ok(SecretValue::new(bytes))
    }
}

/// `ListSecretsResponse`; proto3 JSON leaves out an empty list and the last page's token.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListResponse {
    #[serde(default)]
    secrets: Vec<ListedSecret>,
    #[serde(default)]
    next_page_token: String,
}

#[derive(Deserialize)]
struct ListedSecret {
    name: String,
    #[serde(default)]
    labels: HashMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::auth::ServiceAccount;
    use super::*;
    use crate::providers::FetchSettings;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{KeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

    fn context(env: &[(&str, &str)]) -> Arc<Context> {
        Arc::new(Context::new(
            ParentEnv::from_pairs(env.iter().copied()),
            FetchSettings::default(),
        ))
    }

    fn build(text: &str) -> Result<GcpSm, SpecProblem> {
        let mut spec = SourceSpec::parse(text).unwrap();
        GcpSm::from_spec(&mut spec, context(&[]))
    }

    /// The parsed location, or the reason a bad one is refused with.
    fn location(text: &str) -> Result<Location, String> {
        match build(text) {
            Ok(gcp) => Ok(gcp.location),
            Err(SpecProblem::BadLocation(problem)) => Err(problem),
            Err(other) => panic!("{text}: {other}"),
        }
    }

    fn secret(project: Option<&str>, id: &str, version: Option<&str>) -> Location {
        Location {
            project: project.map(str::to_string),
            target: Target::Secret {
                id: id.into(),
                version: version.map(str::to_string),
            },
        }
    }

    #[test]
    fn locations_full_and_short() {
        assert_eq!(
            location("gcp-sm:projects/p-1/secrets/db-pass").unwrap(),
            secret(Some("p-1"), "db-pass", None)
        );
        assert_eq!(
            location("gcp-sm:projects/123/secrets/db_pass/versions/7").unwrap(),
            secret(Some("123"), "db_pass", Some("7"))
        );
        assert_eq!(
            location("gcp-sm:db/versions/latest").unwrap(),
            secret(None, "db", Some("latest"))
        );
        assert_eq!(
            location("gcp-sm:db?project=example.com:proj&version=prod").unwrap(),
            secret(Some("example.com:proj"), "db", Some("prod"))
        );
        assert_eq!(
            location("gcp-sm:projects/p/secrets/APP_*").unwrap(),
            Location {
                project: Some("p".into()),
                target: Target::Listing {
                    prefix: "APP_".into(),
                    labels: vec![],
                },
            }
        );
        let Location {
            target: Target::Listing { prefix, labels },
            ..
        } = location("gcp-sm:*?label=env:prod&label=team").unwrap()
        else {
            panic!("a listing");
        };
        assert_eq!(prefix, "");
        assert_eq!(
            labels,
            [
                Label {
                    key: "env".into(),
                    value: Some("prod".into())
                },
                Label {
                    key: "team".into(),
                    value: None
                }
            ]
        );
    }

    #[test]
    fn bad_locations_are_reported_when_fetched() {
        for text in [
            "gcp-sm:projects/p/secrets/a/b",
            "gcp-sm:projects/p/keys/a",
            "gcp-sm:projects/p",
            "gcp-sm:a/../b",
            "gcp-sm:a.b",
            "gcp-sm:db/versions/",
            "gcp-sm:pre*fix*",
            "gcp-sm:projects/p q/secrets/a",
        ] {
            let problem = location(text).unwrap_err();
            assert!(
                problem.contains("is not a Secret Manager location"),
                "{text}: {problem}"
            );
        }
        let problem = location("gcp-sm:projects/p/locations/eu/secrets/a").unwrap_err();
        assert!(problem.contains("regional secret"), "{problem}");
        let problem = location("gcp-sm:*").unwrap_err();
        assert!(problem.contains("'*' alone"), "{problem}");
    }

    #[test]
    fn options_that_contradict_the_location_are_refused() {
        let problem = |text: &str| build(text).unwrap_err().to_string();
        assert!(problem("gcp-sm:projects/p/secrets/a?project=q").contains("option 'project'"));
        assert!(problem("gcp-sm:a/versions/2?version=3").contains("option 'version'"));
        assert!(problem("gcp-sm:APP_*?version=3").contains("a single secret"));
        assert!(problem("gcp-sm:a?label=env:prod").contains("a listing location"));
        assert!(problem("gcp-sm:*?label=Env:prod").contains("option 'label'"));
        assert!(problem("gcp-sm:*?label=env:").contains("option 'label'"));
        assert!(problem("gcp-sm:a?project=").contains("a project ID"));
        assert!(problem("gcp-sm:a?version=x/y").contains("option 'version'"));
        assert_eq!(
            problem("gcp-sm:APP_*#KEY"),
            "this kind of source does not take a '#KEY'"
        );
        assert_eq!(problem("gcp-sm:a?bogus"), "unknown option 'bogus'");
        assert!(build("gcp-sm:a#NAME").is_ok());
    }

    #[test]
    fn labels_parse_match_and_filter() {
        let label = Label::parse("env=prod").unwrap();
        assert_eq!(label, Label::parse("env:prod").unwrap());
        let mut labels = HashMap::new();
        assert!(!label.matches(&labels));
        labels.insert("env".to_string(), "prod".to_string());
        assert!(label.matches(&labels));
        assert!(Label::parse("env").unwrap().matches(&labels));
        assert!(!Label::parse("env:dev").unwrap().matches(&labels));
        assert!(Label::parse("1env").is_none());
        assert!(Label::parse(&"k".repeat(64)).is_none());
        assert_eq!(
            list_filter("app-", &[label, Label::parse("team").unwrap()]),
            "name:app- AND labels.env=prod AND labels.team:*"
        );
        assert_eq!(list_filter("", &[]), "");
        assert_eq!(
            listing_subject("p", "app-", &[Label::parse("env:prod").unwrap()]),
            "no secret in project 'p' whose id starts with 'app-' and with the label(s) env=prod"
        );
    }

    fn payload(data: &[u8], crc: Option<Int64>) -> Payload {
        Payload {
            data: STANDARD.encode(data),
            data_crc32c: crc,
        }
    }

    #[test]
    fn checksums_are_verified() {
        let data = b"s3cr3t\nvalue";
        let crc = crc32c::crc32c(data);
        let value = payload(data, Some(Int64::Text(crc.to_string())))
            .into_value("r")
            .unwrap();
        assert_eq!(value.expose(), data);
        assert!(payload(data, Some(Int64::Number(i64::from(crc))))
            .into_value("r")
            .is_ok());
        assert!(payload(data, None).into_value("r").is_ok());
        let err = payload(data, Some(Int64::Text((crc ^ 1).to_string())))
            .into_value("projects/p/secrets/s/versions/1")
            .unwrap_err();
        assert!(matches!(err, SourceError::BadResponse { .. }));
        assert!(
            err.to_string()
                .contains("does not match its CRC32C checksum"),
            "{err}"
        );
        assert!(payload(data, Some(Int64::Number(-1)))
            .into_value("r")
            .is_err());
        let bad = Payload {
            data: "not base64!".into(),
            data_crc32c: None,
        };
        assert!(bad.into_value("r").is_err());
        // The documented shape, with the int64 as a string (the value from the Python stub's
        // independent CRC32C).
        let answer: AccessResponse = serde_json::from_str(
            r#"{"name": "projects/1/secrets/s/versions/2",
                "payload": {"data": "aGk=", "dataCrc32c": "4120762818"}}"#,
        )
        .unwrap();
        assert_eq!(answer.payload.into_value("r").unwrap().expose(), b"hi");
    }

    #[test]
    fn urls_keep_the_endpoints_path_and_the_access_verb() {
        let shared = |endpoint: &str| SharedClient {
            endpoint: Url::parse(endpoint).unwrap(),
            credentials: Credentials::Token(SecretString::from("x".to_string())),
            token: TokenCache::default(),
            origin: String::new(),
            quota_project: None,
            credentials_project: None,
            metadata: None,
            metadata_project: tokio::sync::OnceCell::new(),
        };
        let url = shared("http://127.0.0.1:8080/").url(&[
            "v1",
            "projects",
            "example.com:p",
            "secrets",
            "db",
            "versions",
            "latest:access",
        ]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/v1/projects/example.com:p/secrets/db/versions/latest:access"
        );
        let url = shared("https://proxy.example/gcp?x=1").url(&["v1", "projects", "p", "secrets"]);
        assert_eq!(
            url.as_str(),
            "https://proxy.example/gcp/v1/projects/p/secrets"
        );
    }

    fn entries(spec: &str, id: &str, value: &str) -> Result<Vec<(String, String)>, SourceError> {
        let provider = build(spec).unwrap();
        let key = provider.key.clone();
        let entries = provider.entries(id, SecretValue::from(value.to_string()), key.as_deref())?;
        Ok(crate::providers::plain_entries(entries))
    }

    #[test]
    fn names_come_from_the_id_the_key_or_the_json() {
        let pair = |name: &str, value: &str| (name.to_string(), value.to_string());
        assert_eq!(
            entries("gcp-sm:db-password", "db-password", "v").unwrap(),
            [pair("DB_PASSWORD", "v")]
        );
        assert_eq!(
            entries("gcp-sm:db-password?prefix=APP_#pg-pass", "db-password", "v").unwrap(),
            [pair("APP_PG_PASS", "v")]
        );
        let json = r#"{"client-id": "abc", "port": 5432}"#;
        assert_eq!(
            entries("gcp-sm:twitch?json&prefix=T_", "twitch", json).unwrap(),
            [pair("T_CLIENT_ID", "abc"), pair("T_PORT", "5432")]
        );
        assert_eq!(
            entries("gcp-sm:twitch?json#port", "twitch", json).unwrap(),
            [pair("PORT", "5432")]
        );
        let err = entries("gcp-sm:twitch?json", "twitch", "[1]").unwrap_err();
        assert!(
            err.to_string().contains("does not hold a JSON object"),
            "{err}"
        );
    }

    #[test]
    fn service_account_assertion_is_a_valid_rs256_jwt() {
        let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let public = key.public_key().as_ref().to_vec();
        let account = ServiceAccount {
            origin: "test".into(),
            email: "sa@p.iam.gserviceaccount.com".into(),
            key,
            key_id: Some("kid-1".into()),
            token_uri: Url::parse(DEFAULT_TOKEN_URI).unwrap(),
            project: None,
            quota_project: None,
        };
        let jwt = account.assertion(1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.expose_secret().split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |part: &str| -> Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
        };
        assert_eq!(
            decode(parts[0]),
            serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
        );
        assert_eq!(
            decode(parts[1]),
            serde_json::json!({
                "iss": "sa@p.iam.gserviceaccount.com",
                "scope": SCOPE,
                "aud": DEFAULT_TOKEN_URI,
                "iat": 1_700_000_000u64,
                "exp": 1_700_003_600u64,
            })
        );
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
            .verify(signed.as_bytes(), &signature)
            .expect("a valid signature");
    }

    fn pem(label: &str, der: &[u8]) -> String {
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn credentials_files_are_read_without_quoting_them() {
        let context = context(&[]);
        let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = key.as_der().unwrap();
        let file = serde_json::json!({
            "type": "service_account",
            "project_id": "proj",
            "private_key_id": "k",
            "private_key": pem("PRIVATE KEY", der.as_ref()),
            "client_email": "sa@proj.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
            "quota_project_id": "billing",
        });
        let credentials =
            Credentials::from_file(file.to_string().as_bytes(), "the file".into(), &context)
                .unwrap();
        assert_eq!(credentials.quota_project(), Some("billing"));
        let Credentials::ServiceAccount(account) = credentials else {
            panic!("a service account");
        };
        assert_eq!(account.project.as_deref(), Some("proj"));

        let broken = serde_json::json!({
            "type": "service_account",
            "private_key": pem("PRIVATE KEY", b"secret-key-bytes"),
            "client_email": "sa@proj.iam.gserviceaccount.com",
        });
        let err =
            Credentials::from_file(broken.to_string().as_bytes(), "the file".into(), &context)
                .err()
                .unwrap()
                .to_string();
        assert_eq!(err, "the file: private_key is not a PEM RSA private key");

        let user = serde_json::json!({
            "type": "authorized_user",
            "client_id": "id",
            "client_secret": "client-secret-canary",
            "refresh_token": "refresh-token-canary",
        });
        let Credentials::AuthorizedUser(user) =
            Credentials::from_file(user.to_string().as_bytes(), "adc".into(), &context).unwrap()
        else {
            panic!("an authorized user");
        };
        assert_eq!(user.token_uri.as_str(), DEFAULT_TOKEN_URI);

        let remote_http = serde_json::json!({
            "type": "authorized_user", "client_id": "id", "client_secret": "s",
            "refresh_token": "r", "token_uri": "http://oauth.example/token",
        });
        let err = Credentials::from_file(remote_http.to_string().as_bytes(), "f".into(), &context)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("token_uri uses plain http"), "{err}");

        let other = br#"{"type": "external_account"}"#;
        let err = Credentials::from_file(other, "f".into(), &context)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("'external_account' credentials"), "{err}");

        let err = Credentials::from_file(br#"{"private_key": 5"#, "f".into(), &context)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            "f is not a Google credentials JSON file (line 1, column 17)"
        );
    }

    #[tokio::test]
    async fn credentials_are_looked_for_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let user = r#"{"type": "authorized_user", "client_id": "id", "client_secret": "s",
                       "refresh_token": "r"}"#;
        let key_file = dir.path().join("key.json");
        std::fs::write(&key_file, user).unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".config/gcloud")).unwrap();
        std::fs::write(
            home.join(".config/gcloud/application_default_credentials.json"),
            user,
        )
        .unwrap();
        let key_file = key_file.to_str().unwrap();
        let home = home.to_str().unwrap();

        let origin = |env: &[(&str, &str)]| {
            let context = context(env);
            async move { Credentials::find(&context).await.map(|c| c.origin()) }
        };
        let all = [
            (TOKEN_VAR, "token"),
            (CREDENTIALS_VAR, key_file),
            ("HOME", home),
        ];
        assert_eq!(origin(&all).await.unwrap(), TOKEN_VAR);
        let found = origin(&all[1..]).await.unwrap();
        assert!(
            found.contains("(GOOGLE_APPLICATION_CREDENTIALS)"),
            "{found}"
        );
        let found = origin(&all[2..]).await.unwrap();
        assert!(
            found.starts_with("gcloud's application default credentials"),
            "{found}"
        );
        assert!(found.contains(home), "{found}");
        // CLOUDSDK_CONFIG moves gcloud's directory, as for gcloud itself.
        let empty = dir.path().join("empty");
        let env = [("HOME", home), ("CLOUDSDK_CONFIG", empty.to_str().unwrap())];
        let found = origin(&[env[0], env[1], (METADATA_HOST_VAR, "127.0.0.1:9")])
            .await
            .unwrap();
        assert_eq!(found, "the metadata server at 127.0.0.1:9");
        // A named file that is missing is an error, not a reason to look further.
        let err = origin(&[(CREDENTIALS_VAR, "/nonexistent/key.json"), ("HOME", home)])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/key.json"), "{err}");
    }

    #[test]
    fn tokens_stay_out_of_debug_output_and_bad_ones_are_refused() {
        let secret = SecretString::from("ya29.very-secret-token".to_string());
        let bearer = |secret| Token::new(secret, TOKEN_VAR, None).bearer(ACCESS_TOKEN);
        let header = bearer(secret.clone()).unwrap();
        assert!(!format!("{header:?}").contains("very-secret"));
        let shared = SharedClient {
            endpoint: Url::parse(DEFAULT_ENDPOINT).unwrap(),
            credentials: Credentials::Token(secret),
            token: TokenCache::default(),
            origin: TOKEN_VAR.into(),
            quota_project: None,
            credentials_project: None,
            metadata: None,
            metadata_project: tokio::sync::OnceCell::new(),
        };
        assert!(!format!("{shared:?}").contains("very-secret"));
        let err = bearer(SecretString::from("ya29.a b".to_string())).unwrap_err();
        assert!(err.to_string().contains("contains spaces"), "{err}");
        assert!(!err.to_string().contains("ya29"));
        assert!(bearer(SecretString::from(String::new())).is_err());
    }

    #[test]
    fn consumes_only_the_token_variable() {
        assert_eq!(build("gcp-sm:a").unwrap().consumed(), [TOKEN_VAR]);
    }
}
