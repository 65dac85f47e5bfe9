"""The commit protocol, in one place: how parts, checksums and journals reach the store so readers never see half.

Why this design (the prior study appended to shared CSVs and needed ~40 repair scripts):

1. A part is written under a dot-prefixed temporary name (``<kind>/.part-<id>.parquet.tmp``), with Parquet page
   checksums, fsynced, and its sha256 recorded in ``manifests/part-<id>.json`` (the per-part content checksum that
   `algrid store verify` compares); then it is renamed into place, so no reader ever sees half a file.
2. One commit writes ``curves/``, ``queries/`` and *then* ``runs/part-<id>`` with the same id: the runs part is the
   commit marker. Readers only read curves/queries parts whose runs part exists, so a writer killed between renames
   leaves orphans that are ignored (and removed by compact), never half-committed experiments.
3. Ids combine a random uuid, the host and the pid: thousands of writers on a shared filesystem never collide, and a
   part's id tells who created it (journals are trusted only for parts their writer created).
4. Replacing parts (compact, ``--retry-failed``, ``verify --repair``) first locks them (``journal/<id>.lock``), writes
   the new parts' temporary files, then a checksummed journal listing the parts removed and added, then renames the
   new parts in; the last runs rename commits. Readers apply trusted journals, so they see the old parts or the new
   ones, never both. A repair moves the replaced parts into ``quarantine/`` instead of deleting them.
5. An environment failure (disk full, read-only store) removes this commit's temporary files and becomes one
   StoreIOError line (algrid.store.ioerrors): nothing half-written stays behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from algrid.store import owners
from algrid.store.ioerrors import guarded
from algrid.store.reader import (
    HOST,
    HOST_SAFE,
    KINDS,
    journal_checksum,
    journal_committed,
    list_ids,
    part_path,
    read_journals,
)
from algrid.store.schema import ROW_GROUP_ROWS

#: Write order of one commit: the runs part last (it is the commit marker).
COMMIT_ORDER: tuple[str, ...] = ("curves", "queries", "runs")
#: A journal or lock whose owner is on another host is treated as abandoned after this many seconds.
STALE_JOURNAL_S = 3600.0
#: Footer key of runs parts that have a manifest (a missing manifest is then damage, not an older store).
CHECKSUM_MARK = b"algrid.checksums"


def new_part_id() -> str:
    """Unique across hosts and processes: uuid + host + pid."""
    return f"{uuid.uuid4().hex}-{HOST_SAFE}-{os.getpid()}"


def writer_alive(part_id: str) -> bool:
    """True if the id's writer is another live process of this host (its temporary files and orphans are in use).

    This process does not count: it does not write while it compacts."""
    host_pid = part_id.rsplit("-", 1)
    if len(host_pid) != 2 or not part_id[: -len(host_pid[1]) - 1].endswith(f"-{HOST_SAFE}"):
        return False
    if host_pid[1] == str(os.getpid()):
        return False
    return owners.pid_alive(host_pid[1]) is True


def tmp_path(root: Path, kind: str, part_id: str) -> Path:
    return Path(root) / kind / f".part-{part_id}.parquet.tmp"


def manifest_path(root: Path, part_id: str) -> Path:
    return Path(root) / "manifests" / f"part-{part_id}.json"


def file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _record_checksum(root: Path, part_id: str, kind: str, path: Path, fsync: bool) -> None:
    """Add one file's sha256 to the part's manifest (one writer per part id: no race)."""
    target = manifest_path(root, part_id)
    target.parent.mkdir(exist_ok=True)
    try:
        manifest = json.loads(target.read_text())
    except (OSError, ValueError):
        manifest = {"part": part_id, "sha256": {}, "bytes": {}}
    manifest["sha256"][kind] = file_sha256(path)
    manifest["bytes"][kind] = path.stat().st_size
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "w") as fh:
            fh.write(json.dumps(manifest, sort_keys=True))
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_tmp(root: Path, kind: str, part_id: str, table: pa.Table, fsync: bool = True) -> Path:
    """Write a part under its temporary name (zstd, dictionary-encoded, sized row groups, page checksums) and record
    its sha256 in the part's manifest."""
    root = Path(root)
    tmp = tmp_path(root, kind, part_id)
    with guarded(root, f"writing {kind} part {part_id}", cleanup=[tmp]):
        tmp.parent.mkdir(parents=True, exist_ok=True)
        if kind == "runs":
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), CHECKSUM_MARK: b"manifest"}
            )
        with open(tmp, "wb") as fh:
            pq.write_table(
                table,
                fh,
                compression="zstd",
                row_group_size=ROW_GROUP_ROWS[kind],
                use_dictionary=True,
                write_statistics=True,
                write_page_checksum=True,
            )
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        _record_checksum(root, part_id, kind, tmp, fsync and kind == "runs")  # runs: last, complete manifest
    return tmp


def publish(root: Path, kind: str, part_id: str) -> None:
    """Atomically rename a written temporary part into place."""
    with guarded(root, f"publishing {kind} part {part_id}"):
        os.replace(tmp_path(root, kind, part_id), part_path(root, kind, part_id))


def _discard(root: Path, part_ids: Iterable[str], published: bool = False) -> None:
    """Remove what an unfinished commit left: temporary files, manifests and (``published``) its parts."""
    for part_id in part_ids:
        for kind in KINDS:
            tmp_path(root, kind, part_id).unlink(missing_ok=True)
            if published:
                part_path(root, kind, part_id).unlink(missing_ok=True)
        manifest_path(root, part_id).unlink(missing_ok=True)


def write_commit(
    root: Path, tables: dict[str, pa.Table], part_id: str | None = None, fsync: bool = True
) -> str:
    """Write one committed triple (curves, queries, then runs) and return its part id.

    If the disk fills up or the store turns read-only half-way, everything of this commit is removed again and a
    StoreIOError is raised: the experiments stay uncommitted (pending), the store stays consistent."""
    for attempt in range(3):
        pid = part_id or new_part_id()
        try:
            for kind in COMMIT_ORDER:
                write_tmp(root, kind, pid, tables[kind], fsync=fsync)
            for kind in COMMIT_ORDER:
                publish(root, kind, pid)
            return pid
        except BaseException as exc:
            if not part_path(root, "runs", pid).exists():
                try:
                    _discard(root, [pid], published=True)
                except OSError:
                    pass
            # a temporary file removed under us (`compact --min-age 0` on another host): write it again, new id
            if not isinstance(exc, FileNotFoundError) or part_id is not None or attempt == 2:
                raise
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------------------------------- journals
def _owner_gone(journal: dict) -> bool:
    if journal.get("host") == HOST:
        return owners.pid_alive(journal.get("pid")) is False
    return time.time() - float(journal.get("created", 0) or 0) > STALE_JOURNAL_S


def _unlink_parts(root: Path, ids: Iterable[str]) -> None:
    for i in ids:
        for kind in KINDS:
            part_path(root, kind, i).unlink(missing_ok=True)
        manifest_path(root, i).unlink(missing_ok=True)


def quarantine_parts(root: Path, ids: Iterable[str], why: str) -> list[str]:
    """Move parts (every kind and their manifest) into ``quarantine/<time>-<why>/``; returns the moved paths.

    Runs first: the experiment is uncommitted before its curves move, so no reader sees runs without curves."""
    moved = []
    stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{why}"
    for pid in ids:
        sources = [part_path(root, k, pid) for k in ("runs", "curves", "queries")] + [
            manifest_path(root, pid)
        ]
        for src in sources:
            if src.exists() or src.is_symlink():
                dst = Path(root) / "quarantine" / stamp / src.parent.name / src.name
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(src), str(dst))
                moved.append(str(dst.relative_to(root)))
    return moved


def recover_journals(root: Path, force: bool = False) -> list[str]:
    """Finish committed journals and roll back abandoned uncommitted ones; returns what was done.

    Only trusted journals (algrid.store.reader.journal_problem) are acted on: an untrusted one changes nothing."""
    done = []
    root = Path(root)
    runs_ids = list_ids(root / "runs")
    trusted, _ = read_journals(root)
    for name, j in trusted.items():
        if journal_committed(j, runs_ids):
            _unlink_parts(root, j["remove"])
            action = "finished"
        elif force or _owner_gone(j):
            _unlink_parts(root, j["add"])
            _discard(root, j["add"])
            action = "rolled back"
        else:
            continue
        (root / "journal" / name).unlink(missing_ok=True)
        done.append(f"journal {name}: {action}")
    return done


class PartsBusy(Exception):
    """Another process is replacing (or has just replaced) one of the parts: re-read and try again."""

    def __init__(self, part_id: str, why: str = "locked by another process"):
        super().__init__(part_id)
        self.part_id = part_id
        self.why = why


def lock_state(root: Path, part_id: str, wait: bool = False) -> str:
    """held / abandoned / empty / gone of a part lock (algrid.store.owners.state; ``wait``: an empty lock is waited
    out for the grace period)."""
    fn = owners.settled_state if wait else owners.state
    return fn(Path(root) / "journal" / f"{part_id}.lock", STALE_JOURNAL_S)


def _lock_parts(root: Path, ids: list[str]) -> list[Path]:
    """Exclusive locks (``journal/<id>.lock``, created complete) on parts about to be replaced.

    Without them two processes replacing the same part (two runners retiring the same failed rows) would each add a
    copy of the part's other rows. A lock whose owner is gone (the owners rule) is taken over; then the parts must
    still be live."""
    jdir = Path(root) / "journal"
    taken: list[Path] = []
    try:
        with guarded(root, "locking parts"):
            jdir.mkdir(exist_ok=True)
            for part_id in sorted(set(ids)):
                path = jdir / f"{part_id}.lock"
                if not owners.create_exclusive(path, owners.record()):
                    state = lock_state(root, part_id, wait=True)
                    if (
                        state != "abandoned"
                        or not owners.take_over(path)
                        or not owners.create_exclusive(path, owners.record())
                    ):
                        raise PartsBusy(part_id, f"journal/{part_id}.lock is {state}")
                taken.append(path)
        recover_journals(root)  # a dead owner's committed journal may still list these parts
        live = list_ids(Path(root) / "runs")
        gone = [i for i in ids if i not in live]
        if gone:
            raise PartsBusy(gone[0], "replaced meanwhile")
        return taken
    except BaseException:
        for path in taken:
            path.unlink(missing_ok=True)
        raise


def write_journal(root: Path, remove: list[str], add_ids: list[str], reason: str) -> Path:
    """Atomically write a checksummed journal (its adds must be ids this process created)."""
    jdir = Path(root) / "journal"
    jdir.mkdir(exist_ok=True)
    name = f"{int(time.time() * 1000)}-{uuid.uuid4().hex[:12]}.json"
    content = {
        "reason": reason,
        "remove": list(remove),
        "add": list(add_ids),
        "host": HOST,
        "pid": os.getpid(),
        "created": time.time(),
    }
    content["checksum"] = journal_checksum(content)
    tmp = jdir / f".{name}.tmp"
    try:
        tmp.write_text(json.dumps(content))
        os.replace(tmp, jdir / name)
    finally:
        tmp.unlink(missing_ok=True)
    return jdir / name


def replace_parts(
    root: Path, remove: list[str], add: list[dict[str, pa.Table]], reason: str, keep_removed: bool = False
) -> list[str]:
    """Atomically (for readers) replace committed parts ``remove`` by new triples ``add``; returns the new ids.

    ``keep_removed``: move the replaced parts into ``quarantine/`` instead of deleting them (repair never deletes a
    readable part). Raises PartsBusy if another process is replacing one of them (the caller re-reads, retries)."""
    locks = _lock_parts(root, remove)
    try:
        return _replace_locked(Path(root), remove, add, reason, keep_removed)
    finally:
        for path in locks:
            path.unlink(missing_ok=True)


def _replace_locked(
    root: Path, remove: list[str], add: list[dict[str, pa.Table]], reason: str, keep_removed: bool
) -> list[str]:
    add_ids = [new_part_id() for _ in add]
    journal: Path | None = None
    try:
        with guarded(root, reason):
            for part_id, tables in zip(add_ids, add, strict=True):
                for kind in COMMIT_ORDER:
                    write_tmp(root, kind, part_id, tables[kind])
            journal = write_journal(root, remove, add_ids, reason)
            for kind in ("curves", "queries"):
                for part_id in add_ids:
                    publish(root, kind, part_id)
            for part_id in add_ids:  # the last runs rename commits the transaction
                publish(root, "runs", part_id)
    except BaseException:
        committed = bool(add_ids) and all(part_path(root, "runs", a).exists() for a in add_ids)
        if (
            not committed
        ):  # undo: new parts first, then the journal (else readers would see old and new parts)
            try:
                _discard(root, add_ids, published=True)
                if journal is not None:
                    journal.unlink(missing_ok=True)
            except OSError:
                pass
        raise
    if keep_removed:
        quarantine_parts(root, remove, reason.replace(" ", "-").replace("/", "-"))
    _unlink_parts(root, remove)
    if journal is not None:
        journal.unlink(missing_ok=True)  # a concurrent recover_journals may have finished it for us
    return add_ids


_TMP_RE = re.compile(r"^\.part-(?P<id>.+?)\.(parquet|json)(\..*)?\.tmp$")


def remove_stale_tmp(root: Path, older_than_s: float = 3600.0) -> list[Path]:
    """Delete temporary part files left by killed writers: older than ``older_than_s`` and not of a live writer on
    this host (so `compact --min-age 0` never pulls a file from under a running runner)."""
    removed = []
    now = time.time()
    for kind in (*KINDS, "manifests"):
        d = Path(root) / kind
        if not d.is_dir():
            continue
        for p in d.iterdir():
            if not (p.name.startswith(".") and p.name.endswith(".tmp")):
                continue
            m = _TMP_RE.match(p.name)
            if m and writer_alive(m.group("id")):
                continue
            try:
                if now - p.stat().st_mtime > older_than_s:
                    p.unlink()
                    removed.append(p)
            except FileNotFoundError:
                pass
    return removed
