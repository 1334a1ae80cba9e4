"""HTTP with a total deadline, and URL checks: the one way promcontract talks to servers."""

from __future__ import annotations

import base64
import http.client
import socket
import threading
import urllib.parse

from promcontract.problems import UserError


def check_url(url: str, what: str = "--gateway") -> str:
    """``url`` if it is an http(s) URL with a host (``UserError`` otherwise): anything else
    would fail late, or reach something that is not a Pushgateway (urllib speaks ftp)."""

    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UserError(f"{what} {redact(url)!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"{what} {redact(url)!r} is not an http(s) URL with a host "
                        "(expected e.g. http://pushgateway:9091)")
    if port == 0:
        raise UserError(f"{what} {redact(url)!r}: port 0 is not a port")
    return url


def redact(url: str) -> str:
    """``url`` with any user:password replaced by ``***``: credentials in a URL never appear
    in a message."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>" if "@" in url else url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"***@{host}"))


# The most an answer may hold: the largest real Pushgateway /metrics seen is a few MB; a
# server streaming without end would otherwise grow the process until the kernel kills it.
MAX_BODY_BYTES = 64 * 1024 * 1024


class Deadline(Exception):
    pass


class TooLarge(Exception):
    pass


def exchange(method: str, url: str, body: bytes | None, timeout_s: float,
             headers: dict[str, str] | None = None,
             max_bytes: int = MAX_BODY_BYTES) -> tuple[int, bytes]:
    """One HTTP request and its whole answer within ``timeout_s`` in total, the answer at
    most ``max_bytes`` long (``TooLarge`` past that, read no further).

    A socket timeout bounds each read, not the exchange: a server that trickles a byte every
    few seconds would hold a request forever. The request runs in a worker thread; when the
    deadline passes its connection is shut down under it (its read returns at once) and
    ``Deadline`` is raised. User and password in the URL are sent as HTTP basic auth.
    """

    parts = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=timeout_s)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    outcome: dict[str, object] = {}
    headers = dict(headers or {})
    if parts.username is not None and "Authorization" not in headers:

        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"

    def work() -> None:
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise TooLarge(f"answer longer than {max_bytes} bytes (the --max-bytes cap); "
                               "not read further")
            outcome["answer"] = (resp.status, data)
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
    if isinstance(outcome.get("error"), TimeoutError):
        # the socket's own timeout (the whole budget too) fired just before the join did:
        # the same deadline, told the same way
        raise Deadline(f"no complete answer within {timeout_s:g}s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["answer"]  # type: ignore[return-value]
