"""Text normalisation and the feature extractors of the routing classifier.

Every function here is module level so that a fitted pipeline pickles (joblib) and loads in
another process. Two views of the same normalised text are joined: jieba words (what the
message is about) and character 1–3-grams (robust to segmentation errors, place names and
typos), each with sublinear TF-IDF.
"""

from __future__ import annotations

import re
import unicodedata

import jieba
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

jieba.setLogLevel(60)  # its start-up chatter ("Building prefix dict…") is not ours to log

# Masked phones (138****8000), runs of asterisks and redaction marks carry no topic.
_MASKED = re.compile(r"\d*\*{2,}\d*")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
# The salutation most messages open with: "尊敬的A市政府领导：您们好！", "您好，", "领导好！".
_GREETING = re.compile(
    r"^(?:(?:尊敬|敬爱|亲爱)的?[^，,：:！!。]{0,20}[：:，,！!]?\s*)?"
    r"(?:(?:您|你|大家|领导)们?好[！!，,。：:]?\s*)?"
)

# The head of a long message says what it is about; reading further costs latency (jieba is
# linear in length) for little gain. 90 % of the board's messages are shorter than this.
MAX_CHARS = 1000


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), masked numbers → "#", digits → "0", one space, the
    opening salutation dropped, the first `MAX_CHARS` characters kept."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _MASKED.sub("#", text)
    text = _DIGITS.sub("0", text)
    text = _SPACE.sub(" ", text).strip()
    text = _GREETING.sub("", text, count=1)
    return text[:MAX_CHARS]


def word_tokens(text: str) -> list[str]:
    """jieba words of the normalised text (blanks and punctuation-only tokens dropped)."""
    return words_of_normalized(normalize(text))


def words_of_normalized(text: str) -> list[str]:
    return [w for w in jieba.lcut(text) if w.strip() and not _is_punct(w)]


def char_ngrams_of_normalized(text: str, low: int = 1, high: int = 3) -> list[str]:
    """What scikit-learn's `analyzer="char"` yields for an already preprocessed text."""
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PZS" for ch in token)


def features(*, min_df: int = 2) -> FeatureUnion:
    """jieba word unigrams ∪ character 1–3-grams, sublinear TF-IDF, terms in ≥ `min_df`
    messages (1 for the tiny built-in set, where a pruned vocabulary would be nearly empty)."""
    words = TfidfVectorizer(
        analyzer=word_tokens, sublinear_tf=True, min_df=min_df, dtype=np.float32
    )
    chars = TfidfVectorizer(
        analyzer="char",
        ngram_range=(1, 3),
        preprocessor=normalize,
        sublinear_tf=True,
        min_df=min_df,
        max_df=0.5,
        dtype=np.float32,
    )
    return FeatureUnion([("words", words), ("chars", chars)])


def baseline() -> Pipeline:
    """The plain reference: character 1–3-gram TF-IDF on the raw text + LinearSVC (defaults,
    seeded so that runs repeat)."""
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer="char", ngram_range=(1, 3))),
            ("svm", LinearSVC(random_state=0)),
        ]
    )
