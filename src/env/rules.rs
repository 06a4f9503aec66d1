//! Checks on the merged environment before the command starts: the names of `.env.example`
//! files (`--require-from`, `require-from`) and the value rules of `[rules.NAME]` tables.
//!
//! Built with the plan (files read and patterns compiled there, so a bad rule fails before
//! anything is fetched); applied to the final merged environment by [`Checks::violations`],
//! which reports every broken rule at once. A violation names the variable and the rule, never
//! the value.

use std::collections::BTreeMap;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::env::merge::ChildEnv;
use crate::envfile;
use crate::error::{Error, SourceError, Violation};
use crate::secret::EnvName;

/// One `[rules.NAME]` table as the config file spells it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleTable {
    /// `true`, or the environments in which the name is required.
    pub required: Option<Required>,
    /// Values the name may not have.
    #[serde(default)]
    pub forbid: Vec<String>,
    /// A regular expression the value must match (anywhere, unless anchored).
    pub pattern: Option<String>,
    /// The URL scheme the value must have (`https`).
    pub scheme: Option<String>,
    /// The fewest characters the value may have.
    pub min_length: Option<usize>,
    /// The only values allowed.
    pub one_of: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Required {
    Always(bool),
    In(Vec<String>),
}

/// A checked rule table: its pattern compiled.
#[derive(Debug, Clone)]
struct Rule {
    name: String,
    table: RuleTable,
    pattern: Option<regex_lite::Regex>,
}

/// What is checked before the command starts, besides `--require`.
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// Each `--require-from` file and the names it lists.
    pub examples: Vec<(PathBuf, Vec<String>)>,
    rules: Vec<Rule>,
    /// `--environment`, `SECRETRUN_ENVIRONMENT` or `environment` in the config file.
    pub environment: Option<String>,
}

impl Checks {
    /// Reads the example files and compiles the rules. `config_path` names the config file in
    /// errors about its tables.
    pub fn build(
        example_files: &[PathBuf],
        tables: &BTreeMap<String, RuleTable>,
        environment: Option<String>,
        config_path: Option<&Path>,
    ) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let mut examples = Vec::new();
        for path in example_files {
            match example_names(path) {
                Ok(names) => examples.push((path.clone(), names)),
                Err(error) => errors.push(error),
            }
        }
        let mut rules = Vec::new();
        for (name, table) in tables {
            let bad_rule = |message: String| Error::Settings {
                setting: "rules",
                problem: format!(
                    "{}[rules.{name}]: {message}",
                    config_path.map_or(String::new(), |p| format!("'{}': ", p.display()))
                ),
            };
            if let Err(problem) = EnvName::new(name.clone()) {
                errors.push(bad_rule(problem.to_string()));
                continue;
            }
            let pattern = match table
                .pattern
                .as_deref()
                .map(regex_lite::Regex::new)
                .transpose()
            {
                Ok(pattern) => pattern,
                Err(_) => {
                    errors.push(bad_rule("pattern is not a valid regular expression".into()));
                    continue;
                }
            };
            rules.push(Rule {
                name: name.clone(),
                table: table.clone(),
                pattern,
            });
        }
        match Error::from_many(errors) {
            Some(error) => Err(error),
            None => Ok(Self {
                examples,
                rules,
                environment,
            }),
        }
    }

    /// The example files' names `child_env` lacks, each once, in the files' order.
    pub fn missing_examples(&self, child_env: &ChildEnv) -> Vec<String> {
        let mut missing: Vec<String> = Vec::new();
        for (_, names) in &self.examples {
            for name in names {
                if !child_env.contains(name) && !missing.contains(name) {
                    missing.push(name.clone());
                }
            }
        }
        missing
    }

    /// Every rule `child_env` breaks in `environment`, by name.
    pub fn violations(&self, child_env: &ChildEnv, environment: Option<&str>) -> Vec<Violation> {
        let mut found = Vec::new();
        for rule in &self.rules {
            let value = child_env
                .vars
                .get(std::ffi::OsStr::new(&rule.name))
                .map(|entry| entry.value.as_bytes());
            for broken in rule.broken(value, environment) {
                found.push(Violation {
                    name: rule.name.clone(),
                    rule: broken,
                });
            }
        }
        found
    }

    pub fn has_rules(&self) -> bool {
        !self.rules.is_empty()
    }
}

impl Rule {
    /// What `value` breaks of this rule; only `required` applies to an unset name.
    fn broken(&self, value: Option<&[u8]>, environment: Option<&str>) -> Vec<String> {
        let table = &self.table;
        let Some(value) = value else {
            return match &table.required {
                Some(Required::Always(true)) => vec!["required, but not set".into()],
                Some(Required::In(environments)) => match environment {
                    Some(env) if environments.iter().any(|e| e == env) => {
                        vec![format!("required in environment '{env}', but not set")]
                    }
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
        };
        let mut broken = Vec::new();
        if table.forbid.iter().any(|f| f.as_bytes() == value) {
            broken.push("has a value that forbid lists".into());
        }
        let text = std::str::from_utf8(value).ok();
        if let Some(min) = table.min_length {
            let length = text.map_or(value.len(), |t| t.chars().count());
            if length < min {
                broken.push(format!("shorter than min-length {min}"));
            }
        }
        if let Some(pattern) = &self.pattern {
            if !text.is_some_and(|t| pattern.is_match(t)) {
                broken.push(format!("does not match pattern '{}'", pattern.as_str()));
            }
        }
        if let Some(scheme) = &table.scheme {
            let actual = text.and_then(|t| url::Url::parse(t).ok());
            if !actual.is_some_and(|url| url.scheme().eq_ignore_ascii_case(scheme)) {
                broken.push(format!("not a {scheme}:// URL (scheme)"));
            }
        }
        if let Some(allowed) = &table.one_of {
            if !allowed.iter().any(|a| a.as_bytes() == value) {
                broken.push(format!("not one of: {}", allowed.join(", ")));
            }
        }
        broken
    }
}

/// The names a `.env.example`-style file lists; its values are examples and ignored.
fn example_names(path: &Path) -> Result<Vec<String>, Error> {
    let fail = |error| Error::Source {
        origin: format!("require-from:{}", path.display()),
        error,
    };
    let bytes = std::fs::read(path).map_err(|source| {
        fail(SourceError::Read {
            path: path.to_path_buf(),
            source,
        })
    })?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(envfile::assignments(&text)
        .iter()
        .map(|a| a.name(&text).to_string())
        .filter(|name| !name.starts_with(crate::dotenvx::PUBLIC_KEY_NAME))
        .collect())
}

/// The environment the rules see when none is given: the Doppler config's (`prd_eu` → `prd`),
/// from a `doppler:` source's `config=` or `DOPPLER_CONFIG`.
pub fn doppler_environment(config: Option<&str>) -> Option<String> {
    let config = config?.trim();
    let environment = config.split('_').next().unwrap_or(config);
    (!environment.is_empty()).then(|| environment.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::merge::{self, MergeRules};
    use crate::environment::ParentEnv;

    fn env(pairs: &[(&str, &str)]) -> ChildEnv {
        let parent = ParentEnv::from_pairs(pairs.iter().copied());
        merge::merge(
            &parent,
            &[],
            &merge::Substitutions::new(),
            &MergeRules::default(),
        )
        .unwrap()
    }

    fn checks(toml_text: &str) -> Checks {
        let tables: BTreeMap<String, RuleTable> = toml::from_str(toml_text).unwrap();
        Checks::build(&[], &tables, None, None).unwrap()
    }

    #[test]
    fn each_rule_is_checked_and_all_are_reported() {
        let checks = checks(
            r#"
            DB_URL = { required = ["production"] }
            API_KEY = { required = true }
            CORS_ORIGIN = { forbid = ["*"] }
            TOKEN = { min-length = 8, pattern = "^tk_" }
            API_URL = { scheme = "https" }
            LOG_LEVEL = { one-of = ["debug", "info"] }
            "#,
        );
        let child = env(&[
            ("CORS_ORIGIN", "*"),
            ("TOKEN", "short"),
            ("API_URL", "http://example.com"),
            ("LOG_LEVEL", "trace"),
        ]);
        let found: Vec<String> = checks
            .violations(&child, Some("production"))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "API_KEY: required, but not set",
                "API_URL: not a https:// URL (scheme)",
                "CORS_ORIGIN: has a value that forbid lists",
                "DB_URL: required in environment 'production', but not set",
                "LOG_LEVEL: not one of: debug, info",
                "TOKEN: shorter than min-length 8",
                "TOKEN: does not match pattern '^tk_'",
            ]
        );
        let good = env(&[
            ("API_KEY", "k"),
            ("CORS_ORIGIN", "https://app"),
            ("TOKEN", "tk_12345678"),
            ("API_URL", "HTTPS://example.com"),
            ("LOG_LEVEL", "info"),
        ]);
        assert!(checks.violations(&good, Some("staging")).is_empty());
        assert!(checks.violations(&good, None).is_empty());
    }

    #[test]
    fn a_bad_pattern_or_an_unknown_key_is_an_error() {
        let tables: BTreeMap<String, RuleTable> =
            toml::from_str("X = { pattern = \"(\" }").unwrap();
        let error = Checks::build(&[], &tables, None, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "rules: [rules.X]: pattern is not a valid regular expression"
        );
        assert!(toml::from_str::<BTreeMap<String, RuleTable>>("X = { requird = true }").is_err());
    }

    #[test]
    fn doppler_configs_name_their_environment() {
        assert_eq!(doppler_environment(Some("prd_eu")).as_deref(), Some("prd"));
        assert_eq!(doppler_environment(Some("dev")).as_deref(), Some("dev"));
        assert_eq!(doppler_environment(None), None);
    }
}
