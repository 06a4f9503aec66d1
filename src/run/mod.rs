//! Stage 5, running the child: exec or supervise it ([`child`]), leave as it left ([`exit`]),
//! and what supervision adds: `--watch` ([`watch`]), `--mask-output` ([`mask`]), secret files
//! ([`mount`]).

pub mod child;
pub mod exit;
pub mod mask;
pub mod mount;
pub mod watch;
