"""Statistics for the report, as pure functions of arrays: correlations, partial correlations, OLS,
multiple-testing corrections, binned means, inverse prediction (the threshold guideline).

Choices, written down once:
- Confidence intervals of correlations are **percentile bootstrap** intervals: pairs (rows) resampled with
  replacement, ``n_boot`` resamples from ``numpy.random.default_rng(seed)``, so the same seed gives the same
  interval. Resamples in which a variable is constant (the statistic is undefined) are dropped and counted.
- p-values of correlations come from scipy (``pearsonr``: exact t test; ``spearmanr``: t approximation;
  ``kendalltau``: tau-b, exact for small untied samples, normal approximation otherwise).
- Partial correlations residualise x and y on the covariates (with an intercept) by least squares and
  correlate the residuals; the Spearman variant ranks x, y and the numeric covariates first (the same
  definition pingouin uses). The p-value is the t test with n - 2 - k degrees of freedom (k covariate
  columns); the CI is the percentile bootstrap, residualising inside every resample.
- OLS uses statsmodels with HC3 heteroscedasticity-robust standard errors (normal-based CIs and p-values,
  statsmodels' default for robust covariances).
- Nothing here returns NaN for "undefined": results carry ``None`` and a ``note`` saying why
  (n too small, constant input).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np
from scipy import stats as sps

CORRELATION_METHODS = ("pearson", "spearman", "kendall")


# ----------------------------------------------------------------------------- helpers
def _as_float(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1)


def _finite_rows(*columns: np.ndarray) -> np.ndarray:
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
    """A finite Python float, or None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _percentile_interval(draws: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return None, None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def resample_ranks(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Average ranks within each bootstrap resample ``values[index[r]]`` (ties, including repeated draws of
    one element, share their mean rank), equal to ``scipy.stats.rankdata(values[index], axis=-1)``.

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


def _statistic_rows(x: np.ndarray, y: np.ndarray, index: np.ndarray, method: str) -> np.ndarray:
    """The correlation within each resample row ``index[r]`` of the original x, y (vectorised for Pearson and
    Spearman, a loop over rows for Kendall). NaN for a resample in which x or y is constant."""
    if method == "pearson":
        return pearson_rows(x[index], y[index])
    if method == "spearman":
        return pearson_rows(resample_ranks(x, index), resample_ranks(y, index))
    out = np.empty(index.shape[0])
    for i, rows in enumerate(index):
        xb, yb = x[rows], y[rows]
        out[i] = np.nan if _is_constant(xb) or _is_constant(yb) else sps.kendalltau(xb, yb).statistic
    return out


def _chunks(index: np.ndarray, max_elements: int = 4_000_000) -> list[np.ndarray]:
    """Split the (n_boot, n) resample matrix into row blocks so peak memory stays bounded for large n."""
    n_parts = max(1, -(-index.size // max_elements))
    return np.array_split(index, n_parts)


def _point_and_p(x: np.ndarray, y: np.ndarray, method: str) -> tuple[float, float]:
    if method == "pearson":
        result = sps.pearsonr(x, y)
    elif method == "spearman":
        result = sps.spearmanr(x, y)
    else:
        result = sps.kendalltau(x, y)
    return float(result.statistic), float(result.pvalue)


# ----------------------------------------------------------------------------- correlations
@dataclasses.dataclass(frozen=True)
class Correlation:
    """One correlation test. ``estimate`` is None (with ``note``) when it is undefined."""

    method: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n: int
    confidence: float
    ci_method: str
    covariates: tuple[str, ...] = ()
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["covariates"] = list(self.covariates)
        return out


def _ci_method_text(n_boot: int, seed: int, dropped: int) -> str:
    text = f"percentile bootstrap, {n_boot} resamples of pairs, seed {seed}"
    if dropped:
        text += f" ({dropped} degenerate resamples dropped)"
    return text


def correlation(x: Sequence[float], y: Sequence[float], method: str = "spearman", n_boot: int = 1000,
                seed: int = 0, confidence: float = 0.95, min_n: int = 5) -> Correlation:
    """Pearson, Spearman or Kendall (tau-b) correlation with a percentile-bootstrap CI and scipy's p-value.

    Rows where x or y is missing/non-finite are dropped first; ``n`` counts the complete pairs.
    """
    if method not in CORRELATION_METHODS:
        raise ValueError(f"unknown correlation method {method!r}; choose one of {CORRELATION_METHODS}")
    x, y = _as_float(x), _as_float(y)
    keep = _finite_rows(x, y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    reason = _undefined_reason({"x": x, "y": y}, n, min_n)
    if reason:
        return Correlation(method, None, None, None, None, n, confidence, "none", note=reason)
    estimate, p_value = _point_and_p(x, y, method)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, n, size=(n_boot, n))
    draws = np.concatenate([_statistic_rows(x, y, chunk, method) for chunk in _chunks(index)])
    low, high = _percentile_interval(draws, confidence)
    dropped = int(np.sum(~np.isfinite(draws)))
    return Correlation(method, _clean(estimate), low, high, _clean(p_value), n, confidence,
                       _ci_method_text(n_boot, seed, dropped))


def covariate_matrix(log_length: Sequence[float] | None = None,
                     domain: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Covariates for partial correlations: log length and one 0/1 column per domain but the first.

    Constant columns are left out (a single domain adds nothing). Returns (matrix (n, k), column names).
    """
    columns: list[np.ndarray] = []
    names: list[str] = []
    if log_length is not None:
        values = _as_float(log_length)
        if not _is_constant(values):
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


def _partial_r(x: np.ndarray, y: np.ndarray, covariates: np.ndarray, index: np.ndarray,
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

    p-value: t = r sqrt(df / (1 - r^2)) with df = n - 2 - k, where k is the rank of the covariate block.
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"partial correlation supports pearson and spearman, not {method!r}")
    x, y = _as_float(x), _as_float(y)
    covariates = np.asarray(covariates, dtype=float).reshape(len(x), -1)
    keep = _finite_rows(x, y, covariates)
    x, y, covariates = x[keep], y[keep], covariates[keep]
    n = int(x.size)
    k = int(np.linalg.matrix_rank(covariates)) if covariates.shape[1] else 0
    label = f"partial-{method}"
    names = tuple(covariate_names)
    reason = _undefined_reason({"x": x, "y": y}, n, max(min_n, k + 4))
    if reason is None:
        spearman = method == "spearman"
        estimate = float(_partial_r(x, y, covariates, np.arange(n)[None, :], spearman)[0])
        if not math.isfinite(estimate):
            reason = "x or y is fully explained by the covariates: the partial correlation is undefined"
    if reason:
        return Correlation(label, None, None, None, None, n, confidence, "none", names, note=reason)
    df = n - 2 - k
    if abs(estimate) >= 1:
        p_value = 0.0
    else:
        t = estimate * math.sqrt(df / (1 - estimate**2))
        p_value = float(2 * sps.t.sf(abs(t), df))
    rng = np.random.default_rng(seed)
    index = rng.integers(0, n, size=(n_boot, n))
    draws = np.concatenate([_partial_r(x, y, covariates, chunk, spearman) for chunk in _chunks(index, 500_000)])
    low, high = _percentile_interval(draws, confidence)
    dropped = int(np.sum(~np.isfinite(draws)))
    return Correlation(label, _clean(estimate), low, high, _clean(p_value), n, confidence,
                       _ci_method_text(n_boot, seed, dropped), names)


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
    """Paired bootstrap of |corr(y, first)| - |corr(y, second)| on the same resampled rows."""
    if method not in ("pearson", "spearman"):
        raise ValueError(f"compare_predictors supports pearson and spearman, not {method!r}")
    y, a, b = _as_float(y), _as_float(first), _as_float(second)
    keep = _finite_rows(y, a, b)
    y, a, b = y[keep], a[keep], b[keep]
    n = int(y.size)
    reason = _undefined_reason({"outcome": y, names[0]: a, names[1]: b}, n, min_n)
    if reason:
        return PredictorComparison(names[0], names[1], method, None, None, None, None, None, n,
                                   confidence, "none", None, reason)
    ra, _ = _point_and_p(a, y, method)
    rb, _ = _point_and_p(b, y, method)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, n, size=(n_boot, n))
    diffs = np.concatenate([np.abs(_statistic_rows(a, y, chunk, method)) - np.abs(_statistic_rows(b, y, chunk, method))
                            for chunk in _chunks(index)])
    low, high = _percentile_interval(diffs, confidence)
    stronger = None
    if low is not None and low > 0:
        stronger = names[0]
    elif high is not None and high < 0:
        stronger = names[1]
    dropped = int(np.sum(~np.isfinite(diffs)))
    return PredictorComparison(names[0], names[1], method, _clean(ra), _clean(rb), _clean(abs(ra) - abs(rb)),
                               low, high, n, confidence, _ci_method_text(n_boot, seed, dropped), stronger)


# ----------------------------------------------------------------------------- multiple testing
def _valid_p(p_values: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    values = np.array([np.nan if p is None else float(p) for p in p_values], dtype=float)
    return values, np.flatnonzero(np.isfinite(values))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (family-wise error). Missing p-values stay None and are not
    counted in the family."""
    values, valid = _valid_p(p_values)
    out: list[float | None] = [None] * len(values)
    m = valid.size
    if m == 0:
        return out
    order = valid[np.argsort(values[valid], kind="stable")]
    running = 0.0
    for i, idx in enumerate(order):
        running = max(running, (m - i) * values[idx])
        out[idx] = min(1.0, running)
    return out


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg step-up adjusted p-values (false discovery rate); None stays None."""
    values, valid = _valid_p(p_values)
    out: list[float | None] = [None] * len(values)
    m = valid.size
    if m == 0:
        return out
    order = valid[np.argsort(values[valid], kind="stable")]
    running = 1.0
    for i in range(m - 1, -1, -1):
        idx = order[i]
        running = min(running, values[idx] * m / (i + 1))
        out[idx] = min(1.0, running)
    return out


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg}


def adjust(p_values: Sequence[float | None], correction: str = "holm") -> list[float | None]:
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; choose one of {sorted(CORRECTIONS)}")
    return CORRECTIONS[correction](p_values)


# ----------------------------------------------------------------------------- binned means
@dataclasses.dataclass(frozen=True)
class Bin:
    x_low: float
    x_high: float
    x_mean: float
    y_mean: float
    ci_low: float | None     # t interval of the bin's mean; None for a single observation
    ci_high: float | None
    n: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def binned_means(x: Sequence[float], y: Sequence[float], n_bins: int = 5,
                 confidence: float = 0.95) -> list[Bin]:
    """Mean of y within quantile bins of x, with a t confidence interval per bin.

    Bin edges are the x quantiles 0, 1/n_bins, ..., 1; repeated edges (heavy ties) merge bins, so fewer
    than ``n_bins`` bins may come back. The last bin includes its upper edge.
    """
    x, y = _as_float(x), _as_float(y)
    keep = _finite_rows(x, y)
    x, y = x[keep], y[keep]
    if x.size == 0:
        return []
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    bins = []
    for b in range(edges.size - 1):
        in_bin = which == b
        n = int(in_bin.sum())
        if n == 0:
            continue
        values = y[in_bin]
        mean = float(values.mean())
        low = high = None
        if n > 1:
            half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))
            low, high = mean - half, mean + half
        bins.append(Bin(float(edges[b]), float(edges[b + 1]), float(x[in_bin].mean()), mean, low, high, n))
    return bins


def describe(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, mean, std, min, p10, median, p90, max of the finite values (None when there are none)."""
    v = _as_float(values)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "mean": None, "std": None, "min": None, "p10": None, "median": None,
                "p90": None, "max": None}
    p10, median, p90 = np.percentile(v, [10, 50, 90])
    return {"n": int(v.size), "mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else None,
            "min": float(v.min()), "p10": float(p10), "median": float(median), "p90": float(p90),
            "max": float(v.max())}


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> dict[str, float | int | None]:
    """Mean with a t confidence interval (None bounds for n < 2)."""
    v = _as_float(values)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    mean = float(v.mean())
    if n < 2:
        return {"mean": mean, "ci_low": None, "ci_high": None, "n": n}
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": n}
