"""Figures drawn from data: numbered, captioned, cited with true pages, checked by path:line."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, fails, write
from pdfpages import squash

from bookpress.load import load_book

REFERENCE = re.compile(r"Figure (\d+) on page (\d+)")


def test_each_reference_names_the_figure_and_the_page_it_stands_on(book):
    _each_reference_names_its_figure_and_page(book)


def test_each_reference_names_the_figure_and_its_page_in_the_letter_edition(letter_book):
    _each_reference_names_its_figure_and_page(letter_book)


def _each_reference_names_its_figure_and_page(pdf):
    text = squash(" ".join(pdf.body_text(i) for i in range(len(pdf.pages))))
    references = REFERENCE.findall(text)
    figures = [figure for chapter in load_book(ROOT).chapters for figure in chapter.figures]
    assert len(figures) == 4  # the timeline, the bar chart and two maps
    # Every figure is referred to, some more than once, and each reference is true.
    assert {int(number) for number, _ in references} == set(range(1, len(figures) + 1))
    for number, folio in references:
        page = pdf.index_of_label(folio)
        assert f"Figure {number}." in squash(pdf.body_text(page)), (
            f"Figure {number} is not on page {folio}"
        )


def test_figures_are_numbered_in_reading_order_with_captions(book):
    text = squash(" ".join(book.body_text(i) for i in range(len(book.pages))))
    first, second = text.find("Figure 1. Stalin"), text.find("Figure 2. People shot")
    assert 0 <= first < second


def test_figures_are_vectors_not_pictures(book_on_each_path):
    book = book_on_each_path
    pages = [
        i
        for i in range(len(book.pages))
        if "Figure 1." in book.body_text(i) or "Figure 2." in book.body_text(i)
    ]
    assert len(pages) == 2
    for index in pages:
        objects = book.pages[index]["/Resources"].get("/XObject", {})
        images = [
            name for name, item in objects.items() if item.get_object().get("/Subtype") == "/Image"
        ]
        assert not images


BAD_DATA = [  # (case, the data file, what the build says)
    (
        "a malformed date",
        "kind: timeline\nevents:\n  - date: 1934-13-01x\n    label: Kirov is murdered\n",
        "chapters/figure.yml:3: '1934-13-01x' is not a date",
    ),
    (
        "a missing value",
        'kind: bar-chart\nbars:\n  - label: "1937"\n    value: 353074\n  - label: "1938"\n',
        "chapters/figure.yml:5: the bar '1938' has no value (a number)",
    ),
    (
        "a label too long to fit",
        "kind: timeline\nevents:\n  - date: 1934\n    label: " + "x" * 60 + "\n",
        "chapters/figure.yml:3: the label is 60 characters long; at most 48 fit",
    ),
    ("an unknown kind", "kind: pie\n", "chapters/figure.yml:1: unknown figure kind 'pie'"),
]


@pytest.mark.parametrize("case, data, message", BAD_DATA, ids=[case for case, _, _ in BAD_DATA])
def test_bad_figure_data(broken, capsys, case, data, message):
    write(broken, "figure.yml", data)
    write(broken, "01-first.md", '---\ntitle: One\n---\n\n![A figure](figure.yml "A caption.")\n')
    assert message in fails(broken, capsys)


def test_a_figure_without_alt_text(broken, capsys):
    write(broken, "figure.yml", "kind: timeline\nevents:\n  - date: 1934\n    label: Kirov\n")
    write(broken, "01-first.md", '---\ntitle: One\n---\n\nText.\n\n![](figure.yml "A caption.")\n')
    assert "chapters/01-first.md:7: the figure 'figure.yml' has no alt text" in fails(
        broken, capsys
    )


def test_a_reference_to_no_figure(broken, capsys):
    write(broken, "figure.yml", "kind: timeline\nevents:\n  - date: 1934\n    label: Kirov\n")
    write(
        broken, "01-first.md", "---\ntitle: One\n---\n\nSee {@figur}.\n\n![A figure](figure.yml)\n"
    )
    err = fails(broken, capsys)
    assert (
        "chapters/01-first.md:5: {@figur} names no figure" in err
        and "did you mean 'figure'?" in err
    )


def test_a_reference_to_a_figure_in_a_later_chapter_gets_its_page(project):
    from pdfpages import BookPdf

    from bookpress.cli import main

    write(
        project,
        "figure.yml",
        "kind: timeline\nevents:\n  - date: 1934-12-01\n    label: Kirov is murdered\n",
    )
    write(project, "01-first.md", "---\ntitle: One\n---\n\nAs {@figure} shows, it began early.\n")
    second = (project / "chapters" / "02-second.md").read_text()
    write(
        project,
        "02-second.md",
        second + '\n![A timeline with one event](figure.yml "One event.")\n',
    )
    assert main(["--root", str(project)]) == 0
    pdf = BookPdf(project / "build" / "book.pdf")
    text = squash(" ".join(pdf.body_text(i) for i in range(len(pdf.pages))))
    ((number, folio),) = REFERENCE.findall(text)
    assert "Figure 1." in squash(pdf.body_text(pdf.index_of_label(folio)))
    assert (
        pdf.labels[[i for i in range(len(pdf.pages)) if "Figure 1." in pdf.body_text(i)][0]]
        == folio
    )


def test_a_captioned_table_is_numbered_and_referred_to_with_its_page(book):
    text = squash(" ".join(book.body_text(i) for i in range(len(book.pages))))
    (folio,) = re.findall(r"Table 1 on page (\d+)", text)
    assert "Table 1. Eight characteristics" in squash(book.body_text(book.index_of_label(folio)))
