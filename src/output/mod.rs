//! How a merged environment is printed: `show`'s table, json and dotenv ([`show`]).

pub mod show;
