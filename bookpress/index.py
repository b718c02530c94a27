"""Index stage: the term list, and the pure builder that turns occurrences into index entries."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from .errors import BookError, warn
from .sources import did_you_mean, load_yaml, read_text

INDEX_FILE = "index.yml"
TERM_KEYS = {"term", "aliases", "sort", "see", "see_also"}
SUB_SEPARATOR = ";"
RANGE_DASH = "\u2013"
SYMBOLS = "#"  # the letter group of headings that start with no letter


@dataclass(frozen=True)
class IndexTerm:
    """A heading of the index as index.yml gives it."""

    heading: str
    aliases: tuple[str, ...] = ()
    sort: str | None = None
    see: str | None = None
    see_also: tuple[str, ...] = ()
    path: Path | None = None
    line: int | None = None

    @property
    def forms(self) -> tuple[str, ...]:
        """The words that index this term when they stand in the text."""
        return (self.heading, *self.aliases)


@dataclass(frozen=True)
class Occurrence:
    """One place the text indexes a heading (and maybe a sub-entry): an anchor on a page."""

    heading: str
    sub: str | None
    anchor: str
    page: int  # position of the page in the book, to order and find consecutive pages
    folio: str  # the page number printed there


@dataclass(frozen=True)
class Locator:
    """A page, or a range of three or more consecutive pages, linked to its first occurrence."""

    first: str
    last: str | None
    anchor: str

    @property
    def text(self) -> str:
        return f"{self.first}{RANGE_DASH}{self.last}" if self.last else self.first


@dataclass(frozen=True)
class IndexEntry:
    heading: str
    locators: tuple[Locator, ...] = ()
    subentries: tuple["IndexEntry", ...] = ()
    see: str | None = None
    see_also: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexGroup:
    letter: str
    entries: tuple[IndexEntry, ...] = field(default=())


# --- index.yml ---------------------------------------------------------------------------------

def load_terms(chapters_dir: Path) -> tuple[IndexTerm, ...]:
    """The terms of chapters/index.yml (none when the file is absent), checked."""
    path = chapters_dir / INDEX_FILE
    if not path.is_file():
        return ()
    document = load_yaml(read_text(path), path)
    if not isinstance(document.data, list):
        raise BookError(path, 1, "index.yml should be a list of terms, each starting with '- term:'")
    terms = [_term(entry, line, path) for entry, line in zip(document.data, document.item_lines())]
    _check_cross_references(terms)
    return tuple(terms)


def _term(entry, line: int, path: Path) -> IndexTerm:
    if not isinstance(entry, dict) or not isinstance(entry.get("term"), str) or not entry["term"].strip():
        raise BookError(path, line, "each entry needs a 'term:' with the heading's text")
    unknown = set(entry) - TERM_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise BookError(path, line, f"unknown key '{key}'", did_you_mean(key, TERM_KEYS) or f"the keys are: {', '.join(sorted(TERM_KEYS))}")
    aliases, see_also = _text_list(entry, "aliases", path, line), _text_list(entry, "see_also", path, line)
    see = entry.get("see")
    if see is not None and not isinstance(see, str):
        raise BookError(path, line, "'see' names one other term", "write see: Other Term")
    if see is not None and aliases:
        raise BookError(path, line, f"'{entry['term']}' only points to '{see}', so it cannot have aliases",
                        f"make them aliases of '{see}'")
    sort = entry.get("sort")
    return IndexTerm(entry["term"].strip(), aliases, str(sort) if sort is not None else None,
                     see, see_also, path, line)


def _text_list(entry: dict, key: str, path: Path, line: int) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise BookError(path, line, f"'{key}' should be a list of words, like {key}: [one, other]")
    return tuple(item.strip() for item in value)


def _check_cross_references(terms: list[IndexTerm]) -> None:
    headings = {term.heading for term in terms}
    for term in terms:
        for target in ((term.see,) if term.see else ()) + term.see_also:
            if target not in headings:
                raise BookError(term.path, term.line, f"'{term.heading}' refers to '{target}', which is not a term of the index",
                                did_you_mean(target, headings) or "add that term, or correct the name")


def parse_mark(target: str) -> tuple[str, str | None]:
    """'Trotsky, Leon; assassination' → ('Trotsky, Leon', 'assassination')."""
    heading, _, sub = target.partition(SUB_SEPARATOR)
    return " ".join(heading.split()), (" ".join(sub.split()) or None)


# --- building the index --------------------------------------------------------------------------

def sort_key(text: str) -> str:
    """Accent- and case-insensitive, leading punctuation ignored: 'Émigrés' sorts as 'emigres'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"^[^\w]+", "", plain.casefold())


def letter_of(key: str) -> str:
    first = key[:1]
    return first.upper() if first.isalpha() else SYMBOLS


def build_index(terms: tuple[IndexTerm, ...], occurrences: list[Occurrence], ranges: bool = True) -> tuple[IndexGroup, ...]:
    """The index's letter groups, from the term list and where each heading occurred.

    Without ranges (the web edition, whose locators are chapters), every place is listed.
    """
    by_heading: dict[str, list[Occurrence]] = {}
    for occurrence in occurrences:
        by_heading.setdefault(occurrence.heading, []).append(occurrence)
    known = {term.heading: term for term in terms}
    headings = set(by_heading) | {term.heading for term in terms if term.see or term.heading in by_heading}
    entries = [_entry(heading, known.get(heading), by_heading.get(heading, []), ranges) for heading in headings]
    entries.sort(key=lambda entry: (_sort_text(entry.heading, known), entry.heading))
    return tuple(IndexGroup(letter, tuple(group)) for letter, group in
                 groupby(entries, key=lambda entry: letter_of(_sort_text(entry.heading, known))))


def _sort_text(heading: str, known: dict[str, IndexTerm]) -> str:
    term = known.get(heading)
    return sort_key(term.sort if term is not None and term.sort else heading)


def _entry(heading: str, term: IndexTerm | None, occurrences: list[Occurrence], ranges: bool = True) -> IndexEntry:
    main = [o for o in occurrences if o.sub is None]
    subs = sorted({o.sub for o in occurrences if o.sub is not None}, key=lambda sub: (sort_key(sub), sub))
    subentries = tuple(IndexEntry(sub, locators([o for o in occurrences if o.sub == sub], ranges)) for sub in subs)
    return IndexEntry(heading, locators(main, ranges), subentries,
                      term.see if term else None, term.see_also if term else ())


def locators(occurrences: list[Occurrence], ranges: bool = True) -> tuple[Locator, ...]:
    """Each page once, in page order, linked to its first occurrence; 3+ consecutive pages as a range."""
    first_on_page: dict[int, Occurrence] = {}
    for occurrence in occurrences:
        first_on_page.setdefault(occurrence.page, occurrence)
    pages = [first_on_page[page] for page in sorted(first_on_page)]
    runs: list[list[Occurrence]] = []
    for occurrence in pages:
        if ranges and runs and _follows(runs[-1][-1], occurrence):
            runs[-1].append(occurrence)
        else:
            runs.append([occurrence])
    result = []
    for run in runs:
        if len(run) >= 3:
            result.append(Locator(run[0].folio, run[-1].folio, run[0].anchor))
        else:
            result.extend(Locator(o.folio, None, o.anchor) for o in run)
    return tuple(result)


def _follows(previous: Occurrence, occurrence: Occurrence) -> bool:
    # Consecutive pages in the same numbering: 'iv' then 'v', or '14' then '15'.
    return occurrence.page == previous.page + 1 and occurrence.folio.isdigit() == previous.folio.isdigit()


def unused_terms(terms: tuple[IndexTerm, ...], occurrences: list[Occurrence]) -> None:
    """Warn about terms of index.yml that index nothing (an error under --strict)."""
    used = {occurrence.heading for occurrence in occurrences}
    for term in terms:
        if term.see is None and term.heading not in used:
            warn(term.path, term.line, f"the index term '{term.heading}' occurs nowhere in the text",
                 "check its spelling and aliases against the chapters, or remove it")
