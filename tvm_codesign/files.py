"""Writing outputs so that a crash never leaves a half-written file."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename, else it is removed.

    The temporary name is unique per writer and created by the writer itself (not ``mkstemp``, whose 0600 mode
    would stick to the final file), so the result gets the usual umask permissions. ``suffix`` keeps an extension
    that the writer needs (``export_library`` picks the format from it, ``np.savez`` appends ``.npz``).
    """
    final = Path(path)
    tmp = final.parent / f".{final.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp{suffix}"
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
