"""Progress on long builds: a line written over on a terminal, plain lines in a log, none
with --quiet, nothing at all for a build done within SHOW_AFTER seconds."""

from __future__ import annotations

import io
import logging

import pytest

from bookpress import progress
from bookpress.cli import main


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def at_once(monkeypatch):
    """Progress shown from the build's start: no test waits two seconds for it."""
    monkeypatch.setattr(progress, "SHOW_AFTER", 0.0)


def _build(project, capsys, *extra) -> tuple[str, str]:
    assert main(["--root", str(project), "--jobs", "1", *extra]) == 0
    return capsys.readouterr()


def test_a_log_gets_a_plain_line_for_each_step(project, capsys, at_once):
    out, err = _build(project, capsys)
    lines = err.splitlines()
    assert "\r" not in err
    chapters = [line for line in lines if "book: laying out " in line and ".md" in line]
    assert [line.split("laying out ")[1].split(",")[0] for line in chapters] == [
        "01-first.md",
        "02-second.md",
        "03-table.md",
    ]
    assert "pages so far" in chapters[-1] and "pages so far" not in chapters[0]
    assert any("book: joining" in line for line in lines)
    assert all(line.split()[1] == "s" and float(line.split()[0]) >= 0 for line in lines), lines
    assert out.startswith("The book is ready")


def test_a_terminal_gets_one_line_written_over(project, capsys, at_once, monkeypatch):
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    _build(project, capsys, "--product", "teacher", "--product", "large-print")
    shown = screen.getvalue()
    assert shown.count("\r") > 5 and "\n" not in shown
    assert "large-print: laying out" in shown and "teacher: laying out" in shown
    assert shown.endswith("\r"), "the line is cleared before the result is printed"


def test_quiet_says_only_the_result(project, capsys, at_once):
    out, err = _build(project, capsys, "--product", "book", "--product", "booklet", "--quiet")
    assert err == ""
    assert "done " not in out and "booklet.pdf" in out


def test_a_short_build_says_nothing_on_the_way():
    handler = progress.Shown(io.StringIO(), after=3600)
    record = logging.LogRecord("bookpress.progress", logging.INFO, "", 0, "joining", (), None)
    handler.emit(record)
    assert handler.stream.getvalue() == ""
    handler.after = 0
    handler.emit(record)
    assert handler.stream.getvalue().endswith("s  joining\n")
