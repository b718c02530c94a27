"""Make the base map the book's map figures are drawn over: layout/maps/world-50m.json.

It reads Natural Earth's 1:50m outlines as the npm package world-atlas carries them
(countries-50m.json, TopoJSON), simplifies them and writes the land and the borders
between countries as short lists of whole numbers. Run it once, with the package's
folder; the build reads only its result (see README.md beside it):

    python layout/maps/make_base_map.py /tmp/world-atlas/package
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SOURCE = "countries-50m.json"
TARGET = Path(__file__).with_name("world-50m.json")
#: How far (degrees) a simplified line may stray from Natural Earth's: 0.05° is 5.5 km, a
#: fraction of a point on a map of a continent, yet it halves the number of points.
TOLERANCE = 0.05
#: Islands smaller than this (square degrees, about 300 km² at 60°N) are left out: on a map
#: of a continent they would be specks, and there are thousands of them.
SMALLEST_ISLAND = 0.05
STEPS = 100  # positions are written in hundredths of a degree: about 1 km
ATTRIBUTION = "Natural Earth (public domain), 1:50m, by way of world-atlas 2.0.2 (ISC)"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / SOURCE).is_file():
        print(f"usage: make_base_map.py FOLDER  (the folder of world-atlas holding {SOURCE})")
        return 2
    topology = json.loads((Path(argv[0]) / SOURCE).read_text(encoding="utf-8"))
    arcs = [simplified(arc) for arc in decoded_arcs(topology)]
    land = [ring for polygon in polygons(topology["objects"]["land"])
            for ring in (unwrapped(stitched(arcs, indices)) for indices in polygon)
            if len(ring) >= 4 and abs(area(ring)) >= SMALLEST_ISLAND]
    borders = [unwrapped(arcs[index]) for index in shared_arcs(topology["objects"]["countries"])]
    data = {"attribution": ATTRIBUTION, "steps_per_degree": STEPS,
            "land": [encoded(ring) for ring in land], "borders": [encoded(line) for line in borders]}
    TARGET.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{TARGET.name}: {len(land)} land rings, {len(borders)} borders, "
          f"{TARGET.stat().st_size // 1024} kB")
    return 0


def decoded_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Each arc as (longitude, latitude) points: the positions are quantized and delta-encoded
    (each the step from the one before), then scaled and moved by the topology's transform."""
    (scale_x, scale_y), (move_x, move_y) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + move_x, y * scale_y + move_y))
        arcs.append(points)
    return arcs


def polygons(collection: dict) -> list[list[list[int]]]:
    """Every polygon of a geometry collection, as its rings of arc indices."""
    found = []
    for geometry in collection["geometries"]:
        if geometry["type"] == "Polygon":
            found.append(geometry["arcs"])
        elif geometry["type"] == "MultiPolygon":
            found.extend(geometry["arcs"])
    return found


def stitched(arcs: list, indices: list[int]) -> list[tuple[float, float]]:
    """A ring made of arcs; a negative index ~i is arc i walked backwards. Each arc begins
    where the one before ended, so that point is written once."""
    ring: list[tuple[float, float]] = []
    for index in indices:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(points[1:] if ring else points)
    return ring


def unwrapped(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The line without its jumps across the 180th meridian: Natural Earth cuts Asia there,
    and a ring that leaps from 180 to −180 would be drawn straight across the world. After a
    jump the longitudes go on past 180 (Chukotka at 190), so that each ring is continuous."""
    turn, previous, kept = 0.0, None, []
    for lon, lat in points:
        if previous is not None and abs(lon + turn - previous) > 180:
            turn += 360 if previous > lon + turn else -360
        kept.append((lon + turn, lat))
        previous = lon + turn
    return kept


def shared_arcs(collection: dict) -> list[int]:
    """The arcs two countries share: their borders on land (a coast belongs to one)."""
    owners: dict[int, set[int]] = {}
    for number, geometry in enumerate(collection["geometries"]):
        shapes = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry.get("arcs", [])
        for polygon in shapes:
            for ring in polygon:
                for index in ring:
                    owners.setdefault(index if index >= 0 else ~index, set()).add(number)
    return sorted(index for index, countries in owners.items() if len(countries) > 1)


def simplified(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Douglas and Peucker's simplification: the ends stay, and each point between that lies
    within TOLERANCE of the line through its neighbours kept is left out."""
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        farthest, distance = None, TOLERANCE
        for index in range(first + 1, last):
            away = _distance(points[index], points[first], points[last])
            if away > distance:
                farthest, distance = index, away
        if farthest is not None:
            keep[farthest] = True
            stack += [(first, farthest), (farthest, last)]
    return [point for point, kept in zip(points, keep) if kept]


def _distance(point, start, end) -> float:
    (x, y), (x1, y1), (x2, y2) = point, start, end
    dx, dy = x2 - x1, y2 - y1
    length = (dx * dx + dy * dy) ** 0.5
    if length == 0:
        return ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / length


def area(ring: list[tuple[float, float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1])) / 2


def encoded(points: list[tuple[float, float]]) -> list[int]:
    """x, y of the first point, then each step from the one before, in hundredths of a degree;
    repeated positions (after rounding) are written once."""
    numbers, last = [], (0, 0)
    for x, y in points:
        position = (round(x * STEPS), round(y * STEPS))
        if numbers and position == last:
            continue
        numbers += [position[0] - last[0], position[1] - last[1]]
        last = position
    return numbers


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
