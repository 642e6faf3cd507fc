"""`suggest(text)`: the routing suggestion the rest of the system asks for.

The model is loaded once per process, lazily: the newest saved model under
`<data_dir>/models/`, else one trained on the spot from the built-in examples (logged, never
saved — `minsheng analytics train-router` writes the real one).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from services.analytics.routing import train
from services.analytics.routing.labels import category_code
from services.analytics.routing.model import RouterModel, latest, load
from shared.logging import get_logger
from shared.settings import Settings, get_settings

log = get_logger(__name__)

_lock = threading.Lock()
_model: RouterModel | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The predicted top-level label, its reference category code, and a confidence in 0–1.
    Blank text gets label "", no code and confidence 0."""

    label: str
    category_code: str | None
    confidence: float


def models_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "models"


def get_model(settings: Settings | None = None) -> RouterModel:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = _load_or_train(models_dir(settings))
    return _model


def _load_or_train(directory: Path) -> RouterModel:
    path = latest(directory)
    if path is not None:
        model = load(path)
        log.info("analytics.routing.model_loaded", path=str(path), version=model.info.version)
        return model
    log.warning(
        "analytics.routing.trained_from_fallback",
        reason=f"no saved model in {directory}",
        hint="run `minsheng analytics train-router`",
    )
    return train.fit(train.fallback_dataset())


def use_model(model: RouterModel | None) -> None:
    """Serve `model` from now on (None: load again on next use)."""
    global _model
    with _lock:
        _model = model


def suggest(text: str) -> Suggestion:
    """The routing suggestion for one message."""
    return suggest_many([text])[0]


def suggest_many(texts: list[str]) -> list[Suggestion]:
    return [
        Suggestion(label, category_code(label) if label else None, confidence)
        for label, confidence in get_model().predict(texts)
    ]
