"""Part cache: a chapter laid out and written once is kept under build/ and reused while
nothing it depends on has changed.

An entry is found by a hash of everything that shapes the part: its HTML (the chapter's
text, with the page numbers of its cross-references filled in), the folio it starts on,
the edition, the stylesheets, templates and assets, the pipeline's own code and the
versions of the libraries it runs on. An entry that cannot be read back whole — cut short,
overwritten, from another version of Python — is ignored and made again, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

FOLDER = "cache"
KEEP = 3  # entries per part beyond those the last build used, for undoing an edit


class PartCache:
    """Written parts on disk, by key; a build remembers which entries it used."""

    def __init__(self, folder: Path | None, environment: str):
        self.folder = folder
        self.environment = environment
        self.used: set[str] = set()

    def key(self, *inputs) -> str:
        digest = hashlib.sha256(self.environment.encode())
        for item in inputs:
            digest.update(b"\0" + str(item).encode())
        return digest.hexdigest()

    def get(self, key: str):
        """The value stored under key, or None when there is none that reads back whole."""
        if self.folder is None:
            return None
        try:
            data = (self.folder / key).read_bytes()
        except OSError:
            return None
        digest, payload = data[:32], data[32:]
        if hashlib.sha256(payload).digest() != digest:
            return None
        try:
            value = pickle.loads(payload)
        except Exception:  # an entry pickled by another version of the pipeline or of Python
            return None
        self.used.add(key)
        return value

    def put(self, key: str, value) -> None:
        """Store value; a cache that cannot be written only costs the next build time."""
        if self.folder is None:
            return
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            with os.fdopen(handle, "wb") as file:
                file.write(hashlib.sha256(payload).digest() + payload)
            os.replace(temporary, self.folder / key)
        except OSError:
            return
        self.used.add(key)

    def prune(self, limit: int) -> None:
        """Drop the oldest entries the last build did not use, keeping at most limit of them."""
        if self.folder is None or not self.folder.is_dir():
            return
        unused = [path for path in self.folder.iterdir() if path.name not in self.used]
        unused.sort(key=lambda path: path.stat().st_mtime_ns, reverse=True)
        for path in unused[limit:]:
            path.unlink(missing_ok=True)
