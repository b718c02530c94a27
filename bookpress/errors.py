"""The one error type of the pipeline: a problem in a source file, with its place."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

#: Every warning of the pipeline goes through this logger; --strict makes them errors.
LOGGER = logging.getLogger("bookpress")


class BookError(Exception):
    """A problem a teacher can fix, printed as ``path:line: message``."""

    def __init__(self, path: Path | str, line: int | None, message: str, hint: str | None = None):
        super().__init__(message)
        self.path = Path(path)
        self.line = line
        self.message = message
        self.hint = hint

    def __reduce__(self):
        # Errors travel back from the processes that build products in parallel.
        return (type(self), (self.path, self.line, self.message, self.hint))

    def where(self, root: Path | None = None) -> str:
        path = self.path
        if root is not None and path.is_absolute():
            with contextlib.suppress(ValueError):
                path = path.relative_to(root)
        return f"{path}:{self.line}" if self.line else str(path)

    def format(self, root: Path | None = None) -> str:
        text = f"{self.where(root)}: {self.message}"
        if self.hint:
            text += f"\n    how to fix: {self.hint}"
        return text

    def __str__(self) -> str:
        return self.format()


class BookErrors(Exception):
    """Several problems found in one pass, reported together."""

    def __init__(self, errors: list[BookError]):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors

    def __reduce__(self):
        return (type(self), (self.errors,))


def warn(path: Path | str | None, line: int | None, message: str, hint: str | None = None) -> None:
    """Report a problem that does not stop the build (unless --strict)."""
    error = BookError(path or "", line, message, hint)
    LOGGER.warning("%s", error.format(), extra={"book_error": error})


class WarningCollector(logging.Handler):
    """Collects the warnings of one build, so --strict can turn them into errors."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.errors: list[BookError] = []

    def emit(self, record):
        self.errors.append(
            getattr(record, "book_error", None) or BookError("", None, record.getMessage())
        )


def raise_all(errors: list[BookError]) -> None:
    """Raise the problems found so far, if any, all at once."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BookErrors(errors)


@contextlib.contextmanager
def warnings_checked(strict: bool) -> Iterator[None]:
    """Under --strict, the warnings of a build stop it before anything is written.

    They are reported with the errors that stop it anyway, if any: each problem once.
    """
    collector, once = WarningCollector(), _Once()
    LOGGER.addHandler(collector)
    LOGGER.addFilter(once)
    try:
        yield
    except (BookError, BookErrors) as failure:
        if strict and collector.errors:
            found = failure.errors if isinstance(failure, BookErrors) else [failure]
            raise BookErrors([*found, *collector.errors]) from None
        raise
    finally:
        LOGGER.removeHandler(collector)
        LOGGER.removeFilter(once)
    if strict and collector.errors:
        raise BookErrors(collector.errors) if len(collector.errors) > 1 else collector.errors[0]


class _Once(logging.Filter):
    """Each warning once: the worker processes read the same stylesheets as the build, and
    each edition renders the same chapters (products made apart send theirs back to it)."""

    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True
