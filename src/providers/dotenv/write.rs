//! `dotenv:PATH` as a write target: each name's last assignment gets the new value in place
//! (its `export`, trailing comment and position kept), new names are appended, and every other
//! byte of the file (comments, blank lines, order) stays as it was.
//!
//! Values are double-quoted on one line with `\n`, `\\`, `\"` and `\$` escapes, so the reader
//! gives back exactly the bytes written and expands nothing. The file is replaced atomically: a
//! temporary file in the same directory (mode 0600) renamed over it, so a reader sees the old
//! file or the new one, never half of one, and a failure leaves the old one untouched.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::dotenvx::ENCRYPTED_PREFIX;
use crate::envfile;
use crate::error::{SourceError, SpecProblem};
use crate::providers::spec::SourceSpec;
use crate::secret::EnvName;

use super::super::write::{all_alike, read_or_empty, replace_file, Change, WriteFuture, Writer};
use super::super::{off_runtime, Context, FetchFuture};
use super::{push_quoted, Dotenv};

#[derive(Debug)]
pub(crate) struct DotenvWriter {
    /// Reads the file as `--source dotenv:PATH` does; a missing file holds nothing yet.
    reader: Dotenv,
}

impl DotenvWriter {
    pub(crate) fn from_spec(
        spec: &mut SourceSpec,
        context: Arc<Context>,
    ) -> Result<Self, SpecProblem> {
        spec.finish(false)?;
        Ok(Self {
            reader: Dotenv {
                path: PathBuf::from(&spec.location),
                optional: true,
                keys_file: None,
                context,
            },
        })
    }
}

impl Writer for DotenvWriter {
    fn current(&self) -> FetchFuture<'_> {
        Box::pin(read_or_empty(&self.reader))
    }

    fn refuses_name(&self, name: &EnvName) -> Option<&'static str> {
        let mut chars = name.as_str().chars();
        let first = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        (!(first && rest)).then_some(
            "a .env file holds names of letters, digits, _ and ., starting with a letter or _",
        )
    }

    fn write<'a>(&'a self, changes: &'a [Change]) -> WriteFuture<'a> {
        let path = self.reader.path.clone();
        let owned = changes.to_vec();
        Box::pin(async move {
            let result = off_runtime(move || rewrite(&path, &owned)).await;
            all_alike(changes, result)
        })
    }
}

/// Reads the file (none yet is an empty one), sets every change and replaces the file.
fn rewrite(path: &Path, changes: &[Change]) -> Result<(), SourceError> {
    let read_failed = |source| SourceError::Read {
        path: path.to_path_buf(),
        source,
    };
    let text = match super::super::read_capped(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| SourceError::Config {
            problem: format!(
                "'{}' is not UTF-8 text; secretrun does not rewrite it",
                path.display()
            ),
        })?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(read_failed(error)),
    };
    let updated = with_values(path, &text, changes)?;
    replace_file(path, updated.as_bytes()).map_err(|source| SourceError::Config {
        problem: format!("cannot write '{}': {source}", path.display()),
    })
}

/// `text` with each change's value in place of its name's last assignment, or appended.
fn with_values(path: &Path, text: &str, changes: &[Change]) -> Result<String, SourceError> {
    let found = envfile::assignments(text);
    let mut in_place = Vec::new();
    let mut appended = String::new();
    for change in changes {
        // The reader keeps the last assignment of a name: that one decides what it reads.
        let last = found
            .iter()
            .rev()
            .find(|assignment| assignment.name(text) == change.name.as_str());
        let mut quoted = String::new();
        // The caller checked that every value is UTF-8.
        push_quoted(
            &mut quoted,
            std::str::from_utf8(change.value.expose()).unwrap_or_default(),
            false,
        );
        match last {
            Some(assignment) if assignment.inner(text).starts_with(ENCRYPTED_PREFIX) => {
                return Err(SourceError::Value {
                    path: path.to_path_buf(),
                    line: assignment.line,
                    name: change.name.to_string(),
                    problem: "the value is dotenvx-encrypted; secretrun does not replace it \
                              with plaintext (decrypt the file first, then encrypt it again)"
                        .into(),
                });
            }
            Some(assignment) => in_place.push((assignment.raw.clone(), quoted)),
            None => {
                appended.push_str(change.name.as_str());
                appended.push('=');
                appended.push_str(&quoted);
                appended.push('\n');
            }
        }
    }
    in_place.sort_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(text.len() + appended.len() * 2 + 64);
    let mut copied = 0;
    for (range, quoted) in in_place {
        out.push_str(&text[copied..range.start]);
        out.push_str(&quoted);
        copied = range.end;
    }
    out.push_str(&text[copied..]);
    if !appended.is_empty() && !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&appended);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    fn change(name: &str, value: &str) -> Change {
        Change {
            name: EnvName::new(name).unwrap(),
            value: SecretValue::from(value.to_string()),
            exists: false,
        }
    }

    fn parsed(text: &str) -> Vec<(String, String)> {
        dotenvy::from_read_iter(text.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn keeps_comments_order_and_exports_and_appends_new_names() {
        let text = "# top\nA=1 # note\n\nexport B='two'\nA=dup\nC=3";
        let out = with_values(
            Path::new(".env"),
            text,
            &[change("A", "x"), change("B", "y"), change("D", "new")],
        )
        .unwrap();
        assert_eq!(
            out,
            "# top\nA=1 # note\n\nexport B=\"y\"\nA=\"x\"\nC=3\nD=\"new\"\n"
        );
    }

    #[test]
    fn awkward_values_read_back_exactly() {
        let awkward = [
            ("NL", "line1\nline2\n\tindented"),
            ("QUOTES", "it's \"quoted\" `tick`"),
            ("DOLLAR", "$HOME ${PATH} $(id) \\$x"),
            ("HASH", "a # not a comment"),
            ("BACKSLASH", "C:\\dir\\n\\\\"),
            ("UNICODE", "päss wörd ✓"),
            ("EMPTY", ""),
        ];
        let changes: Vec<Change> = awkward.iter().map(|(n, v)| change(n, v)).collect();
        let out = with_values(Path::new(".env"), "", &changes).unwrap();
        let expected: Vec<(String, String)> = awkward
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(parsed(&out), expected);
    }
}
