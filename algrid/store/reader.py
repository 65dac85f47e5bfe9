"""Reading a store: which parts are committed (a snapshot), and reading them into tables of the store schema.

Why a snapshot: writers add parts all the time and compaction replaces them. A reader lists the part files, applies
the *trusted* journals (a committed journal hides the parts it replaced, an uncommitted one the parts it is adding)
and reads only curves/queries parts whose runs part (the commit marker) exists, so it sees every committed
experiment exactly once. A journal is trusted only if its checksum matches and every part it adds carries its
writer's host and pid in its id (it names parts that it created): a stray or planted ``journal/x.json`` is ignored
(and reported by `algrid store verify`), so it can neither hide parts from readers nor make a repair delete them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from algrid.errors import StoreDamaged, StoreError
from algrid.store.schema import SCHEMAS

KINDS: tuple[str, ...] = ("runs", "curves", "queries")
PART_RE = re.compile(r"^part-(?P<id>[A-Za-z0-9._-]+)\.parquet$")
#: Hostname as it appears in part ids (``<uuid>-<host>-<pid>``).
HOST = socket.gethostname()
HOST_SAFE = re.sub(r"[^A-Za-z0-9.-]", "-", HOST)[:40] or "host"


def host_safe(host: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", host)[:40] or "host"


def part_path(root: Path, kind: str, part_id: str) -> Path:
    return Path(root) / kind / f"part-{part_id}.parquet"


def part_id_of(filename: str) -> str:
    """``.../part-<id>.parquet`` -> ``<id>``."""
    name = os.path.basename(filename)
    return name[len("part-") : -len(".parquet")]


def list_ids(directory: Path) -> set[str]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return set()
    return {m.group("id") for n in names if (m := PART_RE.match(n))}


# ------------------------------------------------------------------------------------------------- journals
def journal_checksum(content: dict[str, Any]) -> str:
    """sha256 of a journal's canonical JSON without its ``checksum`` field."""
    body = {k: v for k, v in content.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def journal_problem(content: Any) -> str | None:
    """Why a journal cannot be trusted (None: it can)."""
    if not isinstance(content, dict):
        return "not a JSON object"
    if content.get("checksum") != journal_checksum(content):
        return "no valid checksum"
    add, remove = content.get("add"), content.get("remove")
    if not isinstance(add, list) or not isinstance(remove, list):
        return "no add/remove lists"
    suffix = f"-{host_safe(str(content.get('host', '')))}-{content.get('pid')}"
    if any(not isinstance(a, str) or not a.endswith(suffix) for a in add):
        return "adds parts its writer did not create"
    if set(add) & set(remove):
        return "adds and removes the same part"
    return None


def read_journals(root: Path) -> tuple[dict[str, dict], dict[str, str]]:
    """(trusted journals name -> content, untrusted journals name -> why). An unparsable journal is untrusted
    (journals appear by an atomic rename, so no reader sees one half-written)."""
    trusted: dict[str, dict] = {}
    untrusted: dict[str, str] = {}
    jdir = Path(root) / "journal"
    try:
        names = sorted(os.listdir(jdir))
    except FileNotFoundError:
        return trusted, untrusted
    for name in names:
        if not name.endswith(".json") or name.startswith("."):
            continue
        try:
            content = json.loads((jdir / name).read_text())
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            untrusted[name] = f"unreadable ({type(exc).__name__})"
            continue
        why = journal_problem(content)
        if why is None:
            trusted[name] = content
        else:
            untrusted[name] = why
    return trusted, untrusted


def journal_committed(journal: dict, runs_ids: set[str]) -> bool:
    return all(a in runs_ids for a in journal.get("add", []))


@dataclass
class Snapshot:
    """A consistent view of the store's parts at one moment."""

    root: Path
    committed: list[str]  # part ids whose runs part is live (sorted)
    orphans: dict[str, list[str]] = field(default_factory=dict)  # kind -> ids without a runs part
    masked: set[str] = field(default_factory=set)  # ids hidden by a journal (replaced or not yet committed)
    journals: dict[str, dict] = field(default_factory=dict)
    untrusted: dict[str, str] = field(default_factory=dict)  # journal name -> why it is ignored

    def paths(self, kind: str) -> list[Path]:
        """Paths of the committed parts of one kind (a committed id may lack a curves part only if damaged)."""
        return [part_path(self.root, kind, i) for i in self.committed]


def snapshot(root: Path) -> Snapshot:
    """List parts and apply trusted journals; retried until the journal set is stable around the listing."""
    root = Path(root)
    for _ in range(50):
        j1, bad = read_journals(root)
        ids = {kind: list_ids(root / kind) for kind in KINDS}
        j2, _ = read_journals(root)
        if j1.keys() != j2.keys():
            continue
        masked: set[str] = set()
        for j in j1.values():
            masked |= set(j["remove"]) if journal_committed(j, ids["runs"]) else set(j["add"])
        committed = sorted(ids["runs"] - masked)
        orphans = {k: sorted(ids[k] - ids["runs"] - masked) for k in ("curves", "queries")}
        return Snapshot(root, committed, orphans, masked, j1, bad)
    raise StoreError(f"{root}: journal set kept changing while listing parts")


# ------------------------------------------------------------------------------------------------- reading
def dangling(path: Path) -> bool:
    """A symlink whose target is gone (listed by the directory, unreadable for ever)."""
    return path.is_symlink() and not path.exists()


def damaged(path: Path, detail: str) -> StoreDamaged:
    return StoreDamaged(
        f"damaged part {path}: {detail}; run `algrid store verify {path.parent.parent} --repair` to quarantine it"
    )


def read_parts(paths: list[Path], kind: str, columns: list[str] | None = None, flt=None) -> pa.Table:
    """Read parts into one table of the store schema; a damaged part raises StoreDamaged naming it.

    FileNotFoundError means a part vanished under us (a compaction replaced it): the caller takes a new snapshot.
    Page checksums (written by every part since checksums were introduced) are verified while decoding."""
    schema = SCHEMAS[kind]
    if not paths:
        t = schema.empty_table()
        if columns:
            t = t.append_column("__filename", pa.array([], pa.string())) if "__filename" in columns else t
            t = t.select(columns)
        return t
    for p in paths:
        if dangling(p):
            raise damaged(p, "dangling symlink")
    try:
        fmt = pads.ParquetFileFormat(
            default_fragment_scan_options=pads.ParquetFragmentScanOptions(page_checksum_verification=True)
        )
        dataset = pads.dataset([str(p) for p in paths], schema=schema, format=fmt)
        return dataset.to_table(columns=columns, filter=flt)
    except FileNotFoundError:
        raise
    except (OSError, pa.ArrowException) as exc:
        if "No such file" in str(exc):
            raise FileNotFoundError(str(exc)) from None
        for p in paths:  # find the culprit to name it
            why = part_problem(p, kind, full=True)
            if why == "missing":
                raise FileNotFoundError(str(p)) from None
            if why:
                raise damaged(p, why) from None
        raise StoreDamaged(f"cannot read {kind} parts: {str(exc).splitlines()[0]}") from None


def part_problem(path: Path, kind: str, full: bool = False) -> str | None:
    """Why a part cannot be read as ``kind`` (None: it can; "missing": it is gone).

    ``full=False`` reads only the footer (cheap: catches truncation, garbage and foreign schemas); ``full=True``
    decodes every page with its checksum."""
    if dangling(path):
        return "dangling symlink"
    try:
        if full:
            table = pq.read_table(path, page_checksum_verification=True)
            schema = table.schema
        else:
            schema = pq.read_schema(path)
    except FileNotFoundError:
        return "missing"
    except Exception as exc:  # noqa: BLE001 - any failure means an unreadable part
        text = str(exc).strip().splitlines()
        return f"{type(exc).__name__}: {text[0][:200] if text else ''}"
    want = SCHEMAS[kind]
    for f in want:
        if f.name not in schema.names:
            if f.name == "exp_key" or kind != "runs" or f.name in ("status",):
                return f"not a {kind} part of this store (no column {f.name})"
            continue
        have = schema.field(f.name).type
        target = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        value = have.value_type if pa.types.is_dictionary(have) else have
        if value != target and not _castable(value, target):
            return f"not a {kind} part of this store (column {f.name} is {have}, expected {f.type})"
    return None


def _castable(have: pa.DataType, want: pa.DataType) -> bool:
    numeric = pa.types.is_integer(have) or pa.types.is_floating(have)
    if numeric and (pa.types.is_integer(want) or pa.types.is_floating(want)):
        return True
    if pa.types.is_string(want) or pa.types.is_large_string(want):
        return pa.types.is_string(have) or pa.types.is_large_string(have)
    if pa.types.is_timestamp(want):
        return pa.types.is_timestamp(have)
    return False


def read_tolerant(
    paths: list[Path], kind: str, columns: list[str] | None = None
) -> tuple[pa.Table, dict[str, str]]:
    """Like read_parts, but a damaged part is skipped: (table, {relative path: why skipped}).

    For commands that report on a store (`status`, queries): they must answer, and say what they left out."""
    skipped: dict[str, str] = {}
    good = []
    for p in paths:  # footers first: a foreign schema would otherwise read as rows of nulls
        why = part_problem(p, kind)
        if why is None:
            good.append(p)
        elif why != "missing":
            skipped[f"{p.parent.name}/{p.name}"] = why
    try:
        return read_parts(good, kind, columns), skipped
    except (StoreDamaged, FileNotFoundError):
        pass
    readable = []
    for p in good:
        why = part_problem(p, kind, full=True)
        if why is None:
            readable.append(p)
        elif why != "missing":
            skipped[f"{p.parent.name}/{p.name}"] = why
    return read_parts(readable, kind, columns), skipped


class StoreLike(Protocol):
    """What the done-set and the commit buffer need of a store (a Protocol, so they sit below ``store.core``)."""

    root: Path

    def read(self, kind: str, columns: list[str] | None = None) -> Any: ...

    def snapshot(self) -> Any: ...
