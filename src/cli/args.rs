//! Stage 1, after clap: what the command line says, with the global flags of both sides of a
//! subcommand (`secretrun -e a.env show -e b.env`) kept and the source flags in the order given.
//!
//! clap copies a global flag given on one side of a subcommand to the other, keeps only one
//! side's values of a list flag (clap-rs/clap#3938) and numbers each side's arguments from its
//! own start; this module undoes that, so `cli/mod.rs` can stay plain derive.

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::{settings, Cli};
use crate::error::Error;
use crate::source::{SourceKind, SourceSpec};

/// The parsed command line, and each side of a subcommand's own matches (one side without).
pub fn parse() -> Result<(Cli, Vec<ArgMatches>), clap::Error> {
    // Parsed in place, not on a clone: a run without a subcommand (the common case) needs the
    // command tree once; only a subcommand's second parse builds it again.
    let matches = Cli::command().try_get_matches_from_mut(std::env::args_os())?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let sides = own_sides(matches)?;
    join_list_flags(&mut cli, &sides);
    Ok((cli, sides))
}

/// The arguments given before a subcommand and those given after it, each side with only its
/// own (a single side without a subcommand).
///
/// Why: clap copies a global flag given on one side of `show` to the other, keeps only the
/// values after `show` of a list flag given on both sides (clap-rs/clap#3938), and numbers each
/// side's arguments from its own start; so `-e a.env show -e b.env` lost `a.env`, and
/// `-e a.env show -s dotenv:b.env` lost one of the two to an index clash. With a subcommand,
/// the command line is parsed again with no global flags, the subcommand having its own copy
/// of each, so that every side keeps what was given on it.
fn own_sides(matches: ArgMatches) -> Result<Vec<ArgMatches>, clap::Error> {
    let Some((name, _)) = matches.subcommand() else {
        return Ok(vec![matches]);
    };
    let command = Cli::command();
    let copies: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .map(|arg| arg.clone().global(false))
        .collect();
    let mut before = command
        .mut_args(|arg| arg.global(false))
        .mut_subcommand(name, |sub| sub.args(copies))
        .try_get_matches()?;
    let after = before.remove_subcommand().map(|(_, after)| after);
    Ok(std::iter::once(before).chain(after).collect())
}

/// Every value of the list flags (and every `-v`), from both sides of a subcommand, the side
/// before it first: clap kept only one side's (see [`own_sides`]).
fn join_list_flags(cli: &mut Cli, sides: &[ArgMatches]) {
    if sides.len() < 2 {
        return;
    }
    let list = |id: &str| -> Vec<String> {
        sides
            .iter()
            .flat_map(|side| side.get_many::<String>(id).into_iter().flatten().cloned())
            .collect()
    };
    cli.sources.env_file = list("env_file");
    cli.sources.secrets_dir = list("secrets_dir");
    cli.sources.source = list("source");
    cli.rules.require = list("require");
    cli.rules.require_from = list("require_from");
    cli.rules.allow_name = list("allow_name");
    if sides.iter().any(|side| side.contains_id("preserve_env")) {
        cli.rules.preserve_env = Some(list("preserve_env"));
    }
    cli.output.verbose = sides.iter().fold(0u8, |sum, side| {
        sum.saturating_add(side.get_count("verbose"))
    });
}

/// `--env-file`, `--secrets-dir` and `--source` as specs, in the order they were given on the
/// command line (before or after a subcommand), since that order breaks ties in the merge.
pub fn ordered_source_specs(cli: &Cli, sides: &[ArgMatches]) -> Result<Vec<SourceSpec>, Error> {
    let mut parsed = Vec::new();
    // Indices count from each side's start: sort within a side; the side before comes first.
    for side in sides {
        let mut found: Vec<(usize, Result<SourceSpec, Error>)> = Vec::new();
        for (id, kind) in [
            ("env_file", Some(SourceKind::Dotenv)),
            ("secrets_dir", Some(SourceKind::Dir)),
            ("source", None),
        ] {
            let (Some(indices), Some(values)) = (side.indices_of(id), side.get_many::<String>(id))
            else {
                continue;
            };
            for (index, value) in indices.zip(values) {
                let spec = match kind {
                    Some(kind) => settings::path_spec(kind, value),
                    None => settings::parse_spec(value),
                };
                found.push((index, spec));
            }
        }
        found.sort_by_key(|(index, _)| *index);
        parsed.extend(found.into_iter().map(|(_, spec)| spec));
    }
    debug_assert_eq!(
        parsed.len(),
        cli.sources.env_file.len() + cli.sources.secrets_dir.len() + cli.sources.source.len()
    );
    // Every unparsable spec at once, in the order given, as Plan::build reports bad options.
    let (specs, errors): (Vec<_>, Vec<_>) = parsed.into_iter().partition(Result::is_ok);
    match Error::from_many(errors.into_iter().filter_map(Result::err).collect()) {
        Some(error) => Err(error),
        None => Ok(specs.into_iter().filter_map(Result::ok).collect()),
    }
}
