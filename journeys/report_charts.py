"""Hand-written inline SVG charts for the self-contained report (no JS library, no network).

Every data element carries the class `mark`: the page's script checks each chart has some before
declaring the report complete, so an empty chart is caught by the headless-browser test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np

PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
WIDTH, HEIGHT = 560, 340
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 14, 46
MAX_VERTICES = 800  # per line: more than the plot's width in pixels


@dataclass(frozen=True)
class Series:
    """One named line (or point set) of a chart; `dashed` marks a baseline."""

    name: str
    x: np.ndarray
    y: np.ndarray
    dashed: bool = False
    color: str | None = None


@dataclass
class _Frame:
    """Plot area and the linear maps from data to pixels."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = MARGIN_LEFT
    parts: list[str] = field(default_factory=list)

    def sx(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.x_range
        return self.left + (np.asarray(x, dtype=float) - lo) / (hi - lo or 1.0) * self.plot_width

    def sy(self, y: np.ndarray) -> np.ndarray:
        lo, hi = self.y_range
        return MARGIN_TOP + (1 - (np.asarray(y, dtype=float) - lo) / (hi - lo or 1.0)) * self.plot_height

    @property
    def plot_width(self) -> float:
        return self.width - self.left - MARGIN_RIGHT

    @property
    def plot_height(self) -> float:
        return self.height - MARGIN_TOP - MARGIN_BOTTOM


def nice_ticks(lo: float, hi: float, count: int = 5) -> np.ndarray:
    """About `count` round tick values covering [lo, hi]."""
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
        return np.array([lo])
    raw = (hi - lo) / count
    magnitude = 10 ** np.floor(np.log10(raw))
    step = magnitude * min((1, 2, 2.5, 5, 10), key=lambda m: abs(m * magnitude - raw))
    return np.arange(np.ceil(lo / step) * step, hi + step * 1e-9, step)


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1_000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _axes(frame: _Frame, x_label: str, y_label: str, x_ticks: bool = True) -> None:
    bottom = frame.height - MARGIN_BOTTOM
    right = frame.width - MARGIN_RIGHT
    parts = frame.parts
    for tick in nice_ticks(*frame.y_range):
        y = float(frame.sy(tick))
        parts.append(f'<line class="grid" x1="{frame.left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>'
        )
    if x_ticks:
        for tick in nice_ticks(*frame.x_range):
            x = float(frame.sx(tick))
            parts.append(f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}"/>')
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{_fmt(tick)}</text>'
            )
    parts.append(f'<line class="axis" x1="{frame.left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    parts.append(f'<line class="axis" x1="{frame.left}" x2="{frame.left}" y1="{MARGIN_TOP}" y2="{bottom}"/>')
    parts.append(
        f'<text class="label" x="{(frame.left + right) / 2:.0f}" y="{frame.height - 8}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text class="label" transform="translate(14 {(MARGIN_TOP + bottom) / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )


def _figure(chart_id: str, title: str, frame: _Frame, legend: list[tuple[str, str, bool]], note: str) -> str:
    items = "".join(
        f'<span class="key"><i style="background:{color}"{" class=dashed" if dashed else ""}></i>{escape(name)}</span>'
        for name, color, dashed in legend
    )
    svg = (
        f'<svg viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" height="{frame.height}" '
        f'role="img" aria-label="{escape(title)}">{"".join(frame.parts)}</svg>'
    )
    caption = f'<p class="note">{escape(note)}</p>' if note else ""
    return (
        f'<figure class="chart" id="{chart_id}"><figcaption>{escape(title)}</figcaption>{svg}'
        f'<div class="legend">{items}</div>{caption}</figure>'
    )


def _color(series: Series, index: int) -> str:
    return series.color or PALETTE[index % len(PALETTE)]


def line_chart(
    chart_id: str,
    title: str,
    series: list[Series],
    x_label: str,
    y_label: str,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    note: str = "",
    points: bool = False,
) -> str:
    """Lines (dashed ones are baselines); `points` also draws the vertices."""
    xs = np.concatenate([s.x for s in series]) if series else np.zeros(1)
    ys = np.concatenate([s.y for s in series]) if series else np.zeros(1)
    frame = _Frame(x_range or _padded(xs), y_range or _padded(ys))
    _axes(frame, x_label, y_label)
    legend = []
    for i, s in enumerate(series):
        color = _color(s, i)
        keep = np.flatnonzero(np.isfinite(s.x) & np.isfinite(s.y))
        if len(keep) > MAX_VERTICES:  # thinner than a pixel: evenly spaced vertices, both ends kept
            keep = keep[np.unique(np.linspace(0, len(keep) - 1, MAX_VERTICES).round().astype(int))]
        px, py = frame.sx(s.x[keep]), frame.sy(s.y[keep])
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        klass = "baseline" if s.dashed else "mark"
        parts = frame.parts
        parts.append(
            f'<polyline class="{klass}" fill="none" stroke="{color}" stroke-width="2"{dash} points="{path}">'
            f"<title>{escape(s.name)}</title></polyline>"
        )
        if points or len(px) == 1:
            radius = 5 if len(px) == 1 else 3
            parts.extend(
                f'<circle class="mark" cx="{a:.1f}" cy="{b:.1f}" r="{radius}" fill="{color}">'
                f"<title>{escape(s.name)}: {_fmt(x)}, {_fmt(y)}</title></circle>"
                for a, b, x, y in zip(px, py, s.x[keep], s.y[keep], strict=True)
            )
        legend.append((s.name, color, s.dashed))
    return _figure(chart_id, title, frame, legend, note)


def bar_chart(
    chart_id: str,
    title: str,
    labels: list[str],
    groups: list[Series],
    value_label: str,
    note: str = "",
    value_range: tuple[float, float] | None = None,
) -> str:
    """Horizontal grouped bars: one row per label, one bar per group (`Series.y` holds the values)."""
    values = np.concatenate([g.y for g in groups]) if groups else np.zeros(1)
    finite = values[np.isfinite(values)]
    lo, hi = value_range or (
        min(0.0, float(finite.min(initial=0))),
        float(finite.max(initial=1)) * 1.05 or 1.0,
    )
    row_height = max(14, 8 * len(groups) + 8)
    left = min(260, 24 + 7 * max((len(label) for label in labels), default=4))
    height = MARGIN_TOP + MARGIN_BOTTOM + row_height * max(len(labels), 1)
    frame = _Frame((lo, hi), (0, 1), height=height, left=left)
    bottom = height - MARGIN_BOTTOM
    for tick in nice_ticks(lo, hi):
        x = float(frame.sx(tick))
        frame.parts.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{MARGIN_TOP}" y2="{bottom}"/>')
        frame.parts.append(
            f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{_fmt(tick)}</text>'
        )
    frame.parts.append(
        f'<text class="label" x="{(left + WIDTH - MARGIN_RIGHT) / 2:.0f}" y="{height - 8}" '
        f'text-anchor="middle">{escape(value_label)}</text>'
    )
    bar = (row_height - 6) / max(len(groups), 1)
    zero = float(frame.sx(max(lo, 0.0)))
    for row, label in enumerate(labels):
        top = MARGIN_TOP + row * row_height + 3
        frame.parts.append(
            f'<text class="tick" x="{left - 6}" y="{top + row_height / 2 + 1:.1f}" text-anchor="end">'
            f"{escape(label[:36])}</text>"
        )
        for g, group in enumerate(groups):
            value = float(group.y[row])
            if not np.isfinite(value):
                continue
            end = float(frame.sx(value))
            frame.parts.append(
                f'<rect class="mark" x="{min(zero, end):.1f}" y="{top + g * bar:.1f}" width="{abs(end - zero):.1f}" '
                f'height="{max(bar - 1, 1):.1f}" fill="{_color(group, g)}"><title>{escape(label)}'
                f"{' / ' + escape(group.name) if len(groups) > 1 else ''}: {_fmt(value)}</title></rect>"
            )
    legend = [(g.name, _color(g, i), False) for i, g in enumerate(groups)] if len(groups) > 1 else []
    return _figure(chart_id, title, frame, legend, note)


def scatter_chart(
    chart_id: str,
    title: str,
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    x_label: str,
    y_label: str,
    note: str = "",
) -> str:
    """Points coloured by group (e.g. a 2-D projection coloured by segment)."""
    frame = _Frame(_padded(x), _padded(y))
    _axes(frame, x_label, y_label)
    names, index = np.unique(groups, return_inverse=True)
    colors = np.array([PALETTE[i % len(PALETTE)] for i in range(len(names))])
    px, py = frame.sx(x), frame.sy(y)
    # interleaved drawing order (seeded), so no group hides another under its points
    order = np.random.default_rng(0).permutation(len(px))
    frame.parts.append('<g fill-opacity="0.6">')
    frame.parts.extend(
        f'<circle class="mark" cx="{px[k]:.1f}" cy="{py[k]:.1f}" r="2" fill="{colors[index[k]]}"/>'
        for k in order
    )
    frame.parts.append("</g>")
    counts = np.bincount(index, minlength=len(names))
    legend = [
        (f"{name} ({count:,})", color, False)
        for name, count, color in zip(names, counts, colors, strict=True)
    ]
    return _figure(chart_id, title, frame, legend, note)


def heatmap(
    chart_id: str,
    title: str,
    row_labels: list[str],
    col_labels: list[str],
    values: np.ndarray,
    text: np.ndarray | None = None,
    note: str = "",
    diverging: bool = True,
    cell_width: int | None = None,
) -> str:
    """Matrix of coloured cells (diverging blue-red around 0, or sequential), with optional cell text."""
    cell_w = cell_width or max(36, min(90, 440 // max(len(col_labels), 1)))
    cell_h = 22
    left = min(240, 24 + 7 * max((len(label) for label in row_labels), default=4))
    top = 90
    width = left + cell_w * len(col_labels) + MARGIN_RIGHT + 60
    height = top + cell_h * len(row_labels) + 10
    frame = _Frame((0, 1), (0, 1), width=width, height=height, left=left)
    finite = np.abs(values[np.isfinite(values)])
    scale = float(finite.max(initial=0)) or 1.0
    for j, label in enumerate(col_labels):
        x = left + j * cell_w + cell_w / 2
        frame.parts.append(
            f'<text class="tick" transform="translate({x:.1f} {top - 6}) rotate(-40)">{escape(label[:24])}</text>'
        )
    for i, label in enumerate(row_labels):
        y = top + i * cell_h
        frame.parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(label[:32])}</text>'
        )
        for j in range(len(col_labels)):
            value = float(values[i, j])
            fill = _cell_color(value / scale, diverging) if np.isfinite(value) else "#eee"
            shown = str(text[i, j]) if text is not None else _fmt(value)
            frame.parts.append(
                f'<rect class="mark" x="{left + j * cell_w}" y="{y}" width="{cell_w - 1}" height="{cell_h - 1}" '
                f'fill="{fill}"><title>{escape(label)} / {escape(col_labels[j])}: {escape(shown)}</title></rect>'
            )
            if text is not None or cell_w >= 44:
                frame.parts.append(
                    f'<text class="cell" x="{left + j * cell_w + cell_w / 2:.1f}" y="{y + 15}" '
                    f'text-anchor="middle">{escape(shown)}</text>'
                )
    return _figure(chart_id, title, frame, [], note)


def _cell_color(t: float, diverging: bool) -> str:
    """Blue (negative) - white - red (positive); sequential white - blue when not diverging."""
    t = float(np.clip(t, -1, 1))
    if not diverging:
        r, g, b = 255 - 177 * abs(t), 255 - 134 * abs(t), 255 - 88 * abs(t)
    elif t >= 0:
        r, g, b = 255 - 30 * t, 255 - 168 * t, 255 - 166 * t
    else:
        r, g, b = 255 - 177 * -t, 255 - 134 * -t, 255 - 88 * -t
    return f"rgb({r:.0f},{g:.0f},{b:.0f})"


def _padded(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (0.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    pad = (hi - lo) * 0.04 or max(abs(hi) * 0.1, 1.0)
    return (lo - pad, hi + pad)
