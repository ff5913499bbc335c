"""Container health check: exit 0 when Daphne answers HTTP on port 8000 without a server error.

Redirects are not followed (SECURE_SSL_REDIRECT answers plain HTTP with one) and any answer
below 500 counts as alive. The request names the first ALLOWED_HOSTS entry as its Host so it
isn't refused, and logged, as a disallowed host.
"""

import os
import sys
import urllib.error
import urllib.request

URL = "http://127.0.0.1:8000/accounts/login/"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def host_header() -> str:
    first = os.environ.get("ALLOWED_HOSTS", "").split(",")[0].strip().lstrip(".")
    return "localhost" if first in ("", "*") else first


def main() -> int:
    request = urllib.request.Request(URL, headers={"Host": host_header()})
    opener = urllib.request.build_opener(NoRedirects)
    try:
        with opener.open(request, timeout=4) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"unhealthy: {error}")
        return 1
    if status >= 500:
        print(f"unhealthy: HTTP {status}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
