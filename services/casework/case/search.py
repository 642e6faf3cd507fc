"""Full-text search over Chinese case texts.

PostgreSQL's parsers do not segment Chinese, so the lexemes are made here and stored with
``array_to_tsvector`` (no parser involved, so every CJK lexeme is kept as given): jieba's
``cut_for_search`` words plus every character bigram of each CJK run, and lower-cased
latin / digit words. A query is turned into the bigrams of its CJK runs (all required)
and its latin words, so a two-character word such as 物业 is found wherever it occurs,
even where jieba segmented the text differently; a single character is a prefix query.
"""

from __future__ import annotations

import logging
import re

import jieba

jieba.setLogLevel(logging.WARNING)

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[0-9A-Za-z]+")
MAX_LEXEMES = 4000


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]


def lexemes(text: str) -> list[str]:
    """Distinct lexemes of ``text`` for the index (bounded in number)."""
    found: dict[str, None] = {}
    for run in _CJK_RUN.findall(text):
        for b in _bigrams(run):
            found[b] = None
        for w in jieba.cut_for_search(run):
            if len(w) > 2:
                found[w] = None
    for w in _WORD.findall(text):
        found[w.lower()[:64]] = None
    return list(found)[:MAX_LEXEMES]


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("'", "''").replace("\\", "\\\\") + "'"


MAX_QUERY_TERMS = 64


def query_terms(text: str) -> list[str]:
    """The lexemes a query requires: the bigrams of its CJK runs and its latin words; a lone
    CJK character is a prefix (``字:*``)."""
    parts: list[str] = []
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            parts.append(run + ":*")
        else:
            parts.extend(dict.fromkeys(_bigrams(run)))
    parts.extend(w.lower()[:64] for w in _WORD.findall(text))
    return parts[:MAX_QUERY_TERMS]


def query(text: str) -> str | None:
    """A tsquery (as text, for ``CAST(:q AS tsquery)``) requiring every bigram and word of
    ``text``; None when nothing searchable is in it."""
    parts = [_quote(t[:-2]) + ":*" if t.endswith(":*") else _quote(t) for t in query_terms(text)]
    return " & ".join(parts) if parts else None
