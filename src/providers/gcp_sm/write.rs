//! `gcp-sm:PREFIX*` and `gcp-sm:*?label=KEY:VALUE` as write targets: one secret per name, its
//! id the name (read back through the same mapping), with a new version holding the value
//! (`addVersion`, with the payload's CRC32C so Secret Manager checks what arrived). A name not
//! yet there gets its secret first (`secrets.create`, automatic replication, carrying the
//! listing's labels so the listing finds it); a secret that exists already (an earlier run that
//! stopped before its version) just gets the version. Each name is written on its own, so some
//! may fail while others are written. The id must start with the listing's prefix; a label
//! without a value, `json`, one named secret and `#NAME` are refused. IAM:
//! `roles/secretmanager.secretVersionAdder`, and `secretmanager.secrets.create` for new names.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde_json::{json, Map, Value};

use crate::error::{SourceError, SpecProblem};
use crate::providers::spec::SourceSpec;
use crate::providers::write::{
    one_by_one, prefixed_own, read_or_empty, unprefixed, write_refused, Change, WriteFuture, Writer,
};
use crate::providers::{http, Context, FetchFuture};
use crate::secret::EnvName;

use super::{GcpSm, Label, SharedClient, Target, USER_PROJECT};

const CREATE: &str = "Secret Manager create secret";
const ADD_VERSION: &str = "Secret Manager add version";

#[derive(Debug)]
pub(crate) struct GcpSmWriter {
    reader: GcpSm,
}

impl GcpSmWriter {
    pub(crate) fn from_spec(
        spec: &mut SourceSpec,
        context: Arc<Context>,
    ) -> Result<Self, SpecProblem> {
        let reader = GcpSm::from_spec(spec, context)?;
        if reader.json {
            return Err(SpecProblem::Unwritable(
                "json reads names from one secret's JSON; write one secret per name with \
                 gcp-sm:PREFIX* or gcp-sm:*?label=KEY:VALUE",
            ));
        }
        match &reader.location.target {
            Target::Secret { .. } => {
                return Err(SpecProblem::Unwritable(
                    "one secret is named by the name it is read as; write one secret per \
                     name with gcp-sm:PREFIX* or gcp-sm:*?label=KEY:VALUE",
                ))
            }
            Target::Listing { labels, .. } if labels.iter().any(|l| l.value.is_none()) => {
                return Err(SpecProblem::Unwritable(
                    "a label without a value cannot be given to a new secret; write \
                     label=KEY:VALUE",
                ))
            }
            Target::Listing { .. } => {}
        }
        Ok(Self { reader })
    }

    fn listing(&self) -> Option<(&str, &[Label])> {
        match &self.reader.location.target {
            Target::Listing { prefix, labels } => Some((prefix.as_str(), labels.as_slice())),
            Target::Secret { .. } => None,
        }
    }

    fn secret_id<'a>(&self, name: &'a EnvName) -> &'a str {
        unprefixed(name, &self.reader.name_prefix)
    }

    async fn put(
        &self,
        shared: &SharedClient,
        project: &str,
        change: &Change,
    ) -> Result<(), SourceError> {
        let context = &self.reader.context;
        let authorization = shared.authorization(context).await?;
        let id = self.secret_id(&change.name);
        let resource = format!("projects/{project}/secrets/{id}");
        let refused = |error| {
            write_refused(
                error,
                &format!("Google Secret Manager ({resource})"),
                "roles/secretmanager.secretVersionAdder (and secretmanager.secrets.create for a \
                 new name)",
            )
        };
        if !change.exists {
            let labels: Map<String, Value> = self
                .listing()
                .map(|(_, labels)| labels)
                .unwrap_or_default()
                .iter()
                .filter_map(|label| Some((label.key.clone(), Value::from(label.value.clone()?))))
                .collect();
            let mut url = shared.url(&["v1", "projects", project, "secrets"]);
            url.query_pairs_mut().append_pair("secretId", id);
            let body = json!({"replication": {"automatic": {}}, "labels": labels});
            // A secret an earlier run created before it stopped is there already: it only
            // lacks its version.
            let already = |status: reqwest::StatusCode| status.as_u16() == 409;
            http::send_accepting(context, CREATE, already, |client| {
                post(shared, &authorization, client, &url).json(&body)
            })
            .await
            .map_err(refused)?;
        }
        let data = change.value.expose();
        let body = json!({
            "payload": {
                "data": STANDARD.encode(data),
                "dataCrc32c": crc32c::crc32c(data).to_string(),
            }
        });
        let last = format!("{id}:addVersion");
        let url = shared.url(&["v1", "projects", project, "secrets", &last]);
        http::send(context, ADD_VERSION, |client| {
            post(shared, &authorization, client, &url).json(&body)
        })
        .await
        .map(drop)
        .map_err(refused)
    }
}

/// A POST with the shared token (and quota project).
fn post(
    shared: &SharedClient,
    authorization: &HeaderValue,
    client: &reqwest::Client,
    url: &reqwest::Url,
) -> reqwest::RequestBuilder {
    let request = client
        .post(url.clone())
        .header(AUTHORIZATION, authorization.clone());
    match &shared.quota_project {
        Some(project) => request.header(USER_PROJECT, project.clone()),
        None => request,
    }
}

impl Writer for GcpSmWriter {
    fn current(&self) -> FetchFuture<'_> {
        Box::pin(read_or_empty(&self.reader))
    }

    fn refuses_name(&self, name: &EnvName) -> Option<&'static str> {
        let id = match prefixed_own(name, &self.reader.name_prefix) {
            Ok(id) => id,
            Err(problem) => return Some(problem),
        };
        match self.listing() {
            Some((prefix, _)) if !id.starts_with(prefix) => Some(
                "its secret id (the name) would not start with the listing's prefix, so it would \
                 not be read back",
            ),
            _ => None,
        }
    }

    fn write<'a>(&'a self, changes: &'a [Change]) -> WriteFuture<'a> {
        Box::pin(async move {
            let context = &self.reader.context;
            let ready = async {
                let location = &self.reader.location;
                let shared = context
                    .gcp
                    .get_or_try_init(|| SharedClient::load(context))
                    .await?;
                let project = self.reader.project(shared, location).await?;
                Ok::<_, SourceError>((shared, project))
            }
            .await;
            one_by_one(changes, &ready, |(shared, project), change| {
                self.put(shared, project, change)
            })
            .await
        })
    }
}
