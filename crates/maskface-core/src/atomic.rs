use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};

use crate::CoreError;

/// Writes a file atomically: `write` fills a temporary file beside `path`,
/// which is flushed, synced and then renamed over `path`.
///
/// A crash or an error mid-write leaves either the old file or no file, never a
/// truncated one; readers that see `path` see a complete file. Parent folders
/// are created.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("hello.txt");
/// maskface_core::write_atomic(&path, |w| w.write_all(b"hello")).unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"hello");
/// # use std::io::Write;
/// ```
pub fn write_atomic<F>(path: &Path, write: F) -> Result<(), CoreError>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    write_atomic_with(path, true, write)
}

/// [`write_atomic`] without the `fsync`: still all-or-nothing if the program
/// dies, but after a power cut the file may be empty. Meant for bulk outputs
/// (thousands of images) whose completion a later, synced manifest records:
/// syncing each one costs more than encoding it.
pub fn write_atomic_unsynced<F>(path: &Path, write: F) -> Result<(), CoreError>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    write_atomic_with(path, false, write)
}

fn write_atomic_with<F>(path: &Path, sync: bool, write: F) -> Result<(), CoreError>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let tmp = temp_path(path);
    let result = (|| {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        let file = fs::File::create(&tmp)?;
        let mut writer = BufWriter::new(file);
        write(&mut writer)?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        if sync {
            file.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| CoreError::io(path, e))
}

/// Encodes `image` in the format given by `path`'s extension and writes it
/// atomically (see [`write_atomic`]).
///
/// Encoding happens in memory first, so an encoder error leaves nothing on disk.
pub fn save_image_atomic(image: &RgbImage, path: &Path) -> Result<(), CoreError> {
    let format = ImageFormat::from_path(path).map_err(|source| CoreError::ImageWrite {
        path: path.to_path_buf(),
        source,
    })?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, format)
        .map_err(|source| CoreError::ImageWrite {
            path: path.to_path_buf(),
            source,
        })?;
    let bytes = bytes.into_inner();
    write_atomic(path, |w| w.write_all(&bytes))
}

/// Writes `rows` as CSV under `header`, atomically (see [`write_atomic`]).
///
/// The header is written explicitly, so an empty table still has one; the
/// rows are serialised in field order, which must match `header`.
pub fn write_csv_atomic<T: serde::Serialize>(
    path: &Path,
    header: &[&str],
    rows: &[T],
) -> Result<(), CoreError> {
    let csv_err = |source| CoreError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(header).map_err(csv_err)?;
    for r in rows {
        w.serialize(r).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| CoreError::io(path, e.into_error()))?;
    write_atomic(path, |out| out.write_all(&bytes))
}

/// Removes the temporary files that writers killed mid-write (by `kill -9`,
/// a power cut or an out-of-memory kill) left under `dir`, at any depth, and
/// returns how many were removed.
///
/// A temporary file is `.NAME.PID.tmp`, as [`write_atomic`] names them. One
/// whose process is still running is another writer's work in progress and
/// is kept; so is one this process is writing. Jobs call this when they start
/// on a folder they own, so a resumed job leaves no debris behind.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// // A writer that died (no process has this id) left a temporary file.
/// std::fs::write(dir.path().join(".face.png.4194305.tmp"), b"half").unwrap();
/// std::fs::write(dir.path().join("face.png"), b"whole").unwrap();
/// assert_eq!(maskface_core::remove_stale_temp_files(dir.path()).unwrap(), 1);
/// assert!(dir.path().join("face.png").exists());
/// ```
pub fn remove_stale_temp_files(dir: &Path) -> Result<usize, CoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(CoreError::io(dir, e)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(|e| CoreError::io(dir, e))?;
        let path = entry.path();
        // `file_type` does not follow symbolic links, so a link loop or a
        // link out of the folder is never walked.
        let kind = entry.file_type().map_err(|e| CoreError::io(&path, e))?;
        if kind.is_dir() {
            removed += remove_stale_temp_files(&path)?;
        } else if kind.is_file() {
            removed += usize::from(remove_if_stale(&path)?);
        }
    }
    Ok(removed)
}

/// Removes the stale temporary files of the one file `path` (see
/// [`remove_stale_temp_files`]), leaving the rest of its folder alone: for
/// files such as a gallery that live in a folder the job does not own.
pub fn remove_stale_temp_files_of(path: &Path) -> Result<usize, CoreError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(0);
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(CoreError::io(dir, e)),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let p = entry.path();
        let ours = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(&prefix));
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            removed += usize::from(remove_if_stale(&p)?);
        }
    }
    Ok(removed)
}

/// Removes `path` if it is a stale temporary file; whether it did.
fn remove_if_stale(path: &Path) -> Result<bool, CoreError> {
    if !is_stale_temp(path) {
        return Ok(false);
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        // Its writer finished (renamed it) or another cleaner won.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(CoreError::io(path, e)),
    }
}

/// Whether `path` is a temporary file of [`temp_path`]'s shape whose writer
/// is gone.
fn is_stale_temp(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some(stem) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let Some((target, pid)) = stem.rsplit_once('.') else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    !target.is_empty() && pid != std::process::id() && !process_alive(pid, path)
}

#[cfg(target_os = "linux")]
fn process_alive(pid: u32, _path: &Path) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Without `/proc`, a temporary file untouched for a day is taken as
/// abandoned: no write of one file takes that long.
#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: u32, path: &Path) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_none_or(|age| age < std::time::Duration::from_secs(24 * 3600))
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The process id keeps two concurrent writers of the same file from
    // sharing a temporary file; the leading dot hides it from folder scans.
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_no_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let err = write_atomic(&path, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("out.txt"), "{err}");
        assert!(!path.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn failed_write_keeps_previous_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, |w| w.write_all(b"old")).unwrap();
        let _ = write_atomic(&path, |_| Err(std::io::Error::other("boom")));
        assert_eq!(fs::read(&path).unwrap(), b"old");
    }

    #[test]
    fn csv_has_header_even_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        write_csv_atomic::<(u32, String)>(&path, &["n", "s"], &[]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "n,s\n");
        write_csv_atomic(&path, &["n", "s"], &[(1u32, "a,b".to_string())]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "n,s\n1,\"a,b\"\n");
    }

    #[test]
    fn image_roundtrip_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/img.png");
        let img = RgbImage::from_fn(4, 3, |x, y| image::Rgb([x as u8, y as u8, 7]));
        save_image_atomic(&img, &path).unwrap();
        let back = image::open(&path).unwrap().to_rgb8();
        assert_eq!(back, img);
    }

    #[test]
    fn unknown_extension_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img.unknownext");
        let err = save_image_atomic(&RgbImage::new(2, 2), &path).unwrap_err();
        assert!(err.to_string().contains("img.unknownext"));
        assert!(!path.exists());
    }

    /// Above Linux's largest process id (2^22), so no process has it.
    const DEAD_PID: u32 = 4_194_305;

    #[test]
    fn stale_temp_files_go_live_writers_and_other_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("train/alice")).unwrap();
        let dead = [
            d.join(format!(".a.png.{DEAD_PID}.tmp")),
            d.join(format!("train/alice/.b.png.{DEAD_PID}.tmp")),
        ];
        let kept = [
            d.join("a.png"),
            // This process's own writes in progress.
            d.join(format!(".c.png.{}.tmp", std::process::id())),
            // A live writer: process 1 always exists.
            d.join("train/.d.png.1.tmp"),
            // Not a temporary file of write_atomic's shape.
            d.join(".hidden.tmp"),
            d.join(format!("e.{DEAD_PID}.tmp")),
            d.join(format!(".{DEAD_PID}.tmp")),
            d.join(".f.png.x1.tmp"),
        ];
        for p in dead.iter().chain(&kept) {
            fs::write(p, b"x").unwrap();
        }
        assert_eq!(remove_stale_temp_files(d).unwrap(), 2);
        for p in &dead {
            assert!(!p.exists(), "{}", p.display());
        }
        for p in &kept {
            assert!(p.exists(), "{}", p.display());
        }
        assert_eq!(remove_stale_temp_files(d).unwrap(), 0);
        assert_eq!(remove_stale_temp_files(&d.join("missing")).unwrap(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn stale_temp_cleanup_does_not_follow_links() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join(format!(".x.png.{DEAD_PID}.tmp"));
        fs::write(&victim, b"x").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
        assert_eq!(remove_stale_temp_files(dir.path()).unwrap(), 0);
        assert!(victim.exists());
    }

    #[test]
    fn stale_temp_files_of_one_file_leave_its_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let gallery = dir.path().join("gallery.json");
        let mine = dir.path().join(format!(".gallery.json.{DEAD_PID}.tmp"));
        let other = dir.path().join(format!(".notes.txt.{DEAD_PID}.tmp"));
        fs::write(&mine, b"{").unwrap();
        fs::write(&other, b"x").unwrap();
        assert_eq!(remove_stale_temp_files_of(&gallery).unwrap(), 1);
        assert!(!mine.exists());
        assert!(other.exists());
    }
}
