"""The Jinja templates of layout/, rendered with errors that name the template and its line."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from .errors import BookError
from .model import ChapterSource

#: The blocks a printed page can begin with (an li, dt, dd or tr as well as what they hold).
BLOCK_START = re.compile(r"<(p|li|h[1-6]|figure|table|tr|pre|blockquote|dt|dd)\b([^>]*)>")
BLOCK_ID_SEPARATOR = "__"  # a heading's id is a slug of single hyphens: this cannot collide


def numbered_blocks(section: str, prefix: str) -> str:
    """Each block without an id gets one, "{prefix}__{n}", numbered in reading order.

    Layout then reports the page each block begins on (its folios), so the screen editions
    can mark where the printed pages begin. The print and the screen renderings of a
    chapter hold the same blocks, so the same numbers.
    """
    numbers = iter(range(1, len(section)))

    def number(match: re.Match) -> str:
        if re.search(r'\sid="', match[2]):
            return match[0]
        return f'<{match[1]} id="{prefix}{BLOCK_ID_SEPARATOR}{next(numbers)}"{match[2]}>'

    return BLOCK_START.sub(number, section)


def render_template(
    environment, name: str, context: dict, chapter: ChapterSource | None = None
) -> str:
    try:
        return environment.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as error:
        raise BookError(
            Path(error.filename or name), error.lineno, f"template error: {error.message}"
        ) from None
    except jinja2.UndefinedError as error:
        template, line = _template_place(error, name)
        where = (
            chapter.data_path
            if chapter is not None and chapter.data_path
            else Path("layout") / template
        )
        raise BookError(
            where,
            None,
            f"the template {template} (line {line}) needs a value that is missing: {error.message}",
            "check that every entry of the data file has all the keys the template uses",
        ) from None
    except jinja2.TemplateNotFound as error:
        raise BookError(Path("layout") / str(error.name), None, "template not found") from None


def _template_place(error: Exception, name: str) -> tuple[str, int | None]:
    """The template and line where rendering failed.

    Jinja rewrites tracebacks so that frames of templates carry the template's file name
    and line: the last such frame is where the missing value was asked for.
    """
    place: tuple[str, int | None] = (name, None)
    traceback = error.__traceback__
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if filename.endswith(".html"):
            place = (Path(filename).name, traceback.tb_lineno)
        traceback = traceback.tb_next
    return place
