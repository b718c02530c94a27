"""What HTML cannot say in a PDF: page labels, and the PDF/UA fix-ups of WeasyPrint's tags.

Both paths apply them as a PDF is written: the fast path's join (engine.py) and the
public path's finisher (join.py).
"""

from __future__ import annotations

# These work on the PDF's own objects (a pydyf PDF, as write_pdf hands it to its finisher):
# the structure tree, the parent tree and the pages' marked content, all as ISO 32000 and
# ISO 14289 define them. The public path calls them from its finisher; the fast path
# (engine.py) on each part as it is written, and link_description at the join.

#: An annotation's flags: printed (PDF/UA and PDF/A want print and screen to agree).
PRINT_FLAG = 4
#: Structure elements that mean nothing without content: an empty one is left out.
EMPTY_MEANS_NOTHING = ("/Link", "/Span", "/NonStruct")
#: A heading's structure type, one level up.
HEADING_UP = {f"/H{level}": f"/H{level - 1}" for level in range(2, 7)}
#: Points in a CSS pixel: WeasyPrint's boxes are in pixels, a PDF's user space in points.
PX = 0.75


def page_labels(runs):
    """The /PageLabels entry of a PDF's catalog: how readers number its pages.

    runs: (first page index, style, first number) for each run of pages, e.g. the front
    matter in lower-case roman from i, the body in arabic from 1. It is written with the
    joined book (join.py), so the PDF is never parsed again to label it.
    """
    import pydyf

    numbers = []
    for index, style, start in runs:
        numbers += [index, pydyf.Dictionary({"S": "/" + style, "St": start})]
    return pydyf.Dictionary({"Nums": pydyf.Array(numbers)})


def make_accessible(pdf) -> None:
    """Finish the tagging of a written PDF for PDF/UA-1.

    - every annotation is flagged to print (Matterhorn 28-xxx; outloud LNK-004);
    - running heads and folios (the page-margin boxes) become /Artifact marked content
      with no structure element: WeasyPrint tags them as content outside the tree
      (WeasyPrint issue #1836);
    - structure elements with nothing in them are left out: WeasyPrint tags every <a> as a
      /Link, and the book's index marks and note calls are empty anchors (<a id=…>) (the
      useless /Span elements of WeasyPrint issue #2482);
    - a link annotation that WeasyPrint put in a /Span (a block link with ::after content,
      as the contents' entries are) is moved to the /Link that holds that span (see
      WeasyPrint issues #1782 and #185, tags nested in links);
    - a table's header cells say what they head (/Scope): a column's in the table's head,
      a row's beside data cells (WeasyPrint issue #2508);
    - a table that runs over several pages is one /Table again, its head repeated on the
      later pages an artifact (WeasyPrint tags each page's part as a table of its own);
    - a figure's bounding box is in the page's user space, as ISO 32000-1 (14.8.5.4.3) has
      it: WeasyPrint 70 writes it in CSS pixels from the page's top (weasyprint/pdf/tags.py,
      not reported upstream yet), which makes a figure look four thirds of its size.
    """
    for obj in pdf.objects:
        if isinstance(obj, dict) and obj.get("Type") == "/Annot":
            obj["F"] = PRINT_FLAG
    if "StructTreeRoot" in pdf.catalog:
        tree = _StructureTree(pdf)
        tree.join_tables()  # first: the repeated heads it leaves out become artifacts below
        tree.margins_as_artifacts()
        tree.links_in_link_elements()  # first: a /Span it takes a link from may be left empty
        tree.leave_out_empty()
        tree.scope_headers()
        tree.figure_boxes_in_user_space()


def promote_headings(pdf) -> None:
    """Each heading one level up (/H2 becomes /H1…) in a document that has no /H1.

    A handout is joined from the book's chapters without its title page: its chapter titles
    (/H2 in the book) head it, as the document's first heading must be an /H1 (Matterhorn
    14-002).
    """
    if "StructTreeRoot" not in pdf.catalog:
        return
    tree = _StructureTree(pdf)
    elements = list(tree.elements())
    if any(element.get("S") == "/H1" for element in elements):
        return
    for element in elements:
        if element.get("S") in HEADING_UP:
            element["S"] = HEADING_UP[element["S"]]


def _number(reference) -> int:
    return int(bytes(reference).split()[0])


class _StructureTree:
    """A written PDF's structure tree and parent tree, to be mended in place."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.root = self.get(pdf.catalog["StructTreeRoot"])
        self.parent_tree = self.get(self.root["ParentTree"])["Nums"]

    def get(self, reference):
        return self.pdf.objects[_number(reference)]

    def elements(self, element=None):
        """Every structure element reachable from the root, parents before children."""
        element = self.root if element is None else element
        for kid in element.get("K", ()):
            if isinstance(kid, bytes):
                child = self.get(kid)
                if child.get("Type") == "/StructElem":
                    yield child
                    yield from self.elements(child)

    def entry(self, key):
        """The parent tree's value under key (a page's array, an annotation's element)."""
        keys = self.parent_tree[::2]
        return self.parent_tree[2 * keys.index(key) + 1]

    def margins_as_artifacts(self) -> None:
        """Marked content of no element in the tree (the margin boxes') made an artifact."""
        import pydyf

        reachable = {element.number for element in self.elements()}
        for page in self.pdf.page_references:
            page = self.get(page)
            elements = self.entry(page["StructParents"])
            kept = [mcid for mcid, element in enumerate(elements) if _number(element) in reachable]
            if len(kept) == len(elements):
                continue
            new = {old: position for position, old in enumerate(kept)}
            _as_artifacts(self.get(page["Contents"]).stream, new)
            for old in kept:  # ascending, and new <= old: no number is changed twice
                element = self.get(elements[old])
                kids = element["K"]
                kids[kids.index(old)] = new[old]
            elements[:] = [elements[old] for old in kept]
        for obj in self.pdf.objects:
            if (
                isinstance(obj, pydyf.Dictionary)
                and obj.get("Type") == "/StructElem"
                and obj.number not in reachable
            ):
                obj.clear()  # no longer referred to; written as an empty dictionary

    def leave_out_empty(self, element=None) -> bool:
        """Drop the empty /Link, /Span and /NonStruct elements under element; whether it's empty."""
        element = self.root if element is None else element
        kept = []
        for kid in element.get("K", ()):
            child = self.get(kid) if isinstance(kid, bytes) else None
            if (
                child is not None
                and child.get("Type") == "/StructElem"
                and self.leave_out_empty(child)
            ):
                child.clear()
                continue
            kept.append(kid)
        element["K"][:] = kept
        return not kept and element.get("S") in EMPTY_MEANS_NOTHING

    def links_in_link_elements(self) -> None:
        """Each link annotation's object reference in a /Link element (Matterhorn 28-011)."""
        pages = len(self.pdf.page_references)
        for key, value in zip(self.parent_tree[::2], self.parent_tree[1::2], strict=True):
            if key < pages:
                continue
            element = self.get(value)
            if element.get("S") == "/Link":
                continue
            holder = element
            while holder.get("S") not in ("/Link", "/StructTreeRoot", None):
                holder = self.get(holder["P"])
            if holder.get("S") != "/Link":
                element["S"] = "/Link"
                continue
            for kid in list(element["K"]):
                if isinstance(kid, bytes) and self.get(kid).get("Type") == "/OBJR":
                    element["K"].remove(kid)
                    holder["K"].append(kid)
            index = self.parent_tree.index(key, 0)
            while index % 2:  # a key, not a value equal to it
                index = self.parent_tree.index(key, index + 1)
            self.parent_tree[index + 1] = holder.reference

    def kids(self, element) -> list:
        """The structure elements among element's kids, in order."""
        found = []
        for kid in element.get("K", ()):
            if isinstance(kid, bytes):
                child = self.get(kid)
                if child.get("Type") == "/StructElem":
                    found.append(child)
        return found

    def page_index(self, element) -> int:
        """The index of the page element is on (each part of a table is on one page)."""
        return self.pdf.page_references.index(element["Pg"])

    def join_tables(self) -> None:
        """Each table's parts on later pages moved into its first part, their heads left out.

        WeasyPrint tags each page's part of an element as an element of its own, its parents
        too: a long table is a /Table on each page, each in its page's part of the section.
        A later part follows the part on the page before, next in reading order, with a head
        of as many cells and no caption: the head WeasyPrint repeats on each page. Left out
        of the tree, its marked content becomes an artifact of pagination
        (margins_as_artifacts), so a screen reader says the head once.
        """
        tables = [element for element in self.elements() if element.get("S") == "/Table"]
        first = None
        for previous, table in zip([None, *tables], tables, strict=False):
            if first is None or previous is None or not self._continues(previous, table):
                first = table
                continue
            head, *rest = self.kids(table)
            for part in rest:
                part["P"] = first.reference
                first["K"].append(part.reference)
            parent = self.get(table["P"])
            parent["K"].remove(table.reference)
            table.clear()
            head.clear()

    def _continues(self, previous, table) -> bool:
        """Whether table is the part of previous's table on the next page (join_tables)."""
        parts, earlier = self.kids(table), self.kids(previous)
        if (
            not parts
            or parts[0].get("S") != "/THead"
            or any(p.get("S") == "/Caption" for p in parts)
        ):
            return False
        heads = [part for part in earlier if part.get("S") == "/THead"]
        return (
            bool(heads)
            and "Pg" in table
            and "Pg" in previous
            and self.page_index(table) == self.page_index(previous) + 1
            and self._cells(heads[0]) == self._cells(parts[0])
            and self._next_in_reading_order(previous, table)
        )

    def _next_in_reading_order(self, earlier, later) -> bool:
        """Whether nothing stands between earlier and later: each is the last (first) kid of
        its parents' parts up to the part they share."""
        up_earlier, up_later = self._ancestors(earlier), self._ancestors(later)
        shared = next((a for a in up_earlier if any(a is b for b in up_later)), None)
        if shared is None:
            return False
        branch_earlier = self._branch(earlier, shared, last=True)
        branch_later = self._branch(later, shared, last=False)
        if branch_earlier is None or branch_later is None:
            return False
        kids = self.kids(shared)
        positions = [index for index, kid in enumerate(kids) if kid is branch_earlier]
        return bool(positions) and kids[positions[0] + 1 : positions[0] + 2] == [branch_later]

    def _ancestors(self, element) -> list:
        found = []
        while element.get("P") is not None and element is not self.root:
            element = self.get(element["P"])
            found.append(element)
        return found

    def _branch(self, element, shared, last: bool):
        """shared's kid that holds element, if element is its last (first) descendant at each
        level down; else None."""
        while True:
            parent = self.get(element["P"])
            if parent is shared:
                return element
            kids = self.kids(parent)
            if not kids or kids[-1 if last else 0] is not element:
                return None
            element = parent

    def _cells(self, head) -> int:
        return sum(len(self.kids(row)) for row in self.kids(head))

    def figure_boxes_in_user_space(self) -> None:
        """Each /Figure's /BBox from CSS pixels down the page to points up it (make_accessible)."""
        for element in self.elements():
            attributes = element.get("A")
            if element.get("S") != "/Figure" or not isinstance(attributes, dict):
                continue
            box = attributes.get("BBox")
            if box is None or "Pg" not in element:
                continue
            import pydyf

            page = self.get(element["Pg"])
            left, _, _, top = (float(value) for value in page["MediaBox"])
            x1, y1, x2, y2 = (float(value) * PX for value in box)
            attributes["BBox"] = pydyf.Array((left + x1, top - y2, left + x2, top - y1))

    def scope_headers(self) -> None:
        """/Scope on each /TH: /Column in the table's head or a row of headers only, else /Row.

        WeasyPrint reads <th scope="row"> to link data cells to their headers but writes no
        /Scope, which PDF/UA checkers look for (pdfua UA-15-003). See WeasyPrint issue #2508.
        """
        for row in self.elements():
            if row.get("S") != "/TR":
                continue
            cells = [self.get(kid) for kid in row["K"] if isinstance(kid, bytes)]
            heads = self.get(row["P"]).get("S") == "/THead"
            scope = "/Column" if heads or all(cell.get("S") == "/TH" for cell in cells) else "/Row"
            for cell in cells:
                if cell.get("S") == "/TH":
                    cell.setdefault("A", {})["Scope"] = scope


def _as_artifacts(operations: list, new: dict) -> None:
    """In a content stream's operations, make each marked content whose MCID is not in new
    an artifact of pagination, and number the rest anew."""
    import pydyf

    for index, operation in enumerate(operations):
        if isinstance(operation, dict) and "MCID" in operation and operations[index + 1] == b"BDC":
            mcid = operation["MCID"]
            if mcid in new:
                operation["MCID"] = new[mcid]
            else:
                operations[index - 1] = "/Artifact"
                operations[index] = pydyf.Dictionary({"Type": "/Pagination"})


def page_label(index: int, runs) -> str:
    """How a reader numbers the page at index, by the page-label runs (see page_labels)."""
    start_index, style, start = max(
        (run for run in runs if run[0] <= index), key=lambda run: run[0], default=(0, "D", 1)
    )
    number = start + index - start_index
    return _roman(number) if style == "r" else str(number)


def _roman(number: int) -> str:
    numerals = (
        ("m", 1000),
        ("cm", 900),
        ("d", 500),
        ("cd", 400),
        ("c", 100),
        ("xc", 90),
        ("l", 50),
        ("xl", 40),
        ("x", 10),
        ("ix", 9),
        ("v", 5),
        ("iv", 4),
        ("i", 1),
    )
    text = ""
    for numeral, value in numerals:
        while number >= value:
            text, number = text + numeral, number - value
    return text


def link_descriptions(destinations: dict, headings, runs) -> dict[str, str]:
    """What each internal link leads to, in words: 'page 12', or 'The Gulag, page 9'.

    destinations: anchor name -> (page index, y) where it is; headings: (page index, y,
    title) of each bookmark, the book's headings; runs: the page labels. A link's own
    /Contents would otherwise be its target's id, which a screen reader reads out as is.
    """
    titles: dict = {}
    for page, y, title in headings:
        titles.setdefault((page, round(y)), title)
    descriptions = {}
    for name, (page, y) in destinations.items():
        where = f"page {page_label(page, runs)}"
        title = titles.get((page, round(y)))
        descriptions[name] = f"{title}, {where}" if title else where
    return descriptions


def describe_links(pdf, runs) -> None:
    """The public path's: each internal link's /Contents in words (see link_descriptions)."""
    import pydyf

    if "Names" not in pdf.catalog or "Dests" not in pdf.catalog["Names"]:
        return
    pages = {_number(reference): index for index, reference in enumerate(pdf.page_references)}
    names = pdf.catalog["Names"]["Dests"]["Names"]
    destinations = {
        str(name.string): (pages[_number(dest[0])], dest[3])
        for name, dest in zip(names[::2], names[1::2], strict=True)
    }
    headings = []
    if "Outlines" in pdf.catalog:
        outline = pdf.objects[_number(pdf.catalog["Outlines"])]
        headings = list(_outline_headings(pdf, outline.get("First"), pages))
    descriptions = link_descriptions(destinations, headings, runs)
    for obj in pdf.objects:
        if isinstance(obj, dict) and obj.get("Subtype") == "/Link" and "Dest" in obj:
            target = str(obj["Dest"].string)
            if target in descriptions:
                obj["Contents"] = pydyf.String(descriptions[target])


def _outline_headings(pdf, reference, pages):
    while reference is not None:
        item = pdf.objects[_number(reference)]
        dest = item["Dest"]
        yield pages[_number(dest[0])], dest[3], str(item["Title"].string)
        yield from _outline_headings(pdf, item.get("First"), pages)
        reference = item.get("Next")
