//! `secretrun get NAME`: one value of the merged environment on stdout, for scripts.
//!
//! The value is written byte for byte, as `doppler secrets get --plain` writes it. A newline is
//! added only when stdout is a terminal (so the prompt starts on its own line); a pipe or a
//! file gets the value exactly, its own trailing newline included. Any name the command would
//! get can be read, an inherited one too; a name it would not get is an error (125).

use std::ffi::OsStr;
use std::io::{IsTerminal, Write};

use crate::cli::GetArgs;
use crate::error::Error;

use crate::pipeline::{Session, Stop};

pub fn run(session: &Session, args: &GetArgs) -> Result<i32, Stop> {
    let child_env = session.merged_env()?;
    session.require(&child_env)?;
    let entry = child_env
        .vars
        .get(OsStr::new(&args.name))
        .ok_or_else(|| Error::NotSet {
            name: args.name.clone(),
        })?;
    let mut out = std::io::stdout().lock();
    let newline: &[u8] = if out.is_terminal() { b"\n" } else { b"" };
    out.write_all(entry.value.as_bytes())
        .and_then(|()| out.write_all(newline))
        .and_then(|()| out.flush())
        .map_err(Error::Output)?;
    Ok(0)
}
