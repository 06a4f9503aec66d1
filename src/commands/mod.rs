//! The subcommands (`show`, `get`, `export`, `scan`, `check`, `encrypt`, `decrypt`), one file
//! each. Each gets the merged environment from the one [`pipeline`](crate::pipeline) a plain
//! run uses, and returns its exit status.

pub mod check;
pub mod encrypt;
pub mod export;
pub mod get;
pub mod init;
pub mod push;
pub mod scan;
pub mod set;
pub mod write_plan;

use std::io::Write;

use crate::cli::{Command, ShowArgs};
use crate::error::Error;
use crate::output::show;
use crate::pipeline::{Session, Stop};
use crate::plan::Plan;

/// Exit status of `scan` when a value was found and of `check` when a check failed: a result,
/// not a failure of secretrun (which is 125).
pub const EXIT_FOUND: i32 = 1;

/// Runs a subcommand; returns its exit status.
pub fn run(command: Command, session: &Session) -> Result<i32, Stop> {
    match command {
        Command::Show(args) => show_env(session, &args),
        Command::Get(args) => get::run(session, &args),
        Command::Export(args) => export::run(session, &args),
        Command::Scan(args) => scan::run(session, &args),
        Command::Check(args) => check::run(session, &args),
        Command::Encrypt(args) => encrypt::encrypt(session, &args),
        Command::Decrypt(args) => encrypt::decrypt(session, &args),
        Command::Set(args) => set::run(session, &args),
        Command::Push(args) | Command::Copy(args) => push::run(session, &args),
        Command::Init(args) => init::run(session, &args),
    }
}

/// `show` prints the table even when a required name is missing, so the user sees what is
/// there; then it fails.
fn show_env(session: &Session, args: &ShowArgs) -> Result<i32, Stop> {
    let child_env = session.merged_env()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let encrypted = encrypted_names(session.plan);
    show::render(&child_env, args, &encrypted, &mut out)
        .and_then(|()| out.flush())
        .map_err(Error::Output)?;
    session.require(&child_env)?;
    Ok(0)
}

/// The (source, name) pairs of the plan's `.env` files whose values are dotenvx-encrypted, for
/// `show` to mark. Read from the files as they are now; a file that cannot be read marks none.
fn encrypted_names(plan: &Plan) -> std::collections::BTreeSet<(String, String)> {
    let mut found = std::collections::BTreeSet::new();
    for source in plan.sources.iter() {
        if source.spec.kind != crate::source::SourceKind::Dotenv {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&source.spec.location) else {
            continue;
        };
        for assignment in crate::envfile::assignments(&text) {
            if assignment
                .inner(&text)
                .starts_with(crate::dotenvx::ENCRYPTED_PREFIX)
            {
                let name = assignment.name(&text).to_string();
                found.insert((source.origin.clone(), name));
            }
        }
    }
    found
}
