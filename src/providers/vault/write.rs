//! `vault:MOUNT/PATH` as a write target: one KV secret holding one key per name, merged with
//! the keys it has (those not written keep their values). KV v2 writes with check-and-set on the
//! version just read (0: the secret must not exist yet), so a concurrent writer's change is
//! never lost silently: the write fails instead, and a re-run starts from the new version.
//!
//! A name is written under the existing key it is read from (`client-id` for `CLIENT_ID`), so
//! the secret never holds two keys that read as one name; a new name is its own key. Options
//! the reader takes for logging in (`auth=`, `role-id=`, ...) apply; `prefix=P` takes names
//! starting with P and writes them without it. A folder, `#FIELD` and `version=` name no one
//! secret to write and are refused.

use std::sync::Arc;

use serde_json::Value;
use vaultrs::api::kv1::requests::SetSecretRequest as SetKv1Request;
use vaultrs::api::kv2::requests::{SetSecretRequest as SetKv2Request, SetSecretRequestOptions};

use crate::error::{SourceError, SpecProblem};
use crate::providers::spec::SourceSpec;
use crate::providers::write::{
    all_alike, key_for, prefixed_own, read_or_empty, refuse_key, unprefixed, write_refused, Change,
    WriteFuture, Writer,
};
use crate::providers::{Context, FetchFuture};
use crate::secret::EnvName;

use super::{relative_path, send, unbuildable, Reader, SharedClient, Vault};

#[derive(Debug)]
pub(crate) struct VaultWriter {
    reader: Vault,
}

impl VaultWriter {
    pub(crate) fn from_spec(
        spec: &mut SourceSpec,
        context: Arc<Context>,
    ) -> Result<Self, SpecProblem> {
        if spec.location.ends_with('/') {
            return Err(SpecProblem::Unwritable(
                "a folder (ending in '/') names no one secret to write; name the secret, e.g. \
                 vault:secret/app",
            ));
        }
        refuse_key(
            spec,
            "'#FIELD' reads one key; write to the secret, e.g. vault:secret/app",
        )?;
        if spec.clone().take_value("version")?.is_some() {
            return Err(SpecProblem::Unwritable(
                "version= reads an old version; a write makes a new one",
            ));
        }
        Ok(Self {
            reader: Vault::from_spec(spec, context)?,
        })
    }

    /// Reads the secret as it is now and writes it back with every change merged in.
    async fn put(&self, changes: &[Change]) -> Result<(), SourceError> {
        let reader = &self.reader;
        let location = &reader.location;
        let context = &reader.context;
        let shared = context
            .vault
            .get_or_try_init(|| async { SharedClient::new(context) })
            .await?;
        let client = shared.client(&reader.auth, context).await?;
        let mount = shared.mount_for(&client, &location.path, context).await?;
        let relative = relative_path(location, &mount)?;
        let kv = Reader {
            context,
            client: &client,
            mount: &mount,
        };
        let (mut secret, version) = kv.read_optional(&relative, None).await?.unwrap_or_default();
        for change in changes {
            let key = key_for(&secret, unprefixed(&change.name, &self.reader.prefix));
            // The caller checked that every value is UTF-8.
            let value = String::from_utf8_lossy(change.value.expose()).into_owned();
            secret.insert(key, Value::String(value));
        }
        let refused = |error| {
            write_refused(
                error,
                &format!("Vault ('{}')", mount.display(&relative)),
                &format!(
                    "'create' and 'update' capabilities on {}",
                    write_path(&mount, &relative)
                ),
            )
        };
        if mount.kv2 {
            let request = SetKv2Request {
                mount: mount.name().to_string(),
                path: relative.clone(),
                data: Value::Object(secret),
                options: Some(SetSecretRequestOptions {
                    cas: u32::try_from(version.unwrap_or(0)).unwrap_or(u32::MAX),
                }),
            };
            send(context, &client, "Vault write", request)
                .await
                .map_err(refused)?;
        } else {
            let data = serde_json::to_vec(&secret).map_err(|_| unbuildable("write"))?;
            let request = SetKv1Request {
                mount: mount.name().to_string(),
                path: relative.clone(),
                data,
            };
            send(context, &client, "Vault write", request)
                .await
                .map_err(refused)?;
        }
        tracing::debug!(secret = %mount.display(&relative), names = changes.len(), "vault secret written");
        Ok(())
    }
}

/// The API path a policy must allow, as an operator writes it in a policy.
fn write_path(mount: &super::Mount, relative: &str) -> String {
    if mount.kv2 {
        format!("{}data/{relative}", mount.path)
    } else {
        mount.display(relative)
    }
}

impl Writer for VaultWriter {
    fn current(&self) -> FetchFuture<'_> {
        Box::pin(read_or_empty(&self.reader))
    }

    fn refuses_name(&self, name: &EnvName) -> Option<&'static str> {
        prefixed_own(name, &self.reader.prefix).err()
    }

    fn write<'a>(&'a self, changes: &'a [Change]) -> WriteFuture<'a> {
        Box::pin(async move { all_alike(changes, self.put(changes).await) })
    }
}
