"""Bar charts and the activity timeline of the report, laid out here and drawn as inline SVG by templates.

No chart library and no script: the layout is plain arithmetic, and the
templates (``reports/partials/report_bar_chart.html``, ``report_timeline.html``)
draw it with Django's escaping. Every chart carries a ``<title>`` and ``<desc>``
for screen readers, and the page shows the same numbers in a table next to it.

Widths are percentages and heights pixels, so the chart fills its column on a
phone and on paper while the text keeps its size. Text is always dark on
white; a bar in a category's own (perhaps pale) colour gets a dark outline, so
every bar stands out from the background at 3:1 or more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from reports.selectors import Bar

TEXT = "#1b1f24"  # 16:1 on white
BAR = "#0b4f8a"  # 8.6:1 on white
GRID = "#4a525c"  # 7.6:1 on white
LABEL_MAX = 48  # characters of a label drawn in the chart; the table has the rest
ROW_HEIGHT = 48
BAR_HEIGHT = 18
BAR_SPACE = 85  # per cent of the width for the longest bar; its value is written after it
PLOT_TOP = 28
PLOT_HEIGHT = 160
TIMELINE_TICKS = 6
TIMELINE_MIN_SLOTS = 12  # a short workshop's few columns stay narrow instead of filling the width


@dataclass(frozen=True)
class BarRow:
    label: str
    short_label: str
    value: int
    label_y: int
    bar_y: int
    value_y: int
    width: float  # per cent
    fill: str
    outlined: bool


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    description: str
    label_heading: str
    value_heading: str
    rows: list[BarRow]
    height: int
    bar_height: int = BAR_HEIGHT
    text: str = TEXT


@dataclass(frozen=True)
class Column:
    label: str
    value: int
    x: float  # per cent
    width: float  # per cent
    y: int
    height: int


@dataclass(frozen=True)
class Tick:
    text: str
    x: float  # per cent
    anchor: str


@dataclass(frozen=True)
class TimelineChart:
    id: str
    title: str
    description: str
    label_heading: str
    value_heading: str
    columns: list[Column]
    ticks: list[Tick]
    peak: int
    top: int
    baseline: int
    tick_y: int
    height: int
    fill: str = BAR
    grid: str = GRID
    text: str = TEXT

    @property
    def rows(self) -> list[Column]:
        """The table next to the chart lists every step, like a bar chart's rows."""
        return self.columns


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1].rstrip() + "…"


def _describe(title: str, bars: Sequence[Bar]) -> str:
    if not bars:
        return _("%(title)s: no comments.") % {"title": title}
    listed = "; ".join(f"{bar.label}: {bar.value}" for bar in bars)
    return f"{title}. {listed}."


def bar_chart(
    bars: Sequence[Bar], *, chart_id: str, title: str, label_heading: str, value_heading: str = ""
) -> BarChart:
    """A horizontal bar chart: each bar's label above it and its value after it."""
    peak = max((bar.value for bar in bars), default=0)
    rows = []
    for index, bar in enumerate(bars):
        top = index * ROW_HEIGHT
        rows.append(
            BarRow(
                label=bar.label,
                short_label=_short(bar.label),
                value=bar.value,
                label_y=top + 16,
                bar_y=top + 22,
                value_y=top + 22 + 14,
                width=round(BAR_SPACE * bar.value / peak, 2) if peak else 0,
                fill=bar.colour or BAR,
                outlined=bool(bar.colour),
            )
        )
    return BarChart(
        id=chart_id,
        title=title,
        description=_describe(title, bars),
        label_heading=label_heading,
        value_heading=value_heading or _("Comments"),
        rows=rows,
        height=max(len(rows), 1) * ROW_HEIGHT,
    )


def timeline_chart(steps: Sequence[Bar], *, chart_id: str, title: str) -> TimelineChart:
    """Columns of comments per ten minutes, with a few times written under the axis."""
    peak = max((step.value for step in steps), default=0)
    count = len(steps)
    slot = 100 / max(count, TIMELINE_MIN_SLOTS)
    columns = []
    for index, step in enumerate(steps):
        height = round(PLOT_HEIGHT * step.value / peak) if peak else 0
        columns.append(
            Column(
                label=step.label,
                value=step.value,
                x=round(index * slot + slot * 0.1, 3),
                width=round(slot * 0.8, 3),
                y=PLOT_TOP + PLOT_HEIGHT - height,
                height=height,
            )
        )
    every = max(1, math.ceil(count / TIMELINE_TICKS))
    ticks = []
    for index in range(0, count, every):
        start = steps[index].label.split("–")[0]
        if index * slot > 80:
            ticks.append(Tick(start, round(min(100.0, (index + 1) * slot), 3), "end"))
        else:
            ticks.append(Tick(start, round(index * slot, 3), "start"))
    busiest = max(steps, key=lambda step: step.value) if steps else None
    if busiest is None:
        description = _("%(title)s: no comments.") % {"title": title}
    else:
        description = _(
            "%(title)s, from %(start)s to %(end)s. Most comments, %(peak)s, were written at %(busiest)s."
        ) % {
            "title": title,
            "start": steps[0].label.split("–")[0],
            "end": steps[-1].label.split("–")[-1],
            "peak": busiest.value,
            "busiest": busiest.label,
        }
    return TimelineChart(
        id=chart_id,
        title=title,
        description=description,
        label_heading=_("Time"),
        value_heading=_("Comments"),
        columns=columns,
        ticks=ticks,
        peak=peak,
        top=PLOT_TOP,
        baseline=PLOT_TOP + PLOT_HEIGHT,
        tick_y=PLOT_TOP + PLOT_HEIGHT + 20,
        height=PLOT_TOP + PLOT_HEIGHT + 28,
    )
