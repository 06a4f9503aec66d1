//! Stage 4, the environment: the parent environment as received ([`environment`]), `.env` text
//! ([`envfile`], [`dotenvx`]), the merge of resolved layers over it ([`merge`]) and the checks on
//! the result ([`rules`]); `NAME_FILE` variables filled in after it ([`file_vars`]).

pub mod dotenvx;
pub mod envfile;
pub mod environment;
pub mod file_vars;
pub mod merge;
pub mod rules;
