"""A book brought in from elsewhere: website front matter, pictures from the site's root, a
title written twice, an index that is empty or another book's, the cover and imprint from
book.yml, warnings given once per build, and a booklet too thick to staple."""

from __future__ import annotations

import dataclasses
import html
import logging
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import BOOKS, ROOT, build_quietly
from pdfpages import BookPdf, squash

from bookpress.build import warn_thick_booklet
from bookpress.cli import main
from bookpress.errors import LOGGER
from bookpress.imprint import licence_kind
from bookpress.load import load_book
from bookpress.model import BOOKLET_SHEETS, ChapterSource
from bookpress.render import render_chapters, render_front_matter, without_repeated_title
from bookpress.sources import did_you_mean

JEKYLL_PAGE = """---
layout: page
title: "Stalin's Rise"
permalink: /course/rise/
description: How Stalin rose to power.
redirect_from: [/rise.html]
nav_order: 1
---

# Stalin’s Rise

![A red dot](/assets/images/dot.png)

An opening paragraph.
"""
JEKYLL_POST = """---
layout: post
title: The Second Chapter
date: 2025-03-01
tags: [second]
categories: history
---

Another opening.
"""


def write(root: Path, name: str, text: str) -> None:
    (root / "chapters" / name).write_text(text)


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / "chapters" / name
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def new_project(root: Path) -> Path:
    """tests/books/minimal with the real layout, as the `project` fixture makes it."""
    shutil.copytree(BOOKS / "minimal", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    (root / "assets").mkdir(exist_ok=True)
    return root


def add_picture(root: Path) -> None:
    from PIL import Image

    (root / "assets" / "images").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (1200, 300), "red").save(root / "assets" / "images" / "dot.png")
    (root / "assets" / "images" / "dot.yml").write_text(
        "creator: A. Writer\nsource: The Old Course\nlicence: CC BY 4.0\n"
    )


class _Kept(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        error = getattr(record, "book_error", None)
        self.messages.append(error.message if error is not None else record.getMessage())


def run(*arguments: str) -> tuple[int, list[str]]:
    """The command line's exit code, and the message of each warning the build gave."""
    kept = _Kept()
    LOGGER.addHandler(kept)
    try:
        return main(list(arguments)), kept.messages
    finally:
        LOGGER.removeHandler(kept)


def warning_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: ")]


# --- a book whose chapters were pages of a website, built once ---------------------------------


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Two Jekyll pages as chapters, a picture from the site's root, CC BY-ND, a series and an
    attribution: (the PDF, the warnings of its build)."""
    root = new_project(tmp_path_factory.mktemp("imported") / "project")
    add_picture(root)
    write(root, "01-first.md", JEKYLL_PAGE)
    write(root, "02-second.md", JEKYLL_POST)
    edit(
        root,
        "book.yml",
        "licence: CC BY 4.0\n",
        "licence: CC BY-ND 4.0\nseries: A reader for Year 9\n"
        "attribution: Adapted from *The Old Course* by A. Writer, CC BY 4.0\n",
    )
    build = root.parent / "build"
    code, warnings = run("--root", str(root), "--build-dir", str(build))
    assert code == 0
    return BookPdf(build / "book.pdf"), warnings


def test_website_keys_are_one_warning_for_the_whole_book(imported):
    _, warnings = imported
    assert warnings == [
        "'layout', 'permalink', 'description', 'redirect_from', 'nav_order', "
        "'date', 'tags', 'categories' are keys of website tools, ignored by the "
        "book (here and in 1 other chapter)"
    ]


def opening_page(pdf: BookPdf, title: str) -> int:
    return next(page for depth, heading, page in pdf.outline() if heading == title)


def test_the_title_written_again_as_a_heading_is_printed_once(imported):
    pdf, _ = imported
    text = squash(pdf.body_text(opening_page(pdf, "Stalin's Rise"))).replace("\u2019", "'")
    assert text.count("Stalin's Rise") == 1 and "An opening paragraph." in text


def test_a_picture_named_from_the_site_root_is_printed(imported):
    pdf, _ = imported
    assert len(pdf.pages[opening_page(pdf, "Stalin's Rise")].images) == 1


def test_series_licence_and_attribution_on_the_cover_and_imprint(imported):
    pdf, _ = imported
    cover = "".join(pdf.texts[0].upper().split())  # the series' letters are spaced out
    assert cover.startswith("AREADERFORYEAR9ASMALLTESTBOOK")
    imprint = squash(next(text for text in pdf.texts if "How to cite." in text))
    assert (
        "This book is published under the CC BY-ND 4.0 licence. You may copy, print and "
        "share it for any purpose, even commercially, provided you credit it as below and "
        "share it unchanged: you may not share adaptations of it."
    ) in imprint
    assert "Attribution. Adapted from The Old Course by A. Writer, CC BY 4.0." in imprint


# --- front matter ------------------------------------------------------------------------------


def test_an_unknown_key_and_the_bodys_own_error_in_one_run(project, capsys):
    write(project, "01-first.md", "---\ntitle: One\nflavour: mint\n---\n\nText.\n\n::: review\n")
    assert main(["--root", str(project)]) == 1
    err = capsys.readouterr().err
    assert "warning: chapters/01-first.md:3: unknown key 'flavour': the book ignores it" in err
    assert "the keys are: title, short_title" in err and "did you mean" not in err
    assert "chapters/01-first.md:8: this box is never closed" in err


@pytest.mark.parametrize(
    "word, choices, hint",
    [
        ("description", ["title", "short_title", "numbered", "data", "template", "caption"], None),
        ("related", ["title", "template", "caption"], None),
        ("short_titel", ["title", "short_title"], "did you mean 'short_title'?"),
        ("titel", ["title", "caption"], "did you mean 'title'?"),
        ("trem", ["term", "aliases"], "did you mean 'term'?"),  # two letters swapped
        ("lisence", ["licence", "lang"], "did you mean 'licence'?"),
        ("02-secnd.md", ["01-first.md", "02-second.md"], "did you mean '02-second.md'?"),
        ("colour", ["caption", "template"], None),
    ],
)
def test_did_you_mean_only_when_the_name_is_close(word, choices, hint):
    assert did_you_mean(word, choices) == hint


def test_website_keys_of_one_chapter_name_no_other(project, capsys):
    write(project, "02-second.md", JEKYLL_POST)
    assert main(["--root", str(project), "--check"]) == 0
    assert warning_lines(capsys.readouterr().err) == [
        "warning: chapters/02-second.md:2: 'layout', 'date', 'tags', 'categories' are keys of "
        "website tools, ignored by the book"
    ]


def test_the_website_book_warns_once_of_its_jekyll_page(tmp_path, capsys):
    root = tmp_path / "website"
    shutil.copytree(BOOKS / "website", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    (root / "assets").mkdir(exist_ok=True)
    assert main(["--root", str(root), "--check"]) == 0
    found = [line for line in warning_lines(capsys.readouterr().err) if "website tools" in line]
    assert found == [
        "warning: chapters/04-course-page.md:2: 'layout', 'permalink', "
        "'description', 'nav_order', 'tags' are keys of website tools, ignored by "
        "the book"
    ]
    page = next(
        chapter
        for chapter in render_chapters(load_book(root))
        if chapter.source.slug == "course-page"
    )
    assert page.section.count("Reading a Source") == 1


# --- a title written twice ---------------------------------------------------------------------


def chapter_with(title: str, body: str) -> ChapterSource:
    return ChapterSource(Path("01-x.md"), "x", title, title, 1, body, 5)


@pytest.mark.parametrize(
    "title, body, left",
    [
        ("Stalin's Rise", "\n# Stalin\u2019s  rise\n\nText.\n", "\n\n\nText.\n"),
        ("The Gulag", "# The Gulag #\nText.", "\nText."),
        ("The Gulag", "# The Gulag {#gulag}\nText.", "\nText."),
        ("The Gulag", "The Gulag\n=========\n\nText.", "\n\n\nText."),
        ("War -- and Peace...", "# War \u2013 and Peace\u2026\nText.", "\nText."),
        ("The Gulag", "# The Camps\nText.", None),  # another heading: kept
        ("The Gulag", "## The Gulag\nText.", None),  # a section of that name: kept
        ("The Gulag", "Text.\n\n# The Gulag\n", None),  # not the first line of text: kept
    ],
)
def test_a_first_heading_that_repeats_the_title_is_left_out(title, body, left):
    """Left out as a blank line, so that every other line keeps its number."""
    result = without_repeated_title(chapter_with(title, body))
    assert result == (body if left is None else left)
    assert result.count("\n") == body.count("\n")


# --- pictures from the site's root -------------------------------------------------------------


def test_a_picture_from_the_site_root_is_read_from_assets(project):
    add_picture(project)
    write(
        project,
        "01-first.md",
        "---\ntitle: One\n---\n\n![A red dot](/assets/images/dot.png)\n"
        '\n<img src="/assets/images/dot.png" alt="The dot again">\n',
    )
    chapter = render_chapters(load_book(project))[0]
    assert chapter.html.count('src="../assets/images/dot.png"') == 2


@pytest.mark.parametrize(
    "src, message",
    [
        ("/images/dot.png", "the image '/images/dot.png' is not a file in assets/"),
        ("/assets/images/none.png", "the image '/assets/images/none.png' does not exist"),
        ("//example.org/dot.png", "the image '//example.org/dot.png' is not a file in assets/"),
    ],
)
def test_a_picture_from_the_site_root_outside_assets_is_refused(project, capsys, src, message):
    add_picture(project)
    write(project, "01-first.md", f"---\ntitle: One\n---\n\n![A red dot]({src})\n")
    assert main(["--root", str(project), "--check"]) == 1
    assert f"chapters/01-first.md:5: {message}" in capsys.readouterr().err


# --- the index of a new book -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "\n\n  \n", "# the terms, to come\n", None],
    ids=["empty", "blank lines", "comments", "missing"],
)
def test_an_empty_or_missing_index_yml_means_no_index(project, capsys, text):
    if text is not None:
        write(project, "index.yml", text)
    assert main(["--root", str(project), "--check"]) == 0
    assert capsys.readouterr().err == ""
    assert load_book(project).index_terms == ()


def test_a_book_with_an_empty_index_yml_has_no_index_pages(project, tmp_path):
    write(project, "index.yml", "")
    assert build_quietly("--root", str(project), "--build-dir", str(tmp_path / "build")) == 0
    pdf = BookPdf(tmp_path / "build" / "book.pdf")
    assert "Index" not in [title for _, title, _ in pdf.outline()]


def test_an_index_of_which_nothing_matches_is_one_warning(project, capsys):
    write(
        project,
        "index.yml",
        "".join(f"- term: Term {n}\n" for n in range(1, 117)) + "- term: Other\n  see: Term 1\n",
    )
    assert main(["--root", str(project), "--check"]) == 0
    assert warning_lines(capsys.readouterr().err) == [
        "warning: chapters/index.yml: none of the 116 terms of index.yml occurs in the text: "
        "is the list another book's?"
    ]


# --- each warning once per build ---------------------------------------------------------------


def with_three_warnings(project: Path) -> list[str]:
    """A project whose build warns of a chapter, of its teacher's notes, and of the index."""
    write(
        project,
        "01-first.md",
        "---\ntitle: One\nflavour: mint\n---\n\nSee [it](#nowhere).\n"
        "\n::: teacher\nAnd [here](#nowhere-either).\n:::\n",
    )
    write(project, "index.yml", "- term: NKVD\n- term: Gulag\n")
    return [
        "chapters/01-first.md:3: unknown key 'flavour'",
        "chapters/01-first.md:6: the link to #nowhere leads nowhere",
        "chapters/index.yml: none of the 2 terms of index.yml occurs in the text",
        "chapters/01-first.md:9: the link to #nowhere-either leads nowhere",
    ]


def test_all_products_give_each_warning_once(project, tmp_path, capsys):
    expected = with_three_warnings(project)
    assert main(["--root", str(project), "--build-dir", str(tmp_path / "build"), "--all"]) == 0
    lines = warning_lines(capsys.readouterr().err)
    assert len(lines) == len(expected), lines
    for start in expected:
        assert sum(line.startswith(f"warning: {start}") for line in lines) == 1, (start, lines)


def test_check_gives_each_warning_once(project, capsys):
    expected = with_three_warnings(project)
    assert main(["--root", str(project), "--check"]) == 0
    lines = warning_lines(capsys.readouterr().err)
    assert len(lines) == len(expected), lines
    for start in expected:
        assert sum(line.startswith(f"warning: {start}") for line in lines) == 1, (start, lines)


def test_check_under_strict_gives_each_problem_once(project, capsys):
    expected = with_three_warnings(project)
    assert main(["--root", str(project), "--check", "--strict"]) == 1
    err = capsys.readouterr().err
    assert "warning:" not in err and f"({len(expected)} problems)" in err
    for start in expected:
        assert err.count(start) == 1, (start, err)


# --- the cover and the imprint -----------------------------------------------------------------


def front_matter_text(project: Path, **info) -> str:
    """The cover, title page and imprint as text, with book.yml's values changed."""
    book = load_book(project)
    book = dataclasses.replace(book, info=dataclasses.replace(book.info, **info))
    page = render_front_matter(book, (), "2026-01-15T00:00:00Z")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


ADAPT = "You may copy, print, share and adapt it"
SHARE = "You may copy, print and share it"
CREDIT = "provided you credit it as below"
NOT_COMMERCIAL = "but not for commercial purposes"
SAME = "share what you adapt under the same licence"
UNCHANGED = "share it unchanged: you may not share adaptations of it"
LICENCES = [  # (licence, what the imprint says, what it must not say)
    (
        "CC BY 4.0",
        [ADAPT + " for any purpose, even commercially", CREDIT, "say if you changed it"],
        [NOT_COMMERCIAL, SAME, UNCHANGED],
    ),
    ("CC BY-SA 4.0", [ADAPT + " for any purpose", CREDIT, SAME], [NOT_COMMERCIAL, UNCHANGED]),
    ("CC BY-NC 4.0", [ADAPT + ", " + NOT_COMMERCIAL, CREDIT], [SAME, UNCHANGED, "commercially,"]),
    ("CC BY-ND 4.0", [SHARE + " for any purpose", CREDIT, UNCHANGED], [ADAPT, NOT_COMMERCIAL]),
    ("CC BY-NC-SA 4.0", [ADAPT + ", " + NOT_COMMERCIAL, CREDIT, SAME], [UNCHANGED]),
    ("CC BY-NC-ND 4.0", [SHARE + ", " + NOT_COMMERCIAL, CREDIT, UNCHANGED], [ADAPT, SAME]),
    (
        "CC0 1.0",
        [
            "This book is dedicated to the public domain (CC0 1.0).",
            ADAPT + " for any purpose, without asking and without crediting it",
        ],
        [CREDIT],
    ),
    (
        "All rights reserved",
        [
            "\u00a9 2026 Test Author. All rights reserved.",
            "no part of it may be copied, shared or adapted without permission",
            "test edition (2026).",
        ],
        [ADAPT, SHARE],
    ),
    (
        "GFDL 1.3",
        [
            "This book is published under the licence \u201cGFDL 1.3\u201d. Its terms say "
            "what you may copy, share and adapt."
        ],
        [ADAPT, SHARE],
    ),
]


@pytest.mark.parametrize("licence, says, never", LICENCES, ids=[case[0] for case in LICENCES])
def test_the_imprint_says_what_the_licence_allows(project, licence, says, never):
    text = front_matter_text(project, licence=licence)
    imprint = text[text.index("Licence.") : text.index("Typefaces.")]
    for words in says:
        assert words in imprint, (words, imprint)
    for words in never:
        assert words not in imprint, (words, imprint)


@pytest.mark.parametrize(
    "name, kind",
    [
        ("CC BY 4.0", "BY"),
        ("CC-BY-SA-4.0", "BY SA"),
        ("cc by-nc 4.0", "BY NC"),
        ("Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International", "BY NC ND"),
        ("Attribution-ShareAlike 4.0 International (CC BY-SA 4.0)", "BY SA"),
        ("CC BY-NC-SA 3.0 Unported", "BY NC SA"),
        ("CC0", "CC0"),
        ("CC0 1.0 Universal", "CC0"),
        ("All rights reserved", "reserved"),
        ("\u00a9 2026 A. Teacher. All rights reserved.", "reserved"),
        ("CC BY-SA-ND 4.0", None),
        ("GFDL 1.3", None),
        ("CC BY 3.0 DE", None),
    ],
)
def test_licence_names_are_read_as_they_are_usually_written(name, kind):
    assert licence_kind(name) == kind


def test_an_unknown_licence_is_a_warning_naming_it(project, capsys):
    edit(project, "book.yml", "licence: CC BY 4.0", "licence: GFDL 1.3")
    assert main(["--root", str(project), "--check"]) == 0
    err = capsys.readouterr().err
    assert (
        "warning: chapters/book.yml:7: the imprint cannot say what the licence 'GFDL 1.3' "
        "allows, only name it"
    ) in err
    assert "how to fix: write one of: CC BY 4.0, CC BY-SA 4.0," in err


def test_the_series_is_the_cover_line_and_without_one_there_is_none(project):
    assert "A classroom booklet" not in front_matter_text(project)
    series = front_matter_text(project, series="Revision guides")
    assert "Revision guides A Small Test Book Two chapters and a table" in series  # above it


def test_an_attribution_is_printed_in_the_imprint_as_written(project):
    text = front_matter_text(
        project, attribution="Adapted from *Old Notes* by B. Author, CC BY 4.0"
    )
    assert "Attribution. Adapted from Old Notes by B. Author, CC BY 4.0. How to cite." in text
    assert "Attribution." not in front_matter_text(project)


def test_the_shipped_book_keeps_its_cover_line():
    assert load_book(ROOT).info.series == "A classroom booklet"


# --- the booklet's limit -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "most, sheets, warned",
    [
        (BOOKLET_SHEETS, BOOKLET_SHEETS, False),
        (BOOKLET_SHEETS, BOOKLET_SHEETS + 1, True),
        (24, 24, False),
        (24, 25, True),
    ],
)
def test_the_booklet_warns_past_the_sheets_book_yml_allows(tmp_path, caplog, most, sheets, warned):
    book = SimpleNamespace(root=tmp_path, info=SimpleNamespace(booklet_sheets=most))
    with caplog.at_level(logging.WARNING, logger="bookpress"):
        warn_thick_booklet(book, 4 * sheets - 1, sheets)
    assert bool(caplog.records) == warned
    if warned:
        assert f"more than the {most} sheets ({4 * most} pages)" in caplog.records[0].getMessage()


def test_a_booklet_over_64_pages_warns_with_its_sheets(project, tmp_path, capsys):
    paragraph = "A paragraph of the long chapter, long enough to fill a line or two of an A5 page. "
    names = []
    for number in range(1, 13):  # about 6 pages each on A5
        name = f"{number:02d}-part-{number}.md"
        write(
            project,
            name,
            f"---\ntitle: Part {number}\n---\n\n"
            + "\n\n".join(paragraph * 3 for _ in range(36))
            + "\n",
        )
        names.append(name)
    text = (project / "chapters" / "book.yml").read_text()
    write(
        project,
        "book.yml",
        text[: text.index("chapters:")]
        + "chapters:\n"
        + "".join(f"  - {name}\n" for name in names),
    )
    for old in ("01-first.md", "02-second.md", "03-table.md"):
        (project / "chapters" / old).unlink()
    build = tmp_path / "build"
    assert main(["--root", str(project), "--build-dir", str(build), "--product", "booklet"]) == 0
    lines = warning_lines(capsys.readouterr().err)
    assert len(lines) == 1, lines
    found = re.fullmatch(
        r"warning: chapters/book\.yml: the booklet has (\d+) pages on (\d+) "
        r"sheets, more than the 16 sheets \(64 pages\) one fold and two staples "
        r"hold",
        lines[0],
    )
    assert found and int(found[1]) > 64 and int(found[2]) == -(-int(found[1]) // 4), lines[0]
    assert (build / "booklet.pdf").is_file()


@pytest.mark.parametrize(
    "sheets, message",
    [
        ("many", "'booklet_sheets' should be a number"),
        ("0", "booklet_sheets 0 is not a number of sheets from 1 to 40"),
        ("20.5", "booklet_sheets 20.5 is not a number of sheets from 1 to 40"),
    ],
)
def test_a_wrong_booklet_sheets_is_an_error_with_its_line(project, capsys, sheets, message):
    book = project / "chapters" / "book.yml"
    book.write_text(book.read_text() + f"booklet_sheets: {sheets}\n")
    assert main(["--root", str(project), "--check"]) == 1
    line = len(book.read_text().splitlines())
    assert f"chapters/book.yml:{line}: {message}" in capsys.readouterr().err
