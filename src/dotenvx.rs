//! dotenvx's encryption of `.env` values, byte for byte as dotenvx (and its eciesjs) does it, so
//! a file encrypted by either tool is read by the other.
//!
//! A value is `encrypted:` and the base64 (standard, padded) of ECIES on secp256k1: a fresh
//! ephemeral public key (65 bytes, uncompressed), a 16-byte nonce, the 16-byte AES-256-GCM tag,
//! then the ciphertext. The AES key is HKDF-SHA256 (no salt, no info) over the ephemeral public
//! key and the shared point, both uncompressed. Keys are hex: the private key's 32 bytes, the
//! public key compressed (33 bytes). A file names its key pair `DOTENV_PUBLIC_KEY[_ENV]` /
//! `DOTENV_PRIVATE_KEY[_ENV]` after its file name (`.env.production` → `_PRODUCTION`).
//!
//! Invariants: a private key never prints (no `Display`, `Debug` redacted) and errors name keys,
//! never their values or a plaintext.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use aes_gcm::aead::consts::U16;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use base64::Engine as _;
use k256::elliptic_curve::sec1::ToEncodedPoint;

use crate::envfile;
use crate::environment::ParentEnv;
use crate::secret::SecretValue;

/// What marks an encrypted value.
pub const ENCRYPTED_PREFIX: &str = "encrypted:";
pub const PUBLIC_KEY_NAME: &str = "DOTENV_PUBLIC_KEY";
pub const PRIVATE_KEY_NAME: &str = "DOTENV_PRIVATE_KEY";
/// The file dotenvx keeps private keys in, beside the `.env` files.
pub const KEYS_FILE_NAME: &str = ".env.keys";

const EPHEMERAL_KEY_BYTES: usize = 65;
const NONCE_BYTES: usize = 16;
const TAG_BYTES: usize = 16;

/// AES-256-GCM with eciesjs's 16-byte nonce (aws-lc-rs takes only 12-byte nonces).
type Cipher = AesGcm<Aes256, U16>;

/// Why a value could not be decrypted, or a key not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoProblem {
    /// Not 64 hex digits of a valid secp256k1 scalar.
    InvalidPrivateKey,
    /// Not a hex secp256k1 point.
    InvalidPublicKey,
    /// Not base64, too short, or no curve point: not something dotenvx wrote.
    Malformed,
    /// Authentication failed: another key encrypted it, or it was altered.
    WrongKey,
}

impl fmt::Display for CryptoProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CryptoProblem::InvalidPrivateKey => {
                "the private key is not 64 hex digits of a valid key"
            }
            CryptoProblem::InvalidPublicKey => "the public key is not a hex secp256k1 public key",
            CryptoProblem::Malformed => "the encrypted value is malformed (not dotenvx's format)",
            CryptoProblem::WrongKey => {
                "the private key does not decrypt it (another key encrypted it, or it was altered)"
            }
        })
    }
}

/// A dotenvx private key. Zeroed on drop (k256's own guarantee).
#[derive(Clone)]
pub struct PrivateKey(k256::SecretKey);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([REDACTED])")
    }
}

impl PrivateKey {
    /// A new random key, as `dotenvx encrypt` makes one for a file without a key.
    pub fn generate() -> Self {
        loop {
            let mut bytes = zeroizing_bytes();
            // A random 32-byte string is a valid scalar except with negligible probability.
            if aws_lc_rs::rand::fill(&mut bytes[..]).is_ok() {
                if let Ok(key) = k256::SecretKey::from_slice(&bytes[..]) {
                    return Self(key);
                }
            }
        }
    }

    pub fn from_hex(text: &str) -> Result<Self, CryptoProblem> {
        let mut bytes = zeroizing_bytes();
        hex_decode(text.trim(), &mut bytes[..]).ok_or(CryptoProblem::InvalidPrivateKey)?;
        k256::SecretKey::from_slice(&bytes[..])
            .map(Self)
            .map_err(|_| CryptoProblem::InvalidPrivateKey)
    }

    /// The hex text dotenvx writes to `.env.keys`.
    pub fn to_hex(&self) -> SecretValue {
        SecretValue::new(hex_encode(&self.0.to_bytes()).into_bytes())
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.public_key())
    }

    /// Decrypts a value without its `encrypted:` prefix.
    pub fn decrypt(&self, base64_text: &str) -> Result<SecretValue, CryptoProblem> {
        let payload = base64::engine::general_purpose::STANDARD
            .decode(base64_text.trim())
            .map_err(|_| CryptoProblem::Malformed)?;
        if payload.len() < EPHEMERAL_KEY_BYTES + NONCE_BYTES + TAG_BYTES {
            return Err(CryptoProblem::Malformed);
        }
        let (ephemeral, rest) = payload.split_at(EPHEMERAL_KEY_BYTES);
        let (nonce, rest) = rest.split_at(NONCE_BYTES);
        let (tag, ciphertext) = rest.split_at(TAG_BYTES);
        let ephemeral =
            k256::PublicKey::from_sec1_bytes(ephemeral).map_err(|_| CryptoProblem::Malformed)?;
        let key = shared_key(&ephemeral, self.0.to_nonzero_scalar().as_ref());
        let cipher = Cipher::new_from_slice(&key[..]).expect("a 32-byte key");
        // The crate wants the tag after the ciphertext; eciesjs puts it before.
        let mut sealed = Vec::with_capacity(ciphertext.len() + TAG_BYTES);
        sealed.extend_from_slice(ciphertext);
        sealed.extend_from_slice(tag);
        cipher
            .decrypt(nonce.into(), sealed.as_slice())
            .map(SecretValue::new)
            .map_err(|_| CryptoProblem::WrongKey)
    }
}

/// A dotenvx public key: what `encrypt` needs, safe to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(k256::PublicKey);

impl PublicKey {
    pub fn from_hex(text: &str) -> Result<Self, CryptoProblem> {
        let text = text.trim();
        let mut bytes = vec![0; text.len() / 2];
        hex_decode(text, &mut bytes).ok_or(CryptoProblem::InvalidPublicKey)?;
        k256::PublicKey::from_sec1_bytes(&bytes)
            .map(Self)
            .map_err(|_| CryptoProblem::InvalidPublicKey)
    }

    /// Compressed, as dotenvx writes `DOTENV_PUBLIC_KEY`.
    pub fn to_hex(&self) -> String {
        hex_encode(self.0.to_encoded_point(true).as_bytes())
    }

    /// `encrypted:...` for `plaintext`, with a fresh ephemeral key and nonce.
    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        let ephemeral = PrivateKey::generate();
        let ephemeral_public = ephemeral.0.public_key().to_encoded_point(false);
        let key = shared_key_from(
            ephemeral_public.as_bytes(),
            &self.0,
            ephemeral.0.to_nonzero_scalar().as_ref(),
        );
        let mut nonce = [0u8; NONCE_BYTES];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system's random source works");
        let cipher = Cipher::new_from_slice(&key[..]).expect("a 32-byte key");
        let sealed = cipher
            .encrypt((&nonce).into(), plaintext)
            .expect("AES-GCM encryption of an in-memory value cannot fail");
        let (ciphertext, tag) = sealed.split_at(sealed.len() - TAG_BYTES);
        let mut payload = Vec::with_capacity(EPHEMERAL_KEY_BYTES + NONCE_BYTES + sealed.len());
        payload.extend_from_slice(ephemeral_public.as_bytes());
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(tag);
        payload.extend_from_slice(ciphertext);
        format!(
            "{ENCRYPTED_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(payload)
        )
    }
}

/// The names of a file's key pair: the `DOTENV_PUBLIC_KEY*` it declares, else after its file
/// name as dotenvx derives them (`.env` → none, `.env.production` → `_PRODUCTION`,
/// `.env.ci.eu` → `_CI_EU`, `.env1` → `_DEVELOPMENT1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNames {
    pub public: String,
    pub private: String,
}

impl KeyNames {
    pub fn for_file(path: &Path, declared_public: Option<&str>) -> Self {
        if let Some(public) = declared_public {
            return Self {
                public: public.to_string(),
                private: public.replacen(PUBLIC_KEY_NAME, PRIVATE_KEY_NAME, 1),
            };
        }
        let mut file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if file_name.starts_with(".env") && file_name.ends_with(".txt") {
            file_name.truncate(file_name.len() - 4);
        }
        if file_name == ".env" {
            return Self {
                public: PUBLIC_KEY_NAME.into(),
                private: PRIVATE_KEY_NAME.into(),
            };
        }
        let parts: Vec<&str> = file_name.split('.').skip(2).collect();
        let environment = match parts.as_slice() {
            [] => file_name.replacen(".env", "development", 1),
            [one] => one.to_string(),
            [first, second, ..] => format!("{first}_{second}"),
        }
        .to_uppercase();
        Self {
            public: format!("{PUBLIC_KEY_NAME}_{environment}"),
            private: format!("{PRIVATE_KEY_NAME}_{environment}"),
        }
    }
}

/// The private keys `names.private` holds: from the parent environment, else from the keys
/// file; comma-separated lists allowed, as dotenvx allows. Only keys of the file's declared
/// public key, when it declares one. The error says why there is none, never a key.
pub fn private_keys(
    names: &KeyNames,
    declared_public: Option<&str>,
    env: &ParentEnv,
    keys_path: &Path,
) -> Result<Vec<PrivateKey>, String> {
    let private = &names.private;
    let mut texts: Vec<(String, SecretValue)> = Vec::new();
    if let Some(value) = env.get(private) {
        let from = format!("{private} in the environment");
        texts.push((from, SecretValue::new(value.as_encoded_bytes().to_vec())));
    } else {
        match std::fs::read_to_string(keys_path) {
            Ok(keys_text) => {
                let keys_text = SecretValue::from(keys_text);
                let keys_text = std::str::from_utf8(keys_text.expose()).unwrap_or_default();
                for assignment in envfile::assignments(keys_text) {
                    if assignment.name(keys_text) == private {
                        let from = format!("{private} in '{}'", keys_path.display());
                        let value = assignment.dotenvx_value(keys_text);
                        texts.push((from, SecretValue::from(value)));
                    }
                }
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(format!("cannot read '{}': {err}", keys_path.display())),
        }
    }
    if texts.is_empty() {
        return Err(format!(
            "no private key to decrypt it: set {private} in the environment or in '{}'",
            keys_path.display()
        ));
    }
    let mut keys = Vec::new();
    for (from, text) in &texts {
        let text = std::str::from_utf8(text.expose()).unwrap_or("-");
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let key = PrivateKey::from_hex(part).map_err(|problem| format!("{from}: {problem}"))?;
            keys.push(key);
        }
    }
    if let Some(public) = declared_public.and_then(|hex| PublicKey::from_hex(hex).ok()) {
        keys.retain(|key| key.public_key() == public);
        if keys.is_empty() {
            return Err(format!(
                "{private} does not match the file's {}: it is another file's key",
                names.public
            ));
        }
    }
    Ok(keys)
}

/// The first key that decrypts `ciphertext`.
pub fn decrypt(keys: &[PrivateKey], ciphertext: &str) -> Result<SecretValue, CryptoProblem> {
    let mut problem = CryptoProblem::WrongKey;
    for key in keys {
        match key.decrypt(ciphertext) {
            Ok(plaintext) => return Ok(plaintext),
            Err(error) => problem = error,
        }
    }
    Err(problem)
}

/// The file's `DOTENV_PUBLIC_KEY*` assignment, if it declares one.
pub fn declared_public_key<'a>(
    text: &str,
    assignments: &'a [envfile::Assignment],
) -> Option<&'a envfile::Assignment> {
    assignments
        .iter()
        .find(|a| a.name(text).starts_with(PUBLIC_KEY_NAME))
}

/// The keys file for `env_file`: `keys_file` if given, else `.env.keys` beside it.
pub fn keys_path(env_file: &Path, keys_file: Option<&Path>) -> PathBuf {
    match keys_file {
        Some(path) => path.to_path_buf(),
        None => env_file
            .parent()
            .unwrap_or(Path::new(""))
            .join(KEYS_FILE_NAME),
    }
}

/// HKDF-SHA256 over `ephemeral_public || (point * scalar)`, both uncompressed.
fn shared_key(ephemeral: &k256::PublicKey, scalar: &k256::Scalar) -> Zeroizing32 {
    shared_key_from(
        ephemeral.to_encoded_point(false).as_bytes(),
        ephemeral,
        scalar,
    )
}

fn shared_key_from(
    ephemeral_public: &[u8],
    point: &k256::PublicKey,
    scalar: &k256::Scalar,
) -> Zeroizing32 {
    use aws_lc_rs::hkdf;
    let shared = (point.to_projective() * scalar).to_affine();
    let shared = shared.to_encoded_point(false);
    let mut material = Vec::with_capacity(ephemeral_public.len() + shared.len());
    material.extend_from_slice(ephemeral_public);
    material.extend_from_slice(shared.as_bytes());
    let secret = SecretValue::new(material);
    let mut key = zeroizing_bytes();
    hkdf::Salt::new(hkdf::HKDF_SHA256, &[])
        .extract(secret.expose())
        .expand(&[], hkdf::HKDF_SHA256)
        .and_then(|okm| okm.fill(&mut key[..]))
        .expect("HKDF-SHA256 yields 32 bytes");
    key
}

/// 32 bytes that are zeroed when dropped.
type Zeroizing32 = k256::elliptic_curve::zeroize::Zeroizing<[u8; 32]>;

fn zeroizing_bytes() -> Zeroizing32 {
    Zeroizing32::new([0; 32])
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Fills `out` from exactly `2 * out.len()` hex digits.
fn hex_decode(text: &str, out: &mut [u8]) -> Option<()> {
    if text.len() != out.len() * 2 || out.is_empty() {
        return None;
    }
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_another_key() {
        let key = PrivateKey::generate();
        let encrypted = key.public_key().encrypt(b"line one\nline two");
        let text = encrypted.strip_prefix(ENCRYPTED_PREFIX).unwrap();
        assert_eq!(key.decrypt(text).unwrap().expose(), b"line one\nline two");
        let other = PrivateKey::generate();
        assert_eq!(other.decrypt(text).unwrap_err(), CryptoProblem::WrongKey);
        assert_eq!(
            key.decrypt("bm90IGEgdmFsdWU=").unwrap_err(),
            CryptoProblem::Malformed
        );
    }

    #[test]
    fn decrypts_a_value_dotenvx_wrote() {
        // Written by `dotenvx encrypt` 2.38.2 for HELLO=world.
        let key = PrivateKey::from_hex(
            "bbd98c3e39815687fed831317b131d1fda04bd3e6ed140481dd9dd6f8e97906d",
        )
        .unwrap();
        assert_eq!(
            key.public_key().to_hex(),
            "033dd16ea6e37f627f7f6ca5d940c371bd411419c8a9a0bf8917ed8dc24cb429b0"
        );
        let value = "BJP89NDjp6MGBS/Dhs1iAZhd5gtu3Km9KMme1UqVmtUZAAQhCINuiOMi21Hjvrs7WLnGJOZk7oxy4swT2HOMwr2I/g++ZHxpu4Gzk+EKii22LM355aNQd4k+akSQX9PqJ03qttaR";
        assert_eq!(key.decrypt(value).unwrap().expose(), b"world");
    }

    #[test]
    fn private_keys_never_print() {
        let key = PrivateKey::generate();
        assert_eq!(format!("{key:?}"), "PrivateKey([REDACTED])");
        assert_eq!(
            PrivateKey::from_hex("abc").unwrap_err(),
            CryptoProblem::InvalidPrivateKey
        );
    }

    #[test]
    fn key_names_follow_the_file_name() {
        let names = |file: &str| KeyNames::for_file(Path::new(file), None).private;
        assert_eq!(names("dir/.env"), "DOTENV_PRIVATE_KEY");
        assert_eq!(names(".env.production"), "DOTENV_PRIVATE_KEY_PRODUCTION");
        assert_eq!(names(".env.ci.eu.x"), "DOTENV_PRIVATE_KEY_CI_EU");
        assert_eq!(names(".env1"), "DOTENV_PRIVATE_KEY_DEVELOPMENT1");
        assert_eq!(names(".env.staging.txt"), "DOTENV_PRIVATE_KEY_STAGING");
        assert_eq!(
            KeyNames::for_file(Path::new(".env"), Some("DOTENV_PUBLIC_KEY_CI")).private,
            "DOTENV_PRIVATE_KEY_CI"
        );
    }
}
