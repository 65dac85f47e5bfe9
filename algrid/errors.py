"""User-facing errors: the CLI prints them as one line and exits non-zero, never with a traceback.

Exit codes: 2 for bad input (a grid file, an option, a dataset file, a store that is not one) — the default of every
algrid error; environment failures that a retry elsewhere or more space would fix carry their own code (3 network,
73/74 a store that cannot be written, 75 experiments held by another runner, 130 interrupted).
"""


class AlgridError(Exception):
    """Base for errors caused by user input or the environment; ``exit_code`` is what the CLI returns."""

    exit_code = 2


class GridError(AlgridError):
    """A grid file is invalid (names the file, key and value)."""

    exit_code = 2


class StoreError(AlgridError):
    """A result store is missing, not a store, or belongs to another grid (bad input: exit 2)."""

    exit_code = 2


class StoreDamaged(StoreError):
    """A store's files are damaged (unreadable part, dangling link, foreign schema): input the command cannot use.

    Exit 2 like any other bad input; `algrid store verify --repair` quarantines what is damaged."""

    exit_code = 2


class StoreIOError(StoreError):
    """The environment refuses a write to the store (read-only file system, permissions, disk full, quota).

    Distinct exit codes so that job scripts can tell "retry elsewhere / free space" from bad input (sysexits.h):
    73 (EX_CANTCREAT) when the store cannot be written at all, 74 (EX_IOERR) when the disk or quota is full."""

    exit_code = 74
