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
//! Configuration, endpoint (`AWS_ENDPOINT_URL_SECRETS_MANAGER` over `AWS_ENDPOINT_URL`),
//! retries, timeouts, the error mapping and the credential variables kept from the child are
//! those of every AWS source, described in [`super::aws`]. An ARN's own region beats the
//! configured one, so an ARN works from any region, and even with none configured.

use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use aws_sdk_secretsmanager::Client;
use tokio::sync::OnceCell;

use super::spec::{SourceKind, SourceSpec};
use crate::error::{SourceError, SpecProblem};
use crate::secret::SecretValue;

pub(crate) mod write;

use super::aws::{self, Connected};
use super::naming::{expand_object, from_path, sanitize};
use super::{
    digest_text, env_name, unconditional, ConditionalFuture, Context, Entries, FetchFuture,
    Fetched, Provider,
};

/// `BatchGetSecretValue` takes at most 20 ids per call.
const BATCH_SIZE: usize = 20;
/// The stage a secret is read at unless the spec names another.
const CURRENT_STAGE: &str = "AWSCURRENT";

impl aws::Service for Client {
    const ENDPOINT_VARIABLE: &'static str = "AWS_ENDPOINT_URL_SECRETS_MANAGER";

    fn build(sdk: &SdkConfig, endpoint: Option<String>) -> Self {
        let mut config = aws_sdk_secretsmanager::config::Builder::from(sdk)
            .retry_classifier(aws::RetryAfter::for_config(sdk))
            .interceptor(aws::AnswerLimit);
        config.set_endpoint_url(endpoint);
        Client::from_conf(config.build())
    }

    fn slot(shared: &aws::Shared) -> &OnceCell<Self> {
        &shared.secrets_manager
    }
}

/// Sends `request` about the secret `id`, signed for the region of its ARN when it is one: a
/// secret lives in one region, whatever region is configured.
macro_rules! send_for {
    ($request:expr, $id:expr) => {
        match arn_region($id) {
            Some(region) => {
                let config = aws_sdk_secretsmanager::config::Builder::default()
                    .region(Region::new(region.to_string()));
                $request.customize().config_override(config).send().await
            }
            None => $request.send().await,
        }
    };
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
        shared: &Connected<'_, Client>,
        id: &str,
        version_stage: Option<&str>,
        version_id: Option<&str>,
        key: Option<&str>,
    ) -> Result<(Entries, Option<String>), SourceError> {
        if arn_region(id).is_none() && !shared.has_region {
            return Err(aws::no_region(Some("name the secret by its full ARN")));
        }
        let request = shared
            .client
            .get_secret_value()
            .secret_id(id)
            .set_version_stage(version_stage.map(str::to_string))
            .set_version_id(version_id.map(str::to_string));
        let sent = send_for!(request, id);
        let subject = secret_subject(id, version_stage, version_id);
        let output = sent.map_err(|error| self.sdk_error(error, &subject))?;
        let name = output.name().unwrap_or(id);
        let content = content(
            output.secret_string(),
            output.secret_binary().map(|b| b.as_ref()),
        )
        .ok_or_else(|| no_content(&subject))?;
        let entries = secret_entries(name, content, &self.name_prefix, key)?;
        Ok((entries, output.version_id().map(str::to_string)))
    }

    /// The id of the version a spec reads now, from `DescribeSecret` (metadata: no value is
    /// read, and CloudTrail logs no data event). `None` when it cannot tell (no permission to
    /// describe, say): the caller then reads the value as usual. A failure worth waiting out
    /// (throttling, 5xx, the network) is the source's failure: reading the value next would
    /// only spend a second retry budget on a service that is already struggling.
    async fn current_version(
        &self,
        shared: &Connected<'_, Client>,
        id: &str,
        version_stage: Option<&str>,
        version_id: Option<&str>,
    ) -> Result<Option<String>, SourceError> {
        if let Some(version_id) = version_id {
            // A version never changes.
            return Ok(Some(version_id.to_string()));
        }
        let request = shared.client.describe_secret().secret_id(id);
        let output = match send_for!(request, id) {
            Ok(output) => output,
            Err(error) => {
                let error = self.sdk_error(error, &secret_subject(id, version_stage, None));
                if error.is_retryable() {
                    return Err(error);
                }
                tracing::debug!(%error, "DescribeSecret refused; reading the value");
                return Ok(None);
            }
        };
        let stage = version_stage.unwrap_or(CURRENT_STAGE);
        Ok(output
            .version_ids_to_stages()
            .and_then(|stages| version_at(stages, stage)))
    }

    /// Every secret under `prefix`, unless the listing's current version ids show that none
    /// changed since `validator` (a digest of them that an earlier fetch returned).
    async fn fetch_prefix(
        &self,
        shared: &Connected<'_, Client>,
        prefix: &str,
        validator: Option<&str>,
    ) -> Result<Fetched, SourceError> {
        if !shared.has_region {
            return Err(aws::no_region(Some("name the secret by its full ARN")));
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
        // Each secret's current version, while every listed secret has one.
        let mut versions: Option<Vec<String>> = Some(Vec::new());
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| self.sdk_error(error, &listing_subject))?;
            for entry in page.secret_list() {
                if let (Some(name), Some(arn)) = (entry.name(), entry.arn()) {
                    if name.starts_with(prefix) {
                        arns.push((name.to_string(), arn.to_string()));
                        let version = entry
                            .secret_versions_to_stages()
                            .and_then(|stages| version_at(stages, CURRENT_STAGE));
                        versions = versions.zip(version).map(|(mut all, version)| {
                            all.push(format!("{arn} {version}"));
                            all
                        });
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
        let listed = versions.map(|mut versions| {
            versions.sort();
            digest_text(versions.join("\n").as_bytes())
        });
        if listed.is_some() && listed.as_deref() == validator {
            return Ok(Fetched::Unchanged);
        }

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
                    return Err(aws::service_error(
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
        Ok(Fetched::Entries {
            entries: secrets
                .into_iter()
                .flat_map(|(_, entries)| entries)
                .collect(),
            validator: listed,
        })
    }

    /// Reads the source, unless the version ids say it is the one `validator` names.
    async fn fetch_versioned(&self, validator: Option<String>) -> Result<Fetched, SourceError> {
        let shared = aws::client::<Client>(&self.context).await?;
        match &self.target {
            Target::Secret {
                id,
                version_stage,
                version_id,
                key,
            } => {
                let (stage, version) = (version_stage.as_deref(), version_id.as_deref());
                if let Some(validator) = validator {
                    let current = self.current_version(&shared, id, stage, version).await?;
                    if current.as_deref() == Some(validator.as_str()) {
                        return Ok(Fetched::Unchanged);
                    }
                }
                let (entries, validator) = self
                    .fetch_secret(&shared, id, stage, version, key.as_deref())
                    .await?;
                Ok(Fetched::Entries { entries, validator })
            }
            Target::Prefix(prefix) => {
                self.fetch_prefix(&shared, prefix, validator.as_deref())
                    .await
            }
        }
    }

    fn sdk_error<E>(&self, error: SdkError<E, HttpResponse>, subject: &str) -> SourceError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        aws::sdk_error(error, subject, self.context.settings.request_timeout)
    }
}

impl Provider for AwsSm {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(unconditional(self.fetch_versioned(None)))
    }

    fn fetch_if_changed(&self, validator: Option<String>) -> ConditionalFuture<'_> {
        Box::pin(self.fetch_versioned(validator))
    }

    fn consumed(&self) -> &'static [&'static str] {
        SourceKind::AwsSm.credential_variables()
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
/// The version id that carries `stage`, in a `version id → stages` map.
fn version_at(
    stages: &std::collections::HashMap<String, Vec<String>>,
    stage: &str,
) -> Option<String> {
    stages
        .iter()
        .find(|(_, labels)| labels.iter().any(|label| label == stage))
        .map(|(version, _)| version.clone())
}

fn arn_region(id: &str) -> Option<&str> {
    let mut parts = id.splitn(5, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("secretsmanager"), Some(region)) if !region.is_empty() => {
            Some(region)
        }
        _ => None,
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
    fn subjects_name_the_version() {
        assert_eq!(
            secret_subject("app/db", Some("AWSPREVIOUS"), None),
            "secret 'app/db' at version stage 'AWSPREVIOUS'"
        );
        assert_eq!(secret_subject("app/db", None, None), "secret 'app/db'");
    }
}
