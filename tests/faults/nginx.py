"""nginx in front of several server processes, as the production topology runs it: a child
process of the test (not a daemon), with a generated configuration and every file it writes
under a temporary prefix. Each response names the server that answered (X-Upstream)."""

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.servers import LOCALHOST, free_port, stop, wait_for_port

CANDIDATES = ("nginx", "/usr/sbin/nginx")

# The shipped proxy's choices (docker/nginx/default.conf): least connections, WebSocket
# upgrades on /ws/, the Host passed through.
CONFIG = """\
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream relay {{
        least_conn;
{servers}
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ""      "";
    }}
    server {{
        listen {host}:{port};
        proxy_http_version 1.1;
        add_header X-Upstream $upstream_addr always;
        location /ws/ {{
            proxy_pass http://relay;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
            proxy_buffering off;
        }}
        location / {{
            proxy_pass http://relay;
            proxy_set_header Host $http_host;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return next(filter(None, (shutil.which(name) for name in CANDIDATES)), None)


@contextmanager
def nginx_in_front(binary: str, *, ports: Sequence[int], prefix: Path) -> Iterator[int]:
    """nginx on a free port, balancing over the servers on `ports`; yields its port."""
    port = free_port()
    servers = "\n".join(f"        server {LOCALHOST}:{p};" for p in ports)
    # Run as root (CI), nginx would hand its workers to "nobody", who cannot enter the
    # test's private temporary directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = prefix / "nginx.conf"
    config.write_text(
        CONFIG.format(user=user, prefix=prefix, servers=servers, host=LOCALHOST, port=port)
    )
    command = [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(config)]
    process = subprocess.Popen(
        [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, process=process)
        yield port
    finally:
        stop(process)
