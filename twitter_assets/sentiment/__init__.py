"""Offline Portuguese sentiment for tweets: hashed char/word n-grams + hand-written lexicon rules, scored by a
multinomial logistic regression in pure numpy (no download at run time; weights ship in ``model/``).

    from twitter_assets.sentiment import classify, score, MODEL_VERSION, Scorer, LABELS
    classify(["adorei o curso"])          # -> ["positive"]
    labels, scores = score(texts)         # scores: P(positive) - P(negative) from the softmax, in [-1, 1]

Empty strings, None and other non-strings get ``"neutral"`` and ``0.0``. The model is loaded once per process
(lazily, on first use); batches are featurised and scored vectorised, in chunks of 50,000 texts so memory stays
bounded. See README.md in this folder for the approach, figures and training data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from twitter_assets.sentiment.model import LABELS, MODEL_VERSION, Scorer, default_scorer

__all__ = ["LABELS", "MODEL_VERSION", "Scorer", "classify", "score"]


def classify(texts: Sequence[Any]) -> list[str]:
    """One label per text: "negative", "neutral" or "positive"."""
    return default_scorer().classify(texts)


def score(texts: Sequence[Any]) -> tuple[list[str], np.ndarray]:
    """Labels and one float per text in [-1, 1]: P(positive) - P(negative) under the model's softmax."""
    return default_scorer().score(texts)
