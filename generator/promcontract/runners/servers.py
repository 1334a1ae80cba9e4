"""Start real Prometheus-family servers on 127.0.0.1 for tests and the pusher harness.

Debian's binaries default to shared state (/var/lib/prometheus/...): every start here passes
its own temp paths, so no run inherits another's metrics.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time

from promcontract.problems import ToolMissing, UserError
from promcontract.runners import binaries
from promcontract.runners.http import Deadline, exchange

PUSHGATEWAY_NAMES = ("prometheus-pushgateway", "pushgateway")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binary(names: tuple[str, ...], env: str, package: str) -> str:
    return binaries.find(names, env, binaries.debian_hint(package, env))


class Server:
    """A server process with a readiness URL; a context manager that always stops it."""

    def __init__(self, name: str, argv: list[str], ready_url: str,
                 tmp: tempfile.TemporaryDirectory, timeout_s: float = 15.0):
        self.name, self.argv, self.ready_url = name, argv, ready_url
        self._tmp = tmp  # the server's own state and log; removed on exit
        self.timeout_s = timeout_s
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(tmp.name, f"{name}.log")

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._tmp.cleanup()

    def start(self) -> None:
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise ToolMissing(f"{self.name}: cannot start {self.argv[0]}: {exc.strerror}") \
                from None
        finally:
            log.close()
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise UserError(f"{self.name} exited at start (code {self.proc.returncode}): "
                                f"{self.log_tail()}")
            try:
                if exchange("GET", self.ready_url, None, 1.0)[0] == 200:
                    return
            except (OSError, Deadline, ValueError):
                pass
            time.sleep(0.05)
        self.stop()
        raise UserError(f"{self.name} not ready at {self.ready_url} after {self.timeout_s:.0f}s: "
                        f"{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return " | ".join(lines[-3:]) or "(empty log)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Pushgateway(Server):
    def __init__(self, port: int | None = None, binary: str | None = None):
        self._tmp = tempfile.TemporaryDirectory(prefix="promcontract-pgw-")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = binary or find_binary(PUSHGATEWAY_NAMES, "PUSHGATEWAY", "prometheus-pushgateway")
        argv = [exe, f"--web.listen-address=127.0.0.1:{self.port}",
                # own persistence file: Debian's default is shared /var/lib state
                f"--persistence.file={os.path.join(self._tmp.name, 'pushgateway.data')}",
                "--log.level=warn"]
        super().__init__("pushgateway", argv, self.url + "/-/ready", self._tmp)


class Prometheus(Server):
    """Prometheus with the given rule file, scraping ``targets`` every second with
    honor_labels (as the Pushgateway must be scraped), evaluating rules every second, and
    sending its alerts to ``alertmanager_url`` when given."""

    def __init__(self, rules_text: str, gateway_url: str, port: int | None = None,
                 binary: str | None = None, alertmanager_url: str | None = None):
        self._tmp = tempfile.TemporaryDirectory(prefix="promcontract-prom-")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        rules = os.path.join(self._tmp.name, "rules.yml")
        with open(rules, "w", encoding="utf-8") as handle:
            handle.write(rules_text)
        target = gateway_url.split("://", 1)[-1].rstrip("/")
        config = os.path.join(self._tmp.name, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                f"rule_files:\n  - {rules}\n"
                + (f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: "
                   f"['{alertmanager_url.split('://', 1)[-1].rstrip('/')}']\n"
                   if alertmanager_url else "")
                +
                "scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n"
                f"    static_configs:\n      - targets: ['{target}']\n")
        exe = binary or find_binary(("prometheus",), "PROMETHEUS", "prometheus")
        argv = [exe, f"--config.file={config}",
                # own TSDB: Debian's default is shared /var/lib/prometheus/metrics2
                f"--storage.tsdb.path={os.path.join(self._tmp.name, 'data')}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        super().__init__("prometheus", argv, self.url + "/-/ready", self._tmp, timeout_s=30.0)


class History(Server):
    """Prometheus serving the TSDB blocks in ``data_dir`` (``promtool tsdb create-blocks-from
    openmetrics``): no scrapes, no rules, retention long enough to keep old history."""

    def __init__(self, data_dir: str, port: int | None = None, binary: str | None = None):
        self._tmp = tempfile.TemporaryDirectory(prefix="promcontract-history-")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = os.path.join(self._tmp.name, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
        exe = binary or find_binary(("prometheus",), "PROMETHEUS", "prometheus")
        argv = [exe, f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        super().__init__("prometheus", argv, self.url + "/-/ready", self._tmp, timeout_s=60.0)


ALERTMANAGER_NAMES = ("prometheus-alertmanager", "alertmanager")


class Alertmanager(Server):
    """Alertmanager with the given config (text), alone (no cluster), its own storage; the
    API answers within ``timeout_s`` per exchange, capped in size."""

    def __init__(self, config_text: str, port: int | None = None, binary: str | None = None,
                 timeout_s: float = 10.0):
        self._tmp = tempfile.TemporaryDirectory(prefix="promcontract-am-")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.exchange_timeout_s = timeout_s
        config = self.config_path = os.path.join(self._tmp.name, "alertmanager.yml")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(config_text)
        exe = binary or find_binary(ALERTMANAGER_NAMES, "ALERTMANAGER", "prometheus-alertmanager")
        argv = [exe, f"--config.file={config}",
                # own storage: Debian's default is shared /var/lib/prometheus/alertmanager
                f"--storage.path={os.path.join(self._tmp.name, 'data')}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",  # alone: no gossip port, no peers
                "--log.level=warn"]
        super().__init__("alertmanager", argv, self.url + "/-/ready", self._tmp)

    def api(self, method: str, path: str, body: object | None = None) -> object:
        """One API v2 exchange (JSON in and out)."""
        data = json.dumps(body).encode() if body is not None else None
        status, answer = exchange(method, self.url + "/api/v2/" + path, data,
                                  self.exchange_timeout_s,
                                  {"Content-Type": "application/json"} if data else None,
                                  max_bytes=16 * 1024 * 1024)
        if status >= 300:
            raise UserError(f"alertmanager: {method} /api/v2/{path}: HTTP {status}: "
                            f"{answer[:200].decode('utf-8', 'replace')}")
        return json.loads(answer) if answer.strip() else None

    def reload(self, config_text: str) -> None:
        """Load another config in place (``/-/reload``): held alerts stay, routing, grouping
        and inhibition follow the new config."""
        with open(self.config_path, "w", encoding="utf-8") as handle:
            handle.write(config_text)
        status, answer = exchange("POST", self.url + "/-/reload", b"", self.exchange_timeout_s,
                                  None, max_bytes=64 * 1024)
        if status >= 300:
            raise UserError(f"alertmanager: the config does not reload: HTTP {status}: "
                            f"{answer[:200].decode('utf-8', 'replace').strip()}")
