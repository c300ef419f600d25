"""Loading the shipped weights and scoring batches with numpy only.

The model is a multinomial logistic regression over the features of :mod:`.features`. At load, idf is
already folded into the hashed weights, so a document's logits are::

    logits[d] = sum_blocks scale_block[d] * sum_{occurrences in d} W[bucket] + dense[d] @ W_dense + intercept

computed for a whole chunk with one gather and ``np.bincount`` per n-gram family. The score is
``P(positive) - P(negative)`` from the softmax, so it lies in [-1, 1]; the label is the arg-max class.
Empty or non-string inputs get ``"neutral"`` and ``0.0``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twitter_assets.sentiment.features import DENSE_NAMES, FeatureConfig, chunks, featurise

LABELS = ("negative", "neutral", "positive")
MODEL_DIR = Path(__file__).resolve().parent / "model"
WEIGHTS_FILE = "weights.npz"
META_FILE = "model.json"
CHUNK_SIZE = 50_000


def _shipped_version() -> str:
    try:
        return json.loads((MODEL_DIR / META_FILE).read_text(encoding="utf-8"))["model_version"]
    except (OSError, ValueError, KeyError):  # before the first training run
        return "untrained"


MODEL_VERSION: str = _shipped_version()


@dataclass(frozen=True)
class Weights:
    """Dense arrays as inference uses them (``hashed`` has one extra all-zero row for "no feature")."""

    config: FeatureConfig
    hashed: np.ndarray  # (2^n_bits + 1, 3) float32, idf folded in
    dense: np.ndarray  # (len(DENSE_NAMES), 3) float64
    intercept: np.ndarray  # (3,) float64
    norm_sq: np.ndarray | None = None  # (2^n_bits + 1,) for norm="idf_l2", see features.Block.scale

    @classmethod
    def from_training(
        cls,
        config: FeatureConfig,
        coef: np.ndarray,
        intercept: np.ndarray,
        idf: np.ndarray,
        norm_sq: np.ndarray | None = None,
    ) -> Weights:
        n_hash = 1 << config.n_bits
        hashed = np.zeros((n_hash + 1, 3), dtype=np.float32)
        hashed[:n_hash] = (coef[:, :n_hash] * idf[None, :]).T
        dense = coef[:, n_hash:].T.astype(np.float64)
        return cls(config, hashed, dense, intercept.astype(np.float64), norm_sq)

    def save(self, directory: Path, meta: dict[str, Any]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        nonzero = np.any(self.hashed != 0, axis=1)
        if self.norm_sq is not None:
            nonzero |= self.norm_sq != 0
        rows = np.flatnonzero(nonzero).astype(np.int32)
        arrays = {"rows": rows, "values": self.hashed[rows], "dense": self.dense, "intercept": self.intercept}
        if self.norm_sq is not None:
            arrays["norm_sq"] = self.norm_sq[rows].astype(np.float32)
        np.savez_compressed(directory / WEIGHTS_FILE, **arrays)
        meta = dict(meta, feature_config=self.config.to_dict(), dense_features=list(DENSE_NAMES), labels=LABELS)
        (directory / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> tuple[Weights, dict[str, Any]]:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        config = FeatureConfig.from_dict(meta["feature_config"])
        with np.load(directory / WEIGHTS_FILE) as data:
            hashed = np.zeros(((1 << config.n_bits) + 1, 3), dtype=np.float32)
            hashed[data["rows"]] = data["values"]
            norm_sq = None
            if "norm_sq" in data:
                norm_sq = np.zeros(len(hashed), dtype=np.float32)
                norm_sq[data["rows"]] = data["norm_sq"]
            return cls(config, hashed, data["dense"], data["intercept"], norm_sq), meta


class Scorer:
    """A loaded model. ``Scorer()`` loads the shipped weights; most callers use the module-level functions."""

    def __init__(self, directory: Path | str = MODEL_DIR, chunk_size: int = CHUNK_SIZE) -> None:
        self.weights, self.meta = Weights.load(Path(directory))
        self.model_version: str = self.meta["model_version"]
        self.chunk_size = chunk_size

    def logits(self, texts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """(n, 3) logits and the mask of empty documents, for one chunk."""
        w = self.weights
        feats = featurise(texts, w.config)
        n = feats.n_docs
        logits = feats.dense @ w.dense + w.intercept
        for block in feats.blocks:
            acc = np.zeros((3, n), dtype=np.float64)
            for doc, bucket in block.parts:
                g = w.hashed[bucket]
                for k in range(3):
                    acc[k] += np.bincount(doc, weights=g[:, k], minlength=n)
            logits += (acc * block.scale(n, feats.n_hash, w.norm_sq)).T
        return logits, feats.empty

    def probabilities(self, texts: Sequence[Any]) -> np.ndarray:
        """(n, 3) class probabilities (softmax); empty documents get (0, 1, 0)."""
        texts = list(texts) if not isinstance(texts, (list, tuple)) else texts
        out = np.empty((len(texts), 3), dtype=np.float64)
        for i, chunk in enumerate(chunks(texts, self.chunk_size)):
            logits, empty = self.logits(chunk)
            z = np.exp(logits - logits.max(axis=1, keepdims=True))
            p = z / z.sum(axis=1, keepdims=True)
            p[empty] = (0.0, 1.0, 0.0)
            out[i * self.chunk_size : i * self.chunk_size + len(chunk)] = p
        return out

    def score(self, texts: Sequence[Any]) -> tuple[list[str], np.ndarray]:
        """Labels (arg-max class) and scores ``P(positive) - P(negative)`` in [-1, 1]."""
        p = self.probabilities(texts)
        labels = [LABELS[i] for i in p.argmax(axis=1)]
        return labels, np.clip(p[:, 2] - p[:, 0], -1.0, 1.0)

    def classify(self, texts: Sequence[Any]) -> list[str]:
        return self.score(texts)[0]


_lock = threading.Lock()
_default: Scorer | None = None


def default_scorer() -> Scorer:
    """The shipped model, loaded once per process."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Scorer()
    return _default
