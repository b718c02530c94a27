"""Time the build of synthetic books 1, 10 and 40 times the booklet against its floor.

    python benchmarks/bench.py [--runs 3] [--sizes 1 10 40]
    python benchmarks/bench.py --quick     # the 1x and 10x rows, one run each (ratios only at 10x)

For each size: the cold full build (--force, build/cache/ emptied), the rebuild after
editing one chapter (the other parts kept), the no-op rebuild and (at 1×) --all, cold,
each in a process of its own, as a teacher runs them; the time from saving a chapter to
the new PDF in place, in one --watch process (watch_edit_seconds);
the public path's cold build (--public-path: WeasyPrint's documented API only) beside it;
the floor is one plain WeasyPrint render of the same final HTML, writing the same tagged
PDF/UA-1 with the same stylesheets and fetcher, also in a process of its own. Untagged is
the same render writing a plain PDF, as pandoc → WeasyPrint would. Times are medians;
peak memory is the resident set of the whole process tree (each process's proportional
set size, so pages a forked worker shares with the build count once), sampled as it runs.
The table goes to stdout and build/bench.json, with the machine and the commit measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

if __name__ == "__main__":  # typed with the system's Python after `make book`: use .venv/
    from make_book import use_the_projects_python

    use_the_projects_python(__file__)

from pypdf import PdfReader
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from bookpress.fetch import BookFetcher
from bookpress.fonts import use_book_fonts
from bookpress.index import build_index
from bookpress.join import PublicPath
from bookpress.load import load_book
from bookpress.model import Edition
from bookpress.render import render_chapters, render_front_matter, render_index
from bookpress.typeset import STYLESHEETS, occurrences, typeset

TIMESTAMP = "2026-01-01T00:00:00Z"


def final_html(edition: Edition, root: Path = ROOT) -> str:
    """The whole book as one HTML document, contents and index filled in, as the build made it."""
    book = load_book(root)
    chapters = render_chapters(book, edition)
    # The public path keeps the laid-out parts as they are: nothing is written that is not used.
    typeset_book = typeset(book, chapters, edition, timestamp=TIMESTAMP, path=PublicPath())
    front = render_front_matter(book, typeset_book.contents, TIMESTAMP)
    groups = build_index(book.index_terms, occurrences(typeset_book.parts))
    sections = [chapter.section for chapter in chapters]
    sections += [render_index(book, groups)[1]] if groups else []
    # One document: the front matter's, with every section after its own body.
    head, end, tail = front.rpartition("</body>")
    return head + "".join(f"{section}\n" for section in sections) + end + tail


def floor(html: str, edition: Edition, root: Path = ROOT) -> None:
    """One plain WeasyPrint render of the final HTML, same stylesheets and fetcher."""
    use_book_fonts()  # as the build does: no system font
    fetcher = BookFetcher(root)
    fonts = FontConfiguration()
    names = (*STYLESHEETS, *edition.stylesheets)
    sheets = [
        CSS(filename=str(root / "layout" / name), url_fetcher=fetcher, font_config=fonts)
        for name in names
    ]
    # The same output as the build (tagged PDF/UA-1): tagging is WeasyPrint's work, not the
    # pipeline's.
    variant = {"pdf_variant": edition.pdf_variant} if edition.pdf_variant else {}
    HTML(string=html, base_url=(root / "chapters").as_uri() + "/", url_fetcher=fetcher).write_pdf(
        stylesheets=sheets, font_config=fonts, **variant
    )


# --- measuring a command: wall time and the peak memory of its process tree -------------------


def run(*arguments) -> tuple[float, float]:
    """Seconds and peak resident memory (MiB) of a command and every process it starts."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=errors)
        peak = 0
        while True:
            peak = max(peak, _tree_resident_bytes(process.pid))
            try:
                process.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                continue
        seconds = time.perf_counter() - start
        if process.returncode:
            errors.seek(0)
            raise SystemExit(f"{' '.join(map(str, arguments))} failed:\n{errors.read().decode()}")
    return seconds, peak / 2**20


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _tree_resident_bytes(root_pid: int) -> int:
    """The resident set of a process and all its descendants, from /proc (0 where there is none).

    Each process counts its proportional share of the pages it shares (PSS): a worker
    forked from the build shares most of its pages with it, and summing resident sets
    would count those pages once per process.
    """
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    total, waiting = 0, [root_pid]
    while waiting:
        pid = waiting.pop()
        total += _resident_bytes(pid)
        waiting += children.get(pid, [])
    return total


def _resident_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:  # no smaps_rollup (Linux before 4.14): the whole resident set
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def build_command(root: Path, *extra) -> list[str]:
    return [sys.executable, str(ROOT / "make_book.py"), "--root", str(root), *extra]


def cold_build(root: Path, *extra) -> tuple[float, float]:
    """A build from nothing: --force, and no part kept from an earlier build."""
    shutil.rmtree(root / "build" / "cache", ignore_errors=True)
    return run(*build_command(root, "--force", *extra))


def floor_command(html_file: Path, root: Path, tagged: bool = True) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__)),
        "--floor",
        str(html_file),
        "--root",
        str(root),
        *([] if tagged else ["--untagged"]),
    ]


def measure(root: Path, runs: int, with_all: bool, beside: bool = True) -> dict:
    """One size: every measurement, runs times, interleaved so that a noisy minute hits them all.

    beside: the public path and the untagged floor too, which the ratios do not need.
    """
    html_file = root / "final.html"  # outside build/, which the cold builds clear of nothing
    html_file.write_text(final_html(Edition(), root))
    cold, public, floors, untagged = [], [], [], []
    for _ in range(runs):
        cold.append(cold_build(root))
        if beside:
            public.append(cold_build(root, "--public-path"))
        floors.append(run(*floor_command(html_file, root)))
        if beside:
            untagged.append(run(*floor_command(html_file, root, tagged=False)))
    pages = len(PdfReader(root / "build" / "book.pdf").pages)
    run(*build_command(root))  # the parts kept again: the public path's cold build cleared them
    chapters = sorted((root / "chapters").glob("*.md"))
    chapter = chapters[len(chapters) // 2]  # one in the middle: the chapters after it may move
    original = chapter.read_text()
    edits = []
    for number in range(runs):
        chapter.write_text(original + f"\nAn edit, number {number}.\n")
        edits.append(run(*build_command(root))[0])
    chapter.write_text(original)
    run(*build_command(root))
    noop = [run(*build_command(root))[0] for _ in range(runs)]
    watched = watch_edits(root, chapter, runs)
    seconds = statistics.median(t for t, _ in cold)
    result = {
        "pages": pages,
        "seconds": round(seconds, 2),
        "seconds_per_page": round(seconds / pages, 4),
        "floor_seconds": round(statistics.median(t for t, _ in floors), 2),
        "peak_mib": round(statistics.median(m for _, m in cold), 1),
        "floor_peak_mib": round(statistics.median(m for _, m in floors), 1),
        "edit_one_chapter_seconds": round(statistics.median(edits), 2),
        "noop_seconds": round(statistics.median(noop), 2),
        "watch_edit_seconds": round(statistics.median(watched), 2),
    }
    if beside:
        result["public_path_seconds"] = round(statistics.median(t for t, _ in public), 2)
        result["untagged_floor_seconds"] = round(statistics.median(t for t, _ in untagged), 2)
    result["ratio_to_floor"] = round(result["seconds"] / result["floor_seconds"], 2)
    result["edit_share_of_cold"] = round(result["edit_one_chapter_seconds"] / result["seconds"], 2)
    if with_all:
        result["all_seconds"] = round(
            statistics.median(cold_build(root, "--all")[0] for _ in range(runs)), 2
        )
        result["all_ratio_to_book"] = round(result["all_seconds"] / result["seconds"], 2)
    return result


def watch_edits(root: Path, chapter: Path, runs: int) -> list[float]:
    """Seconds from saving chapter to its book.pdf replaced, in one --watch process, warm."""
    pdf = root / "build" / "book.pdf"
    original = chapter.read_text()
    watcher = subprocess.Popen(
        build_command(root, "--watch", "--quiet"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert watcher.stdout is not None
    seconds = []
    try:
        _wait_for(watcher, ("built in", "failed"))  # the first build, on starting
        for number in range(runs):
            before = pdf.stat().st_mtime_ns
            chapter.write_text(original + f"\nA watched edit, number {number}.\n")
            start = time.perf_counter()
            while pdf.stat().st_mtime_ns == before:  # replaced atomically: a new file
                if time.perf_counter() - start > 120 or watcher.poll() is not None:
                    raise RuntimeError("--watch did not rebuild the book")
                time.sleep(0.005)
            seconds.append(time.perf_counter() - start)
            _wait_for(watcher, ("built in", "failed"))
    finally:
        watcher.terminate()
        watcher.wait()
        chapter.write_text(original)
    return seconds


def _wait_for(watcher: subprocess.Popen, endings: tuple[str, ...]) -> None:
    """Read the watcher's output up to a line that says a build ended."""
    assert watcher.stdout is not None
    for line in watcher.stdout:
        if any(ending in line for ending in endings):
            return
    raise RuntimeError("--watch stopped")


def commit() -> str:
    """The commit measured, with '+changes' when the work tree differs from it."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + ("+changes" if changed else "")


def _git(*arguments: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), *arguments], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def scaling_table(sizes, runs: int, beside_up_to: float = float("inf")) -> list[dict]:
    """A row per size; the public path and the untagged floor up to the size beside_up_to."""
    from synthetic import make_book

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            root = make_book(ROOT, Path(folder) / f"book-{size}x", size)
            first = size == min(sizes)
            row = {"size": f"{size}x", **measure(root, runs, first, size <= beside_up_to)}
            rows.append(row)
            print(_row(row), flush=True)
    return rows


COLUMNS = (
    "size",
    "pages",
    "seconds",
    "seconds_per_page",
    "public_path_seconds",
    "floor_seconds",
    "ratio_to_floor",
    "untagged_floor_seconds",
    "peak_mib",
    "floor_peak_mib",
    "edit_one_chapter_seconds",
    "edit_share_of_cold",
    "noop_seconds",
    "watch_edit_seconds",
    "all_seconds",
    "all_ratio_to_book",
)


def _row(row: dict) -> str:
    return "| " + " | ".join(str(row.get(column, "")) for column in COLUMNS) + " |"


def machine() -> str:
    python = platform.python_version()
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {python}, {platform.system()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 40])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the 1x and 10x rows, one run each (--sizes 1 10 --runs 1); the public path "
        "and the untagged floor at 1x only",
    )
    parser.add_argument(
        "--ratios-only",
        action="store_true",
        help="leave out the public path and the untagged floor, which the ratios do not need",
    )
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--untagged", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.sizes, arguments.runs = [1, 10], 1
    if arguments.floor:  # one floor render, in a process of its own
        edition = Edition(pdf_variant=None) if arguments.untagged else Edition()
        floor(arguments.floor.read_text(), edition, arguments.root)
        return 0
    measured, started = commit(), time.perf_counter()
    print(f"machine: {machine()}; commit {measured}; medians of {arguments.runs} runs")
    print(_row({column: column for column in COLUMNS}))
    print(_row(dict.fromkeys(COLUMNS, "---")))
    beside_up_to = 0 if arguments.ratios_only else 1 if arguments.quick else float("inf")
    rows = scaling_table(arguments.sizes, arguments.runs, beside_up_to)
    (ROOT / "build").mkdir(exist_ok=True)
    described = [
        {**row, "machine": machine(), "commit": measured, "runs": arguments.runs} for row in rows
    ]  # one object per size
    (ROOT / "build" / "bench.json").write_text(json.dumps(described, indent=1))
    minutes = (time.perf_counter() - started) / 60
    print(f"written: build/bench.json ({minutes:.0f} minutes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
