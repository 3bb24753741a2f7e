"""A text work's ``image`` card for marketplaces: the text set on a plain page, as PNG.

Marketplaces show a token's ``image``; a text work's metadata keeps the text itself
and points ``image`` at this card so the listing shows something readable. The card
is deterministic: Pillow's bundled font (no system fonts, which differ between
machines), fixed layout, and the store's PNG encoder (no timestamps).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tastemaker.store.media import encode_png

SIZE = 768
MARGIN = 64
BODY_PX, FOOTER_PX = 28, 20
LINE_GAP = 1.35
PAPER, INK, MUTED = (250, 247, 240), (28, 28, 32), (120, 116, 108)


@cache
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=px)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Greedy word wrap by rendered width; paragraphs kept, over-long words broken."""
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        line = ""
        for word in paragraph.split():
            while draw.textlength(word, font=font) > width:  # a word wider than the page
                cut = len(word)
                while cut > 1 and draw.textlength(word[:cut], font=font) > width:
                    cut -= 1
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:cut])
                word = word[cut:]
            trial = f"{line} {word}".strip()
            if draw.textlength(trial, font=font) <= width:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def text_card(text: str, footer: str) -> bytes:
    """PNG bytes of ``text`` set on a square card with ``footer`` beneath it."""
    image = Image.new("RGB", (SIZE, SIZE), PAPER)
    draw = ImageDraw.Draw(image)
    body, small = _font(BODY_PX), _font(FOOTER_PX)
    step = int(BODY_PX * LINE_GAP)
    room = (SIZE - 2 * MARGIN - 2 * FOOTER_PX) // step
    lines = _wrap(draw, text, body, SIZE - 2 * MARGIN)
    if len(lines) > room:  # the metadata keeps the whole text; the card shows its start
        lines = [*lines[: room - 1], lines[room - 1].rstrip() + " …"]
    y = MARGIN
    for line in lines:
        draw.text((MARGIN, y), line, font=body, fill=INK)
        y += step
    draw.text((MARGIN, SIZE - MARGIN - FOOTER_PX), footer, font=small, fill=MUTED)
    return encode_png(np.asarray(image))
