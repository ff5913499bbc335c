# The production image: Daphne serving realtime.asgi:application on port 8000.
# Static files are collected at build time and served by WhiteNoise from the image.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH="/opt/venv/bin:$PATH"

# Dependencies first, so code changes don't reinstall them.
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

WORKDIR /app
COPY . .

# collectstatic imports the settings, which refuse to load without a SECRET_KEY when DEBUG is
# off. This key exists for this one command only: it is not stored in the image.
RUN DEBUG=0 SECRET_KEY=build-time-only-key-never-used-at-run-time-0123456789 \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent app \
    && mkdir -p /data/media && chown 10001:10001 /data/media

# The code stays owned by root: the app user (10001) can read it but not change it.
USER 10001:10001

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
# A listen backlog of 2048 instead of Daphne's 50: bursts of reconnecting sockets then wait in
# the kernel's queue instead of being refused and retried. A handshake not answered within 5 s
# is dropped by Daphne; the app refuses sockets that waited SOCKET_CONNECT_WAIT (2.5 s) for their
# turn with 1013 before that. Idle sockets are pinged every 60 s instead of 20: at 10,000
# sockets Daphne's default costs several percent of a core (docs/benchmarks.md); nginx keeps
# idle sockets for an hour. WebSocket messages over 64 KiB are refused with 1009 (Daphne's
# default is 1 MiB; a chat message is a few KiB at most).
CMD ["daphne", "-e", "tcp:port=8000:interface=0.0.0.0:backlog=2048", "--proxy-headers", \
     "--websocket_connect_timeout", "5", "--ping-interval", "60", \
     "--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536", \
     "realtime.asgi:application"]
