use std::fs;
use std::path::{Path, PathBuf};

use image::ImageReader;
use maskface_core::load_rgb;
use rayon::prelude::*;
use serde::Serialize;

use crate::DatasetError;

/// File extensions (lowercase) treated as images.
pub const IMAGE_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "bmp", "tif", "tiff", "gif", "webp"];

/// How thoroughly [`scan_lfw`] checks each image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// Read only the header (format and size): fast, catches non-images and
    /// broken headers. 13,233 LFW images take about a second.
    #[default]
    Header,
    /// Decode every image fully: also catches truncated or corrupt pixel data.
    Decode,
}

/// One person's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityImages {
    /// The folder's name, which is the person's name.
    pub name: String,
    /// Readable images, relative to the dataset root, sorted.
    pub images: Vec<PathBuf>,
}

/// Something the scan left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file or folder, relative to the root.
    pub path: PathBuf,
    /// Why it was left out.
    pub reason: String,
}

/// An index of made-up people with the given image counts
/// (`<root>/<Name>/<Name>_NNNN.jpg`), for unit tests.
#[cfg(test)]
pub(crate) fn test_index(counts: &[(&str, usize)]) -> LfwIndex {
    LfwIndex {
        root: PathBuf::from("/lfw"),
        identities: counts
            .iter()
            .map(|(n, c)| IdentityImages {
                name: n.to_string(),
                images: (1..=*c)
                    .map(|k| PathBuf::from(format!("{n}/{n}_{k:04}.jpg")))
                    .collect(),
            })
            .collect(),
        skipped: vec![],
    }
}

/// What [`scan_lfw`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct LfwIndex {
    /// The dataset root as given.
    pub root: PathBuf,
    /// Identities with at least one readable image, sorted by name.
    pub identities: Vec<IdentityImages>,
    /// Files and folders that were left out (non-images, unreadable images,
    /// empty identity folders, files outside identity folders).
    pub skipped: Vec<Skipped>,
}

impl LfwIndex {
    /// Total number of readable images.
    pub fn num_images(&self) -> usize {
        self.identities.iter().map(|i| i.images.len()).sum()
    }

    /// Number of images of the named identities (unknown names count 0).
    pub fn count_images(&self, names: &[String]) -> usize {
        names
            .iter()
            .filter_map(|n| self.get(n))
            .map(|i| i.images.len())
            .sum()
    }

    /// The identity called `name`, if present.
    pub fn get(&self, name: &str) -> Option<&IdentityImages> {
        self.identities.iter().find(|i| i.name == name)
    }

    /// Decodes every image of the named identities in parallel and moves the
    /// ones that fail into [`LfwIndex::skipped`]; identities left with no
    /// image are removed. Used after a header-only scan to check just the
    /// images a selection will use. `on_image` is called once per image
    /// decoded (for a progress bar); [`LfwIndex::count_images`] gives the total.
    pub fn verify_decode(&mut self, names: &[String], on_image: &(dyn Fn() + Sync)) {
        let root = self.root.clone();
        let mut newly_skipped = Vec::new();
        for ident in self
            .identities
            .iter_mut()
            .filter(|i| names.contains(&i.name))
        {
            let results: Vec<Option<Skipped>> = ident
                .images
                .par_iter()
                .map(|rel| {
                    let result = load_rgb(&root.join(rel));
                    on_image();
                    result.err().map(|e| Skipped {
                        path: rel.clone(),
                        reason: format!("unreadable image: {e}"),
                    })
                })
                .collect();
            let mut keep = Vec::with_capacity(ident.images.len());
            for (rel, bad) in ident.images.drain(..).zip(results) {
                match bad {
                    Some(s) => newly_skipped.push(s),
                    None => keep.push(rel),
                }
            }
            ident.images = keep;
        }
        self.identities.retain(|i| {
            if i.images.is_empty() {
                newly_skipped.push(Skipped {
                    path: PathBuf::from(&i.name),
                    reason: "identity folder has no readable image".into(),
                });
            }
            !i.images.is_empty()
        });
        self.skipped.extend(newly_skipped);
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    }
}

/// Reads an LFW-style folder: one sub-folder per person, images inside.
///
/// Hidden entries (names starting with `.`) are ignored. Everything else that
/// is not a readable image in a person's folder is recorded in
/// [`LfwIndex::skipped`] with the reason, never silently dropped; a missing
/// root is an error. Files are checked in parallel.
pub fn scan_lfw(root: &Path, verify: Verify) -> Result<LfwIndex, DatasetError> {
    if !root.is_dir() {
        return Err(DatasetError::MissingRoot {
            path: root.to_path_buf(),
        });
    }
    let mut skipped = Vec::new();
    let mut folders = Vec::new();
    for entry in list_dir(root)? {
        let Some(name) = utf8_name(&entry, Path::new(""), &mut skipped) else {
            continue;
        };
        // `Path::is_dir` follows symbolic links, so a dataset assembled
        // from links still scans.
        if entry.path().is_dir() {
            folders.push(name);
        } else {
            skipped.push(Skipped {
                path: PathBuf::from(&name),
                reason: "file outside an identity folder".into(),
            });
        }
    }
    folders.sort();

    let mut candidates = Vec::new();
    let mut identities = Vec::new();
    for name in folders {
        let mut files = Vec::new();
        for entry in list_dir(&root.join(&name))? {
            let Some(file) = utf8_name(&entry, Path::new(&name), &mut skipped) else {
                continue;
            };
            let rel = PathBuf::from(&name).join(&file);
            if entry.path().is_dir() {
                skipped.push(Skipped {
                    path: rel,
                    reason: "nested folder".into(),
                });
            } else if has_image_extension(&file) {
                files.push(rel);
            } else {
                skipped.push(Skipped {
                    path: rel,
                    reason: "not an image file (extension)".into(),
                });
            }
        }
        files.sort();
        if files.is_empty() {
            skipped.push(Skipped {
                path: PathBuf::from(&name),
                reason: "empty identity folder".into(),
            });
        }
        candidates.extend(files.iter().map(|f| (identities.len(), f.clone())));
        identities.push(IdentityImages {
            name,
            images: Vec::new(),
        });
    }

    let checked: Vec<(usize, PathBuf, Option<String>)> = candidates
        .into_par_iter()
        .map(|(k, rel)| {
            let problem = check_image(&root.join(&rel), verify).err();
            (k, rel, problem)
        })
        .collect();
    for (k, rel, problem) in checked {
        match problem {
            None => identities[k].images.push(rel),
            Some(reason) => skipped.push(Skipped {
                path: rel,
                reason: format!("unreadable image: {reason}"),
            }),
        }
    }
    for ident in identities.iter().filter(|i| i.images.is_empty()) {
        if !skipped.iter().any(|s| s.path == Path::new(&ident.name)) {
            skipped.push(Skipped {
                path: PathBuf::from(&ident.name),
                reason: "identity folder has no readable image".into(),
            });
        }
    }
    identities.retain(|i| !i.images.is_empty());
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(LfwIndex {
        root: root.to_path_buf(),
        identities,
        skipped,
    })
}

/// The entry's name, or `None` (recorded as skipped) when it is not UTF-8:
/// manifests hold UTF-8 paths, and a name changed to fit would name no file.
fn utf8_name(entry: &fs::DirEntry, parent: &Path, skipped: &mut Vec<Skipped>) -> Option<String> {
    let name = entry.file_name();
    match name.to_str() {
        Some(n) => Some(n.to_owned()),
        None => {
            skipped.push(Skipped {
                path: parent.join(name.to_string_lossy().as_ref()),
                reason: "name is not UTF-8".into(),
            });
            None
        }
    }
}

fn list_dir(dir: &Path) -> Result<Vec<fs::DirEntry>, DatasetError> {
    let io = |source| DatasetError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if !entry.file_name().to_string_lossy().starts_with('.') {
            out.push(entry);
        }
    }
    Ok(out)
}

fn has_image_extension(file: &str) -> bool {
    Path::new(file)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
}

fn check_image(path: &Path, verify: Verify) -> Result<(), String> {
    match verify {
        Verify::Header => {
            let (w, h) = ImageReader::open(path)
                .map_err(|e| e.to_string())?
                .with_guessed_format()
                .map_err(|e| e.to_string())?
                .into_dimensions()
                .map_err(|e| e.to_string())?;
            if w == 0 || h == 0 {
                return Err(format!("image has size {w}x{h}"));
            }
            Ok(())
        }
        Verify::Decode => load_rgb(path).map(|_| ()).map_err(|e| e.to_string()),
    }
}
