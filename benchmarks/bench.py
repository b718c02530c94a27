"""Time the full build against its floor: one plain WeasyPrint render of the same final HTML.

The floor writes the same kind of PDF (tagged PDF/UA-1) with the same stylesheets and fetcher.

    python benchmarks/bench.py [--runs 5] [--sizes 1 10 40]

Both are measured in the same process and run, interleaved, and reported as medians; the
ratio says what contents, page labels, per-chapter layout and post-processing cost beyond
laying the book out once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from weasyprint import CSS, HTML  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from bookpress.build import build  # noqa: E402
from bookpress.fetch import BookFetcher  # noqa: E402
from bookpress.load import load_book  # noqa: E402
from bookpress.model import Edition, Options  # noqa: E402
from bookpress.render import render_chapters, render_whole_book  # noqa: E402
from bookpress.typeset import STYLESHEETS, typeset  # noqa: E402


def final_html(edition: Edition, root: Path = ROOT) -> str:
    """The whole book as one HTML document, contents and index filled in, as the pipeline made it."""
    book = load_book(root)
    chapters = render_chapters(book, edition)
    typeset_book = typeset(book, chapters, edition, timestamp="2026-01-01T00:00:00Z")
    return render_whole_book(book, typeset_book.front_html, [part.section for part in typeset_book.parts])


def floor(html: str, edition: Edition, root: Path = ROOT) -> None:
    """One plain WeasyPrint render of the final HTML, same stylesheets and fetcher."""
    fetcher = BookFetcher(root)
    fonts = FontConfiguration()
    names = (*STYLESHEETS, *edition.stylesheets)
    sheets = [CSS(filename=str(root / "layout" / name), url_fetcher=fetcher, font_config=fonts) for name in names]
    # The same output as the build (tagged PDF/UA-1): tagging is WeasyPrint's work, not the pipeline's.
    variant = {"pdf_variant": edition.pdf_variant} if edition.pdf_variant else {}
    HTML(string=html, base_url=(root / "chapters").as_uri() + "/", url_fetcher=fetcher).write_pdf(
        stylesheets=sheets, font_config=fonts, **variant)


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


# --- the scaling table: synthetic books of 1×, 10×, 40× the chapters ----------------------------

PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def run(*arguments) -> tuple[float, float]:
    """Seconds and peak resident memory (MiB, the largest process of the tree) of a command."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *arguments], check=True, capture_output=True, text=True)
    return time.perf_counter() - start, int(done.stdout.strip()) / 1024


def build_command(root: Path, *extra) -> list[str]:
    return [sys.executable, str(ROOT / "make_book.py"), "--root", str(root), *extra]


def measure(root: Path, runs: int, with_all: bool) -> dict:
    cold = [run(*build_command(root, "--force")) for _ in range(runs)]
    html_file = root / "build" / "final.html"
    html_file.write_text(final_html(Edition(), root))
    floors = [run(sys.executable, str(Path(__file__)), "--floor", str(html_file), "--root", str(root))[0]
              for _ in range(runs)]
    pages = len(PdfReader(root / "build" / "book.pdf").pages)
    chapter = sorted((root / "chapters").glob("*.md"))[1]
    original = chapter.read_text()
    edits = []
    for number in range(runs):
        chapter.write_text(original + f"\nAn edit, number {number}.\n")
        edits.append(run(*build_command(root))[0])
    chapter.write_text(original)
    run(*build_command(root))
    noop = [run(*build_command(root))[0] for _ in range(runs)]
    result = {
        "pages": pages,
        "seconds": statistics.median(t for t, _ in cold),
        "peak_mib": round(max(m for _, m in cold), 1),
        "floor_seconds": statistics.median(floors),
        "edit_one_chapter_seconds": statistics.median(edits),
        "noop_seconds": statistics.median(noop),
    }
    result["ratio_to_floor"] = round(result["seconds"] / result["floor_seconds"], 2)
    if with_all:
        result["all_seconds"] = statistics.median(run(*build_command(root, "--all", "--force"))[0] for _ in range(runs))
    return result


def scaling_table(sizes, runs: int) -> list[dict]:
    from synthetic import make_book
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            root = make_book(ROOT, Path(folder) / f"book-{size}x", size)
            row = {"size": f"{size}x", **measure(root, runs, with_all=size == 1)}
            rows.append(row)
            print(_row(row), flush=True)
    return rows


COLUMNS = ("size", "pages", "seconds", "floor_seconds", "ratio_to_floor", "peak_mib",
           "edit_one_chapter_seconds", "noop_seconds", "all_seconds")


def _row(row: dict) -> str:
    return " | ".join(f"{row[c]:.2f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in COLUMNS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="*", help="also measure synthetic books this many times the size")
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.floor:  # one floor render, in a process of its own
        floor(arguments.floor.read_text(), Edition(), arguments.root)
        return 0
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
    if arguments.sizes:
        print(" | ".join(COLUMNS))
        rows = scaling_table(arguments.sizes, arguments.runs)
        (ROOT / "build").mkdir(exist_ok=True)
        (ROOT / "build" / "bench.json").write_text(json.dumps(rows, indent=1))
        print("written: build/bench.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
