"""Settings for the test suite: the embedded topology with a fixed, test-only key."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-0123456789")

from realtime.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
SECURE_SSL_REDIRECT = False
# Serve static files from the apps, as in development; nothing is collected for tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
# Tests run queued tasks themselves (the run_tasks fixture), or start real db_worker processes.
TASK_WORKER_EMBEDDED = False
TASK_RETRY_BASE_DELAY = 1
LINK_PREVIEW_TIMEOUT = 2
# Tests never reach the internet: only allow-listed (local) sites are previewed.
LINK_PREVIEW_PUBLIC = False
# Tests drive the pageview worker themselves (tests/pageviews/test_worker.py); a worker left
# running on one test's event loop would hold the in-memory layer's queue for the next.
PAGEVIEWS_EMBEDDED_WORKER = False
