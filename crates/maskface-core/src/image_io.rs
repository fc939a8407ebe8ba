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

/// Whether the JPEG's image data reaches its end-of-image marker (`FF D9`),
/// found by walking its segments (their lengths say where each ends) and
/// its entropy-coded scans (where a marker is `FF` followed by anything but
/// `00` or a restart marker). A file cut short has none; one with bytes
/// after it (cameras and phones append some) has one before them; an
/// EXIF thumbnail's own marker is inside a segment, so it does not count.
fn has_jpeg_end_marker(bytes: &[u8]) -> bool {
    let mut i = 2; // after SOI
    while i + 1 < bytes.len() {
        if bytes[i] != 0xFF {
            return false;
        }
        let marker = bytes[i + 1];
        match marker {
            0xD9 => return true,
            // Fill bytes before a marker.
            0xFF => i += 1,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                let Some(len) = bytes
                    .get(i + 2..i + 4)
                    .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
                else {
                    return false;
                };
                i += 2 + len;
                if marker == 0xDA {
                    // Entropy-coded data up to the next real marker.
                    while i + 1 < bytes.len()
                        && (bytes[i] != 0xFF || matches!(bytes[i + 1], 0x00 | 0xD0..=0xD7))
                    {
                        i += 1;
                    }
                }
            }
        }
    }
    false
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
    fn jpeg_with_trailing_bytes_loads() {
        // As some cameras and phones write them: the image, then padding or
        // other data after its end-of-image marker.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("padded.jpg");
        let img = RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 7]));
        img.save(&path).unwrap();
        let clean = load_rgb(&path).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend((0..5000u32).map(|i| (i * 7919 % 251) as u8));
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(load_rgb(&path).unwrap(), clean);
    }

    #[test]
    fn end_marker_is_found_by_the_structure_not_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jpg");
        RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8, y as u8, 99]))
            .save(&path)
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(has_jpeg_end_marker(&bytes));
        // Cut inside the scan, with an EOI-looking pair inside a segment
        // (a thumbnail in an APP1 segment) before it: still truncated.
        let mut with_app1 = bytes[..2].to_vec();
        with_app1.extend([0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD8, 0xFF, 0xD9]);
        with_app1.extend(&bytes[2..bytes.len() - 40]);
        assert!(!has_jpeg_end_marker(&with_app1));
        with_app1.extend(&bytes[bytes.len() - 40..]);
        assert!(has_jpeg_end_marker(&with_app1));
        // Too short, or garbage where a marker belongs.
        assert!(!has_jpeg_end_marker(&bytes[..3]));
        assert!(!has_jpeg_end_marker(&[0xFF, 0xD8, 0x12, 0x34]));
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
