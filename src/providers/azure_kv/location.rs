//! An `azure-kv` location: a secret name, a version, a listing by name prefix, or a secret's full
//! URL, and the vault URL it names.

use super::*;

/// Where a source's secrets are, as written in its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Location {
    /// The vault, when the location is a full URL.
    pub(super) vault: Option<String>,
    pub(super) what: What,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum What {
    Secret {
        name: String,
        version: Option<String>,
    },
    /// Every enabled secret whose name starts with `prefix` (`""`: all).
    Listing { prefix: String },
}

pub(super) fn parse_location(location: &str) -> Result<Location, String> {
    if location.contains("://") {
        return parse_secret_url(location);
    }
    Ok(Location {
        vault: None,
        what: parse_what(location)?,
    })
}

/// `NAME`, `NAME/VERSION`, `PREFIX*` or `*`.
fn parse_what(text: &str) -> Result<What, String> {
    if let Some(prefix) = text.strip_suffix('*') {
        if !prefix.is_empty() {
            check_name(prefix, "prefix")?;
        }
        return Ok(What::Listing {
            prefix: prefix.to_string(),
        });
    }
    let (name, version) = match text.split_once('/') {
        Some((name, version)) => (name, Some(version)),
        None => (text, None),
    };
    check_name(name, "secret name")?;
    if let Some(version) = version {
        // Versions are 32 hex digits; anything else cannot exist, and would change the URL's path.
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("'{version}' is not a Key Vault secret version"));
        }
    }
    Ok(What::Secret {
        name: name.to_string(),
        version: version.map(str::to_string),
    })
}

/// Key Vault's rule for object names: 1 to 127 letters, digits and dashes.
fn check_name(name: &str, what: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 127
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a Key Vault {what}: use letters, digits and '-' only (or \
             https://VAULT.vault.azure.net/secrets/NAME)"
        ))
    }
}

/// `https://VAULT.vault.azure.net[/PROXY/PATH]/secrets/NAME[/VERSION]` (or `…/secrets/PREFIX*`).
fn parse_secret_url(text: &str) -> Result<Location, String> {
    let bad = || {
        format!(
            "'{text}' is not a Key Vault secret URL \
             (https://VAULT.vault.azure.net/secrets/NAME[/VERSION])"
        )
    };
    let url = Url::parse(text).map_err(|_| bad())?;
    let segments: Vec<&str> = url
        .path_segments()
        .ok_or_else(bad)?
        .filter(|segment| !segment.is_empty())
        .collect();
    // The version form first: a vault's own URL has no path, so the shortest vault path is the
    // likeliest reading of `/secrets/secrets/x`.
    let at = [3, 2]
        .into_iter()
        .filter(|tail| segments.len() >= *tail)
        .map(|tail| segments.len() - tail)
        .find(|at| segments[*at] == "secrets")
        .ok_or_else(bad)?;
    let what = parse_what(&segments[at + 1..].join("/"))?;
    let mut vault = url.clone();
    vault.set_query(None);
    vault.set_fragment(None);
    vault.set_path(&segments[..at].join("/"));
    Ok(Location {
        vault: Some(vault.to_string()),
        what,
    })
}

/// A vault's base URL: every request URL is built under it.
#[derive(Debug, Clone)]
pub(super) struct VaultUrl(pub(super) Url);

impl VaultUrl {
    pub(super) fn parse(
        text: &str,
        setting: &'static str,
        allow_insecure: bool,
    ) -> Result<Self, SourceError> {
        let full;
        let text = if text.contains("://") {
            text
        } else if (3..=24).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            // A bare vault name, as the `az` CLI takes it: Azure's public cloud.
            full = format!("https://{text}.vault.azure.net");
            &full
        } else {
            return Err(SourceError::Config {
                problem: format!(
                    "{setting} is neither a vault URL (https://NAME.vault.azure.net) nor a vault \
                     name"
                ),
            });
        };
        let mut url = http::base_url(text, setting, allow_insecure)?;
        url.set_query(None);
        url.set_fragment(None);
        Ok(Self(url))
    }

    /// `{vault}/{segments…}?api-version=7.4`, under whatever path the vault URL has.
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.0.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.query_pairs_mut()
            .append_pair("api-version", API_VERSION);
        url
    }

    /// A listing's `nextLink`, refused unless it stays on the vault: the token goes with it.
    pub(super) fn next_page(&self, link: &str) -> Result<Url, SourceError> {
        let url = Url::parse(link).ok().filter(|url| {
            url.scheme() == self.0.scheme()
                && url.host() == self.0.host()
                && url.port_or_known_default() == self.0.port_or_known_default()
        });
        url.ok_or_else(|| SourceError::BadResponse {
            problem: "the secret listing's nextLink points outside the vault".into(),
        })
    }

    /// Checks that the token a challenge asks for is meant for this vault's domain.
    pub(super) fn check_challenge(&self, challenge: &Challenge) -> Result<(), SourceError> {
        if http::is_loopback(&self.0) {
            return Ok(());
        }
        let resource = Url::parse(&challenge.scope)
            .ok()
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
            .filter(|host| !host.is_empty())
            .ok_or_else(|| SourceError::BadResponse {
                problem: "the vault's authentication challenge names no valid resource".into(),
            })?;
        let host = self.0.host_str().unwrap_or_default().to_ascii_lowercase();
        if host.ends_with(&format!(".{resource}")) {
            Ok(())
        } else {
            Err(SourceError::Config {
                problem: format!(
                    "{self} asks for a token for '{resource}', which is not its own domain; no \
                     token is sent to it (is the vault URL right?)"
                ),
            })
        }
    }
}

impl std::fmt::Display for VaultUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}
