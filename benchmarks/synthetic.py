"""Synthetic books for the benchmark: the real chapters copied N times, each copy distinct.

Every copy gets its own chapter titles and section headings (so the contents grows) and a
hidden index mark under each section (so the index grows too).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml


def make_book(source: Path, target: Path, copies: int) -> Path:
    """A project under target whose chapters are the source's, copies times over."""
    if target.exists():
        shutil.rmtree(target)
    for folder in ("layout", "assets"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, target / folder)
    chapters = target / "chapters"
    chapters.mkdir(parents=True)
    for path in (source / "chapters").glob("*.yml"):
        shutil.copy(path, chapters / path.name)
    book = yaml.safe_load((source / "chapters" / "book.yml").read_text())
    listed = []
    for copy in range(1, copies + 1):
        for name in book["chapters"]:
            text = (source / "chapters" / name).read_text()
            new_name = name if copy == 1 else f"{Path(name).stem}-{copy}.md"
            (chapters / new_name).write_text(text if copy == 1 else _distinct(text, copy))
            listed.append(new_name)
    book["chapters"] = listed
    (chapters / "book.yml").write_text(yaml.safe_dump(book, allow_unicode=True, sort_keys=False))
    return target


def _distinct(text: str, copy: int) -> str:
    text = re.sub(
        r"^title: (.*)$",
        lambda m: f'title: "{m[1].strip(chr(34))} ({copy})"',
        text,
        count=1,
        flags=re.M,
    )
    text = re.sub(r"\{#([\w-]+)\}", lambda m: "{#" + f"{m[1]}-{copy}" + "}", text)
    text = re.sub(r"\{@([\w-]+)\}", "", text)  # references point at the first copy's figures only
    text = re.sub(
        r"!\[[^\]]*\]\([^)]*\.ya?ml[^)]*\)", "", text
    )  # figures drawn once, in the first copy
    return re.sub(
        r"^(## )(.+)$",
        lambda m: f"{m[1]}{m[2]} ({copy}){{^Section {copy}: {m[2]}}}",
        text,
        flags=re.M,
    )
