//! `secretrun encrypt` and `secretrun decrypt`: rewrite a `.env` file's values in place in
//! dotenvx's format (see [`crate::dotenvx`]), so either tool reads what the other wrote.
//!
//! Like dotenvx: `encrypt` puts the `DOTENV_PUBLIC_KEY[_ENV]` header at the top of a file that
//! has none, creating the key pair and appending the private key to `.env.keys` (mode 0600);
//! values are encrypted as dotenvx reads them (`\n` in double quotes is a line break, nothing is
//! expanded) and keep their quotes; names ending in `_PLAIN` stay plaintext. `decrypt` writes
//! the plaintext back between the same quotes and keeps the header. Comments, order and every
//! other line stay as they are. Each file is replaced atomically with its own permissions;
//! nothing is written when any value fails.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::CryptArgs;
use crate::dotenvx::{self, KeyNames, PrivateKey, PublicKey, ENCRYPTED_PREFIX};
use crate::envfile::{self, Assignment};
use crate::environment::ParentEnv;
use crate::error::{Error, SourceError};
use crate::secret::SecretValue;

use crate::pipeline::{Session, Stop};

/// dotenvx's header at the top of a new `.env.keys`.
const KEYS_FILE_HEADER: &str = "\
#/------------------!DOTENV_PRIVATE_KEYS!-------------------/
#/ private decryption keys. DO NOT commit to source control /
#/     [how it works](https://dotenvx.com/encryption)       /
#/          ⛨ ARMORED KEYS: `dotenvx armor up`              /
#/----------------------------------------------------------/
";

/// dotenvx's header above `DOTENV_PUBLIC_KEY` in an encrypted file.
const PUBLIC_KEY_HEADER: &str = "\
#/-------------------[DOTENV_PUBLIC_KEY]--------------------/
#/            public-key encryption for .env files          /
#/       [how it works](https://dotenvx.com/encryption)     /
#/----------------------------------------------------------/
";

/// Every file is rewritten in memory first, so a failure in one leaves all of them as they were.
pub fn encrypt(session: &Session, args: &CryptArgs) -> Result<i32, Stop> {
    let mut rewritten = Vec::new();
    for file in &args.files {
        let keys_path = dotenvx::keys_path(file, session.plan.env_keys_file.as_deref());
        let (text, count) = encrypted_text(file, &keys_path, &args.keys, session.env)?;
        rewritten.push((
            file,
            text.map(|text| SecretValue::new(text.into_bytes())),
            count,
        ));
    }
    write_all("encrypted", rewritten)
}

pub fn decrypt(session: &Session, args: &CryptArgs) -> Result<i32, Stop> {
    let mut rewritten = Vec::new();
    for file in &args.files {
        let keys_path = dotenvx::keys_path(file, session.plan.env_keys_file.as_deref());
        let (text, count) = decrypted_text(file, &keys_path, &args.keys, session.env)?;
        rewritten.push((file, (count > 0).then_some(text), count));
    }
    write_all("decrypted", rewritten)
}

/// Replaces each changed file and says what was done, on stderr (stdout stays free for
/// scripts); never a value.
fn write_all(
    done: &str,
    rewritten: Vec<(&PathBuf, Option<SecretValue>, usize)>,
) -> Result<i32, Stop> {
    for (file, text, count) in rewritten {
        if let Some(text) = text {
            replace_file(file, text.expose())?;
        }
        writeln!(
            std::io::stderr(),
            "secretrun: {done} {count} value(s) in {}",
            file.display()
        )
        .map_err(Error::Output)?;
    }
    Ok(0)
}

fn read_text(file: &Path) -> Result<String, Error> {
    let fail = |error| Error::Source {
        origin: format!("dotenv:{}", file.display()),
        error,
    };
    let bytes = std::fs::read(file).map_err(|source| {
        fail(SourceError::Read {
            path: file.to_path_buf(),
            source,
        })
    })?;
    String::from_utf8(bytes).map_err(|error| {
        fail(SourceError::Syntax {
            path: file.to_path_buf(),
            line: envfile::line_of(error.as_bytes(), error.utf8_error().valid_up_to()),
            problem: "not valid UTF-8",
        })
    })
}

fn value_error(file: &Path, assignment: &Assignment, text: &str, problem: String) -> Error {
    Error::Source {
        origin: format!("dotenv:{}", file.display()),
        error: SourceError::Value {
            path: file.to_path_buf(),
            line: assignment.line,
            name: assignment.name(text).to_string(),
            problem,
        },
    }
}

/// Whether `assignment` is one the user asked for and dotenvx would rewrite.
fn selected(assignment: &Assignment, text: &str, only: &[String]) -> bool {
    let name = assignment.name(text);
    !name.starts_with(dotenvx::PUBLIC_KEY_NAME)
        && (only.is_empty() || only.iter().any(|wanted| wanted == name))
}

/// The file's new text (`None`: unchanged) and how many values were encrypted.
fn encrypted_text(
    file: &Path,
    keys_path: &Path,
    only: &[String],
    env: &ParentEnv,
) -> Result<(Option<String>, usize), Error> {
    let text = read_text(file)?;
    let found = envfile::assignments(&text);
    let declared = dotenvx::declared_public_key(&text, &found);
    let to_encrypt: Vec<&Assignment> = found
        .iter()
        .filter(|a| selected(a, &text, only))
        .filter(|a| !a.name(&text).ends_with("_PLAIN"))
        .filter(|a| !a.inner(&text).starts_with(ENCRYPTED_PREFIX))
        .collect();
    if to_encrypt.is_empty() {
        return Ok((None, 0));
    }
    let names = KeyNames::for_file(file, declared.map(|a| a.name(&text)));
    let (public, header) = match declared {
        Some(declared) => {
            let public = PublicKey::from_hex(declared.inner(&text))
                .map_err(|problem| value_error(file, declared, &text, problem.to_string()))?;
            (public, None)
        }
        None => {
            let public = match dotenvx::private_keys(&names, None, env, keys_path) {
                Ok(keys) => keys[0].public_key(),
                Err(_) => create_key(file, keys_path, &names.private)?,
            };
            let header = format!(
                "{PUBLIC_KEY_HEADER}{}=\"{}\"{}\n\n# {}\n",
                names.public,
                public.to_hex(),
                keys_file_comment(file, keys_path),
                file.file_name().unwrap_or_default().to_string_lossy()
            );
            (public, Some(header))
        }
    };
    let mut out = String::with_capacity(text.len() * 2);
    let mut copied = 0;
    for assignment in &to_encrypt {
        let value = SecretValue::from(assignment.dotenvx_value(&text));
        let quote = assignment.quote.map(String::from).unwrap_or_default();
        out.push_str(&text[copied..assignment.name.start]);
        out.push_str(&format!(
            "{}={quote}{}{quote}",
            assignment.name(&text),
            public.encrypt(value.expose())
        ));
        copied = assignment.raw.end;
    }
    out.push_str(&text[copied..]);
    let out = match header {
        Some(header) => with_header(&out, &header),
        None => out,
    };
    Ok((Some(out), to_encrypt.len()))
}

/// dotenvx notes a keys file other than `.env.keys` beside the file after the public key.
fn keys_file_comment(file: &Path, keys_path: &Path) -> String {
    let beside = dotenvx::keys_path(file, None);
    if keys_path == beside {
        String::new()
    } else {
        format!(" # -fk {}", keys_path.display())
    }
}

/// `header` before `text`, after a `#!` line if the file starts with one.
fn with_header(text: &str, header: &str) -> String {
    let (shebang, rest) = match text.strip_prefix("#!") {
        Some(_) => match text.find('\n') {
            Some(end) => text.split_at(end + 1),
            None => (text, ""),
        },
        None => ("", text),
    };
    format!("{shebang}{header}{rest}")
}

/// A new key pair for `file`: the private key appended to the keys file (created with mode
/// 0600 and dotenvx's header), the public key returned.
fn create_key(file: &Path, keys_path: &Path, private_name: &str) -> Result<PublicKey, Error> {
    let key = PrivateKey::generate();
    let existing = match std::fs::read(keys_path) {
        Ok(bytes) => SecretValue::new(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => SecretValue::new(Vec::new()),
        Err(source) => {
            return Err(Error::WriteFile {
                path: keys_path.to_path_buf(),
                source,
            })
        }
    };
    // Room for all of it, so no reallocation leaves a copy of a key behind.
    let mut keys_text = Vec::with_capacity(existing.len() + KEYS_FILE_HEADER.len() + 256);
    keys_text.extend_from_slice(existing.expose());
    if keys_text.is_empty() {
        keys_text.extend_from_slice(KEYS_FILE_HEADER.as_bytes());
    }
    let comment = file.file_name().unwrap_or_default().to_string_lossy();
    keys_text.extend_from_slice(format!("\n# {comment}\n{private_name}=").as_bytes());
    keys_text.extend_from_slice(key.to_hex().expose());
    keys_text.push(b'\n');
    let keys_text = SecretValue::new(keys_text);
    replace_file(keys_path, keys_text.expose())?;
    Ok(key.public_key())
}

/// The file's text with every selected encrypted value decrypted, and how many there were.
fn decrypted_text(
    file: &Path,
    keys_path: &Path,
    only: &[String],
    env: &ParentEnv,
) -> Result<(SecretValue, usize), Error> {
    let text = read_text(file)?;
    let found = envfile::assignments(&text);
    let declared = dotenvx::declared_public_key(&text, &found);
    let names = KeyNames::for_file(file, declared.map(|a| a.name(&text)));
    let to_decrypt: Vec<&Assignment> = found
        .iter()
        .filter(|a| selected(a, &text, only))
        .filter(|a| a.inner(&text).starts_with(ENCRYPTED_PREFIX))
        .collect();
    let mut keys = None;
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for assignment in &to_decrypt {
        let keys = match &mut keys {
            Some(keys) => keys,
            None => keys.insert(dotenvx::private_keys(
                &names,
                declared.map(|a| a.inner(&text)),
                env,
                keys_path,
            )),
        };
        let fail = |problem: String| value_error(file, assignment, &text, problem);
        let keys = keys.as_ref().map_err(|problem| fail(problem.clone()))?;
        let ciphertext = &assignment.inner(&text)[ENCRYPTED_PREFIX.len()..];
        let plaintext =
            dotenvx::decrypt(keys, ciphertext).map_err(|problem| fail(problem.to_string()))?;
        let plaintext = std::str::from_utf8(plaintext.expose())
            .map_err(|_| fail("the decrypted value is not valid UTF-8".into()))?;
        // dotenvx writes the plaintext between the original quotes as it is; a line break
        // needs quotes to be read back.
        let quote = match assignment.quote {
            Some(quote) => quote.to_string(),
            None if plaintext.contains(['\n', '#']) || plaintext.trim() != plaintext => "\"".into(),
            None => String::new(),
        };
        out.push_str(&text[copied..assignment.name.start]);
        out.push_str(&format!(
            "{}={quote}{plaintext}{quote}",
            assignment.name(&text)
        ));
        copied = assignment.raw.end;
    }
    out.push_str(&text[copied..]);
    Ok((SecretValue::from(out), to_decrypt.len()))
}

/// Replaces `path` atomically: a temporary file in the same directory, with the old file's
/// permissions (0600 for a new one), renamed over it.
fn replace_file(path: &Path, content: &[u8]) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mode = std::fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o7777);
    let mut temp = tempfile::Builder::new()
        .prefix(".secretrun-")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(&dir)
        .map_err(fail)?;
    temp.write_all(content)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(fail)?;
    temp.persist(path).map_err(|error| fail(error.error))?;
    Ok(())
}
