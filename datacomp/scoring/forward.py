"""Running one or two causal LMs on a padded batch and turning their predictions into per-token values.

Memory: the transformer body runs once per batch and returns hidden states (B, T, d); only the scored
positions' hidden states are kept, and the LM head + log-softmax run over them in chunks of
``chunk_positions`` rows, so the largest logits tensor is chunk x V, never B x T x V. For models whose
logits are not simply ``lm_head(last hidden state)`` (checked once on a probe input, see
``ScoringModel``), the engine falls back to the full logits of the batch.
"""

from __future__ import annotations

import dataclasses

import torch

from datacomp.scoring import metrics
from datacomp.scoring.batching import PaddedBatch

# Vocabulary x positions per logits chunk: 2**22 float32 values = 16 MB per model, a few such
# temporaries at a time; large enough that the matmul is efficient, small enough for any laptop.
DEFAULT_CHUNK_ELEMENTS = 2**22
# Positions x vocabulary per slice of the metric computation: 2**19 float32 = 2 MB, so the max, exp,
# sums and products re-read it from cache rather than memory (measured ~2-4x faster per element on
# CPU than whole 16 MB chunks).
DEFAULT_METRIC_ELEMENTS = 2**19


class ScoringModel:
    """A causal LM split into its body (hidden states) and its head (hidden -> logits)."""

    def __init__(self, model, name: str = "model"):
        self.model = model
        self.name = name
        self.device = next(model.parameters()).device
        self.body = model.base_model
        self.head = model.get_output_embeddings()
        config = model.config
        self.softcap = getattr(config, "final_logit_softcapping", None)
        self.logit_scale = getattr(config, "logit_scale", None)          # Cohere multiplies
        self.logits_scaling = getattr(config, "logits_scaling", None)    # Granite divides
        self.split = self.body is not model and self.head is not None and self._split_matches()

    @torch.inference_mode()
    def _split_matches(self) -> bool:
        """Does head(body(x)) reproduce model(x).logits on a probe? If not, use full logits."""
        vocab = self.model.config.vocab_size
        probe = (torch.arange(12, device=self.device) * 7919 % vocab).unsqueeze(0)
        try:
            full = self.model(input_ids=probe).logits.float()
            split = self.logits(self.hidden(probe)[0]).float()
        except Exception:  # any architecture the split cannot call: the full path still works
            return False
        scale = full.abs().max().clamp_min(1.0)
        return full.shape[-1] == split.shape[-1] and bool(((full[0] - split).abs().max() / scale) < 1e-3)

    def hidden(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.body(input_ids=input_ids.to(self.device)).last_hidden_state

    def logits(self, hidden_rows: torch.Tensor) -> torch.Tensor:
        logits = self.head(hidden_rows)
        if self.logit_scale is not None:
            logits = logits * self.logit_scale
        if self.logits_scaling is not None:
            logits = logits / self.logits_scaling
        if self.softcap is not None:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return logits

    @torch.inference_mode()
    def scored_positions(self, batch: PaddedBatch):
        """A function chunk(lo, hi) -> logits of scored positions lo..hi-1 (model dtype)."""
        if self.split:
            hidden = self.hidden(batch.input_ids)[batch.rows.to(self.device), batch.cols.to(self.device)]
            return lambda lo, hi: self.logits(hidden[lo:hi])
        full = self.model(input_ids=batch.input_ids.to(self.device)).logits
        picked = full[batch.rows.to(self.device), batch.cols.to(self.device)]
        del full
        return lambda lo, hi: picked[lo:hi]


@dataclasses.dataclass
class TokenValues:
    """Per scored position: surprisal and entropy under each model; divergences when there are two."""

    surprisal: list[torch.Tensor]
    entropy: list[torch.Tensor]
    kl_enc_dec: torch.Tensor | None = None
    kl_dec_enc: torch.Tensor | None = None
    js: torch.Tensor | None = None


GAP_FIELDS = ("kl_enc_dec", "kl_dec_enc", "js")


class DocumentMoments:
    """Per-document moments of everything ``score_batch`` returns, for ``n_docs`` documents whose windows
    arrive over several batches: surprisal and entropy per model, and the three divergences when ``gap``.
    The one accumulator of the scoring engine and of the evaluated windows' scores."""

    def __init__(self, n_docs: int, n_models: int, gap: bool):
        self.surprisal = [metrics.Moments(n_docs) for _ in range(n_models)]
        self.entropy = [metrics.Moments(n_docs) for _ in range(n_models)]
        self.gap = {name: metrics.Moments(n_docs) for name in GAP_FIELDS} if gap else {}

    def add(self, docs: torch.Tensor, values: TokenValues) -> None:
        for moments, value in zip(self.surprisal + self.entropy, values.surprisal + values.entropy):
            moments.add(docs, value)
        for name, moments in self.gap.items():
            moments.add(docs, getattr(values, name))

    def count(self, doc: int) -> int:
        return int(self.surprisal[0].count[doc])


@torch.inference_mode()
def score_batch(models: list[ScoringModel], batch: PaddedBatch,
                chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
                metric_elements: int = DEFAULT_METRIC_ELEMENTS) -> TokenValues:
    """Per-token metrics of one batch under one model, or two (encoder first) plus their divergences.

    The LM head runs on chunks of ``chunk_elements // V`` positions (large enough to reuse the head's
    weights across many rows); the log-softmax and the metrics then walk that chunk in slices of
    ``metric_elements // V`` positions, small enough to stay in cache across their several passes.
    """
    n = int(batch.targets.numel())
    chunks = [m.scored_positions(batch) for m in models]
    vocab = max(m.model.config.vocab_size for m in models)
    step = max(1, chunk_elements // vocab)
    sub = max(1, min(step, metric_elements // vocab))
    targets = batch.targets.to(models[0].device)
    parts: dict[str, list[torch.Tensor]] = {}

    def keep(name: str, value: torch.Tensor) -> None:
        parts.setdefault(name, []).append(value.cpu())

    for lo in range(0, n, step):
        hi = min(n, lo + step)
        logits = [chunk(lo, hi) for chunk in chunks]
        for a in range(0, hi - lo, sub):
            b = min(hi - lo, a + sub)
            raw = [x[a:b] for x in logits]
            distributions = []
            for i, x in enumerate(raw):
                surprisal, entropy, *dist = metrics.surprisal_and_entropy(
                    x, targets[lo + a: lo + b], keep_distribution=len(models) == 2)
                keep(f"surprisal{i}", surprisal)
                keep(f"entropy{i}", entropy)
                distributions.extend(dist)
            if len(models) == 2:
                (logp, p), (logq, q) = distributions
                if logp.shape[-1] != logq.shape[-1]:
                    # same tokenizer, differently padded embedding tables: compare the distributions
                    # renormalised over the ids both models have (padding ids are never real tokens)
                    shared = min(logp.shape[-1], logq.shape[-1])
                    logp, logq = (metrics.log_probs(x[..., :shared]) for x in raw)
                    p, q = logp.exp(), logq.exp()
                kl_ed, kl_de, js = metrics.divergences(logp, logq, p, q)
                keep("kl_enc_dec", kl_ed)
                keep("kl_dec_enc", kl_de)
                keep("js", js)
    cat = lambda name: torch.cat(parts[name]) if name in parts else torch.zeros(0)  # noqa: E731
    out = TokenValues(surprisal=[cat(f"surprisal{i}") for i in range(len(models))],
                      entropy=[cat(f"entropy{i}") for i in range(len(models))])
    if len(models) == 2:
        out.kl_enc_dec, out.kl_dec_enc, out.js = cat("kl_enc_dec"), cat("kl_dec_enc"), cat("js")
    return out
