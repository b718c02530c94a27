"""The index of the built book, read back from the PDF: every locator true, in every edition."""

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


def test_every_locator_of_every_entry_is_true(book):
    entries, checked = check_every_locator(book)
    assert checked > 250


def test_every_locator_is_true_in_the_letter_edition_too(book, letter_book):
    entries, _ = check_every_locator(letter_book)
    a4 = {entry.heading: entry.locators for entry in parse_index(book)}
    letter = {entry.heading: entry.locators for entry in entries}
    assert a4.keys() == letter.keys()
    assert any(a4[heading] != letter[heading] for heading in a4), "Letter paper moved no locator"


def test_three_consecutive_pages_always_make_a_range(book):
    ranges = 0
    for entry in parse_index(book):
        for owner in [entry, *entry.subentries]:
            singles = [int(locator) for locator in owner.locators if locator.isdigit()]
            ranges += sum("\u2013" in locator for locator in owner.locators)
            for a, b, c in zip(singles, singles[1:], singles[2:], strict=False):
                assert not (b == a + 1 and c == b + 1), (
                    f"{entry.heading}: {a}, {b}, {c} should be a range"
                )
    assert ranges >= 3


def test_entries_are_sorted_and_cross_references_name_entries(book):
    entries = parse_index(book)
    headings = [entry.heading for entry in entries]
    from bookpress.index import sort_key

    terms = {term.heading: term for term in load_book(ROOT).index_terms}
    keys = [sort_key(terms[h].sort if h in terms and terms[h].sort else h) for h in headings]
    assert keys == sorted(keys)
    see = [
        entry
        for entry in entries
        if entry.cross_reference.startswith("See ") and not entry.locators
    ]
    assert len(see) >= 3
    for entry in entries:
        if entry.cross_reference:
            targets = entry.cross_reference.split(
                " ", 2 if entry.cross_reference.startswith("See also") else 1
            )[-1]
            for target in targets.split("; "):
                assert target in headings, f"{entry.heading} refers to missing '{target}'"


def test_sub_entries_are_set_under_their_heading(book):
    entries = {entry.heading: entry for entry in parse_index(book)}
    with_subs = [entry for entry in entries.values() if entry.subentries]
    assert with_subs, "the book has sub-entries"
    for entry in with_subs:
        names = [sub.heading for sub in entry.subentries]
        assert names == sorted(names, key=str.casefold)


def test_each_locator_links_to_its_page(book):
    links = 0
    for page in index_pages(book):
        for annotation in book.pages[page].get("/Annots", []):
            link = annotation.get_object()
            if link.get("/Subtype") == "/Link":
                target = book.destinations[link["/Dest"]]
                assert book.labels[target].isdigit()
                links += 1
    assert links > 250


def test_the_index_comes_last_on_a_right_hand_page_with_its_running_head(book):
    pages = list(index_pages(book))
    assert pages[-1] == len(book.pages) - 1
    assert int(book.labels[pages[0]]) % 2 == 1
    if len(pages) > 2:
        assert book.running_head(pages[2]) == "INDEX"
