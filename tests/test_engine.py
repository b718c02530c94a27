"""The seam to WeasyPrint: the fast path, the public path it falls back to, and the same bytes."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, build_quietly
from pdfpages import BookPdf
from pypdf import PdfReader

from bookpress import engine
from bookpress.cli import main

PUBLIC_NOTE = "building with WeasyPrint's documented API only, which is slower"


def _outline(reader: PdfReader, items=None) -> list:
    entries = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            entries.append(_outline(reader, item))
        else:
            entries.append((item.title, reader.get_destination_page_number(item)))
    return entries


def _link_targets(reader: PdfReader) -> list[tuple[int, str]]:
    """(page, target) of every link: a named destination, or a web address."""
    targets = []
    for number, page in enumerate(reader.pages):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/Link":
                action = annotation.get("/A") or {}
                target = annotation.get("/Dest") or action.get("/D") or action.get("/URI")
                targets.append((number, str(target)))
    return targets


def _named_pages(reader: PdfReader) -> dict[str, int]:
    return {
        name: reader.get_destination_page_number(dest)
        for name, dest in reader.named_destinations.items()
    }


@pytest.fixture(scope="module")
def public_book(public_book_path) -> PdfReader:
    return PdfReader(public_book_path)


def test_the_fast_path_knows_the_locked_weasyprint():
    # Installed from requirements.lock: a lock that moves past KNOWN_VERSIONS must move the seam
    # too.
    assert engine.fast_path_problem() is None


def test_the_public_path_makes_the_same_book(book_path, public_book_path, public_book):
    """The same pages, text, outline, labels, links and places: the tests that read the book's
    text read the fast path's alone."""
    fast = PdfReader(book_path)
    assert len(public_book.pages) == len(fast.pages)
    texts = zip(BookPdf(public_book_path).texts, BookPdf(book_path).texts, strict=True)
    for number, (ours, theirs) in enumerate(texts):
        assert ours == theirs, f"page {number + 1}"
    assert [page.mediabox for page in public_book.pages] == [page.mediabox for page in fast.pages]
    assert _outline(public_book) == _outline(fast)
    assert public_book.page_labels == fast.page_labels
    assert _link_targets(public_book) == _link_targets(fast)
    assert _named_pages(public_book) == _named_pages(fast)
    assert public_book.metadata.title == fast.metadata.title
    catalog = public_book.trailer["/Root"]
    assert "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"]
    assert catalog["/Lang"] == fast.trailer["/Root"]["/Lang"]


def test_the_public_path_builds_every_product(project, tmp_path, capsys):
    build = tmp_path / "build"
    assert (
        build_quietly("--root", str(project), "--build-dir", str(build), "--all", "--public-path")
        == 0
    )
    names = {path.relative_to(build).as_posix() for path in build.rglob("*") if path.is_file()}
    assert {"book.pdf", "booklet.pdf", "teacher.pdf", "large-print.pdf", "book.html"} <= names
    handouts = sorted(name for name in names if name.startswith("handouts/"))
    assert handouts == [
        "handouts/01-first.pdf",
        "handouts/02-second.pdf",
        "handouts/03-revision.pdf",
    ]
    book = PdfReader(build / "book.pdf")
    second = PdfReader(build / "handouts/02-second.pdf")
    # A handout keeps the book's page numbers: its first page is labelled as in the book.
    first_page = next(
        index
        for index, page in enumerate(book.pages)
        if second.pages[0].extract_text() == page.extract_text()
    )
    assert second.page_labels[0] == book.page_labels[first_page]
    assert not (build / "cache").exists()  # laid-out pages cannot be kept: nothing is cached


def _build(project: Path, folder: Path, *options: str) -> int:
    return main(["--root", str(project), "--build-dir", str(folder), *options])


def test_a_weasyprint_the_seam_does_not_know_takes_the_public_path_and_says_so_once(
    project, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(engine, "KNOWN_VERSIONS", {"weasyprint": ("69.0",), "pydyf": ("0.13.0",)})
    assert _build(project, tmp_path / "build", "--product", "book", "--product", "teacher") == 0
    err = capsys.readouterr().err
    assert err.count(PUBLIC_NOTE) == 1, err
    assert "WeasyPrint 70.0 with pydyf 0.13.0 is not a release the fast path knows" in err
    assert "WeasyPrint 69.0" in err
    assert PdfReader(tmp_path / "build" / "book.pdf").pages
    assert not (tmp_path / "build" / "cache").exists()


def test_a_name_missing_from_weasyprint_takes_the_public_path(
    project, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(engine, "REACHED", (*engine.REACHED, "weasyprint.pdf:no_such_function"))
    assert _build(project, tmp_path / "build") == 0
    err = capsys.readouterr().err
    assert "lacks weasyprint.pdf:no_such_function" in err and PUBLIC_NOTE in err


def test_the_fast_path_says_nothing_of_paths(project, tmp_path, capsys):
    assert _build(project, tmp_path / "build") == 0
    assert PUBLIC_NOTE not in capsys.readouterr().err
    assert any((tmp_path / "build" / "cache").rglob("*"))


# --- the same bytes on every machine ----------------------------------------------------------

HIDE = "hidden"


def _cold_build(project: Path, folder: Path, hide_harfbuzz_subset: bool) -> bytes:
    environment = {key: value for key, value in os.environ.items() if key != "SOURCE_DATE_EPOCH"}
    if hide_harfbuzz_subset:
        # An empty file by the library's name, found first: the system's cannot be loaded.
        hidden = folder.parent / HIDE
        hidden.mkdir(exist_ok=True)
        (hidden / "libharfbuzz-subset.so.0").write_bytes(b"")
        environment["LD_LIBRARY_PATH"] = f"{hidden}:{environment.get('LD_LIBRARY_PATH', '')}"
        probe = "from weasyprint.text.ffi import harfbuzz_subset; print(harfbuzz_subset is None)"
        seen = subprocess.run(
            [sys.executable, "-c", probe],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        assert seen.stdout.strip() == "True", "the system's libharfbuzz-subset is still found"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "make_book.py"),
            "--root",
            str(project),
            "--build-dir",
            str(folder),
            "--force",
        ],
        env=environment,
        check=True,
        capture_output=True,
    )
    return (folder / "book.pdf").read_bytes()


def test_the_pdf_is_the_same_with_and_without_the_systems_harfbuzz_subset(project, tmp_path):
    if ctypes.util.find_library("harfbuzz-subset") is None:
        pytest.skip("this machine has no libharfbuzz-subset to hide (Debian: libharfbuzz-subset0)")
    with_library = _cold_build(project, tmp_path / "with", hide_harfbuzz_subset=False)
    without_library = _cold_build(project, tmp_path / "without", hide_harfbuzz_subset=True)
    assert with_library == without_library


# --- WeasyPrint's own warnings ----------------------------------------------------------------


def test_a_misspelt_css_property_is_a_warning_with_its_line_and_an_error_under_strict(
    project, tmp_path, capsys
):
    stylesheet = project / "layout" / "book.css"
    lines = stylesheet.read_text().split("\n")
    line = next(number for number, text in enumerate(lines, start=1) if text.rstrip().endswith("{"))
    lines[line - 1] += " colr: red;"
    stylesheet.write_text("\n".join(lines))
    assert _build(project, tmp_path / "build") == 0
    err = capsys.readouterr().err
    assert f"warning: layout/book.css:{line}: WeasyPrint: Ignored `colr: red`" in err
    assert err.count("colr: red") == 1, err  # once, though every worker reads the stylesheet
    assert _build(project, tmp_path / "strict", "--strict") == 1
    err = capsys.readouterr().err
    # An error now, printed once: not also as a warning.
    assert err.startswith(f"layout/book.css:{line}: WeasyPrint: Ignored `colr: red`"), err
    assert err.count("colr: red") == 1, err
    assert not (tmp_path / "strict" / "book.pdf").exists()


# --- what the cache key covers ----------------------------------------------------------------


def test_the_cache_key_covers_the_text_libraries_of_the_system(monkeypatch, tmp_path):
    from bookpress import stamp

    versions = stamp.system_library_versions()
    assert all(versions[name] for name in ("pango-1.0", "harfbuzz", "fontconfig")), versions
    before = stamp.layout_digest(ROOT, "edition")
    other = {**versions, "pango-1.0": "1.99.0"}
    monkeypatch.setattr(stamp, "system_library_versions", lambda: other)
    assert stamp.layout_digest(ROOT, "edition") != before


def test_the_cache_key_covers_every_package_that_shapes_a_page():
    from bookpress import stamp

    for name in ("weasyprint", "pydyf", "fonttools", "pyphen", "tinycss2", "cssselect2", "Pillow"):
        assert name in stamp.DEPENDENCIES
