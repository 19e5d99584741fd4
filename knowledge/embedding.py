"""Sentence vectors for suggestions, from a static word-embedding model shipped inside a
registry package (schema-free: the model is shared read-only by every brand).

The model is WordLlama's `l2_supercat_256` (MIT licence), shipped in the `wordllama` wheel:
a 32,000-token x 256 table (16 MB on disk, 32 MB as float32 in memory), loaded in about
0.3 s, one short text embedded in about 0.2 ms on a CPU, no torch. A sentence vector is
the mean of its tokens' vectors.

We read the two files straight from the installed package instead of calling
`WordLlama.load`: that looks for the tokenizer under `tokenizer/` while the wheel holds
`tokenizers/`, and on a miss it would try to download from a model hub, which must never
happen on a customer's server. If the files are missing, `EmbeddingUnavailable` is raised
and suggestions go on lexically.
"""

import threading
from functools import cached_property
from pathlib import Path

import numpy as np

MODEL_CONFIG = "l2_supercat"
MODEL_DIM = 256
MAX_CHARS = 4000  # longer texts add nothing to a mean vector but tokenizing time


class EmbeddingUnavailable(RuntimeError):
    pass


class StaticEmbedder:
    def __init__(self):
        try:
            import wordllama
            from safetensors import safe_open
            from tokenizers import Tokenizer
        except ImportError as exc:  # the package is in requirements.txt; say what is missing
            raise EmbeddingUnavailable(f"wordllama is not installed: {exc}") from exc
        root = Path(wordllama.__file__).parent
        weights = root / "weights" / f"{MODEL_CONFIG}_{MODEL_DIM}.safetensors"
        tokenizer = root / "tokenizers" / f"{MODEL_CONFIG}_tokenizer_config.json"
        if not weights.exists() or not tokenizer.exists():
            raise EmbeddingUnavailable(f"The wordllama package has no {weights.name} / {tokenizer.name}.")
        with safe_open(str(weights), framework="np", device="cpu") as f:
            table = f.get_tensor("embedding.weight").astype(np.float32)
        # Unit rows would make frequent filler tokens weigh as much as content words;
        # keep the trained norms, which already damp them.
        self.table = np.ascontiguousarray(table)
        self.table.setflags(write=False)
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    @cached_property
    def nbytes(self) -> int:
        return self.table.nbytes

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length mean vectors, one row per text; an empty text gives a zero row."""
        out = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch([t[:MAX_CHARS] for t in texts], add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            ids = np.asarray(encoding.ids, dtype=np.int64)
            if ids.size == 0:
                continue
            ids = ids[(ids >= 0) & (ids < self.table.shape[0])]
            vector = self.table[ids].mean(axis=0)
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                out[row] = vector / norm
        return out


_embedder: StaticEmbedder | None = None
_lock = threading.Lock()


def embedder_get() -> StaticEmbedder:
    """The process's one embedder, loaded on first use."""
    global _embedder
    if _embedder is None:
        with _lock:
            if _embedder is None:
                _embedder = StaticEmbedder()
    return _embedder
