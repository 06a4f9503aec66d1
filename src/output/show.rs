//! `secretrun show`: the merged environment as the child would get it, with the source that won
//! each name and the sources it overrode. Values are masked unless `--reveal`.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::{self, Write};

use crate::cli::{ShowArgs, ShowFormat};
use crate::env::merge::{ChildEnv, Entry, Value};
use crate::env::origin::Origin;
use crate::secret::{display_name, SecretValue};

struct Row {
    name: String,
    value: String,
    source: String,
    overrides: Vec<String>,
}

/// `encrypted`: the (source, name) pairs whose value a `.env` file holds dotenvx-encrypted; their
/// source is shown as `dotenv:.env (encrypted)`.
pub fn render(
    child: &ChildEnv,
    args: &ShowArgs,
    encrypted: &BTreeSet<(String, String)>,
    out: &mut impl Write,
) -> io::Result<()> {
    let rows: Vec<Row> = child
        .vars
        .iter()
        .filter(|(_, entry)| args.all || !is_plain_parent(entry))
        .map(|(name, entry)| {
            let mut row = row(name, entry, args.reveal);
            if encrypted.contains(&(entry.origin.to_string(), row.name.clone())) {
                row.source.push_str(" (encrypted)");
            }
            row
        })
        .collect();
    match args.format {
        ShowFormat::Table => table(&rows, out),
        ShowFormat::Json => json(&rows, out),
        ShowFormat::Dotenv => dotenv(&rows, out),
    }
}

/// A name the parent environment set and no source touched: noise unless `--all`.
pub(crate) fn is_plain_parent(entry: &Entry) -> bool {
    entry.origin == Origin::Parent && entry.overridden.is_empty()
}

fn row(name: &OsStr, entry: &Entry, reveal: bool) -> Row {
    let value = if reveal {
        String::from_utf8_lossy(entry.value.as_bytes()).into_owned()
    } else {
        match &entry.value {
            Value::Secret(secret) => secret.masked(),
            Value::Parent(raw) => SecretValue::new(raw.as_encoded_bytes().to_vec()).masked(),
        }
    };
    Row {
        name: display_name(name),
        value,
        source: entry.origin.to_string(),
        overrides: entry.overridden.iter().map(Origin::to_string).collect(),
    }
}

fn table(rows: &[Row], out: &mut impl Write) -> io::Result<()> {
    let headers = ["NAME", "VALUE", "SOURCE", "OVERRIDES"];
    // Multi-line values would break the table; show their newlines escaped.
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|row| {
            [
                row.name.clone(),
                row.value.replace('\n', "\\n"),
                row.source.clone(),
                row.overrides.join(", "),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for cell in &cells {
        for (width, text) in widths.iter_mut().zip(cell) {
            *width = (*width).max(text.chars().count());
        }
    }
    let mut line = |fields: [&str; 4]| -> io::Result<()> {
        let mut text = String::new();
        for (i, field) in fields.iter().enumerate() {
            if i + 1 == fields.len() {
                text.push_str(field);
            } else {
                let pad = widths[i] - field.chars().count();
                text.push_str(field);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(headers)?;
    for cell in &cells {
        line([&cell[0], &cell[1], &cell[2], &cell[3]])?;
    }
    Ok(())
}

fn json(rows: &[Row], out: &mut impl Write) -> io::Result<()> {
    let map: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .map(|row| {
            (
                row.name.clone(),
                serde_json::json!({
                    "value": row.value,
                    "source": row.source,
                    "overrides": row.overrides,
                }),
            )
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &map)?;
    writeln!(out)
}

fn dotenv(rows: &[Row], out: &mut impl Write) -> io::Result<()> {
    for row in rows {
        writeln!(out, "{}=\"{}\"", row.name, dotenv_escape(&row.value))?;
    }
    Ok(())
}

/// Escapes for a double-quoted dotenv value, as dotenv parsers read it back.
pub(crate) fn dotenv_escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '$' => escaped.push_str("\\$"),
            '\n' => escaped.push_str("\\n"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_output_round_trips_through_the_parser() {
        let tricky = "a\"b\\c$HOME\nline2 'q'";
        let line = format!("K=\"{}\"\n", dotenv_escape(tricky));
        let parsed: Vec<_> = dotenvy::from_read_iter(line.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(parsed, vec![("K".to_string(), tricky.to_string())]);
    }
}
