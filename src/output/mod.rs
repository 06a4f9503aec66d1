//! How a merged environment is printed: `show`'s table, json and dotenv ([`show`]), and the
//! export formats ([`export`]) that `export` and `--mount` write.

pub mod export;
pub mod show;
