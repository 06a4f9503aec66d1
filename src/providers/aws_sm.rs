//! `aws-sm:`: AWS Secrets Manager, one secret by name or ARN, or every secret under a name prefix.
//!
//! ```text
//! aws-sm:NAME[?OPTIONS][#KEY]          one secret by name, e.g. aws-sm:stream-daemon/twitch
//! aws-sm:ARN[?OPTIONS][#KEY]           one secret by ARN,
//!                                      e.g. aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf
//! aws-sm:PREFIX*[?prefix=P]            every secret whose name starts with PREFIX,
//!                                      e.g. aws-sm:stream-daemon/*
//! ```
//!
//! What a secret becomes:
//!
//! - a `SecretString` holding a JSON object: one variable per key, upper-cased and sanitized
//!   ([`super::naming::expand_object`]): `{"client-id": ..}` → `CLIENT_ID`. `#KEY` picks that one key.
//! - any other `SecretString` (plain text, or JSON that is not an object, kept as written) and a
//!   `SecretBinary` (raw bytes): one variable, named by `#KEY` when given, else by the last
//!   segment of the secret's name (`stream-daemon/db-password` → `DB_PASSWORD`). Both names go
//!   through the same mapping as a JSON key, so a spec yields the same name whether the secret
//!   holds JSON or not.
//!
//! Options:
//!
//! - `prefix=P`: put `P` before every name (`prefix=TWITCH_` → `TWITCH_CLIENT_ID`).
//! - `version-stage=S`, `version-id=ID`: read that version instead of `AWSCURRENT` (one secret
//!   only: `BatchGetSecretValue` has no per-secret version).
//!
//! By prefix (a location ending in `*`, which no AWS secret name can contain): `ListSecrets`
//! with a `name` filter, every page; only the names that really start with the text before the
//! `*` are kept (a filter value starting with `!` is a negation to AWS, so the server's answer
//! alone is not trusted to be the prefix's secrets); `BatchGetSecretValue` reads them 20 at a
//! time; each secret is mapped as above, in order of secret name, so when two secrets define
//! the same variable the one whose name sorts last wins. `#KEY` and the version
//! options are refused there, a prefix that matches nothing is an error rather than silently
//! nothing, and a bare `*` is refused: reading a whole account is never what a typo should do.
//! IAM needs `secretsmanager:ListSecrets`, `secretsmanager:BatchGetSecretValue` and
//! `secretsmanager:GetSecretValue`.
//!
//! Configuration is AWS's own: the standard chain of `aws-config` (environment, profile files,
//! SSO, `credential_process`, web identity, ECS and EC2 instance metadata). The region, profile
//! and endpoint (`AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_PROFILE`,
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER`/`AWS_ENDPOINT_URL`) are read from the run's
//! [`ParentEnv`](crate::environment::ParentEnv) snapshot and passed to the SDK explicitly;
//! everything else (credentials above all) `aws-config` reads from the real process
//! environment, which at run time is the same environment (`aws-config` offers no way to hand
//! it a snapshot outside its test utilities). An ARN's own region beats the configured one, so
//! an ARN works from any region, and even with none configured.
//!
//! The SDK is loaded on the first fetch of an `aws-sm` source and shared by all of them: a run
//! without one never loads `aws-config` nor probes instance metadata. Retries and timeouts are
//! the SDK's (standard mode with the run's attempts and backoff, each attempt limited by
//! `--timeout`), not [`super::retry`]'s loop. An endpoint variable with plain `http://` to a host
//! other than loopback is refused unless `--allow-insecure-http`, as for every provider. The
//! credential variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) are
//! kept from the child; region, profile and endpoint are not, as the child may need them.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use aws_sdk_secretsmanager::Client;

use crate::environment::ParentEnv;
use crate::error::{SourceError, SpecProblem};
use crate::secret::SecretValue;
use crate::source::SourceSpec;

use super::naming::{expand_object, from_path, sanitize};
use super::{env_name, Context, Entries, FetchFuture, Provider};

/// `BatchGetSecretValue` takes at most 20 ids per call.
const BATCH_SIZE: usize = 20;

/// The SDK client of a run, created by the first `aws-sm` fetch.
#[derive(Debug)]
pub struct SharedClient {
    client: Client,
    /// Whether the chain found a region; without one only an ARN (which names its own) works.
    has_region: bool,
}

impl SharedClient {
    async fn load(context: &Context) -> Result<Self, SourceError> {
        let found = EnvSettings::from_env(&context.env);
        let endpoint = found
            .endpoint
            .map(|(setting, url)| {
                super::http::base_url(url, setting, context.settings.allow_insecure_http)
                    .map(|_| url.to_string())
            })
            .transpose()?;
        let policy = &context.settings.retry;
        // The SDK retries and times out on its own, classifying its errors (throttling, 5xx,
        // transient I/O, clock skew) better than we could from outside; wrapping its calls in
        // our retry loop as well would multiply the attempts.
        let retry = RetryConfig::standard()
            .with_max_attempts(policy.max_attempts.max(1))
            .with_initial_backoff(policy.base_delay)
            .with_max_backoff(policy.max_delay);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(context.settings.request_timeout)
            .operation_attempt_timeout(context.settings.request_timeout)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(region) = found.region {
            loader = loader.region(Region::new(region.to_string()));
        }
        if let Some(profile) = found.profile {
            loader = loader.profile_name(profile);
        }
        let sdk_config = loader.load().await;
        let mut config = aws_sdk_secretsmanager::config::Builder::from(&sdk_config);
        if let Some(url) = endpoint {
            config = config.endpoint_url(url);
        }
        tracing::debug!(
            region = sdk_config.region().map(|region| region.as_ref()),
            "AWS SDK configured"
        );
        Ok(Self {
            has_region: sdk_config.region().is_some(),
            client: Client::from_conf(config.build()),
        })
    }
}

/// The settings secretrun itself takes from the parent environment.
#[derive(Debug, Default, PartialEq, Eq)]
struct EnvSettings<'a> {
    region: Option<&'a str>,
    profile: Option<&'a str>,
    /// The variable that set it, and the URL.
    endpoint: Option<(&'static str, &'a str)>,
}

impl<'a> EnvSettings<'a> {
    /// AWS's precedence: `AWS_REGION` over `AWS_DEFAULT_REGION`, the service's own endpoint
    /// variable over the global one, none when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
    fn from_env(env: &'a ParentEnv) -> Self {
        let first = |names: &[&'static str]| {
            names
                .iter()
                .find_map(|name| env.get_str(name).map(|value| (*name, value)))
        };
        let ignore_endpoints = env
            .get_str("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
        Self {
            region: first(&["AWS_REGION", "AWS_DEFAULT_REGION"]).map(|(_, value)| value),
            profile: env.get_str("AWS_PROFILE"),
            endpoint: first(&["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"])
                .filter(|_| !ignore_endpoints),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// One secret, by name or ARN.
    Secret {
        id: String,
        version_stage: Option<String>,
        version_id: Option<String>,
        key: Option<String>,
    },
    /// Every secret whose name starts with this.
    Prefix(String),
}

#[derive(Debug)]
pub struct AwsSm {
    context: Arc<Context>,
    target: Target,
    /// Put before every name (the `prefix=` option, not the listing prefix).
    name_prefix: String,
}

impl AwsSm {
    pub fn from_spec(spec: &mut SourceSpec, context: Arc<Context>) -> Result<Self, SpecProblem> {
        let name_prefix = spec.take_value("prefix")?.unwrap_or_default();
        let version_stage = spec.take_value("version-stage")?;
        let version_id = spec.take_value("version-id")?;
        let target = match spec.location.strip_suffix('*') {
            Some("") => return Err(SpecProblem::MissingLocation),
            Some(prefix) => {
                let versioned = [
                    ("version-stage", &version_stage),
                    ("version-id", &version_id),
                ];
                if let Some((option, _)) = versioned.iter().find(|(_, value)| value.is_some()) {
                    return Err(SpecProblem::BadOptionValue {
                        option: option.to_string(),
                        expected: "a single secret, not a prefix ending in '*'",
                    });
                }
                spec.finish(false)?;
                Target::Prefix(prefix.to_string())
            }
            None => {
                spec.finish(true)?;
                Target::Secret {
                    id: spec.location.clone(),
                    version_stage,
                    version_id,
                    key: spec.key.clone(),
                }
            }
        };
        Ok(Self {
            context,
            target,
            name_prefix,
        })
    }

    async fn fetch_secret(
        &self,
        shared: &SharedClient,
        id: &str,
        version_stage: Option<&str>,
        version_id: Option<&str>,
        key: Option<&str>,
    ) -> Result<Entries, SourceError> {
        let region = arn_region(id);
        if region.is_none() && !shared.has_region {
            return Err(no_region());
        }
        let request = shared
            .client
            .get_secret_value()
            .secret_id(id)
            .set_version_stage(version_stage.map(str::to_string))
            .set_version_id(version_id.map(str::to_string));
        let sent = match region {
            // A secret lives in one region: its ARN's, which the request must be signed for.
            Some(region) => {
                let config = aws_sdk_secretsmanager::config::Builder::default()
                    .region(Region::new(region.to_string()));
                request.customize().config_override(config).send().await
            }
            None => request.send().await,
        };
        let subject = secret_subject(id, version_stage, version_id);
        let output = sent.map_err(|error| self.sdk_error(error, &subject))?;
        let name = output.name().unwrap_or(id);
        let content = content(
            output.secret_string(),
            output.secret_binary().map(|b| b.as_ref()),
        )
        .ok_or_else(|| no_content(&subject))?;
        secret_entries(name, content, &self.name_prefix, key)
    }

    async fn fetch_prefix(
        &self,
        shared: &SharedClient,
        prefix: &str,
    ) -> Result<Entries, SourceError> {
        if !shared.has_region {
            return Err(no_region());
        }
        let listing_subject = format!("secrets under '{prefix}'");
        let filter = Filter::builder()
            .key(FilterNameStringType::Name)
            .values(prefix)
            .build();
        let mut pages = shared
            .client
            .list_secrets()
            .filters(filter)
            .into_paginator()
            .send();
        let mut arns = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| self.sdk_error(error, &listing_subject))?;
            for entry in page.secret_list() {
                if let (Some(name), Some(arn)) = (entry.name(), entry.arn()) {
                    if name.starts_with(prefix) {
                        arns.push((name.to_string(), arn.to_string()));
                    }
                }
            }
        }
        if arns.is_empty() {
            return Err(SourceError::NotFound {
                what: format!("no secret whose name starts with '{prefix}'"),
            });
        }
        arns.sort();
        tracing::debug!(prefix, secrets = arns.len(), "listed");

        let mut secrets: Vec<(String, Entries)> = Vec::with_capacity(arns.len());
        for chunk in arns.chunks(BATCH_SIZE) {
            let ids: Vec<String> = chunk.iter().map(|(_, arn)| arn.clone()).collect();
            tracing::debug!(secrets = ids.len(), "BatchGetSecretValue");
            let mut pages = shared
                .client
                .batch_get_secret_value()
                .set_secret_id_list(Some(ids))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|error| self.sdk_error(error, &listing_subject))?;
                if let Some(failed) = page.errors().first() {
                    let id = failed.secret_id().unwrap_or(prefix);
                    return Err(service_error(
                        failed.error_code(),
                        failed.message(),
                        None,
                        &secret_subject(id, None, None),
                    ));
                }
                for value in page.secret_values() {
                    let name = value.name().or(value.arn()).unwrap_or_default();
                    let subject = secret_subject(name, None, None);
                    let content = content(
                        value.secret_string(),
                        value.secret_binary().map(|b| b.as_ref()),
                    )
                    .ok_or_else(|| no_content(&subject))?;
                    let entries = secret_entries(name, content, &self.name_prefix, None)?;
                    secrets.push((name.to_string(), entries));
                }
            }
        }
        // Batches answer in no promised order; the merge order is the names'.
        secrets.sort_by(|(a, _), (b, _)| a.cmp(b));
        Ok(secrets
            .into_iter()
            .flat_map(|(_, entries)| entries)
            .collect())
    }

    fn sdk_error<E>(&self, error: SdkError<E, HttpResponse>, subject: &str) -> SourceError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        sdk_error(error, subject, self.context.settings.request_timeout)
    }
}

impl Provider for AwsSm {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let shared = self
                .context
                .aws
                .get_or_try_init(|| SharedClient::load(&self.context))
                .await?;
            match &self.target {
                Target::Secret {
                    id,
                    version_stage,
                    version_id,
                    key,
                } => {
                    self.fetch_secret(
                        shared,
                        id,
                        version_stage.as_deref(),
                        version_id.as_deref(),
                        key.as_deref(),
                    )
                    .await
                }
                Target::Prefix(prefix) => self.fetch_prefix(shared, prefix).await,
            }
        })
    }

    fn consumed(&self) -> &'static [&'static str] {
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ]
    }
}

/// What a secret version holds.
#[derive(Debug, Clone, Copy)]
enum Content<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

fn content<'a>(text: Option<&'a str>, binary: Option<&'a [u8]>) -> Option<Content<'a>> {
    text.map(Content::Text).or(binary.map(Content::Binary))
}

/// The variables one secret yields (see the module documentation).
fn secret_entries(
    secret_name: &str,
    content: Content<'_>,
    name_prefix: &str,
    key: Option<&str>,
) -> Result<Entries, SourceError> {
    let bytes = match content {
        Content::Text(text) => {
            if let Ok(serde_json::Value::Object(object)) = serde_json::from_str(text) {
                return expand_object(&object, name_prefix, key);
            }
            text.as_bytes()
        }
        Content::Binary(bytes) => bytes,
    };
    let name = key.map_or_else(|| from_path(secret_name), sanitize);
    Ok(vec![(
        env_name(format!("{name_prefix}{name}"))?,
        SecretValue::new(bytes.to_vec()),
    )])
}

/// The region of `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`.
fn arn_region(id: &str) -> Option<&str> {
    let mut parts = id.splitn(5, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("secretsmanager"), Some(region)) if !region.is_empty() => {
            Some(region)
        }
        _ => None,
    }
}

fn no_region() -> SourceError {
    SourceError::Config {
        problem: "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), set `region` in the AWS \
                  profile, or name the secret by its full ARN"
            .into(),
    }
}

fn no_content(subject: &str) -> SourceError {
    SourceError::BadResponse {
        problem: format!("{subject} has neither SecretString nor SecretBinary"),
    }
}

/// How errors name a secret: `secret 'app/db'`, with the version asked for.
fn secret_subject(id: &str, version_stage: Option<&str>, version_id: Option<&str>) -> String {
    let mut subject = format!("secret '{id}'");
    if let Some(stage) = version_stage {
        subject.push_str(&format!(" at version stage '{stage}'"));
    }
    if let Some(version) = version_id {
        subject.push_str(&format!(" at version id '{version}'"));
    }
    subject
}

/// An SDK failure as our own, shorter message. No variant's text can hold a secret value (the
/// only response text used is a service error's message), but the SDK's own `Display` nests
/// every cause and `Debug` dumps the raw response, so neither is used.
fn sdk_error<E>(error: SdkError<E, HttpResponse>, subject: &str, timeout: Duration) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &error {
        SdkError::ServiceError(failure) => service_error(
            error.code(),
            error.message(),
            Some(failure.raw().status().as_u16()),
            subject,
        ),
        SdkError::TimeoutError(_) => SourceError::Timeout { after: timeout },
        SdkError::DispatchFailure(failure) => match failure.as_connector_error() {
            Some(connector) if connector.is_timeout() => SourceError::Timeout { after: timeout },
            Some(connector) if connector.is_io() => SourceError::Network {
                detail: root_cause(connector),
            },
            // Not the network: no credentials found, or the endpoint could not be resolved.
            Some(connector) => SourceError::Config {
                problem: format!("cannot send the request: {}", root_cause(connector)),
            },
            None => SourceError::Network {
                detail: "the request could not be sent".into(),
            },
        },
        SdkError::ConstructionFailure(_) => SourceError::Config {
            problem: format!("cannot build the request: {}", root_cause(&error)),
        },
        // Its cause may quote the unparsable body, which may be a secret.
        SdkError::ResponseError(failure) => SourceError::BadResponse {
            problem: format!(
                "the answer (HTTP {}) could not be parsed",
                failure.raw().status().as_u16()
            ),
        },
        _ => SourceError::BadResponse {
            problem: "the AWS SDK failed".into(),
        },
    }
}

/// A service error by its type (`code`); `status` only when the type is unknown, since emulators
/// and proxies answer with other statuses than AWS (moto: 404 for a missing secret, AWS: 400).
fn service_error(
    code: Option<&str>,
    message: Option<&str>,
    status: Option<u16>,
    subject: &str,
) -> SourceError {
    let Some(code) = code.filter(|code| !code.is_empty()) else {
        return SourceError::Http {
            status: status.unwrap_or(0),
            retry_after: None,
        };
    };
    let by_type = match code {
        "ResourceNotFoundException" => {
            return SourceError::NotFound {
                what: subject.to_string(),
            }
        }
        // Who is asking could not be established: 401's hint (credentials missing, invalid,
        // expired) is the one to follow.
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "RequestExpired" => Some(401),
        // Established, but not allowed (to read the secret, or to decrypt it with its KMS key).
        "AccessDeniedException" | "AccessDenied" | "DecryptionFailure" => Some(403),
        "InvalidParameterException" | "InvalidRequestException" | "ValidationException" => {
            Some(400)
        }
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" => Some(429),
        "InternalServiceError" | "InternalFailure" | "ServiceUnavailable" => Some(500),
        _ => None,
    };
    let code = match message.map(one_line).filter(|message| !message.is_empty()) {
        Some(message) => format!("{code}: {message}"),
        None => code.to_string(),
    };
    SourceError::Service {
        code,
        status: by_type.or(status),
    }
}

/// The innermost cause, which says what happened (refused, DNS, no credentials) in few words.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    one_line(&cause.to_string())
}

/// A message on one line and of bounded length, fit to follow `secretrun: error:`.
fn one_line(text: &str) -> String {
    // Room for the SDK's summary of every credential provider it tried.
    const MAX_CHARS: usize = 400;
    let mut line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_CHARS + 1)
        .collect();
    if line.chars().count() > MAX_CHARS {
        line = line.chars().take(MAX_CHARS).collect();
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(entries: Entries) -> Vec<(String, Vec<u8>)> {
        entries
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.expose().to_vec()))
            .collect()
    }

    fn pairs(entries: Entries) -> Vec<(String, String)> {
        rendered(entries)
            .into_iter()
            .map(|(name, value)| (name, String::from_utf8(value).unwrap()))
            .collect()
    }

    fn spec(text: &str) -> Result<AwsSm, SpecProblem> {
        let mut spec = SourceSpec::parse(text).unwrap();
        AwsSm::from_spec(&mut spec, Arc::new(Context::default()))
    }

    #[test]
    fn json_object_becomes_one_variable_per_key() {
        let text = r#"{"client_id":"abc","client-secret":"xyz","port":5432}"#;
        let entries = secret_entries("stream-daemon/twitch", Content::Text(text), "", None);
        assert_eq!(
            pairs(entries.unwrap()),
            [
                ("CLIENT_SECRET".into(), "xyz".into()),
                ("CLIENT_ID".into(), "abc".into()),
                ("PORT".into(), "5432".into()),
            ]
        );
    }

    #[test]
    fn prefix_option_and_key_pick_apply_to_json() {
        let text = r#"{"client_id":"abc","other":"x"}"#;
        let entries = secret_entries(
            "a/twitch",
            Content::Text(text),
            "TWITCH_",
            Some("client_id"),
        );
        assert_eq!(
            pairs(entries.unwrap()),
            [("TWITCH_CLIENT_ID".into(), "abc".into())]
        );
        let missing = secret_entries("a/twitch", Content::Text(text), "", Some("nope"));
        assert!(matches!(missing, Err(SourceError::MissingKey { key }) if key == "nope"));
    }

    #[test]
    fn plain_text_is_named_by_the_last_segment_or_the_key() {
        let entries = secret_entries("app/db-password", Content::Text("hunter2"), "", None);
        assert_eq!(
            pairs(entries.unwrap()),
            [("DB_PASSWORD".into(), "hunter2".into())]
        );
        let entries = secret_entries("app/db-password", Content::Text("hunter2"), "APP_", None);
        assert_eq!(
            pairs(entries.unwrap()),
            [("APP_DB_PASSWORD".into(), "hunter2".into())]
        );
        let entries = secret_entries(
            "app/db-password",
            Content::Text("hunter2"),
            "",
            Some("pg-pass"),
        );
        assert_eq!(
            pairs(entries.unwrap()),
            [("PG_PASS".into(), "hunter2".into())]
        );
    }

    #[test]
    fn json_that_is_not_an_object_is_kept_as_written() {
        for text in [r#""quoted""#, "[1,2]", "42", "{not json", ""] {
            let entries = secret_entries("app/token", Content::Text(text), "", None);
            assert_eq!(pairs(entries.unwrap()), [("TOKEN".into(), text.into())]);
        }
    }

    #[test]
    fn binary_is_one_variable_with_the_raw_bytes() {
        let bytes = [0xff, 0x00, b'a'];
        let entries = secret_entries("app/cert.der", Content::Binary(&bytes), "", None);
        assert_eq!(
            rendered(entries.unwrap()),
            [("CERT_DER".into(), bytes.to_vec())]
        );
        let entries = secret_entries("app/cert.der", Content::Binary(&bytes), "X_", Some("cert"));
        assert_eq!(
            rendered(entries.unwrap()),
            [("X_CERT".into(), bytes.to_vec())]
        );
    }

    #[test]
    fn a_string_wins_over_binary() {
        let picked = content(Some("text"), Some(b"bytes"));
        assert!(matches!(picked, Some(Content::Text("text"))));
        assert!(content(None, None).is_none());
    }

    #[test]
    fn finds_the_region_of_an_arn() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf";
        assert_eq!(arn_region(arn), Some("eu-west-1"));
        assert_eq!(
            arn_region("arn:aws-cn:secretsmanager:cn-north-1:1:secret:x"),
            Some("cn-north-1")
        );
        assert_eq!(arn_region("app/db"), None);
        assert_eq!(arn_region("arn:aws:s3:::bucket"), None);
        assert_eq!(arn_region("arn:aws:secretsmanager::1:secret:x"), None);
    }

    #[test]
    fn parses_paths_arns_and_prefixes() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf";
        let provider = spec(&format!("aws-sm:{arn}?version-stage=AWSPREVIOUS#password")).unwrap();
        assert_eq!(
            provider.target,
            Target::Secret {
                id: arn.into(),
                version_stage: Some("AWSPREVIOUS".into()),
                version_id: None,
                key: Some("password".into()),
            }
        );
        let provider = spec("aws-sm:stream-daemon/*?prefix=TWITCH_").unwrap();
        assert_eq!(provider.target, Target::Prefix("stream-daemon/".into()));
        assert_eq!(provider.name_prefix, "TWITCH_");
    }

    #[test]
    fn refuses_what_a_prefix_cannot_do() {
        assert_eq!(
            spec("aws-sm:app/*#KEY").unwrap_err(),
            SpecProblem::KeyNotSupported
        );
        assert!(matches!(
            spec("aws-sm:app/*?version-id=1").unwrap_err(),
            SpecProblem::BadOptionValue { option, .. } if option == "version-id"
        ));
        assert_eq!(spec("aws-sm:*").unwrap_err(), SpecProblem::MissingLocation);
        assert_eq!(
            spec("aws-sm:app/db?region=x").unwrap_err(),
            SpecProblem::UnknownOption("region".into())
        );
    }

    #[test]
    fn env_settings_follow_aws_precedence() {
        let env = ParentEnv::from_pairs([
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:2"),
            ("AWS_PROFILE", "dev"),
        ]);
        assert_eq!(
            EnvSettings::from_env(&env),
            EnvSettings {
                region: Some("us-east-1"),
                profile: Some("dev"),
                endpoint: Some(("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:2")),
            }
        );
        let env = ParentEnv::from_pairs([
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        assert_eq!(
            EnvSettings::from_env(&env),
            EnvSettings {
                region: Some("eu-west-1"),
                ..EnvSettings::default()
            }
        );
        assert_eq!(
            EnvSettings::from_env(&ParentEnv::default()),
            EnvSettings::default()
        );
    }

    #[test]
    fn service_errors_are_mapped_by_type_not_status() {
        let subject = "secret 'app/db'";
        // moto answers a missing secret with 404, AWS with 400: the type decides.
        for status in [400, 404] {
            let error = service_error(
                Some("ResourceNotFoundException"),
                Some("Secrets Manager can't find the specified secret."),
                Some(status),
                subject,
            );
            assert_eq!(error.to_string(), "not found: secret 'app/db'");
        }
        let error = service_error(
            Some("UnrecognizedClientException"),
            Some("The security token included in the request is invalid."),
            Some(400),
            subject,
        );
        assert!(matches!(
            error,
            SourceError::Service {
                status: Some(401),
                ..
            }
        ));
        assert!(error.to_string().contains("UnrecognizedClientException"));
        assert!(error.to_string().contains("unauthenticated"));
        for code in [
            "InvalidSignatureException",
            "ExpiredTokenException",
            "ExpiredToken",
        ] {
            let error = service_error(Some(code), None, Some(400), subject);
            assert!(
                matches!(
                    error,
                    SourceError::Service {
                        status: Some(401),
                        ..
                    }
                ),
                "{code}"
            );
        }
        let error = service_error(Some("AccessDeniedException"), None, Some(400), subject);
        assert_eq!(
            error.to_string(),
            "AccessDeniedException (permission denied: the credentials may not read this secret)"
        );
        let error = service_error(Some("SomethingNew"), None, Some(503), subject);
        assert!(matches!(
            error,
            SourceError::Service {
                status: Some(503),
                ..
            }
        ));
    }

    #[test]
    fn untyped_errors_fall_back_to_the_status() {
        let error = service_error(None, None, Some(403), "secret 'x'");
        assert!(matches!(error, SourceError::Http { status: 403, .. }));
        assert!(error.to_string().contains("permission denied"));
    }

    #[test]
    fn messages_are_one_bounded_line() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        let long = "x".repeat(1000);
        assert_eq!(one_line(&long).chars().count(), 401);
    }

    #[test]
    fn subjects_name_the_version() {
        assert_eq!(
            secret_subject("app/db", Some("AWSPREVIOUS"), None),
            "secret 'app/db' at version stage 'AWSPREVIOUS'"
        );
        assert_eq!(secret_subject("app/db", None, None), "secret 'app/db'");
    }
}
