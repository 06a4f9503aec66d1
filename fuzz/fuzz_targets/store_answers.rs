//! Every store answer (`secretrun::providers::answers::Answer`), chosen by the first byte, on
//! the bytes after it: no panic, and no input text in its error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretrun::parsers::Parser;
use secretrun::providers::answers::Answer;

fuzz_target!(|bytes: &[u8]| {
    let Some((&which, answer)) = bytes.split_first() else {
        return;
    };
    let kind = Answer::ALL[usize::from(which) % Answer::ALL.len()];
    secretrun_fuzz::check(Parser::Answer(kind), answer);
});
