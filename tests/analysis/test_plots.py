"""Each figure renders to a PNG for ordinary and for empty or degenerate inputs (no exception, no blank file)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from datacomp.analysis import plots
from datacomp.analysis.descriptive import binned_means


def _image(png: bytes) -> np.ndarray:
    import matplotlib.image as mpimg

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return mpimg.imread(io.BytesIO(png), format="png")


def test_figures_render_with_data():
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 4, 50)
    y = 90 - 5 * x + rng.normal(0, 2, 50)
    grid = np.linspace(1, 4, 10)
    pngs = [
        plots.scatter_with_fit(x, y, grid, 90 - 5 * grid, 88 - 5 * grid, 92 - 5 * grid, xlabel="entropy (nats/token)",
                               ylabel="F1 (points)", title="t", reference=(80.0, "target")),
        plots.binned_side_by_side(binned_means(x, y, 4), binned_means(y, x, 4), left_xlabel="a", right_xlabel="b",
                                  ylabel="F1", title="t"),
        plots.histograms_by_domain({"code": x, "prose": x + 1}, xlabel="nats/token", title="t"),
        plots.histograms_by_model_and_domain({"enc": {"code": x}, "dec": {"code": x, "wiki": y}},
                                             xlabel="nats/token", title="t"),
        plots.gap_heatmap([[0.1, None], [0.2, 0.3]], ["e1", "e2"], ["d1", "d2"], [[5, 0], [5, 5]],
                          value_label="JS", title="t"),
        plots.quality_vs_ratio({"sac": [(4.0, 70.0, 68.0, 72.0, 10), (16.0, 50.0, None, None, 1)],
                                "truncate": [(4.0, 30.0, 29.0, 31.0, 10)]}, {"full": (97.0, 10), "none": (5.0, 10)},
                               ylabel="F1 (points)", title="t"),
    ]
    for png in pngs:
        pixels = _image(png)[..., :3]
        assert pixels.std() > 0.05


@pytest.mark.parametrize("make", [
    lambda: plots.scatter_with_fit([], [], None, None, None, None, xlabel="x", ylabel="y", title="empty"),
    lambda: plots.binned_side_by_side([], [], left_xlabel="a", right_xlabel="b", ylabel="y", title="empty"),
    lambda: plots.histograms_by_domain({"code": [np.nan]}, xlabel="x", title="empty"),
    lambda: plots.histograms_by_model_and_domain({"enc": {}}, xlabel="x", title="empty"),
    lambda: plots.gap_heatmap([[None]], ["e"], ["d"], value_label="JS", title="empty"),
    lambda: plots.quality_vs_ratio({}, {}, ylabel="y", title="empty"),
])
def test_figures_render_without_data(make):
    assert _image(make()).shape[0] > 100
