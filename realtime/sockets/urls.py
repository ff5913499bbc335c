"""The page socket's address, and the query string by which a page says what it shows."""

from urllib.parse import parse_qsl, urlencode

SOCKET_PATH = "/ws/"


def socket_url(**params: str) -> str:
    return f"{SOCKET_PATH}?{urlencode(params)}" if params else SOCKET_PATH


def on_page(url: str, path: str) -> str:
    """The socket URL with the page's own path added, for the parts that track pages."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'path': path})}"


def socket_params(query_string: bytes) -> dict[str, str]:
    return dict(parse_qsl(query_string.decode("latin-1")))
