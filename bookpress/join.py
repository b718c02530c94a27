"""Write stage: each laid-out part becomes PDF objects of its own; a book is its parts joined.

WeasyPrint writes one document at a time, and a laid-out page (a box tree bound to Pango)
can neither be kept on disk nor outlive the process. Written apart, a chapter is plain PDF
objects: it can be kept, reused when its source has not changed, and its pages freed as
soon as it is written. Joining renumbers the parts' objects into one file and makes once
what a document has once: the page tree, the structure tree (tags), the named
destinations that links point to, the outline, and one subset of each font, made from the
glyphs of every part (WeasyPrint keeps glyph ids when it subsets, so every part's drawing
stays valid).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import zlib
from dataclasses import dataclass

import pydyf

from .errors import LOGGER

REFERENCE = re.compile(rb"(\d+) 0 R")
PAGE_TREE = 1  # pydyf numbers a document's page tree 1


@dataclass(frozen=True)
class WrittenPart:
    """A part of the book (a chapter, the index, the front matter…) as PDF objects."""

    objects: tuple  # pydyf objects; an object's number in the part is its index
    pages: tuple[int, ...]  # numbers of its page objects, in order
    fonts_number: int  # the stand-in for the fonts the part uses (the joined book makes them)
    structure: tuple[int, int, int] | None  # tree root, parent tree, Document element
    parent_keys: int  # how many parent-tree keys the part uses (pages, then annotations)
    names: tuple  # (anchor, destination) for each anchor on its pages
    bookmarks: tuple  # WeasyPrint's bookmark tree, pages counted from the part's first
    fonts: tuple  # (font key, font state) for each font its pages use
    font_files: tuple  # (digest, font file) for each file those fonts come from
    catalog: dict  # its catalog's own entries (language, viewer preferences…)
    info: dict  # its document information (title, dates, producer)
    metadata: object  # weasyprint DocumentMetadata, for the joined file's XMP


class _Capture:
    """What WeasyPrint's writer is kept from doing per part, done once per book instead."""

    def __init__(self):
        self.fonts = None
        self.fonts_dictionary = None
        self.bookmarks = ()

    def build_fonts_dictionary(self, pdf, fonts, compress, subset, options):
        self.fonts = dict(fonts)
        self.fonts_dictionary = pydyf.Dictionary()
        return self.fonts_dictionary

    def add_outlines(self, pdf, bookmarks, parent=None):
        self.bookmarks = tuple(bookmarks)
        return [], 0


def _resolve_links_across_parts(pages):
    """WeasyPrint's own, except that a link to an anchor in another part is kept."""
    for page in pages:
        anchors = [(name, x, y) for name, (x, y, _, _) in page.anchors.items()]
        yield list(page.links), anchors


@contextlib.contextmanager
def _part_writer(capture: _Capture):
    import weasyprint.pdf as writer
    originals = {name: getattr(writer, name) for name in ("build_fonts_dictionary", "add_outlines", "resolve_links")}
    writer.build_fonts_dictionary = capture.build_fonts_dictionary
    writer.add_outlines = capture.add_outlines
    writer.resolve_links = _resolve_links_across_parts
    try:
        yield writer
    finally:
        for name, function in originals.items():
            setattr(writer, name, function)


def pdf_options(variant: str | None) -> dict:
    """WeasyPrint's write options for a variant (None: tagged PDF/UA-1 off, plain PDF)."""
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
    # Anchors come out of WeasyPrint as one name tree per part; they are joined by name.
    names = pdf.catalog.get("Names", {}).get("Dests", {}).get("Names", [])
    root = pdf.catalog.get("StructTreeRoot")
    structure = None
    parent_keys = 0
    if root is not None:
        tree = pdf.objects[_number(root)]
        parent_tree = pdf.objects[_number(tree["ParentTree"])]
        structure = (_number(root), _number(tree["ParentTree"]), _number(tree["K"][0]))
        parent_keys = max(parent_tree["Nums"][::2], default=-1) + 1
    font_files = {}
    fonts = []
    for key, font in capture.fonts.items():
        state = {name: value for name, value in vars(font).items() if name not in ("hb_font", "hb_face")}
        digest = hashlib.sha256(state.pop("file_content")).hexdigest()
        font_files.setdefault(digest, _FONT_FILES.setdefault(digest, font.file_content))
        fonts.append((key, {**state, "file_digest": digest}))
    catalog = {key: value for key, value in pdf.catalog.items()
               if key not in ("Type", "Pages", "Names", "StructTreeRoot", "Outlines", "Metadata")}
    return WrittenPart(
        objects=tuple(_frozen(obj) for obj in pdf.objects),
        pages=tuple(_number(reference) for reference in pdf.page_references),
        fonts_number=capture.fonts_dictionary.number,
        structure=structure,
        parent_keys=parent_keys,
        names=tuple(zip(names[::2], names[1::2])),
        bookmarks=capture.bookmarks,
        fonts=tuple(fonts),
        font_files=tuple(font_files.items()),
        catalog=catalog,
        info=dict(pdf.info),
        metadata=document.metadata,
    )


_FONT_FILES: dict[str, bytes] = {}  # one copy of each font file, however many parts use it


def _number(reference) -> int:
    return int(REFERENCE.fullmatch(reference)[1])


def _frozen(obj):
    """A stream with its data compressed once, as pydyf would write it; other objects as they are."""
    if not isinstance(obj, pydyf.Stream):
        return obj
    data = b"\n".join(pydyf._to_bytes(item) for item in obj.stream)
    extra = pydyf.Dictionary(obj.extra.copy())
    if obj.compress:
        extra["Filter"] = "/FlateDecode"
        compressor = zlib.compressobj(level=9)
        data = compressor.compress(data) + compressor.flush()
    frozen = pydyf.Stream([data], extra, compress=False)
    frozen.number = obj.number
    return frozen


@contextlib.contextmanager
def page_references_cached():
    """Let WeasyPrint's tagging look up a page's reference in constant time.

    pydyf (0.13) rebuilds the tuple of every page's reference each time it is read, and
    WeasyPrint reads it once per structure element: a tagged book of 1,000 pages spent
    two thirds of its writing time there. The cached tuple is the same one, rebuilt
    whenever a page is added, so the PDF does not change by a byte.
    """
    import pydyf
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

def join(parts, shell: WrittenPart, variant: str | None, labels, title: str | None = None) -> bytes:
    """One PDF of the parts' pages, in order; the document's own entries come from shell.

    parts: WrittenPart for each run of pages; a part may come more than once (a blank page).
    title: the document's title, when it is not the shell's (a handout).
    """
    from .finish import page_labels
    options = pdf_options(variant)
    compress = not options["uncompressed_pdf"]
    pdf = pydyf.PDF()
    joiner = _Joiner(pdf)
    metadata = _metadata(shell, title)
    with page_references_cached():
        pages = [joiner.add(part) for part in parts]
        pdf.pages["Kids"] = pydyf.Array(item for page in sum(pages, []) for item in (page, 0, "R"))
        pdf.pages["Count"] = len(pdf.pages["Kids"]) // 3
        joiner.finish_fonts(parts, compress, options)
        joiner.finish_structure(shell)
        joiner.finish_names()
        _add_bookmarks(pdf, parts)
        for key, value in shell.catalog.items():
            pdf.catalog[key] = joiner.copied_from_shell(shell, value)
        pdf.info.update(shell.info)
        if title:
            pdf.info["Title"] = pydyf.String(title)
        if variant:
            _apply_variant(pdf, variant, metadata, compress)
        page_labels(labels)(None, pdf)
        output = io.BytesIO()
        pdf.write(output, options["pdf_version"], options["pdf_identifier"], compress)
    return output.getvalue()


class _Joiner:
    """Copies parts' objects into one pydyf PDF, numbering them anew."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.fonts = pydyf.Dictionary()
        pdf.add_object(self.fonts)
        self.structure_root = pydyf.Dictionary({"Type": "/StructTreeRoot"})
        self.parent_tree = pydyf.Dictionary({"Nums": pydyf.Array()})
        self.document = pydyf.Dictionary({"Type": "/StructElem", "S": "/Document", "K": pydyf.Array()})
        self.tagged = False
        self.names: dict[str, object] = {}
        self.next_key = 0
        self.maps: dict[int, dict] = {}  # id of a part -> its numbering the first time it was added

    def add(self, part: WrittenPart) -> list[int]:
        """Copy a part's pages and all they use; returns the new numbers of its pages."""
        self.numbers = {part.fonts_number: self.fonts.number, PAGE_TREE: self.pdf.pages.number}
        self.maps.setdefault(id(part), self.numbers)
        self.offset = self.next_key
        if part.structure:
            root, parent_tree, document = part.structure
            self._ensure_structure()
            self.numbers.update({root: self.structure_root.number, parent_tree: self.parent_tree.number,
                                 document: self.document.number})
            parts_tree = part.objects[parent_tree]["Nums"]
            for key, value in zip(parts_tree[::2], parts_tree[1::2]):
                self.parent_tree["Nums"].extend([key + self.offset, self.copied(part, value)])
            self.document["K"].extend(self.copied(part, part.objects[document]["K"]))
            self.next_key += part.parent_keys
        pages = [self._copy(part, number) for number in part.pages]
        for page in pages:
            self.pdf.objects[page]["Parent"] = self.pdf.pages.reference
        for name, destination in part.names:
            self.names.setdefault(name.string, self.copied(part, destination))
        return pages

    def copied(self, part: WrittenPart, value):
        """value with the part's references turned into the joined file's (objects copied as met)."""
        if isinstance(value, bytes) and REFERENCE.fullmatch(value):
            return b"%d 0 R" % self._copy(part, int(value.split()[0]))
        if isinstance(value, pydyf.Dictionary):
            copy = pydyf.Dictionary({key: self.copied(part, item) for key, item in value.items()})
            for key in ("StructParents", "StructParent"):
                if key in copy:
                    copy[key] += self.offset
            return copy
        if isinstance(value, pydyf.Array):
            return pydyf.Array(self.copied(part, item) for item in value)
        if isinstance(value, pydyf.Stream):
            return pydyf.Stream(value.stream, self.copied(part, pydyf.Dictionary(value.extra)), compress=False)
        return value

    def _copy(self, part: WrittenPart, number: int) -> int:
        if number not in self.numbers:
            # Numbered before copying: objects refer to each other in cycles (parent and kids).
            placeholder = pydyf.Object()
            self.pdf.add_object(placeholder)
            self.numbers[number] = placeholder.number
            copy = self.copied(part, part.objects[number])
            copy.number = self.numbers[number]
            self.pdf.objects[copy.number] = copy
        return self.numbers[number]

    def copied_from_shell(self, shell: WrittenPart, value):
        """A value of the shell's catalog; its objects are those already copied, if it was."""
        self.numbers = self.maps.get(id(shell)) or {shell.fonts_number: self.fonts.number,
                                                    PAGE_TREE: self.pdf.pages.number}
        self.offset = 0
        return self.copied(shell, value)

    def _ensure_structure(self):
        if not self.tagged:
            self.tagged = True
            for obj in (self.parent_tree, self.structure_root, self.document):
                self.pdf.add_object(obj)
            self.structure_root["ParentTree"] = self.parent_tree.reference
            self.structure_root["K"] = pydyf.Array([self.document.reference])
            self.document["P"] = self.structure_root.reference
            self.pdf.catalog["StructTreeRoot"] = self.structure_root.reference

    def finish_structure(self, shell):
        if self.tagged:
            self.structure_root["ParentTreeNextKey"] = self.next_key

    def finish_names(self):
        if self.names:
            array = pydyf.Array()
            for name in sorted(self.names):
                array += [pydyf.String(name), self.names[name]]
            self.pdf.catalog["Names"] = pydyf.Dictionary({"Dests": pydyf.Dictionary({"Names": array})})

    def finish_fonts(self, parts, compress, options):
        """One font dictionary per font, made by WeasyPrint from the glyphs of every part."""
        from weasyprint.pdf.fonts import build_fonts_dictionary
        fonts = _joined_fonts(parts)
        built = build_fonts_dictionary(self.pdf, fonts, compress, not options["full_fonts"], options)
        self.fonts.update(built)


def _joined_fonts(parts) -> dict:
    from weasyprint.pdf.fonts import Font

    class JoinedFont(Font):
        def __init__(self, state, file_content):
            self.__dict__.update(state)
            self.file_content = file_content
            self.hb_face = _harfbuzz_face(file_content, state["index"])

    files = {digest: content for part in parts for digest, content in part.font_files}
    fonts: dict = {}
    seen = set()
    for part in parts:
        if id(part) in seen:
            continue
        seen.add(id(part))
        for key, state in part.fonts:
            if key not in fonts:
                fonts[key] = JoinedFont({**state, "widths": dict(state["widths"]),
                                         "to_unicode": dict(state["to_unicode"]),
                                         "missing": dict(state["missing"])}, files[state["file_digest"]])
                continue
            font = fonts[key]
            font.widths.update(state["widths"])
            font.to_unicode.update(state["to_unicode"])
            font.used_in_forms = font.used_in_forms or state["used_in_forms"]
            for codepoint, glyph in state["missing"].items():
                if font.missing.setdefault(codepoint, glyph) != glyph:
                    LOGGER.warning("%s has no glyph for %r", font.family, chr(codepoint))
    return fonts


def _harfbuzz_face(content: bytes, index: int):
    """A HarfBuzz face of a font file, for WeasyPrint's subsetter (it otherwise takes Pango's)."""
    from weasyprint.text.ffi import _dlopen, ffi, harfbuzz
    global _FACES
    if _FACES is None:
        from cffi import FFI
        faces = FFI()
        faces.cdef("""
            typedef struct hb_blob_t hb_blob_t;
            typedef struct hb_face_t hb_face_t;
            hb_blob_t * hb_blob_create (const char *data, unsigned int length, int mode,
                                        void *user_data, void *destroy);
            hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);
            void hb_blob_destroy (hb_blob_t *blob);
        """)
        _FACES = faces, _dlopen(faces, "libharfbuzz-0", "harfbuzz", "harfbuzz-0.0", "libharfbuzz.so.0",
                                "libharfbuzz.0.dylib", "libharfbuzz-0.dll")
    faces, library = _FACES
    blob = library.hb_blob_create(content, len(content), 0, faces.NULL, faces.NULL)  # 0: HarfBuzz copies the data
    face = library.hb_face_create(blob, index)
    library.hb_blob_destroy(blob)  # the face holds its own reference
    return ffi.gc(ffi.cast("hb_face_t *", faces.cast("uintptr_t", face)), harfbuzz.hb_face_destroy)


_FACES = None  # (cffi FFI, HarfBuzz) for _harfbuzz_face, made on first use


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
