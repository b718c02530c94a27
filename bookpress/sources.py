"""Reading stage helpers: text files and YAML with the line numbers a teacher needs."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from .errors import BookError


MAX_SOURCE = 2 * 1024 * 1024  # bytes: a chapter or data file larger than this is a mistake


def read_text(path: Path) -> str:
    """The file's text, or an error saying what is wrong with its bytes."""
    try:
        if path.stat().st_size > MAX_SOURCE:
            raise BookError(path, None, f"the file is larger than {MAX_SOURCE // 1024 // 1024} MB",
                            "split it, or check that nothing was pasted into it by mistake")
        data = path.read_bytes()
    except FileNotFoundError:
        raise BookError(path, None, "file not found") from None
    if data.startswith(b"\xef\xbb\xbf"):
        raise BookError(path, 1, "the file starts with a byte-order mark",
                        "save it as UTF-8 without BOM (most editors offer 'UTF-8' beside 'UTF-8 with BOM')")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise BookError(path, line, "the file is not UTF-8 text",
                        "save it with the encoding 'UTF-8'") from None
    if not text.strip():
        raise BookError(path, None, "the file is empty")
    return text


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice in one mapping, and aliases.

    No source of the book needs YAML's aliases (*name); refusing them also refuses the
    'billion laughs' file whose aliases expand to gigabytes.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.events.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not used in this book",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is written twice (first on line {seen[key] + 1})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


class YamlDocument:
    """Loaded YAML that still knows on which line each top-level key and list item stood."""

    def __init__(self, data: Any, node: yaml.Node | None, path: Path, first_line: int):
        self.data = data
        self.path = path
        self._node = node
        self._first_line = first_line

    def line_of(self, key: str | None = None) -> int:
        """The 1-based line of a top-level key (of the document when None or absent)."""
        node = self._value_node(key, want_key=True)
        return self._first_line + (node.start_mark.line if node is not None else 0)

    def item_lines(self, key: str | None = None) -> list[int]:
        """The lines of the items of a list under a top-level key (or of the document's list)."""
        node = self._node if key is None else self._value_node(key, want_key=False)
        if not isinstance(node, yaml.SequenceNode):
            return []
        return [self._first_line + item.start_mark.line for item in node.value]

    def error(self, key: str | None, message: str, hint: str | None = None) -> BookError:
        return BookError(self.path, self.line_of(key), message, hint)

    def _value_node(self, key, want_key):
        if key is None or not isinstance(self._node, yaml.MappingNode):
            return None
        for key_node, value_node in self._node.value:
            if key_node.value == key:
                return key_node if want_key else value_node
        return None


def load_yaml(text: str, path: Path, first_line: int = 1) -> YamlDocument:
    """Parse YAML safely; errors carry the line in the file, not in the fragment."""
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(error, "problem", None) or str(error)
        raise BookError(path, line, f"this YAML cannot be read: {problem}",
                        "check the indentation and the colon after each key; quote text that contains ': ' or starts with a special character") from None
    finally:
        loader.dispose()
    return YamlDocument(data, node, path, first_line)


def did_you_mean(word: str, choices) -> str | None:
    """A hint naming the closest known word, if one is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else None
