//! How a merged environment is printed: `show`'s table, json and dotenv ([`show`]), the
//! export formats ([`export`]) that `export` and `--mount` write, and `--mount`'s templates
//! ([`template`]).

pub mod export;
pub mod show;
pub mod template;
