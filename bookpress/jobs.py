"""Jobs side by side: independent editions made in processes of their own, within a time limit.

The jobs know nothing of what they make: the recipe passes in the work function.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TypeVar

from . import progress
from .errors import LOGGER, BookError, warnings_checked
from .model import Options

Job = TypeVar("Job")
Result = TypeVar("Result")


def run_jobs(
    jobs: Sequence[Job],
    work: Callable[[Job, Options], list[Result]],
    options: Options,
    on_done: Callable[[Result], None] | None = None,
) -> list[Result]:
    """work(job, options) for every job; side by side in processes when there are several.

    work must be a function of a module (it is sent to the processes), or a partial of one.
    """
    if len(jobs) == 1:
        results = work(jobs[0], options)
        for result in results:
            if on_done:
                on_done(result)
        return results
    results = []
    # Under --strict a job stops on its own warnings, before it writes: here they are
    # only given once, however many jobs found them.
    with (
        warnings_checked(strict=False),
        progress.relayed() as relay,
        ProcessPoolExecutor(
            max_workers=min(len(jobs), os.cpu_count() or 1),
            initializer=progress.relay_to,
            initargs=(relay,),
        ) as pool,
    ):
        # The jobs already share the cores: each lays its chapters out in its own process.
        one_core = dataclasses.replace(options, jobs=1)
        futures = [pool.submit(_run_apart, work, job, one_core) for job in jobs]
        for future in as_completed(futures):
            made, warnings = future.result()
            for record in warnings:
                LOGGER.handle(record)
            for result in made:
                results.append(result)
                if on_done:
                    on_done(result)
    return results


def _run_apart(work, job, options: Options) -> tuple[list, list[logging.LogRecord]]:
    """work in a process of its own.

    The job's warnings come back with its results instead of being printed here: every
    edition renders the same chapters and would give the same warnings.
    """
    kept = _Kept()
    LOGGER.handlers, LOGGER.filters, LOGGER.propagate = [kept], [], False  # this process's own
    return work(job, options), kept.records


class _Kept(logging.Handler):
    """The warnings of a job made apart, kept to be sent back with it."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        record.msg, record.args = record.getMessage(), None  # as it will be printed
        self.records.append(record)


@contextlib.contextmanager
def time_limit(seconds: int, product: str) -> Iterator[None]:
    """Stop a layout that runs past the limit (a runaway source) with a clear message."""

    def stop(signum, frame):
        raise BookError(
            Path("chapters"),
            None,
            f"building {product} took longer than {seconds} seconds",
            "look for a very long table or list in the last chapter you edited, "
            "or allow more time with --timeout",
        )

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
