"""Alertmanager's time intervals, evaluated at any moment: is a route muted then?

Alertmanager decides muting when it is about to notify, against its own clock, and its API
(0.25, Debian bookworm) does not say an alert is muted. A delivery test asks about any moment
("at 03:00 on a Saturday the team channel is quiet"), so the intervals are evaluated here, as
Alertmanager's ``timeinterval`` package reads them: an interval holds a moment when every field
it gives holds (``times`` with the end minute excluded, ``weekdays``, ``days_of_month`` with
negative days counted from the month's end, ``months``, ``years``), in its ``location``; a
named entry holds when any of its intervals does. A route (its own settings: Alertmanager does
not inherit them from the parent) sends nothing while one of its ``mute_time_intervals`` holds,
nor while it has ``active_time_intervals`` and none holds. tests/test_routes.py checks this
evaluator against a real Alertmanager's deliveries on generated intervals.
"""

from __future__ import annotations

import calendar
import datetime
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
_TIME = re.compile(r"^(?:([01][0-9]|2[0-3]):([0-5][0-9])|24:00)$")


class IntervalError(ValueError):
    """A time interval Alertmanager would not load (the message says which field)."""


def named(config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each named entry of ``time_intervals`` and the older ``mute_time_intervals``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key in ("time_intervals", "mute_time_intervals"):
        for entry in config.get(key) or ():
            if isinstance(entry, dict) and "name" in entry:
                out[str(entry["name"])] = list(entry.get("time_intervals") or ())
    return out


def _minute(text: str) -> int:
    if not _TIME.match(text):
        raise IntervalError(f"time {text!r} is not HH:MM")
    if text == "24:00":
        return 1440
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _ranges(values: list[Any], field: str, names: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    out = []
    for value in values:
        parts = str(value).lower().split(":")
        if len(parts) > 2:
            raise IntervalError(f"{field}: {value!r} is not a value or a range a:b")
        numbers = []
        for part in parts:
            part = part.strip()
            if part in names:
                numbers.append(names.index(part) + (1 if names is MONTHS else 0))
            else:
                try:
                    numbers.append(int(part))
                except ValueError:
                    raise IntervalError(f"{field}: {part!r} is not valid") from None
        out.append((numbers[0], numbers[-1]))
    return out


def contains(interval: dict[str, Any], moment: datetime.datetime) -> bool:
    """Whether one interval (``times``, ``weekdays``, ... , ``location``) holds ``moment``
    (an aware datetime)."""
    if interval.get("location"):
        try:
            moment = moment.astimezone(ZoneInfo(str(interval["location"])))
        except (ZoneInfoNotFoundError, ValueError):
            raise IntervalError(f"location {interval['location']!r} is not a time zone") \
                from None
    minute = moment.hour * 60 + moment.minute
    if interval.get("times") is not None and not any(
            _minute(str(t.get("start_time"))) <= minute < _minute(str(t.get("end_time")))
            for t in interval["times"]):
        return False
    if interval.get("days_of_month") is not None:
        length = calendar.monthrange(moment.year, moment.month)[1]
        held = False
        for begin, end in _ranges(interval["days_of_month"], "days_of_month"):
            begin = length + begin + 1 if begin < 0 else begin
            end = length + end + 1 if end < 0 else end
            if begin > length:
                continue  # the 31st of a 30-day month never comes
            if begin <= moment.day <= min(end, length):
                held = True
                break
        if not held:
            return False
    checks = (("months", MONTHS, moment.month), ("weekdays", WEEKDAYS,
                                                 (moment.weekday() + 1) % 7),
              ("years", (), moment.year))
    for field, names, value in checks:
        if interval.get(field) is not None and not any(
                begin <= value <= end for begin, end in _ranges(interval[field], field, names)):
            return False
    return True


def holds(entries: list[dict[str, Any]], moment: datetime.datetime) -> bool:
    return any(contains(interval, moment) for interval in entries)


def quiet(route: dict[str, Any], intervals: dict[str, list[dict[str, Any]]],
          moment: datetime.datetime) -> str | None:
    """Why ``route`` sends nothing at ``moment`` (None: it notifies)."""
    for name in route.get("mute_time_intervals") or ():
        if holds(intervals.get(str(name), []), moment):
            return f"muted by {name}"
    active = route.get("active_time_intervals") or ()
    if active and not any(holds(intervals.get(str(name), []), moment) for name in active):
        return f"outside its active intervals {', '.join(map(str, active))}"
    return None


def moment_of(value: Any) -> datetime.datetime:  # noqa: ANN401 - a YAML timestamp or text
    """An aware datetime from an RFC 3339 text or a YAML timestamp (UTC when it has no
    offset)."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise IntervalError(f"{value!r} is not an RFC 3339 time "
                                "(2026-12-05T03:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment
