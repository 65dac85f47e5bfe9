"""Compatibility names for code written against the former ``algrid.store.parts`` module.

The commit protocol now lives in algrid.store.writer and the snapshot/reading side in algrid.store.reader; this module
only re-exports their names so that existing imports (``from algrid.store import parts``) keep working.
"""

from __future__ import annotations

from algrid.store.reader import KINDS, Snapshot, part_path, snapshot
from algrid.store.reader import list_ids as _list_ids
from algrid.store.writer import (
    COMMIT_ORDER,
    STALE_JOURNAL_S,
    PartsBusy,
    _lock_parts,
    new_part_id,
    publish,
    recover_journals,
    remove_stale_tmp,
    replace_parts,
    write_commit,
    write_journal,
    write_tmp,
)
from algrid.store.writer import tmp_path as _tmp_path

__all__ = [
    "COMMIT_ORDER",
    "KINDS",
    "STALE_JOURNAL_S",
    "PartsBusy",
    "Snapshot",
    "_list_ids",
    "_lock_parts",
    "_tmp_path",
    "new_part_id",
    "part_path",
    "publish",
    "recover_journals",
    "remove_stale_tmp",
    "replace_parts",
    "snapshot",
    "write_commit",
    "write_journal",
    "write_tmp",
]
