"""A recording HTTP proxy on 127.0.0.1 in front of a real Pushgateway.

pusher-test hands the pusher the proxy's URL, so it sees what went over the wire: each
request's method, path and body and the gateway's status and answer. A pusher that hides a
400 (``curl -s`` without ``-f``) or sends POST instead of PUT is then named for what it did,
before anything is inferred from the gateway's state.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse
from dataclasses import dataclass

MAX_BODY = 16 * 1024 * 1024  # a request body larger than this is refused (413)


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    body: bytes
    status: int
    answer: bytes


class Proxy:
    """``with Proxy(upstream) as proxy:`` ... ``proxy.url`` ... ``proxy.take()``."""

    def __init__(self, upstream: str, timeout_s: float = 10.0):
        parts = urllib.parse.urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._seen: list[Exchange] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def take(self) -> list[Exchange]:
        """The exchanges since the last call, in order."""
        with self._lock:
            seen, self._seen = self._seen, []
        return seen

    def answer_instead(self, method: str, path: str) -> tuple[int, bytes] | None:
        """A (status, body) to answer with instead of forwarding; None forwards. The hook
        for a proxy that injects faults (tests); this one always forwards."""
        return None

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self._seen.append(exchange)

    def __enter__(self) -> Proxy:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self.send_error(413)
                    return
                body = self.rfile.read(length) if length else b""
                instead = proxy.answer_instead(self.command, self.path)
                if instead is not None:
                    self.send_response(instead[0])
                    self.send_header("Content-Length", str(len(instead[1])))
                    self.end_headers()
                    self.wfile.write(instead[1])
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("content-type", "content-encoding", "accept")}
                try:
                    conn = http.client.HTTPConnection(proxy.host, proxy.port,
                                                      timeout=proxy.timeout_s)
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    answer = conn.getresponse()
                    data, status = answer.read(), answer.status
                    kind = answer.getheader("Content-Type")
                    conn.close()
                except OSError as exc:
                    data, status, kind = f"proxy: gateway unreachable: {exc}".encode(), 502, None
                proxy._record(Exchange(self.command, self.path, body, status, data))
                self.send_response(status)
                if kind:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = _forward  # noqa: N815

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
