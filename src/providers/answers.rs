//! Every provider's answer, parsed as the provider parses it, by name: what `crate::parsers`
//! feeds to the fuzz targets and the property tests. A store's answer is outside input: it must
//! never panic secretrun, and an error about it names the answer and the position, never a value.

use serde_json::{Map, Value};

use crate::error::SourceError;

use super::{azure_kv, gcp_sm, http, naming, oauth, vault};

/// The answers secretrun reads from stores, one per shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Doppler's `secrets/download?format=json`: a flat object of names to values.
    DopplerDownload,
    /// An AWS Secrets Manager secret string that is a JSON object, one variable per key.
    AwsSmJson,
    /// Vault's `sys/internal/ui/mounts/PATH`.
    VaultMount,
    /// Azure Key Vault's `GET /secrets/NAME`.
    AzureBundle,
    /// Azure Key Vault's `GET /secrets` page, each id reduced to its name.
    AzurePage,
    AzureError,
    AzureToken,
    AzureTokenError,
    /// GCP Secret Manager's `:access`, base64 and CRC32C checked.
    GcpAccess,
    GcpList,
    GcpToken,
}

impl Answer {
    pub const ALL: [Answer; 11] = [
        Answer::DopplerDownload,
        Answer::AwsSmJson,
        Answer::VaultMount,
        Answer::AzureBundle,
        Answer::AzurePage,
        Answer::AzureError,
        Answer::AzureToken,
        Answer::AzureTokenError,
        Answer::GcpAccess,
        Answer::GcpList,
        Answer::GcpToken,
    ];

    /// Parses `bytes` as this answer; `Ok` with how many items it held.
    pub fn parse(self, bytes: &[u8]) -> Result<usize, SourceError> {
        const WHAT: &str = "answer";
        match self {
            Answer::DopplerDownload | Answer::AwsSmJson => {
                let object: Map<String, Value> = http::decode(bytes, WHAT)?;
                Ok(naming::expand_object(&object, "", None)?.len())
            }
            Answer::VaultMount => {
                let lookup: vault::MountLookup = http::decode(bytes, WHAT)?;
                vault::Mount::from_lookup(lookup.data).map(|_| 1)
            }
            Answer::AzureBundle => http::decode::<azure_kv::Bundle>(bytes, WHAT).map(|_| 1),
            Answer::AzurePage => {
                let page: azure_kv::Page = http::decode(bytes, WHAT)?;
                for item in &page.value {
                    azure_kv::secret_name(&item.id)?;
                }
                Ok(page.value.len())
            }
            Answer::AzureError => http::decode::<azure_kv::KeyVaultError>(bytes, WHAT).map(|_| 1),
            Answer::AzureToken => http::decode::<oauth::TokenAnswer>(bytes, WHAT).map(|_| 1),
            Answer::AzureTokenError => http::decode::<azure_kv::OAuthError>(bytes, WHAT).map(|_| 1),
            Answer::GcpAccess => {
                let answer: gcp_sm::AccessResponse = http::decode(bytes, WHAT)?;
                answer.payload.into_value("the secret version").map(|_| 1)
            }
            Answer::GcpList => http::decode::<gcp_sm::ListResponse>(bytes, WHAT).map(|_| 1),
            Answer::GcpToken => http::decode::<oauth::TokenAnswer>(bytes, WHAT).map(|_| 1),
        }
    }
}
