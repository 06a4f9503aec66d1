//! References in environment values: `DB_PASSWORD=vault:secret/data/app#password` in the parent
//! environment, a `.env` file or the config file's `env` table is replaced by the secret before
//! the child starts, for deployments that can set variables but cannot ship a config file.
//!
//! A reference is a source spec that names exactly one value: `vault:PATH#FIELD`,
//! `aws-sm:NAME[#KEY]`, the plain ARN `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME[#KEY]`,
//! `aws-ssm:/NAME`, `azure-kv:NAME`, `gcp-sm:NAME`, `doppler:NAME` (one secret by name) and
//! `file:/ABSOLUTE/PATH`. `file://…` is a URL, not a reference. A value that only looks like a
//! reference is kept by writing `literal:` before it (`literal:vault:x` → `vault:x`).
//!
//! The replaced value keeps the rank of the variable that held the reference.

use crate::providers::registry::{self, Reference};
use crate::source::{SourceKind, SourceSpec};

const LITERAL: &str = "literal:";

/// What an environment value is.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Not a reference: passed on unchanged.
    Plain,
    /// `literal:` before something that looks like a reference: passed on without the prefix.
    Escaped(String),
    /// A reference: the spec to fetch (or why the reference is malformed).
    Reference(Result<SourceSpec, String>),
}

pub fn parse(value: &str) -> Parsed {
    if let Some(rest) = value.strip_prefix(LITERAL) {
        return match spec_text(rest) {
            Some(_) => Parsed::Escaped(rest.to_string()),
            None => Parsed::Plain,
        };
    }
    match spec_text(value) {
        Some(text) => {
            Parsed::Reference(SourceSpec::parse(&text).map_err(|problem| problem.to_string()))
        }
        None => Parsed::Plain,
    }
}

/// The source spec a value stands for, if it looks like a reference, as each kind's
/// [`Reference`] in the store registry says.
fn spec_text(value: &str) -> Option<String> {
    let bare = registry::stores().iter().find(|store| {
        matches!(store.reference, Reference::Spec { also: Some(prefix) } if value.starts_with(prefix))
    });
    if let Some(store) = bare {
        return Some(format!("{}:{value}", store.scheme));
    }
    let (scheme, rest) = value.split_once(':')?;
    let kind = SourceKind::from_scheme(scheme)?;
    match kind.store().reference {
        Reference::Never => None,
        Reference::AbsolutePath => {
            (rest.starts_with('/') && !rest.starts_with("//")).then(|| value.into())
        }
        Reference::NameInSet => {
            let (name, query) = match rest.split_once('?') {
                Some((name, query)) => (name, format!("?{query}")),
                None => (rest, String::new()),
            };
            (!name.is_empty() && !name.contains('#')).then(|| format!("{scheme}:*{query}#{name}"))
        }
        Reference::Spec { .. } => Some(value.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(value: &str) -> String {
        match parse(value) {
            Parsed::Reference(Ok(spec)) => spec.text().to_string(),
            other => panic!("{value}: {other:?}"),
        }
    }

    #[test]
    fn recognises_every_reference_form() {
        assert_eq!(
            spec("vault:secret/data/app#password"),
            "vault:secret/data/app#password"
        );
        assert_eq!(spec("aws-sm:prod/api#key"), "aws-sm:prod/api#key");
        assert_eq!(
            spec("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC#pw"),
            "aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC#pw"
        );
        assert_eq!(spec("doppler:API_KEY"), "doppler:*#API_KEY");
        assert_eq!(
            spec("doppler:API_KEY?config=prd"),
            "doppler:*?config=prd#API_KEY"
        );
        assert_eq!(
            spec("file:/run/secrets/cert.pem"),
            "file:/run/secrets/cert.pem"
        );
    }

    #[test]
    fn ordinary_values_are_not_references() {
        for value in [
            "postgres://u@h/db",
            "file:///etc/hosts",
            "file:test.db?mode=memory",
            "dotenv:.env",
            "dir:/run/secrets",
            "https://vault:8200",
            "plain",
            "",
        ] {
            assert_eq!(parse(value), Parsed::Plain, "{value}");
        }
    }

    #[test]
    fn literal_escapes_only_what_looks_like_a_reference() {
        assert_eq!(
            parse("literal:vault:x#y"),
            Parsed::Escaped("vault:x#y".into())
        );
        assert_eq!(parse("literal:hello"), Parsed::Plain);
    }

    #[test]
    fn a_malformed_reference_is_reported() {
        assert!(matches!(parse("vault:"), Parsed::Reference(Err(_))));
    }
}
