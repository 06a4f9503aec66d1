//! `doppler:PREFIX`, `doppler:*`: the secrets of one Doppler config, fetched the way
//! `doppler run` fetches them (one `GET /v3/configs/config/secrets/download?format=json`).
//!
//! Location:
//! - `*`: every secret of the config. (Quote it in a shell: zsh refuses an unmatched glob.)
//! - `PREFIX`: the secrets whose names start with `PREFIX_`, names unchanged (a trailing `_` in
//!   the location is accepted: `APP` and `APP_` mean the same). Names are case-sensitive.
//!   A prefix that matches no secret at all is a "not found" error, as a typo must not run the
//!   command without its secrets.
//!
//! `#NAME` picks one secret: `doppler:*#DB_URL` reads `DB_URL`; with a prefix the name is
//! relative to it, as a key is relative to a path for the other providers, so
//! `doppler:APP#DB_URL` reads `APP_DB_URL`. Only that secret is requested (`secrets=`), and a
//! missing one is a "not found" error.
//!
//! Options:
//! - `strip-prefix`: drop `PREFIX_` from the names (`APP_DB_URL` → `DB_URL`); not with `*`.
//! - `include-metadata`: also inject Doppler's `DOPPLER_PROJECT`, `DOPPLER_CONFIG` and
//!   `DOPPLER_ENVIRONMENT` (unchanged, whatever the selection); left out by default.
//! - `project=NAME`, `config=NAME`: the config to read, for personal, CLI and service-account
//!   tokens (default: `$DOPPLER_PROJECT`, `$DOPPLER_CONFIG`). A service token implies its own
//!   config; if given anyway they must name it, or Doppler answers 403.
//! - `token-file=PATH`: read the token from this file (the way to name a token in a config file).
//!
//! The token comes from, first found: `token-file=`, `$DOPPLER_TOKEN`, `$DOPPLER_TOKEN_FILE` (a
//! file, e.g. a Docker secret); a file loses one trailing newline. The API host is
//! `$DOPPLER_API_HOST` (default `https://api.doppler.com`); plain `http://` is refused unless the
//! host is loopback or `--allow-insecure-http` is given. `DOPPLER_TOKEN` and
//! `DOPPLER_TOKEN_FILE` are kept from the child unless `--keep-config-vars`; `DOPPLER_PROJECT`,
//! `DOPPLER_CONFIG` and `DOPPLER_API_HOST` are not credentials and pass through.
//!
//! A service token (`dp.st.ENV.…`) whose environment disagrees with the configured config
//! (`dp.st.prd.…` with `config=dev`) is warned about before the request: it is the usual mistake,
//! and Doppler's own answer (403) does not say it.

pub(crate) mod write;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use reqwest::header::{HeaderValue, AUTHORIZATION, ETAG, IF_NONE_MATCH};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::spec::{SourceKind, SourceSpec};
use crate::error::{SourceError, SpecProblem};
use crate::secret::SecretValue;

use super::{
    digest_text, env_name, http, naming, trim_one_newline, unconditional, Advice,
    ConditionalFuture, Context, Entries, FetchFuture, Fetched, Provider,
};

const DEFAULT_API_HOST: &str = "https://api.doppler.com";

/// What Doppler adds to every config's download; not secrets, so left out unless asked.
const METADATA: [&str; 3] = ["DOPPLER_CONFIG", "DOPPLER_ENVIRONMENT", "DOPPLER_PROJECT"];

/// The name under which retries are logged.
const REQUEST: &str = "Doppler secrets download";

#[derive(Debug)]
pub struct Doppler {
    context: Arc<Context>,
    filter: Filter,
    project: Option<String>,
    config: Option<String>,
    token_file: Option<PathBuf>,
}

impl Doppler {
    pub fn from_spec(spec: &mut SourceSpec, context: Arc<Context>) -> Result<Self, SpecProblem> {
        let strip_prefix = spec.take_flag("strip-prefix")?;
        let include_metadata = spec.take_flag("include-metadata")?;
        let project = spec.take_non_empty("project", "a project name")?;
        let config = spec.take_non_empty("config", "a config name")?;
        let token_file = spec
            .take_non_empty("token-file", "a file path")?
            .map(PathBuf::from);
        spec.finish(true)?;

        let prefix = match spec.location.as_str() {
            "*" => None,
            location if location.ends_with('_') => Some(location.to_string()),
            location => Some(format!("{location}_")),
        };
        if strip_prefix && prefix.is_none() {
            return Err(SpecProblem::BadOptionValue {
                option: "strip-prefix".into(),
                expected: "a PREFIX location, not '*'",
            });
        }
        let pick = spec.key.as_ref().map(|key| match &prefix {
            Some(prefix) => format!("{prefix}{key}"),
            None => key.clone(),
        });
        Ok(Self {
            context,
            filter: Filter {
                prefix,
                strip_prefix,
                pick,
                include_metadata,
            },
            project,
            config,
            token_file,
        })
    }

    /// Downloads the config, or learns that the one tagged `etag` is still current (a 304 with
    /// no body: Doppler's conditional download).
    async fn download(&self, etag: Option<String>) -> Result<Fetched, SourceError> {
        let env = &self.context.env;
        let host = env.get_str("DOPPLER_API_HOST").unwrap_or(DEFAULT_API_HOST);
        let base = http::base_url(
            host,
            "DOPPLER_API_HOST",
            self.context.settings.allow_insecure_http,
        )?;
        let token = self.token().await?;
        let (project, config) = (self.project(), self.config());
        let warned = token.check_scope(project, config)?;

        let url = download_url(&base, &self.filter, project, config);
        let authorization = token.header()?;
        // A tag that is not a valid header value (a damaged snapshot) is simply not sent.
        let if_none_match = etag.and_then(|etag| HeaderValue::from_str(&etag).ok());
        // One request for every source of the run that asks the same thing with the same token.
        let mut key = [url.as_str().as_bytes(), authorization.as_bytes()].join(&0);
        if let Some(etag) = &if_none_match {
            key.push(0);
            key.extend_from_slice(etag.as_bytes());
        }
        let answer = self
            .context
            .doppler
            .cell(digest_text(&key))
            .get_or_init(|| self.request(&url, &authorization, if_none_match.as_ref()))
            .await
            .clone()
            .inspect_err(|error| {
                // A 403 to a service token sent a project or config is almost always that mistake;
                // say so unless the mismatch was already pointed out.
                let forbidden = matches!(error, SourceError::Http { status: 403, .. });
                let scoped = project.is_some() || config.is_some();
                if forbidden && token.is_service() && scoped && !warned {
                    tracing::warn!(
                    "a Doppler service token reads only the config it was made for: project and \
                     config (options or DOPPLER_PROJECT/DOPPLER_CONFIG) must name it, or be left \
                     out"
                );
                }
            })?;
        let Answer::Config { secrets, validator } = answer else {
            return Ok(Fetched::Unchanged);
        };
        let entries = self
            .filter
            .entries(&secrets, || place(&secrets, project, config))?;
        Ok(Fetched::Entries { entries, validator })
    }

    /// The download request itself, as every source sharing it gets its answer.
    async fn request(
        &self,
        url: &Url,
        authorization: &HeaderValue,
        if_none_match: Option<&HeaderValue>,
    ) -> Result<Answer, SourceError> {
        let response = http::send(&self.context, REQUEST, |client| {
            let request = client
                .get(url.clone())
                .header(AUTHORIZATION, authorization.clone());
            match if_none_match {
                Some(etag) => request.header(IF_NONE_MATCH, etag.clone()),
                None => request,
            }
        })
        .await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return match if_none_match {
                Some(_) => Ok(Answer::Unchanged),
                None => Err(SourceError::BadResponse {
                    problem: "HTTP 304 to a request that was not conditional".into(),
                }),
            };
        }
        let validator = response
            .headers()
            .get(ETAG)
            .and_then(|etag| etag.to_str().ok())
            .map(str::to_string);
        let secrets: Map<String, Value> = http::json(response, REQUEST).await?;
        Ok(Answer::Config {
            secrets: Arc::new(secrets),
            validator,
        })
    }

    /// The project asked for: the option, else `$DOPPLER_PROJECT`.
    fn project(&self) -> Option<&str> {
        self.project
            .as_deref()
            .or_else(|| self.context.env.get_str("DOPPLER_PROJECT"))
    }

    /// The config asked for: the option, else `$DOPPLER_CONFIG`.
    fn config(&self) -> Option<&str> {
        self.config
            .as_deref()
            .or_else(|| self.context.env.get_str("DOPPLER_CONFIG"))
    }

    /// The token, from the first place that has one; a token file is read off the runtime.
    async fn token(&self) -> Result<Token, SourceError> {
        match self.token_place()? {
            TokenPlace::Given(text) => Token::new(text.to_string(), "DOPPLER_TOKEN"),
            TokenPlace::File(path, origin) => {
                Token::from_file(super::read_credential_file(path).await?, origin)
            }
        }
    }

    /// [`Self::token`], a token file read at once: for [`Provider::advice`], which cannot wait.
    fn token_now(&self) -> Result<Token, SourceError> {
        match self.token_place()? {
            TokenPlace::Given(text) => Token::new(text.to_string(), "DOPPLER_TOKEN"),
            TokenPlace::File(path, origin) => {
                let bytes = std::fs::read(path).map_err(|source| SourceError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Token::from_file(bytes, origin)
            }
        }
    }

    /// Where the token is: the first place that has one.
    fn token_place(&self) -> Result<TokenPlace<'_>, SourceError> {
        if let Some(path) = &self.token_file {
            return Ok(TokenPlace::File(path, "the source's token-file"));
        }
        let env = &self.context.env;
        if let Some(value) = env.get("DOPPLER_TOKEN").filter(|value| !value.is_empty()) {
            let text = value.to_str().ok_or_else(|| SourceError::Config {
                problem: "DOPPLER_TOKEN is not valid UTF-8".into(),
            })?;
            return Ok(TokenPlace::Given(text));
        }
        if let Some(path) = env
            .get("DOPPLER_TOKEN_FILE")
            .filter(|path| !path.is_empty())
        {
            return Ok(TokenPlace::File(Path::new(path), "DOPPLER_TOKEN_FILE"));
        }
        Err(SourceError::Config {
            problem: "no Doppler token: set DOPPLER_TOKEN, or DOPPLER_TOKEN_FILE to a file that \
                      holds it, or add ?token-file=PATH to the source"
                .into(),
        })
    }
}

impl Provider for Doppler {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(unconditional(self.download(None)))
    }

    fn fetch_if_changed(&self, validator: Option<String>) -> ConditionalFuture<'_> {
        Box::pin(self.download(validator))
    }

    /// Only the token variables: project, config and host name no credential, and a child may
    /// well want `DOPPLER_CONFIG` to know where it runs.
    fn consumed(&self) -> &'static [&'static str] {
        SourceKind::Doppler.credential_variables()
    }

    /// A service token for another environment than the configured config's: Doppler answers
    /// such a request with a bare 403. A token that cannot be read is the fetch's error.
    fn advice(&self) -> Option<Advice> {
        let token = self.token_now().ok()?;
        let config = self.config()?;
        let environment = token.foreign_environment(config)?;
        Some(Advice {
            message: token.mismatch(environment, config),
        })
    }
}

/// Where a source's Doppler token is.
enum TokenPlace<'a> {
    /// `$DOPPLER_TOKEN`.
    Given(&'a str),
    /// A file, and the setting that named it.
    File(&'a Path, &'static str),
}

/// What one download request got: a config, or "unchanged" to a conditional request.
#[derive(Clone)]
enum Answer {
    Config {
        secrets: Arc<Map<String, Value>>,
        validator: Option<String>,
    },
    Unchanged,
}

/// The download requests of one run, by a digest of what they ask (URL, token, tag), so that
/// sources reading one config with one token (several prefixes of it, as `SECRETS_DOPPLER_*`
/// settings make) share one request, its answer or its failure. `Debug` shows how many there
/// are, never an answer.
#[derive(Default)]
pub(crate) struct Downloads(Mutex<HashMap<String, Arc<Download>>>);

/// One request's answer, once it arrived; the sources asking meanwhile wait for it.
type Download = OnceCell<Result<Answer, SourceError>>;

impl Downloads {
    fn cell(&self, key: String) -> Arc<Download> {
        let mut cells = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(cells.entry(key).or_default())
    }
}

impl std::fmt::Debug for Downloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.0.lock().map_or(0, |cells| cells.len());
        write!(f, "Downloads({count})")
    }
}

/// Which of a config's secrets a source yields, and under which names. Pure, so the rules are
/// tested without a server.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filter {
    /// `PREFIX_` to keep, or `None` for `*`.
    prefix: Option<String>,
    strip_prefix: bool,
    /// The full Doppler name `#NAME` asks for.
    pick: Option<String>,
    include_metadata: bool,
}

impl Filter {
    /// The names to ask Doppler for, when not all are needed: a pick needs one value, so no
    /// other value should cross the network. The metadata names are asked too (they are no
    /// secrets, and name the config in a "not found" error).
    fn wanted(&self) -> Option<String> {
        let pick = self.pick.as_deref()?;
        let mut names = vec![pick];
        names.extend(METADATA.iter().filter(|name| **name != pick));
        Some(names.join(","))
    }

    /// The name a Doppler secret gets, or `None` when the source does not yield it.
    fn keep(&self, name: &str) -> Option<String> {
        let metadata = METADATA.contains(&name);
        let selected = match (&self.pick, &self.prefix) {
            (Some(pick), _) => name == pick,
            (None, _) if metadata => false,
            (None, None) => true,
            (None, Some(prefix)) => name.starts_with(prefix.as_str()),
        };
        if selected {
            let shown = match (&self.prefix, self.strip_prefix) {
                (Some(prefix), true) => name.strip_prefix(prefix.as_str()).unwrap_or(name),
                _ => name,
            };
            Some(shown.to_string())
        } else if metadata && self.include_metadata {
            Some(name.to_string())
        } else {
            None
        }
    }

    /// The entries for a download, in Doppler's (sorted) order. `place` names the config for a
    /// "not found" error.
    fn entries(
        &self,
        secrets: &Map<String, Value>,
        place: impl FnOnce() -> String,
    ) -> Result<Entries, SourceError> {
        let mut entries = Entries::new();
        let mut selected = 0;
        for (name, value) in secrets {
            let Some(shown) = self.keep(name) else {
                continue;
            };
            if !METADATA.contains(&name.as_str()) || self.pick.as_deref() == Some(name) {
                selected += 1;
            }
            let text = naming::json_value_text(value);
            entries.push((env_name(shown)?, SecretValue::from(text)));
        }
        if selected > 0 {
            return Ok(entries);
        }
        match (&self.pick, &self.prefix) {
            (Some(pick), _) => Err(SourceError::NotFound {
                what: format!("no secret named '{pick}' in {}", place()),
            }),
            (None, Some(prefix)) => {
                // Doppler's names are upper-case; say so when that is the likely mistake.
                let case = if prefix.chars().any(|c| c.is_ascii_lowercase()) {
                    " (names are case-sensitive)"
                } else {
                    ""
                };
                Err(SourceError::NotFound {
                    what: format!("no secret name starts with '{prefix}' in {}{case}", place()),
                })
            }
            // `*` on an empty config: nothing asked for by name, so nothing is missing.
            (None, None) => Ok(entries),
        }
    }
}

/// Names the config a download came from, for errors: Doppler's own metadata when it sent it,
/// else what was configured.
fn place(secrets: &Map<String, Value>, project: Option<&str>, config: Option<&str>) -> String {
    let reported = |name: &str| secrets.get(name).and_then(Value::as_str);
    let project = reported("DOPPLER_PROJECT").or(project);
    let config = reported("DOPPLER_CONFIG").or(config);
    match (project, config) {
        (Some(project), Some(config)) => format!("config '{config}' of project '{project}'"),
        (None, Some(config)) => format!("config '{config}'"),
        _ => "the token's config".into(),
    }
}

/// `…/v3/configs/config/secrets/download?format=json…`, under whatever path the host has (a proxy
/// at `https://proxy/doppler`, which `Url::join` with an absolute path would drop).
fn download_url(base: &Url, filter: &Filter, project: Option<&str>, config: Option<&str>) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .extend(["v3", "configs", "config", "secrets", "download"]);
    }
    let mut query = url.query_pairs_mut();
    query.append_pair("format", "json");
    // As `doppler run` does, so dynamic secrets reach the child too.
    query.append_pair("include_dynamic_secrets", "true");
    if let Some(project) = project {
        query.append_pair("project", project);
    }
    if let Some(config) = config {
        query.append_pair("config", config);
    }
    if let Some(names) = filter.wanted() {
        query.append_pair("secrets", &names);
    }
    drop(query);
    url
}

/// A Doppler token and where it came from; messages name the origin, never the token.
#[derive(Debug)]
struct Token {
    secret: SecretString,
    origin: &'static str,
}

impl Token {
    fn new(text: String, origin: &'static str) -> Result<Self, SourceError> {
        let secret = SecretString::from(text);
        http::check_header_token(secret.expose_secret(), "Doppler token", origin)?;
        Ok(Self { secret, origin })
    }

    /// A token file's content (read in fetch, never while planning), dropping the newline
    /// editors add.
    fn from_file(bytes: Vec<u8>, origin: &'static str) -> Result<Self, SourceError> {
        let text = String::from_utf8(trim_one_newline(bytes)).map_err(|_| SourceError::Config {
            problem: format!("the Doppler token file from {origin} is not UTF-8 text"),
        })?;
        Self::new(text, origin)
    }

    fn header(&self) -> Result<HeaderValue, SourceError> {
        http::bearer(self.secret.expose_secret(), "Doppler token", self.origin)
    }

    fn is_service(&self) -> bool {
        self.secret.expose_secret().starts_with("dp.st.")
    }

    /// Catches, before any request, what Doppler would only answer with a bare 400 or 403.
    /// Returns whether it warned.
    fn check_scope(
        &self,
        project: Option<&str>,
        config: Option<&str>,
    ) -> Result<bool, SourceError> {
        let token = self.secret.expose_secret();
        if needs_project_and_config(token) && (project.is_none() || config.is_none()) {
            return Err(SourceError::Config {
                problem: format!(
                    "the Doppler token from {} is a personal, CLI or service-account token, \
                     which needs a project and a config: add ?project=NAME&config=NAME to the \
                     source, or set DOPPLER_PROJECT and DOPPLER_CONFIG",
                    self.origin
                ),
            });
        }
        let foreign = config.and_then(|config| Some((self.foreign_environment(config)?, config)));
        if let Some((environment, config)) = foreign {
            tracing::warn!("{}", self.mismatch(environment, config));
            return Ok(true);
        }
        Ok(false)
    }

    /// The environment of a service token, when `config` cannot be one of its configs.
    fn foreign_environment(&self, config: &str) -> Option<&str> {
        service_token_environment(self.secret.expose_secret())
            .filter(|environment| !config_matches_environment(config, environment))
    }

    fn mismatch(&self, environment: &str, config: &str) -> String {
        format!(
            "the Doppler service token from {} is for environment '{environment}', but config \
             '{config}' is asked for; Doppler will refuse it (a service token reads only its own \
             config)",
            self.origin
        )
    }
}

/// Personal (`dp.pt.`), CLI (`dp.ct.`) and service-account (`dp.sa.`) tokens reach many configs,
/// so Doppler needs to be told which one.
fn needs_project_and_config(token: &str) -> bool {
    ["dp.pt.", "dp.ct.", "dp.sa."]
        .iter()
        .any(|kind| token.starts_with(kind))
}

/// The environment slug of a service token (`dp.st.prd.xxxx` → `prd`), or `None` for any other
/// token. Only a slug shaped like a Doppler environment counts, so that a token of an unknown
/// format never has a part of its secret logged.
fn service_token_environment(token: &str) -> Option<&str> {
    let (slug, rest) = token.strip_prefix("dp.st.")?.split_once('.')?;
    let shaped = !slug.is_empty()
        && slug.len() <= 32
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    (shaped && !rest.is_empty()).then_some(slug)
}

/// Doppler names a config after its environment, branch configs with a suffix: `prd`,
/// `prd_eu`.
fn config_matches_environment(config: &str, environment: &str) -> bool {
    config
        .strip_prefix(environment)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::ParentEnv;
    use crate::providers::FetchSettings;

    fn filter(spec: &str) -> Filter {
        let mut spec = SourceSpec::parse(spec).unwrap();
        Doppler::from_spec(&mut spec, Arc::new(Context::default()))
            .unwrap()
            .filter
    }

    fn download() -> Map<String, Value> {
        serde_json::json!({
            "APP_DB_URL": "postgres://db",
            "APP_PORT": 5432,
            "APPLE": "not under APP_",
            "OTHER": "x",
            "DOPPLER_CONFIG": "dev",
            "DOPPLER_ENVIRONMENT": "dev",
            "DOPPLER_PROJECT": "shop",
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn names_values(filter: &Filter) -> Result<Vec<(String, String)>, SourceError> {
        let secrets = download();
        let entries = filter.entries(&secrets, || place(&secrets, None, None))?;
        Ok(crate::providers::plain_entries(entries))
    }

    fn names(spec: &str) -> Vec<String> {
        names_values(&filter(spec))
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    #[test]
    fn prefix_keeps_names_under_it_unchanged() {
        assert_eq!(names("doppler:APP"), ["APP_DB_URL", "APP_PORT"]);
        assert_eq!(names("doppler:APP_"), ["APP_DB_URL", "APP_PORT"]);
    }

    #[test]
    fn strip_prefix_drops_it() {
        assert_eq!(names("doppler:APP?strip-prefix"), ["DB_URL", "PORT"]);
    }

    #[test]
    fn star_takes_all_but_metadata() {
        assert_eq!(
            names("doppler:*"),
            ["APPLE", "APP_DB_URL", "APP_PORT", "OTHER"]
        );
    }

    #[test]
    fn include_metadata_adds_dopplers_own_names() {
        assert_eq!(
            names("doppler:*?include-metadata"),
            [
                "APPLE",
                "APP_DB_URL",
                "APP_PORT",
                "DOPPLER_CONFIG",
                "DOPPLER_ENVIRONMENT",
                "DOPPLER_PROJECT",
                "OTHER"
            ]
        );
        // Whatever the selection, and never stripped.
        assert_eq!(
            names("doppler:APP?strip-prefix&include-metadata"),
            [
                "DB_URL",
                "PORT",
                "DOPPLER_CONFIG",
                "DOPPLER_ENVIRONMENT",
                "DOPPLER_PROJECT"
            ]
        );
    }

    #[test]
    fn non_string_values_are_rendered_as_json() {
        let values = names_values(&filter("doppler:*#APP_PORT")).unwrap();
        assert_eq!(values, [("APP_PORT".to_string(), "5432".to_string())]);
    }

    #[test]
    fn pick_is_exact_or_relative_to_the_prefix() {
        assert_eq!(names("doppler:*#OTHER"), ["OTHER"]);
        assert_eq!(names("doppler:APP#DB_URL"), ["APP_DB_URL"]);
        assert_eq!(names("doppler:APP?strip-prefix#DB_URL"), ["DB_URL"]);
        // Asking for metadata by name is asking for it.
        assert_eq!(names("doppler:*#DOPPLER_CONFIG"), ["DOPPLER_CONFIG"]);
        assert_eq!(
            filter("doppler:APP#DB_URL").wanted().as_deref(),
            Some("APP_DB_URL,DOPPLER_CONFIG,DOPPLER_ENVIRONMENT,DOPPLER_PROJECT")
        );
        assert_eq!(filter("doppler:APP").wanted(), None);
    }

    #[test]
    fn missing_pick_or_empty_prefix_is_not_found() {
        let err = names_values(&filter("doppler:*#NOPE")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not found: no secret named 'NOPE' in config 'dev' of project 'shop'"
        );
        let err = names_values(&filter("doppler:NOPE")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not found: no secret name starts with 'NOPE_' in config 'dev' of project 'shop'"
        );
        let err = names_values(&filter("doppler:app")).unwrap_err();
        assert!(
            err.to_string().ends_with("(names are case-sensitive)"),
            "{err}"
        );
        // `*` on an empty config is no error.
        let empty = Map::new();
        let entries = filter("doppler:*")
            .entries(&empty, || place(&empty, None, None))
            .unwrap();
        assert!(entries.is_empty());
    }

    #[test]
    fn spec_options_are_checked() {
        let problem = |text: &str| {
            let mut spec = SourceSpec::parse(text).unwrap();
            Doppler::from_spec(&mut spec, Arc::new(Context::default())).unwrap_err()
        };
        assert_eq!(
            problem("doppler:*?strip-prefix").to_string(),
            "option 'strip-prefix' expects a PREFIX location, not '*'"
        );
        assert_eq!(
            problem("doppler:*?config=").to_string(),
            "option 'config' expects a config name"
        );
        assert_eq!(
            problem("doppler:*?bogus").to_string(),
            "unknown option 'bogus'"
        );
    }

    #[test]
    fn service_token_environments() {
        assert_eq!(service_token_environment("dp.st.prd.AbC123"), Some("prd"));
        assert_eq!(
            service_token_environment("dp.st.dev_eu.AbC123"),
            Some("dev_eu")
        );
        assert_eq!(service_token_environment("dp.st.AbC123"), None);
        assert_eq!(service_token_environment("dp.st.Secret.AbC"), None);
        assert_eq!(service_token_environment("dp.pt.AbC123"), None);
        assert!(config_matches_environment("prd", "prd"));
        assert!(config_matches_environment("prd_eu", "prd"));
        assert!(!config_matches_environment("dev", "prd"));
        assert!(!config_matches_environment("prdx", "prd"));
        assert!(needs_project_and_config("dp.pt.x"));
        assert!(!needs_project_and_config("dp.st.dev.x"));
    }

    #[test]
    fn url_keeps_the_hosts_path_and_sends_the_selection() {
        let base = Url::parse("https://proxy.example/doppler/").unwrap();
        let url = download_url(&base, &filter("doppler:*#A"), Some("shop"), Some("dev"));
        assert_eq!(
            url.as_str(),
            "https://proxy.example/doppler/v3/configs/config/secrets/download?format=json&\
             include_dynamic_secrets=true&project=shop&config=dev&\
             secrets=A%2CDOPPLER_CONFIG%2CDOPPLER_ENVIRONMENT%2CDOPPLER_PROJECT"
        );
        let base = Url::parse("https://api.doppler.com").unwrap();
        let url = download_url(&base, &filter("doppler:*"), None, None);
        assert_eq!(
            url.as_str(),
            "https://api.doppler.com/v3/configs/config/secrets/download?format=json&\
             include_dynamic_secrets=true"
        );
    }

    fn provider(spec: &str, env: &[(&str, &str)]) -> Doppler {
        let context = Context::new(
            ParentEnv::from_pairs(env.iter().copied()),
            FetchSettings::default(),
        );
        let mut spec = SourceSpec::parse(spec).unwrap();
        Doppler::from_spec(&mut spec, Arc::new(context)).unwrap()
    }

    #[test]
    fn token_sources_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let spec_file = dir.path().join("spec-token");
        std::fs::write(&spec_file, "dp.st.dev.from-spec\n").unwrap();
        let env_file = dir.path().join("env-token");
        std::fs::write(&env_file, "dp.st.dev.from-env-file\n\n").unwrap();
        let env_file = env_file.to_str().unwrap();
        let with_file = format!("doppler:*?token-file={}", spec_file.display());
        let both = [
            ("DOPPLER_TOKEN", "dp.st.dev.from-env"),
            ("DOPPLER_TOKEN_FILE", env_file),
        ];

        let token = provider(&with_file, &both).token_now().unwrap();
        assert_eq!(token.secret.expose_secret(), "dp.st.dev.from-spec");
        let token = provider("doppler:*", &both).token_now().unwrap();
        assert_eq!(token.secret.expose_secret(), "dp.st.dev.from-env");
        // One newline is trimmed, not two: the token then holds a newline and is refused.
        let err = provider("doppler:*", &[("DOPPLER_TOKEN_FILE", env_file)])
            .token_now()
            .unwrap_err();
        assert!(
            err.to_string().contains("DOPPLER_TOKEN_FILE contains"),
            "{err}"
        );

        let err = provider("doppler:*", &[("DOPPLER_TOKEN", "")])
            .token_now()
            .unwrap_err();
        assert!(
            err.to_string().contains("DOPPLER_TOKEN")
                && err.to_string().contains("DOPPLER_TOKEN_FILE"),
            "{err}"
        );
    }

    #[test]
    fn scope_is_checked_before_any_request() {
        let service = Token::new("dp.st.prd.abc".into(), "DOPPLER_TOKEN").unwrap();
        assert!(
            service.check_scope(None, Some("dev")).unwrap(),
            "a mismatch warns"
        );
        assert!(!service.check_scope(None, Some("prd_eu")).unwrap());
        assert!(!service.check_scope(None, None).unwrap());
        let personal = Token::new("dp.pt.abc".into(), "DOPPLER_TOKEN").unwrap();
        let err = personal.check_scope(Some("shop"), None).unwrap_err();
        assert!(
            err.to_string().contains("needs a project and a config"),
            "{err}"
        );
        assert!(!personal.check_scope(Some("shop"), Some("dev")).unwrap());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = Token::new("dp.st.dev.very-secret-token".into(), "DOPPLER_TOKEN").unwrap();
        let shown = format!("{token:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        let header = token.header().unwrap();
        assert!(!format!("{header:?}").contains("very-secret"));
    }
}
