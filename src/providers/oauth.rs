//! OAuth 2.0 access tokens, for both clouds that use them (GCP and Azure): what a token endpoint
//! answers (Google's and Microsoft's, their metadata servers'), the token wrapped as a secret from
//! the moment it is parsed, and one cache that holds a token until shortly before it expires.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

use crate::error::SourceError;

use super::http;

/// How long before its expiry a token is replaced, so that none expires on its way to the
/// store; at most half its lifetime, so a short-lived token is still used at all.
const SAFETY_MARGIN: Duration = Duration::from_secs(5 * 60);

/// `{"access_token", "token_type", "expires_in", ...}`. No `Debug`: it holds the token.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    #[serde(deserialize_with = "secret_string")]
    pub access_token: SecretString,
    /// `Bearer` where the endpoint says (Google checks it; Microsoft's is always `Bearer`).
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds the token is valid for: a number (OAuth), or a number in a string (Azure's
    /// instance metadata service); anything else counts as unknown.
    #[serde(default, deserialize_with = "lifetime")]
    pub expires_in: Option<Duration>,
}

fn lifetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let seconds = match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    Ok(seconds.map(Duration::from_secs))
}

/// Wraps a secret straight from the JSON, so no plain copy outlives the parse.
pub(crate) fn secret_string<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

/// [`secret_string`] for a field that may be absent (with `#[serde(default)]`).
pub(crate) fn optional_secret_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
}

/// An access token, where it came from (for messages), and when to stop using it.
#[derive(Clone)]
pub(crate) struct Token {
    secret: SecretString,
    origin: String,
    /// `None`: no expiry is known (a token given in a variable), so it serves the whole run.
    renew_at: Option<Instant>,
}

impl Token {
    /// A token valid for `lifetime` from now (`None`: unknown).
    pub(crate) fn new(secret: SecretString, origin: &str, lifetime: Option<Duration>) -> Self {
        let renew_at =
            lifetime.map(|lifetime| Instant::now() + lifetime - SAFETY_MARGIN.min(lifetime / 2));
        Self {
            secret,
            origin: origin.to_string(),
            renew_at,
        }
    }

    pub(crate) fn from_answer(answer: TokenAnswer, origin: &str) -> Self {
        Self::new(answer.access_token, origin, answer.expires_in)
    }

    /// `Authorization: Bearer TOKEN`, checked and marked sensitive; `what` names the token in
    /// an error ("access token").
    pub(crate) fn bearer(&self, what: &str) -> Result<HeaderValue, SourceError> {
        http::bearer(self.secret.expose_secret(), what, &self.origin)
    }

    fn is_fresh(&self, now: Instant) -> bool {
        self.renew_at.is_none_or(|renew_at| now < renew_at)
    }
}

/// Never the token.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// One token, fetched on first use and again once it nears its expiry. Callers that find it
/// missing or stale at the same moment wait for one fetch instead of each sending their own; a
/// failed fetch leaves nothing behind, so the next caller tries again.
#[derive(Default)]
pub(crate) struct TokenCache(tokio::sync::Mutex<Option<Token>>);

impl TokenCache {
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<Token, SourceError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Token, SourceError>>,
    {
        let mut held = self.0.lock().await;
        if let Some(token) = held.as_ref().filter(|token| token.is_fresh(Instant::now())) {
            return Ok(token.clone());
        }
        let token = fetch().await?;
        *held = Some(token.clone());
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn answer(json: &str) -> TokenAnswer {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn lifetimes_are_numbers_or_numbers_in_strings() {
        let seconds = |json| answer(json).expires_in.map(|d| d.as_secs());
        assert_eq!(
            seconds(r#"{"access_token": "t", "expires_in": 3599}"#),
            Some(3599)
        );
        assert_eq!(
            seconds(r#"{"access_token": "t", "expires_in": "86399"}"#),
            Some(86399)
        );
        assert_eq!(
            seconds(r#"{"access_token": "t", "expires_in": "soon"}"#),
            None
        );
        assert_eq!(
            seconds(r#"{"access_token": "t", "expires_in": null}"#),
            None
        );
        assert_eq!(seconds(r#"{"access_token": "t"}"#), None);
    }

    #[test]
    fn a_token_is_renewed_before_it_expires() {
        let token = |seconds: Option<u64>| {
            Token::new(
                "t".to_string().into(),
                "test",
                seconds.map(Duration::from_secs),
            )
        };
        let (hour, short, unknown) = (token(Some(3600)), token(Some(60)), token(None));
        // After all were made, so each renewal time is at most this far from `now`.
        let now = Instant::now();
        assert!(hour.is_fresh(now));
        assert!(!hour.is_fresh(now + Duration::from_secs(3600) - SAFETY_MARGIN));
        assert!(short.is_fresh(now + Duration::from_secs(29)));
        assert!(!short.is_fresh(now + Duration::from_secs(30)));
        assert!(unknown.is_fresh(now + Duration::from_secs(365 * 24 * 3600)));
    }

    #[tokio::test]
    async fn one_fetch_while_fresh_another_once_stale_none_kept_after_a_failure() {
        let cache = TokenCache::default();
        let fetches = AtomicUsize::new(0);
        let fetch = |lifetime: Option<Duration>| {
            let fetches = &fetches;
            move || async move {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok(Token::new("t".to_string().into(), "test", lifetime))
            }
        };
        let failing = || async {
            Err(SourceError::Config {
                problem: "refused".into(),
            })
        };
        assert!(cache.get(failing).await.is_err());
        cache.get(fetch(Some(Duration::ZERO))).await.unwrap();
        cache.get(fetch(None)).await.unwrap();
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            2,
            "a stale token is fetched again"
        );
        cache.get(fetch(None)).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "a fresh one is reused");
    }

    #[test]
    fn the_token_stays_out_of_debug_output() {
        let token = Token::new("very-secret".to_string().into(), "test", None);
        assert!(!format!("{token:?}").contains("very-secret"));
        assert!(!format!("{:?}", token.bearer("token").unwrap()).contains("very-secret"));
    }
}
