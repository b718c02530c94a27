"""Fonts: the book's own, never the system's.

Two guards keep every glyph of the book in its own typefaces:

- use_book_fonts() points fontconfig at a private configuration that knows only the font
  packages' folders. WeasyPrint's @font-face fonts come from those packages anyway; what
  the configuration keeps out is Pango's fallback, which for a character the book's fonts
  lack would otherwise take a system font (DejaVu Sans, Droid Sans Fallback) and embed it
  without a word, so that the PDF would differ from one machine to the next.
- check_characters() names, before any layout, each character of the sources that the
  faces of layout/fonts.css lack: it would print as an empty box.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import warn
from .model import ChapterSource

#: The pip packages the book's fonts come from; bookpress.fetch serves their files to WeasyPrint.
FONT_PACKAGES = ("font_source_serif_pro", "font_source_sans_pro")


# --- fontconfig: only the book's font folders -----------------------------------------------


@functools.cache
def font_directories() -> tuple[Path, ...]:
    """The folders of the font packages' files.

    Found without importing the packages (their __init__ lists every file), nor
    importlib.resources: a build with nothing to do pays for neither.
    """
    return tuple(_package_folder(name) / "files" for name in FONT_PACKAGES)


def _package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the font package {name} is not installed: run `make book`")
    return Path(spec.submodule_search_locations[0])


def use_book_fonts() -> Path:
    """Make fontconfig see only the book's fonts, in this process and those it starts.

    Call it before WeasyPrint is imported: weasyprint.text.fonts loads a configuration as
    it is imported, and every FontConfiguration loads one again (FcInitLoadConfigAndFonts,
    which reads FONTCONFIG_FILE each time); Pango's fallback searches only the fonts of
    that configuration. Worker processes forked or spawned later inherit os.environ.
    Returns the configuration file.
    """
    config = private_configuration()
    os.environ["FONTCONFIG_FILE"] = str(config)
    # Where fontconfig looks for a file named without its folder: ours, never /etc/fonts.
    # A FONTCONFIG_SYSROOT would move the configuration's folders under another root.
    os.environ["FONTCONFIG_PATH"] = str(config.parent)
    os.environ.pop("FONTCONFIG_SYSROOT", None)
    return config


def private_configuration() -> Path:
    """The configuration file, written if missing or different; the same text every time.

    It lives in a folder of the system's temporary folder named after the user and a hash
    of its text, beside its own cache: made before the command line is read (so not in
    build/, which --check and an up-to-date build leave alone), shared by every build of
    this environment so that the fonts are scanned once, and never the user's ~/.cache.
    Another text (other font folders, other rules) gets another folder, so fontconfig
    never reads a cache made under different rules.
    """
    directories = [str(path) for path in font_directories()]
    folder = _private_folder(configuration_text(directories, Path("CACHE")))
    config = folder / "fonts.conf"
    text = configuration_text(directories, folder / "cache")
    if not config.is_file() or config.read_text(encoding="utf-8") != text:
        _write_atomically(config, text)
    return config


#: The family the packages' own files are scanned under (see configuration_text).
UNDECLARED_FAMILY = "Undeclared book fonts"
RENAME = f'<edit name="family" mode="assign_replace"><string>{UNDECLARED_FAMILY}</string></edit>'


def configuration_text(directories: Sequence[str], cache: Path) -> str:
    """A fontconfig file listing only these font folders, with its own cache: no include
    of the system's configuration, so no system font, alias or rule.

    The packages' files are renamed as they are scanned. Under their own family names
    fontconfig would prefer them to WeasyPrint's copies of the faces layout/fonts.css
    declares (system fonts are matched before application fonts; SourceSerifPro-*.otf
    sorts first), and the PDF would embed the OTF files and faces the CSS never named.
    Renamed, they only keep fontconfig from being empty, which WeasyPrint warns of.
    """
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
        "<!-- Made by the book's build: the book's own fonts, never the system's. -->",
        "<fontconfig>",
    ]
    lines += [f"  <dir>{escape(directory)}</dir>" for directory in directories]
    for directory in directories:
        test = f'<test name="file" compare="contains"><string>{escape(directory)}/</string></test>'
        lines += ['  <match target="scan">', f"    {test}", f"    {RENAME}", "  </match>"]
    lines += [f"  <cachedir>{escape(str(cache))}</cachedir>", "</fontconfig>", ""]
    return "\n".join(lines)


def escape(text: str) -> str:
    """Text for an XML element (xml.sax.saxutils would import urllib and http: 40 ms)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _private_folder(key: str) -> Path:
    """A folder of the temporary folder that only this user can write to."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    user = os.getuid() if hasattr(os, "getuid") else "user"
    folder = Path(tempfile.gettempdir()) / f"bookpress-fonts-{user}-{digest}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    if _is_private(folder):
        return folder
    # Someone else made a folder of that name: a configuration read from it could name any
    # font. A fresh folder of our own costs one scan of the fonts.
    return Path(tempfile.mkdtemp(prefix="bookpress-fonts-"))


def _is_private(folder: Path) -> bool:
    info = os.lstat(folder)
    owned = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return stat.S_ISDIR(info.st_mode) and owned and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _write_atomically(path: Path, text: str) -> None:
    # Two builds at once may both write it: each renames a whole file into place.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".fonts-", suffix=".conf")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)


# --- the characters of the sources ----------------------------------------------------------

FONT_FACE = re.compile(r"@font-face\s*\{(?P<body>[^}]*)\}", re.IGNORECASE)
FAMILY = re.compile(
    r"font-family\s*:\s*(?:\"(?P<dq>[^\"]+)\"|'(?P<sq>[^']+)'|(?P<bare>[^;}]+))", re.IGNORECASE
)
FONT_URL = re.compile(r"url\(\s*[\"']?font:(?P<file>[^\"')\s/]+)", re.IGNORECASE)
#: A face the book carries itself, in layout/fonts/ (the code's): url(fonts/FILE).
CARRIED_FONT_URL = re.compile(r"url\(\s*[\"']?(?P<file>fonts/[^\"')\s/]+)", re.IGNORECASE)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
#: Drawn as nothing whatever the font (Unicode's Default_Ignorable_Code_Point, which
#: HarfBuzz hides), or not text at all: the ASCII controls, tabs and line ends.
IGNORED = re.compile(
    "[\x00-\x1f\x7f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)


def check_characters(root: Path, chapters: Iterable[ChapterSource]) -> None:
    """Warn, once per character and file, of each character the book's fonts lack.

    Every line of book.yml, index.yml, each chapter (front matter and body) and each data
    file the chapters use (a table's data:, a figure's data) is read as written.
    """
    css = root / "layout" / "fonts.css"
    faces = book_faces(css)
    if not faces:
        return  # no @font-face to measure the text against: WeasyPrint reports that
    # The code's faces count for all text, in code or not: Pango draws a character from any
    # face the stylesheet declares (fontconfig knows no other). The warning names the
    # typefaces of the text.
    paths = {path for path, _ in faces} | {path for path, _ in carried_faces(css)}
    covered = covered_characters(tuple(sorted(paths)))
    families = ", ".join(dict.fromkeys(family for _, family in faces))
    for path in _source_files(root, chapters):
        for character, line in missing_characters(_text(path), covered):
            warn(
                path,
                line,
                f"'{character}' (U+{ord(character):04X}) is not in the book's fonts "
                f"({families}); it would print as an empty box",
                "remove it or replace it with a character the fonts have, e.g. the name in "
                "Latin letters or the sign described in words",
            )


def book_faces(css: Path) -> list[tuple[Path, str]]:
    """(font file, family) of each @font-face of the stylesheet served from a font package."""
    directories = font_directories()
    return _faces(
        css,
        FONT_URL,
        lambda name: next(
            (folder / name for folder in directories if (folder / name).is_file()), None
        ),
    )


def carried_faces(css: Path) -> list[tuple[Path, str]]:
    """(font file, family) of each @font-face whose file the book carries in layout/fonts/."""
    return _faces(
        css,
        CARRIED_FONT_URL,
        lambda name: css.parent / name if (css.parent / name).is_file() else None,
    )


def _faces(css: Path, url_pattern: re.Pattern, locate) -> list[tuple[Path, str]]:
    """(font file, family) of each @font-face whose url matches, for the files locate finds."""
    try:
        text = CSS_COMMENT.sub("", css.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return []
    faces = []
    for rule in FONT_FACE.finditer(text):
        family = FAMILY.search(rule["body"])
        for url in url_pattern.finditer(rule["body"]):
            path = locate(url["file"])
            if family and path:
                faces.append((path, (family["dq"] or family["sq"] or family["bare"]).strip()))
    return faces


@functools.cache
def covered_characters(paths: tuple[Path, ...]) -> frozenset[str]:
    """Every character one of the fonts has a glyph for (read once per process)."""
    from fontTools.ttLib import TTFont  # installed with WeasyPrint; imported only when checking

    covered: set[int] = set()
    tables: set[bytes] = set()
    for path in paths:
        with TTFont(path, lazy=True) as font:
            raw = font.reader["cmap"]
            if raw in tables:  # the weights of a family share one map: read it once
                continue
            tables.add(raw)
            # Glyph names are not needed, only code points: numbered names spare decoding
            # the 'post' table, half of the time.
            font.setGlyphOrder([f"g{gid}" for gid in range(font["maxp"].numGlyphs)])
            covered.update(font.getBestCmap() or {})
    return frozenset(map(chr, covered))


def missing_characters(text: str, covered: frozenset[str]) -> list[tuple[str, int]]:
    """(character, line of its first use) of each character of the text not covered."""
    missing = {character for character in set(text) - covered if not IGNORED.match(character)}
    first = sorted((text.index(character), character) for character in missing)
    return [(character, text.count("\n", 0, at) + 1) for at, character in first]


def _source_files(root: Path, chapters: Iterable[ChapterSource]) -> list[Path]:
    chapters_dir = root / "chapters"
    files = [chapters_dir / "book.yml", chapters_dir / "index.yml"]
    for chapter in chapters:
        files.append(chapter.path)
        files += [chapter.data_path] if chapter.data_path else []
        files += [figure.path for _, figure in chapter.figures]
    return list(dict.fromkeys(path for path in files if path.is_file()))


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""  # already reported by the load stage, which read it first
