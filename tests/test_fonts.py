"""The book's own fonts, never the system's: fontconfig sees only the font packages, and a
character those fonts lack is named, with its file and line, before anything is laid out."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tempfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import build_quietly
from pdfpages import squash
from pypdf import PdfReader

from bookpress import fonts
from bookpress.cli import main

BOOK_FONT = re.compile(r"^[A-Z]{6}\+Source-(Serif|Sans)-Pro(-[A-Za-z-]+)?$")
WARNING = re.compile(
    r"^warning: (?P<where>\S+:\d+): '(?P<char>.)' \(U\+(?P<code>[0-9A-F]{4,6})\) "
    r"is not in the book's fonts \(Source Serif Pro, Source Sans Pro\); "
    r"it would print as an empty box$",
    re.MULTILINE,
)
HINT = "how to fix: remove it or replace it with a character the fonts have"

# A chapter whose fifth line holds characters no face of layout/fonts.css has.
LACKING = """---
title: The Second Chapter
---

The hammer and sickle ☭ and the name 斯大林, written in Chinese.

## A section

The second chapter has a section of the same name as the first; ☭ again.
"""
LACKING_REPORTED = [
    ("chapters/02-second.md:5", "U+262D"),
    ("chapters/02-second.md:5", "U+65AF"),
    ("chapters/02-second.md:5", "U+5927"),
    ("chapters/02-second.md:5", "U+6797"),
]
# The same chapter with a figure, whose data's fourth line holds one more.
WITH_FIGURE = LACKING.replace(
    "## A section", '![A timeline of one event](timeline.yml "One event.")\n\n## A section'
)
TIMELINE = "kind: timeline\nevents:\n  - date: 1934\n    label: ☭ Sergei Kirov is murdered\n"


def base_fonts(pdf: Path) -> set[str]:
    """The /BaseFont of every font the pages use, in figures (form XObjects) too."""
    names: set[str] = set()

    def visit(resources) -> None:
        resources = resources.get_object() if resources is not None else {}
        for font in resources.get("/Font", {}).values():
            font = font.get_object()
            for each in [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]:
                names.add(str(each["/BaseFont"]).lstrip("/"))
        for xobject in resources.get("/XObject", {}).values():
            visit(xobject.get_object().get("/Resources"))

    for page in PdfReader(pdf).pages:
        visit(page.get("/Resources"))
    return names


def assert_only_book_fonts(pdf: Path) -> None:
    names = base_fonts(pdf)
    assert names
    assert all(BOOK_FONT.match(name) for name in names), sorted(names)
    assert not any(system in name for name in names for system in ("DejaVu", "Droid"))


def reported(err: str) -> list[tuple[str, str]]:
    return [(match["where"], f"U+{match['code']}") for match in WARNING.finditer(err)]


def write(project: Path, name: str, text: str) -> None:
    (project / "chapters" / name).write_text(text, encoding="utf-8")


# --- fontconfig ------------------------------------------------------------------------------


@pytest.fixture
def fontconfig_environment(monkeypatch):
    """Whatever a test sets of fontconfig's variables is undone after it."""
    for name in ("FONTCONFIG_FILE", "FONTCONFIG_PATH", "FONTCONFIG_SYSROOT"):
        monkeypatch.delenv(name, raising=False)


def test_the_private_fontconfig_lists_only_the_font_packages(fontconfig_environment):
    config = fonts.use_book_fonts()
    document = ElementTree.parse(config).getroot()
    assert [element.text for element in document.iter("dir")] == [
        str(folder) for folder in fonts.font_directories()
    ]
    assert not list(document.iter("include"))  # nothing of the system's configuration
    cache = Path(document.findtext("cachedir") or "")
    assert cache.parent == config.parent
    assert config.parent.parent == Path(tempfile.gettempdir())
    assert not cache.is_relative_to(Path.home() / ".cache")
    assert not stat.S_IMODE(config.parent.stat().st_mode) & 0o077  # only its user may read it
    assert os.environ["FONTCONFIG_FILE"] == str(config)
    assert os.environ["FONTCONFIG_PATH"] == str(config.parent)
    text = config.read_bytes()
    assert fonts.use_book_fonts() == config and config.read_bytes() == text  # the same every time


def test_a_folder_others_can_write_to_is_not_used(fontconfig_environment, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    expected = fonts.use_book_fonts().parent
    expected.chmod(0o777)  # as if another user had made it, for anyone to write a configuration
    config = fonts.use_book_fonts()
    assert config.parent != expected and config.is_relative_to(tmp_path)


def test_fontconfig_sees_only_the_font_packages(fontconfig_environment):
    fonts.use_book_fonts()
    # fontconfig's own lister, reading the configuration the build made (as Pango will).
    listed = subprocess.run(
        ["fc-list", "--format", "%{file}\t%{family}\n"],
        env=os.environ,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    files = [Path(line.split("\t")[0]) for line in listed]
    families = {line.split("\t")[1] for line in listed}
    assert files
    assert all(path.parent in fonts.font_directories() for path in files)
    # Renamed as they are scanned, so they never stand in for the faces fonts.css declares.
    assert families == {fonts.UNDECLARED_FAMILY}


def test_a_character_the_fonts_lack_is_a_warning_and_no_system_font_is_embedded(
    project, tmp_path, capsys
):
    write(project, "02-second.md", WITH_FIGURE)
    write(project, "timeline.yml", TIMELINE)
    build = tmp_path / "build"
    # Two workers: the chapters are laid out in forked processes, which inherit the fonts.
    assert main(["--root", str(project), "--build-dir", str(build), "--jobs", "2"]) == 0
    err = capsys.readouterr().err
    # Once per character and file, at the first line it stands on.
    assert reported(err) == [*LACKING_REPORTED, ("chapters/timeline.yml:4", "U+262D")]
    assert HINT in err
    assert_only_book_fonts(build / "book.pdf")  # the figure's text too


def test_under_strict_a_character_the_fonts_lack_is_an_error(project, tmp_path, capsys):
    write(project, "02-second.md", LACKING)
    build = tmp_path / "build"
    assert main(["--root", str(project), "--build-dir", str(build), "--strict"]) == 1
    err = capsys.readouterr().err
    assert [
        (where, code)
        for where, code in re.findall(r"^(\S+:\d+): '.' \((U\+\w+)\)", err, re.MULTILINE)
    ] == LACKING_REPORTED
    assert "The book was not built (4 problems)" in err
    assert not (build / "book.pdf").exists()


def test_check_reports_every_character_the_fonts_lack_at_once(project, capsys):
    """Front matter, body, a table's data, a figure's data, book.yml and index.yml."""
    chapters = project / "chapters"
    first = (
        (chapters / "01-first.md").read_text().replace("short_title: First", "short_title: First ☭")
    )
    write(project, "01-first.md", first + "\nThe sign ☭ once more.\n")
    write(project, "02-second.md", WITH_FIGURE)
    write(project, "timeline.yml", TIMELINE)
    write(
        project,
        "table.yml",
        (chapters / "table.yml").read_text().replace("First row", "First row ★"),
    )
    write(
        project,
        "book.yml",
        (chapters / "book.yml")
        .read_text()
        .replace("subtitle: Two chapters", "subtitle: ✗ Two chapters"),
    )
    write(project, "index.yml", "# ☞ the terms of the index\n- term: opening paragraph\n")
    assert main(["--root", str(project), "--check"]) == 0
    err = capsys.readouterr().err
    assert reported(err) == [
        ("chapters/book.yml:2", "U+2717"),
        ("chapters/index.yml:1", "U+261E"),
        ("chapters/01-first.md:3", "U+262D"),
        *LACKING_REPORTED,
        ("chapters/timeline.yml:4", "U+262D"),
        ("chapters/table.yml:1", "U+2605"),
    ]
    assert main(["--root", str(project), "--check", "--strict"]) == 1
    assert "The book was not built (9 problems)" in capsys.readouterr().err


def test_controls_tabs_and_invisible_characters_are_not_reported():
    covered = frozenset("abc")
    text = "a\tb\r\n\x07c\u200b\u00ad\ufe0fa\n\nb☭a☭"
    assert fonts.missing_characters(text, covered) == [("☭", 4)]


def test_cyrillic_and_greek_print_from_the_books_own_fonts(project, tmp_path):
    write(
        project,
        "02-second.md",
        """---
title: The Second Chapter
---

Николай Ежов ran the NKVD in 1937 and 1938; Генрих Ягода before him.

## A section

The Greek word δημοκρατία means the rule of the people.
""",
    )
    build = tmp_path / "build"
    assert build_quietly("--root", str(project), "--build-dir", str(build)) == 0
    text = squash(" ".join(page.extract_text() for page in PdfReader(build / "book.pdf").pages))
    for written in ("Николай Ежов", "Генрих Ягода", "δημοκρατία"):
        assert written in text
    assert_only_book_fonts(build / "book.pdf")
