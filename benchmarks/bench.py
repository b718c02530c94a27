"""Time the full build against its floor: one plain WeasyPrint render of the same final HTML.

The floor writes the same kind of PDF (tagged PDF/UA-1) with the same stylesheets and fetcher.

    python benchmarks/bench.py [--runs 5]

Both are measured in the same process and run, interleaved, and reported as medians; the
ratio says what contents, page labels, per-chapter layout and post-processing cost beyond
laying the book out once.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from weasyprint import CSS, HTML  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from bookpress.build import build  # noqa: E402
from bookpress.fetch import BookFetcher  # noqa: E402
from bookpress.load import load_book  # noqa: E402
from bookpress.model import Edition, Options  # noqa: E402
from bookpress.render import render_chapters, render_whole_book  # noqa: E402
from bookpress.typeset import STYLESHEETS, typeset  # noqa: E402


def final_html(edition: Edition) -> str:
    """The whole book as one HTML document, contents and index filled in, as the pipeline made it."""
    book = load_book(ROOT)
    chapters = render_chapters(book, edition)
    typeset_book = typeset(book, chapters, edition, timestamp="2026-01-01T00:00:00Z")
    return render_whole_book(book, typeset_book.front_html, [part.section for part in typeset_book.parts])


def floor(html: str, edition: Edition) -> None:
    """One plain WeasyPrint render of the final HTML, same stylesheets and fetcher."""
    fetcher = BookFetcher(ROOT)
    fonts = FontConfiguration()
    names = (*STYLESHEETS, *edition.stylesheets)
    sheets = [CSS(filename=str(ROOT / "layout" / name), url_fetcher=fetcher, font_config=fonts) for name in names]
    # The same output as the build (tagged PDF/UA-1): tagging is WeasyPrint's work, not the pipeline's.
    variant = {"pdf_variant": edition.pdf_variant} if edition.pdf_variant else {}
    HTML(string=html, base_url=(ROOT / "chapters").as_uri() + "/", url_fetcher=fetcher).write_pdf(
        stylesheets=sheets, font_config=fonts, **variant)


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    edition = Edition()
    html = final_html(edition)
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "book.pdf"
        builds, floors = [], []
        for _ in range(arguments.runs):
            builds.append(timed(lambda: build(ROOT, Options(output=output))))
            floors.append(timed(lambda: floor(html, edition)))
    full, base = statistics.median(builds), statistics.median(floors)
    print(f"full build: {full:.2f} s (median of {arguments.runs})")
    print(f"floor (one plain WeasyPrint render of the final HTML): {base:.2f} s")
    print(f"ratio: {full / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
