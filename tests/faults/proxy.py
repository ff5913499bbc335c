"""A TCP proxy that a test can cut and restore: a network fault between a server and its
database, without touching the database itself."""

import contextlib
import socket
import threading

from tests.servers import LOCALHOST

CHUNK = 65536


class TcpProxy:
    """Forwards connections to 127.0.0.1:`port` on to 127.0.0.1:`target_port`.

    `cut()` breaks every open connection and, until `restore()`, closes new ones as soon as
    they arrive, as a network partition in front of the database would look to its clients.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server((LOCALHOST, 0))
        self.port: int = self.listener.getsockname()[1]
        self.forwarding = True
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.accepted = 0
        self.acceptor = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self.acceptor.start()

    def cut(self) -> None:
        with self.lock:
            self.forwarding = False
            broken, self.open = self.open, set()
        for sock in broken:
            _close(sock)

    def restore(self) -> None:
        with self.lock:
            self.forwarding = True

    def close(self) -> None:
        self.cut()
        _close(self.listener)
        self.acceptor.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # the listener was closed
            self.accepted += 1
            with self.lock:
                forwarding = self.forwarding
            if not forwarding:
                _close(client)
                continue
            try:
                upstream = socket.create_connection((LOCALHOST, self.target_port), timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self.lock:
                self.open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(CHUNK):
                sink.sendall(data)
        with self.lock:
            self.open.difference_update((source, sink))
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    # shutdown() first: it wakes a thread blocked in recv() on the same socket.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
