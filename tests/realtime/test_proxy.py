"""The shipped nginx configuration (docker/nginx/default.conf), run by a real nginx in front
of a stand-in upstream: Daphne reads a whole request body before the application sees it, so
the body size limit has to be the proxy's. Skipped where nginx is not installed."""

import getpass
import http.client
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from tests.servers import LOCALHOST, ROOT, free_port, stop, wait_for_port

CONFIG = ROOT / "docker" / "nginx" / "default.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed")


def body_limit_bytes() -> int:
    match = re.search(r"^\s*client_max_body_size\s+(\d+)([km]?);", CONFIG.read_text(), re.M)
    assert match, "the shipped nginx config sets no client_max_body_size"
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2)]


class Upstream:
    """Stands in for Daphne: records the size of each body it received."""

    def __init__(self) -> None:
        self.received: list[int] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                upstream.received.append(len(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((LOCALHOST, 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[tuple[int, Upstream]]:
    upstream = Upstream()
    port = free_port()
    site = CONFIG.read_text()
    site = re.sub(r"server web\d:8000[^;]*;", f"server {LOCALHOST}:{upstream.port};", site)
    site = site.replace("listen 80;", f"listen {LOCALHOST}:{port};")
    (tmp_path / "site.conf").write_text(site)
    # Workers run as the user running the test, so they can write their temporary files here.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    (tmp_path / "nginx.conf").write_text(
        f"{user} daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}/body;"
        f" proxy_temp_path {tmp_path}/proxy; include {tmp_path}/site.conf; }}\n"
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=process)
        yield port, upstream
    finally:
        stop(process)
        upstream.close()


def post(port: int, size: int) -> int:
    connection = http.client.HTTPConnection(LOCALHOST, port, timeout=30)
    try:
        connection.request(
            "POST",
            "/rooms/general/attachments/",
            body=b"x" * size,
            headers={"Content-Type": "application/octet-stream"},
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_body_limit_is_above_the_attachment_limit_with_margin():
    limit = body_limit_bytes()
    assert settings.ATTACHMENT_MAX_BYTES + 64 * 1024 < limit <= 2 * settings.ATTACHMENT_MAX_BYTES


def test_nginx_refuses_a_body_over_its_limit_before_daphne_reads_any(proxy):
    port, upstream = proxy
    limit = body_limit_bytes()

    assert post(port, limit + 1) == 413
    assert upstream.received == []

    # An image at the attachment limit, with its form around it, goes through.
    assert post(port, settings.ATTACHMENT_MAX_BYTES + 64 * 1024) == 200
    assert upstream.received == [settings.ATTACHMENT_MAX_BYTES + 64 * 1024]
