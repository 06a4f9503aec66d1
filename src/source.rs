//! The source syntax's types, where the rest of secretrun has always found them; they live with
//! the store registry in [`crate::providers::spec`].

pub use crate::providers::spec::{SourceClass, SourceKind, SourceSpec};
