"""Up-to-date check: a build whose inputs have not changed since the last good one does nothing.

Kept free of heavy imports: a no-op rebuild must answer before WeasyPrint, Markdown or
Jinja are loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

STAMP = ".last-build.json"
INPUT_FOLDERS = ("chapters", "layout", "assets")
PIPELINE = Path(__file__).resolve().parent


DEPENDENCIES = ("weasyprint", "pydyf", "fonttools", "markdown", "jinja2", "pypdf", "PyYAML", "nh3",
                "font-source-serif-pro", "font-source-sans-pro")
#: What shapes a part's pages besides its own HTML (the chapters come in through that HTML).
LAYOUT_FOLDERS = ("layout", "assets")


def inputs_digest(root: Path, request: dict) -> str:
    """A hash of every source, template, stylesheet and asset, the request, and the pipeline itself."""
    return _digest(root, INPUT_FOLDERS, request)


def layout_digest(root: Path, request) -> str:
    """A hash of the stylesheets, templates and assets, the request, and the pipeline itself."""
    return _digest(root, LAYOUT_FOLDERS, request)


def _digest(root: Path, folders, request) -> str:
    from importlib.metadata import PackageNotFoundError, version
    versions = {}
    for name in DEPENDENCIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    digest = hashlib.sha256(json.dumps([request, versions], sort_keys=True, default=str).encode())
    for folder in [root / name for name in folders] + [PIPELINE]:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(folder.parent)).encode() + b"\0" + path.read_bytes())
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
    data = {"inputs": digest, "outputs": {str(p): [p.stat().st_size, p.stat().st_mtime_ns] for p in outputs}}
    build_dir.mkdir(parents=True, exist_ok=True)
    temporary = build_dir / (STAMP + ".tmp")
    temporary.write_text(json.dumps(data, indent=1))
    os.replace(temporary, build_dir / STAMP)
