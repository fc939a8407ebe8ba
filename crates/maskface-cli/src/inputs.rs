//! The files under the command line's inputs: folders walked recursively
//! (links to folders are not followed), files taken as given.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use maskface_dataset::IMAGE_EXTENSIONS;

/// One file found under the inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its path relative to the input folder it was found in (a file given
    /// on its own: its name).
    pub rel: PathBuf,
    /// Whether its extension is one of the image extensions read.
    pub image: bool,
}

/// Whether `path`'s extension is one of [`IMAGE_EXTENSIONS`].
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
}

/// Every file under `inputs`, images or not, folder by folder in name
/// order. With `prefix_roots`, paths found in a folder are given relative
/// to the folder's parent (`photos/a.jpg` rather than `a.jpg`), so that
/// several input folders cannot give two files the same relative path.
/// A folder named in `skip` (an output folder inside an input) is not
/// walked.
pub fn collect_files(
    inputs: &[PathBuf],
    prefix_roots: bool,
    skip: Option<&Path>,
) -> Result<Vec<InputFile>> {
    let mut out = Vec::new();
    visit_files(inputs, prefix_roots, skip, &mut |f| out.push(f))?;
    Ok(out)
}

/// [`collect_files`] one file at a time, in the same order, holding no
/// list: `visit` keeps what it wants (a shard's own files, say) and the
/// walk holds only the folder it is in. Returns how many files it visited.
pub fn visit_files(
    inputs: &[PathBuf],
    prefix_roots: bool,
    skip: Option<&Path>,
    visit: &mut dyn FnMut(InputFile),
) -> Result<u64> {
    fn walk(
        root: &Path,
        dir: &Path,
        skip: Option<&Path>,
        visit: &mut dyn FnMut(InputFile),
        count: &mut u64,
    ) -> Result<()> {
        let mut entries: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)
            .with_context(|| format!("listing {}", dir.display()))?
            .filter_map(|e| e.ok())
            // The entry's own type: a link to a folder is not walked, so a
            // link loop cannot send the walk round for ever.
            .map(|e| (e.path(), e.file_type().is_ok_and(|t| t.is_dir())))
            .collect();
        entries.sort();
        for (p, is_dir) in entries {
            if is_dir {
                if skip.is_some_and(|s| p.canonicalize().is_ok_and(|c| c == s)) {
                    continue;
                }
                walk(root, &p, skip, visit, count)?;
            } else {
                let rel = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
                *count += 1;
                visit(InputFile {
                    image: has_image_extension(&p),
                    path: p,
                    rel,
                });
            }
        }
        Ok(())
    }
    // Resolved once: the walk compares every folder with it.
    let skip = skip.and_then(|s| s.canonicalize().ok());
    let skip = skip.as_deref();
    let mut count = 0;
    for input in inputs {
        if input.is_dir() {
            let root = match (prefix_roots, input.parent()) {
                (true, Some(parent)) => parent,
                _ => input.as_path(),
            };
            walk(root, input, skip, visit, &mut count)?;
        } else if input.is_file() {
            let name = input.file_name().map(PathBuf::from).unwrap_or_default();
            count += 1;
            visit(InputFile {
                image: has_image_extension(input),
                path: input.clone(),
                rel: name,
            });
        } else {
            bail!("{} does not exist", input.display());
        }
    }
    Ok(count)
}

/// Every image under `inputs`, each with its path relative to its input;
/// an error when there is none.
pub fn image_files(inputs: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf)>> {
    let out: Vec<(PathBuf, PathBuf)> = collect_files(inputs, false, None)?
        .into_iter()
        .filter(|f| f.image)
        .map(|f| (f.path, f.rel))
        .collect();
    if out.is_empty() {
        bail!("no images found in {:?}", inputs);
    }
    Ok(out)
}
