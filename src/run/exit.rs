//! Stage 6: leave exactly as the child did: its exit code, or death by the same signal.

use nix::sys::resource::{setrlimit, Resource};
use nix::sys::signal::{self, SigHandler, SigSet, SigmaskHow, Signal};

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    Code(i32),
    Signal(Signal),
}

pub fn exit_as(child: ChildExit) -> ! {
    match child {
        ChildExit::Code(code) => std::process::exit(code),
        ChildExit::Signal(signal) => die_of(signal),
    }
}

/// Dies of `signal`, so a shell sees what it would have seen of the child (and, for SIGINT,
/// aborts its loop). PID 1 cannot die of a signal, so it exits with 128+N instead.
pub fn die_of(signal: Signal) -> ! {
    if nix::unistd::getpid().as_raw() != 1 {
        // The child already dumped core if it was going to; a second core would be ours.
        let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
        // SAFETY: restoring the default action installs no handler code; nothing else runs
        // concurrently that depends on this signal's disposition.
        let _ = unsafe { signal::signal(signal, SigHandler::SigDfl) };
        let mut only = SigSet::empty();
        only.add(signal);
        let _ = signal::pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&only), None);
        let _ = signal::raise(signal);
    }
    // PID 1, or a signal whose default action does not terminate.
    std::process::exit(128 + signal as i32)
}
