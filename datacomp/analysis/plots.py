"""The report's figures, each a pure function of numbers that returns PNG bytes (matplotlib, Agg).

Readable at a glance: a title that says what is shown, axis labels with units (quality in points, 0-100,
as the report's tables), numbers on both axes, n in the legend. Every figure uses matplotlib's constrained
layout, so no label or title is clipped whatever its length. A panel without data says why (the caller's
reason), or is left out with the reason under the title.
"""

from __future__ import annotations

import io
import math
import textwrap
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from datacomp.analysis.descriptive import Bin  # noqa: E402

_DPI = 100  # about 700 px wide at the default size: sharp in a page, small as base64
_SIZE = (7.0, 4.4)
_COLORS = plt.get_cmap("tab10").colors


def _figure(nrows: int = 1, ncols: int = 1, **kwargs):
    """A figure with constrained layout: labels, titles and legends are fitted inside it."""
    return plt.subplots(nrows, ncols, layout="constrained", **kwargs)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    plt.close(fig)
    return buffer.getvalue()


def _empty(ax, reason: str) -> None:
    """An axes with nothing to draw: it says why (``reason``, never a bare "no data")."""
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(reason, 48)), ha="center", va="center", transform=ax.transAxes,
            fontsize=10, color="0.35")
    ax.set_xticks([])
    ax.set_yticks([])


def scatter_with_fit(x: Sequence[float], y: Sequence[float], fit_x: Sequence[float] | None,
                     fit_mean: Sequence[float] | None, fit_low: Sequence[float] | None,
                     fit_high: Sequence[float] | None, *, xlabel: str, ylabel: str, title: str,
                     fit_label: str = "OLS fit", band_label: str = "95% CI of the mean",
                     reference: tuple[float, str] | None = None) -> bytes:
    """Points, a fitted line and its confidence band (the caller computes the fit); ``reference`` =
    (y, label) draws a horizontal line, e.g. the user's target."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    fig, ax = _figure(figsize=_SIZE)
    ax.scatter(x, y, s=12, alpha=0.45, color=_COLORS[0], label=f"documents (n={x.size})")
    if fit_x is not None and fit_mean is not None:
        ax.plot(fit_x, fit_mean, color=_COLORS[3], lw=2, label=fit_label)
        if fit_low is not None and fit_high is not None:
            ax.fill_between(fit_x, fit_low, fit_high, color=_COLORS[3], alpha=0.2, label=band_label)
    if reference is not None:
        ax.axhline(reference[0], color="black", ls="--", lw=1, label=f"{reference[1]} ({reference[0]:.3g})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    return _png(fig)


def _draw_bins(ax, bins: Sequence[Bin], color) -> None:
    means = [b.y_mean for b in bins]
    centres = [b.x_mean for b in bins]
    low = [b.y_mean - b.ci_low if b.ci_low is not None else 0 for b in bins]
    high = [b.ci_high - b.y_mean if b.ci_high is not None else 0 for b in bins]
    n = sum(b.n for b in bins)
    ax.errorbar(centres, means, yerr=[low, high], fmt="o-", color=color, capsize=4, lw=1.5,
                label=f"bin mean, 95% CI (n={n}, {len(bins)} quantile bins)")


def binned_side_by_side(left: Sequence[Bin], right: Sequence[Bin], *, left_xlabel: str, right_xlabel: str,
                        ylabel: str, title: str, left_missing: str | None = None,
                        right_missing: str | None = None) -> bytes:
    """Binned means of quality against two predictors (encoder vs decoder entropy), sharing the y axis. A
    side without bins is left out, and a line under the title gives ``left_missing`` / ``right_missing``
    (why it has none) so the figure never shows an unexplained empty panel."""
    sides = ((left, left_xlabel, left_missing, _COLORS[0]), (right, right_xlabel, right_missing, _COLORS[1]))
    drawn = [(bins, xlabel, color) for bins, xlabel, _, color in sides if bins]
    notes = [f"{xlabel.split(' (')[0]} not shown: {missing or 'no values of it'}"
             for bins, xlabel, missing, _ in sides if not bins]
    width = 9.0 if len(drawn) == 2 else 6.0
    fig, axes = _figure(1, max(1, len(drawn)), figsize=(width, 4.2), sharey=True, squeeze=False)
    axes = axes[0]
    for ax, (bins, xlabel, color) in zip(axes, drawn):
        _draw_bins(ax, bins, color)
        ax.legend(loc="best", fontsize=8)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    if drawn:
        axes[0].set_ylabel(ylabel)
        fig.suptitle("\n".join([title] + [line for note in notes for line in textwrap.wrap(note, int(11 * width))]))
    else:
        _empty(axes[0], "; ".join(notes))
        fig.suptitle(title)
    return _png(fig)


def histograms_by_domain(values_by_domain: Mapping[str, Sequence[float]], *, xlabel: str, title: str,
                         n_bins: int = 30) -> bytes:
    """Overlaid step histograms (shared bin edges), one per domain."""
    fig, ax = _figure(figsize=_SIZE)
    arrays = {d: np.asarray(v, dtype=float) for d, v in values_by_domain.items()}
    arrays = {d: v[np.isfinite(v)] for d, v in arrays.items() if np.isfinite(v).any()}
    if not arrays:
        _empty(ax, "no document has a finite value to plot")
    else:
        pooled = np.concatenate(list(arrays.values()))
        edges = np.histogram_bin_edges(pooled, bins=n_bins)
        for i, (domain, values) in enumerate(sorted(arrays.items())):
            ax.hist(values, bins=edges, histtype="step", lw=1.8, color=_COLORS[i % 10],
                    label=f"{domain} (n={values.size}, median {np.median(values):.3g})")
        ax.legend(loc="best", fontsize=9)
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))   # counts of documents
    ax.set_xlabel(xlabel)
    ax.set_ylabel("documents")
    ax.set_title(title)
    return _png(fig)


def histograms_by_model_and_domain(panels: Mapping[str, Mapping[str, Sequence[float]]], *, xlabel: str,
                                   title: str, n_bins: int = 30) -> bytes:
    """One panel per model (at most 6, two columns), each with overlaid step histograms per domain."""
    names = list(panels)[:6]
    n_cols = 1 if len(names) == 1 else 2
    n_rows = max(1, math.ceil(len(names) / n_cols))
    fig, axes = _figure(n_rows, n_cols, figsize=(5.2 * n_cols, 3.4 * n_rows), squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names):
        arrays = {d: np.asarray(v, dtype=float) for d, v in panels[name].items()}
        arrays = {d: v[np.isfinite(v)] for d, v in arrays.items() if np.isfinite(v).any()}
        if not arrays:
            ax.set_title(name, fontsize=10)
            _empty(ax, "no document scored by this model has a finite value")
            continue
        edges = np.histogram_bin_edges(np.concatenate(list(arrays.values())), bins=n_bins)
        for i, (domain, values) in enumerate(sorted(arrays.items())):
            ax.hist(values, bins=edges, histtype="step", lw=1.6, color=_COLORS[i % 10],
                    label=f"{domain} (n={values.size})")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("documents")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _png(fig)


def gap_heatmap(matrix: Sequence[Sequence[float | None]], row_labels: Sequence[str], col_labels: Sequence[str],
                counts: Sequence[Sequence[int]] | None = None, *, value_label: str, title: str) -> bytes:
    """Mean gap per (encoder row, decoder column), each cell annotated with its value (and n)."""
    values = np.array([[np.nan if v is None else float(v) for v in row] for row in matrix], dtype=float)
    height = max(2.6, 0.7 * len(row_labels) + 1.8)
    width = max(5.0, 1.3 * len(col_labels) + 3.0)
    fig, ax = _figure(figsize=(min(width, 12) + 1.0, min(height, 9)))
    masked = np.ma.masked_invalid(values)
    image = ax.imshow(masked, cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=ax, label=value_label)
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            text = "–" if not math.isfinite(v) else f"{v:.3g}"
            if counts is not None and math.isfinite(v):
                text += f"\nn={counts[i][j]}"
            ax.text(j, i, text, ha="center", va="center", fontsize=9,
                    color="white" if math.isfinite(v) and v < middle else "black")
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=30, ha="right")
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set_xlabel("decoder")
    ax.set_ylabel("encoder")
    ax.set_title(title)
    return _png(fig)


def quality_vs_ratio(series: Mapping[str, Sequence[tuple[float, float, float | None, float | None, int]]],
                     levels: Mapping[str, tuple[float, int]], *, ylabel: str, title: str) -> bytes:
    """Mean quality against compression ratio, one line per method (and per ratio-bearing baseline such as
    truncate/drop); ``levels`` are ratio-free baselines (full / none context) drawn as horizontal lines.

    ``series[name]`` = [(ratio, mean, ci_low, ci_high, n), ...]; ``levels[name]`` = (mean, n).
    """
    fig, ax = _figure(figsize=_SIZE)
    if not series and not levels:
        _empty(ax, "no evaluations of this task")
    styles = {"truncate": "--", "drop": ":"}
    for i, (name, points) in enumerate(sorted(series.items())):
        points = sorted(points)
        ratios = [p[0] for p in points]
        means = [p[1] for p in points]
        low = [p[1] - p[2] if p[2] is not None else 0 for p in points]
        high = [p[3] - p[1] if p[3] is not None else 0 for p in points]
        n = sum(p[4] for p in points)
        ax.errorbar(ratios, means, yerr=[low, high], fmt="o" + styles.get(name, "-"), capsize=3,
                    color=_COLORS[i % 10], label=f"{name} (n={n})")
    for j, (name, (mean, n)) in enumerate(sorted(levels.items())):
        label = {"full": "full context", "none": "no context"}.get(name, name)
        ax.axhline(mean, color=("black", "0.5", "0.7")[j % 3], ls="-." if name == "none" else "-", lw=1.2,
                   label=f"{label} (n={n}): {mean:.3g}")
    # one tick per ratio to two digits: actual ratios 3.98 and 4.0 of one target share the tick "4x"
    ratios = sorted({float(f"{p[0]:.2g}") for points in series.values() for p in points})
    if ratios:
        ax.set_xscale("log", base=2)
        ax.set_xlim(ratios[0] / 1.6, ratios[-1] * 1.6)
        ax.set_xticks(ratios, [f"{r:g}x" for r in ratios])
        ax.minorticks_off()
    if series or levels:
        ax.legend(loc="best", fontsize=8)
    ax.set_xlabel("compression ratio (context tokens / slots, decoder tokenizer)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    return _png(fig)
