"""OLS with robust standard errors, variance inflation factors, and inverse prediction (the x at which
the fit reaches a target).

``ols`` fits ``response ~ numeric predictors + C(categorical)`` with statsmodels, after dropping rows
with a missing value and predictors that cannot be estimated (constant, or a category with one level);
what was dropped is listed in the result, never silent. Standard errors are HC3 (heteroscedasticity-
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


@dataclasses.dataclass(frozen=True)
class Term:
    term: str
    coef: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float

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
        if frame[name].nunique() < 2:
            dropped.append(f"{name} (constant)")
        else:
            numeric.append(name)
    cats = []
    for name in categorical:
        if frame[name].astype(str).nunique() < 2:
            dropped.append(f"C({name}) (a single level)")
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
    intervals = np.asarray(result.conf_int(alpha=1 - confidence))
    names = list(result.model.exog_names)
    terms = tuple(
        Term(name, float(result.params.iloc[i]), float(result.bse.iloc[i]), float(intervals[i, 0]),
             float(intervals[i, 1]), float(result.pvalues.iloc[i]))
        for i, name in enumerate(names)
    )
    cov = np.asarray(result.cov_params())
    exog_means = np.asarray(result.model.exog).mean(axis=0)
    r2 = float(result.rsquared)
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
    numeric = [p for p in predictors if frame[p].nunique() > 1]
    cats = [c for c in categorical if frame[c].astype(str).nunique() > 1]
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
    if not fit.terms:
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
