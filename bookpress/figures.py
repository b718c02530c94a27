"""Figures drawn from data: the data files, checked with their lines, and their numbering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import BookError, raise_all
from .sources import YamlDocument, load_yaml, read_text

#: A Markdown image whose source is a data file is a figure: ![alt](timeline.yml "Caption").
FIGURE_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*(?P<src>[^)\s]+\.ya?ml)(?:\s+\"(?P<caption>[^\"]*)\")?\s*\)"
                          r"(?:\{\s*#(?P<id>[A-Za-z][\w-]*)\s*\})?")
#: A reference to a figure or table by its id: {@timeline} prints "Figure 1, page 3".
CROSS_REFERENCE = re.compile(r"\{@(?P<id>[A-Za-z][\w-]*)\}")
DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
MAX_TIMELINE_LABEL = 48  # characters that fit beside the timeline's dates
MAX_BAR_LABEL = 12
MONTHS = ("", "Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.")


@dataclass(frozen=True)
class TimelineEvent:
    date: str  # as printed: '1934', 'Dec. 1934', '1 Dec. 1934'
    label: str


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


def load_figure(path: Path) -> FigureData:
    document = load_yaml(read_text(path), path)
    data = document.data if isinstance(document.data, dict) else {}
    kind = data.get("kind")
    if kind == "timeline":
        return FigureData("timeline", path, events=_events(document))
    if kind == "bar-chart":
        return FigureData("bar-chart", path, bars=_bars(document), unit=str(data.get("unit", "")),
                          source=str(data.get("source", "")))
    raise BookError(path, document.line_of("kind" if "kind" in data else None),
                    f"unknown figure kind {kind!r}", "write kind: timeline or kind: bar-chart")


def _events(document: YamlDocument) -> tuple[TimelineEvent, ...]:
    return _each(document, "events", "a timeline needs a list of events", _event)


def _event(entry: dict, path: Path, line: int) -> TimelineEvent:
    date, label = str(entry.get("date", "")).strip(), str(entry.get("label", "") or "").strip()
    match = DATE.match(date)
    if not match:
        raise BookError(path, line, f"'{date}' is not a date",
                        "write it as year-month-day, year-month or year: 1934-12-01, 1934-12, 1934")
    if not label:
        raise BookError(path, line, "this event has no label", "add label: what happened")
    if len(label) > MAX_TIMELINE_LABEL:
        raise BookError(path, line, f"the label is {len(label)} characters long; at most {MAX_TIMELINE_LABEL} fit",
                        "shorten it")
    return TimelineEvent(_printed_date(match), label)


def _each(document: YamlDocument, key: str, missing: str, make) -> tuple:
    """Each entry of the list under key, made by make(entry, path, line); all problems at once."""
    entries = document.data.get(key)
    if not isinstance(entries, list) or not entries:
        raise document.error(key if key in document.data else None, missing)
    errors, items = [], []
    for entry, line in zip(entries, document.item_lines(key)):
        try:
            items.append(make(entry if isinstance(entry, dict) else {}, document.path, line))
        except BookError as error:
            errors.append(error)
    raise_all(errors)
    return tuple(items)


def _printed_date(match: re.Match) -> str:
    year, month, day = match.groups()
    if not month:
        return year
    return f"{int(day)} {MONTHS[int(month)]} {year}" if day else f"{MONTHS[int(month)]} {year}"


def _bars(document: YamlDocument) -> tuple[Bar, ...]:
    return _each(document, "bars", "a bar chart needs a list of bars", _bar)


def _bar(entry: dict, path: Path, line: int) -> Bar:
    label, value = str(entry.get("label", "")).strip(), entry.get("value")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise BookError(path, line, f"the bar '{label}' has no value (a number)", "add value: 1234, without quotes")
    if not label or len(label) > MAX_BAR_LABEL:
        raise BookError(path, line, f"the bar label '{label}' must have 1 to {MAX_BAR_LABEL} characters")
    return Bar(label, value)
