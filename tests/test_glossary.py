"""The glossary and the picture-credits page: gathered from the chapters, with true pages."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, Collect, build_quietly, copy_of_test_book
from pdfpages import BookPdf, squash

from bookpress.backmatter import copied, figure_credits, glossary_entries
from bookpress.cli import main
from bookpress.errors import LOGGER
from bookpress.load import load_book
from bookpress.render import render_chapters

#: The key terms of tests/books/glossary, sorted as the index sorts (accents ignored).
TERMS = ["Confession", "Émigré", "Gulag", "NKVD", "Show trial", "Transit camp", "Zek"]
GLOSSARY_LINE = re.compile(
    r"(?P<term>[^\n—]+?) — (?P<definition>.+?) "
    r"\((?P<place>[^()]+) on page (?P<page>\d+)\)"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The products of the glossary test book that its tests read, from one build with no warning."""
    folder = tmp_path_factory.mktemp("glossary")
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
            "handouts",
            "--product",
            "web",
            "--product",
            "epub",
        )
        == 0
    )
    return folder / "build"


@pytest.fixture(scope="module")
def pdf(built) -> BookPdf:
    return BookPdf(built / "book.pdf")


def glossary_pages(pdf: BookPdf) -> list[int]:
    outline = [(title, page) for depth, title, page in pdf.outline() if depth == 0]
    start = dict(outline)["Glossary"]
    end = next(page for title, page in outline if page > start)
    return list(range(start, end))


def printed_glossary(pdf: BookPdf) -> list[dict]:
    text = squash(" ".join(pdf.body_text(page) for page in glossary_pages(pdf)))
    entries = [match.groupdict() for match in GLOSSARY_LINE.finditer(text)]
    for entry in entries:  # the note above the first entry ends with a full stop
        entry["term"] = entry["term"].split(". ")[-1].strip()
    return entries


def test_every_key_term_once_sorted_with_its_definition(pdf):
    entries = printed_glossary(pdf)
    assert [entry["term"] for entry in entries] == TERMS
    by_term = {entry["term"]: entry for entry in entries}
    assert by_term["NKVD"]["definition"] == "the ministry that ran the police and the camps."
    assert by_term["Zek"]["definition"] == "a prisoner of the camps, in the prisoners’ own slang."
    assert (
        by_term["Gulag"]["place"] == "Chapter 1" and by_term["Confession"]["place"] == "Chapter 2"
    )


def test_each_page_is_where_the_term_is_defined(pdf):
    """The page printed is the page the key-term entry stands on: its folio, and its words."""
    for entry in printed_glossary(pdf):
        term = entry["term"]
        page = pdf.labels.index(entry["page"])
        assert squash(pdf.body_text(page)).count(f"{term} — {entry['definition']}") >= 1, term
    destinations = pdf.destinations
    assert pdf.labels[destinations["term-gulag"]] == "4"  # the review box of chapter 1
    assert pdf.labels[destinations["term-confession"]] == "6"


def test_the_glossary_links_lead_to_the_entries(pdf):
    targets = set()
    for page in glossary_pages(pdf):
        for annotation in pdf.pages[page].get("/Annots") or []:
            annotation = annotation.get_object()
            destination = annotation.get("/Dest") or (annotation.get("/A") or {}).get("/D")
            if destination is not None:
                targets.add(str(destination))
    assert targets == {
        "term-confession",
        "term-emigre",
        "term-gulag",
        "term-nkvd",
        "term-show-trial",
        "term-transit-camp",
        "term-zek",
    }  # NKVD: its first definition, not term-nkvd-2


def test_a_term_defined_twice_in_the_same_words_is_one_entry_with_the_first_page(pdf):
    nkvd = [entry for entry in printed_glossary(pdf) if entry["term"].endswith("NKVD")]
    assert len(nkvd) == 1 and nkvd[0]["page"] == pdf.labels[pdf.destinations["term-nkvd"]]
    assert pdf.labels[pdf.destinations["term-nkvd-2"]] != nkvd[0]["page"]


def test_contents_and_outline_list_the_glossary_before_the_index(pdf):
    parts = [title for depth, title, _ in pdf.outline() if depth == 0]
    assert parts == ["Overview", "The Camps", "The Trials", "Glossary", "Index"]
    contents = squash(pdf.body_text(pdf.labels.index("v")))
    glossary_folio = pdf.labels[glossary_pages(pdf)[0]]
    assert re.search(rf"Glossary[ .]+{glossary_folio} Index", contents)
    assert (
        pdf.body_text(len(pdf.pages) - 1).lstrip().startswith("Index") or "Index" in pdf.texts[-1]
    )


def test_the_screen_editions_give_the_printed_pages(built, pdf):
    printed = {entry["term"]: entry["page"] for entry in printed_glossary(pdf)}
    ids = {
        "Confession": "term-confession",
        "Émigré": "term-emigre",
        "Gulag": "term-gulag",
        "NKVD": "term-nkvd",
        "Show trial": "term-show-trial",
        "Transit camp": "term-transit-camp",
        "Zek": "term-zek",
    }
    web = (built / "book.html").read_text()
    with zipfile.ZipFile(built / "book.epub") as epub:
        names = epub.namelist()
        glossary = epub.read(
            next(name for name in names if name.endswith("glossary.xhtml"))
        ).decode()
        chapters = "".join(epub.read(name).decode() for name in names if name.endswith(".xhtml"))
    for term, target in ids.items():
        link = rf'<a class="xref" href="{{}}#{target}">Chapter \d\u00a0on page\u00a0{printed[term]}</a>'
        assert re.search(link.format(""), web), term
        assert re.search(link.format(r"[\w-]+\.xhtml"), glossary), term
        assert f'id="{target}"' in web and f'id="{target}"' in chapters


def test_the_generated_parts_get_no_handout(built):
    assert sorted(path.name for path in (built / "handouts").iterdir()) == [
        "01-camps.pdf",
        "02-trials.pdf",
    ]


# --- A term defined twice in other words ---------------------------------------------------------


@pytest.fixture
def redefined(tmp_path) -> Path:
    root = copy_of_test_book(tmp_path, "glossary")
    chapter = root / "chapters" / "02-trials.md"
    text = chapter.read_text().replace(
        "- **NKVD** — the ministry that ran the police and the camps.",
        "- **NKVD** — the Soviet secret police.",
    )
    chapter.write_text(text)
    return root


def _line(path: Path, needle: str) -> int:
    return next(
        number for number, line in enumerate(path.read_text().split("\n"), 1) if needle in line
    )


def test_a_term_defined_in_other_words_warns_naming_both_places(redefined):
    collector = Collect()
    LOGGER.addHandler(collector)
    try:
        book = load_book(redefined)
        chapters = render_chapters(book)
    finally:
        LOGGER.removeHandler(collector)
    first = _line(redefined / "chapters" / "01-camps.md", "**NKVD**")
    second = _line(redefined / "chapters" / "02-trials.md", "**NKVD**")
    messages = [record.getMessage() for record in collector.records]
    assert len(messages) == 1, messages
    assert (
        f"02-trials.md:{second}: the key term 'NKVD' is defined here in other words than at "
        f"chapters/01-camps.md:{first}" in messages[0]
    )
    assert "how to fix:" in messages[0]
    # The first definition is the glossary's.
    entries = {entry.words: entry for entry in glossary_entries(book, chapters)}
    assert str(entries["NKVD"].definition) == "the ministry that ran the police and the camps."


def test_a_term_defined_in_other_words_fails_under_strict(redefined, capsys):
    assert (
        main(["--root", str(redefined), "--build-dir", str(redefined / "build"), "--strict"]) == 1
    )
    err = capsys.readouterr().err
    assert "the key term 'NKVD' is defined here in other words" in err and "Traceback" not in err
    assert not (redefined / "build" / "book.pdf").exists()


def test_the_real_book_defines_each_term_once_or_in_the_same_words():
    collector = Collect()
    LOGGER.addHandler(collector)
    try:
        book = load_book(ROOT)
        chapters = render_chapters(book)
    finally:
        LOGGER.removeHandler(collector)
    assert not collector.records, [record.getMessage() for record in collector.records]
    # The glossary, then the credits of the maps.
    assert [chapter.source.slug for chapter in chapters[-2:]] == ["glossary", "picture-credits"]
    terms = [entry.words for entry in glossary_entries(book, chapters)]
    assert len(terms) == len(set(terms)) and "NKVD" in terms and "Gulag" in terms


def test_a_copied_definition_keeps_its_words_without_ids_marks_or_notes():
    html = (
        'the <a class="ix ix-next" id="ix_4"></a><span class="ix" id="ix_5">Main</span> office'
        '<a class="note-call" id="note_1_call"></a><span class="footnote" id="note_1">A '
        "<em>note</em>.</span>"
        ' of <em id="x">camps</em> &amp; <a class="page-link" href="#y">prisons</a>'
    )
    assert copied(html) == "the Main office of <em>camps</em> &amp; prisons"


# --- Picture credits
# -------------------------------------------------------------------------------

PICTURES = """
<figure class="picture" id="figure-solovki" data-credit="A. Photographer, State Archive, CC BY 4.0">
<img src="../assets/solovki.jpg" alt="The camp">
<figcaption><span class="figure-label">Figure 2.</span> The camp. <span class="credit">A. Photographer, State Archive, CC BY 4.0</span></figcaption></figure>
<figure class="figure figure-timeline" id="figure-timeline"><svg></svg>
<figcaption><span class="figure-label">Figure 3.</span> Events.</figcaption></figure>
<figure class="figure figure-map" id="figure-camps-map" data-credit="Natural Earth, public domain">
<figcaption><span class="figure-label">Figure 4.</span> A map.</figcaption></figure>
<figure class="picture" id="figure-kirov" data-credit="Unknown, Wikimedia Commons, public domain &amp; free">
<figcaption><span class="figure-label">Figure 5.</span> Kirov.</figcaption></figure>
"""


def test_the_credits_list_each_credited_figure_in_reading_order():
    assert figure_credits(PICTURES) == [
        ("figure-solovki", "Figure 2", "A. Photographer, State Archive, CC BY 4.0"),
        ("figure-camps-map", "Figure 4", "Natural Earth, public domain"),  # a map that carries one
        ("figure-kirov", "Figure 5", "Unknown, Wikimedia Commons, public domain & free"),
    ]  # the timeline, drawn from data without a credit, has no line


def test_the_credits_page_links_each_picture_with_its_page(tmp_path):
    """The page is a part after the glossary; typeset gives each line its figure's page."""
    from bookpress.backmatter import back_matter
    from bookpress.extensions import IdRegistry
    from bookpress.model import RenderedChapter
    from bookpress.render import template_environment
    from bookpress.typeset import resolve_references

    root = copy_of_test_book(tmp_path, "glossary")
    book = load_book(root)
    chapter = RenderedChapter(book.chapters[1], "<html>" + PICTURES + "</html>", PICTURES, ())
    parts = back_matter(book, (chapter,), IdRegistry(), template_environment(book.layout_dir))
    assert [part.source.title for part in parts] == ["Picture credits"]
    html = resolve_references(
        parts[0], {"figure-solovki": 7, "figure-camps-map": 9, "figure-kirov": 12}
    )
    text = squash(re.sub(r"<[^>]+>", "", html))
    assert (
        "Figure 2 on page 7: A. Photographer, State Archive, CC BY 4.0 Figure 4 on page 9: Natural "
        "Earth, "
        "public domain Figure 5 on page 12: Unknown, Wikimedia Commons, public domain &amp; free"
    ) in text
