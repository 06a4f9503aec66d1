//! `doppler:*` and `doppler:PREFIX` as write targets: every change in one request to Doppler's
//! secrets update endpoint (`POST /v3/configs/config/secrets`, body `{"project", "config",
//! "secrets": {NAME: value}}` as the API reference documents it; project and config are left out
//! for a service token, which names its own config). Doppler writes the request whole or not at
//! all, so every name gets the same outcome. With a prefix, names must start with `PREFIX_`
//! (with `strip-prefix`, they are written with it); Doppler's own `DOPPLER_*` names are refused.
//! The token needs write access (a personal token, or a service token with read/write access).

use std::sync::Arc;

use reqwest::header::AUTHORIZATION;
use serde_json::{Map, Value};

use crate::error::{SourceError, SpecProblem};
use crate::providers::spec::SourceSpec;
use crate::providers::write::{
    all_alike, read_or_empty, refuse_key, send_write, Change, WriteFuture, Writer,
};
use crate::providers::{http, Context, FetchFuture};
use crate::secret::EnvName;

use super::{Doppler, DEFAULT_API_HOST};

const UPDATE: &str = "Doppler secrets update";
const ONE_SECRET: &str = "'#NAME' reads one secret; write to the config, e.g. doppler:*";

#[derive(Debug)]
pub(crate) struct DopplerWriter {
    reader: Doppler,
}

impl DopplerWriter {
    pub(crate) fn from_spec(
        spec: &mut SourceSpec,
        context: Arc<Context>,
    ) -> Result<Self, SpecProblem> {
        refuse_key(spec, ONE_SECRET)?;
        Ok(Self {
            reader: Doppler::from_spec(spec, context)?,
        })
    }

    /// The Doppler name `name` is read back as.
    fn doppler_name(&self, name: &EnvName) -> String {
        match (&self.reader.filter.prefix, self.reader.filter.strip_prefix) {
            (Some(prefix), true) => format!("{prefix}{name}"),
            _ => name.to_string(),
        }
    }

    async fn update(&self, changes: &[Change]) -> Result<(), SourceError> {
        let context = &self.reader.context;
        let host = context
            .env
            .get_str("DOPPLER_API_HOST")
            .unwrap_or(DEFAULT_API_HOST);
        let mut url = http::base_url(
            host,
            "DOPPLER_API_HOST",
            context.settings.allow_insecure_http,
        )?;
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["v3", "configs", "config", "secrets"]);
        }
        let token = self.reader.token().await?;
        let (project, config) = (self.reader.project(), self.reader.config());
        token.check_scope(project, config)?;
        let authorization = token.header()?;
        let secrets: Map<String, Value> = changes
            .iter()
            .map(|change| {
                let value = String::from_utf8_lossy(change.value.expose()).into_owned();
                (self.doppler_name(&change.name), Value::String(value))
            })
            .collect();
        let mut body = Map::new();
        if !token.is_service() {
            body.extend(project.map(|p| ("project".to_string(), Value::from(p))));
            body.extend(config.map(|c| ("config".to_string(), Value::from(c))));
        }
        body.insert("secrets".into(), Value::Object(secrets));
        let body = Value::Object(body);
        let place = match (project, config) {
            (Some(project), Some(config)) => format!("Doppler ({project}/{config})"),
            _ => "Doppler (the token's config)".to_string(),
        };
        let request = |client: &reqwest::Client| {
            client
                .post(url.clone())
                .header(AUTHORIZATION, authorization.clone())
                .json(&body)
        };
        send_write(
            context,
            UPDATE,
            request,
            &place,
            "write access (a personal token, or a service token with read/write access)",
        )
        .await
    }
}

impl Writer for DopplerWriter {
    fn current(&self) -> FetchFuture<'_> {
        Box::pin(read_or_empty(&self.reader))
    }

    fn refuses_name(&self, name: &EnvName) -> Option<&'static str> {
        let full = self.doppler_name(name);
        let mut chars = full.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Some("Doppler names are letters, digits and _, not starting with a digit");
        }
        if full.starts_with("DOPPLER_") {
            return Some("Doppler manages the DOPPLER_* names itself");
        }
        match &self.reader.filter.prefix {
            Some(prefix) if !full.starts_with(prefix.as_str()) => Some(
                "the name does not start with the source's PREFIX_, so it would not be read back",
            ),
            _ => None,
        }
    }

    fn write<'a>(&'a self, changes: &'a [Change]) -> WriteFuture<'a> {
        Box::pin(async move { all_alike(changes, self.update(changes).await) })
    }
}
