"""Environment failures while writing a store, as one line with what to do and a distinct exit code.

Why here: every write of the store (parts, manifests, journals, claims, locks, meta.json) goes through a few store
functions; translating `OSError` there means a disk that fills up or a store mounted read-only ends the command with
one line (exit 73 or 74, see docs/store.md) instead of an 80-line traceback, whichever layer called the store.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from algrid.errors import StoreIOError

#: sysexits.h: the store cannot be written at all (read-only file system, permissions).
EXIT_CANTCREAT = 73
#: sysexits.h: a write failed half-way (disk full, quota exceeded, I/O error).
EXIT_IOERR = 74

_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def translate(exc: OSError, root: Path | str, action: str) -> StoreIOError:
    """A one-line StoreIOError for an OSError raised while ``action`` (e.g. "committing results") in ``root``."""
    where = getattr(exc, "filename", None) or root
    if exc.errno in _READ_ONLY:
        err = StoreIOError(
            f"cannot write to store {root} while {action}: {exc.strerror} ({where}); "
            f"make it writable or pass another --store"
        )
        err.exit_code = EXIT_CANTCREAT
        return err
    if exc.errno in _NO_SPACE:
        err = StoreIOError(
            f"no space left for store {root} while {action} ({where}); nothing was half-written: "
            f"free some space and rerun the same command to resume"
        )
        err.exit_code = EXIT_IOERR
        return err
    err = StoreIOError(f"I/O error on store {root} while {action}: {exc.strerror or exc} ({where})")
    err.exit_code = EXIT_IOERR
    return err


def is_environment(exc: BaseException) -> bool:
    """True for the OSErrors this module translates (the rest are bugs or damage and are not hidden)."""
    return isinstance(exc, OSError) and exc.errno in (_READ_ONLY | _NO_SPACE | {errno.EIO})


@contextmanager
def guarded(root: Path | str, action: str, cleanup: Iterable[Path] = ()) -> Iterator[list[Path]]:
    """Translate environment OSErrors into StoreIOError; on failure delete ``cleanup`` and any path the body appends
    to the yielded list (its temporary files), so a failed write leaves nothing half-written."""
    extra: list[Path] = []
    try:
        yield extra
    except OSError as exc:
        for path in [*cleanup, *extra]:
            try:
                Path(path).unlink(missing_ok=True)
            except OSError:
                pass
        if is_environment(exc):
            raise translate(exc, root, action) from None
        raise
