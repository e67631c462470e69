"""What a scoring run is asked to do (``ScoreConfig``) and what it did (``ScoreSummary``)."""

from __future__ import annotations

import dataclasses
import re

from datacomp.config_checks import at_least, between, positive
from datacomp.errors import ConfigError
from datacomp.models.precision import TORCH_NAMES, check_precision
from datacomp.scoring.forward import DEFAULT_CHUNK_ELEMENTS

# Beyond ~2k tokens of left context per-token scores barely move while attention cost grows with the
# square of the window; models with longer contexts are capped here unless --window says otherwise.
MAX_DEFAULT_WINDOW = 2048


# Pipeline files and scripts written before the one vocabulary spelled score precisions as torch names.
LEGACY_DTYPE_WORDS = {torch_name: word for word, torch_name in TORCH_NAMES.items()}


@dataclasses.dataclass
class ScoreConfig:
    corpora: list[str]
    encoder: str | None = None       # model id, name or folder; with decoder: both models + their gap
    decoder: str | None = None
    model: str | None = None         # one model alone (instead of encoder/decoder)
    window: int | None = None        # None: the models' context length (at most MAX_DEFAULT_WINDOW)
    stride: int | None = None        # None: window // 2, every token sees at least half a window of context
    dtype: str = "float32"           # models/precision.py's words (or the torch names, as here: a pipeline stage
                                     # hashes its defaults, and "fp32" would re-run every stored score stage);
                                     # fp32 is exact on CPU, bf16 halves memory (see tests for the bound); rows
                                     # store the resolved torch name (float32, ...)
    token_budget: int = 8192         # rows x padded length per batch; the benchmark's best on 2 CPU cores
    shard: str = "0/1"               # i/n: this process scores the documents whose md5(doc_id) % n == i
    limit: int | None = None         # only the first N selected documents (by doc_id), for trials
    slice: str | None = None         # only the members of this slice (e.g. the evaluated documents)
    padding_slack: float = 0.2       # a row joins a batch if padded by <= 20% of the longest (or 16 tokens):
                                     # on a CPU padding costs as much as real tokens and batching gains little
    block_docs: int = 2048           # documents tokenised and length-sorted together; bounds RAM
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS  # positions x vocabulary per logits chunk

    def __post_init__(self) -> None:
        self.dtype = LEGACY_DTYPE_WORDS.get(self.dtype, self.dtype)
        check_precision(self.dtype)
        if not self.corpora and not self.slice:
            raise ConfigError("corpora", "is empty and there is no {slice}: nothing to score", others=("slice",),
                              many=True)
        positive(self, "token_budget", "block_docs", "window", "stride", "chunk_elements")
        at_least(self, "limit", 0)
        between(self, "padding_slack", 0, 1)
        parse_shard(self.shard)
        self.model_refs()

    def model_refs(self) -> tuple[list[str], bool]:
        """The model references in order (encoder first) and whether a gap is wanted."""
        if self.model and (self.encoder or self.decoder):
            raise ConfigError("model", "excludes {encoder} and {decoder}: pass one model, or both of those",
                              others=("encoder", "decoder"))
        if self.model:
            return [self.model], False
        if self.encoder and self.decoder:
            return [self.encoder, self.decoder], True
        if self.encoder or self.decoder:
            raise ConfigError("encoder" if self.encoder else "decoder",
                              "given alone: pass both {encoder} and {decoder}, or {model}",
                              others=("encoder", "decoder", "model"))
        raise ConfigError("model", "is missing: pass a model, or {encoder} and {decoder}",
                          others=("encoder", "decoder"))


def parse_shard(shard: str | tuple[int, int]) -> tuple[int, int]:
    """'i/n' -> (i, n) with 0 <= i < n."""
    if isinstance(shard, tuple):
        index, count = shard
    else:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(shard))
        if not match:
            raise ConfigError("shard", f"must look like i/n (e.g. 0/4), got {shard!r}")
        index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 0 <= index < count:
        raise ConfigError("shard", f"{index}/{count}: need n >= 1 and 0 <= i < n")
    return index, count


@dataclasses.dataclass
class ScoreSummary:
    run_id: str
    model_ids: list[str]
    window: int
    stride: int
    dtype: str
    gap_method: str | None           # 'token', 'bpb_diff' or None (one model)
    docs_selected: int = 0
    docs_skipped: int = 0            # already scored at this (model, window, stride, dtype)
    docs_scored: int = 0
    docs_null: int = 0               # empty / one-token documents, stored with NULL metrics
    tokens_scored: int = 0           # per model
    tokens_forward: int = 0          # tokens fed through each model (context overlap of windows included)
    batches: int = 0
    seconds: float = 0.0             # wall time of the scoring loop (after loading the models)
    cpu_seconds: float = 0.0         # CPU time of this process over the same span (robust on a busy machine)
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_scored / self.seconds if self.seconds > 0 else 0.0
