//! The assignments of a `.env` file as text: where each name and raw value sits, so values can
//! be rewritten in place (`encrypt`, `decrypt`), errors can name a line and a variable, and a
//! `.env.example` can be read for its names alone.
//!
//! This is a scanner, not the parser (values are parsed by dotenvy, see
//! `providers::dotenv`): it follows dotenvx's reading of a line (`[export] NAME=VALUE`, names
//! of word characters, `.` and `-`; a value quoted with `'`, `"` or a backtick may span lines;
//! an unquoted one ends at `#` or the line's end) and skips what it does not recognise.

use std::ops::Range;

/// One `NAME=VALUE` of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// 1-based line the assignment starts on.
    pub line: usize,
    pub name: Range<usize>,
    /// The value as written, quotes included, without surrounding blanks or a trailing comment.
    pub raw: Range<usize>,
    /// The quote around the value, if any.
    pub quote: Option<char>,
}

impl Assignment {
    pub fn name<'a>(&self, text: &'a str) -> &'a str {
        &text[self.name.clone()]
    }

    /// The value between its quotes, escapes not processed.
    pub fn inner<'a>(&self, text: &'a str) -> &'a str {
        let raw = &text[self.raw.clone()];
        match self.quote {
            Some(_) => &raw[1..raw.len() - 1],
            None => raw,
        }
    }

    /// The value as dotenvx reads it (what it encrypts): in double quotes `\n`, `\r` and `\t`
    /// become the characters, in single quotes `\'` becomes `'`; nothing is expanded.
    pub fn dotenvx_value(&self, text: &str) -> String {
        let inner = self.inner(text);
        match self.quote {
            Some('"') => inner
                .replace("\\n", "\n")
                .replace("\\r", "\r")
                .replace("\\t", "\t"),
            Some('\'') => inner.replace("\\'", "'"),
            _ => inner.to_string(),
        }
    }
}

/// Every assignment of `text`, in order.
pub fn assignments(text: &str) -> Vec<Assignment> {
    let mut found = Vec::new();
    let mut offset = 0;
    let mut line = 1;
    while offset < text.len() {
        let end_of_line = text[offset..]
            .find('\n')
            .map_or(text.len(), |at| offset + at);
        let next = match assignment_at(text, offset, end_of_line, line) {
            Some(assignment) => {
                let consumed_to = assignment.raw.end.max(end_of_line);
                // A quoted value may run over several lines: continue after its last one.
                let resume = text[consumed_to..]
                    .find('\n')
                    .map_or(text.len(), |at| consumed_to + at + 1);
                line += text[offset..resume].matches('\n').count();
                found.push(assignment);
                resume
            }
            None => {
                line += 1;
                end_of_line + 1
            }
        };
        offset = next;
    }
    found
}

/// The assignment starting at `start`, whose physical line ends at `end_of_line`.
fn assignment_at(text: &str, start: usize, end_of_line: usize, line: usize) -> Option<Assignment> {
    let line_text = &text[start..end_of_line];
    let trimmed = line_text.trim_start();
    let mut at = start + (line_text.len() - trimmed.len());
    if let Some(rest) = trimmed.strip_prefix("export") {
        if rest.starts_with([' ', '\t']) {
            at += "export".len() + (rest.len() - rest.trim_start().len());
        }
    }
    let name_len = text[at..end_of_line]
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .unwrap_or(end_of_line - at);
    if name_len == 0 {
        return None;
    }
    let name = at..at + name_len;
    let after_name = &text[name.end..end_of_line];
    let after_blanks = after_name.trim_start_matches([' ', '\t']);
    let after_equals = after_blanks.strip_prefix('=')?;
    let value_start = end_of_line - after_equals.trim_start_matches([' ', '\t']).len();
    let first = text[value_start..].chars().next();
    let (raw, quote) = match first {
        Some(quote @ ('"' | '\'' | '`')) => match closing_quote(text, value_start, quote) {
            Some(close) => (value_start..close + 1, Some(quote)),
            // Unterminated: dotenvx reads the rest of the line as it stands.
            None => (
                value_start..trim_unquoted(text, value_start, end_of_line),
                None,
            ),
        },
        _ => (
            value_start..trim_unquoted(text, value_start, end_of_line),
            None,
        ),
    };
    Some(Assignment {
        line,
        name,
        raw,
        quote,
    })
}

/// Where an unquoted value starting at `start` ends: before a `#` and trailing blanks.
fn trim_unquoted(text: &str, start: usize, end_of_line: usize) -> usize {
    let value = &text[start..end_of_line];
    let value = value.find('#').map_or(value, |at| &value[..at]);
    start + value.trim_end().len()
}

/// The index of the quote that closes the one at `start` (`\\` escapes a quote, as in dotenvx).
fn closing_quote(text: &str, start: usize, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (index, c) in text[start + 1..].char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return Some(start + 1 + index);
        }
    }
    None
}

/// The 1-based line of byte `offset`.
pub fn line_of(text: &[u8], offset: usize) -> usize {
    text[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanned(text: &str) -> Vec<(usize, &str, &str, Option<char>)> {
        assignments(text)
            .into_iter()
            .map(|a| (a.line, a.name(text), &text[a.raw.clone()], a.quote))
            .collect()
    }

    #[test]
    fn finds_names_values_and_lines() {
        let text = "# comment\nA=1\nexport B = 'two' # note\n\nC=\"x\ny\\\"z\"\nD=plain # c\nnot a line\nE=\n";
        assert_eq!(
            scanned(text),
            vec![
                (2, "A", "1", None),
                (3, "B", "'two'", Some('\'')),
                (5, "C", "\"x\ny\\\"z\"", Some('"')),
                (7, "D", "plain", None),
                (9, "E", "", None),
            ]
        );
    }

    #[test]
    fn reads_values_as_dotenvx_does() {
        let text = "A=\"a\\nb\\$c\"\nB='it\\'s'\n";
        let found = assignments(text);
        assert_eq!(found[0].dotenvx_value(text), "a\nb\\$c");
        assert_eq!(found[1].dotenvx_value(text), "it's");
    }
}
