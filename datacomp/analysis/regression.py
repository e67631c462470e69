"""OLS with HC3 robust standard errors, and inverse prediction (the x at which the fit reaches a target).

``ols_hc3`` fits ``response ~ numeric predictors + C(categorical)`` with statsmodels, after dropping rows
with a missing value and predictors that cannot be estimated (constant, or a category with one level);
what was dropped is listed in the result, never silent. Inference uses the HC3 covariance and the normal
distribution, as statsmodels does for robust covariances.

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
                "confidence": self.confidence, "cov_type": self.cov_type, "dropped": list(self.dropped),
                "note": self.note, "terms": [t.to_dict() for t in self.terms]}


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"column name {name!r} cannot be used in a formula (letters, digits, _ only)")
    return name


def ols_hc3(data: Mapping[str, Sequence[Any]], response: str, predictors: Sequence[str],
            categorical: Sequence[str] = (), confidence: float = 0.95) -> OlsFit:
    """Fit response ~ predictors + C(categorical) by OLS with HC3 standard errors."""
    import pandas as pd
    import statsmodels.formula.api as smf

    for name in (response, *predictors, *categorical):
        _check_name(name)
    frame = pd.DataFrame({name: list(data[name]) for name in (response, *predictors, *categorical)})
    for name in (response, *predictors):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame = frame.replace([np.inf, -np.inf], np.nan).dropna()
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
    if n < n_params + 2:
        return OlsFit(formula, n, (), None, None, confidence, dropped=tuple(dropped),
                      note=f"n={n} complete rows is too few for {n_params} parameters")
    if frame[response].nunique() < 2:
        return OlsFit(formula, n, (), None, None, confidence, dropped=tuple(dropped),
                      note=f"{response} is constant: nothing to explain")
    for name in cats:
        frame[name] = frame[name].astype(str)
    result = smf.ols(formula, frame).fit(cov_type="HC3")
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
                  dropped=tuple(dropped), exog_names=tuple(names),
                  params=tuple(float(v) for v in result.params), cov=tuple(tuple(map(float, row)) for row in cov),
                  exog_means=tuple(float(v) for v in exog_means))


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
    z = float(sps.norm.ppf(0.5 + fit.confidence / 2))
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
