"""What the chat task tests share: images, a page with hostile metadata, an upload."""

import io

from PIL import Image

from chat.attachments import actions as attachment_actions
from chat.attachments import images


def png(width=64, height=48, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


HOSTILE_PAGE = b"""<html><head>
<title>ignored</title>
<meta property="og:title" content="&lt;img src=x onerror=alert(1)&gt; Great post">
<meta property="og:description" content="<script>steal()</script> A description">
<meta property="og:site_name" content="Example &amp; Co">
<meta property="og:image" content="/card.png">
</head><body></body></html>"""


def upload(ada, room, data, caption="", capture=None):
    decoded = images.decode_image(io.BytesIO(data), max_pixels=30_000_000)
    return attachment_actions.message_post_with_image(
        room=room,
        author=ada,
        body=caption,
        upload=io.BytesIO(data),
        decoded=decoded,
        size=len(data),
        client_id=None,
    )
