//! Logging to stderr. Most runs log nothing, so the formatting subscriber (registry and fmt
//! layer) is built on the first event that passes the level filter, not at start: a quiet run
//! sets up only the filter. `SECRETRUN_LOG` (full filter syntax) builds it at once, as asked.

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Sends secretrun's events to stderr: at the level `-q`/`-v` ask for (warnings by default), or
/// as `SECRETRUN_LOG` says.
pub fn init(quiet: bool, verbose: u8) {
    if let Some(filter) = std::env::var("SECRETRUN_LOG")
        .ok()
        .and_then(|text| EnvFilter::try_new(text).ok())
    {
        tracing_subscriber::registry()
            .with(format_layer().with_filter(filter))
            .init();
        return;
    }
    // Flags raise only secretrun's own verbosity: a dependency's trace output may hold
    // response bodies. A plain target filter, not EnvFilter: no regex to build on every start.
    let own = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, 2) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    let filter = Targets::new()
        .with_default(own.min(LevelFilter::WARN))
        .with_target("secretrun", own);
    let _ = tracing::subscriber::set_global_default(Deferred {
        filter,
        max_level: own,
        formatter: OnceLock::new(),
    });
}

fn format_layer<S: Subscriber + for<'span> LookupSpan<'span>>() -> impl Layer<S> {
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
}

/// Filters with a fixed [`Targets`] and hands what passes to a formatting subscriber built
/// the first time something does. The filter never changes, so a callsite's interest is final.
struct Deferred {
    filter: Targets,
    max_level: LevelFilter,
    formatter: OnceLock<Box<dyn Subscriber + Send + Sync>>,
}

impl Deferred {
    fn formatter(&self) -> &(dyn Subscriber + Send + Sync) {
        self.formatter
            .get_or_init(|| Box::new(tracing_subscriber::registry().with(format_layer())))
            .as_ref()
    }
}

impl Subscriber for Deferred {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        match self.enabled(metadata) {
            true => Interest::always(),
            false => Interest::never(),
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.filter
            .would_enable(metadata.target(), metadata.level())
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max_level)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.formatter().new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.formatter().record(span, values)
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.formatter().record_follows_from(span, follows)
    }

    fn event(&self, event: &Event<'_>) {
        self.formatter().event(event)
    }

    fn enter(&self, span: &Id) {
        self.formatter().enter(span)
    }

    fn exit(&self, span: &Id) {
        self.formatter().exit(span)
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.formatter().clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.formatter().try_close(id)
    }
}
