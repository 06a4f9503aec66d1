//! `aws-ssm:`: AWS Systems Manager Parameter Store, one parameter by name or every parameter
//! under a path.
//!
//! ```text
//! aws-ssm:/PATH/[?OPTIONS]             every parameter under a path (the trailing '/' says so),
//!                                      e.g. aws-ssm:/stream-daemon/prod/
//! aws-ssm:NAME[?OPTIONS][#VAR]         one parameter, e.g. aws-ssm:/stream-daemon/prod/db-password
//! ```
//!
//! Names are chamber's: the last segment of the parameter's name, upper-cased and sanitized
//! ([`super::naming::from_path`]): `/stream-daemon/prod/db-password` → `DB_PASSWORD`. Values
//! are passed as stored: a `String`, a `StringList` as written (`a,b,c`, not split), a
//! `SecureString` decrypted (`WithDecryption`). JSON is not expanded: a parameter is one
//! variable.
//!
//! Options:
//!
//! - `prefix=P`: put `P` before every name (`prefix=APP_` → `APP_DB_PASSWORD`).
//! - By path only:
//!   - `recursive`: also the parameters in the path's sub-paths (`/app/db/password`
//!     under `/app/`); without it, only the path's direct children, as AWS answers.
//!   - `keep-path`: name each variable by the parameter's whole name relative to the path
//!     requested, `/` becoming `_` (`/app/db/password` under `/app/` → `DB_PASSWORD`), rather than
//!     by its last segment; this keeps two `password`s in different sub-paths apart.
//! - One parameter only:
//!   - `#VAR` names the variable (sanitized like the rest: `#pg-pass` → `PG_PASS`).
//!   - `version=N` or `label=L`: read that version, or the version holding that label, rather
//!     than the latest (sent as `NAME:N` / `NAME:L`, GetParameter's selector syntax; a label
//!     cannot begin with a digit, so the two never mix up).
//!
//! By path: `GetParametersByPath` with decryption, every page (AWS answers at most 10 parameters
//! per page); the parameters are taken in order of name, so when two define the same variable
//! (`recursive` without `keep-path`) the one whose name sorts last wins. A path holding no
//! parameter is an error (`not found`), not silently nothing: a typo must not start the child
//! without its secrets. A bare `/` is refused, as reading a whole account is never what a typo
//! should do. One parameter: `GetParameter` with decryption; a missing name, version or label is
//! `not found`, naming it. IAM needs `ssm:GetParametersByPath` or `ssm:GetParameter`, and
//! `kms:Decrypt` on the key of a `SecureString` under a customer-managed key.
//!
//! Configuration (credentials, region, profile, `AWS_ENDPOINT_URL_SSM` over `AWS_ENDPOINT_URL`,
//! retries, timeouts) and the error mapping are those of every AWS source: see [`super::aws`].
//! The SDK configuration is loaded once per run, shared with `aws-sm` sources.

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::Parameter;
use aws_sdk_ssm::Client;
use tokio::sync::OnceCell;

use super::spec::{SourceKind, SourceSpec};
use crate::error::{SourceError, SpecProblem};
use crate::secret::SecretValue;

pub(crate) mod write;

use super::aws::{self, Connected};
use super::naming::{from_path, sanitize};
use super::{env_name, Context, Entries, FetchFuture, Provider};

/// The most parameters `GetParametersByPath` returns per page.
const PAGE_SIZE: i32 = 10;

impl aws::Service for Client {
    const ENDPOINT_VARIABLE: &'static str = "AWS_ENDPOINT_URL_SSM";

    fn build(sdk: &SdkConfig, endpoint: Option<String>) -> Self {
        let mut config = aws_sdk_ssm::config::Builder::from(sdk)
            .retry_classifier(aws::RetryAfter::for_config(sdk))
            .interceptor(aws::AnswerLimit);
        config.set_endpoint_url(endpoint);
        Client::from_conf(config.build())
    }

    fn slot(shared: &aws::Shared) -> &OnceCell<Self> {
        &shared.ssm
    }
}

/// Which version of one parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    Version(u64),
    Label(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// One parameter, by name (or ARN).
    Parameter {
        name: String,
        selector: Option<Selector>,
        /// `#VAR`.
        variable: Option<String>,
    },
    /// Every parameter under this path, which ends in `/`.
    Path {
        path: String,
        recursive: bool,
        keep_path: bool,
    },
}

#[derive(Debug)]
pub struct AwsSsm {
    context: Arc<Context>,
    target: Target,
    /// Put before every name.
    name_prefix: String,
}

impl AwsSsm {
    pub fn from_spec(spec: &mut SourceSpec, context: Arc<Context>) -> Result<Self, SpecProblem> {
        let name_prefix = spec.take_value("prefix")?.unwrap_or_default();
        let recursive = spec.take_flag("recursive")?;
        let keep_path = spec.take_flag("keep-path")?;
        let version = spec.take_value("version")?;
        let label = spec.take_value("label")?;
        let target = if spec.location.ends_with('/') {
            if spec.location.trim_matches('/').is_empty() {
                return Err(SpecProblem::MissingLocation);
            }
            let single_only = [("version", &version), ("label", &label)];
            if let Some((option, _)) = single_only.iter().find(|(_, value)| value.is_some()) {
                return Err(SpecProblem::BadOptionValue {
                    option: option.to_string(),
                    expected: "a single parameter, not a path ending in '/'",
                });
            }
            spec.finish(false)?;
            Target::Path {
                path: spec.location.clone(),
                recursive,
                keep_path,
            }
        } else {
            let path_only = [("recursive", recursive), ("keep-path", keep_path)];
            if let Some((option, _)) = path_only.iter().find(|(_, set)| *set) {
                return Err(SpecProblem::BadOptionValue {
                    option: option.to_string(),
                    expected: "a path ending in '/', not a single parameter",
                });
            }
            spec.finish(true)?;
            Target::Parameter {
                name: spec.location.clone(),
                selector: selector(version, label)?,
                variable: spec.key.clone(),
            }
        };
        Ok(Self {
            context,
            target,
            name_prefix,
        })
    }

    async fn fetch_parameter(
        &self,
        shared: &Connected<'_, Client>,
        name: &str,
        selector: Option<&Selector>,
        variable: Option<&str>,
    ) -> Result<Entries, SourceError> {
        let subject = parameter_subject(name, selector);
        let requested = match selector {
            None => name.to_string(),
            Some(Selector::Version(version)) => format!("{name}:{version}"),
            Some(Selector::Label(label)) => format!("{name}:{label}"),
        };
        let output = shared
            .client
            .get_parameter()
            .name(requested)
            .with_decryption(true)
            .send()
            .await
            .map_err(|error| self.sdk_error(error, &subject))?;
        let parameter = output.parameter().ok_or_else(|| SourceError::BadResponse {
            problem: format!("the answer for {subject} holds no parameter"),
        })?;
        // The answer's name is the parameter's own, without a selector or an ARN's prefix.
        let base = variable.map_or_else(|| from_path(parameter.name().unwrap_or(name)), sanitize);
        Ok(vec![(
            env_name(format!("{}{base}", self.name_prefix))?,
            value(parameter, &subject)?,
        )])
    }

    async fn fetch_path(
        &self,
        shared: &Connected<'_, Client>,
        path: &str,
        recursive: bool,
        keep_path: bool,
    ) -> Result<Entries, SourceError> {
        let subject = format!("parameters under '{path}'");
        let mut pages = shared
            .client
            .get_parameters_by_path()
            .path(path)
            .recursive(recursive)
            .with_decryption(true)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        let mut found: Vec<(String, SecretValue)> = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| self.sdk_error(error, &subject))?;
            tracing::debug!(
                path,
                parameters = page.parameters().len(),
                "GetParametersByPath page"
            );
            for parameter in page.parameters() {
                let Some(name) = parameter.name() else {
                    continue;
                };
                found.push((
                    name.to_string(),
                    value(parameter, &parameter_subject(name, None))?,
                ));
            }
        }
        if found.is_empty() {
            let hint = if recursive {
                ""
            } else {
                " (parameters in its sub-paths need ?recursive)"
            };
            return Err(SourceError::NotFound {
                what: format!("no parameter under '{path}'{hint}"),
            });
        }
        // AWS promises no order; the merge order (last wins) is the names'.
        found.sort_by(|(a, _), (b, _)| a.cmp(b));
        found
            .into_iter()
            .map(|(name, value)| {
                let base = if keep_path {
                    sanitize(relative_name(&name, path))
                } else {
                    from_path(&name)
                };
                Ok((env_name(format!("{}{base}", self.name_prefix))?, value))
            })
            .collect()
    }

    fn sdk_error<E>(&self, error: SdkError<E, HttpResponse>, subject: &str) -> SourceError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        aws::sdk_error(error, subject, self.context.settings.request_timeout)
    }
}

impl Provider for AwsSsm {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            // Unlike an `aws-sm` ARN, nothing in a spec picks a region (even a shared
            // parameter's ARN is requested from the configured one): one is always needed.
            let shared = aws::regional_client::<Client>(&self.context).await?;
            match &self.target {
                Target::Parameter {
                    name,
                    selector,
                    variable,
                } => {
                    self.fetch_parameter(&shared, name, selector.as_ref(), variable.as_deref())
                        .await
                }
                Target::Path {
                    path,
                    recursive,
                    keep_path,
                } => self.fetch_path(&shared, path, *recursive, *keep_path).await,
            }
        })
    }

    fn consumed(&self) -> &'static [&'static str] {
        SourceKind::AwsSsm.credential_variables()
    }
}

/// `version=` or `label=`, not both.
fn selector(
    version: Option<String>,
    label: Option<String>,
) -> Result<Option<Selector>, SpecProblem> {
    match (version, label) {
        (Some(_), Some(_)) => Err(SpecProblem::BadOptionValue {
            option: "label".into(),
            expected: "no 'version' beside it: a label names a version",
        }),
        (Some(version), None) => match version.parse::<u64>() {
            Ok(number) if number > 0 => Ok(Some(Selector::Version(number))),
            _ => Err(SpecProblem::BadOptionValue {
                option: "version".into(),
                expected: "a version number (1, 2, ...)",
            }),
        },
        // AWS refuses such labels; a digit first would read as a version.
        (None, Some(label))
            if label.is_empty() || label.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            Err(SpecProblem::BadOptionValue {
                option: "label".into(),
                expected: "a label, which does not begin with a digit",
            })
        }
        (None, Some(label)) => Ok(Some(Selector::Label(label))),
        (None, None) => Ok(None),
    }
}

/// A parameter's value, which is stored text even for a `SecureString` (decrypted).
fn value(parameter: &Parameter, subject: &str) -> Result<SecretValue, SourceError> {
    parameter
        .value()
        .map(|value| SecretValue::from(value.to_string()))
        .ok_or_else(|| SourceError::BadResponse {
            problem: format!("{subject} has no value"),
        })
}

/// `name` without `path`, e.g. `db/password` for `/app/db/password` under `/app/`. A name not
/// under the path (which AWS does not answer) keeps all its segments.
fn relative_name<'a>(name: &'a str, path: &str) -> &'a str {
    name.strip_prefix(path)
        .unwrap_or(name)
        .trim_start_matches('/')
}

/// How errors name a parameter: `parameter '/app/db'`, with the version asked for.
fn parameter_subject(name: &str, selector: Option<&Selector>) -> String {
    match selector {
        None => format!("parameter '{name}'"),
        Some(Selector::Version(version)) => format!("parameter '{name}' at version {version}"),
        Some(Selector::Label(label)) => format!("parameter '{name}' with label '{label}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<AwsSsm, SpecProblem> {
        let mut spec = SourceSpec::parse(text).unwrap();
        AwsSsm::from_spec(&mut spec, Arc::new(Context::default()))
    }

    fn bad_option(text: &str) -> String {
        match spec(text) {
            Err(SpecProblem::BadOptionValue { option, .. }) => option,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn a_trailing_slash_means_by_path() {
        let provider = spec("aws-ssm:/app/prod/?recursive&keep-path&prefix=APP_").unwrap();
        assert_eq!(
            provider.target,
            Target::Path {
                path: "/app/prod/".into(),
                recursive: true,
                keep_path: true,
            }
        );
        assert_eq!(provider.name_prefix, "APP_");
        let provider = spec("aws-ssm:/app/").unwrap();
        assert_eq!(
            provider.target,
            Target::Path {
                path: "/app/".into(),
                recursive: false,
                keep_path: false,
            }
        );
    }

    #[test]
    fn anything_else_is_one_parameter() {
        let provider = spec("aws-ssm:/app/db-password?version=3#PG_PASS").unwrap();
        assert_eq!(
            provider.target,
            Target::Parameter {
                name: "/app/db-password".into(),
                selector: Some(Selector::Version(3)),
                variable: Some("PG_PASS".into()),
            }
        );
        let provider = spec("aws-ssm:plain-name?label=prod").unwrap();
        assert_eq!(
            provider.target,
            Target::Parameter {
                name: "plain-name".into(),
                selector: Some(Selector::Label("prod".into())),
                variable: None,
            }
        );
    }

    #[test]
    fn refuses_options_of_the_other_form() {
        assert_eq!(bad_option("aws-ssm:/app/?version=2"), "version");
        assert_eq!(bad_option("aws-ssm:/app/?label=prod"), "label");
        assert_eq!(bad_option("aws-ssm:/app/db?recursive"), "recursive");
        assert_eq!(bad_option("aws-ssm:/app/db?keep-path"), "keep-path");
        assert_eq!(
            spec("aws-ssm:/app/#VAR").unwrap_err(),
            SpecProblem::KeyNotSupported
        );
        assert_eq!(
            spec("aws-ssm:/app/db?region=x").unwrap_err(),
            SpecProblem::UnknownOption("region".into())
        );
    }

    #[test]
    fn refuses_bad_versions_and_labels() {
        for text in [
            "aws-ssm:/app/db?version=0",
            "aws-ssm:/app/db?version=x",
            "aws-ssm:/app/db?version=-1",
        ] {
            assert_eq!(bad_option(text), "version", "{text}");
        }
        assert_eq!(bad_option("aws-ssm:/app/db?label=1st"), "label");
        assert_eq!(bad_option("aws-ssm:/app/db?label="), "label");
        assert_eq!(bad_option("aws-ssm:/app/db?version=1&label=prod"), "label");
    }

    #[test]
    fn refuses_the_whole_account() {
        assert_eq!(spec("aws-ssm:/").unwrap_err(), SpecProblem::MissingLocation);
        assert_eq!(
            spec("aws-ssm://").unwrap_err(),
            SpecProblem::MissingLocation
        );
    }

    #[test]
    fn relative_names_drop_the_path() {
        assert_eq!(relative_name("/app/db/password", "/app/"), "db/password");
        assert_eq!(relative_name("/app/token", "/app/"), "token");
        assert_eq!(relative_name("/other/token", "/app/"), "other/token");
        assert_eq!(
            sanitize(relative_name("/app/db/pass-word", "/app/")),
            "DB_PASS_WORD"
        );
    }

    #[test]
    fn subjects_name_the_version_or_label() {
        assert_eq!(parameter_subject("/a", None), "parameter '/a'");
        assert_eq!(
            parameter_subject("/a", Some(&Selector::Version(2))),
            "parameter '/a' at version 2"
        );
        assert_eq!(
            parameter_subject("/a", Some(&Selector::Label("prod".into()))),
            "parameter '/a' with label 'prod'"
        );
    }

    #[test]
    fn values_are_taken_as_stored() {
        let parameter = Parameter::builder()
            .name("/app/hosts")
            .value("a,b,c")
            .build();
        assert_eq!(value(&parameter, "x").unwrap().expose(), b"a,b,c");
        let empty = Parameter::builder().name("/app/x").build();
        assert!(matches!(
            value(&empty, "parameter '/app/x'"),
            Err(SourceError::BadResponse { .. })
        ));
    }
}
