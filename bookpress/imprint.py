"""Render stage helper: what the imprint says a reader may do, read from the licence's name."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import BookInfo

#: The licences the imprint can explain, as book.yml usually names them.
KNOWN_LICENCES = (
    "CC BY 4.0",
    "CC BY-SA 4.0",
    "CC BY-NC 4.0",
    "CC BY-ND 4.0",
    "CC BY-NC-SA 4.0",
    "CC BY-NC-ND 4.0",
    "CC0 1.0",
    "All rights reserved",
)

_CREDIT = "credit it as below"
_CHANGES = "say if you changed it"
_SAME = "share what you adapt under the same licence"
_UNCHANGED = "share it unchanged: you may not share adaptations of it"
_ANY = "for any purpose, even commercially"
_NOT_COMMERCIAL = "but not for commercial purposes"
_ADAPT = "You may copy, print, share and adapt it"
_SHARE = "You may copy, print and share it"

#: What each kind of licence lets a reader do, in the words of its legal code's summary
#: (creativecommons.org/licenses/): BY credit, SA adaptations alike, NC not commercially,
#: ND no adaptations shared.
PERMISSIONS = {
    "BY": f"{_ADAPT} {_ANY}, provided you {_CREDIT} and {_CHANGES}.",
    "BY SA": f"{_ADAPT} {_ANY}, provided you {_CREDIT}, {_CHANGES}, and {_SAME}.",
    "BY NC": f"{_ADAPT}, {_NOT_COMMERCIAL}, provided you {_CREDIT} and {_CHANGES}.",
    "BY NC SA": f"{_ADAPT}, {_NOT_COMMERCIAL}, provided you {_CREDIT}, {_CHANGES}, and {_SAME}.",
    "BY ND": f"{_SHARE} {_ANY}, provided you {_CREDIT} and {_UNCHANGED}.",
    "BY NC ND": f"{_SHARE}, {_NOT_COMMERCIAL}, provided you {_CREDIT} and {_UNCHANGED}.",
    "CC0": f"{_ADAPT} for any purpose, without asking and without crediting it, though a "
    "credit as below is welcome.",
}
#: The licences' titles in full: "Creative Commons Attribution-ShareAlike 4.0 International".
_PHRASES = (
    ("CREATIVE COMMONS", "CC"),
    ("ALL RIGHTS RESERVED", "RESERVED"),
    ("NON COMMERCIAL", "NONCOMMERCIAL"),
    ("SHARE ALIKE", "SHAREALIKE"),
    ("NO DERIVATIVES", "NODERIVATIVES"),
    ("CC ZERO", "CC0"),
    ("CC 0", "CC0"),
)
_ELEMENTS = {
    "ATTRIBUTION": "BY",
    "SHAREALIKE": "SA",
    "NONCOMMERCIAL": "NC",
    "NODERIVATIVES": "ND",
    "NODERIVS": "ND",
}
#: Words of a licence's title that do not change what it allows (and its version: 4.0).
_NOISE = {
    "INTERNATIONAL",
    "UNPORTED",
    "GENERIC",
    "UNIVERSAL",
    "LICENSE",
    "LICENCE",
    "PUBLIC",
    "DOMAIN",
    "DEDICATION",
    "THE",
}
VERSION = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class Licence:
    """The licence paragraph of the imprint: what it is, what it allows, how a citation names it."""

    statement: str
    permissions: str
    cited: str  # what ends the citation; nothing for 'All rights reserved'


def licence_kind(name: str) -> str | None:
    """'BY SA' for 'CC BY-SA 4.0' or its full title, 'CC0', 'reserved'; None when unknown."""
    text = " ".join(re.sub(r"[^A-Z0-9.]+", " ", name.upper()).split())
    for phrase, word in _PHRASES:
        text = text.replace(phrase, word)
    words = {
        _ELEMENTS.get(word, word)
        for word in (word.strip(".") for word in text.split())
        if word and word not in _NOISE and not VERSION.fullmatch(word)
    }
    if "RESERVED" in words and "CC" not in words:  # "© 2026 A. Teacher. All rights reserved."
        return "reserved"
    if words == {"CC0"}:
        return "CC0"
    kind = " ".join(sorted(words - {"CC"}))  # BY, NC, ND, SA: the order the names give them
    return kind if "CC" in words and kind in PERMISSIONS else None


def licence_of(info: BookInfo) -> Licence:
    """The imprint's licence paragraph for the book; a neutral one for a licence it cannot read."""
    kind, name = licence_kind(info.licence), info.licence.strip()
    if kind == "reserved":
        holder = f"\u00a9 {info.date.year} {info.author}. All rights reserved."
        statement = holder if name.rstrip(".").lower() == "all rights reserved" else name
        return Licence(
            statement,
            "Beyond what copyright law allows (short quotations, for "
            "example), no part of it may be copied, shared or adapted without "
            "permission.",
            "",
        )
    if kind == "CC0":
        return Licence(
            f"This book is dedicated to the public domain ({name}).", PERMISSIONS[kind], name
        )
    if kind is None:
        return Licence(
            f"This book is published under the licence \u201c{name}\u201d.",
            "Its terms say what you may copy, share and adapt.",
            name,
        )
    return Licence(f"This book is published under the {name} licence.", PERMISSIONS[kind], name)
