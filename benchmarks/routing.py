"""Benchmark of the routing suggestion (analytics issue §2).

On ../shared/data/teddy2020/messages_labeled.csv (read in place, never copied):
1. stratified 5-fold cross-validated macro-F1 (fixed seed, the same folds) of our pipeline and
   of the plain baseline (character 1–3-gram TF-IDF + LinearSVC with defaults), trained in the
   same run; per-class F1 pooled over the out-of-fold predictions;
2. the lock-box: both trained on the 80 % split the design was explored on, scored on the
   20 % that no design decision ever looked at;
3. latency of the model trained on everything: one message per call (median, p99) through
   `RouterModel.predict`, and the bulk rate of `predict` on the whole file.

Run: `.venv/bin/python benchmarks/routing.py` → benchmarks/results/routing.{json,md}
"""

from __future__ import annotations

import os
import sys
import time
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

READING = (
    "How to read this: both pipelines see the same folds; nothing was tuned on them. The "
    "design (jieba word unigrams ∪ character 1–3-grams of the normalised text — NFKC, masked "
    "numbers and digits folded, opening salutation dropped, first 1,000 characters — sublinear "
    "TF-IDF, class-balanced LinearSVC with C = 0.5, Platt-calibrated per class on 3 inner "
    "folds) was chosen by 5-fold cross-validation on an 80 % development split only; the "
    "remaining 20 % (the lock-box row) was scored once, here. The full-data cross-validation "
    "includes the development messages, so the lock-box row is the cleaner estimate — and there "
    "the two pipelines score alike: the margin over the baseline is small (≈ +0.006 in "
    "cross-validation, within one standard deviation), not the clear win asked for. Tried on "
    "the development split and not kept (all within ±0.01 of the kept design): word bigrams, "
    "character 1–4 and 2–4-grams, a separate block for the message head, logistic regression, "
    "SGD (modified Huber), ridge, complement naive Bayes, averaging a word SVM with a "
    "character SVM. Class weighting and joining word and character views were what helped "
    "(≈ +0.015). The goal of 0.93 is not reached: on this board many messages carry a label "
    "another reader would give differently (road repairs under 城乡建设 or 交通运输, developers' "
    "sales under 城乡建设 or 商贸旅游), and bag-of-n-gram linear models level off near 0.90. "
    "Latency: one message per call through the fast scorer (the fitted pipeline's arithmetic "
    "without scikit-learn's per-call checks; identical probabilities, tested); p99 is set by "
    "the longest messages (jieba is linear in length, capped at 1,000 characters) and by the "
    "other processes sharing the two cores (see the load average)."
)


def baseline_make() -> Any:
    return features.baseline()


def ours_make() -> Any:
    return pipeline()


def lockbox(texts: list[str], labels: list[str]) -> dict[str, Any]:
    xd, xl, yd, yl = train_test_split(
        np.asarray(texts, dtype=object),
        np.asarray(labels),
        test_size=0.2,
        stratify=labels,
        random_state=LOCKBOX_SEED,
    )
    out: dict[str, Any] = {"train": len(yd), "test": len(yl)}
    for name, make in (("ours", ours_make), ("baseline", baseline_make)):
        model = make().fit(xd, yd)
        out[name] = round(float(f1_score(yl, model.predict(xl), average="macro")), 4)
    return out


def latency(texts: list[str], labels: list[str]) -> dict[str, Any]:
    data = train.Dataset(texts, labels, "bench", "-")
    started = time.perf_counter()
    model = train.fit(data)
    fit_s = time.perf_counter() - started
    model.predict([texts[0]])  # jieba's dictionary and the fast scorer, once
    sample = texts[:1000]
    single: list[float] = []
    for text in sample:
        t = time.perf_counter()
        model.predict([text])
        single.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    model.predict(texts)
    bulk_s = time.perf_counter() - t
    base = baseline_make().fit(np.asarray(texts, dtype=object), np.asarray(labels))
    base_single: list[float] = []
    for text in sample:
        t = time.perf_counter()
        base.predict([text])
        base_single.append((time.perf_counter() - t) * 1000)
    return {
        "fit_seconds": round(fit_s, 1),
        "single_messages": len(sample),
        "single_p50_ms": round(percentile(single, 50), 3),
        "single_p99_ms": round(percentile(single, 99), 3),
        "single_mean_ms": round(float(np.mean(single)), 3),
        "bulk_messages": len(texts),
        "bulk_per_s": round(len(texts) / bulk_s, 1),
        "baseline_single_p50_ms": round(percentile(base_single, 50), 3),
        "baseline_single_p99_ms": round(percentile(base_single, 99), 3),
    }


def main() -> int:
    path = train.SHARED_TRAINING_FILE
    if not path.exists():
        print(f"skipped: {path} is absent (../shared/data is not beside this checkout)")
        return 0
    load_at_start = os.getloadavg()  # `write` records the machine when it writes, at the end
    data = train.read_labeled_csv(path)
    result: dict[str, Any] = {"data": str(path), "data_sha256": data.sha256, "goal_macro_f1": 0.93}
    result["load_average_at_run_start"] = load_at_start
    cv: dict[str, Any] = {}
    for name, make in (("ours", ours_make), ("baseline", baseline_make)):
        r = train.cross_validate(make, data.texts, data.labels, folds=5)
        cv[name] = {**r.summary(), "seconds": round(r.seconds, 1)}
        print(name, cv[name], flush=True)
    result["cv"] = cv
    result["lockbox"] = lockbox(data.texts, data.labels)
    print("lockbox", result["lockbox"], flush=True)
    result["latency"] = latency(data.texts, data.labels)
    print("latency", result["latency"], flush=True)
    result["load_average_at_end"] = os.getloadavg()
    o, b, lb, la = cv["ours"], cv["baseline"], result["lockbox"], result["latency"]
    classes = sorted(o["per_class_f1"])
    rows = [
        "| pipeline | 5-fold macro-F1 (mean ± std) | folds | lock-box macro-F1 (20 %) |",
        "|---|---|---|---|",
        f"| ours | **{o['macro_f1_mean']:.4f} ± {o['macro_f1_std']:.4f}** | "
        f"{', '.join(f'{s:.3f}' for s in o['macro_f1_folds'])} | **{lb['ours']:.4f}** |",
        f"| baseline: char 1–3-gram TF-IDF + LinearSVC | {b['macro_f1_mean']:.4f} ± "
        f"{b['macro_f1_std']:.4f} | {', '.join(f'{s:.3f}' for s in b['macro_f1_folds'])} | "
        f"{lb['baseline']:.4f} |",
        "",
        "Per-class F1 (out-of-fold predictions pooled):",
        "",
        "| class | ours | baseline |",
        "|---|---|---|",
        *(f"| {c} | {o['per_class_f1'][c]:.3f} | {b['per_class_f1'][c]:.3f} |" for c in classes),
        "",
        "Latency (model trained on all messages; goal ≤ 2 ms per message):",
        "",
        "| measure | ours | baseline |",
        "|---|---|---|",
        f"| one message per call, p50 | {la['single_p50_ms']} ms | "
        f"{la['baseline_single_p50_ms']} ms |",
        f"| one message per call, p99 | {la['single_p99_ms']} ms | "
        f"{la['baseline_single_p99_ms']} ms |",
        f"| one message per call, mean | {la['single_mean_ms']} ms | |",
        f"| bulk `predict` ({la['bulk_messages']} messages) | {la['bulk_per_s']} messages/s | |",
        f"| fit on all messages | {la['fit_seconds']} s | |",
    ]
    md = (
        f"Data: `{path.name}` ({len(data.texts)} messages, 7 labels), sha256 "
        f"`{data.sha256[:16]}…`; read in place. Goal: macro-F1 ≥ 0.93. Load average (1, 5, 15 min) when "
        f"the run started: {tuple(round(x, 2) for x in load_at_start)}; at its end: "
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
