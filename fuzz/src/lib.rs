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
    let ends = |b: &u8| b.is_ascii_whitespace() || b"&#,]}=".contains(b);
    for (at, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'=') {
        let rest = &bytes[at + 1..];
        let value = &rest[..rest.iter().position(ends).unwrap_or(rest.len())];
        let value = String::from_utf8_lossy(value);
        let value = value.trim_matches(|c| matches!(c, '"' | '\'' | '`'));
        assert!(
            value.len() < COPIED || !shown.contains(value),
            "{parser:?} copied the value {value:?} into its error: {shown}"
        );
    }
}
