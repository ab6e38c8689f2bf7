"""Grid figures laid out once (no layout engine), fixed date ticks, and figures drawn in a worker (issue 13)."""

import datetime as dt

import matplotlib
import pytest

matplotlib.use("Agg")

from flowsim.cli._figures import FigureWorker, draw_figures  # noqa: E402
from flowsim.exceptions import OutputError  # noqa: E402
from flowsim.plotting import plot_boost_burden_grid, plot_population_grid  # noqa: E402
from flowsim.plotting._common import date_ticks  # noqa: E402


@pytest.mark.parametrize("first, last, labels", [
    (dt.date(2022, 9, 21), dt.date(2027, 9, 21), ["2023", "2024", "2025", "2026", "2027"]),
    (dt.date(2022, 9, 21), dt.date(2023, 1, 19), ["Oct", "Nov", "Dec", "2023"]),
    (dt.date(2022, 9, 21), dt.date(2022, 12, 20), ["Oct 2022", "Nov", "Dec"]),
    (dt.date(2022, 9, 21), dt.date(2024, 3, 1), ["Oct", "2023", "Apr", "Jul", "Oct", "2024"]),
    (dt.date(2022, 9, 21), dt.date(2022, 10, 21), ["21 Sep 2022", "28 Sep", "5 Oct", "12 Oct", "19 Oct"]),
])
def test_date_ticks(first, last, labels):
    ticks, got = date_ticks(first, last)
    assert got == labels
    assert all(first <= t.date() <= last for t in ticks) and len(ticks) <= 7


@pytest.mark.parametrize("draw, days", [(plot_population_grid, None), (plot_boost_burden_grid, 120)])
def test_grid_panels_do_not_overlap(seed_result, draw, days):
    fig, axes = draw(seed_result, days=days)
    assert fig.get_layout_engine() is None
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in axes]           # panel with its title, labels and tick labels
    for i, a in enumerate(boxes):
        assert a.x0 >= 0 and a.y0 >= 0 and a.x1 <= fig.bbox.x1 and a.y1 <= fig.bbox.y1
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)
    legend = fig.legends[0].get_window_extent(renderer)
    title = fig._suptitle.get_window_extent(renderer)
    assert legend.y0 >= 0 and title.y1 <= fig.bbox.y1
    assert all(not legend.overlaps(b) and not title.overlaps(b) for b in boxes)
    for ax in axes:
        assert ax.get_title() and ax.get_ylabel() and ax.get_xlabel() == "date"
        assert all(t.get_text() for t in ax.get_xticklabels())
    matplotlib.pyplot.close(fig)


def _tiny(result, *, text):
    fig = matplotlib.figure.Figure(figsize=(2, 1))
    fig.text(0.5, 0.5, f"{text} {result}")
    return fig, None


def _fail(result, **kwargs):
    raise RuntimeError("no figure today")


def test_worker_draws_and_reports_failures(tmp_path):
    with FigureWorker() as worker:                              # split between the worker and its fork
        worker.submit("R", [(tmp_path / "a.png", _tiny, {"text": "worker"}), (tmp_path / "f.png", _tiny, {"text": 2})])
        draw_figures("R", [(tmp_path / "b.png", _tiny, {"text": "here"})])
        worker.wait()
    assert (tmp_path / "f.png").stat().st_size > 0
    assert (tmp_path / "a.png").stat().st_size > 0 and (tmp_path / "b.png").stat().st_size > 0
    # in the worker the failure becomes an OutputError; without fork (threads running) it is raised here as is
    with pytest.raises((OutputError, RuntimeError), match="no figure today"), FigureWorker() as worker:
        worker.submit("R", [(tmp_path / "c.png", _tiny, {"text": "fine"}), (tmp_path / "e.png", _fail, {})])
        worker.wait()
    with FigureWorker(enabled=False) as worker:                 # no worker: drawn here by wait()
        worker.submit("R", [(tmp_path / "d.png", _tiny, {"text": "late"})])
        worker.wait()
    assert (tmp_path / "d.png").exists()
