//! What every fuzz target checks beyond "no panic": an error never shows a value of the input.
//! A value is what follows `=` (a `.env` line, a spec's option, a TOML key), up to a space,
//! `&`, `#` or a bracket; one of 12 bytes or more copied into the error is a finding (shorter
//! ones are too likely to be words of the message itself).

use secretrun::parsers::{run, Parser};

const COPIED: usize = 12;

pub fn check(parser: Parser, bytes: &[u8]) {
    let Err(shown) = run(parser, bytes) else {
        return;
    };
    for (start, end) in values(parser, bytes) {
        let Some(value) = shown_value(&bytes[start..end]) else {
            continue;
        };
        if !shown.contains(&value) {
            continue;
        }
        // The text may be a word of the message itself ("unterminated"): change every letter
        // and digit of the value and parse again. A copied value changes with it; a word of
        // the message does not.
        let mut changed = bytes.to_vec();
        changed[start..end].iter_mut().for_each(|b| *b = rotated(*b));
        let Err(shown_again) = run(parser, &changed) else {
            continue;
        };
        let changed_value = shown_value(&changed[start..end]).expect("same length");
        assert!(
            !shown_again.contains(&changed_value),
            "{parser:?} copied the value {value:?} into its error: {shown}"
        );
    }
}

/// Where each value starts and ends. In a source spec only the options after `?` are values:
/// the location before it is the source's name, which errors quote on purpose.
fn values(parser: Parser, bytes: &[u8]) -> Vec<(usize, usize)> {
    let from = match parser {
        Parser::SourceSpec => match bytes.iter().position(|b| *b == b'?') {
            Some(query) => query,
            None => return Vec::new(),
        },
        _ => 0,
    };
    let ends = |b: &u8| b.is_ascii_whitespace() || b"&#,]}=".contains(b);
    bytes
        .iter()
        .enumerate()
        .skip(from)
        .filter(|(_, b)| **b == b'=')
        .map(|(at, _)| {
            let rest = &bytes[at + 1..];
            (at + 1, at + 1 + rest.iter().position(ends).unwrap_or(rest.len()))
        })
        .collect()
}

/// The value as an error would show it, if it is long enough to count as copied and holds a
/// letter or digit (without one, rotating cannot tell it from the text around it: a run of
/// invalid bytes shows as the same replacement characters wherever it is).
fn shown_value(value: &[u8]) -> Option<String> {
    let value = String::from_utf8_lossy(value);
    let value = value.trim_matches(|c| matches!(c, '"' | '\'' | '`'));
    let telling = value.len() >= COPIED && value.bytes().any(|b| b.is_ascii_alphanumeric());
    telling.then(|| value.to_string())
}

/// The next letter or digit, wrapping within its class; any other byte unchanged.
fn rotated(byte: u8) -> u8 {
    match byte {
        b'z' => b'a',
        b'Z' => b'A',
        b'9' => b'0',
        b'a'..=b'y' | b'A'..=b'Y' | b'0'..=b'8' => byte + 1,
        other => other,
    }
}
