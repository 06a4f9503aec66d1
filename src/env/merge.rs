//! Stage 4: merge the parent environment and the resolved layers into the child's environment.
//!
//! Pure and synchronous. Priority is data: every candidate value gets a [`Rank`] from its class
//! and the rules, ties are broken by declared order, and the losers are kept as provenance so
//! `secretrun show` can explain every name. Never by map order, never by which fetch finished
//! first.
//!
//! Lowest to highest: `.env` files < parent environment < secret sources; `--preserve-env`
//! lifts the parent above secret sources (for all names or the listed ones); `--pristine` keeps
//! only [`PRISTINE_NAMES`] of the parent.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use crate::env::origin::Origin;
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::providers::Entries;
use crate::secret::{self, EnvName, SecretValue};
use crate::source::SourceClass;

/// What the child keeps of the parent environment under `--pristine`: what a login gives a
/// process, plus the systemd protocol variables a service needs to talk to its manager.
pub const PRISTINE_NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TERM",
    "TZ",
    "TMPDIR",
    "NOTIFY_SOCKET",
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "CREDENTIALS_DIRECTORY",
    "INVOCATION_ID",
];
/// Prefixes kept under `--pristine` (locale settings).
const PRISTINE_PREFIXES: &[&str] = &["LC_"];

/// Names a secret source may not set unless allowed by name: they decide which program runs, or
/// load code into it, so a compromised secret store could otherwise take over the child.
pub const PROTECTED_NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "SHELL",
    "USER",
    "LOGNAME",
    "PWD",
    "IFS",
    "BASH_ENV",
    "ENV",
    "PROMPT_COMMAND",
    "PS4",
    "NODE_OPTIONS",
    "NODE_PATH",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONINSPECT",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "_JAVA_OPTIONS",
    "GCONV_PATH",
    "GIT_SSH_COMMAND",
];
/// Prefixes of protected names: the dynamic loaders' hooks and exported shell functions.
pub const PROTECTED_PREFIXES: &[&str] = &["LD_", "DYLD_", "BASH_FUNC_"];

/// Prefix of the variables that configure secretrun itself; not passed to the child by default.
pub const OWN_PREFIX: &str = "SECRETRUN_";

/// The values a source resolved to, with where they rank.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The source's spec text, e.g. `dotenv:.env`.
    pub origin: String,
    pub class: SourceClass,
    pub entries: Entries,
}

/// Where a variable whose value was replaced (a resolved reference) was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Holder {
    Parent,
    /// The layer at this index.
    Layer(usize),
}

/// The value that replaces a variable's own: a resolved reference, or an escaped look-alike.
#[derive(Debug)]
pub struct Substitute {
    pub value: SecretValue,
    /// The reference's spec, shown as provenance; `None` for a `literal:` escape.
    pub reference: Option<String>,
}

/// Replacements by holder and name; the variable keeps the rank of its holder.
pub type Substitutions = BTreeMap<(Holder, String), Substitute>;

/// Which parent names beat secret sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Preserve {
    #[default]
    None,
    All,
    Names(BTreeSet<EnvName>),
}

#[derive(Debug, Clone, Default)]
pub struct MergeRules {
    pub preserve: Preserve,
    pub pristine: bool,
    /// Protected names the user allows secret sources to set.
    pub allowed: BTreeSet<EnvName>,
    /// Names secretrun consumed as its own configuration (besides `SECRETRUN_*`).
    pub consumed: BTreeSet<String>,
    /// Keep `SECRETRUN_*` and consumed names in the child's environment.
    pub keep_config_vars: bool,
}

#[derive(Debug, Clone)]
pub enum Value {
    /// From the parent environment, byte for byte.
    Parent(OsString),
    Secret(SecretValue),
}

impl Value {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Value::Parent(value) => value.as_bytes(),
            Value::Secret(value) => value.expose(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// The source that won.
    pub origin: Origin,
    /// The sources it beat, lowest rank first.
    pub overridden: Vec<Origin>,
}

/// The environment the child will get, with the provenance of every name.
#[derive(Debug, Default)]
pub struct ChildEnv {
    pub vars: BTreeMap<OsString, Entry>,
}

impl ChildEnv {
    pub fn contains(&self, name: &str) -> bool {
        self.vars.contains_key(OsStr::new(name))
    }

    /// `NAME=value` pairs for `execve`.
    pub fn to_pairs(&self) -> Vec<(OsString, OsString)> {
        self.vars
            .iter()
            .map(|(name, entry)| {
                let value = match &entry.value {
                    Value::Parent(value) => value.clone(),
                    Value::Secret(value) => secret::to_os_string(value),
                };
                (name.clone(), value)
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    EnvFile,
    Parent,
    Secret,
    PreservedParent,
}

struct Candidate {
    rank: Rank,
    /// Declared order within the rank.
    order: usize,
    origin: Origin,
    value: Value,
}

pub fn merge(
    parent: &ParentEnv,
    layers: &[Layer],
    substitutions: &Substitutions,
    rules: &MergeRules,
) -> Result<ChildEnv, Error> {
    check_layers(layers, rules)?;
    check_substitutions(substitutions, rules)?;
    let mut candidates: BTreeMap<OsString, Vec<Candidate>> = BTreeMap::new();

    for (name, value) in parent.iter() {
        if rules.pristine && !is_pristine(name) {
            continue;
        }
        let rank = if rules.preserves(name) {
            Rank::PreservedParent
        } else {
            Rank::Parent
        };
        let (origin, value) = substituted(
            substitutions,
            Holder::Parent,
            name,
            Origin::Parent,
            Value::Parent(value.to_os_string()),
        );
        candidates
            .entry(name.to_os_string())
            .or_default()
            .push(Candidate {
                rank,
                order: 0,
                origin,
                value,
            });
    }
    for (order, layer) in layers.iter().enumerate() {
        let rank = match layer.class {
            SourceClass::EnvFile => Rank::EnvFile,
            SourceClass::Secret => Rank::Secret,
        };
        for (name, value) in &layer.entries {
            let list = candidates
                .entry(name.as_os_str().to_os_string())
                .or_default();
            // A name repeated within one layer: the later definition replaces the earlier.
            list.retain(|c| !(c.rank == rank && c.order == order));
            let (origin, value) = substituted(
                substitutions,
                Holder::Layer(order),
                name.as_os_str(),
                Origin::source(&layer.origin, layer.class),
                Value::Secret(value.clone()),
            );
            list.push(Candidate {
                rank,
                order,
                origin,
                value,
            });
        }
    }

    let mut child = ChildEnv::default();
    for (name, mut list) in candidates {
        if !rules.keep_config_vars && rules.is_config_var(&name) {
            continue;
        }
        // Stable sort: parent entries (all order 0) keep the environment's own order.
        list.sort_by_key(|c| (c.rank, c.order));
        let Some(winner) = list.pop() else { continue };
        let mut overridden: Vec<Origin> = Vec::new();
        for loser in list {
            if overridden.last() != Some(&loser.origin) {
                overridden.push(loser.origin);
            }
        }
        child.vars.insert(
            name,
            Entry {
                value: winner.value,
                origin: winner.origin,
                overridden,
            },
        );
    }
    Ok(child)
}

/// Every problem with the layers at once: protected names, NUL bytes, oversized values.
fn check_layers(layers: &[Layer], rules: &MergeRules) -> Result<(), Error> {
    let errors = layers
        .iter()
        .flat_map(|layer| {
            let from_secret_store = layer.class == SourceClass::Secret;
            layer.entries.iter().flat_map(move |(name, value)| {
                check_secret(
                    &layer.origin,
                    name.as_str(),
                    value,
                    from_secret_store,
                    rules,
                )
            })
        })
        .collect();
    Error::from_many(errors).map_or(Ok(()), Err)
}

/// The value and provenance of a variable, after any substitution.
fn substituted(
    substitutions: &Substitutions,
    holder: Holder,
    name: &OsStr,
    origin: Origin,
    own: Value,
) -> (Origin, Value) {
    match name
        .to_str()
        .and_then(|name| substitutions.get(&(holder, name.to_string())))
    {
        Some(substitute) => (
            match &substitute.reference {
                Some(reference) => Origin::Reference {
                    through: Box::new(origin),
                    reference: reference.clone(),
                },
                None => origin,
            },
            Value::Secret(substitute.value.clone()),
        ),
        None => (origin, own),
    }
}

/// The same checks for values that references resolved to. Their variables come from the
/// parent or a `.env` file, which may set protected names.
fn check_substitutions(substitutions: &Substitutions, rules: &MergeRules) -> Result<(), Error> {
    let errors = substitutions
        .iter()
        .flat_map(|((_, name), substitute)| {
            let origin = substitute.reference.as_deref().unwrap_or("literal:");
            check_secret(origin, name, &substitute.value, false, rules)
        })
        .collect();
    Error::from_many(errors).map_or(Ok(()), Err)
}

/// What is wrong with one resolved value: a protected name from a secret store, a NUL byte, or
/// a size `execve` would refuse.
pub fn check_secret(
    origin: &str,
    name: &str,
    value: &SecretValue,
    from_secret_store: bool,
    rules: &MergeRules,
) -> Vec<Error> {
    let mut errors = Vec::new();
    if from_secret_store && is_protected(name) && !rules.allowed.contains(name) {
        errors.push(Error::ProtectedName {
            origin: origin.to_string(),
            name: name.to_string(),
        });
    }
    if value.contains_nul() {
        errors.push(Error::NulInValue {
            origin: origin.to_string(),
            name: name.to_string(),
        });
    }
    // `NAME=value\0` must fit in one execve string.
    if name.len() + value.len() + 2 > secret::MAX_ENV_ENTRY_BYTES {
        errors.push(Error::ValueTooLarge {
            origin: origin.to_string(),
            name: name.to_string(),
            bytes: value.len(),
        });
    }
    errors
}

pub fn is_protected(name: &str) -> bool {
    PROTECTED_NAMES.contains(&name) || PROTECTED_PREFIXES.iter().any(|p| name.starts_with(p))
}

fn is_pristine(name: &OsStr) -> bool {
    let bytes = name.as_bytes();
    PRISTINE_NAMES.iter().any(|n| n.as_bytes() == bytes)
        || PRISTINE_PREFIXES
            .iter()
            .any(|p| bytes.starts_with(p.as_bytes()))
}

impl MergeRules {
    fn preserves(&self, name: &OsStr) -> bool {
        match &self.preserve {
            Preserve::None => false,
            Preserve::All => true,
            Preserve::Names(names) => name.to_str().is_some_and(|n| names.contains(n)),
        }
    }

    fn is_config_var(&self, name: &OsStr) -> bool {
        name.as_bytes().starts_with(OWN_PREFIX.as_bytes())
            || name.to_str().is_some_and(|n| self.consumed.contains(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::EnvName;

    fn layer(origin: &str, class: SourceClass, pairs: &[(&str, &str)]) -> Layer {
        Layer {
            origin: origin.to_string(),
            class,
            entries: pairs
                .iter()
                .map(|(n, v)| (EnvName::new(*n).unwrap(), SecretValue::from(v.to_string())))
                .collect(),
        }
    }

    fn dotenv(origin: &str, pairs: &[(&str, &str)]) -> Layer {
        layer(origin, SourceClass::EnvFile, pairs)
    }

    fn secrets(origin: &str, pairs: &[(&str, &str)]) -> Layer {
        layer(origin, SourceClass::Secret, pairs)
    }

    fn none() -> Substitutions {
        Substitutions::new()
    }

    fn parent(pairs: &[(&str, &str)]) -> ParentEnv {
        ParentEnv::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)))
    }

    /// (value, origin, overridden) of one name.
    fn winner(child: &ChildEnv, name: &str) -> (String, String, Vec<String>) {
        let entry = &child.vars[OsStr::new(name)];
        (
            String::from_utf8(entry.value.as_bytes().to_vec()).unwrap(),
            entry.origin.to_string(),
            entry.overridden.iter().map(Origin::to_string).collect(),
        )
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn later_env_file_beats_earlier() {
        let layers = [
            dotenv("dotenv:a", &[("K", "a")]),
            dotenv("dotenv:b", &[("K", "b")]),
        ];
        let child = merge(&parent(&[]), &layers, &none(), &MergeRules::default()).unwrap();
        assert_eq!(
            winner(&child, "K"),
            ("b".into(), "dotenv:b".into(), strings(&["dotenv:a"]))
        );
    }

    #[test]
    fn parent_beats_env_files() {
        let layers = [dotenv("dotenv:a", &[("K", "file")])];
        let child = merge(
            &parent(&[("K", "env")]),
            &layers,
            &none(),
            &MergeRules::default(),
        )
        .unwrap();
        assert_eq!(
            winner(&child, "K"),
            ("env".into(), "environment".into(), strings(&["dotenv:a"]))
        );
    }

    #[test]
    fn secret_sources_beat_parent_and_env_files() {
        let layers = [
            secrets("dir:s", &[("K", "secret")]),
            dotenv("dotenv:a", &[("K", "file")]),
        ];
        let child = merge(
            &parent(&[("K", "env")]),
            &layers,
            &none(),
            &MergeRules::default(),
        )
        .unwrap();
        assert_eq!(
            winner(&child, "K"),
            (
                "secret".into(),
                "dir:s".into(),
                strings(&["dotenv:a", "environment"])
            )
        );
    }

    #[test]
    fn later_secret_source_beats_earlier() {
        let layers = [
            secrets("dir:1", &[("K", "1")]),
            secrets("dir:2", &[("K", "2")]),
        ];
        let child = merge(&parent(&[]), &layers, &none(), &MergeRules::default()).unwrap();
        assert_eq!(
            winner(&child, "K"),
            ("2".into(), "dir:2".into(), strings(&["dir:1"]))
        );
    }

    #[test]
    fn a_later_duplicate_within_a_layer_wins_without_being_listed_as_overridden() {
        let layers = [dotenv("dotenv:a", &[("K", "first"), ("K", "second")])];
        let child = merge(&parent(&[]), &layers, &none(), &MergeRules::default()).unwrap();
        assert_eq!(
            winner(&child, "K"),
            ("second".into(), "dotenv:a".into(), vec![])
        );
    }

    #[test]
    fn preserve_env_all_lifts_the_parent_above_secrets() {
        let rules = MergeRules {
            preserve: Preserve::All,
            ..MergeRules::default()
        };
        let layers = [
            dotenv("dotenv:a", &[("K", "file")]),
            secrets("dir:s", &[("K", "secret"), ("ONLY_SECRET", "s")]),
        ];
        let child = merge(&parent(&[("K", "env")]), &layers, &none(), &rules).unwrap();
        assert_eq!(
            winner(&child, "K"),
            (
                "env".into(),
                "environment".into(),
                strings(&["dotenv:a", "dir:s"])
            )
        );
        assert_eq!(winner(&child, "ONLY_SECRET").0, "s");
    }

    #[test]
    fn preserve_env_names_lifts_only_those_names() {
        let rules = MergeRules {
            preserve: Preserve::Names([EnvName::new("A").unwrap()].into()),
            ..MergeRules::default()
        };
        let layers = [secrets("dir:s", &[("A", "secret"), ("B", "secret")])];
        let child = merge(
            &parent(&[("A", "env"), ("B", "env")]),
            &layers,
            &none(),
            &rules,
        )
        .unwrap();
        assert_eq!(winner(&child, "A").0, "env");
        assert_eq!(winner(&child, "B").0, "secret");
    }

    #[test]
    fn pristine_keeps_only_the_minimal_parent_set() {
        let rules = MergeRules {
            pristine: true,
            ..MergeRules::default()
        };
        let layers = [dotenv("dotenv:a", &[("FROM_FILE", "f")])];
        let env = parent(&[
            ("PATH", "/bin"),
            ("LC_ALL", "C"),
            ("NOTIFY_SOCKET", "/run/n"),
            ("RANDOM_PARENT", "x"),
        ]);
        let child = merge(&env, &layers, &none(), &rules).unwrap();
        let names: Vec<_> = child.vars.keys().map(|k| k.to_str().unwrap()).collect();
        assert_eq!(names, ["FROM_FILE", "LC_ALL", "NOTIFY_SOCKET", "PATH"]);
    }

    #[test]
    fn pristine_with_an_env_file_value_has_no_parent_provenance() {
        let rules = MergeRules {
            pristine: true,
            ..MergeRules::default()
        };
        let layers = [dotenv("dotenv:a", &[("K", "file")])];
        let child = merge(&parent(&[("K", "env")]), &layers, &none(), &rules).unwrap();
        assert_eq!(
            winner(&child, "K"),
            ("file".into(), "dotenv:a".into(), vec![])
        );
    }

    #[test]
    fn secret_sources_may_not_set_protected_names() {
        let layers = [secrets(
            "dir:s",
            &[("PATH", "/evil"), ("LD_PRELOAD", "x.so"), ("OK", "1")],
        )];
        let err = merge(&parent(&[]), &layers, &none(), &MergeRules::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dir:s sets the protected variable PATH; a secret source may not set it unless you \
             allow it with --allow-name PATH\nsecretrun: error: dir:s sets the protected variable \
             LD_PRELOAD; a secret source may not set it unless you allow it with --allow-name \
             LD_PRELOAD"
        );
    }

    #[test]
    fn allowed_protected_names_pass() {
        let rules = MergeRules {
            allowed: [EnvName::new("NODE_OPTIONS").unwrap()].into(),
            ..MergeRules::default()
        };
        let layers = [secrets(
            "dir:s",
            &[("NODE_OPTIONS", "--max-old-space-size=512")],
        )];
        let child = merge(&parent(&[]), &layers, &none(), &rules).unwrap();
        assert_eq!(winner(&child, "NODE_OPTIONS").0, "--max-old-space-size=512");
    }

    #[test]
    fn env_files_may_set_protected_names() {
        let layers = [dotenv("dotenv:a", &[("NODE_OPTIONS", "--inspect")])];
        let child = merge(&parent(&[]), &layers, &none(), &MergeRules::default()).unwrap();
        assert_eq!(winner(&child, "NODE_OPTIONS").0, "--inspect");
    }

    #[test]
    fn config_vars_are_removed_unless_kept() {
        let env = parent(&[
            ("SECRETRUN_LOG", "debug"),
            ("DOPPLER_TOKEN", "t"),
            ("X", "1"),
        ]);
        let rules = MergeRules {
            consumed: ["DOPPLER_TOKEN".to_string()].into(),
            ..MergeRules::default()
        };
        let child = merge(&env, &[], &none(), &rules).unwrap();
        let names: Vec<_> = child.vars.keys().map(|k| k.to_str().unwrap()).collect();
        assert_eq!(names, ["X"]);
        let keep = MergeRules {
            keep_config_vars: true,
            ..rules
        };
        let child = merge(&env, &[], &none(), &keep).unwrap();
        assert_eq!(child.vars.len(), 3);
    }

    #[test]
    fn nul_and_oversized_values_are_rejected_by_name() {
        let big = "x".repeat(secret::MAX_ENV_ENTRY_BYTES);
        let layers = [dotenv("dotenv:a", &[("NUL", "a\0b"), ("BIG", &big)])];
        let err = merge(&parent(&[]), &layers, &none(), &MergeRules::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("dotenv:a: variable NUL: the value contains a NUL byte"),
            "{text}"
        );
        assert!(
            text.contains("variable BIG: the value is 131072 bytes"),
            "{text}"
        );
        assert!(text.contains("E2BIG"), "{text}");
        assert!(!text.contains("xxxx"), "{text}");
    }

    #[test]
    fn non_utf8_parent_values_pass_through() {
        use std::os::unix::ffi::OsStringExt;
        let raw = OsString::from_vec(vec![0xff, 0xfe, b'a']);
        let env = ParentEnv::from_pairs([(OsString::from("RAW"), raw.clone())]);
        let child = merge(&env, &[], &none(), &MergeRules::default()).unwrap();
        assert_eq!(child.to_pairs(), vec![(OsString::from("RAW"), raw)]);
    }
}
