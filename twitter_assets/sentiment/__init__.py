"""Offline Portuguese sentiment for tweets: hashed char/word n-grams + hand-written lexicon rules, scored by a
multinomial logistic regression in pure numpy (no download at run time; weights ship in ``model/``).

    from twitter_assets.sentiment import classify, score, MODEL_VERSION, Scorer, LABELS
    classify(["adorei o curso"])          # -> ["positive"]
    labels, scores = score(texts)         # scores: P(positive) - P(negative) from the softmax, in [-1, 1]

Empty strings, None and other non-strings get ``"neutral"`` and ``0.0``. The model is loaded once per process
(lazily, on first use); batches are featurised and scored vectorised, in chunks of 50,000 texts so memory stays
bounded. See README.md in this folder for the approach, figures and training data.

``TWITTER_SENTIMENT_MODE`` chooses the scorer of ``classify``/``score`` and of the sentiment assets: ``fast`` (the
default, above) or ``accurate`` (:mod:`.accurate`: fine-tuned E5-small averaged with the fast model; needs
``pip install -e '.[accurate]'`` and says so if it is missing). Each mode writes its own ``model_version``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from twitter_assets.sentiment.model import LABELS, MODEL_VERSION, Scorer, default_scorer

__all__ = ["LABELS", "MODEL_VERSION", "MODES", "MODE_ENV", "Scorer", "classify", "configured_mode", "scorer", "score"]

MODE_ENV = "TWITTER_SENTIMENT_MODE"
MODES = ("fast", "accurate")

_lock = threading.Lock()
_accurate: Scorer | None = None


def configured_mode() -> str:
    """The mode ``TWITTER_SENTIMENT_MODE`` names (``fast`` when unset or empty); a clear error otherwise."""
    raw = os.environ.get(MODE_ENV, "")
    mode = raw.strip().lower() or "fast"
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV}={raw!r} is not a sentiment mode: set it to one of {', '.join(MODES)}")
    return mode


def scorer(mode: str | None = None) -> Scorer:
    """The loaded scorer of ``mode`` (default: the configured one), loaded once per process."""
    global _accurate
    mode = configured_mode() if mode is None else mode
    if mode == "fast":
        return default_scorer()
    if mode != "accurate":
        raise ValueError(f"unknown sentiment mode {mode!r}: one of {', '.join(MODES)}")
    if _accurate is None:
        with _lock:
            if _accurate is None:
                from twitter_assets.sentiment.accurate import AccurateScorer

                _accurate = AccurateScorer()
    return _accurate


def classify(texts: Sequence[Any]) -> list[str]:
    """One label per text: "negative", "neutral" or "positive" (the configured mode's scorer)."""
    return scorer().classify(texts)


def score(texts: Sequence[Any]) -> tuple[list[str], np.ndarray]:
    """Labels and one float per text in [-1, 1]: P(positive) - P(negative) under the model's softmax."""
    return scorer().score(texts)
