"""The reading-level report: words, sentences, the longest sentence and a grade, per chapter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bookpress.cli import main
from bookpress.model import ChapterSource
from bookpress.readability import reading, syllables

CHAPTER = """---
title: Measured
---

The cat sat on the mat. It was warm.

## A heading is no sentence

- A list item is student text, and it counts as one.

```python
print("Code is no sentence.")
```

::: teacher
### Teacher's notes

A long note for the teacher alone, which no pupil reads and the grade leaves out entirely.
:::

Order No. 00447 set quotas for each region, and the regions asked for more.[^a]

[^a]: A footnote is a citation, not text to read.
"""


def _chapter(tmp_path: Path, text: str = CHAPTER) -> ChapterSource:
    path = tmp_path / "01-measured.md"
    path.write_text(text, encoding="utf-8")
    body = text.split("---\n", 2)[2]
    return ChapterSource(
        path=path,
        slug="measured",
        title="Measured",
        running_head="Measured",
        number=1,
        body=body,
        body_line=4,
    )


def test_only_the_students_sentences_count_each_with_its_line(tmp_path):
    measured = reading(_chapter(tmp_path))
    assert [(sentence.line, sentence.text) for sentence in measured.sentences] == [
        (5, "The cat sat on the mat."),
        (5, "It was warm."),
        (9, "A list item is student text, and it counts as one."),
        (21, "Order No. 00447 set quotas for each region, and the regions asked for more."),
    ]
    assert measured.words == 6 + 3 + 11 + 14
    assert measured.longest()[0].line == 21


def test_the_grade_is_flesch_kincaids(tmp_path):
    measured = reading(_chapter(tmp_path, "---\ntitle: T\n---\n\nThe cat sat on the mat.\n"))
    assert (measured.words, len(measured.sentences), measured.syllables) == (6, 1, 6)
    assert measured.grade == pytest.approx(0.39 * 6 + 11.8 * 1 - 15.59)
    assert syllables("repression") == 3 and syllables("1937") == 1


#: A chapter's row: its file, words, sentences, grade, and its longest sentence's length and line.
REPORT_ROW = re.compile(r"\S+ +[1-9]\d* +[1-9]\d* +-?\d+\.\d +\d+ words, (?:table\.yml )?line \d+")


def test_check_report_prints_every_chapter(project, capsys):
    assert main(["--root", str(project), "--check", "--report"]) == 0
    out = capsys.readouterr().out
    assert "Flesch–Kincaid" in out
    for name in ("chapters/01-first.md", "chapters/02-second.md", "chapters/03-table.md"):
        line = next(line for line in out.splitlines() if line.startswith(name))
        assert REPORT_ROW.fullmatch(line), line


def _with_target(project: Path, target: str) -> None:
    book = project / "chapters" / "book.yml"
    book.write_text(book.read_text() + f"target_grade: {target}\n")


def test_a_chapter_above_the_target_grade_warns_naming_its_longest_sentences(project, capsys):
    chapter = project / "chapters" / "02-second.md"
    chapter.write_text(
        chapter.read_text() + "\nConsiderably more complicated administrative "
        "responsibilities necessitated extraordinary organisational ingenuity.\n"
    )
    _with_target(project, "6")
    assert main(["--root", str(project), "--check"]) == 0
    err = capsys.readouterr().err
    assert "chapters/02-second.md:" in err and "above the book's target_grade 6" in err
    assert "its longest sentences: line " in err and "split the longest sentences" in err
    assert main(["--root", str(project), "--check", "--strict"]) == 1


@pytest.mark.parametrize(
    "target, message",
    [
        ("nine", "'target_grade' should be a number"),
        ("25", "target_grade 25 is not a school grade"),
    ],
)
def test_a_wrong_target_grade_is_an_error_with_its_line(project, capsys, target, message):
    _with_target(project, target)
    assert main(["--root", str(project), "--check"]) == 1
    err = capsys.readouterr().err
    line = len((project / "chapters" / "book.yml").read_text().splitlines())
    assert f"chapters/book.yml:{line}: {message}" in err
