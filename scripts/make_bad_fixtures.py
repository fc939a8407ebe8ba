#!/usr/bin/env python3
"""Writes fixtures/bad/: files every command that takes images must survive.

Each file is either refused with a clear error or recorded as a skip, or
(where a viewer would open it) loads. `crates/maskface-cli/tests/bad_inputs.rs`
runs them through the commands; the cases a repository cannot hold (a
non-UTF-8 name, a folder named x.jpg, a symbolic-link loop, an unreadable
file) are made there at run time. Deterministic: run it again and the files
are the same bytes.

    python3 scripts/make_bad_fixtures.py [--out fixtures/bad]
"""
import argparse
import io
import struct
import zlib
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FACE = ROOT / "fixtures/lfw-mini/Aaron_Peirsol/Aaron_Peirsol_0001.jpg"
OTHER = [
    ROOT / "fixtures/lfw-mini/Abel_Pacheco/Abel_Pacheco_0001.jpg",
    ROOT / "fixtures/lfw-mini/Clare_Short/Clare_Short_0001.jpg",
    ROOT / "fixtures/lfw-mini/Barbra_Streisand/Barbra_Streisand_0001.jpg",
]


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(w, h):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)


def png_rgb16(img):
    """16 bits per channel, RGB: Pillow writes 16-bit grey only."""
    w, h = img.size
    px = img.tobytes()
    rows = b"".join(
        b"\x00" + b"".join(bytes([v, v]) for v in px[y * w * 3 : (y + 1) * w * 3]) for y in range(h)
    )
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(rows, 9))
        + png_chunk(b"IEND", b"")
    )


def jpeg_with_exif_orientation(img, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(img, "JPEG", quality=90, exif=exif.tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "fixtures/bad"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    face = Image.open(FACE).convert("RGB")
    jpeg = FACE.read_bytes()
    files = {}
    # Not images, or not whole.
    files["zero_byte.jpg"] = b""
    files["text_named.jpg"] = b"this is not a picture\n"
    files["html_named.png"] = b"<!doctype html><title>nope</title>\n"
    files["truncated_mid_scan.jpg"] = jpeg[: len(jpeg) // 2]
    files["truncated_header.jpg"] = jpeg[:40]
    files["jpeg_markers_only.jpg"] = b"\xff\xd8\xff\xd9"
    png = encode(face, "PNG")
    files["truncated.png"] = png[: len(png) // 3]
    bad_crc = bytearray(png)
    bad_crc[29] ^= 0xFF  # inside IHDR's CRC
    files["bad_crc.png"] = bytes(bad_crc)
    files["png_no_idat.png"] = png_header_only(250, 250) + png_chunk(b"IEND", b"")
    files["truncated.bmp"] = encode(face, "BMP")[:500]
    files["truncated.gif"] = encode(face, "GIF")[:300]
    files["truncated.tif"] = encode(face, "TIFF")[:200]
    files["truncated.webp"] = encode(face, "WEBP", quality=80)[:200]
    files["unsupported.heic"] = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    files["notes.txt"] = b"a text file among the photos\n"
    # Headers that claim more than anyone should allocate.
    files["huge_header.png"] = png_header_only(60000, 60000) + png_chunk(b"IEND", b"")
    sof = bytearray(encode(Image.new("RGB", (8, 8)), "JPEG"))
    i = sof.index(b"\xff\xc0")
    sof[i + 5 : i + 9] = struct.pack(">HH", 65500, 65500)
    files["huge_header.jpg"] = bytes(sof)
    files["huge_header.gif"] = b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00;"
    # Whole images in forms a camera, a phone or an editor writes: they load.
    files["trailing_bytes.jpg"] = jpeg + bytes(range(256)) * 16
    files["png_named.jpg"] = png
    files["progressive.jpg"] = encode(face, "JPEG", quality=90, progressive=True)
    files["grayscale.jpg"] = encode(face.convert("L"), "JPEG", quality=90)
    files["gray_alpha.png"] = encode(face.convert("LA"), "PNG")
    files["rgba.png"] = encode(face.convert("RGBA"), "PNG")
    files["sixteen_bit.png"] = png_rgb16(face)
    files["cmyk.jpg"] = encode(face.convert("CMYK"), "JPEG", quality=90)
    files["palette.gif"] = encode(face, "GIF")
    frames = [face, face.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    files["animated.gif"] = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    files["lossless.webp"] = encode(face, "WEBP", lossless=True)
    files["face.bmp"] = encode(face, "BMP")
    files["face.tif"] = encode(face, "TIFF", compression="tiff_lzw")
    # Upright only once the EXIF orientation (6: rotate 90 clockwise to view)
    # is applied, as viewers do.
    files["exif_rotated.jpg"] = jpeg_with_exif_orientation(face.transpose(Image.Transpose.ROTATE_90), 6)
    # Sizes and contents with no face to find.
    files["tiny_1x1.png"] = encode(Image.new("RGB", (1, 1), (200, 150, 120)), "PNG")
    files["tiny_8x8.jpg"] = encode(face.resize((8, 8)), "JPEG")
    files["one_row.png"] = encode(face.resize((250, 1)), "PNG")
    files["no_face.png"] = encode(Image.linear_gradient("L").convert("RGB").resize((250, 250)), "PNG")
    files["all_black.jpg"] = encode(Image.new("RGB", (250, 250)), "JPEG")
    # Several faces in one photo.
    many = Image.new("RGB", (500, 500))
    for k, p in enumerate([FACE] + OTHER):
        many.paste(Image.open(p).convert("RGB"), ((k % 2) * 250, (k // 2) * 250))
    files["many_faces.jpg"] = encode(many, "JPEG", quality=90)
    # Names: spaces, and letters outside ASCII.
    files["a face with spaces.jpg"] = jpeg
    files["Zoë Ñúñez.jpg"] = jpeg
    for name, data in sorted(files.items()):
        (out / name).write_bytes(data)
    print(f"{len(files)} files in {out}")


if __name__ == "__main__":
    main()
