"""The one place that runs promtool (argument lists, timeouts, located errors).

Found via ``$PROMTOOL`` or ``PATH``. Debian bookworm ships promtool 2.42: nothing here uses
flags added after it (no ``--run``, ``--junit``).
"""

from __future__ import annotations

import collections
import functools
import math
import os
import queue
import re
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from promcontract.problems import ToolMissing
from promcontract.runners import binaries, process

TIMEOUT_S = 120.0
GO_MEMORY_LIMIT = "512MiB"  # promtool's soft heap limit (GOMEMLIMIT), unless set
INSTALL_HINT = ("install Debian's 'prometheus' package (apt-get install prometheus) or set "
                "PROMTOOL to the promtool binary")


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return (self.stdout + self.stderr).strip()


# How long ``promtool --version`` may take: it answers in milliseconds.
VERSION_TIMEOUT_S = 10.0


def find() -> str:
    """The promtool to run, once checked to be one: ``/bin/true`` as $PROMTOOL once made
    `check` report "pass promtool check rules" for rules it never read."""
    exe = binaries.find(("promtool",), "PROMTOOL", INSTALL_HINT)
    version(exe)
    return exe


@functools.lru_cache(maxsize=8)
def version(binary: str | None = None) -> str:
    """The version ``binary`` (default: ``find()``) reports; ``ToolMissing`` unless it
    answers ``--version`` as promtool does."""
    return binaries.identify(binary or find(), "promtool", INSTALL_HINT, VERSION_TIMEOUT_S)


def run(args: list[str], *, stdin: str | None = None, binary: str | None = None,
        timeout: float | None = None, merge: bool = False) -> Result:
    """``merge``: stderr into stdout, in the order promtool wrote them (``test rules`` names
    each file on stdout and its failures on stderr). The whole process group is killed on
    a timeout (exit 2, "promtool ... timed out after N s")."""
    exe = binary or find()
    timeout = TIMEOUT_S if timeout is None else timeout
    try:
        code, out, err = process.run_bounded([exe, *args], stdin=stdin, timeout=timeout,
                                             merge=merge)
    except FileNotFoundError:
        raise ToolMissing(f"promtool not found at {exe}; {INSTALL_HINT}") from None
    except OSError as exc:
        raise ToolMissing(f"cannot run promtool at {exe}: {exc.strerror}; {INSTALL_HINT}") \
            from None
    except subprocess.TimeoutExpired:
        raise ToolMissing(f"promtool {' '.join(args[:2])} timed out after {timeout:.0f} s") \
            from None
    return _checked(exe, args, Result(code, out, err))


def _checked(exe: str, args: list[str], result: Result) -> Result:
    """A failure with nothing said is not promtool speaking: every promtool failure prints
    why. Say so rather than report an empty finding."""
    if result.returncode != 0 and not result.output:
        raise ToolMissing(f"promtool ({exe}) failed with no output (exit {result.returncode}) "
                          f"running '{' '.join(args[:2])}': is it a real promtool? "
                          f"{INSTALL_HINT}")
    return result


class Running:
    """A promtool process started in the background (so Python work overlaps with it).

    A thread feeds its input (when there is one), collects its output and notes when it
    ended, so a large payload never blocks the caller on a full pipe and ``seconds`` is the
    process's own time, whenever the caller looks.
    """

    def __init__(self, args: list[str], binary: str | None = None, stdin: str | None = None,
                 stdin_file: str | None = None, merge: bool = False,
                 timeout: float | None = None, tmpdir: str | None = None):

        exe = binary or find()
        timeout = TIMEOUT_S if timeout is None else timeout
        self.args = args
        self.exe = exe
        self.timeout = timeout
        source = subprocess.DEVNULL
        if stdin is not None:
            source = subprocess.PIPE
        elif stdin_file is not None:
            source = open(stdin_file, "rb")  # noqa: SIM115 - closed right after Popen
        # One core for promtool (Go would take both): the caller works on the other meanwhile.
        # A test run's heap is small and short-lived: collecting at 4x growth rather than Go's
        # 2x takes ~10-15% off its time for ~40 MB (make bench, oracle). But one process runs
        # many test files: at 4x, a chunk of the corpus's mutant files grew to 2.1 GB; a soft
        # limit of 512 MiB (GOMEMLIMIT, Go >= 1.19) collects before that: 330 MB, no slower.
        # Each is overridable. ``tmpdir``: where promtool makes its temporary files (test
        # rules opens a TSDB per test group): a process killed by its timeout leaves that
        # directory behind, in the caller's scratch directory rather than the system's.
        env = dict(os.environ, GOMAXPROCS=os.environ.get("GOMAXPROCS", "1"),
                   GOGC=os.environ.get("GOGC", "400"),
                   GOMEMLIMIT=os.environ.get("GOMEMLIMIT", GO_MEMORY_LIMIT))
        if tmpdir is not None:
            env["TMPDIR"] = tmpdir
        self.started = time.monotonic()
        self.ended: float | None = None
        try:
            self._proc = subprocess.Popen(
                [exe, *args], stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge else subprocess.PIPE, text=True,
                stdin=source, env=env, start_new_session=True)
        except OSError as exc:
            raise ToolMissing(f"cannot run promtool at {exe}: {exc.strerror}; "
                              f"{INSTALL_HINT}") from None
        finally:
            if stdin_file is not None:
                source.close()  # the child has its own copy of the descriptor
        process.track(self._proc)
        self._output: tuple[str, str] | None = None

        def collect() -> None:
            try:
                self._output = self._proc.communicate(stdin, timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill_group(self._proc)
                try:
                    self._proc.communicate(timeout=5)
                except (subprocess.TimeoutExpired, ValueError, OSError):
                    pass
            finally:
                process.kill_group(self._proc)  # what it left running in its group
                process.untrack(self._proc)
                self.ended = time.monotonic()
        self._thread = threading.Thread(target=collect, daemon=True)
        self._thread.start()

    @property
    def seconds(self) -> float:
        """How long the process ran (so far, if it still runs)."""

        return (self.ended or time.monotonic()) - self.started

    def wait(self, timeout: float | None = None) -> Result:
        timeout = self.timeout if timeout is None else timeout
        self._thread.join(timeout)
        if self._thread.is_alive() or self._output is None:
            process.kill_group(self._proc)
            raise ToolMissing(f"promtool {' '.join(self.args[:2])} timed out after "
                              f"{timeout:.0f} s")
        out, err = self._output
        return _checked(self.exe, self.args, Result(self._proc.returncode, out, err or ""))


def check_rules(*paths: str) -> Result:
    return run(["check", "rules", *paths])


def start_check_rules(*paths: str) -> Running:
    return Running(["check", "rules", *paths])


def test_rules(*paths: str) -> Result:
    return run(["test", "rules", *paths], merge=True)


@dataclass(frozen=True)
class Alerted:
    """One alert as promtool prints it in a failed test: its labels and annotations."""

    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]

    def show(self) -> str:
        labels = ", ".join(f"{k}={v!r}" for k, v in self.labels)
        annotations = ", ".join(f"{k}={v!r}" for k, v in self.annotations)
        return "{" + labels + "}" + (" {" + annotations + "}" if annotations else "")


@dataclass(frozen=True)
class Mismatch:
    """promtool's expected/got for one alertname at one eval time."""

    alertname: str
    time: str
    expected: tuple[Alerted, ...]
    got: tuple[Alerted, ...]

    def describe(self) -> str:
        def show(items: tuple[Alerted, ...]) -> str:
            return "[" + "; ".join(a.show() for a in items) + "]" if items else "none"
        return (f"{self.alertname} at {self.time}: expected {show(self.expected)}, "
                f"got {show(self.got)}")


@dataclass
class FileResult:
    path: str
    ok: bool = True
    mismatches: list[Mismatch] | None = None
    errors: list[str] | None = None  # failures other than expected/got (bad file, ...)

    def describe(self, shown: int = 3) -> str:
        """The first ``shown`` failures, whole (a cut record would hide what differed)."""
        parts = [m.describe() for m in self.mismatches or ()] + list(self.errors or ())
        more = f" (+{len(parts) - shown} more)" if len(parts) > shown else ""
        return " | ".join(parts[:shown]) + more if parts else "failed (promtool said no more)"


_ALERT_HEAD = re.compile(r"^\s*alertname: (?P<name>.*?), time: (?P<time>[^,]+),\s*$")
_ENTRY = re.compile(r"^\s*(Labels|Annotations):(\{.*\}),?\s*$")
_GO_ESCAPE = re.compile(r'\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)')


def _go_unquote(body: str) -> str:
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a",
              "b": "\b", "f": "\f", "v": "\v"}

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code in simple:
            return simple[code]
        if code[0] in "xuU":
            return chr(int(code[1:], 16))
        if code[0] in "01234567" and len(code) == 3:
            return chr(int(code, 8))
        return code
    return _GO_ESCAPE.sub(one, body)


def parse_labelset(text: str) -> tuple[tuple[str, str], ...]:
    """``{a="x", b="y\\n"}`` as promtool prints label sets (Go-quoted values) -> pairs."""
    out = []
    for match in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', text):
        out.append((match.group(1), _go_unquote(match.group(2))))
    return tuple(out)


def parse_test_output(output: str) -> dict[str, FileResult]:
    """Per test file, what ``promtool test rules`` said (stdout and stderr merged in order).

    Failures show ``alertname: A, time: 10m,`` then ``exp:[...]`` and ``got:[...]`` lists of
    ``Labels:{...}`` / ``Annotations:{...}``: parsed, they say exactly what differed (and can
    serve as a record of what promtool does).
    """
    results: dict[str, FileResult] = {}
    current: FileResult | None = None
    mismatch: dict | None = None
    side = ""
    entry: dict[str, tuple] = {}

    def close_entry() -> None:
        nonlocal entry
        if mismatch is not None and entry:
            mismatch[side].append(Alerted(entry.get("Labels", ()),
                                          entry.get("Annotations", ())))
        entry = {}

    def close_mismatch() -> None:
        nonlocal mismatch
        close_entry()
        if mismatch is not None and current is not None:
            current.mismatches = (current.mismatches or []) + [Mismatch(
                mismatch["name"], mismatch["time"], tuple(mismatch["exp"]),
                tuple(mismatch["got"]))]
        mismatch = None

    for raw in output.splitlines():
        line = raw.strip()
        if line.startswith("Unit Testing:"):
            close_mismatch()
            current = results.setdefault(line.split(":", 1)[1].strip(),
                                         FileResult(line.split(":", 1)[1].strip()))
            continue
        if current is None:
            continue
        if line == "SUCCESS":
            continue
        if line.startswith("FAILED"):
            current.ok = False
            continue
        head = _ALERT_HEAD.match(raw)
        if head:
            close_mismatch()
            current.ok = False
            mismatch = {"name": head.group("name"), "time": head.group("time").strip(),
                        "exp": [], "got": []}
            continue
        if mismatch is not None and line.startswith(("exp:", "got:")):
            close_entry()
            side = line[:3]
            continue
        found = _ENTRY.match(raw)
        if mismatch is not None and found:
            if found.group(1) in entry:
                close_entry()
            entry[found.group(1)] = parse_labelset(found.group(2))
            continue
        if mismatch is not None and re.match(r"^\d+:$", line):
            close_entry()
            continue
        if mismatch is not None and line.rstrip(",") in ("]", "],", "[]", ""):
            continue
        if line and mismatch is None:
            current.ok = False
            current.errors = (current.errors or []) + [line]
    close_mismatch()
    return results


@functools.lru_cache(maxsize=4)
def has_junit(binary: str | None = None) -> bool:
    """Whether ``promtool test rules`` takes ``--junit`` (2.x after 2.42 and 3.x). Where it
    does, use it for many files in one run: promtool 3 tests files in parallel and no longer
    prints which file a failure belongs to; its JUnit report has a suite per file."""
    result = run(["test", "rules", "--help"], binary=binary, merge=True)
    return "--junit" in result.output


def parse_junit(xml_text: str) -> dict[str, FileResult]:
    """Per test file, what ``promtool test rules --junit`` reported: a ``testsuite`` named
    after the file, each failure the same text as on stdout."""

    results: dict[str, FileResult] = {}
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
        return results
    for suite in root.iter("testsuite"):
        name = suite.get("name") or ""
        texts = [(element.text or element.get("message") or element.tag)
                 for element in suite.iter() if element.tag in ("failure", "error")]
        if not texts:
            results[name] = FileResult(name)
            continue
        body = "\n".join(texts)
        parsed = parse_test_output(f"Unit Testing: {name}\n  FAILED:\n{body}\n")
        results[name] = parsed.get(name, FileResult(name, ok=False, errors=[body[:300]]))
        results[name].ok = False
    return results


CHUNK_FILES = 150
CHUNKS_PER_WORKER = 3  # a few per worker: the costliest files are spread, none waits alone


def _chunks(files: list[tuple[str, float]], count: int) -> list[list[str]]:
    """``files`` (path, cost) in ``count`` chunks, the costliest first onto the least loaded."""
    loads = [0.0] * count
    chunks: list[list[str]] = [[] for _ in range(count)]
    for path, cost in sorted(files, key=lambda item: -item[1]):
        index = loads.index(min(loads))
        loads[index] += cost
        chunks[index].append(path)
    return [c for c in chunks if c]


class TestPool:
    """``promtool test rules`` over test files handed in while others run: up to
    ``workers`` processes at a time, each on one chunk of files, each file's result read per
    file (``--junit`` into ``scratch`` where promtool has it: promtool 3 no longer names the
    file of a failure on stdout). :meth:`finished` hands back each chunk's results as it
    finishes, so a caller can queue work that follows from them while other chunks run (no
    wave waits for its slowest process). Use as a context manager: leaving it stops the
    workers (a running promtool ends by its timeout at the latest)."""

    def __init__(self, workers: int, scratch: str,
                 progress: Callable[[int, int], None] | None = None):
        self.workers = max(1, workers)
        self.scratch = scratch
        self.progress = progress
        self.processes = 0  # chunks queued: one promtool process each
        self._queue: collections.deque[list[str]] = collections.deque()
        self._loose: collections.deque[tuple[str, float]] = collections.deque()  # offered
        self._ready: queue.SimpleQueue[tuple[list[str], dict[str, FileResult], list[str]]] = \
            queue.SimpleQueue()
        self._lock = threading.Condition()
        self._outstanding = 0  # chunks queued or running, not yet handed back
        self._closed = False
        self._threads: list[threading.Thread] = []
        self._counts = [0, 0]  # files done, files queued
        self._junit: bool | None = None

    def __enter__(self) -> TestPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add(self, files: list[tuple[str, float]], chunks: int | None = None) -> None:
        """Queue ``files`` (path, cost): in ``chunks`` chunks, by default a few per worker
        and none over CHUNK_FILES files (one promtool process per few thousand mutant files
        held gigabytes at once on a 1,093-alert corpus)."""
        if not files:
            return
        if self._junit is None:
            self._junit = has_junit()
        at_least = math.ceil(len(files) / CHUNK_FILES)
        wanted = self.workers * CHUNKS_PER_WORKER if chunks is None else chunks
        split = _chunks(files, max(1, min(len(files), max(wanted, at_least))))
        with self._lock:
            self._queue.extend(split)
            self._outstanding += len(split)
            self._counts[1] += len(files)
            self.processes += len(split)
            self._wake()

    def offer(self, files: list[tuple[str, float]]) -> None:
        """Queue ``files`` (path, cost) without a chunk: a worker that runs out of chunks
        takes its share of what is offered by then (the offered cost over the workers, at
        least one file). Files offered while every worker is busy wait to share a process:
        a caller offering work as it goes starts few processes (promtool takes 30 ms to
        start) and never leaves a worker idle while a file waits."""
        if not files:
            return
        if self._junit is None:
            self._junit = has_junit()  # before the lock: a missing promtool raises here
        with self._lock:
            self._loose.extend(files)
            self._counts[1] += len(files)
            self._wake()

    def _wake(self) -> None:
        """Start the workers the queued work needs and wake the idle ones (lock held)."""
        while len(self._threads) < min(self.workers, self._outstanding + len(self._loose)):
            thread = threading.Thread(target=self._work, daemon=True)
            self._threads.append(thread)
            thread.start()
        self._lock.notify_all()

    def _take(self) -> list[str]:
        """A worker's share of the offered files, oldest first, as a chunk (lock held)."""
        share = sum(cost for _, cost in self._loose) / self.workers
        chunk: list[str] = []
        taken = 0.0
        while self._loose and len(chunk) < CHUNK_FILES and (not chunk or taken < share):
            path, cost = self._loose.popleft()
            chunk.append(path)
            taken += cost
        self._outstanding += 1
        self.processes += 1
        return chunk

    def finished(self) -> Iterator[tuple[list[str], dict[str, FileResult], list[str]]]:
        """(the chunk's files, their results, what went wrong running promtool itself: a
        timeout) for each chunk as it finishes, until none is queued or running and nothing
        offered waits; chunks added and files offered meanwhile are included."""
        while True:
            with self._lock:
                if not self._outstanding and not self._loose:
                    return
            item = self._ready.get()
            with self._lock:
                self._outstanding -= 1
            yield item

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._queue.clear()
            self._loose.clear()
            self._lock.notify_all()
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._loose and not self._closed:
                    self._lock.wait()
                if self._queue:
                    chunk = self._queue.popleft()
                elif self._loose:  # close() empties it
                    chunk = self._take()
                else:
                    return
            try:
                results, problems = self._run(chunk)
            except Exception as exc:  # noqa: BLE001 - handed back, never a stuck caller
                results, problems = {}, [f"promtool test rules: {exc}"]
            with self._lock:
                self._counts[0] += len(chunk)
                done, total = self._counts
            if self.progress:
                self.progress(done, total)
            self._ready.put((chunk, results, problems))

    def _run(self, chunk: list[str]) -> tuple[dict[str, FileResult], list[str]]:
        fd, report = tempfile.mkstemp(prefix="junit-", suffix=".xml", dir=self.scratch)
        os.close(fd)
        os.unlink(report)
        args = ["test", "rules", *([f"--junit={report}"] if self._junit else []), *chunk]
        running = Running(args, merge=True, timeout=max(TIMEOUT_S, 5.0 * len(chunk)),
                          tmpdir=self.scratch)
        try:
            output = running.wait()
        except ToolMissing as exc:
            return {}, [str(exc.problems[0].message)]
        if self._junit and os.path.isfile(report):
            with open(report, encoding="utf-8") as handle:
                return parse_junit(handle.read()), []
        return parse_test_output(output.output), []


def test_many(files: list[tuple[str, float]], workers: int, scratch: str,
              progress: Callable[[int, int], None] | None = None
              ) -> tuple[dict[str, FileResult], list[str]]:
    """``promtool test rules`` over many test files (path, cost), shared out over ``workers``
    processes at a time (see :class:`TestPool`). Returns the results and what went wrong
    running promtool itself (a timeout), if anything."""
    results: dict[str, FileResult] = {}
    problems: list[str] = []
    with TestPool(workers, scratch, progress) as pool:
        pool.add(files)
        for _, found, trouble in pool.finished():
            results.update(found)
            problems += trouble
    return results, problems


def test_failure_summary(output: str, limit: int = 600) -> str:
    """What a failed ``promtool test rules`` run says failed, on one line: per failing alert
    and eval time, the alerts promtool expected and the ones it got."""
    parsed = parse_test_output(output)
    parts = [result.describe() for result in parsed.values() if not result.ok]
    if parts:
        return " | ".join(parts)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return " | ".join(lines)[:limit]


def check_metrics(payload: str) -> Result:
    return run(["check", "metrics"], stdin=payload)


def start_check_metrics(payload: str | None = None, path: str | None = None) -> Running:
    """``promtool check metrics`` (lint; exit 3 on findings) in the background, reading the
    payload from ``path`` directly when there is one (no Python thread feeding a pipe)."""
    if path is not None:
        return Running(["check", "metrics"], stdin_file=path)
    return Running(["check", "metrics"], stdin=payload)
