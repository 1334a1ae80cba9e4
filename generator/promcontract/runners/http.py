"""HTTP with a total deadline, and URL checks: the one way promcontract talks to servers."""

from __future__ import annotations

import urllib.parse


def check_url(url: str, what: str = "--gateway") -> str:
    """``url`` if it is an http(s) URL with a host (``UserError`` otherwise): anything else
    would fail late, or reach something that is not a Pushgateway (urllib speaks ftp)."""
    from promcontract.problems import UserError

    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UserError(f"{what} {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"{what} {url!r} is not an http(s) URL with a host "
                        "(expected e.g. http://pushgateway:9091)")
    if port == 0:
        raise UserError(f"{what} {url!r}: port 0 is not a port")
    return url


class Deadline(Exception):
    pass


def exchange(method: str, url: str, body: bytes | None, timeout_s: float,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One HTTP request and its whole answer within ``timeout_s`` in total.

    A socket timeout bounds each read, not the exchange: a server that trickles a byte every
    few seconds would hold a request forever. The request runs in a worker thread; when the
    deadline passes its connection is shut down under it (its read returns at once) and
    ``Deadline`` is raised.
    """
    import http.client
    import socket
    import threading

    parts = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=timeout_s)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            outcome["answer"] = (resp.status, resp.read())
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, daemon=True, name=f"http-{method}")
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        conn.close()
        worker.join(1.0)
        raise Deadline(f"no complete answer within {timeout_s:g}s")
    conn.close()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["answer"]  # type: ignore[return-value]
