"""Worker processes that take tasks one at a time and tell what came of each in two steps.

A task's work is a generator run in the worker: what it yields first is sent back at
once, what it yields last is the task's result. The typeset stage lays a chapter out,
tells its page count and where its elements landed (the next chapter can start from its
folio), then writes it while another worker lays out the next chapter. The pool knows
nothing of what the work is: the stage passes it in.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

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


class Task:
    """A task sent to a worker: what its work told first, then (once done) its result."""

    def __init__(self, pool: LayoutPool | None = None):
        self.pool = pool
        self._told: Any = None
        self._result: Any = None
        self._then: list[Callable[[Any], None]] = []  # called with the result once it is done

    @classmethod
    def done(cls, told, result) -> Task:
        """A task done here, without a worker."""
        task = cls()
        task._told, task._result = told, result
        return task

    def told(self):
        """What the work told first, waiting for it if the worker has not told it yet."""
        while self._told is None:
            self._receive()
        return self._told

    def result(self):
        """The task's result, waiting for it if the worker is still at work."""
        while self._result is None:
            self._receive()
        return self._result

    def then(self, function: Callable[[Any], None]) -> None:
        """Call function with the result once the task is done (now, if it is)."""
        if self._result is not None:
            function(self._result)
        else:
            self._then.append(function)

    def _receive(self) -> None:
        assert self.pool is not None  # a task done here has its result
        self.pool.receive()

    def _finish(self, result) -> None:
        self._result = result
        for function in self._then:
            function(result)


class _Worker:
    def __init__(self, context, start_work):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, start_work), daemon=True)
        self.process.start()
        child.close()
        self.task: Task | None = None  # the task it is at


class LayoutPool:
    """Worker processes, forked, each doing one task at a time.

    start_work() runs once in each worker and gives its work: a function of a task that
    yields twice. received is applied, in this process, to each result as it comes.
    """

    def __init__(self, start_work: Callable[[], Callable], workers: int, received=None):
        context = multiprocessing.get_context("fork")
        self.received = received or (lambda result: result)
        self.workers = [_Worker(context, start_work) for _ in range(workers)]

    def submit(self, item) -> Task:
        """Send the item to a free worker, to do its work on; return at once."""
        # Queued behind a task still at work, it would wait while another worker idles.
        while all(worker.task for worker in self.workers):
            self.receive()
        worker = next(worker for worker in self.workers if not worker.task)
        worker.task = Task(self)
        worker.connection.send(item)
        return worker.task

    def receive(self) -> None:
        """Take in the next message of any busy worker."""
        busy = {worker.connection: worker for worker in self.workers if worker.task}
        for connection in wait(list(busy)):
            worker = busy[connection]
            task = worker.task
            assert task is not None  # a busy worker's
            try:
                kind, value = worker.connection.recv()
            except EOFError:  # killed: out of memory, most likely
                raise BookError(
                    Path("chapters"),
                    None,
                    "a process laying out chapters stopped unexpectedly",
                    "build again with --jobs 1, which needs less memory",
                ) from None
            if kind == "told":
                task._told = value
            elif kind == "done":
                worker.task = None
                task._finish(self.received(value))
            elif kind == "log":
                LOGGER.handle(value)
            else:  # "failed": the task's error, raised here as if the work were done here
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


def _serve(connection, start_work) -> None:
    """A worker: do each task it is sent, telling what the work yields as it yields it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    LOGGER.handlers = [_Forward(connection)]
    LOGGER.propagate = False
    work = start_work()
    while (item := connection.recv()) is not None:
        try:
            steps = work(item)
            connection.send(("told", next(steps)))
            connection.send(("done", next(steps)))
            del steps  # what the work held, before the next task
        except BookError as error:
            connection.send(("failed", error))
        except Exception:  # WeasyPrint's own, which may not survive the trip: its story, then
            connection.send(("failed", RuntimeError(traceback.format_exc())))
