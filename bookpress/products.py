"""The products a build can make, as a table: each one's layout, stylesheets and finisher.

Adding a product is one entry here and its stylesheet in layout/. Products laid out the
same way (the same edition) share one layout: the handouts, the web edition and the EPUB
are made from the reading edition's.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Edition, Options

#: The booklet's page, half the sheet it is imposed on.
HALF_PAPER = {"a4": "a5", "letter": "half-letter"}
#: What build.py's finish step makes of a laid-out edition, by kind of product.
FINISHERS = ("pdf", "booklet", "handouts", "web", "epub")


@dataclass(frozen=True)
class Product:
    """One product: how it is laid out, and what the finish step makes of the layout."""

    description: str  # as --help shows it
    file: str  # where it goes in build/: a file, or a folder of them (the handouts)
    finisher: str  # one of FINISHERS
    css: tuple[str, ...] = ()  # its own stylesheets in layout/, over book.css and the paper's
    teacher: bool = False  # with the teacher's notes
    large_print: bool = False
    half_paper: bool = False  # pages half the sheet's size, to be imposed two-up
    back_cover: bool = False
    tagged: bool = True  # in the --pdf-variant asked for; else a plain PDF
    print_shop: bool = False  # with the --bleed and --marks asked for

    def edition(self, options: Options) -> Edition:
        """The edition this product is laid out as, for the options of this build."""
        return Edition(
            HALF_PAPER[options.paper] if self.half_paper else options.paper,
            teacher=self.teacher,
            large_print=self.large_print,
            back_cover=self.back_cover,
            bleed=options.bleed if self.print_shop else None,
            crop_marks=options.crop_marks if self.print_shop else False,
            pdf_variant=options.pdf_variant if self.tagged else None,
            css=self.css,
        )


PRODUCTS: dict[str, Product] = {
    "book": Product(
        "the reading edition: build/book.pdf (A4, or US Letter with --paper letter)",
        "book.pdf",
        "pdf",
        print_shop=True,  # the reading edition's layout
    ),
    "booklet": Product(
        "a fold-and-staple booklet: build/booklet.pdf, A5 pages two-up on A4 "
        "(half-letter on Letter)",
        "booklet.pdf",
        "booklet",
        half_paper=True,
        back_cover=True,
        tagged=False,  # imposition keeps no structure tree: a printed booklet is not tagged
    ),
    "handouts": Product(
        "one PDF per chapter and a revision sheet: build/handouts/, with the book's page numbers",
        "handouts",
        "handouts",
        print_shop=True,  # the reading edition's layout
    ),
    "teacher": Product(
        "the teacher's edition, with the teacher's notes: build/teacher.pdf",
        "teacher.pdf",
        "pdf",
        teacher=True,
    ),
    "large-print": Product(
        "a large-print edition (16 pt, unjustified, one column): build/large-print.pdf",
        "large-print.pdf",
        "pdf",
        css=("large-print.css",),
        large_print=True,
    ),
    "web": Product(
        "the web edition: build/book.html, one self-contained page for screens and phones",
        "book.html",
        "web",
        print_shop=True,  # the reading edition's layout
    ),
    "epub": Product(
        "the EPUB 3 edition: build/book.epub, for e-readers, with the printed page numbers",
        "book.epub",
        "epub",
        print_shop=True,  # the reading edition's layout
    ),
}

BOOKLET_INSTRUCTIONS = (
    "print double-sided, flip on the short edge; fold the stack in half "
    "and staple twice on the fold"
)


def editions(names, options: Options) -> list[tuple[Edition, tuple[str, ...]]]:
    """The editions to lay out, each with the products made from it, in the table's order."""
    jobs: dict[Edition, list[str]] = {}
    for name, product in PRODUCTS.items():
        if name in names:
            jobs.setdefault(product.edition(options), []).append(name)
    return [(edition, tuple(job)) for edition, job in jobs.items()]
