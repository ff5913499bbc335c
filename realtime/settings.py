"""Settings for both topologies, read from the environment.

Embedded default (no variables set besides DEBUG=1): SQLite and the in-memory channel layer,
everything in one process. Production: DATABASE_URL (PostgreSQL), REDIS_URL (one or several
Redis hosts), SECRET_KEY, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS.
"""

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.utils.csp import CSP

from realtime.config import (
    channel_layer,
    env_bool,
    env_int,
    env_list,
    env_seconds,
    first_redis_url,
    pageviews_layer,
    secret_key,
)

# Lets admin classes and querysets take type parameters at run time (ModelAdmin[Room]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
env = os.environ

DEBUG = env_bool(env, "DEBUG", default=False)
# With DEBUG: Django's technical 404 and 500 pages in the browser instead of the site's own.
DEBUG_ERROR_PAGES = env_bool(env, "DEBUG_ERROR_PAGES", default=False)
SECRET_KEY = secret_key(env, debug=DEBUG)
ALLOWED_HOSTS = env_list(
    env, "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list(env, "CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",  # before staticfiles, so runserver serves ASGI and WebSockets
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Before channels: its runworker command keeps running through Redis outages.
    "pageviews",
    "channels",
    "django_htmx",
    "realtime",
    "frontend",
    "accounts",
    "chat",
    "notifications",
    "demo",
    "loadtest",
    # Before django_tasks_db: its db_worker command adds heartbeats to the original.
    "taskworker",
    "django_tasks_db",
]

MIDDLEWARE = [
    # Outermost and async only, so it runs on the event loop whatever the middleware inside.
    "pageviews.middleware.CountPageviews",
    "django.middleware.security.SecurityMiddleware",
    "realtime.static.StaticFilesMiddleware",
    # With DEBUG, the site's 404 and 500 pages instead of Django's technical ones.
    "frontend.middleware.ProductErrorPagesMiddleware",
    # Before anything reads the request: NUL, unpaired surrogates and bad UTF-8 are a 400, a
    # cookie holding them is dropped (so a planted session cookie is no session, not a 500).
    "realtime.middleware.BadTextMiddleware",
    # Outside the sessions: sockets hear of a sign-out or a new password once it is saved.
    "realtime.revocation.tell_sockets_after_response",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "realtime.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "realtime.urls"
ASGI_APPLICATION = "realtime.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "notifications.context_processors.bell",
                "accounts.context_processors.blocked_authors",
                "pageviews.context_processors.counters",
                "demo.context_processors.demo",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Reuse database connections: sockets' writes run in one worker thread, and opening a
        # PostgreSQL connection for each message would cost more than the message.
        conn_max_age=env_int(env, "CONN_MAX_AGE", default=60),
        # Off by default: every call to the database thread counts as a request, so health
        # checks cost a SELECT 1 per socket action (17 % of that thread under a burst of
        # connections). Without them a connection that broke while idle fails the one action
        # that finds it broken, reported like any outage (503, the socket's error line, 1011),
        # and Django replaces it for the next.
        conn_health_checks=env_bool(env, "CONN_HEALTH_CHECKS", default=False),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default writes from several threads of one process (requests, socket
    # actions, the task and pageview workers). A transaction that reads and then writes fails
    # at once with "database is locked" if another wrote in between; taking the write lock at
    # BEGIN makes it wait its turn instead, up to `timeout` seconds. In WAL mode readers (the
    # sockets opening, the pages) neither wait for a writer nor hold one up; synchronous is
    # FULL (whatever SQLite was built with), so a committed message survives a power cut too.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CHANNEL_LAYERS = {"default": channel_layer(env)}
# Pageview hits: on the first Redis host when REDIS_URL shards the layer (see pageviews_layer).
if (hits_layer := pageviews_layer(env)) is not None:
    CHANNEL_LAYERS["pageviews"] = hits_layer
PAGEVIEWS_LAYER = "pageviews" if "pageviews" in CHANNEL_LAYERS else "default"

# Slow work (link previews, thumbnails, exports, digests) on durable database-backed tasks.
# A separate `manage.py db_worker` runs them in production; the embedded default (no
# REDIS_URL) runs a worker inside the server process instead.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TASK_WORKER_EMBEDDED = env_bool(
    env, "TASK_WORKER_EMBEDDED", default=not env.get("REDIS_URL", "").strip()
)
TASK_WORKER_INTERVAL = env_seconds(env, "TASK_WORKER_INTERVAL", default=0.5)
TASK_WORKER_HEARTBEAT = env_seconds(env, "TASK_WORKER_HEARTBEAT", default=5.0)
# A running task whose worker has not beaten for this long is run again by another worker.
TASK_WORKER_STALE_AFTER = env_seconds(env, "TASK_WORKER_STALE_AFTER", default=60.0)
# Failed attempts are retried after 5 s, 10 s, 20 s, ... (at most TASK_RETRY_MAX_DELAY).
TASK_RETRY_ATTEMPTS = env_int(env, "TASK_RETRY_ATTEMPTS", default=4)
TASK_RETRY_BASE_DELAY = env_seconds(env, "TASK_RETRY_BASE_DELAY", default=5.0)
TASK_RETRY_MAX_DELAY = env_seconds(env, "TASK_RETRY_MAX_DELAY", default=300.0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:index"

# The public demo (docs/demo.md): guest sign-in, hourly limits for strangers, demo_reset.
DEMO_MODE = env_bool(env, "DEMO_MODE", default=False)
DEMO_GUEST_HOURS = env_int(env, "DEMO_GUEST_HOURS", default=24)
# Per hour, (per account, per address): an address is shared by a household or an office.
_DEMO_ROOMS = env_int(env, "DEMO_ROOMS_PER_HOUR", default=5)
_DEMO_UPLOADS = env_int(env, "DEMO_UPLOADS_PER_HOUR", default=10)
DEMO_LIMITS: dict[str, tuple[int | None, int | None]] = {
    "signup": (None, env_int(env, "DEMO_SIGNUPS_PER_HOUR", default=5)),
    "room": (_DEMO_ROOMS, 3 * _DEMO_ROOMS),
    "upload": (_DEMO_UPLOADS, 3 * _DEMO_UPLOADS),
}
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# Templates write ids as plain numbers into HTML ids and htmx values ("message-1234",
# {"message": 1234}): a thousands separator would break every one of them.
USE_THOUSAND_SEPARATOR = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Uploaded images, thumbnails and exports. Never served as static files: views check who asks.
MEDIA_ROOT = Path(env.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "realtime.storage.StaticFilesStorage"
        )
    },
}

# Nothing but this origin; scripts and styles carry the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# The database backend, with its one read prepared (realtime/sessions.py).
SESSION_ENGINE = "realtime.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool(env, "SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env_bool(env, "SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = env_int(env, "SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Ask for the browsers' preload list only once you mean it: it is hard to leave.
    SECURE_HSTS_PRELOAD = env_bool(env, "SECURE_HSTS_PRELOAD", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # runserver's request log: once, not again through the root logger.
        "django.channels.server": {"handlers": ["console"], "propagate": False},
        # Each task's start and end: once, not again through Django's own DEBUG handler.
        "django.tasks": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# /metrics (Prometheus) outside DEBUG needs `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env.get("METRICS_TOKEN", "")

CHAT_MESSAGE_MAX_LENGTH = env_int(env, "CHAT_MESSAGE_MAX_LENGTH", default=4000)
CHAT_PAGE_SIZE = 50
# Flood control: each user may send CHAT_SEND_BURST messages at once, then CHAT_SEND_RATE per
# second (per server process). Beyond that the composer says "slow down" and keeps the text.
# Edits, deletes, new rooms and invitations spend from the same budget (chat.limits).
CHAT_SEND_RATE = float(env.get("CHAT_SEND_RATE", "3"))
CHAT_SEND_BURST = float(env.get("CHAT_SEND_BURST", "10"))
# A page that missed more messages than this reloads its conversation instead of replaying.
CHAT_RESUME_LIMIT = env_int(env, "CHAT_RESUME_LIMIT", default=200)
NOTIFICATIONS_PAGE_SIZE = 20
# A tab that reconnects shows at most this many toasts it missed (the badge and the inbox
# always show everything).
NOTIFICATIONS_RESUME_LIMIT = env_int(env, "NOTIFICATIONS_RESUME_LIMIT", default=5)
# Group subscription changes a process sends to the channel layer at once (keep it well under
# REDIS_MAX_CONNECTIONS).
HUB_LAYER_CONCURRENCY = env_int(env, "HUB_LAYER_CONCURRENCY", default=100)
# Channel-layer groups that carry people's personal groups (realtime.hub.messages.carrier).
# More means fewer messages for people a process does not hold, and more subscriptions per
# process.
HUB_PERSON_CARRIERS = env_int(env, "HUB_PERSON_CARRIERS", default=64)
# Every HUB_PROBE_SECONDS each process's hub sends itself a probe through the channel layer; if
# it is not back within HUB_PROBE_DEADLINE seconds (and the hub has nothing else to read), the
# layer has lost the process's subscriptions (Redis flushed, or failed over to an empty
# replica): the hub subscribes again and its sockets resume. 0 turns the probe off.
HUB_PROBE_SECONDS = float(env.get("HUB_PROBE_SECONDS", "5") or 0)
HUB_PROBE_DEADLINE = env_seconds(env, "HUB_PROBE_DEADLINE", default=3.0)
# Messages a socket may have waiting to be written before it is closed as too slow (1013).
SOCKET_BACKLOG_LIMIT = env_int(env, "SOCKET_BACKLOG_LIMIT", default=500)

# Link previews fetch pages people post. Only public addresses are fetched; networks listed
# here (CIDR, comma-separated) are allowed too, e.g. an intranet wiki.
LINK_PREVIEW_ALLOWED_NETWORKS = env_list(env, "LINK_PREVIEW_ALLOWED_NETWORKS", default=[])
# 0: fetch only links to addresses in the allowed networks, written as addresses (no name is
# looked up): for a site without internet access, and for tests.
LINK_PREVIEW_PUBLIC = env_bool(env, "LINK_PREVIEW_PUBLIC", default=True)
LINK_PREVIEW_TIMEOUT = env_seconds(env, "LINK_PREVIEW_TIMEOUT", default=5.0)
LINK_PREVIEW_MAX_BYTES = env_int(env, "LINK_PREVIEW_MAX_BYTES", default=1_000_000)
LINK_PREVIEW_MAX_REDIRECTS = 5
# Image attachments: the largest upload, and the most pixels a decoded image may have.
ATTACHMENT_MAX_BYTES = env_int(env, "ATTACHMENT_MAX_BYTES", default=10_000_000)
ATTACHMENT_MAX_PIXELS = env_int(env, "ATTACHMENT_MAX_PIXELS", default=40_000_000)
# Uploads per person and process: a burst, then per second (decoding an image is costly).
ATTACHMENT_UPLOAD_BURST = float(env.get("ATTACHMENT_UPLOAD_BURST", "5"))
ATTACHMENT_UPLOAD_RATE = float(env.get("ATTACHMENT_UPLOAD_RATE", "0.2"))
THUMBNAIL_SIZE = 480
# Unread notifications older than this many seconds are emailed once, as a digest.
NOTIFICATIONS_DIGEST_DELAY = env_int(env, "NOTIFICATIONS_DIGEST_DELAY", default=900)
# Email (the digests): SMTP to EMAIL_HOST; printed on the console instead in development
# (EMAIL_CONSOLE=1, the default with DEBUG).
EMAIL_CONSOLE = env_bool(env, "EMAIL_CONSOLE", default=DEBUG)
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env.get("EMAIL_HOST", "localhost"),
                "port": env_int(env, "EMAIL_PORT", default=25),
                "username": env.get("EMAIL_HOST_USER", ""),
                "password": env.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool(env, "EMAIL_USE_TLS", default=False),
                "timeout": 10,
            },
        }
        if not EMAIL_CONSOLE
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}
# Where people reach the site; links in emails start with it.
SITE_URL = env.get("SITE_URL", "http://localhost:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env.get("DEFAULT_FROM_EMAIL", "Relay <relay@localhost>")
# Presence ("here now", who is in a room): entries live PRESENCE_TTL_SECONDS unless the
# server holding the socket refreshes them every PRESENCE_HEARTBEAT_SECONDS; changes are
# announced at most every PRESENCE_ANNOUNCE_SECONDS per space and process, and a space of more
# than PRESENCE_ANNOUNCE_REACH people less often: each process tells at most that many people
# (all their tabs) per second (10,000 people in one room: every 5 s). Stored on the first
# REDIS_URL host, or in this process in the embedded default.
PRESENCE_REDIS_URL = first_redis_url(env)
PRESENCE_REDIS_MAX_CONNECTIONS = env_int(env, "PRESENCE_REDIS_MAX_CONNECTIONS", default=20)
PRESENCE_TTL_SECONDS = env_seconds(env, "PRESENCE_TTL_SECONDS", default=30.0)
PRESENCE_HEARTBEAT_SECONDS = env_seconds(env, "PRESENCE_HEARTBEAT_SECONDS", default=10.0)
PRESENCE_ANNOUNCE_SECONDS = env_seconds(env, "PRESENCE_ANNOUNCE_SECONDS", default=1.0)
PRESENCE_ANNOUNCE_REACH = env_int(env, "PRESENCE_ANNOUNCE_REACH", default=2000, minimum=1)
# Typing: each person's typing signal reaches the room at most every CHAT_TYPING_THROTTLE
# seconds; the page shows it for CHAT_TYPING_SHOW seconds unless it is renewed.
CHAT_TYPING_THROTTLE = env_seconds(env, "CHAT_TYPING_THROTTLE", default=2.0)
CHAT_TYPING_SHOW = env_seconds(env, "CHAT_TYPING_SHOW", default=6.0)
# Pageview counters: the request sends an increment to PAGEVIEWS_CHANNEL without waiting; the
# worker (`manage.py runworker pageviews`, or inside the server when PAGEVIEWS_EMBEDDED_WORKER
# is on, the default without REDIS_URL) saves and pushes every PAGEVIEWS_FLUSH_SECONDS.
PAGEVIEWS_COUNTING = env_bool(env, "PAGEVIEWS_COUNTING", default=True)
PAGEVIEWS_CHANNEL = "pageviews"
PAGEVIEWS_EMBEDDED_WORKER = env_bool(
    env, "PAGEVIEWS_EMBEDDED_WORKER", default=not PRESENCE_REDIS_URL
)
PAGEVIEWS_FLUSH_SECONDS = env_seconds(env, "PAGEVIEWS_FLUSH_SECONDS", default=1.0)
# The live stats page is pushed at most this often, while somebody has it open.
STATS_PUSH_SECONDS = env_seconds(env, "STATS_PUSH_SECONDS", default=2.0)
# A stopping server exits this long after SIGTERM at the latest, even with a thread stuck in
# a transaction (realtime.stopping): under the 10 s a service manager usually allows.
SERVER_STOP_GRACE_SECONDS = env_seconds(env, "SERVER_STOP_GRACE_SECONDS", default=9.0)
# Under Daphne: bytes a client may leave unread in the server's buffer before it is dropped.
SOCKET_SEND_BUFFER_BYTES = env_int(env, "SOCKET_SEND_BUFFER_BYTES", default=1_048_576)
# Sockets one user may have open in one server process; more are refused (4409).
SOCKETS_PER_USER = env_int(env, "SOCKETS_PER_USER", default=20)
# Connection attempts per account (or per address, without a session) and process: a burst,
# then so many per second; beyond that the socket is refused (4429).
SOCKET_CONNECT_BURST = float(env.get("SOCKET_CONNECT_BURST", "30"))
SOCKET_CONNECT_RATE = float(env.get("SOCKET_CONNECT_RATE", "2"))
# Accounts and addresses whose attempts are remembered at once (least recently seen go first).
SOCKET_LIMIT_KEYS = env_int(env, "SOCKET_LIMIT_KEYS", default=100_000)
# What one person's sockets may ask of one process (realtime.limits: rate per second, burst).
# Every frame spends from "frame", before it is even parsed; the actions that read the
# database spend from their own budget too (their cost is marked where they are defined).
# A page's own use stays far inside them: even twenty tabs reconnecting at once.
SOCKET_BUDGETS: dict[str, tuple[float, float]] = {
    "frame": (
        float(env.get("SOCKET_FRAME_RATE", "20")),
        float(env.get("SOCKET_FRAME_BURST", "200")),
    ),
    "resume": (1.0, 40.0),
    "read": (2.0, 20.0),
    "refresh": (2.0, 20.0),
}
# Frames of one socket waiting to be handled; past either bound the socket is closed (4413).
SOCKET_INBOX_FRAMES = env_int(env, "SOCKET_INBOX_FRAMES", default=1000)
SOCKET_INBOX_BYTES = env_int(env, "SOCKET_INBOX_BYTES", default=1_048_576)
# A frame longer (in characters) or nested deeper than this is refused before it is parsed.
SOCKET_FRAME_MAX_CHARS = env_int(env, "SOCKET_FRAME_MAX_CHARS", default=65_536)
SOCKET_FRAME_MAX_DEPTH = env_int(env, "SOCKET_FRAME_MAX_DEPTH", default=16)
# New sockets a process opens at once; others wait their turn in arrival order, at most
# SOCKET_CONNECT_WAIT seconds, then are refused with 1013 (the page retries). Keep the wait
# well under Daphne's --websocket_connect_timeout (5 s by default), which drops a handshake
# without an answer.
SOCKET_CONNECT_CONCURRENCY = env_int(env, "SOCKET_CONNECT_CONCURRENCY", default=16)
SOCKET_CONNECT_WAIT = env_seconds(env, "SOCKET_CONNECT_WAIT", default=2.5)
# Threads that run the reads of sockets opening (realtime.sockets.opening), each with its own
# database connection.
SOCKET_OPEN_THREADS = env_int(env, "SOCKET_OPEN_THREADS", default=4)
