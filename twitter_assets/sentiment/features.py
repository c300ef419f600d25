"""The featuriser shared by training and inference: hashed n-grams and lexicon rules, vectorised over a batch.

A batch of texts is normalised with a handful of whole-batch string operations (lower case, accents stripped,
@mentions -> ``@user``, URLs -> ``httpurl``, laughter -> ``kkk``, letters repeated 3+ times collapsed, digits
-> ``0``), joined into one code-point array (``uint32``) with a separator between documents, and featurised
with numpy only — there is no Python loop per document or per n-gram:

* **char n-grams** (``char_min``..``char_max``), word-boundary padded like scikit-learn's ``char_wb``: an
  n-gram may start or end on a space but contains none inside, so short words are whole features;
* **word uni/bigrams** over tokens (a token is a run of word characters, or one punctuation/emoji character);
  with ``neg_scope`` a unigram inside a negation scope (up to 3 tokens after não/nunca/jamais/nem...) is
  hashed as a different feature, so "não gostei" does not count as "gostei";
* **lexicon/rule features** (a dense block, see :mod:`.lexicon`): positive and negative evidence after
  negation flip, intensifier boost and contrast weighting (the clause after "mas/porém" counts more), counts
  of ``!``/``?``, negators, laughter.

Every n-gram's hash is a polynomial hash read off one prefix-hash array in O(1) (``(H[b] - H[a]) * P^-a``
mod 2^64), then mixed and reduced to ``n_bits`` bits. Hashed features never store n-gram strings, so a
trained model ships only weights.

Each hashed block is normalised per document by ``sqrt(number of n-gram occurrences in the block)``; a
feature's value is ``count * idf / sqrt(n)``. Training turns this into a ``scipy.sparse`` matrix
(:func:`sparse_matrix`); inference (:mod:`.model`) folds idf into the weights and sums
``W[bucket] / sqrt(n)`` per document with ``np.bincount`` — the same numbers, without building the matrix.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from twitter_assets.sentiment import lexicon

SEP = "\x00"
_SEP_CP = 0
_SPACE_CP = 0x20

_P = np.uint64(0x100000001B3)  # FNV-64 prime: odd, so invertible mod 2^64
_P_INV = np.uint64(pow(int(_P), -1, 2**64))
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)

# Salts keep the feature families apart in the one hashed space.
_SALT_CHAR = 0x9E3779B97F4A7C15
_SALT_WORD = 0xBF58476D1CE4E5B9
_SALT_BIGRAM = 0x94D049BB133111EB
_SALT_NEG = 0x2545F4914F6CDD1D

DENSE_NAMES = (
    "lex_pos",
    "lex_neg",
    "lex_balance",
    "negators",
    "exclamations",
    "questions",
    "laughter",
    "contrast",
)


@dataclass(frozen=True)
class FeatureConfig:
    """Hash and featuriser settings; stored with the weights, so a model always featurises as it was trained."""

    n_bits: int = 19
    char_min: int = 2
    char_max: int = 5
    word_bigrams: bool = True
    neg_scope: bool = True
    char_weight: float = 1.0
    word_weight: float = 1.0
    dense_weight: float = 1.0
    norm: str = "sqrt_count"  # or "idf_l2"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


# ----------------------------------------------------------------------------------------------- normalisation
_RE_URL = re.compile(r"(?:https?://|www\.)[^\s\x00]+")
_RE_MENTION = re.compile(r"@\w+")
_RE_ENTITY = re.compile(r"&(amp|lt|gt|quot);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"'}
_RE_COMBINING = re.compile("[\u0300-\u036f]")
# the lookahead lets `re` skip quickly to candidate first letters
_RE_LAUGH = re.compile(
    r"(?=[kjrhalu])\b(?:k{2,}[kj]*|(?:kj|jk)[kj]+|(?:ks){2,}k?|(?:rs){2,}s?|h?(?:a+h+){2,}a*|h?(?:e+h+){2,}e*"
    r"|h?(?:u+a+h+)+[aeu]*|(?:ha|he|hi|hu){2,}h?|(?:as[hd]+){2,}\w*|lol+)\b"
)

# code points dropped (zero-width, variation selectors, skin tones) and mapped to a space (whitespace)
_INVISIBLE_RANGES = ((0x200B, 0x200F), (0x2060, 0x2064), (0xFE00, 0xFE0F), (0x1F3FB, 0x1F3FF))
_SPACE_LIKE = np.array(
    [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
    + list(range(0x2000, 0x200B)),
    dtype=np.uint32,
)


def _clean_inputs(texts: Sequence[Any]) -> list[str]:
    """Strings stay as they are; None, NaN and other non-strings become the empty string."""
    return [t if isinstance(t, str) else "" for t in texts]


def _normalise_string(texts: Sequence[Any]) -> str:
    """String-level steps, each one pass over the whole joined batch."""
    docs = _clean_inputs(texts)
    big = SEP.join(docs)
    if big.count(SEP) != max(len(docs) - 1, 0):  # a text contained the separator itself
        big = SEP.join(d.replace(SEP, " ") for d in docs)
    big = big.lower()
    big = _RE_URL.sub(" httpurl ", big)
    big = _RE_MENTION.sub(" @user ", big)
    big = _RE_ENTITY.sub(lambda m: _ENTITIES[m.group(1)], big)
    if not big.isascii():
        big = _RE_COMBINING.sub("", unicodedata.normalize("NFKD", big))
    big = _RE_LAUGH.sub(" kk ", big)
    return " " + big.replace(SEP, " \x00 ") + " "


def _collapse_runs(cp: np.ndarray) -> np.ndarray:
    """Code-point-level steps: drop invisibles, whitespace -> one space, digit runs -> "0", letters repeated
    3+ times -> one ("muitooo" -> "muito"; r and s keep two: "carrro" -> "carro"), "!!!!" -> "!!"."""
    drop = np.zeros(len(cp), dtype=bool)
    for lo, hi in _INVISIBLE_RANGES:
        drop |= (cp >= lo) & (cp <= hi)
    if drop.any():
        cp = cp[~drop]
    cp = cp.copy()
    cp[np.isin(cp, _SPACE_LIKE)] = _SPACE_CP
    cp[(cp >= 0x30) & (cp <= 0x39)] = 0x30
    if len(cp) == 0:
        return cp
    run_start = np.concatenate(([True], cp[1:] != cp[:-1]))
    starts = np.flatnonzero(run_start)
    lengths = np.diff(np.append(starts, len(cp)))
    char = cp[starts]
    limit = lengths.copy()
    long = lengths >= 3
    letter = (char >= 0x61) & (char <= 0x7A)
    keep_two = (char == 0x72) | (char == 0x73) | (char == 0x21) | (char == 0x3F) | (char == 0x2E)  # r s ! ? .
    limit[long & letter] = 1
    limit[long & keep_two] = 2
    limit[(char == _SPACE_CP) | (char == 0x30)] = 1
    run_id = np.cumsum(run_start) - 1
    keep = (np.arange(len(cp)) - starts[run_id]) < limit[run_id]
    return cp[keep]


def normalised_code_points(texts: Sequence[Any]) -> np.ndarray:
    """The normalised batch as ``uint32`` code points (see :func:`normalise_batch`)."""
    return _collapse_runs(code_points(_normalise_string(texts)))


def normalise_batch(texts: Sequence[Any]) -> str:
    """The whole batch as one normalised string: ``" doc0 \\x00 doc1 \\x00 ... "`` (one separator between docs)."""
    return _collapse_runs(code_points(_normalise_string(texts))).tobytes().decode("utf-32-le")


def code_points(normalised: str) -> np.ndarray:
    return np.frombuffer(normalised.encode("utf-32-le"), dtype="<u4")


# ----------------------------------------------------------------------------------------------------- hashing
def _mix(h: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (murmur3 fmix64): neighbouring polynomial hashes end up in unrelated buckets."""
    h = h ^ (h >> _S33)
    h *= _MIX1
    h ^= h >> _S33
    h *= _MIX2
    h ^= h >> _S33
    return h


@lru_cache(maxsize=4)
def _powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    """P^i and P^-i mod 2^64 for i < length (cached; grown to a power of two)."""
    p = np.full(length, _P, dtype=np.uint64)
    p[0] = 1
    pinv = np.full(length, _P_INV, dtype=np.uint64)
    pinv[0] = 1
    return np.cumprod(p, dtype=np.uint64), np.cumprod(pinv, dtype=np.uint64)


def _prefix_hash(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H with H[i] = sum_{j<i} (cp[j] + 1) * P^j, and the inverse powers, both mod 2^64."""
    n = len(cp)
    size = 1 << max(int(n + 1).bit_length(), 10)
    pw, pinv = _powers(size)
    h = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum((cp.astype(np.uint64) + np.uint64(1)) * pw[:n], dtype=np.uint64, out=h[1:])
    return h, pinv


def _span_hash(h: np.ndarray, pinv: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    return (h[end] - h[start]) * pinv[start]


# ------------------------------------------------------------------------------------------------------ tokens
def _token_classes(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(word character?, symbol character?) per code point; spaces and separators are neither."""
    is_word = (
        ((cp >= 0x61) & (cp <= 0x7A))
        | ((cp >= 0x30) & (cp <= 0x39))
        | (cp == 0x5F)  # _
        | (cp == 0x23)  # #
        | (cp == 0x40)  # @
        | ((cp >= 0xC0) & (cp < 0x2000) & (cp != 0xD7) & (cp != 0xF7))
    )
    is_symbol = ~is_word & (cp != _SPACE_CP) & (cp != _SEP_CP)
    return is_word, is_symbol


@dataclass
class Tokens:
    start: np.ndarray  # code-point index of each token's first character
    end: np.ndarray  # one past its last character
    doc: np.ndarray  # document of each token
    hash: np.ndarray  # mixed 64-bit hash of the token's text


def _tokens(cp: np.ndarray, doc_of_cp: np.ndarray, h: np.ndarray, pinv: np.ndarray) -> Tokens:
    is_word, is_symbol = _token_classes(cp)
    prev_word = np.concatenate(([False], is_word[:-1]))
    next_word = np.concatenate((is_word[1:], [False]))
    start = np.flatnonzero((is_word & ~prev_word) | is_symbol)
    end = np.flatnonzero((is_word & ~next_word) | is_symbol) + 1
    return Tokens(start, end, doc_of_cp[start], _mix(_span_hash(h, pinv, start, end)))


# ------------------------------------------------------------------------------------------------ the features
@dataclass
class Block:
    """One hashed feature family of a batch, normalised together (per document, by sqrt of its occurrences).

    ``parts`` holds parallel (document, bucket) arrays; a bucket equal to ``2**n_bits`` marks a position
    that is not a feature (e.g. a char n-gram crossing a space), which inference maps to a zero weight row.
    """

    name: str
    parts: list[tuple[np.ndarray, np.ndarray]]
    weight: float

    def counts(self, n_docs: int, n_hash: int, norm_sq: np.ndarray | None = None) -> np.ndarray:
        """Occurrences per document, or with ``norm_sq`` (indexed by bucket) the sum of norm_sq[bucket]."""
        total = np.zeros(n_docs, dtype=np.float64)
        for doc, bucket in self.parts:
            w = (bucket < n_hash) if norm_sq is None else norm_sq[bucket]
            total += np.bincount(doc, weights=w, minlength=n_docs)
        return total

    def scale(self, n_docs: int, n_hash: int, norm_sq: np.ndarray | None = None) -> np.ndarray:
        """Per-document factor: weight / sqrt(counts), 0 for documents without any.

        With ``norm = "idf_l2"`` the model passes ``norm_sq = idf**2`` of the buckets seen in training (0 for the
        rest and for the "no feature" bucket), so this is the l2 norm of the tf-idf vector when no n-gram repeats
        (a repeated one counts once per occurrence, in training and inference alike)."""
        counts = self.counts(n_docs, n_hash, norm_sq)
        return np.where(counts > 0, self.weight / np.sqrt(np.maximum(counts, 1e-12)), 0.0)


@dataclass
class BatchFeatures:
    n_docs: int
    n_hash: int
    blocks: list[Block]
    dense: np.ndarray  # (n_docs, len(DENSE_NAMES)) float64, already scaled by dense_weight
    empty: np.ndarray  # documents with no content at all (empty, None, whitespace only)


class _LexiconTables:
    """Token hashes of the hand-written lexicon, sorted for np.searchsorted lookups."""

    def __init__(self) -> None:
        entries = lexicon.polarity_entries()
        words = list(entries)
        self.pol_hash, pol_value = _single_token_hashes(words, list(entries.values()))
        order = np.argsort(self.pol_hash)
        self.pol_hash, self.pol_value = self.pol_hash[order], pol_value[order]
        self.negators = np.sort(_single_token_hashes(sorted(lexicon.NEGATORS))[0])
        self.intensifiers = np.sort(_single_token_hashes(sorted(lexicon.INTENSIFIERS))[0])
        self.contrast = np.sort(_single_token_hashes(sorted(lexicon.CONTRAST))[0])
        self.laughter = _single_token_hashes([lexicon.LAUGHTER_TOKEN])[0][0]
        self.exclamation = _single_token_hashes(["!"])[0][0]
        self.question = _single_token_hashes(["?"])[0][0]


def _single_token_hashes(words: list[str], values: list[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Hash each lexicon entry as the featuriser would; entries that do not normalise to one token are dropped."""
    cp = normalised_code_points(words)
    doc_of_cp = np.cumsum(cp == _SEP_CP)
    h, pinv = _prefix_hash(cp)
    tok = _tokens(cp, doc_of_cp, h, pinv)
    counts = np.bincount(tok.doc, minlength=len(words))
    single = counts == 1
    first = np.searchsorted(tok.doc, np.arange(len(words)))
    hashes = tok.hash[first[single]]
    vals = np.asarray(values if values is not None else [0.0] * len(words), dtype=np.float64)[single]
    return hashes, vals


@lru_cache(maxsize=1)
def _lexicon_tables() -> _LexiconTables:
    return _LexiconTables()


def _member(sorted_hashes: np.ndarray, h: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(sorted_hashes, h)
    idx[idx == len(sorted_hashes)] = 0
    return sorted_hashes[idx] == h


def _window_any(flag: np.ndarray, doc: np.ndarray, width: int) -> np.ndarray:
    """For each token: does `flag` hold for one of the `width` tokens before it, in the same document?"""
    out = np.zeros(len(flag), dtype=bool)
    for k in range(1, width + 1):
        out[k:] |= flag[:-k] & (doc[k:] == doc[:-k])
    return out


def _per_doc(values: np.ndarray, doc: np.ndarray, n_docs: int) -> np.ndarray:
    return np.bincount(doc, weights=values, minlength=n_docs)


def featurise(texts: Sequence[Any], config: FeatureConfig) -> BatchFeatures:
    """All features of a batch (see the module docstring)."""
    n_docs = len(texts)
    n_hash = 1 << config.n_bits
    if n_docs == 0:
        return BatchFeatures(0, n_hash, [], np.zeros((0, len(DENSE_NAMES))), np.zeros(0, dtype=bool))
    mask_bits = np.uint64(n_hash - 1)
    sentinel = np.uint64(n_hash)
    # trailing separators: every document then starts before the last n-gram position, for every n
    cp = np.concatenate((normalised_code_points(texts), np.zeros(config.char_max, dtype=np.uint32)))
    is_sep = cp == _SEP_CP
    doc_of_cp = np.cumsum(is_sep)
    # a separator belongs to the document it closes; the trailing padding to the last document
    doc_of_cp = np.minimum(doc_of_cp - is_sep, n_docs - 1)
    h, pinv = _prefix_hash(cp)
    length = len(cp)

    # char n-grams, word-boundary padded: no separator anywhere, no space strictly inside
    sep_cum = np.concatenate(([0], np.cumsum(is_sep)))
    space_cum = np.concatenate(([0], np.cumsum(cp == _SPACE_CP)))
    char_parts = []
    for n in range(config.char_min, config.char_max + 1):
        m = length - n + 1
        ok = sep_cum[n:] == sep_cum[:m]
        ok &= space_cum[n - 1 : n - 1 + m] == space_cum[1 : 1 + m]
        hashes = ((h[n:] - h[:m]) * pinv[:m]) ^ np.uint64(_SALT_CHAR + n)
        bucket = np.where(ok, _mix(hashes) & mask_bits, sentinel)
        char_parts.append((doc_of_cp[:m], bucket))
    char_block = Block("char", char_parts, config.char_weight)

    # word uni/bigrams
    tok = _tokens(cp, doc_of_cp, h, pinv)
    tables = _lexicon_tables()
    is_neg = _member(tables.negators, tok.hash)
    in_neg_scope = _window_any(is_neg, tok.doc, 3) & ~is_neg
    uni = tok.hash ^ np.uint64(_SALT_WORD)
    if config.neg_scope:
        uni = np.where(in_neg_scope, uni ^ np.uint64(_SALT_NEG), uni)
    word_parts = [(tok.doc, _mix(uni) & mask_bits)]
    if config.word_bigrams and len(tok.hash) > 1:
        same = tok.doc[1:] == tok.doc[:-1]
        bi = (tok.hash[:-1] * _MIX1) ^ tok.hash[1:] ^ np.uint64(_SALT_BIGRAM)
        word_parts.append((tok.doc[1:], np.where(same, _mix(bi) & mask_bits, sentinel)))
    word_block = Block("word", word_parts, config.word_weight)

    dense = _dense_features(tok, is_neg, in_neg_scope, tables, n_docs) * config.dense_weight
    empty = char_block.counts(n_docs, n_hash) == 0
    return BatchFeatures(n_docs, n_hash, [char_block, word_block], dense, empty)


def _dense_features(
    tok: Tokens, is_neg: np.ndarray, in_neg_scope: np.ndarray, tables: _LexiconTables, n_docs: int
) -> np.ndarray:
    """Lexicon evidence per document after negation, intensifiers and contrast (all vectorised over tokens)."""
    idx = np.searchsorted(tables.pol_hash, tok.hash)
    idx[idx == len(tables.pol_hash)] = 0
    hit = tables.pol_hash[idx] == tok.hash
    pol = np.where(hit, tables.pol_value[idx], 0.0)
    # negation flips (and damps: "não é ruim" is not praise)
    pol = np.where(in_neg_scope & (pol > 0), -pol, np.where(in_neg_scope & (pol < 0), -0.5 * pol, pol))
    # an intensifier right before a word boosts it
    boosted = _window_any(_member(tables.intensifiers, tok.hash), tok.doc, 1)
    pol = np.where(boosted, 1.5 * pol, pol)
    # contrast: after "mas" the clause counts double, before it half
    is_contrast = _member(tables.contrast, tok.hash)
    c_cum = np.cumsum(is_contrast)
    first_tok = np.searchsorted(tok.doc, tok.doc)  # index of each token's document's first token
    before_cum = np.where(first_tok > 0, c_cum[np.maximum(first_tok - 1, 0)], 0)
    after_contrast = (c_cum - before_cum) > 0
    doc_has_contrast = _per_doc(is_contrast.astype(np.float64), tok.doc, n_docs) > 0
    weight = np.where(after_contrast, 2.0, np.where(doc_has_contrast[tok.doc], 0.5, 1.0))
    pol = pol * weight

    pos = _per_doc(np.maximum(pol, 0.0), tok.doc, n_docs)
    neg = _per_doc(np.maximum(-pol, 0.0), tok.doc, n_docs)
    out = np.empty((n_docs, len(DENSE_NAMES)), dtype=np.float64)
    out[:, 0] = np.log1p(pos)
    out[:, 1] = np.log1p(neg)
    out[:, 2] = np.tanh((pos - neg) / 2.0)
    out[:, 3] = np.log1p(_per_doc(is_neg.astype(np.float64), tok.doc, n_docs))
    out[:, 4] = np.log1p(_per_doc((tok.hash == tables.exclamation).astype(np.float64), tok.doc, n_docs))
    out[:, 5] = np.log1p(_per_doc((tok.hash == tables.question).astype(np.float64), tok.doc, n_docs))
    out[:, 6] = _per_doc((tok.hash == tables.laughter).astype(np.float64), tok.doc, n_docs) > 0
    out[:, 7] = doc_has_contrast
    return out


def chunks(texts: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(texts), size):
        yield texts[i : i + size]


def norm_weights(config: FeatureConfig, idf: np.ndarray, seen: np.ndarray) -> np.ndarray | None:
    """``norm_sq`` for :meth:`Block.scale` (length 2^n_bits + 1), or None for the plain sqrt(count) norm."""
    if config.norm != "idf_l2":
        return None
    out = np.zeros(len(idf) + 1)
    out[:-1] = np.where(seen, idf**2, 0.0)
    return out


def sparse_matrix(feats: BatchFeatures, idf: np.ndarray | None = None, norm_sq: np.ndarray | None = None):
    """Training-side view: a CSR matrix (n_docs, 2^n_bits + len(DENSE_NAMES)) of exactly the inference features:
    hashed entries ``count * idf / sqrt(n)`` (times the block weight), then the dense block."""
    import scipy.sparse as sp

    n_hash, n_docs = feats.n_hash, feats.n_docs
    rows, cols, vals = [], [], []
    for block in feats.blocks:
        scale = block.scale(n_docs, n_hash, norm_sq)
        for doc, bucket in block.parts:
            keep = bucket < n_hash
            d, b = doc[keep], bucket[keep].astype(np.int64)
            rows.append(d)
            cols.append(b)
            vals.append(scale[d] * (idf[b] if idf is not None else 1.0))
    d_rows, d_cols = np.nonzero(feats.dense)
    rows.append(d_rows)
    cols.append(n_hash + d_cols)
    vals.append(feats.dense[d_rows, d_cols])
    m = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_docs, n_hash + len(DENSE_NAMES)),
    )
    m.sum_duplicates()
    return m


def document_frequency(feats: BatchFeatures) -> np.ndarray:
    """In how many documents each hashed bucket occurs (for idf)."""
    n_hash = feats.n_hash
    keys = [
        doc[bucket < n_hash].astype(np.int64) * n_hash + bucket[bucket < n_hash].astype(np.int64)
        for block in feats.blocks
        for doc, bucket in block.parts
    ]
    return np.bincount(np.unique(np.concatenate(keys)) % n_hash, minlength=n_hash)
