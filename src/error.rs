//! Every way secretrun itself can fail, each naming the file, line, flag, source or key involved
//! and never a value. [`Error::exit_code`] maps them to the `env(1)` convention.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use crate::secret::NameProblem;

/// secretrun failed before or while starting the child.
pub const EXIT_FAILURE: i32 = 125;
/// The command was found but could not be executed.
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
/// The command was not found.
pub const EXIT_NOT_FOUND: i32 = 127;

#[derive(Debug, Error)]
pub enum Error {
    #[error("cannot read config file '{}': {source}", path.display())]
    ConfigRead { path: PathBuf, source: io::Error },

    #[error("config file '{}', line {line}: {message}", path.display())]
    ConfigSyntax {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error("source '{spec}': {problem}")]
    Spec { spec: String, problem: SpecProblem },

    #[error("{origin}: {error}")]
    Source { origin: String, error: SourceError },

    #[error("{}", join_lines(.0))]
    Many(Vec<Error>),

    #[error(
        "{origin} sets the protected variable {name}; a secret source may not set it unless you \
         allow it with --allow-name {name}"
    )]
    ProtectedName { origin: String, name: String },

    #[error("{origin}: variable {name}: the value contains a NUL byte, which no environment variable can hold")]
    NulInValue { origin: String, name: String },

    #[error(
        "{origin}: variable {name}: the value is {bytes} bytes; Linux refuses environment \
         entries over {limit} bytes (execve would fail with E2BIG)",
        limit = crate::secret::MAX_ENV_ENTRY_BYTES
    )]
    ValueTooLarge {
        origin: String,
        name: String,
        bytes: usize,
    },

    #[error("variable {var}: cannot read '{}': {source}", path.display())]
    FileVar {
        var: String,
        path: PathBuf,
        source: io::Error,
    },

    #[error("variable {var}: reference '{reference}': {problem}")]
    Reference {
        var: String,
        reference: String,
        problem: String,
    },

    #[error("{setting}: {problem}")]
    Settings {
        setting: &'static str,
        problem: String,
    },

    #[error("required variable(s) missing: {}", .0.join(", "))]
    MissingRequired(Vec<String>),

    /// A `[rules.NAME]` rule the merged environment breaks; never the value.
    #[error("[rules.{}]: {}", .0.name, .0.rule)]
    RuleBroken(Violation),

    #[error("invalid {what} '{name}': {problem}")]
    InvalidName {
        what: &'static str,
        name: String,
        problem: NameProblem,
    },

    #[error("no command given; usage: secretrun [OPTIONS] [--] COMMAND [ARGS...]")]
    NoCommand,

    #[error("{program}: command not found")]
    CommandNotFound { program: String },

    #[error("{program}: cannot execute: {source}")]
    NotExecutable { program: String, source: io::Error },

    #[error(
        "{program}: the argument list and environment are too large for execve (E2BIG); the \
         environment holds {env_bytes} bytes"
    )]
    TooLarge { program: String, env_bytes: usize },

    #[error("{program}: cannot start: {source}")]
    Spawn { program: String, source: io::Error },

    #[error("cannot supervise the child: {0}")]
    Supervise(#[source] nix::Error),

    #[error("cannot write output: {0}")]
    Output(#[source] io::Error),

    #[error("variable {name} is not set: no source sets it and the environment does not have it")]
    NotSet { name: String },

    #[error(
        "refusing to print secrets to a terminal: write them to a file with --output FILE, pipe \
         or redirect stdout, or pass --reveal"
    )]
    RefuseTerminal,

    #[error("'{}' already exists; pass --force to replace it", path.display())]
    OutputExists { path: PathBuf },

    #[error("cannot write '{}': {source}", path.display())]
    WriteFile { path: PathBuf, source: io::Error },

    #[error(
        "'{}' already exists; --mount and --file create their file and never replace one",
        path.display()
    )]
    SecretFileExists { path: PathBuf },

    #[error("variable {name}: {problem}")]
    Unexportable { name: String, problem: &'static str },

    /// The walker's own errors name the path: `cannot search src/x: Permission denied`.
    #[error("cannot search {0}")]
    Walk(#[source] ignore::Error),

    #[error("cannot search '{}': {source}", path.display())]
    Search { path: PathBuf, source: io::Error },

    #[error("cannot prepare the search for the secret values: {0}")]
    Patterns(#[source] aho_corasick::BuildError),

    /// `--fallback-only` and no usable snapshot.
    #[error("--fallback-only: no usable fallback snapshot '{}': {problem}", path.display())]
    NoSnapshot { path: PathBuf, problem: String },

    /// `set NAME=VALUE`: the value would be readable by every user in /proc/PID/cmdline.
    #[error(
        "'{name}=...': a value is never taken from the command line, where other users can read \
         it; give the name only and the value on stdin (printf %s \"$VALUE\" | secretrun set \
         --to SPEC {name}) or at the prompt"
    )]
    ValueInArguments { name: String },

    /// What `set` read on stdin cannot be used; names, never a value.
    #[error("standard input: {problem}")]
    ValueInput { problem: String },

    #[error("{target}: variable {name}: {problem}")]
    Unwritable {
        target: String,
        name: String,
        problem: &'static str,
    },

    #[error(
        "{target} holds a different value for {}; nothing was written (pass --overwrite to \
         replace them, --dry-run to see every change)",
        names.join(", ")
    )]
    WouldOverwrite { target: String, names: Vec<String> },

    #[error(
        "{target}: {} of {total} name(s) not written ({}); run the same command again to \
         finish",
        failed.len(),
        failed.join(", ")
    )]
    WriteIncomplete {
        target: String,
        failed: Vec<String>,
        total: usize,
    },
}

/// One broken `[rules.NAME]` rule (see `env::rules`): the variable and what it breaks, never
/// its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub name: String,
    pub rule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.rule)
    }
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::CommandNotFound { .. } => EXIT_NOT_FOUND,
            // As env(1): every failure of execve but "not found".
            Error::NotExecutable { .. } | Error::TooLarge { .. } | Error::Spawn { .. } => {
                EXIT_NOT_EXECUTABLE
            }
            _ => EXIT_FAILURE,
        }
    }

    /// One error for a list of failures, so that every failure is reported at once.
    pub fn from_many(mut errors: Vec<Error>) -> Option<Error> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error::Many(errors)),
        }
    }
}

fn join_lines(errors: &[Error]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    lines.join("\nsecretrun: error: ")
}

/// What is wrong with a source spec's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpecProblem {
    #[error("expected KIND:LOCATION, e.g. dotenv:.env or dir:/run/secrets")]
    MissingKind,
    /// `known` lists the schemes, as the store registry has them.
    #[error("unknown source kind '{kind}' (known: {known})")]
    UnknownKind { kind: String, known: String },
    #[error("the location after 'KIND:' is empty")]
    MissingLocation,
    #[error("the key after '#' is empty")]
    EmptyKey,
    #[error("unknown option '{0}'")]
    UnknownOption(String),
    #[error("option '{option}' expects {expected}")]
    BadOptionValue {
        option: String,
        expected: &'static str,
    },
    #[error("this kind of source does not take a '#KEY'")]
    KeyNotSupported,
    /// The location is not one of the kind's (the reason names the location, never a value).
    #[error("{0}")]
    BadLocation(String),
    #[error("cannot be written to: {0}")]
    Unwritable(&'static str),
}

/// Why one source could not be fetched. Providers return these; `resolve` adds the source's name.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error("cannot read '{}': {source}", path.display())]
    Read { path: PathBuf, source: io::Error },

    #[error("'{}', line {line}: {problem}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        problem: &'static str,
    },

    #[error("invalid variable name '{name}': {problem}")]
    InvalidName { name: String, problem: NameProblem },

    /// A variable's value is unusable as written (not UTF-8, not decryptable).
    #[error("'{}', line {line}: variable {name}: {problem}", path.display())]
    Value {
        path: PathBuf,
        line: usize,
        name: String,
        problem: String,
    },

    /// The provider's settings are unusable (no token, a bad address, ...).
    #[error("{problem}")]
    Config { problem: String },

    #[error("HTTP {status}{}", http_hint(*status))]
    Http {
        status: u16,
        retry_after: Option<Duration>,
    },

    /// A service error the SDK reports by type rather than status (AWS).
    #[error("{code}{}", status.map(http_hint).unwrap_or(""))]
    Service { code: String, status: Option<u16> },

    #[error("not found: {what}")]
    NotFound { what: String },

    #[error("cannot connect: {detail}")]
    Network { detail: String },

    #[error("TLS failed: {detail}")]
    Tls { detail: String },

    #[error("no answer within {}", humantime::format_duration(*after))]
    Timeout { after: Duration },

    #[error("unexpected response: {problem}")]
    BadResponse { problem: String },

    #[error("the secret has no key '{key}'")]
    MissingKey { key: String },
}

/// By hand for the one field that is not `Clone` (an `io::Error`, copied by kind and text): a
/// failure several sources share, from the one request made for them all, is each one's.
impl Clone for SourceError {
    fn clone(&self) -> Self {
        match self {
            SourceError::Read { path, source } => SourceError::Read {
                path: path.clone(),
                source: io::Error::new(source.kind(), source.to_string()),
            },
            SourceError::Syntax {
                path,
                line,
                problem,
            } => SourceError::Syntax {
                path: path.clone(),
                line: *line,
                problem,
            },
            SourceError::InvalidName { name, problem } => SourceError::InvalidName {
                name: name.clone(),
                problem: *problem,
            },
            SourceError::Value {
                path,
                line,
                name,
                problem,
            } => SourceError::Value {
                path: path.clone(),
                line: *line,
                name: name.clone(),
                problem: problem.clone(),
            },
            SourceError::Config { problem } => SourceError::Config {
                problem: problem.clone(),
            },
            SourceError::Http {
                status,
                retry_after,
            } => SourceError::Http {
                status: *status,
                retry_after: *retry_after,
            },
            SourceError::Service { code, status } => SourceError::Service {
                code: code.clone(),
                status: *status,
            },
            SourceError::NotFound { what } => SourceError::NotFound { what: what.clone() },
            SourceError::Network { detail } => SourceError::Network {
                detail: detail.clone(),
            },
            SourceError::Tls { detail } => SourceError::Tls {
                detail: detail.clone(),
            },
            SourceError::Timeout { after } => SourceError::Timeout { after: *after },
            SourceError::BadResponse { problem } => SourceError::BadResponse {
                problem: problem.clone(),
            },
            SourceError::MissingKey { key } => SourceError::MissingKey { key: key.clone() },
        }
    }
}

impl SourceError {
    /// Failures worth another attempt: throttling, server errors, the network, timeouts.
    pub fn is_retryable(&self) -> bool {
        match self {
            SourceError::Http { status, .. }
            | SourceError::Service {
                status: Some(status),
                ..
            } => *status == 429 || *status >= 500,
            SourceError::Network { .. } | SourceError::Timeout { .. } => true,
            _ => false,
        }
    }

    /// Failures that say the access itself is gone or wrong (401, 403, 404, not found, unusable
    /// settings): a fallback snapshot must not outlive them.
    pub fn is_definitive(&self) -> bool {
        let refused = |status: u16| matches!(status, 400..=499) && status != 429;
        match self {
            SourceError::Http { status, .. } => refused(*status),
            SourceError::Service {
                status: Some(status),
                ..
            } => refused(*status),
            SourceError::NotFound { .. }
            | SourceError::Config { .. }
            | SourceError::MissingKey { .. } => true,
            _ => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SourceError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What a user should check for a status, so the error says more than a number.
fn http_hint(status: u16) -> &'static str {
    match status {
        400 => " (bad request: check the source's path and options)",
        401 => " (unauthenticated: the token or credentials are missing, invalid or expired)",
        403 => " (permission denied: the credentials may not read this secret)",
        404 => " (not found: check the path, name, project or config)",
        429 => " (rate limited: too many requests)",
        500..=599 => " (the service failed)",
        _ => "",
    }
}
