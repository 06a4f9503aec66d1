//! A `gcp-sm` location: a secret, a version, or a listing by name prefix and labels, parsed and
//! checked when the source is built.

use super::*;

/// What a spec's location names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Location {
    /// From the location or `project=`; else found at fetch time.
    pub(super) project: Option<String>,
    pub(super) target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// One secret; `None` reads `latest`.
    Secret { id: String, version: Option<String> },
    /// Every secret whose id starts with `prefix` (maybe empty) and that has every label.
    Listing { prefix: String, labels: Vec<Label> },
}

impl Location {
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "'{text}' is not a Secret Manager location: write SECRET, SECRET/versions/VERSION, \
                 PREFIX* or *, each optionally after projects/PROJECT/secrets/ (a secret id holds \
                 only letters, digits, '-' and '_')"
            )
        };
        let (project, rest) = match text.strip_prefix("projects/") {
            Some(rest) => {
                let (project, rest) = rest.split_once('/').ok_or_else(bad)?;
                if rest.starts_with("locations/") {
                    return Err(format!(
                        "'{text}' names a regional secret, which gcp-sm does not read (only \
                         global secrets: projects/PROJECT/secrets/SECRET)"
                    ));
                }
                let rest = rest.strip_prefix("secrets/").ok_or_else(bad)?;
                if !valid_project(project) {
                    return Err(bad());
                }
                (Some(project.to_string()), rest)
            }
            None => (None, text),
        };
        let target = match rest.strip_suffix('*') {
            Some(prefix) if prefix.len() <= 255 && prefix.chars().all(id_char) => Target::Listing {
                prefix: prefix.to_string(),
                labels: Vec::new(),
            },
            Some(_) => return Err(bad()),
            None => {
                let (id, version) = match rest.split_once('/') {
                    Some((id, tail)) => (id, Some(tail.strip_prefix("versions/").ok_or_else(bad)?)),
                    None => (rest, None),
                };
                if !valid_id(id) || !version.is_none_or(valid_version) {
                    return Err(bad());
                }
                Target::Secret {
                    id: id.to_string(),
                    version: version.map(str::to_string),
                }
            }
        };
        Ok(Self { project, target })
    }

    pub(super) fn is_listing(&self) -> bool {
        matches!(self.target, Target::Listing { .. })
    }

    /// A bare `*`: every secret of a project, which no spec should read by accident.
    pub(super) fn reads_whole_project(&self) -> bool {
        match &self.target {
            Target::Listing { prefix, labels } => prefix.is_empty() && labels.is_empty(),
            Target::Secret { .. } => false,
        }
    }

    /// Adds the options that refine a location, refusing those that contradict it.
    pub(super) fn apply(
        &mut self,
        project: Option<String>,
        version: Option<String>,
        labels: Vec<Label>,
    ) -> Result<(), SpecProblem> {
        let problem = |option: &str, expected| SpecProblem::BadOptionValue {
            option: option.into(),
            expected,
        };
        if let Some(project) = project {
            if self.project.is_some() {
                return Err(problem(
                    "project",
                    "a short location (this one names projects/PROJECT already)",
                ));
            }
            if !valid_project(&project) {
                return Err(problem("project", "a project ID or number"));
            }
            self.project = Some(project);
        }
        match &mut self.target {
            Target::Secret {
                version: current, ..
            } => {
                if !labels.is_empty() {
                    return Err(problem("label", "a listing location (PREFIX* or *)"));
                }
                if let Some(version) = version {
                    if current.is_some() {
                        return Err(problem(
                            "version",
                            "a location without /versions/ (it names a version already)",
                        ));
                    }
                    if !valid_version(&version) {
                        return Err(problem("version", "a version number, an alias or latest"));
                    }
                    *current = Some(version);
                }
            }
            Target::Listing {
                labels: current, ..
            } => {
                if version.is_some() {
                    return Err(problem(
                        "version",
                        "a single secret, not a listing ending in '*' (a listing reads each \
                         secret's latest version)",
                    ));
                }
                *current = labels;
            }
        }
        Ok(())
    }
}

fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Secret Manager's rule for ids: 1 to 255 of `[A-Za-z0-9_-]`. Checked before any request, so a
/// `/`, `..` or `?` can never turn into another path or query.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.chars().all(id_char)
}

/// A number, `latest` or an alias: the same characters as an id.
fn valid_version(version: &str) -> bool {
    valid_id(version)
}

/// Project ids (`my-project`), numbers, and the old domain-scoped ids (`example.com:project`).
fn valid_project(project: &str) -> bool {
    !project.is_empty()
        && project
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'))
}

/// A label a listed secret must carry: `KEY:VALUE`, or `KEY` with any value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Label {
    pub(super) key: String,
    pub(super) value: Option<String>,
}

impl Label {
    /// GCP's rules: a key starts with a lower-case letter; keys and values hold lower-case
    /// letters, digits, `_` and `-`, at most 63 of them.
    pub(super) fn parse(text: &str) -> Option<Self> {
        let (key, value) = match text.split_once([':', '=']) {
            Some((key, value)) => (key, Some(value)),
            None => (text, None),
        };
        let allowed = |part: &str| {
            part.chars().count() <= 63
                && part
                    .chars()
                    .all(|c| c.is_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        };
        let key_ok = key.chars().next().is_some_and(char::is_lowercase) && allowed(key);
        let value_ok = value.is_none_or(|value| !value.is_empty() && allowed(value));
        (key_ok && value_ok).then(|| Self {
            key: key.to_string(),
            value: value.map(str::to_string),
        })
    }

    pub(super) fn matches(&self, labels: &HashMap<String, String>) -> bool {
        match (&self.value, labels.get(&self.key)) {
            (None, found) => found.is_some(),
            (Some(wanted), Some(found)) => wanted == found,
            (Some(_), None) => false,
        }
    }

    /// The term of a `ListSecrets` filter.
    pub(super) fn filter_term(&self) -> String {
        match &self.value {
            Some(value) => format!("labels.{}={value}", self.key),
            None => format!("labels.{}:*", self.key),
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={value}", self.key),
            None => f.write_str(&self.key),
        }
    }
}

/// The `filter` of a listing, narrowing what the server sends; `name:` matches a substring of
/// the full name, so it is a hint, not the prefix test (which is done on every answer).
pub(super) fn list_filter(prefix: &str, labels: &[Label]) -> String {
    let name = (!prefix.is_empty()).then(|| format!("name:{prefix}"));
    name.into_iter()
        .chain(labels.iter().map(Label::filter_term))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// What a listing looked for, for a "not found" error.
pub(super) fn listing_subject(project: &str, prefix: &str, labels: &[Label]) -> String {
    let mut what = format!("no secret in project '{project}'");
    if !prefix.is_empty() {
        what.push_str(&format!(" whose id starts with '{prefix}'"));
    }
    if !labels.is_empty() {
        let labels: Vec<String> = labels.iter().map(ToString::to_string).collect();
        let joiner = if prefix.is_empty() { "" } else { " and" };
        what.push_str(&format!("{joiner} with the label(s) {}", labels.join(", ")));
    }
    what
}
