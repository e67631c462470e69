"""Correlations for the report, as pure functions of arrays: Pearson, Spearman, Kendall tau-b, partial
correlations on domain and length, and which of two predictors is the stronger.

Every interval and p-value comes from one BCa bootstrap over the rows (bootstrap.py), so a CI that
excludes 0 and p < 1 - confidence are the same statement; scipy's classical p-value (t approximation for
Pearson/Spearman, tau-b's normal approximation or exact test) is kept beside it as ``p_classical``, and
stands in, capped at 2 / (n_boot + 1), where 0 lies beyond every resample (the bootstrap cannot size so
small a p, and a p-value at its resolution would fail every family correction).
Partial correlations residualise x and y on the covariates (with an intercept) by least squares and
correlate the residuals; the Spearman variant ranks x, y and the numeric covariates first (pingouin's
definition), inside every resample. Nothing here returns NaN for "undefined": the estimate is None and
``note`` says why (n too small, constant input).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np
from scipy import stats as sps

from datacomp.analysis.bootstrap import Bootstrap, bca
from datacomp.analysis.regression import rare_variation

CORRELATION_METHODS = ("pearson", "spearman", "kendall")


def _as_float(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1)


def finite_rows(*columns: np.ndarray) -> np.ndarray:
    """Boolean mask of rows where every column is finite."""
    mask = np.ones(len(columns[0]), dtype=bool)
    for column in columns:
        column = np.asarray(column, dtype=float)
        mask &= np.isfinite(column) if column.ndim == 1 else np.isfinite(column).all(axis=1)
    return mask


def _is_constant(values: np.ndarray) -> bool:
    return values.size == 0 or bool(np.all(values == values[0]))


def _undefined_reason(named: dict[str, np.ndarray], n: int, min_n: int) -> str | None:
    if n < min_n:
        return f"n={n} is below the minimum of {min_n} complete pairs"
    for name, values in named.items():
        if _is_constant(values):
            return f"{name} is constant (every value is {values[0]:.6g}): the correlation is undefined"
    return None


def _clean(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def resample_ranks(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Average ranks within each resample ``values[index[r]]`` (ties, including repeated draws of one
    element, share their mean rank), equal to ``scipy.stats.rankdata(values[index], axis=-1)``.

    Computed from the original order in O(b n) without sorting each resample: count the draws of every
    distinct value per row; a value's rank is the draws strictly below it plus (its count + 1) / 2.
    """
    _, group_of = np.unique(values, return_inverse=True)  # ids ordered by value; equal values share an id
    n_groups = int(group_of.max()) + 1 if group_of.size else 0
    draws = group_of.reshape(-1)[index]
    rows = index.shape[0]
    offsets = (np.arange(rows) * n_groups)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=rows * n_groups).reshape(rows, n_groups)
    average = np.cumsum(counts, axis=1) - counts + (counts + 1) / 2.0
    return np.take_along_axis(average, draws, axis=1)


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of two (b, n) matrices; NaN where a row is constant."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    denominator = np.sqrt((xc * xc).sum(axis=-1) * (yc * yc).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (xc * yc).sum(axis=-1) / np.where(denominator > 0, denominator, 1), np.nan)


def kendall_rows(x: np.ndarray, y: np.ndarray, index: np.ndarray, max_elements: int = 2_000_000) -> np.ndarray:
    """Kendall's tau-b within each resample row: sum over pairs of sign(dx) sign(dy), divided by the square
    root of (pairs untied in x) (pairs untied in y), as scipy.stats.kendalltau; NaN where x or y is constant.
    O(k^2) per row, in row blocks of at most ``max_elements`` pair cells."""
    rows, k = index.shape
    out = np.empty(rows)
    step = max(1, max_elements // max(k * k, 1))
    for lo in range(0, rows, step):
        block = index[lo:lo + step]
        xs, ys = x[block], y[block]
        sx = np.sign(xs[:, :, None] - xs[:, None, :])
        sy = np.sign(ys[:, :, None] - ys[:, None, :])
        untied = np.sqrt(np.count_nonzero(sx, axis=(1, 2)).astype(float) * np.count_nonzero(sy, axis=(1, 2)))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo:lo + step] = np.where(untied > 0, (sx * sy).sum(axis=(1, 2)) / np.where(untied > 0, untied, 1),
                                         np.nan)
    return out


def correlation_rows(x: np.ndarray, y: np.ndarray, index: np.ndarray, method: str) -> np.ndarray:
    """The correlation within each resample row ``index[r]`` of x, y, vectorised over rows. NaN for a
    resample in which x or y is constant."""
    if method == "pearson":
        return pearson_rows(x[index], y[index])
    if method == "spearman":
        return pearson_rows(resample_ranks(x, index), resample_ranks(y, index))
    return kendall_rows(x, y, index)


def _classical_p(x: np.ndarray, y: np.ndarray, method: str) -> float:
    test = {"pearson": sps.pearsonr, "spearman": sps.spearmanr, "kendall": sps.kendalltau}[method]
    return float(test(x, y).pvalue)


@dataclasses.dataclass(frozen=True)
class Correlation:
    """One correlation test. ``estimate`` is None (with ``note``) when it is undefined."""

    method: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None          # the BCa bootstrap's achieved significance: agrees with the CI
    n: int
    confidence: float
    ci_method: str
    covariates: tuple[str, ...] = ()
    note: str | None = None
    p_classical: float | None = None   # scipy's (correlation) or the t test with n - 2 - k df (partial)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["covariates"] = list(self.covariates)
        return out


def _from_bootstrap(label: str, boot: Bootstrap, n: int, confidence: float, seed: int,
                    covariates: tuple[str, ...] = (), p_classical: float | None = None) -> Correlation:
    """The BCa result as a Correlation. When 0 lies beyond every resample the bootstrap cannot size p;
    then p is the classical p capped at 2 / (n_boot + 1), below every level the interval excludes 0 at."""
    p_value, note = boot.p_value, None
    if boot.p_extrapolated and p_classical is not None:
        p_value = min(float(p_classical), 2.0 / (boot.n_boot + 1))
        note = f"0 lies beyond every resample: p is the classical p, capped at 2/(n_boot + 1) = {2 / (boot.n_boot + 1):.2g}"
    return Correlation(label, _clean(boot.estimate), boot.ci_low, boot.ci_high, _clean(p_value), n, confidence,
                       boot.method_text("pairs", seed), covariates, note, _clean(p_classical))


def correlation(x: Sequence[float], y: Sequence[float], method: str = "spearman", n_boot: int = 1000,
                seed: int = 0, confidence: float = 0.95, min_n: int = 5) -> Correlation:
    """Pearson, Spearman or Kendall (tau-b) correlation with its BCa interval and agreeing p-value.

    Rows where x or y is missing/non-finite are dropped first; ``n`` counts the complete pairs.
    """
    if method not in CORRELATION_METHODS:
        raise ValueError(f"unknown correlation method {method!r}; choose one of {CORRELATION_METHODS}")
    x, y = _as_float(x), _as_float(y)
    keep = finite_rows(x, y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    reason = _undefined_reason({"x": x, "y": y}, n, min_n)
    if reason:
        return Correlation(method, None, None, None, None, n, confidence, "none", note=reason)
    boot = bca(lambda index: correlation_rows(x, y, index, method), n, n_boot=n_boot, seed=seed,
               confidence=confidence)
    return _from_bootstrap(method, boot, n, confidence, seed, p_classical=_classical_p(x, y, method))


def covariate_matrix(log_length: Sequence[float] | None = None,
                     domain: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Covariates for partial correlations: log length and one 0/1 column per domain but the first.

    Columns that do not vary are left out: a single domain, or a log length that is constant or varies in
    fewer than 5% of the rows (regression.rare_variation: controlling for it would change nothing but rest
    on those few rows). Returns (matrix (n, k), column names); ``dropped_covariates`` says what was left out.
    """
    columns: list[np.ndarray] = []
    names: list[str] = []
    if log_length is not None:
        values = _as_float(log_length)
        if rare_variation(values[np.isfinite(values)]) is None:
            columns.append(values)
            names.append("log_length")
    if domain is not None:
        labels = np.asarray([str(d) for d in domain])
        for level in sorted(set(labels.tolist()))[1:]:
            columns.append((labels == level).astype(float))
            names.append(f"domain[{level}]")
    n = len(columns[0]) if columns else (len(domain) if domain is not None else
                                         len(log_length) if log_length is not None else 0)
    matrix = np.column_stack(columns) if columns else np.empty((n, 0))
    return matrix, names


def dropped_covariates(log_length: Sequence[float] | None) -> list[str]:
    """"log length (varies in 1 of 100 rows, under 5%)" when covariate_matrix leaves it out, else []."""

    if log_length is None:
        return []
    values = _as_float(log_length)
    reason = rare_variation(values[np.isfinite(values)])
    return [] if reason is None else [f"log length ({reason})"]


def residualise(values: np.ndarray, covariates: np.ndarray) -> np.ndarray:
    """Residuals of least-squares fits of ``values`` on [1, covariates]; batched over leading axes.

    ``values`` (..., n) and ``covariates`` (..., n, k). The pseudo-inverse keeps resamples in which a
    covariate column happens to be constant (a domain left out) well defined.
    """
    values = np.asarray(values, dtype=float)
    covariates = np.asarray(covariates, dtype=float)
    design = np.concatenate([np.ones(covariates.shape[:-1] + (1,)), covariates], axis=-1)
    coef = np.linalg.pinv(design) @ values[..., None]
    return values - (design @ coef)[..., 0]


def partial_rows(x: np.ndarray, y: np.ndarray, covariates: np.ndarray, index: np.ndarray,
                 spearman: bool) -> np.ndarray:
    """Partial correlation of x and y given the covariates, within each resample row of ``index``.

    Spearman ranks x, y and every numeric covariate within the resample; 0/1 columns (domains) are used as
    they are, since ranking a two-valued column is an affine map spanning the same space.
    """
    if spearman:
        xs, ys = resample_ranks(x, index), resample_ranks(y, index)
        columns = [resample_ranks(covariates[:, j], index) if np.unique(covariates[:, j]).size > 2
                   else covariates[:, j][index] for j in range(covariates.shape[1])]
    else:
        xs, ys = x[index], y[index]
        columns = [covariates[:, j][index] for j in range(covariates.shape[1])]
    design = np.stack(columns, axis=-1) if columns else np.empty(index.shape + (0,))
    return pearson_rows(residualise(xs, design), residualise(ys, design))


def partial_correlation(x: Sequence[float], y: Sequence[float], covariates: np.ndarray,
                        covariate_names: Sequence[str] = (), method: str = "spearman",
                        n_boot: int = 1000, seed: int = 0, confidence: float = 0.95,
                        min_n: int = 5) -> Correlation:
    """Correlation of x and y after removing what the covariates explain (linearly, or on ranks).

    ``p_classical``: t = r sqrt(df / (1 - r^2)) with df = n - 2 - k, k the rank of the covariate block.
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"partial correlation supports pearson and spearman, not {method!r}")
    x, y = _as_float(x), _as_float(y)
    covariates = np.asarray(covariates, dtype=float).reshape(len(x), -1)
    keep = finite_rows(x, y, covariates)
    x, y, covariates = x[keep], y[keep], covariates[keep]
    n = int(x.size)
    k = int(np.linalg.matrix_rank(covariates)) if covariates.shape[1] else 0
    label = f"partial-{method}"
    names = tuple(covariate_names)
    reason = _undefined_reason({"x": x, "y": y}, n, max(min_n, k + 4))
    spearman = method == "spearman"
    if reason is None:
        estimate = float(partial_rows(x, y, covariates, np.arange(n)[None, :], spearman)[0])
        if not math.isfinite(estimate):
            reason = "x or y is fully explained by the covariates: the partial correlation is undefined"
    if reason:
        return Correlation(label, None, None, None, None, n, confidence, "none", names, note=reason)
    df = n - 2 - k
    t = math.inf if abs(estimate) >= 1 else estimate * math.sqrt(df / (1 - estimate**2))
    boot = bca(lambda index: partial_rows(x, y, covariates, index, spearman), n, n_boot=n_boot, seed=seed,
               confidence=confidence, max_elements=500_000)
    return _from_bootstrap(label, boot, n, confidence, seed, names, float(2 * sps.t.sf(abs(t), df)))


def partial_estimate(x: Sequence[float], y: Sequence[float], covariates: np.ndarray, method: str = "spearman"
                     ) -> float | None:
    """The partial correlation's point estimate alone (no interval): to see how much one covariate moves it."""
    x, y = _as_float(x), _as_float(y)
    covariates = np.asarray(covariates, dtype=float).reshape(len(x), -1)
    keep = finite_rows(x, y, covariates)
    n = int(keep.sum())
    if n < covariates.shape[1] + 4:
        return None
    return _clean(float(partial_rows(x[keep], y[keep], covariates[keep], np.arange(n)[None, :],
                                     method == "spearman")[0]))


@dataclasses.dataclass(frozen=True)
class PredictorComparison:
    """Which of two predictors is more strongly (in absolute value) correlated with the outcome."""

    first: str
    second: str
    method: str
    first_estimate: float | None
    second_estimate: float | None
    difference: float | None           # |r_first| - |r_second|
    ci_low: float | None
    ci_high: float | None
    n: int
    confidence: float
    ci_method: str
    stronger: str | None               # the stronger predictor when the CI excludes 0, else None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def compare_predictors(y: Sequence[float], first: Sequence[float], second: Sequence[float],
                       names: tuple[str, str] = ("first", "second"), method: str = "spearman",
                       n_boot: int = 1000, seed: int = 0, confidence: float = 0.95,
                       min_n: int = 5) -> PredictorComparison:
    """BCa bootstrap of |corr(y, first)| - |corr(y, second)| on the same resampled rows."""
    if method not in ("pearson", "spearman"):
        raise ValueError(f"compare_predictors supports pearson and spearman, not {method!r}")
    y, a, b = _as_float(y), _as_float(first), _as_float(second)
    keep = finite_rows(y, a, b)
    y, a, b = y[keep], a[keep], b[keep]
    n = int(y.size)
    reason = _undefined_reason({"outcome": y, names[0]: a, names[1]: b}, n, min_n)
    if reason:
        return PredictorComparison(names[0], names[1], method, None, None, None, None, None, n,
                                   confidence, "none", None, reason)
    whole = np.arange(n)[None, :]
    ra, rb = (float(correlation_rows(v, y, whole, method)[0]) for v in (a, b))
    boot = bca(lambda index: np.abs(correlation_rows(a, y, index, method))
               - np.abs(correlation_rows(b, y, index, method)), n, n_boot=n_boot, seed=seed, confidence=confidence)
    stronger = None
    if boot.ci_low is not None and boot.ci_low > 0:
        stronger = names[0]
    elif boot.ci_high is not None and boot.ci_high < 0:
        stronger = names[1]
    return PredictorComparison(names[0], names[1], method, _clean(ra), _clean(rb), _clean(abs(ra) - abs(rb)),
                               boot.ci_low, boot.ci_high, n, confidence, boot.method_text("pairs", seed), stronger)
