"""Writing a shareable bundle: a compacted copy of a store, its grids, a version manifest, checksums and the report.

Kept apart from :mod:`algrid.analysis.bundle` (reading and verifying bundles), because writing one builds the
interactive report, which itself reads stores through the module that opens bundles.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tarfile
import tempfile
import zipfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from algrid import __version__
from algrid.analysis.bundle import (
    _KEEP,
    _PARTS,
    _VERSIONED,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    BundleError,
    _kind,
    _link_or_copy,
    _sha256,
)
from algrid.errors import AlgridError

__all__ = ["write_bundle"]


def _stage_store(source: Path, stage: Path) -> None:
    stage.mkdir(parents=True)
    for name in _KEEP:
        src = source / name
        if src.is_dir():
            copy = _link_or_copy if name in _PARTS else shutil.copy2
            shutil.copytree(src, stage / name, copy_function=copy)
        elif src.is_file():
            shutil.copy2(src, stage / name)


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"algrid": __version__, "python": platform.python_version()}
    for lib in _VERSIONED:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def write_bundle(store_dir: str | Path, out: str | Path, report: bool = True) -> dict[str, Any]:
    """Write the bundle ``out`` of the store ``store_dir``; returns its manifest (without the file list)."""
    from algrid.store import Store
    from algrid.store.compact import compact
    from algrid.store.versions import VERSION_COLUMNS, version_census

    source = Path(store_dir)
    out = Path(out)
    kind = _kind(out)
    Store.open(source)  # a clear StoreError for anything that is not a store
    if out.resolve().is_relative_to(source.resolve()):
        raise BundleError(f"--out {out}: must be outside the store {source}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".algrid-bundle-", dir=out.parent))
    except OSError as exc:
        raise BundleError(f"--out {out}: cannot write here ({exc.strerror})") from None
    try:
        stage = work / "content"
        _stage_store(source, stage / "store")
        compacted = compact(stage / "store", min_age_s=0.0)
        shutil.rmtree(stage / "store" / "claims", ignore_errors=True)
        report_note = None
        if report:
            report_note = _write_report(stage, out.name)
        store_meta = json.loads((stage / "store" / "meta.json").read_text())
        files = {
            p.relative_to(stage).as_posix(): {"sha256": _sha256(p), "bytes": p.stat().st_size}
            for p in _files(stage)
        }
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": str(source.resolve()),
            "grid_name": store_meta.get("grid_name"),
            "store_meta": store_meta,
            "versions": _versions(),  # of the machine that wrote the bundle
            "run_versions": version_census(Store.open(stage / "store").runs(list(VERSION_COLUMNS))),
            "parts": compacted["parts_after"],
            "report": "report/index.html" if report and report_note is None else None,
            "report_note": report_note,
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        tmp = work / ("bundle" + "".join(out.suffixes))
        members = [(work / MANIFEST, MANIFEST)] + [(stage / name, name) for name in files]
        if kind == "zip":
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                for path, name in members:
                    zf.write(path, name)
        else:
            with tarfile.open(tmp, "w:gz" if kind == "tgz" else "w", format=tarfile.PAX_FORMAT) as tf:
                for path, name in members:
                    tf.add(path, name, recursive=False)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {k: v for k, v in manifest.items() if k != "files"}
    summary.update(bundle=str(out), n_files=len(files), bytes=out.stat().st_size)
    return summary


def _write_report(stage: Path, label: str) -> str | None:
    """The interactive report of the staged store; a store it cannot be built for gets a note instead."""
    from algrid.analysis.report_page import write_interactive_report
    from algrid.analysis.source import StoreData

    try:
        with StoreData(stage / "store") as data:
            write_interactive_report(data, stage / "report", source=label)
    except AlgridError as exc:
        shutil.rmtree(stage / "report", ignore_errors=True)
        return f"no report: {exc}"
    return None
