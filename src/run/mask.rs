//! `--mask-output` (supervise mode): the child's stdout and stderr pass through a streaming
//! redactor that replaces every secret value with `[secretrun:NAME]`. Also home of the
//! encodings a value is looked for in, shared with `secretrun scan`.
//!
//! - What is masked: every value a source set (not values inherited from the parent
//!   environment) of at least [`MIN_MASKED_LEN`] bytes, as it is, base64-encoded (standard and
//!   URL-safe alphabets, at each of the three alignments) and URL-encoded. Shorter values (and
//!   encoded forms shorter than that) are left alone: masking `1` or `on` would garble output.
//! - How: one Aho-Corasick automaton (leftmost-longest) over every pattern, run only near the
//!   places a [`BlockFilter`] points at. The filter looks at one block of bytes every few
//!   positions (a stride so short that every occurrence of every pattern covers a sampled block)
//!   and tells whether that block could be part of a pattern's start; output with no such block
//!   is not walked byte by byte at all. A match may be split
//!   across reads, so after each read everything that cannot be the start of a match is written
//!   at once; only a tail that is a proper prefix of some pattern (so shorter than the longest
//!   pattern) is held back, until the next read or the end of the stream. No timer flushes it:
//!   writing a held prefix early would leak the first bytes of a secret.
//! - Invariant: a byte is written only once it is decided, so no value (in any masked form) is
//!   ever written unmasked, whatever the read boundaries.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{AhoCorasick, Anchored, Input, Match, MatchKind};
use base64::Engine;
use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::termios::{tcgetattr, tcsetattr, OutputFlags, SetArg};

use crate::env::merge::ChildEnv;
use crate::env::origin::Origin;
use crate::error::Error;
use crate::secret::display_name;

/// Values (and encoded forms) shorter than this are not masked.
pub const MIN_MASKED_LEN: usize = 4;

/// How much of the child's output is read at a time.
const CHUNK: usize = 64 * 1024;

/// What `encodeURIComponent` and most URL builders escape: all but RFC 3986's unreserved
/// characters.
const URL_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The encodings a value is looked for in, besides its own bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Form {
    Plain,
    Base64,
    UrlEncoded,
}

/// The value as it is and in every encoding worth looking for, without repeats.
pub fn forms(value: &[u8]) -> Vec<(Form, Vec<u8>)> {
    let mut forms = vec![(Form::Plain, value.to_vec())];
    let engines = [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    for engine in engines {
        for shift in 0..3 {
            forms.push((Form::Base64, base64_core(&engine, value, shift)));
        }
    }
    let percent: String = percent_encoding::percent_encode(value, URL_COMPONENT).collect();
    forms.push((Form::UrlEncoded, percent.into_bytes()));
    let form: String = url::form_urlencoded::byte_serialize(value).collect();
    forms.push((Form::UrlEncoded, form.into_bytes()));

    let mut seen = HashSet::new();
    forms.retain(|(_, pattern)| !pattern.is_empty() && seen.insert(pattern.clone()));
    forms
}

/// The base64 characters that depend only on `value` when it starts `shift` bytes after a
/// 3-byte boundary of a longer encoded text: the characters shared with the neighbouring bytes
/// at either end are left out.
fn base64_core(engine: &impl Engine, value: &[u8], shift: usize) -> Vec<u8> {
    let mut shifted = vec![0u8; shift];
    shifted.extend_from_slice(value);
    let encoded = engine.encode(&shifted).into_bytes();
    // A character covers 6 bits: skip those holding any bit of the `shift` bytes before...
    let start = (shift * 8).div_ceil(6);
    // ...and a last one that the following byte would complete.
    let end = ((shift + value.len()) * 8 / 6).min(encoded.len());
    encoded.get(start..end).unwrap_or_default().to_vec()
}

/// Every masked pattern and what it is replaced with.
pub struct Masker {
    /// Where a match could be, cheaply; the automaton runs only there.
    filter: BlockFilter,
    /// Leftmost-longest: of overlapping forms, the longest one is replaced.
    search: AhoCorasick,
    /// The same patterns as a trie walked anchored, to tell whether held bytes could still
    /// begin a match (anchored walks never follow failure transitions).
    prefixes: NFA,
    replacements: Vec<Vec<u8>>,
    longest: usize,
}

impl Masker {
    /// The masker for every long-enough value a source set, or `None` when there is none.
    pub fn new(child_env: &ChildEnv) -> Result<Option<Masker>, Error> {
        let secrets = child_env
            .vars
            .iter()
            .filter(|(_, entry)| entry.origin != Origin::Parent)
            .map(|(name, entry)| (display_name(name), entry.value.as_bytes()));
        Masker::from_secrets(secrets)
    }

    /// The masker for `(name, value)` pairs; names in the order given win shared patterns.
    pub fn from_secrets<'a, N: AsRef<str>>(
        secrets: impl IntoIterator<Item = (N, &'a [u8])>,
    ) -> Result<Option<Masker>, Error> {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut replacements = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        for (name, value) in secrets {
            if value.len() < MIN_MASKED_LEN {
                continue;
            }
            let replacement = format!("[secretrun:{}]", name.as_ref()).into_bytes();
            for (_, pattern) in forms(value) {
                if pattern.len() < MIN_MASKED_LEN || index.contains_key(&pattern) {
                    continue;
                }
                index.insert(pattern.clone(), patterns.len());
                patterns.push(pattern);
                replacements.push(replacement.clone());
            }
        }
        if patterns.is_empty() {
            tracing::info!(
                min_length = MIN_MASKED_LEN,
                "no secret value is long enough to mask; output is not masked"
            );
            return Ok(None);
        }
        let search = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(Error::Patterns)?;
        // Standard semantics keep the whole trie (leftmost ones prune it after a match).
        let prefixes = NFA::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(Error::Patterns)?;
        let longest = patterns.iter().map(Vec::len).max().unwrap_or(0);
        Ok(Some(Masker {
            filter: BlockFilter::new(&patterns),
            search,
            prefixes,
            replacements,
            longest,
        }))
    }

    pub fn stream(&self) -> Stream<'_> {
        Stream {
            masker: self,
            buffer: Vec::new(),
            held: 0,
        }
    }

    /// The leftmost-longest match in `text` starting at `from` or later, as the automaton run
    /// over all of `text[from..]` would find it.
    fn find(&self, text: &[u8], mut from: usize) -> Option<Match> {
        loop {
            let hit = self.filter.first_hit(text, from)?;
            // A match covers a sampled block at most `stride - 1` bytes after its start, so
            // none starts before `hit - (stride - 1)`, and one starting by `hit` ends within
            // `longest` bytes of it.
            let start = from.max((hit + 1).saturating_sub(self.filter.stride));
            let end = text.len().min(hit + self.longest);
            match self.search.find(Input::new(text).span(start..end)) {
                Some(found) if found.start() <= hit => return Some(found),
                // A false hit, or a match the short span may have cut: none starts by `hit`.
                _ => from = hit + 1,
            }
        }
    }

    /// The first position from which `buffer` could still grow into a (longer) match: its
    /// tail is a prefix of some pattern that more bytes could continue. `buffer.len()` if none.
    fn undecided_from(&self, buffer: &[u8]) -> usize {
        let nfa = &self.prefixes;
        // Only a tail shorter than the longest pattern can be a proper prefix of one.
        let first = buffer.len().saturating_sub(self.longest.saturating_sub(1));
        let Ok(start) = nfa.start_state(Anchored::Yes) else {
            // Cannot happen (both start states are always built); hold back to stay safe.
            return first;
        };
        (first..buffer.len())
            .find(|&at| {
                let mut state = start;
                for &byte in &buffer[at..] {
                    state = nfa.next_state(Anchored::Yes, state, byte);
                    if nfa.is_dead(state) {
                        return false;
                    }
                }
                // A complete match that no pattern extends is decided already.
                !nfa.is_match(state)
                    || (0..=u8::MAX)
                        .any(|byte| !nfa.is_dead(nfa.next_state(Anchored::Yes, state, byte)))
            })
            .unwrap_or(buffer.len())
    }
}

/// One output stream being masked: holds the undecided tail between reads.
pub struct Stream<'a> {
    masker: &'a Masker,
    /// The undecided tail (`..held`), then room for what comes next, so a read lands right
    /// behind it and the text is not copied before it is searched.
    buffer: Vec<u8>,
    held: usize,
}

impl Stream<'_> {
    /// Reads once from `from` into the stream and appends to `out` every byte that is decided,
    /// masked; keeps the rest for the next call. Returns how many bytes were read (0 at the end
    /// of `from`).
    pub fn read_from(&mut self, from: &mut impl Read, out: &mut Vec<u8>) -> io::Result<usize> {
        let room = self.held + CHUNK;
        self.make_room(room);
        let read = from.read(&mut self.buffer[self.held..room])?;
        if read > 0 {
            self.advance(self.held + read, out);
        }
        Ok(read)
    }

    /// The end of the stream: everything held is decided now.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.mask_into(self.held, self.held, out);
        self.held = 0;
    }

    fn make_room(&mut self, length: usize) {
        if self.buffer.len() < length {
            self.buffer.resize(length, 0);
        }
    }

    /// Writes what is decided of `buffer[..filled]` and keeps the rest at its front.
    fn advance(&mut self, filled: usize, out: &mut Vec<u8>) {
        let undecided = self.masker.undecided_from(&self.buffer[..filled]);
        let done = self.mask_into(filled, undecided, out);
        self.buffer.copy_within(done..filled, 0);
        self.held = filled - done;
    }

    /// Writes `buffer[..filled]` masked, up to `undecided` (or past it, to the end of a match
    /// that starts before it); returns how many bytes were consumed.
    fn mask_into(&self, filled: usize, undecided: usize, out: &mut Vec<u8>) -> usize {
        let text = &self.buffer[..filled];
        let mut at = 0;
        // A match starting before `undecided` is final: an earlier or longer one would need a
        // tail that more bytes could complete, which would start before it.
        while let Some(found) = self.masker.find(text, at) {
            if found.start() >= undecided {
                break;
            }
            out.extend_from_slice(&text[at..found.start()]);
            out.extend_from_slice(&self.masker.replacements[found.pattern().as_usize()]);
            at = found.end();
        }
        let done = undecided.max(at);
        out.extend_from_slice(&text[at..done]);
        done
    }
}

/// A Bloom filter of the blocks (`block` bytes long) found in the first `shortest` bytes of
/// every pattern, sampled every `stride = shortest - block + 1` positions. An occurrence of a
/// pattern starting at `s` spans `s..s + shortest` at least, which holds exactly one block
/// starting at a sampled position, less than `stride` positions after `s`. So a text whose
/// sampled blocks all miss holds no match, and the first hit bounds where the first match can
/// start. For long values (the usual case) this looks at one block in twenty-odd bytes.
struct BlockFilter {
    block: usize,
    stride: usize,
    bits: Vec<u64>,
    /// log2 of the number of bits.
    order: u32,
}

impl BlockFilter {
    /// `patterns` are all at least [`MIN_MASKED_LEN`] bytes long.
    fn new(patterns: &[Vec<u8>]) -> BlockFilter {
        let shortest = patterns.iter().map(Vec::len).min().unwrap_or(0);
        let block = if shortest >= 8 { 8 } else { MIN_MASKED_LEN };
        let stride = shortest - block + 1;
        // About 32 bits per block (two are set): a false hit on roughly 1 sample in 250.
        let order = (patterns.len() * stride * 32)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(12, 24);
        let mut filter = BlockFilter {
            block,
            stride,
            bits: vec![0; (1 << order) / 64],
            order,
        };
        for pattern in patterns {
            for window in pattern[..shortest].windows(block) {
                for bit in filter.bits_of(window) {
                    filter.bits[bit / 64] |= 1 << (bit % 64);
                }
            }
        }
        filter
    }

    /// The two bits a block sets, from one multiplicative hash.
    fn bits_of(&self, block: &[u8]) -> [usize; 2] {
        let value = match *block {
            [a, b, c, d, e, f, g, h] => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
            [a, b, c, d] => u64::from(u32::from_le_bytes([a, b, c, d])),
            _ => unreachable!("blocks are 4 or 8 bytes"),
        };
        let hash = value.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let first = hash >> (64 - self.order);
        let second = (hash >> (64 - 2 * self.order)) & ((1 << self.order) - 1);
        [first as usize, second as usize]
    }

    fn may_hold(&self, block: &[u8]) -> bool {
        self.bits_of(block)
            .iter()
            .all(|&bit| self.bits[bit / 64] & (1 << (bit % 64)) != 0)
    }

    /// The first sampled position (`from`, `from + stride`, ...) whose block may belong to a
    /// pattern.
    fn first_hit(&self, text: &[u8], from: usize) -> Option<usize> {
        let last = text.len().checked_sub(self.block)?;
        (from..=last)
            .step_by(self.stride)
            .find(|&at| self.may_hold(&text[at..at + self.block]))
    }
}

/// Copies `from` to `to`, masked, flushing after every read. On a write error (our reader
/// went away) `from` is dropped, so the child sees a closed pipe as it would have without us.
pub fn copy(masker: &Masker, mut from: impl Read, mut to: impl Write) -> io::Result<()> {
    let mut stream = masker.stream();
    let mut out = Vec::with_capacity(CHUNK);
    loop {
        out.clear();
        match stream.read_from(&mut from, &mut out) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
        if !out.is_empty() {
            to.write_all(&out)?;
            to.flush()?;
        }
    }
    out.clear();
    stream.finish(&mut out);
    to.write_all(&out)?;
    to.flush()
}

/// How the child's output reaches the masker, decided before it starts: when secretrun's
/// stdout is a terminal, a pseudo-terminal (so the child still sees a terminal: colours, line
/// buffering), shared with stderr when that is the same terminal; pipes otherwise.
pub struct Wiring {
    masker: Masker,
    pty: Option<OwnedFd>,
}

impl Wiring {
    /// Points `command`'s stdout and stderr at the masker's side.
    pub fn new(masker: Masker, command: &mut Command) -> Wiring {
        let pty = if io::stdout().is_terminal() {
            // No pseudo-terminal (no /dev/ptmx in a container): pipes still mask.
            open_terminal(command)
                .inspect_err(|error| tracing::info!(%error, "no pseudo-terminal; using pipes"))
                .ok()
        } else {
            None
        };
        if pty.is_none() {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        Wiring { masker, pty }
    }

    /// Starts copying once the child runs (and `command`, holding the terminal's other side,
    /// is gone: the terminal ends only when no process has that side open).
    pub fn start(self, child: &mut Child) -> Copiers {
        let masker = Arc::new(self.masker);
        let (sender, done) = mpsc::channel();
        let mut threads = Vec::new();
        let terminal = self.pty.as_ref().and_then(|master| master.try_clone().ok());
        if let Some(master) = self.pty {
            let from = Terminal(File::from(master));
            threads.extend(copier("mask-pty", &masker, from, io::stdout(), &sender));
        }
        if let Some(pipe) = child.stdout.take() {
            threads.extend(copier("mask-stdout", &masker, pipe, io::stdout(), &sender));
        }
        if let Some(pipe) = child.stderr.take() {
            threads.extend(copier("mask-stderr", &masker, pipe, io::stderr(), &sender));
        }
        Copiers {
            threads,
            done,
            terminal,
        }
    }
}

/// A pseudo-terminal for the child's stdout (and its stderr when that is the same terminal as
/// our stdout; a pipe otherwise), sized as ours; returns its master side.
fn open_terminal(command: &mut Command) -> nix::Result<OwnedFd> {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let size = window_size(stdout.as_fd());
    let pty = nix::pty::openpty(size.as_ref(), None)?;
    for fd in [&pty.master, &pty.slave] {
        // Neither end may leak into the child beyond its own stdout and stderr.
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    }
    // The child's bytes pass as they are (no "\n" to "\r\n"): our terminal, which they are
    // copied to, does its own output processing.
    let mut settings = tcgetattr(&pty.slave)?;
    settings.output_flags.remove(OutputFlags::OPOST);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &settings)?;
    let same_terminal = stderr.is_terminal() && same_device(stdout.as_fd(), stderr.as_fd());
    if same_terminal {
        command.stderr(Stdio::from(pty.slave.try_clone().map_err(errno)?));
    } else {
        command.stderr(Stdio::piped());
    }
    command.stdout(Stdio::from(pty.slave));
    Ok(pty.master)
}

/// A thread copying `from` to `to`, masked, that says when it is done.
fn copier(
    name: &str,
    masker: &Arc<Masker>,
    from: impl Read + Send + 'static,
    to: impl Write + Send + 'static,
    done: &mpsc::Sender<()>,
) -> Option<JoinHandle<()>> {
    let masker = Arc::clone(masker);
    let done = done.clone();
    let stream = name.to_string();
    let thread = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            if let Err(error) = copy(&masker, from, to) {
                tracing::debug!(stream, %error, "stopped copying output");
            }
            let _ = done.send(());
        });
    match thread {
        Ok(thread) => Some(thread),
        Err(error) => {
            tracing::error!(%error, "cannot start an output thread");
            None
        }
    }
}

/// The terminal size of `fd`, if it has one.
fn window_size(fd: BorrowedFd) -> Option<nix::pty::Winsize> {
    let mut size = std::mem::MaybeUninit::<nix::pty::Winsize>::zeroed();
    // SAFETY: TIOCGWINSZ writes one `winsize` to the pointer, which is valid for that.
    let result =
        unsafe { nix::libc::ioctl(fd.as_raw_fd(), nix::libc::TIOCGWINSZ, size.as_mut_ptr()) };
    // SAFETY: on success the kernel filled it in (and it was zeroed before).
    (result == 0).then(|| unsafe { size.assume_init() })
}

fn same_device(a: BorrowedFd, b: BorrowedFd) -> bool {
    match (nix::sys::stat::fstat(a), nix::sys::stat::fstat(b)) {
        (Ok(a), Ok(b)) => a.st_rdev == b.st_rdev,
        _ => false,
    }
}

fn errno(error: io::Error) -> nix::Error {
    nix::Error::from_raw(error.raw_os_error().unwrap_or(nix::libc::EIO))
}

/// A pseudo-terminal's master side: reading it fails with EIO once every process has closed
/// the other side, which is its end of file.
struct Terminal(File);

impl Read for Terminal {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buffer) {
            Err(error) if error.raw_os_error() == Some(nix::libc::EIO) => Ok(0),
            result => result,
        }
    }
}

/// The threads copying the child's output, masked, to secretrun's own stdout and stderr.
/// Threads, so the supervisor's signal loop is untouched; they inherit its blocked signals.
pub struct Copiers {
    threads: Vec<JoinHandle<()>>,
    done: mpsc::Receiver<()>,
    /// The pseudo-terminal's master side, to pass on our terminal's size changes.
    terminal: Option<OwnedFd>,
}

impl Copiers {
    /// Gives the child's pseudo-terminal our terminal's size; false when it has none. The
    /// kernel then signals SIGWINCH to nobody (the child's terminal is not its controlling
    /// one), so the caller sends it.
    pub fn resize_terminal(&self) -> bool {
        let Some(master) = &self.terminal else {
            return false;
        };
        if let Some(size) = window_size(io::stdout().as_fd()) {
            // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer, valid for that.
            unsafe {
                nix::libc::ioctl(master.as_raw_fd(), nix::libc::TIOCSWINSZ, &size);
            }
        }
        true
    }

    /// After the child ended: waits until every stream reached its end (all output written),
    /// but no longer than `patience` when a leftover process keeps one open. What is still
    /// held then is dropped, never written unmasked.
    pub fn finish(self, patience: Duration) {
        let deadline = Instant::now() + patience;
        for _ in 0..self.threads.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.done.recv_timeout(left).is_err() {
                tracing::warn!(
                    "the command's output is still open (a background process?); not waiting"
                );
                return;
            }
        }
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Stream<'_> {
        /// [`Stream::read_from`] for input in hand.
        fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
            let filled = self.held + input.len();
            self.make_room(filled);
            self.buffer[self.held..filled].copy_from_slice(input);
            self.advance(filled, out);
        }
    }

    fn masker(secrets: &[(&str, &str)]) -> Masker {
        Masker::from_secrets(secrets.iter().map(|(n, v)| (*n, v.as_bytes())))
            .unwrap()
            .unwrap()
    }

    /// Masks `input` fed in the given pieces.
    fn mask(masker: &Masker, pieces: &[&[u8]]) -> String {
        let mut stream = masker.stream();
        let mut out = Vec::new();
        for piece in pieces {
            stream.feed(piece, &mut out);
        }
        stream.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masks_a_value_at_every_split_point() {
        let masker = masker(&[("TOKEN", "s3cr3t-value")]);
        let text = b"before s3cr3t-value after s3cr3t-valu s3cr3t-values3cr3t-value";
        let expected = "before [secretrun:TOKEN] after s3cr3t-valu \
                        [secretrun:TOKEN][secretrun:TOKEN]";
        for first in 0..=text.len() {
            assert_eq!(
                mask(&masker, &[&text[..first], &text[first..]]),
                expected,
                "split at {first}"
            );
            for second in first..=text.len() {
                assert_eq!(
                    mask(
                        &masker,
                        &[&text[..first], &text[first..second], &text[second..]]
                    ),
                    expected,
                    "split at {first} and {second}"
                );
            }
        }
        // One byte at a time.
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(mask(&masker, &bytes), expected);
    }

    #[test]
    fn output_that_cannot_start_a_match_is_written_at_once() {
        let masker = masker(&[("TOKEN", "abcdef")]);
        let mut stream = masker.stream();
        let mut out = Vec::new();
        stream.feed(b"hello\n", &mut out);
        assert_eq!(out, b"hello\n");
        // Only the possible start of a match is held back, until more comes.
        out.clear();
        stream.feed(b"xx abc", &mut out);
        assert_eq!(out, b"xx ");
        out.clear();
        stream.feed(b"dxx", &mut out);
        assert_eq!(out, b"abcdxx");
        // A complete match that nothing could extend is written at once, masked.
        out.clear();
        stream.feed(b"abcdef", &mut out);
        assert_eq!(out, b"[secretrun:TOKEN]");
    }

    #[test]
    fn the_longest_overlapping_value_wins_even_across_reads() {
        let masker = masker(&[("SHORT", "abcd"), ("LONG", "abcdefgh")]);
        let text = b"abcdefgh abcdefg abcd";
        for split in 0..=text.len() {
            assert_eq!(
                mask(&masker, &[&text[..split], &text[split..]]),
                "[secretrun:LONG] [secretrun:SHORT]efg [secretrun:SHORT]",
                "split at {split}"
            );
        }
    }

    /// Against masking the whole input at once, for overlapping values over a small alphabet.
    #[test]
    fn streaming_agrees_with_masking_all_at_once() {
        let masker = masker(&[
            ("A", "abab"),
            ("B", "aabba"),
            ("C", "babbab"),
            ("D", "bbbb"),
        ]);
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..2000 {
            let text: Vec<u8> = (0..rng.usize(0..40))
                .map(|_| if rng.bool() { b'a' } else { b'b' })
                .collect();
            let whole = mask(&masker, &[&text]);
            let mut pieces = Vec::new();
            let mut rest = text.as_slice();
            while !rest.is_empty() {
                let (piece, after) = rest.split_at(rng.usize(0..=rest.len().min(6)));
                pieces.push(piece);
                rest = after;
            }
            assert_eq!(mask(&masker, &pieces), whole, "{pieces:?}");
        }
    }

    /// The filter only skips: over long patterns (a stride of several bytes) and text dense
    /// with near-matches, the filtered search finds exactly the automaton's matches.
    #[test]
    fn the_filtered_search_finds_what_the_automaton_finds() {
        let mut rng = fastrand::Rng::with_seed(11);
        let alphabet = b"abc";
        let random = |rng: &mut fastrand::Rng, length: usize| -> Vec<u8> {
            (0..length).map(|_| alphabet[rng.usize(..3)]).collect()
        };
        for _ in 0..200 {
            let values: Vec<Vec<u8>> = (0..rng.usize(1..6))
                .map(|_| {
                    let length = rng.usize(12..24);
                    random(&mut rng, length)
                })
                .collect();
            let masker = Masker::from_secrets(values.iter().map(|v| ("V", v.as_slice())))
                .unwrap()
                .unwrap();
            assert!(masker.filter.stride > 1);
            let mut text = random(&mut rng, 300);
            for value in &values {
                let at = rng.usize(..text.len());
                text.splice(at..at, value.iter().copied());
            }
            let expected: Vec<Match> = masker.search.find_iter(text.as_slice()).collect();
            let mut found = Vec::new();
            let mut at = 0;
            while let Some(next) = masker.find(&text, at) {
                found.push(next);
                at = next.end();
            }
            assert_eq!(found, expected, "{values:?}");
        }
    }

    /// Reads that end anywhere inside a value, through the reader path `copy` uses.
    #[test]
    fn values_split_across_reads_are_masked() {
        struct Pieces<'a>(&'a [u8], usize);
        impl Read for Pieces<'_> {
            fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
                let length = self.1.min(self.0.len()).min(buffer.len());
                buffer[..length].copy_from_slice(&self.0[..length]);
                self.0 = &self.0[length..];
                Ok(length)
            }
        }
        let masker = masker(&[("TOKEN", "0123456789abcdefghij-secret")]);
        let text = b"x 0123456789abcdefghij-secret y 0123456789abcdefghij-secre".repeat(50);
        let expected = "x [secretrun:TOKEN] y 0123456789abcdefghij-secre".repeat(50);
        for piece in 1..40 {
            let mut out = Vec::new();
            copy(&masker, Pieces(&text, piece), &mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                expected,
                "reads of {piece}"
            );
        }
    }

    #[test]
    fn base64_and_url_encoded_forms_are_masked() {
        let masker = masker(&[("PASSWORD", "p4ss w0rd/x")]);
        let engine = base64::engine::general_purpose::STANDARD;
        let basic = engine.encode("user:p4ss w0rd/x");
        let masked = mask(&masker, &[basic.as_bytes()]);
        assert!(masked.contains("[secretrun:PASSWORD]"), "{masked}");
        assert!(!masked.contains(&engine.encode("p4ss w0rd/x")[4..12]));
        assert_eq!(
            mask(&masker, &[b"?q=p4ss%20w0rd%2Fx&r=p4ss+w0rd%2Fx"]),
            "?q=[secretrun:PASSWORD]&r=[secretrun:PASSWORD]"
        );
    }

    #[test]
    fn short_values_are_not_masked() {
        assert!(
            Masker::from_secrets([("ON", b"1".as_slice()), ("X", b"abc")])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn base64_forms_are_found_inside_longer_base64_text() {
        let engine = base64::engine::general_purpose::STANDARD;
        let value = b"p4ssw0rd-value";
        let patterns: Vec<Vec<u8>> = forms(value)
            .into_iter()
            .filter(|(form, _)| *form == Form::Base64)
            .map(|(_, pattern)| pattern)
            .collect();
        for prefix in ["", "u", "us", "user:", "admin:"] {
            for suffix in ["", "!", "!?", "!?#"] {
                let text = format!("{prefix}{}{suffix}", std::str::from_utf8(value).unwrap());
                let encoded = engine.encode(text);
                assert!(
                    patterns
                        .iter()
                        .any(|p| encoded.as_bytes().windows(p.len()).any(|w| w == p)),
                    "{prefix:?} + value + {suffix:?} -> {encoded}"
                );
            }
        }
    }

    #[test]
    fn url_encoded_forms() {
        let forms = forms(b"a b/c+d");
        let url: Vec<&[u8]> = forms
            .iter()
            .filter(|(form, _)| *form == Form::UrlEncoded)
            .map(|(_, p)| p.as_slice())
            .collect();
        assert_eq!(
            url,
            [b"a%20b%2Fc%2Bd".as_slice(), b"a+b%2Fc%2Bd".as_slice()]
        );
        // A value with nothing to encode has no URL-encoded form of its own.
        assert!(super::forms(b"plainvalue")
            .iter()
            .all(|(form, _)| *form != Form::UrlEncoded));
    }
}
