"""Decoding uploaded images and making thumbnails with Pillow.

An upload is accepted only if Pillow decodes all of it as one of the allowed formats, within a
pixel budget checked from the header before any pixel is decoded (a small file can claim a
huge image: a decompression bomb)."""

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from chat.attachments.logic import IMAGE_TYPES, image_refusal, thumbnail_size
from realtime.validation import Invalid

THUMBNAIL_FORMAT = "WEBP"
THUMBNAIL_TYPE = "image/webp"
THUMBNAIL_EXTENSION = "webp"


@dataclass(frozen=True)
class DecodedImage:
    format: str
    content_type: str
    width: int
    height: int


@contextmanager
def opened_within_budget(source: IO[bytes], *, max_pixels: int) -> Iterator[Image.Image]:
    """The image, opened (header only) and refused with Invalid unless its format and size are
    acceptable: nothing is decoded before the pixel budget is checked."""
    with warnings.catch_warnings():
        # Pillow warns above its own limit (ours, lower, follows) and raises above twice it.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            opened = Image.open(source)
        except Image.DecompressionBombError:
            # Far beyond any budget (Pillow's own limit, twice its warning): the same refusal.
            raise Invalid("That image has far too many pixels.") from None
        with opened as image:
            refusal = image_refusal(
                image_format=image.format,
                width=image.width,
                height=image.height,
                max_pixels=max_pixels,
            )
            if refusal:
                raise Invalid(refusal)
            yield image


def decode_image(source: IO[bytes], *, max_pixels: int) -> DecodedImage:
    """What the bytes are, if they are an acceptable image; Invalid with the reason if not."""
    try:
        with opened_within_budget(source, max_pixels=max_pixels) as image:
            image_format = str(image.format)
            image.load()
            width, height = image.size
    except Image.DecompressionBombError:
        raise Invalid("That image has far too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, Invalid):
            raise
        raise Invalid("That file is not an image this chat can show.") from None
    return DecodedImage(
        format=image_format, content_type=IMAGE_TYPES[image_format], width=width, height=height
    )


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    width: int
    height: int


def make_thumbnail(source: IO[bytes], *, box: int, max_pixels: int) -> Thumbnail:
    """A re-encoded, upright, at most `box`-pixel-wide-and-high copy (the first frame of an
    animation). Re-encoding drops the original's metadata (such as GPS positions)."""
    with opened_within_budget(source, max_pixels=max_pixels) as image:
        upright = ImageOps.exif_transpose(image)
        mode = "RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") else "RGB"
        converted = upright.convert(mode)
        converted.thumbnail(thumbnail_size(*converted.size, box=box), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        converted.save(out, THUMBNAIL_FORMAT, quality=82)
        return Thumbnail(data=out.getvalue(), width=converted.width, height=converted.height)
