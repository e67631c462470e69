"""Each figure renders to a PNG for ordinary and for empty or degenerate inputs (no exception, no blank file),
and reads as a person needs: numbers on the axes, the report's units, no label cut off by the figure's edge,
no empty panel without its reason. The Figure objects are caught at rendering (figure_checks.drawn)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from datacomp.analysis import plots
from datacomp.analysis.descriptive import binned_means
from figure_checks import assert_inside, drawn, texts, tick_numbers  # noqa: F401 (drawn: a fixture)


def _image(png: bytes) -> np.ndarray:
    import matplotlib.image as mpimg

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return mpimg.imread(io.BytesIO(png), format="png")


def with_data(x, y):
    grid = np.linspace(1, 4, 10)
    return [
        lambda: plots.scatter_with_fit(x, y, grid, 90 - 5 * grid, 88 - 5 * grid, 92 - 5 * grid,
                                       xlabel="entropy (nats/token)", ylabel="F1 (points, 0-100)", title="t",
                                       reference=(80.0, "target")),
        lambda: plots.binned_side_by_side(binned_means(x, y, 4), binned_means(y, x, 4), left_xlabel="a",
                                          right_xlabel="b", ylabel="F1 (points, 0-100)", title="t"),
        lambda: plots.histograms_by_domain({"code": x, "prose": x + 1}, xlabel="nats/token", title="t"),
        lambda: plots.histograms_by_model_and_domain({"enc": {"code": x}, "dec": {"code": x, "wiki": y}},
                                                     xlabel="nats/token", title="t"),
        lambda: plots.gap_heatmap([[0.1, None], [0.2, 0.3]], ["encoder-with-a-long-name", "e2"], ["d1", "d2"],
                                  [[5, 0], [5, 5]], value_label="JS", title="t"),
        lambda: plots.quality_vs_ratio({"sac": [(4.0, 70.0, 68.0, 72.0, 10), (16.0, 50.0, None, None, 1)],
                                        "truncate": [(4.0, 30.0, 29.0, 31.0, 10)]},
                                       {"full": (97.0, 10), "none": (5.0, 10)},
                                       ylabel="F1 (points, 0-100), the mean over the examples", title="t"),
    ]


def test_figures_render_with_data_with_numbers_on_both_axes_and_nothing_cut_off(drawn):
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 4, 50)
    y = 90 - 5 * x + rng.normal(0, 2, 50)
    for make in with_data(x, y):
        pixels = _image(make())[..., :3]
        assert pixels.std() > 0.05
    assert len(drawn) == 6
    for fig in drawn:
        assert_inside(fig)
        for ax in (a for a in fig.axes if a.get_visible() and a.get_label() != "<colorbar>"):
            assert tick_numbers(ax.xaxis) or ax is not fig.axes[0], fig
            if ax.get_ylabel():                          # the axis a label names carries numbers
                assert tick_numbers(ax.yaxis), ax.get_ylabel()


def test_binned_figure_leaves_out_an_empty_side_and_says_why(drawn):
    rng = np.random.default_rng(1)
    x = rng.uniform(1, 4, 40)
    bins = binned_means(x, 90 - 5 * x, 4)
    reason = "encoder and decoder are one model, so its decoder entropy repeats the encoder's"
    plots.binned_side_by_side(bins, [], left_xlabel="encoder predictive entropy (nats/token)",
                              right_xlabel="decoder predictive entropy (nats/token)", ylabel="F1 (points, 0-100)",
                              title="Binned F1", right_missing=reason)
    (fig,) = drawn
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert ax.get_ylabel() == "F1 (points, 0-100)"
    shown = [float(t.replace("\N{MINUS SIGN}", "-")) for t in tick_numbers(ax.yaxis)]
    assert shown and min(shown) <= min(b.y_mean for b in bins) and max(shown) >= max(b.y_mean for b in bins)
    words = " ".join(t.get_text() for t in texts(fig)).replace("\n", " ")
    assert f"decoder predictive entropy not shown: {reason}" in words
    assert_inside(fig)


@pytest.mark.parametrize("make", [
    lambda: plots.scatter_with_fit([], [], None, None, None, None, xlabel="x", ylabel="y", title="empty"),
    lambda: plots.binned_side_by_side([], [], left_xlabel="a (u)", right_xlabel="b (u)", ylabel="y", title="empty",
                                      left_missing="no windows scored", right_missing="no windows scored"),
    lambda: plots.histograms_by_domain({"code": [np.nan]}, xlabel="x", title="empty"),
    lambda: plots.histograms_by_model_and_domain({"enc": {}}, xlabel="x", title="empty"),
    lambda: plots.gap_heatmap([[None]], ["e"], ["d"], value_label="JS", title="empty"),
    lambda: plots.quality_vs_ratio({}, {}, ylabel="y", title="empty"),
])
def test_figures_render_without_data_and_never_say_a_bare_no_data(make, drawn):
    assert _image(make()).shape[0] > 100
    (fig,) = drawn
    for text in texts(fig):
        assert text.get_text().strip().lower() not in ("no data", "no evaluations")
    assert_inside(fig)
