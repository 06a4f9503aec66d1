//! The one integration test binary: runs the real `secretrun` with a controlled environment.

mod contract;
mod support;

mod aws_sm;
mod aws_ssm;
mod azure_kv;
mod check;
mod commands;
mod compat;
mod core_cli;
mod doppler;
mod dotenvx;
mod fallback;
mod faults;
mod fleet;
mod gcp_sm;
mod generated;
mod hostile;
mod mask;
mod mount;
mod priority;
mod references;
mod rules;
mod signals;
mod vault;
mod watch;
mod write_roundtrip;
mod write_stores;
