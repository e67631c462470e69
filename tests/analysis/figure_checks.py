"""The report's figures as a person reads them, checked on the matplotlib Figure objects: ``drawn`` catches
every figure rendered during a test (at ``plots._png``, drawn so text extents are final)."""

from __future__ import annotations

import pytest

from datacomp.analysis import plots


@pytest.fixture
def drawn(monkeypatch) -> list:
    """The Figure of every PNG rendered in the test, drawn (so text extents are final) before it is saved."""
    figures = []
    render = plots._png

    def catch(fig):
        fig.canvas.draw()
        fig.measured_with = fig.canvas.get_renderer()   # closing the figure detaches its canvas
        figures.append(fig)
        return render(fig)

    monkeypatch.setattr(plots, "_png", catch)
    return figures


def texts(fig) -> list:
    """Every text artist of the figure that shows something."""
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def assert_inside(fig) -> None:
    """Every axes with its labels, tick numbers, title and legend (as drawn: ``get_tightbbox``), and every
    figure-level text (the suptitle), lie inside the figure."""
    renderer = fig.measured_with
    boxes = [(ax.get_tightbbox(renderer), ax.get_ylabel() or ax.get_title() or "axes")
             for ax in fig.axes if ax.get_visible()]
    boxes += [(t.get_window_extent(renderer), t.get_text()) for t in fig.texts if t.get_text().strip()]
    if fig._suptitle is not None:
        boxes.append((fig._suptitle.get_window_extent(renderer), fig._suptitle.get_text()))
    for box, what in boxes:
        assert box.x0 >= -0.5 and box.y0 >= -0.5 and box.x1 <= fig.bbox.width + 0.5 \
            and box.y1 <= fig.bbox.height + 0.5, f"{what!r} is cut off: {box} outside {fig.bbox}"


def tick_numbers(axis) -> list[str]:
    return [t.get_text() for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
