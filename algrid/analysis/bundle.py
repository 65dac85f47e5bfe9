"""Shareable bundles: one archive holding a compacted copy of a store, its grid(s), a version manifest, a checksum
per file and the interactive report, so results can be sent, published and re-analysed elsewhere.

Layout of the archive (``.tar``, ``.tar.gz``/``.tgz`` or ``.zip``)::

    bundle.json        manifest: format, versions, store meta, sha256 and size of every other member
    store/...          meta.json, grid.yaml, grids/, runs/, curves/, queries/ (compacted, committed rows only)
    report/index.html  the interactive report (and summary.json)

The source store is never modified: parts are hard-linked (or copied) into a staging directory, and the copy is
compacted. Bundles are read by extracting them into a temporary directory (`open_bundle`), so analysis code is the
same as for a store, and the archive itself stays untouched.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from algrid.errors import AlgridError, StoreError

MANIFEST = "bundle.json"
FORMAT = "algrid-bundle"
FORMAT_VERSION = 1
#: Store folders that belong in a bundle (claims, quarantine, export, slurm, logs are local state).
_KEEP = ("meta.json", "grid.yaml", "grids", "runs", "curves", "queries", "journal")
_PARTS = ("runs", "curves", "queries")
#: Libraries whose versions shape results or their reading.
_VERSIONED = (
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "pyarrow",
    "duckdb",
    "plotly",
    "modAL-python",
    "small-text",
    "scikit-activeml",
)
_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".zip")


class BundleError(AlgridError):
    """A bundle cannot be written, read or verified."""

    exit_code = 2


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar.gz", ".tgz")):
        return "tgz"
    if name.endswith(".tar"):
        return "tar"
    raise BundleError(f"--out {path}: a bundle name ends in {', '.join(_SUFFIXES)}")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _link_or_copy(src: str, dst: str) -> None:
    """Parquet parts are immutable once renamed into place: a hard link is a safe, instant copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


# -- reading -------------------------------------------------------------------------------------------------------
class _Archive:
    """Uniform member access over tar and zip."""

    def __init__(self, path: Path):
        self.path = path
        try:
            if zipfile.is_zipfile(path):
                self._zip: zipfile.ZipFile | None = zipfile.ZipFile(path)
                self._tar: tarfile.TarFile | None = None
            else:
                self._zip = None
                self._tar = tarfile.open(path, "r:*")
        except tarfile.ReadError:
            raise BundleError(f"{path}: not an algrid bundle (not a tar or zip archive)") from None
        except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            raise BundleError(
                f"{path}: not an algrid bundle (unreadable archive: {_one_line(exc)})"
            ) from None

    def _tarfile(self) -> tarfile.TarFile:
        assert self._tar is not None  # __init__ opens exactly one of _zip and _tar
        return self._tar

    def names(self) -> list[str]:
        if self._zip is not None:
            return [i.filename for i in self._zip.infolist() if not i.is_dir()]
        return [m.name for m in self._tarfile().getmembers() if m.isfile()]

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        if self._zip is not None:
            with self._zip.open(name) as fh:
                yield fh
        else:
            member = self._tarfile().extractfile(name)
            if member is None:
                raise KeyError(name)
            with member:
                yield member

    def extract(self, dest: Path) -> None:
        if self._zip is not None:
            for name in self.names():
                target = (dest / name).resolve()
                if not target.is_relative_to(dest.resolve()):
                    raise BundleError(f"{self.path}: member {name!r} escapes the bundle")
            self._zip.extractall(dest)
        else:
            self._tarfile().extractall(dest, filter="data")

    def close(self) -> None:
        (self._zip if self._zip is not None else self._tarfile()).close()


def read_manifest(archive: _Archive) -> dict[str, Any]:
    try:
        with archive.open(MANIFEST) as fh:
            manifest = json.loads(fh.read().decode("utf-8"))
    except KeyError:
        raise BundleError(f"{archive.path}: not an algrid bundle (no {MANIFEST})") from None
    except (OSError, ValueError, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise BundleError(f"{archive.path}: unreadable {MANIFEST} ({_one_line(exc)})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{archive.path}: not an algrid bundle ({MANIFEST} format is not {FORMAT!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{archive.path}: bundle format_version {manifest.get('format_version')!r} is not supported "
            f"(expected {FORMAT_VERSION})"
        )
    return manifest


@dataclass
class BundleCheck:
    """Result of `verify_bundle`: ok only when every listed file is present with its checksum and nothing else is."""

    bundle: str
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"bundle": self.bundle, "ok": self.ok, "files": self.files, "problems": self.problems}

    def line(self) -> str:
        if self.ok:
            return f"OK: bundle {self.bundle}: {self.files} files, every checksum matches"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        first = " ".join(self.problems[0].split())
        return f"FAILED: bundle {self.bundle}: {first}{more}"


def verify_bundle(path: str | Path) -> BundleCheck:
    """Check every member of a bundle against the sha256 and size its manifest lists."""
    path = Path(path)
    check = BundleCheck(str(path))
    try:
        archive = _Archive(path)
    except BundleError as exc:
        check.problems.append(str(exc).split(": ", 1)[-1])
        return check
    try:
        manifest = read_manifest(archive)
        listed: dict[str, dict] = manifest.get("files") or {}
        present = set(archive.names()) - {MANIFEST}
        for name in sorted(present - set(listed)):
            check.problems.append(f"{name}: not listed in the manifest")
        for name, want in sorted(listed.items()):
            if name not in present:
                check.problems.append(f"{name}: missing")
                continue
            h, size = hashlib.sha256(), 0
            with archive.open(name) as fh:
                for chunk in iter(functools.partial(fh.read, 1 << 20), b""):
                    h.update(chunk)
                    size += len(chunk)
            if h.hexdigest() != want.get("sha256") or size != want.get("bytes"):
                check.problems.append(f"{name}: checksum mismatch")
            check.files += 1
    except BundleError as exc:
        check.problems.append(str(exc).split(": ", 1)[-1])
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile) as exc:
        check.problems.append(f"unreadable archive ({_one_line(exc)})")
    finally:
        archive.close()
    return check


class OpenedBundle:
    """A bundle extracted into a temporary directory; ``store`` is its store directory. Removed on close."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        archive = _Archive(self.path)
        self.tmp = Path(tempfile.mkdtemp(prefix="algrid-bundle-"))
        try:
            self.manifest = read_manifest(archive)
            try:
                archive.extract(self.tmp)
            except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile) as exc:
                raise BundleError(f"{self.path}: unreadable archive ({_one_line(exc)})") from None
        except BaseException:
            self.close()
            raise
        finally:
            archive.close()
        self.store = self.tmp / "store"
        if not (self.store / "runs").is_dir():
            self.close()
            raise StoreError(f"{self.path}: bundle holds no store (store/runs missing)")

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
