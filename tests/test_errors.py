"""Bad input: a clear `path:line: message`, a hint, exit code 1, and build/ left as it was."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from conftest import fails, hashes, write

from bookpress.cli import main

# --- book.yml ---------------------------------------------------------------------------------


def test_missing_book_yml(broken, capsys):
    (broken / "chapters" / "book.yml").unlink()
    assert "chapters/book.yml: file not found" in fails(broken, capsys)


def test_malformed_yaml_names_the_line(broken, capsys):
    text = (broken / "chapters" / "book.yml").read_text().replace("lang: en", "lang: [en")
    write(broken, "book.yml", text)
    err = fails(broken, capsys)
    assert "chapters/book.yml:" in err and "this YAML cannot be read" in err
    assert "how to fix:" in err


def test_a_value_read_as_yes_or_no(broken, capsys):
    text = (broken / "chapters" / "book.yml").read_text().replace("lang: en", "lang: no")
    write(broken, "book.yml", text)
    err = fails(broken, capsys)
    assert "chapters/book.yml:4: 'lang' should be text, not the yes-or-no value false" in err
    assert 'lang: "no"' in err


def test_a_key_written_twice(broken, capsys):
    text = (broken / "chapters" / "book.yml").read_text() + "title: Again\n"
    write(broken, "book.yml", text)
    err = fails(broken, capsys)
    assert (
        "chapters/book.yml:14:" in err
        and "the key 'title' is written twice (first on line 1)" in err
    )


def test_unknown_and_missing_keys_are_reported_together(broken, capsys):
    text = (broken / "chapters" / "book.yml").read_text().replace("licence:", "lisence:")
    write(broken, "book.yml", text)
    err = fails(broken, capsys)
    assert "chapters/book.yml:7: unknown key 'lisence'" in err and "did you mean 'licence'?" in err
    assert "the key 'licence' is missing" in err


def test_a_date_that_is_not_a_date(broken, capsys):
    text = (
        (broken / "chapters" / "book.yml")
        .read_text()
        .replace("date: 2026-01-15", "date: next spring")
    )
    write(broken, "book.yml", text)
    assert "chapters/book.yml:6: 'date' should be a date like 2026-09-01" in fails(broken, capsys)


def test_a_listed_chapter_that_does_not_exist(broken, capsys):
    (broken / "chapters" / "02-second.md").rename(broken / "chapters" / "02-secnd.md")
    err = fails(broken, capsys)
    assert "chapters/book.yml:12: chapter '02-second.md' is listed but there is no such file" in err
    assert "did you mean '02-secnd.md'?" in err


def test_a_chapter_listed_twice(broken, capsys):
    text = (broken / "chapters" / "book.yml").read_text() + "  - 01-first.md\n"
    write(broken, "book.yml", text)
    assert "chapters/book.yml:14: '01-first.md' is listed twice (first on line 11)" in fails(
        broken, capsys
    )


def test_a_chapter_not_listed_is_left_out_with_a_warning(project, caplog, capsys):
    write(project, "04-extra.md", "---\ntitle: Extra\n---\n\nText.\n")
    from bookpress.load import load_book

    with caplog.at_level(logging.WARNING, logger="bookpress"):
        book = load_book(project)
    assert [c.slug for c in book.chapters] == ["first", "second", "table"]
    assert "chapters/04-extra.md: this chapter is not listed in chapters/book.yml" in caplog.text


# --- chapters ---------------------------------------------------------------------------------

CHAPTER_CASES = [  # (what is wrong, the chapter's text, what the build says)
    (
        "front matter yaml error names the line in the file",
        "---\ntitle: One\nshort_title: [unclosed\n---\n\nText.\n",
        "chapters/01-first.md:3: this YAML cannot be read",
    ),
    (
        "missing title",
        "---\nshort_title: One\n---\n\nText.\n",
        "chapters/01-first.md:2: the key 'title' is missing",
    ),
    (
        "numbered must be yes or no",
        "---\ntitle: One\nnumbered: perhaps\n---\n\nText.\n",
        "chapters/01-first.md:3: 'numbered' should be yes or no",
    ),
    (
        "no front matter",
        "# Title\n\nText.\n",
        "chapters/01-first.md:1: the chapter does not start with front matter",
    ),
    (
        "front matter not closed",
        "---\ntitle: One\n\nText.\n",
        "chapters/01-first.md:1: the front matter is not closed",
    ),
    ("empty file", "\n  \n", "chapters/01-first.md: the file is empty"),
    (
        "box closed but never opened",
        "---\ntitle: One\n---\n\nText.\n:::\n",
        "chapters/01-first.md:6: ':::' closes a box that was never opened",
    ),
]


@pytest.mark.parametrize(
    "case, text, message", CHAPTER_CASES, ids=[case[0] for case in CHAPTER_CASES]
)
def test_a_broken_chapter(broken, capsys, case, text, message):
    write(broken, "01-first.md", text)
    assert message in fails(broken, capsys)


def test_unknown_front_matter_key_is_a_warning_with_a_hint(broken, capsys):
    write(broken, "01-first.md", "---\ntitle: One\nshort_titel: One\n---\n\nText.\n")
    assert main(["--root", str(broken)]) == 0
    err = capsys.readouterr().err
    assert "warning: chapters/01-first.md:3: unknown key 'short_titel': the book ignores it" in err
    assert "did you mean 'short_title'?" in err
    err = fails_strictly(broken, capsys)
    assert "chapters/01-first.md:3: unknown key 'short_titel'" in err and "warning:" not in err


def fails_strictly(project: Path, capsys) -> str:
    """Build with --strict; assert it failed and left build/ untouched; return what it printed."""
    before = hashes(project / "build")
    assert main(["--root", str(project), "--strict"]) == 1
    assert hashes(project / "build") == before
    return capsys.readouterr().err


@pytest.mark.parametrize("key", ["description", "related"])
def test_a_website_key_is_not_taken_for_a_misspelling(broken, capsys, key):
    write(broken, "01-first.md", f"---\ntitle: One\n{key}: Two\n---\n\nText.\n")
    assert main(["--root", str(broken)]) == 0
    err = capsys.readouterr().err
    assert f"warning: chapters/01-first.md:3: '{key}' is a key of website tools, ignored" in err
    assert "did you mean" not in err


def test_a_misspelt_title_is_pointed_to_when_the_title_is_missing(broken, capsys):
    write(broken, "01-first.md", "---\ntitel: One\n---\n\nText.\n")
    err = fails(broken, capsys)
    assert "chapters/01-first.md:2: the key 'title' is missing" in err
    assert "correct 'titel' on line 2 to 'title'" in err


def test_not_utf8(broken, capsys):
    write(broken, "01-first.md", "---\ntitle: One\n---\n\nCaf\xe9.\n".encode("latin-1"))
    err = fails(broken, capsys)
    assert "chapters/01-first.md:5: the file is not UTF-8 text" in err and "UTF-8" in err


def test_byte_order_mark(broken, capsys):
    write(broken, "01-first.md", b"\xef\xbb\xbf---\ntitle: One\n---\n\nText.\n")
    assert "chapters/01-first.md:1: the file starts with a byte-order mark" in fails(broken, capsys)


def test_box_never_closed(broken, capsys):
    write(broken, "01-first.md", "---\ntitle: One\n---\n\nText.\n\n::: review\n### Key terms\n")
    err = fails(broken, capsys)
    assert "chapters/01-first.md:7: this box is never closed" in err and "add a line ':::'" in err


def test_box_opened_inside_a_box(broken, capsys):
    write(broken, "01-first.md", "---\ntitle: One\n---\n\n::: review\n::: other\n:::\n")
    assert "chapters/01-first.md:6: a '::: ' box opens inside the box opened on line 5" in fails(
        broken, capsys
    )


# --- data files and templates -----------------------------------------------------------------


def test_missing_data_file(broken, capsys):
    (broken / "chapters" / "table.yml").unlink()
    assert "chapters/03-table.md:4: the data file 'table.yml' is not in chapters/" in fails(
        broken, capsys
    )


def test_data_file_that_is_not_a_list(broken, capsys):
    write(broken, "table.yml", "characteristic: one\n")
    assert "chapters/table.yml:1: the data file should be a list of entries" in fails(
        broken, capsys
    )


def test_malformed_data_file(broken, capsys):
    write(broken, "table.yml", "- characteristic: one\n  summary: [two\n")
    assert "chapters/table.yml:3: this YAML cannot be read" in fails(broken, capsys)


def test_missing_template(broken, capsys):
    text = (broken / "chapters" / "03-table.md").read_text().replace("summary.html", "sumary.html")
    write(broken, "03-table.md", text)
    err = fails(broken, capsys)
    assert "chapters/03-table.md:5: there is no template 'sumary.html' in layout/" in err
    assert "did you mean 'summary.html'?" in err


def test_data_without_template(broken, capsys):
    text = (broken / "chapters" / "03-table.md").read_text().replace("template: summary.html\n", "")
    write(broken, "03-table.md", text)
    assert "chapters/03-table.md:4: a data file needs a template to show it" in fails(
        broken, capsys
    )


def test_a_data_entry_missing_what_the_template_needs(broken, capsys):
    write(broken, "table.yml", "- characteristic: one\n  summary: fine\n- characteristic: two\n")
    err = fails(broken, capsys)
    assert (
        "chapters/table.yml: the template summary.html (line 14) needs a value that is missing"
        in err
    )
    assert "'summary'" in err


def test_a_template_syntax_error_names_template_and_line(broken, capsys):
    path = broken / "layout" / "summary.html"
    path.write_text(path.read_text().replace("{% endfor %}", "{% endfo %}"))
    err = fails(broken, capsys)
    assert "summary.html:16: template error" in err


def test_several_problems_are_reported_at_once(broken, capsys):
    write(broken, "01-first.md", "---\ntitel: One\n---\n\nText.\n\n::: review\n")
    write(broken, "02-second.md", "---\ntitle: Two\n---\n\n::: box\n")
    err = fails(broken, capsys)
    assert "warning: chapters/01-first.md:2: unknown key 'titel'" in err
    assert "chapters/01-first.md:2: the key 'title' is missing" in err
    assert "chapters/01-first.md:7: this box is never closed" in err  # in the same pass
    assert "chapters/02-second.md:5: this box is never closed" in err
    assert "(3 problems)" in err


# --- the index --------------------------------------------------------------------------------

INDEX_YML = """# terms
- term: Gulag
  aliases: [camps]
  see_also: [NKVD]
- term: NKVD
- term: Terror, Great
  see: Great Purge
- term: Great Purge
"""


def with_index(project: Path, text: str = INDEX_YML) -> Path:
    write(project, "index.yml", text)
    return project


def test_an_index_mark_with_no_term(broken, capsys):
    with_index(broken)
    write(
        broken,
        "01-first.md",
        "---\ntitle: One\n---\n\nText with an empty mark{^ }.\n\nAnd [ ]{^; sub}.\n",
    )
    err = fails(broken, capsys)
    assert "chapters/01-first.md:5: the index mark '{^ }' names no term" in err
    assert "chapters/01-first.md:7: the index mark '[ ]{^; sub}' names no term" in err


def test_a_see_that_names_no_heading(broken, capsys):
    with_index(broken, INDEX_YML.replace("see: Great Purge", "see: Great Purges"))
    err = fails(broken, capsys)
    assert (
        "chapters/index.yml:6: 'Terror, Great' refers to 'Great Purges', which is not a term of "
        "the index" in err
    )
    assert "did you mean 'Great Purge'?" in err


def test_a_see_also_that_names_no_heading(broken, capsys):
    with_index(broken, INDEX_YML.replace("see_also: [NKVD]", "see_also: [KGB]"))
    assert (
        "chapters/index.yml:2: 'Gulag' refers to 'KGB', which is not a term of the index"
        in fails(broken, capsys)
    )


def test_a_see_heading_that_would_get_locators(broken, capsys):
    with_index(broken)
    write(
        broken, "01-first.md", "---\ntitle: One\n---\n\nThe [Great Terror]{^Terror, Great} began.\n"
    )
    err = fails(broken, capsys)
    assert (
        "chapters/01-first.md:5: 'Terror, Great' only points to 'Great Purge' in the index (see)"
        in err
    )
    assert "{^Great Purge}" in err


def test_a_see_heading_with_aliases(broken, capsys):
    with_index(
        broken,
        INDEX_YML.replace("  see: Great Purge\n", "  see: Great Purge\n  aliases: [terror]\n"),
    )
    assert (
        "chapters/index.yml:6: 'Terror, Great' only points to 'Great Purge', so it cannot have "
        "aliases" in fails(broken, capsys)
    )


def test_a_malformed_index_yml(broken, capsys):
    with_index(broken, INDEX_YML.replace("  aliases: [camps]", "  aliases: [camps"))
    assert "chapters/index.yml:4: this YAML cannot be read" in fails(broken, capsys)


def test_an_index_entry_without_a_term(broken, capsys):
    with_index(broken, INDEX_YML + "- aliases: [quota]\n")
    assert "chapters/index.yml:9: each entry needs a 'term:'" in fails(broken, capsys)


def test_an_unknown_key_in_index_yml(broken, capsys):
    with_index(broken, INDEX_YML.replace("  see_also: [NKVD]", "  seealso: [NKVD]"))
    err = fails(broken, capsys)
    assert (
        "chapters/index.yml:2: unknown key 'seealso'" in err and "did you mean 'see_also'?" in err
    )


def with_one_term_used(project: Path) -> Path:
    """INDEX_YML, and a chapter that uses one of its terms (when none is used, that is one
    warning for the whole list: tests/test_imported.py)."""
    path = project / "chapters" / "02-second.md"
    path.write_text(path.read_text() + "\nThe Gulag.\n")
    return with_index(project)


def test_a_term_that_never_occurs_is_a_warning(project, capsys):
    with_one_term_used(project)
    assert main(["--root", str(project)]) == 0
    err = capsys.readouterr().err
    assert "warning: chapters/index.yml:5: the index term 'NKVD' occurs nowhere in the text" in err


def test_a_term_that_never_occurs_is_an_error_under_strict(broken, capsys):
    with_one_term_used(broken)
    before = hashes(broken / "build")
    assert main(["--root", str(broken), "--strict"]) == 1
    assert hashes(broken / "build") == before
    assert (
        "chapters/index.yml:5: the index term 'NKVD' occurs nowhere in the text"
        in capsys.readouterr().err
    )


def test_a_link_that_leads_nowhere_is_a_warning_and_an_error_under_strict(broken, capsys):
    write(broken, "01-first.md", "---\ntitle: One\n---\n\nSee [the map](#nowhere).\n")
    before = hashes(broken / "build")
    assert main(["--root", str(broken), "--strict"]) == 1
    assert hashes(broken / "build") == before
    assert "chapters/01-first.md:5: the link to #nowhere leads nowhere" in capsys.readouterr().err
    assert main(["--root", str(broken)]) == 0


def test_two_chapters_with_the_same_name(broken, capsys):
    (broken / "chapters" / "02-second.md").rename(broken / "chapters" / "02-first.md")
    text = (broken / "chapters" / "book.yml").read_text().replace("02-second.md", "02-first.md")
    write(broken, "book.yml", text)
    err = fails(broken, capsys)
    assert (
        "chapters/book.yml:12: '02-first.md' and '01-first.md' have the same name after the number"
        in err
    )


def test_an_explicit_heading_id_used_twice(broken, capsys):
    write(broken, "01-first.md", "---\ntitle: One\n---\n\n## Start {#start}\n\nText.\n")
    write(broken, "02-second.md", "---\ntitle: Two\n---\n\nText.\n\n## Begin {#start}\n")
    assert "chapters/02-second.md:7: the id 'start' is already used at 01-first.md:5" in fails(
        broken, capsys
    )


def test_what_a_failed_build_leaves_is_said_as_it_is(project, capsys):
    (project / "chapters" / "01-first.md").write_text("---\ntitle: One\n---\n\n::: review\nOpen.\n")
    assert main(["--root", str(project), "--check"]) == 1
    assert capsys.readouterr().err.endswith(
        "The book was not built (1 problem); --check only reads the sources.\n"
    )
    assert main(["--root", str(project)]) == 1  # a first build: there is no last good PDF
    assert capsys.readouterr().err.endswith(
        "The book was not built (1 problem); nothing was written to build/.\n"
    )
    assert not (project / "build").exists()


# --- WeasyPrint's own faults --------------------------------------------------------------------


def test_weasyprint_failing_on_a_chapter_names_the_chapter_without_a_traceback(
    broken, capsys, monkeypatch
):
    import weasyprint.layout.page

    def fails_as_weasyprint_may(*arguments, **keywords):
        raise AssertionError  # as its `assert page_is_empty` does on some pages

    monkeypatch.setattr(weasyprint.layout.page, "make_page", fails_as_weasyprint_may)
    err = fails(broken, capsys)
    assert re.search(
        r"chapters/0\d-\w+\.md: WeasyPrint stopped while laying this out \(AssertionError at "
        r"test_errors\.py:\d+\)\n    how to fix: this is a fault in WeasyPrint, not in the text",
        err,
    ), err


def test_a_footnote_called_twice_names_both_lines(broken, capsys):
    chapter = broken / "chapters" / "01-first.md"
    text = chapter.read_text().replace("Text of the section.", "Text of the section.[^a]")
    chapter.write_text(text)
    err = fails(broken, capsys)
    assert (
        "chapters/01-first.md:10: the footnote [^a] is called a second time (first on line 6)\n"
        "    how to fix: give this call a footnote of its own, [^a-2]: …, or refer to the first"
        " note in words"
    ) in err
