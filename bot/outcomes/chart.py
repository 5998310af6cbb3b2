"""A patient's course drawn as a PNG: pain and function (both 0-10) over dates, each
visit marked, and around each first value the band of changes too small to be clinically
important. Labels come from the catalog; the image carries no name."""

from __future__ import annotations

import io
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.questionnaire import Measure
from bot.scores.measures import FUNCTION_POINTS, PAIN_FRACTION, PAIN_POINTS, Reading

# Phone screens: 1200 x 800 pixels, large type. Colours told apart with colour blindness
# (Okabe-Ito), and by marker shape as well.
WIDTH, HEIGHT, DPI = 1200, 800, 150
STYLE = {
    Measure.PAIN: ("#D55E00", "o"),
    Measure.FUNCTION: ("#0072B2", "s"),
}
# Fonts with Hangul before matplotlib's default: Korean labels need one installed
# (fonts-noto-cjk on Debian; README, Deploying).
FONTS = ["Noto Sans CJK KR", "NanumGothic", "Noto Sans KR", "DejaVu Sans"]


log = logging.getLogger(__name__)


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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        drawing = _draw(catalog, found, visits, tz)
    if any("missing from font" in str(w.message) for w in caught):
        # Drawn all the same, with boxes for the letters no installed font has.
        log.warning(
            "chart labels in %r need a font with their letters (fonts-noto-cjk for Korean)",
            catalog.language,
        )
    return drawing


def _draw(
    catalog: Catalog,
    found: Mapping[Measure, Sequence[Reading]],
    visits: Sequence[datetime],
    tz: ZoneInfo,
) -> Drawing:
    # Imported when a chart is drawn: matplotlib takes a second to load, which every other
    # use of the package (the CLI verbs, the bot's start) is spared.
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, DateFormatter
    from matplotlib.figure import Figure

    # Half a pixel more, or rounding makes the height 799.
    figure = Figure(figsize=(WIDTH / DPI, (HEIGHT + 0.5) / DPI), dpi=DPI, layout="constrained")
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
        # The bands explained in the legend, as a grey swatch.
        axes.fill_between([], [], color="#999999", alpha=0.25, label=catalog.raw("chart.band"))
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize=11)
        out = io.BytesIO()
        figure.savefig(out, format="png")
    width, height = canvas.get_width_height()
    return Drawing(out.getvalue(), width, height)


def _local(moment: datetime, tz: ZoneInfo) -> float:
    """A moment as matplotlib's date number, on the clinic's wall clock."""
    from matplotlib.dates import date2num

    return float(date2num(moment.astimezone(tz).replace(tzinfo=None)))  # type: ignore[no-untyped-call]
