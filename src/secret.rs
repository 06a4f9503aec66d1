//! Secret values and environment names: the only place a secret's bytes are exposed.
//!
//! Invariants: a [`SecretValue`] never prints its content (`Debug` is redacted, there is no
//! `Display`); an [`EnvName`] is non-empty and contains neither `=` nor NUL, so it can always be
//! handed to `execve`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;

use secrecy::{ExposeSecret, SecretSlice};

/// The largest single `NAME=value` string Linux accepts in `execve` (`MAX_ARG_STRLEN`, 32 pages).
pub const MAX_ENV_ENTRY_BYTES: usize = 32 * 4096;

/// A secret's bytes. Usually UTF-8, but secret files may hold anything but NUL.
#[derive(Clone)]
pub struct SecretValue(SecretSlice<u8>);

impl SecretValue {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(SecretSlice::from(bytes))
    }

    /// The raw bytes, for the few places that must hand the value on (the child's environment,
    /// `show --reveal`, masking). Callers must not log what they get.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    pub fn len(&self) -> usize {
        self.expose().len()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    pub fn contains_nul(&self) -> bool {
        self.expose().contains(&0)
    }

    /// A rendering that leaks nothing of short values: the length always, and the first and last
    /// two characters only of values of 16 characters or more.
    pub fn masked(&self) -> String {
        let text = String::from_utf8_lossy(self.expose());
        let chars: Vec<char> = text.chars().collect();
        let stars = "*".repeat(chars.len().min(8));
        if chars.is_empty() {
            "(empty)".to_string()
        } else if chars.len() >= 16 {
            let head: String = chars[..2].iter().collect();
            let tail: String = chars[chars.len() - 2..].iter().collect();
            format!("{head}{stars}{tail} ({} chars)", chars.len())
        } else {
            format!("{stars} ({} chars)", chars.len())
        }
    }
}

impl From<String> for SecretValue {
    fn from(value: String) -> Self {
        Self::new(value.into_bytes())
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue([REDACTED; {} bytes])", self.len())
    }
}

/// A valid environment variable name.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvName(String);

/// Why a string is not a usable environment variable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    Empty,
    ContainsEquals,
    ContainsNul,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameProblem::Empty => "the name is empty",
            NameProblem::ContainsEquals => "the name contains '='",
            NameProblem::ContainsNul => "the name contains a NUL byte",
        })
    }
}

impl EnvName {
    pub fn new(name: impl Into<String>) -> Result<Self, NameProblem> {
        let name = name.into();
        if name.is_empty() {
            Err(NameProblem::Empty)
        } else if name.contains('=') {
            Err(NameProblem::ContainsEquals)
        } else if name.contains('\0') {
            Err(NameProblem::ContainsNul)
        } else {
            Ok(Self(name))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn as_os_str(&self) -> &OsStr {
        OsStr::new(&self.0)
    }
}

/// Sets of names are looked up by the names found in an environment.
impl std::borrow::Borrow<str> for EnvName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A name printable in an error even when it came from the parent environment as raw bytes.
pub fn display_name(name: &OsStr) -> String {
    String::from_utf8_lossy(name.as_bytes()).into_owned()
}

/// The owned OS string for a secret, for building the child's environment.
pub fn to_os_string(value: &SecretValue) -> OsString {
    OsStr::from_bytes(value.expose()).to_os_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let value = SecretValue::from("hunter2-very-secret".to_string());
        let shown = format!("{value:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(shown, "SecretValue([REDACTED; 19 bytes])");
    }

    #[test]
    fn short_values_are_masked_completely() {
        assert_eq!(
            SecretValue::from("abc".to_string()).masked(),
            "*** (3 chars)"
        );
        assert_eq!(
            SecretValue::from("0123456789abcde".to_string()).masked(),
            "******** (15 chars)"
        );
        assert_eq!(SecretValue::from(String::new()).masked(), "(empty)");
    }

    #[test]
    fn long_values_show_two_and_two_characters() {
        assert_eq!(
            SecretValue::from("0123456789abcdef".to_string()).masked(),
            "01********ef (16 chars)"
        );
    }

    #[test]
    fn names_are_validated() {
        assert!(EnvName::new("API_KEY").is_ok());
        assert_eq!(EnvName::new(""), Err(NameProblem::Empty));
        assert_eq!(EnvName::new("A=B"), Err(NameProblem::ContainsEquals));
        assert_eq!(EnvName::new("A\0B"), Err(NameProblem::ContainsNul));
    }
}
