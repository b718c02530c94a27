"""Join stage: the book's laid-out parts made one PDF, by the fast path or the public one.

The fast path (engine.py) writes each part as soon as it is laid out and joins the written
parts; it reaches into WeasyPrint beyond its documented API, so it is taken only on the
versions it knows. The public path, here, uses that API alone: the parts' pages are kept
as laid out, joined with Document.copy and written once with write_pdf, the page labels
added by its finisher. It makes the same book, in one process and without the part cache.
"""

from __future__ import annotations

import copy
import sys

from .tagging import describe_links, make_accessible, page_labels, promote_headings


class PublicPath:
    """Parts kept as laid out (WeasyPrint documents), joined and written once."""

    name = "public"
    parallel = False  # a laid-out page cannot leave its process, nor be kept on disk

    @staticmethod
    def write(document, variant: str | None):
        return document

    @staticmethod
    def join(parts, shell, variant: str | None, labels, title: str | None = None) -> bytes:
        """One PDF of the parts' pages, in order, with the shell's metadata (title, language…)."""
        book = shell.copy([page for part in parts for page in part.pages])
        if title:
            book.metadata = copy.copy(shell.metadata)
            book.metadata.title = title

        def finish(document, pdf):
            pdf.catalog["PageLabels"] = page_labels(labels)
            if "StructTreeRoot" in pdf.catalog:
                make_accessible(pdf)
                promote_headings(pdf)  # a handout's chapter titles head it
                describe_links(pdf, labels)

        return book.write_pdf(pdf_variant=variant, finisher=finish)

    @staticmethod
    def marks_ending_the_page(page, mark_class: str) -> list[str]:
        # Which words open a page is known only from the box tree, beyond the documented
        # API: an index mark glued to the page's last word points to that page.
        return []


def choose_path(public: bool):
    """The fast path where this WeasyPrint is one it knows, else (or when asked) the public one."""
    if public:
        return PublicPath()
    from .engine import FastPath, fast_path_problem

    problem = fast_path_problem()
    if problem:
        print(
            f"note: {problem}; building with WeasyPrint's documented API only, which is slower.",
            file=sys.stderr,
        )
        return PublicPath()
    return FastPath()
