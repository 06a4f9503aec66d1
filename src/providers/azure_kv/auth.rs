//! How an `azure-kv` source gets its token: the credentials DefaultAzureCredential tries (client
//! secret, workload identity, App Service, IMDS, the Azure CLI), in its order, and what a token
//! endpoint answers.

use super::*;

/// A credential configured through the environment, in `DefaultAzureCredential`'s order.
#[derive(Debug)]
pub(super) enum Credential {
    ClientSecret {
        client_id: String,
        secret: SecretString,
    },
    WorkloadIdentity {
        client_id: String,
        token_file: PathBuf,
    },
    AppService {
        endpoint: String,
        header: SecretString,
        client_id: Option<String>,
    },
}

impl Credential {
    /// The configured credential; `None` leaves IMDS and the Azure CLI to try. A half-configured
    /// one is an error, not a silent fall back to another identity.
    pub(super) fn from_env(env: &ParentEnv) -> Result<Option<Self>, SourceError> {
        let client_id = env.get_str("AZURE_CLIENT_ID").map(str::to_string);
        let missing_id = |variable: &str| SourceError::Config {
            problem: format!("{variable} is set but AZURE_CLIENT_ID is not"),
        };
        if let Some(secret) = env.get("AZURE_CLIENT_SECRET").filter(|s| !s.is_empty()) {
            let secret = secret.to_str().ok_or_else(|| SourceError::Config {
                problem: "AZURE_CLIENT_SECRET is not valid UTF-8".into(),
            })?;
            return Ok(Some(Self::ClientSecret {
                client_id: client_id.ok_or_else(|| missing_id("AZURE_CLIENT_SECRET"))?,
                secret: SecretString::from(secret.to_string()),
            }));
        }
        if env.get_str("AZURE_CLIENT_CERTIFICATE_PATH").is_some() {
            return Err(SourceError::Config {
                problem: "AZURE_CLIENT_CERTIFICATE_PATH is set, but certificate credentials are \
                          not supported; use a client secret, workload identity, a managed \
                          identity or the Azure CLI"
                    .into(),
            });
        }
        if let Some(file) = env
            .get("AZURE_FEDERATED_TOKEN_FILE")
            .filter(|f| !f.is_empty())
        {
            return Ok(Some(Self::WorkloadIdentity {
                client_id: client_id.ok_or_else(|| missing_id("AZURE_FEDERATED_TOKEN_FILE"))?,
                token_file: PathBuf::from(file),
            }));
        }
        match (
            env.get_str("IDENTITY_ENDPOINT"),
            env.get_str("IDENTITY_HEADER"),
        ) {
            (Some(endpoint), Some(header)) => Ok(Some(Self::AppService {
                endpoint: endpoint.to_string(),
                header: SecretString::from(header.to_string()),
                client_id,
            })),
            _ => Ok(None),
        }
    }
}

/// A token for `scope`, from the first credential available.
pub(super) async fn fetch_token(
    context: &Context,
    tenant: Option<&str>,
    scope: &str,
) -> Result<Token, SourceError> {
    let resource = resource_of(scope);
    let (token, credential) = match Credential::from_env(&context.env)? {
        Some(Credential::ClientSecret { client_id, secret }) => {
            let tenant = require_tenant(tenant, CLIENT_SECRET)?;
            let fields = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_secret", secret.expose_secret()),
                ("scope", scope),
            ];
            let token = entra_token(context, CLIENT_SECRET, tenant, &fields).await?;
            (token, CLIENT_SECRET)
        }
        Some(Credential::WorkloadIdentity {
            client_id,
            token_file,
        }) => {
            let tenant = require_tenant(tenant, WORKLOAD_IDENTITY)?;
            let assertion = read_assertion(&token_file).await?;
            let fields = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion.expose_secret()),
                ("scope", scope),
            ];
            let token = entra_token(context, WORKLOAD_IDENTITY, tenant, &fields).await?;
            (token, WORKLOAD_IDENTITY)
        }
        Some(Credential::AppService {
            endpoint,
            header,
            client_id,
        }) => {
            let token =
                app_service_token(context, &endpoint, &header, client_id.as_deref(), resource)
                    .await?;
            (token, APP_SERVICE)
        }
        None => {
            let client_id = context.env.get_str("AZURE_CLIENT_ID");
            if let Some(token) = imds_token(context, resource, client_id).await? {
                (token, IMDS)
            } else if let Some(token) = cli_token(context, resource).await? {
                (token, AZURE_CLI)
            } else {
                return Err(SourceError::Config {
                    problem: "no Azure credential: set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET \
                              (and AZURE_TENANT_ID), or AZURE_FEDERATED_TOKEN_FILE (workload \
                              identity), run on Azure with a managed identity, or log in with \
                              `az login` (az was not found on PATH)"
                        .into(),
                });
            }
        }
    };
    tracing::debug!(credential, "azure token obtained");
    Ok(token)
}

fn require_tenant<'a>(tenant: Option<&'a str>, credential: &str) -> Result<&'a str, SourceError> {
    match tenant {
        Some(tenant) if valid_tenant(tenant) => Ok(tenant),
        Some(_) => Err(SourceError::Config {
            problem: "AZURE_TENANT_ID is not a tenant id or domain".into(),
        }),
        None => Err(SourceError::Config {
            problem: format!(
                "{credential} needs a tenant: set AZURE_TENANT_ID (the vault's challenge named \
                 none)"
            ),
        }),
    }
}

/// The federated token Kubernetes projects into the pod (and rotates: read on each use).
async fn read_assertion(path: &Path) -> Result<SecretString, SourceError> {
    let bytes = crate::providers::read_credential_file(path).await?;
    let text = String::from_utf8(bytes).map_err(|_| SourceError::Config {
        problem: "AZURE_FEDERATED_TOKEN_FILE does not hold UTF-8 text".into(),
    })?;
    let text = SecretString::from(text);
    let token = text.expose_secret().trim();
    if token.is_empty() {
        return Err(SourceError::Config {
            problem: "AZURE_FEDERATED_TOKEN_FILE is empty".into(),
        });
    }
    Ok(SecretString::from(token.to_string()))
}

/// Entra ID's client credentials grant: `POST {authority}/{tenant}/oauth2/v2.0/token`.
async fn entra_token(
    context: &Context,
    credential: &'static str,
    tenant: &str,
    fields: &[(&str, &str)],
) -> Result<Token, SourceError> {
    let authority = context
        .env
        .get_str("AZURE_AUTHORITY_HOST")
        .unwrap_or(DEFAULT_AUTHORITY_HOST);
    let mut url = http::base_url(
        authority,
        "AZURE_AUTHORITY_HOST",
        context.settings.allow_insecure_http,
    )?;
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty()
            .extend([tenant, "oauth2", "v2.0", "token"]);
    }
    // Built by hand: reqwest's `form` feature is off.
    let body = SecretString::from(
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish(),
    );
    // Entra ID answers a refused credential with 400 or 401 and an OAuth error body.
    let refused = |status: StatusCode| matches!(status.as_u16(), 400 | 401);
    let response = http::send_accepting(context, credential, refused, |client| {
        client
            .post(url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.expose_secret().to_string())
    })
    .await
    .map_err(|error| failed(credential, &error))?;
    token_from(response, credential).await
}

/// Managed identity in App Service, Functions and Container Apps.
async fn app_service_token(
    context: &Context,
    endpoint: &str,
    header: &SecretString,
    client_id: Option<&str>,
    resource: &str,
) -> Result<Token, SourceError> {
    let mut url = http::base_url(
        endpoint,
        "IDENTITY_ENDPOINT",
        context.settings.allow_insecure_http,
    )?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("api-version", "2019-08-01")
            .append_pair("resource", resource);
        if let Some(client_id) = client_id {
            query.append_pair("client_id", client_id);
        }
    }
    let mut header =
        HeaderValue::from_str(header.expose_secret()).map_err(|_| SourceError::Config {
            problem: "IDENTITY_HEADER is not a valid header value".into(),
        })?;
    header.set_sensitive(true);
    let refused = |status: StatusCode| matches!(status.as_u16(), 400..=404);
    let response = http::send_accepting(context, APP_SERVICE, refused, |client| {
        client
            .get(url.clone())
            .header("X-IDENTITY-HEADER", header.clone())
    })
    .await
    .map_err(|error| failed(APP_SERVICE, &error))?;
    token_from(response, APP_SERVICE).await
}

/// Managed identity from a VM's instance metadata service; `None` when there is none.
async fn imds_token(
    context: &Context,
    resource: &str,
    client_id: Option<&str>,
) -> Result<Option<Token>, SourceError> {
    let mut url = imds_url(&context.env, context.settings.allow_insecure_http)?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("api-version", "2018-02-01")
            .append_pair("resource", resource);
        if let Some(client_id) = client_id {
            query.append_pair("client_id", client_id);
        }
    }
    // Is IMDS there at all? Without the Metadata header it refuses at once; outside Azure
    // nothing answers. Only that much is asked of the probe, so it is sent once, not retried.
    let probe = context
        .http_client()?
        .get(url.clone())
        .timeout(IMDS_PROBE_TIMEOUT)
        .send()
        .await;
    if let Err(error) = probe {
        tracing::debug!(error = %error, "no instance metadata service");
        return Ok(None);
    }
    // 400: the machine has no (such) managed identity, so the next credential is tried.
    let no_identity = |status: StatusCode| status == StatusCode::BAD_REQUEST;
    let response = http::send_accepting(context, IMDS, no_identity, |client| {
        client.get(url.clone()).header("Metadata", "true")
    })
    .await
    .map_err(|error| failed(IMDS, &error))?;
    if response.status() == StatusCode::BAD_REQUEST {
        tracing::debug!("the instance metadata service has no managed identity for us");
        return Ok(None);
    }
    token_from(response, IMDS).await.map(Some)
}

/// `{host}/metadata/identity/oauth2/token`: plain http to the IMDS address, or where
/// `AZURE_POD_IDENTITY_AUTHORITY_HOST` says under the usual rules.
pub(super) fn imds_url(env: &ParentEnv, allow_insecure: bool) -> Result<Url, SourceError> {
    let (host, allow_insecure) = match env.get_str("AZURE_POD_IDENTITY_AUTHORITY_HOST") {
        Some(host) if host.trim_end_matches('/') != IMDS_ADDRESS => (host, allow_insecure),
        _ => (IMDS_ADDRESS, true),
    };
    let mut url = http::base_url(host, "AZURE_POD_IDENTITY_AUTHORITY_HOST", allow_insecure)?;
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty()
            .extend(["metadata", "identity", "oauth2", "token"]);
    }
    Ok(url)
}

/// A token endpoint's answer: the token, or an error that names the credential and what the
/// endpoint said (its OAuth error code and first line of description, never a secret).
async fn token_from(response: Response, credential: &str) -> Result<Token, SourceError> {
    let status = response.status();
    if status.is_success() {
        let answer: oauth::TokenAnswer = http::json(response, "Azure token")
            .await
            .map_err(|error| failed(credential, &error))?;
        return Ok(Token::from_answer(answer, credential));
    }
    let answer: OAuthError = http::json(response, "Azure token error")
        .await
        .unwrap_or_default();
    let detail: Vec<&str> = [
        answer.error.as_deref(),
        answer
            .error_description
            .as_deref()
            .or(answer.message.as_deref())
            .and_then(|text| text.lines().next()),
    ]
    .into_iter()
    .flatten()
    .filter(|text| !text.is_empty())
    .collect();
    let detail = match detail.join(": ") {
        text if text.is_empty() => String::new(),
        text => format!(": {}", truncate(&text, 300)),
    };
    let status = SourceError::Http {
        status: status.as_u16(),
        retry_after: None,
    };
    Err(SourceError::Config {
        problem: format!("{credential} failed: {status}{detail}"),
    })
}

/// A credential's failure, naming the credential.
fn failed(credential: &str, error: &SourceError) -> SourceError {
    SourceError::Config {
        problem: format!("{credential} failed: {error}"),
    }
}

fn truncate(text: &str, limit: usize) -> &str {
    match text.char_indices().nth(limit) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// Entra ID's and IMDS's `{"error", "error_description"}`; App Service's `{"message"}`.
#[derive(Deserialize, Default)]
pub(crate) struct OAuthError {
    pub(super) error: Option<String>,
    pub(super) error_description: Option<String>,
    pub(super) message: Option<String>,
}

#[derive(Deserialize)]
struct CliAnswer {
    #[serde(rename = "accessToken", deserialize_with = "oauth::secret_string")]
    pub(super) access_token: SecretString,
}

/// The Azure CLI's token; `None` when `az` is not on `PATH`.
async fn cli_token(context: &Context, resource: &str) -> Result<Option<Token>, SourceError> {
    let Some(program) = find_program(context.env.get("PATH"), "az") else {
        return Ok(None);
    };
    let mut command = std::process::Command::new(&program);
    command
        .args([
            "account",
            "get-access-token",
            "--resource",
            resource,
            "-o",
            "json",
        ])
        .env_clear()
        .envs(context.env.iter())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(tenant) = context.env.get_str("AZURE_TENANT_ID") {
        command.args(["--tenant", tenant]);
    }
    let child = command.spawn().map_err(|error| SourceError::Config {
        problem: format!(
            "{AZURE_CLI} failed: cannot run {}: {error}",
            program.display()
        ),
    })?;
    let pid = child.id();
    // tokio's `process` feature is off: the blocking pool waits, and a timeout kills.
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    let timeout = context.settings.request_timeout;
    let output = match tokio::time::timeout(timeout, waiting).await {
        Ok(Ok(Ok(output))) => output,
        Ok(Ok(Err(error))) => {
            return Err(SourceError::Config {
                problem: format!("{AZURE_CLI} failed: {error}"),
            })
        }
        Ok(Err(_)) => {
            return Err(SourceError::Config {
                problem: format!("{AZURE_CLI} failed: the wait for az stopped unexpectedly"),
            })
        }
        Err(_) => {
            // Still running, so the pid is still az's (the waiting thread has not reaped it).
            if let Ok(pid) = i32::try_from(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            return Err(failed(AZURE_CLI, &SourceError::Timeout { after: timeout }));
        }
    };
    if !output.status.success() {
        // az's own message ("Please run 'az login' to setup account.") says what to do.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said = stderr
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .map(|line| format!(": {}", truncate(line, 300)))
            .unwrap_or_default();
        return Err(SourceError::Config {
            problem: format!("{AZURE_CLI} failed: az exited with {}{said}", output.status),
        });
    }
    let answer: CliAnswer =
        serde_json::from_slice(&output.stdout).map_err(|_| SourceError::Config {
            problem: format!("{AZURE_CLI} failed: az did not print the expected JSON"),
        })?;
    // az keeps and refreshes its own token; how long this one lasts is not asked.
    Ok(Some(Token::new(answer.access_token, AZURE_CLI, None)))
}

/// The first executable file named `name` in the directories of `path`.
pub(super) fn find_program(path: Option<&OsStr>, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}
