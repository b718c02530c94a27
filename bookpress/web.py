"""The web edition: the whole book as one self-contained page for screens.

One file to send or open anywhere, with no script: its pictures and its typefaces (WOFF2
subsets of the book's own fonts) are inside it as data URIs.
"""

from __future__ import annotations

import base64
import html as htmllib
import re

from markupsafe import Markup

from .model import Book
from .render import embedded_pictures, template_environment
from .screen import ScreenBook
from .webfonts import WebFont, font_face_css, web_fonts

#: Markup that is not text: the page's style sheet, and every tag.
_NOT_TEXT = re.compile(r"<style\b.*?</style>|<[^>]*>", re.DOTALL)
#: A printed page's marker as screen.py writes it.
_PAGE_MARKER = re.compile(
    r'<span class="page-break" role="doc-pagebreak" id="([^"]+)" '
    r'aria-label="([^"]+)"></span>'
)


def web_page(screen: ScreenBook, book: Book) -> str:
    """book.html: layout/web.html with the chapters, the index and the fonts the page needs.

    The page is rendered twice: the fonts are subset to the characters of the first
    rendering (every word the page shows, the contents and the index included), and the
    second holds them; fonts take no text of their own, so the two agree.
    """
    sections = [
        Markup(web_page_markers(embedded_pictures(chapter.section, book.root)))
        for chapter in screen.chapters
    ]
    sections.append(Markup(screen.index_section))
    template = template_environment(book.layout_dir).get_template("web.html")
    context = {
        "book": screen.info,
        "contents": screen.contents,
        "sections": sections,
        "page_source": screen.page_source,
        "first_page": screen.pages[0].label if screen.pages else "",
    }
    draft = template.render(**context, font_faces="")
    fonts = web_fonts(book.layout_dir, page_text(draft))
    return template.render(**context, font_faces=Markup(font_face_css(fonts, data_uri)))


def web_page_markers(section: str) -> str:
    """The printed pages' markers named by title="Page 9" rather than aria-label, for web browsers.

    axe-core counts a DPUB role (doc-pagebreak) as a role only when told the page is a
    publication (EPUB): on a web page it sees a span without a role, on which aria-label is
    prohibited (rule aria-prohibited-attr, getExplicitRole without dpub in axe-core 4.x).
    A title names the marker under either reading; the number shown is the CSS's, from
    data-page.
    """
    return _PAGE_MARKER.sub(
        lambda match: (
            f'<span class="page-break" role="doc-pagebreak" id="{match[1]}" '
            f'title="Page {match[2]}" data-page="{match[2]}"></span>'
        ),
        section,
    )


def page_text(page: str) -> str:
    """Every character the page can show: its text, without tags or the style sheet.

    The stylesheet's own generated text (brackets, the page labels) is ASCII, which
    webfonts always keeps.
    """
    return htmllib.unescape(_NOT_TEXT.sub(" ", page))


def data_uri(font: WebFont) -> str:
    """The font as a data: URL, so that the page needs no file beside it."""
    return "data:font/woff2;base64," + base64.b64encode(font.data).decode("ascii")
