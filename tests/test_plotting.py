"""Figures say what they show: units in titles and labels, ranges on tornado rows, bars that add up."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import flowsim  # noqa: E402
from flowsim import plotting  # noqa: E402

#: 150 days cut into the histogram's default 30 bins: 5-day bins.
HORIZON = 150


@pytest.fixture(scope="module")
def short():
    return flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=HORIZON)


@pytest.fixture(scope="module")
def ens(short):
    return flowsim.ensemble(short, 32, seed=3, progress=False)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize(("variable", "unit"), [("net", "USD million per day"), ("N", "thousands")])
def test_fan_grid_title_and_axes_state_the_same_unit(ens, variable, unit):
    fig, axes = plotting.plot_fan_grid(ens, variable)
    assert unit in fig.get_suptitle()
    assert all(unit in ax.get_ylabel() for ax in axes)


@pytest.mark.parametrize(("balance", "sustained"), [("fiscal", False), ("fiscal", True), ("net", False)])
def test_crossover_histogram_bars_add_up_to_the_probability(ens, balance, sustained):
    fig, axes = plotting.plot_crossover_histogram(ens, balance=balance, sustained=sustained)
    for ax, host in zip(axes, ens.hosts):
        assert ax.get_ylabel() == "% of members per 5-day bin"      # 150 days / 30 bins
        assert ax.get_xlabel() == ("sustained crossover date" if sustained else "crossover date")
        heights = sum(p.get_height() for p in ax.patches)
        # each crossing member is one bar unit of 100 / 32 %; together 100 x P(crossover)
        p = ens.crossover_probability(host=host, balance=balance, sustained=sustained)
        assert heights == pytest.approx(100 * p, abs=1e-9)
    # the sum was not trivially 0 (in 150 days the budget of some members turns negative, for good in GEO)
    assert any(ens.crossover_probability(host=h, balance=balance, sustained=sustained) > 0 for h in ens.hosts)


def test_crossover_histogram_defaults_to_sustained_crossovers_of_residents(ens):
    fig, axes = plotting.plot_crossover_histogram(ens)
    assert "residents' balance" in fig.get_suptitle() and axes[0].get_xlabel() == "sustained crossover date"
    for ax, host in zip(axes, ens.hosts):
        heights = sum(p.get_height() for p in ax.patches)
        assert heights == pytest.approx(100 * ens.crossover_probability(host=host, sustained=True), abs=1e-9)


def test_tornado_rows_show_each_input_range(short):
    res = flowsim.sensitivity(short, "peak:U", "GEO", n=8, seed=1, bootstrap=0, progress=False,
                              vary={"f0": {"GEO": (0.005, 0.02)}, "tau_S": {"GEO": (55, 220)},
                                    "q_ret": {"GEO": (0.2, 0.6)}, "K": {"GEO": (10_000, 40_000)}})
    fig, ax = plt.subplots()
    plotting.plot_tornado(res, ax=ax)
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels == {"f0[GEO]  0.005 - 0.02 1/day", "tau_S[GEO]  55 - 220 days", "q_ret[GEO]  0.2 - 0.6",
                      "K[GEO]  10,000 - 40,000 people"}


def test_overlay_axis_spans_the_runs_exactly(short):
    a = flowsim.run(short)
    b = flowsim.run(short.with_params(f0={"KAZ": 0.02}))
    fig, ax = plt.subplots()
    plotting.plot_net_overlay([a, b], "KAZ", ax=ax, days=60)
    first, last = mdates.date2num(np.array(a.dates[[0, 60]], dtype="datetime64[D]").astype(object))
    assert ax.get_xlim() == pytest.approx((first, last))
