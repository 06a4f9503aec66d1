//! `dotenv:PATH`: a `.env` file in the syntax users write (comments, `export`, quotes, escapes,
//! multi-line quoted values, `${VAR}` expansion), parsed by `dotenvy`.
//!
//! Values written by dotenvx (`encrypted:...`, see [`crate::dotenvx`]) are decrypted before the
//! file is parsed, so `${VAR}` sees the plaintext as dotenvx's own loader does, with the private
//! key dotenvx would use: `DOTENV_PRIVATE_KEY[_ENV]` from the parent environment, else from
//! `.env.keys` beside the file. A value that cannot be decrypted fails the source, naming the
//! line and the variable; the ciphertext is never passed on. `DOTENV_PUBLIC_KEY*` lines are
//! dotenvx's bookkeeping and set nothing.
//!
//! Options: `optional` (a missing file yields nothing instead of an error), `keys=PATH` (the
//! private keys' file instead of `.env.keys` beside the file).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::spec::SourceSpec;
use crate::dotenvx::{self, KeyNames, ENCRYPTED_PREFIX};
use crate::envfile::{self, Assignment};
use crate::error::{SourceError, SpecProblem};
use crate::secret::SecretValue;

use super::{env_name, read_local, Context, Entries, FetchFuture, Provider};

pub(crate) mod write;

#[derive(Debug, Clone)]
pub struct Dotenv {
    path: PathBuf,
    optional: bool,
    /// `keys=PATH`, else `.env.keys` in the file's directory.
    keys_file: Option<PathBuf>,
    /// The parent environment, where dotenvx's private keys may be.
    context: Arc<Context>,
}

impl Dotenv {
    pub fn from_spec(spec: &mut SourceSpec, context: Arc<Context>) -> Result<Self, SpecProblem> {
        let optional = spec.take_flag("optional")?;
        let keys_file = spec
            .take_non_empty("keys", "a path (keys=PATH)")?
            .map(PathBuf::from);
        spec.finish(false)?;
        Ok(Self {
            path: PathBuf::from(&spec.location),
            optional,
            keys_file,
            context,
        })
    }

    fn read(&self) -> Result<Entries, SourceError> {
        let bytes = match super::read_capped(&self.path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound && self.optional => {
                return Ok(Entries::new())
            }
            Err(source) => {
                return Err(SourceError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let content = decode(&self.path, bytes)?;
        let content = content.strip_prefix('\u{feff}').unwrap_or(&content);
        let decrypted = self.decrypt_values(content)?;
        let text = match &decrypted {
            // Decrypted values are plaintext UTF-8 put into UTF-8 text.
            Some(text) => std::str::from_utf8(text.expose()).unwrap_or_default(),
            None => content,
        };
        let entries = parse(text).map_err(|error| match error {
            ParseError::Syntax { line, problem } => SourceError::Syntax {
                path: self.path.clone(),
                line,
                problem,
            },
            ParseError::Name(error) => error,
        })?;
        Ok(entries
            .into_iter()
            .filter(|(name, _)| !name.as_str().starts_with(dotenvx::PUBLIC_KEY_NAME))
            .collect())
    }

    /// The file's text with every `encrypted:` value replaced by its plaintext, quoted so that
    /// dotenvy reads it back exactly (and expands `${VAR}` in it unless it was single-quoted,
    /// as dotenvx does); `None` when nothing is encrypted.
    fn decrypt_values(&self, content: &str) -> Result<Option<SecretValue>, SourceError> {
        if !content.contains(ENCRYPTED_PREFIX) {
            return Ok(None);
        }
        let found = envfile::assignments(content);
        let mut encrypted = found
            .iter()
            .filter(|a| a.inner(content).starts_with(ENCRYPTED_PREFIX))
            .peekable();
        if encrypted.peek().is_none() {
            return Ok(None);
        }
        let declared = dotenvx::declared_public_key(content, &found);
        let names = KeyNames::for_file(&self.path, declared.map(|a| a.name(content)));
        let keys = dotenvx::private_keys(
            &names,
            declared.map(|a| a.inner(content)),
            &self.context.env,
            &dotenvx::keys_path(&self.path, self.keys_file.as_deref()),
        );
        // Room for every plaintext escaped, so no reallocation leaves a copy behind.
        let mut text = String::with_capacity(content.len() * 2);
        let mut copied = 0;
        for assignment in encrypted {
            let fail = |problem: String| SourceError::Value {
                path: self.path.clone(),
                line: assignment.line,
                name: assignment.name(content).to_string(),
                problem,
            };
            let keys = keys.as_ref().map_err(|problem| fail(problem.clone()))?;
            let ciphertext = &assignment.inner(content)[ENCRYPTED_PREFIX.len()..];
            let plaintext =
                dotenvx::decrypt(keys, ciphertext).map_err(|problem| fail(problem.to_string()))?;
            let plaintext = std::str::from_utf8(plaintext.expose())
                .map_err(|_| fail("the decrypted value is not valid UTF-8".into()))?;
            text.push_str(&content[copied..assignment.raw.start]);
            push_quoted(&mut text, plaintext, assignment.quote != Some('\''));
            copied = assignment.raw.end;
        }
        text.push_str(&content[copied..]);
        Ok(Some(SecretValue::from(text)))
    }
}

impl Provider for Dotenv {
    fn fetch(&self) -> FetchFuture<'_> {
        let reader = self.clone();
        Box::pin(async move {
            let path = reader.path.clone();
            read_local(&path, move || reader.read()).await
        })
    }

    /// The private key dotenvx would use for this file: a credential, kept from the child.
    fn consumed_names(&self) -> Vec<String> {
        vec![KeyNames::for_file(&self.path, None).private]
    }
}

/// `value` double-quoted for dotenvy, on one line (so later lines keep their numbers). `$` stays
/// live for expansion when `expand`; `\$` stays an escaped `$` either way, as dotenvx reads it.
fn push_quoted(out: &mut String, value: &str, expand: bool) {
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if expand && chars.peek() == Some(&'$') => out.push('\\'),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '$' if !expand => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The file's text, or an error naming the line and the variable where it stops being UTF-8.
fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, SourceError> {
    String::from_utf8(bytes).map_err(|error| {
        let valid_up_to = error.utf8_error().valid_up_to();
        let bytes = error.as_bytes();
        let line = envfile::line_of(bytes, valid_up_to);
        let valid = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or_default();
        // The assignment the bad byte is part of: the last one before it, on its line or in a
        // quoted value still open there.
        let owner = envfile::assignments(valid).pop().filter(|a: &Assignment| {
            a.line == line || valid[a.raw.clone()].starts_with(['"', '\'', '`'])
        });
        match owner {
            Some(assignment) => SourceError::Value {
                path: path.to_path_buf(),
                line,
                name: assignment.name(valid).to_string(),
                problem: "the value is not valid UTF-8".into(),
            },
            None => SourceError::Syntax {
                path: path.to_path_buf(),
                line,
                problem: "not valid UTF-8",
            },
        }
    })
}

#[derive(Debug)]
enum ParseError {
    Syntax { line: usize, problem: &'static str },
    Name(SourceError),
}

/// Parses dotenv text. dotenvy reports the offending logical line's text, which may hold a
/// secret, so only its position is kept.
fn parse(content: &str) -> Result<Entries, ParseError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let mut entries = Entries::new();
    for item in dotenvy::from_read_iter(content.as_bytes()) {
        match item {
            Ok((name, value)) => {
                let name = env_name(name).map_err(ParseError::Name)?;
                entries.push((name, SecretValue::from(value)));
            }
            Err(dotenvy::Error::LineParse(line, index)) => {
                return Err(locate(content, &line, index));
            }
            Err(_) => {
                return Err(ParseError::Syntax {
                    line: 1,
                    problem: "unreadable content",
                })
            }
        }
    }
    Ok(entries)
}

/// Finds the physical line of a parse error. The first occurrence of the failing logical line is
/// the right one: an identical line earlier in the file would have failed first.
fn locate(content: &str, logical_line: &str, index: usize) -> ParseError {
    let start = content.find(logical_line).unwrap_or(0);
    // Bytes, not `str` slicing: dotenvy's index can fall inside a multi-byte character.
    let line_of = |offset: usize| {
        let before = &content.as_bytes()[..offset.min(content.len())];
        before.iter().filter(|&&byte| byte == b'\n').count() + 1
    };
    if index >= logical_line.len() {
        // dotenvy reached the end of the file inside quotes: point at where the value began.
        ParseError::Syntax {
            line: line_of(start),
            problem: "unterminated quoted value",
        }
    } else {
        ParseError::Syntax {
            line: line_of(start + index),
            problem: "invalid syntax",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `dotenv` fuzz target: a parse error whose index falls inside a multi-byte
    /// character (here a BOM in the middle of the file) panicked instead of naming the line.
    #[test]
    fn an_error_inside_a_multibyte_character_names_its_line() {
        let content =
            "A=1\nexp=\"m${portenD=\"m${A}-ypte\0}\u{feff}\ne= #c'Aomm^A}crlBcf=\r%\n-x\n";
        assert!(matches!(parse(content), Err(ParseError::Syntax { .. })));
    }

    fn values(content: &str) -> Vec<(String, String)> {
        crate::providers::plain_entries(parse(content).unwrap())
    }

    #[test]
    fn parses_the_syntax_users_write() {
        let parsed = values(concat!(
            "# a comment\n",
            "PLAIN=value\n",
            "export EXPORTED=yes\n",
            "SINGLE='it is $PLAIN'\n",
            "DOUBLE=\"line1\\nline2\"\n",
            "MULTI=\"first\n",
            "second\"\n",
            "EXPANDED=${PLAIN}-x\n",
            "SPACED = padded # trailing comment\n",
            "EMPTY=\n",
        ));
        assert_eq!(
            parsed,
            vec![
                ("PLAIN".into(), "value".into()),
                ("EXPORTED".into(), "yes".into()),
                ("SINGLE".into(), "it is $PLAIN".into()),
                ("DOUBLE".into(), "line1\nline2".into()),
                ("MULTI".into(), "first\nsecond".into()),
                ("EXPANDED".into(), "value-x".into()),
                ("SPACED".into(), "padded".into()),
                ("EMPTY".into(), "".into()),
            ]
        );
    }

    #[test]
    fn strips_a_byte_order_mark() {
        assert_eq!(values("\u{feff}A=1\n"), vec![("A".into(), "1".into())]);
    }

    #[test]
    fn unterminated_quote_names_the_line_where_it_opened() {
        let err = parse("A=1\nB=2\nC=\"open\nstill open\n").unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Syntax {
                    line: 3,
                    problem: "unterminated quoted value"
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn bad_line_names_its_line() {
        let err = parse("A=1\n\nthis line is wrong\nB=2\n").unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Syntax {
                    line: 3,
                    problem: "invalid syntax"
                }
            ),
            "{err:?}"
        );
    }
}
