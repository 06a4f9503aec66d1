//! `aws-sm:` as a write target, the reading rules inverted:
//!
//! - `aws-sm:NAME` (or an ARN): one secret whose `SecretString` is a JSON object with one key
//!   per name, merged with the keys it has (a name is written under the existing key it is read
//!   from, `client-id` for `CLIENT_ID`). `PutSecretValue` when the secret exists (a new
//!   version), else `CreateSecret`. A secret holding plain text or binary is refused: writing
//!   JSON over it would change what it means.
//! - `aws-sm:PREFIX/*`: one secret per name, `PREFIX/NAME`, holding the value as plain text
//!   (read back by its last segment). The prefix must end in `/`, or the name read back would
//!   carry it; a value that is a JSON object is refused, as the reader would expand it, and so
//!   is an empty value (an empty `SecretString` may make a secret with no value at all).
//!   Each name is written on its own, so some may fail while others are written.
//!
//! `prefix=P` takes names starting with P and writes them without it. IAM needs
//! `secretsmanager:GetSecretValue` (and `ListSecrets`, `BatchGetSecretValue` for a prefix),
//! `secretsmanager:PutSecretValue` and `secretsmanager:CreateSecret`.

use std::sync::Arc;

use aws_sdk_secretsmanager::Client;
use serde_json::Value;

use crate::error::{SourceError, SpecProblem};
use crate::providers::aws;
use crate::providers::spec::SourceSpec;
use crate::providers::write::{
    all_alike, key_for, one_by_one, prefixed_own, read_or_empty, refuse_key, unprefixed,
    write_refused, Change, WriteFuture, Writer,
};
use crate::providers::{Context, FetchFuture};
use crate::secret::{EnvName, SecretValue};

use super::{arn_region, AwsSm, Target};

const STORE: &str = "AWS Secrets Manager";
const PERMISSIONS: &str = "secretsmanager:PutSecretValue and secretsmanager:CreateSecret";
const ONE_KEY: &str = "'#KEY' reads one key; write to the secret, e.g. aws-sm:app/prod";

#[derive(Debug)]
pub(crate) struct AwsSmWriter {
    reader: AwsSm,
}

impl AwsSmWriter {
    pub(crate) fn from_spec(
        spec: &mut SourceSpec,
        context: Arc<Context>,
    ) -> Result<Self, SpecProblem> {
        refuse_key(spec, ONE_KEY)?;
        let mut options = spec.clone();
        if options.take_value("version-stage")?.is_some()
            || options.take_value("version-id")?.is_some()
        {
            return Err(SpecProblem::Unwritable(
                "version-stage= and version-id= read an old version; a write makes a new one",
            ));
        }
        let reader = AwsSm::from_spec(spec, context)?;
        if let Target::Prefix(prefix) = &reader.target {
            if !prefix.ends_with('/') {
                return Err(SpecProblem::Unwritable(
                    "one secret per name is written as PREFIX/NAME, read back by its last \
                     segment: end the prefix with '/' (e.g. aws-sm:app/prod/*)",
                ));
            }
        }
        Ok(Self { reader })
    }

    /// The name without the `prefix=` option's text.
    fn own<'a>(&self, name: &'a EnvName) -> &'a str {
        unprefixed(name, &self.reader.name_prefix)
    }

    /// Merges every change into the JSON secret `id` (created when missing).
    async fn put_object(&self, id: &str, changes: &[Change]) -> Result<(), SourceError> {
        let shared = aws::client::<Client>(&self.reader.context).await?;
        if arn_region(id).is_none() && !shared.has_region {
            return Err(aws::no_region(Some("name the secret by its full ARN")));
        }
        let subject = format!("secret '{id}'");
        let refused = |error| write_refused(error, &format!("{STORE} ({subject})"), PERMISSIONS);
        let current = match shared.client.get_secret_value().secret_id(id).send().await {
            Ok(output) => Some(match output.secret_string().map(serde_json::from_str) {
                Some(Ok(Value::Object(object))) => object,
                _ => {
                    return Err(SourceError::Config {
                        problem: format!(
                            "{subject} holds plain text or binary, not a JSON object; \
                             secretrun does not write names into it (write to another secret, \
                             or to aws-sm:{id}/* for one secret per name)"
                        ),
                    })
                }
            }),
            Err(error) => match self.reader.sdk_error(error, &subject) {
                SourceError::NotFound { .. } => None,
                error => return Err(error),
            },
        };
        let existed = current.is_some();
        let mut object = current.unwrap_or_default();
        for change in changes {
            let own = self.own(&change.name);
            let key = key_for(&object, own);
            let value = String::from_utf8_lossy(change.value.expose()).into_owned();
            object.insert(key, Value::String(value));
        }
        let text = Value::Object(object).to_string();
        if existed {
            let request = shared
                .client
                .put_secret_value()
                .secret_id(id)
                .secret_string(text);
            request
                .send()
                .await
                .map_err(|error| refused(self.reader.sdk_error(error, &subject)))?;
        } else {
            let request = shared.client.create_secret().name(id).secret_string(text);
            request
                .send()
                .await
                .map_err(|error| refused(self.reader.sdk_error(error, &subject)))?;
        }
        Ok(())
    }

    /// The secret `PREFIX/NAME` holding one change's value as plain text.
    async fn put_one(
        &self,
        client: &Client,
        prefix: &str,
        change: &Change,
    ) -> Result<(), SourceError> {
        let id = format!("{prefix}{}", self.own(&change.name));
        let subject = format!("secret '{id}'");
        let value = String::from_utf8_lossy(change.value.expose()).into_owned();
        let sent = if change.exists {
            let request = client
                .put_secret_value()
                .secret_id(&id)
                .secret_string(value);
            let sent = request.send().await;
            sent.map(drop)
                .map_err(|error| self.reader.sdk_error(error, &subject))
        } else {
            let request = client.create_secret().name(&id).secret_string(value);
            let sent = request.send().await;
            sent.map(drop)
                .map_err(|error| self.reader.sdk_error(error, &subject))
        };
        sent.map_err(|error| write_refused(error, &format!("{STORE} ({subject})"), PERMISSIONS))
    }
}

impl Writer for AwsSmWriter {
    fn current(&self) -> FetchFuture<'_> {
        Box::pin(read_or_empty(&self.reader))
    }

    fn refuses_name(&self, name: &EnvName) -> Option<&'static str> {
        prefixed_own(name, &self.reader.name_prefix).err()
    }

    fn refuses_value(&self, value: &SecretValue) -> Option<&'static str> {
        if !matches!(self.reader.target, Target::Prefix(_)) {
            return None;
        }
        if value.is_empty() {
            return Some(
                "the value is empty, which a secret of its own cannot hold reliably (an empty \
                 SecretString may make a secret with no value); write it into a single JSON \
                 secret (aws-sm:NAME) instead",
            );
        }
        matches!(
            serde_json::from_slice::<Value>(value.expose()),
            Ok(Value::Object(_))
        )
        .then_some(
            "the value is a JSON object, which the reader of a prefix expands into one variable \
             per key; write it into a single secret (aws-sm:NAME) instead",
        )
    }

    fn write<'a>(&'a self, changes: &'a [Change]) -> WriteFuture<'a> {
        Box::pin(async move {
            match &self.reader.target {
                Target::Secret { id, .. } => all_alike(changes, self.put_object(id, changes).await),
                Target::Prefix(prefix) => {
                    let ready = aws::regional_client::<Client>(&self.reader.context).await;
                    one_by_one(changes, &ready, |shared, change| {
                        self.put_one(shared.client, prefix, change)
                    })
                    .await
                }
            }
        })
    }
}
