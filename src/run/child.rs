//! Stage 5: run the child, either by replacing secretrun (`execve`) or by supervising it.
//!
//! Exec keeps systemd's view intact (the child is the main PID) and leaves no secret in
//! secretrun's memory. Supervision is for PID 1 and for features that need secretrun to stay:
//! it forwards signals exactly once, reaps zombies when it is PID 1 or a subreaper, and reports
//! how the child ended. With `--signal-group` the child leads its own process group (and takes
//! the terminal when secretrun had it) and every signal goes to that group. stdin, stdout and stderr are inherited, never piped, except that
//! `--mask-output` connects stdout and stderr to `mask` (a pseudo-terminal when ours is a
//! terminal, pipes otherwise), copied on threads of their own (the signal loop is the same),
//! and waits for them before reporting how the child ended.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::signal::{SigSet, SigmaskHow};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{getpgid, getpgrp, getpid, setpgid, tcgetpgrp, tcsetpgrp, Pid};

use crate::cli::settings::ChildCommand;
use crate::cli::settings::OnChange;
use crate::env::merge::ChildEnv;
use crate::environment::ParentEnv;
use crate::error::Error;
use crate::plan::Launch;
use crate::run::exit::ChildExit;
use crate::run::mask::{Copiers, Masker, Wiring};
use crate::run::mount::{self, Mounted};
use crate::run::watch::{Watcher, Woken};
use crate::signals::{Signals, Wake, FROM_TERMINAL};

/// Signals after which `--kill-after` starts counting.
const STOP_SIGNALS: &[Signal] = &[
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGHUP,
];

/// Signals that mean "stop" from whoever sent them (HUP often means "reload").
const USER_STOPS: &[Signal] = &[Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT];

/// The hidden first argument with which secretrun only sets `LISTEN_PID` to its own PID and
/// replaces itself with the command that follows (see [`hand_over_listen_pid`]).
const LISTEN_PID_HANDOVER: &str = "--internal-listen-pid-handover";

fn command(child: &ChildCommand, env: &[(OsString, OsString)]) -> Command {
    let mut command = Command::new(&child.program);
    command.args(&child.args);
    with_env(command, env)
}

fn with_env(mut command: Command, env: &[(OsString, OsString)]) -> Command {
    command.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    command
}

/// The supervised child's command. Socket activation names the one process that may take the
/// descriptors (`LISTEN_PID`); when it names secretrun, the child must be named instead, and
/// its PID is known only once it runs: it then starts as secretrun itself, which sets
/// `LISTEN_PID` to its PID and execs the command (same process, same PID).
fn supervised_command(child: &ChildCommand, env: &[(OsString, OsString)]) -> Command {
    let ours = getpid().to_string();
    let names_us = env
        .iter()
        .any(|(name, value)| name == "LISTEN_PID" && value.to_str() == Some(ours.as_str()));
    if !names_us {
        return command(child, env);
    }
    let mut command = Command::new("/proc/self/exe");
    command
        .arg(LISTEN_PID_HANDOVER)
        .arg(&child.program)
        .args(&child.args);
    with_env(command, env)
}

/// When secretrun was started as [`supervised_command`]'s hand-over: sets `LISTEN_PID` and
/// execs the command; returns only if that failed. `None` otherwise.
pub fn hand_over_listen_pid() -> Option<Error> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != LISTEN_PID_HANDOVER {
        return None;
    }
    let child = ChildCommand {
        program: args.next()?,
        args: args.collect(),
    };
    let mut command = Command::new(&child.program);
    command
        .args(&child.args)
        .env("LISTEN_PID", getpid().to_string());
    let error = command.exec();
    Some(start_error(&child, &[], error))
}

/// Replaces secretrun with the child. Returns only if `execve` failed.
pub fn exec(child: &ChildCommand, env: Vec<(OsString, OsString)>, signals: &Signals) -> Error {
    let mut command = command(child, &env);
    signals.restore();
    let error = command.exec();
    start_error(child, &env, error)
}

/// Starts the child with `child_env` and stays with it until it (and, as a reaper, every
/// adopted orphan) ends. With a `watcher`, a change of values restarts the child or rewrites
/// its secret files and signals it (see `watch`).
pub fn supervise(
    child: &ChildCommand,
    child_env: ChildEnv,
    launch: &Launch,
    parent: &ParentEnv,
    signals: &Signals,
    watcher: Option<Watcher>,
) -> Result<ChildExit, Error> {
    let is_pid1 = getpid().as_raw() == 1;
    if launch.subreaper && !is_pid1 {
        nix::sys::prctl::set_child_subreaper(true).map_err(Error::Supervise)?;
    }
    let launcher = Launcher {
        child,
        launch,
        parent,
        signals,
    };
    let running = launcher.start(child_env)?;
    let mut supervisor = Supervisor {
        child: running.pid,
        running: Some(running),
        launcher,
        watcher,
        reaper: is_pid1 || launch.subreaper,
        is_pid1,
        exit: None,
        kill_at: None,
        leftovers_killed_at: None,
        restart_with: None,
        stopping: false,
    };
    let exit = supervisor.run(signals);
    // All masked output is written, and the secret files removed, before secretrun exits as
    // the child did.
    if let Some(running) = supervisor.running.take() {
        running.end(launch.grace_period);
    }
    exit
}

/// What starting a child takes; used again for every restart.
struct Launcher<'a> {
    child: &'a ChildCommand,
    launch: &'a Launch,
    parent: &'a ParentEnv,
    signals: &'a Signals,
}

/// A started child and what lives as long as it does.
struct Running {
    pid: Pid,
    /// `--signal-group` took the terminal from secretrun's group for the child's: it is given
    /// back when the child ends.
    took_terminal: bool,
    copiers: Option<Copiers>,
    /// The `--mount`/`--file` files; removed when dropped.
    mounted: Mounted,
}

impl Running {
    /// After the child ended: waits for its masked output, then removes its files.
    fn end(self, patience: Duration) {
        if self.took_terminal {
            give_terminal_to(getpgrp());
        }
        if let Some(copiers) = self.copiers {
            copiers.finish(patience);
        }
        drop(self.mounted);
    }
}

impl Launcher<'_> {
    fn start(&self, mut child_env: ChildEnv) -> Result<Running, Error> {
        // --mask-output: the patterns come from the values, so build them before --mount takes
        // any out of the environment (they are still masked).
        let masker = match self.launch.mask_output {
            true => Masker::new(&child_env)?,
            false => None,
        };
        let mounted = mount::prepare(&self.launch.secret_files, &mut child_env, self.parent)?;
        let env = child_env.to_pairs();
        drop(child_env);
        let mut command = supervised_command(self.child, &env);
        // std::process::Command does not reset the signal mask (Rust 1.95: the child inherits
        // it on both the posix_spawn and the fork path). Left alone, the child would start with
        // every forwarded signal blocked: forwarded signals and Ctrl-C would stay pending in it
        // forever. Give it the mask secretrun started with, as exec mode does before `execve`.
        let original_mask = self.signals.original_mask();
        // SAFETY: pthread_sigmask is async-signal-safe and changes only the new process.
        let signal_group = self.launch.signal_group;
        // The terminal's foreground group gets Ctrl-C and may read the terminal: when that is
        // ours, a child in a group of its own must take it, or the terminal would stop it
        // (SIGTTIN) and its Ctrl-C would go to secretrun instead. tini does the same.
        let take_terminal = signal_group && tcgetpgrp(std::io::stdin()).ok() == Some(getpgrp());
        // SAFETY: setpgid, tcsetpgrp and pthread_sigmask are async-signal-safe and change only
        // the new process (and, for tcsetpgrp, which group is the terminal's foreground).
        unsafe {
            command.pre_exec(move || {
                if signal_group {
                    setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
                }
                if take_terminal {
                    give_terminal_to(getpgrp());
                }
                original_mask.thread_set_mask().map_err(io::Error::from)
            });
        }
        let wiring = masker.map(|masker| Wiring::new(masker, &mut command));
        let mut spawned = command
            .spawn()
            .map_err(|error| start_error(self.child, &env, error))?;
        drop(env);
        // Closes our copies of a pseudo-terminal's child side, so its end is seen.
        drop(command);
        let copiers = wiring.map(|wiring| wiring.start(&mut spawned));
        let pid = Pid::from_raw(spawned.id() as i32);
        if signal_group {
            // Also from here, so that no signal forwarded before the child ran its own setpgid
            // goes to a group that does not exist yet; after its execve this fails (EACCES),
            // and by then the child did it itself.
            let _ = setpgid(pid, pid);
        }
        Ok(Running {
            pid,
            took_terminal: take_terminal,
            copiers,
            mounted,
        })
    }
}

struct Supervisor<'a> {
    child: Pid,
    running: Option<Running>,
    launcher: Launcher<'a>,
    watcher: Option<Watcher>,
    reaper: bool,
    is_pid1: bool,
    exit: Option<ChildExit>,
    /// When the child gets SIGKILL for ignoring a stop signal.
    kill_at: Option<Instant>,
    /// When leftover processes get SIGKILL after the child exited.
    leftovers_killed_at: Option<Instant>,
    /// The environment to start the child with again once the stop sent for a restart ends it.
    restart_with: Option<ChildEnv>,
    /// A stop signal came from outside: no restart any more.
    stopping: bool,
}

impl Supervisor<'_> {
    fn run(&mut self, signals: &Signals) -> Result<ChildExit, Error> {
        loop {
            self.reap()?;
            if let Some(exit) = self.exit {
                if let Some(env) = self.restart_with.take() {
                    self.restart(env)?;
                    continue;
                }
                if !self.reaper || !self.has_children()? {
                    return Ok(exit);
                }
                self.stop_leftovers();
            }
            let now = Instant::now();
            if self.kill_at.is_some_and(|at| at <= now) && self.exit.is_none() {
                tracing::warn!("the command ignored the stop signal; sending SIGKILL");
                self.signal_child(Signal::SIGKILL);
                self.kill_at = None;
            }
            let deadline = [self.kill_at, self.leftovers_killed_at]
                .into_iter()
                .flatten()
                .min();
            let timeout = deadline.map(|at| at.saturating_duration_since(now));
            let changes = self.watcher.as_ref().map(Watcher::fd);
            match signals.wait(timeout, changes).map_err(Error::Supervise)? {
                Wake::Timeout => {}
                Wake::Signal(received) if received.signal == Signal::SIGCHLD => {}
                Wake::Signal(received) => self.forward(received.signal, received.from_kernel),
                Wake::Other => self.changed(),
            }
        }
    }

    /// A watch round found changed values: stop the child for a restart, or rewrite its files
    /// and signal it.
    fn changed(&mut self) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        let change = match watcher.take() {
            Woken::Changed(change) => change,
            Woken::Nothing => return,
            Woken::Stopped => {
                tracing::warn!("stopped watching for changes");
                self.watcher = None;
                return;
            }
        };
        // A child on its way out is not restarted, nor asked to reload.
        if self.exit.is_some() || self.stopping {
            return;
        }
        let names = change.changed.join(", ");
        match watcher.settings.on_change {
            OnChange::Restart => {
                // What could keep the new command from starting is found now, while the old
                // one still runs: it keeps running rather than be stopped for nothing.
                if let Err(error) = mount::check(&self.launcher.launch.secret_files, &change.env) {
                    tracing::warn!(
                        "changed: {names}; but the secret files cannot be written with the new \
                         values, so the command keeps running with the old ones: {error}"
                    );
                    watcher.reject();
                    return;
                }
                tracing::warn!("changed: {names}; restarting the command");
                if self.restart_with.replace(change.env).is_none() {
                    let stop_signal = watcher.settings.stop_signal;
                    self.signal_child(stop_signal);
                    self.kill_at = Some(Instant::now() + self.launcher.launch.grace_period);
                }
            }
            OnChange::Signal(signal) => {
                let Some(running) = self.running.as_mut() else {
                    return;
                };
                let mut env = change.env;
                let launch = self.launcher.launch;
                match running
                    .mounted
                    .refresh(&launch.secret_files, &mut env, self.launcher.parent)
                {
                    Ok(()) => {
                        tracing::warn!(
                            "changed: {names}; rewrote the secret files, sending {signal}"
                        );
                        self.signal_child(signal);
                    }
                    Err(error) => {
                        tracing::warn!(
                            "changed: {names}; but the secret files cannot be rewritten, so the \
                             command keeps the old ones: {error}"
                        );
                        watcher.reject();
                    }
                }
            }
        }
    }

    /// The child stopped for a restart has ended: start it again with the new values.
    fn restart(&mut self, env: ChildEnv) -> Result<(), Error> {
        if let Some(old) = self.running.take() {
            old.end(self.launcher.launch.grace_period);
        }
        let running = self.launcher.start(env)?;
        self.child = running.pid;
        self.running = Some(running);
        self.exit = None;
        self.kill_at = None;
        tracing::info!(pid = self.child.as_raw(), "restarted the command");
        Ok(())
    }

    fn forward(&mut self, signal: Signal, from_kernel: bool) {
        if self.exit.is_some() {
            return;
        }
        // Under --mask-output the child's terminal is ours to resize; it learns of it only from us.
        let resized = signal == Signal::SIGWINCH
            && self
                .running
                .as_ref()
                .and_then(|running| running.copiers.as_ref())
                .is_some_and(Copiers::resize_terminal);
        // A terminal key already reached the child when it shares our process group; sending
        // it again would deliver Ctrl-C twice.
        let already_delivered = !resized
            && from_kernel
            && FROM_TERMINAL.contains(&signal)
            && getpgid(Some(self.child)).is_ok_and(|group| group == getpgrp());
        if !already_delivered {
            tracing::debug!(signal = %signal, "forwarding");
            self.signal_child(signal);
        }
        // Asked to stop from outside: a pending restart is called off, and no other begins.
        if USER_STOPS.contains(&signal) {
            self.stopping = true;
            self.restart_with = None;
        }
        if STOP_SIGNALS.contains(&signal) && self.kill_at.is_none() {
            self.kill_at = self
                .launcher
                .launch
                .kill_after
                .map(|after| Instant::now() + after);
        }
    }

    /// Sends `signal` to the child, or with `--signal-group` to every process of its group (a
    /// shell and the command it waits for).
    fn signal_child(&self, signal: Signal) {
        let target = match self.launcher.launch.signal_group {
            true => Pid::from_raw(-self.child.as_raw()),
            false => self.child,
        };
        let _ = kill(target, signal);
    }

    /// Collects every child that has ended; remembers how the main child ended.
    fn reap(&mut self) -> Result<(), Error> {
        let target = if self.reaper { None } else { Some(self.child) };
        loop {
            match waitpid(target, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == self.child => {
                    self.exit = Some(ChildExit::Code(code));
                }
                Ok(WaitStatus::Signaled(pid, signal, _)) if pid == self.child => {
                    self.exit = Some(ChildExit::Signal(signal));
                }
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(()),
                Ok(_) | Err(Errno::EINTR) => {}
                Err(err) => return Err(Error::Supervise(err)),
            }
        }
    }

    fn has_children(&self) -> Result<bool, Error> {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Err(Errno::ECHILD) => Ok(false),
            Ok(_) => Ok(true),
            Err(err) => Err(Error::Supervise(err)),
        }
    }

    /// After the child exited: SIGTERM to what remains, then SIGKILL after the grace period.
    fn stop_leftovers(&mut self) {
        match self.leftovers_killed_at {
            None => {
                tracing::info!("the command exited; stopping its leftover processes");
                self.signal_leftovers(Signal::SIGTERM);
                self.leftovers_killed_at = Some(Instant::now() + self.launcher.launch.grace_period);
            }
            Some(at) if at <= Instant::now() => {
                tracing::warn!("leftover processes outlived the grace period; sending SIGKILL");
                self.signal_leftovers(Signal::SIGKILL);
                // Keep reaping until they are gone; wake up again after another period.
                self.leftovers_killed_at = Some(Instant::now() + self.launcher.launch.grace_period);
            }
            Some(_) => {}
        }
    }

    fn signal_leftovers(&self, signal: Signal) {
        if self.is_pid1 {
            // As PID 1 every other process in the namespace is ours.
            let _ = kill(Pid::from_raw(-1), signal);
        } else {
            for pid in direct_children() {
                let _ = kill(pid, signal);
            }
        }
    }
}

/// Makes `group` the foreground process group of the terminal on stdin, if there is one. Called
/// from a background group, which the terminal would stop with SIGTTOU unless it is blocked.
fn give_terminal_to(group: Pid) {
    let mut ttou = SigSet::empty();
    ttou.add(Signal::SIGTTOU);
    let mut previous = SigSet::empty();
    if nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&ttou), Some(&mut previous))
        .is_ok()
    {
        // No terminal (ENOTTY) or one that is not ours any more: nothing to hand over.
        let _ = tcsetpgrp(std::io::stdin(), group);
        let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&previous), None);
    }
}

/// Our direct children, from `/proc` (orphans adopted as a subreaper included).
fn direct_children() -> Vec<Pid> {
    let me = getpid().as_raw();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Fields after the parenthesised command name: state, ppid, ...
            let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after_name.split_whitespace().nth(1) == Some(&me.to_string())
        })
        .map(Pid::from_raw)
        .collect()
}

fn start_error(child: &ChildCommand, env: &[(OsString, OsString)], error: io::Error) -> Error {
    let program = child.program.to_string_lossy().into_owned();
    match error.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ENOENT) => Error::CommandNotFound { program },
        Some(Errno::EACCES | Errno::ENOEXEC | Errno::EISDIR | Errno::EPERM) => {
            Error::NotExecutable {
                program,
                source: error,
            }
        }
        Some(Errno::E2BIG) => Error::TooLarge {
            program,
            env_bytes: env.iter().map(|(k, v)| k.len() + v.len() + 2).sum(),
        },
        _ => Error::Spawn {
            program,
            source: error,
        },
    }
}
