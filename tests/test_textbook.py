"""The booklet as a textbook: every numbered chapter of the shipped book holds at least two
primary sources, a "Historians disagree" box and exam practice with its marks, in the reading
edition; the teacher's edition adds a mark scheme for each, which the students' never prints.

Read from the real book's PDFs (the session's --all build), chapter by chapter between the
bookmarks of consecutive chapters.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pdfpages import BookPdf

from bookpress.load import load_book

ROOT = Path(__file__).resolve().parent.parent
NUMBERED = [chapter for chapter in load_book(ROOT).chapters if chapter.number is not None]
MARKS = re.compile(r"\[(\d+)[ \u00a0]marks\]")  # on one line: a no-break space keeps it whole


def chapter_texts(pdf: BookPdf) -> dict[str, str]:
    """Each chapter's text, by its bookmark's title: the pages from it to the next one's."""
    tops = [(title, page) for depth, title, page in pdf.outline() if depth == 0]
    ends = [page for _, page in tops[1:]] + [len(pdf.pages)]
    return {
        title: "\n".join(pdf.texts[first : max(end, first + 1)])
        for (title, first), end in zip(tops, ends, strict=True)
    }


def of(texts: dict[str, str], chapter) -> str:
    """The chapter's text: under the bookmark that names its title."""
    (text,) = [text for title, text in texts.items() if chapter.title in title]
    return text


@pytest.fixture(scope="module")
def reading(every_product) -> dict[str, str]:
    return chapter_texts(BookPdf(every_product / "book.pdf"))


@pytest.fixture(scope="module")
def teacher(every_product) -> dict[str, str]:
    return chapter_texts(BookPdf(every_product / "teacher.pdf"))


def test_the_book_has_six_numbered_chapters():
    assert [chapter.number for chapter in NUMBERED] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("chapter", NUMBERED, ids=lambda chapter: chapter.path.name)
def test_every_chapter_has_two_sources_a_debate_and_exam_practice(reading, chapter):
    text = of(reading, chapter)
    for source in (1, 2):
        assert f"SOURCE {chapter.number}.{source}" in text
    assert "HISTORIANS DISAGREE" in text
    assert "EXAM PRACTICE" in text
    assert sorted(int(marks) for marks in MARKS.findall(text)) == [8, 16]


@pytest.mark.parametrize("chapter", NUMBERED, ids=lambda chapter: chapter.path.name)
def test_the_teachers_edition_alone_has_each_chapters_mark_scheme(reading, teacher, chapter):
    assert "MARK SCHEME" in of(teacher, chapter)
    assert "Level 4" in of(teacher, chapter)
    assert "MARK SCHEME" not in of(reading, chapter)
