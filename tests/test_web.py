"""The web edition: one self-contained page, loaded in a real headless browser, its links landing."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from bookpress.load import load_book

from conftest import ROOT, build_quietly

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web")
    assert build_quietly("--root", str(ROOT), "--product", "web", "--build-dir", str(folder)) == 0
    return folder / "book.html"


def test_the_page_is_self_contained_and_runs_nothing(web):
    html = web.read_text()
    assert "<script" not in html and " on" + "click" not in html
    assert not re.search(r'\b(?:src|href)="(?:file|https?|ftp):', html.replace('href="https://', 'href="#'))
    assert not re.search(r"<(?:link|img|iframe|object|base)\b", html)
    assert html.count("<svg") == 2 and '<meta name="viewport"' in html


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


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed here (Debian: apt install chromium)")
def test_contents_and_index_links_land_on_their_targets_in_a_browser(web, tmp_path):
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", web.as_uri()],
        capture_output=True, text=True, timeout=120, check=True).stdout
    elements = _Elements()
    elements.feed(dom)
    contents = [href for cls, href in elements.links if not cls][:5]
    chapters = load_book(ROOT).chapters
    assert contents[0] == "introduction" and "".join(elements.text_after["introduction"]).strip().startswith(chapters[0].title)
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
    assert main(["--root", str(root), "--product", "web", "--build-dir", str(tmp_path / "build")]) == 0
    html = (tmp_path / "build" / "book.html").read_text()
    sources = re.findall(r'<img\b[^>]*\ssrc="([^"]+)"', html)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)
