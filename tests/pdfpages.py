"""Reading a built PDF the way a reader sees it: text per page, by region, folios, labels."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from pypdf import PdfReader

MM = 72 / 25.4
FURNITURE_BAND = 20 * MM  # running heads and folios live within this distance of the edge
#: A line of the contents: a title, a leader of dots, a folio.
LEADER_LINE = re.compile(r"^(?:\d+\s*)?(?P<title>.+?)\s*(?:\.\s*){3,}(?P<folio>[0-9ivxlc]+)$")


@dataclass(frozen=True)
class TextRun:
    text: str
    x: float
    y: float  # from the bottom of the page, in points
    size: float = 0.0  # font size in points, as printed
    placed: bool = (
        True  # False inside a form XObject (an SVG figure), whose placement pypdf does not report
    )


def _read(page) -> tuple[str, list[TextRun]]:
    """The page's text as pypdf extracts it, and its runs with where each is printed: one pass
    (parsing the content stream is most of the time)."""
    runs = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
            c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
            placed = not (list(cm) == [1, 0, 0, 1, 0, 0] and tm[3] < 0)
            runs.append(TextRun(text, x, y, font_size * abs(a * d - b * c) ** 0.5, placed))

    text = page.extract_text(visitor_text=visit)
    return text, runs


def _joined(runs: list[TextRun]) -> str:
    """Runs on one line joined as they touch (tagged PDFs split runs at every element);
    a new line where the baseline changes."""
    text, previous = "", None
    for run in runs:
        if previous is not None:
            if abs(run.y - previous.y) > 1 or not run.placed or not previous.placed:
                text += "\n"
            elif not (
                run.text[:1] in TOUCHES_BEFORE or text[-1:] in TOUCHES_AFTER or text[-1:].isspace()
            ):
                text += " "  # two table cells, or a label beside its text
        text += run.text
        previous = run
    return text


TOUCHES_BEFORE = set(",.;:!?)]}\u2019\u201d\u2014\u2013 ")  # what follows a word without a space
TOUCHES_AFTER = set("([{\u2018\u201c\u2014\u2013")


def squash(text: str) -> str:
    """Text with hyphenation undone and all white space as single spaces."""
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    return " ".join(text.split())


class BookPdf:
    """A built PDF, read once, with what the tests ask of its pages.

    The same file, unchanged, is the same BookPdf however many tests open it, and its text
    is extracted once per test run: reading the real book's editions was most of many tests'
    time. Once every page is read, the reading is kept in SHARED (when the conftest sets it)
    under the file's SHA-256, where the suite's other processes find it.
    """

    path: Path
    reader: PdfReader
    _opened: ClassVar[OrderedDict[tuple, BookPdf]] = OrderedDict()
    KEPT = 24  # files kept open per test process, the most recently opened
    SHARED: ClassVar[Path | None] = None

    def __new__(cls, path: Path):
        stat = Path(path).stat()
        key = (Path(path).resolve(), stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key in cls._opened:
            cls._opened.move_to_end(key)
            return cls._opened[key]
        pdf = super().__new__(cls)
        pdf.path = Path(path)
        pdf.reader = PdfReader(pdf.path)
        cls._opened[key] = pdf
        while len(cls._opened) > cls.KEPT:
            cls._opened.popitem(last=False)
        return pdf

    @property
    def pages(self):
        return self.reader.pages

    @cached_property
    def _kept(self) -> Path | None:
        if self.SHARED is None:
            return None
        return self.SHARED / f"{hashlib.sha256(self.path.read_bytes()).hexdigest()}.pickle"

    @cached_property
    def _pages_read(self) -> list[tuple[str, list[TextRun]] | None]:
        """Each page's text and runs: as another process kept them, or None until first asked."""
        if self._kept is not None and self._kept.exists():
            return pickle.loads(self._kept.read_bytes())
        return [None] * len(self.reader.pages)

    def _every_page(self) -> list[tuple[str, list[TextRun]]]:
        read = [self._page(index) for index in range(len(self.reader.pages))]
        if self._kept is not None and not self._kept.exists():
            self._kept.parent.mkdir(parents=True, exist_ok=True)
            partial = self._kept.with_suffix(f".{os.getpid()}")
            partial.write_bytes(pickle.dumps(read))
            partial.replace(self._kept)  # whole or not at all, for a process reading it now
        return read

    def _page(self, index: int) -> tuple[str, list[TextRun]]:
        read = self._pages_read[index]
        if read is None:
            read = self._pages_read[index] = _read(self.reader.pages[index])
        return read

    @cached_property
    def runs(self) -> list[list[TextRun]]:
        return [runs for _, runs in self._every_page()]

    @cached_property
    def texts(self) -> list[str]:
        return [text for text, _ in self._every_page()]

    def height(self, index: int) -> float:
        return float(self.reader.pages[index].mediabox.height)

    def width(self, index: int) -> float:
        return float(self.reader.pages[index].mediabox.width)

    def body_text(self, index: int) -> str:
        """What stands on the page between the head and foot bands."""
        top = self.height(index) - FURNITURE_BAND
        return _joined(
            [run for run in self._page(index)[1] if FURNITURE_BAND < run.y < top or not run.placed]
        )

    def folio(self, index: int) -> str | None:
        """The page number printed in the foot band, if any."""
        runs = self._page(index)[1]
        foot = [run.text.strip() for run in runs if run.y <= FURNITURE_BAND and run.placed]
        return " ".join(foot) or None

    def running_head(self, index: int) -> str | None:
        top = self.height(index) - FURNITURE_BAND
        head = [run.text.strip() for run in self._page(index)[1] if run.y >= top and run.placed]
        return " ".join(head) or None

    @cached_property
    def labels(self) -> list[str]:
        return list(self.reader.page_labels)

    def index_of_label(self, label: str) -> int:
        return self.labels.index(label)

    @cached_property
    def destinations(self) -> dict[str, int]:
        """Every named destination (element id) and the page index it points to."""
        return {
            name: self.reader.get_destination_page_number(dest)
            for name, dest in self.reader.named_destinations.items()
        }

    def outline(self, items=None, depth=0):
        """(depth, title, page index) for every bookmark, in order."""
        items = self.reader.outline if items is None else items
        for item in items:
            if isinstance(item, list):
                yield from self.outline(item, depth + 1)
            else:
                yield depth, item.title, self.reader.get_destination_page_number(item)


def contents_lines(book):
    """(title, folio) for every line of the contents pages."""
    lines = []
    for index in contents_pages(book):
        for line in book.texts[index].splitlines():
            match = LEADER_LINE.match(line.strip())
            if match:
                lines.append((squash(match["title"]), match["folio"]))
    return lines


def contents_pages(book):
    """The page headed "Contents" and the front-matter pages after it, which it runs onto."""
    front = [i for i, label in enumerate(book.labels) if not label.isdigit()]
    first = next(
        (i for i in front if book.body_text(i).strip().startswith("Contents")), len(book.labels)
    )
    return [i for i in front if i >= first]


def structure(reader: PdfReader):
    """(counts of structure types, the /Alt of each /Figure) of the structure tree."""
    counts, alts = Counter(), []

    def walk(node):
        node = node.get_object()
        if not isinstance(node, dict):
            return
        kind = node.get("/S")
        if kind:
            counts[kind] += 1
            if kind == "/Figure":
                alts.append(node.get("/Alt"))
        children = node.get("/K")
        for child in (
            children if isinstance(children, list) else ([children] if children is not None else [])
        ):
            walk(child)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return counts, alts
