"""The command line: make_book.py and the make-book script."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import sys
from pathlib import Path

from . import progress
from .errors import LOGGER, BookError, BookErrors
from .fonts import use_book_fonts
from .model import PAPER_SIZES, PDF_VARIANTS, PUBLIC_PATH_VARIABLE, Options
from .products import BOOKLET_INSTRUCTIONS, PRODUCTS


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="make_book.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Build the book's PDFs from chapters/.",
        epilog="products:\n"
        + "\n".join(f"  {name:<12} {product.description}" for name, product in PRODUCTS.items()),
    )
    parser.add_argument(
        "--paper", choices=PAPER_SIZES, default="a4", help="paper size (default: a4)"
    )
    parser.add_argument("--all", action="store_true", help="build every product (listed below)")
    parser.add_argument(
        "--product",
        action="append",
        choices=list(PRODUCTS),
        metavar="NAME",
        help="build this product (repeatable; default: book)",
    )
    parser.add_argument(
        "--output", type=Path, help="where to write the reading edition (default: build/book.pdf)"
    )
    parser.add_argument(
        "--build-dir", type=Path, help="where to write the products (default: build/)"
    )
    parser.add_argument(
        "--bleed", metavar="SIZE", help="add bleed to book.pdf for a print shop, e.g. 3mm"
    )
    parser.add_argument(
        "--marks", action="store_true", help="add crop marks to book.pdf for a print shop"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="check every source and report all problems, without building",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="with --check: print how hard each chapter reads (words, sentences, the "
        "longest sentence, Flesch-Kincaid grade)",
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even when nothing has changed"
    )
    parser.add_argument("--watch", action="store_true", help="rebuild whenever a source changes")
    parser.add_argument(
        "--pdf-variant",
        choices=PDF_VARIANTS,
        default="pdf/ua-1",
        help="pdf/ua-1: tagged and accessible (default); pdf/a-3u: for archiving",
    )
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument(
        "--timeout",
        type=int,
        default=600,
        metavar="SECONDS",
        help="stop a product whose layout takes longer (default: 600)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="lay chapters out in N processes at once (default: one per core)",
    )
    parser.add_argument(
        "--public-path",
        action="store_true",
        default=os.environ.get(PUBLIC_PATH_VARIABLE, "") not in ("", "0"),
        help="build with WeasyPrint's documented API only: the same book, slower "
        f"(also: {PUBLIC_PATH_VARIABLE}=1)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="say only the result: not what a long build is doing, nor each product as it is done",
    )
    parser.add_argument(
        "--root", type=Path, default=Path.cwd(), help="the project folder (default: here)"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    use_book_fonts()  # before anything imports WeasyPrint
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    root = arguments.root.resolve()
    _log_warnings_plainly(root, shown=not arguments.strict)
    options = Options(
        paper=arguments.paper,
        output=arguments.output,
        build_dir=arguments.build_dir,
        strict=arguments.strict,
        bleed=arguments.bleed,
        crop_marks=arguments.marks,
        timeout=arguments.timeout,
        pdf_variant=arguments.pdf_variant,
        jobs=arguments.jobs,
        public_path=arguments.public_path,
    )
    names = list(PRODUCTS) if arguments.all else (arguments.product or ["book"])
    if arguments.check or arguments.report:
        return _reported(root, lambda: _check(root, options, arguments.report), CHECKED)
    if arguments.watch:
        from .watch import watch

        return watch(
            root, lambda: build_once(root, options, names, force=True, quiet=arguments.quiet)
        )
    return build_once(root, options, names, force=arguments.force, quiet=arguments.quiet)


def build_once(
    root: Path, options: Options, names, force: bool = False, quiet: bool = False
) -> int:
    """Build the products unless nothing changed since the last good build; 0 or 1 for the shell.

    quiet: only the result is printed; else a long build says what it is doing (progress.py),
    and a build of several products names each as it is done.
    """
    from . import stamp

    build_dir = options.build_dir or root / "build"
    # How many processes made the book changes nothing in it.
    request = {"options": dataclasses.replace(options, jobs=None), "products": sorted(names)}
    digest = stamp.inputs_digest(root, request)
    previous = None if force else stamp.is_up_to_date(build_dir, digest)
    if previous:
        shown = ", ".join(str(_shown(path, root)) for path in previous)
        print(f"Up to date: {shown} (--force rebuilds)")
        return 0
    from .build import build  # the recipe

    on_done = _done(root) if len(names) > 1 and not quiet else None
    with contextlib.nullcontext() if quiet else progress.shown():
        outputs = _reported(
            root, lambda: build(root, options, names, on_done=on_done), _what_build_holds(build_dir)
        )
    if isinstance(outputs, int):
        return outputs
    stamp.record(build_dir, digest, [output.path for output in outputs])
    if len(outputs) == 1:
        ready = "The book is ready" if outputs[0].product == "book" else "Ready"
        print(f"{ready}: {_shown(outputs[0].path, root)}")
    else:
        _table(outputs, root)
    if any(output.product == "booklet" for output in outputs):
        print(f"To print the booklet: {BOOKLET_INSTRUCTIONS}.")
    return 0


def _check(root: Path, options: Options, report: bool) -> int:
    from .build import check

    return check(root, options, report)


KEPT = "build/ still holds the last good PDF"
CHECKED = "--check only reads the sources"


def _what_build_holds(build_dir: Path) -> str:
    """What a failed build leaves: the last good PDF, or (a first build) nothing at all."""
    return KEPT if any(build_dir.glob("*.pdf")) else "nothing was written to build/"


def _reported(root: Path, work, left: str = KEPT):
    """Run work; a problem in the sources is printed as path:line and becomes exit code 1.

    left: what the build folder holds afterwards, said after the problems.
    """
    try:
        return work()
    except BookError as error:
        _report([error], root, left)
    except BookErrors as errors:
        _report(errors.errors, root, left)
    except (
        OSError
    ) as error:  # a full disk, a read-only folder: the machine's problem, not the book's
        print(f"could not write the book: {error.strerror or error}", file=sys.stderr)
        print(f"{left[:1].upper()}{left[1:]}.", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"\ninterrupted; {left}.", file=sys.stderr)
        return 130
    return 1


def _done(root: Path):
    def show(output):
        progress.clear()
        print(f"  done  {str(_shown(output.path, root)):<40} {output.seconds:5.1f} s", flush=True)

    return show


def _table(outputs, root: Path) -> None:
    print(f"\n{'output':<40} {'pages':>5} {'size':>9}")
    for output in outputs:
        print(
            f"{str(_shown(output.path, root)):<40} {output.pages:>5} {output.bytes / 1024:>6.0f} KB"
        )


def _report(errors, root: Path, left: str) -> None:
    for error in errors:
        print(error.format(root), file=sys.stderr)
    print(
        f"The book was not built ({len(errors)} problem{'s' if len(errors) > 1 else ''}); {left}.",
        file=sys.stderr,
    )


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


class _PlainHandler(logging.StreamHandler):
    """The command line's own handler: one at a time, however often main() runs."""

    def emit(self, record: logging.LogRecord) -> None:
        progress.clear()  # a warning on a line of its own, not after the progress line
        super().emit(record)


def _log_warnings_plainly(root: Path, shown: bool = True) -> None:
    """Print each warning as it comes; not under --strict, where each is one of the errors."""
    for handler in [h for h in LOGGER.handlers if isinstance(h, _PlainHandler)]:
        LOGGER.removeHandler(handler)
    handler = _PlainHandler(sys.stderr)
    handler.setFormatter(_WarningFormatter(root))
    handler.addFilter(lambda record: shown)
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.WARNING)
