"""Timelines drawn as SVG: an alert's series against its threshold, and per alert identity a
strip with its pending and firing spans; the version it is compared with overlaid.

Hand-written SVG rather than a plotting library: the pictures are lines, rectangles and text
on one time axis, which takes less code than adapting a library's figure model, needs no
optional dependency to install, writes the same bytes for the same input, and leaves the
elements marked (``class``, ``data-start``, ``data-end``) so tests read back what was drawn.
Lines are thinned to a low and a high point per pixel column, so a month at one-minute steps
stays a picture of a few hundred kilobytes at most.
"""

from __future__ import annotations

import datetime
import html
import math
import re
from dataclasses import dataclass, field

WIDTH = 960
LEFT, RIGHT = 64, 16
PLOT_TOP, PLOT_HEIGHT = 44, 200
STRIP, STRIP_GAP = 14, 4
MAX_LINES = 10  # series drawn per picture; the rest are counted in a note
MAX_STRIPS = 12  # alert identities drawn per version
COLOURS = ("#1f77b4", "#2ca02c", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f", "#e377c2",
           "#393b79", "#637939", "#843c39")
FIRING, PENDING = "#d62728", "#ff7f0e"
BEFORE_FIRING, BEFORE_PENDING = "#9467bd", "#c5b0d5"


@dataclass(frozen=True)
class Span:
    start: float
    end: float | None  # None: still on at the end of the range


@dataclass
class Strip:
    """One alert identity's states: ``before`` when it is the compared version's."""
    label: str
    firing: list[Span] = field(default_factory=list)
    pending: list[Span] = field(default_factory=list)
    before: bool = False
    side: str | None = None  # the word left of the strip (default: now / before)


@dataclass
class Picture:
    title: str
    subtitle: str
    start: float
    end: float
    step: float
    lines: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # label -> (t, v)
    threshold: float | None = None
    threshold_before: float | None = None
    strips: list[Strip] = field(default_factory=list)
    marks: list[float] = field(default_factory=list)  # evaluations a test checks
    clock: bool = True  # the time axis in UTC dates; False: minutes from the start
    plot_height: int = PLOT_HEIGHT
    key: bool = False  # list each line's label under the picture


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _when(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M")


def _minutes(seconds: float) -> str:
    hours, minutes = divmod(int(round(seconds / 60)), 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def _number(value: float) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.2e}"


def spans(states: dict, times: list) -> dict[tuple, list[Span]]:
    """Per identity, its runs in ``states`` (time -> identities) over ``times``."""
    out: dict[tuple, list[Span]] = {}
    since: dict[tuple, int] = {}
    for t in times:
        for identity in list(since):
            if identity not in states[t]:
                out.setdefault(identity, []).append(Span(since.pop(identity), t))
        for identity in states[t]:
            since.setdefault(identity, t)
    for identity, start in since.items():
        out.setdefault(identity, []).append(Span(start, None))
    return out


def thin(points: list[tuple[float, float]], start: float, end: float, columns: int
         ) -> list[tuple[float, float]]:
    """``points`` with at most a low and a high point per column (in time order): what a line
    of ``columns`` pixels can show of them."""
    if len(points) <= 2 * columns:
        return points
    width = (end - start) / columns or 1.0
    out: list[tuple[float, float]] = []
    bucket: list[tuple[float, float]] = []
    current = None
    for point in points:
        column = int((point[0] - start) / width)
        if column != current and bucket:
            low, high = min(bucket, key=lambda p: p[1]), max(bucket, key=lambda p: p[1])
            out += sorted({low, high})
            bucket = []
        current = column
        bucket.append(point)
    if bucket:
        low, high = min(bucket, key=lambda p: p[1]), max(bucket, key=lambda p: p[1])
        out += sorted({low, high})
    return out


def svg(picture: Picture) -> str:
    """The picture as a standalone SVG document."""
    p = picture
    subtitle = [part.strip() for part in p.subtitle.split("; ")]
    plot_top = PLOT_TOP + 14 * (len(subtitle) - 1)
    plot_w = WIDTH - LEFT - RIGHT
    span = max(p.end - p.start, 1e-9)

    def x(t: float) -> float:
        return LEFT + (min(max(t, p.start), p.end) - p.start) / span * plot_w

    values = [v for points in p.lines.values() for _, v in points if math.isfinite(v)]
    values += [v for v in (p.threshold, p.threshold_before) if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        low, high = low - 1.0, high + 1.0
    pad = (high - low) * 0.05
    low, high = low - pad, high + pad

    def y(v: float) -> float:
        return plot_top + (high - v) / (high - low) * p.plot_height

    strips = p.strips[:MAX_STRIPS]
    hidden = len(p.strips) - len(strips)
    strips_top = plot_top + p.plot_height + 12
    marks_y = strips_top + len(strips) * (STRIP + STRIP_GAP) + (14 if hidden else 0)
    axis_y = marks_y + (14 if p.marks else 0) + 6
    keyed = sorted(p.lines)[:MAX_LINES] if p.key else []
    height = axis_y + 34 + (14 * len(keyed) + 6 if keyed else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11" '
           f'data-start="{p.start:.17g}" data-end="{p.end:.17g}">',
           f'<title>{html.escape(p.title)}</title>',
           f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
           f'<text x="{LEFT}" y="16" font-size="14" font-weight="bold">'
           f'{html.escape(p.title)}</text>',
           *(f'<text x="{LEFT}" y="{32 + 14 * k}" fill="#444444">{html.escape(line)}</text>'
             for k, line in enumerate(subtitle)),
           f'<rect class="plot" x="{LEFT}" y="{plot_top}" width="{plot_w}" '
           f'height="{p.plot_height}" fill="#fafafa" stroke="#cccccc"/>']
    # episode boundaries behind the lines: where each firing span starts and ends
    for strip in strips:
        colour = BEFORE_FIRING if strip.before else FIRING
        for s in strip.firing:
            for t in (s.start, s.end):
                if t is not None:
                    out.append(f'<line class="boundary" x1="{_fmt(x(t))}" y1="{plot_top}" '
                               f'x2="{_fmt(x(t))}" y2="{plot_top + p.plot_height}" '
                               f'stroke="{colour}" stroke-opacity="0.35"/>')
    for k, (label, points) in enumerate(sorted(p.lines.items())[:MAX_LINES]):
        colour = COLOURS[k % len(COLOURS)]
        runs: list[list[tuple[float, float]]] = [[]]
        for point in thin([q for q in points if math.isfinite(q[1])], p.start, p.end,
                          plot_w):
            if runs[-1] and point[0] - runs[-1][-1][0] > 1.5 * p.step * max(
                    1.0, (p.end - p.start) / p.step / plot_w):
                runs.append([])
            runs[-1].append(point)
        for run in runs:
            if len(run) == 1:
                out.append(f'<circle class="series" cx="{_fmt(x(run[0][0]))}" '
                           f'cy="{_fmt(y(run[0][1]))}" r="1.5" fill="{colour}"/>')
            elif run:
                coords = " ".join(f"{_fmt(x(t))},{_fmt(y(v))}" for t, v in run)
                out.append(f'<polyline class="series" data-label="{html.escape(label)}" '
                           f'points="{coords}" fill="none" stroke="{colour}" '
                           f'stroke-width="1.2"/>')
    if len(p.lines) > MAX_LINES:
        out.append(f'<text x="{WIDTH - RIGHT}" y="{plot_top - 4}" text-anchor="end" '
                   f'fill="#444444">{MAX_LINES} of {len(p.lines)} series drawn</text>')
    for value, css, colour in ((p.threshold_before, "threshold before", BEFORE_FIRING),
                               (p.threshold, "threshold", "#000000")):
        if value is None:
            continue
        out.append(f'<line class="{css}" x1="{LEFT}" y1="{_fmt(y(value))}" '
                   f'x2="{WIDTH - RIGHT}" y2="{_fmt(y(value))}" stroke="{colour}" '
                   f'stroke-dasharray="6 4" data-value="{value:g}"/>')
        out.append(f'<text x="{LEFT - 4}" y="{_fmt(y(value) + 4)}" text-anchor="end" '
                   f'fill="{colour}">{html.escape(_number(value))}</text>')
    out.append(f'<text x="{LEFT - 4}" y="{plot_top + 10}" text-anchor="end" fill="#666666">'
               f'{html.escape(_number(high - pad))}</text>')
    out.append(f'<text x="{LEFT - 4}" y="{plot_top + p.plot_height}" text-anchor="end" '
               f'fill="#666666">{html.escape(_number(low + pad))}</text>')
    for n, strip in enumerate(strips):
        top = strips_top + n * (STRIP + STRIP_GAP)
        firing, pending = (BEFORE_FIRING, BEFORE_PENDING) if strip.before else (FIRING,
                                                                              PENDING)
        which = "before" if strip.before else "now"
        out.append(f'<rect class="strip {which}" x="{LEFT}" y="{top}" width="{plot_w}" '
                   f'height="{STRIP}" fill="#f0f0f0"/>')
        side = strip.side if strip.side is not None else which
        out.append(f'<text x="{LEFT - 4}" y="{top + 11}" text-anchor="end" fill="#444444">'
                   f'{html.escape(side)}</text>')
        for css, spans, colour in (("pending", strip.pending, pending),
                                   ("firing", strip.firing, firing)):
            for s in spans:
                a, b = x(s.start), x(s.end if s.end is not None else p.end)
                out.append(f'<rect class="{css} {which}" x="{_fmt(a)}" y="{top}" '
                           f'width="{_fmt(max(b - a, 1.0))}" height="{STRIP}" '
                           f'fill="{colour}" data-start="{s.start:.17g}" '
                           f'data-end="{"" if s.end is None else f"{s.end:.17g}"}"/>')
        out.append(f'<text x="{LEFT + 4}" y="{top + 11}" fill="#000000" stroke="#ffffff" '
                   f'stroke-width="3" paint-order="stroke">'
                   f'{html.escape(strip.label[:140])}</text>')
    if hidden:
        out.append(f'<text x="{LEFT}" y="{strips_top + len(strips) * (STRIP + STRIP_GAP) + 10}"'
                   f' fill="#444444">and {hidden} more alert series</text>')
    if p.marks:
        out.append(f'<text x="{LEFT - 4}" y="{marks_y + 10}" text-anchor="end" '
                   'fill="#444444">checked</text>')
        for t in p.marks:
            out.append(f'<line class="mark" data-t="{t:.17g}" x1="{_fmt(x(t))}" '
                       f'y1="{marks_y}" x2="{_fmt(x(t))}" y2="{marks_y + 10}" '
                       'stroke="#000000" stroke-width="1.5"/>')
    for t, anchor in ((p.start, "start"), ((p.start + p.end) / 2, "middle"),
                      (p.end, "end")):
        shown = f"{_when(t)} UTC" if p.clock else _minutes(t - p.start)
        out.append(f'<text x="{_fmt(x(t))}" y="{axis_y + 12}" text-anchor="{anchor}" '
                   f'fill="#444444">{shown}</text>')
    legend = [("firing", FIRING), ("pending", PENDING)]
    if any(s.before for s in strips):
        legend += [("firing before", BEFORE_FIRING), ("pending before", BEFORE_PENDING)]
    lx = LEFT
    for name, colour in legend:
        out.append(f'<rect x="{lx}" y="{axis_y + 20}" width="10" height="10" '
                   f'fill="{colour}"/><text x="{lx + 14}" y="{axis_y + 29}">{name}</text>')
        lx += 24 + 7 * len(name)
    for k, label in enumerate(keyed):
        ky = axis_y + 44 + 14 * k
        out.append(f'<rect x="{LEFT}" y="{ky - 9}" width="10" height="3" '
                   f'fill="{COLOURS[k % len(COLOURS)]}"/><text x="{LEFT + 14}" y="{ky}">'
                   f'{html.escape(label[:140])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def stack(pictures: list[Picture], comment: str) -> str:
    """Several pictures one under the other in one SVG document, ``comment`` at its top."""
    parts, offset = [], 0
    for picture in pictures:
        inner = svg(picture)
        height = int(re.search(r'height="(\d+)"', inner).group(1))
        parts.append(inner.replace("<svg ", f'<svg x="0" y="{offset}" ', 1))
        offset += height + 8
    safe = comment.replace("--", "- -")
    return (f"<!-- {safe} -->\n"
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{offset}" '
            f'viewBox="0 0 {WIDTH} {offset}">\n' + "".join(parts) + "</svg>\n")


def index_html(title: str, summary: str, entries: list[tuple[str, str, str]]) -> str:
    """A page that shows every picture, offline: (heading, one line, SVG file name) each."""
    rows = []
    for heading, line, name in entries:
        rows.append(f'<section id="{html.escape(name)}"><h2>{html.escape(heading)}</h2>'
                    f'<img src="{html.escape(name)}" alt="{html.escape(heading)}: '
                    f'{html.escape(line)}" width="{WIDTH}"></section>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
            "margin:16px;color:#222}h2{font-size:15px;margin:18px 0 4px}"
            "p{margin:0 0 6px;color:#444}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(summary)}</p>\n"
            + "\n".join(rows) + "\n</body></html>\n")
