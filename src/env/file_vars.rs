//! `--file-vars`: after merging, every `NAME_FILE=/path` whose `NAME` is not set becomes
//! `NAME=<content of /path>` (one trailing newline trimmed), the convention of the official
//! Docker images. `NAME_FILE` itself is then dropped, since those images refuse to start when
//! both are set.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::env::merge::{self, ChildEnv, Entry, MergeRules, Value};
use crate::env::origin::Origin;
use crate::error::Error;
use crate::providers::trim_one_newline;
use crate::secret::SecretValue;
use crate::source::SourceKind;

const SUFFIX: &str = "_FILE";

pub fn apply(child: &mut ChildEnv, rules: &MergeRules) -> Result<(), Error> {
    let candidates: Vec<(OsString, String, PathBuf)> = child
        .vars
        .iter()
        .filter_map(|(name, entry)| {
            let target = name.to_str()?.strip_suffix(SUFFIX)?;
            if target.is_empty() || child.contains(target) {
                return None;
            }
            let path = PathBuf::from(OsStr::from_bytes(entry.value.as_bytes()));
            Some((name.clone(), target.to_string(), path))
        })
        .collect();

    let mut errors = Vec::new();
    for (file_var, target, path) in candidates {
        let origin = format!("file:{}", path.display());
        let content = match std::fs::read(&path) {
            Ok(content) => SecretValue::new(trim_one_newline(content)),
            Err(source) => {
                errors.push(Error::FileVar {
                    var: file_var.to_string_lossy().into_owned(),
                    path,
                    source,
                });
                continue;
            }
        };
        // NAME_FILE may itself come from a secret source, so NAME gets the same checks.
        let problems = merge::check_secret(&origin, &target, &content, true, rules);
        if !problems.is_empty() {
            errors.extend(problems);
            continue;
        }
        child.vars.remove(&file_var);
        child.vars.insert(
            target.into(),
            Entry {
                value: Value::Secret(content),
                origin: Origin::source(origin, SourceKind::File.class()),
                overridden: Vec::new(),
            },
        );
    }
    Error::from_many(errors).map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::ParentEnv;

    fn child_env(pairs: &[(&str, &str)]) -> ChildEnv {
        let env = ParentEnv::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)));
        merge::merge(
            &env,
            &[],
            &merge::Substitutions::new(),
            &MergeRules::default(),
        )
        .unwrap()
    }

    #[test]
    fn reads_file_when_name_is_unset_and_drops_the_file_var() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        let mut child = child_env(&[("DB_PASSWORD_FILE", path.to_str().unwrap())]);
        apply(&mut child, &MergeRules::default()).unwrap();
        let entry = &child.vars[OsStr::new("DB_PASSWORD")];
        assert_eq!(entry.value.as_bytes(), b"s3cret");
        assert_eq!(entry.origin.to_string(), format!("file:{}", path.display()));
        assert!(!child.contains("DB_PASSWORD_FILE"));
    }

    #[test]
    fn leaves_set_names_alone() {
        let mut child = child_env(&[("A", "direct"), ("A_FILE", "/nonexistent")]);
        apply(&mut child, &MergeRules::default()).unwrap();
        assert_eq!(child.vars[OsStr::new("A")].value.as_bytes(), b"direct");
        assert!(child.contains("A_FILE"));
    }

    #[test]
    fn unreadable_file_names_the_variable_and_path() {
        let mut child = child_env(&[("A_FILE", "/nonexistent/x")]);
        let err = apply(&mut child, &MergeRules::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "variable A_FILE: cannot read '/nonexistent/x': No such file or directory (os error 2)"
        );
    }

    #[test]
    fn protected_names_need_allowing() {
        let mut child = child_env(&[("LD_PRELOAD_FILE", "/dev/null")]);
        let err = apply(&mut child, &MergeRules::default()).unwrap_err();
        assert!(
            err.to_string().contains("protected variable LD_PRELOAD"),
            "{err}"
        );
    }
}
