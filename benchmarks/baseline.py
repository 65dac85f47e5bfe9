"""One AL experiment run the way the prior study ran it: the baseline algrid is measured against.

What makes it the prior study's way (and slow), on purpose:

* one Python process per experiment (``benchmarks/run.py`` starts this script once per configuration);
* every AL library imported at start, whether the experiment needs it or not (modAL, small-text, scikit-activeml,
  scikit-learn's estimators, pandas), as the study's single entry point did;
* no thread limits and learners with ``n_jobs=-1`` where they have it (the random forest grabs every core);
* a fresh fit from scratch every cycle on the whole labelled set, no cache, nothing shared between experiments;
* modAL pairs run an ``ActiveLearner`` loop: the learner holds the estimator and its training data, ``query``
  picks the batch, and "teach" appends the batch and refits on everything (``ActiveLearner.teach`` itself fails on
  scikit-learn >= 1.8, so its behaviour is replicated: append, then ``fit`` from scratch);
* the strategy computes its own pool probabilities; the evaluation predicts the test split separately and scores
  it with six scikit-learn metric calls;
* per-cycle results appended to a CSV file.

Splits, start sets and strategy seeds come from algrid's seeding functions, so the baseline does the *same*
experiment (same selections, same curve) as ``algrid run``: ``benchmarks/run.py`` checks that the final accuracies
agree, so the speed-up compares equal work.

Usage: ``python benchmarks/baseline.py --config '{"dataset": ...}' --settings '{"cycles": 30, ...}' [--csv FILE]``
prints one JSON line: exp_key, status, cycles_done, final accuracy, wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

_T0 = time.perf_counter()
_C0 = time.process_time()

# --- the prior study imported every framework up front ---------------------------------------------------------
import modAL.models  # noqa: E402, F401
import modAL.uncertainty  # noqa: E402, F401
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import skactiveml.classifier  # noqa: E402, F401
import skactiveml.pool  # noqa: E402, F401
import sklearn.ensemble  # noqa: E402, F401
import sklearn.neural_network  # noqa: E402, F401
import sklearn.svm  # noqa: E402, F401
import small_text  # noqa: E402, F401
from sklearn.metrics import (  # noqa: E402
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
)


def _learner(name: str, seed: int, classes: np.ndarray):
    """The experiment's learner with every core it can take (n_jobs=-1), as the prior study configured it."""
    from algrid.learners import AllClassesClassifier, make_learner
    from algrid.learners.fast_forest import stock

    est = stock(make_learner(name, seed))  # scikit-learn's own forest, not algrid's faster equivalent
    if "n_jobs" in est.get_params(deep=False):
        est.set_params(n_jobs=-1)
    return AllClassesClassifier(est, classes)


def _metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    kw = {"labels": labels, "zero_division": 0}
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "f1_macro": float(f1_score(y_true, y_pred, average="macro", **kw)),
        "f1_weighted": float(f1_score(y_true, y_pred, average="weighted", **kw)),
        "precision_macro": float(precision_score(y_true, y_pred, average="macro", **kw)),
        "recall_macro": float(recall_score(y_true, y_pred, average="macro", **kw)),
    }


class _ModalLoop:
    """modAL's ActiveLearner loop: query on the learner, then append the batch and refit from scratch."""

    def __init__(self, estimator, X0: np.ndarray, y0: np.ndarray, query_strategy):
        from modAL.models import ActiveLearner

        # ActiveLearner's constructor fits on the start set (this part of modAL still works on sklearn >= 1.8)
        self.learner = ActiveLearner(
            estimator=estimator, query_strategy=query_strategy, X_training=X0, y_training=y0
        )

    def query(self, X_pool: np.ndarray, n: int) -> np.ndarray:
        idx, _ = self.learner.query(X_pool, n_instances=n)
        return np.asarray(idx)

    def teach(self, X_all: np.ndarray, y_all: np.ndarray) -> None:
        # = ActiveLearner.teach(X, y, only_new=False): grow the training set, refit on all of it
        self.learner.X_training, self.learner.y_training = X_all, y_all
        self.learner.estimator.fit(X_all, y_all)


def run(config: dict, settings: dict, csv_path: str | None) -> dict:
    from algrid.datasets import PREPROCESSING_VERSION, load_dataset
    from algrid.engine.seeds import _int_seed, seed_sequence, strategy_setting
    from algrid.engine.split import initial_pool, train_test_ids
    from algrid.identity import KEY_SETTINGS
    from algrid.identity import exp_key as identity_exp_key
    from algrid.results import DIMENSIONS
    from algrid.strategies import get_strategy
    from algrid.strategies.base import QueryContext
    from algrid.strategies.seeding import key_versions

    dataset, learner = config["dataset"], config["learner"]
    split, batch, seed = int(config["split"]), int(config["batch_size"]), int(config["seed"])
    test_size, cycles = float(settings["test_size"]), int(settings["cycles"])
    preprocessing = settings.get("preprocessing") or PREPROCESSING_VERSION
    spec = get_strategy(config["strategy"], config["implementation"])
    ds = load_dataset(dataset)
    X, y = ds.X, ds.y
    classes = np.arange(ds.info.classes)
    train_ids, test_ids = train_test_ids(dataset, split, test_size)
    try:  # the engine shows the pool in a fixed pseudo-random order; follow it so the selections match
        from algrid.engine.split import pool_order

        ordered_train = pool_order(dataset, split, test_size, seed)
    except ImportError:
        ordered_train = train_ids
    learner_seed = _int_seed(seed_sequence("learner", dataset, split, learner, seed))
    start_ss = seed_sequence("start", dataset, split, test_size, config["initial_pool"], config["start"])
    labeled = initial_pool(
        X, y, train_ids, config["initial_pool"], np.random.default_rng(start_ss), _int_seed(start_ss)
    )
    # fair randomness: the strategy's streams derive from the setting and the cycle, never its name
    setting = strategy_setting(config, test_size, preprocessing)
    rows: list[dict] = []

    def evaluate(model, cycle: int, fit_s: float, query_s: float) -> None:
        pred = model.predict(X[test_ids])
        row = {"cycle": cycle, "n_labeled": len(labeled), **_metrics(y[test_ids], pred, classes)}
        row.update(fit_s=fit_s, query_s=query_s)
        rows.append(row)

    modal = None
    t0 = time.perf_counter()
    model = _learner(learner, learner_seed, classes)
    if spec.implementation == "modal":
        state: dict = {}

        def query_strategy(classifier, X_pool, n_instances=1):
            ctx = state["ctx"]
            ctx.model = classifier.estimator
            ctx.proba_pool = np.asarray(classifier.estimator.predict_proba(X_pool), dtype=np.float64)
            pos = spec.select(ctx)
            return pos, X_pool[pos]

        modal = _ModalLoop(model, X[labeled], y[labeled], query_strategy)
    else:
        model.fit(X[labeled], y[labeled])
    evaluate(model, 0, time.perf_counter() - t0, 0.0)
    status, error = "ok", None
    try:
        for cycle in range(1, cycles + 1):
            is_lab = np.zeros(len(y), dtype=bool)
            is_lab[labeled] = True
            pool = ordered_train[~is_lab[ordered_train]]
            if len(pool) == 0:
                break
            want = min(batch, len(pool))
            t0 = time.perf_counter()
            s_seed, s_rng = seed_sequence("strategy", *setting, cycle).spawn(2)
            ctx = QueryContext(
                model=model,
                X_pool=X[pool],
                X_labeled=X[labeled],
                y_labeled=y[labeled],
                classes=classes,
                batch_size=want,
                rng=np.random.default_rng(s_rng),
                seed=_int_seed(s_seed),
                make_learner=lambda s: _learner(learner, s, classes),
            )
            if spec.uses_oracle:
                ctx.oracle_labels = y[pool]

                def oracle_eval(positions, pool=pool, labeled=labeled):
                    ids = np.union1d(labeled, pool[np.asarray(positions, dtype=np.int64)])
                    m = _learner(learner, learner_seed, classes).fit(X[ids], y[ids])
                    return float(accuracy_score(y[test_ids], m.predict(X[test_ids])))

                ctx.evaluate = oracle_eval
            np.random.seed(ctx.seed)
            if modal is not None:
                state["ctx"] = ctx
                positions = modal.query(X[pool], want)
            else:
                if spec.needs_proba:  # the library/strategy computes the pool probabilities itself
                    ctx.proba_pool = np.asarray(model.predict_proba(X[pool]), dtype=np.float64)
                positions = np.asarray(spec.select(ctx))
            query_s = time.perf_counter() - t0
            labeled = np.sort(np.concatenate([labeled, pool[positions]]))
            t0 = time.perf_counter()
            if modal is not None:
                modal.teach(X[labeled], y[labeled])
            else:
                model = _learner(learner, learner_seed, classes)  # a fresh fit from scratch
                model.fit(X[labeled], y[labeled])
            evaluate(model, cycle, time.perf_counter() - t0, query_s)
    except Exception as exc:  # noqa: BLE001 - record like the study did, keep the process exit clean
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    key_settings = {k: settings.get(k) for k in KEY_SETTINGS} | {"preprocessing": preprocessing}
    # the grid's key of a built-in configuration (with its seeding version, algrid.strategies.seeding)
    exp_key = identity_exp_key(config, key_settings, DIMENSIONS, key_versions(config))
    if csv_path:
        frame = pd.DataFrame(rows)
        for d in DIMENSIONS:
            frame[d] = config[d]
        frame["exp_key"] = exp_key
        frame.to_csv(csv_path, mode="a", header=False, index=False)
    return {
        "config": config,
        "status": status,
        "error": error,
        "cycles_done": len(rows) - 1,
        "final_accuracy": rows[-1]["accuracy"],
        "accuracies": [r["accuracy"] for r in rows],
        "wall_s": time.perf_counter() - _T0,
        "cpu_s": time.process_time() - _C0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run one experiment the prior study's way.")
    ap.add_argument("--config", required=True, help="experiment configuration as JSON")
    ap.add_argument(
        "--settings", required=True, help="grid settings as JSON (cycles, test_size, preprocessing)"
    )
    ap.add_argument("--csv", default=None, help="append per-cycle rows to this CSV")
    args = ap.parse_args(argv)
    import warnings

    warnings.simplefilter("ignore")
    out = run(json.loads(args.config), json.loads(args.settings), args.csv)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
