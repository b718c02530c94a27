"""Reading the index of a built PDF: its entries and their locators, and whether each is true."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from conftest import ROOT

from bookpress.load import load_book

LOCATOR = re.compile(r"^(?:[0-9]+|[ivxlc]+)(?:\u2013(?:[0-9]+|[ivxlc]+))?$")
INDENT = {
    "entry": 0,
    "continued": 0.6,
    "sub": 1.7,
    "sub continued": 2.8,
}  # ems from the column's edge


@dataclass
class Entry:
    heading: str
    locators: list[str] = field(default_factory=list)
    subentries: list[Entry] = field(default_factory=list)
    cross_reference: str = ""


def index_pages(pdf):
    start = next(page for depth, title, page in pdf.outline() if depth == 0 and title == "Index")
    return range(start, len(pdf.pages))


def _lines(pdf, page, columns=2):
    """The page's lines as (column, indent in ems, text), in reading order."""
    runs = [run for run in pdf.runs[page] if 60 < run.y < pdf.height(page) - 60]
    middle = pdf.width(page) / 2 + (5 if int(pdf.labels[page]) % 2 == 0 else -5)
    if columns == 1:
        middle = pdf.width(page)
    columns = [[r for r in runs if r.x < middle], [r for r in runs if r.x >= middle]]
    lines = []
    for number, column in enumerate(columns):
        if not column:
            continue
        edge = min(run.x for run in column)
        for y in sorted({round(run.y) for run in column}, reverse=True):
            on_line = sorted((r for r in column if round(r.y) == y), key=lambda r: r.x)
            text = " ".join("".join(r.text for r in on_line).split())
            lines.append((number, (on_line[0].x - edge) / on_line[0].size, text))
    return lines


def parse_index(pdf, columns=2) -> list[Entry]:
    """The entries of the index pages: headings, locators, cross-references, sub-entries."""
    raw: list[list] = []  # [main text, [sub texts]]
    for page in index_pages(pdf):
        for _, indent, text in _lines(pdf, page, columns):
            if text == "Index" or re.fullmatch(r"[A-Z#]|[\u0410-\u042f]", text):
                continue  # the title and the letter headings
            if indent < INDENT["continued"]:
                raw.append([text, []])
            elif indent < INDENT["sub"]:
                raw[-1][0] = _joined(raw[-1][0], text)
            elif indent < INDENT["sub continued"]:
                raw[-1][1].append(text)
            else:
                raw[-1][1][-1] = _joined(raw[-1][1][-1], text)
    return [_entry(main, subs) for main, subs in raw]


def _joined(line: str, continuation: str) -> str:
    # Index headings are not hyphenated: a line ending in '-' broke a compound at its hyphen,
    # one ending in '–' broke a page range.
    return line + continuation if line.endswith(("-", "\u2013")) else f"{line} {continuation}"


def _entry(text: str, subs: list[str]) -> Entry:
    """'Heading, 3, 5–7. See also X; Y' → its parts."""
    cross = ""
    match = re.search(r"\.\s+(See(?: also)?\s+.*)$", text)
    if match:
        text, cross = text[: match.start()], match.group(1)
    parts = [part.strip() for part in text.split(",")]
    locators = []
    while len(parts) > 1 and LOCATOR.match(parts[-1]):
        locators.insert(0, parts.pop())
    return Entry(", ".join(parts), locators, [_entry(sub, []) for sub in subs], cross)


def _pages_of(locator: str) -> list[str]:
    first, _, last = locator.partition("\u2013")
    if not last:
        return [first]
    return [str(n) for n in range(int(first), int(last) + 1)]


def _forms(terms, heading):
    term = terms.get(heading)
    return term.forms if term is not None else (heading,)


def _occurs(form: str, text: str, page_end: int) -> bool:
    """The form starts on the page (it may run on over the page break)."""
    pattern = re.escape(form)
    if form == form.lower() and form[:1].isalpha():
        pattern = f"[{form[0].upper()}{form[0]}]" + re.escape(form[1:])
    return any(match.start() < page_end for match in re.finditer(rf"(?<!\w){pattern}(?!\w)", text))


def _page_texts(pdf, page):
    """The page's text run on into the next page (hyphens undone or kept); where the page ends."""
    text = pdf.body_text(page)
    end = len(" ".join(text.split()))
    if page + 1 < len(pdf.pages):
        text += " " + pdf.body_text(page + 1)
    return [(variant, end) for variant in _normalised(text)]


def _normalised(text):
    text = (
        text.replace("\u2019", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
        .replace("\u2022", " ")
    )
    joined = re.sub(r"(\w)-\s+(\w)", r"\1\2", text)  # a word hyphenated at a line's end
    kept = re.sub(r"(\w)-\s+(\w)", r"\1-\2", text)  # or a compound broken at its hyphen
    return [" ".join(joined.split()), " ".join(kept.split())]


def check_every_locator(pdf, columns=2):
    terms = {term.heading: term for term in load_book(ROOT).index_terms}
    entries = parse_index(pdf, columns)
    assert len(entries) >= 60
    checked = 0
    for entry in entries:
        for owner in [entry, *entry.subentries]:
            forms = _forms(terms, entry.heading)
            if owner is not entry:  # a sub-entry's page carries its heading's words or its own
                forms += (re.sub(r"\s*\(.*\)$", "", owner.heading),)
            assert len(owner.locators) == len(set(owner.locators)), (
                f"{entry.heading}: a locator repeats"
            )
            for locator in owner.locators:
                for folio in _pages_of(locator):
                    texts = _page_texts(pdf, pdf.index_of_label(folio))
                    assert any(_occurs(form, text, end) for form in forms for text, end in texts), (
                        f"'{entry.heading}' is not on page {folio}"
                    )
                    checked += 1
    return entries, checked
