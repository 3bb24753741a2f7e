"""The taste page's inline SVG plots carry a y scale, not only a zero line."""

from __future__ import annotations

import re

from tastemaker.web.taste import svg_plot


def _y_labels(svg: str) -> list[str]:
    return re.findall(r'class="tick y">([^<]+)<', svg)


def test_a_taste_plot_labels_its_y_scale_from_the_largest_lean() -> None:
    svg = svg_plot("brightness", [1, 2, 3], {"community": [0.2, -0.1, None]})
    assert _y_labels(svg) == ["+0.20", "+0.10", "0", "-0.10", "-0.20"]
    # The circle of the 0.2 point sits on the +0.20 tick's line.
    top_tick = re.search(r'y1="([\d.]+)" y2="[\d.]+" class="axis"/><text[^>]*>\+0\.20', svg)
    assert top_tick and f'cy="{top_tick.group(1)}"' in svg


def test_small_leans_keep_three_decimals() -> None:
    assert _y_labels(svg_plot("warmth", [1], {"you": [0.004]}))[0] == "+0.010"
