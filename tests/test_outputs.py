"""What a build leaves in build/: reproducible bytes, and nothing half-written after a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from multiprocessing.connection import wait
from types import SimpleNamespace

from conftest import ROOT, build_collecting

from bookpress import files, pool, typeset
from bookpress.cli import main
from bookpress.errors import BookError
from bookpress.typeset import MisplacedNotes, misplaced_notes


def test_two_cold_builds_of_the_same_sources_are_byte_identical(book_path, tmp_path):
    """Two builds from scratch, each with a build folder and cache of its own: the session's
    book, laid out by as many workers as there are cores, and one more in a process of its
    own, laid out by one."""
    folder = tmp_path / "build"
    command = [
        sys.executable,
        str(ROOT / "make_book.py"),
        "--root",
        str(ROOT),
        "--build-dir",
        str(folder),
        "--force",
        "--jobs",
        "1",
    ]
    second = subprocess.run(command, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr
    caches = [path.parent / "cache" for path in (book_path, folder / "book.pdf")]
    assert caches[0] != caches[1]
    assert all(any(path.is_file() for path in cache.rglob("*")) for cache in caches)
    assert (folder / "book.pdf").read_bytes() == book_path.read_bytes()


def test_the_pdf_is_the_same_whatever_the_workers_and_the_order_their_parts_come_back_in(
    project, monkeypatch
):
    """Cold builds by one worker, by three, and by three whose parts are taken in another
    order: the last busy worker's first, the others' waiting until it is idle."""
    finished: list[list[int]] = []

    def cold_build(jobs: str) -> bytes:
        shutil.rmtree(project / "build", ignore_errors=True)  # its cache too
        finished.append([])
        assert main(["--root", str(project), "--jobs", jobs]) == 0
        return (project / "build" / "book.pdf").read_bytes()

    def finish(task, result):
        finished[-1].append(hash(result.objects))  # the same part, the same objects
        real_finish(task, result)

    real_finish = pool.Task._finish
    monkeypatch.setattr(pool.Task, "_finish", finish)
    one, three = cold_build("1"), cold_build("3")
    monkeypatch.setattr(pool, "wait", lambda connections: wait(connections[-1:]))
    assert cold_build("3") == three == one
    assert finished[0] == []  # one worker: every part laid out here
    assert sorted(finished[1]) == sorted(finished[2]) and finished[1] != finished[2]


def test_a_rebuild_after_an_edit_and_its_undoing_gives_the_cold_builds_bytes(project):
    pdf = project / "build" / "book.pdf"
    assert main(["--root", str(project), "--force"]) == 0
    cold = pdf.read_bytes()
    chapter = sorted((project / "chapters").glob("*.md"))[0]
    original = chapter.read_text()
    chapter.write_text(original + "\nA sentence added in an edit.\n")
    assert main(["--root", str(project)]) == 0
    assert pdf.read_bytes() != cold
    chapter.write_text(original)
    assert main(["--root", str(project)]) == 0
    assert pdf.read_bytes() == cold


def _layouts_counted(monkeypatch) -> list:
    """Every document WeasyPrint lays out from now on, by its HTML."""
    laid_out = []
    render = typeset.Typesetter.render
    monkeypatch.setattr(
        typeset.Typesetter,
        "render",
        lambda self, html, *rest: laid_out.append(html) or render(self, html, *rest),
    )
    return laid_out


def test_a_build_from_kept_parts_lays_nothing_out_and_gives_the_cold_builds_bytes(
    project, monkeypatch
):
    pdf = project / "build" / "book.pdf"
    assert main(["--root", str(project), "--force"]) == 0
    cold = pdf.read_bytes()
    assert any((project / "build" / "cache").rglob("*"))
    laid_out = _layouts_counted(monkeypatch)
    assert main(["--root", str(project), "--force", "--jobs", "1"]) == 0
    assert laid_out == [] and pdf.read_bytes() == cold


def test_an_edit_lays_out_again_only_the_edited_chapter_and_what_follows_from_it(
    project, monkeypatch
):
    assert main(["--root", str(project), "--force"]) == 0
    chapter = sorted((project / "chapters").glob("*.md"))[-1]
    chapter.write_text(chapter.read_text() + "\nA sentence added in an edit.\n")
    laid_out = _layouts_counted(monkeypatch)
    assert main(["--root", str(project), "--jobs", "1"]) == 0
    edited = [html for html in laid_out if "A sentence added in an edit." in html]
    assert (
        edited and len(laid_out) - len(edited) <= 2
    )  # at most the index and the front matter besides


def test_a_damaged_cache_is_ignored_and_made_again(project, monkeypatch):
    pdf = project / "build" / "book.pdf"
    assert main(["--root", str(project), "--force"]) == 0
    cold = pdf.read_bytes()
    entries = [path for path in (project / "build" / "cache").rglob("*") if path.is_file()]
    for number, path in enumerate(entries):  # cut short, bit-flipped, or not a cache entry at all
        data = path.read_bytes()
        path.write_bytes(
            [data[: len(data) // 2], data[:40] + bytes([data[40] ^ 1]) + data[41:], b"junk"][
                number % 3
            ]
        )
    laid_out = _layouts_counted(monkeypatch)
    assert main(["--root", str(project), "--force", "--jobs", "1"]) == 0
    assert laid_out and pdf.read_bytes() == cold
    laid_out.clear()
    assert main(["--root", str(project), "--force", "--jobs", "1"]) == 0
    assert laid_out == [] and pdf.read_bytes() == cold


def test_a_changed_stylesheet_lays_every_part_out_again(project, monkeypatch):
    assert main(["--root", str(project), "--force"]) == 0
    stylesheet = project / "layout" / "book.css"
    stylesheet.write_text(stylesheet.read_text() + "\np { letter-spacing: 0.01em }\n")
    laid_out = _layouts_counted(monkeypatch)
    assert main(["--root", str(project), "--jobs", "1"]) == 0
    assert len(laid_out) >= len(list((project / "chapters").glob("*.md")))


def test_chapters_laid_out_side_by_side_give_the_same_bytes(project, monkeypatch):
    pdf = project / "build" / "book.pdf"
    laid_out_here = _layouts_counted(monkeypatch)
    assert main(["--root", str(project), "--force", "--jobs", "1"]) == 0
    alone, everything = pdf.read_bytes(), len(laid_out_here)
    shutil.rmtree(project / "build" / "cache")
    laid_out_here.clear()
    assert main(["--root", str(project), "--force", "--jobs", "2"]) == 0
    assert pdf.read_bytes() == alone
    # Here: the index, the front matter and the blank page; the chapters, in the workers.
    chapters = len(list((project / "chapters").glob("*.md")))
    assert len(laid_out_here) <= everything - chapters


def test_a_chapter_that_fails_in_a_worker_fails_the_build_with_its_message(project, capsys):
    stylesheet = project / "layout" / "book.css"
    stylesheet.write_text(
        stylesheet.read_text() + "\nh1 { background: url(file:///etc/hostname) }\n"
    )
    assert main(["--root", str(project), "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    assert "the book may only use files from assets/" in err and "Traceback" not in err


def test_page_references_looked_up_in_constant_time_change_no_byte_of_the_pdf():
    from bookpress.clock import fixed_clock
    from bookpress.engine import FastPath, page_references_cached
    from bookpress.load import load_book
    from bookpress.model import Edition
    from bookpress.render import render_chapters
    from bookpress.typeset import Typesetter

    book = load_book(ROOT)
    typesetter = Typesetter(book, Edition(), FastPath())
    documents = [typesetter.render(chapter.html, 1) for chapter in render_chapters(book, Edition())]
    document = max(documents, key=lambda document: len(document.pages))
    with fixed_clock(book):
        plain = document.write_pdf(pdf_variant="pdf/ua-1")  # as WeasyPrint writes it on its own
        with page_references_cached():
            cached = document.write_pdf(pdf_variant="pdf/ua-1")
    assert len(document.pages) > 1 and cached == plain


def test_source_date_epoch_sets_the_pdf_dates(project, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(["--root", str(project)]) == 0
    from pypdf import PdfReader

    assert (
        PdfReader(project / "build" / "book.pdf").metadata["/CreationDate"] == "D:20231114221320Z"
    )


def test_the_command_line_says_where_the_pdf_went(project, capsys):
    assert main(["--root", str(project)]) == 0
    assert capsys.readouterr().out.strip() == "The book is ready: build/book.pdf"
    assert (project / "build" / "book.pdf").read_bytes().startswith(b"%PDF-")


def test_a_build_that_fails_while_writing_leaves_the_previous_pdf_untouched(
    project, monkeypatch, capsys
):
    assert main(["--root", str(project)]) == 0
    good = (project / "build" / "book.pdf").read_bytes()

    def fail_midway(*arguments):
        raise OSError("No space left on device")

    real_fsync = os.fsync
    monkeypatch.setattr(files.os, "fsync", fail_midway)
    assert main(["--root", str(project), "--paper", "letter"]) == 1
    monkeypatch.setattr(files.os, "fsync", real_fsync)
    assert "could not write the book: No space left on device" in capsys.readouterr().err
    assert (project / "build" / "book.pdf").read_bytes() == good
    assert not [p.name for p in (project / "build").iterdir() if p.name.endswith(".tmp")]


def test_an_interrupted_build_leaves_the_previous_pdf_untouched(project, monkeypatch, capsys):
    assert main(["--root", str(project)]) == 0
    good = (project / "build" / "book.pdf").read_bytes()

    def interrupt(*arguments):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupt)
    assert main(["--root", str(project), "--force"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert (project / "build" / "book.pdf").read_bytes() == good
    assert not [p.name for p in (project / "build").iterdir() if p.name.endswith(".tmp")]


def test_write_atomically_replaces_the_whole_file(tmp_path):
    target = tmp_path / "out" / "book.pdf"
    files.write_atomically(target, b"first")
    files.write_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


# --- footnotes that layout could not keep with their call ------------------------------------


def _document(*anchors_per_page):
    return SimpleNamespace(
        pages=[SimpleNamespace(anchors=dict.fromkeys(anchors)) for anchors in anchors_per_page]
    )


def test_misplaced_notes_are_found_moved_or_lost():
    document = _document(
        ["note_1_call", "note_1", "note_2_call", "note_3_call"], ["note_2", "heading"]
    )
    assert misplaced_notes(document) == MisplacedNotes(moved=("note_2",), lost=("note_3",))
    assert not misplaced_notes(_document(["note_1_call", "note_1"]))


def test_a_note_lost_by_layout_stops_the_build_naming_the_chapter(project, monkeypatch, capsys):
    monkeypatch.setattr(
        typeset, "misplaced_notes", lambda document: MisplacedNotes((), ("note_1",))
    )
    (project / "build").mkdir()
    (project / "build" / "book.pdf").write_bytes(b"%PDF good")
    assert main(["--root", str(project)]) == 1
    err = capsys.readouterr().err
    assert (
        'chapters/01-first.md:18: the footnote [^a] ("The note\u2019s text.") cannot be placed'
        " on any page\n    how to fix: shorten this footnote or the text around its call" in err
    )
    assert (project / "build" / "book.pdf").read_bytes() == b"%PDF good"


def test_a_note_set_on_the_page_after_its_call_is_a_warning_naming_it(project, monkeypatch):
    def note_1_moved(document):
        in_document = any("note_1" in page.anchors for page in document.pages)
        return MisplacedNotes(("note_1",) if in_document else (), ())

    monkeypatch.setattr(typeset, "misplaced_notes", note_1_moved)
    chapter = project / "chapters" / "01-first.md"  # found by its words, emphasis or not
    chapter.write_text(chapter.read_text().replace("[^a]: The note's", "[^a]: The *note's*"))
    assert build_collecting(project) == [
        'chapters/01-first.md:18: the footnote [^a] ("The note\u2019s text.") stands on the'
        " page after its call"
    ]


def test_book_error_formats_path_line_and_hint(tmp_path):
    error = BookError(
        tmp_path / "chapters" / "02-gulag.md", 14, "unknown term", "did you mean 'Gulag'?"
    )
    assert (
        error.format(tmp_path)
        == "chapters/02-gulag.md:14: unknown term\n    how to fix: did you mean 'Gulag'?"
    )
