"""Real image files for upload tests, made with Pillow (and one hand-made bomb header)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

RED, BLUE = (220, 20, 20), (20, 20, 220)


def jpeg_rotated(width: int = 800, height: int = 600, orientation: int = 6) -> bytes:
    """A JPEG stored `width` x `height`, left half red and right half blue, whose EXIF says
    `orientation` (6: show it turned 90° clockwise, so red ends up on top), with a camera
    maker and a GPS block that must not reach the thumbnail."""
    im = Image.new("RGB", (width, height), BLUE)
    im.paste(RED, (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def png(width: int = 640, height: int = 480, *, alpha: bool = False) -> bytes:
    """A PNG with a tEXt chunk (which the thumbnail must not keep)."""
    from PIL.PngImagePlugin import PngInfo

    colour = (30, 160, 60, 128 if alpha else 255)
    im = Image.new("RGBA" if alpha else "RGB", (width, height), colour)
    info = PngInfo()
    info.add_text("Comment", "secret-png-comment")
    out = io.BytesIO()
    im.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims `width` x `height` pixels (a decompression bomb:
    a few hundred bytes that would decode to gigabytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def open_image(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im
