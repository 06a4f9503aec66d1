//! `--watch`: re-resolve every source periodically while a supervised child runs, and tell the
//! supervisor ([`child`](crate::run::child)) when a value the child got has changed, so that it
//! restarts the child or, with `--on-change signal:SIG`, rewrites the mounted files and sends
//! that signal.
//!
//! Invariants:
//! - Each round runs the one pipeline from a plan to an environment ([`pipeline::merged`](crate::pipeline::merged)), on a
//!   thread of its own, so the supervisor keeps forwarding signals while providers answer.
//!   Sources with version tags (Doppler's ETag, AWS version ids, Vault KV v2 versions) ask
//!   whether the snapshot's version is current (see `fallback`), so an unchanged source costs
//!   a metadata request and no secret read.
//! - A failed round (a provider down, a value now missing) keeps the running child: a warning,
//!   and the next round waits twice as long, up to [`MAX_BACKOFF`] or the interval if longer.
//! - Values are compared by keyed digests (HMAC-SHA256 under a key made for this run), never
//!   kept in the clear between rounds; changes are reported by name only.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use aws_lc_rs::{hmac, rand};

use crate::cli::settings::WatchSettings;
use crate::env::merge::ChildEnv;
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::pipeline;
use crate::plan::Plan;

/// Failed rounds back off up to this long (or the interval, if that is longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Keyed digests of an environment's values, by name.
struct Fingerprints {
    key: hmac::Key,
}

type Fingerprint = BTreeMap<OsString, hmac::Tag>;

impl Fingerprints {
    fn new() -> Result<Self, Error> {
        let mut key = [0u8; 32];
        rand::fill(&mut key).map_err(|_| Error::Settings {
            setting: "--watch",
            problem: "the system random generator failed".into(),
        })?;
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
        })
    }

    fn of(&self, env: &ChildEnv) -> Fingerprint {
        env.vars
            .iter()
            .map(|(name, entry)| (name.clone(), hmac::sign(&self.key, entry.value.as_bytes())))
            .collect()
    }
}

/// Names added, removed or given another value, sorted.
fn changed_names(old: &Fingerprint, new: &Fingerprint) -> Vec<String> {
    let differs = |name: &OsString, tag: &hmac::Tag, other: &Fingerprint| {
        other
            .get(name)
            .is_none_or(|theirs| theirs.as_ref() != tag.as_ref())
    };
    let mut names: Vec<String> = old
        .iter()
        .filter(|(name, tag)| differs(name, tag, new))
        .chain(new.iter().filter(|(name, tag)| differs(name, tag, old)))
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A round found changed values: the complete new environment, and which names changed.
pub struct Change {
    pub env: ChildEnv,
    pub changed: Vec<String>,
}

/// What woke the supervisor.
pub enum Woken {
    Changed(Change),
    Nothing,
    /// Watching has ended; stop waiting for changes.
    Stopped,
}

/// The watching thread's side, held by the supervisor: a descriptor that becomes readable when
/// a [`Change`] waits.
pub struct Watcher {
    changes: mpsc::Receiver<Change>,
    /// Set by [`Watcher::reject`]; read (and cleared) by the watching thread.
    rejected: Arc<AtomicBool>,
    /// A pipe's read side (`std::io::pipe` needs Rust 1.87, newer than ours).
    wake: File,
    pub settings: WatchSettings,
}

impl Watcher {
    /// Starts watching for changes from `current`, the environment the child starts with.
    pub fn start(
        settings: WatchSettings,
        plan: Arc<Plan>,
        parent: ParentEnv,
        current: &ChildEnv,
    ) -> Result<Watcher, Error> {
        let fingerprints = Fingerprints::new()?;
        let first = fingerprints.of(current);
        let (wake, waker) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|error| Error::Output(error.into()))?;
        let (wake, waker) = (File::from(wake), File::from(waker));
        let (sender, changes) = mpsc::channel();
        let rejected = Arc::new(AtomicBool::new(false));
        let interval = settings.interval;
        let thread_rejected = Arc::clone(&rejected);
        std::thread::Builder::new()
            .name("watch".into())
            .spawn(move || {
                let round = Round {
                    plan: &plan,
                    parent: &parent,
                    fingerprints,
                    rejected: &thread_rejected,
                };
                round.repeat(interval, first, &sender, waker)
            })
            .map_err(Error::Output)?;
        tracing::info!(
            interval = %humantime::format_duration(interval),
            "watching the sources for changes"
        );
        Ok(Watcher {
            changes,
            rejected,
            wake,
            settings,
        })
    }

    /// The change last taken could not be applied (the command keeps its old values): the
    /// thread offers it again, after a backoff, instead of taking it as the command's now.
    pub fn reject(&self) {
        self.rejected.store(true, Ordering::SeqCst);
    }

    /// Readable when [`take`](Self::take) has something.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// The latest change, if one is waiting (older ones are superseded by it).
    pub fn take(&mut self) -> Woken {
        let mut drained = [0u8; 64];
        match self.wake.read(&mut drained) {
            // The watching thread is gone (it could not start its runtime): the pipe would
            // stay readable forever.
            Ok(0) => Woken::Stopped,
            _ => self
                .changes
                .try_iter()
                .last()
                .map_or(Woken::Nothing, Woken::Changed),
        }
    }
}

/// What each round of the watching thread needs.
struct Round<'a> {
    plan: &'a Plan,
    parent: &'a ParentEnv,
    fingerprints: Fingerprints,
    rejected: &'a AtomicBool,
}

impl Round<'_> {
    /// One round per interval until secretrun exits (or the supervisor is gone), never ending
    /// the run on a failure.
    fn repeat(
        &self,
        interval: Duration,
        mut applied: Fingerprint,
        changes: &mpsc::Sender<Change>,
        mut waker: File,
    ) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                tracing::error!(%error, "cannot start watching");
                return;
            }
        };
        let backoff = |delay: Duration| (delay * 2).min(MAX_BACKOFF.max(interval));
        let mut delay = interval;
        // What the last round sent, until the supervisor has had it (a round apart at least).
        let mut pending: Option<Fingerprint> = None;
        loop {
            std::thread::sleep(delay);
            let mut next = interval;
            if let Some(sent) = pending.take() {
                if self.rejected.swap(false, Ordering::SeqCst) {
                    next = backoff(delay);
                } else {
                    applied = sent;
                }
            }
            match runtime.block_on(self.resolve()) {
                Ok(env) => {
                    delay = next;
                    let now = self.fingerprints.of(&env);
                    let changed = changed_names(&applied, &now);
                    if changed.is_empty() {
                        tracing::debug!("watch: no value changed");
                        continue;
                    }
                    pending = Some(now);
                    let sent = changes.send(Change { env, changed }).is_ok()
                        && waker.write_all(b"!").is_ok();
                    if !sent {
                        return;
                    }
                }
                Err(error) => {
                    delay = backoff(delay);
                    tracing::warn!(
                        "watch: {error}; the command keeps its current values; next try in {}",
                        humantime::format_duration(delay)
                    );
                }
            }
        }
    }

    /// One re-resolution, failing as a start would (a `--require`d name missing or a rule
    /// broken included).
    async fn resolve(&self) -> Result<ChildEnv, Error> {
        let env = pipeline::merged(self.plan, self.parent).await?;
        pipeline::check_required(self.plan, &env)?;
        Ok(env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::merge::{Entry, Value};
    use crate::env::origin::Origin;
    use crate::secret::SecretValue;
    use crate::source::SourceClass;

    fn env(pairs: &[(&str, &str)]) -> ChildEnv {
        let mut env = ChildEnv::default();
        for (name, value) in pairs {
            env.vars.insert(
                (*name).into(),
                Entry {
                    value: Value::Secret(SecretValue::from(value.to_string())),
                    origin: Origin::source("doppler:*", SourceClass::Secret),
                    overridden: Vec::new(),
                },
            );
        }
        env.vars.insert(
            "PATH".into(),
            Entry {
                value: Value::Parent("/bin".into()),
                origin: Origin::Parent,
                overridden: Vec::new(),
            },
        );
        env
    }

    #[test]
    fn changes_are_named_never_valued() {
        let prints = Fingerprints::new().unwrap();
        let old = prints.of(&env(&[("A", "1"), ("B", "2"), ("C", "3")]));
        let new = prints.of(&env(&[("A", "1"), ("B", "two"), ("D", "4")]));
        assert_eq!(changed_names(&old, &new), ["B", "C", "D"]);
        assert!(changed_names(&old, &old).is_empty());
        // Another run's key gives other digests of the same values.
        let other = Fingerprints::new().unwrap();
        let a = env(&[("A", "1")]);
        let name = std::ffi::OsStr::new("A");
        assert_ne!(prints.of(&a)[name].as_ref(), other.of(&a)[name].as_ref());
    }

    #[test]
    fn a_watching_thread_that_ended_is_told_from_no_change() {
        let (wake, waker) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let (sender, changes) = mpsc::channel();
        let mut watcher = Watcher {
            changes,
            rejected: Arc::new(AtomicBool::new(false)),
            wake: File::from(wake),
            settings: WatchSettings {
                interval: crate::cli::settings::MIN_WATCH_INTERVAL,
                on_change: crate::cli::settings::OnChange::Restart,
                stop_signal: nix::sys::signal::Signal::SIGTERM,
            },
        };
        let mut waker = File::from(waker);
        waker.write_all(b"!").unwrap();
        assert!(matches!(watcher.take(), Woken::Nothing));
        sender
            .send(Change {
                env: env(&[("A", "1")]),
                changed: vec!["A".into()],
            })
            .unwrap();
        waker.write_all(b"!").unwrap();
        assert!(matches!(watcher.take(), Woken::Changed(change) if change.changed == ["A"]));
        drop(waker);
        assert!(matches!(watcher.take(), Woken::Stopped));
    }
}
