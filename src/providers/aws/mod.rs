//! What the AWS providers ([`aws-sm`](super::aws_sm), [`aws-ssm`](super::aws_ssm)) share: the
//! SDK configuration, loaded once per run, the client of each service built from it, and the
//! mapping of SDK failures to [`SourceError`].
//!
//! Configuration is AWS's own: the standard chain of `aws-config` (environment, profile files,
//! SSO, `credential_process`, web identity, ECS and EC2 instance metadata). The region, profile
//! and endpoint (`AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_PROFILE`, the service's own
//! `AWS_ENDPOINT_URL_<SERVICE>` over `AWS_ENDPOINT_URL`, neither when
//! `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`) are read from the run's
//! [`ParentEnv`] snapshot and passed to the SDK explicitly; everything else (credentials above
//! all) `aws-config` reads from the real process environment, which at run time is the same
//! environment (`aws-config` offers no way to hand it a snapshot outside its test utilities).
//!
//! The [`SdkConfig`] is loaded by the first fetch of any AWS source and shared by all of them, so
//! a run reading both services resolves credentials (and probes instance metadata, if it comes
//! to that) once, and a run without an AWS source never loads `aws-config` at all. Each service
//! builds its client from it on its own first use ([`client`]), with its own endpoint. Retries
//! and timeouts are the SDK's (standard mode with the run's attempts and backoff, each attempt
//! limited by `--timeout`), not [`super::retry`]'s loop; the SDK reads only AWS's own
//! `x-amz-retry-after`, so [`RetryAfter`] adds what the shared retries do with a throttled
//! answer's standard `Retry-After`. An endpoint variable with plain
//! `http://` to a host other than loopback is refused unless `--allow-insecure-http`, as for
//! every provider. The credential variables ([`CREDENTIAL_VARIABLES`]) are kept from the child;
//! region, profile and endpoint are not, as the child may need them.
//!
//! Failures are mapped by the SDK's error type, not by HTTP status, since emulators and proxies
//! answer with other statuses than AWS ([`service_error`]). An answer is read up to
//! [`MAX_RESPONSE_BYTES`], as every provider's ([`AnswerLimit`]): the SDK would buffer any.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
// Every SDK crate re-exports these same `aws-smithy` types; taking them from one of them is
// only a spelling (the `aws-ssm` provider hands its own errors to `sdk_error` unchanged).
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, InterceptorContext,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::retries::ErrorKind;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::OnceCell;

use crate::environment::ParentEnv;
use crate::error::SourceError;

use super::http::MAX_RESPONSE_BYTES;
use super::Context;

/// The parent's variables that hold AWS credentials: secretrun consumes them, the child does
/// not get them unless asked.
pub const CREDENTIAL_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Non-secret settings that say which AWS account, region and endpoint a source talks to.
pub(super) const IDENTITY_VARIABLES: &[&str] = &[
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_SSM",
];

/// A run's AWS state, kept in [`Context`]: empty until an AWS source is fetched.
#[derive(Default)]
pub struct Shared {
    sdk: OnceCell<SdkConfig>,
    pub(super) secrets_manager: OnceCell<aws_sdk_secretsmanager::Client>,
    pub(super) ssm: OnceCell<aws_sdk_ssm::Client>,
}

/// What was loaded, never how: the SDK's own `Debug` of its configuration and clients is long
/// and names the credential providers; nothing here needs more than this.
impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("aws::Shared")
            .field("loaded", &self.sdk.initialized())
            .field(
                "region",
                &self
                    .sdk
                    .get()
                    .and_then(|sdk| sdk.region())
                    .map(|region| region.as_ref()),
            )
            .field("secrets_manager", &self.secrets_manager.initialized())
            .field("ssm", &self.ssm.initialized())
            .finish()
    }
}

/// One AWS service's client, as [`client`] builds and keeps it.
pub(super) trait Service: Sized + Send + Sync + 'static {
    /// The service's own endpoint variable, which beats `AWS_ENDPOINT_URL`.
    const ENDPOINT_VARIABLE: &'static str;

    /// The client for the run's configuration, at `endpoint` when the environment names one.
    fn build(sdk: &SdkConfig, endpoint: Option<String>) -> Self;

    /// Where the run keeps it.
    fn slot(shared: &Shared) -> &OnceCell<Self>;
}

/// A service's client and what a provider needs to know of the configuration behind it.
pub(super) struct Connected<'a, C> {
    pub client: &'a C,
    /// Whether the chain found a region. Checked by the provider rather than here, as an
    /// `aws-sm` ARN names its own region and needs none.
    pub has_region: bool,
}

/// The client of service `C`, built on its first use from the configuration loaded on the first
/// use of any service.
pub(super) async fn client<C: Service>(context: &Context) -> Result<Connected<'_, C>, SourceError> {
    let shared = &context.aws;
    let client = C::slot(shared)
        .get_or_try_init(|| async {
            // Checked first: a refused endpoint should not cost an SDK load.
            let endpoint = endpoint(context, C::ENDPOINT_VARIABLE)?;
            let sdk = shared.sdk.get_or_init(|| load(context)).await;
            Ok::<_, SourceError>(C::build(sdk, endpoint))
        })
        .await?;
    // Initialised by now; `get_or_init` only to avoid an unwrap.
    let sdk = shared.sdk.get_or_init(|| load(context)).await;
    Ok(Connected {
        client,
        has_region: sdk.region().is_some(),
    })
}

/// [`client`] for a request that needs a region (one an ARN does not name).
pub(super) async fn regional_client<C: Service>(
    context: &Context,
) -> Result<Connected<'_, C>, SourceError> {
    match client::<C>(context).await {
        Ok(connected) if !connected.has_region => Err(no_region(None)),
        connected => connected,
    }
}

/// The endpoint the environment names for a service, refused when it is plain HTTP to a remote
/// host.
fn endpoint(
    context: &Context,
    service_variable: &'static str,
) -> Result<Option<String>, SourceError> {
    endpoint_setting(&context.env, service_variable)
        .map(|(setting, url)| {
            super::http::base_url(url, setting, context.settings.allow_insecure_http)
                .map(|_| url.to_string())
        })
        .transpose()
}

async fn load(context: &Context) -> SdkConfig {
    // No endpoint here: it is per service (see `endpoint`).
    let found = EnvSettings::from_env(&context.env);
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
        .http_client(super::tls_roots::aws_http_client())
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(region) = found.region {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(profile) = found.profile {
        loader = loader.profile_name(profile);
    }
    let sdk = loader.load().await;
    tracing::debug!(
        region = sdk.region().map(|region| region.as_ref()),
        "AWS SDK configured"
    );
    sdk
}

/// Honours a throttled answer's `Retry-After` (seconds), as [`super::retry`] does for the other
/// providers: a 429 is throttling whatever its body (the SDK only knows AWS's typed throttling
/// errors), and a 429 or 503 that names a wait is retried after it, spread by
/// [`retry_after_wait`](super::retry::retry_after_wait) so that a fleet told the same wait does
/// not return at once. The SDK caps every wait at its `max_backoff`, so the spread is made below
/// it. The attempts stay the SDK's, each limited by `--timeout`, the whole fetch by
/// `--deadline`.
#[derive(Debug)]
pub(super) struct RetryAfter {
    longest: Duration,
}

impl RetryAfter {
    /// For clients of `sdk`, whose retry configuration gives the longest wait.
    pub(super) fn for_config(sdk: &SdkConfig) -> Self {
        let longest = sdk.retry_config().map_or_else(
            || RetryConfig::standard().max_backoff(),
            RetryConfig::max_backoff,
        );
        Self { longest }
    }

    fn classify(&self, status: u16, retry_after: Option<&str>) -> RetryAction {
        let wait = retry_after
            .and_then(|value| value.trim().parse::<u64>().ok())
            .filter(|seconds| *seconds > 0)
            .map(|seconds| {
                super::retry::retry_after_wait(Duration::from_secs(seconds), self.longest)
            });
        match (status, wait) {
            (429 | 503, Some(wait)) => {
                RetryAction::retryable_error_with_explicit_delay(ErrorKind::ThrottlingError, wait)
            }
            // "Retry-After: 0" or none: the SDK's own backoff.
            (429, None) => RetryAction::throttling_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }
}

impl ClassifyRetry for RetryAfter {
    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        // Also here, as the one classifier of ours: an answer over the size cap would be as
        // large again, so it is not asked for again (the SDK retries an unreadable body).
        if let Some(Err(error)) = context.output_or_error() {
            if is_too_large(error) {
                return RetryAction::RetryForbidden;
            }
        }
        match context.response() {
            Some(response) => self.classify(
                response.status().as_u16(),
                response.headers().get("retry-after"),
            ),
            None => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "Retry-After"
    }

    /// After the SDK's own classifiers, so that the server's wait replaces their backoff.
    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Holds every AWS answer to [`MAX_RESPONSE_BYTES`], as [`super::http`] does the other
/// providers': one announced as larger is refused before its body is read, one that grows
/// beyond it as it arrives is cut there. Either fails as [`AnswerTooLarge`].
#[derive(Debug)]
pub(super) struct AnswerLimit;

/// An AWS answer over [`MAX_RESPONSE_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("the answer is larger than {} MiB", MAX_RESPONSE_BYTES >> 20)]
struct AnswerTooLarge;

impl Intercept for AnswerLimit {
    fn name(&self) -> &'static str {
        "answer size limit"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        let announced = response
            .headers()
            .get("content-length")
            .and_then(|length| length.trim().parse::<u64>().ok());
        if announced.is_some_and(|length| length > MAX_RESPONSE_BYTES as u64) {
            return Err(AnswerTooLarge.into());
        }
        let body = Limited::new(response.take_body(), MAX_RESPONSE_BYTES).map_err(|error| {
            match error.is::<LengthLimitError>() {
                true => AnswerTooLarge.into(),
                false => error,
            }
        });
        *response.body_mut() = SdkBody::from_body_1_x(body);
        Ok(())
    }
}

/// Whether `error`, or any error behind it, is [`AnswerTooLarge`].
fn is_too_large(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<AnswerTooLarge>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// The settings of the SDK configuration that secretrun itself takes from the parent
/// environment.
#[derive(Debug, Default, PartialEq, Eq)]
struct EnvSettings<'a> {
    region: Option<&'a str>,
    profile: Option<&'a str>,
}

impl<'a> EnvSettings<'a> {
    /// AWS's precedence: `AWS_REGION` over `AWS_DEFAULT_REGION`.
    fn from_env(env: &'a ParentEnv) -> Self {
        Self {
            region: env
                .get_str("AWS_REGION")
                .or_else(|| env.get_str("AWS_DEFAULT_REGION")),
            profile: env.get_str("AWS_PROFILE"),
        }
    }
}

/// The variable naming a service's endpoint, and the URL: AWS's precedence, the service's own
/// variable over the global one, none when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
fn endpoint_setting<'a>(
    env: &'a ParentEnv,
    service_variable: &'static str,
) -> Option<(&'static str, &'a str)> {
    let ignore_endpoints = env
        .get_str("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    if ignore_endpoints {
        return None;
    }
    [service_variable, "AWS_ENDPOINT_URL"]
        .into_iter()
        .find_map(|name| env.get_str(name).map(|value| (name, value)))
}

/// No region anywhere in the chain; `alternative` is what else would do, for a service that
/// has one (an `aws-sm` ARN).
pub(super) fn no_region(alternative: Option<&str>) -> SourceError {
    let problem = match alternative {
        Some(alternative) => format!(
            "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), set `region` in the AWS \
             profile, or {alternative}"
        ),
        None => "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or set `region` in the \
                 AWS profile"
            .to_string(),
    };
    SourceError::Config { problem }
}

/// An SDK failure as our own, shorter message. No variant's text can hold a secret value (the
/// only response text used is a service error's message), but the SDK's own `Display` nests
/// every cause and `Debug` dumps the raw response, so neither is used.
pub(super) fn sdk_error<E>(
    error: SdkError<E, HttpResponse>,
    subject: &str,
    timeout: Duration,
) -> SourceError
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
        SdkError::ResponseError(_) if is_too_large(&error) => SourceError::BadResponse {
            problem: format!(
                "the AWS answer for {subject} is larger than {} MiB",
                MAX_RESPONSE_BYTES >> 20
            ),
        },
        SdkError::ResponseError(failure) => {
            let status = failure.raw().status().as_u16();
            if status >= 400 {
                // An error whose body is not in the service's protocol (a proxy's page, or
                // moto's XML `AccessDenied` to a JSON service): the status still says what
                // happened, and its hint what to check.
                SourceError::Http {
                    status,
                    retry_after: None,
                }
            } else {
                // Its cause may quote the unparsable body, which may be a secret.
                SourceError::BadResponse {
                    problem: format!("the answer (HTTP {status}) could not be parsed"),
                }
            }
        }
        _ => SourceError::BadResponse {
            problem: "the AWS SDK failed".into(),
        },
    }
}

/// A service error by its type (`code`); `status` only when the type is unknown, since emulators
/// and proxies answer with other statuses than AWS (moto: 404 for a missing secret, AWS: 400).
/// The codes are those of every AWS service secretrun reads; they do not collide.
pub(super) fn service_error(
    code: Option<&str>,
    message: Option<&str>,
    status: Option<u16>,
    subject: &str,
) -> SourceError {
    let Some(code) = code.filter(|code| !code.is_empty()) else {
        return match status {
            // A success the SDK could not read (a cut or foreign body): not an error status.
            Some(status @ 200..=399) => SourceError::BadResponse {
                problem: format!("the answer (HTTP {status}) could not be parsed"),
            },
            status => SourceError::Http {
                status: status.unwrap_or(0),
                retry_after: None,
            },
        };
    };
    let by_type = match code {
        // Secrets Manager; SSM (a name, or a version or label of it).
        "ResourceNotFoundException"
        | "ParameterNotFound"
        | "ParameterVersionNotFound"
        | "ParameterVersionLabelNotFound" => {
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
        "InvalidParameterException"
        | "InvalidRequestException"
        | "ValidationException"
        | "InvalidNextToken"
        | "InvalidFilterKey"
        | "InvalidFilterOption"
        | "InvalidFilterValue" => Some(400),
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" => Some(429),
        "InternalServiceError"
        | "InternalServerError"
        | "InternalFailure"
        | "ServiceUnavailable" => Some(500),
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

    #[test]
    fn env_settings_follow_aws_precedence() {
        let env = ParentEnv::from_pairs([
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_PROFILE", "dev"),
        ]);
        assert_eq!(
            EnvSettings::from_env(&env),
            EnvSettings {
                region: Some("us-east-1"),
                profile: Some("dev"),
            }
        );
        let env = ParentEnv::from_pairs([("AWS_DEFAULT_REGION", "eu-west-1")]);
        assert_eq!(EnvSettings::from_env(&env).region, Some("eu-west-1"));
        assert_eq!(
            EnvSettings::from_env(&ParentEnv::default()),
            EnvSettings::default()
        );
    }

    #[test]
    fn each_service_has_its_own_endpoint_variable() {
        let env = ParentEnv::from_pairs([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:2"),
        ]);
        assert_eq!(
            endpoint_setting(&env, "AWS_ENDPOINT_URL_SECRETS_MANAGER"),
            Some(("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:2"))
        );
        // Another service's variable is not this one's.
        assert_eq!(
            endpoint_setting(&env, "AWS_ENDPOINT_URL_SSM"),
            Some(("AWS_ENDPOINT_URL", "http://127.0.0.1:1"))
        );
        let env = ParentEnv::from_pairs([("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:3")]);
        assert_eq!(
            endpoint_setting(&env, "AWS_ENDPOINT_URL_SSM"),
            Some(("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:3"))
        );
        assert_eq!(
            endpoint_setting(&env, "AWS_ENDPOINT_URL_SECRETS_MANAGER"),
            None
        );
        let env = ParentEnv::from_pairs([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:3"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        assert_eq!(endpoint_setting(&env, "AWS_ENDPOINT_URL_SSM"), None);
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
        for code in ["ParameterNotFound", "ParameterVersionNotFound"] {
            let error = service_error(Some(code), None, Some(400), "parameter '/app/db'");
            assert_eq!(
                error.to_string(),
                "not found: parameter '/app/db'",
                "{code}"
            );
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
        let error = service_error(Some("InternalServerError"), None, Some(400), subject);
        assert!(matches!(
            error,
            SourceError::Service {
                status: Some(500),
                ..
            }
        ));
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
        // A 200 the SDK could not read is a bad answer, not an HTTP error.
        let error = service_error(None, None, Some(200), "secret 'x'");
        assert_eq!(
            error.to_string(),
            "unexpected response: the answer (HTTP 200) could not be parsed"
        );
    }

    #[test]
    fn throttling_and_server_errors_are_worth_waiting_out() {
        // What decides retries elsewhere and the fallback snapshot everywhere.
        for code in [
            "ThrottlingException",
            "TooManyRequestsException",
            "InternalServiceError",
        ] {
            let error = service_error(Some(code), Some("Rate exceeded"), Some(400), "secret 'x'");
            assert!(error.is_retryable() && !error.is_definitive(), "{code}");
        }
        for code in [
            "AccessDeniedException",
            "ResourceNotFoundException",
            "ValidationException",
        ] {
            let error = service_error(Some(code), None, Some(400), "secret 'x'");
            assert!(!error.is_retryable() && error.is_definitive(), "{code}");
        }
    }

    #[test]
    fn an_unparsable_error_answer_is_judged_by_its_status() {
        use aws_sdk_ssm::operation::get_parameter::GetParameterError;
        let unparsable = |status: u16, body: &str| {
            let raw = HttpResponse::new(status.try_into().unwrap(), body.to_string().into());
            let error: SdkError<GetParameterError, HttpResponse> =
                SdkError::response_error("cannot parse: secret-looking body", raw);
            sdk_error(error, "parameter '/x'", Duration::from_secs(1))
        };
        let error = unparsable(
            403,
            "<ErrorResponse><Code>AccessDenied</Code></ErrorResponse>",
        );
        assert!(matches!(error, SourceError::Http { status: 403, .. }));
        assert!(error.to_string().contains("permission denied"));
        let error = unparsable(200, "secret-looking body");
        assert_eq!(
            error.to_string(),
            "unexpected response: the answer (HTTP 200) could not be parsed"
        );
    }

    #[test]
    fn a_throttled_answer_waits_what_it_asks_for_spread_below_the_cap() {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryReason;
        let classifier = RetryAfter {
            longest: Duration::from_secs(5),
        };
        let wait = |status, retry_after| match classifier.classify(status, retry_after) {
            RetryAction::RetryIndicated(RetryReason::RetryableError { kind, retry_after }) => {
                assert_eq!(kind, ErrorKind::ThrottlingError);
                retry_after
            }
            other => panic!("HTTP {status}, Retry-After {retry_after:?}: {other:?}"),
        };
        let waits: Vec<Duration> = (0..50).map(|_| wait(429, Some("1")).unwrap()).collect();
        assert!(waits
            .iter()
            .all(|wait| (Duration::from_secs(1)..=Duration::from_secs(2)).contains(wait)));
        let distinct: std::collections::HashSet<_> = waits.iter().collect();
        assert!(
            distinct.len() > 40,
            "{} distinct waits of 50",
            distinct.len()
        );
        let wait_503 = wait(503, Some(" 2 ")).unwrap();
        assert!((Duration::from_secs(2)..=Duration::from_secs(4)).contains(&wait_503));
        // An absurd wait is cut below the SDK's cap, still spread.
        let long = wait(429, Some("86400")).unwrap();
        assert!((Duration::from_millis(2500)..=Duration::from_secs(5)).contains(&long));
        // A 429 is throttling whatever its body; without a usable wait, the SDK's backoff.
        for retry_after in [None, Some("0"), Some("Wed, 21 Oct 2026 07:28:00 GMT")] {
            assert_eq!(wait(429, retry_after), None, "{retry_after:?}");
        }
        // Other answers are left to the SDK's classifiers.
        for (status, retry_after) in [(503, None), (200, Some("1")), (500, Some("1"))] {
            assert_eq!(
                classifier.classify(status, retry_after),
                RetryAction::NoActionIndicated,
                "{status}"
            );
        }
    }

    #[test]
    fn messages_are_one_bounded_line() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        let long = "x".repeat(1000);
        assert_eq!(one_line(&long).chars().count(), 401);
    }

    #[test]
    fn no_region_names_the_alternative_only_when_there_is_one() {
        assert_eq!(
            no_region(Some("name the secret by its full ARN")).to_string(),
            "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), set `region` in the AWS \
             profile, or name the secret by its full ARN"
        );
        assert_eq!(
            no_region(None).to_string(),
            "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or set `region` in the AWS \
             profile"
        );
    }

    #[test]
    fn debug_shows_only_what_was_loaded() {
        let shared = Shared::default();
        assert_eq!(
            format!("{shared:?}"),
            "aws::Shared { loaded: false, region: None, secrets_manager: false, ssm: false }"
        );
    }
}
