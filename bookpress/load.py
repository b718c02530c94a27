"""Load stage: read chapters/book.yml, every chapter and data file, and check them all."""

from __future__ import annotations

import datetime
import re
from dataclasses import replace
from pathlib import Path

from .errors import BookError, BookErrors, raise_all, warn
from .extensions import INDEX_MARK
from .figures import CROSS_REFERENCE, FIGURE_IMAGE, load_figure
from .index import load_terms, parse_mark
from .model import Book, BookInfo, ChapterSource
from .sanitize import MAX_DEPTH, depth_after
from .sources import YamlDocument, did_you_mean, load_yaml, read_text

TYPE_NAMES = {str: "text", bool: "yes or no", list: "a list", datetime.date: "a date like 2026-09-01"}

BOOK_KEYS = {  # key: (type, required)
    "title": (str, True), "subtitle": (str, False), "author": (str, True), "lang": (str, True),
    "edition": (str, True), "date": (datetime.date, True), "licence": (str, True),
    "subject": (str, False), "keywords": (list, False), "chapters": (list, True),
}
CHAPTER_KEYS = {
    "title": (str, True), "short_title": (str, False), "numbered": (bool, False),
    "data": (str, False), "template": (str, False), "caption": (str, False),
}
FRONT_MATTER_FENCE = "---"


def load_book(root: Path) -> Book:
    """Read and check every source of the book; report all problems at once."""
    chapters_dir = root / "chapters"
    book_yml = load_yaml(read_text(chapters_dir / "book.yml"), chapters_dir / "book.yml")
    errors: list[BookError] = []
    info = _book_info(book_yml, errors)
    files = _listed_chapter_files(book_yml, chapters_dir, errors)
    terms = _collect(errors, load_terms, chapters_dir) or ()
    chapters = []
    for path in files:
        chapter = _collect(errors, _load_chapter, path, root)
        if chapter is not None:
            chapters.append(chapter)
            _collect(errors, _check_index_marks, chapter, terms)
    _check_unique_names(chapters, book_yml, errors)
    _check_cross_references(chapters, errors)
    raise_all(errors)
    _warn_unlisted(chapters_dir, files)
    return Book(root=root, info=info, chapters=_numbered(chapters), index_terms=terms)


def _check_cross_references(chapters: list[ChapterSource], errors: list[BookError]) -> None:
    """Each {@id} names a figure of the book, or a captioned table (table-<chapter name>)."""
    targets = {match["id"] or Path(match["src"]).stem
               for chapter in chapters for match in FIGURE_IMAGE.finditer(chapter.body)}
    targets |= {f"table-{chapter.slug}" for chapter in chapters if chapter.caption}
    for chapter in chapters:
        for number, line in enumerate(chapter.body.split("\n"), start=chapter.body_line):
            for match in CROSS_REFERENCE.finditer(line):
                if match["id"] not in targets:
                    errors.append(BookError(chapter.path, number, f"{{@{match['id']}}} names no figure",
                                            did_you_mean(match["id"], targets) or "the figures' names are: " + ", ".join(sorted(targets))))


EXPLICIT_ID = re.compile(r"\{[^}\n]*#([A-Za-z][\w:.-]*)[^}\n]*\}")


def _check_unique_names(chapters: list[ChapterSource], book_yml: YamlDocument, errors: list[BookError]) -> None:
    """Two chapters may not share a name (after the number), nor two headings an id written as {#id}."""
    slugs: dict[str, ChapterSource] = {}
    for chapter, line in zip(chapters, book_yml.item_lines("chapters")):
        if chapter.slug in slugs:
            errors.append(BookError(book_yml.path, line,
                                    f"'{chapter.path.name}' and '{slugs[chapter.slug].path.name}' have the same name after the number",
                                    "rename one of the files, e.g. 03-gulag-camps.md"))
        slugs.setdefault(chapter.slug, chapter)
    ids: dict[str, str] = {}
    for chapter in chapters:
        for number, line in enumerate(chapter.body.split("\n"), start=chapter.body_line):
            for name in EXPLICIT_ID.findall(line):
                place = f"{chapter.path.name}:{number}"
                if name in ids:
                    errors.append(BookError(chapter.path, number, f"the id '{name}' is already used at {ids[name]}",
                                            "give each {#id} a name of its own"))
                ids.setdefault(name, place)


def _collect(errors: list[BookError], function, *arguments):
    """Call function; record the problems it raises and go on, to report them all at once."""
    try:
        return function(*arguments)
    except BookError as error:
        errors.append(error)
    except BookErrors as many:
        errors.extend(many.errors)
    return None


# --- book.yml --------------------------------------------------------------------------------

def _book_info(doc: YamlDocument, errors: list[BookError]) -> BookInfo | None:
    values = _checked_mapping(doc, BOOK_KEYS, errors, "chapters/book.yml")
    if values is None:
        return None
    keywords = values.get("keywords", [])
    if not all(isinstance(word, str) for word in keywords):
        errors.append(doc.error("keywords", "every keyword should be text"))
    try:
        return BookInfo(
            title=values["title"], subtitle=values.get("subtitle", ""), author=values["author"],
            lang=values["lang"], edition=values["edition"], date=values["date"],
            licence=values["licence"], subject=values.get("subject", ""),
            keywords=tuple(str(word) for word in keywords))
    except KeyError:
        return None  # a required key is missing: already reported


def _listed_chapter_files(doc: YamlDocument, chapters_dir: Path, errors: list[BookError]) -> list[Path]:
    listed = doc.data.get("chapters") if isinstance(doc.data, dict) else None
    if not isinstance(listed, list):
        return []
    present = sorted(p.name for p in chapters_dir.glob("*.md"))
    files, seen = [], {}
    for name, line in zip(listed, doc.item_lines("chapters")):
        if not isinstance(name, str):
            errors.append(BookError(doc.path, line, "each chapter is a file name, like 02-gulag.md"))
        elif name in seen:
            errors.append(BookError(doc.path, line, f"'{name}' is listed twice (first on line {seen[name]})",
                                    "list each chapter once"))
        elif not (chapters_dir / name).is_file():
            errors.append(BookError(doc.path, line, f"chapter '{name}' is listed but there is no such file in chapters/",
                                    did_you_mean(name, present) or "check the file name"))
        else:
            seen[name] = line
            files.append(chapters_dir / name)
    if not listed:
        errors.append(doc.error("chapters", "the book lists no chapters", "list the chapter files under 'chapters:'"))
    return files


def _warn_unlisted(chapters_dir: Path, files: list[Path]) -> None:
    listed = {path.name for path in files}
    for path in sorted(chapters_dir.glob("*.md")):
        if path.name not in listed:
            warn(path, None, "this chapter is not listed in chapters/book.yml and is left out of the book",
                 "add it under 'chapters:' in book.yml, or remove the file")


# --- chapters --------------------------------------------------------------------------------

def _load_chapter(path: Path, root: Path) -> ChapterSource:
    text = read_text(path)
    front, body, body_line = _split_front_matter(text, path)
    doc = load_yaml(front, path, first_line=2)
    errors: list[BookError] = []
    values = _checked_mapping(doc, CHAPTER_KEYS, errors, "the front matter")
    raise_all(errors)
    for check in (_check_fences, _check_images, check_raw_html):
        _collect(errors, check, body, body_line, path, root)
    raise_all(errors)
    data, data_path = _load_data(values, doc, path) if "data" in values else (None, None)
    if "template" in values and not (root / "layout" / values["template"]).is_file():
        raise doc.error("template", f"there is no template '{values['template']}' in layout/",
                        did_you_mean(values["template"], [p.name for p in (root / "layout").glob("*.html")]))
    if "data" in values and "template" not in values:
        raise doc.error("data", "a data file needs a template to show it", "add 'template:' naming a file in layout/")
    return ChapterSource(
        path=path, slug=_slug(path), title=values["title"],
        running_head=values.get("short_title", values["title"]),
        number=0 if values.get("numbered", True) else None,
        body=body, body_line=body_line, template=values.get("template"), data=data, data_path=data_path,
        caption=values.get("caption"),
        figures=_load_figures(body, body_line, path))


def _split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    lines = text.split("\n")
    if lines[0].strip() != FRONT_MATTER_FENCE:
        raise BookError(path, 1, "the chapter does not start with front matter",
                        "begin the file with a line '---', then 'title: ...', then another line '---'")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == FRONT_MATTER_FENCE:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    raise BookError(path, 1, "the front matter is not closed",
                    "add a line '---' after the last front-matter line")


def _check_fences(body: str, body_line: int, path: Path, root: Path) -> None:
    opened = None
    for number, line in enumerate(body.split("\n"), start=body_line):
        if re.match(r"^:::\s*[A-Za-z]", line):
            if opened is not None:
                raise BookError(path, number, f"a '::: ' box opens inside the box opened on line {opened}",
                                "close the first box with a line ':::' before opening another")
            opened = number
        elif line.strip() == ":::":
            if opened is None:
                raise BookError(path, number, "':::' closes a box that was never opened",
                                "remove this line, or open the box with a line like '::: review'")
            opened = None
    if opened is not None:
        raise BookError(path, opened, "this box is never closed", "add a line ':::' where the box ends")


IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*<?(?P<src>[^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
MAX_IMAGE_PIXELS = 40_000_000  # a 6,000 × 6,000 photograph is ample for print


def _check_images(body: str, body_line: int, path: Path, root: Path) -> None:
    """Every image has alt text and is a file under assets/, of a sane size."""
    errors = []
    for number, line in enumerate(body.split("\n"), start=body_line):
        for match in IMAGE.finditer(line):
            problem = _image_problem(match["alt"], match["src"], path, root)
            if problem:
                errors.append(BookError(path, number, *problem))
    raise_all(errors)


def _load_figures(body: str, body_line: int, path: Path) -> tuple:
    """The data of each figure the chapter draws: ![alt](timeline.yml "Caption")."""
    figures, errors = {}, []
    for number, line in enumerate(body.split("\n"), start=body_line):
        for match in FIGURE_IMAGE.finditer(line):
            if not match["alt"].strip():
                errors.append(BookError(path, number, f"the figure '{match['src']}' has no alt text",
                                        "describe what the figure shows between the brackets"))
            elif not (path.parent / match["src"]).resolve().parent == path.parent.resolve():
                errors.append(BookError(path, number, f"the figure's data '{match['src']}' is not in chapters/"))
            else:
                figure = _collect(errors, load_figure, path.parent / match["src"])
                if figure is not None:
                    figures[match["src"]] = figure
    raise_all(errors)
    return tuple(figures.items())


def _image_problem(alt: str, src: str, chapter: Path, root: Path):
    if FIGURE_IMAGE.fullmatch(f"![{alt}]({src})"):
        return None  # a figure drawn from data, checked by _load_figures
    if not alt.strip():
        return (f"the image '{src}' has no alt text", "describe the picture between the brackets: ![A map of the camps](...)")
    target = (chapter.parent / src).resolve()
    if re.match(r"^[a-z][a-z0-9+.-]*:", src) or not target.is_relative_to((root / "assets").resolve()):
        return (f"the image '{src}' is not a file in assets/", "put the picture in assets/ and write ../assets/NAME")
    if not target.is_file():
        names = [p.name for p in (root / "assets").glob("*")]
        return (f"the image '{src}' does not exist", did_you_mean(target.name, names) or "check the file name in assets/")
    if target.stat().st_size > 20 * 1024 * 1024:
        return (f"the image '{src}' is larger than 20 MB", "save it smaller, at most about 6000 × 6000 pixels")
    if target.suffix.lower() == ".svg":
        return _svg_problem(target, src)
    return _image_size_problem(target, src)


def _svg_problem(target: Path, src: str):
    text = target.read_text(errors="replace")
    for url in FETCHED_URL.findall(text) + LINK_URL.findall(text):
        if not url.startswith("#"):
            return (f"the picture '{src}' refers to another file ({url[:60]})", "save the picture with everything embedded in it")
    return None


def _image_size_problem(target: Path, src: str):
    from PIL import Image  # installed with WeasyPrint; only needed when a chapter has images
    try:
        with Image.open(target) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        return (f"the image '{src}' is too large to print", "scale it down to at most about 6000 × 6000 pixels")
    except Exception:
        if target.suffix.lower() == ".svg":
            return None
        return (f"the image '{src}' cannot be read as a picture", "save it again as PNG or JPEG")
    if width * height > MAX_IMAGE_PIXELS:
        return (f"the image '{src}' is {width} × {height} pixels, too large to print",
                "scale it down to at most about 6000 × 6000 pixels")
    return None


# --- raw HTML and attribute lists -----------------------------------------------------------

FORBIDDEN_TAG = re.compile(r"<\s*(script|iframe|object|embed|base|link|style|meta|form|svg|math|frame|frameset|applet)\b",
                           re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\bon[a-z]+\s*=", re.IGNORECASE)
ATTACHMENT = re.compile(r"\brel\s*=\s*[\"']?[^\"'>}]*\battachment", re.IGNORECASE)
FETCHED_URL = re.compile(r"(?:\b(?:src|xlink:href|poster|data)\s*=\s*[\"']?|url\(\s*[\"']?)([^\"'\s>)}]+)", re.IGNORECASE)
LINK_URL = re.compile(r"\bhref\s*=\s*[\"']?([^\"'\s>}]+)", re.IGNORECASE)
def check_raw_html(body: str, body_line: int, path: Path, root: Path) -> None:
    """Raw HTML and attribute lists may not fetch, embed or run anything, nor nest without end.

    The rendered HTML is also cleaned against an allow-list; this check names the line, so
    that a teacher learns what was refused instead of finding it silently missing.
    """
    errors, depth = [], 0
    for number, line in enumerate(body.split("\n"), start=body_line):
        problem = _raw_html_problem(line, path, root)
        if problem:
            errors.append(BookError(path, number, *problem))
        depth, deepest = depth_after(line, depth)
        if deepest > MAX_DEPTH:
            errors.append(BookError(path, number, f"the HTML here is nested more than {MAX_DEPTH} elements deep",
                                    "remove the nested <div> or list levels"))
            break
    raise_all(errors)


def _raw_html_problem(line: str, chapter: Path, root: Path):
    if match := FORBIDDEN_TAG.search(line):
        return (f"<{match.group(1).lower()}> is not allowed in a chapter", "remove it: the book prints text, pictures and tables only")
    if EVENT_HANDLER.search(line) and "<" in line:
        return ("scripts (on...= attributes) are not allowed in a chapter", "remove the attribute")
    if ATTACHMENT.search(line):
        return ("attachments (rel=attachment) are not allowed in a chapter", "remove the attribute; link to a web page instead")
    for url in FETCHED_URL.findall(line):
        if not _is_asset(url, chapter, root):
            return (f"'{url[:80]}' is not a file in assets/", "put the file in assets/ and write ../assets/NAME")
    for url in LINK_URL.findall(line):
        if not (url.startswith(("#", "http://", "https://", "mailto:")) or _is_asset(url, chapter, root)):
            return (f"the link '{url[:80]}' points outside the book", "link to a web page (https://…) or to a heading (#id)")
    return None


def _is_asset(url: str, chapter: Path, root: Path) -> bool:
    if url.startswith("data:"):
        return len(url) < 256 * 1024
    if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.IGNORECASE) or url.startswith(("/", "\\")):
        return False
    return (chapter.parent / url).resolve().is_relative_to((root / "assets").resolve())


def _check_index_marks(chapter: ChapterSource, terms) -> None:
    """Index marks name a heading; a heading that only points elsewhere ('see') takes no marks."""
    pointers = {term.heading: term.see for term in terms if term.see}
    errors = []
    for number, line in enumerate(chapter.body.split("\n"), start=chapter.body_line):
        for match in re.finditer(INDEX_MARK, line):
            target = match.group("target") if match.group("text") is not None else match.group("hidden")
            heading, _ = parse_mark(target.strip() or (match.group("text") or ""))
            if not heading:
                errors.append(BookError(chapter.path, number, f"the index mark '{match.group(0)}' names no term",
                                        "write the term after the ^, like {^Great Purge}"))
            elif heading in pointers:
                errors.append(BookError(chapter.path, number,
                                        f"'{heading}' only points to '{pointers[heading]}' in the index (see), so nothing can be indexed under it",
                                        f"index it under '{pointers[heading]}': {{^{pointers[heading]}}}"))
    raise_all(errors)


def _load_data(values: dict, doc: YamlDocument, path: Path):
    data_path = path.parent / values["data"]
    if not data_path.is_file():
        raise doc.error("data", f"the data file '{values['data']}' is not in chapters/",
                        did_you_mean(values["data"], [p.name for p in path.parent.glob("*.y*ml")]))
    data = load_yaml(read_text(data_path), data_path).data
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise BookError(data_path, 1, "the data file should be a list of entries, each starting with '- '")
    return data, data_path


def _slug(path: Path) -> str:
    return re.sub(r"^\d+[-_ ]*", "", path.stem) or path.stem


def _numbered(chapters: list[ChapterSource]) -> tuple[ChapterSource, ...]:
    numbered, counter = [], 0
    for chapter in chapters:
        if chapter.number is not None:
            counter += 1
            chapter = replace(chapter, number=counter)
        numbered.append(chapter)
    return tuple(numbered)


# --- shared checks ---------------------------------------------------------------------------

def _checked_mapping(doc: YamlDocument, schema: dict, errors: list[BookError], what: str) -> dict | None:
    """The mapping's values after checking keys and types against the schema."""
    if not isinstance(doc.data, dict):
        errors.append(doc.error(None, f"{what} should be a list of 'key: value' lines"))
        return None
    for key in doc.data:
        if key not in schema:
            errors.append(doc.error(key, f"unknown key '{key}'", did_you_mean(str(key), schema) or
                                    f"the keys are: {', '.join(schema)}"))
    for key, (kind, required) in schema.items():
        if key not in doc.data:
            if required:
                errors.append(doc.error(None, f"the key '{key}' is missing", f"add a line '{key}: ...'"))
            continue
        value = doc.data[key]
        if kind is datetime.date and isinstance(value, str):
            value = _parse_date(value)
            doc.data[key] = value
        if not isinstance(value, kind) or (kind is str and not value.strip()):
            errors.append(doc.error(key, _type_message(key, kind, value), _type_hint(key, kind, value)))
    return doc.data


def _parse_date(text: str):
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        return text


def _type_message(key, kind, value) -> str:
    if kind is str and isinstance(value, str):
        return f"'{key}' is empty"
    return f"'{key}' should be {TYPE_NAMES[kind]}, not {_describe(value)}"


def _type_hint(key, kind, value) -> str | None:
    if kind is str and isinstance(value, bool):
        return f"YAML reads yes/no/on/off/true/false as a yes-or-no value: put the text in quotes, e.g. {key}: \"{'no' if value is False else 'yes'}\""
    if kind is str and value is not None:
        return f"put the text in quotes, e.g. {key}: \"{value}\""
    if kind is datetime.date:
        return f"write the date as year-month-day, e.g. {key}: 2026-09-01"
    if kind is bool:
        return f"write {key}: true or {key}: false"
    return None


def _describe(value) -> str:
    if isinstance(value, bool):
        return f"the yes-or-no value {str(value).lower()}"
    if value is None:
        return "nothing"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a group of keys"
    return f"'{value}'"
