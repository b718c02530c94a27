"""Key dates: each chapter opens with the events of the book's timeline tagged with its name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, build_quietly, copy_of_test_book
from pdfpages import BookPdf, squash

from bookpress.errors import BookError, BookErrors
from bookpress.load import load_book


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The reading edition and the web edition of the test book, from one build."""
    folder = tmp_path_factory.mktemp("key-dates")
    root = copy_of_test_book(folder, "glossary")
    assert (
        build_quietly(
            "--root",
            str(root),
            "--build-dir",
            str(folder / "build"),
            "--product",
            "book",
            "--product",
            "web",
        )
        == 0
    )
    return folder / "build"


def opening_page(pdf: BookPdf, title: str) -> str:
    page = next(page for depth, heading, page in pdf.outline() if depth == 0 and heading == title)
    return squash(pdf.body_text(page))


def test_each_tagged_chapter_opens_with_its_events_in_date_order(built):
    pdf = BookPdf(built / "book.pdf")
    camps = opening_page(pdf, "The Camps")
    # Tagged out of date order in timeline.yml (1923, 1930, then 1938 last of the file).
    assert re.search(
        r"CHAPTER 1 The Camps KEY DATES 1923 — The first camp opens "
        r"1930 — The camp office is set up March 1938 — The third trial How the camps began",
        camps,
    ), camps[:300]
    trials = opening_page(pdf, "The Trials")
    assert re.search(
        r"The Trials KEY DATES Aug\. 1936 — The first trial March 1938 — The third trial "
        r"The first trial",
        trials,
    ), trials[:300]
    assert "KEY DATES" not in opening_page(pdf, "Overview")  # tagged by no event


def test_the_web_edition_shows_the_same_key_dates(built):
    page = (built / "book.html").read_text()
    camps = page[page.index('id="chapter-camps"') : page.index('id="chapter-trials"')]
    dates = re.findall(r'<span class="key-date">([^<]+)</span> — ([^<]+)</li>', camps)
    assert dates == [
        ("1923", "The first camp opens"),
        ("1930", "The camp office is set up"),
        ("March 1938", "The third trial"),
    ]


@pytest.fixture
def book_root(tmp_path) -> Path:
    return copy_of_test_book(tmp_path, "glossary")


def _problems(root: Path) -> list[BookError]:
    with pytest.raises((BookError, BookErrors)) as failure:
        load_book(root)
    return failure.value.errors if isinstance(failure.value, BookErrors) else [failure.value]


def test_a_tag_naming_no_chapter_is_an_error_with_the_data_files_line(book_root):
    timeline = book_root / "chapters" / "timeline.yml"
    timeline.write_text(
        timeline.read_text().replace("chapters: [trials, camps]", "chapters: [trials, camp]")
    )
    line = (
        next(
            number
            for number, text in enumerate(timeline.read_text().split("\n"), 1)
            if "[trials, camp]" in text
        )
        - 2
    )  # the event's first line, "- date: 1938-03"
    [problem] = _problems(book_root)
    assert (problem.path, problem.line) == (timeline, line)
    assert problem.format(book_root) == (
        f"chapters/timeline.yml:{line}: the event's 'chapters' names 'camp', but the book has no "
        "chapter "
        "of that name\n    how to fix: did you mean 'camps'?"
    )


def test_a_tag_far_from_any_chapter_lists_the_chapters(book_root):
    timeline = book_root / "chapters" / "timeline.yml"
    timeline.write_text(timeline.read_text().replace("chapters: [trials]", "chapters: [purges]"))
    [problem] = _problems(book_root)
    assert "'purges'" in problem.message and problem.hint.endswith("overview, camps, trials")


def test_chapters_that_are_not_a_list_of_names(book_root):
    timeline = book_root / "chapters" / "timeline.yml"
    timeline.write_text(timeline.read_text().replace("chapters: [trials]", "chapters: {trials: 1}"))
    [problem] = _problems(book_root)
    assert problem.path == timeline and problem.line == 6
    assert "'chapters' should be a list of chapter names" in problem.message
    assert "chapters: [great-purge, show-trials]" in problem.hint


def test_the_real_book_opens_each_numbered_chapter_with_key_dates():
    book = load_book(ROOT)
    for chapter in book.chapters:
        if chapter.number:
            assert chapter.key_dates, chapter.path.name
            dates = [event.sort for event in chapter.key_dates]
            assert dates == sorted(dates), chapter.path.name
