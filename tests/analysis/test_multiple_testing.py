"""Holm and Benjamini-Hochberg against statsmodels; missing p-values stay out of the family."""

from __future__ import annotations

import numpy as np
import pytest

from datacomp.analysis import multiple_testing as mt


@pytest.mark.parametrize("ours,theirs", [(mt.holm, "holm"), (mt.benjamini_hochberg, "fdr_bh")])
def test_corrections_match_statsmodels(ours, theirs):
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0, 0.01, 5), rng.uniform(0, 1, 15), [0.03, 0.03]])
    expected = multipletests(p, method=theirs)[1]
    assert ours(list(p)) == pytest.approx(list(expected), rel=1e-12)


def test_corrections_leave_missing_p_values_out_of_the_family():
    from statsmodels.stats.multitest import multipletests

    adjusted = mt.holm([0.01, None, 0.04, float("nan")])
    expected = multipletests([0.01, 0.04], method="holm")[1]
    assert adjusted[1] is None and adjusted[3] is None
    assert [adjusted[0], adjusted[2]] == pytest.approx(list(expected))
    with pytest.raises(ValueError, match="unknown correction 'bonf'"):
        mt.adjust([0.1], "bonf")
