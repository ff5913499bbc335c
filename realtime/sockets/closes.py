"""How a page socket says no: the close codes it uses, and the messages a page shows.

Codes 4000-4999 are for applications. htmx's ws extension reconnects only after
1006/1011/1012/1013, so a refusal is final for that page and does not loop.
"""

import functools

from django.db import InterfaceError, OperationalError
from django.template.loader import render_to_string

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401  # also: the session ended (signed out, password changed, expired)
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY_SOCKETS = 4409  # SOCKETS_PER_USER already open in this process
CLOSE_TOO_MANY_FRAMES = 4413  # frames arrived faster than handled, past SOCKET_INBOX_*
CLOSE_TOO_MANY_ATTEMPTS = 4429  # connection attempts beyond SOCKET_CONNECT_BURST/_RATE
CLOSE_UNAVAILABLE = 1011  # the database or the channel layer failed; the page retries later
CLOSE_SERVICE_RESTART = 1012  # the page reconnects and resumes
CLOSE_TRY_AGAIN_LATER = 1013  # likewise: fell too far behind, or waited too long to open

TOO_MANY_SOCKETS = "Relay is open in too many tabs. Close one, then reload this page."
TOO_MANY_ATTEMPTS = "Too many connection attempts. Wait a minute, then reload this page."
UNAVAILABLE = "Live updates are unavailable at the moment. Retrying…"
BUSY = "Relay is busy at the moment. Retrying…"
DATABASE_UNAVAILABLE = "That was not done: the database is unavailable. Try again in a moment."
FAILED = "Something went wrong on our side; that was not done. Try again."
BAD_REQUEST = "This page's address is not valid."
TOO_FAST = "That was not done: too many requests. Wait a moment, then try again."

# What an unreachable database raises (other database errors are bugs, not outages).
DATABASE_DOWN = (OperationalError, InterfaceError)


@functools.lru_cache(maxsize=64)
def socket_error_html(message: str) -> str:
    return render_to_string("frontend/base.html#socket-error", {"socket_error": message})
