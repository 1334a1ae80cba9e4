"""promtool checks whose findings point at the user's files: ``check rules`` on texts shown as
the file they came from (with a line offset into the template), and ``test rules`` on each
test file in its own process (its own verdict and time)."""

from __future__ import annotations

import concurrent.futures
import os
import re
import tempfile
import time

from promcontract.model import promfiles
from promcontract.problems import Location, Problem, UserError
from promcontract.runners import promtool

_PROMTOOL_LOC = re.compile(r"^(?P<file>[^:\n]+): (?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$")


class RuleCheck:
    """``promtool check rules`` on texts, started at once and run in the background.

    Each text is shown as the file it came from, with a line offset, so findings point at
    the user's file (the template) and not at a temp copy.
    """

    def __init__(self, texts: list[tuple[str, str, int]]):
        self._tmp = tempfile.TemporaryDirectory(prefix="promcontract-")
        self._shown: dict[str, tuple[str, int]] = {}
        paths = []
        for index, (text, shown_as, offset) in enumerate(texts):
            path = os.path.join(self._tmp.name, f"rules-{index}.yml")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            self._shown[path] = (shown_as, offset)
            paths.append(path)
        try:
            self._running = promtool.start_check_rules(*paths)
        except BaseException:
            self._tmp.cleanup()
            raise

    @property
    def seconds(self) -> float:
        return self._running.seconds

    def problems(self) -> list[Problem]:
        try:
            result = self._running.wait()
        finally:
            self._tmp.cleanup()
        if result.returncode == 0:
            return []
        problems = []
        for raw in result.output.splitlines():
            line = raw.strip()
            if not line or line.startswith(("Checking", "FAILED", "SUCCESS")):
                continue
            match = _PROMTOOL_LOC.match(line)
            if match and match.group("file") in self._shown:
                shown_as, offset = self._shown[match.group("file")]
                problems.append(Problem(
                    Location(shown_as, int(match.group("line")) + offset,
                             int(match.group("col"))),
                    "promtool check rules: " + match.group("msg")))
                continue
            message = line
            where = Location("promtool")
            for path, (shown_as, _) in self._shown.items():
                if path in message:
                    where = Location(shown_as)
                    message = message.replace(path + ": ", "").replace(path, shown_as)
            problems.append(Problem(where, "promtool check rules: " + message))
        if not problems:
            problems.append(Problem(Location("promtool"),
                                    f"promtool check rules failed: {result.output[:200]}"))
        return problems


class UnitTests:
    """``promtool test rules`` on each test file, run in the background, as many at a time as
    there are cores: each file gets its own verdict and its own time.

    A file with many test groups is dealt into parts (its groups balanced by evaluation
    steps, each part in a temp dir with the rule files' absolute paths), one process each,
    so one long file does not leave the other cores idle; its verdict is all of its parts'.
    """

    def __init__(self, paths: list[str]):

        self.paths = paths
        self.seconds: dict[str, float] = {}
        self.outputs: dict[str, str] = {}
        workers = os.cpu_count() or 2
        self._tmp = tempfile.TemporaryDirectory(prefix="promcontract-unit-")
        self._parts = {path: _parts(path, workers, self._tmp.name) for path in paths}
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
        self._futures = {path: [self._pool.submit(self._one, path, part) for part in parts]
                         for path, parts in self._parts.items()}

    def _one(self, path: str, part: str) -> promtool.Result:

        started = time.monotonic()
        try:
            return promtool.test_rules(part)
        finally:
            self.seconds[path] = max(self.seconds.get(path, 0.0), time.monotonic() - started)

    def results(self) -> dict[str, list[Problem]]:
        """Problems per test file (an empty list: it passed)."""
        out: dict[str, list[Problem]] = {}
        try:
            for path, futures in self._futures.items():
                results = [future.result() for future in futures]
                output = "\n".join(r.output for r in results)
                for part in self._parts[path]:
                    output = output.replace(part, path)
                self.outputs[path] = output
                if all(r.returncode == 0 for r in results):
                    out[path] = []
                    continue
                parsed = promtool.parse_test_output(output)
                detail = "; ".join(r.describe() for r in parsed.values() if not r.ok) or \
                    promtool.test_failure_summary(output)
                out[path] = [Problem(Location(path), "promtool test rules failed: " + detail)]
        finally:
            self._pool.shutdown(wait=True)
            self._tmp.cleanup()
        return out

    def problems(self) -> list[Problem]:
        return [p for found in self.results().values() for p in found]


# A part must be worth a process (~30 ms to start, and the rule files loaded again).
_MIN_PART_STEPS = 400


def _parts(path: str, workers: int, tmp: str) -> list[str]:
    """``path`` itself, or its test groups dealt into up to ``workers`` files in ``tmp``."""

    try:
        test = promfiles.load_tests(path)
    except UserError:
        return [path]  # promtool says what is wrong with it
    groups = list(test.data.get("tests") or ())
    costs = [promfiles.group_cost(g, test.evaluation_interval) for g in groups]
    count = min(workers, len(groups), int(sum(costs) // _MIN_PART_STEPS))
    if count < 2:
        return [path]
    shares: list[list[int]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for index in sorted(range(len(groups)), key=lambda i: -costs[i]):
        least = loads.index(min(loads))
        shares[least].append(index)
        loads[least] += costs[index]
    out = []
    base = os.path.basename(path)
    for number, share in enumerate(shares):
        data = promfiles.Node(test.data)
        data["rule_files"] = promfiles.Seq(os.path.abspath(p) for p in test.rule_paths)
        data["tests"] = promfiles.Seq(groups[i] for i in sorted(share))
        folder = os.path.join(tmp, f"{len(os.listdir(tmp))}")
        os.mkdir(folder)
        part = os.path.join(folder, f"part{number}-{base}")
        with open(part, "w", encoding="utf-8") as handle:
            handle.write(promfiles.dump(data))
        out.append(part)
    return out


def promtool_rule_problems(text: str, shown_as: str, line_offset: int = 0) -> list[Problem]:
    """``promtool check rules`` on one text; findings located in the file it came from."""
    return RuleCheck([(text, shown_as, line_offset)]).problems()
