"""The Result object: labelled axes, accessors, tables, reprs and plots."""

import datetime as dt

import numpy as np
import pytest

import flowsim


def test_axes_and_labels(seed_result):
    m, h, c, d = seed_result.states.shape
    assert (m, h, c, d) == (1, 8, 10, 1827)
    assert seed_result.compartments == ("T", "S1", "S2", "S3", "R", "E", "U", "Ret", "Out", "In")
    assert seed_result.economy.shape == (1, 8, len(flowsim.ECONOMY_VARIABLES), d)
    assert seed_result.dates[0] == np.datetime64("2022-09-21")
    assert seed_result.dates[-1] == np.datetime64("2027-09-21")
    assert seed_result.success and seed_result.stats["method"] == "RK45"


def test_series_accessors(seed_result):
    comp = seed_result.host_compartments("KAZ")
    np.testing.assert_allclose(comp["S"], comp["S1"] + comp["S2"] + comp["S3"])
    np.testing.assert_allclose(comp["N"], comp["T"] + comp["S"] + comp["R"] + comp["E"] + comp["U"])
    econ = seed_result.host_economy("KAZ")
    np.testing.assert_allclose(econ["net"], econ["boost"] - econ["burden"])
    np.testing.assert_allclose(econ["boost"], econ["spending"] + econ["work"])
    assert seed_result.series("N").shape == (8, 1827)
    with pytest.raises(flowsim.FlowsimError, match="unknown variable 'nett'.*Did you mean 'net'"):
        seed_result.series("nett", "KAZ")
    with pytest.raises(flowsim.FlowsimError, match="host 'XXX' is not in this result"):
        seed_result.series("net", "XXX")
    with pytest.raises(flowsim.FlowsimError, match=r"member must be an integer in \[0, 0\]"):
        seed_result.series("net", "KAZ", member=3)


def test_summary_table(seed_result):
    table = seed_result.summary()
    assert [r["host"] for r in table.rows] == list(seed_result.hosts)
    assert table.balances == ("residents",)
    kaz = table["KAZ"]
    assert kaz["balance"] == "residents" and kaz["status"] in flowsim.STATUSES
    assert isinstance(kaz["peak_date"], dt.date)
    assert kaz["peak_date"] == seed_result.date_of(seed_result.summary_arrays["residents.peak_day"][0, 0])
    text = repr(table)
    assert text.splitlines()[0].startswith("host") and "KAZ" in text
    every = seed_result.summary("all")
    assert every.balances == flowsim.BALANCES and len(every.rows) == len(seed_result.hosts) * len(flowsim.BALANCES)
    assert every["KAZ", "fiscal"]["pv_usd"] == pytest.approx(seed_result.summary_arrays["fiscal.pv_usd"][0, 0])
    with pytest.raises(flowsim.FlowsimError, match="several balances"):
        every["KAZ"]


def test_reprs(seed_result):
    text = repr(seed_result)
    assert "kazakhstan-2022" in text and "conservation error" in text and "member=1, host=8" in text
    html = seed_result._repr_html_()
    assert html.startswith("<div") and "<table" in html and "KAZ" in html
    ptext = repr(seed_result.params[0])
    assert "tau_T" in ptext and "P[KAZ]" in ptext
    assert "<table" in seed_result.params[0]._repr_html_()


def test_html_is_escaped():
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=2)
    sc = sc.replace(name="<script>alert(1)</script>")
    html = flowsim.run(sc)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_to_dataframe(seed_result):
    pytest.importorskip("pandas")
    df = seed_result.to_dataframe()
    assert list(df.columns) == ["date", "member", "host", "variable", "value"]
    kaz_net = df[(df.host == "KAZ") & (df.variable == "net")]["value"].to_numpy()
    np.testing.assert_array_equal(kaz_net, seed_result.series("net", "KAZ"))
    summary = seed_result.summary().to_dataframe()
    assert summary.index.name == "host" and "pv_usd" in summary.columns
    every = seed_result.summary("all").to_dataframe()
    assert every.index.names == ["host", "balance"]
    assert every.loc[("KAZ", "net"), "pv_usd"] == pytest.approx(seed_result.summary_arrays["net.pv_usd"][0, 0])


def test_plots_return_artists(seed_result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from flowsim.plotting import plot_boost_burden, plot_boost_burden_grid, plot_population, plot_population_grid

    fig, ax = plt.subplots()
    polys = plot_population(seed_result, "KAZ", ax=ax)
    assert len(polys) == 5 and ax.get_ylabel() == "people present (thousands)"
    lines = plot_boost_burden(seed_result, "KAZ", ax=ax)
    assert set(lines) == {"boost", "burden", "net", "crossover"}
    np.testing.assert_allclose(lines["net"].get_ydata(), seed_result.series("net", "KAZ") * 1e-6)
    for draw in (plot_population_grid, plot_boost_burden_grid):
        fig, axes = draw(seed_result)
        assert len(axes) == 8 and fig._suptitle.get_text()
    plt.close("all")
