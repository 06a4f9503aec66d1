//! The config file (`secretrun.toml`): the same sources, rules and launch settings as the
//! command line, so an image or a unit file needs only `secretrun -- app`.
//!
//! Keys are spelled as the long flags are. Unknown keys are errors, so a typo never silently
//! changes what runs. Relative paths in path sources are relative to the file's own directory.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

pub const DEFAULT_FILE_NAME: &str = "secretrun.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Source specs in declared order.
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub require: Vec<String>,
    pub preserve_env: Option<PreserveSetting>,
    pub pristine: Option<bool>,
    #[serde(default)]
    pub allow_names: Vec<String>,
    pub keep_config_vars: Option<bool>,
    pub file_vars: Option<bool>,
    pub credentials_directory: Option<bool>,
    pub secrets_settings: Option<bool>,
    pub references: Option<bool>,
    pub timeout: Option<String>,
    pub deadline: Option<String>,
    pub allow_insecure_http: Option<bool>,
    /// The fallback snapshot's file, relative to this file's directory.
    pub fallback: Option<PathBuf>,
    pub no_fallback: Option<bool>,
    pub fallback_only: Option<bool>,
    pub fallback_max_age: Option<String>,
    pub mode: Option<ModeSetting>,
    pub subreaper: Option<bool>,
    pub signal_group: Option<bool>,
    pub kill_after: Option<String>,
    pub grace_period: Option<String>,
    pub watch: Option<String>,
    pub on_change: Option<String>,
    pub stop_signal: Option<String>,
    /// Variables set by the config file itself, ranked as a `.env` file before every other;
    /// values may be references (`DB_PASSWORD = "vault:secret/app#password"`).
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// `.env.example`-style files whose every name must be set, relative to this file.
    #[serde(default)]
    pub require_from: Vec<PathBuf>,
    /// The environment `[rules.NAME]` tables' `required = [...]` lists are checked against.
    pub environment: Option<String>,
    /// Value rules, one table per variable name.
    #[serde(default)]
    pub rules: std::collections::BTreeMap<String, crate::env::rules::RuleTable>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum PreserveSetting {
    All(bool),
    Names(Vec<String>),
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ModeSetting {
    Auto,
    Exec,
    Supervise,
}

/// A loaded config file and the directory its relative paths are relative to.
#[derive(Debug)]
pub struct LoadedConfig {
    pub path: PathBuf,
    pub config: Config,
    /// The file's text, to point at the line of a value found wrong after parsing.
    text: String,
}

impl LoadedConfig {
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        let config = parse(&text).map_err(|(line, message)| Error::ConfigSyntax {
            path: path.to_path_buf(),
            line,
            message,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            config,
            text,
        })
    }

    /// The directory relative source paths are resolved against.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// A duration setting, named by its key in errors.
    pub fn duration(
        &self,
        key: &str,
        value: &Option<String>,
    ) -> Result<Option<std::time::Duration>, Error> {
        value
            .as_deref()
            .map(|text| {
                // Fix: this said "line 0", and humantime's messages quote part of the value.
                crate::cli::parse_duration(text).map_err(|message| Error::ConfigSyntax {
                    path: self.path.clone(),
                    line: self.line_of(key),
                    message: format!("{key}: {}", redact_quoted(&message)),
                })
            })
            .transpose()
    }

    /// The 1-based line of the top-level `key = ...` (bare or quoted key), 0 if not found.
    fn line_of(&self, key: &str) -> usize {
        let quoted = format!("\"{key}\"");
        self.text
            .lines()
            .position(|line| {
                let line = line.trim_start();
                [key, quoted.as_str()].iter().any(|key| {
                    line.strip_prefix(key)
                        .is_some_and(|rest| rest.trim_start().starts_with('='))
                })
            })
            .map_or(0, |index| index + 1)
    }
}

/// Parses config text; an error is the 1-based line and toml's message, which names the key and
/// the expected type but never echoes the value.
fn parse(text: &str) -> Result<Config, (usize, String)> {
    toml::from_str(text).map_err(|err: toml::de::Error| {
        let line = err
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(0);
        (line, redact_quoted(err.message()))
    })
}

/// serde's type errors quote the offending value (`invalid type: string "…"`, ``unknown
/// variant `…` ``, ``integer `…` ``); a config file may hold a token by mistake, so quoted text
/// is dropped from messages. Field names (``unknown field `sorces` ``) and what serde expected
/// are kept: they are keys and serde's own words.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside: Option<char> = None;
    let mut keep = false;
    // serde escapes a quote inside the quoted text (`"a\"b"`): it does not end it.
    let mut escaped = false;
    for c in message.chars() {
        if inside.is_some() && !escaped && c == '\\' {
            escaped = true;
            if keep {
                out.push(c);
            }
            continue;
        }
        let was_escaped = std::mem::take(&mut escaped);
        match inside {
            None if c == '"' || c == '`' => {
                // What serde expected is its own text (``one of `auto`, `exec` ``).
                keep = (c == '`' && out.ends_with("field ")) || out.contains("expected");
                out.push(c);
                if !keep {
                    out.push('…');
                }
                inside = Some(c);
            }
            None => out.push(c),
            Some(quote) if c == quote && !was_escaped => {
                out.push(c);
                inside = None;
            }
            Some(_) if keep => out.push(c),
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let config = parse(
            r#"
sources = ["dotenv:.env", "dir:/run/secrets"]
env = { LOG_LEVEL = "info" }
require = ["DATABASE_URL"]
preserve-env = ["TZ"]
pristine = false
allow-names = ["NODE_OPTIONS"]
keep-config-vars = false
file-vars = true
credentials-directory = false
mode = "supervise"
subreaper = true
signal-group = true
kill-after = "10s"
grace-period = "2s"
fallback = "cache/app.snapshot"
no-fallback = false
fallback-only = false
fallback-max-age = "1d"
"#,
        )
        .unwrap();
        assert_eq!(config.sources, ["dotenv:.env", "dir:/run/secrets"]);
        assert_eq!(
            config.preserve_env,
            Some(PreserveSetting::Names(vec!["TZ".into()]))
        );
        assert_eq!(config.mode, Some(ModeSetting::Supervise));
        assert_eq!(config.signal_group, Some(true));
        assert_eq!(config.kill_after.as_deref(), Some("10s"));
        assert_eq!(config.fallback_max_age.as_deref(), Some("1d"));
        assert_eq!(config.fallback, Some(PathBuf::from("cache/app.snapshot")));
    }

    #[test]
    fn preserve_env_may_be_a_boolean() {
        let config = parse("preserve-env = true").unwrap();
        assert_eq!(config.preserve_env, Some(PreserveSetting::All(true)));
    }

    #[test]
    fn unknown_keys_are_errors_with_a_line() {
        let (line, message) = parse("sources = []\nsorces = [\"x\"]\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("unknown field `sorces`"), "{message}");
    }

    #[test]
    fn type_errors_do_not_echo_values() {
        let (line, message) = parse("\n\nrequire = \"s3cr3t-value\"\n").unwrap_err();
        assert_eq!(line, 3);
        assert_eq!(message, "invalid type: string \"…\", expected a sequence");
        // Found by the parsers' property tests: serde quotes a bad variant with backticks.
        let (_, message) = parse("mode = \"s3cr3t-value\"\n").unwrap_err();
        assert_eq!(
            message,
            "unknown variant `…`, expected one of `auto`, `exec`, `supervise`"
        );
    }
}
