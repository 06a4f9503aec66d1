//! How a `vault` source logs in (a token, AppRole, Kubernetes) and where its token and credential
//! files come from.

use super::*;

/// How a source logs in; also the key under which its login is shared within a run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Auth {
    Token,
    AppRole {
        mount: String,
        role_id: String,
        secret_id_file: PathBuf,
    },
    Kubernetes {
        mount: String,
        role: String,
        jwt_file: PathBuf,
    },
}

impl Auth {
    pub(super) fn from_spec(spec: &mut SourceSpec, env: &ParentEnv) -> Result<Self, SpecProblem> {
        let method = spec.take_value("auth")?;
        let role_id = spec.take_non_empty("role-id", "a role ID")?;
        let secret_id_file = spec.take_non_empty("secret-id-file", "a file path")?;
        let approle_mount = mount_option(spec, "approle-mount")?;
        let role = spec.take_non_empty("role", "a role name")?;
        let jwt_file = spec.take_non_empty("jwt-file", "a file path")?;
        let kubernetes_mount = mount_option(spec, "kubernetes-mount")?;

        // An option of another method is a mistake worth reporting, not something to ignore.
        let misplaced =
            |given: &[(&str, bool)], expected| match given.iter().find(|(_, present)| *present) {
                Some((option, _)) => Err(SpecProblem::BadOptionValue {
                    option: option.to_string(),
                    expected,
                }),
                None => Ok(()),
            };
        let approle_options = [
            ("role-id", role_id.is_some()),
            ("secret-id-file", secret_id_file.is_some()),
            ("approle-mount", approle_mount.is_some()),
        ];
        let kubernetes_options = [
            ("role", role.is_some()),
            ("jwt-file", jwt_file.is_some()),
            ("kubernetes-mount", kubernetes_mount.is_some()),
        ];
        match method.as_deref().unwrap_or("token") {
            "token" => {
                misplaced(&approle_options, "auth=approle")?;
                misplaced(&kubernetes_options, "auth=kubernetes")?;
                Ok(Auth::Token)
            }
            "approle" => {
                misplaced(&kubernetes_options, "auth=kubernetes")?;
                let role_id = role_id
                    .or_else(|| env.get_str("VAULT_ROLE_ID").map(str::to_string))
                    .ok_or(SpecProblem::BadOptionValue {
                        option: "role-id".into(),
                        expected: "a role ID with auth=approle (or set VAULT_ROLE_ID)",
                    })?;
                let secret_id_file = secret_id_file
                    .or_else(|| env.get_str("VAULT_SECRET_ID_FILE").map(str::to_string))
                    .ok_or(SpecProblem::BadOptionValue {
                        option: "secret-id-file".into(),
                        expected: "a file path with auth=approle (or set VAULT_SECRET_ID_FILE)",
                    })?;
                Ok(Auth::AppRole {
                    mount: approle_mount.unwrap_or_else(|| "approle".into()),
                    role_id,
                    secret_id_file: secret_id_file.into(),
                })
            }
            "kubernetes" => {
                misplaced(&approle_options, "auth=approle")?;
                let role = role.ok_or(SpecProblem::BadOptionValue {
                    option: "role".into(),
                    expected: "a Vault role name with auth=kubernetes",
                })?;
                Ok(Auth::Kubernetes {
                    mount: kubernetes_mount.unwrap_or_else(|| "kubernetes".into()),
                    role,
                    jwt_file: jwt_file.unwrap_or_else(|| DEFAULT_JWT_FILE.into()).into(),
                })
            }
            _ => Err(SpecProblem::BadOptionValue {
                option: "auth".into(),
                expected: "token, approle or kubernetes",
            }),
        }
    }
}

/// An auth method's mount (`approle`, `team/approle`), without the slashes around it.
fn mount_option(spec: &mut SourceSpec, option: &str) -> Result<Option<String>, SpecProblem> {
    let Some(value) = spec.take_value(option)? else {
        return Ok(None);
    };
    let mount = value.trim_matches('/');
    if mount.split('/').all(valid_segment) {
        Ok(Some(mount.to_string()))
    } else {
        Err(SpecProblem::BadOptionValue {
            option: option.into(),
            expected: "an auth mount path such as approle",
        })
    }
}

/// A variable's value when set and non-empty; an error if it is not UTF-8.
pub(super) fn env_text<'a>(env: &'a ParentEnv, name: &str) -> Result<Option<&'a str>, SourceError> {
    match env.get(name).filter(|value| !value.is_empty()) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).ok_or_else(|| SourceError::Config {
            problem: format!("{name} is not valid UTF-8"),
        }),
    }
}

/// The token for `auth=token`, from the first place that has one.
pub(super) async fn token_from_env(env: &ParentEnv) -> Result<SecretString, SourceError> {
    if let Some(token) = env_text(env, "VAULT_TOKEN")? {
        return checked_token(SecretString::from(token), "VAULT_TOKEN");
    }
    if let Some(path) = env.get("VAULT_TOKEN_FILE").filter(|path| !path.is_empty()) {
        let token = read_secret_file(Path::new(path), "VAULT_TOKEN_FILE").await?;
        return checked_token(token, "VAULT_TOKEN_FILE");
    }
    if let Some(home) = env.get("HOME").filter(|home| !home.is_empty()) {
        let path = Path::new(home).join(".vault-token");
        match crate::providers::read_credential_file(&path).await {
            Ok(bytes) => {
                let token = secret_text(bytes, &path, "~/.vault-token")?;
                return checked_token(token, "~/.vault-token");
            }
            Err(SourceError::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Err(SourceError::Config {
        problem: "no Vault token: set VAULT_TOKEN, or VAULT_TOKEN_FILE to a file that holds it, \
                  or log in with `vault login` (which writes ~/.vault-token); or add \
                  ?auth=approle or ?auth=kubernetes to the source"
            .into(),
    })
}

/// A token goes in a header: only visible ASCII, or vaultrs would panic building it.
pub(super) fn checked_token(
    token: SecretString,
    origin: &str,
) -> Result<SecretString, SourceError> {
    crate::providers::http::check_header_token(token.expose_secret(), "Vault token", origin)?;
    Ok(token)
}

/// A credential file (token, secret id, JWT), its one trailing newline removed.
pub(super) async fn read_secret_file(path: &Path, what: &str) -> Result<SecretString, SourceError> {
    let bytes = crate::providers::read_credential_file(path).await?;
    secret_text(bytes, path, what)
}

fn secret_text(bytes: Vec<u8>, path: &Path, what: &str) -> Result<SecretString, SourceError> {
    let text = String::from_utf8(trim_one_newline(bytes)).map_err(|_| SourceError::Config {
        problem: format!("{what} '{}' is not UTF-8 text", path.display()),
    })?;
    if text.is_empty() {
        return Err(SourceError::Config {
            problem: format!("{what} '{}' is empty", path.display()),
        });
    }
    Ok(SecretString::from(text))
}

/// A login's refusal says which login and what to check; Vault's reason is not shown (it could
/// echo what was sent).
pub(super) fn refused(error: SourceError, login: String, check: &str) -> SourceError {
    match error {
        SourceError::Http {
            status: status @ 400..=499,
            ..
        } => SourceError::Config {
            problem: format!(
                "{login} was refused (HTTP {status}): check {check}, and that the auth method \
                 is enabled there"
            ),
        },
        other => other,
    }
}
