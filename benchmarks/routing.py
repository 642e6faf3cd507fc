"""Benchmark of the routing suggestion (analytics issue §2).

On ../shared/data/teddy2020/messages_labeled.csv (read in place, never copied):
1. 5-fold cross-validated macro-F1 (fixed seed, the same folds) of our pipeline and of the plain
   baseline (character 1–3-gram TF-IDF + LinearSVC with defaults), trained in the same run. The
   folds are stratified and group-aware: near-duplicate messages (`train.near_duplicate_groups`)
   never sit on both sides of a fold. Per-class F1 pooled over the out-of-fold predictions;
2. the lock-box: both trained on the 80 % split the design was explored on, scored on the
   20 % that no design decision ever looked at — once as split, once without the lock-box
   messages that have a near-duplicate in the 80 %;
3. latency of the model trained on everything: one message per call through
   `RouterModel.predict` over every message of the file (median, p99; wall time and the
   calling thread's CPU time, the latter free of the waits for a core on a shared machine),
   and the bulk rate.

Run: `.venv/bin/python benchmarks/routing.py` → benchmarks/results/routing.{json,md}
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from benchmarks.common import percentile, write
from services.analytics.routing import features, train
from services.analytics.routing.model import pipeline

LOCKBOX_SEED = 20261124  # the split used while choosing the design; its 20 % was never scored
GOAL = 0.93

# What was tried while choosing the design, and not kept: inner 5-fold cross-validation on the
# 80 % development split only (near-duplicate groups whole, seed 1), from exploratory runs made
# before this benchmark; not re-run here. Figures are macro-F1, mean over the 5 inner folds.
EXPLORED: list[tuple[str, str]] = [
    ("plain baseline (char 1–3 TF-IDF + LinearSVC)", "0.873"),
    ("previous design: words ∪ char 1–3, balanced LinearSVC C = 0.5", "0.892"),
    ("the same, char 1–3 only", "0.880"),
    ("the same with char 1–4 / char 2–5", "0.891 / 0.885"),
    ("LinearSVC C = 0.3 / 1.0", "0.891 / 0.891"),
    ("logistic regression C = 10 / 30", "0.885 / 0.888"),
    ("SGD, modified Huber, elastic net (α = 2e-5, l1 = 0.15)", "0.873"),
    ("complement naive Bayes", "0.836"),
    ("NBSVM alone (C = 0.3; C = 0.1: 0.891)", "0.894"),
    ("SVM + NBSVM, per-row standardised scores averaged", "0.897"),
    ("SVM + NBSVM + SGD elastic net", "0.893"),
    ("SVM + NBSVM + ½ complement NB", "0.895"),
    ("**SVM + NBSVM, raw scores added (kept)**", "**0.899**"),
    ("the kept sum with NBSVM weight ½ / SVM weight ½", "0.897 / 0.895"),
    (
        "kept sum, word view 300 + 100 chars, char view 400 + 200 of the first 1,000 normalised "
        "characters (the old cut), instead of 1,000: same score, ≤ ½ the cost",
        "0.900",
    ),
    ("the same windows over the whole message (head and true tail)", "0.897"),
    ("that + word bigrams / with char 1–4-grams", "0.898 / 0.899"),
    ("that, normalising only the raw head 600 + tail 300 characters", "0.897"),
    ("that, word view 200 + 100 / jieba without HMM / both", "0.897 / 0.897 / 0.900"),
    ("**as shipped: word view 200 + 100 without HMM, char view 400 + 200**", "**0.900**"),
    (
        "stacking: out-of-fold scores of a word SVM, a char SVM, the SVM and the NBSVM → "
        "logistic regression",
        "0.893",
    ),
    (
        "**the shipped pipeline end to end (Platt-calibrated) vs the baseline, dev split, "
        "grouped folds of seed 1 (with the first windows: 0.899 vs 0.874 on slightly other "
        "groups)**",
        "**0.904 vs 0.875**",
    ),
    (
        "+ LSA (TruncatedSVD 200 + 200 dims of word and char TF-IDF fitted on 8,347 unlabelled "
        "messages) appended, scale ½ / 1 / 2",
        "0.884 / 0.879 / 0.860",
    ),
    ("LSA features alone", "0.820"),
    (
        "self-training: SVM pseudo-labels on the 8,347 unlabelled messages, margin ≥ 0.3 / 0.5 / "
        "1.0, weight 0.3 / 0.5 / 1.0",
        "0.884 / 0.881 / 0.889",
    ),
]

UNLABELLED_NOTE = (
    "Unlabelled texts: hotspot_messages (4,326), replied_messages (2,816) and the Fuzhou river "
    "complaints (1,464); messages_fullcolumns (1,471) turned out to be the labelled messages "
    "again (1,465 match at cosine ≥ 0.8, labels agree) and so are 123 hotspot and 125 replied "
    "messages — all excluded, leaving 8,347. Neither LSA fitted on them nor pseudo-labels helped "
    "(table above), so the shipped model reads no unlabelled data."
)


READING = (
    "How to read this: both pipelines see the same folds, grouped so that no near-duplicate "
    "of a test message is trained on; nothing was tuned on them. The design — jieba word "
    "unigrams (jieba, no HMM) of the message's head and tail (200 + 100 characters of the "
    "normalised text: "
    "NFKC, masked numbers and digits folded, opening salutation dropped) ∪ character 1–3-grams "
    "of a wider window (400 + 200), sublinear TF-IDF; a class-balanced LinearSVC (C = 0.5) and a "
    "class-balanced NBSVM (log-count-ratio features, C = 0.3) whose scores are added — one "
    "linear model — then Platt-calibrated per class on 3 inner folds — was chosen by grouped "
    "5-fold cross-validation on the 80 % development split only; the remaining 20 % (the "
    "lock-box columns) was scored once per run, here. The full-data cross-validation includes "
    "the development messages, so the lock-box is the cleaner estimate. Why 0.93 is out of "
    "reach for this family: most remaining errors sit between 城乡建设 and 交通运输 (road works, "
    "bus stops) and between 城乡建设 and 商贸旅游 (developers' sales, gas and utility prices, "
    "property fees), where the board's own labels disagree with each other for like messages; "
    "every bag-of-n-gram linear variant, ensemble and semi-supervised addition tried levelled "
    "off at 0.87–0.90 on the development split (table above). Latency: one message per call "
    "through the fast scorer (the fitted pipeline's arithmetic without scikit-learn's per-call "
    "checks; identical probabilities, tested); the work per message is bounded by the windows "
    "whatever the message's length. The latency goal is judged on the CPU time of the call "
    "(the work the call does); its wall time is shown beside it, and its tail is the waits for "
    "a core while other processes share the two (see the load average). Earlier runs of "
    "slower versions of the scorer show how much the load moves it: at a load average near 5, "
    "wall p99 17.8 ms (CPU 2.3 ms) for ours and 6.3 ms for the baseline; near 7, 8.6 ms and "
    "13.9 ms."
)


def baseline_make() -> Any:
    return features.baseline()


def ours_make() -> Any:
    return pipeline()


def lockbox(texts: list[str], labels: list[str], groups: np.ndarray) -> dict[str, Any]:
    idx = np.arange(len(texts))
    dev, box = train_test_split(idx, test_size=0.2, stratify=labels, random_state=LOCKBOX_SEED)
    x = np.asarray(texts, dtype=object)
    y = np.asarray(labels)
    # Lock-box messages with a near-duplicate in the development part are not unseen.
    clean = box[~np.isin(groups[box], groups[dev])]
    out: dict[str, Any] = {"train": len(dev), "test": len(box), "test_clean": len(clean)}
    for name, make in (("ours", ours_make), ("baseline", baseline_make)):
        model = make().fit(x[dev], y[dev])
        pred = dict(zip(box.tolist(), model.predict(x[box]), strict=True))
        out[name] = round(float(f1_score(y[box], [pred[i] for i in box], average="macro")), 4)
        out[f"{name}_clean"] = round(
            float(f1_score(y[clean], [pred[i] for i in clean], average="macro")), 4
        )
    return out


def _timed(
    predict: Callable[[list[str]], Any], texts: list[str]
) -> tuple[list[float], list[float]]:
    """Per call: wall time and this thread's CPU time, in ms. On the shared two cores the wall
    time includes waiting for a core; the CPU time is the work of the call alone."""
    wall: list[float] = []
    cpu: list[float] = []
    for text in texts:
        w, c = time.perf_counter(), time.thread_time()
        predict([text])
        cpu.append((time.thread_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return wall, cpu


def _stats(prefix: str, values: list[float]) -> dict[str, float]:
    return {
        f"{prefix}_p50_ms": round(percentile(values, 50), 3),
        f"{prefix}_p99_ms": round(percentile(values, 99), 3),
        f"{prefix}_max_ms": round(max(values), 3),
        f"{prefix}_mean_ms": round(float(np.mean(values)), 3),
    }


def latency(texts: list[str], labels: list[str]) -> dict[str, Any]:
    data = train.Dataset(texts, labels, "bench", "-")
    started = time.perf_counter()
    model = train.fit(data)
    fit_s = time.perf_counter() - started
    model.predict([texts[0]])  # the fast scorer (and jieba's dictionary), once
    wall, cpu = _timed(model.predict, texts)
    t = time.perf_counter()
    model.predict(texts)
    bulk_s = time.perf_counter() - t
    base = baseline_make().fit(np.asarray(texts, dtype=object), np.asarray(labels))
    base_wall, base_cpu = _timed(base.predict, texts)
    return {
        "fit_seconds": round(fit_s, 1),
        "single_messages": len(texts),
        **_stats("single", wall),
        **_stats("single_cpu", cpu),
        "bulk_messages": len(texts),
        "bulk_per_s": round(len(texts) / bulk_s, 1),
        **_stats("baseline_single", base_wall),
        **_stats("baseline_single_cpu", base_cpu),
    }


def _folds(scores: list[float]) -> str:
    return ", ".join(f"{s:.3f}" for s in scores)


def main() -> int:
    path = train.SHARED_TRAINING_FILE
    if not path.exists():
        print(f"skipped: {path} is absent (../shared/data is not beside this checkout)")
        return 0
    load_at_start = os.getloadavg()  # `write` records the machine when it writes, at the end
    data = train.read_labeled_csv(path)
    result: dict[str, Any] = {
        "data": str(path),
        "data_sha256": data.sha256,
        "goal_macro_f1": GOAL,
        "load_average_at_run_start": load_at_start,
    }
    groups = train.near_duplicate_groups(data.texts)
    in_groups, n_groups = train.grouped_count(groups)
    result["near_duplicates"] = {
        "threshold_cosine_char3": train.NEAR_DUPLICATE,
        "messages_in_groups": in_groups,
        "groups": n_groups,
    }
    print("near-duplicates", result["near_duplicates"], flush=True)
    cv: dict[str, Any] = {}
    for name, make in (("ours", ours_make), ("baseline", baseline_make)):
        r = train.cross_validate(make, data.texts, data.labels, folds=5, groups=groups)
        cv[name] = {**r.summary(), "seconds": round(r.seconds, 1)}
        print(name, cv[name], flush=True)
    result["cv"] = cv
    result["lockbox"] = lockbox(data.texts, data.labels, groups)
    print("lockbox", result["lockbox"], flush=True)
    result["latency"] = latency(data.texts, data.labels)
    print("latency", result["latency"], flush=True)
    result["load_average_at_end"] = os.getloadavg()
    o, b, lb, la = cv["ours"], cv["baseline"], result["lockbox"], result["latency"]
    margin = o["macro_f1_mean"] - b["macro_f1_mean"]
    per_fold = [x - y for x, y in zip(o["macro_f1_folds"], b["macro_f1_folds"], strict=True)]
    result["goal_met"] = {
        "macro_f1": bool(o["macro_f1_mean"] >= GOAL),
        "p99_ms_wall": bool(la["single_p99_ms"] <= 2.0),
        "p99_ms_cpu": bool(la["single_cpu_p99_ms"] <= 2.0),
    }
    classes = sorted(o["per_class_f1"])
    rows = [
        "| pipeline | 5-fold macro-F1, grouped (mean ± std) | folds | lock-box (20 %) | "
        "lock-box without near-duplicates of training |",
        "|---|---|---|---|---|",
        f"| ours | **{o['macro_f1_mean']:.4f} ± {o['macro_f1_std']:.4f}** | "
        f"{_folds(o['macro_f1_folds'])} | **{lb['ours']:.4f}** | **{lb['ours_clean']:.4f}** |",
        f"| baseline: char 1–3-gram TF-IDF + LinearSVC | {b['macro_f1_mean']:.4f} ± "
        f"{b['macro_f1_std']:.4f} | {_folds(b['macro_f1_folds'])} | {lb['baseline']:.4f} | "
        f"{lb['baseline_clean']:.4f} |",
        "",
        f"Margin over the baseline: {margin:+.4f} in cross-validation (per fold "
        f"{', '.join(f'{d:+.3f}' for d in per_fold)}); {lb['ours'] - lb['baseline']:+.4f} on "
        f"the lock-box ({lb['test']} messages; {lb['test_clean']} without near-duplicates: "
        f"{lb['ours_clean'] - lb['baseline_clean']:+.4f}).",
        "",
        f"**Goal macro-F1 ≥ {GOAL}: {'met' if result['goal_met']['macro_f1'] else 'NOT met'}**"
        f" ({o['macro_f1_mean']:.4f}). **Goal p99 ≤ 2 ms per message: "
        f"{'met' if result['goal_met']['p99_ms_cpu'] else 'NOT met'} in CPU time** "
        f"({la['single_cpu_p99_ms']} ms); in wall time "
        f"{'met' if result['goal_met']['p99_ms_wall'] else 'NOT met'} ({la['single_p99_ms']} ms, "
        "with the other processes on the two cores; see the load average above).",
        "",
        f"Near-duplicates: {in_groups} messages fall in {n_groups} groups of texts whose "
        f"character 3-gram TF-IDF cosine is ≥ {train.NEAR_DUPLICATE} (no group mixes labels); "
        "each group stays within one fold for both pipelines.",
        "",
        "Per-class F1 (out-of-fold predictions pooled):",
        "",
        "| class | ours | baseline |",
        "|---|---|---|",
        *(f"| {c} | {o['per_class_f1'][c]:.3f} | {b['per_class_f1'][c]:.3f} |" for c in classes),
        "",
        f"Latency (model trained on all messages; one message per call over all "
        f"{la['single_messages']} messages; goal ≤ 2 ms per message):",
        "",
        "| measure | ours | baseline |",
        "|---|---|---|",
        f"| one message per call, wall time p50 / p99 / max | {la['single_p50_ms']} / "
        f"{la['single_p99_ms']} / {la['single_max_ms']} ms | {la['baseline_single_p50_ms']} / "
        f"{la['baseline_single_p99_ms']} / {la['baseline_single_max_ms']} ms |",
        f"| one message per call, CPU time p50 / p99 / max | {la['single_cpu_p50_ms']} / "
        f"{la['single_cpu_p99_ms']} / {la['single_cpu_max_ms']} ms | "
        f"{la['baseline_single_cpu_p50_ms']} / {la['baseline_single_cpu_p99_ms']} / "
        f"{la['baseline_single_cpu_max_ms']} ms |",
        f"| one message per call, mean wall / CPU | {la['single_mean_ms']} / "
        f"{la['single_cpu_mean_ms']} ms | {la['baseline_single_mean_ms']} / "
        f"{la['baseline_single_cpu_mean_ms']} ms |",
        f"| bulk `predict` ({la['bulk_messages']} messages) | {la['bulk_per_s']} messages/s | |",
        f"| fit on all messages | {la['fit_seconds']} s | |",
        "",
        "Tried on the development split and not kept (inner 5-fold, grouped; see the module's "
        "`EXPLORED`):",
        "",
        "| variant | dev macro-F1 |",
        "|---|---|",
        *(f"| {what} | {score} |" for what, score in EXPLORED),
        "",
        UNLABELLED_NOTE,
    ]
    md = (
        f"Data: `{path.name}` ({len(data.texts)} messages, 7 labels), sha256 "
        f"`{data.sha256[:16]}…`; read in place. Goal: macro-F1 ≥ {GOAL}. Load average (1, 5, 15 "
        f"min) when the run started: {tuple(round(x, 2) for x in load_at_start)}; at its end: "
        f"{tuple(round(x, 2) for x in result['load_average_at_end'])}.\n\n"
        + "\n".join(rows)
        + "\n\n"
        + READING
    )
    out = write("routing", result, md)
    print(out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
