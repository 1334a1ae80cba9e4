"""Pushgateway HTTP: read a group, replace it (PUT), delete it; bounded retries.

Facts this relies on (Pushgateway 1.x, checked against the real binary):
  * PUT /metrics/job/<job>[/<label>/<value>...] replaces every metric of the group; POST would
    keep families missing from the body (a stale first_seen would survive), so never POST.
  * GET /metrics returns every group; the gateway adds job="<job>" and instance="" to each
    pushed series, sorts labels and writes values in Go float format (1.288e+06).
  * push_time_seconds / push_failure_time_seconds are added per group by the gateway.
"""

from __future__ import annotations

import base64
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from promcontract import exposition

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class GatewayError(Exception):
    """The gateway could not be reached or refused the request (after retries)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_s: float = 0.25  # doubled after each failed attempt
    timeout_s: float = 10.0  # for each whole exchange (request and complete answer)

    def problems(self) -> list[str]:
        """What is wrong with these numbers, as the command line names them."""
        import math

        out = []
        if self.attempts < 1:
            out.append(f"--attempts must be at least 1, got {self.attempts}")
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            out.append(f"--timeout must be a positive number of seconds, got {self.timeout_s}")
        if not (math.isfinite(self.backoff_s) and self.backoff_s >= 0):
            out.append(f"--backoff must be zero or a positive number of seconds, got "
                       f"{self.backoff_s}")
        return out


DEFAULT_POLICY = RetryPolicy()


def group_path(grouping_key: tuple[tuple[str, str], ...]) -> str:
    """``/metrics/job/<job>/<k>/<v>``; values with ``/`` (or empty) use the base64 form."""
    key = dict(grouping_key)
    parts = ["/metrics"]
    ordered = [("job", key.pop("job"))] + sorted(key.items())
    for name, value in ordered:
        if "/" in value or not value:
            encoded = base64.urlsafe_b64encode(value.encode()).decode() or "="
            parts += [f"{name}@base64", encoded]
        else:
            parts += [name, urllib.parse.quote(value, safe="")]
    return "/".join(parts)


def check_url(url: str, what: str = "--gateway") -> str:
    """``url`` if it is an http(s) URL with a host (``UserError`` otherwise): anything else
    would fail late, or reach something that is not a Pushgateway (urllib speaks ftp)."""
    from promcontract.errors import UserError

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


def _request(method: str, url: str, body: bytes | None, policy: RetryPolicy,
             sleep: Callable[[float], None] = time.sleep) -> tuple[int, bytes]:
    delay = policy.backoff_s
    last = ""
    headers = {"Content-Type": CONTENT_TYPE} if body is not None else {}
    for attempt in range(1, policy.attempts + 1):
        try:
            status, data = exchange(method, url, body, policy.timeout_s, headers)
        except Deadline as exc:
            last = f"timeout: {exc}"
        except (OSError, ValueError) as exc:  # refused, reset, DNS, TLS, a bad status line
            last = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # http.client protocol errors (BadStatusLine, ...)
            last = f"{type(exc).__name__}: {exc}"
        else:
            if status < 300:
                return status, data
            detail = data.decode("utf-8", "replace").strip()
            if status < 500:
                raise GatewayError(f"{method} {url}: HTTP {status}: {detail[:300]}")
            last = f"HTTP {status}: {detail[:200]}"
        if attempt < policy.attempts:
            sleep(delay)
            delay *= 2
    raise GatewayError(f"{method} {url} failed after {policy.attempts} attempt"
                       f"{'s' if policy.attempts != 1 else ''}: {last}")


def fetch_metrics(base_url: str, policy: RetryPolicy = DEFAULT_POLICY) -> str:
    """One GET of the gateway's /metrics (every group)."""
    _, body = _request("GET", base_url.rstrip("/") + "/metrics", None, policy)
    return body.decode("utf-8")


def put_group(base_url: str, grouping_key: tuple[tuple[str, str], ...], payload: str,
              policy: RetryPolicy = DEFAULT_POLICY) -> None:
    """Replace the whole group with ``payload`` (one PUT, retried on 5xx/connection errors)."""
    _request("PUT", base_url.rstrip("/") + group_path(grouping_key), payload.encode("utf-8"),
             policy)


def delete_group(base_url: str, grouping_key: tuple[tuple[str, str], ...],
                 policy: RetryPolicy = DEFAULT_POLICY) -> None:
    _request("DELETE", base_url.rstrip("/") + group_path(grouping_key), None, policy)


def select_group(parsed: exposition.Parsed, grouping_key: tuple[tuple[str, str], ...]
                 ) -> exposition.Parsed:
    """The samples of one group: those whose labels carry the whole grouping key."""
    want = set(grouping_key)
    families: dict[str, exposition.Family] = {}
    for name, fam in parsed.families.items():
        samples = [s for s in fam.samples if want <= set(s.labels)]
        if samples:
            families[name] = exposition.Family(
                name, fam.type, fam.help, samples[0].line, fam.type_line, fam.help_line,
                samples)
    return exposition.Parsed(families, [])
