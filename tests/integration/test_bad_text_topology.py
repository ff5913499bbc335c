"""Text PostgreSQL cannot store, sent in every kind of request a person can make, to real
Daphne processes on PostgreSQL: each is a 400 that says which field was wrong, never a 500
(psycopg's DataError). A session cookie holding a NUL is no session: the sign-in page works."""

import html
import http.client
import re
from http.cookies import SimpleCookie

import pytest

from tests.integration.conftest import Server, Topology
from tests.servers import DEMO_PASSWORD, LOCALHOST

pytestmark = [pytest.mark.integration]

TIMEOUT = 10.0
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
REASON = re.compile(r'<p class="bad-request-reason">(.*?)</p>', re.DOTALL)
NUL = "%00"
SURROGATE = "%ED%A0%80"  # U+D800, a lone surrogate, as a browser or script would encode it
NUL_REASON = "contains a NUL character (\\0), which text here cannot hold."
SURROGATE_REASON = "is not valid UTF-8 text (an encoded unpaired surrogate is not)."

# (method, path and query, url-encoded body): `{bad}` is replaced by the encoded bad text.
KINDS = {
    "search": ("GET", "/search/?q=tea{bad}", None),
    "room around": ("GET", "/rooms/general/?around={bad}", None),
    "room older": ("GET", "/rooms/general/older/?before={bad}", None),
    "room newer": ("GET", "/rooms/general/newer/?after=1&until={bad}", None),
    "notifications older": ("GET", "/notifications/older/?before={bad}", None),
    "people": ("GET", "/people/ada{bad}/", None),
    "direct": ("POST", "/direct/grace{bad}/", ""),
    "block": ("POST", "/people/grace{bad}/block/", ""),
    "unblock": ("POST", "/people/grace{bad}/unblock/", ""),
    "member remove": ("POST", "/rooms/general/members/grace{bad}/remove/", ""),
    "room create": ("POST", "/rooms/new/", "name=Tea{bad}&private=1"),
    "invite": ("POST", "/rooms/general/invite/", "username=grace{bad}"),
    "announce": ("POST", "/notifications/announce/", "body=Hello{bad}"),
    "message edit": ("POST", "/messages/1/edit/", "body=Edited{bad}"),
    "export": ("POST", "/rooms/general/exports/", "format=csv{bad}"),
    "field name": ("POST", "/rooms/new/", "name=Tea&x{bad}=1"),
    "sign in": ("POST", "/accounts/login/", "username=ada{bad}&password=x"),
    "sign up": ("POST", "/accounts/signup/", "username=n{bad}&password1=x&password2=x"),
    "password reset": ("POST", "/accounts/password_reset/", "email=a{bad}@example.com"),
    "password change": (
        "POST",
        "/accounts/password_change/",
        "old_password=x{bad}&new_password1=y&new_password2=y",
    ),
}
WHERE = {
    "search": "The query string field “q”",
    "room around": "The query string field “around”",
    "room older": "The query string field “before”",
    "room newer": "The query string field “until”",
    "notifications older": "The query string field “before”",
    "people": "The address",
    "direct": "The address",
    "block": "The address",
    "unblock": "The address",
    "member remove": "The address",
    "room create": "The form field “name”",
    "invite": "The form field “username”",
    "announce": "The form field “body”",
    "message edit": "The form field “body”",
    "export": "The form field “format”",
    "field name": "A form field name",
    "sign in": "The form field “username”",
    "sign up": "The form field “username”",
    "password reset": "The form field “email”",
    "password change": "The form field “old_password”",
}


def send(
    server: Server,
    method: str,
    path: str,
    *,
    cookies: dict[str, str],
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, str]:
    connection = http.client.HTTPConnection(LOCALHOST, server.port, timeout=TIMEOUT)
    sent = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
    if body is not None:
        sent |= {"Content-Type": "application/x-www-form-urlencoded", "Referer": server.origin}
    try:
        connection.request(method, path, body=body, headers=sent | (headers or {}))
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


def signed_in_cookies(server: Server, session: str) -> tuple[dict[str, str], str]:
    """The cookies and CSRF token of a signed-in page, so each request is otherwise valid."""
    status, headers, page = send(server, "GET", "/", cookies={"sessionid": session})
    assert status == 200
    token = CSRF_HEADER.search(page)
    assert token
    jar = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        jar.load(header)
    cookies = {"sessionid": session} | {name: morsel.value for name, morsel in jar.items()}
    return cookies, token.group(1)


def reason(page: str) -> str:
    found = REASON.search(page)
    assert found, page[:500]
    return html.unescape(found.group(1))


@pytest.mark.parametrize(
    ("bad", "why"), [(NUL, NUL_REASON), (SURROGATE, SURROGATE_REASON)], ids=["nul", "surrogate"]
)
@pytest.mark.parametrize("kind", list(KINDS))
def test_bad_text_in_any_request_is_a_400_that_says_where(
    topology: Topology, kind: str, bad: str, why: str
) -> None:
    method, path, form = KINDS[kind]
    cookies, token = signed_in_cookies(topology.a, topology.sessions["ada"])
    body = None
    if form is not None:
        body = f"{form}&csrfmiddlewaretoken={token}".lstrip("&").format(bad=bad).encode()

    status, _, page = send(topology.a, method, path.format(bad=bad), cookies=cookies, body=body)

    assert (status, reason(page)) == (400, f"{WHERE[kind]} {why}")


def test_a_multipart_field_holding_a_nul_is_a_400(topology: Topology) -> None:
    cookies, token = signed_in_cookies(topology.b, topology.sessions["grace"])
    boundary = "relayboundary"
    parts = [
        ("csrfmiddlewaretoken", token),
        ("caption", "look\x00"),
    ]
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
            for name, value in parts
        )
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\x89PNG not really\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Referer": topology.b.origin,
    }

    status, _, page = send(
        topology.b, "POST", "/rooms/general/attachments/", cookies=cookies, body=body,
        headers=headers,
    )  # fmt: skip

    assert (status, reason(page)) == (400, f"The form field “caption” {NUL_REASON}")


@pytest.mark.parametrize(
    ("escaped", "why"),
    [
        ("\\u0000", "contains a NUL character (\\0), which text here cannot hold."),
        ("\\ud800", "contains an unpaired surrogate, which is not valid Unicode text."),
    ],
    ids=["nul", "surrogate"],
)
def test_a_json_body_holding_bad_text_is_a_400(topology: Topology, escaped: str, why: str) -> None:
    cookies, token = signed_in_cookies(topology.a, topology.sessions["ada"])
    body = ('{"name": "Tea' + escaped + '"}').encode()
    headers = {
        "Content-Type": "application/json",
        "X-CSRFToken": token,
        "Referer": topology.a.origin,
    }

    status, _, page = send(
        topology.a, "POST", "/rooms/new/", cookies=cookies, body=body, headers=headers
    )

    assert (status, reason(page)) == (400, f"A string in the JSON body {why}")


def test_a_session_cookie_holding_a_nul_is_no_session(topology: Topology) -> None:
    # Quoted, with the NUL as an octal escape, as Django's cookie parser reads it. (A raw NUL
    # byte in the header is refused by Daphne itself, and browsers do not store such cookies.)
    cookie = '"abcdefgh\\000ijklmnop"'  # a session key is 8 characters or more
    planted = {"sessionid": cookie}

    status, headers, page = send(topology.a, "GET", "/accounts/login/", cookies=planted)
    assert status == 200
    assert 'action="/accounts/login/"' in page
    assert any(
        header.startswith('sessionid=""') and "Max-Age=0" in header
        for header in headers.get_all("Set-Cookie") or []
    )

    status, headers, _ = send(topology.a, "GET", "/", cookies=planted)
    assert (status, headers["Location"]) == (302, "/accounts/login/?next=/")

    # And the person signs in with the planted cookie still in their browser.
    status, headers, login = send(topology.a, "GET", "/accounts/login/", cookies=planted)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login)
    assert token
    jar = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        jar.load(header)
    cookies = planted | {"csrftoken": jar["csrftoken"].value}
    form = f"username=linus&password={DEMO_PASSWORD}&csrfmiddlewaretoken={token.group(1)}"
    status, headers, _ = send(
        topology.a, "POST", "/accounts/login/", cookies=cookies, body=form.encode()
    )
    assert status == 302
    session = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        session.load(header)
    assert session["sessionid"].value not in ("", cookie)
    status, _, _ = send(topology.a, "GET", "/", cookies={"sessionid": session["sessionid"].value})
    assert status == 200
