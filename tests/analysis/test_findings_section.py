"""The findings section's figures on a small constructed store: quality in points with numbers on the axis,
and a binned panel left out with its reason where the analysis has no bins for it."""

from __future__ import annotations

from planted_store import FAST, populate
from figure_checks import assert_inside, drawn, tick_numbers  # noqa: F401 (drawn: a fixture)


def test_binned_and_scatter_figures_are_in_points_and_say_why_a_side_is_missing(store, drawn):
    from datacomp.analysis.report import ReportConfig, build_report

    populate(store, n_per_domain=10, windows=True)
    # ae4-dec0 compresses with its own decoder: decoder-side predictors repeat the encoder's, so no decoder bins
    store.con.execute("UPDATE compressors SET encoder_id = decoder_id WHERE compressor_id = 'ae4-dec0'")
    data = build_report(store, ReportConfig(**FAST)).data   # figures for the first compressor: ae4-dec0
    analysis = next(a for a in data["findings"]["compressors"] if a["compressor_id"] == "ae4-dec0")
    assert analysis["same_model"] and not analysis["bins"].get("dec_entropy")
    by_title = {fig._suptitle.get_text() if fig._suptitle else fig.axes[0].get_title(): fig for fig in drawn}
    (binned,) = [fig for title, fig in by_title.items() if title.startswith("Binned") and "ae4-dec0" in title]
    (ax,) = [a for a in binned.axes if a.get_visible()]
    assert ax.get_ylabel() == "F1 (points, 0-100)"
    means = [b["y_mean"] * 100 for b in analysis["bins"]["enc_entropy"]]
    shown = [float(t.replace("\N{MINUS SIGN}", "-")) for t in tick_numbers(ax.yaxis)]
    assert shown and min(shown) <= min(means) and max(shown) >= max(means) > 1   # points, not 0-1
    assert "decoder predictive entropy not shown: encoder and decoder are one model" in \
        binned._suptitle.get_text().replace("\n", " ")
    scatter = next(fig for title, fig in by_title.items() if title.startswith("F1 vs encoder entropy"))
    assert scatter.axes[0].get_ylabel() == "F1 (points, 0-100)"
    for fig in drawn:
        assert_inside(fig)
        for ax in fig.axes:
            assert "0-1)" not in ax.get_ylabel()
