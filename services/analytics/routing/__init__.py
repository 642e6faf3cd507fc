"""Routing suggestion (issue 6 §2): which top-level category a message belongs to, with a
confidence, for casework's routing. A TF-IDF (jieba words ∪ character n-grams) linear model,
CPU only, trained locally; see `service.suggest`."""

from services.analytics.routing.service import Suggestion, suggest, suggest_many

__all__ = ["Suggestion", "suggest", "suggest_many"]
