//! `--mount-format template`: the `--mount-template` file, compiled when the plan is built (a
//! missing file or a syntax error stops the run before anything is fetched) and rendered with
//! the merged secrets when the file is written.
//!
//! A template sees exactly the names `export` would write, as variables and in the `secrets`
//! mapping. An unknown name is an error (strict undefined), nothing is escaped. An error names
//! the file and line and never quotes a value: minijinja's own detail is kept only for errors
//! made from the template's text (syntax, unknown filter, ...), as others (a failed operation)
//! can quote one, and minijinja's `debug` feature, whose reports list the values, is off.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::env::merge::ChildEnv;
use crate::error::Error;
use crate::output::show;
use crate::secret::{display_name, SecretValue};

/// The text of `--mount-template FILE`, read (and compiled, to find syntax errors) when the
/// plan is built.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    pub path: PathBuf,
    source: String,
}

/// The name under which a template finds every available variable.
const SECRETS_VAR: &str = "secrets";
const TEMPLATE_NAME_NOT_UTF8: &str = "the name is not valid UTF-8, which a template cannot use";
const TEMPLATE_VALUE_NOT_UTF8: &str = "the value is not valid UTF-8, which a template cannot \
                                       hold (--file NAME=PATH writes raw bytes)";

impl Template {
    /// Reads and compiles the template, so that a missing file or a syntax error stops the run
    /// before anything is fetched.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let source = std::fs::read_to_string(path).map_err(|error| Error::Settings {
            setting: "--mount-template",
            problem: format!("cannot read '{}': {error}", path.display()),
        })?;
        let template = Template {
            path: path.to_path_buf(),
            source,
        };
        let env = template_environment();
        template.compile(&env)?;
        Ok(template)
    }

    fn compile<'env>(
        &'env self,
        env: &'env minijinja::Environment<'env>,
    ) -> Result<minijinja::Template<'env, 'env>, Error> {
        // Our errors name the file; minijinja's name for it goes unused.
        env.template_from_str(&self.source)
            .map_err(|error| self.error(&error, &[]))
    }

    /// Renders with every name a source set as a variable of its own and in `secrets`.
    pub fn render(&self, child_env: &ChildEnv) -> Result<SecretValue, Error> {
        let mut vars: BTreeMap<String, minijinja::Value> = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, entry) in child_env
            .vars
            .iter()
            .filter(|(_, entry)| !show::is_plain_parent(entry))
        {
            let problem = match (name.to_str(), std::str::from_utf8(entry.value.as_bytes())) {
                (Some(name), Ok(value)) => {
                    vars.insert(name.to_string(), value.into());
                    continue;
                }
                (None, _) => TEMPLATE_NAME_NOT_UTF8,
                (_, Err(_)) => TEMPLATE_VALUE_NOT_UTF8,
            };
            errors.push(Error::Unexportable {
                name: display_name(name),
                problem,
            });
        }
        if let Some(error) = Error::from_many(errors) {
            return Err(error);
        }
        let mut context = vars.clone();
        context.insert(SECRETS_VAR.to_string(), minijinja::Value::from(vars));
        let env = template_environment();
        let template = self.compile(&env)?;
        match template.render(minijinja::Value::from(context.clone())) {
            Ok(text) => Ok(SecretValue::from(text)),
            Err(error) if error.kind() == minijinja::ErrorKind::UndefinedError => {
                // Without minijinja's `debug` feature the error does not say which name.
                let mut unknown: Vec<String> = template
                    .undeclared_variables(false)
                    .into_iter()
                    .filter(|name| {
                        !context.contains_key(name)
                            && env.globals().all(|(global, _)| global != name)
                    })
                    .collect();
                unknown.sort();
                Err(self.error(&error, &unknown))
            }
            Err(error) => Err(self.error(&error, &[])),
        }
    }

    /// A minijinja error as ours, naming the file and line, never quoting a value: the detail
    /// is kept only for the kinds of error whose detail comes from the template's own text.
    fn error(&self, error: &minijinja::Error, unknown: &[String]) -> Error {
        use minijinja::ErrorKind::*;
        let kind = error.kind();
        let mut problem = format!("'{}'", self.path.display());
        if let Some(line) = error.line() {
            problem += &format!(", line {line}");
        }
        problem += &format!(": {kind}");
        match (kind, error.detail()) {
            (
                SyntaxError | UnknownFilter | UnknownTest | UnknownFunction | UnknownMethod
                | TooManyArguments | MissingArgument | BadEscape | UndefinedError,
                Some(detail),
            ) => problem += &format!(": {detail}"),
            (
                SyntaxError | UnknownFilter | UnknownTest | UnknownFunction | UnknownMethod
                | TooManyArguments | MissingArgument | BadEscape | UndefinedError,
                None,
            ) => {}
            (_, Some(_)) => problem += " (the details are left out: they may quote a value)",
            (_, None) => {}
        }
        if !unknown.is_empty() {
            problem += &format!(
                " (no source sets {}; the names it can use are those `secretrun export` lists)",
                unknown.join(", ")
            );
        }
        Error::Settings {
            setting: "--mount-template",
            problem,
        }
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("path", &self.path)
            .field("bytes", &self.source.len())
            .finish()
    }
}

/// Strict (an unknown name is an error, not an empty string), no escaping whatever the file's
/// extension (minijinja escapes `.html` and `.json` templates by default), and the template's
/// final newline kept, so the file ends as the template does.
pub(crate) fn template_environment<'source>() -> minijinja::Environment<'source> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters are valid"),
    );
    env
}
