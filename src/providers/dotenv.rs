//! `dotenv:PATH`: a `.env` file in the syntax users write (comments, `export`, quotes, escapes,
//! multi-line quoted values, `${VAR}` expansion), parsed by `dotenvy`.
//!
//! Options: `optional` (a missing file yields nothing instead of an error).

use std::io;
use std::path::PathBuf;

use crate::error::{SourceError, SpecProblem};
use crate::secret::SecretValue;
use crate::source::SourceSpec;

use super::{env_name, read_local, Entries, FetchFuture, Provider};

#[derive(Debug)]
pub struct Dotenv {
    path: PathBuf,
    optional: bool,
}

impl Dotenv {
    pub fn from_spec(spec: &mut SourceSpec) -> Result<Self, SpecProblem> {
        let optional = spec.take_flag("optional")?;
        spec.finish(false)?;
        Ok(Self {
            path: PathBuf::from(&spec.location),
            optional,
        })
    }

    fn read(&self) -> Result<Entries, SourceError> {
        let content = match super::read_text_capped(&self.path) {
            Ok(content) => content,
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
        parse(&content).map_err(|error| match error {
            ParseError::Syntax { line, problem } => SourceError::Syntax {
                path: self.path.clone(),
                line,
                problem,
            },
            ParseError::Name(error) => error,
        })
    }
}

impl Provider for Dotenv {
    fn fetch(&self) -> FetchFuture<'_> {
        let reader = Self {
            path: self.path.clone(),
            optional: self.optional,
        };
        Box::pin(async move {
            let path = reader.path.clone();
            read_local(&path, move || reader.read()).await
        })
    }
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
    let line_of = |offset: usize| content[..offset.min(content.len())].matches('\n').count() + 1;
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

    fn values(content: &str) -> Vec<(String, String)> {
        parse(content)
            .unwrap()
            .into_iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    String::from_utf8(value.expose().to_vec()).unwrap(),
                )
            })
            .collect()
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
