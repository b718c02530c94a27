"""How hard each chapter reads: words, sentences, the longest sentence and a Flesch–Kincaid grade.

Read from the Markdown as written, so that every sentence keeps the line it starts on: the
report and the warnings point the teacher to the sentence to shorten. Only the students'
text counts: headings, code, tables, footnotes (citations), HTML, and the boxes for teachers
are left out. Syllables are counted by Pyphen, the hyphenation dictionaries WeasyPrint
already installs (as the textstat package also does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from .errors import warn
from .load import without_code
from .model import TEACHER_BLOCK, Book, ChapterSource
from .sources import numbered_lines

#: Lines that are no running text: headings, table rows, footnote texts, HTML, rules,
#: attribute lists, box fences and link definitions.
NOT_PROSE = re.compile(r"^\s*(?:#|\||\[\^[^\]]+\]:|<|---|\*\*\*|___|\{[:#.]|:::|\[[^\]]+\]:\s)")
#: A sentence ends at . ! or ? (and any closing quote or bracket), before a space and a capital,
#: a digit or an opening quote.
SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
#: Abbreviations a sentence does not end at ("Order No. 00447", "e.g. the camps").
ABBREVIATIONS = re.compile(
    r"\b(?:No|Nos|Mr|Mrs|Ms|Dr|St|Gen|Col|Lt|Capt|vs|cf|c|ca|e\.g|i\.e|etc|pp?|vol)"
    r"\.$",
    re.IGNORECASE,
)
WORD = re.compile(r"[^\W_](?:[\w’'.,-]*[^\W_])?")
#: Markdown that is no word: links' targets, emphasis, footnote calls, index marks, {@refs}.
MARKUP = re.compile(r"\]\([^)]*\)|\[\^[^\]]+\]|\{[@#:.][^}]*\}|[*_`\[\]]")


@dataclass(frozen=True)
class Sentence:
    text: str
    path: Path  # the chapter, or the data file its template draws
    line: int | None  # where it starts

    @cached_property
    def words(self) -> tuple[str, ...]:
        return tuple(WORD.findall(self.text))


@dataclass(frozen=True)
class Reading:
    """A chapter's student text, measured."""

    chapter: ChapterSource
    sentences: tuple[Sentence, ...]

    @property
    def words(self) -> int:
        return sum(len(sentence.words) for sentence in self.sentences)

    @property
    def syllables(self) -> int:
        return sum(syllables(word) for sentence in self.sentences for word in sentence.words)

    @property
    def grade(self) -> float | None:
        """The Flesch–Kincaid grade level (Kincaid et al. 1975), or None without text."""
        if not self.words:
            return None
        return 0.39 * self.words / len(self.sentences) + 11.8 * self.syllables / self.words - 15.59

    def longest(self, count: int = 1) -> list[Sentence]:
        return sorted(self.sentences, key=lambda sentence: (-len(sentence.words), sentence.line))[
            :count
        ]


def reading(chapter: ChapterSource) -> Reading:
    """The chapter's sentences of student text (its data file's too), each with where it starts."""
    sentences: list[Sentence] = []
    for line, paragraph in _paragraphs(chapter):
        sentences += _sentences(paragraph, chapter.path, line)
    if chapter.data_path is not None:
        lines = chapter.data_path.read_text(encoding="utf-8").split("\n")
        for text in _strings(chapter.data):
            sentences += _sentences(text, chapter.data_path, _line_of(lines, text))
    return Reading(chapter, tuple(sentence for sentence in sentences if sentence.words))


def _strings(data):
    """Every text of a data file (the questions and answers of an FAQ), in order."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def _line_of(lines: list[str], text: str) -> int | None:
    start = text.strip()[:24]
    return next(
        (number for number, line in enumerate(lines, start=1) if start and start in line), None
    )


#: A box's fence: "::: name" opens one, ":::" closes it.
FENCE = re.compile(r"^:::[ ]*([\w-]*)")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def _paragraphs(chapter: ChapterSource):
    """(first line, text) of each paragraph or list item of the students' prose."""
    paragraph: list[tuple[int, str]] = []
    for_teachers = False
    for number, line in numbered_lines(without_code(chapter.body), chapter.body_line):
        fence = FENCE.match(line)
        if fence:
            for_teachers = fence[1] == TEACHER_BLOCK
        item = LIST_ITEM.match(line)
        prose = not (fence or for_teachers or not line.strip() or NOT_PROSE.match(line))
        if not prose or item:
            yield from _joined(paragraph)
            paragraph = []
        if prose:
            paragraph.append((number, line[item.end() :] if item else line.lstrip("> ")))
    yield from _joined(paragraph)


def _joined(paragraph: list[tuple[int, str]]):
    if paragraph:
        yield paragraph[0][0], "\n".join(text for _, text in paragraph)


def _sentences(paragraph: str, path: Path, first_line: int | None) -> list[Sentence]:
    text = MARKUP.sub("", paragraph)
    starts = [0] + [
        end.end()
        for end in SENTENCE_END.finditer(text)
        if not ABBREVIATIONS.search(text[: end.start()])
    ]
    sentences = []
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        line = None if first_line is None else first_line + text.count("\n", 0, start)
        sentences.append(Sentence(" ".join(text[start:end].split()), path, line))
    return sentences


@lru_cache(maxsize=1)
def _dictionary():
    import pyphen  # installed with WeasyPrint, which hyphenates with it

    return pyphen.Pyphen(lang="en_US")


@lru_cache(maxsize=8192)
def syllables(word: str) -> int:
    """Syllables of a word, as its hyphenation points count them (a number is one)."""
    if not any(character.isalpha() for character in word):
        return 1
    return len(_dictionary().positions(word.lower().strip("’'"))) + 1


# --- what the build says -----------------------------------------------------------------------


def warn_hard_chapters(book: Book) -> None:
    """A chapter reading above book.yml's target_grade is a warning naming its longest sentences."""
    target = book.info.target_grade
    if target is None:
        return
    for chapter in book.chapters:
        measured = reading(chapter)
        if measured.grade is not None and measured.grade > target:
            longest = ", ".join(
                f"{_place(sentence, chapter)} ({len(sentence.words)} words)"
                for sentence in measured.longest(3)
            )
            first = measured.longest()[0]
            warn(
                first.path,
                first.line,
                f"the chapter reads at grade {measured.grade:.1f}, above the book's target_grade "
                f"{target:g}; its longest sentences: {longest}",
                "split the longest sentences, or raise target_grade in chapters/book.yml",
            )


def _place(sentence: Sentence, chapter: ChapterSource) -> str:
    where = f"line {sentence.line}" if sentence.line is not None else "a line"
    return where if sentence.path == chapter.path else f"{sentence.path.name} {where}"


def report(book: Book, root: Path) -> str:
    """The reading-level table of --check --report, one line per chapter."""
    rows = [("chapter", "words", "sentences", "grade", "longest sentence")]
    for chapter in book.chapters:
        measured = reading(chapter)
        grade = "-" if measured.grade is None else f"{measured.grade:.1f}"
        longest = measured.longest()
        where = f"{len(longest[0].words)} words, {_place(longest[0], chapter)}" if longest else "-"
        rows.append(
            (
                chapter.path.relative_to(root).as_posix(),
                str(measured.words),
                str(len(measured.sentences)),
                grade,
                where,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [
        "Reading level: Flesch–Kincaid grade of the students' text (teacher's notes, headings, "
        "code and footnotes left out)"
    ]
    for row in rows:
        lines.append(
            "  ".join(
                cell.ljust(width) if column in (0, 4) else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    if book.info.target_grade is not None:
        lines.append(f"Target (book.yml target_grade): {book.info.target_grade:g}")
    return "\n".join(lines)
