"""The index: the pure builder, the Markdown marks and automatic matching, index.yml errors."""

from __future__ import annotations

import re

import pytest
from conftest import build_quietly

from bookpress.extensions import IdRegistry
from bookpress.index import (
    IndexEntry,
    IndexGroup,
    IndexTerm,
    Locator,
    Occurrence,
    build_index,
    locators,
    parse_mark,
    sort_key,
)
from bookpress.render import markdown_converter


def at(heading, *pages, sub=None, roman=False):
    """Occurrences of a heading on the given pages (page n has folio n, or a roman one)."""
    return [
        Occurrence(heading, sub, f"ix_{heading}_{page}", page, _roman(page) if roman else str(page))
        for page in pages
    ]


def _roman(page):
    return ["i", "ii", "iii", "iv", "v", "vi", "vii"][page - 1]


def texts(entry: IndexEntry) -> list[str]:
    return [locator.text for locator in entry.locators]


# --- locators ---------------------------------------------------------------------------------


def test_each_page_once_in_page_order():
    found = locators(at("NKVD", 9, 3, 3, 12, 9))
    assert [locator.text for locator in found] == ["3", "9", "12"]


def test_a_locator_links_to_the_first_occurrence_on_its_page():
    first, second = (
        Occurrence("NKVD", None, "ix_1", 4, "4"),
        Occurrence("NKVD", None, "ix_2", 4, "4"),
    )
    assert locators([first, second]) == (Locator("4", None, "ix_1"),)


def test_three_or_more_consecutive_pages_make_a_range_two_do_not():
    assert [locator.text for locator in locators(at("NKVD", 3, 4, 5, 8, 9, 12))] == [
        "3\u20135",
        "8",
        "9",
        "12",
    ]
    assert locators(at("NKVD", 14, 15, 16, 17))[0] == Locator("14", "17", "ix_NKVD_14")


def test_roman_locators_for_front_matter_and_no_range_across_numberings():
    occurrences = at("Preface", 2, 3, 4, roman=True) + [Occurrence("Preface", None, "ix_a", 5, "1")]
    assert [locator.text for locator in locators(occurrences)] == ["ii\u2013iv", "1"]


# --- grouping and sorting -----------------------------------------------------------------------


def test_sorting_ignores_case_accents_and_leading_punctuation():
    assert sort_key("Émigrés") == "emigres"
    assert sort_key("\u201cEnemies of the people\u201d") == "enemies of the people\u201d"
    assert sort_key("ежовщина") == sort_key("Ежовщина")


def test_letter_groups_in_order_with_accented_latin_and_cyrillic_names():
    groups = build_index(
        (),
        at("zinoviev", 1)
        + at("Émigrés", 2)
        + at("Ежов", 3)
        + at("archives", 4)
        + at("Beria", 5)
        + at("Yagoda", 6)
        + at("ёлка", 7)
        + at("1937", 8),
    )
    assert [group.letter for group in groups] == ["#", "A", "B", "E", "Y", "Z", "Е"]
    assert [entry.heading for entry in groups[-1].entries] == ["Ежов", "ёлка"]
    assert [entry.heading for entry in groups[3].entries] == ["Émigrés"]


def test_names_sort_by_surname_through_the_heading_and_sort_keys():
    terms = (
        IndexTerm("Trotsky, Leon"),
        IndexTerm("Order No. 00447", sort="Order 00447"),
        IndexTerm("Tukhachevsky, Mikhail"),
    )
    groups = build_index(
        terms, at("Tukhachevsky, Mikhail", 1) + at("Trotsky, Leon", 2) + at("Order No. 00447", 3)
    )
    assert [[e.heading for e in g.entries] for g in groups] == [
        ["Order No. 00447"],
        ["Trotsky, Leon", "Tukhachevsky, Mikhail"],
    ]


def test_sub_entries_under_their_heading_sorted_with_their_own_locators():
    occurrences = (
        at("Trotsky, Leon", 3, 4)
        + at("Trotsky, Leon", 9, sub="murder")
        + at("Trotsky, Leon", 7, sub="exile")
    )
    (group,) = build_index((IndexTerm("Trotsky, Leon"),), occurrences)
    (entry,) = group.entries
    assert texts(entry) == ["3", "4"]
    assert [(sub.heading, texts(sub)) for sub in entry.subentries] == [
        ("exile", ["7"]),
        ("murder", ["9"]),
    ]


def test_see_and_see_also():
    terms = (
        IndexTerm("Great Purge", see_also=("Gulag",)),
        IndexTerm("Terror, Great", see="Great Purge"),
        IndexTerm("Gulag"),
    )
    groups = build_index(terms, at("Great Purge", 3) + at("Gulag", 5))
    entries = {entry.heading: entry for group in groups for entry in group.entries}
    assert entries["Terror, Great"] == IndexEntry("Terror, Great", (), (), "Great Purge", ())
    assert entries["Great Purge"].see_also == ("Gulag",)


def test_a_term_that_never_occurs_is_left_out():
    groups = build_index((IndexTerm("Gulag"), IndexTerm("Kolyma")), at("Gulag", 5))
    assert groups == (IndexGroup("G", (IndexEntry("Gulag", (Locator("5", None, "ix_Gulag_5"),)),)),)


def test_parse_mark():
    assert parse_mark("Trotsky, Leon; assassination") == ("Trotsky, Leon", "assassination")
    assert parse_mark("  NKVD ") == ("NKVD", None)


# --- Markdown: marks and automatic matching
# --------------------------------------------------------


def convert(text, terms=()):
    registry = IdRegistry()
    html = markdown_converter(registry, terms).convert(text)
    return html, [(mark.heading, mark.sub) for mark in registry.marks]


@pytest.mark.parametrize(
    "source, html, marks",
    [
        (
            "The [Great Purge]{^} began.",
            '<p>The <span class="ix" id="ix_1">Great Purge</span> began.</p>',
            [("Great Purge", None)],
        ),
        (
            "Run by [the secret police]{^NKVD}.",
            '<p>Run by <span class="ix" id="ix_1">the secret police</span>.</p>',
            [("NKVD", None)],
        ),
        (
            "He fled.{^Trotsky, Leon; exile} Then",
            '<p>He fled.<a class="ix" id="ix_1"></a> Then</p>',
            [("Trotsky, Leon", "exile")],
        ),
        (
            "A [*famous* trial]{^show trials}.",
            '<p>A <span class="ix" id="ix_1"><em>famous</em> trial</span>.</p>',
            [("show trials", None)],
        ),
    ],
)
def test_index_marks(source, html, marks):
    assert convert(source) == (html, marks)


def test_terms_are_indexed_wherever_they_stand_but_not_in_headings():
    terms = (
        IndexTerm("NKVD", aliases=("People's Commissariat for Internal Affairs",)),
        IndexTerm("show trials", aliases=("show trial",)),
        IndexTerm("Terror, Great", see="Great Purge"),
    )
    html, marks = convert(
        "## The NKVD\n\nThe NKVD, the People's Commissariat for Internal Affairs, "
        "staged *show trials*. Show trials; a show trial; showtrials; Great Terror.",
        terms,
    )
    assert marks == [
        ("NKVD", None),
        ("NKVD", None),
        ("show trials", None),
        ("show trials", None),
        ("show trials", None),
    ]
    assert '<h3 id="the-nkvd">The NKVD</h3>' in html
    assert 'the<a class="ix ix-next" id="ix_2"></a> People&rsquo;s Commissariat' in html
    assert (
        '<em><a class="ix ix-next" id="ix_3"></a>show trials</em>' in html and "showtrials" in html
    )


def test_names_match_only_as_written():
    html, marks = convert(
        "Stalin and stalin and Stalin's.", (IndexTerm("Stalin, Joseph", aliases=("Stalin",)),)
    )
    assert marks == [("Stalin, Joseph", None), ("Stalin, Joseph", None)]


def test_an_anchor_is_glued_to_the_word_before_the_term():
    # So that a line may break between them: WeasyPrint breaks badly just before an inline box.
    html, _ = convert("gave every region a quota: a number.", (IndexTerm("quota"),))
    assert html == '<p>gave every region a<a class="ix ix-next" id="ix_1"></a> quota: a number.</p>'


def test_the_longest_form_wins():
    terms = (IndexTerm("Stalin, Joseph", aliases=("Joseph Stalin", "Stalin")),)
    html, marks = convert("Joseph Stalin ruled.", terms)
    assert html == '<p><a class="ix ix-next" id="ix_1"></a>Joseph Stalin ruled.</p>'


def test_a_term_with_quotation_marks_or_brackets_gets_a_plain_id_and_no_warning(project):
    """WeasyPrint ignores an anchor whose id holds a straight double quote: the entry would
    be no link target, and the build would warn."""
    chapter = project / "chapters" / "02-second.md"
    chapter.write_text(
        chapter.read_text()
        + '\n## The "Doctors\' Plot"{^The "Doctors\' Plot"}\n\nThe trial (1936){^trials (1936)}.\n'
    )
    assert build_quietly("--root", str(project), "--product", "web", "--product", "book") == 0
    html = (project / "build" / "book.html").read_text()
    ids = re.findall(r'<li class="index-entry" id="([^"]+)"', html)
    assert {"index-the-doctors-plot", "index-trials-1936"} <= set(ids)
