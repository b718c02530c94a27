"""The command line: make_book.py and the make-book script."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .errors import LOGGER, BookError, BookErrors
from .model import PAPER_SIZES, Options


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="make_book.py", description="Build the booklet's PDF from chapters/.")
    parser.add_argument("--paper", choices=PAPER_SIZES, default="a4", help="paper size (default: a4)")
    parser.add_argument("--output", type=Path, help="where to write the PDF (default: build/book.pdf)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project folder (default: here)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    root = arguments.root.resolve()
    _log_warnings_plainly(root)
    from .build import build
    try:
        output = build(root, Options(paper=arguments.paper, output=arguments.output, strict=arguments.strict))
    except BookError as error:
        _report([error], root)
        return 1
    except BookErrors as errors:
        _report(errors.errors, root)
        return 1
    print(f"The book is ready: {_shown(output, root)}")
    return 0


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
