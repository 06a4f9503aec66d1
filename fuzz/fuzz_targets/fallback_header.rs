//! `secretrun::parsers::Parser::FallbackHeader` on any bytes: no panic, and no input text in its error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretrun::parsers::Parser;

fuzz_target!(|bytes: &[u8]| {
    secretrun_fuzz::check(Parser::FallbackHeader, bytes);
});
