"""Progress on long work: what the build is doing, said as it goes.

The stages say what they start (`step`); the command line shows it (`Shown`) once a build
has run for SHOW_AFTER seconds: on a terminal as one line that is written over, in a log
as plain lines. A build that is done sooner says nothing more than its result.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import multiprocessing
import sys
import time
from collections.abc import Iterator

#: The stages' reports, apart from the warnings: shown only when the command line asks.
PROGRESS = logging.getLogger("bookpress.progress")
PROGRESS.propagate = False  # never printed as a warning is, nor kept with a job's warnings
PROGRESS.setLevel(logging.INFO)

#: Seconds a build runs before it says what it is doing.
SHOW_AFTER = 2.0

_product = ""  # what this process is making: set by working_on, said with each step


@contextlib.contextmanager
def working_on(product: str) -> Iterator[None]:
    """Each step inside is said to be of product (the first product an edition makes)."""
    global _product
    before, _product = _product, product
    try:
        yield
    finally:
        _product = before


def step(what: str, pages: int | None = None) -> None:
    """Say what the build starts now; pages: how many it has laid out so far."""
    PROGRESS.info(what, extra={"product": _product, "pages": pages})


class Shown(logging.Handler):
    """The steps on stream, from SHOW_AFTER seconds after the build started (its creation).

    A terminal gets one line, written over at each step and ended by `close`; anything else
    (a log, CI) gets a line per step.
    """

    def __init__(self, stream=None, after: float | None = None):
        super().__init__(logging.INFO)
        self.stream = stream or sys.stderr
        self.after = SHOW_AFTER if after is None else after
        self.start = time.monotonic()
        self.over = _is_terminal(self.stream)
        self.width = 0  # of the line last written over

    def emit(self, record: logging.LogRecord) -> None:
        seconds = time.monotonic() - self.start
        if seconds < self.after:
            return
        line = describe(record, seconds)
        if self.over:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """The line written over made blank, the cursor at its start: for other output."""
        if self.over and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0

    def close(self) -> None:
        self.clear()  # the result is printed where the progress was
        super().close()


def clear() -> None:
    """Make room for a line of other output (a warning, a product done) under the progress."""
    for handler in PROGRESS.handlers:
        if isinstance(handler, Shown):
            handler.clear()


def describe(record: logging.LogRecord, seconds: float) -> str:
    """'  12.3 s  teacher: laying out 03-gulag.md, 41 pages so far'."""
    product = getattr(record, "product", "")
    pages = getattr(record, "pages", None)
    said = f"{product}: {record.getMessage()}" if product else record.getMessage()
    if pages:
        said += f", {pages} pages so far"
    return f"{seconds:6.1f} s  {said}"


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed stream, or one that is no file
        return False


@contextlib.contextmanager
def shown(stream=None) -> Iterator[None]:
    """The build's steps shown while inside (see Shown)."""
    handler = Shown(stream)
    PROGRESS.addHandler(handler)
    try:
        yield
    finally:
        PROGRESS.removeHandler(handler)
        handler.close()


@contextlib.contextmanager
def relayed() -> Iterator[multiprocessing.Queue | None]:
    """A queue that processes of a pool say their steps into, shown here as they come.

    A job made apart (jobs.py) says its steps through it (relay_to), so that one line on the
    terminal shows them all; None when nothing here shows steps.
    """
    if not PROGRESS.handlers:
        yield None
        return
    queue: multiprocessing.Queue = multiprocessing.Queue()
    listener = logging.handlers.QueueListener(queue, *PROGRESS.handlers)
    listener.start()
    try:
        yield queue
    finally:
        listener.stop()  # after the pool's processes are gone: every step is shown


def relay_to(queue: multiprocessing.Queue | None) -> None:
    """In a pool's process: say the steps into queue (see relayed), or say nothing."""
    PROGRESS.handlers = [logging.handlers.QueueHandler(queue)] if queue is not None else []
