//! The parent environment as secretrun received it: raw bytes, in order, nothing decoded.
//!
//! Every stage reads the environment through this snapshot instead of `std::env`, so tests can
//! hand in any environment and no stage sees variables another stage set.

use std::ffi::{OsStr, OsString};

#[derive(Clone, Default)]
pub struct ParentEnv {
    vars: Vec<(OsString, OsString)>,
}

impl ParentEnv {
    pub fn capture() -> Self {
        Self {
            vars: std::env::vars_os().collect(),
        }
    }

    pub fn from_pairs<K: Into<OsString>, V: Into<OsString>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// This environment over `defaults`: a name set here wins, a name set only in `defaults` is
    /// added. Used to let `.env` values configure providers without beating the parent.
    pub fn over<K: Into<OsString>, V: Into<OsString>>(
        &self,
        defaults: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut vars: Vec<(OsString, OsString)> = defaults
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        // `get` takes the last occurrence, so our own values after the defaults win.
        vars.extend(self.vars.iter().cloned());
        Self { vars }
    }

    /// The value of `name`, if set (the last one wins should the environment repeat a name).
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_os_str())
    }

    /// The value of `name` when it is set, non-empty and valid UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name)
            .and_then(OsStr::to_str)
            .filter(|value| !value.is_empty())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }
}

/// Names only: a parent value may be a secret, so the environment never prints its values.
impl std::fmt::Debug for ParentEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.vars.iter().map(|(k, _)| k))
            .finish()
    }
}
