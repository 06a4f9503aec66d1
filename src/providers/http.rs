//! The HTTP plumbing shared by providers that speak REST with reqwest: one client per run,
//! per-request timeouts, status codes mapped to [`SourceError`], `Retry-After`, and the refusal
//! of plain HTTP to anything but loopback.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode, Url};

use crate::error::SourceError;

use super::Context;

/// Parses a service's base URL and refuses `http://` to a host other than loopback, where a
/// token would cross the network in clear text, unless explicitly allowed.
pub fn base_url(
    text: &str,
    setting: &'static str,
    allow_insecure: bool,
) -> Result<Url, SourceError> {
    let url = Url::parse(text).map_err(|_| SourceError::Config {
        problem: format!("{setting} is not a valid URL"),
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure || is_loopback(&url) => Ok(url),
        "http" => Err(SourceError::Config {
            problem: format!(
                "{setting} uses plain http to a non-loopback host; use https, or pass \
                 --allow-insecure-http"
            ),
        }),
        _ => Err(SourceError::Config {
            problem: format!("{setting} must be an http or https URL"),
        }),
    }
}

/// Whether `url` names this machine, where plain HTTP crosses no network.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Sends a request built fresh for each attempt, with retries, and returns a successful response
/// (or a 304 when `accept_not_modified`). Any other status becomes a [`SourceError`].
pub async fn send(
    context: &Context,
    what: &str,
    build: impl Fn(&reqwest::Client) -> RequestBuilder,
) -> Result<Response, SourceError> {
    send_accepting(context, what, |_| false, build).await
}

/// [`send`], also returning the responses whose status `accept` takes, for a caller that reads
/// them itself (a 401's `WWW-Authenticate` challenge, an OAuth error body). A retryable status it
/// accepts is not retried.
pub async fn send_accepting(
    context: &Context,
    what: &str,
    accept: impl Fn(StatusCode) -> bool,
    build: impl Fn(&reqwest::Client) -> RequestBuilder,
) -> Result<Response, SourceError> {
    let client = context.http_client()?;
    context
        .settings
        .retry
        .run(what, || async {
            let response = build(client)
                .timeout(context.settings.request_timeout)
                .send()
                .await
                .map_err(|error| transport_error(&error, context.settings.request_timeout))?;
            let status = response.status();
            if status.is_success() || status == StatusCode::NOT_MODIFIED || accept(status) {
                Ok(response)
            } else {
                Err(SourceError::Http {
                    status: status.as_u16(),
                    retry_after: retry_after(&response),
                })
            }
        })
        .await
}

/// Checks a credential bound for a header: not empty, and only visible ASCII, since a stray
/// space or newline would otherwise fail as an obscure transport error, retried for nothing.
/// `what` names the credential ("Vault token"), `origin` where it came from; never its value.
pub fn check_header_token(token: &str, what: &str, origin: &str) -> Result<(), SourceError> {
    if token.is_empty() {
        return Err(SourceError::Config {
            problem: format!("the {what} from {origin} is empty"),
        });
    }
    if !token.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(SourceError::Config {
            problem: format!(
                "the {what} from {origin} contains spaces, control or non-ASCII characters"
            ),
        });
    }
    Ok(())
}

/// `Authorization: Bearer TOKEN` after [`check_header_token`], marked sensitive so that no
/// debug output of hyper's or reqwest's shows it.
pub fn bearer(
    token: &str,
    what: &str,
    origin: &str,
) -> Result<reqwest::header::HeaderValue, SourceError> {
    check_header_token(token, what, origin)?;
    let header = secrecy::SecretString::from(format!("Bearer {token}"));
    let mut value =
        reqwest::header::HeaderValue::from_str(secrecy::ExposeSecret::expose_secret(&header))
            .map_err(|_| SourceError::Config {
                problem: format!("the {what} from {origin} is not a valid header"),
            })?;
    value.set_sensitive(true);
    Ok(value)
}

/// A transport failure, described without the URL's query or any body.
pub fn transport_error(error: &reqwest::Error, timeout: Duration) -> SourceError {
    if error.is_timeout() {
        SourceError::Timeout { after: timeout }
    } else if error.is_decode() || error.is_body() {
        SourceError::BadResponse {
            problem: "the response body could not be read".into(),
        }
    } else {
        let mut detail = String::from("connection failed");
        let mut tls = false;
        let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(error);
        // The innermost cause says what happened (refused, DNS, TLS) without the URL.
        while let Some(inner) = cause {
            tls |= is_tls(inner);
            detail = inner.to_string();
            cause = inner.source();
        }
        if tls {
            // A certificate that fails today fails on the next attempt too.
            SourceError::Tls { detail }
        } else {
            SourceError::Network { detail }
        }
    }
}

/// A rustls failure, as itself or wrapped in `io::Error`s (whose `source` skips what they wrap).
fn is_tls(error: &(dyn std::error::Error + 'static)) -> bool {
    if error.downcast_ref::<rustls::Error>().is_some() {
        return true;
    }
    match error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        Some(inner) => is_tls(inner),
        None => false,
    }
}

/// The delay a 429 or 503 asks for, in seconds (the HTTP-date form is rare and ignored).
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let seconds: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

/// The largest body read from a store: far above any real answer (a Secrets Manager secret is
/// at most 64 KiB, a Doppler config a few MB, a list page a few hundred KB), far below what
/// would exhaust memory when a store or something posing as one sends without end.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Reads a JSON body of at most [`MAX_RESPONSE_BYTES`], failing with a message that never
/// quotes the body.
pub async fn json<T: serde::de::DeserializeOwned>(
    response: Response,
    what: &'static str,
) -> Result<T, SourceError> {
    decode(&body(response, what).await?, what)
}

/// Decodes a JSON answer; an error names the position and the kind of problem, never the text
/// (serde's own message quotes it).
pub fn decode<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, SourceError> {
    serde_json::from_slice(bytes).map_err(|error| SourceError::BadResponse {
        problem: format!(
            "the {what} response is not the expected JSON ({} at line {}, column {})",
            classify(&error),
            error.line(),
            error.column()
        ),
    })
}

/// The body, read chunk by chunk so that an oversized one is refused before it is held whole.
async fn body(mut response: Response, what: &'static str) -> Result<Vec<u8>, SourceError> {
    let too_large = || SourceError::BadResponse {
        problem: format!(
            "the {what} response is larger than {} MiB",
            MAX_RESPONSE_BYTES >> 20
        ),
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|error| {
            let problem = match error.is_timeout() {
                true => format!("the {what} response stalled before its end"),
                false => format!("the {what} response was cut off"),
            };
            SourceError::BadResponse { problem }
        })?;
        let Some(chunk) = chunk else {
            return Ok(bytes);
        };
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
}

fn classify(error: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match error.classify() {
        Category::Io => "read error",
        Category::Syntax => "syntax error",
        Category::Data => "unexpected shape",
        Category::Eof => "truncated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(base_url("https://vault.example.com", "VAULT_ADDR", false).is_ok());
        assert!(base_url("http://127.0.0.1:8200", "VAULT_ADDR", false).is_ok());
        assert!(base_url("http://localhost:8200", "VAULT_ADDR", false).is_ok());
        assert!(base_url("http://[::1]:8200", "VAULT_ADDR", false).is_ok());
        let err = base_url("http://vault.example.com", "VAULT_ADDR", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "VAULT_ADDR uses plain http to a non-loopback host; use https, or pass \
             --allow-insecure-http"
        );
        assert!(base_url("http://vault.example.com", "VAULT_ADDR", true).is_ok());
    }
}
