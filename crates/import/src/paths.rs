//! Expanding the paths a user names (files and folders) into the files to
//! read, in a stable order.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FileError};

/// Files named directly are kept whatever their extension (the user chose
/// them); folders are walked recursively for files ending in `.{ext}`
/// (case-insensitive), skipping hidden entries, and sorted by path so that
/// two runs read the same files in the same order.
pub(crate) fn expand(paths: &[PathBuf], ext: &str) -> Result<Vec<PathBuf>, FileError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| FileError(Diagnostic::new(path, format!("cannot read this path: {e}"))))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, ext, &mut found)?;
            if found.is_empty() {
                return Err(FileError(Diagnostic::new(
                    path,
                    format!("this folder holds no .{ext} file"),
                )));
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    // The same file named twice (or through a folder and by name) is read once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> Result<(), FileError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        FileError(Diagnostic::new(
            dir,
            format!("cannot list this folder: {e}"),
        ))
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| {
            FileError(Diagnostic::new(
                dir,
                format!("cannot list this folder: {e}"),
            ))
        })?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        let file_type = entry.file_type().map_err(|e| {
            FileError(Diagnostic::new(
                &path,
                format!("cannot read this path: {e}"),
            ))
        })?;
        if file_type.is_dir() {
            walk(&path, ext, out)?;
        } else if has_extension(&path, ext) {
            out.push(path);
        }
    }
    Ok(())
}

pub(crate) fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}
