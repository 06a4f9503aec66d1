//! Stage 3: fetch every planned source and return one [`Layer`] per source, in declared order
//! whatever order the fetches finish in.
//!
//! Two phases: the `.env` files first, because their values may configure the secret sources
//! (a `DOPPLER_TOKEN` or `SECRETS_MANAGER=vault` kept in `.env`; the parent environment still
//! wins); then every secret source at once, bounded. Every failure is collected, so the user
//! sees all broken sources at once, not the first. References in environment values (see
//! [`references`]) are fetched in the second phase, together with the secret sources, and
//! the fallback step ([`fallback::settle`]) then decides what each failed source yields.
//! Results are keyed by [`SourceId`], never lined up by position.

pub mod fallback;
mod references;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use tokio::sync::OnceCell;

use crate::compat;
use crate::env::merge::{Layer, Substitutions};
use crate::environment::ParentEnv;
use crate::error::{Error, SourceError};
use crate::providers::{self, Advice, Context, Entries, FetchSettings, Fetched, Provider};
use crate::secret;
use crate::source::{SourceClass, SourceKind, SourceSpec};
use fallback::{Attempt, Fallback, FallbackMode, FallbackSettings, Remote, Sealed, Validators};

/// How many sources are fetched at once.
pub const MAX_CONCURRENT_FETCHES: usize = 32;

/// What resolving needs from the plan: the sources in declared order and how to fetch them.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    pub declared: Vec<PlannedSource>,
    /// The config file's own `env` table, the lowest-ranked layer.
    pub config_env: Option<Layer>,
    pub fetch: FetchSettings,
    /// The last-known-good snapshot's settings (see `fallback`).
    pub fallback: FallbackSettings,
    /// Whether `SECRETS_MANAGER`-style settings add sources (see `compat`).
    pub secrets_settings: bool,
    /// Whether values such as `vault:PATH#KEY` are replaced by the secret (see `reference`).
    pub references: bool,
}

impl SourcePlan {
    pub fn iter(&self) -> std::slice::Iter<'_, PlannedSource> {
        self.declared.iter()
    }

    /// `sources` alone (with the settings' sources if `secrets_settings`), resolved as a run
    /// would but never from the fallback snapshot: for `check`, which must see every source as
    /// it is now.
    pub fn probe(
        &self,
        sources: &[&PlannedSource],
        secrets_settings: bool,
        references: bool,
    ) -> Self {
        SourcePlan {
            declared: sources.iter().map(|source| (*source).clone()).collect(),
            // The config's env table may configure providers (a token), as a .env file may.
            config_env: self.config_env.clone(),
            fetch: self.fetch.clone(),
            fallback: FallbackSettings::disabled(),
            secrets_settings,
            references,
        }
    }
}

/// A validated source. Providers are built again at resolve time, when `.env` values can
/// configure them; building here proves the spec and its options are valid.
#[derive(Debug, Clone)]
pub struct PlannedSource {
    /// The spec text: how errors and `show` name this source.
    pub origin: String,
    pub class: SourceClass,
    pub spec: SourceSpec,
}

#[derive(Debug)]
pub struct Resolved {
    /// `.env` layers first, then secret layers, each in declared order.
    pub layers: Vec<Layer>,
    /// Variables whose values were references, with what they resolved to.
    pub substitutions: Substitutions,
    /// Credential variables the providers consumed, kept from the child.
    pub consumed: BTreeSet<String>,
}

/// Which fetch a result belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SourceId {
    /// A declared (or `SECRETS_MANAGER`-style) source, by its place among them.
    Source(usize),
    /// The reference at this index of the pending references.
    Reference(usize),
}

struct Fetch {
    id: SourceId,
    origin: String,
    class: SourceClass,
    kind: SourceKind,
    provider: Box<dyn Provider>,
    /// What the answer depends on: the spec and the settings the provider reads (see
    /// [`Sharing`]).
    answer_key: String,
}

/// What several resolutions that run for one command share: `check` resolves each source on
/// its own and then all of them together. A source read with the same settings is fetched once
/// for all of them (its findings and the merged environment come from that one answer or
/// failure), and what its provider advises about its settings is kept for the report. Answers
/// are keyed by the spec and a digest of the settings the provider was built with, never by a
/// value in the clear, and carry no version tag (a sharing resolution uses no snapshot).
/// `Debug` shows how many answers there are, never one.
#[derive(Default)]
pub struct Sharing {
    answers: Mutex<HashMap<String, Arc<SharedAnswer>>>,
    advice: Mutex<BTreeMap<String, Advice>>,
}

type SharedAnswer = OnceCell<Result<providers::Entries, SourceError>>;

impl Sharing {
    fn cell(&self, key: &str) -> Arc<SharedAnswer> {
        let mut cells = self
            .answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(cells.entry(key.to_string()).or_default())
    }

    /// Each source's advice (see [`Provider::advice`]), by spec text.
    pub fn take_advice(&self) -> BTreeMap<String, Advice> {
        std::mem::take(&mut self.advice.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl std::fmt::Debug for Sharing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.answers.lock().map_or(0, |cells| cells.len());
        write!(f, "Sharing({count})")
    }
}

/// Fetches every source of `plan`, taking each unconditional answer from `shared` when another
/// resolution of the same command already fetched (or is fetching) it.
pub async fn resolve(
    plan: &SourcePlan,
    parent: &ParentEnv,
    shared: Option<&Sharing>,
) -> Result<Resolved, Error> {
    let (env_files, secret_specs): (Vec<_>, Vec<_>) = plan
        .iter()
        .partition(|source| source.class == SourceClass::EnvFile);

    let local = Arc::new(Context::new(parent.clone(), plan.fetch.clone()));
    let env_files = build(
        env_files
            .into_iter()
            .enumerate()
            .map(|(index, s)| (SourceId::Source(index), s.spec.clone())),
        &local,
    )?;
    let mut layers: Vec<Layer> = plan.config_env.iter().cloned().collect();
    layers.extend(fetch_all(env_files.fetches, plan.fetch.deadline, shared).await?);

    // Provider settings: the parent environment over the `.env` values.
    let dotenv_values = layers.iter().flat_map(|layer| {
        layer
            .entries
            .iter()
            .map(|(name, value)| (name.as_os_str().to_os_string(), secret::to_os_string(value)))
    });
    let mut settings = parent.over(dotenv_values);
    let mut consumed = BTreeSet::new();
    let mut specs = Vec::new();
    if plan.secrets_settings {
        let translated = compat::translate(&settings)?;
        settings = settings.over(
            translated
                .env
                .into_iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
        );
        consumed.extend(translated.consumed);
        specs.extend(translated.specs);
    }
    specs.extend(secret_specs.into_iter().map(|s| s.spec.clone()));
    let mut substitutions = Substitutions::new();
    let pending = match plan.references {
        true => references::find(parent, &layers, &mut substitutions)?,
        false => Vec::new(),
    };
    if specs.is_empty() && pending.is_empty() {
        return Ok(Resolved {
            layers,
            substitutions,
            consumed,
        });
    }

    let context = Arc::new(Context::new(settings, plan.fetch.clone()));
    let mut all_specs: Vec<(SourceId, SourceSpec)> = specs
        .into_iter()
        .enumerate()
        .map(|(index, spec)| (SourceId::Source(index), spec))
        .collect();
    for (index, pending) in pending.iter().enumerate() {
        all_specs.push((SourceId::Reference(index), pending.spec()?));
    }
    let built = build(all_specs.into_iter(), &context)?;
    if let Some(shared) = shared {
        let mut advice = shared.advice.lock().unwrap_or_else(|p| p.into_inner());
        for fetch in &built.fetches {
            if let Some(found) = fetch.provider.advice() {
                advice.insert(fetch.origin.clone(), found);
            }
        }
    }
    // The last-known-good snapshot (see `fallback`): written after a fresh success, read when
    // remote sources fail transiently, or instead of fetching under --fallback-only.
    let remote: Vec<Remote> = built
        .fetches
        .iter()
        .filter(|fetch| fallback::is_remote(fetch.kind))
        .map(|fetch| Remote {
            origin: &fetch.origin,
            kind: fetch.kind,
        })
        .collect();
    let snapshot = Fallback::for_run(
        &plan.fallback,
        parent,
        &context.env,
        &remote,
        &built.consumed,
    );
    let offline = plan.fallback.mode == FallbackMode::Only;
    // Conditional fetches: each source sends the tag its snapshot entries were fetched with.
    let sealed = snapshot
        .as_ref()
        .filter(|_| !offline)
        .and_then(Fallback::peek);
    let sealing_key = match &snapshot {
        Some(snapshot) if !offline => Some(snapshot.prepare_key(sealed.as_ref())),
        _ => None,
    };
    consumed.extend(built.consumed);
    let sent: Vec<Option<String>> = built
        .fetches
        .iter()
        .map(|fetch| sealed.as_ref()?.validators.get(&fetch.origin).cloned())
        .collect();
    let results = fetch_each(&built.fetches, plan.fetch.deadline, offline, &sent, shared).await;
    let (results, validators) = reuse_unchanged(
        &built.fetches,
        results,
        sent,
        snapshot.as_ref().zip(sealed),
        plan.fetch.deadline,
    )
    .await;
    let attempts = built
        .fetches
        .into_iter()
        .zip(results)
        .map(|(fetch, result)| Attempt {
            id: fetch.id,
            remote: fallback::is_remote(fetch.kind),
            origin: fetch.origin,
            class: fetch.class,
            result,
        })
        .collect();
    let settled = fallback::settle(snapshot.as_ref(), plan.fallback.mode, attempts)?;
    let mut fetched_references = BTreeMap::new();
    for (id, layer) in settled.layers {
        match id {
            SourceId::Source(_) => layers.push(layer),
            SourceId::Reference(index) => {
                fetched_references.insert(index, layer);
            }
        }
    }
    references::substitute(pending, fetched_references, &mut substitutions)?;
    if let (Some(snapshot), Some(key), Some(remote)) = (&snapshot, sealing_key, settled.remote) {
        if let Some(key) = key.wait().await {
            snapshot.save(key, &remote, &validators);
        }
    }
    Ok(Resolved {
        layers,
        substitutions,
        consumed,
    })
}

struct Built {
    fetches: Vec<Fetch>,
    consumed: BTreeSet<String>,
}

fn build(
    specs: impl Iterator<Item = (SourceId, SourceSpec)>,
    context: &Arc<Context>,
) -> Result<Built, Error> {
    let mut built = Built {
        fetches: Vec::new(),
        consumed: BTreeSet::new(),
    };
    let mut errors = Vec::new();
    let settings = settings_digest(&context.env);
    for (id, spec) in specs {
        let origin = spec.text().to_string();
        let answer_key = format!("{origin}\0{settings}");
        let class = spec.class();
        let kind = spec.kind;
        match providers::build(spec, context) {
            Ok(provider) => {
                built.consumed.extend(provider.consumed_names());
                built.fetches.push(Fetch {
                    id,
                    origin,
                    class,
                    kind,
                    provider,
                    answer_key,
                });
            }
            Err(problem) => errors.push(Error::Spec {
                spec: origin,
                problem,
            }),
        }
    }
    Error::from_many(errors).map_or(Ok(built), Err)
}

/// A digest of every setting a provider may read (the parent environment over the `.env`
/// values), so that answers are shared only between providers built alike.
fn settings_digest(env: &ParentEnv) -> String {
    let mut pairs: Vec<(&std::ffi::OsStr, &std::ffi::OsStr)> = env.iter().collect();
    pairs.sort();
    let mut bytes = Vec::new();
    for (name, value) in pairs {
        for part in [name, value] {
            bytes.extend_from_slice(part.as_encoded_bytes());
            bytes.push(0);
        }
    }
    providers::digest_text(&bytes)
}

/// Fetches every source, each within `deadline` (retries included), up to
/// [`MAX_CONCURRENT_FETCHES`] at once.
async fn fetch_all(
    fetches: Vec<Fetch>,
    deadline: Duration,
    shared: Option<&Sharing>,
) -> Result<Vec<Layer>, Error> {
    let results = fetch_each(&fetches, deadline, false, &[], shared).await;
    let mut layers = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for (source, result) in fetches.iter().zip(results) {
        match result.expect("every source is fetched") {
            Ok(Fetched::Entries { entries, .. }) => {
                tracing::info!(source = %source.origin, names = entries.len(), "resolved");
                layers.push(Layer {
                    origin: source.origin.clone(),
                    class: source.class,
                    entries,
                });
            }
            Ok(Fetched::Unchanged) => unreachable!("no validator was sent"),
            Err(error) => errors.push(Error::Source {
                origin: source.origin.clone(),
                error,
            }),
        }
    }
    Error::from_many(errors).map_or(Ok(layers), Err)
}

/// Replaces every "unchanged" answer by the entries the snapshot holds for that source (one
/// decryption for all of them), and gathers each source's validator for the next snapshot. A
/// source the snapshot cannot serve after all (it was rewritten meanwhile with other entries,
/// or sealed with another key) is fetched again, unconditionally.
async fn reuse_unchanged(
    fetches: &[Fetch],
    results: Vec<Option<Result<Fetched, SourceError>>>,
    sent: Vec<Option<String>>,
    sealed: Option<(&Fallback, Sealed)>,
    deadline: Duration,
) -> (Vec<Option<Result<Entries, SourceError>>>, Validators) {
    let any_unchanged = results
        .iter()
        .any(|result| matches!(result, Some(Ok(Fetched::Unchanged))));
    let snapshot = match sealed {
        Some((fallback, sealed)) if any_unchanged => fallback
            .open_sealed(sealed)
            .inspect_err(|why| tracing::info!("cannot reuse the fallback snapshot: {why}"))
            .ok(),
        _ => None,
    };
    let mut validators = Validators::new();
    let mut settled = Vec::with_capacity(results.len());
    for ((fetch, result), sent) in fetches.iter().zip(results).zip(sent) {
        let result = match result {
            Some(Ok(Fetched::Unchanged)) => {
                let reused = snapshot
                    .as_ref()
                    .and_then(|snapshot| snapshot.layer(&fetch.origin, fetch.class));
                match reused {
                    Some(layer) => {
                        tracing::debug!(source = %fetch.origin, "unchanged; reusing the snapshot");
                        validators.extend(sent.map(|tag| (fetch.origin.clone(), tag)));
                        Some(Ok(layer.entries))
                    }
                    None => match fetch_one(fetch, deadline, None).await {
                        Ok(Fetched::Entries { entries, validator }) => {
                            validators.extend(validator.map(|tag| (fetch.origin.clone(), tag)));
                            Some(Ok(entries))
                        }
                        Ok(Fetched::Unchanged) => unreachable!("no validator was sent"),
                        Err(error) => Some(Err(error)),
                    },
                }
            }
            Some(Ok(Fetched::Entries { entries, validator })) => {
                validators.extend(validator.map(|tag| (fetch.origin.clone(), tag)));
                Some(Ok(entries))
            }
            Some(Err(error)) => Some(Err(error)),
            None => None,
        };
        settled.push(result);
    }
    (settled, validators)
}

/// Each source's result in declared order; `None` for a remote source when `offline`. A
/// source with a validator in `sent` (same order; missing means none) is fetched conditionally.
async fn fetch_each(
    fetches: &[Fetch],
    deadline: Duration,
    offline: bool,
    sent: &[Option<String>],
    shared: Option<&Sharing>,
) -> Vec<Option<Result<Fetched, SourceError>>> {
    stream::iter(fetches.iter().enumerate())
        .map(|(index, source)| async move {
            if offline && fallback::is_remote(source.kind) {
                return None;
            }
            let validator = sent.get(index).cloned().flatten();
            match (shared, validator) {
                // Only an unconditional answer is the same for every resolution asking.
                (Some(shared), None) => {
                    let answer = shared
                        .cell(&source.answer_key)
                        .get_or_init(|| async {
                            match fetch_one(source, deadline, None).await? {
                                Fetched::Entries { entries, .. } => Ok(entries),
                                Fetched::Unchanged => unreachable!("no validator was sent"),
                            }
                        })
                        .await
                        .clone();
                    Some(answer.map(|entries| Fetched::Entries {
                        entries,
                        validator: None,
                    }))
                }
                (_, validator) => Some(fetch_one(source, deadline, validator).await),
            }
        })
        // `buffered` keeps declared order while running up to the limit at once.
        .buffered(MAX_CONCURRENT_FETCHES)
        .collect()
        .await
}

/// One source, within `deadline` (retries included).
async fn fetch_one(
    source: &Fetch,
    deadline: Duration,
    validator: Option<String>,
) -> Result<Fetched, SourceError> {
    match validator {
        Some(_) => tracing::debug!(source = %source.origin, "fetching unless unchanged"),
        None => tracing::debug!(source = %source.origin, "fetching"),
    }
    tokio::time::timeout(deadline, source.provider.fetch_if_changed(validator))
        .await
        .unwrap_or(Err(SourceError::Timeout { after: deadline }))
}
