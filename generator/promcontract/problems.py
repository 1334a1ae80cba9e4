"""One Problem type for everything promcontract reports: contract errors, payload findings,
lint findings and check failures. Each says where (file, line, column), what rule it breaks,
how bad it is, and what is wrong, on one line.

Exit codes are part of the CLI contract: 0 success, 1 a check failed, 2 bad input or a
missing tool. Anything raised as a ``UserError`` is printed as one line per problem, never a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


@dataclass(frozen=True)
class Problem:
    """``file:line[:col]: [rule: ]message[ (field.path)]``.

    ``rule`` names the check or payload rule that found it (lint checks, payload rules such as
    ``duplicate-series``); ``field`` the contract field it concerns; ``severity`` is error or
    warning (lint may lower a check to a warning).
    """

    location: Location
    message: str
    field: str = ""
    rule: str = ""
    severity: str = "error"

    @property
    def line(self) -> int:
        return self.location.line or 0

    def __str__(self) -> str:
        text = f"{self.location}: "
        if self.rule:
            text += f"{self.rule}: "
        text += self.message
        if self.field:
            text += f" ({self.field})"
        return one_line(text)


def one_line(text: str) -> str:
    """Every character Python reads as a line break (not only LF: CR, VT, FF, FS, GS, RS,
    NEL, LS, PS) becomes a space, so a message is one line whatever input it quotes."""
    return " ".join(text.splitlines()) if text else text


class UserError(Exception):
    """Bad input or environment: reported as one line per problem, exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(Location("promcontract"), problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ToolMissing(UserError):
    """A required external binary (promtool, prometheus, pushgateway) is not available."""
