//! `secretrun scan [PATH...]`: search files for the values of the resolved secrets, to find
//! credentials that leaked into a repository, a log or a build.
//!
//! - What is looked for: every value a source set (not inherited ones), of `--min-length`
//!   bytes or more, as it is, base64-encoded (standard and URL-safe alphabets, at each of the
//!   three alignments, so a value inside a longer base64 text such as an HTTP Basic header is
//!   found too) and URL-encoded (percent-encoding and form encoding).
//! - Where: the paths are walked by ripgrep's walker (`ignore`), honouring `.gitignore`,
//!   `.ignore` and `.git/info/exclude` with or without a git repository, unless `--no-ignore`.
//!   Hidden files are searched (`.env.local`, `.github/`), `.git` directories are not (their
//!   objects are compressed), symbolic links are not followed, binary files are searched.
//! - Not reported: a value in the file that defines it (its `.env` file, its file in a secrets
//!   directory), where it is expected.
//! - How: one Aho-Corasick automaton holds every pattern; each file is read once, in chunks,
//!   with an overlapping search so a value that contains another is reported too.
//! - Output: `FILE:LINE: NAME (SOURCE)`, sorted, never the value. Exit 1 when anything is
//!   found, 0 when nothing is, 125 on an error (an incomplete search is not a clean one).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aho_corasick::AhoCorasick;
use ignore::{WalkBuilder, WalkState};

use crate::cli::ScanArgs;
use crate::dotenvx;
use crate::env::merge::ChildEnv;
use crate::env::origin::Origin;
use crate::envfile;
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::plan::Plan;
use crate::run::mask::{forms, Form};
use crate::secret::{display_name, SecretValue};
use crate::source::{SourceKind, SourceSpec};

use super::EXIT_FOUND;
use crate::pipeline::{Session, Stop};

/// How much of a file is read at a time.
const CHUNK: usize = 64 * 1024;

/// How a found form is named in the report (the encodings live in `mask`, shared with
/// `--mask-output`).
fn label(form: Form) -> &'static str {
    match form {
        Form::Plain => "",
        Form::Base64 => ", base64-encoded",
        Form::UrlEncoded => ", URL-encoded",
    }
}

/// A secret looked for: its name and the source that set it.
struct Secret {
    name: String,
    origin: String,
}

/// Every pattern in one automaton, and what each stands for.
struct Needles {
    automaton: AhoCorasick,
    secrets: Vec<Secret>,
    /// By pattern: the secrets (and in which form) it is. One value set under two names is
    /// one pattern that stands for both.
    meanings: Vec<Vec<(usize, Form)>>,
    /// Files that define values, by device and inode, with the secrets not to report there.
    defining: HashMap<(u64, u64), HashSet<usize>>,
}

/// One reported occurrence.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    path: PathBuf,
    line: u64,
    secret: usize,
    form: Form,
}

pub fn run(session: &Session, args: &ScanArgs) -> Result<i32, Stop> {
    let child_env = session.merged_env()?;
    session.require(&child_env)?;
    // Fetching is over and the search is synchronous: let Ctrl-C and TERM end secretrun at once
    // (their default action) instead of waiting, blocked, for a search of a large tree.
    session.signals.restore();
    let keys = dotenvx_keys(session.plan, session.env);
    let Some(needles) = Needles::new(
        &child_env,
        &keys,
        session.plan,
        usize::from(args.min_length),
    )?
    else {
        tracing::warn!(
            min_length = args.min_length,
            "no resolved secret value is long enough to search for; nothing searched"
        );
        return Ok(0);
    };
    drop(child_env);

    let (mut findings, errors) = search(&args.paths, &needles, !args.no_ignore);
    findings.sort();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for finding in &findings {
        let secret = &needles.secrets[finding.secret];
        writeln!(
            out,
            "{}:{}: {} ({}{})",
            shown_path(&finding.path),
            finding.line,
            secret.name,
            secret.origin,
            label(finding.form)
        )
        .map_err(Error::Output)?;
    }
    out.flush().map_err(Error::Output)?;
    if let Some(error) = Error::from_many(errors) {
        return Err(error.into());
    }
    Ok(if findings.is_empty() { 0 } else { EXIT_FOUND })
}

impl Needles {
    /// The patterns for every value a source set, or `None` when there is none to look for.
    /// `keys`: dotenvx private keys (see [`dotenvx_keys`]), looked for like values.
    fn new(
        child_env: &ChildEnv,
        keys: &[DotenvxKey],
        plan: &Plan,
        min_length: usize,
    ) -> Result<Option<Needles>, Error> {
        let mut secrets = Vec::new();
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut meanings: Vec<Vec<(usize, Form)>> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut defining: HashMap<(u64, u64), HashSet<usize>> = HashMap::new();
        let mut short = Vec::new();
        let values = child_env
            .vars
            .iter()
            .filter(|(_, entry)| entry.origin != Origin::Parent)
            .map(|(name, entry)| {
                let name = display_name(name);
                let file = defining_file(&entry.origin, &name, plan);
                (name, entry.origin.to_string(), entry.value.as_bytes(), file)
            });
        let keys = keys.iter().map(|key| {
            let file = Some(key.keys_file.clone());
            (
                key.name.clone(),
                key.origin.clone(),
                key.value.expose(),
                file,
            )
        });
        for (name, origin, value, file) in values.chain(keys) {
            if value.len() < min_length {
                short.push(name);
                continue;
            }
            let secret = secrets.len();
            if let Some(file) = file {
                tracing::debug!(name, file = %file.display(), "not reported in its own file");
                if let Ok(metadata) = std::fs::metadata(&file) {
                    defining
                        .entry((metadata.dev(), metadata.ino()))
                        .or_default()
                        .insert(secret);
                }
            }
            for (form, pattern) in forms(value) {
                let id = *index.entry(pattern).or_insert_with_key(|pattern| {
                    patterns.push(pattern.clone());
                    meanings.push(Vec::new());
                    patterns.len() - 1
                });
                if !meanings[id].contains(&(secret, form)) {
                    meanings[id].push((secret, form));
                }
            }
            secrets.push(Secret { name, origin });
        }
        if !short.is_empty() {
            tracing::info!(
                names = short.join(", "),
                min_length,
                "not searching for values shorter than --min-length"
            );
        }
        if patterns.is_empty() {
            return Ok(None);
        }
        // Standard match semantics (the default): the only ones with overlapping search.
        let automaton = AhoCorasick::new(&patterns).map_err(Error::Patterns)?;
        Ok(Some(Needles {
            automaton,
            secrets,
            meanings,
            defining,
        }))
    }
}

/// A dotenvx private key of a `.env` file the plan decrypts: as much a leak as the values.
struct DotenvxKey {
    /// `DOTENV_PRIVATE_KEY[_ENV]`.
    name: String,
    /// The `.env` source it decrypts.
    origin: String,
    value: SecretValue,
    /// Where it is expected, and not reported: the keys file.
    keys_file: PathBuf,
}

/// The private keys that decrypt the plan's dotenvx-encrypted `.env` files, found as reading
/// them finds them (the environment, else the keys file).
fn dotenvx_keys(plan: &Plan, env: &ParentEnv) -> Vec<DotenvxKey> {
    let mut keys = Vec::new();
    for source in plan
        .sources
        .iter()
        .filter(|s| s.spec.kind == SourceKind::Dotenv)
    {
        let path = Path::new(&source.spec.location);
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let assignments = envfile::assignments(&text);
        if !assignments
            .iter()
            .any(|a| a.inner(&text).starts_with(dotenvx::ENCRYPTED_PREFIX))
        {
            continue;
        }
        let declared = dotenvx::declared_public_key(&text, &assignments);
        let names = dotenvx::KeyNames::for_file(path, declared.map(|a| a.name(&text)));
        let keys_option = source.spec.clone().take_value("keys").ok().flatten();
        let keys_file = dotenvx::keys_path(path, keys_option.as_deref().map(Path::new));
        let declared_public = declared.map(|a| a.inner(&text));
        if let Ok(found) = dotenvx::private_keys(&names, declared_public, env, &keys_file) {
            keys.extend(found.iter().map(|key| DotenvxKey {
                name: names.private.clone(),
                origin: source.origin.clone(),
                value: key.to_hex(),
                keys_file: keys_file.clone(),
            }));
        }
    }
    keys
}

/// The file a value was read from, when the source that set it (not a reference it held) is a
/// local file or directory.
fn defining_file(origin: &Origin, name: &str, plan: &Plan) -> Option<PathBuf> {
    let set_by = origin.spec()?;
    // A planned source's spec has its paths made relative to the config file; a source outside
    // the plan (a `NAME_FILE` variable's `file:PATH`) is named by a spec of its own.
    let spec = plan
        .sources
        .iter()
        .find(|source| source.origin == set_by)
        .map(|source| source.spec.clone())
        .or_else(|| SourceSpec::parse(set_by).ok())?;
    match spec.kind {
        SourceKind::Dir => Some(Path::new(&spec.location).join(name)),
        kind if kind.takes_path() => Some(PathBuf::from(&spec.location)),
        _ => None,
    }
}

/// Walks `paths` in parallel and searches every regular file.
fn search(
    paths: &[PathBuf],
    needles: &Needles,
    honour_ignores: bool,
) -> (Vec<Finding>, Vec<Error>) {
    let Some((first, rest)) = paths.split_first() else {
        return (Vec::new(), Vec::new());
    };
    let mut builder = WalkBuilder::new(first);
    for path in rest {
        builder.add(path);
    }
    builder
        .standard_filters(honour_ignores)
        // Leaks hide in dotfiles (.env.local, .npmrc, .github/workflows).
        .hidden(false)
        // A checkout without its .git (an archive, a container build context) still has
        // its .gitignore.
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| entry.file_name() != OsStr::new(".git"));
    let findings = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    lock(&errors).push(Error::Walk(error));
                    return WalkState::Continue;
                }
            };
            // Only regular files: opening a FIFO or a device could block or never end.
            if !entry.file_type().is_some_and(|kind| kind.is_file()) {
                return WalkState::Continue;
            }
            match search_file(entry.path(), needles) {
                Ok(found) => lock(&findings).extend(found),
                Err(source) => lock(&errors).push(Error::Search {
                    path: entry.path().to_path_buf(),
                    source,
                }),
            }
            WalkState::Continue
        })
    });
    let findings = findings.into_inner().unwrap_or_else(|p| p.into_inner());
    let errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    (findings, errors)
}

/// A lock that a panicked walker thread did not make useless.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn search_file(path: &Path, needles: &Needles) -> io::Result<BTreeSet<Finding>> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    let expected = needles.defining.get(&(metadata.dev(), metadata.ino()));
    let mut found = BTreeSet::new();
    search_reader(file, &needles.automaton, |line, pattern| {
        for &(secret, form) in &needles.meanings[pattern] {
            if expected.is_some_and(|expected| expected.contains(&secret)) {
                continue;
            }
            found.insert(Finding {
                path: path.to_path_buf(),
                line,
                secret,
                form,
            });
        }
    })?;
    Ok(found)
}

/// One pass over `reader`, reporting every match (overlapping ones too) with its line number.
///
/// The buffer keeps the last `longest pattern - 1` bytes of a chunk for the next one, so a
/// match across a chunk boundary is found; a match that ended in the kept bytes was already
/// reported and is skipped.
fn search_reader(
    mut reader: impl Read,
    automaton: &AhoCorasick,
    mut report: impl FnMut(u64, usize),
) -> io::Result<()> {
    let keep = automaton.max_pattern_len().saturating_sub(1);
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK + keep);
    // Newlines before buffer[0], and how much of the buffer the previous round searched.
    let mut lines_before: u64 = 0;
    let mut searched = 0;
    loop {
        let kept = buffer.len();
        buffer.resize(kept + CHUNK, 0);
        let read = loop {
            match reader.read(&mut buffer[kept..]) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                result => break result?,
            }
        };
        buffer.truncate(kept + read);
        if read == 0 {
            return Ok(());
        }
        for found in automaton.find_overlapping_iter(buffer.as_slice()) {
            if found.end() <= searched {
                continue;
            }
            let line = lines_before + newlines(&buffer[..found.start()]) + 1;
            report(line, found.pattern().as_usize());
        }
        let drop = buffer.len().saturating_sub(keep);
        lines_before += newlines(&buffer[..drop]);
        buffer.drain(..drop);
        searched = buffer.len();
    }
}

fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64
}

/// A path as the user would type it: `src/x`, not `./src/x`.
fn shown_path(path: &Path) -> String {
    let path = path.strip_prefix(".").unwrap_or(path);
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_found(haystack: &[u8], patterns: &[&str], chunk_reads: usize) -> Vec<(u64, usize)> {
        let automaton = AhoCorasick::new(patterns).unwrap();
        // A reader that hands out at most `chunk_reads` bytes at a time, to cross boundaries.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(self.1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut found = Vec::new();
        search_reader(
            Trickle(haystack, chunk_reads),
            &automaton,
            |line, pattern| found.push((line, pattern)),
        )
        .unwrap();
        found.sort();
        found
    }

    #[test]
    fn finds_overlapping_matches_with_line_numbers_across_reads() {
        let haystack = b"one\ntwo secret-value-long\nthree\nsecret-value\n";
        for chunk in [1, 3, 7, 1000] {
            assert_eq!(
                lines_found(haystack, &["secret-value", "secret-value-long"], chunk),
                vec![(2, 0), (2, 1), (4, 0)],
                "reads of {chunk} bytes"
            );
        }
    }

    #[test]
    fn finds_matches_across_chunk_boundaries() {
        let mut haystack = vec![b'\n'; CHUNK - 3];
        haystack.extend_from_slice(b"abcdefgh\n");
        haystack.extend(std::iter::repeat_n(b'x', CHUNK * 2));
        haystack.extend_from_slice(b"abcdefgh");
        let found = lines_found(&haystack, &["abcdefgh"], usize::MAX);
        let last_line = CHUNK as u64 - 2;
        assert_eq!(found, vec![(last_line, 0), (last_line + 1, 0)]);
    }
}
