//! Stage 1: the command line, clap derive only. The single source of truth for flags, `--help`,
//! the man page and the shell completions.
//!
//! [`args`] reads argv the two ways clap needs it, [`config`] loads `secretrun.toml`.

pub(crate) mod args;
pub(crate) mod config;
pub(crate) mod settings;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `--watch` without a value.
pub const DEFAULT_WATCH_INTERVAL: &str = "1m";

const AFTER_HELP: &str = "\
Priority, lowest to highest: .env files < the parent environment < secret sources.
Exit status: the child's own; 125 secretrun failed, 126 cannot execute, 127 not found.
See --help for the full rules.";

const AFTER_LONG_HELP: &str = "\
Priority, lowest to highest (a higher rank wins; within a rank, a
later source wins):
  1. the config file's [env] table, then .env files (--env-file,
     dotenv: sources), in the order given
  2. the parent environment; with --pristine only PATH, HOME, USER,
     LOGNAME, SHELL, LANG, LANGUAGE, LC_*, TERM, TZ, TMPDIR and the
     systemd variables (NOTIFY_SOCKET, LISTEN_*, WATCHDOG_*,
     CREDENTIALS_DIRECTORY, INVOCATION_ID)
  3. secret sources: $CREDENTIALS_DIRECTORY first, then dir:,
     doppler:, aws-sm:, vault: in the order given (config file
     sources before command-line ones)
  4. the parent environment, for the names --preserve-env lifts
  Then NAME_FILE variables fill names still unset (--file-vars).

Secret sources may not set PATH, HOME, SHELL, USER, LOGNAME, PWD,
IFS or loader and interpreter hooks (LD_*, DYLD_*, BASH_ENV, ENV,
BASH_FUNC_*, NODE_OPTIONS, PYTHONSTARTUP, PERL5OPT, RUBYOPT,
JAVA_TOOL_OPTIONS, ...) unless allowed with --allow-name.
SECRETRUN_* variables and the credentials secretrun consumed
(DOPPLER_TOKEN, VAULT_TOKEN, AWS keys) are not passed to the
command unless --keep-config-vars.

dotenvx-encrypted .env files: values `encrypted:...` are decrypted
with DOTENV_PRIVATE_KEY (DOTENV_PRIVATE_KEY_PRODUCTION for
.env.production, ...) from the environment, else from .env.keys
beside the file (--env-keys-file); a value that cannot be decrypted
fails the run naming file, line and variable. The key variables are
consumed credentials; DOTENV_PUBLIC_KEY* lines set nothing.

Rules, checked on the merged environment before the command starts
(every violation at once, exit 125, never a value): --require-from
FILE (every name FILE lists must be set) and, in secretrun.toml, one
table per name:
  [rules.DATABASE_URL]
  required = [\"production\"]  # or true; environments from
                             # --environment, SECRETRUN_ENVIRONMENT,
                             # `environment`, else the Doppler
                             # config's environment (prd_eu -> prd)
  scheme = \"postgres\"        # the value is a postgres:// URL
  [rules.CORS_ORIGIN]
  forbid = [\"*\"]             # exact values it may not have
  [rules.API_KEY]
  min-length = 32            # characters
  pattern = \"^sk_\"           # a regex (regex-lite), anywhere unless
                             # anchored
  [rules.LOG_LEVEL]
  one-of = [\"debug\", \"info\"]
Rules other than required apply only to a name that is set.

Exit status: the command's own; a command killed by a signal makes
secretrun die of the same signal (128+N as PID 1). 125: secretrun
failed (bad input, a failed source, a missing required name) and
the command never started. 126: COMMAND cannot be executed.
127: COMMAND was not found.";

#[derive(Debug, Parser)]
#[command(
    name = "secretrun",
    version,
    about = "Resolve secrets, then run a command with them in its environment",
    long_about = "Resolve secrets from .env files, secret files and secret managers, merge them \
                  over the parent environment by documented priority rules, then run COMMAND \
                  with them: replacing secretrun (exec) or supervising it (as PID 1), forwarding \
                  signals and exiting exactly as COMMAND did.",
    after_help = AFTER_HELP,
    after_long_help = AFTER_LONG_HELP,
    subcommand_negates_reqs = true,
    override_usage = "secretrun [OPTIONS] [--] COMMAND [ARGS]...\n       \
                      secretrun [OPTIONS] --command STRING\n       \
                      secretrun show [OPTIONS]\n       \
                      secretrun get [OPTIONS] NAME\n       \
                      secretrun export [OPTIONS]\n       \
                      secretrun scan [OPTIONS] [PATH]...\n       \
                      secretrun check [OPTIONS]\n       \
                      secretrun encrypt|decrypt [-f FILE]... [-k NAME]...\n       \
                      secretrun set --to SPEC NAME... < VALUES\n       \
                      secretrun push|copy --from SPEC... --to SPEC\n       \
                      secretrun init --store SPEC --yes",
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub subcommand: Option<Command>,

    #[command(flatten)]
    pub sources: SourceArgs,

    #[command(flatten)]
    pub rules: RuleArgs,

    #[command(flatten)]
    pub launch: LaunchArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// The command to run, with its arguments
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        conflicts_with = "command_string"
    )]
    pub command: Vec<OsString>,
}

/// Each subcommand's arguments are added only when clap builds that subcommand (it was named,
/// or help, the man page or completions need the whole tree): a plain `secretrun -- COMMAND`
/// does not pay for the flags of ten subcommands.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Show the environment the command would get, with the source of every value
    Show(ShowArgs),

    /// Print one resolved value, for scripts
    #[command(long_about = GET_LONG_ABOUT)]
    Get(GetArgs),

    /// Write the resolved secrets as dotenv, JSON, shell, docker or systemd variables
    #[command(long_about = EXPORT_LONG_ABOUT)]
    Export(ExportArgs),

    /// Search files for the resolved secret values, to find leaked credentials
    #[command(long_about = SCAN_LONG_ABOUT)]
    Scan(ScanArgs),

    /// Check every source, the required names and the .env files, and report what is wrong
    #[command(visible_alias = "doctor", long_about = CHECK_LONG_ABOUT)]
    Check(CheckArgs),

    /// Encrypt a .env file's values in place, as dotenvx does (keys in .env.keys)
    #[command(long_about = ENCRYPT_LONG_ABOUT)]
    Encrypt(CryptArgs),

    /// Decrypt a dotenvx-encrypted .env file's values in place
    #[command(long_about = DECRYPT_LONG_ABOUT)]
    Decrypt(CryptArgs),

    /// Write values read from stdin or a no-echo prompt into a store
    #[command(long_about = SET_LONG_ABOUT)]
    Set(SetArgs),

    /// Write every name the --from sources resolve to into a store
    #[command(long_about = PUSH_LONG_ABOUT)]
    Push(PushArgs),

    /// Copy the secrets of one store into another (push between stores)
    #[command(long_about = PUSH_LONG_ABOUT)]
    Copy(PushArgs),

    /// Move a project's .env secrets into a store and set the project up to read them
    #[command(long_about = INIT_LONG_ABOUT)]
    Init(InitArgs),
}

const INIT_LONG_ABOUT: &str = "\
Move the secrets of a .env file into a store and set the project up to read them from there: \
the store is written as push writes it (its credentials are checked by reading it first; a \
different value needs --overwrite), then the .env file is backed up beside itself \
(.env.secretrun-backup-TIME, mode 0600) and each moved line is commented out under a note \
naming the store, secretrun.toml is written (sources: the .env file, then the store) unless it \
exists, .env.example lists every name without values, .env is added to .gitignore inside a git \
work tree, and the command to run is printed. Run again, it takes the store from secretrun.toml. \
Every file is replaced atomically. Without --yes, on a terminal, a wizard asks for the store, \
its location and the names to move (it says which credentials it found, by name, and checks \
them by reading the store), then does the same after a last confirmation; it writes nothing \
before, so Ctrl-C leaves every file as it was. Without a terminal (CI), give --store SPEC --yes.";

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The store to move the secrets into [default: the store secretrun.toml reads]
    #[arg(long, value_name = "SPEC")]
    pub store: Option<String>,

    /// The .env file to move secrets from
    #[arg(long, value_name = "PATH", default_value = ".env")]
    pub from: String,

    /// Only these names (repeatable or comma-separated; default: every name)
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Replace a value the store holds already with the .env file's
    #[arg(long)]
    pub overwrite: bool,

    /// Do it without the wizard's questions (required without a terminal)
    #[arg(long)]
    pub yes: bool,
}

/// What `set`, `push` and `copy` share in their help, once.
macro_rules! write_rules {
    () => {
        "\
The target SPEC is written so that `secretrun --source SPEC` reads back exactly the names and \
values written: dotenv:PATH (the file is replaced atomically, mode 0600; comments and order are \
kept; values are double-quoted with escapes), vault:MOUNT/PATH (one KV secret, one key per name, \
merged with the keys it has; check-and-set on KV v2), aws-sm:NAME (one JSON secret, merged), \
aws-sm:PREFIX/* (one secret per name), aws-ssm:/PATH/ (one SecureString per name) or \
azure-kv:* and azure-kv:PREFIX* (one secret per name, CH_HOST as CH-HOST), doppler:* and \
doppler:PREFIX (Doppler's secrets update call) or gcp-sm:PREFIX* and gcp-sm:*?label=KEY:VALUE \
(one secret per name, a new version each). A name that exists with another \
value is not replaced without --overwrite; an unchanged value is not written again (no new \
version). --dry-run prints create, update or unchanged per name, never a value. When some names \
cannot be written, each name's outcome is printed, the exit status is 125, and running the same \
command again finishes the job."
    };
}

const SET_LONG_ABOUT: &str = concat!(
    "\
Write one value per NAME to the store SPEC names, in the syntax of --source. The values come \
from standard input: for one NAME, all of it, byte for byte (a trailing newline included); for \
several, NAME=VALUE lines in dotenv syntax, one for each NAME. On a terminal, each value is asked \
for without echo. A value is never taken from the command line, where other users can read it \
(/proc/PID/cmdline): NAME=VALUE there is refused.\n\n",
    write_rules!()
);

const PUSH_LONG_ABOUT: &str = concat!(
    "\
Resolve the --from sources (only those: no config file, no parent environment; a later source \
wins, .env files below secret stores, as in a run) and write every name they yield into the \
store --to names. --only and --prefix select names. Credentials a source consumes (VAULT_TOKEN in \
a .env file, ...) are not written.\n\n",
    write_rules!()
);

// How a write treats what the target holds. A plain comment: a doc comment would become the
// about text of the subcommands that flatten it, whose arguments clap adds later (`defer`).
#[derive(Debug, Clone, Args)]
pub struct WriteArgs {
    /// The store to write to, in the syntax of --source (dotenv:PATH, vault:MOUNT/PATH,
    /// aws-sm:NAME, aws-sm:PREFIX/*, aws-ssm:/PATH/, azure-kv:*, doppler:*, gcp-sm:PREFIX*)
    #[arg(long, value_name = "SPEC")]
    pub to: String,

    /// Print what would be done per name (create, update, unchanged); write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Replace a value the target holds already with a different one
    #[arg(long)]
    pub overwrite: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The names to write (values come from stdin or a prompt, never from here)
    #[arg(value_name = "NAME", required = true)]
    pub names: Vec<String>,

    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// A source to read, in the syntax of --source (repeatable; a later one wins)
    #[arg(long, value_name = "SPEC", required = true)]
    pub from: Vec<String>,

    /// Only these names (repeatable or comma-separated)
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Only names starting with TEXT
    #[arg(long, value_name = "TEXT")]
    pub prefix: Option<String>,

    #[command(flatten)]
    pub write: WriteArgs,
}

const ENCRYPT_LONG_ABOUT: &str = "\
Encrypt the values of a .env file in place in dotenvx's format (ECIES on secp256k1 with \
AES-256-GCM), so that dotenvx and secretrun --env-file both read it. A file without a \
DOTENV_PUBLIC_KEY gets one at the top, named after the file (DOTENV_PUBLIC_KEY_PRODUCTION for \
.env.production), and its private key is appended to .env.keys beside it (mode 0600; \
--env-keys-file for another file), unless DOTENV_PRIVATE_KEY[_ENV] is already set. Values \
already encrypted and names ending in _PLAIN are left as they are; comments, quotes and order \
are kept. The file is replaced atomically; nothing is written if anything fails.";

const DECRYPT_LONG_ABOUT: &str = "\
Decrypt the encrypted values of a .env file in place, with the private key secretrun --env-file \
uses: DOTENV_PRIVATE_KEY[_ENV] from the environment, else from .env.keys beside the file (or \
--env-keys-file). The DOTENV_PUBLIC_KEY line stays, so encrypt can encrypt the file again \
with the same key. The file is replaced atomically; nothing is written if any value cannot be \
decrypted.";

#[derive(Debug, Args)]
pub struct CryptArgs {
    /// The .env file (repeatable)
    #[arg(
        short = 'f',
        long = "file",
        value_name = "PATH",
        default_value = ".env"
    )]
    pub files: Vec<PathBuf>,

    /// Only these names (repeatable; default: every name)
    #[arg(short = 'k', long = "key", value_name = "NAME")]
    pub keys: Vec<String>,
}

const GET_LONG_ABOUT: &str = "\
Print the value NAME would have in the command's environment, after merging every source \
over the parent environment. The value is written as it is, byte for byte, with no newline \
added when stdout is a pipe or a file (`token=$(secretrun get API_TOKEN)` keeps a value's own \
trailing newline); a newline is added when stdout is a terminal, so the prompt starts on its \
own line. A NAME that no source and no inherited variable sets is an error (exit 125).";

const EXPORT_LONG_ABOUT: &str = "\
Write the merged result in a format another tool reads: dotenv (NAME=\"...\", read back by \
dotenv parsers and by secretrun --env-file), json (an object of names to values), shell \
(export NAME='...', for eval or source), docker (NAME=value lines for docker run --env-file, \
which cannot hold a value with a line break), systemd (NAME=\"...\" for EnvironmentFile=) or \
example (NAME= lines without values: a .env.example for --require-from). Names set only by the \
parent environment are left out unless --all.

Secrets are not printed to a terminal unless --reveal (example prints none). --output FILE writes the file \
atomically (a temporary file in the same directory, renamed into place) with mode 0600, and \
refuses to replace an existing file unless --force.";

const SCAN_LONG_ABOUT: &str = "\
Search files for the values of the resolved secrets (those set by a source, not inherited), \
as they are and in their base64 (standard and URL-safe, also inside a longer base64 text) and \
URL-encoded forms. Directories are walked as ripgrep walks them: .gitignore, .ignore and \
.git/info/exclude are honoured (with or without a git repository) unless --no-ignore, hidden \
files are searched, .git directories are not. Binary files are searched too: a credential \
copied into a build artefact or a database has leaked as much as one in a text file.

Each finding is printed as FILE:LINE: NAME (SOURCE), never the value. A value is not looked \
for in the .env file or secrets directory that defines it, where it is expected. Values \
shorter than --min-length bytes are skipped: short values match by accident.

Exit status: 0 nothing found, 1 a value was found, 125 an error (the search is incomplete).";

const CHECK_LONG_ABOUT: &str = "\
Check, without running anything: every source on its own (reachable, authenticated, the path \
or prefix exists and yields at least one name), the required names, the .env files (tracked by \
git, readable by every user) and the names a secret source overrides in a .env file (the \
.env value, often an old credential, is never used). One line per finding: ok, warn or error. \
Values are never printed.

Exit status: 0 no error (warnings allowed), 1 at least one error, 125 secretrun could not \
check (a bad option or source spec).";

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The variable to print
    #[arg(value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ExportFormat::Dotenv)]
    pub format: ExportFormat,

    /// Write to FILE (mode 0600, replaced atomically) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Replace FILE if it exists
    #[arg(long, requires = "output")]
    pub force: bool,

    /// Allow printing secrets to a terminal
    #[arg(long)]
    pub reveal: bool,

    /// Also export names that come from the parent environment unchanged
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// NAME="..." with backslash escapes, as dotenv parsers read it
    Dotenv,
    /// One JSON object, names to values
    Json,
    /// export NAME='...' for a POSIX shell
    Shell,
    /// NAME=value for docker run --env-file (no line breaks in values)
    Docker,
    /// NAME="..." for systemd's EnvironmentFile=
    Systemd,
    /// NAME= lines, no values: a .env.example for --require-from
    Example,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to search
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Skip values shorter than BYTES
    #[arg(long, value_name = "BYTES", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub min_length: u16,

    /// Also search files that .gitignore, .ignore or .git/info/exclude leave out
    #[arg(long)]
    pub no_ignore: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Report format
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// One line per finding
    Text,
    /// A JSON list of findings (level, check, source, message)
    Json,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Print values in full instead of masked
    #[arg(long)]
    pub reveal: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
    pub format: ShowFormat,

    /// Also list names that come from the parent environment unchanged
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Table,
    Json,
    Dotenv,
}

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Sources")]
pub struct SourceArgs {
    /// Read a .env file (repeatable; a later file beats an earlier one)
    #[arg(short = 'e', long, value_name = "PATH", global = true)]
    pub env_file: Vec<String>,

    /// Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)
    #[arg(short = 'd', long, value_name = "DIR", global = true)]
    pub secrets_dir: Vec<String>,

    /// Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)
    #[arg(short = 's', long, value_name = "SPEC", global = true)]
    pub source: Vec<String>,

    /// The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]
    #[arg(long, value_name = "PATH", global = true)]
    pub env_keys_file: Option<PathBuf>,

    /// Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set
    #[arg(long, global = true)]
    pub file_vars: bool,

    /// Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]
    #[arg(short = 'c', long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,

    /// Ignore ./secretrun.toml and $SECRETRUN_CONFIG
    #[arg(long, conflicts_with = "config", global = true)]
    pub no_config: bool,

    /// Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default
    #[arg(long, global = true)]
    pub no_credentials_directory: bool,

    /// Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are
    #[arg(long, global = true)]
    pub no_references: bool,

    /// Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects' own syntax)
    #[arg(long, global = true)]
    pub no_secrets_settings: bool,

    /// Limit for each request to a secret manager [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub timeout: Option<Duration>,

    /// Limit for each source, retries included [default: 60s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub deadline: Option<Duration>,

    /// Allow plain http:// to a secret manager that is not on loopback
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,

    /// The encrypted last-known-good snapshot [default: one file per plan under
    /// $XDG_CACHE_HOME/secretrun]
    #[arg(long, value_name = "PATH", global = true)]
    pub fallback: Option<PathBuf>,

    /// Neither read nor write the last-known-good snapshot
    #[arg(long, global = true, conflicts_with_all = ["fallback", "fallback_only"])]
    pub no_fallback: bool,

    /// Never contact a secret manager: serve every remote source from the snapshot
    #[arg(long, visible_alias = "offline", global = true)]
    pub fallback_only: bool,

    /// Ignore a snapshot older than DURATION [default: no limit]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub fallback_max_age: Option<Duration>,
}

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Rules")]
pub struct RuleArgs {
    /// Fail with exit code 125 unless NAME is set after merging (repeatable)
    #[arg(
        short = 'r',
        long,
        value_name = "NAME",
        value_delimiter = ',',
        global = true
    )]
    pub require: Vec<String>,

    /// Fail with exit code 125 unless every name FILE lists (a .env.example; its values are
    /// ignored) is set after merging (repeatable)
    #[arg(long, value_name = "FILE", global = true)]
    pub require_from: Vec<String>,

    /// The environment [rules.NAME] tables' required = [...] lists are checked against
    /// [default: the Doppler config's environment]
    #[arg(
        long,
        value_name = "NAME",
        env = "SECRETRUN_ENVIRONMENT",
        global = true
    )]
    pub environment: Option<String>,

    /// Let the parent environment beat secret sources, for all names or only NAMES
    #[arg(
        long,
        value_name = "NAMES",
        num_args = 0..=1,
        require_equals = true,
        value_delimiter = ',',
        conflicts_with = "pristine",
        global = true
    )]
    pub preserve_env: Option<Vec<String>>,

    /// Give the command only the resolved secrets and a minimal set of the parent environment
    #[arg(long, global = true)]
    pub pristine: bool,

    /// Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)
    #[arg(long, value_name = "NAME", value_delimiter = ',', global = true)]
    pub allow_name: Vec<String>,

    /// Pass SECRETRUN_* and consumed provider credentials on to the command
    #[arg(long, global = true)]
    pub keep_config_vars: bool,
}

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Running the command")]
pub struct LaunchArgs {
    /// Run STRING with `sh -c` instead of COMMAND
    #[arg(long = "command", value_name = "STRING", id = "command_string")]
    pub command_string: Option<OsString>,

    /// Replace secretrun with the command (default unless secretrun is PID 1)
    #[arg(long, conflicts_with = "supervise")]
    pub exec: bool,

    /// Stay as the command's parent: forward signals, reap zombies (default as PID 1)
    #[arg(long)]
    pub supervise: bool,

    /// Adopt orphaned descendants and reap them, as PID 1 does (implies --supervise)
    #[arg(long)]
    pub subreaper: bool,

    /// Forward signals to the command's whole process group, not only to the command, as
    /// `tini -g` and dumb-init do (implies --supervise). The command then leads a process group
    /// of its own, which takes over the terminal when secretrun had it
    #[arg(long, conflicts_with = "exec")]
    pub signal_group: bool,

    /// Kill the command with SIGKILL when it is still running DURATION after a forwarded
    /// TERM, INT, QUIT or HUP (implies --supervise)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub kill_after: Option<Duration>,

    /// After the command exits, how long its leftover processes get after SIGTERM before
    /// SIGKILL (PID 1 and --subreaper)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub grace_period: Option<Duration>,

    /// Replace secret values (and their base64 and URL-encoded forms) in the command's stdout
    /// and stderr with [secretrun:NAME] (implies --supervise)
    #[arg(long, conflicts_with = "exec")]
    pub mask_output: bool,

    /// Re-resolve every source each INTERVAL (default 1m) and, when a value changed, restart
    /// the command or act as --on-change says (implies --supervise)
    #[arg(
        long,
        value_name = "INTERVAL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = DEFAULT_WATCH_INTERVAL,
        value_parser = parse_duration,
        conflicts_with = "exec",
        help_heading = "Watching for changes"
    )]
    pub watch: Option<Duration>,

    /// What a change does: `restart` (stop with --stop-signal, wait --grace-period, SIGKILL,
    /// start again; the default) or `signal:SIG` (rewrite the --mount/--file files, send SIG)
    #[arg(long, value_name = "ACTION", help_heading = "Watching for changes")]
    pub on_change: Option<String>,

    /// The signal that stops the command for a restart (default TERM)
    #[arg(long, value_name = "SIG", help_heading = "Watching for changes")]
    pub stop_signal: Option<String>,

    /// Write the secrets to PATH (mode 0600, never replacing a file; a relative PATH goes under
    /// $XDG_RUNTIME_DIR or /dev/shm) instead of the environment, tell the command the path in
    /// $SECRETRUN_MOUNT, and remove it when the command exits (implies --supervise). `memfd`:
    /// an in-memory file, /dev/fd/N to the command, that works in exec mode
    #[arg(long, value_name = "PATH", help_heading = "Secrets as files")]
    pub mount: Option<PathBuf>,

    /// Format of the --mount file
    #[arg(
        long,
        value_enum,
        default_value_t = MountFormat::Dotenv,
        requires = "mount",
        help_heading = "Secrets as files"
    )]
    pub mount_format: MountFormat,

    /// The template --mount-format template renders: minijinja (Jinja2) syntax, each name a
    /// source set is a variable ({{ DB_PASSWORD }}), and `secrets` maps every name to its value
    #[arg(
        long,
        value_name = "FILE",
        requires = "mount",
        help_heading = "Secrets as files"
    )]
    pub mount_template: Option<PathBuf>,

    /// Write the raw value of NAME to PATH (mode 0600, removed when the command exits; implies
    /// --supervise) and set NAME_FILE=PATH instead of NAME (repeatable). `memfd`: an in-memory
    /// file, /dev/fd/N to the command, that works in exec mode. A source's ?file=PATH|memfd
    /// does the same for the one value it sets
    #[arg(long, value_name = "NAME=PATH", help_heading = "Secrets as files")]
    pub file: Vec<String>,

    /// Keep the names written by --mount and --file in the environment as well
    #[arg(long, help_heading = "Secrets as files")]
    pub mount_keep_env: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum MountFormat {
    /// NAME="..." with backslash escapes, as dotenv parsers read it
    #[default]
    Dotenv,
    /// One JSON object, names to values
    Json,
    /// NAME=value lines, as docker run --env-file reads them (no line breaks in values)
    Env,
    /// The --mount-template FILE, rendered with the secrets as its variables
    Template,
}

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|err| format!("{err} (e.g. 500ms, 10s, 2m)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
