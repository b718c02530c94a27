"""The Markdown extensions, as (markdown, html) pairs."""

from __future__ import annotations

import re

import markdown
import pytest

from bookpress.extensions import (
    FencedBlockExtension,
    HeadingIdExtension,
    IdRegistry,
    PageFootnoteExtension,
)
from bookpress.render import MARKDOWN_EXTENSIONS


def convert(text: str, registry: IdRegistry | None = None) -> str:
    registry = registry or IdRegistry()
    converter = markdown.Markdown(
        extensions=[
            *MARKDOWN_EXTENSIONS,
            FencedBlockExtension(),
            PageFootnoteExtension(registry),
            HeadingIdExtension(registry),
        ]
    )
    return converter.convert(text)


@pytest.mark.parametrize(
    "source, html",
    [
        (
            "::: review\n### Key terms\n\n- **Purge** — removal.\n:::",
            '<div class="review">\n<h3 id="key-terms">Key '
            "terms</h3>\n<ul>\n<li><strong>Purge</strong> — removal.</li>\n</ul>\n</div>",
        ),
        (
            "Before.\n\n::: note\nInside *here*.\n:::\n\nAfter.",
            '<p>Before.</p>\n<div class="note">\n<p>Inside '
            "<em>here</em>.</p>\n</div>\n<p>After.</p>",
        ),
        (
            "::: box\nFirst.\n\nSecond.\n:::",
            '<div class="box">\n<p>First.</p>\n<p>Second.</p>\n</div>',
        ),
    ],
)
def test_fenced_blocks(source, html):
    assert convert(source) == html


def test_footnote_text_moves_to_its_call_for_the_foot_of_the_page():
    html = convert("A claim.[^x] More.\n\n[^x]: Conquest, *The Great Terror* (1968).")
    assert html == (
        '<p>A claim.<a class="note-call" id="note_1_call"></a><span class="footnote" id="note_1">'
        "Conquest, <em>The Great Terror</em> (1968).</span> More.</p>"
    )


def test_footnote_ids_are_unique_across_documents():
    registry = IdRegistry()
    first = convert("One.[^a]\n\n[^a]: A.", registry)
    second = convert("Two.[^a]\n\n[^a]: B.", registry)
    assert 'id="note_1"' in first and 'id="note_2"' in second


def test_heading_ids_are_unique_across_the_book_and_recorded():
    registry = IdRegistry()
    convert("## A section\n\n## A section", registry)
    assert [h.id for h in registry.headings] == ["a-section", "a-section-2"]
    html = convert("## A section", registry)
    assert html == '<h3 id="a-section-3">A section</h3>'


def test_heading_titles_carry_smart_quotes_and_ids_stay_ascii():
    registry = IdRegistry()
    html = convert('## Stalin\'s "signature"', registry)
    assert registry.headings[0].title == "Stalin\u2019s \u201csignature\u201d"
    assert 'id="stalins-signature"' in html


def test_an_explicit_heading_id_is_kept():
    registry = IdRegistry()
    assert convert("## Title {#custom}", registry) == '<h3 id="custom">Title</h3>'


def test_headings_sit_one_level_below_the_markdown_and_a_box_at_section_level():
    """The book's title is its h1 and a chapter's title its h2: ## is h3, ### h4, and a box's
    headings (### Key terms) sit beside the sections, at h3; the levels recorded stay Markdown's."""
    registry = IdRegistry()
    html = convert(
        "## Section\n\n### Part\n\n#### Detail\n\n"
        "::: review\n### Key terms\n\nWords.\n\n#### Sub\n:::\n\n## Next",
        registry,
    )
    assert re.findall(r"<(h\d)[ >]", html) == ["h3", "h4", "h5", "h3", "h4", "h3"]
    assert [heading.level for heading in registry.headings] == [2, 3, 4, 3, 4, 2]


def test_the_allow_list_keeps_everything_the_books_markdown_makes():
    from bookpress.sanitize import clean_html

    source = """## A heading {#custom}

Text with *emphasis*, **strong**, `code`, a [link](https://example.org) and a note.[^n]

- a bullet
- another

1. first
2. second

> A quotation.

| Year | Shot |
|:-----|-----:|
| 1937 | 353,074 |

::: review
### Key terms

- **Term** — meaning.
:::

Term
:   its definition

[^n]: The note.
"""
    html = convert(source)
    assert "<ul>" in html and "<ol>" in html and "<table>" in html and "<blockquote>" in html

    def same_styles(text):  # the sanitizer rewrites 'text-align: left;' as 'text-align:left'
        return re.sub(
            r'style="([^"]*)"', lambda m: 'style="' + m[1].replace(" ", "").rstrip(";") + '"', text
        )

    assert same_styles(clean_html(html)) == same_styles(html)
