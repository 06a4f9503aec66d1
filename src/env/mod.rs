//! Stage 4, the child's environment: the merge of resolved layers over the parent environment
//! ([`merge`]), `NAME_FILE` variables filled in after it ([`file_vars`]) and the checks on the
//! result ([`rules`]). The parent environment itself and `.env` text sit below every stage
//! ([`crate::environment`], [`crate::envfile`], [`crate::dotenvx`]): the stores read them too.

pub mod file_vars;
pub mod merge;
pub mod origin;
pub mod rules;
