//! A `vault` location: a path from the Vault root, mount first, checked when the source is built,
//! and its path inside the mount it turns out to be in.

use super::*;

/// The location's path inside its mount, without KV v2's `data/` or `metadata/`.
pub(super) fn relative_path(location: &Location, mount: &Mount) -> Result<String, SourceError> {
    let full = format!("{}/", location.path);
    let inside = full
        .strip_prefix(&mount.path)
        .ok_or_else(|| SourceError::BadResponse {
            problem: format!("'{}' is not in the mount '{}'", location.path, mount.path),
        })?;
    let mut relative = inside.strip_suffix('/').unwrap_or(inside);
    if mount.kv2 {
        relative = strip_api_segment(relative);
    }
    if relative.is_empty() && !location.folder {
        return Err(SourceError::Config {
            problem: format!(
                "'{}' is the mount '{}', not a secret: add the secret's path, or end the \
                 location with '/' to read every secret in the mount",
                location.path, mount.path
            ),
        });
    }
    Ok(relative.to_string())
}

fn strip_api_segment(relative: &str) -> &str {
    for api in ["data", "metadata"] {
        if relative == api {
            return "";
        }
        if let Some(rest) = relative
            .strip_prefix(api)
            .and_then(|rest| rest.strip_prefix('/'))
        {
            return rest;
        }
    }
    relative
}

/// A spec's location: a path from the Vault root, mount first, without the trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Location {
    pub(super) path: String,
    pub(super) folder: bool,
}

pub(super) fn parse_location(text: &str) -> Result<Location, String> {
    let folder = text.ends_with('/');
    let path = text.strip_suffix('/').unwrap_or(text);
    // The URL builder would silently drop `.` and `..` and squeeze empty segments, reading
    // another path than the one written.
    if path.split('/').all(valid_segment) {
        Ok(Location {
            path: path.to_string(),
            folder,
        })
    } else {
        Err(format!(
            "'{text}' is not a Vault path: write the mount and path separated by single '/', \
             without '.' or '..' (e.g. secret/app/db, or secret/app/ for a folder)"
        ))
    }
}

pub(super) fn valid_segment(segment: &str) -> bool {
    !segment.is_empty() && segment != "." && segment != ".."
}
