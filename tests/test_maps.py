"""Maps drawn from data (kind: map): a numbered figure in every edition, labels that overlap
nothing, a conic projection, a true scale bar, and bad data reported with path:line."""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pypdfium2
import pytest
from conftest import BOOKS, ROOT, build_quietly, fails, write
from pdfpages import BookPdf, squash

from bookpress.cli import main
from bookpress.fonts import font_directories
from bookpress.load import load_book
from bookpress.maps import Place, drawn_map

SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PLACES = [
    "Solovki (SLON)",
    "Belbaltlag",
    "Vorkuta (Vorkutlag)",
    "Norilsk (Norillag)",
    "Karaganda (Karlag)",
    "Kolyma (Sevvostlag)",
    "Butovo",
    "Kurapaty",
]
CREDIT = "Base map: Natural Earth (public domain)"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The map test book (tests/books/maps) with the real layout, built once into every product
    its tests read (all but the booklet): (the project, its build folder)."""
    root = tmp_path_factory.mktemp("maps") / "project"
    shutil.copytree(BOOKS / "maps", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    (root / "assets").mkdir()
    build = root.parent / "build"
    products = [
        f"--product={name}"
        for name in ("book", "handouts", "teacher", "large-print", "web", "epub")
    ]
    assert build_quietly("--root", str(root), *products, "--build-dir", str(build)) == 0
    return root, build


@pytest.fixture(scope="module")
def the_map(built):
    """The map as the load stage laid it out: its projection and where it draws a point."""
    figures = [figure for chapter in load_book(built[0]).chapters for _, figure in chapter.figures]
    assert [figure.kind for figure in figures] == ["map"]
    return figures[0].map


@pytest.fixture(scope="module")
def drawing(built) -> ET.Element:
    """The map's SVG as the web edition carries it inline."""
    page = (built[1] / "book.html").read_text(encoding="utf-8")
    found = re.findall(r'<svg\b[^>]*class="figure-svg map-svg".*?</svg>', page, re.DOTALL)
    assert len(found) == 1
    return ET.fromstring(found[0])


# --- the figure in print --------------------------------------------------------------------


def test_the_map_is_a_numbered_figure_with_caption_and_credit_on_the_page_its_reference_names(
    built,
):
    pdf = BookPdf(built[1] / "book.pdf")
    text = squash(" ".join(pdf.body_text(i) for i in range(len(pdf.pages))))
    references = re.findall(r"Figure (\d+) on page (\d+) shows", text)
    assert references == [("1", "1")]
    page = squash(pdf.body_text(pdf.index_of_label("1")))
    assert "Figure 1. Six camp complexes of the Gulag and two execution sites" in page
    assert CREDIT in page
    for name in ("Kolyma (Sevvostlag)", "Norilsk (Norillag)", "Camp complex", "2,000 km"):
        assert name in page, name  # drawn as text, in the book's typefaces, not a picture
    objects = pdf.pages[pdf.index_of_label("1")]["/Resources"].get("/XObject", {})
    assert not [
        name for name, item in objects.items() if item.get_object().get("/Subtype") == "/Image"
    ]


@pytest.mark.parametrize(
    "product", ["book.pdf", "large-print.pdf", "teacher.pdf", "handouts/01-camps.pdf"]
)
def test_every_print_edition_draws_the_map_with_its_credit(built, product):
    pdf = BookPdf(built[1] / product)
    # The map's own page, and the picture-credits page that lists it.
    pages = [i for i in range(len(pdf.pages)) if CREDIT in squash(pdf.body_text(i))]
    drawn = [i for i in pages if "Kolyma (Sevvostlag)" in squash(pdf.body_text(i))]
    assert len(drawn) == 1
    credits = [i for i in pages if i not in drawn]
    assert len(credits) == (0 if product.startswith("handouts") else 1)
    assert all("Picture credits" in squash(pdf.body_text(i)) for i in credits)


def test_the_map_is_drawn_in_colour_on_the_page(built):
    """Rasterised: the land's fill and the markers' red are on the page, not an empty frame."""
    pdf = BookPdf(built[1] / "book.pdf")
    index = pdf.index_of_label("1")
    document = pypdfium2.PdfDocument(str(built[1] / "book.pdf"))
    image = document[index].render(scale=1).to_pil().convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    land = sum(count for count, (r, g, b) in colours if (r, g, b) == (0xEC, 0xE6, 0xDC))
    red = sum(count for count, (r, g, b) in colours if r > 100 and g < 60 and b < 60)
    assert land > image.width * image.height * 0.05 and red > 30


# --- labels ---------------------------------------------------------------------------------


def _label_face():
    """(advance of each character, ascent, descent) per unit of font size, read from the book's
    sans-serif with fontTools."""
    from fontTools.ttLib import TTFont

    with TTFont(font_directories()[1] / "SourceSansPro-Regular.ttf") as font:
        em = font["head"].unitsPerEm
        widths = {
            chr(code): font["hmtx"][glyph][0] / em for code, glyph in font.getBestCmap().items()
        }
        return widths, font["OS/2"].sTypoAscender / em, -font["OS/2"].sTypoDescender / em


def _boxes(
    drawing: ET.Element, css_class: str
) -> list[tuple[str, tuple[float, float, float, float]]]:
    widths, ascent, descent = _label_face()
    found = []
    for group in drawing.iter(SVG + "g"):
        size = float(group.get("font-size", 0))
        for text in group.iter(SVG + "text"):
            if text.get("class") == css_class:
                x, y = float(text.get("x")), float(text.get("y"))
                width = sum(widths[character] for character in text.text) * size
                found.append((text.text, (x, y - ascent * size, x + width, y + descent * size)))
    return found


def test_every_place_is_labelled_and_no_two_labels_overlap(drawing):
    labels = _boxes(drawing, "map-label")
    assert sorted(name for name, _ in labels) == sorted(PLACES)
    for index, (name, box) in enumerate(labels):
        for other, other_box in labels[index + 1 :]:
            apart = (
                box[2] <= other_box[0]
                or other_box[2] <= box[0]
                or box[3] <= other_box[1]
                or other_box[3] <= box[1]
            )
            assert apart, f"the labels '{name}' and '{other}' overlap"


def test_every_label_is_inside_the_frame_and_clear_of_the_markers(drawing):
    frame = next(rect for rect in drawing.iter(SVG + "rect") if rect.get("class") == "map-frame")
    x0, y0 = float(frame.get("x")), float(frame.get("y"))
    x1, y1 = x0 + float(frame.get("width")), y0 + float(frame.get("height"))
    centres = [
        (float(circle.get("cx")), float(circle.get("cy")))
        for circle in drawing.iter(SVG + "circle")
    ]
    assert len(centres) >= 6
    for name, (left, top, right, bottom) in _boxes(drawing, "map-label"):
        assert x0 < left and right < x1 and y0 < top and bottom < y1, f"'{name}' runs off the map"
        for x, y in centres:
            covers = left - 3.5 < x < right + 3.5 and top - 3.5 < y < bottom + 3.5
            assert not covers, f"'{name}' covers a marker"


def test_a_label_with_no_room_is_left_out_with_a_warning_naming_its_line(project, capsys):
    places = "".join(
        f"  - name: Camp number {number}\n    lat: 60.0\n    lon: {100 + number * 0.01}\n"
        for number in range(10)
    )
    write(project, "figure.yml", "kind: map\nplaces:\n" + places)
    write(project, "01-first.md", '---\ntitle: One\n---\n\n![Ten camps](figure.yml "Ten camps.")\n')
    assert main(["--root", str(project), "--check"]) == 0
    err = capsys.readouterr().err
    assert re.search(
        r"chapters/figure\.yml:\d+: the label 'Camp number \d' finds no place beside", err
    )
    lines = re.findall(r"chapters/figure\.yml:(\d+): the label", err)
    assert lines and all(
        int(line) % 3 == 0 for line in lines
    )  # each place's '- name:' line: 3, 6, …


# --- the projection and the scale bar -------------------------------------------------------


def test_the_markers_stand_where_the_projection_puts_the_places(the_map, drawing):
    drawn = [
        (float(circle.get("cx")), float(circle.get("cy")))
        for circle in drawing.iter(SVG + "circle")
    ]
    expected = [
        the_map.to_drawing(marker.place.lat, marker.place.lon)
        for marker in the_map.markers
        if marker.shape == "circle"
    ]
    expected += [
        (entry.marker.x, entry.marker.y) for entry in the_map.key if entry.marker.shape == "circle"
    ]
    assert len(drawn) == len(expected) == 7  # six camps, and the key's camp
    for point in expected:
        assert any(math.dist(point, found) < 0.02 for found in drawn), point


def test_meridians_converge_northwards(the_map):
    """Not a latitude-longitude grid: 20 degrees of longitude are narrower at 70°N than at 45°N,
    about in the ratio of the parallels' lengths (cos 70° / cos 45°, as on the globe)."""

    def spacing(lat):
        (x1, y1), (x2, y2) = the_map.to_drawing(lat, 90), the_map.to_drawing(lat, 110)
        return math.hypot(x2 - x1, y2 - y1)

    ratio = spacing(70) / spacing(45)
    assert ratio < 0.6
    assert ratio == pytest.approx(math.cos(math.radians(70)) / math.cos(math.radians(45)), rel=0.12)
    assert "conic" in the_map.projection.name


def _great_circle_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    cosine = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0 * math.acos(min(1.0, cosine))


def _scale_bar(drawing: ET.Element) -> tuple[float, int]:
    """(the bar's length in the drawing's units, the km its label says), read from the SVG."""
    group = next(g for g in drawing.iter(SVG + "g") if g.get("class") == "map-scale")
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", group.find(SVG + "path").get("d"))]
    label = next(t for t in drawing.iter(SVG + "text") if t.get("class") == "map-scale-label")
    return numbers[3] - numbers[0], int(label.text.replace(",", "").removesuffix(" km"))


def _units_per_km_at_the_centre(the_map) -> float:
    """Measured on the projection: two points half a degree apart at the frame's centre."""
    x, y, width, height = the_map.frame
    west, north, units = the_map.origin
    lat, lon = the_map.projection.inverse(west + width / 2 / units, north - height / 2 / units)
    (xa, ya), (xb, yb) = the_map.to_drawing(lat, lon - 0.25), the_map.to_drawing(lat, lon + 0.25)
    return math.hypot(xb - xa, yb - ya) / _great_circle_km(lat, lon - 0.25, lat, lon + 0.25)


def test_the_scale_bar_is_true_at_the_centre_of_the_map(the_map, drawing):
    length, kilometres = _scale_bar(drawing)
    assert kilometres in (500, 1000, 2000) and 40 < length <= 120
    assert length / kilometres == pytest.approx(_units_per_km_at_the_centre(the_map), rel=0.02)


def test_a_map_about_the_equator_is_mercators_and_its_bar_true_too(tmp_path):
    (tmp_path / "chapters").mkdir()
    shutil.copytree(ROOT / "layout", tmp_path / "layout")
    places = (Place("Quito", -0.2, -78.5, "", 3), Place("Bogotá", 4.7, -74.1, "", 6))
    drawn = drawn_map((-85, -8, -65, 8), (), places, CREDIT, tmp_path / "chapters" / "map.yml")
    assert drawn.projection.name == "Mercator"
    bar = drawn.scale_bar
    assert bar.length / bar.kilometres == pytest.approx(
        _units_per_km_at_the_centre(drawn), rel=0.02
    )


# --- the screen editions --------------------------------------------------------------------


def test_the_web_edition_carries_the_drawing_and_a_list_of_the_places_by_category(built):
    page = (built[1] / "book.html").read_text(encoding="utf-8")
    figure = re.search(r'<figure class="figure figure-map".*?</figure>', page, re.DOTALL)[0]
    assert 'role="img"' in figure and 'aria-label="Map of the Soviet Union' in figure
    listed = re.search(
        r'<ul class="figure-data map-list" hidden>(.*?)</ul>\s*<figcaption', figure, re.DOTALL
    )[1]
    categories = re.findall(r'<span class="map-list-category">([^<]+)</span>', listed)
    assert categories == ["Camp complex", "Execution site"]
    assert [
        html.unescape(name) for name in re.findall(r"<li\b[^>]*>([^<]+)</li>", listed)
    ] == PLACES
    caption = re.search(r"<figcaption>(.*?)</figcaption>", figure, re.DOTALL)[1]
    assert f'<span class="credit">{CREDIT}</span>' in caption


PROBE = """<script>
addEventListener("load", () => {
  const shown = (element) => getComputedStyle(element).display !== "none"
    && element.getClientRects().length > 0;
  const figure = document.querySelector("figure.figure-map");
  const svg = figure.querySelector("svg"), list = figure.querySelector(".map-list");
  const sizes = Array.from(svg.querySelectorAll("text")).map((text) => {
    const matrix = text.getScreenCTM();
    return parseFloat(getComputedStyle(text).fontSize) * Math.hypot(matrix.a, matrix.b);
  });
  parent.postMessage(JSON.stringify({ drawing: shown(svg), list: shown(list),
    smallest: shown(svg) ? Math.min(...sizes) : null, overflow: document.documentElement.scrollWidth }), "*");
});
</script></body>"""
FRAME = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>probe</title></head>
<body style="margin: 0">
<iframe src="{src}" title="book" style="border: 0; width: {width}px; height: 1500px"></iframe>
<script>addEventListener("message", (event) => {{ const out = document.createElement("pre");
  out.id = "probe-result"; out.textContent = event.data; document.body.appendChild(out); }});</script>
</body></html>
"""


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed here (Debian: apt install chromium)"
)
@pytest.mark.parametrize("width, drawn", [(320, False), (390, False), (1280, True)])
def test_a_phone_shows_the_list_and_a_wide_screen_the_drawing_in_text_of_12_px(
    built, tmp_path, width, drawn
):
    page = tmp_path / "book.html"
    text = (built[1] / "book.html").read_text(encoding="utf-8")
    page.write_text(text.replace("</body>", PROBE, 1), encoding="utf-8")
    frame = tmp_path / "frame.html"
    frame.write_text(FRAME.format(src=html.escape(page.as_uri()), width=width), encoding="utf-8")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={max(width, 500) + 20},1500",
        "--virtual-time-budget=10000",
        "--dump-dom",
        frame.as_uri(),
    ]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=180, check=True).stdout
    found = json.loads(
        html.unescape(re.search(r'<pre id="probe-result">(.*?)</pre>', dom, re.DOTALL)[1])
    )
    assert found["drawing"] is drawn and found["list"] is not drawn
    assert found["overflow"] <= max(width, 1280)
    if drawn:
        assert found["smallest"] >= 12


def test_the_epub_draws_the_map_inline_in_a_document_that_says_so(built):
    with zipfile.ZipFile(built[1] / "book.epub") as epub:
        package = epub.read("EPUB/package.opf").decode()
        documents = {
            name: epub.read(name).decode() for name in epub.namelist() if name.endswith(".xhtml")
        }
    holding = [name for name, text in documents.items() if 'class="figure-svg map-svg"' in text]
    assert len(holding) == 1
    svg = ET.fromstring(re.search(r"<svg\b.*?</svg>", documents[holding[0]], re.DOTALL)[0])
    assert svg.get("viewBox").startswith("0 0 600 ")
    item = re.search(rf'<item [^>]*href="{re.escape(Path(holding[0]).name)}"[^>]*>', package)[0]
    assert 'properties="svg"' in item or re.search(r'properties="[^"]*\bsvg\b', item)


# --- bad map data ---------------------------------------------------------------------------


MAP = (
    "kind: map\ncategories:\n  camp: {label: Camp complex}\n"
    "places:\n  - name: Vorkuta\n    lat: 67.5\n"
)
ONE = "places:\n  - {name: A, lat: 50, lon: 30}\n"  # a place that is right
FILE = "chapters/figure.yml"
BAD_MAPS = [  # (case, the data file, what the build says)
    (
        "a latitude beyond the pole",
        MAP.replace("67.5", "95") + "    lon: 64.0\n",
        f"{FILE}:6: the lat of 'Vorkuta' is 95, outside −90 to 90",
    ),
    (
        "a longitude in words",
        MAP + "    lon: sixty-four\n",
        f"{FILE}:7: the lon of 'Vorkuta' is 'sixty-four', not a number",
    ),
    (
        "a longitude beyond 180",
        MAP + "    lon: 200\n",
        f"{FILE}:7: the lon of 'Vorkuta' is 200, outside −180 to 180",
    ),
    (
        "a latitude with a degree sign",
        MAP.replace("67.5", "67.5°") + "    lon: 64.0\n",
        f"{FILE}:6: the lat of 'Vorkuta' is '67.5°', not a number",
    ),
    ("no longitude", MAP, f"{FILE}:5: 'Vorkuta' has no lon"),
    (
        "an unknown category",
        MAP + "    lon: 64.0\n    category: cmap\n",
        f"{FILE}:8: unknown category 'cmap' for 'Vorkuta'",
    ),
    (
        "a category when there are none",
        "kind: map\nplaces:\n  - name: A\n    lat: 1\n    lon: 2\n    category: camp\n",
        f"{FILE}:6: 'A' has the category 'camp', but the map has no categories",
    ),
    (
        "a place outside the region",
        MAP.replace("places:", "region: [20, 40, 60, 78]\nplaces:") + "    lon: 64.0\n",
        f"{FILE}:6: 'Vorkuta' (67.5, 64.0) lies outside the map's region [20, 40, 60, 78]",
    ),
    (
        "a region of three numbers",
        "kind: map\nregion: [20, 40, 60]\n" + ONE,
        f"{FILE}:2: the region should be four numbers, not a list",
    ),
    (
        "a region east to west",
        "kind: map\nregion: [60, 40, 20, 78]\n" + ONE,
        f"{FILE}:2: the region's west and east (60, 20) should be longitudes",
    ),
    (
        "a region over the pole",
        "kind: map\nregion: [20, 40, 60, 90]\n" + ONE,
        f"{FILE}:2: the region's south and north (40, 90) should be latitudes from −85 to 85",
    ),
    (
        "a region too small",
        "kind: map\nregion: [29.5, 49.5, 30.2, 50.2]\n" + ONE,
        f"{FILE}:2: the region is smaller than 1° each way",
    ),
    (
        "no places",
        "kind: map\nregion: [20, 40, 60, 78]\n",
        f"{FILE}:1: a map needs a list of places",
    ),
    (
        "too many places",
        "kind: map\nplaces:\n" + "  - {name: A, lat: 1, lon: 2}\n" * 41,
        f"{FILE}:2: the map has 41 places; at most 40",
    ),
    (
        "a place that is not a mapping",
        "kind: map\nplaces:\n  - Vorkuta\n",
        f"{FILE}:3: this entry is 'Vorkuta', not a place",
    ),
    (
        "an unknown key in a place",
        MAP + "    lon: 64\n    colour: red\n",
        f"{FILE}:8: unknown key 'colour'",
    ),
    (
        "a place without a name",
        "kind: map\nplaces:\n  - lat: 1\n    lon: 2\n",
        f"{FILE}:3: this place has no name",
    ),
    (
        "a name that is a number",
        "kind: map\nplaces:\n  - name: 1937\n    lat: 1\n    lon: 2\n",
        f"{FILE}:3: 'name' should be text, not the number 1937",
    ),
    (
        "a latitude that is .nan",
        MAP.replace("67.5", ".nan") + "    lon: 64.0\n",
        f"{FILE}:6: the lat of 'Vorkuta' is '.nan', not a number",
    ),
    (
        "a name too long",
        "kind: map\nplaces:\n  - name: " + "x" * 45 + "\n    lat: 1\n    lon: 2\n",
        f"{FILE}:3: the name is 45 characters long; at most 40 fit beside a marker",
    ),
    (
        "categories as a list",
        "kind: map\ncategories: [camp]\n" + ONE,
        f"{FILE}:2: 'categories' should be a group of keys, not a list",
    ),
    (
        "too many categories",
        "kind: map\ncategories:\n" + "".join(f"  c{n}: {{label: C}}\n" for n in range(7)) + ONE,
        f"{FILE}:2: the map has 7 categories",
    ),
    (
        "a category without a label",
        "kind: map\ncategories:\n  camp: {marker: square}\n" + ONE,
        f"{FILE}:3: 'label' is empty",
    ),
    (
        "a category that is text",
        "kind: map\ncategories:\n  camp: Camp complex\n" + ONE,
        f"{FILE}:3: the category 'camp' should have a label, not 'Camp complex'",
    ),
    (
        "an unknown marker",
        "kind: map\ncategories:\n  camp: {label: Camp, marker: star}\n" + ONE,
        f"{FILE}:3: unknown marker 'star'",
    ),
    (
        "an unknown key in a category",
        "kind: map\ncategories:\n  camp: {label: Camp, colour: red}\n" + ONE,
        f"{FILE}:3: unknown key 'colour'",
    ),
    (
        "a credit that is a number",
        "kind: map\ncredit: 1937\n" + ONE,
        f"{FILE}:2: 'credit' should be text, not the number 1937",
    ),
    (
        "an unknown key of the map",
        "kind: map\nregoin: [20, 40, 60, 78]\n" + ONE,
        f"{FILE}:2: unknown key 'regoin'",
    ),
]


@pytest.mark.parametrize("case, data, message", BAD_MAPS, ids=[case for case, _, _ in BAD_MAPS])
def test_bad_map_data(broken, capsys, case, data, message):
    write(broken, "figure.yml", data)
    write(broken, "01-first.md", '---\ntitle: One\n---\n\n![A map](figure.yml "A caption.")\n')
    assert message in fails(broken, capsys)


def test_every_problem_of_a_map_is_reported_at_once(broken, capsys):
    write(
        broken,
        "figure.yml",
        MAP.replace("67.5", "95") + "    lon: 64\n    category: gulag\n"
        "  - name: Norilsk\n    lat: 69.3\n    lon: east\n",
    )
    write(broken, "01-first.md", '---\ntitle: One\n---\n\n![A map](figure.yml "A caption.")\n')
    err = fails(broken, capsys)
    assert (
        "figure.yml:6: the lat of 'Vorkuta' is 95" in err
        and "figure.yml:11: the lon of 'Norilsk'" in err
    )


def test_a_base_map_that_cannot_be_read(broken, capsys):
    (broken / "layout" / "maps" / "world-50m.json").write_text("{", encoding="utf-8")
    write(broken, "figure.yml", MAP + "    lon: 64.0\n")
    write(broken, "01-first.md", '---\ntitle: One\n---\n\n![A map](figure.yml "A caption.")\n')
    message = "layout/maps/world-50m.json: the base map of the book's maps cannot be read"
    assert message in fails(broken, capsys)
