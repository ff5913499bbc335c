"""Image attachment rules as pure functions."""

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


def image_refusal(
    *, image_format: str | None, width: int, height: int, max_pixels: int
) -> str | None:
    """Why a decoded image is refused, or None."""
    if image_format not in IMAGE_TYPES:
        return "Attach a JPEG, PNG, GIF or WebP image."
    if width < 1 or height < 1:
        return "That image has no pixels."
    if width * height > max_pixels:
        return (
            f"That image is {width:,} by {height:,} pixels; the limit is "
            f"{max_pixels / 1_000_000:g} million pixels."
        )
    return None


def upload_size_refusal(size: int, *, max_bytes: int) -> str | None:
    if size <= 0:
        return "That file is empty."
    if size > max_bytes:
        return f"That file is {size / 1_000_000:.1f} MB; the limit is {max_bytes / 1_000_000:g} MB."
    return None


def thumbnail_size(width: int, height: int, *, box: int) -> tuple[int, int]:
    """The size that fits in a square of side `box` keeping the aspect ratio, never larger."""
    scale = min(1.0, box / width, box / height)
    return max(1, round(width * scale)), max(1, round(height * scale))
