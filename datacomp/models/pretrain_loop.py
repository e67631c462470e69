"""The pretraining loop of reference models (``pretrain.py`` prepares data and model, evaluates and saves):
AdamW with decoupled weight decay on matrices, linear warm-up then cosine (or constant) decay by step or by
wall-clock budget, global-norm clipping, synthetic induction rows first, the restated-segment curve."""

from __future__ import annotations

import math
import time

import numpy as np

from datacomp.models.copy_test import copy_test
from datacomp.models.pretrain_data import MixtureSampler
from datacomp.models.unigram import unigram_counts
from datacomp.progress import progress_bar

DEFAULT_STEPS = 500  # ~3 minutes of the default shape on a busy 2-core CPU; --minutes sets a time budget


def learning_rate(step: int, total: int | None, config, progress: float | None = None) -> float:
    """Linear warm-up to the peak, then cosine decay to ``min_lr_ratio`` of it at ``total`` steps, or, under
    a time budget (``total`` None), at ``progress`` = 1, the share of the post-warm-up time used."""
    warmup = config.warmup_steps if total is None else min(config.warmup_steps, max(total // 10, 1))
    if step < warmup:
        return config.learning_rate * (step + 1) / warmup
    if progress is None:
        progress = 0.0 if total is None else (step - warmup) / max(total - warmup, 1)
    progress = min(max(progress, 0.0), 1.0)
    floor = config.learning_rate * config.min_lr_ratio
    return floor + 0.5 * (config.learning_rate - floor) * (1 + math.cos(math.pi * progress))


def autocast_for(precision: str):
    """The forward's context factory for ``precision`` on the CPU (``Precision.autocast``), resolved once."""
    from datacomp.models.precision import resolve_precision

    return resolve_precision(precision, "cpu").autocast


def total_steps(config) -> int | None:
    """Optimiser steps: ``steps``, else None under a ``minutes`` budget, else DEFAULT_STEPS."""
    return config.steps or (None if config.minutes else DEFAULT_STEPS)


def train_steps(model, sampler: MixtureSampler, config, precision: str, vocab_size: int,
           alphabet: np.ndarray, start_token: int, copy_rows: np.ndarray | None = None):
    import torch
    import torch.nn.functional as F

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate, betas=(0.9, 0.95), eps=1e-8)
    total = total_steps(config)
    autocast = autocast_for(precision)
    budget = None if total else config.minutes * 60  # seconds; the run stops once they are used
    counts = np.zeros(vocab_size, dtype=np.int64)
    per_domain = np.zeros(len(sampler.domains), dtype=np.int64)
    synthetic_tokens = 0
    copy_curve: list[list[float]] = []  # [step, first NLL, restated NLL]
    losses: list[float] = []
    model.train()
    step = 0
    smoothed = progress = None
    with progress_bar(f"pretrain {config.name}", total=total, unit="steps") as bar:
        start = warmed_up = time.perf_counter()
        while total is None or step < total:
            if budget is not None:
                # Under a time budget the cosine runs on wall-clock time, so it ends when the budget does
                # whatever the machine's load; the step count is whatever fitted in.
                now = time.perf_counter()
                if step > 0 and now - start >= budget:
                    break
                if step <= config.warmup_steps:
                    warmed_up = now
                else:
                    progress = (now - warmed_up) / max(budget - (warmed_up - start), 1e-9)
                    bar.set_total(int(step / max((now - start) / budget, 1e-9)))
            lr = learning_rate(step, total, config, progress)
            for group in optimizer.param_groups:
                group["lr"] = lr
            synthetic = step < config.induction_warmup_steps
            batch, rows = sampler.next_batch(alphabet if synthetic else None, start_token)
            batch_t = torch.from_numpy(batch)
            inputs, targets = batch_t[:, :-1], batch_t[:, 1:]
            with autocast():
                logits = model(input_ids=inputs).logits
            loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            counts += unigram_counts(batch[~sampler.restated, 1:], vocab_size)  # natural text only
            if synthetic:
                synthetic_tokens += batch.shape[0] * (batch.shape[1] - 1)
            else:
                per_domain += np.bincount(rows, minlength=len(sampler.domains)) * (batch.shape[1] - 1)
            value = float(loss.detach())
            losses.append(value)
            smoothed = value if smoothed is None else 0.95 * smoothed + 0.05 * value
            step += 1
            bar.advance(1, loss=smoothed, lr=lr)
            if config.copy_test_every and copy_rows is not None and step % config.copy_test_every == 0:
                tested = copy_test(model, copy_rows, autocast=autocast)
                copy_curve.append([step, round(tested.first_nll, 4), round(tested.restated_nll, 4)])
    model.eval()
    every = max(len(losses) // 50, 1)  # keep ~50 points of the curve for the record
    return {
        "steps": step, "tokens_seen": int(step * sampler.batch_size * sampler.context),
        "seconds": time.perf_counter() - start, "unigram_counts": counts,
        "final_loss": float(np.mean(losses[-10:])), "losses": losses,
        "loss_curve": [[i, round(float(np.mean(losses[i:i + every])), 4)] for i in range(0, len(losses), every)],
        "copy_curve": copy_curve,
        "tokens_per_domain": {d: int(n) for d, n in zip(sampler.domains, per_domain)}
                             | ({"(synthetic)": synthetic_tokens} if synthetic_tokens else {}),
    }


def validation_perplexity(model, windows: list[np.ndarray], precision: str = "fp32",
                          batch_size: int = 32) -> tuple[float, int]:
    """exp(mean next-token NLL) of ``model`` over the windows' targets (every token but each window's first)."""
    import torch
    import torch.nn.functional as F

    total_nll, total_tokens = 0.0, 0
    autocast = autocast_for(precision)
    model.eval()
    by_length: dict[int, list[np.ndarray]] = {}
    for window in windows:
        by_length.setdefault(len(window), []).append(window)
    with torch.no_grad():
        for group in by_length.values():
            for start in range(0, len(group), batch_size):
                batch = torch.from_numpy(np.stack(group[start:start + batch_size]))
                with autocast():
                    logits = model(input_ids=batch[:, :-1]).logits
                nll = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1),
                                      reduction="sum")
                total_nll += float(nll)
                total_tokens += batch[:, 1:].numel()
    if total_tokens == 0:
        return float("nan"), 0
    return math.exp(total_nll / total_tokens), total_tokens
