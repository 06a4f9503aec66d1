//! `secretrun set --to SPEC NAME...`: values from standard input or a no-echo prompt, never
//! from the command line (see [`super::write_plan`] for how they are written).
//!
//! Reads run on tokio's blocking pool under [`Session::block_on`], so Ctrl-C (blocked for the
//! whole of secretrun, see `signals`) still stops a prompt or a stdin that never ends, and the
//! terminal's echo is restored on the way out.

use std::io::{IsTerminal, Read, Write};

use nix::sys::termios::{self, LocalFlags, SetArg, Termios};

use crate::cli::SetArgs;
use crate::error::Error;
use crate::providers::MAX_LOCAL_FILE_BYTES;
use crate::secret::{EnvName, SecretValue};

use super::{write_plan, Session, Stop};

pub fn run(session: &Session, args: &SetArgs) -> Result<i32, Stop> {
    let names = names(&args.names)?;
    let wanted = if std::io::stdin().is_terminal() {
        let mut wanted = Vec::new();
        for name in names {
            let value = prompt(session, &name)?;
            wanted.push((name, value));
        }
        wanted
    } else {
        from_stdin(session, names)?
    };
    write_plan::apply(session, &args.write, wanted)
}

/// The names given, refusing `NAME=VALUE` before anything else is looked at.
fn names(given: &[String]) -> Result<Vec<EnvName>, Error> {
    let mut names: Vec<EnvName> = Vec::new();
    for text in given {
        if let Some((name, _)) = text.split_once('=') {
            return Err(Error::ValueInArguments {
                name: name.to_string(),
            });
        }
        let name = EnvName::new(text.clone()).map_err(|problem| Error::InvalidName {
            what: "name",
            name: text.clone(),
            problem,
        })?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// One value per name from stdin: all of it for one name, dotenv lines for several.
fn from_stdin(session: &Session, names: Vec<EnvName>) -> Result<Vec<(EnvName, SecretValue)>, Stop> {
    let read = || {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_LOCAL_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map(|_| SecretValue::new(bytes))
    };
    let input = session
        .block_on(async { tokio::task::spawn_blocking(read).await })?
        .map_err(|_| input_error("the reader stopped unexpectedly".into()))?
        .map_err(|error| input_error(format!("cannot read: {error}")))?;
    if input.len() as u64 > MAX_LOCAL_FILE_BYTES {
        return Err(input_error(format!("larger than {} MiB", MAX_LOCAL_FILE_BYTES >> 20)).into());
    }
    if let [name] = names.as_slice() {
        return Ok(vec![(name.clone(), input)]);
    }
    let text = std::str::from_utf8(input.expose())
        .map_err(|_| input_error("NAME=VALUE lines must be UTF-8 text".into()))?;
    let mut given: Vec<(String, SecretValue)> = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        // dotenvy's error quotes the line, which may hold a value: only say what is wrong.
        let (name, value) = item.map_err(|_| {
            input_error(
                "with several names, stdin must hold NAME=VALUE lines in dotenv syntax (quote a \
                 value with ' to keep it as it is)"
                    .into(),
            )
        })?;
        given.retain(|(earlier, _)| *earlier != name);
        given.push((name, SecretValue::from(value)));
    }
    let extra: Vec<&str> = given
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| !names.iter().any(|wanted| wanted.as_str() == *name))
        .collect();
    if !extra.is_empty() {
        return Err(input_error(format!(
            "sets {}, not named on the command line",
            extra.join(", ")
        ))
        .into());
    }
    let mut missing = Vec::new();
    let mut wanted = Vec::new();
    for name in names {
        match given.iter().position(|(given, _)| given == name.as_str()) {
            Some(at) => wanted.push((name, given.swap_remove(at).1)),
            None => missing.push(name.to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(input_error(format!("has no line for {}", missing.join(", "))).into());
    }
    Ok(wanted)
}

fn input_error(problem: String) -> Error {
    Error::ValueInput { problem }
}

/// Asks for `name`'s value on the terminal without echoing it; the line's newline is not kept.
fn prompt(session: &Session, name: &EnvName) -> Result<SecretValue, Stop> {
    let mut stderr = std::io::stderr();
    write!(stderr, "{name} (input hidden): ")
        .and_then(|()| stderr.flush())
        .map_err(Error::Output)?;
    let quiet = NoEcho::start()?;
    let read = || {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    };
    let answer = session.block_on(async { tokio::task::spawn_blocking(read).await });
    drop(quiet);
    let _ = writeln!(stderr);
    let mut line = answer?
        .map_err(|_| input_error("the prompt stopped unexpectedly".into()))?
        .map_err(|error| input_error(format!("cannot read the answer: {error}")))?;
    if line.ends_with('\n') {
        line.pop();
    }
    Ok(SecretValue::from(line))
}

/// The terminal without echo while it lives; restored on drop, on every way out.
struct NoEcho {
    saved: Termios,
}

impl NoEcho {
    fn start() -> Result<Self, Error> {
        let failed = |error: nix::Error| input_error(format!("cannot turn off echo: {error}"));
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin).map_err(failed)?;
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        termios::tcsetattr(&stdin, SetArg::TCSAFLUSH, &quiet).map_err(failed)?;
        Ok(Self { saved })
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), SetArg::TCSAFLUSH, &self.saved);
    }
}
