//! The secrets settings the seed projects already use, understood without a config file, so a
//! user keeps their `.env` and runs `secretrun --env-file .env -- python3 stream-daemon.py`.
//!
//! Stream Daemon style: `SECRETS_MANAGER=doppler|aws|vault|none` with
//! `SECRETS_DOPPLER_<GROUP>_SECRET_NAME=<PREFIX>` (Doppler secrets named `<PREFIX>_*`),
//! `SECRETS_AWS_<GROUP>_SECRET_NAME=<name>` (JSON keys become `<GROUP>_<KEY>`), and
//! `SECRETS_VAULT_URL`, `SECRETS_VAULT_TOKEN`, `SECRETS_VAULT_<GROUP>_SECRET_PATH=<path>` (keys
//! become `<GROUP>_<KEY>`). Muse Protocol style: `SECRETS_BACKEND=doppler|aws_secrets|vault`,
//! where Doppler without groups means the whole config of `DOPPLER_PROJECT`/`DOPPLER_CONFIG`,
//! and `azure_keyvault` every secret of the vault at `AZURE_KEYVAULT_URL`.
//!
//! Settings are read from the parent environment and the `.env` files (the parent wins), and
//! become ordinary source specs: this module only translates, it fetches nothing.

use crate::environment::ParentEnv;
use crate::error::{Error, SpecProblem};
use crate::source::{SourceKind, SourceSpec};

/// The variables that select a secrets manager, in the order they are looked at.
const MANAGER_SETTINGS: &[&str] = &[
    "SECRETS_MANAGER",
    "SECRETS_SECRET_MANAGER",
    "SECRETS_BACKEND",
];

/// What the settings ask for.
#[derive(Debug, Default)]
pub struct Translated {
    /// Sources to fetch, ranked as secret sources before any declared one.
    pub specs: Vec<SourceSpec>,
    /// Provider settings the seed spells its own way (`SECRETS_VAULT_URL` → `VAULT_ADDR`).
    pub env: Vec<(String, String)>,
    /// Settings holding credentials, kept from the child like the providers' own.
    pub consumed: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Manager {
    Doppler,
    Aws,
    Vault,
    Azure,
}

pub fn translate(settings: &ParentEnv) -> Result<Translated, Error> {
    let Some((setting, value)) = MANAGER_SETTINGS
        .iter()
        .find_map(|name| settings.get_str(name).map(|value| (*name, value)))
    else {
        return Ok(Translated::default());
    };
    let manager = match value.trim().to_ascii_lowercase().as_str() {
        "none" | "env" | "" => return Ok(Translated::default()),
        "doppler" => Manager::Doppler,
        "aws" | "aws_secrets" | "aws-secrets-manager" => Manager::Aws,
        "vault" | "hashicorp_vault" => Manager::Vault,
        "azure_keyvault" | "azure" => Manager::Azure,
        _ => {
            return Err(Error::Settings {
                setting,
                problem: "expected doppler, aws (or aws_secrets), vault, azure_keyvault or none"
                    .into(),
            })
        }
    };
    tracing::info!(
        setting,
        ?manager,
        "using the secrets settings of the environment"
    );
    let mut translated = Translated::default();
    match manager {
        Manager::Doppler => {
            let groups = groups(settings, "SECRETS_DOPPLER_", "_SECRET_NAME");
            if groups.is_empty() {
                translated
                    .specs
                    .push(spec(setting, SourceKind::Doppler, "*")?);
            }
            for (_, prefix) in groups {
                // Stream Daemon matches prefixes regardless of case; Doppler names are upper case.
                translated.specs.push(spec(
                    setting,
                    SourceKind::Doppler,
                    &prefix.to_ascii_uppercase(),
                )?);
            }
        }
        Manager::Aws => {
            for (group, name) in groups(settings, "SECRETS_AWS_", "_SECRET_NAME") {
                translated.specs.push(spec(
                    setting,
                    SourceKind::AwsSm,
                    &format!("{name}?prefix={group}_"),
                )?);
            }
        }
        Manager::Vault => {
            for (from, to) in [
                ("SECRETS_VAULT_URL", "VAULT_ADDR"),
                ("SECRETS_VAULT_TOKEN", "VAULT_TOKEN"),
            ] {
                if let (Some(value), None) = (settings.get_str(from), settings.get_str(to)) {
                    translated.env.push((to.to_string(), value.to_string()));
                }
            }
            translated.consumed.push("SECRETS_VAULT_TOKEN".into());
            for (group, path) in groups(settings, "SECRETS_VAULT_", "_SECRET_PATH") {
                translated.specs.push(spec(
                    setting,
                    SourceKind::Vault,
                    &format!("{path}?prefix={group}_"),
                )?);
            }
        }
        Manager::Azure => {
            // Muse Protocol: every secret of the vault at AZURE_KEYVAULT_URL, `CH-HOST` → `CH_HOST`.
            translated
                .specs
                .push(spec(setting, SourceKind::AzureKv, "*")?);
        }
    }
    if translated.specs.is_empty() {
        tracing::warn!(
            setting,
            "{setting} names a secrets manager but no secret groups are set"
        );
    }
    Ok(translated)
}

/// `<PREFIX><GROUP><SUFFIX>=value` settings as (GROUP, value), sorted by group.
fn groups(settings: &ParentEnv, prefix: &str, suffix: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = settings
        .iter()
        .filter_map(|(name, value)| {
            let group = name.to_str()?.strip_prefix(prefix)?.strip_suffix(suffix)?;
            let value = value.to_str()?.trim();
            (!group.is_empty() && !value.is_empty()).then(|| (group.to_string(), value.to_string()))
        })
        .collect();
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    found
}

/// The spec `KIND:rest`, spelled with the kind's scheme from the store registry.
fn spec(setting: &'static str, kind: SourceKind, rest: &str) -> Result<SourceSpec, Error> {
    let text = format!("{}:{rest}", kind.scheme());
    SourceSpec::parse(&text).map_err(|problem: SpecProblem| Error::Spec {
        spec: format!("{text} (from {setting})"),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pairs: &[(&str, &str)]) -> Vec<String> {
        let env = ParentEnv::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)));
        translate(&env)
            .unwrap()
            .specs
            .iter()
            .map(|s| s.text().to_string())
            .collect()
    }

    #[test]
    fn nothing_without_a_manager_or_with_none() {
        assert!(texts(&[("SECRETS_DOPPLER_TWITCH_SECRET_NAME", "TWITCH")]).is_empty());
        assert!(texts(&[("SECRETS_MANAGER", "none")]).is_empty());
    }

    #[test]
    fn doppler_groups_become_prefixes() {
        assert_eq!(
            texts(&[
                ("SECRETS_MANAGER", "doppler"),
                ("SECRETS_DOPPLER_YOUTUBE_SECRET_NAME", "youtube"),
                ("SECRETS_DOPPLER_TWITCH_SECRET_NAME", "TWITCH"),
            ]),
            ["doppler:TWITCH", "doppler:YOUTUBE"]
        );
    }

    #[test]
    fn muse_style_doppler_takes_the_whole_config() {
        assert_eq!(texts(&[("SECRETS_BACKEND", "doppler")]), ["doppler:*"]);
    }

    #[test]
    fn aws_groups_prefix_their_keys() {
        assert_eq!(
            texts(&[
                ("SECRETS_MANAGER", "aws"),
                ("SECRETS_AWS_TWITCH_SECRET_NAME", "stream-daemon/twitch"),
            ]),
            ["aws-sm:stream-daemon/twitch?prefix=TWITCH_"]
        );
        assert_eq!(
            texts(&[
                ("SECRETS_BACKEND", "aws_secrets"),
                ("SECRETS_AWS_DB_SECRET_NAME", "muse/db"),
            ]),
            ["aws-sm:muse/db?prefix=DB_"]
        );
    }

    #[test]
    fn vault_settings_map_to_vaults_own_names() {
        let env = ParentEnv::from_pairs([
            ("SECRETS_MANAGER", "vault"),
            ("SECRETS_VAULT_URL", "http://127.0.0.1:8200"),
            ("SECRETS_VAULT_TOKEN", "root"),
            (
                "SECRETS_VAULT_TWITCH_SECRET_PATH",
                "secret/data/stream-daemon/twitch",
            ),
        ]);
        let translated = translate(&env).unwrap();
        let specs: Vec<_> = translated.specs.iter().map(|s| s.text()).collect();
        assert_eq!(
            specs,
            ["vault:secret/data/stream-daemon/twitch?prefix=TWITCH_"]
        );
        assert_eq!(
            translated.env,
            [
                (
                    "VAULT_ADDR".to_string(),
                    "http://127.0.0.1:8200".to_string()
                ),
                ("VAULT_TOKEN".to_string(), "root".to_string())
            ]
        );
        assert_eq!(translated.consumed, ["SECRETS_VAULT_TOKEN"]);
    }

    #[test]
    fn muse_style_azure_takes_the_whole_vault() {
        assert_eq!(
            texts(&[("SECRETS_BACKEND", "azure_keyvault")]),
            ["azure-kv:*"]
        );
    }

    #[test]
    fn an_unknown_manager_is_an_error() {
        let env = ParentEnv::from_pairs([("SECRETS_MANAGER", "keepass")]);
        assert_eq!(
            translate(&env).unwrap_err().to_string(),
            "SECRETS_MANAGER: expected doppler, aws (or aws_secrets), vault, azure_keyvault or none"
        );
    }
}
