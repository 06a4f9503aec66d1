//! What is to be written as files (`--mount`, `--file`, a source's `?file=`), validated when
//! the plan is built; `run::mount` writes them.

use std::path::{Path, PathBuf};

use crate::cli::settings::FileSettings;
use crate::cli::{ExportFormat, MountFormat};
use crate::error::Error;
use crate::output::template::Template;
use crate::secret::EnvName;

/// The `--mount` value that asks for an in-memory file instead of a path.
pub const MEMFD: &str = "memfd";

/// Where a secret file goes: `--mount`, `--file NAME=TARGET`, a source's `?file=TARGET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountTarget {
    /// A file at this path (relative: under a memory file system, see [`place`]).
    Path(PathBuf),
    /// An anonymous in-memory file, `/dev/fd/N` to the child.
    Memfd,
}

impl MountTarget {
    /// A path, or [`MEMFD`] for an in-memory file.
    pub fn parse(text: &Path) -> Self {
        if text.as_os_str() == MEMFD {
            MountTarget::Memfd
        } else {
            MountTarget::Path(text.to_path_buf())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub target: MountTarget,
    pub format: Format,
}

/// What the `--mount` file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// `--mount-format dotenv`, `json` or `env`: what `export` writes in that format.
    Export(ExportFormat),
    /// `--mount-format template`: the `--mount-template` file, rendered.
    Template(Template),
}

/// What the command line asks to be written as files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretFiles {
    pub mount: Option<Mount>,
    /// `--file NAME=TARGET`, in the order given.
    pub files: Vec<(EnvName, MountTarget)>,
    /// The `?file=TARGET` option of sources, by the source's origin (its spec text): the one
    /// value that source sets, under whatever name it has.
    pub from_sources: Vec<(String, MountTarget)>,
    /// `--mount-keep-env`: the written names stay in the environment too.
    pub keep_env: bool,
}

impl SecretFiles {
    /// Validates `--mount`, `--mount-format`, `--mount-template`, `--file` and
    /// `--mount-keep-env`; reads the template. `from_sources`: the sources' `?file=` options.
    pub fn build(
        args: &FileSettings,
        from_sources: Vec<(String, MountTarget)>,
    ) -> Result<Self, Error> {
        let mount = match &args.mount {
            Some(path) => Some(Mount {
                target: MountTarget::parse(path),
                format: Format::build(args)?,
            }),
            None => None,
        };
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for text in &args.files {
            match parse_file(text) {
                Ok(file) if files.iter().any(|(name, _)| name == &file.0) => {
                    errors.push(Error::Settings {
                        setting: "--file",
                        problem: format!("{} is given more than once", file.0),
                    })
                }
                Ok(file) => files.push(file),
                Err(error) => errors.push(error),
            }
        }
        if let Some(error) = Error::from_many(errors) {
            return Err(error);
        }
        Ok(SecretFiles {
            mount,
            files,
            from_sources,
            keep_env: args.keep_env,
        })
    }

    /// Whether a file must be removed later, so secretrun has to stay (supervise mode).
    pub fn needs_cleanup(&self) -> bool {
        let on_disk = |target: &MountTarget| target != &MountTarget::Memfd;
        self.mount
            .as_ref()
            .is_some_and(|mount| on_disk(&mount.target))
            || self.files.iter().any(|(_, target)| on_disk(target))
            || self.from_sources.iter().any(|(_, target)| on_disk(target))
    }
}

fn parse_file(text: &str) -> Result<(EnvName, MountTarget), Error> {
    let bad = |problem: &str| Error::Settings {
        setting: "--file",
        problem: format!("'{text}': {problem}"),
    };
    let (name, path) = text
        .split_once('=')
        .ok_or_else(|| bad("expected NAME=PATH"))?;
    if path.is_empty() {
        return Err(bad("the PATH after '=' is empty"));
    }
    let name = EnvName::new(name).map_err(|problem| Error::InvalidName {
        what: "--file name",
        name: name.to_string(),
        problem,
    })?;
    Ok((name, MountTarget::parse(Path::new(path))))
}

impl Format {
    /// `--mount-format` and `--mount-template`, which go together.
    fn build(args: &FileSettings) -> Result<Self, Error> {
        let export = match args.mount_format {
            MountFormat::Dotenv => ExportFormat::Dotenv,
            MountFormat::Json => ExportFormat::Json,
            MountFormat::Env => ExportFormat::Docker,
            MountFormat::Template => {
                let path = args.mount_template.as_ref().ok_or(Error::Settings {
                    setting: "--mount-format template",
                    problem: "needs --mount-template FILE, the template to render".into(),
                })?;
                return Template::load(path).map(Format::Template);
            }
        };
        if args.mount_template.is_some() {
            let format = clap::ValueEnum::to_possible_value(&args.mount_format);
            return Err(Error::Settings {
                setting: "--mount-template",
                problem: format!(
                    "only --mount-format template uses it (the format is {}); add \
                     --mount-format template",
                    format.as_ref().map_or("?", |value| value.get_name())
                ),
            });
        }
        Ok(Format::Export(export))
    }
}
