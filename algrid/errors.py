"""User-facing errors: the CLI prints them as one line and exits non-zero, never with a traceback."""


class AlgridError(Exception):
    """Base for errors caused by user input or environment; `exit_code` is what the CLI returns."""

    exit_code = 1


class GridError(AlgridError):
    """A grid file is invalid (names the file, key and value)."""

    exit_code = 2


class StoreError(AlgridError):
    """A result store is missing, corrupt or belongs to another grid."""

    exit_code = 1
