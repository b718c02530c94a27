"""Pictures from files as numbered figures: their credits, the Markdown that marks them, and
the list of credits a credits page is made from."""

from __future__ import annotations

import html as htmllib
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from pathlib import Path

from markdown import Extension
from markdown.treeprocessors import Treeprocessor

from .errors import BookError, raise_all, warn
from .sources import (
    IMAGE,
    URL_SCHEME,
    is_file,
    load_yaml,
    local_path,
    read_text,
    text_problem,
    unknown_key,
)

#: The keys of a picture's credit file (assets/NAME.yml beside assets/NAME.jpg).
CREDIT_KEYS = ("creator", "source", "licence", "url")
REQUIRED_CREDIT_KEYS = ("creator", "source", "licence")
#: The line after a picture that credits it: "Credit: Creator, Source, Licence".
CREDIT_LINE = re.compile(r"^\s*Credit:[ \t]*", re.IGNORECASE)
#: A picture figure as render writes it (layout/_picture.html): the contract a credits
#: page reads, with picture_credits below.
PICTURE_FIGURE = re.compile(
    r'<figure class="picture" id="(?P<id>[^"]*)" data-credit="(?P<credit>[^"]*)"[^>]*>'
    r'.*?<span class="figure-label">(?P<label>[^<]*?)\.?</span>',
    re.DOTALL,
)
PICTURE_CLASS = "picture"  # of the paragraph the Markdown stage marks, and of the figure
CREDIT_CLASS = "credit"


@dataclass(frozen=True)
class Credit:
    """Who made a picture, where it was found, and the licence it is printed under."""

    creator: str
    source: str
    licence: str
    url: str = ""

    @property
    def text(self) -> str:
        """The credit as printed: 'Creator, Source, Licence'."""
        return ", ".join(part for part in (self.creator, self.source, self.licence) if part)


def picture_credits(html: str) -> list[tuple[str, str, str]]:
    """(figure id, "Figure N", credit as plain text) of each picture figure, in reading order.

    html is any HTML the render stage made: a chapter, a section, the whole book. A picture
    without a credit is listed with an empty credit.
    """
    return [
        (
            htmllib.unescape(match["id"]),
            htmllib.unescape(match["label"]).strip(),
            htmllib.unescape(match["credit"]),
        )
        for match in PICTURE_FIGURE.finditer(html)
    ]


def credit_file(picture: Path) -> Path:
    """The credit file of a picture: its name with .yml (assets/solovki.jpg: assets/solovki.yml)."""
    return picture.with_suffix(".yml")


def load_credit(path: Path) -> Credit:
    """A picture's credit file, checked: each problem with its line."""
    document = load_yaml(read_text(path), path)
    if not isinstance(document.data, dict):
        raise document.error(
            None,
            "a picture's credit file holds the keys creator, source and licence",
            "write, e.g.: creator: Unknown photographer / source: Wikimedia Commons / "
            "licence: Public domain, each on a line of its own",
        )
    errors = [
        document.error(key, *unknown_key(key, CREDIT_KEYS))
        for key in document.data
        if key not in CREDIT_KEYS
    ]
    for key in CREDIT_KEYS:
        value = document.data.get(key)
        if key not in document.data and key in REQUIRED_CREDIT_KEYS:
            errors.append(
                document.error(
                    None, f"the credit has no '{key}'", f"add a line '{key}: …' ({_KEY_HINTS[key]})"
                )
            )
        elif key in document.data and (problem := text_problem(key, value)):
            errors.append(document.error(key, *problem))
    raise_all(errors)
    return Credit(*(" ".join(str(document.data.get(key, "")).split()) for key in CREDIT_KEYS))


_KEY_HINTS = {
    "creator": "who took or drew it; 'Unknown photographer' if no one knows",
    "source": "where it was found: an archive, a book, a website",
    "licence": "what allows it to be printed: 'Public domain', 'CC BY-SA 4.0'",
}


def check_credit_files(body: str, body_line: int, path: Path, root: Path) -> None:
    """Every credit file beside a picture the chapter shows can be read (load stage)."""
    errors, seen = [], set()
    for line in body.split("\n"):
        for match in IMAGE.finditer(line):
            if match["src"].lower().endswith((".yml", ".yaml")):
                continue  # a figure drawn from data, not a picture
            credits = credit_file(local_path(match["src"], path, root))
            if credits not in seen and is_file(credits):
                seen.add(credits)
                try:
                    load_credit(credits)
                except BookError as error:
                    errors.append(error)
    raise_all(errors)


#: A picture in Markdown, and the {#id} an attribute list right after it gives it.
PICTURE_NAME = re.compile(
    r"!\[[^\]]*\]\(\s*<?(?P<src>[^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)"
    r"(?:\{[^}\n]*#(?P<id>[A-Za-z][\w-]*)[^}\n]*\})?"
)


def reference_names(body: str) -> set[str]:
    """The names a {@name} may give a picture (its file's stem, its {#id}) or a source box."""
    from .extensions import SOURCE_START

    names = set()
    for line in body.split("\n"):
        if (opening := SOURCE_START.match(line)) and opening["id"]:
            names.add(opening["id"])
        for match in PICTURE_NAME.finditer(line):
            if not match["src"].lower().endswith((".yml", ".yaml")):
                names.add(match["id"] or Path(match["src"]).stem)
                names.add(Path(match["src"]).stem)
    return names


def credit_of(picture: Path | None) -> Credit | None:
    """The credit in the picture's credit file, if it has one (checked at load)."""
    if picture is None or not is_file(credit_file(picture)):
        return None
    return load_credit(credit_file(picture))


def warn_uncredited(path: Path, line: int | None, src: str) -> None:
    warn(
        path,
        line,
        f"the picture '{src}' has no credit: say who made it, where it is from "
        "and under which licence it is printed",
        f"write a line 'Credit: Creator, Source, Licence' right below the picture, or a file "
        f"{Path(src).stem}.yml beside it in assets/ with creator:, source: and licence:",
    )


# --- The Markdown stage: a picture alone in its paragraph ----------------------------------------


class PictureFigureTreeprocessor(Treeprocessor):
    """Marks a paragraph that holds one picture of assets/ and nothing else (but a line
    'Credit: …' below it) as ``<p class="picture">``, the credit in ``<span class="credit">``.

    Render makes it a numbered figure with its caption (the picture's title) and credit.
    A picture in a sentence stays where it is; one in a <figure> of raw HTML has its
    caption already.
    """

    def run(self, root):
        parents = {child: parent for parent in root.iter() for child in parent}
        for paragraph in list(root.iter("p")):
            if parents.get(paragraph) is not None and parents[paragraph].tag == "figure":
                continue
            if _alone_with_its_credit(paragraph):
                _mark(paragraph)


def _alone_with_its_credit(paragraph) -> bool:
    children = list(paragraph)
    if (paragraph.text or "").strip() or not children or children[0].tag != "img":
        return False
    src = children[0].get("src", "")
    if URL_SCHEME.match(src) or src.lower().endswith((".yml", ".yaml")):
        return False
    tail = children[0].tail or ""
    return (not tail.strip() and len(children) == 1) or bool(CREDIT_LINE.match(tail))


def _mark(paragraph) -> None:
    picture, *credit_parts = list(paragraph)
    paragraph.set("class", PICTURE_CLASS)
    tail = picture.tail or ""
    picture.tail = None
    if not tail.strip() and not credit_parts:
        return
    credit = etree.SubElement(paragraph, "span", {"class": CREDIT_CLASS})
    credit.text = CREDIT_LINE.sub("", tail, count=1)
    for part in credit_parts:
        paragraph.remove(part)
        credit.append(part)
    if len(credit):
        credit[-1].tail = (credit[-1].tail or "").rstrip()
    else:
        credit.text = credit.text.rstrip()


class PictureFigureExtension(Extension):
    def extendMarkdown(self, md):
        # After the inline patterns (20), which make the <img>, and attribute lists (8), which
        # give it its {#id}; before the index terms (7), which would mark words of a credit.
        md.treeprocessors.register(PictureFigureTreeprocessor(md), "picture_figures", 7.5)
