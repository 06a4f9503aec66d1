//! How secret-manager keys become environment names, shared by every provider that expands a
//! JSON object into variables: upper-cased, anything outside `[A-Za-z0-9_]` turned into `_`,
//! with an optional prefix (`TWITCH_` + `client-id` → `TWITCH_CLIENT_ID`).

use crate::error::SourceError;
use crate::secret::SecretValue;

use super::{env_name, Entries};

/// `client-id` → `CLIENT_ID`.
pub fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The last segment of a secret's path, sanitized: `stream-daemon/db-password` → `DB_PASSWORD`.
pub fn from_path(path: &str) -> String {
    sanitize(path.rsplit('/').find(|s| !s.is_empty()).unwrap_or(path))
}

/// A JSON value as an environment value: strings as they are, anything else as compact JSON.
pub fn json_value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// One variable per key of a JSON object, or only `pick` when given.
pub fn expand_object(
    object: &serde_json::Map<String, serde_json::Value>,
    prefix: &str,
    pick: Option<&str>,
) -> Result<Entries, SourceError> {
    if let Some(key) = pick {
        let value = object.get(key).ok_or_else(|| SourceError::MissingKey {
            key: key.to_string(),
        })?;
        return Ok(vec![(
            env_name(format!("{prefix}{}", sanitize(key)))?,
            SecretValue::from(json_value_text(value)),
        )]);
    }
    object
        .iter()
        .map(|(key, value)| {
            Ok((
                env_name(format!("{prefix}{}", sanitize(key)))?,
                SecretValue::from(json_value_text(value)),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_like_the_providers_issue_says() {
        assert_eq!(sanitize("client-id"), "CLIENT_ID");
        assert_eq!(sanitize("db.password"), "DB_PASSWORD");
        assert_eq!(from_path("stream-daemon/twitch"), "TWITCH");
        assert_eq!(from_path("a/b/"), "B");
    }

    #[test]
    fn expands_objects_with_a_prefix() {
        let object = serde_json::json!({"client_id": "abc", "port": 5432, "nested": {"a": 1}});
        let entries = expand_object(object.as_object().unwrap(), "TWITCH_", None).unwrap();
        let rendered: Vec<(String, String)> = entries
            .into_iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8(v.expose().to_vec()).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            rendered,
            vec![
                ("TWITCH_CLIENT_ID".into(), "abc".into()),
                ("TWITCH_NESTED".into(), "{\"a\":1}".into()),
                ("TWITCH_PORT".into(), "5432".into()),
            ]
        );
    }

    #[test]
    fn picking_a_missing_key_names_it() {
        let object = serde_json::json!({"a": "1"});
        let err = expand_object(object.as_object().unwrap(), "", Some("b")).unwrap_err();
        assert_eq!(err.to_string(), "the secret has no key 'b'");
    }
}
