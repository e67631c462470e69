"""An independent, deliberately slow reference: one window per forward pass, full logits, formulas spelled out.

Shares nothing with datacomp.scoring: tokenisation, windowing, softmax and aggregation are redone here
from the documented rules (prefix BOS, each token scored once; the window containing target t ends at
``window`` if t < window, else at the first ``window + k * stride`` past t, capped at the length).
"""

from __future__ import annotations

import math

import numpy as np
import torch


def token_ids(tokenizer, text):
    ids = tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    return [bos, *ids]


def window_bounds(t, length, window, stride):
    """(start, end) of the window that scores target position t of a sequence of ``length``."""
    if t < window:
        end = min(window, length)
    else:
        end = min(window + math.ceil((t - window + 1) / stride) * stride, length)
    return max(0, end - window), end


@torch.no_grad()
def naive_distributions(model, sequence, window, stride):
    """Per target position t = 1..L-1: the float32 probability vector p(. | window context)."""
    cache = {}
    out = []
    for t in range(1, len(sequence)):
        start, end = window_bounds(t, len(sequence), window, stride)
        if (start, end) not in cache:
            x = torch.tensor([sequence[start:end]])
            logits = model(input_ids=x).logits[0].float()
            exp = torch.exp(logits - logits.max(dim=-1, keepdim=True).values)
            cache[(start, end)] = exp / exp.sum(dim=-1, keepdim=True)
        out.append(cache[(start, end)][t - 1 - start])
    return torch.stack(out).double()


def naive_scores(model, tokenizer, text, window, stride):
    sequence = token_ids(tokenizer, text)
    p = naive_distributions(model, sequence, window, stride)
    targets = torch.tensor(sequence[1:])
    surprisal = -torch.log(p[torch.arange(len(targets)), targets]).numpy()
    entropy = -(p * torch.log(p)).sum(-1).numpy()
    return {"n_tokens": len(targets), "surprisal_mean": surprisal.mean(), "surprisal_std": surprisal.std(),
            "entropy_mean": entropy.mean(), "entropy_std": entropy.std(),
            "bits_per_byte": surprisal.sum() / math.log(2) / len(text.encode("utf-8")), "p": p}


def naive_gap(p, q):
    """Mean KL both ways and mean/std JS between two (T, V) probability tables."""
    kl_pq = (p * (torch.log(p) - torch.log(q))).sum(-1).numpy()
    kl_qp = (q * (torch.log(q) - torch.log(p))).sum(-1).numpy()
    m = (p + q) / 2
    js = (0.5 * (p * torch.log(p / m)).sum(-1) + 0.5 * (q * torch.log(q / m)).sum(-1)).numpy()
    return {"kl_enc_dec": kl_pq.mean(), "kl_dec_enc": kl_qp.mean(), "js": js.mean(), "js_std": np.std(js)}
