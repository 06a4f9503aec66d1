//! The one table of store kinds. Each entry says all that the rest of secretrun needs to know of
//! a kind without fetching anything: its scheme, where its names rank, whether its location is a
//! local path, the parent variables that say which service it talks to and those that hold its
//! credentials, where a login for it is found, how an environment value refers to one of its
//! secrets, and how to build its provider and writer from a spec. A new store is its folder
//! under `providers/` and one entry here.

use std::sync::Arc;

use crate::error::SpecProblem;

use super::spec::{SourceClass, SourceKind, SourceSpec};
use super::write::Writer;
use super::{
    aws, aws_sm, aws_ssm, azure_kv, dir, doppler, dotenv, file, gcp_sm, vault, Context, Provider,
};

/// What a source of one kind is, before it is fetched.
pub(crate) struct Store {
    pub kind: SourceKind,
    /// How specs, config and docs spell the kind: `aws-sm` in `aws-sm:prod/db`.
    pub scheme: &'static str,
    pub class: SourceClass,
    pub location: Location,
    /// Non-secret settings that say which service a source talks to; part of a fallback
    /// snapshot's identity, so a snapshot of one Vault is never served for another.
    pub identity_variables: &'static [&'static str],
    /// The parent's variables a source of the kind may read as its own credentials, for every
    /// way it logs in; they are kept from the child (unless the user asks otherwise) and digested
    /// into the fallback's key. A source consumes those its spec uses ([`Provider::consumed`]:
    /// a Vault token's or an AppRole's). Names of things that are not secrets (a project, a
    /// tenant, a key file's path) are not here: the child may need them.
    pub credential_variables: &'static [&'static str],
    /// Where a login for the kind is looked for, as `init`'s wizard reports it before it reads
    /// the store.
    pub login: Login,
    pub reference: Reference,
    /// Validates the spec's options and builds the provider. Pure: no I/O, no network.
    pub build: Build,
    /// How `set`/`push` build the kind's writer from a target spec, with no I/O; a kind that
    /// cannot be written answers why.
    pub write: BuildWriter,
}

type Build = fn(&mut SourceSpec, &Arc<Context>) -> Result<Box<dyn Provider>, SpecProblem>;
type BuildWriter = fn(&mut SourceSpec, &Arc<Context>) -> Result<Box<dyn Writer>, SpecProblem>;

/// What shows that a login for a kind is at hand: variables set (not empty), files under the
/// home directory.
pub(crate) struct Login {
    pub variables: &'static [&'static str],
    pub files: &'static [&'static str],
}

/// A kind that needs no login.
const NO_LOGIN: Login = Login {
    variables: &[],
    files: &[],
};

/// What the AWS SDK's default chain reads, for either AWS store.
const AWS_LOGIN: Login = Login {
    variables: &[
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ],
    files: &[".aws/credentials", ".aws/config"],
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// A local path, which a config file makes relative to itself; never in a fallback snapshot.
    Path,
    /// A name in a remote store: the only kind a fallback snapshot holds or serves.
    Remote,
}

/// How an environment value (`DB_PASSWORD=vault:secret/app#password`) names one of the kind's
/// secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reference {
    /// Sources of this kind are whole files or folders, never a single value.
    Never,
    /// `file:/ABSOLUTE/PATH` only: `file://host/...` and `file:relative.db` are URLs and paths
    /// of other programs.
    AbsolutePath,
    /// `KIND:NAME[?OPTIONS]` names one secret of the configured set, where a source names a
    /// prefix: it stands for `KIND:*[?OPTIONS]#NAME`.
    NameInSet,
    /// The value is a spec of the kind as it is; `also` is a prefix that marks a reference
    /// without the scheme (an AWS ARN).
    Spec { also: Option<&'static str> },
}

/// Builds a provider whose constructor takes the run's shared [`Context`].
macro_rules! with_context {
    ($provider:path) => {
        |spec, context| Ok(Box::new(<$provider>::from_spec(spec, context.clone())?))
    };
}

/// A secrets directory or file is written by whatever mounts it, not by secretrun.
fn mounted_only(_: &mut SourceSpec, _: &Arc<Context>) -> Result<Box<dyn Writer>, SpecProblem> {
    Err(SpecProblem::Unwritable(
        "a secrets directory or file is written by whatever mounts it; write to a store or a \
         dotenv: file",
    ))
}

/// In [`SourceKind::ALL`]'s order (a unit test holds them together).
static STORES: [Store; 9] = [
    Store {
        kind: SourceKind::Dotenv,
        scheme: "dotenv",
        class: SourceClass::EnvFile,
        location: Location::Path,
        identity_variables: &[],
        // DOTENV_PRIVATE_KEY[_ENV] is named after the file: see Dotenv::consumed_names.
        credential_variables: &[],
        login: NO_LOGIN,
        reference: Reference::Never,
        build: with_context!(dotenv::Dotenv),
        write: with_context!(dotenv::write::DotenvWriter),
    },
    Store {
        kind: SourceKind::Dir,
        scheme: "dir",
        class: SourceClass::Secret,
        location: Location::Path,
        identity_variables: &[],
        credential_variables: &[],
        login: NO_LOGIN,
        reference: Reference::Never,
        build: |spec, _| Ok(Box::new(dir::Dir::from_spec(spec)?)),
        write: mounted_only,
    },
    Store {
        kind: SourceKind::File,
        scheme: "file",
        class: SourceClass::Secret,
        location: Location::Path,
        identity_variables: &[],
        credential_variables: &[],
        login: NO_LOGIN,
        reference: Reference::AbsolutePath,
        build: |spec, _| Ok(Box::new(file::File::from_spec(spec)?)),
        write: mounted_only,
    },
    Store {
        kind: SourceKind::Doppler,
        scheme: "doppler",
        class: SourceClass::Secret,
        location: Location::Remote,
        identity_variables: &["DOPPLER_API_HOST", "DOPPLER_PROJECT", "DOPPLER_CONFIG"],
        credential_variables: &["DOPPLER_TOKEN", "DOPPLER_TOKEN_FILE"],
        login: Login {
            variables: &[
                "DOPPLER_TOKEN",
                "DOPPLER_TOKEN_FILE",
                "DOPPLER_PROJECT",
                "DOPPLER_CONFIG",
            ],
            files: &[],
        },
        reference: Reference::NameInSet,
        build: with_context!(doppler::Doppler),
        write: with_context!(doppler::write::DopplerWriter),
    },
    Store {
        kind: SourceKind::AwsSm,
        scheme: "aws-sm",
        class: SourceClass::Secret,
        location: Location::Remote,
        identity_variables: aws::IDENTITY_VARIABLES,
        credential_variables: aws::CREDENTIAL_VARIABLES,
        login: AWS_LOGIN,
        reference: Reference::Spec {
            also: Some("arn:aws:secretsmanager:"),
        },
        build: with_context!(aws_sm::AwsSm),
        write: with_context!(aws_sm::write::AwsSmWriter),
    },
    Store {
        kind: SourceKind::Vault,
        scheme: "vault",
        class: SourceClass::Secret,
        location: Location::Remote,
        identity_variables: &["VAULT_ADDR", "BAO_ADDR", "VAULT_NAMESPACE"],
        credential_variables: &[
            // A token's, then an AppRole's (vault::Vault::consumed picks by that order).
            "VAULT_TOKEN",
            "VAULT_TOKEN_FILE",
            "VAULT_ROLE_ID",
            "VAULT_SECRET_ID_FILE",
        ],
        login: Login {
            variables: &[
                "VAULT_ADDR",
                "VAULT_TOKEN",
                "VAULT_TOKEN_FILE",
                "VAULT_ROLE_ID",
            ],
            files: &[".vault-token"],
        },
        reference: Reference::Spec { also: None },
        build: with_context!(vault::Vault),
        write: with_context!(vault::write::VaultWriter),
    },
    Store {
        kind: SourceKind::AwsSsm,
        scheme: "aws-ssm",
        class: SourceClass::Secret,
        location: Location::Remote,
        identity_variables: aws::IDENTITY_VARIABLES,
        credential_variables: aws::CREDENTIAL_VARIABLES,
        login: AWS_LOGIN,
        reference: Reference::Spec { also: None },
        build: with_context!(aws_ssm::AwsSsm),
        write: with_context!(aws_ssm::write::AwsSsmWriter),
    },
    Store {
        kind: SourceKind::AzureKv,
        scheme: "azure-kv",
        class: SourceClass::Secret,
        location: Location::Remote,
        identity_variables: &[
            "AZURE_KEYVAULT_URL",
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_AUTHORITY_HOST",
        ],
        credential_variables: &["AZURE_CLIENT_SECRET"],
        login: Login {
            variables: &["AZURE_KEYVAULT_URL", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"],
            files: &[],
        },
        reference: Reference::Spec { also: None },
        build: with_context!(azure_kv::AzureKv),
        write: with_context!(azure_kv::write::AzureKvWriter),
    },
    Store {
        kind: SourceKind::GcpSm,
        scheme: "gcp-sm",
        class: SourceClass::Secret,
        location: Location::Remote,
        identity_variables: &[
            "GOOGLE_CLOUD_PROJECT",
            "CLOUDSDK_CORE_PROJECT",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER",
        ],
        credential_variables: // Only the token itself: a key file's path names no secret, and the file stays.
        &["GOOGLE_OAUTH_ACCESS_TOKEN"],
        login: Login {
            variables: &["GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT"],
            files: &[],
        },
        reference: Reference::Spec { also: None },
        build: with_context!(gcp_sm::GcpSm),
        write: with_context!(gcp_sm::write::GcpSmWriter),
    },
];

/// Every store kind, in [`SourceKind::ALL`]'s order.
pub(crate) fn stores() -> &'static [Store] {
    &STORES
}

/// What a kind is: its registry entry, and the answers read from it.
impl SourceKind {
    pub(crate) fn store(self) -> &'static Store {
        &STORES[self as usize]
    }

    pub fn scheme(self) -> &'static str {
        self.store().scheme
    }

    pub fn class(self) -> SourceClass {
        self.store().class
    }

    /// Kinds whose location is a local path, which a config file makes relative to itself.
    pub fn takes_path(self) -> bool {
        self.store().location == Location::Path
    }

    /// Kinds a fallback snapshot holds and serves.
    pub fn is_remote(self) -> bool {
        self.store().location == Location::Remote
    }

    pub fn identity_variables(self) -> &'static [&'static str] {
        self.store().identity_variables
    }

    pub(crate) fn credential_variables(self) -> &'static [&'static str] {
        self.store().credential_variables
    }

    pub(crate) fn login(self) -> &'static Login {
        &self.store().login
    }

    pub(crate) fn from_scheme(scheme: &str) -> Option<Self> {
        STORES
            .iter()
            .find(|store| store.scheme == scheme)
            .map(|store| store.kind)
    }

    /// The schemes, for an error that names an unknown one.
    pub(crate) fn known_schemes() -> String {
        let schemes: Vec<&str> = STORES.iter().map(|store| store.scheme).collect();
        schemes.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_kind_in_order() {
        assert_eq!(STORES.len(), SourceKind::ALL.len());
        for (store, kind) in STORES.iter().zip(SourceKind::ALL) {
            assert_eq!(store.kind, *kind);
            assert_eq!(kind.store().kind, *kind);
        }
    }

    #[test]
    fn schemes_are_unique() {
        for (i, a) in SourceKind::ALL.iter().enumerate() {
            for b in &SourceKind::ALL[i + 1..] {
                assert_ne!(a.scheme(), b.scheme());
            }
            assert_eq!(SourceKind::from_scheme(a.scheme()), Some(*a));
        }
    }

    #[test]
    fn only_env_files_rank_below_the_parent_and_only_path_kinds_are_local() {
        for kind in SourceKind::ALL {
            assert_eq!(
                kind.class() == SourceClass::EnvFile,
                *kind == SourceKind::Dotenv
            );
            assert_eq!(kind.takes_path(), !kind.is_remote());
            assert_eq!(kind.is_remote(), !kind.identity_variables().is_empty());
        }
    }

    #[test]
    fn credentials_are_not_identity_and_only_remote_kinds_log_in() {
        for kind in SourceKind::ALL {
            for name in kind.credential_variables() {
                assert!(!kind.identity_variables().contains(name), "{name}");
            }
            assert_eq!(kind.is_remote(), !kind.credential_variables().is_empty());
            assert_eq!(kind.is_remote(), !kind.login().variables.is_empty());
        }
    }
}
