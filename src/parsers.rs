//! Every parser of outside input behind one signature, for the fuzz targets (`fuzz/`) and the
//! property tests below: `.env` files, source specs, references in environment values,
//! `secretrun.toml`, the fallback snapshot's header, and each store's answers. For any bytes a
//! parser returns a value or an error; it never panics, and its error names a file, line, field
//! or position, never the text it was given.

use std::sync::Arc;

use futures_util::FutureExt;

use crate::cli::config::LoadedConfig;
use crate::environment::ParentEnv;
use crate::providers::answers::Answer;
use crate::providers::{self, Context, FetchSettings};
use crate::reference::{self, Parsed};
use crate::source::SourceSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    /// A `.env` file, read from disk as `--env-file` reads it.
    Dotenv,
    /// A `--source` spec, its options checked by its provider.
    SourceSpec,
    /// An environment value that may be a reference.
    Reference,
    /// A `secretrun.toml`, read from disk.
    Config,
    /// The fallback snapshot's header (format, key derivation, version tags).
    FallbackHeader,
    Answer(Answer),
}

/// Runs `parser` on `bytes`: the error's `Display` and `Debug` text when it fails, for a
/// caller to check that they hold no value.
pub fn run(parser: Parser, bytes: &[u8]) -> Result<(), String> {
    fn shown(error: impl std::fmt::Display + std::fmt::Debug) -> String {
        format!("{error}\n{error:?}")
    }
    let text = String::from_utf8_lossy(bytes);
    match parser {
        Parser::Dotenv => {
            let file = written(bytes);
            let spec = SourceSpec::parse(&format!("dotenv:{}", file.path().display()))
                .expect("a dotenv spec");
            let provider = providers::build(spec, &context()).expect("a dotenv source");
            // A regular file is read at once: the future is ready on its first poll.
            let entries = provider.fetch().now_or_never().expect("read at once");
            entries.map(drop).map_err(shown)
        }
        Parser::SourceSpec => {
            let spec = SourceSpec::parse(&text).map_err(shown)?;
            providers::build(spec, &context()).map(drop).map_err(shown)
        }
        Parser::Reference => match reference::parse(&text) {
            Parsed::Reference(Err(problem)) => Err(problem),
            _ => Ok(()),
        },
        Parser::Config => {
            let file = written(bytes);
            LoadedConfig::load(file.path()).map(drop).map_err(shown)
        }
        Parser::FallbackHeader => crate::resolve::fallback::parse_header(bytes)
            .map(drop)
            .map_err(shown),
        Parser::Answer(answer) => answer.parse(bytes).map(drop).map_err(shown),
    }
}

fn context() -> Arc<Context> {
    Arc::new(Context::new(ParentEnv::default(), FetchSettings::default()))
}

fn written(bytes: &[u8]) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(bytes).expect("written");
    file
}

#[cfg(test)]
mod properties {
    //! Short runs of the fuzz targets' properties on stable, in every `cargo test`: structured
    //! inputs that reach deep into each parser, every value carrying [`MARKER`], which must
    //! never appear in an error.

    use proptest::prelude::*;

    use super::*;

    const MARKER: &str = "SeCrEtMaRkEr";

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 96,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// A value: the marker amid characters that matter to the parsers.
    fn value() -> impl Strategy<Value = String> {
        (
            "[a-z0-9 '\"\\\\$#={}\\n\\t:/?&%-]{0,6}",
            "[a-z0-9 '\"\\\\$#={}\\n\\t:/?&%-]{0,6}",
        )
            .prop_map(|(before, after)| format!("{before}{MARKER}{after}"))
    }

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z_][A-Za-z0-9_]{0,8}|[0-9a-z.-]{1,4}"
    }

    fn checked(parser: Parser, bytes: &[u8]) -> Result<(), TestCaseError> {
        if let Err(shown) = run(parser, bytes) {
            prop_assert!(
                !shown.contains(MARKER),
                "{parser:?} showed a value: {shown}"
            );
        }
        Ok(())
    }

    /// A `.env` line of any shape users write, and broken ones.
    fn dotenv_line() -> impl Strategy<Value = String> {
        prop_oneof![
            (name(), value()).prop_map(|(n, v)| format!("{n}={v}")),
            (name(), value()).prop_map(|(n, v)| format!("export {n}=\"{v}\"")),
            (name(), value()).prop_map(|(n, v)| format!("{n}='{v}")),
            (name(), value()).prop_map(|(n, v)| format!("{n} = \"{v}\" # c")),
            (name(), value()).prop_map(|(n, v)| format!("{n}=${{{v}")),
            (name(), value()).prop_map(|(n, v)| format!("{n}=\"{v}\\")),
            Just(String::new()),
            Just("# comment".to_string()),
            "[ -~]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn dotenv_files(lines in prop::collection::vec(dotenv_line(), 0..12)) {
            let text = lines.join("\n");
            if let Err(shown) = run(Parser::Dotenv, text.as_bytes()) {
                prop_assert!(!shown.contains(MARKER), "{shown}");
                // A syntax error names its line, and the line exists.
                if let Some(at) = shown.find("line ") {
                    let line: usize = shown[at + 5..]
                        .split(|c: char| !c.is_ascii_digit())
                        .next()
                        .and_then(|digits| digits.parse().ok())
                        .expect("a line number");
                    let physical = text.split('\n').count();
                    prop_assert!(line >= 1 && line <= physical, "{shown}");
                }
            }
        }

        #[test]
        fn dotenv_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = run(Parser::Dotenv, &bytes);
        }

        #[test]
        fn source_specs(
            kind in "dotenv|dir|file|doppler|aws-sm|aws-ssm|vault|azure-kv|gcp-sm|[a-z]{1,5}",
            location in "[a-zA-Z0-9/*_.:-]{0,12}",
            options in prop::collection::vec(
                ("[a-z-]{1,12}|version|prefix|config|project|vault|file|label|auth|token-file",
                 value()),
                0..3,
            ),
            key in prop::option::of("[A-Za-z_]{0,6}"),
        ) {
            // Option values are the only place a user may paste a secret by mistake.
            let query: Vec<String> = options
                .iter()
                .map(|(option, value)| {
                    let encoded: String =
                        url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
                    format!("{option}={encoded}")
                })
                .collect();
            let mut text = format!("{kind}:{location}");
            if !query.is_empty() {
                text.push('?');
                text.push_str(&query.join("&"));
            }
            if let Some(key) = key {
                text.push('#');
                text.push_str(&key);
            }
            checked(Parser::SourceSpec, text.as_bytes())?;
        }

        #[test]
        fn any_spec_text(text in "[ -~]{0,40}") {
            let _ = run(Parser::SourceSpec, text.as_bytes());
            let _ = run(Parser::Reference, text.as_bytes());
        }

        #[test]
        fn references(
            prefix in "literal:|arn:aws:secretsmanager:|vault:|doppler:|file:|file://|aws-sm:|gcp-sm:|azure-kv:|aws-ssm:|",
            rest in "[ -~]{0,24}",
        ) {
            let _ = run(Parser::Reference, format!("{prefix}{rest}").as_bytes());
        }

        #[test]
        fn config_files(
            entries in prop::collection::vec(
                (
                    "sources|require|preserve-env|mode|timeout|deadline|kill-after|watch|\
                     on-change|stop-signal|fallback-max-age|signal-group|env|[a-z-]{1,10}",
                    prop_oneof![
                        value().prop_map(|v| format!("{v:?}")),
                        value().prop_map(|v| format!("[{v:?}]")),
                        value().prop_map(|v| format!("{{ A = {v:?} }}")),
                        Just("true".to_string()),
                        Just("[1, 2]".to_string()),
                        value().prop_map(|v| format!("\"{v}")),
                    ],
                ),
                0..6,
            ),
        ) {
            let text: Vec<String> =
                entries.iter().map(|(key, value)| format!("{key} = {value}")).collect();
            checked(Parser::Config, text.join("\n").as_bytes())?;
        }

        #[test]
        fn fallback_headers(
            head in prop::sample::select(vec![&b""[..], b"SRFBK\0\0\x03", b"SRFBK\0\0\x02", b"SRFBK\0\0\x01"]),
            iterations in prop::sample::select(vec![0u32, 200_000, u32::MAX]),
            rest in prop::collection::vec(any::<u8>(), 0..160),
        ) {
            // The format's magic and a key-derivation cost in range, so the version tags behind
            // them are parsed too.
            let mut bytes = head.to_vec();
            bytes.extend(iterations.to_be_bytes());
            bytes.extend(rest);
            let _ = run(Parser::FallbackHeader, &bytes);
        }

        #[test]
        fn store_answers(
            answer in prop::sample::select(Answer::ALL.to_vec()),
            json in json_value(),
            cut in any::<prop::sample::Index>(),
        ) {
            let text = json.to_string();
            checked(Parser::Answer(answer), text.as_bytes())?;
            // The same answer cut short anywhere, as a dropped connection leaves it.
            let cut = cut.index(text.len() + 1);
            checked(Parser::Answer(answer), &text.as_bytes()[..cut])?;
        }
    }

    /// JSON shaped like the stores' answers: their field names, values carrying the marker.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let field = "value|id|nextLink|data|path|type|options|version|payload|dataCrc32c|\
                     secrets|name|nextPageToken|access_token|token_type|error|code|innererror|\
                     message|[A-Za-z_-]{1,6}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            value().prop_map(Value::String),
            // Base64 of the marker, as a GCP payload holds it.
            Just(Value::String("U2VDckV0TWFSa0Vy".into())),
            "https://[a-z]{1,4}\\.vault\\.azure\\.net/secrets/[A-Za-z-]{0,6}(/[a-z0-9]{0,4})?"
                .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(field, inner, 0..5)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn every_parser_runs_on_an_empty_input() {
        let parsers = [
            Parser::Dotenv,
            Parser::SourceSpec,
            Parser::Reference,
            Parser::Config,
            Parser::FallbackHeader,
        ];
        for parser in parsers.into_iter().chain(Answer::ALL.map(Parser::Answer)) {
            let _ = run(parser, b"");
        }
        assert!(run(Parser::Dotenv, b"A=1\n").is_ok());
        assert!(run(Parser::Answer(Answer::DopplerDownload), br#"{"A": "1"}"#).is_ok());
        assert!(run(Parser::Dotenv, b"A='1").is_err());
    }
}
