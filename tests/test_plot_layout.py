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


def _pixels(fig):
    import numpy as np

    fig.canvas.draw()
    out = np.asarray(fig.canvas.buffer_rgba()).copy()
    matplotlib.pyplot.close(fig)
    return out


@pytest.mark.parametrize("kind", ["grid", "accounts"])
def test_prepared_figure_draws_the_same(seed_result, kind):
    """A figure made before the data (panels and ticks, as `flowsim run`'s worker does) draws pixel for pixel
    what a new one draws."""
    from flowsim.plotting import plot_accounts_grid
    from flowsim.plotting._common import prepare_grid
    from flowsim.plotting.accounts import prepare_accounts_grid

    hosts = seed_result.hosts[:3]
    if kind == "grid":
        def draw(fig=None):
            return plot_boost_burden_grid(seed_result, days=120, fig=fig)[0]
        prepared = prepare_grid(len(seed_result.hosts))
    else:
        def draw(fig=None):
            return plot_accounts_grid(seed_result, hosts=hosts, fig=fig)[0]
        prepared = prepare_accounts_grid(len(hosts))
    assert (_pixels(draw(prepared)) == _pixels(draw())).all()


def test_prepared_figure_of_another_shape_is_not_used(seed_result):
    from flowsim.plotting._common import prepare_grid, take_prepared

    fig = prepare_grid(3)
    assert take_prepared(fig, ("grid", 8)) is None
    assert len(take_prepared(fig, ("grid", 3))) == 3
    assert take_prepared(fig, ("grid", 3)) is None                # used once
    matplotlib.pyplot.close(fig)


def test_split_by_cost():
    from flowsim.cli._figures import split_by_cost

    jobs = ["accounts", "pop", "pop120", "bb", "bb120"]
    mine, theirs = split_by_cost(jobs, [32, 16, 16, 16, 16])
    assert sorted(mine + theirs) == sorted(jobs)
    assert (mine, theirs) == (["accounts", "bb"], ["pop", "pop120", "bb120"])
    assert split_by_cost(jobs[:2], None) == (["accounts"], ["pop"])


def _tiny_figure(*, size):
    fig = matplotlib.figure.Figure(figsize=(size, 1))
    fig.prepared_here = True
    return fig


def _tiny_into(result, *, fig=None, text):
    fig = fig if fig is not None else matplotlib.figure.Figure(figsize=(2, 1))
    fig.text(0.1, 0.5, f"{text} {result} prepared={getattr(fig, 'prepared_here', False)}")
    return fig, None


def test_worker_draws_into_prepared_figures(tmp_path):
    from PIL import Image

    a, b, c = (tmp_path / f"{n}.png" for n in "abc")
    with FigureWorker() as worker:
        worker.prepare({a: (_tiny_figure, {"size": 3}), b: (_tiny_figure, {"size": 3})})
        worker.submit("R", [(a, _tiny_into, {"text": 1}), (b, _tiny_into, {"text": 2}), (c, _tiny_into, {"text": 3})],
                      [1, 1, 2])
        worker.wait()
    # a prepared figure is 3 inches wide; c (not prepared) 2; a and b may also be drawn fresh if the result came
    # before the worker made them (it prepares only while waiting)
    assert Image.open(c).size[0] == 220
    assert {Image.open(a).size[0], Image.open(b).size[0]} <= {220, 330}


def test_figures_are_made_ahead_only_while_waiting():
    from flowsim.cli._figures import make_prepared

    makers = {"a": (_tiny_figure, {"size": 3}), "b": (_tiny_figure, {"size": 4})}
    assert [f.get_size_inches()[0] for f in make_prepared(makers, lambda: False).values()] == [3, 4]
    calls = iter([False, True])
    assert list(make_prepared(makers, lambda: next(calls))) == ["a"]          # the result came after the first
