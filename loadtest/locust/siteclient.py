"""A small HTTP client for the few page requests the kit makes besides sockets: creating the
chatty scenario's rooms, and signing in as staff to post announcements.

Standard library only (under Locust it runs on gevent's patched sockets). It keeps cookies
by name, sends the site's Origin like a browser (Django's CSRF check wants it) and does not
follow redirects: a redirect after a POST is the success answer.
"""

import re
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie

from loadtest.locust.safety import http_origin

TIMEOUT = 30.0  # seconds
_CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


class SiteError(RuntimeError):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def csrf_token(html: str) -> str:
    match = _CSRF_RE.search(html)
    if not match:
        raise SiteError("The page has no CSRF token; is the path right and the session valid?")
    return match[1] or match[2]


class SiteClient:
    def __init__(self, base_url: str, *, session: str = "", timeout: float = TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = http_origin(self.base_url)
        self.timeout = timeout
        self.cookies: dict[str, str] = {"sessionid": session} if session else {}
        self.opener = urllib.request.build_opener(_NoRedirects)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, float]:
        """(status, body, elapsed ms). Redirects and error statuses are answers, not errors."""
        url = self.base_url + path
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Origin": self.origin, "Referer": url}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - the target passed safety.check_target
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                status, body, headers_in = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, body, headers_in = error.code, error.read(), error.headers
        elapsed = (time.perf_counter() - started) * 1000
        for header in headers_in.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        return status, body.decode("utf-8", "replace"), elapsed

    def token(self, path: str) -> str:
        status, body, _ = self.request("GET", path)
        if status != 200:
            raise SiteError(f"GET {path} answered {status}")
        return csrf_token(body)

    def sign_in(self, username: str, password: str) -> None:
        token = self.token("/accounts/login/")
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        status, _, _ = self.request("POST", "/accounts/login/", form)
        if status != 302 or not self.cookies.get("sessionid"):
            raise SiteError(f"Signing in as {username} failed (HTTP {status})")

    def create_room(self, name: str) -> int:
        """The status: 302 when created, 422 when it exists already (or the name is refused)."""
        token = self.token("/")
        status, _, _ = self.request(
            "POST", "/rooms/new/", {"name": name, "csrfmiddlewaretoken": token}
        )
        return status

    def room_exists(self, slug: str) -> bool:
        status, _, _ = self.request("GET", f"/rooms/{urllib.parse.quote(slug)}/")
        return status == 200

    def announce(self, body: str, token: str) -> tuple[int, float]:
        """Publish an announcement as staff: (status, elapsed ms); 302 means published."""
        status, _, elapsed = self.request(
            "POST", "/notifications/announce/", {"body": body, "csrfmiddlewaretoken": token}
        )
        return status, elapsed
