"""Load stage: read chapters/book.yml, every chapter and data file, and check them all."""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import replace
from pathlib import Path

import jinja2
import jinja2.nodes
from markdown.extensions.fenced_code import FencedBlockPreprocessor
from markdown.inlinepatterns import BACKTICK_RE, BacktickInlineProcessor

from .errors import BookError, BookErrors, raise_all, warn
from .extensions import FOOTNOTE_CALL, FOOTNOTE_DEFINITION, INDEX_MARK, check_source_boxes
from .figures import CROSS_REFERENCE, FIGURE_IMAGE, load_figure
from .fonts import check_characters
from .imprint import KNOWN_LICENCES, licence_kind
from .index import load_terms, parse_mark
from .model import BOOKLET_SHEETS, WEB_LINK_FORMS, Book, BookInfo, ChapterSource
from .pictures import check_credit_files, reference_names
from .sanitize import MAX_DEPTH, depth_after, html_elements
from .sources import (
    CALENDAR_HINT,
    IMAGE,
    MAX_DATA_URL,
    MAX_FILE,
    URL_SCHEME,
    YamlDocument,
    describe,
    did_you_mean,
    is_file,
    is_plain_name,
    load_yaml,
    local_path,
    numbered_lines,
    read_text,
    shown,
    text_problem,
    unknown_key,
)

TYPE_NAMES = {
    str: "text",
    bool: "yes or no",
    list: "a list",
    datetime.date: "a date like 2026-09-01",
    float: "a number",
}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The build stamps the PDF and its fonts with the book's date, as time counted from 1970.
EARLIEST_DATE = datetime.date(1970, 1, 1)
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")  # en, en-GB, sr-Latn

BOOK_KEYS = {  # key: (type, required)
    "title": (str, True),
    "subtitle": (str, False),
    "author": (str, True),
    "lang": (str, True),
    "edition": (str, True),
    "date": (datetime.date, True),
    "licence": (str, True),
    "subject": (str, False),
    "keywords": (list, False),
    "chapters": (list, True),
    "series": (str, False),
    "attribution": (str, False),
    "web_links": (str, False),
    "target_grade": (float, False),
    "booklet_sheets": (float, False),
}
CHAPTER_KEYS = {
    "title": (str, True),
    "short_title": (str, False),
    "numbered": (bool, False),
    "data": (str, False),
    "template": (str, False),
    "caption": (str, False),
}
FRONT_MATTER_FENCE = "---"
#: Front-matter keys of the tools that publish chapters as web pages (Jekyll, Hugo, MkDocs,
#: Docusaurus, mdBook's front-matter plugins, Pandoc): a chapter brought in from a course
#: website keeps them, and the book has no use for them. Compared in lower case.
WEBSITE_KEYS = frozenset(
    [
        "layout",
        "permalink",
        "published",
        "date",
        "category",
        "categories",
        "tags",
        "excerpt",
        "excerpt_separator",
        "author",
        "authors",
        "description",
        "image",
        "images",
        "redirect_from",
        "redirect_to",
        "sitemap",
        "last_modified_at",
        "comments",
        "share",
        "related",
        "toc",
        "toc_label",
        "toc_icon",
        "toc_sticky",
        "sidebar",
        "header",
        "classes",
        "read_time",
        "nav_order",
        "nav_exclude",
        "nav_title",
        "parent",
        "grand_parent",
        "has_children",
        "has_toc",
        "search_exclude",
        "lang",
        "math",
        "mathjax",
        "seo",
        "show_date",
        "feature_image",
        "slug",
        "aliases",
        "weight",
        "draft",
        "type",
        "url",
        "linktitle",
        "summary",
        "keywords",
        "series",
        "lastmod",
        "publishdate",
        "expirydate",
        "menu",
        "markup",
        "outputs",
        "resources",
        "cascade",
        "headless",
        "build",
        "translationkey",
        "iscjklanguage",
        "showtoc",
        "tocopen",
        "hidemeta",
        "cover",
        "bookcollapsesection",
        "bookflatsection",
        "bookhidden",
        "booktoc",
        "bookcomments",
        "booksearchexclude",
        "id",
        "sidebar_label",
        "sidebar_position",
        "sidebar_class_name",
        "hide_title",
        "hide_table_of_contents",
        "pagination_label",
        "pagination_next",
        "pagination_prev",
        "custom_edit_url",
        "displayed_sidebar",
        "last_update",
        "unlisted",
        "hide",
        "search",
        "status",
        "icon",
        "subtitle",
        "abstract",
        "output",
        "format",
        "bibliography",
        "csl",
        "created",
        "updated",
        "modified",
        "cssclass",
        "cssclasses",
        "publish",
        "order",
        "thumbnail",
        "canonical_url",
    ]
)


def load_book(root: Path) -> Book:
    """Read and check every source of the book; report all problems at once."""
    chapters_dir = root / "chapters"
    book_yml = load_yaml(read_text(chapters_dir / "book.yml"), chapters_dir / "book.yml")
    errors: list[BookError] = []
    info = _book_info(book_yml, errors)
    files = _listed_chapter_files(book_yml, chapters_dir, errors)
    terms = _collect(errors, load_terms, chapters_dir) or ()
    chapters, listed_lines = [], []
    website_keys: list[tuple[Path, int, str]] = []
    for path, line in files:
        chapter = _collect(errors, _load_chapter, path, root, website_keys)
        if chapter is not None:
            chapters.append(chapter)
            listed_lines.append(line)  # its own line: a chapter left out shifts no other
            _collect(errors, _check_index_marks, chapter, terms)
            _collect(errors, _check_footnote_calls, chapter)
    _warn_website_keys(website_keys)
    _check_unique_names(chapters, listed_lines, book_yml.path, errors)
    _check_cross_references(chapters, errors)
    chapters = _with_key_dates(chapters, errors)
    raise_all(errors)
    _warn_unlisted(chapters_dir, [path for path, _ in files])
    check_characters(root, chapters)
    assert info is not None  # else raise_all raised its problems
    return Book(root=root, info=info, chapters=_numbered(chapters), index_terms=terms)


def _with_key_dates(chapters: list[ChapterSource], errors: list[BookError]) -> list[ChapterSource]:
    """Each chapter with the events of the book's timelines tagged with its name, in date order.

    The book's timelines are the data files of kind timeline its chapters draw as figures:
    the chronology the reader sees and the chapters' key dates come from the same lines.
    """
    timelines = {
        figure.path: figure
        for chapter in chapters
        for _, figure in chapter.figures
        if figure.kind == "timeline"
    }  # a timeline drawn twice is read once
    names = [chapter.slug for chapter in chapters]
    tagged: dict[str, list] = {}
    for path, event in (
        (timeline, event) for timeline in sorted(timelines) for event in timelines[timeline].events
    ):
        for name in event.chapters:
            if name in names:
                tagged.setdefault(name, []).append(event)
            else:
                errors.append(
                    BookError(
                        path,
                        event.line,
                        f"the event's 'chapters' names '{shown(name)}', "
                        "but the book has no chapter of that name",
                        did_you_mean(name, names)
                        or "name a chapter by its file name "
                        f"without the number and .md: {', '.join(names)}",
                    )
                )
    return [
        replace(
            chapter, key_dates=tuple(sorted(tagged[chapter.slug], key=lambda event: event.sort))
        )
        if chapter.slug in tagged
        else chapter
        for chapter in chapters
    ]


def _check_cross_references(chapters: list[ChapterSource], errors: list[BookError]) -> None:
    """Each {@id} names a figure of the book, or a captioned table (table-<chapter name>)."""
    targets = {
        match["id"] or Path(match["src"]).stem
        for chapter in chapters
        for match in FIGURE_IMAGE.finditer(without_code(chapter.body))
    }
    targets |= {f"table-{chapter.slug}" for chapter in chapters if chapter.caption}
    targets |= {
        name for chapter in chapters for name in reference_names(without_code(chapter.body))
    }
    for chapter in chapters:
        for path, number, line in _markdown_lines(chapter):
            for match in CROSS_REFERENCE.finditer(line):
                if match["id"] not in targets:
                    errors.append(
                        BookError(
                            path,
                            number,
                            f"{{@{match['id']}}} names no figure",
                            did_you_mean(match["id"], targets)
                            or "the figures' names are: " + ", ".join(sorted(targets)),
                        )
                    )


def _markdown_lines(chapter: ChapterSource) -> list[tuple[Path, int, str]]:
    """(file, line, text) of each line of Markdown the chapter renders: body, caption and data.

    A data entry's text is given the entry's line; the data file is read again for them,
    as the entries keep none.
    """
    body = numbered_lines(without_code(chapter.body), chapter.body_line)
    lines = [(chapter.path, number, line) for number, line in body]
    if chapter.caption:
        front = read_text(chapter.path).split("\n")[: chapter.body_line]
        number = next((i for i, text in enumerate(front, 1) if text.startswith("caption:")), 1)
        caption = without_code(chapter.caption).split("\n")
        lines += [(chapter.path, number, line) for line in caption]
    if chapter.data_path is not None:
        entry_lines = load_yaml(read_text(chapter.data_path), chapter.data_path).item_lines()
        lines += [
            (chapter.data_path, number, line)
            for entry, number in zip(chapter.data, entry_lines, strict=False)
            for text in entry.values()
            for line in without_code(text).split("\n")
        ]
    return lines


EXPLICIT_ID = re.compile(r"\{[^}\n]*#([A-Za-z][\w:.-]*)[^}\n]*\}")


def _check_unique_names(
    chapters: list[ChapterSource], lines: list[int], book_yml: Path, errors: list[BookError]
) -> None:
    """Two chapters may not share a name (after the number), nor two headings an id ({#id}).

    lines holds the line of book.yml that lists each chapter.
    """
    slugs: dict[str, ChapterSource] = {}
    for chapter, line in zip(chapters, lines, strict=True):
        if chapter.slug in slugs:
            errors.append(
                BookError(
                    book_yml,
                    line,
                    f"'{chapter.path.name}' and '{slugs[chapter.slug].path.name}' have the same "
                    "name after the number",
                    "rename one of the files, e.g. 03-gulag-camps.md",
                )
            )
        slugs.setdefault(chapter.slug, chapter)
    ids: dict[str, str] = {}
    for chapter in chapters:
        prose = without_code(chapter.body).split("\n")
        for number, text in enumerate(prose, start=chapter.body_line):
            for name in EXPLICIT_ID.findall(text):
                place = f"{chapter.path.name}:{number}"
                if name in ids:
                    errors.append(
                        BookError(
                            chapter.path,
                            number,
                            f"the id '{name}' is already used at {ids[name]}",
                            "give each {#id} a name of its own",
                        )
                    )
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
    errors.extend(_book_value_problems(doc, values))
    _warn_unknown_licence(doc, values.get("licence"))
    errors.extend(_web_links_problems(doc, values.get("web_links")))
    keywords = values.get("keywords")
    try:
        return BookInfo(
            title=values["title"],
            subtitle=values.get("subtitle", ""),
            author=values["author"],
            lang=values["lang"],
            edition=values["edition"],
            date=values["date"],
            licence=values["licence"],
            subject=values.get("subject", ""),
            keywords=tuple(keywords) if isinstance(keywords, list) else (),
            series=values.get("series", ""),
            attribution=values.get("attribution", ""),
            web_links=str(values.get("web_links", WEB_LINK_FORMS[0])).strip(),
            target_grade=_target_grade(doc, values.get("target_grade"), errors),
            booklet_sheets=_booklet_sheets(doc, values.get("booklet_sheets"), errors),
        )
    except KeyError:
        return None  # a required key is missing: already reported


def _target_grade(doc: YamlDocument, grade, errors: list[BookError]) -> float | None:
    """A school grade the text should not read above: 1 (the first year) to 18 (graduate)."""
    if not isinstance(grade, float):
        return None  # absent, or not a number: the type check said so
    if not 1 <= grade <= 18:
        errors.append(
            doc.error(
                "target_grade",
                f"target_grade {grade:g} is not a school grade",
                "write a grade from 1 to 18, e.g. target_grade: 9 for pupils of 14 to 15",
            )
        )
        return None
    return grade


def _booklet_sheets(doc: YamlDocument, sheets, errors: list[BookError]) -> int:
    """The most sheets of the booklet: what the school's stapler or booklet maker holds."""
    if not isinstance(sheets, float):
        return BOOKLET_SHEETS  # absent, or not a number: the type check said so
    if sheets != int(sheets) or not 1 <= sheets <= 40:
        errors.append(
            doc.error(
                "booklet_sheets",
                f"booklet_sheets {sheets:g} is not a number of sheets from 1 to 40",
                "write how many folded sheets your stapler holds, e.g. booklet_sheets: 20",
            )
        )
        return BOOKLET_SHEETS
    return int(sheets)


def _web_links_problems(doc: YamlDocument, form) -> list[BookError]:
    """web_links names one of the ways print can show a web address."""
    if not isinstance(form, str) or form.strip() in WEB_LINK_FORMS:
        return []  # absent, or not text: the type check said so
    return [
        doc.error(
            "web_links",
            f"'{shown(form)}' is not a way to print web links",
            did_you_mean(form.strip(), WEB_LINK_FORMS)
            or "write web_links: footnote, after or none",
        )
    ]


def _book_value_problems(doc: YamlDocument, values: dict) -> list[BookError]:
    """What the types alone do not say is wrong: the language code, the date, each keyword."""
    problems = []
    lang, date = values.get("lang"), values.get("date")
    if isinstance(lang, str) and lang.strip() and not LANGUAGE_TAG.match(lang.strip()):
        problems.append(
            doc.error(
                "lang",
                f"'{shown(lang)}' is not a language code",
                "write the code of the book's language, e.g. lang: en, or lang: en-GB",
            )
        )
    if isinstance(date, datetime.date) and date < EARLIEST_DATE:
        problems.append(
            doc.error(
                "date",
                f"the date {date} is before 1970",
                "write the date of this edition, e.g. date: 2026-09-01",
            )
        )
    for word, line in doc.items("keywords"):
        if not isinstance(word, str) or not word.strip():
            problems.append(
                BookError(
                    doc.path,
                    line,
                    f"each keyword should be text, not {describe(word)}",
                    _keyword_hint(word),
                )
            )
    return problems


def _warn_unknown_licence(doc: YamlDocument, licence) -> None:
    """The imprint says what the licence allows; of one it does not know, only its name."""
    if isinstance(licence, str) and licence.strip() and licence_kind(licence) is None:
        warn(
            doc.path,
            doc.line_of("licence"),
            f"the imprint cannot say what the licence '{shown(licence)}' allows, only name it",
            f"write one of: {', '.join(KNOWN_LICENCES)}; or say what it allows in "
            "layout/front.html",
        )


def _keyword_hint(word) -> str:
    if word is None or isinstance(word, str):
        return "write the keyword, or remove the empty one"
    if isinstance(word, (list, dict)):
        return "write each keyword as a word or two, e.g. keywords: [Stalin, Gulag]"
    return f'put it in quotes, e.g. "{shown(word)}"'


def _listed_chapter_files(
    doc: YamlDocument, chapters_dir: Path, errors: list[BookError]
) -> list[tuple[Path, int]]:
    """(file, its line in book.yml) of each chapter listed that can be read."""
    listed = doc.get("chapters")
    if not isinstance(listed, list):
        return []
    present = sorted(p.name for p in chapters_dir.glob("*.md"))
    files: list[tuple[Path, int]] = []
    seen: dict[str, int] = {}
    for name, line in doc.items("chapters"):
        if not isinstance(name, str) or not name.strip():
            errors.append(
                BookError(
                    doc.path,
                    line,
                    "each chapter is a file name, like 02-gulag.md",
                    f"write the file's name after '- ', not {describe(name)}",
                )
            )
        elif not is_plain_name(name, (".md",)):
            errors.append(
                BookError(
                    doc.path,
                    line,
                    f"'{shown(name)}' is not the name of a chapter file",
                    "write the name of a file in chapters/ ending in .md, like 02-gulag.md",
                )
            )
        elif name in seen:
            errors.append(
                BookError(
                    doc.path,
                    line,
                    f"'{shown(name)}' is listed twice (first on line {seen[name]})",
                    "list each chapter once",
                )
            )
        elif not is_file(chapters_dir / name):
            errors.append(
                BookError(
                    doc.path,
                    line,
                    f"chapter '{shown(name)}' is listed but there is no such file in chapters/",
                    did_you_mean(name, present) or "check the file name",
                )
            )
        else:
            seen[name] = line
            files.append((chapters_dir / name, line))
    if not listed:
        errors.append(
            doc.error(
                "chapters", "the book lists no chapters", "list the chapter files under 'chapters:'"
            )
        )
    return files


def _warn_unlisted(chapters_dir: Path, files: list[Path]) -> None:
    listed = {path.name for path in files}
    for path in sorted(chapters_dir.glob("*.md")):
        if path.name not in listed:
            warn(
                path,
                None,
                "this chapter is not listed in chapters/book.yml and is left out of the book",
                "add it under 'chapters:' in book.yml, or remove the file",
            )


# --- chapters --------------------------------------------------------------------------------


def _load_chapter(path: Path, root: Path, website_keys: list) -> ChapterSource:
    """The chapter, checked; (path, line, key) of each website key it has go to website_keys.

    The front matter's problems and the body's are reported together.
    """
    text = read_text(path)
    front, body, body_line = _split_front_matter(text, path)
    doc = load_yaml(front, path, first_line=2)
    errors: list[BookError] = []
    unknown: list = []
    values = _checked_mapping(doc, CHAPTER_KEYS, errors, "the front matter", unknown)
    _sort_unknown_keys(doc, unknown, website_keys)
    prose = without_code(body)  # what the checks read: code is text to print
    for check in (
        _check_fences,
        _check_images,
        check_raw_html,
        _check_markdown_nesting,
        check_credit_files,
        check_source_boxes,
    ):
        _collect(errors, check, prose, body_line, path, root)
    raise_all(errors)
    assert values is not None  # else raise_all raised its problems
    data, data_path = _load_data(values, doc, path, root) if "data" in values else (None, None)
    template = values.get("template")
    if template is not None and not is_plain_name(template, (".html",)):
        raise doc.error(
            "template",
            f"'{shown(template)}' is not the name of a template",
            "write the name of a file in layout/, like summary.html",
        )
    if template is not None and not is_file(root / "layout" / template):
        raise doc.error(
            "template",
            f"there is no template '{shown(template)}' in layout/",
            did_you_mean(template, [p.name for p in (root / "layout").glob("*.html")]),
        )
    if "data" in values and "template" not in values:
        raise doc.error(
            "data",
            "a data file needs a template to show it",
            "add 'template:' naming a file in layout/",
        )
    return ChapterSource(
        path=path,
        slug=_slug(path),
        title=values["title"],
        running_head=values.get("short_title", values["title"]),
        number=0 if values.get("numbered", True) else None,
        body=body,
        body_line=body_line,
        template=values.get("template"),
        data=data,
        data_path=data_path,
        caption=values.get("caption"),
        figures=_load_figures(prose, body_line, path),
    )


def _sort_unknown_keys(doc: YamlDocument, unknown: list, website_keys: list) -> None:
    """A website tool's key is kept for one line a build; any other is a warning of its own."""
    for key in unknown:
        if isinstance(key, str) and key.lower() in WEBSITE_KEYS:
            website_keys.append((doc.path, doc.line_of(key), key))
        else:
            message, hint = unknown_key(key, CHAPTER_KEYS)
            warn(doc.path, doc.line_of(key), f"{message}: the book ignores it", hint)


def _warn_website_keys(found: list[tuple[Path, int, str]]) -> None:
    """One line for the whole book: the keys are the same in every chapter of a website."""
    if not found:
        return
    path, line, _ = found[0]
    names = list(dict.fromkeys(key for _, _, key in found))
    shown_names = ", ".join(f"'{shown(name)}'" for name in names[:8])
    if len(names) > 8:
        shown_names += f" and {len(names) - 8} more"
    others = len({place for place, _, _ in found}) - 1
    where = f" (here and in {others} other chapter{'s' if others > 1 else ''})" if others else ""
    verb = "is a key" if len(names) == 1 else "are keys"
    warn(path, line, f"{shown_names} {verb} of website tools, ignored by the book{where}")


def _split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    lines = text.split("\n")
    if lines[0].strip() != FRONT_MATTER_FENCE:
        raise BookError(
            path,
            1,
            "the chapter does not start with front matter",
            "begin the file with a line '---', then 'title: ...', then another line '---'",
        )
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == FRONT_MATTER_FENCE:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise BookError(
        path,
        1,
        "the front matter is not closed",
        "add a line '---' after the last front-matter line",
    )


def _check_fences(body: str, body_line: int, path: Path, root: Path) -> None:
    opened = None
    for number, line in numbered_lines(body, body_line):
        if re.match(r"^:::\s*[A-Za-z]", line):
            if opened is not None:
                raise BookError(
                    path,
                    number,
                    f"a '::: ' box opens inside the box opened on line {opened}",
                    "close the first box with a line ':::' before opening another",
                )
            opened = number
        elif line.strip() == ":::":
            if opened is None:
                raise BookError(
                    path,
                    number,
                    "':::' closes a box that was never opened",
                    "remove this line, or open the box with a line like '::: review'",
                )
            opened = None
    if opened is not None:
        raise BookError(
            path, opened, "this box is never closed", "add a line ':::' where the box ends"
        )


MAX_IMAGE_PIXELS = 40_000_000  # a 6,000 × 6,000 photograph is ample for print


def _check_images(body: str, body_line: int, path: Path, root: Path) -> None:
    """Every image has alt text and is a file under assets/, of a sane size."""
    errors = []
    for number, line in numbered_lines(body, body_line):
        for match in IMAGE.finditer(line):
            problem = _image_problem(match["alt"], match["src"], path, root)
            if problem:
                errors.append(BookError(path, number, *problem))
    raise_all(errors)


def _load_figures(body: str, body_line: int, path: Path) -> tuple:
    """The data of each figure the chapter draws: ![alt](timeline.yml "Caption")."""
    figures, errors = {}, []
    for number, line in numbered_lines(body, body_line):
        for match in FIGURE_IMAGE.finditer(line):
            if not match["alt"].strip():
                errors.append(
                    BookError(
                        path,
                        number,
                        f"the figure '{match['src']}' has no alt text",
                        "describe what the figure shows between the brackets",
                    )
                )
            elif (path.parent / match["src"]).resolve().parent != path.parent.resolve():
                errors.append(
                    BookError(
                        path, number, f"the figure's data '{match['src']}' is not in chapters/"
                    )
                )
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
        return (
            f"the image '{src}' has no alt text",
            "describe the picture between the brackets: ![A map of the camps](...)",
        )
    target = local_path(src, chapter, root)
    if URL_SCHEME.match(src) or not target.is_relative_to((root / "assets").resolve()):
        return (
            f"the image '{src}' is not a file in assets/",
            "put the picture in assets/ and write ../assets/NAME",
        )
    if not target.is_file():
        names = [p.name for p in (root / "assets").glob("*")]
        return (
            f"the image '{src}' does not exist",
            did_you_mean(target.name, names) or "check the file name in assets/",
        )
    if target.stat().st_size > MAX_FILE:
        return (
            f"the image '{src}' is larger than {MAX_FILE // 2**20} MB",
            "save it smaller, at most about 6000 × 6000 pixels",
        )
    if target.suffix.lower() == ".svg":
        return _svg_problem(target, src)
    return _image_size_problem(target, src)


def _svg_problem(target: Path, src: str):
    text = target.read_text(errors="replace")
    for url in FETCHED_URL.findall(text) + LINK_URL.findall(text):
        if not url.startswith("#"):
            return (
                f"the picture '{src}' refers to another file ({url[:60]})",
                "save the picture with everything embedded in it",
            )
    return None


def _image_size_problem(target: Path, src: str):
    from PIL import Image  # installed with WeasyPrint; only needed when a chapter has images

    try:
        with Image.open(target) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        return (
            f"the image '{src}' is too large to print",
            "scale it down to at most about 6000 × 6000 pixels",
        )
    except Exception:
        return (f"the image '{src}' cannot be read as a picture", "save it again as PNG or JPEG")
    if width * height > MAX_IMAGE_PIXELS:
        return (
            f"the image '{src}' is {width} × {height} pixels, too large to print",
            "scale it down to at most about 6000 × 6000 pixels",
        )
    return None


# --- raw HTML and attribute lists -----------------------------------------------------------

FORBIDDEN_TAG = re.compile(
    r"<\s*(script|iframe|object|embed|base|link|style|meta|form|svg|math|frame|frameset|applet)\b",
    re.IGNORECASE,
)
EVENT_HANDLER = re.compile(r"\bon[a-z]+\s*=", re.IGNORECASE)
ATTACHMENT = re.compile(r"\brel\s*=\s*[\"']?[^\"'>}]*\battachment", re.IGNORECASE)
FETCHED_URL = re.compile(
    r"(?:\b(?:src|xlink:href|poster|data)\s*=\s*[\"']?|url\(\s*[\"']?)([^\"'\s>)}]+)", re.IGNORECASE
)
LINK_URL = re.compile(r"\bhref\s*=\s*[\"']?([^\"'\s>}]+)", re.IGNORECASE)


def check_raw_html(body: str, body_line: int, path: Path, root: Path) -> None:
    """Raw HTML and attribute lists may not fetch, embed or run anything, nor nest without end.

    The rendered HTML is also cleaned against an allow-list; this check names the line, so
    that a teacher learns what was refused instead of finding it silently missing.
    """
    errors, depth = [], 0
    for number, line in numbered_lines(body, body_line):
        problem = _raw_html_problem(line, path, root)
        if problem:
            errors.append(BookError(path, number, *problem))
        depth, deepest = depth_after(line, depth)
        if deepest > MAX_DEPTH:
            errors.append(
                BookError(
                    path,
                    number,
                    f"the HTML here is nested more than {MAX_DEPTH} elements deep",
                    "remove the nested <div> or list levels",
                )
            )
            break
    raise_all(errors)


def _raw_html_problem(line: str, chapter: Path, root: Path):
    if match := FORBIDDEN_TAG.search(line):
        return (
            f"<{match.group(1).lower()}> is not allowed in a chapter",
            "remove it: the book prints text, pictures and tables only",
        )
    if EVENT_HANDLER.search(line) and "<" in line:
        return ("scripts (on...= attributes) are not allowed in a chapter", "remove the attribute")
    if ATTACHMENT.search(line):
        return (
            "attachments (rel=attachment) are not allowed in a chapter",
            "remove the attribute; link to a web page instead",
        )
    for url in FETCHED_URL.findall(line):
        if not _is_asset(url, chapter, root):
            return (
                f"'{url[:80]}' is not a file in assets/",
                "put the file in assets/ and write ../assets/NAME",
            )
    for url in LINK_URL.findall(line):
        # Not even to a file of assets/: the PDF would link to the folder the book was built in.
        if not url.startswith(("#", "http://", "https://", "mailto:")):
            return (
                f"the link '{url[:80]}' points outside the book",
                "link to a web page (https://…) or to a heading (#id)",
            )
    return _raw_picture_problem(line, chapter, root)


def _raw_picture_problem(line: str, chapter: Path, root: Path):
    """A picture written as HTML (<img>) is checked as one written in Markdown is: alt text,
    a file in assets/ that is there, a size that can be printed."""
    if "<" not in line:
        return None
    for tag, attributes in html_elements(line):
        src, alt = attributes.get("src", ""), attributes.get("alt", "")
        if tag != "img":
            continue
        if not alt.strip():
            return (
                f"the image '{src}' has no alt text",
                'describe the picture in the tag: <img src="…" alt="A map of the camps">',
            )
        if (
            src
            and not src.startswith("data:")
            and (problem := _image_problem(alt, src, chapter, root))
        ):
            return problem
    return None


def _is_asset(url: str, chapter: Path, root: Path) -> bool:
    if url.startswith("data:"):
        return len(url) <= MAX_DATA_URL
    if URL_SCHEME.match(url) or url.startswith(("//", "\\")):
        return False
    return local_path(url, chapter, root).is_relative_to((root / "assets").resolve())


def _check_footnote_calls(chapter: ChapterSource) -> None:
    """Each footnote is called once: its text is set where it is called, and a second call
    would print it again without its emphasis and links (and the EPUB keeps one)."""
    first: dict[str, int] = {}
    errors = []
    for path, number, line in _markdown_lines(chapter):
        definition = FOOTNOTE_DEFINITION.match(line)  # its label is no call
        for match in FOOTNOTE_CALL.finditer(line, definition.end() if definition else 0):
            label = match["label"]
            if label not in first:
                first[label] = number
                continue
            errors.append(
                BookError(
                    path,
                    number,
                    f"the footnote [^{label}] is called a second time (first on line "
                    f"{first[label]})",
                    f"give this call a footnote of its own, [^{label}-2]: …, or refer to the "
                    "first note in words",
                )
            )
    raise_all(errors)


def _check_index_marks(chapter: ChapterSource, terms) -> None:
    """Index marks name a heading; a heading that only points elsewhere ('see') takes no marks."""
    pointers = {term.heading: term.see for term in terms if term.see}
    errors = []
    for path, number, line in _markdown_lines(chapter):
        for match in re.finditer(INDEX_MARK, line):
            target = (
                match.group("target") if match.group("text") is not None else match.group("hidden")
            )
            heading, _ = parse_mark(target.strip() or (match.group("text") or ""))
            if not heading:
                errors.append(
                    BookError(
                        path,
                        number,
                        f"the index mark '{shown(match.group(0))}' names no term",
                        "write the term after the ^, like {^Great Purge}",
                    )
                )
            elif heading in pointers:
                errors.append(
                    BookError(
                        path,
                        number,
                        f"'{heading}' only points to '{pointers[heading]}' in the index (see), "
                        "so nothing can be indexed under it",
                        f"index it under '{pointers[heading]}': {{^{pointers[heading]}}}",
                    )
                )
    raise_all(errors)


def _load_data(values: dict, doc: YamlDocument, path: Path, root: Path):
    name = values["data"]
    if not is_plain_name(name, (".yml", ".yaml")):
        raise doc.error(
            "data",
            f"'{shown(name)}' is not the name of a data file",
            "write the name of a file in chapters/ ending in .yml, like summary.yml",
        )
    data_path = path.parent / name
    if not is_file(data_path):
        raise doc.error(
            "data",
            f"the data file '{shown(name)}' is not in chapters/",
            did_you_mean(name, [p.name for p in path.parent.glob("*.y*ml")]),
        )
    document = load_yaml(read_text(data_path), data_path)
    template = values.get("template")
    fields = _template_fields(root / "layout" / template) if isinstance(template, str) else None
    return _checked_entries(document, fields), data_path


def _checked_entries(document: YamlDocument, fields: frozenset[str] | None) -> list[dict]:
    """The data file's entries, each a mapping of text (Markdown) a template shows."""
    if not isinstance(document.data, list):
        raise BookError(
            document.path,
            document.line_of(),
            "the data file should be a list of entries, each starting with '- '",
        )
    if not document.data:
        raise BookError(
            document.path,
            document.line_of(),
            "the data file has no entries",
            "add entries, each starting with '- ', or remove 'data:' from the chapter",
        )
    errors: list[BookError] = []
    for entry, line in document.items():
        problems = _entry_problems(entry, fields)
        errors.extend(BookError(document.path, line, *problem) for problem in problems)
    raise_all(errors)
    return document.data


def _entry_problems(entry, fields: frozenset[str] | None) -> list[tuple[str, str]]:
    """(message, hint) of each problem of one entry of a data file."""
    if not isinstance(entry, dict):
        return [
            (
                f"this entry is {describe(entry)}, not a group of 'key: value' lines",
                "start each entry with '- ' and its first key, as in '- question: …'",
            )
        ]
    problems = []
    for key, value in entry.items():
        if not isinstance(key, str) or (fields is not None and key not in fields):
            problems.append(unknown_key(key, sorted(fields or ())))
        elif problem := text_problem(key, value) or _nesting_problem(value):
            problems.append(problem)
    return problems


def _template_fields(template: Path) -> frozenset[str] | None:
    """The keys a template shows of each entry of its data ({{ row.summary }}), when it names them.

    None when it reads the entries some other way, or cannot be read: its own problems are
    reported when it is rendered.
    """
    try:
        tree = jinja2.Environment().parse(template.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, jinja2.TemplateError):
        return None
    fields: set[str] = set()
    for loop in tree.find_all(jinja2.nodes.For):
        if not (
            isinstance(loop.iter, jinja2.nodes.Name)
            and loop.iter.name == "data"
            and isinstance(loop.target, jinja2.nodes.Name)
        ):
            continue
        entry = loop.target.name
        uses = [node for node in loop.find_all(jinja2.nodes.Name) if node.name == entry]
        read = [node for node in loop.find_all(jinja2.nodes.Getattr) if _names(node.node, entry)]
        calls = loop.find_all(jinja2.nodes.Call)
        called = any(_names(call.node, entry, attribute=True) for call in calls)
        if len(read) != len(uses) - 1 or called:  # uses: the loop's own target, then each read
            return None  # {{ row }}, row[key] or row.items(): which keys it shows is not written
        fields.update(node.attr for node in read)
    return frozenset(fields) or None


def _names(node, name: str, attribute: bool = False) -> bool:
    """Whether node is the variable name (or, with attribute, one of its attributes)."""
    if attribute:
        return isinstance(node, jinja2.nodes.Getattr) and _names(node.node, name)
    return isinstance(node, jinja2.nodes.Name) and node.name == name


# --- Markdown nested without end -------------------------------------------------------------

#: Indentation and list or quote markers before a line's text. Python-Markdown recurses once
#: per level of a list inside a list; a few hundred levels exhaust Python's stack. (It stops
#: quotations short of the limit since Python-Markdown issue #799, not lists.)
BLOCK_PREFIX = re.compile(r"^(?:[ >]|[-*+](?= )|\d{1,9}[.)](?= ))*")
MAX_BLOCK_PREFIX = 200  # characters: fifty levels of lists, far more than any book needs


def _nesting_problem(text: str) -> tuple[str, str] | None:
    """(message, hint) when a line of the Markdown text is nested too deeply to convert."""
    for line in text.split("\n"):
        prefix = BLOCK_PREFIX.match(line.expandtabs(4))  # matches every line, if only ""
        if prefix and len(prefix[0]) > MAX_BLOCK_PREFIX:
            return (
                "the lists or quotes here are nested too deeply, or a line is indented too far "
                f"(more than {MAX_BLOCK_PREFIX} characters before its text)",
                "remove the extra indentation, or the lists inside lists",
            )
    return None


def _check_markdown_nesting(body: str, body_line: int, path: Path, root: Path) -> None:
    """A chapter's lists and quotes nest no deeper than Python-Markdown can follow."""
    for number, line in numbered_lines(body, body_line):
        problem = _nesting_problem(line)
        if problem:
            raise BookError(path, number, *problem)


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


def _checked_mapping(
    doc: YamlDocument, schema: dict, errors: list[BookError], what: str, unknown: list | None = None
) -> dict | None:
    """The mapping's values after checking keys and types against the schema.

    An optional key left empty ('subtitle:') counts as absent. Keys the schema does not
    name are errors, or, when unknown is a list, put there for the caller to report.
    """
    if not isinstance(doc.data, dict):
        errors.append(doc.error(None, f"{what} should be a list of 'key: value' lines"))
        return None
    strangers = [key for key in doc.data if key not in schema]
    if unknown is None:
        errors.extend(doc.error(key, *unknown_key(key, schema)) for key in strangers)
    else:
        unknown.extend(strangers)
    for key, (kind, required) in schema.items():
        if doc.data.get(key) is None and not required:
            doc.data.pop(key, None)
        elif key not in doc.data:
            errors.append(
                doc.error(
                    None, f"the key '{key}' is missing", _missing_key_hint(doc, key, strangers)
                )
            )
        else:
            doc.data[key] = value = _as_kind(kind, doc.data[key])
            if problem := _type_problem(key, kind, value):
                errors.append(doc.error(key, *problem))
    return doc.data


def _missing_key_hint(doc: YamlDocument, key: str, strangers: list) -> str:
    """Point to the misspelt key that was meant, when there is one."""
    for stranger in strangers:
        if did_you_mean(stranger, [key]):
            return f"correct '{shown(stranger)}' on line {doc.line_of(stranger)} to '{key}'"
    return f"add a line '{key}: ...'"


def _as_kind(kind, value):
    """A date written in quotes, or with a time of day, as the date it names; 9 as 9.0."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is datetime.date and isinstance(value, datetime.datetime):
        return value.date()
    if kind is datetime.date and isinstance(value, str) and ISO_DATE.match(value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return value  # not on the calendar: reported by _type_problem
    return value


def _type_problem(key: str, kind, value) -> tuple[str, str] | None:
    if kind is str:
        return text_problem(key, value)
    if isinstance(value, kind):
        return None
    if kind is datetime.date and isinstance(value, str) and ISO_DATE.match(value.strip()):
        return f"'{shown(value)}' is not a date on the calendar", CALENDAR_HINT
    return f"'{key}' should be {TYPE_NAMES[kind]}, not {describe(value)}", _type_hint(key, kind)


def _type_hint(key: str, kind) -> str:
    if kind is datetime.date:
        return f"write the date as year-month-day, e.g. {key}: 2026-09-01"
    if kind is bool:
        return f"write {key}: true or {key}: false"
    if kind is float:
        return f"write a number, e.g. {key}: 9"
    return f"write one '  - …' a line below '{key}:', or {key}: [one, other]"


# --- code: text to print, never markup --------------------------------------------------------

#: A fenced block as the fenced_code extension finds it (before any other block is read).
FENCED_CODE = FencedBlockPreprocessor.FENCED_BLOCK_RE
#: The backticks that may open a code span, and the span they open, as Python-Markdown
#: finds them.
SPAN_OPENING = re.compile(BACKTICK_RE, re.DOTALL)
CODE_SPANS = BacktickInlineProcessor(BACKTICK_RE)
#: A list item or a note's text ([^name]: …): the lines indented below it continue it.
ITEM_START = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)|^ {0,3}\[\^[^\]]+\]:")
#: A line that starts a block of its own: no code span reaches into it from the line before.
BLOCK_START = re.compile(r"^ {0,3}(?:[-*+] |\d{1,9}[.)] |#|>|:::)")
RAW_HTML_START = re.compile(r"^<[A-Za-z]")
INDENTED_LINE = re.compile(r"^(?: {4}|\t)", re.MULTILINE)


@functools.lru_cache(maxsize=256)  # each check asks again for the same chapter
def without_code(text: str) -> str:
    """The Markdown with the text of its code blanked out, each line left where it was.

    `<script>`, `{^term}`, `{#id}`, `:::` or an image in a fenced or indented block or in a
    code span is text to print: the checks that read the raw text line by line read this
    instead. An indented block counts only where it surely is code (not below a list item,
    a note or in raw HTML), so that no check misses what the page would show as markup.
    """
    if "```" in text or "~~~" in text:
        text = FENCED_CODE.sub(lambda block: "\n" * block[0].count("\n"), text)
    lines = text.split("\n")
    if INDENTED_LINE.search(text):
        lines = _without_indented_code(lines)
    return "\n".join(_without_code_spans(lines) if "`" in text else lines)


def _without_indented_code(lines: list[str]) -> list[str]:
    """The lines, those of indented code blocks (after a blank line, four spaces in) blank."""
    kept, in_code, after_blank, item_indent, html_depth = [], False, True, None, 0
    for line in lines:
        detabbed = line.expandtabs(4)
        indent = len(detabbed) - len(detabbed.lstrip(" "))
        # Below a list item, text indented one level continues the item; code needs two.
        code_indent = 4 if item_indent is None else item_indent // 4 * 4 + 8
        if not detabbed.strip():
            kept.append(line)
            after_blank = True
            continue
        new_block, after_blank = after_blank, False
        in_code = indent >= code_indent and html_depth == 0 and (in_code or new_block)
        kept.append("" if in_code else line)
        if in_code:
            continue
        if html_depth or (indent == 0 and RAW_HTML_START.match(detabbed)):
            html_depth = depth_after(detabbed, html_depth)[0]  # raw HTML holds no code block
        if ITEM_START.match(detabbed):
            item_indent = indent
        elif indent < 4 and new_block:
            item_indent = None  # a paragraph after a blank line ends the list
    return kept


def _without_code_spans(lines: list[str]) -> list[str]:
    """The lines with each code span blanked; a span may run over the lines of a paragraph."""
    kept: list[str] = []
    paragraph: list[str] = []
    for line in lines:
        if not line.strip() or BLOCK_START.match(line):
            kept += _blank_spans(paragraph)
            paragraph = []
        (paragraph if line.strip() else kept).append(line)
    return kept + _blank_spans(paragraph)


def _blank_spans(lines: list[str]) -> list[str]:
    """The lines of one paragraph, each code span in them a space (or its line ends)."""
    text = "\n".join(lines)
    pieces: list[str] = []
    kept_from = position = 0
    while opening := SPAN_OPENING.search(text, position):
        # After an even run of backslashes, a backtick opens a span all the same.
        begin = opening.end() if opening.group(1) else opening.start()
        # types-Markdown says it may return None; Markdown's own hints and code never do.
        start, end = CODE_SPANS.find_code_spans(begin, text)  # type: ignore[misc]
        if end is None:
            position = max(start, begin + 1)
            continue
        stop = end + (start - begin)  # after the closing backticks
        pieces += [text[kept_from:begin], "\n" * text.count("\n", begin, stop) or " "]
        kept_from = position = stop
    pieces.append(text[kept_from:])
    return "".join(pieces).split("\n") if lines else []
