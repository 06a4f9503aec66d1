//! What an OAuth 2.0 token endpoint answers (Google's and Microsoft's, their metadata servers'),
//! read once for both clouds, the token wrapped as a secret from the moment it is parsed.

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

/// `{"access_token", "token_type", "expires_in", ...}`. No `Debug`: it holds the token.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    #[serde(deserialize_with = "secret_string")]
    pub access_token: SecretString,
    /// `Bearer` where the endpoint says (Google checks it; Microsoft's is always `Bearer`).
    #[serde(default)]
    pub token_type: Option<String>,
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
