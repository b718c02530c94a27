"""Typeset stage helper: the only way WeasyPrint may read a file (fonts, layout, assets)."""

from __future__ import annotations

import functools
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from .fonts import font_directories
from .sources import MAX_DATA_URL, MAX_FILE

MEDIA_TYPES = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


class BookFetcher(URLFetcher):
    """Serves fonts from the font packages and files under the project's layout/ and assets/.

    Anything else (other files, the network) is refused and remembered, so the build can
    name what a source asked for instead of silently leaving it out.
    """

    def __init__(self, root: Path):
        super().__init__()
        self.allowed_dirs = [(root / "layout").resolve(), (root / "assets").resolve()]
        self.font_dirs = font_directories()
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url.startswith("data:") and len(url) <= MAX_DATA_URL:
            return super().fetch(url, headers)
        path = self._local_path(url)
        if path is None or path.stat().st_size > MAX_FILE:
            self.refused.append(url)
            raise ValueError(f"the book may only use files from layout/ and assets/: {url[:200]}")
        if path.suffix.lower() == ".woff2":
            return URLFetcherResponse(url, unpacked(path), {"Content-Type": MEDIA_TYPES[".ttf"]})
        return URLFetcherResponse(
            url,
            path.read_bytes(),
            {"Content-Type": MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")},
        )

    def _local_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme == "font":  # CSS names a face of the font packages url(font:FILE)
            return next(
                (
                    d / parts.path
                    for d in self.font_dirs
                    if "/" not in parts.path and (d / parts.path).is_file()
                ),
                None,
            )
        if parts.scheme != "file":
            return None
        if parts.netloc not in ("", "localhost"):
            return None
        path = Path(unquote(parts.path)).resolve()  # '..' and symbolic links resolved first
        inside = any(path.is_relative_to(folder) for folder in self.allowed_dirs)
        return path if inside and path.is_file() else None


def unpacked(path: Path) -> bytes:
    """A WOFF2 face as the font it packs, unpacked once per process and face.

    WeasyPrint 70 unpacks a WOFF2 face itself, with this same fontTools call, once for each
    font configuration (Kozea/WeasyPrint#1505 keeps it within one): each edition and each
    worker. That was a quarter of a small book's build. Kept by content, not by path: every
    project that carries the face finds it.
    """
    return _unpacked(path.read_bytes())


@functools.lru_cache(maxsize=64)
def _unpacked(packed: bytes) -> bytes:
    from fontTools.ttLib import woff2

    font = BytesIO()
    woff2.decompress(BytesIO(packed), font)
    return font.getvalue()
