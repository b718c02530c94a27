"""Figures drawn from data: the data files, checked with their lines, and their numbering."""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import BookError, BookErrors, raise_all
from .maps import MAP_KEYS, MapFigure, load_map
from .sources import (
    CALENDAR_HINT,
    YamlDocument,
    describe,
    load_yaml,
    read_text,
    shown,
    text_problem,
    unknown_key,
)

#: A Markdown image whose source is a data file is a figure: ![alt](timeline.yml "Caption").
FIGURE_IMAGE = re.compile(
    r"!\[(?P<alt>[^\]]*)\]\(\s*(?P<src>[^)\s]+\.ya?ml)(?:\s+\"(?P<caption>[^\"]*)\")?\s*\)"
    r"(?:\{\s*#(?P<id>[A-Za-z][\w-]*)\s*\})?"
)
#: A reference to a figure or table by its id: {@timeline} prints "Figure 1 on page 3".
CROSS_REFERENCE = re.compile(r"\{@(?P<id>[A-Za-z][\w-]*)\}")
DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
MAX_TIMELINE_LABEL = 48  # characters that fit beside the timeline's dates
MAX_BAR_LABEL = 12
MAX_BAR_VALUE = 10**15  # far above any count a school chart shows; beyond it, a typing slip
#: The chart's grid steps by a whole fraction of its largest value's power of ten
#: (layout/figure-bar-chart.svg): below 4 there is no whole step to draw.
MIN_LARGEST_BAR = 4
MONTHS = (
    "",
    "Jan.",
    "Feb.",
    "March",
    "April",
    "May",
    "June",
    "July",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
)
KEYS = {
    "timeline": ("kind", "events"),
    "bar-chart": ("kind", "unit", "source", "bars"),
    "map": MAP_KEYS,
}
EVENT_KEYS = ("date", "label", "chapters")  # chapters: the chapters that open with the event
BAR_KEYS = ("label", "value")
DATE_HINT = "write it as year-month-day, year-month or year: 1934-12-01, 1934-12, 1934"


@dataclass(frozen=True)
class TimelineEvent:
    date: str  # as printed: '1934', 'Dec. 1934', '1 Dec. 1934'
    label: str
    chapters: tuple[str, ...] = ()  # the chapters (by name) whose key dates it is
    line: int | None = None  # of the data file, where a problem with its chapters is reported
    sort: str = ""  # the date as written, 1934-12-01: events sort by it


@dataclass(frozen=True)
class Bar:
    label: str
    value: float


@dataclass(frozen=True)
class FigureData:
    """A figure's data file, checked: its kind names the template that draws it."""

    kind: str
    path: Path
    events: tuple[TimelineEvent, ...] = ()
    bars: tuple[Bar, ...] = ()
    unit: str = ""
    source: str = ""
    map: MapFigure | None = None  # a map's places, laid out (bookpress/maps.py)


def load_figure(path: Path) -> FigureData:
    document = load_yaml(read_text(path), path)
    if not isinstance(document.data, dict):
        raise document.error(
            None,
            "a figure's data file should start with a line 'kind: timeline' or 'kind: bar-chart'",
            "then list the events or the bars below it, "
            "as chapters/timeline.yml and chapters/executions.yml do",
        )
    kind = document.data.get("kind")
    if not isinstance(kind, str) or kind not in KEYS:
        raise document.error(
            "kind" if "kind" in document.data else None,
            _kind_message(kind),
            "write kind: timeline, kind: bar-chart or kind: map",
        )
    errors = _unknown_keys(document, KEYS[kind])
    try:
        if kind == "timeline":
            figure = FigureData("timeline", path, events=_events(document))
        elif kind == "map":
            figure = FigureData("map", path, map=load_map(document))
        else:
            figure = FigureData(
                "bar-chart",
                path,
                bars=_bars(document),
                unit=_optional_text(document, "unit"),
                source=_optional_text(document, "source"),
            )
    except BookError as error:
        errors.append(error)
    except BookErrors as many:  # a map reports each of its places' problems
        errors.extend(many.errors)
    raise_all(errors)
    return figure


def _kind_message(kind) -> str:
    if kind is None:
        return "the figure's data file does not say what kind of figure it is"
    if isinstance(kind, str):
        return f"unknown figure kind '{shown(kind)}'"
    return f"the figure's kind should be a word, not {describe(kind)}"


def _unknown_keys(document: YamlDocument, allowed: tuple[str, ...]) -> list[BookError]:
    return [
        document.error(key, *unknown_key(key, allowed))
        for key in document.data
        if key not in allowed
    ]


def _optional_text(document: YamlDocument, key: str) -> str:
    value = document.data.get(key)
    if value is None:
        return ""
    problem = text_problem(key, value)
    if problem:
        raise document.error(key, *problem)
    return " ".join(value.split())  # printed on one line of the figure


def _each(document: YamlDocument, key: str, missing: tuple[str, str], make) -> tuple:
    """Each entry of the list under key, made by make(entry, path, line); all problems at once."""
    entries = document.data.get(key)
    if not isinstance(entries, list) or not entries:
        raise document.error(key if key in document.data else None, *missing)
    errors, items = [], []
    for entry, line in document.items(key):
        try:
            items.append(make(entry, document.path, line))
        except BookError as error:
            errors.append(error)
    raise_all(errors)
    return tuple(items)


def _entry(entry, path: Path, line: int, allowed: tuple[str, ...], what: str) -> dict:
    """The entry as a mapping of known keys, or the reason it is not one."""
    if not isinstance(entry, dict):
        raise BookError(
            path,
            line,
            f"this entry is {describe(entry)}, not {what}",
            f"write each entry as '- {allowed[0]}: …' with '{allowed[1]}: …' below it",
        )
    for key in entry:
        if key not in allowed:
            raise BookError(path, line, *unknown_key(key, allowed))
    return entry


def _label(entry: dict, path: Path, line: int, missing: tuple[str, str]) -> str:
    """The entry's label on one line (the figure prints it on one)."""
    value = entry.get("label")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BookError(path, line, *missing)
    problem = text_problem("label", value)
    if problem:
        raise BookError(path, line, *problem)
    return " ".join(value.split())


# --- timelines -------------------------------------------------------------------------------


def _events(document: YamlDocument) -> tuple[TimelineEvent, ...]:
    missing = (
        "a timeline needs a list of events",
        "list them under 'events:', each starting with '- date:'",
    )
    return _each(document, "events", missing, _event)


def _event(entry, path: Path, line: int) -> TimelineEvent:
    entry = _entry(entry, path, line, EVENT_KEYS, "a date and a label")
    date = _date(entry.get("date"), path, line)
    label = _label(entry, path, line, ("this event has no label", "add label: what happened"))
    if len(label) > MAX_TIMELINE_LABEL:
        raise BookError(
            path,
            line,
            f"the label is {len(label)} characters long; at most {MAX_TIMELINE_LABEL} fit",
            "shorten it",
        )
    return TimelineEvent(
        date,
        label,
        _event_chapters(entry.get("chapters"), path, line),
        line,
        _sortable_date(entry.get("date")),
    )


def _event_chapters(value, path: Path, line: int) -> tuple[str, ...]:
    """The chapters an event is a key date of, by their names: chapters: [great-purge]."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(name, str) and name.strip() for name in value
    ):
        raise BookError(
            path,
            line,
            f"'chapters' should be a list of chapter names, not {describe(value)}",
            "name each chapter by its file name without the number and .md: "
            "chapters: [great-purge, show-trials]",
        )
    return tuple(name.strip() for name in value)


def _sortable_date(value) -> str:
    """The date as year-month-day text, which sorts in date order (1934 before 1934-12)."""
    return value.isoformat() if isinstance(value, datetime.date) else str(value).strip()


def _date(value, path: Path, line: int) -> str:
    """The event's date as printed: '1934', 'Dec. 1934' or '1 Dec. 1934'."""
    if value is None:
        raise BookError(
            path,
            line,
            "this event has no date",
            "add a line 'date: 1934-12-01' (or 1934-12, or 1934)",
        )
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        value = value.isoformat()
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BookError(
            path,
            line,
            f"the date should be a year, a month or a day, not {describe(value)}",
            DATE_HINT,
        )
    match = DATE.match(value.strip())
    if not match:
        raise BookError(path, line, f"'{shown(value)}' is not a date", DATE_HINT)
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        datetime.date(year, month, day)
    except ValueError:
        message = f"'{value.strip()}' is not a date on the calendar"
        raise BookError(path, line, message, CALENDAR_HINT) from None
    return _printed_date(match)


def _printed_date(match: re.Match) -> str:
    year, month, day = match.groups()
    if not month:
        return year
    return f"{int(day)} {MONTHS[int(month)]} {year}" if day else f"{MONTHS[int(month)]} {year}"


# --- bar charts ------------------------------------------------------------------------------


def _bars(document: YamlDocument) -> tuple[Bar, ...]:
    missing = (
        "a bar chart needs a list of bars",
        "list them under 'bars:', each starting with '- label:'",
    )
    bars = _each(document, "bars", missing, _bar)
    largest = max(bar.value for bar in bars)
    if largest < MIN_LARGEST_BAR:
        raise document.error(
            "bars",
            "the bars are too small to chart: the largest is "
            f"{shown(largest)}, and the chart's scale needs at least "
            f"{MIN_LARGEST_BAR}",
            "give the numbers in the text or a table instead; for amounts, "
            "count in a smaller unit (2500 thousand rather than 2.5 million)",
        )
    return bars


def _bar(entry, path: Path, line: int) -> Bar:
    entry = _entry(entry, path, line, BAR_KEYS, "a label and a value")
    missing = ("this bar has no label", 'add label: "1937" (in quotes when it is a number)')
    label = _label(entry, path, line, missing)
    if len(label) > MAX_BAR_LABEL:
        raise BookError(
            path,
            line,
            f"the bar label '{shown(label)}' must have 1 to {MAX_BAR_LABEL} characters",
            "shorten it",
        )
    problem = _value_problem(entry.get("value"), shown(label))
    if problem:
        raise BookError(path, line, *problem)
    return Bar(label, entry["value"])


def _value_problem(value, label: str) -> tuple[str, str] | None:
    """Why value cannot be drawn as a bar (a whole number, 0 to MAX_BAR_VALUE); None if it can."""
    if value is None:
        return f"the bar '{label}' has no value (a number)", "add value: 1234, without quotes"
    if isinstance(value, str):
        return (
            f"the bar '{label}' has the value '{shown(value)}', which is not a number",
            "write digits only, without quotes, commas or spaces: value: 353074",
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return (
            f"the bar '{label}' should have a number as its value, not {describe(value)}",
            "write value: 1234",
        )
    if isinstance(value, float) and math.isnan(value):
        return (
            f"the value of the bar '{label}' is not a number (.nan)",
            "write the number, e.g. value: 1234",
        )
    if value < 0:
        return (
            f"the bar '{label}' has a negative value ({shown(value)})",
            "a bar shows a count: zero or more",
        )
    if value > MAX_BAR_VALUE:
        return (
            f"the value of the bar '{label}' is too large to chart ({shown(value)})",
            f"the chart takes values up to {MAX_BAR_VALUE:,}; check it for extra digits",
        )
    if value != int(value):
        return (
            f"the bar '{label}' has the value {shown(value)}, but the chart prints whole numbers",
            "round it, or count in a smaller unit (2500 thousand rather than 2.5 million)",
        )
    return None
