"""The recording proxy of pusher-test (payload/proxy.py), with faults: counts requests, answers
a method with an HTTP error, or answers late.

Used in addition to the real gateway (never instead): requests it lets through reach the
real one, so "the gateway keeps its previous group" is checked on the real gateway.
"""

from __future__ import annotations

import time
from collections import Counter

from promcontract.payload.proxy import Proxy


class FaultProxy(Proxy):
    def __init__(self, upstream: str):
        super().__init__(upstream)
        self.counts: Counter[str] = Counter()
        self.fail_methods: dict[str, int] = {}  # method -> HTTP status to answer with
        self.delay_s = 0.0

    def answer_instead(self, method: str, path: str) -> tuple[int, bytes] | None:
        self.counts[method] += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        status = self.fail_methods.get(method)
        return (status, b"injected failure\n") if status else None
