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
import math
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, replace

from promcontract.payload import text004
from promcontract.runners.http import (
    MAX_BODY_BYTES,
    Deadline,
    TooLarge,
    check_url,
    exchange,
    redact,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Families the gateway adds to every group itself (not part of any push).
GATEWAY_FAMILIES = ("push_time_seconds", "push_failure_time_seconds")


class GatewayError(Exception):
    """The gateway could not be reached or refused the request (after retries)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How a command talks to the gateway. ``timeout_s`` bounds the command's whole network
    time, every exchange, retry and backoff included, from ``started()`` on (a server
    trickling a byte every few seconds once held a 3 s --timeout for 14.5 s, one timeout per
    attempt); ``max_bytes`` caps each answer."""

    attempts: int = 4
    backoff_s: float = 0.25  # doubled after each failed attempt
    timeout_s: float = 10.0  # the whole command's network time
    max_bytes: int = MAX_BODY_BYTES
    until: float | None = None  # time.monotonic() deadline, set by started()

    def started(self) -> RetryPolicy:
        """This policy with its clock running: every request made with it shares one
        deadline."""
        return replace(self, until=time.monotonic() + self.timeout_s)

    def problems(self) -> list[str]:
        """What is wrong with these numbers, as the command line names them."""

        out = []
        if self.attempts < 1:
            out.append(f"--attempts must be at least 1, got {self.attempts}")
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            out.append(f"--timeout must be a positive number of seconds, got {self.timeout_s}")
        if self.max_bytes < 1:
            out.append(f"--max-bytes must be at least 1, got {self.max_bytes}")
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


def _request(method: str, url: str, body: bytes | None, policy: RetryPolicy,
             sleep: Callable[[float], None] = time.sleep) -> tuple[int, bytes]:
    delay = policy.backoff_s
    last = ""
    shown = redact(url)
    until = policy.until if policy.until is not None else time.monotonic() + policy.timeout_s
    headers = {"Content-Type": CONTENT_TYPE} if body is not None else {}
    attempt = 0
    while attempt < policy.attempts:
        remaining = until - time.monotonic()
        if remaining <= 0:
            last = f"timeout: --timeout of {policy.timeout_s:g}s used up" + (
                f" (last: {last})" if last else "")
            break
        attempt += 1
        try:
            status, data = exchange(method, url, body, remaining, headers, policy.max_bytes)
        except Deadline:
            last = f"timeout: no complete answer within the --timeout of {policy.timeout_s:g}s"
            break
        except TooLarge as exc:
            raise GatewayError(f"{method} {shown}: {exc}") from None
        except (OSError, ValueError) as exc:  # refused, reset, DNS, TLS, a bad status line
            last = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # http.client protocol errors (BadStatusLine, ...)
            last = f"{type(exc).__name__}: {exc}"
        else:
            if status < 300:
                return status, data
            detail = data.decode("utf-8", "replace").strip()
            if status < 500:
                raise GatewayError(f"{method} {shown}: HTTP {status}: {detail[:300]}")
            last = f"HTTP {status}: {detail[:200]}"
        if attempt < policy.attempts:
            sleep(max(0.0, min(delay, until - time.monotonic())))
            delay *= 2
    raise GatewayError(f"{method} {shown} failed after {attempt} attempt"
                       f"{'s' if attempt != 1 else ''}: {last}")


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


def select_group(parsed: text004.Parsed, grouping_key: tuple[tuple[str, str], ...]
                 ) -> text004.Parsed:
    """The samples of one group: those whose labels carry the whole grouping key."""
    want = set(grouping_key)
    families: dict[str, text004.Family] = {}
    for name, fam in parsed.families.items():
        samples = [s for s in fam.samples if want <= set(s.labels)]
        if samples:
            families[name] = text004.Family(
                name, fam.type, fam.help, samples[0].line, fam.type_line, fam.help_line,
                samples)
    return text004.Parsed(families, [])


__all__ = ["CONTENT_TYPE", "GATEWAY_FAMILIES", "GatewayError", "RetryPolicy", "DEFAULT_POLICY",
           "MAX_BODY_BYTES", "TooLarge", "redact",
           "Deadline", "check_url", "exchange", "group_path", "fetch_metrics", "put_group",
           "delete_group", "select_group"]
