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
}
