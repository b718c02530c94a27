"""Maps drawn from data: places checked with their lines, projected and labelled over a base map.

A map's data file (kind: map) lists places by latitude and longitude. They are drawn over
the land and the borders of layout/maps/world-50m.json (Natural Earth, simplified by
layout/maps/make_base_map.py) in Lambert's conformal conic projection, with standard
parallels at a sixth and five sixths of the region's latitudes. The Soviet Union alone
spans 170 degrees of longitude and 40 of latitude: on a plain latitude-longitude grid the
Arctic coast would be stretched to two and a half times its length. A conic keeps the
shapes (it is conformal) and the scale within a few per cent across such a band, and,
because the scale at a point is the same in every direction, the scale bar holds at the
middle of the map whichever way it is read. Near the equator the cone opens into a
cylinder: there the projection is Mercator's, the same projection's limit.

Everything is worked out as the data file is read, in the drawing's own units (600 wide,
layout/figure-map.svg): the template only prints it. Labels are measured with the advance
widths of the book's own sans-serif and put beside their markers where they overlap no other
label or marker and stay inside the frame; a label that finds no such place is left out,
with a warning naming its line.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import BookError, raise_all, warn
from .sources import YamlDocument, describe, did_you_mean, shown, text_problem, unknown_key

MAP_KEYS = ("kind", "region", "credit", "categories", "places")
PLACE_KEYS = ("name", "lat", "lon", "category")
CATEGORY_KEYS = ("label", "marker")
MARKERS = ("circle", "square", "triangle", "diamond")
#: The categories' colours, in order; the shapes tell them apart where colours do not (in
#: black and white, and in a screen's forced colours).
COLOURS = ("#7a1f1f", "#2f4f6f", "#2f5f3a", "#5a3a78", "#8a5a00", "#444444")
UNCATEGORISED = ("circle", "#1a1a1a")
MAX_CATEGORIES = len(COLOURS)  # a key of more is not read
MAX_PLACES = 40  # more labels than this do not fit on a page-wide map
MAX_NAME = 40  # characters of a place's name: longer ones find no room beside a marker
BASE_MAP = Path("maps") / "world-50m.json"  # in layout/
DEFAULT_CREDIT = "Base map: Natural Earth (public domain)"
MAX_LATITUDE = 85  # a conic cannot show the pole opposite its cone's apex
MIN_SPAN = 1  # degrees each way: a town plan is not drawn from a world map
EARTH_RADIUS = 6371.0  # km: the sphere the map is projected from
WIDTH = 600  # of the drawing, in its units; web.css shows it at 600 px or more on a screen
MAX_MAP_HEIGHT = 450  # the frame of a tall region is made narrower instead
LABEL_SIZE = 12  # the smallest text web.css allows in a drawing 600 units wide
LABEL_FONT = "SourceSansPro-Regular.ttf"
LABEL_GAP = 6.5  # between a marker's centre and its label
MARKER_RADIUS = 4.5
LABEL_PADDING = 1.0  # kept clear around each label
OWN_CLEARANCE = MARKER_RADIUS + 1  # between a label and its own marker
#: Between a label and another place's marker: wider, so that a label is never read as
#: belonging to the marker beside it rather than its own.
CLEARANCE = MARKER_RADIUS + 5
KEY_ROW = 20  # the height of a row of the key below the map
SEARCH_STEPS = 20000  # label positions tried before the search settles for fewer labels
LAT_HINT = "latitude is −90 (south pole) to 90 (north pole); north of the equator is positive"
LON_HINT = (
    "longitude is −180 to 180; east of Greenwich is positive (Moscow 37.6, Kolyma 150.8), "
    "west negative (Mexico City −99.1)"
)


# --- what a map's data file holds ----------------------------------------------------------


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    marker: str
    colour: str


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    category: str  # the name of its category, or '' for none
    line: int  # in the data file


def load_map(document: YamlDocument) -> MapFigure:
    """The map a data file describes, checked and drawn; every problem found at once."""
    errors: list[BookError] = []
    categories = _collect(errors, _categories, document) or ()
    region = _collect(errors, _region, document)
    places = _collect(errors, _places, document, categories, region)
    credit = _collect(errors, _credit, document)
    raise_all(errors)
    region = region or fitted_region(places)
    return drawn_map(region, categories, places, credit, document.path)


def _collect(errors: list[BookError], function, *arguments):
    try:
        return function(*arguments)
    except BookError as error:
        errors.append(error)
    return None


def _credit(document: YamlDocument) -> str:
    value = document.get("credit")
    if value is None:
        return DEFAULT_CREDIT
    problem = text_problem("credit", value)
    if problem:
        raise document.error("credit", *problem)
    return " ".join(value.split())


def _number(value) -> float | None:
    """value, if it is a number YAML read as one (not yes/no, not .nan); kept as written
    (62, not 62.0) for the messages that quote it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return value


def _region(document: YamlDocument) -> tuple[float, float, float, float] | None:
    """[west, south, east, north] in degrees, or None when the map fits itself to its places."""
    value = document.get("region")
    if value is None:
        return None
    hint = "write region: [west, south, east, north] in degrees, e.g. region: [20, 40, 180, 78]"
    read = [_number(item) for item in value] if isinstance(value, list) else []
    numbers = [number for number in read if number is not None]
    if len(read) != 4 or len(numbers) != 4:
        raise document.error(
            "region", f"the region should be four numbers, not {describe(value)}", hint
        )
    west, south, east, north = numbers
    if not (-180 <= west < east <= 180):
        raise document.error(
            "region",
            f"the region's west and east ({shown(west)}, {shown(east)}) "
            "should be longitudes from −180 to 180, west first",
            LON_HINT,
        )
    if not (-MAX_LATITUDE <= south < north <= MAX_LATITUDE):
        raise document.error(
            "region",
            f"the region's south and north ({shown(south)}, {shown(north)}) "
            f"should be latitudes from −{MAX_LATITUDE} to {MAX_LATITUDE}, south first",
            "a map of the poles is not drawn; " + hint,
        )
    if east - west < MIN_SPAN or north - south < MIN_SPAN:
        raise document.error(
            "region",
            f"the region is smaller than {MIN_SPAN}° each way",
            "widen it, or leave region out to fit the map to its places",
        )
    return west, south, east, north


def _categories(document: YamlDocument) -> tuple[Category, ...]:
    value = document.get("categories")
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise document.error(
            "categories",
            f"'categories' should be a group of keys, not {describe(value)}",
            "write each category on its own line below it: '  camp: {label: Camp complex}'",
        )
    if len(value) > MAX_CATEGORIES:
        raise document.error(
            "categories",
            f"the map has {len(value)} categories; "
            f"a key of more than {MAX_CATEGORIES} is hard to read",
            "merge some of them",
        )
    lines = document.key_lines("categories")
    errors, categories = [], []
    for number, (name, entry) in enumerate(value.items()):
        line = lines.get(str(name), document.line_of("categories"))
        try:
            categories.append(_category(name, entry, number, document.path, line))
        except BookError as error:
            errors.append(error)
    raise_all(errors)
    return tuple(categories)


def _category(name, entry, number: int, path: Path, line: int) -> Category:
    if not isinstance(entry, dict):
        raise BookError(
            path,
            line,
            f"the category '{shown(name)}' should have a label, not {describe(entry)}",
            f"write {shown(name)}: {{label: What it is}}",
        )
    for key in entry:
        if key not in CATEGORY_KEYS:
            raise BookError(path, line, *unknown_key(key, CATEGORY_KEYS))
    problem = text_problem("label", entry.get("label"))
    if problem:
        raise BookError(path, line, *problem)
    marker = entry.get("marker", MARKERS[number % len(MARKERS)])
    if marker not in MARKERS:
        raise BookError(
            path,
            line,
            f"unknown marker '{shown(marker)}'",
            did_you_mean(marker, MARKERS) or f"the markers are: {', '.join(MARKERS)}",
        )
    return Category(str(name), " ".join(entry["label"].split()), marker, COLOURS[number])


def _places(document: YamlDocument, categories, region) -> tuple[Place, ...]:
    entries = document.get("places")
    if not isinstance(entries, list) or not entries:
        raise document.error(
            "places" if "places" in document.data else None,
            "a map needs a list of places",
            "list them under 'places:', each starting with '- name:' "
            "and with lat: and lon: below it",
        )
    if len(entries) > MAX_PLACES:
        raise document.error(
            "places",
            f"the map has {len(entries)} places; at most {MAX_PLACES} can be labelled on a page",
            "split it into two maps of smaller regions",
        )
    errors, places = [], []
    for number, (entry, line) in enumerate(document.items("places")):
        try:
            places.append(
                _place(
                    entry,
                    line,
                    document.key_lines("places", number),
                    document.path,
                    categories,
                    region,
                )
            )
        except BookError as error:
            errors.append(error)
    raise_all(errors)
    return tuple(places)


def _place(entry, line: int, lines: dict[str, int], path: Path, categories, region) -> Place:
    if not isinstance(entry, dict):
        raise BookError(
            path,
            line,
            f"this entry is {describe(entry)}, not a place",
            "write each place as '- name: …' with 'lat: …' and 'lon: …' below it",
        )
    for key in entry:
        if key not in PLACE_KEYS:
            raise BookError(path, lines.get(str(key), line), *unknown_key(key, PLACE_KEYS))
    name = _place_name(entry, path, line)
    lat = _coordinate(entry, "lat", 90, LAT_HINT, path, lines.get("lat", line), name)
    lon = _coordinate(entry, "lon", 180, LON_HINT, path, lines.get("lon", line), name)
    category = _place_category(entry, categories, path, lines.get("category", line), name)
    if region is not None and not (region[0] <= lon <= region[2] and region[1] <= lat <= region[3]):
        raise BookError(
            path,
            line,
            f"'{shown(name)}' ({shown(lat)}, {shown(lon)}) lies outside "
            f"the map's region [{', '.join(map(shown, region))}]",
            "check its lat and lon (north and east are positive), or widen the region "
            "(west, south, east, north), or leave region out to fit the map to its places",
        )
    return Place(name, lat, lon, category, line)


def _place_name(entry: dict, path: Path, line: int) -> str:
    value = entry.get("name")
    problem = text_problem("name", value)
    if problem or value is None:
        raise BookError(
            path,
            line,
            "this place has no name" if value is None or not problem else problem[0],
            "add name: what the label on the map says"
            if value is None or not problem
            else problem[1],
        )
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        raise BookError(
            path,
            line,
            f"the name is {len(name)} characters long; at most {MAX_NAME} fit beside a marker",
            "shorten it; the text can say more",
        )
    return name


def _coordinate(
    entry: dict, key: str, limit: int, hint: str, path: Path, line: int, name: str
) -> float:
    value = entry.get(key)
    if value is None:
        raise BookError(
            path, line, f"'{shown(name)}' has no {key}", f"add {key}: a number of degrees; {hint}"
        )
    number = _number(value)
    if number is None:
        what = (
            "'.nan'" if isinstance(value, float) else describe(value)
        )  # a float _number refused is .nan
        raise BookError(
            path,
            line,
            f"the {key} of '{shown(name)}' is {what}, not a number",
            f"write degrees as a decimal number, without quotes or °: {key}: 62.5 "
            f"(62° 30′ is 62.5); {hint}",
        )
    if not -limit <= number <= limit:
        raise BookError(
            path,
            line,
            f"the {key} of '{shown(name)}' is {shown(value)}, outside −{limit} to {limit}",
            hint,
        )
    return number


def _place_category(entry: dict, categories, path: Path, line: int, name: str) -> str:
    value = entry.get("category")
    if value is None:
        return ""
    names = [category.name for category in categories]
    if str(value) in names:
        return str(value)
    if not names:
        raise BookError(
            path,
            line,
            f"'{shown(name)}' has the category '{shown(value)}', but the map has no categories",
            f"add them above the places: 'categories:' with a line "
            f"'  {shown(value)}: {{label: What it is}}' below it",
        )
    raise BookError(
        path,
        line,
        f"unknown category '{shown(value)}' for '{shown(name)}'",
        did_you_mean(value, names) or f"the categories are: {', '.join(names)}",
    )


def fitted_region(places) -> tuple[float, float, float, float]:
    """A region around the places, with room for their labels: an eighth of its size and at
    least two degrees on every side."""
    lats, lons = [place.lat for place in places], [place.lon for place in places]
    lat_pad = max(2.0, (max(lats) - min(lats)) / 8)
    lon_pad = max(2.0, (max(lons) - min(lons)) / 8)
    return (
        max(-180.0, min(lons) - lon_pad),
        max(-MAX_LATITUDE, min(lats) - lat_pad),
        min(180.0, max(lons) + lon_pad),
        min(MAX_LATITUDE, max(lats) + lat_pad),
    )


# --- the projection ------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """Lambert's conformal conic on a sphere, in km; Mercator's where the cone is too flat."""

    lon0: float  # the central meridian, degrees
    parallels: tuple[float, float]  # the standard parallels, degrees (equal for Mercator)
    n: float  # the cone's constant; 0 for Mercator
    f: float  # Lambert's F, or Mercator's scale on the equator

    @classmethod
    def for_region(cls, west: float, south: float, east: float, north: float) -> Projection:
        """Standard parallels at a sixth and five sixths of the region's latitudes, where the
        scale errors at the middle and at the edges come out about equal."""
        first, second = south + (north - south) / 6, north - (north - south) / 6
        one, two = math.radians(first), math.radians(second)
        n = math.log(math.cos(one) / math.cos(two)) / math.log(_t(two) / _t(one))
        if abs(n) < 0.05:  # a region about the equator: the cone's apex is far off the page
            middle = (south + north) / 2
            return cls((west + east) / 2, (middle, middle), 0.0, math.cos(math.radians(middle)))
        return cls((west + east) / 2, (first, second), n, math.cos(one) * _t(one) ** n / n)

    @property
    def name(self) -> str:
        if not self.n:
            return "Mercator"
        return "Lambert conformal conic, standard parallels {:.1f}° and {:.1f}°".format(
            *self.parallels
        )

    def forward(self, lat: float, lon: float) -> tuple[float, float]:
        """(x, y) in km, y northwards, for a point of the sphere; lon need not be in −180…180."""
        phi, lam = math.radians(lat), math.radians(lon - self.lon0)
        if not self.n:
            return EARTH_RADIUS * self.f * lam, EARTH_RADIUS * self.f * math.log(_t(phi))
        rho, theta = self._rho(phi), self.n * lam
        return rho * math.sin(theta), -rho * math.cos(theta)

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        """(lat, lon) of a point of the plane; lon measured on from the central meridian,
        so that it may pass 180 (the geographic clip box is continuous)."""
        if not self.n:
            return (
                math.degrees(2 * math.atan(math.exp(y / (EARTH_RADIUS * self.f))) - math.pi / 2),
                self.lon0 + math.degrees(x / (EARTH_RADIUS * self.f)),
            )
        sign = 1 if self.n > 0 else -1
        rho = sign * math.hypot(x, y)
        theta = math.atan2(sign * x, -sign * y)
        if rho == 0:
            return 90.0 * sign, self.lon0
        phi = 2 * math.atan((EARTH_RADIUS * self.f / rho) ** (1 / self.n)) - math.pi / 2
        return math.degrees(phi), self.lon0 + math.degrees(theta / self.n)

    def scale(self, lat: float) -> float:
        """The scale factor at a latitude: km on the plane per km on the sphere, the same in
        every direction (the projection is conformal)."""
        phi = math.radians(lat)
        if not self.n:
            return self.f / math.cos(phi)
        return self.n * self._rho(phi) / (EARTH_RADIUS * math.cos(phi))

    def _rho(self, phi: float) -> float:
        return EARTH_RADIUS * self.f / _t(phi) ** self.n


def _t(phi: float) -> float:
    return math.tan(math.pi / 4 + phi / 2)


# --- the drawing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    text: str
    x: float  # the left of the text
    y: float  # its baseline
    width: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1): see label_box."""
        return label_box(self)


@dataclass(frozen=True)
class Marker:
    shape: str
    colour: str
    x: float
    y: float
    place: Place | None  # None: a marker in the key
    label: Label | None


@dataclass(frozen=True)
class KeyEntry:
    marker: Marker
    label: Label


@dataclass(frozen=True)
class ScaleBar:
    x: float
    y: float
    length: float  # drawing units
    kilometres: int
    label: Label


@dataclass(frozen=True)
class MapFigure:
    """A map laid out in the drawing's units: the template only prints it."""

    region: tuple[float, float, float, float]
    projection: Projection
    frame: tuple[float, float, float, float]  # x, y, width, height
    height: float  # of the whole drawing, the key below the frame included
    origin: tuple[float, float, float]  # the frame's west and north edges in km, units per km
    land: str  # SVG path data
    borders: str
    graticule: str
    markers: tuple[Marker, ...]
    key: tuple[KeyEntry, ...]
    scale_bar: ScaleBar | None  # None until the frame is known
    categories: tuple[Category, ...]
    credit: str

    def to_drawing(self, lat: float, lon: float) -> tuple[float, float]:
        """Where a point of the sphere is drawn, in the drawing's units."""
        x, y = self.projection.forward(lat, lon)
        west, north, units = self.origin
        return self.frame[0] + (x - west) * units, self.frame[1] + (north - y) * units

    def groups(self) -> list[tuple[str, list[str]]]:
        """(category label, place names) in the key's order, the places without one last:
        the map as a list, for screens too narrow for the drawing."""
        places = [marker.place for marker in self.markers if marker.place is not None]
        groups = [
            (category.label, [place.name for place in places if place.category == category.name])
            for category in self.categories
        ]
        others = [place.name for place in places if not place.category]
        groups += [("Places" if not self.categories else "Other places", others)]
        return [(label, names) for label, names in groups if names]


def drawn_map(region, categories, places, credit: str, path: Path) -> MapFigure:
    projection = Projection.for_region(*region)
    west, north, units, frame = _frame(projection, region)
    layout = MapFigure(
        region,
        projection,
        frame,
        0.0,
        (west, north, units),
        "",
        "",
        "",
        (),
        (),
        None,
        categories,
        credit,
    )  # a first version, to project with
    clip = _clip_box(projection, layout)
    base = base_map(path.parent.parent / "layout" / BASE_MAP)
    markers = _markers(layout, places, categories, path)
    key, key_height = _key(layout, markers, categories)
    return replace(
        layout,
        height=round(frame[1] + frame[3] + key_height, 1),
        land=_path(_polygons(base.land, clip, layout), closed=True),
        borders=_path(_lines(base.borders, clip, layout)),
        graticule=_path(_lines(_graticule(clip, region), clip, layout)),
        markers=markers,
        key=key,
        scale_bar=_scale_bar(layout),
    )


def _frame(projection: Projection, region):
    """The region's outline projected, and the rectangle around it fitted to the drawing:
    (west and north edges in km, drawing units per km, frame)."""
    outline = [projection.forward(lat, lon) for lat, lon in _outline(region, 48)]
    xs, ys = [x for x, _ in outline], [y for _, y in outline]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    units = min((WIDTH - 2) / width, MAX_MAP_HEIGHT / height)
    frame_width, frame_height = width * units, height * units
    frame = (
        round((WIDTH - frame_width) / 2, 3),
        1.0,
        round(frame_width, 3),
        round(frame_height, 3),
    )
    return min(xs), max(ys), units, frame


def _outline(region, steps: int) -> list[tuple[float, float]]:
    """(lat, lon) points along the edges of a region, steps to each edge."""
    west, south, east, north = region
    points = []
    for i in range(steps):
        along = i / steps
        points += [
            (south, west + (east - west) * along),
            (south + (north - south) * along, east),
            (north, east - (east - west) * along),
            (north - (north - south) * along, west),
        ]
    return points


def _clip_box(projection: Projection, layout: MapFigure) -> tuple[float, float, float, float]:
    """The latitudes and longitudes the frame shows, with a degree to spare: land is cut to them
    before it is projected, so that nothing from the far side of the globe comes round."""
    x0, y0, width, height = layout.frame
    west, north, units = layout.origin
    points = []
    for i in range(65):
        along = i / 64
        for fx, fy in ((along, 0), (along, 1), (0, along), (1, along)):
            points.append(
                projection.inverse(west + fx * width / units, north - fy * height / units)
            )
    lats, lons = [lat for lat, _ in points], [lon for _, lon in points]
    pole = 90 if projection.n >= 0 else -90
    px, py = layout.to_drawing(pole, projection.lon0) if projection.n else (-1, -1)
    if x0 <= px <= x0 + width and 1 <= py <= 1 + height:  # the pole is on the map: all round it
        lons = [projection.lon0 - 180, projection.lon0 + 180]
        lats.append(pole)
    return (
        max(min(lons) - 1, projection.lon0 - 179.9),
        max(min(lats) - 1, -89.9),
        min(max(lons) + 1, projection.lon0 + 179.9),
        min(max(lats) + 1, 89.9),
    )


def _graticule(clip, region) -> list[list[tuple[float, float]]]:
    """Meridians and parallels at a round step, as (lon, lat) lines over the clip box."""
    span = max(region[2] - region[0], region[3] - region[1])
    step = next((step for step in (1, 2, 5, 10, 15, 20, 30) if span / step <= 8), 30)
    west, south, east, north = clip
    lines: list[list[tuple[float, float]]] = []
    for lon in range(math.ceil(west / step) * step, math.floor(east / step) * step + 1, step):
        lines.append([(lon, south), (lon, north)])
    for lat in range(math.ceil(south / step) * step, math.floor(north / step) * step + 1, step):
        lines.append([(west, lat), (east, lat)])
    return lines


# --- the base map: land and borders, cut to the map and projected ----------------------------


@dataclass(frozen=True)
class BaseMap:
    land: tuple[tuple[tuple[float, float], ...], ...]  # rings of (lon, lat)
    borders: tuple[tuple[tuple[float, float], ...], ...]
    attribution: str


@functools.cache
def base_map(path: Path) -> BaseMap:
    """The land and borders of layout/maps/ (read once per process)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        steps = data["steps_per_degree"]
        return BaseMap(
            tuple(_decoded(ring, steps) for ring in data["land"]),
            tuple(_decoded(line, steps) for line in data["borders"]),
            data["attribution"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        raise BookError(
            path,
            None,
            "the base map of the book's maps cannot be read",
            "restore it from the repository, or make it again: see layout/maps/README.md",
        ) from None


def _decoded(numbers: list[int], steps: int) -> tuple[tuple[float, float], ...]:
    """Points written as the first position and then each step from the one before."""
    x = y = 0
    points = []
    for index in range(0, len(numbers), 2):
        x, y = x + numbers[index], y + numbers[index + 1]
        points.append((x / steps, y / steps))
    return tuple(points)


def _shifted(shape, clip):
    """The shape as seen from the map: moved by a turn of the globe if that brings it nearer
    the central meridian (a shape is continuous, but the map may straddle 180°)."""
    lons = [lon for lon, _ in shape]
    for turn in (-360, 0, 360):
        if min(lons) + turn <= clip[2] and max(lons) + turn >= clip[0]:
            yield [(lon + turn, lat) for lon, lat in shape] if turn else list(shape)


def _polygons(rings, clip, layout: MapFigure) -> list[list[tuple[float, float]]]:
    frame = _frame_box(layout)
    drawn = []
    for ring in rings:
        lats = [lat for _, lat in ring]
        if min(lats) > clip[3] or max(lats) < clip[1]:
            continue
        for shape in _shifted(ring, clip):
            cut = clip_ring(shape, clip)
            if len(cut) >= 3:
                projected = clip_ring(
                    [layout.to_drawing(lat, lon) for lon, lat in _densified(cut + cut[:1])], frame
                )
                if len(projected) >= 3:
                    drawn.append(projected)
    return drawn


def _lines(lines, clip, layout: MapFigure) -> list[list[tuple[float, float]]]:
    frame = _frame_box(layout)
    drawn = []
    for line in lines:
        for shape in _shifted(line, clip):
            for piece in clip_line(shape, clip):
                projected = [layout.to_drawing(lat, lon) for lon, lat in _densified(piece)]
                drawn += clip_line(projected, frame)
    return drawn


def _frame_box(layout: MapFigure) -> tuple[float, float, float, float]:
    x, y, width, height = layout.frame
    return x, y, x + width, y + height


def _densified(points, step: float = 1.0) -> list[tuple[float, float]]:
    """Points added along every leg longer than step degrees: a parallel is curved on a conic,
    and a leg drawn straight between its ends would cut across the map."""
    dense = [points[0]]
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        count = math.ceil(max(abs(x2 - x1), abs(y2 - y1)) / step)
        dense += [(x1 + (x2 - x1) * i / count, y1 + (y2 - y1) * i / count) for i in range(1, count)]
        dense.append((x2, y2))
    return dense


def clip_ring(points, box) -> list[tuple[float, float]]:
    """Sutherland and Hodgman: a ring cut to a box (x0, y0, x1, y1), one edge at a time."""
    for axis, limit, below in (
        (0, box[0], False),
        (0, box[2], True),
        (1, box[1], False),
        (1, box[3], True),
    ):
        if not points:
            break
        kept, previous = [], points[-1]
        for point in points:
            inside = point[axis] <= limit if below else point[axis] >= limit
            was_inside = previous[axis] <= limit if below else previous[axis] >= limit
            if inside != was_inside:
                kept.append(_crossing(previous, point, axis, limit))
            if inside:
                kept.append(point)
            previous = point
        points = kept
    return points


def _crossing(start, end, axis: int, limit: float) -> tuple[float, float]:
    along = (limit - start[axis]) / (end[axis] - start[axis])
    return start[0] + (end[0] - start[0]) * along, start[1] + (end[1] - start[1]) * along


def clip_line(points, box) -> list[list[tuple[float, float]]]:
    """The pieces of a line inside a box: Liang and Barsky's cut of each leg, joined where
    one leg goes on from the last."""
    pieces: list[list[tuple[float, float]]] = []
    for start, end in itertools.pairwise(points):
        leg = _clipped_leg(start, end, box)
        if leg is None:
            continue
        if pieces and pieces[-1][-1] == leg[0]:
            pieces[-1].append(leg[1])
        else:
            pieces.append(list(leg))
    return pieces


def _clipped_leg(start, end, box):
    (x1, y1), (x2, y2) = start, end
    dx, dy = x2 - x1, y2 - y1
    low, high = 0.0, 1.0
    for p, q in ((-dx, x1 - box[0]), (dx, box[2] - x1), (-dy, y1 - box[1]), (dy, box[3] - y1)):
        if p == 0:
            if q < 0:
                return None
            continue
        ratio = q / p
        if p < 0:
            low = max(low, ratio)
        else:
            high = min(high, ratio)
        if low > high:
            return None
    first = start if low == 0 else (x1 + dx * low, y1 + dy * low)
    last = end if high == 1 else (x1 + dx * high, y1 + dy * high)
    return first, last


def _path(shapes, closed: bool = False) -> str:
    """SVG path data with a tenth of a unit's precision; a point that rounds like the one
    before it is written once."""
    parts = []
    for shape in shapes:
        points: list[str] = []
        for x, y in shape:
            point = f"{x:.1f} {y:.1f}"
            if not points or points[-1] != point:
                points.append(point)
        if len(points) < (3 if closed else 2):
            continue
        parts.append("M" + "L".join(points) + ("Z" if closed else ""))
    return "".join(parts)


# --- markers and their labels --------------------------------------------------------------


@functools.cache
def label_metrics() -> tuple[dict[str, float], float, float, float]:
    """(advance of each character, advance of a missing one, ascent, descent) of the labels'
    face at LABEL_SIZE, in drawing units, from the font file the book prints with."""
    from fontTools.ttLib import TTFont  # installed with WeasyPrint; needed only for maps

    from .fonts import font_directories

    path = next(
        folder / LABEL_FONT for folder in font_directories() if (folder / LABEL_FONT).is_file()
    )
    with TTFont(path, lazy=True) as font:
        units = LABEL_SIZE / font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        advances = {
            chr(code): metrics[glyph][0] * units for code, glyph in font.getBestCmap().items()
        }
        missing = metrics[font.getGlyphOrder()[0]][0] * units
        return (
            advances,
            missing,
            font["OS/2"].sTypoAscender * units,
            -font["OS/2"].sTypoDescender * units,
        )


def text_width(text: str) -> float:
    """The text's width at LABEL_SIZE: the sum of its characters' advances (kerning, which only
    narrows a word, is left out, so the box is never too small)."""
    advances, missing, _, _ = label_metrics()
    return sum(advances.get(character, missing) for character in text)


def label_box(label: Label) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of a label: its advance width, from ascent to descent."""
    _, _, ascent, descent = label_metrics()
    return label.x, label.y - ascent, label.x + label.width, label.y + descent


def _markers(layout: MapFigure, places, categories, path: Path) -> tuple[Marker, ...]:
    kinds = {category.name: (category.marker, category.colour) for category in categories}
    points = [layout.to_drawing(place.lat, place.lon) for place in places]
    candidates = [
        _candidates(place.name, x, y) for place, (x, y) in zip(places, points, strict=True)
    ]
    frame = _frame_box(layout)
    free = [
        [
            label
            for label in labels
            if _inside(label_box(label), frame)
            and not any(
                _covers(label_box(label), point, OWN_CLEARANCE if point == own else CLEARANCE)
                for point in points
            )
        ]
        for labels, own in zip(candidates, points, strict=True)
    ]
    chosen = placed_labels(free)
    markers = []
    for place, (x, y), label in zip(places, points, chosen, strict=True):
        if label is None:
            warn(
                path,
                place.line,
                f"the label '{place.name}' finds no place beside its marker "
                "that overlaps no other label and stays on the map: it is left out of the drawing",
                "shorten the name, leave out a place close to it, or widen the region",
            )
        shape, colour = kinds.get(place.category, UNCATEGORISED)
        markers.append(Marker(shape, colour, round(x, 2), round(y, 2), place, label))
    return tuple(markers)


def _candidates(text: str, x: float, y: float) -> list[Label]:
    """The label's positions around its marker, the ones a map reader looks at first first:
    right, above right, below right, left, above left, below left, above, below."""
    width = text_width(text)
    _, _, ascent, descent = label_metrics()
    middle = y + (ascent - descent) / 2  # the baseline that centres the text on the marker
    near, far = LABEL_GAP * 0.7, LABEL_GAP
    right, left, centre = x + far, x - far - width, x - width / 2
    above, below = y - near - descent, y + near + ascent
    places = [
        (right, middle),
        (x + near, above),
        (x + near, below),
        (left, middle),
        (x - near - width, above),
        (x - near - width, below),
        (centre, y - far - descent),
        (centre, y + far + ascent),
    ]
    return [Label(text, round(lx, 2), round(ly, 2), round(width, 2)) for lx, ly in places]


def _inside(box, frame) -> bool:
    return (
        box[0] >= frame[0] + 2
        and box[1] >= frame[1] + 2
        and box[2] <= frame[2] - 2
        and box[3] <= frame[3] - 2
    )


def _covers(box, point, clearance: float) -> bool:
    """Whether a label's box comes nearer a marker's centre than clearance."""
    x = min(max(point[0], box[0]), box[2])
    y = min(max(point[1], box[1]), box[3])
    return math.hypot(x - point[0], y - point[1]) < clearance


def _overlap(one, other, padding: float = 0.0) -> bool:
    return (
        one[0] < other[2] + padding
        and other[0] < one[2] + padding
        and one[1] < other[3] + padding
        and other[1] < one[3] + padding
    )


def placed_labels(free: list[list[Label]]) -> list[Label | None]:
    """One position for each label, none overlapping another: a depth-first search that tries
    the most hemmed-in labels first; if it finds no way to place them all within
    SEARCH_STEPS, each is placed in turn where it still fits, and the rest are left out."""
    order = sorted(range(len(free)), key=lambda index: (len(free[index]), index))
    chosen: dict[int, Label] = {}
    steps = [0]

    def fits(label: Label) -> bool:
        box = label_box(label)
        return not any(_overlap(box, label_box(other), LABEL_PADDING) for other in chosen.values())

    def search(depth: int) -> bool:
        if depth == len(order):
            return True
        index = order[depth]
        for label in free[index]:
            steps[0] += 1
            if steps[0] > SEARCH_STEPS:
                return False
            if fits(label):
                chosen[index] = label
                if search(depth + 1):
                    return True
                del chosen[index]
        return False

    if not search(0):
        chosen.clear()
        for index in order:
            label = next((label for label in free[index] if fits(label)), None)
            if label is not None:
                chosen[index] = label
    return [chosen.get(index) for index in range(len(free))]


# --- the key and the scale bar, below the frame ---------------------------------------------

SCALE_ROOM = 170  # of the row below the frame, kept for the scale bar at its right


def _key(layout: MapFigure, markers, categories) -> tuple[tuple[KeyEntry, ...], float]:
    """A marker and a label for each category a place has, in rows below the frame; and the
    height of the rows (one at least, which the scale bar shares)."""
    used = [
        category
        for category in categories
        if any(m.place.category == category.name for m in markers)
    ]
    x0, y0, width, height = layout.frame
    _, _, ascent, descent = label_metrics()
    entries: list[KeyEntry] = []
    x, row = x0 + MARKER_RADIUS + 1, 0
    for category in used:
        label_width = text_width(category.label)
        if x + 12 + label_width > x0 + width - SCALE_ROOM and entries:
            x, row = x0 + MARKER_RADIUS + 1, row + 1
        y = y0 + height + 15 + row * KEY_ROW
        marker = Marker(category.marker, category.colour, round(x, 2), round(y, 2), None, None)
        label = Label(
            category.label,
            round(x + 10, 2),
            round(y + (ascent - descent) / 2, 2),
            round(label_width, 2),
        )
        entries.append(KeyEntry(marker, label))
        x += 10 + label_width + 18
    return tuple(entries), (row + 1) * KEY_ROW + 6


def _scale_bar(layout: MapFigure) -> ScaleBar:
    """A bar of a round number of km, at most 120 units long, true at the frame's centre."""
    x0, y0, width, height = layout.frame
    west, north, units = layout.origin
    centre_lat, _ = layout.projection.inverse(west + width / 2 / units, north - height / 2 / units)
    per_km = units * layout.projection.scale(centre_lat)
    kilometres = max(
        step * 10**power
        for power in range(5)
        for step in (1, 2, 5)
        if step * 10**power * per_km <= 120
    )
    text = f"{kilometres:,} km"
    text_width_ = text_width(text)
    _, _, ascent, descent = label_metrics()
    y = y0 + height + 15
    label = Label(
        text,
        round(x0 + width - text_width_ - 2, 2),
        round(y + (ascent - descent) / 2, 2),
        round(text_width_, 2),
    )
    length = kilometres * per_km
    return ScaleBar(
        round(label.x - 8 - length, 2), round(y, 2), round(length, 3), kilometres, label
    )
