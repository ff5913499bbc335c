"""Avatars drawn from a person's name: initials on one of a few colours, no image service."""

import zlib

HUES = 12  # .avatar.hue-0 … .avatar.hue-11 in app.css


def initials(name: str) -> str:
    """Up to two letters: the first of each of the first two words, else the first two."""
    words = [word for word in name.replace("_", " ").replace(".", " ").replace("-", " ").split()]
    if len(words) >= 2:
        return (words[0][0] + words[1][0]).upper()
    return name[:2].upper() if name else "?"


def hue(name: str) -> int:
    """The same colour for a name on every page and every visit."""
    return zlib.crc32(name.encode()) % HUES
