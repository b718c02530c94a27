"""Index stage: the term list, and the pure builder that turns occurrences into index entries."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from .errors import BookError, raise_all, warn
from .sources import (
    describe,
    did_you_mean,
    is_file,
    load_yaml,
    read_text,
    shown,
    text_problem,
    unknown_key,
)

INDEX_FILE = "index.yml"
TERM_KEYS = ("term", "aliases", "sort", "see", "see_also")
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
    subentries: tuple[IndexEntry, ...] = ()
    see: str | None = None
    see_also: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexGroup:
    letter: str
    entries: tuple[IndexEntry, ...] = field(default=())


# --- index.yml ---------------------------------------------------------------------------------


def load_terms(chapters_dir: Path) -> tuple[IndexTerm, ...]:
    """The terms of chapters/index.yml, checked; none when it is absent, empty or only comments.

    A book begun from another holds an index.yml to fill in later: it means no index yet.
    """
    path = chapters_dir / INDEX_FILE
    if not is_file(path):
        return ()
    document = load_yaml(read_text(path, empty_ok=True), path)
    if document.data is None:
        return ()
    if not isinstance(document.data, list):
        raise BookError(
            path,
            document.line_of(),
            "index.yml should be a list of terms, each starting with '- term:'",
            "write each term on a line of its own: - term: Gulag",
        )
    terms, errors = [], []
    for entry, line in document.items():
        try:
            terms.append(_term(entry, line, path))
        except BookError as error:
            errors.append(error)
    raise_all(errors)
    _check_cross_references(terms)
    return tuple(terms)


def _term(entry, line: int, path: Path) -> IndexTerm:
    unknown = [key for key in entry if key not in TERM_KEYS] if isinstance(entry, dict) else []
    if unknown:
        raise BookError(path, line, *unknown_key(unknown[0], TERM_KEYS))
    if not isinstance(entry, dict) or "term" not in entry:
        raise BookError(
            path,
            line,
            "each entry needs a 'term:' with the heading's text",
            "start the entry with '- term: ' and the heading, e.g. - term: Gulag",
        )
    heading = _text(entry, "term", path, line)
    aliases, see_also = (
        _text_list(entry, "aliases", path, line),
        _text_list(entry, "see_also", path, line),
    )
    see = _text(entry, "see", path, line) if entry.get("see") is not None else None
    sort = _text(entry, "sort", path, line) if entry.get("sort") is not None else None
    if see is not None and aliases:
        raise BookError(
            path,
            line,
            f"'{shown(heading)}' only points to '{shown(see)}', so it cannot have aliases",
            f"make them aliases of '{shown(see)}'",
        )
    return IndexTerm(heading, aliases, sort, see, see_also, path, line)


def _text(entry: dict, key: str, path: Path, line: int) -> str:
    """The text under key on one line, as the index prints it."""
    problem = text_problem(key, entry.get(key))
    if problem:
        raise BookError(path, line, *problem)
    return " ".join(entry[key].split())


def _text_list(entry: dict, key: str, path: Path, line: int) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        return ()
    example = f"write {key}: [one, other]"
    if isinstance(value, str):
        example += f", even for one: {key}: [{shown(value)}]"
    if not isinstance(value, list):
        raise BookError(
            path, line, f"'{key}' should be a list of words, not {describe(value)}", example
        )
    for item in value:
        if not isinstance(item, str) or not item.strip():
            hint = example
            if item is not None and not isinstance(item, (str, list, dict)):
                hint = f'put it in quotes, e.g. {key}: ["{shown(item)}"]'
            raise BookError(
                path, line, f"each of the '{key}' should be text, not {describe(item)}", hint
            )
    return tuple(" ".join(item.split()) for item in value)


def _check_cross_references(terms: list[IndexTerm]) -> None:
    """Each heading once, each form for one heading; each see and see also names another term."""
    errors = _check_unique_forms(terms)
    headings = {term.heading for term in terms}
    for term in terms:
        name = shown(term.heading)
        for target in ((term.see,) if term.see else ()) + term.see_also:
            if target == term.heading:
                errors.append(
                    BookError(
                        term.path or Path("chapters", INDEX_FILE),
                        term.line,
                        f"'{name}' refers to itself",
                        "name another term, or remove the reference",
                    )
                )
            elif target not in headings:
                hint = did_you_mean(target, headings) or "add that term, or correct the name"
                message = f"'{name}' refers to '{shown(target)}', which is not a term of the index"
                errors.append(
                    BookError(term.path or Path("chapters", INDEX_FILE), term.line, message, hint)
                )
    raise_all(errors)


def _check_unique_forms(terms: list[IndexTerm]) -> list[BookError]:
    """A heading written twice, or a word that would index two headings, is an error."""
    errors: list[BookError] = []
    headings: dict[str, IndexTerm] = {}
    forms: dict[str, IndexTerm] = {}
    for term in terms:
        first = headings.setdefault(term.heading, term)
        if first is not term:
            errors.append(
                BookError(
                    term.path or Path("chapters", INDEX_FILE),
                    term.line,
                    f"the term '{shown(term.heading)}' is already on line {first.line}",
                    "merge the two entries into one",
                )
            )
        for form in term.forms if term.see is None else ():
            owner = forms.setdefault(form, term)
            if owner.heading != term.heading:
                errors.append(
                    BookError(
                        term.path or Path("chapters", INDEX_FILE),
                        term.line,
                        f"'{shown(form)}' would index both "
                        f"'{shown(owner.heading)}' (line {owner.line}) "
                        f"and '{shown(term.heading)}'",
                        "keep it as an alias of one of them only",
                    )
                )
    return errors


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


def build_index(
    terms: tuple[IndexTerm, ...], occurrences: list[Occurrence], ranges: bool = True
) -> tuple[IndexGroup, ...]:
    """The index's letter groups, from the term list and where each heading occurred.

    Without ranges (the web edition, whose locators are chapters), every place is listed.
    """
    by_heading: dict[str, list[Occurrence]] = {}
    for occurrence in occurrences:
        by_heading.setdefault(occurrence.heading, []).append(occurrence)
    known = {term.heading: term for term in terms}
    headings = set(by_heading) | {
        term.heading for term in terms if term.see or term.heading in by_heading
    }
    entries = [
        _entry(heading, known.get(heading), by_heading.get(heading, []), ranges)
        for heading in headings
    ]
    entries.sort(key=lambda entry: (_sort_text(entry.heading, known), entry.heading))
    return tuple(
        IndexGroup(letter, tuple(group))
        for letter, group in groupby(
            entries, key=lambda entry: letter_of(_sort_text(entry.heading, known))
        )
    )


def _sort_text(heading: str, known: dict[str, IndexTerm]) -> str:
    term = known.get(heading)
    return sort_key(term.sort if term is not None and term.sort else heading)


def _entry(
    heading: str, term: IndexTerm | None, occurrences: list[Occurrence], ranges: bool = True
) -> IndexEntry:
    main = [o for o in occurrences if o.sub is None]
    subs = sorted(
        {o.sub for o in occurrences if o.sub is not None}, key=lambda sub: (sort_key(sub), sub)
    )
    subentries = tuple(
        IndexEntry(sub, locators([o for o in occurrences if o.sub == sub], ranges)) for sub in subs
    )
    return IndexEntry(
        heading,
        locators(main, ranges),
        subentries,
        term.see if term else None,
        term.see_also if term else (),
    )


def locators(occurrences: list[Occurrence], ranges: bool = True) -> tuple[Locator, ...]:
    """Each page once, in order, linked to its first occurrence; 3+ consecutive pages as a range."""
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
    return (
        occurrence.page == previous.page + 1
        and occurrence.folio.isdigit() == previous.folio.isdigit()
    )


def unused_terms(terms: tuple[IndexTerm, ...], occurrences: list) -> None:
    """Warn about terms of index.yml that index nothing (an error under --strict).

    When none of them does, the list is another book's: one warning says so, not one a term.
    """
    used = {occurrence.heading for occurrence in occurrences}
    indexing = [term for term in terms if term.see is None]  # a 'see' indexes no place itself
    unused = [term for term in indexing if term.heading not in used]
    if len(unused) > 1 and len(unused) == len(indexing):
        warn(
            unused[0].path,
            None,
            f"none of the {len(unused)} terms of index.yml occurs in the "
            "text: is the list another book's?",
            "write this book's terms in index.yml, or leave only comments in it for no index",
        )
        return
    for term in unused:
        warn(
            term.path,
            term.line,
            f"the index term '{term.heading}' occurs nowhere in the text",
            "check its spelling and aliases against the chapters, or remove it",
        )
