"""WebSocket frames made once and written to many sockets.

A group message reaches a process once (realtime.hub) and goes to every local member. Each
member's socket would frame the same text again; instead the frame is made once and the
server writes the same bytes to each socket (realtime.server does that on Daphne, and says so
through the ASGI scope extension named below).
"""

import struct

# scope["extensions"][EXTENSION] is a callable that writes a ready-made frame to the socket,
# returning False when it cannot (the socket is not open, or compresses its messages).
EXTENSION = "relay.frames"


def text_frame(text: str) -> bytes:
    """`text` as one unfragmented, unmasked text frame, as a server sends it (RFC 6455 5.2)."""
    payload = text.encode()
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload
