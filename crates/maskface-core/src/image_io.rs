use std::io::Cursor;
use std::path::Path;

use image::{ImageFormat, ImageReader, RgbImage};

use crate::CoreError;

/// Opens an image of any supported format and colour type (grayscale, RGBA,
/// 16-bit, ...) and converts it to 8-bit RGB.
///
/// The format is guessed from the file's content, not its extension, so a
/// PNG named `.jpg` still loads. A missing, truncated or non-image file gives
/// [`CoreError::Image`] or [`CoreError::Io`] naming the file. JPEG decoders
/// quietly fill in missing scan data with grey, so a JPEG without its
/// end-of-image marker is reported as truncated rather than decoded.
pub fn load_rgb(path: &Path) -> Result<RgbImage, CoreError> {
    let bytes = std::fs::read(path).map_err(|e| CoreError::io(path, e))?;
    decode_rgb(&bytes, path)
}

/// [`load_rgb`] for a file already read into memory; `path` only names it
/// in errors. For callers that also need the file's bytes (to copy them).
pub fn decode_rgb(bytes: &[u8], path: &Path) -> Result<RgbImage, CoreError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| CoreError::io(path, e))?;
    if reader.format() == Some(ImageFormat::Jpeg) && !has_jpeg_end_marker(bytes) {
        return Err(CoreError::Image {
            path: path.to_path_buf(),
            source: image::ImageError::Decoding(image::error::DecodingError::new(
                ImageFormat::Jpeg.into(),
                "truncated JPEG: no end-of-image marker",
            )),
        });
    }
    let image = reader.decode().map_err(|source| CoreError::Image {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(image.into_rgb8())
}

/// The EOI marker `FF D9` among the last bytes: writers may pad after it,
/// but a file cut short has none.
fn has_jpeg_end_marker(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(256)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_gray16_to_rgb8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g16.png");
        let img = image::ImageBuffer::<image::Luma<u16>, _>::from_pixel(3, 2, image::Luma([65535]));
        img.save(&path).unwrap();
        let rgb = load_rgb(&path).unwrap();
        assert_eq!(rgb.dimensions(), (3, 2));
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
    }

    #[test]
    fn rgba_png_named_jpg_loads() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("a.png");
        image::RgbaImage::from_pixel(2, 2, image::Rgba([10, 20, 30, 0]))
            .save(&png)
            .unwrap();
        let jpg = dir.path().join("a.jpg");
        std::fs::rename(&png, &jpg).unwrap();
        assert_eq!(load_rgb(&jpg).unwrap().get_pixel(1, 1).0, [10, 20, 30]);
    }

    #[test]
    fn truncated_jpeg_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.jpg");
        let img = RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8, y as u8, 0]));
        img.save(&path).unwrap();
        assert!(load_rgb(&path).is_ok());
        let bytes = std::fs::read(&path).unwrap();
        for cut in [bytes.len() / 3, bytes.len() - 2] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let err = load_rgb(&path).unwrap_err();
            assert!(err.to_string().contains("cut.jpg"), "{err}");
        }
    }

    #[test]
    fn text_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.jpg");
        std::fs::write(&path, b"not an image").unwrap();
        assert!(matches!(load_rgb(&path), Err(CoreError::Image { .. })));
    }

    #[test]
    fn missing_file_is_io_error() {
        let err = load_rgb(Path::new("/nonexistent/x.jpg")).unwrap_err();
        assert!(matches!(err, CoreError::Io { .. }));
    }
}
