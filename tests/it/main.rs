//! The one integration test binary: runs the real `secretrun` with a controlled environment.

mod contract;
mod support;

mod aws_sm;
mod compat;
mod core_cli;
mod doppler;
mod generated;
mod priority;
mod signals;
mod vault;
