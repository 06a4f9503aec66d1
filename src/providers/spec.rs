//! The one source syntax shared by `--source`, `--env-file`, `--secrets-dir` and the config file:
//! `KIND:LOCATION[?OPTION[=VALUE]&...][#KEY]`, e.g. `dotenv:.env`, `dir:/run/secrets?optional`.
//!
//! Parsing is pure. A spec never carries a secret value, so its text is what errors and `show`
//! use to name a source. What each kind means (its scheme, class, whether its location is a
//! path) is its entry in [`super::registry`], which implements [`SourceKind`]'s methods.

use std::fmt;

use crate::error::SpecProblem;

/// Where a source's names rank in the merge, before the declared order breaks ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SourceClass {
    /// `.env` files: below the parent environment.
    EnvFile,
    /// Secret stores (directories, secret managers): above the parent environment.
    Secret,
}

/// Every kind of source, spelled as its scheme in specs, config and docs; each has one entry in
/// [`super::registry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Dotenv,
    Dir,
    File,
    Doppler,
    AwsSm,
    Vault,
    AwsSsm,
    AzureKv,
    GcpSm,
}

impl SourceKind {
    pub const ALL: &'static [SourceKind] = &[
        SourceKind::Dotenv,
        SourceKind::Dir,
        SourceKind::File,
        SourceKind::Doppler,
        SourceKind::AwsSm,
        SourceKind::Vault,
        SourceKind::AwsSsm,
        SourceKind::AzureKv,
        SourceKind::GcpSm,
    ];
}

/// A parsed source spec. Options are consumed by the provider that understands them; whatever is
/// left is reported as unknown, so a typo never silently changes behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    text: String,
    pub kind: SourceKind,
    pub location: String,
    pub key: Option<String>,
    options: Vec<(String, Option<String>)>,
}

impl SourceSpec {
    pub fn parse(text: &str) -> Result<Self, SpecProblem> {
        let (scheme, rest) = text.split_once(':').ok_or(SpecProblem::MissingKind)?;
        // `name?option=value:…` has no kind: quoting it as one would show the option's value.
        if scheme.contains(['?', '#']) {
            return Err(SpecProblem::MissingKind);
        }
        let kind = SourceKind::from_scheme(scheme).ok_or_else(|| SpecProblem::UnknownKind {
            kind: scheme.to_string(),
            known: SourceKind::known_schemes(),
        })?;
        let (rest, key) = match rest.rsplit_once('#') {
            Some((rest, key)) if !key.is_empty() => (rest, Some(key.to_string())),
            Some(_) => return Err(SpecProblem::EmptyKey),
            None => (rest, None),
        };
        let (location, query) = match rest.split_once('?') {
            Some((location, query)) => (location, Some(query)),
            None => (rest, None),
        };
        if location.is_empty() {
            return Err(SpecProblem::MissingLocation);
        }
        let options = query
            .into_iter()
            .flat_map(|query| query.split('&'))
            .filter(|option| !option.is_empty())
            .map(|option| match option.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None => (option.to_string(), None),
            })
            .collect();
        Ok(Self {
            text: text.to_string(),
            kind,
            location: location.to_string(),
            key,
            options,
        })
    }

    /// A spec of `kind` for a plain path, as `--env-file PATH` and `--secrets-dir DIR` give.
    pub fn for_path(kind: SourceKind, path: &str) -> Result<Self, SpecProblem> {
        if path.is_empty() {
            return Err(SpecProblem::MissingLocation);
        }
        Ok(Self {
            text: format!("{}:{path}", kind.scheme()),
            kind,
            location: path.to_string(),
            key: None,
            options: Vec::new(),
        })
    }

    /// The same spec named differently in errors and `show` (a reference by its variable).
    pub fn with_text(mut self, text: &str) -> Self {
        self.text = text.to_string();
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn class(&self) -> SourceClass {
        self.kind.class()
    }

    /// Adds `name=value` unless the spec has `name` already: a flag's default for a kind.
    pub fn default_option(&mut self, name: &str, value: &str) {
        if !self.options.iter().any(|(option, _)| option == name) {
            self.options
                .push((name.to_string(), Some(value.to_string())));
        }
    }

    /// Takes a boolean option (`?optional` or `?optional=true|false`).
    pub fn take_flag(&mut self, name: &str) -> Result<bool, SpecProblem> {
        match self.take_option(name) {
            None => Ok(false),
            Some(None) => Ok(true),
            Some(Some(value)) => match value.as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(SpecProblem::BadOptionValue {
                    option: name.to_string(),
                    expected: "true or false",
                }),
            },
        }
    }

    /// Takes an option that needs a value (`?version=3`).
    pub fn take_value(&mut self, name: &str) -> Result<Option<String>, SpecProblem> {
        match self.take_option(name) {
            None => Ok(None),
            Some(Some(value)) => Ok(Some(value)),
            Some(None) => Err(SpecProblem::BadOptionValue {
                option: name.to_string(),
                expected: "a value (NAME=VALUE)",
            }),
        }
    }

    /// Takes a value option that may not be empty: `?role=` is more likely a mistake than a
    /// wish for the default.
    pub fn take_non_empty(
        &mut self,
        name: &str,
        expected: &'static str,
    ) -> Result<Option<String>, SpecProblem> {
        match self.take_value(name)? {
            Some(value) if value.is_empty() => Err(SpecProblem::BadOptionValue {
                option: name.to_string(),
                expected,
            }),
            value => Ok(value),
        }
    }

    /// Fails on the first option no provider took, and on a `#KEY` the kind does not use.
    pub fn finish(&self, accepts_key: bool) -> Result<(), SpecProblem> {
        if let Some((name, _)) = self.options.first() {
            return Err(SpecProblem::UnknownOption(name.clone()));
        }
        if !accepts_key && self.key.is_some() {
            return Err(SpecProblem::KeyNotSupported);
        }
        Ok(())
    }

    /// Makes relative paths relative to `base` (a config file's directory): the location of a
    /// path kind, and every `*-file` option (`token-file=`, `secret-id-file=`, ...).
    pub fn rebase_paths(&mut self, base: &std::path::Path) {
        let rebase = |path: &mut String| {
            if std::path::Path::new(path.as_str()).is_relative() {
                if let Some(joined) = base.join(path.as_str()).to_str() {
                    *path = joined.to_string();
                }
            }
        };
        if self.kind.takes_path() {
            rebase(&mut self.location);
        }
        for (name, value) in &mut self.options {
            if let (true, Some(path)) = (name.ends_with("-file"), value.as_mut()) {
                rebase(path);
            }
        }
    }

    fn take_option(&mut self, name: &str) -> Option<Option<String>> {
        let index = self.options.iter().position(|(n, _)| n == name)?;
        Some(self.options.remove(index).1)
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kind_location_options_and_key() {
        let mut spec = SourceSpec::parse("dir:/run/secrets?optional&prefix=APP_#KEY").unwrap();
        assert_eq!(spec.kind, SourceKind::Dir);
        assert_eq!(spec.location, "/run/secrets");
        assert_eq!(spec.key.as_deref(), Some("KEY"));
        assert!(spec.take_flag("optional").unwrap());
        assert_eq!(spec.take_value("prefix").unwrap().as_deref(), Some("APP_"));
        assert_eq!(spec.finish(true), Ok(()));
        assert_eq!(spec.text(), "dir:/run/secrets?optional&prefix=APP_#KEY");
    }

    #[test]
    fn rebases_path_locations_and_file_options() {
        let base = std::path::Path::new("/etc/app");
        let mut spec = SourceSpec::parse("dotenv:app.env").unwrap();
        spec.rebase_paths(base);
        assert_eq!(spec.location, "/etc/app/app.env");
        let mut spec = SourceSpec::parse("doppler:APP?token-file=tok&project=p").unwrap();
        spec.rebase_paths(base);
        assert_eq!(spec.location, "APP");
        assert_eq!(
            spec.take_value("token-file").unwrap().as_deref(),
            Some("/etc/app/tok")
        );
        assert_eq!(spec.take_value("project").unwrap().as_deref(), Some("p"));
        let mut spec = SourceSpec::parse("dir:/abs").unwrap();
        spec.rebase_paths(base);
        assert_eq!(spec.location, "/abs");
    }

    #[test]
    fn location_may_contain_colons() {
        let spec = SourceSpec::parse("dotenv:C:/weird:path").unwrap();
        assert_eq!(spec.location, "C:/weird:path");
    }

    #[test]
    fn rejects_bad_specs() {
        assert_eq!(SourceSpec::parse(".env"), Err(SpecProblem::MissingKind));
        assert_eq!(
            SourceSpec::parse("gcp-sm?token=pasted-by-mistake:x"),
            Err(SpecProblem::MissingKind)
        );
        assert_eq!(
            SourceSpec::parse("nope:x"),
            Err(SpecProblem::UnknownKind {
                kind: "nope".into(),
                known: "dotenv, dir, file, doppler, aws-sm, vault, aws-ssm, azure-kv, gcp-sm"
                    .into()
            })
        );
        assert_eq!(
            SourceSpec::parse("dotenv:"),
            Err(SpecProblem::MissingLocation)
        );
        assert_eq!(
            SourceSpec::parse("dotenv:.env#"),
            Err(SpecProblem::EmptyKey)
        );
        let spec = SourceSpec::parse("dotenv:.env?bogus").unwrap();
        assert_eq!(
            spec.finish(false),
            Err(SpecProblem::UnknownOption("bogus".into()))
        );
        let spec = SourceSpec::parse("dotenv:.env#KEY").unwrap();
        assert_eq!(spec.finish(false), Err(SpecProblem::KeyNotSupported));
        let mut spec = SourceSpec::parse("dotenv:.env?optional=maybe").unwrap();
        assert!(spec.take_flag("optional").is_err());
    }
}
