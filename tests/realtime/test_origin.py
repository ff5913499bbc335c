import pytest

from realtime.origin import normalized_origin, origin_allowed, request_scheme

HOSTS = ["chat.example.com", "127.0.0.1", "localhost"]


@pytest.mark.parametrize(
    ("origin", "scheme", "host", "allowed"),
    [
        ("https://chat.example.com", "https", "chat.example.com", True),
        ("https://CHAT.example.com:443", "https", "chat.example.com", True),
        ("http://127.0.0.1:8000", "http", "127.0.0.1:8000", True),
        ("http://localhost", "http", "localhost:80", True),
        # The same host on another port or scheme is another origin.
        ("http://127.0.0.1:9999", "http", "127.0.0.1:8000", False),
        ("http://127.0.0.1", "http", "127.0.0.1:8000", False),
        ("http://chat.example.com", "https", "chat.example.com", False),
        ("https://chat.example.com:8443", "https", "chat.example.com", False),
        # Other hosts, and a Host header outside ALLOWED_HOSTS even if it matches the Origin.
        ("https://evil.example", "https", "chat.example.com", False),
        ("https://evil.example", "https", "evil.example", False),
        ("https://chat.example.com.evil.example", "https", "chat.example.com", False),
        # Missing, opaque or malformed origins.
        (None, "https", "chat.example.com", False),
        ("", "https", "chat.example.com", False),
        ("null", "https", "chat.example.com", False),
        ("https://chat.example.com:99999", "https", "chat.example.com", False),
        ("file://chat.example.com", "https", "chat.example.com", False),
    ],
)
def test_only_the_sites_own_origin_is_allowed(origin, scheme, host, allowed):
    assert (
        origin_allowed(origin=origin, scheme=scheme, host=host, allowed_hosts=HOSTS, trusted=[])
        is allowed
    )


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://app.example.org", True),
        ("https://app.example.org:443", True),
        ("http://app.example.org", False),
        ("https://eu.relay.example.net", True),
        ("https://relay.example.net", True),
        ("http://eu.relay.example.net", False),
        ("https://evil.example", False),
    ],
)
def test_csrf_trusted_origins_are_allowed_too(origin, allowed):
    trusted = ["https://app.example.org", "https://*.relay.example.net"]
    assert (
        origin_allowed(
            origin=origin,
            scheme="https",
            host="chat.example.com",
            allowed_hosts=HOSTS,
            trusted=trusted,
        )
        is allowed
    )


@pytest.mark.parametrize(
    ("origin", "normalized"),
    [
        ("HTTPS://Chat.Example.com:443/", "https://chat.example.com"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("http://a.example/path", None),
        ("ws://a.example", None),
    ],
)
def test_normalized_origin(origin, normalized):
    assert normalized_origin(origin) == normalized


@pytest.mark.parametrize(
    ("scope_scheme", "headers", "proxy_header", "scheme"),
    [
        (None, {}, None, "http"),
        ("ws", {}, None, "http"),
        ("wss", {}, None, "https"),
        (None, {"x-forwarded-proto": "https"}, None, "http"),  # not believed unless configured
        (None, {"x-forwarded-proto": "https"}, ("HTTP_X_FORWARDED_PROTO", "https"), "https"),
        ("wss", {"x-forwarded-proto": "http"}, ("HTTP_X_FORWARDED_PROTO", "https"), "http"),
        (None, {}, ("HTTP_X_FORWARDED_PROTO", "https"), "http"),
    ],
)
def test_request_scheme_follows_djangos_is_secure(
    settings, scope_scheme, headers, proxy_header, scheme
):
    settings.SECURE_PROXY_SSL_HEADER = proxy_header
    assert request_scheme(scope_scheme, headers) == scheme
