"""OLS with robust standard errors, variance inflation factors, and inverse prediction (the x at which
the fit reaches a target).

``ols`` fits ``response ~ numeric predictors + C(categorical)`` with statsmodels, after dropping rows
with a missing value and predictors that cannot be estimated: constant, a category with one level, or one
that varies in fewer than 5% of the rows (``RARE_SHARE``: its coefficient would rest on those few rows,
and controlling for it changes nothing else); what was dropped is listed in the result, never silent.
A fit whose standard errors are undefined (a singular design; a row of leverage 1, where HC3 divides by
(1 - h)^2 = 0; non-finite errors) keeps its coefficients but no standard error, interval or p, and its
``note`` says "not computed: REASON": a numerical failure never prints as a p-value. Standard errors are HC3 (heteroscedasticity-
robust), or cluster-robust (CRV1, statsmodels ``cov_type="cluster"``) when ``clusters`` is given: rows
of one document under several decoders are not independent, and HC3 would count each as new evidence.
Inference uses t, with n - p degrees of freedom (HC3) or G - 1 for G clusters, so small samples are not
read with normal quantiles. Intervals and p-values come from the same t, so they agree.

``vifs`` gives each regressor's variance inflation factor (statsmodels): above 5, the coefficients of a
joint model are not separately identified by these data and a slope's sign can flip against its raw
correlation, so the report fits one model per predictor and prints a joint model only with its VIFs.

``inverse_prediction`` solves predicted(x) = target for one predictor, holding every other regressor at
its sample mean (for a categorical this is the sample's mix of levels). Its interval is Fieller's: the set
of x whose confidence band for the mean prediction contains the target. It is a bounded interval only
when the slope is significantly non-zero at the same level; otherwise it is reported as unbounded.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import stats as sps

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RARE_SHARE = 0.05       # a regressor varying in fewer rows than this share is dropped (and said so)
LEVERAGE_ONE = 1 - 1e-8  # a hat value this close to 1: the row fits itself, HC3's (1 - h)^2 is 0


@dataclasses.dataclass(frozen=True)
class Term:
    term: str
    coef: float
    se: float | None          # None (with the fit's note) when the standard error is undefined
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class OlsFit:
    """A fitted model (``terms`` empty and ``note`` set when it could not be fitted)."""

    formula: str
    n: int
    terms: tuple[Term, ...]
    r2: float | None
    adj_r2: float | None
    confidence: float
    cov_type: str = "HC3"
    df: float | None = None                # degrees of freedom of the t inference
    n_clusters: int | None = None          # cluster-robust fits: the number of clusters (documents)
    dropped: tuple[str, ...] = ()          # predictors left out, each with its reason
    note: str | None = None
    # what inverse prediction needs: parameter order, estimates, covariance and regressor means
    exog_names: tuple[str, ...] = ()
    params: tuple[float, ...] = ()
    cov: tuple[tuple[float, ...], ...] = ()
    exog_means: tuple[float, ...] = ()

    def term(self, name: str) -> Term | None:
        return next((t for t in self.terms if t.term == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"formula": self.formula, "n": self.n, "r2": self.r2, "adj_r2": self.adj_r2,
                "confidence": self.confidence, "cov_type": self.cov_type, "df": self.df,
                "n_clusters": self.n_clusters, "dropped": list(self.dropped),
                "note": self.note, "terms": [t.to_dict() for t in self.terms]}


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"column name {name!r} cannot be used in a formula (letters, digits, _ only)")
    return name


def _frame(data: Mapping[str, Sequence[Any]], response: str, predictors: Sequence[str],
           categorical: Sequence[str], clusters: Sequence[Any] | None):
    import pandas as pd

    for name in (response, *predictors, *categorical):
        _check_name(name)
    frame = pd.DataFrame({name: list(data[name]) for name in (response, *predictors, *categorical)})
    for name in (response, *predictors):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    if clusters is not None:
        frame["_cluster"] = [str(c) for c in clusters]
    return frame.replace([np.inf, -np.inf], np.nan).dropna()


def rare_variation(values: Sequence[Any], share: float = RARE_SHARE) -> str | None:
    """Why a regressor cannot be controlled for: "constant", or "varies in k of n rows (under 5%)" when
    fewer than ``share`` of the rows differ from its most common value; None when it varies enough."""
    import pandas as pd

    counts = pd.Series(list(values)).value_counts()
    n = int(counts.sum())
    if counts.size < 2:
        return "constant"
    minority = n - int(counts.iloc[0])
    if minority < share * n:
        return f"varies in {minority} of {n} rows, under {share:.0%}"
    return None


def _undefined_errors(exog: np.ndarray, bse: np.ndarray, cov_type: str, ssr: float, tss: float) -> str | None:
    """Why the standard errors are undefined, or None."""
    rank = int(np.linalg.matrix_rank(exog))
    if rank < exog.shape[1]:
        return f"not computed: the design is singular (rank {rank} of {exog.shape[1]} columns: collinear regressors)"
    if cov_type == "HC3":
        leverage = np.sum(exog * np.linalg.pinv(exog).T, axis=1)
        ones = int(np.sum(leverage > LEVERAGE_ONE))
        if ones:
            return (f"not computed: {ones} row(s) with leverage 1 (a level or value held by one observation), "
                    "where HC3 standard errors are 0/0")
    if ssr <= 1e-12 * tss:
        return "not computed: zero residual variance (the regressors fit the response exactly)"
    if not np.all(np.isfinite(bse)) or np.any(bse <= 0):
        return "not computed: the standard errors are not finite (a degenerate design)"
    return None


def ols(data: Mapping[str, Sequence[Any]], response: str, predictors: Sequence[str],
        categorical: Sequence[str] = (), confidence: float = 0.95,
        clusters: Sequence[Any] | None = None) -> OlsFit:
    """Fit response ~ predictors + C(categorical) by OLS; HC3 standard errors, or cluster-robust ones by
    ``clusters`` (one label per row, e.g. the document); t inference either way."""
    import statsmodels.formula.api as smf

    frame = _frame(data, response, predictors, categorical, clusters)
    n = len(frame)
    dropped = []
    numeric = []
    for name in predictors:
        reason = rare_variation(frame[name])
        if reason:
            dropped.append(f"{name} ({reason})")
        else:
            numeric.append(name)
    cats = []
    for name in categorical:
        reason = rare_variation(frame[name].astype(str))
        if reason:
            dropped.append(f"C({name}) ({'a single level' if reason == 'constant' else reason})")
        else:
            cats.append(name)
    rhs = numeric + [f"C({name})" for name in cats]
    formula = f"{response} ~ " + (" + ".join(rhs) if rhs else "1")
    n_params = 1 + len(numeric) + sum(frame[c].astype(str).nunique() - 1 for c in cats)
    cov_type = "cluster" if clusters is not None else "HC3"
    n_clusters = int(frame["_cluster"].nunique()) if clusters is not None else None
    empty = dict(dropped=tuple(dropped), cov_type=cov_type, n_clusters=n_clusters)
    if n < n_params + 2:
        return OlsFit(formula, n, (), None, None, confidence, **empty,
                      note=f"n={n} complete rows is too few for {n_params} parameters")
    if frame[response].nunique() < 2:
        return OlsFit(formula, n, (), None, None, confidence, **empty, note=f"{response} is constant: nothing to explain")
    if n_clusters is not None and n_clusters < 3:
        return OlsFit(formula, n, (), None, None, confidence, **empty,
                      note=f"{n_clusters} clusters are too few for cluster-robust errors")
    for name in cats:
        frame[name] = frame[name].astype(str)
    model = smf.ols(formula, frame)
    if clusters is not None:
        codes = frame["_cluster"].astype("category").cat.codes.to_numpy()
        result = model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        df = float(n_clusters - 1)
    else:
        result = model.fit(cov_type="HC3", use_t=True)
        df = float(result.df_resid)
    names = list(result.model.exog_names)
    exog = np.asarray(result.model.exog)
    failure = _undefined_errors(exog, np.asarray(result.bse, dtype=float), cov_type, float(result.ssr),
                               float(result.centered_tss))
    r2 = float(result.rsquared)
    if failure:
        terms = tuple(Term(name, float(result.params.iloc[i]), None, None, None, None) for i, name in enumerate(names))
        return OlsFit(formula, n, terms, r2 if math.isfinite(r2) else None, None, confidence, cov_type=cov_type,
                      df=None, n_clusters=n_clusters, dropped=tuple(dropped), note=failure,
                      exog_names=tuple(names), params=tuple(float(v) for v in result.params))
    intervals = np.asarray(result.conf_int(alpha=1 - confidence))
    terms = tuple(
        Term(name, float(result.params.iloc[i]), float(result.bse.iloc[i]), float(intervals[i, 0]),
             float(intervals[i, 1]), float(result.pvalues.iloc[i]))
        for i, name in enumerate(names)
    )
    cov = np.asarray(result.cov_params())
    exog_means = exog.mean(axis=0)
    return OlsFit(formula, n, terms, r2 if math.isfinite(r2) else None,
                  float(result.rsquared_adj) if math.isfinite(result.rsquared_adj) else None, confidence,
                  cov_type=cov_type, df=df, n_clusters=n_clusters, dropped=tuple(dropped),
                  exog_names=tuple(names), params=tuple(float(v) for v in result.params),
                  cov=tuple(tuple(map(float, row)) for row in cov), exog_means=tuple(float(v) for v in exog_means))


def vifs(data: Mapping[str, Sequence[Any]], predictors: Sequence[str],
         categorical: Sequence[str] = ()) -> dict[str, float]:
    """Variance inflation factor of every regressor of ``~ predictors + C(categorical)`` (intercept left
    out), on the rows where all are present: 1 / (1 - R^2 of the regressor on the others)."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    frame = _frame({**data, "_y": np.zeros(len(next(iter(data.values()))))}, "_y", predictors, categorical, None)
    numeric = [p for p in predictors if rare_variation(frame[p]) is None]
    cats = [c for c in categorical if rare_variation(frame[c].astype(str)) is None]
    for name in cats:
        frame[name] = frame[name].astype(str)
    rhs = numeric + [f"C({name})" for name in cats]
    if len(rhs) < 2:
        return {}
    model = smf.ols("_y ~ " + " + ".join(rhs), frame)
    return {name: float(variance_inflation_factor(model.exog, i))
            for i, name in enumerate(model.exog_names) if name != "Intercept"}


@dataclasses.dataclass(frozen=True)
class InversePrediction:
    """x at which the predicted response equals ``target``, with Fieller's interval."""

    variable: str
    target: float
    x: float | None
    ci_low: float | None          # None on a side where the interval is unbounded
    ci_high: float | None
    bounded: bool
    slope: float | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def inverse_prediction(fit: OlsFit, variable: str, target: float) -> InversePrediction:
    """Solve b0 + b_k x + sum_j b_j mean_j = target for x, with the interval from the mean-prediction band.

    With g(x) the regressor vector (x at ``variable``, sample means elsewhere), the band's edges solve
    (g(x)'b - target)^2 = z^2 g(x)' V g(x), a quadratic in x. When z^2 V_kk < b_k^2 (the slope is significant
    at the fit's level) its two roots bound the interval; otherwise the interval is unbounded.
    """
    if not fit.terms or not fit.cov:
        return InversePrediction(variable, target, None, None, None, False, None, fit.note or "no fit")
    if variable not in fit.exog_names:
        return InversePrediction(variable, target, None, None, None, False, None,
                                 f"{variable} is not in the model ({fit.formula})")
    k = fit.exog_names.index(variable)
    beta = np.asarray(fit.params)
    cov = np.asarray(fit.cov)
    g0 = np.asarray(fit.exog_means).copy()
    g0[k] = 0.0
    slope = float(beta[k])
    if slope == 0:
        return InversePrediction(variable, target, None, None, None, False, slope, "the slope is exactly zero")
    offset = float(g0 @ beta) - target
    x_hat = -offset / slope
    z = critical_value(fit)
    a = float(g0 @ cov @ g0)
    b = float(g0 @ cov[:, k])
    c = float(cov[k, k])
    a2 = slope**2 - z**2 * c
    a1 = 2 * offset * slope - 2 * z**2 * b
    a0 = offset**2 - z**2 * a
    if a2 <= 0:
        return InversePrediction(variable, target, x_hat, None, None, False, slope,
                                 f"the slope of {variable} is not significantly different from zero at the "
                                 f"{fit.confidence:.0%} level, so the interval for the threshold is unbounded")
    disc = a1**2 - 4 * a2 * a0
    disc = max(disc, 0.0)
    roots = sorted(((-a1 - math.sqrt(disc)) / (2 * a2), (-a1 + math.sqrt(disc)) / (2 * a2)))
    return InversePrediction(variable, target, x_hat, roots[0], roots[1], True, slope)


def critical_value(fit: OlsFit) -> float:
    """The t quantile of the fit's inference at its confidence level (normal when no df is known)."""
    upper = 0.5 + fit.confidence / 2
    return float(sps.t.ppf(upper, fit.df) if fit.df else sps.norm.ppf(upper))


def predict_mean(fit: OlsFit, variable: str, values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Predicted mean and its standard error along ``variable`` (others at their sample means)."""
    k = fit.exog_names.index(variable)
    beta = np.asarray(fit.params)
    cov = np.asarray(fit.cov)
    grid = np.asarray(values, dtype=float)
    design = np.tile(np.asarray(fit.exog_means), (grid.size, 1))
    design[:, k] = grid
    mean = design @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", design, cov, design))
    return mean, se
