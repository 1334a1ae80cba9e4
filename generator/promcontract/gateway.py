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
import urllib.error
import urllib.parse
import urllib.request
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
    timeout_s: float = 10.0


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


def _request(method: str, url: str, body: bytes | None, policy: RetryPolicy,
             sleep: Callable[[float], None] = time.sleep) -> tuple[int, bytes]:
    delay = policy.backoff_s
    last = ""
    for attempt in range(1, policy.attempts + 1):
        req = urllib.request.Request(url, data=body, method=method)
        if body is not None:
            req.add_header("Content-Type", CONTENT_TYPE)
        try:
            with urllib.request.urlopen(req, timeout=policy.timeout_s) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").strip()
            if exc.code < 500:
                raise GatewayError(f"{method} {url}: HTTP {exc.code}: {detail[:300]}") from None
            last = f"HTTP {exc.code}: {detail[:200]}"
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            last = f"{type(reason).__name__}: {reason}"
        if attempt < policy.attempts:
            sleep(delay)
            delay *= 2
    raise GatewayError(f"{method} {url} failed after {policy.attempts} attempts: {last}")


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
