//! `aws-ssm:/PATH/` as a write target: one `SecureString` parameter per name, `/PATH/NAME`
//! (read back by its last segment), each written on its own with `PutParameter` (`Overwrite`
//! only for a name that exists), so some may fail while others are written. Parameter Store
//! cannot hold an empty value, so one is refused before anything is written. A single
//! parameter, `recursive` and `keep-path` are refused: they name no one place for a new name.
//! `prefix=P` takes names starting with P and writes them without it. IAM needs
//! `ssm:GetParametersByPath` and `ssm:PutParameter` (and `kms:Encrypt` on a customer key).

use std::sync::Arc;

use aws_sdk_ssm::types::ParameterType;
use aws_sdk_ssm::Client;

use crate::error::{SourceError, SpecProblem};
use crate::providers::aws;
use crate::providers::spec::SourceSpec;
use crate::providers::write::{
    one_by_one, prefixed_own, read_or_empty, unprefixed, write_refused, Change, WriteFuture, Writer,
};
use crate::providers::{Context, FetchFuture};
use crate::secret::{EnvName, SecretValue};

use super::{AwsSsm, Target};

#[derive(Debug)]
pub(crate) struct AwsSsmWriter {
    reader: AwsSsm,
}

impl AwsSsmWriter {
    pub(crate) fn from_spec(
        spec: &mut SourceSpec,
        context: Arc<Context>,
    ) -> Result<Self, SpecProblem> {
        let reader = AwsSsm::from_spec(spec, context)?;
        match &reader.target {
            Target::Path {
                recursive: false,
                keep_path: false,
                ..
            } => Ok(Self { reader }),
            Target::Path { .. } => Err(SpecProblem::Unwritable(
                "recursive and keep-path read sub-paths; write to one path, e.g. \
                 aws-ssm:/app/prod/",
            )),
            Target::Parameter { .. } => Err(SpecProblem::Unwritable(
                "write to a path ending in '/' (one parameter per name), e.g. aws-ssm:/app/prod/",
            )),
        }
    }

    async fn put(&self, client: &Client, path: &str, change: &Change) -> Result<(), SourceError> {
        let own = unprefixed(&change.name, &self.reader.name_prefix);
        let name = format!("{path}{own}");
        let subject = format!("parameter '{name}'");
        client
            .put_parameter()
            .name(&name)
            .value(String::from_utf8_lossy(change.value.expose()).into_owned())
            .r#type(ParameterType::SecureString)
            .overwrite(change.exists)
            .send()
            .await
            .map(drop)
            .map_err(|error| {
                write_refused(
                    self.reader.sdk_error(error, &subject),
                    &format!("AWS SSM Parameter Store ({subject})"),
                    "ssm:PutParameter",
                )
            })
    }
}

impl Writer for AwsSsmWriter {
    fn current(&self) -> FetchFuture<'_> {
        Box::pin(read_or_empty(&self.reader))
    }

    fn refuses_name(&self, name: &EnvName) -> Option<&'static str> {
        prefixed_own(name, &self.reader.name_prefix).err()
    }

    fn refuses_value(&self, value: &SecretValue) -> Option<&'static str> {
        value
            .is_empty()
            .then_some("the value is empty, which Parameter Store cannot hold")
    }

    fn write<'a>(&'a self, changes: &'a [Change]) -> WriteFuture<'a> {
        Box::pin(async move {
            let Target::Path { path, .. } = &self.reader.target else {
                unreachable!("from_spec takes paths only");
            };
            let ready = aws::regional_client::<Client>(&self.reader.context).await;
            one_by_one(changes, &ready, |shared, change| {
                self.put(shared.client, path, change)
            })
            .await
        })
    }
}
