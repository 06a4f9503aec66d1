//! `azure-kv:*` and `azure-kv:PREFIX*` as write targets: one secret per name, named as the
//! reader names variables inverted (`CH_HOST` → secret `CH-HOST`), written with Key Vault's
//! set-secret call (`PUT {vault}/secrets/{name}`, a new version). Each name is written on its
//! own, so some may fail while others are written. The secret's name must start with the
//! listing's prefix (compared without regard to case, as Key Vault compares names), or the
//! reader would not find it; `prefix=P` takes names starting with P and writes them without it.
//! One named secret, `json` and `#NAME` are refused: they read one secret, not one per name.
//! Authentication is the reader's (the vault's challenge, then a token for it); the identity
//! needs the `Set` secret permission (or the Key Vault Secrets Officer role).

use std::sync::Arc;

use reqwest::header::AUTHORIZATION;

use crate::error::{SourceError, SpecProblem};
use crate::providers::spec::SourceSpec;
use crate::providers::write::{
    one_by_one, prefixed_own, read_or_empty, send_write, unprefixed, Change, WriteFuture, Writer,
};
use crate::providers::{Context, FetchFuture};
use crate::secret::EnvName;

use super::{AzureKv, SharedClient, VaultClient, VaultUrl, What, GET};

const SET: &str = "Azure Key Vault set secret";

#[derive(Debug)]
pub(crate) struct AzureKvWriter {
    reader: AzureKv,
    /// The listing's prefix: every secret written starts with it.
    listing: String,
}

impl AzureKvWriter {
    pub(crate) fn from_spec(
        spec: &mut SourceSpec,
        context: Arc<Context>,
    ) -> Result<Self, SpecProblem> {
        let reader = AzureKv::from_spec(spec, context)?;
        if reader.json {
            return Err(SpecProblem::Unwritable(
                "json reads names from one secret's JSON; write one secret per name with \
                 azure-kv:* or azure-kv:PREFIX*",
            ));
        }
        let listing = match &reader.location.what {
            What::Listing { prefix } => prefix.clone(),
            What::Secret { .. } => {
                return Err(SpecProblem::Unwritable(
                    "one secret is named by the name it is read as; write one secret per name \
                     with azure-kv:* or azure-kv:PREFIX*",
                ))
            }
        };
        Ok(Self { reader, listing })
    }

    /// The Key Vault secret `name` is written to and read back from.
    fn secret_name(&self, name: &EnvName) -> String {
        unprefixed(name, &self.reader.prefix).replace('_', "-")
    }

    async fn put(&self, vault: &VaultUrl, change: &Change) -> Result<(), SourceError> {
        let context = &self.reader.context;
        let shared: &SharedClient = context
            .azure
            .get_or_init(|| async { SharedClient::default() })
            .await;
        let secret = self.secret_name(&change.name);
        let url = vault.url(&["secrets", &secret]);
        let slot = shared.challenge_slot(vault);
        let known = slot.lock().await.clone();
        let challenge = match known {
            Some(challenge) => challenge,
            None => {
                // The vault names the token it wants in its answer to a first request: a read
                // of the secret, which the diff has usually made already.
                let client = VaultClient {
                    context,
                    shared,
                    vault,
                };
                client.get(&url, GET).await?;
                slot.lock()
                    .await
                    .clone()
                    .ok_or_else(|| SourceError::BadResponse {
                        problem: format!("{vault} asked for no token (is it a Key Vault?)"),
                    })?
            }
        };
        let bearer = shared.bearer(context, &challenge).await?;
        let body = serde_json::json!({
            "value": String::from_utf8_lossy(change.value.expose()),
        });
        let request = |client: &reqwest::Client| {
            client
                .put(url.clone())
                .header(AUTHORIZATION, bearer.0.clone())
                .json(&body)
        };
        let store = format!("Azure Key Vault {vault} (secret '{secret}')");
        send_write(context, SET, request, &store, "secrets 'Set'").await
    }
}

impl Writer for AzureKvWriter {
    fn current(&self) -> FetchFuture<'_> {
        Box::pin(read_or_empty(&self.reader))
    }

    fn refuses_name(&self, name: &EnvName) -> Option<&'static str> {
        let own = match prefixed_own(name, &self.reader.prefix) {
            Ok(own) => own,
            Err(problem) => return Some(problem),
        };
        let secret = own.replace('_', "-");
        let in_listing = secret
            .get(..self.listing.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(&self.listing));
        (!in_listing).then_some(
            "its secret (the name with '_' as '-') would not start with the listing's prefix, \
             so it would not be read back",
        )
    }

    fn write<'a>(&'a self, changes: &'a [Change]) -> WriteFuture<'a> {
        Box::pin(async move {
            let vault = self.reader.vault_url(&self.reader.location);
            one_by_one(changes, &vault, |vault, change| self.put(vault, change)).await
        })
    }
}
