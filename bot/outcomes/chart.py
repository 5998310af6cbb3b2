"""A patient's course drawn as a PNG: pain and function (both 0-10) over dates, each
visit marked, and around each first value the band of changes too small to be clinically
important. Labels come from the catalog; the image carries no name."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
from matplotlib.figure import Figure

from bot.content import Catalog
from bot.questionnaire import Measure
from bot.scores.measures import FUNCTION_POINTS, PAIN_FRACTION, PAIN_POINTS, Reading

# Phone screens: 1200 x 800 pixels, large type. Colours told apart with colour blindness
# (Okabe-Ito), and by marker shape as well.
SIZE = (8.0, 5.333)
DPI = 150
STYLE = {
    Measure.PAIN: ("#D55E00", "o"),
    Measure.FUNCTION: ("#0072B2", "s"),
}
# Fonts with Hangul before matplotlib's default: Korean labels need one installed
# (fonts-noto-cjk on Debian; README, Deploying).
FONTS = ["Noto Sans CJK KR", "NanumGothic", "Noto Sans KR", "DejaVu Sans"]


@dataclass(frozen=True, slots=True)
class Drawing:
    png: bytes
    width: int
    height: int


def smallest_important(measure: Measure, first: float) -> float:
    """The smallest change from `first` that counts as clinically important (the band's
    half-width): for pain 1 point when that is 30 % of the first value, else 2."""
    if measure is Measure.FUNCTION:
        return FUNCTION_POINTS
    return 1.0 if first > 0 and 1 / first >= PAIN_FRACTION else float(PAIN_POINTS)


def draw(
    catalog: Catalog,
    found: Mapping[Measure, Sequence[Reading]],
    visits: Sequence[datetime],
    tz: ZoneInfo,
) -> Drawing | None:
    """The chart of these readings (gaps where a score was not given), visits marked;
    None when there is no score to draw."""
    if not any(r.value is not None for readings in found.values() for r in readings):
        return None
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    with rc_context({"font.family": "sans-serif", "font.sans-serif": FONTS}):
        for moment in visits:
            axes.axvline(_local(moment, tz), color="#999999", linestyle=":", linewidth=1.2)
        if visits:
            axes.plot([], [], color="#999999", linestyle=":", label=catalog.raw("chart.visit"))
        for measure, readings in found.items():
            given = [r for r in readings if r.value is not None]
            if not given:
                continue
            colour, marker = STYLE[measure]
            first = given[0].value
            assert first is not None
            width = smallest_important(measure, first)
            axes.axhspan(
                max(0.0, first - width), min(10.0, first + width), color=colour, alpha=0.12
            )
            axes.plot(
                [_local(r.at, tz) for r in readings],
                [math.nan if r.value is None else r.value for r in readings],
                color=colour,
                marker=marker,
                markersize=8,
                linewidth=2.5,
                label=catalog.raw(f"chart.{measure}"),
            )
        axes.set_ylim(-0.3, 10.3)
        axes.set_yticks(range(0, 11, 2))
        axes.set_ylabel(catalog.raw("chart.axis"), fontsize=13)
        axes.set_title(catalog.raw("chart.title"), fontsize=15)
        # matplotlib.dates has no type hints.
        axes.xaxis.set_major_locator(AutoDateLocator(maxticks=6))  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(DateFormatter("%m-%d"))  # type: ignore[no-untyped-call]
        axes.tick_params(labelsize=12)
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=12)
        figure.text(0.01, 0.005, catalog.raw("chart.band"), fontsize=10, color="#555555")
        out = io.BytesIO()
        figure.savefig(out, format="png")
    width, height = canvas.get_width_height()
    return Drawing(out.getvalue(), width, height)


def _local(moment: datetime, tz: ZoneInfo) -> float:
    """A moment as matplotlib's date number, on the clinic's wall clock."""
    return float(date2num(moment.astimezone(tz).replace(tzinfo=None)))  # type: ignore[no-untyped-call]
