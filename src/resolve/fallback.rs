//! The encrypted last-known-good snapshot (part of stage 3, [`resolve`](crate::resolve)).
//!
//! After every successful resolution that involved a remote source (a secret manager: any kind
//! but `dotenv`, `dir` and `file`), what those sources yielded is written, encrypted, to one file
//! per plan. When a remote source later fails with a failure worth waiting out (network, timeout,
//! HTTP 429 or 5xx, after the provider's own retries: [`SourceError::is_retryable`]), the failed
//! sources are served from that snapshot, with a warning naming each one and the snapshot's age.
//! A definitive failure ([`SourceError::is_definitive`]: 401, 403, 404, not found, unusable
//! settings) deletes the snapshot: revoked access must not keep working from a cache.
//!
//! Invariants:
//! - The snapshot never holds `.env` or parent values, only what remote sources resolved to.
//! - The file is written atomically (temp file in the same directory, fsync, rename, fsync of the
//!   directory) with mode 0600 in a 0700 directory, so concurrent runs never read a torn file.
//! - AES-256-GCM (aws-lc-rs), a random 96-bit nonce per write, the header as associated data.
//!   The key material is `SECRETRUN_FALLBACK_PASSPHRASE` and the credentials the plan's
//!   providers consumed (their variables' values and, for `*_FILE` variables, the files'
//!   contents), whichever are set. A rotated credential or passphrase therefore makes an older
//!   snapshot unreadable, which counts as "no snapshot"; with neither, no snapshot is read or
//!   written.
//! - The key derivation depends on what the material holds ([`Kdf`]): with a passphrase,
//!   PBKDF2-HMAC-SHA256 ([`ITERATIONS`] rounds, random 128-bit salt per write); with credentials
//!   only, HKDF-SHA256 (random salt per write). A slow KDF exists to make guessing a
//!   low-entropy secret expensive: 200,000 rounds add about 17.6 bits of work per guess, which
//!   is what a human-chosen passphrase needs. The credentials consumed are all issued by a
//!   service, not chosen by a person (Doppler and Vault tokens, AWS secret access keys, Azure
//!   client secrets, OAuth access tokens, Vault AppRole secret IDs), with 122 bits (a UUID
//!   secret ID) to well over 128 bits of randomness. Guessing one is infeasible however fast
//!   each guess is, and HKDF, a PRF keyed by that material, is then as strong as the material:
//!   17.6 more bits on top of at least 122 change nothing, and cost ~26 ms of CPU on every run
//!   that writes. The KDF is named in the authenticated header, so either kind of file, and
//!   the PBKDF2-only files of earlier versions, open; a file in an unknown format is "no
//!   snapshot".
//! - A snapshot whose content, validators and KDF the run would write again unchanged is not
//!   rewritten; its modification time is set to now instead, and a snapshot's age counts from
//!   the later of its sealed write time and its modification time ("confirmed current").
//! - A snapshot that cannot be read or decrypted is "no snapshot" (a warning), never an error
//!   that hides the provider's own failure.
//! - Nothing here logs or prints a value; `Debug` of every type holding values is redacted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Write};
use std::num::NonZeroU32;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::{digest, hkdf, pbkdf2};
use base64::Engine as _;
use secrecy::zeroize::{Zeroize, Zeroizing};
use serde::{Deserialize, Serialize};

use crate::env::merge::Layer;
use crate::environment::ParentEnv;
use crate::error::{Error, SourceError};
use crate::providers::Entries;
use crate::secret::{EnvName, SecretValue};
use crate::source::{SourceClass, SourceKind};

/// PBKDF2-HMAC-SHA256 rounds for new passphrase snapshots: about 26 ms per key in a release
/// build on a shared AMD EPYC, overlapped with the fetches when writing.
pub const ITERATIONS: u32 = 200_000;
/// The variable holding a passphrase to derive the key from instead of the credentials.
pub const PASSPHRASE_VAR: &str = "SECRETRUN_FALLBACK_PASSPHRASE";

/// Today's format: the rounds field names the KDF ([`Kdf::from_rounds`]).
const MAGIC: &[u8; 8] = b"SRFBK\0\0\x03";
/// The format before HKDF: the same layout, always PBKDF2. Still read; never written.
const MAGIC_PBKDF2_ONLY: &[u8; 8] = b"SRFBK\0\0\x02";
const SALT_LEN: usize = 16;
/// The fixed part of the header: magic, rounds, salt, nonce, and the validators' length.
const HEADER_LEN: usize = MAGIC.len() + 4 + SALT_LEN + NONCE_LEN + 4;
/// More than any real set of tags: a longer claim marks a damaged file.
const MAX_VALIDATORS_LEN: usize = 1 << 20;
/// HKDF's `info`: binds the derived key to this use.
const HKDF_INFO: &[u8] = b"secretrun-fallback-snapshot-v3 aes-256-gcm";

/// The version tags (HTTP `ETag`s) the snapshot's entries were fetched with, by source origin.
/// Stored in the clear but authenticated, beside the encrypted entries, so a run can make its
/// conditional requests without first spending the key derivation; a tag names a version of a
/// config, never a value (the Doppler CLI keeps its own next to its fallback file the same way).
pub type Validators = BTreeMap<String, String>;
/// Files written with fewer rounds than this are refused, as are absurdly many (a slow start).
const MIN_ITERATIONS: u32 = 100_000;
const MAX_ITERATIONS: u32 = 10_000_000;

/// How a snapshot's key is derived from its material (see the module docs for why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    /// For a passphrase, which a person may have chosen: slow on purpose.
    Pbkdf2 { rounds: u32 },
    /// For service-issued credentials only, which carry enough entropy by themselves.
    Hkdf,
}

impl Kdf {
    /// What a new snapshot is sealed with, given whether a passphrase is part of the material.
    fn for_material(has_passphrase: bool) -> Kdf {
        if has_passphrase {
            Kdf::Pbkdf2 { rounds: ITERATIONS }
        } else {
            Kdf::Hkdf
        }
    }

    /// The header's rounds field: 0 for HKDF.
    fn rounds(self) -> u32 {
        match self {
            Kdf::Pbkdf2 { rounds } => rounds,
            Kdf::Hkdf => 0,
        }
    }

    /// The KDF a header's rounds field names, if it is an accepted one.
    fn from_rounds(rounds: u32, magic: &[u8]) -> Option<Kdf> {
        match rounds {
            0 if magic == MAGIC => Some(Kdf::Hkdf),
            MIN_ITERATIONS..=MAX_ITERATIONS => Some(Kdf::Pbkdf2 { rounds }),
            _ => None,
        }
    }
}

/// Whether a run reads and writes snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FallbackMode {
    /// `--no-fallback`: neither read nor write.
    Off,
    /// Write after success; serve from the snapshot when a remote source fails transiently.
    #[default]
    On,
    /// `--fallback-only` / `--offline`: never contact a provider; serve every remote source.
    Only,
}

/// The validated fallback flags and config keys.
#[derive(Debug, Clone, Default)]
pub struct FallbackSettings {
    pub mode: FallbackMode,
    /// `--fallback PATH`: this file instead of one per plan under the cache directory.
    pub path: Option<PathBuf>,
    /// `--fallback-max-age`: older snapshots are ignored.
    pub max_age: Option<Duration>,
}

impl FallbackSettings {
    /// Neither read nor write (for `check`, which must see every source as it is).
    pub fn disabled() -> Self {
        Self {
            mode: FallbackMode::Off,
            ..Self::default()
        }
    }
}

/// Whether a kind of source is remote: the only ones a snapshot holds or serves.
pub fn is_remote(kind: SourceKind) -> bool {
    kind.is_remote()
}

/// Non-secret settings that say which service a source of `kind` talks to; part of the plan's
/// identity, so a snapshot of one Vault is never served for another.
fn identity_vars(kind: SourceKind) -> &'static [&'static str] {
    kind.identity_variables()
}

/// One run's snapshot: where it lives, what its key is derived from, how old it may be.
pub struct Fallback {
    pub path: PathBuf,
    /// The passphrase and a digest of the consumed credentials, what there is of either.
    secret: SecretValue,
    /// What new snapshots are sealed with.
    kdf: Kdf,
    max_age: Option<Duration>,
}

impl fmt::Debug for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fallback")
            .field("path", &self.path)
            .field("secret", &"[REDACTED]")
            .field("kdf", &self.kdf)
            .field("max_age", &self.max_age)
            .finish()
    }
}

/// A remote source of the plan, as the snapshot identifies it.
pub struct Remote<'a> {
    pub origin: &'a str,
    pub kind: SourceKind,
}

impl Fallback {
    /// The run's snapshot, or `None` when fallback is off, no source is remote, or there is
    /// nothing to derive a key from. `parent` gives the passphrase and the cache directory;
    /// `settings` (the parent over `.env` values) gives identities and credentials.
    pub fn for_run(
        config: &FallbackSettings,
        parent: &ParentEnv,
        settings: &ParentEnv,
        remote: &[Remote<'_>],
        consumed: &BTreeSet<String>,
    ) -> Option<Fallback> {
        if config.mode == FallbackMode::Off || remote.is_empty() {
            return None;
        }
        // The passphrase and the credentials both: a passphrase alone would let a snapshot of
        // one service token's config be served to a run with another token for the same spec.
        let passphrase = parent.get(PASSPHRASE_VAR).filter(|p| !p.is_empty());
        let credentials = credential_material(settings, consumed);
        if passphrase.is_none() && credentials.is_none() {
            tracing::info!(
                "no fallback snapshot: no {PASSPHRASE_VAR} and no credential in the environment \
                 to derive its key from"
            );
            return None;
        }
        let kdf = Kdf::for_material(passphrase.is_some());
        let mut material = Zeroizing::new(b"secretrun-fallback-key-v1\0".to_vec());
        if let Some(passphrase) = passphrase {
            material.extend_from_slice(b"passphrase\0");
            material.extend_from_slice(passphrase.as_bytes());
            material.push(0);
        }
        if let Some(credentials) = credentials {
            material.extend_from_slice(b"credentials\0");
            material.extend_from_slice(credentials.expose());
        }
        let secret = SecretValue::new(material.to_vec());
        let path = match &config.path {
            Some(path) => path.clone(),
            None => {
                let Some(dir) = cache_dir(parent) else {
                    tracing::info!("no fallback snapshot: neither XDG_CACHE_HOME nor HOME is set");
                    return None;
                };
                dir.join(format!("{}.snapshot", plan_id(settings, remote)))
            }
        };
        Some(Fallback {
            path,
            secret,
            kdf,
            max_age: config.max_age,
        })
    }

    /// The snapshot, if there is a usable one. Anything but a missing file is logged as a
    /// warning by the caller's choice of [`Unusable::warn`].
    pub fn load(&self) -> Result<Snapshot, Unusable> {
        let (mut bytes, modified) = match read_file(&self.path) {
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(Unusable::Missing),
            Err(err) => return Err(Unusable::Unreadable(err)),
        };
        let snapshot = open(&self.secret, &mut bytes, modified)?;
        let age = snapshot.age();
        match self.max_age {
            Some(max) if age > max => Err(Unusable::TooOld { age, max }),
            _ => Ok(snapshot),
        }
    }

    /// The snapshot's file and its validators, read without decrypting it (`None` when there
    /// is no readable snapshot), for conditional fetches.
    pub fn peek(&self) -> Option<Sealed> {
        let (bytes, modified) = read_file(&self.path).ok()?;
        let header = parse_header(&bytes).ok()?;
        let reusable_salt = matches!(self.kdf, Kdf::Pbkdf2 { .. }) && header.kdf == self.kdf;
        Some(Sealed {
            bytes,
            modified,
            salt: reusable_salt.then_some(header.salt),
            validators: header.validators,
        })
    }

    /// Decrypts what [`peek`](Self::peek) read: the entries a provider just confirmed unchanged,
    /// however old the snapshot is.
    pub fn open_sealed(&self, mut sealed: Sealed) -> Result<Snapshot, Unusable> {
        open(&self.secret, &mut sealed.bytes, sealed.modified)
    }

    /// Writes `layers` as the new snapshot, with the validators of those layers' sources; when
    /// the snapshot there already holds exactly that, only marks it confirmed now. A failure is
    /// a warning: the run itself succeeded.
    pub fn save(&self, key: SealingKey, layers: &[Layer], validators: &Validators) {
        let validators = kept_validators(validators, layers);
        if self.holds_already(&key, layers, &validators) {
            match confirm(&self.path) {
                Ok(()) => tracing::debug!(
                    path = %self.path.display(),
                    "fallback snapshot unchanged: not rewritten, its age reset"
                ),
                Err(err) => tracing::warn!(
                    "cannot update the fallback snapshot '{}': {err}",
                    self.path.display()
                ),
            }
            return;
        }
        match self.try_save(key, layers, &validators) {
            Ok(()) => tracing::debug!(path = %self.path.display(), "fallback snapshot written"),
            Err(err) => tracing::warn!(
                "cannot write the fallback snapshot '{}': {err}",
                self.path.display()
            ),
        }
    }

    /// Whether the file holds what sealing `layers` with `validators` under `key` would: the
    /// same KDF, validators, sources and entries. PBKDF2 files must also have the key's salt, so
    /// that checking costs no second derivation.
    fn holds_already(&self, key: &SealingKey, layers: &[Layer], validators: &Validators) -> bool {
        let Ok(mut bytes) = std::fs::read(&self.path) else {
            return false;
        };
        let Ok(header) = parse_header(&bytes) else {
            return false;
        };
        let same_key = header.kdf == key.kdf && (key.kdf == Kdf::Hkdf || header.salt == key.salt);
        if !same_key || header.validators != *validators {
            return false;
        }
        let Ok(snapshot) = open(&self.secret, &mut bytes, None) else {
            return false;
        };
        snapshot.sources.len() == layers.len()
            && snapshot
                .sources
                .iter()
                .zip(layers)
                .all(|((origin, entries), layer)| {
                    *origin == layer.origin && same_entries(entries, &layer.entries)
                })
    }

    fn try_save(
        &self,
        key: SealingKey,
        layers: &[Layer],
        validators: &Validators,
    ) -> io::Result<()> {
        let sealed = seal(key, layers, validators, SystemTime::now())?;
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        // NamedTempFile creates the file with mode 0600, in the same directory so the rename
        // is atomic: a concurrent reader sees the old file or the new one, never a mix.
        let mut temp = tempfile::Builder::new()
            .prefix(".snapshot-")
            .tempfile_in(dir)?;
        temp.write_all(&sealed)?;
        temp.as_file().sync_all()?;
        temp.persist(&self.path).map_err(|err| err.error)?;
        std::fs::File::open(dir)?.sync_all()
    }

    /// Deletes the snapshot after a definitive failure.
    pub fn discard(&self) {
        match std::fs::remove_file(&self.path) {
            Ok(()) => tracing::warn!(
                "deleted the fallback snapshot '{}': a source failed for good",
                self.path.display()
            ),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(
                "cannot delete the fallback snapshot '{}': {err}",
                self.path.display()
            ),
        }
    }

    /// The key for the next write. PBKDF2 starts on the blocking pool, so its cost overlaps
    /// the fetches instead of adding to them, with the salt of the snapshot there is
    /// (`sealed`), so that the same key also opens it when a source turns out unchanged: one
    /// derivation per run, and none in a `--watch` round (see [`derive`]). HKDF costs
    /// microseconds: derived here.
    pub fn prepare_key(&self, sealed: Option<&Sealed>) -> PreparedKey {
        match self.kdf {
            Kdf::Hkdf => PreparedKey::Ready(SealingKey::new(&self.secret, Kdf::Hkdf, None)),
            kdf @ Kdf::Pbkdf2 { .. } => {
                let secret = self.secret.clone();
                let salt = sealed.and_then(|sealed| sealed.salt);
                PreparedKey::Deriving(tokio::task::spawn_blocking(move || {
                    SealingKey::new(&secret, kdf, salt)
                }))
            }
        }
    }
}

/// A key for the next write: derived, or being derived.
pub enum PreparedKey {
    Ready(SealingKey),
    Deriving(tokio::task::JoinHandle<SealingKey>),
}

impl PreparedKey {
    /// The key, once derived (`None` if deriving it panicked).
    pub async fn wait(self) -> Option<SealingKey> {
        match self {
            PreparedKey::Ready(key) => Some(key),
            PreparedKey::Deriving(handle) => handle.await.ok(),
        }
    }
}

/// A file's content and modification time.
fn read_file(path: &Path) -> io::Result<(Vec<u8>, Option<SystemTime>)> {
    let mut file = std::fs::File::open(path)?;
    let modified = file.metadata()?.modified().ok();
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok((bytes, modified))
}

/// Marks the snapshot at `path` confirmed current: its modification time becomes now.
fn confirm(path: &Path) -> io::Result<()> {
    std::fs::File::options()
        .write(true)
        .open(path)?
        .set_modified(SystemTime::now())
}

fn same_entries(a: &Entries, b: &Entries) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((name_a, value_a), (name_b, value_b))| {
                name_a == name_b && value_a.expose() == value_b.expose()
            })
}

/// The validators of the sources `layers` hold: a tag without its entries is never stored.
fn kept_validators(validators: &Validators, layers: &[Layer]) -> Validators {
    validators
        .iter()
        .filter(|(origin, _)| layers.iter().any(|layer| &layer.origin == *origin))
        .map(|(origin, tag)| (origin.clone(), tag.clone()))
        .collect()
}

/// `$XDG_CACHE_HOME/secretrun`, else `$HOME/.cache/secretrun` (XDG requires an absolute path).
fn cache_dir(env: &ParentEnv) -> Option<PathBuf> {
    let absolute = |name| {
        env.get(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|dir| dir.join("secretrun"))
}

/// The hex SHA-256 of the remote sources' spec texts, in declared order, and the non-secret
/// settings that identify the services they talk to.
fn plan_id(settings: &ParentEnv, remote: &[Remote<'_>]) -> String {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(b"secretrun-fallback-plan-v1\0");
    let mut kinds = Vec::new();
    for source in remote {
        context.update(b"source\0");
        context.update(source.origin.as_bytes());
        context.update(b"\0");
        if !kinds.contains(&source.kind) {
            kinds.push(source.kind);
        }
    }
    let mut names: Vec<&str> = kinds.into_iter().flat_map(identity_vars).copied().collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        if let Some(value) = settings.get(name) {
            context.update(name.as_bytes());
            context.update(b"=");
            context.update(value.as_bytes());
            context.update(b"\0");
        }
    }
    hex(context.finish().as_ref())
}

/// A digest of the credentials the plan's providers consumed: each variable's value and, for a
/// `*_FILE` variable, the file's content. `None` when none is set.
fn credential_material(settings: &ParentEnv, consumed: &BTreeSet<String>) -> Option<SecretValue> {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(b"credentials\0");
    let mut found = false;
    for name in consumed {
        let Some(value) = settings.get(name).filter(|v| !v.is_empty()) else {
            continue;
        };
        found = true;
        context.update(name.as_bytes());
        context.update(b"=");
        context.update(value.as_bytes());
        context.update(b"\0");
        if name.ends_with("_FILE") {
            if let Ok(content) = std::fs::read(value).map(Zeroizing::new) {
                // Trimmed as the providers trim it, so `echo token > file` keeps the same key.
                context.update(b"content=");
                context.update(content.trim_ascii());
                context.update(b"\0");
            }
        }
    }
    found.then(|| SecretValue::new(context.finish().as_ref().to_vec()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// PBKDF2 keys this process derived, by a digest of what they were derived from: a `--watch`
/// round, and a run that opens the snapshot it then rewrites, pay PBKDF2 once, not per use. A
/// memo of a pure function, kept as long as the process, which holds the secrets anyway. The
/// lock is held while deriving, so a key asked for twice at once is derived once.
static DERIVED: Mutex<Vec<Remembered>> = Mutex::new(Vec::new());
/// A digest of a derivation's inputs (rounds, salt, secret), and the key.
type Remembered = ([u8; 32], Zeroizing<[u8; 32]>);
/// More than one run ever needs (one plan, one key): a bound, not a tuning.
const DERIVED_KEPT: usize = 4;

fn derive(secret: &SecretValue, salt: &[u8], kdf: Kdf) -> Zeroizing<[u8; 32]> {
    let iterations = match kdf {
        Kdf::Hkdf => return hkdf_key(secret, salt),
        Kdf::Pbkdf2 { rounds } => rounds,
    };
    let mut inputs = digest::Context::new(&digest::SHA256);
    inputs.update(&iterations.to_be_bytes());
    inputs.update(salt);
    inputs.update(secret.expose());
    let inputs: [u8; 32] = inputs.finish().as_ref().try_into().expect("SHA-256 size");
    let mut derived = DERIVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, key)) = derived.iter().find(|(of, _)| *of == inputs) {
        return key.clone();
    }
    let key = pbkdf2_key(secret, salt, iterations);
    if derived.len() == DERIVED_KEPT {
        derived.remove(0);
    }
    derived.push((inputs, key.clone()));
    key
}

fn pbkdf2_key(secret: &SecretValue, salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    let rounds = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        secret.expose(),
        &mut key[..],
    );
    key
}

fn hkdf_key(secret: &SecretValue, salt: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf::Salt::new(hkdf::HKDF_SHA256, salt)
        .extract(secret.expose())
        .expand(&[HKDF_INFO], hkdf::HKDF_SHA256)
        .and_then(|okm| okm.fill(&mut key[..]))
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

// Salts and nonces come from the kernel (getrandom(2)), not from aws-lc's generator: its first
// use seeds a DRBG with CPU-jitter entropy, tens of milliseconds of CPU that a run over plain
// HTTP (or with nothing to write) would otherwise pay only for 28 random bytes.

/// A derived key with its KDF and fresh salt, ready for one write.
pub struct SealingKey {
    kdf: Kdf,
    salt: [u8; SALT_LEN],
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey([REDACTED])")
    }
}

impl SealingKey {
    /// The key for `salt`, or for a new random salt. Writing again under the salt of the file
    /// it replaces is sound: every write has a random nonce of its own.
    pub fn new(secret: &SecretValue, kdf: Kdf, salt: Option<[u8; SALT_LEN]>) -> Self {
        let salt = salt.unwrap_or_else(|| {
            let mut salt = [0u8; SALT_LEN];
            getrandom::getrandom(&mut salt).expect("the system random generator works");
            salt
        });
        let key = derive(secret, &salt, kdf);
        Self { kdf, salt, key }
    }
}

/// Why there is no usable snapshot.
#[derive(Debug)]
pub enum Unusable {
    Missing,
    Unreadable(io::Error),
    /// Not a snapshot, a damaged one, or one sealed with another key.
    Undecryptable,
    TooOld {
        age: Duration,
        max: Duration,
    },
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unusable::Missing => f.write_str("there is no snapshot"),
            Unusable::Unreadable(err) => write!(f, "cannot read it: {err}"),
            Unusable::Undecryptable => f.write_str(
                "it cannot be decrypted (the passphrase or the credentials changed, or the file \
                 is damaged)",
            ),
            Unusable::TooOld { age, max } => write!(
                f,
                "it is {} old, older than --fallback-max-age {}",
                format_age(*age),
                humantime::format_duration(*max)
            ),
        }
    }
}

/// An age to the second (to the millisecond under a second).
pub fn format_age(age: Duration) -> String {
    if age < Duration::from_secs(1) {
        humantime::format_duration(Duration::from_millis(age.as_millis() as u64)).to_string()
    } else {
        humantime::format_duration(Duration::from_secs(age.as_secs())).to_string()
    }
}

/// A decrypted snapshot: the remote sources' entries by origin, and when they were last known
/// current (fetched, or confirmed unchanged).
pub struct Snapshot {
    confirmed_at: SystemTime,
    sources: Vec<(String, Entries)>,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("confirmed_at", &self.confirmed_at)
            .field(
                "sources",
                &self.sources.iter().map(|(o, _)| o).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    pub fn age(&self) -> Duration {
        SystemTime::now()
            .duration_since(self.confirmed_at)
            .unwrap_or_default()
    }

    /// The entries the source named `origin` had, as a layer of `class`.
    pub fn layer(&self, origin: &str, class: SourceClass) -> Option<Layer> {
        self.sources
            .iter()
            .find(|(o, _)| o == origin)
            .map(|(origin, entries)| Layer {
                origin: origin.clone(),
                class,
                entries: entries.clone(),
            })
    }
}

/// The plaintext, as JSON; values in base64 since a secret may be any bytes but NUL.
#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    written_at_ms: u64,
    sources: Vec<StoredSource>,
}

#[derive(Serialize, Deserialize)]
struct StoredSource {
    origin: String,
    entries: Vec<(String, String)>,
}

impl Drop for StoredSource {
    fn drop(&mut self) {
        for (_, value) in &mut self.entries {
            value.zeroize();
        }
    }
}

/// A snapshot file as read, not yet decrypted.
pub struct Sealed {
    bytes: Vec<u8>,
    modified: Option<SystemTime>,
    /// Its salt, when it was sealed with today's PBKDF2 (a key for it can seal the next one).
    salt: Option<[u8; SALT_LEN]>,
    pub validators: Validators,
}

fn seal(
    key: SealingKey,
    layers: &[Layer],
    validators: &Validators,
    now: SystemTime,
) -> io::Result<Vec<u8>> {
    let base64 = &base64::engine::general_purpose::STANDARD;
    let stored = Stored {
        version: 1,
        written_at_ms: now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64,
        sources: layers
            .iter()
            .map(|layer| StoredSource {
                origin: layer.origin.clone(),
                entries: layer
                    .entries
                    .iter()
                    .map(|(name, value)| (name.to_string(), base64.encode(value.expose())))
                    .collect(),
            })
            .collect(),
    };
    let mut plaintext = Zeroizing::new(serde_json::to_vec(&stored).map_err(io::Error::other)?);
    drop(stored);

    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut nonce).map_err(|_| io::Error::other("no random nonce"))?;
    let kept =
        serde_json::to_vec(&kept_validators(validators, layers)).map_err(io::Error::other)?;
    let mut out = Vec::with_capacity(HEADER_LEN + kept.len() + plaintext.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&key.kdf.rounds().to_be_bytes());
    out.extend_from_slice(&key.salt);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&(kept.len() as u32).to_be_bytes());
    out.extend_from_slice(&kept);
    let header = out.clone();
    let sealing = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &key.key[..]).map_err(|_| io::Error::other("bad key"))?,
    );
    let mut body = plaintext.to_vec();
    plaintext.zeroize();
    sealing
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&header[..]),
            &mut body,
        )
        .map_err(|_| io::Error::other("encryption failed"))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// The header's fields, checked.
pub(crate) struct Header {
    kdf: Kdf,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    validators: Validators,
    /// Where the ciphertext starts: everything before it is associated data.
    len: usize,
}

/// Public for the fuzz targets and properties (`crate::parsers`), which feed it any bytes.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<Header, Unusable> {
    if bytes.len() < HEADER_LEN + 16 {
        return Err(Unusable::Undecryptable);
    }
    let magic = &bytes[..MAGIC.len()];
    if magic != MAGIC && magic != MAGIC_PBKDF2_ONLY {
        return Err(Unusable::Undecryptable);
    }
    let field = |at: usize, len: usize| &bytes[at..at + len];
    let be_u32 = |at| u32::from_be_bytes(field(at, 4).try_into().expect("4 bytes"));
    let kdf = Kdf::from_rounds(be_u32(8), magic).ok_or(Unusable::Undecryptable)?;
    let validators_len = be_u32(HEADER_LEN - 4) as usize;
    if validators_len > MAX_VALIDATORS_LEN || bytes.len() < HEADER_LEN + validators_len + 16 {
        return Err(Unusable::Undecryptable);
    }
    let validators = serde_json::from_slice(field(HEADER_LEN, validators_len))
        .map_err(|_| Unusable::Undecryptable)?;
    Ok(Header {
        kdf,
        salt: field(12, SALT_LEN).try_into().expect("salt length"),
        nonce: field(12 + SALT_LEN, NONCE_LEN)
            .try_into()
            .expect("nonce length"),
        validators,
        len: HEADER_LEN + validators_len,
    })
}

/// Decrypts a snapshot file's `bytes`; `modified` is the file's modification time.
fn open(
    secret: &SecretValue,
    bytes: &mut [u8],
    modified: Option<SystemTime>,
) -> Result<Snapshot, Unusable> {
    let parsed = parse_header(bytes)?;
    let (header, body) = bytes.split_at_mut(parsed.len);
    let nonce = Nonce::assume_unique_for_key(parsed.nonce);
    let key = derive(secret, &parsed.salt, parsed.kdf);
    let opening = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &key[..]).map_err(|_| Unusable::Undecryptable)?,
    );
    let plaintext = opening
        .open_in_place(nonce, Aad::from(&header[..]), body)
        .map_err(|_| Unusable::Undecryptable)?;
    let parsed: Result<Stored, _> = serde_json::from_slice(plaintext);
    plaintext.zeroize();
    let stored = parsed.map_err(|_| Unusable::Undecryptable)?;
    let base64 = &base64::engine::general_purpose::STANDARD;
    let mut sources = Vec::with_capacity(stored.sources.len());
    for source in &stored.sources {
        let mut entries = Vec::with_capacity(source.entries.len());
        for (name, value) in &source.entries {
            let name = EnvName::new(name.clone()).map_err(|_| Unusable::Undecryptable)?;
            let value = base64.decode(value).map_err(|_| Unusable::Undecryptable)?;
            entries.push((name, SecretValue::new(value)));
        }
        sources.push((source.origin.clone(), entries));
    }
    let written_at = UNIX_EPOCH + Duration::from_millis(stored.written_at_ms);
    Ok(Snapshot {
        confirmed_at: modified.map_or(written_at, |modified| modified.max(written_at)),
        sources,
    })
}

/// What one fetch of phase 2 gave, for [`settle`].
pub struct Attempt<Id> {
    /// Which source this is, as the caller names it; [`Settled::layers`] is keyed by it.
    pub id: Id,
    pub origin: String,
    pub class: SourceClass,
    pub remote: bool,
    /// `None`: not fetched (`--fallback-only`).
    pub result: Option<Result<Entries, SourceError>>,
}

/// Phase 2's layers after the fallback rules, and what to write as the new snapshot.
pub struct Settled<Id> {
    /// Each source's layer with its id, in the order the attempts came.
    pub layers: Vec<(Id, Layer)>,
    /// The remote layers, when every one was fetched fresh.
    pub remote: Option<Vec<Layer>>,
}

/// Applies the fallback rules to phase 2's results, in declared order: fresh layers are kept;
/// failed remote sources are served from the snapshot when every failure is transient; a
/// definitive remote failure deletes the snapshot. Without fallback every failure is reported,
/// as [`Error::from_many`] reports them.
pub fn settle<Id>(
    fallback: Option<&Fallback>,
    mode: FallbackMode,
    attempts: Vec<Attempt<Id>>,
) -> Result<Settled<Id>, Error> {
    let failed_remote = |attempt: &Attempt<Id>| match &attempt.result {
        None => true,
        Some(Err(_)) => attempt.remote,
        Some(Ok(_)) => false,
    };
    let needs_snapshot = attempts.iter().any(failed_remote);
    let definitive = attempts.iter().any(|attempt| {
        attempt.remote && matches!(&attempt.result, Some(Err(error)) if error.is_definitive())
    });
    // Only when every failure is a remote one worth waiting out is the snapshot any use.
    let all_eligible = attempts.iter().all(|attempt| match &attempt.result {
        Some(Err(error)) => attempt.remote && error.is_retryable(),
        _ => true,
    });
    if definitive {
        if let Some(fallback) = fallback {
            fallback.discard();
        }
    }
    let snapshot = match fallback {
        Some(fallback)
            if needs_snapshot && (mode == FallbackMode::Only || all_eligible) && !definitive =>
        {
            match fallback.load() {
                Ok(snapshot) => Some(snapshot),
                Err(why) => {
                    if mode == FallbackMode::Only {
                        return Err(Error::NoSnapshot {
                            path: fallback.path.clone(),
                            problem: why.to_string(),
                        });
                    }
                    match why {
                        Unusable::Missing => tracing::debug!(
                            path = %fallback.path.display(),
                            "no fallback snapshot"
                        ),
                        why => tracing::warn!(
                            "ignoring the fallback snapshot '{}': {why}",
                            fallback.path.display()
                        ),
                    }
                    None
                }
            }
        }
        None if mode == FallbackMode::Only && needs_snapshot => {
            return Err(Error::NoSnapshot {
                path: PathBuf::from("(none)"),
                problem: format!(
                    "no snapshot can be used: set {PASSPHRASE_VAR} or a provider credential"
                ),
            })
        }
        _ => None,
    };

    let mut layers = Vec::with_capacity(attempts.len());
    let mut remote = Vec::new();
    let mut errors = Vec::new();
    let fresh = !needs_snapshot;
    for attempt in attempts {
        let served = |error: Option<&SourceError>| {
            let snapshot = snapshot.as_ref()?;
            let layer = snapshot.layer(&attempt.origin, attempt.class)?;
            let age = format_age(snapshot.age());
            match error {
                Some(error) => tracing::warn!(
                    "{}: {error}; serving its last-known-good values from the fallback \
                     snapshot, {age} old",
                    attempt.origin
                ),
                None => tracing::info!(
                    "{}: served from the fallback snapshot, {age} old",
                    attempt.origin
                ),
            }
            Some(layer)
        };
        match attempt.result {
            Some(Ok(entries)) => {
                tracing::info!(source = %attempt.origin, names = entries.len(), "resolved");
                let layer = Layer {
                    origin: attempt.origin,
                    class: attempt.class,
                    entries,
                };
                if attempt.remote && fresh && fallback.is_some() {
                    remote.push(layer.clone());
                }
                layers.push((attempt.id, layer));
            }
            Some(Err(error)) => match served(Some(&error)) {
                Some(layer) => layers.push((attempt.id, layer)),
                None => errors.push(Error::Source {
                    origin: attempt.origin,
                    error,
                }),
            },
            None => match served(None) {
                Some(layer) => layers.push((attempt.id, layer)),
                None => errors.push(Error::NoSnapshot {
                    path: fallback.map(|f| f.path.clone()).unwrap_or_default(),
                    problem: format!("it holds nothing for {}", attempt.origin),
                }),
            },
        }
    }
    if let Some(error) = Error::from_many(errors) {
        return Err(error);
    }
    Ok(Settled {
        layers,
        remote: (fresh && !remote.is_empty()).then_some(remote),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn layer(origin: &str, pairs: &[(&str, &str)]) -> Layer {
        Layer {
            origin: origin.into(),
            class: SourceClass::Secret,
            entries: pairs
                .iter()
                .map(|(n, v)| (EnvName::new(*n).unwrap(), SecretValue::from(v.to_string())))
                .collect(),
        }
    }

    /// A tag for `doppler:*`, and one for a source no layer has (never stored).
    fn tags() -> Validators {
        [
            ("doppler:*".to_string(), "\"v1\"".to_string()),
            ("gone:*".to_string(), "\"v0\"".to_string()),
        ]
        .into()
    }

    fn secret(text: &str) -> SecretValue {
        SecretValue::from(text.to_string())
    }

    fn value(snapshot: &Snapshot, origin: &str, name: &str) -> Vec<u8> {
        let layer = snapshot.layer(origin, SourceClass::Secret).unwrap();
        let (_, value) = layer
            .entries
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .unwrap();
        value.expose().to_vec()
    }

    const PBKDF2: Kdf = Kdf::Pbkdf2 { rounds: ITERATIONS };

    #[test]
    fn round_trip() {
        for kdf in [PBKDF2, Kdf::Hkdf] {
            round_trip_with(kdf);
        }
    }

    fn round_trip_with(kdf: Kdf) {
        let layers = [
            layer("doppler:*", &[("API_KEY", "k-1"), ("DB", "pg://x")]),
            layer("vault:secret/app", &[("BIN", "\u{1}\u{ff}bytes")]),
        ];
        let sealed = seal(
            SealingKey::new(&secret("pw"), kdf, None),
            &layers,
            &tags(),
            SystemTime::now(),
        )
        .unwrap();
        let mut bytes = sealed.clone();
        let snapshot = open(&secret("pw"), &mut bytes, None).unwrap();
        assert_eq!(value(&snapshot, "doppler:*", "API_KEY"), b"k-1");
        assert_eq!(value(&snapshot, "doppler:*", "DB"), b"pg://x");
        assert_eq!(
            value(&snapshot, "vault:secret/app", "BIN"),
            "\u{1}\u{ff}bytes".as_bytes()
        );
        assert!(snapshot.age() < Duration::from_secs(60));
        // The validators are readable without the key, only for sources the snapshot holds.
        let header = parse_header(&sealed).unwrap();
        assert_eq!(header.kdf, kdf);
        assert_eq!(
            header.validators,
            Validators::from([("doppler:*".to_string(), "\"v1\"".to_string())])
        );
        // The values are not in the file in any readable form.
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("k-1") && !text.contains("pg://x") && !text.contains("API_KEY"));
        assert!(!format!("{snapshot:?}").contains("k-1"));
    }

    #[test]
    fn wrong_key_and_tampering_are_undecryptable() {
        for kdf in [PBKDF2, Kdf::Hkdf] {
            wrong_key_and_tampering_with(kdf);
        }
    }

    fn wrong_key_and_tampering_with(kdf: Kdf) {
        let layers = [layer("doppler:*", &[("API_KEY", "k-1")])];
        let sealed = seal(
            SealingKey::new(&secret("pw"), kdf, None),
            &layers,
            &tags(),
            SystemTime::now(),
        )
        .unwrap();
        assert!(matches!(
            open(&secret("other"), &mut sealed.clone(), None),
            Err(Unusable::Undecryptable)
        ));
        // Every byte matters: header (authenticated as associated data), body and tag.
        for index in [0, 9, 14, HEADER_LEN - 1, HEADER_LEN, sealed.len() - 1] {
            let mut bytes = sealed.clone();
            bytes[index] ^= 0x01;
            assert!(
                matches!(
                    open(&secret("pw"), &mut bytes, None),
                    Err(Unusable::Undecryptable)
                ),
                "{kdf:?}, byte {index}"
            );
        }
        let mut truncated = sealed[..sealed.len() - 1].to_vec();
        assert!(open(&secret("pw"), &mut truncated, None).is_err());
        assert!(open(&secret("pw"), &mut Vec::new(), None).is_err());
    }

    #[test]
    fn file_is_0600_in_a_0700_dir_and_max_age_applies() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("cache/secretrun/plan.snapshot");
        let fallback = Fallback {
            path: path.clone(),
            secret: secret("pw"),
            kdf: PBKDF2,
            max_age: None,
        };
        let layers = [layer("doppler:*", &[("API_KEY", "k-1")])];
        fallback.save(
            SealingKey::new(&fallback.secret, PBKDF2, None),
            &layers,
            &tags(),
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        // No temp file is left behind.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
        assert_eq!(
            value(&fallback.load().unwrap(), "doppler:*", "API_KEY"),
            b"k-1"
        );
        let sealed = fallback.peek().unwrap();
        assert_eq!(sealed.validators.get("doppler:*").unwrap(), "\"v1\"");
        assert_eq!(
            value(
                &fallback.open_sealed(sealed).unwrap(),
                "doppler:*",
                "API_KEY"
            ),
            b"k-1"
        );

        std::thread::sleep(Duration::from_millis(5));
        let strict = Fallback {
            max_age: Some(Duration::from_millis(1)),
            ..fallback
        };
        assert!(matches!(strict.load(), Err(Unusable::TooOld { .. })));
        strict.discard();
        assert!(matches!(strict.load(), Err(Unusable::Missing)));
    }

    #[test]
    fn remembered_keys_are_only_served_for_the_same_secret_salt_and_rounds() {
        let salt = [7u8; SALT_LEN];
        let kdf = Kdf::Pbkdf2 {
            rounds: MIN_ITERATIONS,
        };
        let first = derive(&secret("pw-memo"), &salt, kdf);
        assert_eq!(first, derive(&secret("pw-memo"), &salt, kdf));
        assert_eq!(first, pbkdf2_key(&secret("pw-memo"), &salt, MIN_ITERATIONS));
        for (secret_text, salt, rounds) in [
            ("pw-memo2", salt, MIN_ITERATIONS),
            ("pw-memo", [8u8; SALT_LEN], MIN_ITERATIONS),
            ("pw-memo", salt, MIN_ITERATIONS + 1),
        ] {
            let other = derive(&secret(secret_text), &salt, Kdf::Pbkdf2 { rounds });
            assert_ne!(first, other);
            assert_eq!(other, pbkdf2_key(&secret(secret_text), &salt, rounds));
        }
        // A key prepared for a snapshot's salt opens that snapshot and seals the next one.
        let layers = [layer("doppler:*", &[("API_KEY", "k-1")])];
        let sealed = seal(
            SealingKey::new(&secret("pw-memo"), PBKDF2, Some(salt)),
            &layers,
            &tags(),
            SystemTime::now(),
        )
        .unwrap();
        assert_eq!(parse_header(&sealed).unwrap().salt, salt);
        let opened = open(&secret("pw-memo"), &mut sealed.clone(), None).unwrap();
        assert_eq!(value(&opened, "doppler:*", "API_KEY"), b"k-1");
    }

    #[test]
    fn plan_id_depends_on_specs_and_identity_not_credentials() {
        let remote = [Remote {
            origin: "doppler:*",
            kind: SourceKind::Doppler,
        }];
        let a = ParentEnv::from_pairs([("DOPPLER_API_HOST", "https://a"), ("DOPPLER_TOKEN", "1")]);
        let b = ParentEnv::from_pairs([("DOPPLER_API_HOST", "https://a"), ("DOPPLER_TOKEN", "2")]);
        let c = ParentEnv::from_pairs([("DOPPLER_API_HOST", "https://c")]);
        assert_eq!(plan_id(&a, &remote), plan_id(&b, &remote));
        assert_ne!(plan_id(&a, &remote), plan_id(&c, &remote));
        let other = [Remote {
            origin: "doppler:APP",
            kind: SourceKind::Doppler,
        }];
        assert_ne!(plan_id(&a, &remote), plan_id(&a, &other));
    }

    #[test]
    fn credentials_decide_the_key_material() {
        let consumed: BTreeSet<String> = ["DOPPLER_TOKEN".to_string()].into();
        let one = ParentEnv::from_pairs([("DOPPLER_TOKEN", "t1")]);
        let two = ParentEnv::from_pairs([("DOPPLER_TOKEN", "t2")]);
        let a = credential_material(&one, &consumed).unwrap();
        let b = credential_material(&two, &consumed).unwrap();
        assert_ne!(a.expose(), b.expose());
        assert!(credential_material(&ParentEnv::default(), &consumed).is_none());
    }

    /// The fallback of a run reading `doppler:*` with `DOPPLER_TOKEN` (and a passphrase, if
    /// given), its snapshot at `path`.
    fn doppler_fallback(path: &Path, passphrase: Option<&str>) -> Fallback {
        let token = "dp.st.dev.fixture-token-for-legacy-snapshot-0123456789abcdef";
        let settings = ParentEnv::from_pairs([("DOPPLER_TOKEN", token)]);
        let parent = settings.over(passphrase.map(|passphrase| (PASSPHRASE_VAR, passphrase)));
        let config = FallbackSettings {
            path: Some(path.to_path_buf()),
            ..FallbackSettings::default()
        };
        let remote = [Remote {
            origin: "doppler:*",
            kind: SourceKind::Doppler,
        }];
        let consumed = ["DOPPLER_TOKEN".to_string()].into();
        Fallback::for_run(&config, &parent, &settings, &remote, &consumed).unwrap()
    }

    /// The KDF named in the header of the file at `path`.
    fn kdf_on_disk(path: &Path) -> Kdf {
        parse_header(&std::fs::read(path).unwrap()).unwrap().kdf
    }

    #[test]
    fn credentials_alone_use_hkdf_and_a_passphrase_keeps_pbkdf2() {
        let temp = tempfile::tempdir().unwrap();
        let layers = [layer("doppler:*", &[("API_KEY", "k-1")])];
        for (passphrase, kdf) in [(None, Kdf::Hkdf), (Some("correct horse"), PBKDF2)] {
            let path = temp.path().join(format!("{kdf:?}.snapshot"));
            let fallback = doppler_fallback(&path, passphrase);
            assert_eq!(fallback.kdf, kdf);
            let key = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(async { fallback.prepare_key(None).wait().await })
                .unwrap();
            fallback.save(key, &layers, &tags());
            assert_eq!(kdf_on_disk(&path), kdf);
            assert_eq!(&std::fs::read(&path).unwrap()[..MAGIC.len()], MAGIC);
            assert_eq!(
                value(&fallback.load().unwrap(), "doppler:*", "API_KEY"),
                b"k-1"
            );
        }
        // Each KDF gives its own key, and HKDF's depends on the salt and the secret.
        let salt = [3u8; SALT_LEN];
        let hkdf = derive(&secret("pw"), &salt, Kdf::Hkdf);
        assert_eq!(hkdf, hkdf_key(&secret("pw"), &salt));
        assert_ne!(hkdf, derive(&secret("pw"), &salt, PBKDF2));
        assert_ne!(hkdf, derive(&secret("pw"), &[4u8; SALT_LEN], Kdf::Hkdf));
        assert_ne!(hkdf, derive(&secret("pw2"), &salt, Kdf::Hkdf));
    }

    /// Snapshots written by the version before HKDF (`tests/fixtures/fallback`, see its
    /// README) still open. A token-only one is written again with HKDF even when unchanged, so
    /// the next run opens it cheaply; a passphrase one unchanged is left as it is (same KDF).
    #[test]
    fn pbkdf2_only_snapshots_of_earlier_versions_open_and_are_resealed() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fallback");
        let temp = tempfile::tempdir().unwrap();
        for (file, passphrase, magic_after, kdf_after) in [
            ("legacy-token.snapshot", None, MAGIC, Kdf::Hkdf),
            (
                "legacy-passphrase.snapshot",
                Some("correct horse"),
                MAGIC_PBKDF2_ONLY,
                PBKDF2,
            ),
        ] {
            let path = temp.path().join(file);
            std::fs::copy(fixtures.join(file), &path).unwrap();
            assert_eq!(&std::fs::read(&path).unwrap()[..8], MAGIC_PBKDF2_ONLY);
            let fallback = doppler_fallback(&path, passphrase);
            let snapshot = fallback.load().unwrap();
            assert_eq!(
                value(&snapshot, "doppler:*", "LEGACY_NAME"),
                b"legacy-value-7f3a"
            );
            let sealed = fallback.peek().unwrap();
            let validators = sealed.validators.clone();
            assert!(validators.contains_key("doppler:*"), "{validators:?}");
            // The same entries and tag again.
            let layers = [snapshot.layer("doppler:*", SourceClass::Secret).unwrap()];
            let key = SealingKey::new(&fallback.secret, fallback.kdf, sealed.salt);
            fallback.save(key, &layers, &validators);
            assert_eq!(&std::fs::read(&path).unwrap()[..8], magic_after);
            assert_eq!(kdf_on_disk(&path), kdf_after);
            assert_eq!(
                value(&fallback.load().unwrap(), "doppler:*", "LEGACY_NAME"),
                b"legacy-value-7f3a"
            );
            // The wrong credentials or passphrase: no snapshot, as before.
            let other = doppler_fallback(&path, Some("battery staple"));
            assert!(matches!(other.load(), Err(Unusable::Undecryptable)));
        }
    }

    #[test]
    fn formats_other_than_known_ones_are_undecryptable() {
        let layers = [layer("doppler:*", &[("API_KEY", "k-1")])];
        let sealed = seal(
            SealingKey::new(&secret("pw"), Kdf::Hkdf, None),
            &layers,
            &tags(),
            SystemTime::now(),
        )
        .unwrap();
        // HKDF (rounds 0) is not a KDF the PBKDF2-only format knows; a later format is unknown.
        for magic in [MAGIC_PBKDF2_ONLY, b"SRFBK\0\0\x04"] {
            let mut bytes = sealed.clone();
            bytes[..8].copy_from_slice(magic);
            assert!(matches!(parse_header(&bytes), Err(Unusable::Undecryptable)));
        }
        // Rounds below the minimum are refused, not a cheap PBKDF2.
        let mut bytes = sealed.clone();
        bytes[8..12].copy_from_slice(&(MIN_ITERATIONS - 1).to_be_bytes());
        assert!(matches!(parse_header(&bytes), Err(Unusable::Undecryptable)));
    }

    #[test]
    fn an_unchanged_snapshot_is_confirmed_not_rewritten() {
        use std::os::unix::fs::MetadataExt;
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("plan.snapshot");
        let fallback = doppler_fallback(&path, None);
        let layers = [layer("doppler:*", &[("API_KEY", "k-1")])];
        // Fetched two hours ago, by the content and by the file's time.
        let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
        let key = SealingKey::new(&fallback.secret, Kdf::Hkdf, None);
        std::fs::write(&path, seal(key, &layers, &tags(), two_hours_ago).unwrap()).unwrap();
        let set_modified = |time| {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(time)
                .unwrap()
        };
        set_modified(two_hours_ago);
        assert!(fallback.load().unwrap().age() > Duration::from_secs(7000));
        let before = std::fs::read(&path).unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();

        // The same entries and tags again, with a fresh key: the file stays, its age resets.
        let fresh_key = || SealingKey::new(&fallback.secret, fallback.kdf, None);
        fallback.save(fresh_key(), &layers, &tags());
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(fallback.load().unwrap().age() < Duration::from_secs(60));

        // Another tag, another value, another source: each is written.
        let mut tags_changed = tags();
        tags_changed.insert("doppler:*".into(), "\"v2\"".into());
        let changed_value = [layer("doppler:*", &[("API_KEY", "k-2")])];
        let more_sources = [
            layer("doppler:*", &[("API_KEY", "k-1")]),
            layer("vault:secret/app", &[("DB", "x")]),
        ];
        for (layers, tags) in [
            (&layers[..], &tags_changed),
            (&changed_value[..], &tags()),
            (&more_sources[..], &tags()),
        ] {
            let before = std::fs::read(&path).unwrap();
            fallback.save(fresh_key(), layers, tags);
            assert_ne!(std::fs::read(&path).unwrap(), before);
            let snapshot = fallback.load().unwrap();
            for layer in layers {
                let stored = snapshot.layer(&layer.origin, SourceClass::Secret).unwrap();
                assert!(same_entries(&stored.entries, &layer.entries));
            }
        }

        // PBKDF2: unchanged under the key prepared with the file's salt (one derivation).
        let passphrase = doppler_fallback(&path, Some("correct horse"));
        passphrase.save(
            SealingKey::new(&passphrase.secret, PBKDF2, None),
            &layers,
            &tags(),
        );
        let before = std::fs::read(&path).unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        let salt = passphrase.peek().unwrap().salt;
        assert!(salt.is_some());
        passphrase.save(
            SealingKey::new(&passphrase.secret, PBKDF2, salt),
            &layers,
            &tags(),
        );
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
