"""Finish stage helper: the page order of a saddle-stitched booklet, as a pure function."""

from __future__ import annotations

Side = tuple[int | None, int | None]  # (left half, right half); None is a blank half


def padded(page_count: int) -> list[int | None]:
    """The book's pages padded to a multiple of four with blanks (None) before the back cover.

    The last page is the back cover and stays last; blanks never fall inside a chapter.
    """
    blanks = -page_count % 4
    if page_count < 2:
        return list(range(page_count)) + [None] * blanks
    return list(range(page_count - 1)) + [None] * blanks + [page_count - 1]


def saddle_stitch(page_count: int) -> list[Side]:
    """The sides of the sheets, in printing order: sheet 1 front, sheet 1 back, sheet 2 front…

    Sheet 1 front carries the last page and page 1; its back, page 2 and the last but one;
    folded together and stapled on the fold, the sheets read in order.
    """
    pages = padded(page_count)
    total = len(pages)
    sides: list[Side] = []
    for sheet in range(total // 4):
        sides.append((pages[total - 1 - 2 * sheet], pages[2 * sheet]))
        sides.append((pages[2 * sheet + 1], pages[total - 2 - 2 * sheet]))
    return sides
