//! Where a value of the child's environment came from. `Display` gives the text `show`,
//! `check` and errors print: `environment`, a source's spec, `SPEC → REFERENCE`, `secretrun`.

use std::fmt;

use crate::source::SourceClass;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The parent environment.
    Parent,
    /// A source, by its spec text (`dotenv:.env`, `file:/run/token`), with its class.
    Source { spec: String, class: SourceClass },
    /// A reference held by a variable of `through` (the parent or a source), replaced by the
    /// value it names.
    Reference {
        through: Box<Origin>,
        reference: String,
    },
    /// A variable secretrun itself sets for the child (`SECRETRUN_MOUNT`).
    Secretrun,
}

impl Origin {
    pub fn source(spec: impl Into<String>, class: SourceClass) -> Self {
        Origin::Source {
            spec: spec.into(),
            class,
        }
    }

    /// The class of the source that set the value; a reference counts as its holder's.
    pub fn class(&self) -> Option<SourceClass> {
        match self {
            Origin::Source { class, .. } => Some(*class),
            Origin::Reference { through, .. } => through.class(),
            Origin::Parent | Origin::Secretrun => None,
        }
    }

    /// The spec of the source that set the value itself (not through a reference).
    pub fn spec(&self) -> Option<&str> {
        match self {
            Origin::Source { spec, .. } => Some(spec),
            _ => None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Parent => f.write_str("environment"),
            Origin::Source { spec, .. } => f.write_str(spec),
            Origin::Reference { through, reference } => write!(f, "{through} → {reference}"),
            Origin::Secretrun => f.write_str("secretrun"),
        }
    }
}
