"""Data files (book.yml, figures, tables, index.yml): every wrong value is a `path:line` error.

The cases name each check; the properties at the end write random YAML values into each
kind of data file and require that the check either passes or names a file and a line for
each problem, and that no exception ever escapes.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import BOOKS, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookpress.cli import main

FIGURES = (
    '\n![A timeline of two events](timeline.yml "Two events.")\n'
    '\n![Two bars](bars.yml "Two bars.")\n'
)
TIMELINE = {
    "kind": "timeline",
    "events": [
        {"date": datetime.date(1934, 12, 1), "label": "Kirov is murdered"},
        {"date": "1936-08", "label": "First Moscow trial"},
    ],
}
BARS = {
    "kind": "bar-chart",
    "unit": "people shot",
    "source": "NKVD records",
    "bars": [{"label": "1937", "value": 353074}, {"label": "1938", "value": 328618}],
}
FAQ_CHAPTER = (
    "---\ntitle: Questions\nnumbered: false\ndata: faq.yml\ntemplate: faq.html\n---\n\nQuestions.\n"
)
FAQ = [
    {"question": "Who?", "answer": "The *first* answer."},
    {"question": "Why?", "answer": "The second."},
]
SUMMARY = [
    {"characteristic": "First row", "summary": "The first summary."},
    {"characteristic": "Second row", "summary": "The second summary."},
]
INDEX = [
    {"term": "Great Purge", "aliases": ["purge"], "see_also": ["NKVD"]},
    {"term": "NKVD"},
    {"term": "Terror, Great", "see": "Great Purge"},
]
DATA_FILES = {
    "timeline.yml": TIMELINE,
    "bars.yml": BARS,
    "table.yml": SUMMARY,
    "faq.yml": FAQ,
    "index.yml": INDEX,
}
BOOK = yaml.safe_load((BOOKS / "minimal" / "chapters" / "book.yml").read_text())
BOOK["chapters"] = [*BOOK["chapters"], "04-faq.md"]


def make_project(root: Path) -> Path:
    """tests/books/minimal with the real layout, and a timeline, a bar chart, a FAQ, an index."""
    shutil.copytree(BOOKS / "minimal", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    (root / "assets").mkdir(exist_ok=True)
    append(root, "01-first.md", FIGURES)
    append(root, "02-second.md", "\nThe great purge and the NKVD.\n")
    append(root, "book.yml", "  - 04-faq.md\n")
    write(root, "04-faq.md", FAQ_CHAPTER)
    for name, data in DATA_FILES.items():
        dump(root / "chapters" / name, data)
    return root


def write(root: Path, name: str, text: str) -> None:
    (root / "chapters" / name).write_text(text)


def append(root: Path, name: str, text: str) -> None:
    write(root, name, (root / "chapters" / name).read_text() + text)


def dump(path: Path, data) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def check(root: Path) -> tuple[int, str]:
    """Run `--check` on the project: its exit code and what it printed on stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["--root", str(root), "--check"])
    return code, err.getvalue()


def refused(root: Path) -> str:
    """--check fails cleanly; what it printed."""
    code, err = check(root)
    assert code == 1, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def book(tmp_path) -> Path:
    return make_project(tmp_path / "project")


def test_the_test_book_passes(book):
    assert check(book) == (0, "")


# --- book.yml ---------------------------------------------------------------------------------

BOOK_CASES = [  # (case, a line of book.yml and what replaces it, what the check says)
    (
        "a month that does not exist",
        ("date: 2026-01-15", "date: 1937-13-45"),
        "6: '1937-13-45' is not a date on the calendar",
    ),
    (
        "a day that does not exist, in quotes",
        ("date: 2026-01-15", 'date: "2026-02-30"'),
        "6: '2026-02-30' is not a date on the calendar",
    ),
    (
        "a date before 1970",
        ("date: 2026-01-15", "date: 1960-05-01"),
        "6: the date 1960-05-01 is before 1970",
    ),
    (
        "a group of keys as the title",
        ("title: A Small Test Book", "title: {x: 1}"),
        "1: 'title' should be text, not a group of keys",
    ),
    ("an empty title", ("title: A Small Test Book", "title:"), "1: 'title' is empty"),
    (
        "a number as the edition",
        ("edition: Test edition", "edition: 2"),
        "5: 'edition' should be text, not the number 2",
    ),
    (
        "a language that is no code",
        ("lang: en", "lang: English please"),
        "4: 'English please' is not a language code",
    ),
    (
        "keywords that are no list",
        ("keywords: [test]", "keywords: 5"),
        "9: 'keywords' should be a list, not the number 5",
    ),
    (
        "a keyword that is a list",
        ("keywords: [test]", "keywords:\n  - test\n  - [a, b]"),
        "11: each keyword should be text, not a list",
    ),
    (
        "a chapter outside chapters/",
        ("  - 01-first.md", "  - ../01-first.md"),
        "11: '../01-first.md' is not the name of a chapter file",
    ),
    (
        "a chapter name no file can have",
        ("  - 01-first.md", "  - " + "x" * 300 + ".md"),
        "11: chapter 'xxxx",
    ),
    (
        "a chapter left empty",
        ("  - 01-first.md", "  -"),
        "11: each chapter is a file name, like 02-gulag.md",
    ),
    ("a list as a key", ("lang: en", "[a, b]: en"), "4: a key here is a list or a group of keys"),
    (
        "an invisible character",
        ("author: Test Author", 'author: "Test\\x07Author"'),
        "3: the text holds an invisible character (U+0007)",
    ),
    (
        "a number with thousands of digits",
        ("edition: Test edition", "edition: 1" + "0" * 5000),
        "5: the number '1000",
    ),
]


@pytest.mark.parametrize("case, change, message", BOOK_CASES, ids=[case[0] for case in BOOK_CASES])
def test_a_wrong_value_in_book_yml(book, case, change, message):
    text = (book / "chapters" / "book.yml").read_text()
    assert change[0] in text
    write(book, "book.yml", text.replace(change[0], change[1], 1))
    err = refused(book)
    assert f"chapters/book.yml:{message}" in err and "how to fix:" in err


def test_an_optional_key_left_empty_is_as_if_absent(book):
    text = (book / "chapters" / "book.yml").read_text()
    write(book, "book.yml", text.replace("subtitle: Two chapters and a table", "subtitle:"))
    assert check(book) == (0, "")


def test_a_date_with_a_time_of_day_is_its_day(book):
    from bookpress.load import load_book

    text = (book / "chapters" / "book.yml").read_text()
    write(book, "book.yml", text.replace("date: 2026-01-15", "date: 2026-01-15 10:30:00"))
    assert load_book(book).info.date == datetime.date(2026, 1, 15)


def test_nesting_without_end_is_refused_before_it_exhausts_the_stack(book):
    write(book, "book.yml", "title: " + "[" * 10_000 + "\n")
    err = refused(book)
    assert "chapters/book.yml:1: the lists and keys here are nested more than 32 levels deep" in err


def test_a_top_level_scalar(book):
    write(book, "book.yml", "just a sentence\n")
    err = refused(book)
    assert "chapters/book.yml:1: chapters/book.yml should be a list of 'key: value' lines" in err


SAME_NAME = "'02-first.md' and '01-first.md' have the same name after the number"


def test_a_duplicate_name_after_a_missing_chapter_names_its_own_line(book):
    """A chapter that does not load shifts no line: the duplicate is on line 13, not 12."""
    (book / "chapters" / "02-second.md").rename(book / "chapters" / "02-first.md")
    text = (book / "chapters" / "book.yml").read_text()
    write(
        book,
        "book.yml",
        text.replace(
            "chapters:\n  - 01-first.md\n  - 02-second.md\n",
            "chapters:\n  - 00-missing.md\n  - 01-first.md\n  - 02-first.md\n",
        ),
    )
    err = refused(book)
    assert "chapters/book.yml:11: chapter '00-missing.md' is listed but there is no such" in err
    assert f"chapters/book.yml:13: {SAME_NAME}" in err


def test_a_duplicate_name_after_a_chapter_that_fails_to_load_names_its_own_line(book):
    (book / "chapters" / "02-second.md").rename(book / "chapters" / "02-first.md")
    write(book, "00-broken.md", "no front matter\n")
    text = (book / "chapters" / "book.yml").read_text()
    text = text.replace("  - 02-second.md\n", "  - 00-broken.md\n  - 02-first.md\n")
    write(book, "book.yml", text)
    err = refused(book)
    assert "chapters/00-broken.md:1: the chapter does not start with front matter" in err
    assert f"chapters/book.yml:13: {SAME_NAME}" in err


# --- figures ------------------------------------------------------------------------------------


def event(date="1934", label="Kirov is murdered") -> str:
    """A timeline whose second event (line 5) has this date and label."""
    return (
        "kind: timeline\nevents:\n  - date: 1922\n    label: Stalin leads the party\n"
        f"  - date: {date}\n    label: {label}\n"
    )


def bar(value="1200", label='"1938"') -> str:
    """A bar chart whose second bar (line 5) has this value and label."""
    return (
        'kind: bar-chart\nbars:\n  - label: "1937"\n    value: 353074\n'
        f"  - label: {label}\n    value: {value}\n"
    )


NOT_A_DATE = "the date should be a year, a month or a day, not"
NOT_A_NUMBER = "the bar '1938' should have a number as its value, not"
FIGURE_CASES = [  # (case, the data file, what the check says)
    (
        "a month that does not exist",
        event("1937-13-45"),
        "5: '1937-13-45' is not a date on the calendar",
    ),
    (
        "a day that does not exist, in quotes",
        event('"1937-02-30"'),
        "5: '1937-02-30' is not a date on the calendar",
    ),
    ("a month 13 as year-month", event("1937-13"), "5: '1937-13' is not a date on the calendar"),
    ("the year 0", event('"0000"'), "5: '0000' is not a date on the calendar"),
    ("a list as the date", event("[1937]"), f"5: {NOT_A_DATE} a list"),
    ("a yes-or-no value as the date", event("yes"), f"5: {NOT_A_DATE} the yes-or-no value true"),
    ("no date", event("null"), "5: this event has no date"),
    ("a list as the label", event(label="[a, b]"), "5: 'label' should be text, not a list"),
    (
        "a number as the label",
        event(label="1937"),
        "5: 'label' should be text, not the number 1937",
    ),
    (
        "an event that is a number",
        "kind: timeline\nevents:\n  - 1937\n",
        "3: this entry is the number 1937, not a date and a label",
    ),
    (
        "a misspelt key in an event",
        "kind: timeline\nevents:\n  - date: 1937\n    lable: Trials\n",
        "3: unknown key 'lable'",
    ),
    (
        "a misspelt key of the file",
        "kind: timeline\nevnts:\n  - date: 1937\n    label: Trials\n",
        "2: unknown key 'evnts'",
    ),
    (
        "events that are no list",
        "kind: timeline\nevents: {date: 1937}\n",
        "2: a timeline needs a list of events",
    ),
    (
        "a file that is a list",
        "- kind: timeline\n",
        "1: a figure's data file should start with a line 'kind: timeline'",
    ),
    ("no kind", "events: []\n", "1: the figure's data file does not say what kind of figure it is"),
    (
        "a list as the kind",
        "kind: [timeline]\n",
        "1: the figure's kind should be a word, not a list",
    ),
    (
        "a value too large for a number",
        bar("1.0e+400"),
        "5: the value of the bar '1938' is too large to chart (inf)",
    ),
    (
        "a 400-digit value",
        bar("1" * 400),
        "5: the value of the bar '1938' is too large to chart (1111",
    ),
    (
        "a value larger than any count",
        bar("2000000000000000"),
        "5: the value of the bar '1938' is too large",
    ),
    (
        "a value that is not a number",
        bar(".nan"),
        "5: the value of the bar '1938' is not a number (.nan)",
    ),
    ("a negative value", bar("-5"), "5: the bar '1938' has a negative value (-5)"),
    ("a negative infinity", bar("-.inf"), "5: the bar '1938' has a negative value (-inf)"),
    (
        "a value in quotes with commas",
        bar('"1,200"'),
        "5: the bar '1938' has the value '1,200', which is not a number",
    ),
    (
        "a value 1e400, which YAML reads as text",
        bar("1e400"),
        "5: the bar '1938' has the value '1e400', which is not a number",
    ),
    ("a list as the value", bar("[1, 2]"), f"5: {NOT_A_NUMBER} a list"),
    ("a yes-or-no value as the value", bar("true"), f"5: {NOT_A_NUMBER} the yes-or-no value true"),
    (
        "a fraction",
        bar("2.5"),
        "5: the bar '1938' has the value 2.5, but the chart prints whole numbers",
    ),
    ("a list as the label of a bar", bar(label="[a]"), "5: 'label' should be text, not a list"),
    ("a bar without a label", bar(label="null"), "5: this bar has no label"),
    (
        "a label too long for a bar",
        bar(label="A very long label"),
        "5: the bar label 'A very long label' must have 1 to 12 characters",
    ),
    (
        "bars too small for the scale",
        "kind: bar-chart\nbars:\n  - label: one\n    value: 3\n",
        "2: the bars are too small to chart: the largest is 3",
    ),
    (
        "a list as the unit",
        "kind: bar-chart\nunit: [people]\nbars:\n  - label: one\n    value: 30\n",
        "2: 'unit' should be text, not a list",
    ),
]


@pytest.mark.parametrize(
    "case, data, message", FIGURE_CASES, ids=[case[0] for case in FIGURE_CASES]
)
def test_a_wrong_value_in_a_figure(book, case, data, message):
    write(book, "figure.yml", data)
    write(book, "02-second.md", '---\ntitle: Two\n---\n\n![A figure](figure.yml "A caption.")\n')
    err = refused(book)
    assert f"chapters/figure.yml:{message}" in err and "how to fix:" in err


def test_a_figure_whose_data_is_a_folder(book):
    (book / "chapters" / "folder.yml").mkdir()
    write(book, "02-second.md", '---\ntitle: Two\n---\n\n![A figure](folder.yml "A caption.")\n')
    assert "chapters/folder.yml: the file cannot be read" in refused(book)


# --- the summary table and the FAQ ---------------------------------------------------------------

TABLE_CASES = [  # (case, the data file and what it holds, what the check says)
    (
        "an answer that is a list",
        "faq.yml",
        "- question: Who?\n  answer:\n    - one\n    - two\n",
        "1: 'answer' should be text, not a list",
    ),
    (
        "a question that is a group of keys",
        "faq.yml",
        "- question: {x: 1}\n  answer: One.\n",
        "1: 'question' should be text, not a group of keys",
    ),
    (
        "an answer read as yes or no",
        "faq.yml",
        "- question: Who?\n  answer: Yes\n",
        "1: 'answer' should be text, not the yes-or-no value true",
    ),
    (
        "an empty answer",
        "faq.yml",
        "- question: Who?\n  answer: Stalin.\n- question: Why?\n  answer:\n",
        "3: 'answer' is empty",
    ),
    (
        "a number where text belongs",
        "table.yml",
        "- characteristic: 1937\n  summary: The year.\n",
        "1: 'characteristic' should be text, not the number 1937",
    ),
    (
        "a misspelt key",
        "table.yml",
        "- characteristic: One\n  sumary: Two.\n  summary: Three.\n",
        "1: unknown key 'sumary'",
    ),
    (
        "a key that is a number",
        "table.yml",
        "- characteristic: One\n  summary: Two.\n  1: Three.\n",
        "1: unknown key '1'",
    ),
    (
        "an entry that is text",
        "table.yml",
        "- characteristic: One\n  summary: Two.\n- Three.\n",
        "3: this entry is 'Three.', not a group of 'key: value' lines",
    ),
    ("no entries", "table.yml", "[]\n", "1: the data file has no entries"),
    (
        "lists nested without end",
        "table.yml",
        '- characteristic: One\n  summary: "' + "- " * 150 + 'x"\n',
        "1: the lists or quotes here are nested too deeply",
    ),
    (
        "a reference to no figure",
        "faq.yml",
        "- question: Who?\n  answer: Stalin.\n- question: Why?\n"
        "  answer: >-\n    See\n    {@nowhere}.\n",
        "3: {@nowhere} names no figure",
    ),
    (
        "an index mark that names no term",
        "table.yml",
        "- characteristic: One\n  summary: A mark{^ }.\n",
        "1: the index mark '{^ }' names no term",
    ),
]


@pytest.mark.parametrize(
    "case, name, data, message", TABLE_CASES, ids=[case[0] for case in TABLE_CASES]
)
def test_a_wrong_value_in_a_table(book, case, name, data, message):
    write(book, name, data)
    err = refused(book)
    assert f"chapters/{name}:{message}" in err and "how to fix:" in err


def test_a_reference_to_no_figure_in_a_caption(book):
    text = (book / "chapters" / "03-table.md").read_text()
    write(
        book,
        "03-table.md",
        text.replace("template: summary.html\n", "template: summary.html\ncaption: See {@nope}.\n"),
    )
    assert "chapters/03-table.md:6: {@nope} names no figure" in refused(book)


def test_a_null_character_in_a_chapter(book):
    """No path may hold one: a figure's source with it would stop the check with a traceback."""
    write(book, "02-second.md", '---\ntitle: Two\n---\n\n![A figure](a\x00b.yml "A caption.")\n')
    assert "chapters/02-second.md:5: the file holds a null character (U+0000)" in refused(book)


def test_a_chapter_nested_without_end(book):
    write(book, "02-second.md", "---\ntitle: Two\n---\n\nText.\n\n" + "- " * 300 + "deep\n")
    err = refused(book)
    assert "chapters/02-second.md:7: the lists or quotes here are nested too deeply" in err


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("data", "../book.yml", "4: '../book.yml' is not the name of a data file"),
        ("template", "/etc/passwd", "5: '/etc/passwd' is not the name of a template"),
    ],
)
def test_a_data_file_or_template_outside_its_folder(book, key, value, message):
    text = (book / "chapters" / "03-table.md").read_text()
    write(book, "03-table.md", re.sub(rf"^{key}: .*$", f"{key}: {value}", text, flags=re.MULTILINE))
    assert f"chapters/03-table.md:{message}" in refused(book)


# --- index.yml ---------------------------------------------------------------------------------

INDEX_CASES = [  # (case, index.yml, what the check says)
    (
        "aliases written as text",
        "- term: NKVD\n  aliases: secret police\n",
        "1: 'aliases' should be a list of words, not 'secret police'",
    ),
    (
        "an alias that is a number",
        "- term: NKVD\n  aliases: [police, 1937]\n",
        "1: each of the 'aliases' should be text, not the number 1937",
    ),
    (
        "see also that is no list",
        "- term: NKVD\n  see_also: NKVD\n",
        "1: 'see_also' should be a list of words, not 'NKVD'",
    ),
    ("a term that is a list", "- term: [NKVD]\n", "1: 'term' should be text, not a list"),
    (
        "a sort that is a list",
        "- term: NKVD\n  sort: [n]\n",
        "1: 'sort' should be text, not a list",
    ),
    (
        "a see read as yes or no",
        "- term: NKVD\n- term: Cheka\n  see: no\n",
        "2: 'see' should be text, not the yes-or-no value false",
    ),
    ("a key that is a number", "- term: NKVD\n  1: x\n", "1: unknown key '1'"),
    ("a misspelt term", "- trem: NKVD\n", "1: unknown key 'trem'"),
    (
        "a term written twice",
        "- term: NKVD\n- term: NKVD\n",
        "2: the term 'NKVD' is already on line 1",
    ),
    (
        "one word for two terms",
        "- term: NKVD\n  aliases: [police]\n- term: Cheka\n  aliases: [police]\n",
        "3: 'police' would index both 'NKVD' (line 1) and 'Cheka'",
    ),
    (
        "a term that refers to itself",
        "- term: NKVD\n  see_also: [NKVD]\n",
        "1: 'NKVD' refers to itself",
    ),
    ("a top-level text", "NKVD\n", "1: index.yml should be a list of terms"),
]


@pytest.mark.parametrize("case, data, message", INDEX_CASES, ids=[case[0] for case in INDEX_CASES])
def test_a_wrong_value_in_index_yml(book, case, data, message):
    write(book, "index.yml", data)
    err = refused(book)
    assert f"chapters/index.yml:{message}" in err and "how to fix:" in err


def test_an_index_yml_of_comments_only_has_no_terms(book):
    write(book, "index.yml", "# terms to come\n")
    assert check(book) == (0, "")


# --- properties: random values in each data file -----------------------------------------------

ERROR_LINE = re.compile(r"^chapters/[^:]+:\d+: ")
WARNING_LINE = re.compile(r"^warning: chapters/[^:]+(:\d+)?: ")  # a whole file: no line
TRICKY_TEXT = [
    "",
    " ",
    "1937-13",
    "1937-02-30",
    "0000",
    "yes",
    "null",
    "~",
    "1e400",
    ": colon",
    "[a",
    "{x",
    "*",
    "\x07",
    "Ф" * 60,
    "- " * 150 + "x",
    "{@nowhere}",
    "{@timeline}",
    "{^ }",
    "{^NKVD}",
    "[the terror]{^Terror, Great}",
    "## A heading {#start}",
    "[^note]",
    "<script>x</script>",
    "two\u2028lines",
]
#: Text as a teacher types it; control characters come from TRICKY_TEXT, sparingly, as the
#: check stops at the first.
typed = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    typed,
    typed,
    st.sampled_from(TRICKY_TEXT),
    st.dates(),
    st.datetimes(),
)
keys = typed | st.integers() | st.booleans() | st.none() | st.dates()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
PROPERTY = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    """One project for every example: each example writes one file, and puts it back after."""
    return make_project(tmp_path_factory.mktemp("random") / "project")


def assert_clean(root: Path, name: str, data) -> None:
    """With data in chapters/<name>: exit 0, or exit 1 with each problem at a path:line."""
    path = root / "chapters" / name
    original = path.read_text()
    try:
        dump(path, data)
        code, err = check(root)
    finally:
        path.write_text(original)
    assert code in (0, 1), err
    for line in err.splitlines():
        if not line.startswith(("    how to fix: ", "The book was not built")):
            assert ERROR_LINE.match(line) or WARNING_LINE.match(line), f"{line!r} names no place"
    assert code == 0 or any(ERROR_LINE.match(line) for line in err.splitlines()), err


def changed(data: dict, key_choices, value_strategy=values):
    """data with one of its keys (or a new one) set to a random value."""
    pairs = st.tuples(st.sampled_from(key_choices), value_strategy)
    return pairs.map(lambda pair: {**data, pair[0]: pair[1]})


def with_entry(data: dict, key: str, entries):
    """data with a random entry added to the list under key, or put in place of one of it."""

    def put(choice):
        where, entry = choice
        items = list(data[key])
        items[where : where + 1] = [entry]
        return {**data, key: items}

    return st.tuples(st.integers(0, len(data[key])), entries).map(put)


def entry_with(base: dict, required: tuple[str, ...], others=()):
    """An entry with a random value under some of its keys, and maybe an unknown key."""
    fields = st.fixed_dictionaries(
        {key: st.just(base[key]) | scalars | values for key in required},
        optional=dict.fromkeys(others, scalars | values),
    )
    unknown = st.dictionaries(keys, values, max_size=1)
    return st.tuples(fields, unknown).map(lambda pair: {**pair[0], **pair[1]})


def rows(base: list[dict], required: tuple[str, ...]):
    """A table's data: its rows with one random row, or a random value that is no list of rows.

    Each row keeps the keys its template shows: a row without one is reported by the
    template when it is rendered, which names the data file but not the row.
    """
    row = entry_with(base[0], required) | values.filter(lambda value: not isinstance(value, dict))
    some_row = with_entry({"rows": base}, "rows", row).map(lambda data: data["rows"])
    whole = values.filter(
        lambda value: (
            not (isinstance(value, list) and any(isinstance(item, dict) for item in value))
        )
    )
    return st.one_of(some_row, some_row, some_row, whole)


book_files = st.one_of(
    changed(BOOK, [*BOOK, "extra"]),
    changed(BOOK, [*BOOK, "extra"]),
    changed(BOOK, ["chapters"], st.lists(st.sampled_from(BOOK["chapters"]) | values, max_size=5)),
    values,
)
timelines = (
    with_entry(TIMELINE, "events", entry_with(TIMELINE["events"][0], ("date", "label")))
    | with_entry(TIMELINE, "events", values)
    | changed(TIMELINE, ["kind", "events", "x"])
)
bar_charts = (
    with_entry(BARS, "bars", entry_with(BARS["bars"][0], ("label", "value")))
    | with_entry(BARS, "bars", values)
    | changed(BARS, [*BARS, "x"])
)
index_entries = entry_with(INDEX[1], ("term",), ("aliases", "sort", "see", "see_also"))
index_files = st.one_of(
    st.lists(index_entries | index_entries | values, max_size=3).map(lambda more: INDEX + more),
    values,
)


@PROPERTY
@given(data=book_files)
def test_any_value_in_book_yml(shared, data):
    assert_clean(shared, "book.yml", data)


@PROPERTY
@given(data=timelines)
def test_any_value_in_a_timeline(shared, data):
    assert_clean(shared, "timeline.yml", data)


@PROPERTY
@given(data=bar_charts)
def test_any_value_in_a_bar_chart(shared, data):
    assert_clean(shared, "bars.yml", data)


@PROPERTY
@given(data=rows(SUMMARY, ("characteristic", "summary")))
def test_any_value_in_the_summary_table(shared, data):
    assert_clean(shared, "table.yml", data)


@PROPERTY
@given(data=rows(FAQ, ("question", "answer")))
def test_any_value_in_the_faq(shared, data):
    assert_clean(shared, "faq.yml", data)


@PROPERTY
@given(data=index_files)
def test_any_value_in_index_yml(shared, data):
    assert_clean(shared, "index.yml", data)
