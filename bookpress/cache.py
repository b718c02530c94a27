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
import io
import pickle
from pathlib import Path

#: Byte strings this long (font files, images) are kept once, in a file of their own.
SHARED_SIZE = 64 * 1024


class PartCache:
    """Written parts on disk, by key; a build remembers which entries it used."""

    def __init__(self, folder: Path | None, environment: str):
        self.folder = folder
        self.environment = environment
        self.used: set[str] = set()  # the entries (and shared files) this build read or wrote
        self.shared: dict[str, bytes] = {}  # shared files read, by name: one copy in memory

    @property
    def _folder(self) -> Path:
        assert self.folder is not None  # get() and put() return at once without one
        return self.folder

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
        payload = _checked(data)
        if payload is None:
            return None
        try:
            value = _Unpickler(io.BytesIO(payload), self._read_shared).load()
        except Exception:  # an entry pickled by another version of the pipeline or of Python
            return None
        self.used.add(key)
        return value

    def _read_shared(self, name: str) -> bytes:
        if name not in self.shared:
            content = _checked((self._folder / name).read_bytes())
            if content is None:
                raise ValueError(f"{name} is damaged")
            self.shared[name] = content
        self.used.add(name)
        return self.shared[name]

    def _write_shared(self, obj):
        if type(obj) is not bytes or len(obj) < SHARED_SIZE:
            return None
        name = "shared-" + hashlib.sha256(obj).hexdigest()
        if name not in self.used and name not in self.shared and not self._whole(name):
            self._write(name, obj)
        self.used.add(name)
        return name

    def put(self, key: str, value) -> None:
        """Store value; a cache that cannot be written only costs the next build time."""
        if self.folder is None:
            return
        try:
            output = io.BytesIO()
            _Pickler(output, self._write_shared).dump(value)
            self._write(key, output.getvalue())
        except OSError:
            return
        self.used.add(key)

    def _whole(self, name: str) -> bool:
        try:
            return _checked((self._folder / name).read_bytes()) is not None
        except OSError:
            return False

    def _write(self, name: str, payload: bytes) -> None:
        from .files import write_atomically

        # An entry cut short by a crash reads back damaged and is made again: no fsync.
        write_atomically(
            self._folder / name, hashlib.sha256(payload).digest() + payload, durable=False
        )

    def prune(self, keep: int) -> None:
        """Drop the oldest entries this build did not use, keeping the newest keep of them."""
        if self.folder is None or not self.folder.is_dir():
            return
        unused = [path for path in self.folder.iterdir() if path.name not in self.used]
        unused.sort(key=lambda path: path.stat().st_mtime_ns, reverse=True)
        for path in unused[keep:]:
            path.unlink(missing_ok=True)


def _checked(data: bytes) -> bytes | None:
    """The payload of a cache file, if it is whole (its first 32 bytes are the payload's hash)."""
    digest, payload = data[:32], data[32:]
    return payload if hashlib.sha256(payload).digest() == digest else None


class _Pickler(pickle.Pickler):
    """Pickles with long byte strings kept apart, as persistent_id names them."""

    def __init__(self, file, shared):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = shared

    def persistent_id(self, obj):
        return self.shared(obj)


class _Unpickler(pickle.Unpickler):
    """Reads what _Pickler wrote, the long byte strings from where persistent_load finds them."""

    def __init__(self, file, shared):
        super().__init__(file)
        self.shared = shared

    def persistent_load(self, pid):
        return self.shared(pid)
