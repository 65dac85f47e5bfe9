"""The fixed, versioned preprocessing every dataset goes through before an experiment sees it.

Shipped files hold the *raw* table (original column types, missing values, categoricals), and preprocessing runs
at load time. That way a preprocessing change is one code edit plus a version bump (the version enters every
exp_key), never a silent re-conversion of the shipped files, and user/OpenML data gets exactly the same treatment.

Steps, in order (bump PREPROCESSING_VERSION when any of them changes):
1. drop rows without a label, then classes with fewer than 2 samples (a stratified split needs >= 2);
2. labels -> int64 codes 0..k-1 ordered by class name (numerically if every class name is a number);
3. drop id-like columns (the prior study leaked an id column sorted by class): string columns with a distinct
   value on more than 90% of rows (names, codes, free text); integer columns with one distinct value per row that are monotone in row order, form a
   near-contiguous range (a row counter, possibly shuffled) or are named like an id; also constant columns;
4. impute: median for numeric, most frequent for categorical columns;
5. encode categoricals: one-hot up to MAX_ONEHOT levels (a two-level column becomes one 0/1 column), ordinal
   (levels in sorted order) beyond;
6. standard-scale every output column. Scaling is unsupervised (it never sees a label), so fitting it on all rows
   leaks nothing about the test split's labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from algrid.datasets.version import PREPROCESSING_VERSION
from algrid.errors import AlgridError

__all__ = ["PREPROCESSING_VERSION", "Preprocessed", "encode_labels", "id_like_reason", "preprocess"]

MAX_ONEHOT = 10
_ID_NAME = re.compile(
    r"^(id|idx|index|row|rowid|row_id|row_number|unnamed:?\s*0|.*[_ ]id|.*ID)$", re.IGNORECASE
)


@dataclass(frozen=True)
class Preprocessed:
    """Model-ready arrays plus what was done to get them (for `algrid datasets` and debugging)."""

    X: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    dropped_columns: tuple[str, ...]
    dropped_classes: tuple[str, ...]


def _is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def _integer_valued(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        return False
    v = s.dropna().to_numpy(dtype=np.float64)
    return v.size > 0 and bool(np.all(np.isfinite(v)) and np.all(v == np.round(v)))


def id_like_reason(s: pd.Series) -> str | None:
    """Why column `s` looks like a row identifier (None if it does not); never looks at labels."""
    n = len(s)
    nonnull = s.dropna()
    if nonnull.nunique() <= 1:
        return "constant"
    if n < 10:
        return None
    if _is_categorical(s) and nonnull.nunique() > 0.9 * n:
        return "(nearly) one distinct string per row"  # names, codes, free text: no shared levels to learn
    if nonnull.size < n or nonnull.nunique() < n:
        return None  # a numeric identifier has one distinct value on every row
    if not _integer_valued(s):
        return None
    v = nonnull.to_numpy(dtype=np.float64)
    d = np.diff(v)
    if np.all(d > 0) or np.all(d < 0):
        return "monotone integer row counter"
    if v.max() - v.min() + 1 <= 1.1 * n:
        return "integer range (shuffled row counter)"
    if _ID_NAME.match(str(s.name).strip()):
        return "distinct integers in an id-named column"
    return None


def _sort_key(values: list) -> list:
    try:
        return sorted(values, key=lambda v: float(v))
    except (TypeError, ValueError):
        return sorted(values, key=str)


def encode_labels(labels: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """int64 codes 0..k-1 in class-name order (numeric order when every name is a number)."""
    names = [str(v) for v in labels]
    order = _sort_key(sorted(set(names)))
    index = {name: i for i, name in enumerate(order)}
    return np.fromiter((index[n] for n in names), dtype=np.int64, count=len(names)), tuple(order)


def _check_flat_and_finite(frame: pd.DataFrame, where: str) -> None:
    """Refuse what preprocessing cannot treat honestly: nested values (lists, structs) and infinities.

    Why refuse instead of coercing: turning +inf into a missing value (then the median) silently changes the data
    a study reports on; the user should decide."""
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object:
            nested = s.map(lambda v: isinstance(v, list | tuple | dict | set | np.ndarray))
            if bool(nested.any()):
                raise AlgridError(
                    f"{where}: column {str(col)[:60]!r} holds lists or structs; algrid reads flat tables only"
                )
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            values = s.to_numpy(dtype=np.float64, na_value=np.nan)
            if np.isinf(values).any():
                raise AlgridError(
                    f"{where}: column {str(col)[:60]!r} holds infinite values; replace them (or leave them empty) "
                    "in the file"
                )


def preprocess(frame: pd.DataFrame, target: str, *, where: str = "dataset") -> Preprocessed:
    """Turn a raw table with label column `target` into scaled float64 features and int64 class codes."""
    if target not in frame.columns:
        cols = ", ".join(map(str, frame.columns[:20]))
        raise AlgridError(f"{where}: no label column {target!r} (columns: {cols})")
    frame = frame.reset_index(drop=True)
    _check_flat_and_finite(frame, where)
    label = frame[target]
    keep = label.notna().to_numpy().copy()
    label_str = label.astype("string")
    counts = label_str[keep].value_counts()
    rare = tuple(_sort_key([str(c) for c in counts.index[counts < 2]]))
    if rare:
        keep = keep & ~label_str.isin(rare).fillna(False).to_numpy(dtype=bool)
    frame = frame.loc[keep].reset_index(drop=True)
    y, classes = encode_labels(frame[target])
    if len(classes) < 2:
        raise AlgridError(f"{where}: label column {target!r} needs >= 2 classes with >= 2 samples each")

    features = frame.drop(columns=[target])
    features.columns = [str(c) for c in features.columns]
    dropped = [c for c in features.columns if id_like_reason(features[c]) is not None]
    features = features.drop(columns=dropped)
    if features.shape[1] == 0:
        raise AlgridError(f"{where}: no usable feature columns left after dropping id-like/constant ones")

    numeric = [c for c in features.columns if not _is_categorical(features[c])]
    categorical = [c for c in features.columns if _is_categorical(features[c])]
    for c in numeric:
        features[c] = features[c].astype(np.float64)
    for c in categorical:
        features[c] = features[c].astype(object).where(features[c].notna(), None)
        features[c] = features[c].map(lambda v: v if v is None else str(v))
    onehot = [c for c in categorical if features[c].nunique() <= MAX_ONEHOT]
    ordinal = [c for c in categorical if c not in onehot]

    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    parts = []
    if numeric:
        parts.append(("num", SimpleImputer(strategy="median"), numeric))
    if onehot:
        parts.append(
            (
                "onehot",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(drop="if_binary", sparse_output=False, dtype=np.float64),
                ),
                onehot,
            )
        )
    if ordinal:
        parts.append(
            (
                "ordinal",
                make_pipeline(SimpleImputer(strategy="most_frequent"), OrdinalEncoder(dtype=np.float64)),
                ordinal,
            )
        )
    transform = make_pipeline(
        ColumnTransformer(parts, verbose_feature_names_out=False), StandardScaler()
    ).set_output(transform="default")
    X = np.ascontiguousarray(transform.fit_transform(features), dtype=np.float64)
    names = tuple(str(n) for n in transform[0].get_feature_names_out())
    return Preprocessed(X, y, classes, names, tuple(dropped), rare)
