"""The web edition: one self-contained page, loaded in a headless browser, its links landing."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from conftest import ROOT

from bookpress.load import load_book

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: book.html, its typefaces and pictures inside it, stays under this size: a page that a
#: phone on a slow connection opens in a few seconds (a 70-page book with two maps, whose
#: coasts are a third of it; a server's gzip sends about a quarter of it).
PAGE_BUDGET = 650_000


@pytest.fixture(scope="module")
def web(every_product):
    """The real book's web edition, from the session's build of every product."""
    return every_product / "book.html"


def test_the_page_is_self_contained_and_runs_nothing(web):
    html = web.read_text()
    assert "<script" not in html and " on" + "click" not in html
    assert not re.search(
        r'\b(?:src|href)="(?:file|https?|ftp):', html.replace('href="https://', 'href="#')
    )
    assert not re.search(r"<(?:link|img|iframe|object|base)\b", html)
    assert html.count("<svg") == 4 and '<meta name="viewport"' in html


def test_the_page_keeps_to_its_size_budget(web):
    size = web.stat().st_size
    assert size < PAGE_BUDGET, f"book.html is {size:,} bytes, over its budget of {PAGE_BUDGET:,}"


def test_the_page_carries_the_books_typefaces_as_woff2(web):
    html = web.read_text()
    faces = re.findall(r"@font-face \{([^}]*)\}", html)
    families = {re.search(r'font-family: "([^"]+)"', face)[1] for face in faces}
    assert families == {"Source Serif Pro", "Source Sans Pro"}
    assert all('src: url("data:font/woff2;base64,' in face for face in faces)
    # Only the faces the screen design sets: text and bold, upright and italic; no light, no
    # semibold.
    weights = {re.search(r"font-weight: (\d+)", face)[1] for face in faces}
    assert weights == {"400", "700"} and len(faces) <= 8


def test_headings_step_down_one_level_at_a_time(web):
    html = web.read_text()
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", html)]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(after <= before + 1 for before, after in itertools.pairwise(levels))
    assert (
        '<h2 class="chapter-title" id="index"' in html and '<h3 class="index-letter">A</h3>' in html
    )
    # A question's number is a word of its heading's name, not run into the next.
    questions = re.findall(r'<span class="faq-number">(\d+\.)</span>(.)', html)
    assert questions and all(after == " " for _, after in questions)


def test_see_and_see_also_lead_to_the_entries_they_name(web):
    html = web.read_text()
    entries = set(re.findall(r'<li class="index-entry" id="([^"]+)"', html))
    see = re.findall(r'<a class="index-see" href="#([^"]+)">([^<]+)</a>', html)
    assert len(see) > 20 and ("index-gulag", "Gulag") in see
    for target, name in see:
        assert target in entries, f"See {name} leads to #{target}, which no entry has"


def test_printed_pages_are_marked_for_screens(web):
    html = web.read_text()
    markers = re.findall(
        r'<span class="page-break" role="doc-pagebreak" id="page-(\d+)" '
        r'title="Page (\d+)" data-page="(\d+)"></span>',
        html,
    )
    assert len(markers) > 20 and markers[0] == ("1", "1", "1")
    assert all(a == b == c for a, b, c in markers)
    assert [int(a) for a, _, _ in markers] == sorted(int(a) for a, _, _ in markers)
    assert 'class="page-break"' not in html.replace('<span class="page-break" role', "")
    assert "aria-label=" not in re.sub(r"<svg\b.*?</svg>", "", html, flags=re.DOTALL)


def test_contents_give_the_printed_pages_and_a_skip_link_passes_them(web):
    html = web.read_text()
    assert (
        re.search(r'<body>\s*<a class="skip-link" href="#main">', html)
        and '<main id="main"' in html
    )
    assert re.search(
        r'<a href="#introduction"><span class="contents-label">Introduction</span> '
        r'<span class="contents-folio"><span class="visually-hidden">page </span>1</span></a>',
        html,
    )


class _Elements(HTMLParser):
    """The ids of the page as the browser serialised it, with the text that follows each."""

    def __init__(self):
        super().__init__()
        self.text_after: dict[str, list[str]] = {}
        self.links: list[tuple[str, str]] = []  # (class, href)
        self._open: list[str] = []

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if "id" in attributes:
            self.text_after[attributes["id"]] = []
            self._open.append(attributes["id"])
        if tag == "a" and attributes.get("href", "").startswith("#"):
            self.links.append((attributes.get("class") or "", attributes["href"][1:]))

    def handle_data(self, data):
        for name in self._open[-3:]:
            self.text_after[name].append(data)
        if len(self._open) > 3:
            self._open = self._open[-3:]


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed here (Debian: apt install chromium)"
)
def test_contents_and_index_links_land_on_their_targets_in_a_browser(web, tmp_path):
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            web.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    elements = _Elements()
    elements.feed(dom)
    contents = [href for cls, href in elements.links if not cls][:5]
    chapters = load_book(ROOT).chapters
    assert contents[0] == "introduction"
    assert "".join(elements.text_after["introduction"]).strip().startswith(chapters[0].title)
    for href in contents:
        assert href in elements.text_after, f"contents link #{href} has no target"
    terms = {term.heading: term for term in load_book(ROOT).index_terms}
    index_links = [href for cls, href in elements.links if href.startswith("ix_")]
    assert len(index_links) > 200
    for href in index_links[:40]:
        assert href in elements.text_after, f"index link #{href} has no target"
    # The index's first entry links to a place whose text carries the term.
    first = next(href for href in index_links)
    following = " ".join("".join(elements.text_after[first]).split())
    assert any(form in following for term in terms.values() for form in term.forms)


def test_the_pictures_of_a_book_are_inside_its_web_page(tmp_path):
    root = tmp_path / "website"
    shutil.copytree(ROOT / "tests" / "books" / "website", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    from bookpress.cli import main

    assert (
        main(["--root", str(root), "--product", "web", "--build-dir", str(tmp_path / "build")]) == 0
    )
    html = (tmp_path / "build" / "book.html").read_text()
    sources = re.findall(r'<img\b[^>]*\ssrc="([^"]+)"', html)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)
