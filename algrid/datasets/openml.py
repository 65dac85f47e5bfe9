"""OpenML datasets by id (`openml:<id>`): fetched once into a disk cache, afterwards read only from the cache.

Experiments never touch the network: `fetch` (or `algrid datasets fetch openml:<id>`) downloads the dataset
description and its data (Parquet when OpenML offers it, else ARFF) into
`$ALGRID_CACHE_DIR/openml/<id>/` (default `~/.cache/algrid/openml/<id>/`), and records the preprocessed shape in
`info.json` so `dataset_info` stays cheap. Files are written to a temporary name and renamed, so a crashed
download never leaves a half file that later runs would trust.
When info.json is missing or stale, `info` loads the data through the loader it is given (the registry passes the
per-process cached one); this module never imports the loader or the registry, which import it.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from algrid.datasets.model import Dataset, DatasetError, DatasetInfo, Loader, kind_of
from algrid.datasets.version import PREPROCESSING_VERSION
from algrid.errors import AlgridError

OPEN_ENDED = True
API = "https://www.openml.org/api/v1/json/data/{id}"
PREFIX = "openml:"
_TIMEOUT_S = 60


def cache_root() -> Path:
    """Where OpenML datasets are cached: <data cache dir>/openml (ALGRID_CACHE_DIR, default ~/.cache/algrid)."""
    from algrid import config

    return config.current().data_cache_dir / "openml"


def parse_id(name: str) -> int:
    """The integer id in `openml:<id>` (DatasetError for anything else)."""
    ref = name[len(PREFIX) :] if name.startswith(PREFIX) else name
    if not ref.isdigit() or int(ref) <= 0:
        raise DatasetError(f"invalid OpenML dataset name {name!r}: expected openml:<positive integer id>")
    return int(ref)


def cache_dir(name: str) -> Path:
    return cache_root() / str(parse_id(name))


def _description(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "description.json").read_text(encoding="utf-8"))["data_set_description"]


def _require_cached(name: str) -> Path:
    folder = cache_dir(name)
    has_data = (folder / "data.parquet").is_file() or (folder / "data.arff").is_file()
    if not ((folder / "description.json").is_file() and has_data):
        raise DatasetError(
            f"OpenML dataset {name} is not cached in {folder}; fetch it once with "
            f"`algrid datasets fetch {name}` (set ALGRID_CACHE_DIR to choose the cache directory)"
        )
    return folder


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def read_arff(path: Path) -> pd.DataFrame:
    """A dense ARFF file as a DataFrame; nominal values become strings and '?' becomes missing."""
    import pandas as pd
    from scipy.io import arff

    try:
        data, _ = arff.loadarff(str(path))
    except (NotImplementedError, ValueError) as exc:
        raise AlgridError(f"{path}: unsupported ARFF ({exc}); re-fetch to get OpenML's Parquet copy") from exc
    frame = pd.DataFrame(data)
    for col in frame.columns:
        if frame[col].dtype == object:
            values = frame[col].map(lambda v: v.decode("utf-8") if isinstance(v, bytes) else v)
            frame[col] = values.where(values != "?", None)
    return frame


def read_cached(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The raw table (ignored/row-id attributes removed) and the OpenML description of a cached dataset."""
    import pandas as pd

    folder = _require_cached(name)
    desc = _description(folder)
    if (folder / "data.parquet").is_file():
        frame = pd.read_parquet(folder / "data.parquet")
    else:
        frame = read_arff(folder / "data.arff")
    drop = _as_list(desc.get("ignore_attribute")) + _as_list(desc.get("row_id_attribute"))
    return frame.drop(columns=[c for c in drop if c in frame.columns]), desc


def _target(name: str, desc: dict[str, Any]) -> str:
    targets = _as_list(desc.get("default_target_attribute"))
    if len(targets) != 1:
        raise AlgridError(f"OpenML dataset {name}: needs exactly one default target attribute, got {targets}")
    return targets[0]


def _source(name: str, desc: dict[str, Any]) -> str:
    return f"OpenML {parse_id(name)} ({desc.get('name', '?')} v{desc.get('version', '?')})"


def _licence(desc: dict[str, Any]) -> str:
    return str(desc.get("licence") or "not stated on OpenML")


def claims(name: str) -> bool:
    return name.startswith(PREFIX)


def names() -> list[str]:
    """None listed: any `openml:<id>` is a name (usable once fetched)."""
    return []


def load(name: str) -> Dataset:
    """Preprocessed Dataset for `openml:<id>` from the cache (never downloads)."""
    from algrid.datasets.build import build

    frame, desc = read_cached(name)
    return build(name, frame, _target(name, desc), _source(name, desc), _licence(desc))


def info(name: str, loader: Loader | None = None) -> DatasetInfo:
    """Metadata from the cache's info.json (computed by loading once through `loader`, default `load`, if missing
    or from an older preprocessing)."""
    folder = _require_cached(name)
    path = folder / "info.json"
    if path.is_file():
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("preprocessing_version") == PREPROCESSING_VERSION:
            return DatasetInfo(
                name, cached["rows"], cached["features"], cached["classes"], cached["source"],
                cached["licence"], kind_of(cached["classes"]),
            )  # fmt: skip
    meta = (loader or load)(name).info
    record = {"preprocessing_version": PREPROCESSING_VERSION, **meta.to_dict()}
    _atomic_write(path, json.dumps(record, indent=1).encode())
    return meta


def _atomic_write(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


class NetworkError(AlgridError):
    """OpenML could not be reached at all (no network, DNS, refused, timeout): says what to do instead."""

    exit_code = 3


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:  # noqa: S310 - fixed https hosts
            return response.read()
    except urllib.error.HTTPError as exc:  # the server answered: a problem with this dataset, not the network
        raise AlgridError(f"download failed: {url}: HTTP {exc.code} {exc.reason}") from exc
    except OSError as exc:  # URLError, timeouts, refused connections
        reason = getattr(exc, "reason", exc)
        raise NetworkError(
            f"cannot reach OpenML ({url}: {reason}); fetching needs network access: run "
            f"`algrid datasets fetch` where OpenML is reachable and copy its cache folder to {cache_root()} "
            f"(or point ALGRID_CACHE_DIR at shared storage)"
        ) from exc


def is_cached(name: str) -> bool:
    """Whether `openml:<id>` has a complete fetch in the cache (description written last marks it)."""
    folder = cache_dir(name)
    return (folder / "description.json").is_file() and any(
        (folder / f).is_file() for f in ("data.parquet", "data.arff")
    )


def fetch(name: str, *, force: bool = False) -> Path:
    """Download `openml:<id>` into the cache (no-op when already cached unless `force`); returns its folder."""
    data_id = parse_id(name)
    name = f"{PREFIX}{data_id}"
    folder = cache_dir(name)
    if is_cached(name) and not force:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    raw = _download(API.format(id=data_id))
    try:
        desc = json.loads(raw)["data_set_description"]
    except (ValueError, KeyError) as exc:
        raise AlgridError(
            f"OpenML dataset {name}: unexpected description from {API.format(id=data_id)}"
        ) from exc
    sparse = str(desc.get("format", "arff")).lower() == "sparse_arff"  # usable only through the Parquet copy
    if sparse and not desc.get("parquet_url"):
        raise AlgridError(f"OpenML dataset {name}: sparse ARFF datasets are not supported")
    for stale in ("data.parquet", "data.arff", "info.json"):
        (folder / stale).unlink(missing_ok=True)
    payload: bytes | None = None
    fname = ""  # set together with payload below
    if desc.get("parquet_url"):
        try:
            payload, fname = _download(desc["parquet_url"]), "data.parquet"
        except NetworkError:
            raise
        except AlgridError:
            payload = None  # fall back to the ARFF file every OpenML dataset has
    if payload is None:
        if sparse:
            raise AlgridError(f"OpenML dataset {name}: sparse ARFF and its Parquet copy failed to download")
        if not desc.get("url"):
            raise AlgridError(f"OpenML dataset {name}: description has no data url")
        payload, fname = _download(desc["url"]), "data.arff"
    _atomic_write(folder / fname, payload)
    _atomic_write(folder / "description.json", raw)  # written last: its presence marks a complete fetch
    try:
        info(name)  # parse + preprocess now so a bad file fails at fetch time, and cache the metadata
    except Exception:
        (folder / "description.json").unlink(
            missing_ok=True
        )  # not a usable fetch: later runs must not trust it
        raise
    return folder


@dataclass(frozen=True)
class FetchOutcome:
    """What `fetch_all` did for one dataset: `status` is "cached" (already there), "fetched" or "failed"."""

    name: str
    status: str
    folder: Path | None = None
    error: str | None = None


def fetch_all(
    names: Iterable[str], *, force: bool = False, report: Callable[[FetchOutcome], None] | None = None
) -> list[FetchOutcome]:
    """Fetch several datasets: one that fails (HTTP error, unsupported format) is recorded and the rest go on;
    a NetworkError stops at once (nothing else could succeed) after reporting what was done so far."""
    outcomes: list[FetchOutcome] = []
    for raw in names:
        name = f"{PREFIX}{parse_id(raw)}"
        if is_cached(name) and not force:
            outcome = FetchOutcome(name, "cached", cache_dir(name))
        else:
            try:
                outcome = FetchOutcome(name, "fetched", fetch(name, force=force))
            except NetworkError:
                raise
            except AlgridError as exc:
                outcome = FetchOutcome(name, "failed", error=str(exc))
        outcomes.append(outcome)
        if report is not None:
            report(outcome)
    return outcomes
