//! The references step of resolving: values such as `vault:PATH#KEY` in the parent environment
//! or a `.env` file are found here, fetched with the secret sources (each as a source of its
//! own, keyed by [`SourceId::Reference`](super::SourceId)), and replaced by the one value each
//! yields. A value that merely looks like a reference is unescaped.

use std::collections::BTreeMap;

use crate::env::merge::{Holder, Layer, Substitute, Substitutions};
use crate::environment::ParentEnv;
use crate::error::{Error, SpecProblem};
use crate::reference::{self, Parsed};
use crate::secret::SecretValue;
use crate::source::SourceSpec;

/// A variable whose value is a reference, waiting to be fetched.
pub struct Pending {
    holder: Holder,
    name: String,
    reference: String,
}

impl Pending {
    /// The source to fetch, named `NAME=REFERENCE` in errors and in the snapshot.
    pub fn spec(&self) -> Result<SourceSpec, Error> {
        match reference::parse(&self.reference) {
            Parsed::Reference(Ok(spec)) => {
                Ok(spec.with_text(&format!("{}={}", self.name, self.reference)))
            }
            // Parsed once already (see `find`); a reference that parsed then parses now.
            _ => Err(Error::Spec {
                spec: self.reference.clone(),
                problem: SpecProblem::MissingKind,
            }),
        }
    }
}

/// Every parent and `.env` value that is a reference (to fetch) or an escaped look-alike (to
/// unescape, added to `substitutions`). A malformed reference is an error naming the variable.
pub fn find(
    parent: &ParentEnv,
    layers: &[Layer],
    substitutions: &mut Substitutions,
) -> Result<Vec<Pending>, Error> {
    let parent_values = parent
        .iter()
        .filter_map(|(name, value)| Some((Holder::Parent, name.to_str()?, value.to_str()?)));
    let layer_values = layers.iter().enumerate().flat_map(|(index, layer)| {
        layer.entries.iter().filter_map(move |(name, value)| {
            let text = std::str::from_utf8(value.expose()).ok()?;
            Some((Holder::Layer(index), name.as_str(), text))
        })
    });
    let mut pending = Vec::new();
    let mut errors = Vec::new();
    for (holder, name, value) in parent_values.chain(layer_values) {
        match reference::parse(value) {
            Parsed::Plain => {}
            Parsed::Escaped(unescaped) => {
                substitutions.insert(
                    (holder, name.to_string()),
                    Substitute {
                        value: SecretValue::from(unescaped),
                        reference: None,
                    },
                );
            }
            Parsed::Reference(Ok(_)) => pending.push(Pending {
                holder,
                name: name.to_string(),
                reference: value.to_string(),
            }),
            Parsed::Reference(Err(problem)) => errors.push(Error::Reference {
                var: name.to_string(),
                reference: value.to_string(),
                problem,
            }),
        }
    }
    Error::from_many(errors).map_or(Ok(pending), Err)
}

/// Puts each reference's value into `substitutions`; `fetched` holds the layer of the
/// reference at each index of `pending`. Every reference that yields no value or several is
/// an error naming its variable.
pub fn substitute(
    pending: Vec<Pending>,
    mut fetched: BTreeMap<usize, Layer>,
    substitutions: &mut Substitutions,
) -> Result<(), Error> {
    let mut errors = Vec::new();
    for (index, pending) in pending.into_iter().enumerate() {
        let layer = fetched
            .remove(&index)
            .expect("every reference is settled or its failure reported");
        match single_value(layer) {
            Ok(value) => {
                substitutions.insert(
                    (pending.holder, pending.name),
                    Substitute {
                        value,
                        reference: Some(pending.reference),
                    },
                );
            }
            Err(problem) => errors.push(Error::Reference {
                var: pending.name,
                reference: pending.reference,
                problem,
            }),
        }
    }
    Error::from_many(errors).map_or(Ok(()), Err)
}

/// The one value a reference must yield.
fn single_value(layer: Layer) -> Result<SecretValue, String> {
    let count = layer.entries.len();
    let mut entries = layer.entries.into_iter();
    match (entries.next(), count) {
        (Some((_, value)), 1) => Ok(value),
        (None, _) => Err("it yields no value".into()),
        _ => Err(format!("it yields {count} values; name one with #KEY")),
    }
}
