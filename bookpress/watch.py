"""Watch mode: rebuild whenever a source changes, and keep watching after a failed build."""

from __future__ import annotations

import time
from pathlib import Path

from .stamp import INPUT_FOLDERS as WATCHED  # what a build reads is what is watched


def watch(root: Path, rebuild, changes=None) -> int:
    """Build now, then once per batch of changes (watchfiles debounces them); Ctrl-C stops."""
    if changes is None:
        from watchfiles import watch as file_changes

        folders = [root / name for name in WATCHED if (root / name).is_dir()]
        changes = file_changes(*folders, debounce=400)
    print(f"Watching {', '.join(WATCHED)} for changes (Ctrl-C stops).", flush=True)
    _timed(rebuild)
    try:
        for batch in changes:
            names = sorted({Path(path).name for _, path in batch})
            print(f"Changed: {', '.join(names)}", flush=True)
            _timed(rebuild)
    except KeyboardInterrupt:
        pass
    return 0


def _timed(rebuild) -> None:
    start = time.perf_counter()
    code = rebuild()
    outcome = "built" if code == 0 else "failed; the last good PDF is still in build/"
    print(f"  {outcome} in {time.perf_counter() - start:.1f} s", flush=True)
