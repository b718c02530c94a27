"""The one seam to WeasyPrint beyond its documented API: the typeset and join stages' fast path.

WeasyPrint's documented API (HTML, CSS, Document, Page, FontConfiguration, write_pdf and
its finisher) lays a book out and writes it in one piece. The fast path goes further, and
everything it needs of WeasyPrint's and pydyf's insides is in this module, checked at
start-up against the versions it was written and tested with (KNOWN_VERSIONS). On any
other version, or when one of the names it reaches for is missing, the build takes the
public path of join.py instead: the same book, slower.

What the fast path does: each part of the book (a chapter, the index, the front matter…)
is written by WeasyPrint on its own, as soon as it is laid out, and kept as plain PDF
objects. A laid-out page (a box tree bound to Pango) can neither be kept on disk nor
outlive the process; a written part can be kept, reused when its source has not changed,
and sent between processes. Joining renumbers the parts' objects into one file and makes
once what a document has once: the page tree, the structure tree (tags), the named
destinations that links point to, the outline, and one subset of each font, made from the
glyphs of every part (WeasyPrint keeps glyph ids when it subsets, so every part's drawing
stays valid).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import importlib
import io
import logging
import re
import zlib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pydyf

from .errors import LOGGER
from .tagging import link_descriptions, make_accessible

#: The versions this module was written and tested against; any other takes the public path.
KNOWN_VERSIONS = {"weasyprint": ("70.0",), "pydyf": ("0.13.0",)}
NAMES = {"weasyprint": "WeasyPrint", "pydyf": "pydyf"}
#: Every name of WeasyPrint and pydyf this module uses beyond WeasyPrint's documented API.
REACHED = (
    "weasyprint.pdf:generate_pdf",
    "weasyprint.pdf:build_fonts_dictionary",
    "weasyprint.pdf:add_outlines",
    "weasyprint.pdf:resolve_links",
    "weasyprint.pdf:VARIANTS",
    "weasyprint.pdf.fonts:build_fonts_dictionary",
    "weasyprint.pdf.fonts:Font",
    "weasyprint.pdf.fonts:Font._fonttools_subset",
    "weasyprint.pdf.fonts:harfbuzz_subset",
    "weasyprint.pdf.anchors:add_outlines",
    "weasyprint.formatting_structure.boxes:LineBox",
    "weasyprint.formatting_structure.boxes:TextBox",
    "weasyprint.document:Page._page_box",
    "pydyf:PDF.page_references",
    "pydyf:_to_bytes",
)


def fast_path_problem() -> str | None:
    """Why the fast path cannot be taken here (a version or a name it does not know), or None."""
    found = {}
    for name in KNOWN_VERSIONS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "(none)"
    if any(found[name] not in known for name, known in KNOWN_VERSIONS.items()):
        known = " with ".join(
            f"{NAMES[name]} {' or '.join(v)}" for name, v in KNOWN_VERSIONS.items()
        )
        return (
            f"WeasyPrint {found['weasyprint']} with pydyf {found['pydyf']} is not a release the "
            f"fast path knows (it knows {known})"
        )
    missing = [name for name in REACHED if not _resolves(name)]
    if missing:
        return f"WeasyPrint {found['weasyprint']} lacks {', '.join(missing)}"
    return None


def _resolves(name: str) -> bool:
    module, _, attributes = name.partition(":")
    try:
        value: Any = importlib.import_module(module)
    except ImportError:
        return False
    for attribute in attributes.split("."):
        if not hasattr(value, attribute):  # a class's instance attribute: one its __init__ sets
            code = getattr(getattr(value, "__init__", None), "__code__", None)
            return isinstance(value, type) and code is not None and attribute in code.co_names
        value = getattr(value, attribute)
    return True


REFERENCE = re.compile(rb"(\d+) 0 R")
PAGE_TREE = 1  # pydyf numbers a document's page tree 1


@dataclass(frozen=True)
class WrittenPart:
    """A part of the book (a chapter, the index, the front matter…) as serialized PDF objects.

    Its references to its own objects are marks (MARK) until the part is joined, and so
    are its keys in the parent tree, which the joined book numbers anew.
    """

    objects: tuple[
        tuple[int, bytes, bytes | None], ...
    ]  # (number, object or stream dictionary, stream data)
    pages: tuple[int, ...]  # numbers of its page objects, in order
    roles: dict[int, str]  # its objects that stand for the book's one: "pages" (the page tree),
    # "fonts", "structure" (the tree's root), "parent tree", "document" (the root element)
    parent_tree: tuple[tuple[int, bytes], ...]  # its parent-tree entries: pages, then annotations
    document_kids: tuple[bytes, ...]  # the structure elements under its Document element
    names: tuple[tuple[str, bytes], ...]  # (anchor, destination) for each anchor on its pages
    bookmarks: tuple  # WeasyPrint's bookmark tree, pages counted from the part's first
    fonts: tuple  # (font key, font state) for each font its pages use
    font_files: tuple  # (digest, font file) for each file those fonts come from
    catalog: tuple[
        tuple[str, bytes], ...
    ]  # its catalog's own entries (language, viewer preferences…)
    info: tuple  # its document information (title, dates, producer)
    metadata: Any  # weasyprint DocumentMetadata, for the joined file's XMP

    @property
    def parent_keys(self) -> int:
        return max((key for key, _ in self.parent_tree), default=-1) + 1


#: In a written part, b"\0R12\0" is a reference to its object 12, b"\0K3\0" its parent-tree key 3.
MARK = re.compile(rb"\x00([RK])(\d+)\x00")


class _Capture:
    """What WeasyPrint's writer is kept from doing per part, done once per book instead."""

    def __init__(self):
        self.fonts: dict = {}
        self.fonts_dictionary: Any = None  # a pydyf.Dictionary, once WeasyPrint asks for it
        self.bookmarks: tuple = ()

    def build_fonts_dictionary(self, pdf, fonts, compress, subset, options):
        self.fonts = dict(fonts)
        self.fonts_dictionary = pydyf.Dictionary()
        return self.fonts_dictionary

    def add_outlines(self, pdf, bookmarks, parent=None):
        self.bookmarks = tuple(bookmarks)
        return [], 0


def _resolve_links_across_parts(pages):
    """WeasyPrint's own, except that a link to an anchor in another part is kept.

    As in WeasyPrint's, an anchor on several pages (a chapter's <section>) is the first.
    """
    seen: set[str] = set()
    for page in pages:
        anchors = [(name, x, y) for name, (x, y, _, _) in page.anchors.items() if name not in seen]
        seen.update(page.anchors)
        yield list(page.links), anchors


@contextlib.contextmanager
def _part_writer(capture: _Capture):
    import weasyprint.pdf as writer

    originals = {
        name: getattr(writer, name)
        for name in ("build_fonts_dictionary", "add_outlines", "resolve_links")
    }
    writer.build_fonts_dictionary = capture.build_fonts_dictionary
    writer.add_outlines = capture.add_outlines
    writer.resolve_links = _resolve_links_across_parts
    try:
        yield writer
    finally:
        for name, function in originals.items():
            setattr(writer, name, function)


def pdf_options(variant: str | None) -> dict:
    """WeasyPrint's write options for a variant (None: a plain, untagged PDF)."""
    from weasyprint import DEFAULT_OPTIONS
    from weasyprint.pdf import VARIANTS

    options = {**DEFAULT_OPTIONS, "pdf_variant": variant}
    if variant:
        for key, value in VARIANTS[variant][1].items():
            if options.get(key) is None:
                options[key] = value
    return options


def write_part(document, variant: str | None) -> WrittenPart:
    """The part's pages written by WeasyPrint, without fonts, outline or document-wide trees."""
    capture = _Capture()
    options = pdf_options(variant)
    with _part_writer(capture) as writer, page_references_cached():
        pdf = writer.generate_pdf(document, None, 1, **options)
    if "StructTreeRoot" in pdf.catalog:
        make_accessible(pdf)  # as the public path's finisher does (finish.py)
    roles = {PAGE_TREE: "pages", capture.fonts_dictionary.number: "fonts"}
    parent_tree, kids = [], []
    if "StructTreeRoot" in pdf.catalog:
        root = pdf.objects[_number(pdf.catalog["StructTreeRoot"])]
        tree = pdf.objects[_number(root["ParentTree"])]
        roles.update(
            {
                root.number: "structure",
                tree.number: "parent tree",
                _number(root["K"][0]): "document",
            }
        )
        parent_tree = [
            (key, _marked(value).data if isinstance(value, pydyf.Object) else _marked(value))
            for key, value in zip(tree["Nums"][::2], tree["Nums"][1::2], strict=True)
        ]
        kids = [_marked(kid) for kid in pdf.objects[_number(root["K"][0])]["K"]]
    skipped = {0, pdf.catalog.number, *roles}
    if "Metadata" in pdf.catalog:  # the joined book writes its own
        skipped.add(_number(pdf.catalog["Metadata"]))
    # Anchors come out of WeasyPrint as one name tree per part; they are joined by name.
    names = pdf.catalog.get("Names", {}).get("Dests", {}).get("Names", [])
    font_files: dict = {}
    fonts = []
    for key, font in capture.fonts.items():
        state = {
            name: value for name, value in vars(font).items() if name not in ("hb_font", "hb_face")
        }
        digest = hashlib.sha256(state.pop("file_content")).hexdigest()
        font_files.setdefault(digest, _FONT_FILES.setdefault(digest, font.file_content))
        fonts.append((key, {**state, "file_digest": digest}))
    catalog = [
        (key, _to_bytes(_marked(value)))
        for key, value in pdf.catalog.items()
        if key not in ("Type", "Pages", "Names", "StructTreeRoot", "Outlines", "Metadata")
    ]
    return WrittenPart(
        objects=tuple(_serialized(obj) for obj in pdf.objects if obj.number not in skipped),
        pages=tuple(_number(reference) for reference in pdf.page_references),
        roles=roles,
        parent_tree=tuple(parent_tree),
        document_kids=tuple(kids),
        names=tuple(
            (name.string, _marked(destination).data)
            for name, destination in zip(names[::2], names[1::2], strict=True)
        ),
        bookmarks=capture.bookmarks,
        fonts=tuple(fonts),
        font_files=tuple(font_files.items()),
        catalog=tuple(catalog),
        info=tuple(pdf.info.items()),
        metadata=document.metadata,
    )


def _marked(value):
    """value with its references, and its keys in the parent tree, turned into marks."""
    if isinstance(value, bytes) and REFERENCE.fullmatch(value):
        return b"\x00R" + value[:-4] + b"\x00"
    if isinstance(value, pydyf.Dictionary):
        marked = pydyf.Dictionary({key: _marked(item) for key, item in value.items()})
        for key in ("StructParents", "StructParent"):
            if key in marked:
                marked[key] = b"\x00K%d\x00" % marked[key]
        return marked
    if isinstance(value, pydyf.Array):
        return pydyf.Array(_marked(item) for item in value)
    return value


def _serialized(obj) -> tuple[int, bytes, bytes | None]:
    """(number, data, stream data): a stream's data compressed once, as pydyf would write it."""
    if not isinstance(obj, pydyf.Stream):
        return obj.number, _marked(obj).data, None
    data = b"\n".join(_to_bytes(item) for item in obj.stream)
    extra = pydyf.Dictionary(obj.extra.copy())
    if obj.compress:
        extra["Filter"] = "/FlateDecode"
        data = _compressed(data)
    extra["Length"] = len(data)
    return obj.number, _marked(extra).data, data


def _compressed(data: bytes) -> bytes:
    compressor = zlib.compressobj(level=9)
    return compressor.compress(data) + compressor.flush()


def _to_bytes(value) -> bytes:
    return pydyf._to_bytes(value)


_FONT_FILES: dict[str, bytes] = {}  # one copy of each font file, however many parts use it


def without_font_files(part: WrittenPart, sent: set[str]) -> WrittenPart:
    """The part to send to another process, without the font files sent with earlier parts."""
    files = tuple(
        (digest, None if digest in sent else content) for digest, content in part.font_files
    )
    sent.update(digest for digest, _ in part.font_files)
    return dataclasses.replace(part, font_files=files)


def with_font_files(part: WrittenPart) -> WrittenPart:
    """A part received from another process, its font files put back (one copy of each)."""
    files = tuple(
        (
            digest,
            _FONT_FILES[digest] if content is None else _FONT_FILES.setdefault(digest, content),
        )
        for digest, content in part.font_files
    )
    return dataclasses.replace(part, font_files=files)


def _number(reference) -> int:
    match = REFERENCE.fullmatch(reference)
    assert match is not None, reference
    return int(match[1])


@contextlib.contextmanager
def page_references_cached():
    """Let WeasyPrint's tagging look up a page's reference in constant time.

    pydyf (0.13) rebuilds the tuple of every page's reference each time it is read, and
    WeasyPrint reads it once per structure element: a tagged book of 1,000 pages spent
    two thirds of its writing time there. The cached tuple is the same one, rebuilt
    whenever a page is added, so the PDF does not change by a byte. (No pydyf issue names
    this yet.)
    """
    original = pydyf.PDF.page_references
    cached: dict[int, tuple] = {}

    def page_references(pdf):
        count = len(pdf.pages["Kids"])
        if cached.get(id(pdf), (None,))[0] != count:
            cached[id(pdf)] = (count, original.fget(pdf))
        return cached[id(pdf)][1]

    pydyf.PDF.page_references = property(page_references)
    try:
        yield
    finally:
        pydyf.PDF.page_references = original


# --- joining -------------------------------------------------------------------------------


def join_written(
    parts, shell: WrittenPart, variant: str | None, labels, title: str | None = None
) -> bytes:
    """One PDF of the parts' pages, in order; the document's own entries come from shell.

    parts: WrittenPart for each run of pages; a part may come more than once (a blank page).
    title: the document's title, when it is not the shell's (a handout).
    """
    from .tagging import page_labels

    options = pdf_options(variant)
    joined = _JoinedPdf(_PdfFile())
    if any(part.parent_tree for part in parts):
        joined.descriptions = _descriptions(parts, labels)
        # A handout has no title page: its chapter titles head it (tagging.promote_headings).
        joined.promote = not any(H1 in data for part in parts for _, data, _ in part.objects)
    copies: dict = {}  # id of a part -> how its marks read where it was first copied
    for part in parts:
        copies.setdefault(id(part), joined.add(part))
    for key, data in shell.catalog:
        # An entry may refer to the shell's objects (the output intent to its colour profile).
        in_book = copies.get(id(shell))
        joined.catalog[key] = in_book(data) if in_book else joined.copy_reachable(shell, data)
    joined.info.update(shell.info)
    if title:
        joined.info["Title"] = pydyf.String(title)
    joined.finish(parts, options)
    if variant:
        _apply_variant(joined, variant, _metadata(shell, title), compress=True)
    joined.catalog["PageLabels"] = page_labels(labels)
    return joined.output.close(joined, options["pdf_identifier"])


class _JoinedPdf:
    """The joined document as WeasyPrint's writing functions see a pydyf PDF, written as it grows.

    A part's objects are written as soon as they are renumbered; what a document has once
    (page tree, fonts, structure tree, names, outline, catalog) is made when all parts are in.
    """

    def __init__(self, output: _PdfFile):
        self.output = output
        self.catalog = pydyf.Dictionary({"Type": "/Catalog"})
        self.info = pydyf.Dictionary()
        self.pages = pydyf.Dictionary({"Type": "/Pages"})
        self.fonts = pydyf.Dictionary()
        self.structure = pydyf.Dictionary({"Type": "/StructTreeRoot"})
        self.parent_tree = pydyf.Dictionary({"Nums": pydyf.Array()})
        self.document = pydyf.Dictionary(
            {"Type": "/StructElem", "S": "/Document", "K": pydyf.Array()}
        )
        self.later: list = []  # document-wide objects, written once complete
        for obj in (self.catalog, self.info, self.pages, self.fonts):
            self.add_object(obj)
        self.page_references: list[bytes] = []
        self.names: dict[str, bytes] = {}
        self.next_key = 0  # the parent tree's next key
        self.tagged = False
        self.descriptions: dict[str, str] = {}  # anchor -> its links' /Contents, in words
        self.promote = False  # each heading one level up: a document without an /H1
        # What a variant does to every object (PDF/A flags annotations printable) was done
        # in each part, as WeasyPrint wrote it; here it only adds the book's metadata.
        self.objects = ()

    def _tag(self) -> None:
        """The structure tree, made with the first tagged part."""
        if not self.tagged:
            self.tagged = True
            for obj in (self.structure, self.parent_tree, self.document):
                self.add_object(obj)

    def add_object(self, obj) -> None:
        """pydyf's PDF.add_object: numbered now, written when the book is closed."""
        obj.number = self.output.allocate()
        self.later.append(obj)

    def add(self, part: WrittenPart):
        """Write the part's objects, renumbered; returns how its marks read in the book."""
        if "structure" in part.roles.values():
            self._tag()
        numbers = {
            number: getattr(self, role.replace(" ", "_")).number
            for number, role in part.roles.items()
        }
        for number, _, _ in part.objects:
            numbers[number] = self.output.allocate()
        offset = self.next_key

        def mapped(data: bytes) -> bytes:
            return MARK.sub(
                lambda mark: (
                    b"%d 0 R" % numbers[int(mark[2])]
                    if mark[1] == b"R"
                    else b"%d" % (int(mark[2]) + offset)
                ),
                data,
            )

        for number, data, stream in part.objects:
            data = _described(mapped(data), self.descriptions)
            if self.promote:
                data = HEADING.sub(lambda heading: b"/S /H%d" % (int(heading[1]) - 1), data)
            self.output.write(numbers[number], data, stream)
        self.page_references += [b"%d 0 R" % numbers[number] for number in part.pages]
        if part.parent_tree:
            for key, value in part.parent_tree:
                self.parent_tree["Nums"] += [key + offset, mapped(value)]
            self.document["K"] += [mapped(kid) for kid in part.document_kids]
            self.next_key += part.parent_keys
        for name, destination in part.names:
            self.names.setdefault(name, mapped(destination))
        return mapped

    def copy_reachable(self, part: WrittenPart, data: bytes) -> bytes:
        """data of a part not in the book (the shell of a handout), with the objects it needs."""
        objects = {number: (body, stream) for number, body, stream in part.objects}
        numbers: dict[int, int] = {}
        waiting = [data]
        while waiting:
            for mark in MARK.finditer(waiting.pop()):
                number = int(mark[2])
                if mark[1] == b"R" and number not in numbers and number in objects:
                    numbers[number] = self.output.allocate()
                    waiting.append(objects[number][0])

        def mapped(body: bytes) -> bytes:
            return MARK.sub(lambda mark: b"%d 0 R" % numbers[int(mark[2])], body)

        for number, new in numbers.items():
            self.output.write(new, mapped(objects[number][0]), objects[number][1])
        return mapped(data)

    def finish(self, parts, options) -> None:
        """The document-wide objects, now that every part is in."""
        from weasyprint.pdf.fonts import build_fonts_dictionary

        self.pages["Kids"] = pydyf.Array(self.page_references)
        self.pages["Count"] = len(self.page_references)
        self.catalog["Pages"] = self.pages.reference
        with subset_by_fonttools():
            self.fonts.update(
                build_fonts_dictionary(
                    self, _joined_fonts(parts), True, not options["full_fonts"], options
                )
            )
        if self.tagged:
            self.structure.update(
                {
                    "ParentTree": self.parent_tree.reference,
                    "K": pydyf.Array([self.document.reference]),
                    "ParentTreeNextKey": self.next_key,
                }
            )
            self.document["P"] = self.structure.reference
            self.catalog["StructTreeRoot"] = self.structure.reference
        if self.names:
            names = pydyf.Array()
            for name in sorted(self.names):
                names += [pydyf.String(name), self.names[name]]
            self.catalog["Names"] = pydyf.Dictionary({"Dests": pydyf.Dictionary({"Names": names})})
        _add_bookmarks(self, parts)


class _PdfFile:
    """A PDF file written object by object: streams as they come, the other objects gathered
    into compressed object streams, and a cross-reference stream at the end (as pydyf does)."""

    GATHERED = 500  # objects per object stream

    def __init__(self):
        self.file = io.BytesIO()
        # PDF 1.7 for every variant the book offers (PDF/UA-1, PDF/A-3u, plain), as WeasyPrint
        # writes them.
        self.file.write(b"%PDF-1.7\n%\xf0\x9f\x96\xa4\n")
        self.places: list = [
            (0, 0, 65535)
        ]  # object number -> (type, offset or object stream, generation or index)
        self.gathered: list[tuple[int, bytes]] = []

    def allocate(self) -> int:
        self.places.append(None)
        return len(self.places) - 1

    def write(self, number: int, data: bytes, stream: bytes | None = None) -> None:
        if stream is None:
            self.gathered.append((number, data))
            if len(self.gathered) >= self.GATHERED:
                self._write_gathered()
        else:
            self.places[number] = (1, self.file.tell(), 0)
            self.file.write(
                b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n" % (number, data, stream)
            )

    def _write_gathered(self) -> None:
        number = self.allocate()
        offsets, position = [], 0
        for index, (gathered, data) in enumerate(self.gathered):
            offsets += [gathered, position]
            position += len(data) + 1
            self.places[gathered] = (2, number, index)
        header = b" ".join(b"%d" % value for value in offsets)
        stream = _compressed(header + b"\n" + b"\n".join(data for _, data in self.gathered))
        extra = pydyf.Dictionary(
            {
                "Type": "/ObjStm",
                "N": len(self.gathered),
                "First": len(header) + 1,
                "Filter": "/FlateDecode",
                "Length": len(stream),
            }
        )
        self.gathered = []
        self.write(number, extra.data, stream)

    def close(self, book: _JoinedPdf, identifier) -> bytes:
        """Write the book's own objects, the cross-reference stream and the trailer."""
        for obj in book.later:
            if isinstance(obj, pydyf.Stream):
                self.places[obj.number] = (1, self.file.tell(), 0)
                self.file.write(obj.indirect + b"\n")
            else:
                self.write(obj.number, obj.data)
        if self.gathered:
            self._write_gathered()
        number = self.allocate()
        position = self.file.tell()
        self.places[number] = (1, position, 0)
        widths = (
            1,
            max(1, (position.bit_length() + 7) // 8),
            max(1, (max(place[2] for place in self.places).bit_length() + 7) // 8),
        )
        table = b"".join(
            value.to_bytes(width, "big")
            for place in self.places
            for value, width in zip(place, widths, strict=True)
        )
        extra = pydyf.Dictionary(
            {
                "Type": "/XRef",
                "Index": pydyf.Array((0, len(self.places))),
                "W": pydyf.Array(widths),
                "Size": len(self.places),
                "Root": book.catalog.reference,
                "Info": book.info.reference,
            }
        )
        if identifier:
            digest = hashlib.md5(self.file.getvalue(), usedforsecurity=False).hexdigest().encode()
            own = digest if identifier is True else _to_bytes(identifier)
            extra["ID"] = pydyf.Array((pydyf.String(own).data, pydyf.String(digest).data))
        stream = _compressed(table)
        extra.update({"Filter": "/FlateDecode", "Length": len(stream)})
        self.file.write(
            b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n" % (number, extra.data, stream)
        )
        self.file.write(b"startxref\n%d\n%%%%EOF\n" % position)
        return self.file.getvalue()


def _joined_fonts(parts) -> dict:
    from weasyprint.pdf.fonts import Font

    class JoinedFont(Font):
        def __init__(self, state, file_content):
            self.__dict__.update(state)
            self.file_content = file_content

    files = {digest: content for part in parts for digest, content in part.font_files}
    fonts: dict = {}
    seen = set()
    for part in parts:
        if id(part) in seen:
            continue
        seen.add(id(part))
        for key, state in part.fonts:
            if key not in fonts:
                fonts[key] = JoinedFont(
                    {
                        **state,
                        "widths": dict(state["widths"]),
                        "to_unicode": dict(state["to_unicode"]),
                        "missing": dict(state["missing"]),
                    },
                    files[state["file_digest"]],
                )
                continue
            font = fonts[key]
            font.widths.update(state["widths"])
            font.to_unicode.update(state["to_unicode"])
            font.used_in_forms = font.used_in_forms or state["used_in_forms"]
            for codepoint, glyph in state["missing"].items():
                if font.missing.setdefault(codepoint, glyph) != glyph:
                    LOGGER.warning("%s has no glyph for %r", font.family, chr(codepoint))
    return fonts


#: A destination in a written part: [\0R12\0 /XYZ x y 0], its page a mark.
DESTINATION = re.compile(rb"\[\x00R(\d+)\x00 /XYZ (\S+) (\S+)")
#: A link annotation's target and its /Contents, which WeasyPrint makes the target's name.
LINK_TARGET = re.compile(rb"/Dest (\((?:[^()\\]|\\.)*\))")


#: A heading's structure type in a written object, and the first level's.
HEADING = re.compile(rb"/S /H([2-6])(?![\w])")
H1 = b"/S /H1"


def _descriptions(parts, labels) -> dict[str, str]:
    """Each anchor's description in words, from where the parts put anchors and headings."""
    destinations, headings, first = {}, [], 0
    for part in parts:
        pages = {number: first + index for index, number in enumerate(part.pages)}
        for name, data in part.names:
            place = DESTINATION.match(data)
            if name not in destinations and place:
                destinations[name] = (pages[int(place[1])], float(place[3]))
        headings += _headings(part.bookmarks, first)
        first += len(part.pages)
    return link_descriptions(destinations, headings, labels)


def _headings(bookmarks, first: int):
    for title, (page, _, y), children, _ in bookmarks:
        yield page + first, y, title
        yield from _headings(children, first)


def _described(data: bytes, descriptions: dict[str, str]) -> bytes:
    """data, a link annotation's /Contents put in words if it is one."""
    target = LINK_TARGET.search(data) if descriptions and b"/Subtype /Link" in data else None
    if target is None:
        return data
    name = target[1][1:-1].decode("latin-1")
    if name not in descriptions:
        return data
    return data.replace(
        b"/Contents " + target[1], b"/Contents " + pydyf.String(descriptions[name]).data, 1
    )


def _add_bookmarks(pdf, parts):
    from weasyprint.pdf.anchors import add_outlines

    tree, first_page = [], 0
    for part in parts:
        tree += [_moved(bookmark, first_page) for bookmark in part.bookmarks]
        first_page += len(part.pages)
    add_outlines(pdf, tree)


def _moved(bookmark, pages: int):
    title, (page, x, y), children, state = bookmark
    return (title, (page + pages, x, y), [_moved(child, pages) for child in children], state)


def _metadata(shell: WrittenPart, title: str | None):
    import copy

    metadata = copy.copy(shell.metadata)
    if title:
        metadata.title = title
    return metadata


def _apply_variant(pdf, variant: str, metadata, compress: bool):
    """The variant's own entries (XMP metadata for PDF/UA and PDF/A), made for the joined file."""
    from types import SimpleNamespace

    from weasyprint.pdf import VARIANTS

    function, _ = VARIANTS[variant]
    function(pdf, SimpleNamespace(metadata=metadata), [], [], compress)


@contextlib.contextmanager
def subset_by_fonttools():
    """Subset the book's fonts with fontTools, whatever the system has.

    WeasyPrint 70 subsets with the system's libharfbuzz-subset when there is one and with
    fontTools otherwise, and the two give different bytes: the same sources would make a
    different PDF on a machine with Chromium or ImageMagick installed (they pull the library
    in). fontTools comes from the lock file, so every machine makes the same subsets.
    """
    import weasyprint.pdf.fonts as fonts
    from fontTools.subset import Subsetter

    previous, fonts.harfbuzz_subset = fonts.harfbuzz_subset, None
    chosen = _Dropped("Using fontTools instead of HarfBuzz-Subset")  # chosen here, not a problem
    logging.getLogger("weasyprint").addFilter(chosen)
    subset = Subsetter.subset
    Subsetter.subset = _dropping_first(subset)
    subset_font = fonts.Font._fonttools_subset
    fonts.Font._fonttools_subset = _kept(subset_font)
    try:
        yield
    finally:
        fonts.harfbuzz_subset = previous
        Subsetter.subset = subset
        fonts.Font._fonttools_subset = subset_font
        logging.getLogger("weasyprint").removeFilter(chosen)


#: The layout tables fontTools reads whole before it subsets (see _dropping_first).
LAYOUT_TABLES = ("GSUB", "GPOS")


def _dropping_first(subset):
    """fontTools' Subsetter.subset, with the layout tables it is told to drop dropped first.

    fontTools 4.68 decompiles GSUB and GPOS before it subsets a font, to convert them for
    fonts of more than 65,535 glyphs (fontTools/ttLib/beyond64k.py, _compact_layout_tables),
    and only then drops them: WeasyPrint drops both, and reading them was nine tenths of the
    time a subset took. Dropped first, they are never read; the subset is the same.
    """

    def subset_dropping_first(subsetter, font):
        for tag in LAYOUT_TABLES:
            if tag in subsetter.options.drop_tables and tag in font:
                del font[tag]
        return subset(subsetter, font)

    return subset_dropping_first


#: Subsets made in this process: (the font's SHA-256, its index in the file, its glyphs, hinting,
#: whether it has .notdef outlines) -> the subset font. The most recent SUBSETS_KEPT are kept.
_SUBSETS: collections.OrderedDict[tuple, bytes] = collections.OrderedDict()
SUBSETS_KEPT = 64


def _kept(subset_font):
    """WeasyPrint's Font._fonttools_subset, made once per font and set of glyphs in a process.

    The same font and glyphs give the same subset. A rebuild in --watch, where an edit seldom
    brings a new glyph, then subsets nothing again; nor do editions set in the same glyphs.
    """

    def subset_once(font, to_unicode, hinting):
        key = (
            hashlib.sha256(font.file_content).digest(),
            font.index,
            frozenset(to_unicode),
            hinting,
            bool(font.missing),
        )
        if key in _SUBSETS:
            _SUBSETS.move_to_end(key)
            font.file_content = _SUBSETS[key]
            return
        original = font.file_content
        subset_font(font, to_unicode, hinting)
        if font.file_content is not original:  # subset: fontTools could read the font
            _SUBSETS[key] = font.file_content
            while len(_SUBSETS) > SUBSETS_KEPT:
                _SUBSETS.popitem(last=False)

    return subset_once


class _Dropped(logging.Filter):
    def __init__(self, start: str):
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.start)


def marks_ending_the_page(page, mark_class: str) -> list[str]:
    """Index anchors that end the page's last line: the words they mark open the next page."""
    from weasyprint.formatting_structure.boxes import LineBox, TextBox

    lines = [box for box in page._page_box.children[0].descendants() if isinstance(box, LineBox)]
    trailing: list[str] = []
    for box in lines[-1].descendants() if lines else ():
        if isinstance(box, TextBox) and box.text.strip():
            trailing = []
        elif box.element is not None and box.element.get("class") == mark_class:
            trailing.append(box.element.get("id"))
    return trailing


class FastPath:
    """Parts written as soon as they are laid out, kept, sent between processes, then joined."""

    name = "fast"
    parallel = True  # its parts can be kept in build/cache/ and laid out in worker processes

    @staticmethod
    def write(document, variant: str | None) -> WrittenPart:
        return write_part(document, variant)

    @staticmethod
    def join(parts, shell, variant: str | None, labels, title: str | None = None) -> bytes:
        return join_written(parts, shell, variant, labels, title)

    marks_ending_the_page = staticmethod(marks_ending_the_page)
