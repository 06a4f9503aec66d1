//! Where a `gcp-sm` source's access token comes from: a token, a service account key, gcloud's
//! login, the metadata server; the credentials files read off the runtime.

use super::*;

/// Where the access token comes from, in the order they are looked for.
pub(super) enum Credentials {
    /// `GOOGLE_OAUTH_ACCESS_TOKEN`.
    Token(SecretString),
    ServiceAccount(ServiceAccount),
    AuthorizedUser(AuthorizedUser),
    /// The metadata server's base URL, `…/computeMetadata/v1/`; `explicit` when
    /// `GCE_METADATA_HOST` named it.
    Metadata {
        base: Url,
        explicit: bool,
    },
}

/// A service account key file: its key signs the assertion exchanged for a token.
pub(super) struct ServiceAccount {
    pub(super) origin: String,
    pub(super) email: String,
    pub(super) key: RsaKeyPair,
    pub(super) key_id: Option<String>,
    pub(super) token_uri: Url,
    pub(super) project: Option<String>,
    pub(super) quota_project: Option<String>,
}

/// gcloud's application default credentials: a refresh token of the user's login.
pub(super) struct AuthorizedUser {
    pub(super) origin: String,
    pub(super) client_id: String,
    pub(super) client_secret: SecretString,
    pub(super) refresh_token: SecretString,
    pub(super) token_uri: Url,
    pub(super) quota_project: Option<String>,
}

/// The fields of both kinds of credentials file. No `Debug`: it holds keys and refresh tokens.
#[derive(Deserialize)]
struct CredentialsFile {
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    pub(super) client_email: Option<String>,
    #[serde(default, deserialize_with = "oauth::optional_secret_string")]
    pub(super) private_key: Option<SecretString>,
    pub(super) private_key_id: Option<String>,
    pub(super) token_uri: Option<String>,
    pub(super) project_id: Option<String>,
    pub(super) quota_project_id: Option<String>,
    pub(super) client_id: Option<String>,
    #[serde(default, deserialize_with = "oauth::optional_secret_string")]
    pub(super) client_secret: Option<SecretString>,
    #[serde(default, deserialize_with = "oauth::optional_secret_string")]
    pub(super) refresh_token: Option<SecretString>,
}

impl Credentials {
    pub(super) async fn find(context: &Context) -> Result<Self, SourceError> {
        let env = &context.env;
        if let Some(token) = env.get(TOKEN_VAR).filter(|token| !token.is_empty()) {
            let text = token.to_str().ok_or_else(|| SourceError::Config {
                problem: format!("{TOKEN_VAR} is not valid UTF-8"),
            })?;
            return Ok(Self::Token(SecretString::from(text.to_string())));
        }
        if let Some(path) = env.get(CREDENTIALS_VAR).filter(|path| !path.is_empty()) {
            let path = PathBuf::from(path);
            let origin = format!(
                "the credentials file '{}' ({CREDENTIALS_VAR})",
                path.display()
            );
            // The variable is named: a path that was copied wrong is the likely mistake.
            let bytes = read_file(path, false)
                .await
                .map_err(|error| SourceError::Config {
                    problem: format!("{CREDENTIALS_VAR}: {error}"),
                })?
                .unwrap_or_default();
            return Self::from_file(&bytes, origin, context);
        }
        if let Some(path) = gcloud_adc_path(env) {
            let origin = format!(
                "gcloud's application default credentials '{}'",
                path.display()
            );
            if let Some(bytes) = read_file(path, true).await? {
                return Self::from_file(&bytes, origin, context);
            }
        }
        let (host, explicit) = match env.get_str(METADATA_HOST_VAR) {
            Some(host) => (host, true),
            None => (DEFAULT_METADATA_HOST, false),
        };
        let base = Url::parse(&format!("http://{host}/computeMetadata/v1/"))
            .ok()
            .filter(|url| url.path() == "/computeMetadata/v1/")
            .ok_or_else(|| SourceError::Config {
                problem: format!("{METADATA_HOST_VAR} is not a HOST or HOST:PORT"),
            })?;
        Ok(Self::Metadata { base, explicit })
    }

    pub(super) fn from_file(
        bytes: &[u8],
        origin: String,
        context: &Context,
    ) -> Result<Self, SourceError> {
        // serde's messages may quote the value they choke on; only the position is told.
        let file: CredentialsFile =
            serde_json::from_slice(bytes).map_err(|error| SourceError::Config {
                problem: format!(
                    "{origin} is not a Google credentials JSON file (line {}, column {})",
                    error.line(),
                    error.column()
                ),
            })?;
        let missing = |field: &str| SourceError::Config {
            problem: format!("{origin} has no {field}"),
        };
        let token_uri = |text: Option<&str>| {
            http::base_url(
                text.unwrap_or(DEFAULT_TOKEN_URI),
                "token_uri",
                context.settings.allow_insecure_http,
            )
            .map_err(|error| SourceError::Config {
                problem: format!("{origin}: {error}"),
            })
        };
        match file.kind.as_deref() {
            Some("service_account") => {
                let pem = file.private_key.ok_or_else(|| missing("private_key"))?;
                let key = rsa_key(pem.expose_secret()).ok_or_else(|| SourceError::Config {
                    problem: format!("{origin}: private_key is not a PEM RSA private key"),
                })?;
                Ok(Self::ServiceAccount(ServiceAccount {
                    email: file.client_email.ok_or_else(|| missing("client_email"))?,
                    key,
                    key_id: file.private_key_id,
                    token_uri: token_uri(file.token_uri.as_deref())?,
                    project: file.project_id.filter(|project| !project.is_empty()),
                    quota_project: file.quota_project_id,
                    origin,
                }))
            }
            Some("authorized_user") => Ok(Self::AuthorizedUser(AuthorizedUser {
                client_id: file.client_id.ok_or_else(|| missing("client_id"))?,
                client_secret: file.client_secret.ok_or_else(|| missing("client_secret"))?,
                refresh_token: file.refresh_token.ok_or_else(|| missing("refresh_token"))?,
                token_uri: token_uri(file.token_uri.as_deref())?,
                quota_project: file.quota_project_id,
                origin,
            })),
            Some(other) => Err(SourceError::Config {
                problem: format!(
                    "{origin} holds '{other}' credentials, which secretrun cannot use: use a \
                     service account key or `gcloud auth application-default login`, or set \
                     {TOKEN_VAR} (e.g. to $(gcloud auth print-access-token))"
                ),
            }),
            None => Err(missing("type")),
        }
    }

    pub(super) fn origin(&self) -> String {
        match self {
            Self::Token(_) => TOKEN_VAR.into(),
            Self::ServiceAccount(ServiceAccount { origin, .. })
            | Self::AuthorizedUser(AuthorizedUser { origin, .. }) => origin.clone(),
            Self::Metadata { base, .. } => metadata_origin(base),
        }
    }

    pub(super) fn quota_project(&self) -> Option<&str> {
        match self {
            Self::ServiceAccount(ServiceAccount { quota_project, .. })
            | Self::AuthorizedUser(AuthorizedUser { quota_project, .. }) => quota_project
                .as_deref()
                .filter(|project| !project.is_empty()),
            _ => None,
        }
    }

    /// An access token, new unless it is the one given in `GOOGLE_OAUTH_ACCESS_TOKEN`.
    pub(super) async fn token(&self, context: &Context) -> Result<Token, SourceError> {
        match self {
            Self::Token(token) => Ok(Token::new(token.clone(), TOKEN_VAR, None)),
            Self::ServiceAccount(account) => {
                let assertion = account.assertion(unix_now())?;
                let body = form(&[
                    ("grant_type", JWT_GRANT),
                    ("assertion", assertion.expose_secret()),
                ]);
                exchange(
                    context,
                    &account.token_uri,
                    &body,
                    &account.origin,
                    "the key may be deleted or disabled, or this machine's clock is off",
                )
                .await
            }
            Self::AuthorizedUser(user) => {
                let body = form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", &user.client_id),
                    ("client_secret", user.client_secret.expose_secret()),
                    ("refresh_token", user.refresh_token.expose_secret()),
                ]);
                exchange(
                    context,
                    &user.token_uri,
                    &body,
                    &user.origin,
                    "the login has expired or was revoked: run `gcloud auth \
                     application-default login` again",
                )
                .await
            }
            Self::Metadata { base, explicit } => metadata_token(context, base, *explicit).await,
        }
    }
}

impl ServiceAccount {
    /// The signed JWT (RS256) Google's token endpoint exchanges for an access token.
    pub(super) fn assertion(&self, now: u64) -> Result<SecretString, SourceError> {
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let Some(key_id) = &self.key_id {
            header["kid"] = Value::from(key_id.as_str());
        }
        let claims = serde_json::json!({
            "iss": self.email,
            "scope": SCOPE,
            "aud": self.token_uri.as_str(),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| SourceError::Config {
                problem: format!("{}: cannot sign with its private_key", self.origin),
            })?;
        Ok(SecretString::from(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

/// An RSA key in PEM, PKCS#8 as Google issues them (PKCS#1 accepted too).
fn rsa_key(pem: &str) -> Option<RsaKeyPair> {
    match PrivateKeyDer::from_pem_slice(pem.as_bytes()).ok()? {
        PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).ok(),
        PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()).ok(),
        _ => None,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// `application/x-www-form-urlencoded`; it carries a credential, so it stays secret.
fn form(pairs: &[(&str, &str)]) -> SecretString {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    serializer.extend_pairs(pairs);
    SecretString::from(serializer.finish())
}

/// Exchanges a grant at an OAuth 2.0 token endpoint. `refused` says what a refusal means for
/// these credentials: Google's 400 `invalid_grant` covers them all.
async fn exchange(
    context: &Context,
    uri: &Url,
    body: &SecretString,
    origin: &str,
    refused: &str,
) -> Result<Token, SourceError> {
    let response = http::send(context, "Google OAuth token request", |client| {
        client
            .post(uri.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.expose_secret().to_owned())
    })
    .await
    .map_err(|error| SourceError::Config {
        problem: match error {
            SourceError::Http {
                status: status @ (400 | 401 | 403),
                ..
            } => format!(
                "{origin}: the token endpoint {uri} refused the credentials (HTTP {status}): \
                 {refused}"
            ),
            other => format!("{origin}: no access token from {uri}: {other}"),
        },
    })?;
    token_from(response, origin).await
}

async fn token_from(response: Response, origin: &str) -> Result<Token, SourceError> {
    // As the token endpoint and the metadata server answer.
    let answer: oauth::TokenAnswer = http::json(response, "OAuth token").await?;
    if let Some(kind) = answer
        .token_type
        .as_deref()
        .filter(|kind| !kind.eq_ignore_ascii_case("bearer"))
    {
        return Err(SourceError::BadResponse {
            problem: format!("{origin} gave a '{kind}' token, not a Bearer token"),
        });
    }
    Ok(Token::from_answer(answer, origin))
}

/// Reads a credentials file off the runtime; `None` when `optional` and it does not exist.
async fn read_file(path: PathBuf, optional: bool) -> Result<Option<Vec<u8>>, SourceError> {
    match crate::providers::read_credential_file(&path).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(SourceError::Read { source, .. })
            if optional && source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// gcloud's ADC file: in `$CLOUDSDK_CONFIG` when set (gcloud's own configuration directory),
/// else `~/.config/gcloud`.
fn gcloud_adc_path(env: &ParentEnv) -> Option<PathBuf> {
    let dir = match env.get("CLOUDSDK_CONFIG").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env.get("HOME").filter(|home| !home.is_empty())?)
            .join(".config")
            .join("gcloud"),
    };
    Some(dir.join("application_default_credentials.json"))
}

fn metadata_origin(base: &Url) -> String {
    let host = base.host_str().unwrap_or_default();
    match base.port() {
        Some(port) => format!("the metadata server at {host}:{port}"),
        None => format!("the metadata server at {host}"),
    }
}

pub(super) fn metadata_url(base: &Url, path: &str) -> Result<Url, SourceError> {
    base.join(path).map_err(|_| SourceError::Config {
        problem: format!("{METADATA_HOST_VAR} does not make a valid URL"),
    })
}

/// The last place looked: the metadata server, when on GCP.
async fn metadata_token(
    context: &Context,
    base: &Url,
    explicit: bool,
) -> Result<Token, SourceError> {
    // Off GCP the default name does not resolve: that ends the search without an HTTP attempt,
    // let alone retries.
    if !explicit && !resolves(base).await {
        return Err(SourceError::Config {
            problem: format!(
                "no Google Cloud credentials: set {CREDENTIALS_VAR} to a service account key \
                 file, run `gcloud auth application-default login`, or set {TOKEN_VAR} (e.g. to \
                 $(gcloud auth print-access-token)); not on GCP either ({DEFAULT_METADATA_HOST} \
                 does not resolve)"
            ),
        });
    }
    let origin = metadata_origin(base);
    let url = metadata_url(base, "instance/service-accounts/default/token")?;
    let response = metadata_get(context, &url)
        .await
        .map_err(|error| SourceError::Config {
            problem: format!("{origin}: no access token: {error}"),
        })?;
    token_from(response, &origin).await
}

async fn resolves(base: &Url) -> bool {
    let (Some(host), Some(port)) = (base.host_str(), base.port_or_known_default()) else {
        return false;
    };
    let lookup = tokio::time::timeout(METADATA_PROBE, tokio::net::lookup_host((host, port)));
    match lookup.await {
        Ok(Ok(mut addresses)) => addresses.next().is_some(),
        _ => false,
    }
}

pub(super) async fn metadata_get(context: &Context, url: &Url) -> Result<Response, SourceError> {
    let response = http::send(context, "GCE metadata request", |client| {
        client
            .get(url.clone())
            .header(METADATA_FLAVOR, HeaderValue::from_static("Google"))
    })
    .await?;
    // Whatever answers on that name, only the metadata server answers with its flavour.
    let flavor = response.headers().get(METADATA_FLAVOR);
    if flavor.and_then(|value| value.to_str().ok()) != Some("Google") {
        return Err(SourceError::BadResponse {
            problem: "the answer is not from a GCP metadata server (no Metadata-Flavor: Google)"
                .into(),
        });
    }
    Ok(response)
}
