#!/usr/bin/env python3
"""Writes fixtures/photos/: a small photo folder for `maskface mask`'s tests.

A nested folder as users have them: photos with none, one and three faces,
a file that is not an image, a broken JPEG; and fixtures/textures/check.png,
a texture for --pattern. The faces are LFW fixture images
(fixtures/lfw-mini). Deterministic: run it again and the files are the
same bytes.

    python3 scripts/make_photo_fixtures.py
"""
import io
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "fixtures/lfw-mini"


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def face(name):
    return Image.open(MINI / name.rsplit("_", 1)[0] / f"{name}.jpg").convert("RGB")


def main():
    out = ROOT / "fixtures/photos"
    files = {}
    # One person (the LFW photo as it is).
    files["portraits/one_face.jpg"] = (MINI / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg").read_bytes()
    files["portraits/clare_short.png"] = encode(face("Clare_Short_0001").transpose(Image.Transpose.FLIP_LEFT_RIGHT), "PNG")
    # Three people side by side, each face about 100 px, as in a group photo.
    group = Image.new("RGB", (600, 220), (90, 110, 130))
    for k, name in enumerate(["Abel_Pacheco_0001", "Barbra_Streisand_0001", "Aaron_Peirsol_0002"]):
        group.paste(face(name).crop((45, 25, 205, 245)), (20 + k * 195, 0))
    files["group/three_people.jpg"] = encode(group, "JPEG", quality=92)
    # No face: a wall.
    files["no_face.png"] = encode(Image.linear_gradient("L").convert("RGB").resize((200, 160)), "PNG")
    # Not an image, and an image cut short.
    files["notes.txt"] = b"holiday photos, 2024\n"
    whole = encode(face("Abel_Pacheco_0002"), "JPEG", quality=90)
    files["group/broken.jpg"] = whole[: len(whole) // 3]
    for name, data in sorted(files.items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # A texture: blue and white checks.
    tex = Image.new("RGB", (64, 64), (245, 245, 245))
    for y in range(64):
        for x in range(64):
            if (x // 16 + y // 16) % 2:
                tex.putpixel((x, y), (40, 70, 170))
    (ROOT / "fixtures/textures").mkdir(parents=True, exist_ok=True)
    (ROOT / "fixtures/textures/check.png").write_bytes(encode(tex, "PNG"))
    print(f"{len(files)} files in {out}, and fixtures/textures/check.png")


if __name__ == "__main__":
    main()
