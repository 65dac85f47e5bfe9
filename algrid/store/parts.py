"""Append-only Parquet parts: unique names, atomic writes, consistent listings, journaled replacement.

Why this design (the prior study appended to shared CSVs and needed ~40 repair scripts):
- A part is written under a dot-prefixed temporary name and renamed into place, so no reader ever sees half a file.
- One flush writes ``curves/part-<id>``, ``queries/part-<id>`` and then ``runs/part-<id>`` with the *same* id; the runs
  part is the commit marker. Readers only read curves/queries parts whose runs part exists, so a writer killed between
  renames leaves orphans that are ignored (and removed by compact), never half-committed experiments.
- Ids combine a random uuid, the host and the pid: thousands of writers on a shared filesystem never collide.
- Operations that replace parts (compact, --retry-failed, verify --repair) write a journal first. The journal lists
  the parts it removes and adds; it is committed once every added runs part exists. Readers apply journals, so they see
  either the old parts or the new ones, never both (no duplicates) and never neither.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from algrid.store.schema import ROW_GROUP_ROWS

KINDS: tuple[str, ...] = ("runs", "curves", "queries")
#: Write order of one commit: the runs part last (it is the commit marker).
COMMIT_ORDER: tuple[str, ...] = ("curves", "queries", "runs")
_PART_RE = re.compile(r"^part-(?P<id>[A-Za-z0-9._-]+)\.parquet$")
_HOST_SAFE = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:40] or "host"
#: A journal whose owner is on another host is treated as abandoned after this many seconds.
STALE_JOURNAL_S = 3600.0


def new_part_id() -> str:
    """Unique across hosts and processes: uuid + host + pid."""
    return f"{uuid.uuid4().hex}-{_HOST_SAFE}-{os.getpid()}"


def part_path(root: Path, kind: str, part_id: str) -> Path:
    return root / kind / f"part-{part_id}.parquet"


def _tmp_path(root: Path, kind: str, part_id: str) -> Path:
    return root / kind / f".part-{part_id}.parquet.tmp"


def write_tmp(root: Path, kind: str, part_id: str, table: pa.Table, fsync: bool = True) -> Path:
    """Write a part under its temporary name (zstd, dictionary-encoded, sized row groups)."""
    tmp = _tmp_path(root, kind, part_id)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as fh:
        pq.write_table(
            table,
            fh,
            compression="zstd",
            row_group_size=ROW_GROUP_ROWS[kind],
            use_dictionary=True,
            write_statistics=True,
        )
        if fsync:
            fh.flush()
            os.fsync(fh.fileno())
    return tmp


def publish(root: Path, kind: str, part_id: str) -> None:
    """Atomically rename a written temporary part into place."""
    os.replace(_tmp_path(root, kind, part_id), part_path(root, kind, part_id))


def write_commit(
    root: Path, tables: dict[str, pa.Table], part_id: str | None = None, fsync: bool = True
) -> str:
    """Write one committed triple (curves, queries, runs) and return its part id."""
    part_id = part_id or new_part_id()
    for kind in COMMIT_ORDER:
        write_tmp(root, kind, part_id, tables[kind], fsync=fsync)
    for kind in COMMIT_ORDER:
        publish(root, kind, part_id)
    return part_id


def _list_ids(directory: Path) -> set[str]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return set()
    return {m.group("id") for n in names if (m := _PART_RE.match(n))}


# ------------------------------------------------------------------------------------------------- journals
def _journal_dir(root: Path) -> Path:
    return root / "journal"


def read_journals(root: Path) -> dict[str, dict]:
    """Every journal (name -> content); an unreadable journal is one being written: skipped."""
    out: dict[str, dict] = {}
    jdir = _journal_dir(root)
    try:
        names = sorted(os.listdir(jdir))
    except FileNotFoundError:
        return out
    for name in names:
        if not name.endswith(".json") or name.startswith("."):
            continue
        try:
            out[name] = json.loads((jdir / name).read_text())
        except (OSError, ValueError):
            continue
    return out


def _committed(journal: dict, runs_ids: set[str]) -> bool:
    return all(a in runs_ids for a in journal.get("add", []))


@dataclass
class Snapshot:
    """A consistent view of the store's parts at one moment."""

    root: Path
    committed: list[str]  # part ids whose runs part is live (sorted)
    orphans: dict[str, list[str]] = field(
        default_factory=dict
    )  # kind -> curves/queries ids without a runs part
    masked: set[str] = field(default_factory=set)  # ids hidden by a journal (replaced or not yet committed)
    journals: dict[str, dict] = field(default_factory=dict)

    def paths(self, kind: str) -> list[Path]:
        """Paths of the committed parts of one kind (a committed id may lack a curves part only if damaged)."""
        return [part_path(self.root, kind, i) for i in self.committed]


def snapshot(root: Path) -> Snapshot:
    """List parts and apply journals; retried until the journal set is stable around the listing."""
    for _ in range(50):
        j1 = read_journals(root)
        ids = {kind: _list_ids(root / kind) for kind in KINDS}
        j2 = read_journals(root)
        if j1.keys() != j2.keys():
            continue
        masked: set[str] = set()
        for j in j1.values():
            masked |= set(j.get("remove", [])) if _committed(j, ids["runs"]) else set(j.get("add", []))
        committed = sorted(ids["runs"] - masked)
        orphans = {k: sorted(ids[k] - ids["runs"] - masked) for k in ("curves", "queries")}
        return Snapshot(root=root, committed=committed, orphans=orphans, masked=masked, journals=j1)
    raise RuntimeError(f"{root}: journal set kept changing while listing parts")


def _owner_dead(journal: dict) -> bool:
    if journal.get("host") == socket.gethostname():
        try:
            os.kill(int(journal.get("pid", -1)), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError):
            return False
        return False
    return time.time() - float(journal.get("created", 0)) > STALE_JOURNAL_S


def _unlink_parts(
    root: Path, ids: Iterable[str], kinds: Iterable[str] = ("runs", "curves", "queries")
) -> None:
    for i in ids:
        for kind in kinds:
            try:
                part_path(root, kind, i).unlink()
            except FileNotFoundError:
                pass


def recover_journals(root: Path, force: bool = False) -> list[str]:
    """Finish committed journals and roll back abandoned uncommitted ones; returns what was done."""
    done = []
    runs_ids = _list_ids(root / "runs")
    for name, j in read_journals(root).items():
        if _committed(j, runs_ids):
            _unlink_parts(root, j.get("remove", []))
            action = "finished"
        elif force or _owner_dead(j):
            _unlink_parts(root, j.get("add", []), kinds=("runs", "curves", "queries"))
            for kind in KINDS:
                for a in j.get("add", []):
                    try:
                        _tmp_path(root, kind, a).unlink()
                    except FileNotFoundError:
                        pass
            action = "rolled back"
        else:
            continue
        try:
            (_journal_dir(root) / name).unlink()
        except FileNotFoundError:
            pass
        done.append(f"journal {name}: {action}")
    return done


class PartsBusy(Exception):
    """Another process is replacing (or has just replaced) one of the parts: re-read and try again."""


def _lock_payload() -> bytes:
    return json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "created": time.time()}).encode()


def _lock_stale(path: Path) -> bool:
    try:
        info = json.loads(path.read_text() or "{}")
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        info = {}
    return _owner_dead(info) if info else time.time() - path.stat().st_mtime > STALE_JOURNAL_S


def _lock_parts(root: Path, ids: list[str]) -> list[Path]:
    """Exclusive locks (O_EXCL files ``journal/<id>.lock``) on parts about to be replaced.

    Without them two processes replacing the same part (two runners retiring the same failed rows) would each add a
    copy of the part's other rows. A lock whose owner died is taken over; then the parts must still be live.
    """
    jdir = _journal_dir(root)
    jdir.mkdir(exist_ok=True)
    taken: list[Path] = []
    try:
        for part_id in sorted(set(ids)):
            path = jdir / f"{part_id}.lock"
            for attempt in range(2):
                try:
                    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                except FileExistsError:
                    if attempt == 0 and _lock_stale(path):
                        grave = jdir / f".stale-{part_id}-{uuid.uuid4().hex[:8]}"
                        try:
                            os.rename(path, grave)
                            grave.unlink()
                        except FileNotFoundError:
                            pass
                        continue
                    raise PartsBusy(part_id) from None
                with os.fdopen(fd, "wb") as fh:
                    fh.write(_lock_payload())
                taken.append(path)
                break
        recover_journals(root)  # a dead owner's committed journal may still list these parts
        live = _list_ids(root / "runs")
        gone = [i for i in ids if i not in live]
        if gone:
            raise PartsBusy(gone[0])
        return taken
    except BaseException:
        for path in taken:
            path.unlink(missing_ok=True)
        raise


def replace_parts(root: Path, remove: list[str], add: list[dict[str, pa.Table]], reason: str) -> list[str]:
    """Atomically (for readers) replace committed parts ``remove`` by new triples ``add``; returns the new ids.

    Raises PartsBusy if another process is replacing one of them (the caller re-reads and retries)."""
    locks = _lock_parts(root, remove)
    try:
        return _replace_locked(root, remove, add, reason)
    finally:
        for path in locks:
            path.unlink(missing_ok=True)


def _replace_locked(root: Path, remove: list[str], add: list[dict[str, pa.Table]], reason: str) -> list[str]:
    add_ids = [new_part_id() for _ in add]
    for part_id, tables in zip(add_ids, add, strict=True):
        for kind in COMMIT_ORDER:
            write_tmp(root, kind, part_id, tables[kind])
    jdir = _journal_dir(root)
    jdir.mkdir(exist_ok=True)
    name = f"{int(time.time() * 1000)}-{uuid.uuid4().hex[:12]}.json"
    content = {
        "reason": reason,
        "remove": list(remove),
        "add": add_ids,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "created": time.time(),
    }
    tmp = jdir / f".{name}.tmp"
    tmp.write_text(json.dumps(content))
    os.replace(tmp, jdir / name)
    for kind in ("curves", "queries"):
        for part_id in add_ids:
            publish(root, kind, part_id)
    for part_id in add_ids:  # the last runs rename commits the transaction
        publish(root, "runs", part_id)
    _unlink_parts(root, remove)
    (jdir / name).unlink(missing_ok=True)  # a concurrent recover_journals may have finished it for us
    return add_ids


def remove_stale_tmp(root: Path, older_than_s: float = 3600.0) -> list[Path]:
    """Delete temporary part files left by killed writers (a live writer renames within seconds)."""
    removed = []
    now = time.time()
    for kind in KINDS:
        d = root / kind
        if not d.is_dir():
            continue
        for p in d.iterdir():
            if p.name.startswith(".part-") and p.name.endswith(".tmp"):
                try:
                    if now - p.stat().st_mtime > older_than_s:
                        p.unlink()
                        removed.append(p)
                except FileNotFoundError:
                    pass
    return removed
