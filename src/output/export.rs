//! The export formats: the merged result as another tool reads it. Used by `secretrun export`
//! and by `--mount`, so a mounted file holds exactly what `export` would write.
//!
//! Nothing is returned unless every variable can be written: the whole output is rendered
//! first, and every variable a format cannot hold is reported at once, by name.
//!
//! Each format is exactly what its reader parses:
//! - dotenv: `NAME="..."`, escaped as `show --format dotenv` does (dotenvy and secretrun
//!   `--env-file` read it back; names are what dotenvy accepts).
//! - json: one object, names to values.
//! - shell: `export NAME='...'`; POSIX single quotes hold every byte but `'`, written `'\''`.
//! - docker: `NAME=value` for `docker run --env-file`, which takes the rest of the line as it
//!   is: no quoting, so a value with a line break cannot be written.
//! - systemd: `NAME="..."` for `EnvironmentFile=`: inside double quotes systemd unescapes
//!   `\"`, `\\`, `` \` `` and `\$` and keeps newlines (systemd's `env-file.c`); names are
//!   letters, digits and `_`, not starting with a digit, as systemd ignores others.

use std::ffi::OsStr;

use crate::cli::ExportFormat;
use crate::env::merge::ChildEnv;
use crate::error::Error;
use crate::output::show;
use crate::secret::{display_name, SecretValue};

const NAME_NOT_UTF8: &str = "the name is not valid UTF-8, which no export format can hold";
const VALUE_NOT_UTF8: &str =
    "the value is not valid UTF-8, which only --format shell can hold (the others are text formats)";
const SHELL_NAME: &str = "the name is not a shell identifier (letters, digits and _, not \
                          starting with a digit), so a shell cannot export it";
const DOTENV_NAME: &str = "the name is not one dotenv parsers read (letters, digits, _ and ., \
                           starting with a letter or _)";
const SYSTEMD_NAME: &str = "the name is not one systemd accepts (letters, digits and _, not \
                            starting with a digit); systemd would ignore it";
const DOCKER_NAME: &str = "the name contains whitespace or starts with '#', which docker's \
                           --env-file format cannot hold";
const DOCKER_LINE_BREAK: &str = "the value contains a line break, which docker's --env-file \
                                 format cannot hold (one variable per line, no quoting); use \
                                 --format dotenv, json or systemd";

/// The whole output, or every variable the format cannot hold. Held as a [`SecretValue`] so
/// the buffer is wiped when dropped.
pub fn render(child_env: &ChildEnv, format: ExportFormat, all: bool) -> Result<SecretValue, Error> {
    let entries: Vec<(&OsStr, &[u8])> = child_env
        .vars
        .iter()
        .filter(|(_, entry)| all || !show::is_plain_parent(entry))
        .map(|(name, entry)| (name.as_os_str(), entry.value.as_bytes()))
        .collect();
    // Room for every value escaped, so the buffer is not reallocated (leaving copies behind).
    let capacity = entries
        .iter()
        .map(|(name, value)| name.len() + 2 * value.len() + 16)
        .sum::<usize>()
        + 4;
    let mut out = Vec::with_capacity(capacity);
    let mut errors = Vec::new();
    if format == ExportFormat::Json {
        let mut map = serde_json::Map::new();
        for (name, value) in &entries {
            match (name.to_str(), std::str::from_utf8(value)) {
                (Some(name), Ok(value)) => {
                    map.insert(name.to_string(), value.into());
                }
                (None, _) => errors.push(unexportable(name, NAME_NOT_UTF8)),
                (_, Err(_)) => errors.push(unexportable(name, VALUE_NOT_UTF8)),
            }
        }
        if errors.is_empty() {
            serde_json::to_writer_pretty(&mut out, &map)
                .map_err(|error| Error::Output(error.into()))?;
            out.push(b'\n');
        }
    } else {
        for (name, value) in &entries {
            if let Err(problem) = line(format, name, value, &mut out) {
                errors.push(unexportable(name, problem));
            }
        }
    }
    match Error::from_many(errors) {
        Some(error) => Err(error),
        None => Ok(SecretValue::new(out)),
    }
}

fn unexportable(name: &OsStr, problem: &'static str) -> Error {
    Error::Unexportable {
        name: display_name(name),
        problem,
    }
}

/// Appends one variable in a line format, or says why the format cannot hold it.
fn line(
    format: ExportFormat,
    name: &OsStr,
    value: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), &'static str> {
    let name = name.to_str().ok_or(NAME_NOT_UTF8)?;
    if format == ExportFormat::Shell {
        if !is_identifier(name) {
            return Err(SHELL_NAME);
        }
        // Single quotes hold any byte but the quote itself, so the value may be any bytes.
        out.extend_from_slice(b"export ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"='");
        for &byte in value {
            if byte == b'\'' {
                out.extend_from_slice(b"'\\''");
            } else {
                out.push(byte);
            }
        }
        out.extend_from_slice(b"'\n");
        return Ok(());
    }
    if format == ExportFormat::Example {
        if !is_dotenv_key(name) {
            return Err(DOTENV_NAME);
        }
        push_line(out, &format!("{name}="));
        return Ok(());
    }
    let text = std::str::from_utf8(value).map_err(|_| VALUE_NOT_UTF8)?;
    match format {
        ExportFormat::Dotenv => {
            if !is_dotenv_key(name) {
                return Err(DOTENV_NAME);
            }
            push_line(out, &format!("{name}=\"{}\"", show::dotenv_escape(text)));
        }
        ExportFormat::Docker => {
            if name.starts_with('#') || name.chars().any(char::is_whitespace) {
                return Err(DOCKER_NAME);
            }
            // docker splits lines on \n and drops a \r before it: either would cut the value.
            if text.contains(['\n', '\r']) {
                return Err(DOCKER_LINE_BREAK);
            }
            push_line(out, &format!("{name}={text}"));
        }
        ExportFormat::Systemd => {
            if !is_identifier(name) {
                return Err(SYSTEMD_NAME);
            }
            push_line(out, &format!("{name}=\"{}\"", systemd_escape(text)));
        }
        ExportFormat::Json | ExportFormat::Shell | ExportFormat::Example => {
            unreachable!("handled above")
        }
    }
    Ok(())
}

fn push_line(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
}

/// A name POSIX shells and systemd accept: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A key dotenvy parses: `[A-Za-z_][A-Za-z0-9_.]*`.
fn is_dotenv_key(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Escapes for a double-quoted `EnvironmentFile=` value: the four characters systemd unescapes
/// there (`SHELL_NEED_ESCAPE`); everything else, newlines included, is kept as it is.
fn systemd_escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '`' | '$') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_output_round_trips_through_dotenvy() {
        let tricky = "q\"uo'te $HOME ${X} back\\slash\nline2\r\ttab é ✓ #not-a-comment  ";
        let mut out = Vec::new();
        line(
            ExportFormat::Dotenv,
            OsStr::new("K"),
            tricky.as_bytes(),
            &mut out,
        )
        .unwrap();
        let parsed: Vec<_> = dotenvy::from_read_iter(out.as_slice())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(parsed, vec![("K".to_string(), tricky.to_string())]);
    }

    #[test]
    fn shell_quotes_hold_any_byte() {
        let mut out = Vec::new();
        line(
            ExportFormat::Shell,
            OsStr::new("K"),
            b"it's $x\n\xff",
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"export K='it'\\''s $x\n\xff'\n");
    }

    #[test]
    fn systemd_escapes_only_what_it_unescapes() {
        assert_eq!(
            systemd_escape("a\"b\\c`d$e\nf'g"),
            "a\\\"b\\\\c\\`d\\$e\nf'g"
        );
    }

    #[test]
    fn each_format_refuses_what_it_cannot_hold() {
        let mut out = Vec::new();
        let refuses = |format, name: &str, value: &[u8]| {
            line(format, OsStr::new(name), value, &mut Vec::new()).unwrap_err()
        };
        assert_eq!(
            refuses(ExportFormat::Docker, "K", b"a\nb"),
            DOCKER_LINE_BREAK
        );
        assert_eq!(
            refuses(ExportFormat::Docker, "K", b"a\r"),
            DOCKER_LINE_BREAK
        );
        assert_eq!(refuses(ExportFormat::Docker, "A B", b"v"), DOCKER_NAME);
        assert_eq!(refuses(ExportFormat::Shell, "my-var", b"v"), SHELL_NAME);
        assert_eq!(refuses(ExportFormat::Systemd, "1X", b"v"), SYSTEMD_NAME);
        assert_eq!(refuses(ExportFormat::Dotenv, "a-b", b"v"), DOTENV_NAME);
        assert_eq!(refuses(ExportFormat::Dotenv, "K", b"\xff"), VALUE_NOT_UTF8);
        line(ExportFormat::Dotenv, OsStr::new("a.b"), b"v", &mut out).unwrap();
        line(
            ExportFormat::Docker,
            OsStr::new("K"),
            b" spaced = \"q\" ",
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"a.b=\"v\"\nK= spaced = \"q\" \n");
    }
}
