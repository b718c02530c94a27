"""Chapters laid out side by side: a chapter starts as soon as the one before it is laid out.

A chapter's first folio is known only when the chapter before it is laid out, but its
writing (drawing, tags, compression: a third of its time) need not wait. Each worker
process lays a chapter out, tells its page count and where its elements landed, and then
writes it while another worker lays out the next chapter. A laid-out page cannot leave
the process that made it; the written part can.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import traceback
from multiprocessing.connection import wait
from pathlib import Path

from .errors import LOGGER, BookError


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    # A forked worker starts with WeasyPrint already imported; a spawned one would pay
    # the import (about a second) and is not worth it for a book's chapters. Forking is
    # safe on Linux; macOS's system libraries do not allow it, and Windows has no fork.
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class Pending:
    """A chapter being laid out and written: its page count and folios first, then its part."""

    def __init__(self, pool=None):
        self.pool = pool
        self.pages: int | None = None
        self.folios: dict | None = None
        self.step = self.moved = None
        self._part = None
        self.when_written = []  # functions called with the part once it is written

    @classmethod
    def done(cls, pages: int, folios: dict, part, step=None, moved=None) -> Pending:
        pending = cls()
        pending.pages, pending.folios, pending.step, pending.moved = pages, folios, step, moved
        pending._part = part
        return pending

    def written(self, part) -> None:
        self._part = part
        for function in self.when_written:
            function(part)

    def then(self, function) -> None:
        """Call function with the part once it is written (now, if it is)."""
        if self._part is not None:
            function(self._part)
        else:
            self.when_written.append(function)

    def part(self):
        """The written part, waiting for it if a worker is still writing it."""
        while self._part is None:
            self.pool.receive()
        return self._part


class _Worker:
    def __init__(self, context, book, edition):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, book, edition), daemon=True)
        self.process.start()
        child.close()
        self.pending: Pending | None = None  # the part it lays out or writes


class LayoutPool:
    """Worker processes that lay out and write chapters, each from its first folio."""

    def __init__(self, book, edition, workers: int):
        context = multiprocessing.get_context("fork")
        self.workers = [_Worker(context, book, edition) for _ in range(workers)]

    def chapter(self, chapter, first_folio: int, html: str, start: int) -> Pending:
        """Send the chapter to a free worker; return once it is laid out (not yet written)."""
        pending = self.part(html, first_folio, chapter, start)
        while pending.pages is None:
            self.receive()
        return pending

    def part(self, html: str, first_folio: int | None, chapter=None, start: int = 0) -> Pending:
        """Send a part to a free worker; return at once."""
        # Queued behind a part still being written, it would wait while another worker idles.
        while all(worker.pending for worker in self.workers):
            self.receive()
        worker = next(worker for worker in self.workers if not worker.pending)
        worker.pending = Pending(self)
        worker.connection.send((chapter, first_folio, html, start))
        return worker.pending

    def receive(self) -> None:
        """Take in the next message of any busy worker."""
        busy = {worker.connection: worker for worker in self.workers if worker.pending}
        for connection in wait(list(busy)):
            worker = busy[connection]
            pending = worker.pending
            assert pending is not None  # a busy worker's
            try:
                kind, value = worker.connection.recv()
            except EOFError:  # killed: out of memory, most likely
                raise BookError(
                    Path("chapters"),
                    None,
                    "a process laying out chapters stopped unexpectedly",
                    "build again with --jobs 1, which needs less memory",
                ) from None
            if kind == "laid out":
                pending.pages, pending.folios, pending.step, pending.moved = value
            elif kind == "written":
                from .engine import with_font_files

                worker.pending = None
                pending.written(with_font_files(value))
            elif kind == "log":
                LOGGER.handle(value)
            else:  # "failed": the chapter's error, raised here as if laid out here
                raise value

    def close(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        for worker in self.workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.terminate()

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is not None:  # an error or Ctrl-C: the workers' work is of no more use
            for worker in self.workers:
                worker.process.terminate()
        self.close()


class _Forward(logging.Handler):
    """A worker's warnings, sent to the build that collects them (--strict)."""

    def __init__(self, connection):
        super().__init__(logging.WARNING)
        self.connection = connection

    def emit(self, record):
        record.msg, record.args = record.getMessage(), None
        self.connection.send(("log", record))


def _serve(connection, book, edition) -> None:
    """A worker: lay out each part it is sent, say how it came out, then write it."""
    from .engine import FastPath, without_font_files
    from .typeset import Typesetter, _folios

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    LOGGER.handlers = [_Forward(connection)]
    LOGGER.propagate = False
    typesetter = Typesetter(book, edition, FastPath())
    sent: set[str] = set()  # the font files the build already has from this worker
    while (task := connection.recv()) is not None:
        chapter, first_folio, html, start = task
        try:
            if chapter is None:  # the index, the front matter: no notes to place
                document, step, moved = typesetter.render(html, first_folio), None, None
            else:
                document, step, moved = typesetter.render_chapter(chapter, first_folio, html, start)
            folios = _folios(document, first_folio or 1, typesetter.path)
            connection.send(("laid out", (len(document.pages), folios, step, moved)))
            part = typesetter.write(document)
            del document  # its pages, before the next chapter's
            connection.send(("written", without_font_files(part, sent)))
        except BookError as error:
            connection.send(("failed", error))
        except Exception:  # WeasyPrint's own, which may not survive the trip: its story, then
            connection.send(("failed", RuntimeError(traceback.format_exc())))
