use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::CoreError;

/// The most pixels [`load_rgb`] and [`decode_rgb`] decode: 2^26 (8192 x
/// 8192, 64 megapixels). Some formats (WebP, BMP, TIFF) encode a uniform
/// picture of any size in a few bytes, so a file's size cannot bound what
/// decoding it allocates; this budget does. Larger images are refused
/// before anything is allocated for their pixels, and the decoder may
/// allocate at most 8 bytes a pixel of this budget (512 MiB).
pub const MAX_IMAGE_PIXELS: u64 = 1 << 26;

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
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| CoreError::io(path, e))?;
    reader.limits(limits_of_decode());
    // The header alone says how large the picture is: refuse an image over
    // the budget before its pixels are allocated (and before `into_rgb8`
    // makes a second copy).
    let header = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()
        .and_then(|r| r.into_dimensions().ok());
    if let Some((w, h)) = header {
        if u64::from(w) * u64::from(h) > MAX_IMAGE_PIXELS {
            return Err(CoreError::Image {
                path: path.to_path_buf(),
                source: image::ImageError::Limits(image::error::LimitError::from_kind(
                    image::error::LimitErrorKind::DimensionError,
                )),
            });
        }
    }
    if reader.format() == Some(ImageFormat::Jpeg) && !has_jpeg_end_marker(bytes) {
        return Err(CoreError::Image {
            path: path.to_path_buf(),
            source: image::ImageError::Decoding(image::error::DecodingError::new(
                ImageFormat::Jpeg.into(),
                "truncated JPEG: no end-of-image marker",
            )),
        });
    }
    let image_error = |source| CoreError::Image {
        path: path.to_path_buf(),
        source,
    };
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    // As ImageReader::decode does: the decoder's own buffer counts against
    // the allocation budget before it is made.
    let mut budget = limits_of_decode();
    budget.reserve(decoder.total_bytes()).map_err(image_error)?;
    // Phones store a portrait photo sideways with an EXIF note saying how
    // to turn it; viewers turn it, and so does this (MTCNN finds no face
    // lying on its side). A missing or unreadable note leaves it as stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

/// Encodes `image` as a baseline JPEG at `quality` (1..=100; full-
/// resolution colour, 4:4:4, from 90 up). `path` names the destination in
/// errors. This is the encoder of every JPEG maskface writes: about three
/// times as fast as `image`'s own, which is what a folder of photos costs
/// most after finding the faces.
///
/// ```
/// let image = image::RgbImage::from_pixel(32, 16, image::Rgb([200, 30, 60]));
/// let bytes = maskface_core::encode_jpeg(&image, 95, "red.jpg".as_ref()).unwrap();
/// let back = image::load_from_memory(&bytes).unwrap().to_rgb8();
/// assert_eq!(back.dimensions(), (32, 16));
/// assert!(back.pixels().all(|p| p.0.iter().zip([200, 30, 60]).all(|(a, b)| a.abs_diff(b) <= 2)));
/// ```
pub fn encode_jpeg(image: &RgbImage, quality: u8, path: &Path) -> Result<Vec<u8>, CoreError> {
    let error = |reason: String| CoreError::ImageWrite {
        path: path.to_path_buf(),
        source: image::ImageError::Encoding(image::error::EncodingError::new(
            ImageFormat::Jpeg.into(),
            reason,
        )),
    };
    if !(1..=100).contains(&quality) {
        return Err(error(format!("JPEG quality {quality} is outside 1..=100")));
    }
    let (Ok(w), Ok(h)) = (u16::try_from(image.width()), u16::try_from(image.height())) else {
        return Err(error(format!(
            "{}x{} is larger than JPEG's 65535 x 65535",
            image.width(),
            image.height()
        )));
    };
    let mut out = Vec::with_capacity(image.as_raw().len() / 4);
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(image.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| error(e.to_string()))?;
    Ok(out)
}

/// The limits [`decode_rgb`] decodes under.
fn limits_of_decode() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_IMAGE_PIXELS * 8);
    limits
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
    fn jpeg_encoding_refuses_what_jpeg_cannot_hold_naming_the_file() {
        let image = RgbImage::new(8, 8);
        let err = encode_jpeg(&image, 0, Path::new("out/a.jpg")).unwrap_err();
        assert!(err.to_string().contains("out/a.jpg") && err.to_string().contains("quality 0"));
        let wide = RgbImage::new(70_000, 1);
        let err = encode_jpeg(&wide, 90, Path::new("wide.jpg")).unwrap_err();
        assert!(err.to_string().contains("70000x1"), "{err}");
        // The smallest image and every quality encode and decode back.
        for q in [1, 50, 89, 90, 100] {
            let bytes = encode_jpeg(&RgbImage::new(1, 1), q, Path::new("x.jpg")).unwrap();
            assert_eq!(
                decode_rgb(&bytes, Path::new("x.jpg")).unwrap().dimensions(),
                (1, 1)
            );
        }
    }

    /// `jpeg` with an EXIF segment saying "rotate 90 degrees clockwise to
    /// view" (orientation 6), as a phone writes a portrait photo.
    fn with_exif_orientation_6(jpeg: &[u8]) -> Vec<u8> {
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend([1, 0]); // one entry
        tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation, SHORT, 6
        tiff.extend([0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
        out.extend(app1);
        out.extend(&jpeg[2..]);
        out
    }

    #[test]
    fn exif_orientation_is_applied() {
        // 16 wide, 8 high: left half black, right half white.
        let img = RgbImage::from_fn(16, 8, |x, _| image::Rgb([if x < 8 { 0 } else { 255 }; 3]));
        let mut jpeg = Cursor::new(Vec::new());
        img.write_to(&mut jpeg, ImageFormat::Jpeg).unwrap();
        let plain = decode_rgb(jpeg.get_ref(), Path::new("plain.jpg")).unwrap();
        assert_eq!(plain.dimensions(), (16, 8));
        let turned = decode_rgb(
            &with_exif_orientation_6(jpeg.get_ref()),
            Path::new("turned.jpg"),
        )
        .unwrap();
        // Turned a quarter clockwise: the black left half is now on top.
        assert_eq!(turned.dimensions(), (8, 16));
        assert!(
            turned.get_pixel(4, 2)[0] < 40,
            "{:?}",
            turned.get_pixel(4, 2)
        );
        assert!(
            turned.get_pixel(4, 13)[0] > 215,
            "{:?}",
            turned.get_pixel(4, 13)
        );
    }

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

    /// A BMP header: `width` x `height`, 24 bits, uncompressed; no pixels.
    fn bmp_header(width: i32, height: i32) -> Vec<u8> {
        let mut b = b"BM".to_vec();
        b.extend(54u32.to_le_bytes()); // file size (as written: headers only)
        b.extend(0u32.to_le_bytes());
        b.extend(54u32.to_le_bytes()); // pixels' offset
        b.extend(40u32.to_le_bytes());
        b.extend(width.to_le_bytes());
        b.extend(height.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(24u16.to_le_bytes());
        b.extend([0u8; 24]);
        b
    }

    #[test]
    fn an_image_over_the_pixel_budget_is_refused_before_decoding() {
        // 54 bytes claiming 10000 x 10000 (100 megapixels): refused from
        // the header, with an error naming the file.
        let err = decode_rgb(&bmp_header(10_000, 10_000), Path::new("huge.bmp")).unwrap_err();
        assert!(
            matches!(
                &err,
                CoreError::Image {
                    source: image::ImageError::Limits(_),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("huge.bmp"), "{err}");
        // Within the budget, the same header is only truncated.
        let err = decode_rgb(&bmp_header(8, 8), Path::new("small.bmp")).unwrap_err();
        assert!(
            !matches!(
                &err,
                CoreError::Image {
                    source: image::ImageError::Limits(_),
                    ..
                }
            ),
            "{err:?}"
        );
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
