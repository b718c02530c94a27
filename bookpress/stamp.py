"""Up-to-date check: a build whose inputs have not changed since the last good one does nothing.

Kept free of heavy imports: a no-op rebuild must answer before WeasyPrint, Markdown or
Jinja are loaded.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

STAMP = ".last-build.json"
INPUT_FOLDERS = ("chapters", "layout", "assets")
PIPELINE = Path(__file__).resolve().parent


#: Every Python package whose release can change a byte of the output.
DEPENDENCIES = (
    "weasyprint",
    "pydyf",
    "fonttools",
    "markdown",
    "jinja2",
    "MarkupSafe",
    "pypdf",
    "PyYAML",
    "nh3",
    "Pillow",
    "Pygments",
    "pyphen",
    "tinycss2",
    "cssselect2",
    "tinyhtml5",
    "brotli",
    "zopfli",
    "font-source-serif-pro",
    "font-source-sans-pro",
)
#: The system libraries WeasyPrint lays text out with: (library, function giving its version).
SYSTEM_LIBRARIES = (
    ("pango-1.0", "libpango-1.0.so.0", "pango_version_string"),
    ("harfbuzz", "libharfbuzz.so.0", "hb_version_string"),
    ("fontconfig", "libfontconfig.so.1", "FcGetVersion"),
)
#: What shapes a part's pages besides its own HTML (the chapters come in through that HTML).
LAYOUT_FOLDERS = ("layout", "assets")


def inputs_digest(root: Path, request: dict) -> str:
    """A hash of every source, template, stylesheet and asset, the request and the pipeline."""
    return _digest(root, INPUT_FOLDERS, request)


def layout_digest(root: Path, request) -> str:
    """A hash of the stylesheets, templates and assets, the request, and the pipeline itself."""
    return _digest(root, LAYOUT_FOLDERS, request)


def _digest(root: Path, folders, request) -> str:
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for name in DEPENDENCIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    versions.update(system_library_versions())
    digest = hashlib.sha256(json.dumps([request, versions], sort_keys=True, default=str).encode())
    for folder in [root / name for name in folders] + [PIPELINE]:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(
                    str(path.relative_to(folder.parent)).encode() + b"\0" + path.read_bytes()
                )
    return digest.hexdigest()


def is_up_to_date(build_dir: Path, digest: str) -> list[Path] | None:
    """The outputs of the last build when its inputs were these and its outputs are untouched."""
    try:
        stamp = json.loads((build_dir / STAMP).read_text())
    except (OSError, ValueError):
        return None
    if stamp.get("inputs") != digest:
        return None
    outputs = [Path(path) for path in stamp.get("outputs", {})]
    for path, (size, mtime) in stamp.get("outputs", {}).items():
        try:
            status = os.stat(path)
        except OSError:
            return None
        if (status.st_size, status.st_mtime_ns) != (size, mtime):
            return None
    return outputs or None


def record(build_dir: Path, digest: str, outputs: list[Path]) -> None:
    """Remember a successful build (written whole, like every output)."""
    data = {
        "inputs": digest,
        "outputs": {str(p): [p.stat().st_size, p.stat().st_mtime_ns] for p in outputs},
    }
    build_dir.mkdir(parents=True, exist_ok=True)
    temporary = build_dir / (STAMP + ".tmp")
    temporary.write_text(json.dumps(data, indent=1))
    os.replace(temporary, build_dir / STAMP)


@functools.cache
def system_library_versions() -> dict[str, str | None]:
    """The versions of Pango, HarfBuzz and fontconfig, asked of the libraries themselves.

    Read through ctypes rather than WeasyPrint, which a no-op rebuild must not import.
    """
    import ctypes
    import ctypes.util

    versions: dict[str, str | None] = {}
    for name, soname, function in SYSTEM_LIBRARIES:
        library = _loads(soname)
        if library is None and (found := ctypes.util.find_library(name)):
            library = _loads(found)
        call = getattr(library, function, None) if library is not None else None
        if call is None:
            versions[name] = None
        elif function == "FcGetVersion":  # an int: 21400 is 2.14.0
            versions[name] = str(call())
        else:
            call.restype = ctypes.c_char_p
            versions[name] = call().decode()
    return versions


def _loads(name: str):
    import ctypes

    try:
        return ctypes.CDLL(name)
    except OSError:  # not this system's name for it (macOS, Windows): find_library looks
        return None
