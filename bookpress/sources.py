"""Reading stage helpers: text files and YAML with the line numbers a teacher needs."""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .errors import BookError

MAX_SOURCE = 2 * 1024 * 1024  # bytes: a chapter or data file larger than this is a mistake
MAX_FILE = 20 * 1024 * 1024  # bytes of one picture, font or stylesheet the book uses
MAX_DATA_URL = 256 * 1024  # characters: a larger data: URL is refused like a file outside
#: A URL that names its scheme (https:, data:, file:…): not a path in the project.
URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
#: Lists and keys inside one another: the book's files need three or four levels; parsing
#: recurses once per level, so a file nested without end must be stopped early.
MAX_YAML_DEPTH = 32
#: Characters that print as nothing, which YAML's escapes ("\x01", "\ud800") can produce:
#: the controls but tab and line ends, and halves of UTF-16 pairs, which cannot be saved.
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")
MAX_SHOWN = 60  # characters of a teacher's text quoted in a message
CALENDAR_HINT = (
    "check the year (0001 or later), the month (01 to 12) and the day "
    "(no more than the month has), e.g. 1937-02-28"
)


def read_text(path: Path, empty_ok: bool = False) -> str:
    """The file's text, or an error saying what is wrong with its bytes (or that it is empty)."""
    try:
        if path.stat().st_size > MAX_SOURCE:
            raise BookError(
                path,
                None,
                f"the file is larger than {MAX_SOURCE // 1024 // 1024} MB",
                "split it, or check that nothing was pasted into it by mistake",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise BookError(path, None, "file not found") from None
    except OSError as error:  # a folder of that name, a name too long, no permission
        raise BookError(
            path,
            None,
            f"the file cannot be read ({error.strerror or error})",
            "check that it is a file you may read",
        ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        raise BookError(
            path,
            1,
            "the file starts with a byte-order mark",
            "save it as UTF-8 without BOM (most editors offer 'UTF-8' beside 'UTF-8 with BOM')",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise BookError(
            path, line, "the file is not UTF-8 text", "save it with the encoding 'UTF-8'"
        ) from None
    if "\x00" in text:  # a sign of a file that is not text; no path may hold it either
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise BookError(
            path,
            line,
            "the file holds a null character (U+0000), which is not text",
            "remove it; a file saved by a word processor must be saved again as plain text (UTF-8)",
        )
    if not text.strip() and not empty_ok:
        raise BookError(path, None, "the file is empty")
    return text


def is_file(path: Path) -> bool:
    """Whether path is a file; False, not an exception, for a name no file can have."""
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the disk, or with a null character
        return False


class _ValueProblem(yaml.YAMLError):
    """A value YAML can read but the book cannot use: a date not on the calendar, say."""

    def __init__(self, mark, message: str, hint: str):
        super().__init__(message)
        self.mark, self.message, self.hint = mark, message, hint


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice in one mapping, and aliases.

    No source of the book needs YAML's aliases (*name); refusing them also refuses the
    'billion laughs' file whose aliases expand to gigabytes.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.events.AliasEvent):
            raise yaml.composer.ComposerError(
                None,
                None,
                "YAML aliases (*name) are not used in this book",
                self.peek_event().start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _ValueProblem(
                    self.peek_event().start_mark,
                    f"the lists and keys here are nested more than {MAX_YAML_DEPTH} levels deep",
                    "a data file needs only a list of entries with 'key: value' lines",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError):
            # PyYAML builds dates and numbers from text that only looks right: 1937-13-45.
            raise _ValueProblem(node.start_mark, *_value_problem(node)) from None

    def construct_scalar(self, node):
        value = super().construct_scalar(node)
        if isinstance(value, str) and (found := INVISIBLE.search(value)):
            raise _ValueProblem(
                node.start_mark,
                f"the text holds an invisible character (U+{ord(found[0]):04X})",
                "remove it: look for an escape like \\x01 or \\u0000 between double quotes",
            )
        return value

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # a list or mapping as a key: no dictionary can hold it
                raise _ValueProblem(
                    key_node.start_mark,
                    "a key here is a list or a group of keys",
                    "a key is a word followed by a colon, like 'title:'",
                ) from None
            if first is not None:
                message = f"the key '{shown(key)}' is written twice (first on line {first + 1})"
                raise yaml.constructor.ConstructorError(None, None, message, key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def _value_problem(node) -> tuple[str, str]:
    if node.tag.endswith(":timestamp"):
        return f"'{shown(node.value)}' is not a date on the calendar", CALENDAR_HINT
    return (f"the number '{shown(node.value)}' is too long", "check it for extra digits")


class YamlDocument:
    """Loaded YAML that still knows on which line each top-level key and list item stood."""

    def __init__(self, data: Any, node: yaml.Node | None, path: Path, first_line: int):
        self.data = data
        self.path = path
        self._node = node
        self._first_line = first_line

    def line_of(self, key: Any = None) -> int:
        """The 1-based line of a top-level key (of the document when None or absent)."""
        node = self._value_node(key, want_key=True)
        return self._first_line + (node.start_mark.line if node is not None else 0)

    def item_lines(self, key: str | None = None) -> list[int]:
        """The lines of the items of a list under a top-level key (or of the document's list)."""
        node = self._node if key is None else self._value_node(key, want_key=False)
        if not isinstance(node, yaml.SequenceNode):
            return []
        return [self._first_line + item.start_mark.line for item in node.value]

    def key_lines(self, key: str, item: int | None = None) -> dict[str, int]:
        """The line of each key of the mapping under a top-level key, or of that list's item'th
        entry: where a value inside an entry is wrong, not only where the entry starts."""
        node = self._value_node(key, want_key=False)
        if item is not None:
            listed = isinstance(node, yaml.SequenceNode) and item < len(node.value)
            node = node.value[item] if listed else None
        if not isinstance(node, yaml.MappingNode):
            return {}
        return {
            inner.value: self._first_line + inner.start_mark.line
            for inner, _ in node.value
            if isinstance(inner, yaml.ScalarNode)
        }

    def items(self, key: str | None = None) -> list[tuple[Any, int]]:
        """(item, line) of each item of the list under a top-level key (or of the document's)."""
        value = self.data if key is None else self.get(key)
        if not isinstance(value, list):
            return []
        return list(zip(value, self.item_lines(key), strict=False))

    def get(self, key: str, default: Any = None) -> Any:
        """The value of a top-level key, when the document is a mapping."""
        return self.data.get(key, default) if isinstance(self.data, dict) else default

    def error(self, key: Any, message: str, hint: str | None = None) -> BookError:
        return BookError(self.path, self.line_of(key), message, hint)

    def _value_node(self, key, want_key):
        if key is None or not isinstance(self._node, yaml.MappingNode):
            return None
        for key_node, value_node in self._node.value:
            # Keys are compared as written: a key 2 (a number) was written '2'.
            if isinstance(key_node, yaml.ScalarNode) and key_node.value in (key, str(key)):
                return key_node if want_key else value_node
        return None


def load_yaml(text: str, path: Path, first_line: int = 1) -> YamlDocument:
    """Parse YAML safely; errors carry the line in the file, not in the fragment."""
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _ValueProblem as problem:
        line = first_line + problem.mark.line
        raise BookError(path, line, problem.message, problem.hint) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        reason = getattr(error, "problem", None) or str(error)
        raise BookError(
            path,
            line,
            f"this YAML cannot be read: {reason}",
            "check the indentation and the colon after each key; quote text that contains ': ' "
            "or starts with a special character",
        ) from None
    finally:
        loader.dispose()
    return YamlDocument(data, node, path, first_line)


# --- values a teacher wrote, checked and quoted in messages ------------------------------------


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value as a message quotes it: on one line, and cut short if long."""
    if value is None or isinstance(value, bool):
        text = "null" if value is None else str(value).lower()  # as YAML writes them
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(value: Any) -> str:
    """What a value is, in a teacher's words: 'a list', 'the number 12', 'nothing'."""
    if isinstance(value, bool):
        return f"the yes-or-no value {shown(value)}"
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a group of keys"
    if isinstance(value, (set, tuple, bytes)):  # YAML's !!set, !!pairs and !!binary
        return {set: "a set", tuple: "a list of pairs"}.get(type(value), "binary data")
    if isinstance(value, (int, float)):
        return f"the number {shown(value)}"
    if isinstance(value, datetime.datetime):
        return f"the date and time {value}"
    if isinstance(value, datetime.date):
        return f"the date {value}"
    return f"'{shown(value)}'"


def text_problem(key: str, value: Any) -> tuple[str, str] | None:
    """(message, hint) saying why value cannot be the text under key; None if it can."""
    if isinstance(value, str) and value.strip():
        return None
    if value is None or isinstance(value, str):
        return (
            f"'{key}' is empty",
            f"write the text after '{key}:', "
            "or '>-' there and the text indented on the lines below",
        )
    if isinstance(value, bool):
        return (
            f"'{key}' should be text, not {describe(value)}",
            "YAML reads yes/no/on/off/true/false as a yes-or-no value: put the text in quotes, "
            f'e.g. {key}: "{"no" if value is False else "yes"}"',
        )
    if not isinstance(value, (int, float, datetime.date)):
        return (
            f"'{key}' should be text, not {describe(value)}",
            f"write the text after '{key}:' on one line, in quotes if it starts with [ or {{ "
            "or holds ': '; for several lines write '>-' and indent the text below",
        )
    return (
        f"'{key}' should be text, not {describe(value)}",
        f'put the text in quotes, e.g. {key}: "{shown(value)}"',
    )


def unknown_key(key: Any, allowed) -> tuple[str, str]:
    """(message, hint) for a key the file does not use, naming the closest known key."""
    hint = did_you_mean(key, allowed) or f"the keys are: {', '.join(map(str, allowed))}"
    return f"unknown key '{shown(key)}'", hint


def is_plain_name(name: str, suffixes: tuple[str, ...]) -> bool:
    """Whether name is a file's own name (no folder) ending in one of the suffixes."""
    own_name = Path(name).name == name and "\\" not in name and not name.startswith(".")
    return own_name and name.lower().endswith(suffixes)


#: How alike two words must be (difflib's ratio) for one to be taken for a misspelling of the
#: other. difflib's own 0.6 names words that merely share letters: 'caption' for 'description'.
CLOSE_RATIO = 0.8


def did_you_mean(word: str, choices) -> str | None:
    """A hint naming the known word that word is most likely a misspelling of, if any.

    A misspelling is as alike as CLOSE_RATIO ('short_titel', 'short_title'), or, in a short
    word that ratio is too strict for, one letter changed, added, left out or swapped
    ('trem', 'term').
    """
    word, choices = str(word), [str(choice) for choice in choices]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=CLOSE_RATIO)
    close = close or [choice for choice in choices if len(word) >= 3 and _one_slip(word, choice)]
    return f"did you mean '{shown(close[0])}'?" if close else None


def _one_slip(word: str, other: str) -> bool:
    """Whether other is word with one letter changed, added, left out, or two next ones swapped."""
    if word == other or abs(len(word) - len(other)) > 1:
        return False
    start = next(
        (i for i, pair in enumerate(zip(word, other, strict=False)) if pair[0] != pair[1]),
        min(len(word), len(other)),
    )
    rest, other_rest = word[start:], other[start:]
    return (
        rest[1:] == other_rest[1:]
        or rest[1:] == other_rest
        or rest == other_rest[1:]
        or (rest[:2] == other_rest[1::-1] and rest[2:] == other_rest[2:])
    )


#: A picture in Markdown: ![alt](src "title").
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*<?(?P<src>[^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")


def local_path(url: str, chapter: Path, root: Path) -> Path:
    """The file a path names: from the chapter's folder, or from the project's when it starts
    with one '/', as a website's pages name their pictures (/assets/images/map.png)."""
    if url.startswith("/") and not url.startswith("//"):
        return (root / url.lstrip("/")).resolve()
    return (chapter.parent / url).resolve()


def numbered_lines(text: str, first_line: int) -> Iterator[tuple[int, str]]:
    """Each line of text with its line number in the file, the first being first_line."""
    return enumerate(text.split("\n"), start=first_line)
