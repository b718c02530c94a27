"""The command line: make_book.py and the make-book script."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .errors import LOGGER, BookError, BookErrors
from .model import PAPER_SIZES, Options
from .products import BOOKLET_INSTRUCTIONS, PRODUCTS, make_products


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="make_book.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Build the book's PDFs from chapters/.",
        epilog="products:\n" + "\n".join(f"  {name:<12} {text}" for name, text in PRODUCTS.items()))
    parser.add_argument("--paper", choices=PAPER_SIZES, default="a4", help="paper size (default: a4)")
    parser.add_argument("--all", action="store_true", help="build every product (listed below)")
    parser.add_argument("--product", action="append", choices=list(PRODUCTS), metavar="NAME",
                        help="build this product (repeatable; default: book)")
    parser.add_argument("--output", type=Path, help="where to write the reading edition (default: build/book.pdf)")
    parser.add_argument("--build-dir", type=Path, help="where to write the products (default: build/)")
    parser.add_argument("--bleed", metavar="SIZE", help="add bleed to book.pdf for a print shop, e.g. 3mm")
    parser.add_argument("--marks", action="store_true", help="add crop marks to book.pdf for a print shop")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project folder (default: here)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    root = arguments.root.resolve()
    _log_warnings_plainly(root)
    options = Options(paper=arguments.paper, output=arguments.output, build_dir=arguments.build_dir,
                      strict=arguments.strict,
                      bleed=arguments.bleed, crop_marks=arguments.marks)
    names = list(PRODUCTS) if arguments.all else (arguments.product or ["book"])
    try:
        outputs = make_products(root, options, names, on_done=_progress(root) if len(names) > 1 else None)
    except BookError as error:
        _report([error], root)
        return 1
    except BookErrors as errors:
        _report(errors.errors, root)
        return 1
    if len(outputs) == 1:
        ready = "The book is ready" if outputs[0].product == "book" else "Ready"
        print(f"{ready}: {_shown(outputs[0].path, root)}")
    else:
        _table(outputs, root)
    if any(output.product == "booklet" for output in outputs):
        print(f"To print the booklet: {BOOKLET_INSTRUCTIONS}.")
    return 0


def _progress(root: Path):
    def show(output):
        print(f"  done  {str(_shown(output.path, root)):<40} {output.seconds:5.1f} s", flush=True)
    return show


def _table(outputs, root: Path) -> None:
    print(f"\n{'output':<40} {'pages':>5} {'size':>9}")
    for output in outputs:
        print(f"{str(_shown(output.path, root)):<40} {output.pages:>5} {output.bytes / 1024:>6.0f} KB")


def _report(errors, root: Path) -> None:
    for error in errors:
        print(error.format(root), file=sys.stderr)
    print(f"The book was not built ({len(errors)} problem{'s' if len(errors) > 1 else ''}); "
          "build/ still holds the last good PDF.", file=sys.stderr)


def _shown(path: Path, root: Path) -> Path:
    path = path.resolve()
    return path.relative_to(root) if path.is_relative_to(root) else path


class _WarningFormatter(logging.Formatter):
    """'warning: chapters/x.md:3: …', with paths relative to the project."""

    def __init__(self, root: Path):
        super().__init__()
        self.root = root

    def format(self, record):
        error = getattr(record, "book_error", None)
        return "warning: " + (error.format(self.root) if error is not None else record.getMessage())


def _log_warnings_plainly(root: Path) -> None:
    for handler in [h for h in LOGGER.handlers if getattr(h, "bookpress_cli", False)]:
        LOGGER.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.bookpress_cli = True
    handler.setFormatter(_WarningFormatter(root))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.WARNING)
