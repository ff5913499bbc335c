import pytest

from chat.attachments.logic import image_refusal, thumbnail_size, upload_size_refusal


@pytest.mark.parametrize(
    ("image_format", "width", "height", "refused"),
    [
        ("PNG", 100, 100, None),
        ("WEBP", 4000, 3000, None),
        ("BMP", 10, 10, "JPEG, PNG, GIF or WebP"),
        (None, 10, 10, "JPEG, PNG, GIF or WebP"),
        ("PNG", 10_000, 10_000, "million pixels"),
        ("GIF", 0, 10, "no pixels"),
    ],
)
def test_image_refusal(image_format, width, height, refused):
    reason = image_refusal(
        image_format=image_format, width=width, height=height, max_pixels=30_000_000
    )
    assert (reason is None) if refused is None else (refused in (reason or ""))


@pytest.mark.parametrize(
    ("size", "refused"),
    [(1, None), (10_000_000, None), (0, "empty"), (10_000_001, "limit is 10 MB")],
)
def test_upload_size_refusal(size, refused):
    reason = upload_size_refusal(size, max_bytes=10_000_000)
    assert (reason is None) if refused is None else (refused in (reason or ""))


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [((1000, 500), 480, (480, 240)), ((500, 1000), 480, (240, 480)), ((100, 50), 480, (100, 50))],
)
def test_thumbnail_size(size, box, expected):
    assert thumbnail_size(*size, box=box) == expected
