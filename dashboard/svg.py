"""Server-side SVG charts: no JavaScript, no CDN, they print as crisply as they show.

Colours come from CSS classes (``static/dashboard.css``), so the print stylesheet can
turn them into greys and patterns; the markup only carries geometry and text.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

PAD_L, PAD_R, PAD_T, PAD_B = 40, 10, 18, 26


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _mmss(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def histogram(counts: list[int], bin_width: int, cap: float, *, window: float = 0, title: str = "",
              cap_label: str = "cap", longer: str = "%(start)s or longer", width: int = 560,
              height: int = 180) -> Markup:
    """Bars of counts per ``bin_width`` seconds from 0, a dashed line at ``cap``, and the
    ``window`` seconds before the cap shaded, where cut-off calls would pile up. The last bin
    also holds every longer call, and says so (``longer``, with ``%(start)s`` for where it starts)."""
    upper = bin_width * len(counts)
    plot_w, plot_h = width - PAD_L - PAD_R, height - PAD_T - PAD_B
    top = max(counts, default=0) or 1
    sx = plot_w / upper if upper else 1

    def x(sec: float) -> float:
        return PAD_L + sec * sx

    body = [f'<rect class="axis-bg" x="{PAD_L}" y="{PAD_T}" width="{plot_w}" height="{plot_h}"/>']
    if window:
        body.append(f'<rect class="window" x="{_num(x(cap - window))}" y="{PAD_T}" '
                    f'width="{_num(window * sx)}" height="{plot_h}"/>')
    for i, c in enumerate(counts):
        if not c:
            continue
        h = plot_h * c / top
        lo = i * bin_width
        cls = "bar near-cap" if window and cap - window <= lo < cap else "bar"
        span = longer % {"start": _mmss(lo)} if i == len(counts) - 1 else f"{_mmss(lo)}–{_mmss(lo + bin_width)}"
        body.append(f'<rect class="{cls}" x="{_num(x(lo))}" y="{_num(PAD_T + plot_h - h)}" '
                    f'width="{_num(max(bin_width * sx - 1, 1))}" height="{_num(h)}">'
                    f"<title>{escape(span)}: {c}</title></rect>")
    step = _tick_step(upper)
    for sec in range(0, int(upper) + 1, step):
        body.append(f'<line class="tick" x1="{_num(x(sec))}" x2="{_num(x(sec))}" y1="{PAD_T + plot_h}" '
                    f'y2="{PAD_T + plot_h + 4}"/><text class="label" x="{_num(x(sec))}" '
                    f'y="{height - 8}" text-anchor="middle">{sec // 60}</text>')
    body.append(f'<text class="label" x="{PAD_L - 6}" y="{PAD_T + 8}" text-anchor="end">{top}</text>'
                f'<text class="label" x="{PAD_L - 6}" y="{PAD_T + plot_h}" text-anchor="end">0</text>')
    if counts:
        body.append(f'<text class="label longer" x="{width - PAD_R}" y="{PAD_T + 8}" text-anchor="end">'
                    f'{escape(longer % {"start": _mmss(upper - bin_width)})}</text>')
    if 0 <= cap <= upper:
        body.append(f'<line class="cap" x1="{_num(x(cap))}" x2="{_num(x(cap))}" y1="{PAD_T - 4}" '
                    f'y2="{PAD_T + plot_h}"/><text class="cap-label" x="{_num(x(cap) - 3)}" '
                    f'y="{PAD_T - 6}" text-anchor="end">{escape(cap_label)} {_mmss(cap)}</text>')
    return _svg(width, height, title, body)


def _tick_step(upper: float) -> int:
    """Whole minutes between x labels, about eight labels across."""
    minutes = max(1, math.ceil(upper / 60 / 8))
    return 60 * minutes


LEGEND_W, LEGEND_H = 150, 14   # a trend legend entry's width, a legend row's height


@dataclass(frozen=True)
class Series:
    """One line of a trend chart: ``points[i]`` is (mean, low, high) or None for no data."""

    name: str
    css: str
    points: list[tuple[float, float, float] | None]


def trend(labels: list[str], series: list[Series], *, title: str = "", width: int = 560,
          height: int = 200) -> Markup:
    """Rates in [0, 1] over time: each series a line with its interval as a shaded band.
    Buckets without data leave a gap rather than a line drawn through nothing."""
    plot_w, plot_h = width - PAD_L - PAD_R, height - PAD_T - PAD_B - 14
    n = len(labels)

    def x(i: int) -> float:
        return PAD_L + (plot_w * (i + 0.5) / n if n else 0)

    def y(v: float) -> float:
        return PAD_T + plot_h * (1 - min(max(v, 0.0), 1.0))

    body = [f'<rect class="axis-bg" x="{PAD_L}" y="{PAD_T}" width="{plot_w}" height="{plot_h}"/>']
    for v in (0, 0.25, 0.5, 0.75, 1):
        body.append(f'<line class="grid" x1="{PAD_L}" x2="{PAD_L + plot_w}" y1="{_num(y(v))}" y2="{_num(y(v))}"/>'
                    f'<text class="label" x="{PAD_L - 4}" y="{_num(y(v) + 3)}" text-anchor="end">{int(v * 100)}%</text>')
    every = max(1, math.ceil(n / 8))
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(f'<text class="label" x="{_num(x(i))}" y="{PAD_T + plot_h + 14}" '
                        f'text-anchor="middle">{escape(label)}</text>')
    for k, s in enumerate(series):
        for run in _runs(s.points):
            upper = " ".join(f"{_num(x(i))},{_num(y(p[2]))}" for i, p in run)
            lower = " ".join(f"{_num(x(i))},{_num(y(p[1]))}" for i, p in reversed(run))
            line = " ".join(f"{_num(x(i))},{_num(y(p[0]))}" for i, p in run)
            body.append(f'<polygon class="band {s.css}" points="{upper} {lower}"/>')
            body.append(f'<polyline class="line {s.css}" points="{line}"/>')
            if len(run) == 1:   # a lone week: its interval as a bar and its value in words, not a dot alone
                (i, p), = run
                body.append(f'<line class="whisker {s.css}" x1="{_num(x(i))}" x2="{_num(x(i))}" '
                            f'y1="{_num(y(p[1]))}" y2="{_num(y(p[2]))}"/>'
                            f'<text class="label value {s.css}" x="{_num(x(i) + 8 + 40 * k)}" y="{_num(y(p[0]) + 3)}">'
                            f'{round(p[0] * 100)}%</text>')
            body.extend(f'<circle class="dot {s.css}" cx="{_num(x(i))}" cy="{_num(y(p[0]))}" r="2.5">'
                        f"<title>{escape(s.name)} {escape(labels[i])}: {p[0]:.0%} ({p[1]:.0%}–{p[2]:.0%})</title>"
                        f"</circle>" for i, p in run)
    # The legend: 150 px an entry, as many to a row as fit, more rows below when they do not.
    per_row = max(1, (width - PAD_L - 8) // LEGEND_W)
    rows = max(1, math.ceil(len(series) / per_row))
    for k, s in enumerate(series):
        lx, ly = PAD_L + 8 + LEGEND_W * (k % per_row), height + LEGEND_H * (k // per_row)
        body.append(f'<rect class="swatch {s.css}" x="{lx}" y="{ly - 12}" width="10" height="10"/>'
                    f'<text class="label" x="{lx + 14}" y="{ly - 3}">{escape(s.name)}</text>')
    return _svg(width, height + LEGEND_H * (rows - 1), title, body)


def _runs(points):
    run = []
    for i, p in enumerate(points):
        if p is None or any(v is None or math.isnan(v) for v in p):
            if run:
                yield run
            run = []
        else:
            run.append((i, p))
    if run:
        yield run
