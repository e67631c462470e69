"""The report's methods section: how every statistic, outcome and verdict word is computed, stated once.
``{conf}``, ``{n_boot}``, ``{seed}``, ``{correction}``, ``{alpha}`` and ``{level}`` are filled in from the
report's configuration (report._provenance)."""

from __future__ import annotations

from datacomp.analysis.findings import STRATUM_MIN_N, STRATUM_MIN_NONZERO
from datacomp.analysis.verdicts import RULES as VERDICT_RULES

STRATUM_RULE = (f"Strata (one domain's Spearman): a test needs n >= {STRATUM_MIN_N} documents and "
                f"{STRATUM_MIN_NONZERO} or more non-zero quality values (a floor of zeros leaves few values to "
                "rank); below either it is descriptive, its estimate printed without interval or p. Above, the "
                "p-value is a permutation test's ({n_boot} permutations of the pairing), not the bootstrap's, "
                "with the BCa interval beside it.")

STATISTICS_TEXT = [
    "Intervals and p-values: one BCa bootstrap per statistic ({n_boot} resamples of documents, seed {seed}; "
    "checked against scipy.stats.bootstrap); the p-value is the interval's achieved significance level, so a "
    "{conf} CI excludes 0 exactly when p < {level}. scipy's classical p is kept in report.json (p_classical).",
    "Families: one primary test per question, adjusted ({correction}) within each compressor's (or gap sweep's) "
    "family, so adding an unrelated compressor never changes another's adjusted p; significant means adjusted "
    "p < {alpha}. Pearson and Kendall (sensitivity), per-domain correlations (strata) and regression slopes "
    "(effect sizes) are printed outside the families with unadjusted p.",
    "Associations: Spearman pooled over documents, and the partial Spearman within domains (ranks residualised "
    "on domain indicators and ranked log length). An entropy finding is reproduced only when both hold.",
    "Outcome: every data-centric finding (entropy, surprisal, gap, domain) is tested on the compression loss, "
    "full-context quality minus the compressor's on the same example, where the full baseline ran; raw quality "
    "and full-context quality (difficulty) are tested beside it (role 'beside', outside the family), and system "
    "quality is also regressed with the same example's full-context quality as a covariate. A verdict says "
    "'predicts compression loss' or 'predicts difficulty (full context) but not the loss'. The retained share "
    "is mean(system) / mean(full).",
    "Method choice: 'use X' only where the paired comparisons agree on every metric in the paired table; empty "
    "outputs (no letter or digit) and distinct outputs are counted per system, and a system with one output for "
    "every example is flagged degenerate.",
    VERDICT_RULES,
    STRATUM_RULE,
    "Predictors: entropy, surprisal, bits/byte and the encoder-decoder gap of exactly the evaluated window "
    "(window_scores: one forward per model per example) and its length in tokens, where stored; otherwise the "
    "whole document's, with a warning in the findings section.",
    "Regression: one OLS per predictor with domain and log length, HC3 standard errors and t inference "
    "(n - p df); a joint model only beside its VIFs, with a warning above 5. The knowledge-gap sweep pools the "
    "same documents under several decoders: its errors are clustered by document (t with G - 1 df).",
    "Thresholds: inverse prediction of the one-predictor model, domain and length at their sample mix; the "
    "interval is Fieller's (where the {conf} mean-prediction band crosses the target).",
    "Paired comparisons: systems run on the same examples are compared example by example (BCa bootstrap of the "
    "mean difference resampling documents, Wilcoxon signed-rank p beside it); gains (system - none) / (full - "
    "none) carry a paired CI and are reported only where full - none is above 0.",
    "Means per system, domain and bin: BCa intervals, so bounded metrics keep their bounds; the share of exact "
    "zeros is printed beside them (a floor). Domains: Kruskal-Wallis H test (scipy.stats.kruskal).",
    "NLL reduction (quality metric nll_reduction): 1 - target NLL / the no-context baseline's target NLL on the "
    "same example, teacher-forced over the target tokens and the closing eos. The floor is the plain decoder: for "
    "methods that tune the decoder (COMI, an autoencoder with decoder_lora) part of the reduction is the tuning "
    "(answer format, where to stop), not the memory. Per-example ratios are heavy-tailed where the floor is small.",
    "Entropy is the mean over the scored tokens of the model's predictive entropy -sum p log p (nats/token); "
    "surprisal is the mean cross-entropy of the actual next token. Quality is averaged over a document's examples.",
]
