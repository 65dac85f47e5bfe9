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
