"""The index of the built book, read back from the PDF: every locator true, in every edition."""

from __future__ import annotations

from conftest import ROOT
from indexpages import check_every_locator, index_pages, parse_index

from bookpress.load import load_book


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
