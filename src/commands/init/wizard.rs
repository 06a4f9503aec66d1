//! The `init` wizard: asks on the terminal for what `init --store SPEC --only ... --yes` takes,
//! and nothing else. It only reads (the `.env` file's names, the store's names to check the
//! credentials); every write happens after its last question, in [`super::apply`], so a Ctrl-C
//! at any question leaves every file as it was.

use std::collections::BTreeSet;
use std::path::Path;

use dialoguer::{Confirm, Input, MultiSelect, Select};
use nix::sys::signal::Signal;

use crate::cli::InitArgs;
use crate::source::SourceKind;

use super::{init_error, read_values, saved_store, Choices, Session, Stop};

/// A kind of store the wizard offers: its kind (none: keep the `.env` file), its label and a
/// location to start from. Where its login is found comes from the registry of store kinds.
struct Kind {
    kind: Option<SourceKind>,
    label: &'static str,
    example: &'static str,
}

impl Kind {
    /// The spec's scheme, `vault` in `vault:secret/app`; empty for `.env` only.
    fn prefix(&self) -> &'static str {
        self.kind.map_or("", SourceKind::scheme)
    }
}

const KINDS: &[Kind] = &[
    Kind {
        kind: None,
        label: ".env only (keep the secrets in the .env file)",
        example: "",
    },
    Kind {
        kind: Some(SourceKind::Vault),
        label: "OpenBao / Vault KV (vault:MOUNT/PATH)",
        example: "secret/app",
    },
    Kind {
        kind: Some(SourceKind::AwsSm),
        label: "AWS Secrets Manager (aws-sm:NAME or aws-sm:PREFIX/*)",
        example: "app/prod",
    },
    Kind {
        kind: Some(SourceKind::AwsSsm),
        label: "AWS SSM Parameter Store (aws-ssm:/PATH/)",
        example: "/app/prod/",
    },
    Kind {
        kind: Some(SourceKind::Doppler),
        label: "Doppler (doppler:*)",
        example: "*",
    },
    Kind {
        kind: Some(SourceKind::AzureKv),
        label: "Azure Key Vault (azure-kv:*)",
        example: "*",
    },
    Kind {
        kind: Some(SourceKind::GcpSm),
        label: "Google Secret Manager (gcp-sm:*)",
        example: "*",
    },
];

/// The choices, or `None` when the user declined at the end.
pub(super) fn ask(session: &Session, args: &InitArgs) -> Result<Option<Choices>, Stop> {
    let _cursor = ShownCursorOnDrop;
    let saved = match &args.store {
        Some(given) => Some(given.clone()),
        None => saved_store()?,
    };
    let saved_kind = saved.as_deref().and_then(|spec| {
        KINDS.iter().position(|kind| {
            !kind.prefix().is_empty() && spec.starts_with(&format!("{}:", kind.prefix()))
        })
    });
    let labels: Vec<&str> = KINDS.iter().map(|kind| kind.label).collect();
    let chosen = answer(
        Select::new()
            .with_prompt("Where should the secrets live?")
            .items(&labels)
            .default(saved_kind.unwrap_or(0))
            .interact(),
    )?;
    let kind = &KINDS[chosen];
    let store = if let Some(store_kind) = kind.kind {
        let default = saved
            .as_deref()
            .filter(|_| saved_kind == Some(chosen))
            .and_then(|spec| spec.split_once(':'))
            .map_or(kind.example, |(_, location)| location);
        let location: String = answer(
            Input::new()
                .with_prompt(format!("Location ({}:...)", kind.prefix()))
                .default(default.to_string())
                .interact_text(),
        )?;
        eprintln!(
            "Credentials found: {}",
            found_credentials(session, store_kind)
        );
        Some(format!("{}:{}", kind.prefix(), location.trim()))
    } else {
        None
    };

    let stored: BTreeSet<String> = match &store {
        Some(store) => {
            // Reading the store checks the credentials before anything is asked further.
            let names: BTreeSet<String> = super::write_plan::stored_names(session, store)?
                .into_iter()
                .map(|name| name.to_string())
                .collect();
            eprintln!(
                "{store} holds {} name(s){}",
                names.len(),
                listed(names.iter().map(String::as_str))
            );
            names
        }
        None => BTreeSet::new(),
    };

    let mut only = Vec::new();
    if store.is_some() {
        let in_file: Vec<String> = read_values(session, &format!("dotenv:{}", args.from))?
            .into_iter()
            .map(|(name, _)| name.to_string())
            .collect();
        if in_file.is_empty() {
            eprintln!("{} has no secrets to move", args.from);
        } else {
            let items: Vec<String> = in_file
                .iter()
                .map(|name| match stored.contains(name) {
                    true => format!("{name} (already in the store)"),
                    false => name.clone(),
                })
                .collect();
            let checked: Vec<bool> = in_file.iter().map(|name| !stored.contains(name)).collect();
            let picked = answer(
                MultiSelect::new()
                    .with_prompt(format!(
                        "Secrets to move out of {} (space toggles, enter accepts)",
                        args.from
                    ))
                    .items(&items)
                    .defaults(&checked)
                    .interact(),
            )?;
            only = picked.into_iter().map(|at| in_file[at].clone()).collect();
        }
    }

    let summary = match &store {
        Some(store) => format!(
            "Move {} name(s) into {store}, comment them out of {} (after a backup), and write \
             secretrun.toml and {}.example?",
            only.len(),
            args.from,
            args.from
        ),
        None => format!(
            "Keep the secrets in {}, and write secretrun.toml and {}.example?",
            args.from, args.from
        ),
    };
    let go = answer(Confirm::new().with_prompt(summary).default(true).interact())?;
    if !go {
        eprintln!("Nothing written.");
        return Ok(None);
    }
    Ok(Some(Choices {
        store,
        from: args.from.clone(),
        only: Some(only),
        overwrite: args.overwrite,
    }))
}

/// A prompt's answer; Ctrl-C (the prompt sends itself SIGINT and stops) ends secretrun by it.
fn answer<T>(result: dialoguer::Result<T>) -> Result<T, Stop> {
    result.map_err(|dialoguer::Error::IO(error)| match error.kind() {
        std::io::ErrorKind::Interrupted => Stop::Signal(Signal::SIGINT),
        _ => init_error(&format!("the terminal failed: {error}")).into(),
    })
}

/// The names of the credentials `kind`'s reader would use that are set here (never a value).
fn found_credentials(session: &Session, kind: SourceKind) -> String {
    let login = kind.login();
    let home = session.env.get("HOME").map(Path::new);
    let mut found: Vec<String> = login
        .variables
        .iter()
        .filter(|name| session.env.get(name).is_some_and(|value| !value.is_empty()))
        .map(|name| name.to_string())
        .collect();
    for file in login.files {
        if home.is_some_and(|home| home.join(file).is_file()) {
            found.push(format!("~/{file}"));
        }
    }
    match found.is_empty() {
        true => "none (set them before going on, or the store cannot be read)".to_string(),
        false => found.join(", "),
    }
}

fn listed<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.is_empty() {
        true => String::new(),
        false => format!(": {}", names.join(", ")),
    }
}

/// The prompts hide the cursor while they run; it comes back on every way out.
struct ShownCursorOnDrop;

impl Drop for ShownCursorOnDrop {
    fn drop(&mut self) {
        let _ = dialoguer::console::Term::stderr().show_cursor();
    }
}
