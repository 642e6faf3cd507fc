"""Training and honest evaluation of the routing model.

`train()` fits the fixed design on a labelled CSV (`text`, `label`) — by default the shared
training file beside the repository, else the built-in invented examples — optionally scores it
by stratified k-fold cross-validation first, and saves it. `cross_validate()` is what the
benchmark and `train-router` report: the same folds for every pipeline compared.

Near-duplicates (the same complaint sent twice, lightly edited) would flatter any score if one
copy trained and the other was tested: `near_duplicate_groups()` links messages whose character
3-gram TF-IDF vectors have cosine ≥ 0.8, and the folds keep each group whole. On
messages_labeled.csv that is 174 messages in 84 groups (no group mixes labels).
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from services.analytics.routing import fallback
from services.analytics.routing.features import normalize
from services.analytics.routing.model import ModelInfo, RouterModel, pipeline
from shared.logging import get_logger

log = get_logger(__name__)

REPO = Path(__file__).resolve().parents[3]
SHARED_TRAINING_FILE = REPO.parent / "shared" / "data" / "teddy2020" / "messages_labeled.csv"
FALLBACK_SOURCE = "builtin:services.analytics.routing.fallback"
SEED = 20261124
SMALL = 1000  # fewer labelled messages than this: keep terms seen once
NEAR_DUPLICATE = 0.8  # cosine of character 3-gram TF-IDF; pairs above it read as one message


@dataclass(frozen=True)
class Dataset:
    texts: list[str]
    labels: list[str]
    source: str
    sha256: str


def read_labeled_csv(path: Path) -> Dataset:
    """Rows of a UTF-8 CSV (BOM tolerated) with columns `text` and `label`; blank rows skipped."""
    raw = path.read_bytes()
    texts: list[str] = []
    labels: list[str] = []
    reader = csv.DictReader(raw.decode("utf-8-sig").splitlines(keepends=True))
    missing = {"text", "label"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    for row in reader:
        text, label = (row.get("text") or "").strip(), (row.get("label") or "").strip()
        if text and label:
            texts.append(text)
            labels.append(label)
    if not texts:
        raise ValueError(f"{path}: no labelled rows")
    return Dataset(texts, labels, str(path), hashlib.sha256(raw).hexdigest())


def fallback_dataset() -> Dataset:
    pairs = fallback.rows()
    digest = hashlib.sha256("\n".join(f"{t}\t{lab}" for t, lab in pairs).encode()).hexdigest()
    return Dataset([t for t, _ in pairs], [lab for _, lab in pairs], FALLBACK_SOURCE, digest)


def default_dataset() -> Dataset:
    """The shared training file when it is beside the checkout, else the built-in examples."""
    if SHARED_TRAINING_FILE.exists():
        return read_labeled_csv(SHARED_TRAINING_FILE)
    log.info("analytics.routing.no_shared_data", path=str(SHARED_TRAINING_FILE))
    return fallback_dataset()


def near_duplicate_groups(texts: Sequence[str], *, threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """A group id per text: texts linked (transitively) by a cosine ≥ `threshold` between
    their character 3-gram TF-IDF vectors share one; every other text is its own group."""
    n = len(texts)
    parent = np.arange(n)
    if n < 2:
        return parent

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    vectors = TfidfVectorizer(analyzer="char", ngram_range=(3, 3), sublinear_tf=True).fit_transform(
        [normalize(t) for t in texts]
    )
    similar = (vectors @ vectors.T).tocoo()
    for a, b, cos in zip(similar.row, similar.col, similar.data, strict=True):
        if a < b and cos >= threshold:
            parent[root(int(a))] = root(int(b))
    return np.array([root(i) for i in range(n)])


def grouped_count(groups: np.ndarray) -> tuple[int, int]:
    """(messages in a group of two or more, number of such groups)."""
    sizes = np.bincount(np.unique(groups, return_inverse=True)[1])
    return int(sizes[sizes > 1].sum()), int((sizes > 1).sum())


@dataclass(frozen=True)
class CVResult:
    folds: int
    seed: int
    macro_f1: list[float]
    per_class_f1: dict[str, float]  # pooled over the out-of-fold predictions
    seconds: float
    grouped: bool = False  # near-duplicate groups kept whole

    @property
    def mean(self) -> float:
        return float(np.mean(self.macro_f1))

    @property
    def std(self) -> float:
        return float(np.std(self.macro_f1))

    def summary(self) -> dict[str, Any]:
        return {
            "folds": self.folds,
            "seed": self.seed,
            "near_duplicate_groups_kept_whole": self.grouped,
            "macro_f1_mean": round(self.mean, 4),
            "macro_f1_std": round(self.std, 4),
            "macro_f1_folds": [round(s, 4) for s in self.macro_f1],
            "per_class_f1": {k: round(v, 4) for k, v in self.per_class_f1.items()},
        }


def fold_indices(
    labels: Sequence[str] | np.ndarray,
    *,
    folds: int = 5,
    seed: int = SEED,
    groups: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) indices of stratified k-fold; with `groups`, no group is split."""
    y = np.asarray(labels)
    x = np.zeros((len(y), 1))
    if groups is not None:
        return list(
            StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(x, y, groups)
        )
    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y))


def cross_validate(
    make: Callable[[], Pipeline],
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = SEED,
    groups: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
) -> CVResult:
    """Stratified k-fold macro-F1 of a fresh `make()` per fold; nothing is tuned on the folds.
    With `groups` (see `near_duplicate_groups`), each group stays within one fold."""
    x = np.asarray(texts, dtype=object)
    y = np.asarray(labels)
    oof = np.empty(len(y), dtype=y.dtype)
    scores: list[float] = []
    started = time.perf_counter()
    for k, (tr, te) in enumerate(fold_indices(y, folds=folds, seed=seed, groups=groups)):
        model = make().fit(x[tr], y[tr])
        oof[te] = model.predict(x[te])
        scores.append(float(f1_score(y[te], oof[te], average="macro")))
        if progress is not None:
            progress(k + 1)
    classes = sorted(set(y.tolist()))
    per_class = f1_score(y, oof, labels=classes, average=None)
    return CVResult(
        folds=folds,
        seed=seed,
        macro_f1=scores,
        per_class_f1={c: float(s) for c, s in zip(classes, per_class, strict=True)},
        seconds=time.perf_counter() - started,
        grouped=groups is not None,
    )


def min_df_for(messages: int) -> int:
    return 2 if messages >= SMALL else 1


def fit(data: Dataset, *, cv: CVResult | None = None) -> RouterModel:
    """Fit the fixed design on all of `data`."""
    # Calibration needs every class in each of its folds; tiny sets get fewer folds.
    smallest = min(data.labels.count(c) for c in set(data.labels))
    pipe = pipeline(calibration_folds=max(2, min(3, smallest)), min_df=min_df_for(len(data.texts)))
    pipe.fit(np.asarray(data.texts, dtype=object), np.asarray(data.labels))
    now = datetime.now(UTC)
    info = ModelInfo(
        version=f"{now:%Y%m%dT%H%M%SZ}-{data.sha256[:8]}",
        trained_at=now.isoformat(timespec="seconds"),
        data_source=data.source,
        data_sha256=data.sha256,
        messages=len(data.texts),
        classes=[str(c) for c in pipe.classes_],
        cv=cv.summary() if cv is not None else None,
        sklearn=sklearn.__version__,
    )
    return RouterModel(pipeline=pipe, info=info)
