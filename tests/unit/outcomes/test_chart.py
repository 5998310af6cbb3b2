"""The chart of a patient's course: a PNG a phone shows well, with both measures drawn,
gaps where a score was not given, and no name on it."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy
import pytest
from PIL import Image

from bot.content import Content
from bot.outcomes import chart
from bot.questionnaire import Measure
from bot.scores.measures import Reading

DAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/London")


def colours_near(image: Image.Image, hex_colour: str) -> int:
    """How many pixels are (almost) this colour."""
    want = numpy.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    pixels = numpy.asarray(image.convert("RGB")).astype(int)
    return int((numpy.abs(pixels - want) <= 12).all(axis=2).sum())


def readings(values: list[float | None]) -> list[Reading]:
    return [Reading(DAY + timedelta(days=7 * i), v) for i, v in enumerate(values)]


def test_the_chart_is_a_phone_sized_png_with_both_measures_drawn() -> None:
    catalog = Content.load().catalog("en")
    found = {Measure.PAIN: readings([7, 5, 3]), Measure.FUNCTION: readings([3.0, None, 6.5])}
    visits = [DAY, DAY + timedelta(days=7), DAY + timedelta(days=14)]
    drawing = chart.draw(catalog, found, visits, TZ)
    assert drawing is not None
    image = Image.open(io.BytesIO(drawing.png))
    assert image.format == "PNG"
    assert image.size == (drawing.width, drawing.height) == (1200, 800)
    pixels = numpy.asarray(image.convert("RGB")).reshape(-1, 3)
    assert len(numpy.unique(pixels, axis=0)) > 50  # not blank
    pain, function = chart.STYLE[Measure.PAIN][0], chart.STYLE[Measure.FUNCTION][0]
    assert colours_near(image, pain) > 500 and colours_near(image, function) > 300


def test_a_gap_is_never_drawn_as_a_zero_and_no_scores_draw_nothing() -> None:
    catalog = Content.load().catalog("en")
    assert chart.draw(catalog, {Measure.PAIN: readings([None, None])}, [], TZ) is None
    with_gap = chart.draw(catalog, {Measure.FUNCTION: readings([8.0, None, 8.0])}, [], TZ)
    zero = chart.draw(catalog, {Measure.FUNCTION: readings([8.0, 0.0, 8.0])}, [], TZ)
    assert with_gap is not None and zero is not None
    # The line stays at 8 across the gap; a zero would draw it down through the low scores.
    colour = chart.STYLE[Measure.FUNCTION][0]
    low = []
    for drawing in (with_gap, zero):
        image = Image.open(io.BytesIO(drawing.png))
        low.append(colours_near(image.crop((0, 300, image.width, 560)), colour))
    assert low[0] == 0 and low[1] > 200


@pytest.mark.parametrize(("first", "width"), [(7, 2.0), (3, 1.0), (0, 2.0)])
def test_the_band_is_the_smallest_important_change(first: float, width: float) -> None:
    assert chart.smallest_important(Measure.PAIN, first) == width
    assert chart.smallest_important(Measure.FUNCTION, first) == 2.0


def test_korean_labels_without_a_hangul_font_still_draw_and_say_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalog = Content.load().catalog("ko")
    with caplog.at_level(logging.WARNING, logger="bot.outcomes.chart"):
        drawing = chart.draw(catalog, {Measure.PAIN: readings([6, 4])}, [], TZ)
    assert drawing is not None and drawing.png.startswith(b"\x89PNG")
    from matplotlib import font_manager

    hangul = any("CJK" in f.name or "Nanum" in f.name for f in font_manager.fontManager.ttflist)
    assert ("fonts-noto-cjk" in caplog.text) is not hangul
