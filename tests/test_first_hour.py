"""What a new user meets in the first hour (issue 12): pointers that lead somewhere, summaries
that suggest the key meant, rounded summary.csv, help texts, figures that do not mislead."""
import csv
import io
import pathlib

import numpy as np
import pytest
from conftest import day
from conftest import pulse_scenario as scenario

import flowsim
from flowsim import BackgroundTraffic, Observation, ObservationModel

ROOT = pathlib.Path(__file__).resolve().parent.parent

FITTED = ["pulse.total[KAZ]", "pulse.scale_days[KAZ]", "tau_T[KAZ]"]


def _synthetic(specs, noise=0.05, seed=3):
    bg = BackgroundTraffic(entries={"KAZ": 1_500.0})
    obs = [Observation(host="KAZ", quantity=q, date_start=a, date_end=b, value=1.0) for q, a, b in specs]
    values = ObservationModel.build(obs, bg).predict(flowsim.run(scenario()))
    values = values * (1.0 + noise * np.random.default_rng(seed).standard_normal(values.size))
    return [o.replace(value=float(v)) for o, v in zip(obs, values)], bg


def _fit(specs):
    obs, bg = _synthetic(specs)
    return flowsim.calibrate(scenario(total=25_000.0, scale=5.0, tau_T=5.0), obs, FITTED, background=bg, starts=1)


ENTRIES = [("daily_entries", day(i), day(i)) for i in range(0, 24, 3)]


@pytest.fixture(scope="module")
def weak_fit():
    """Entries say nothing about the transit time; one exit count 40 days on (when transit is long over) little."""
    return _fit(ENTRIES + [("cumulative_exits", day(0), day(40))])


@pytest.fixture(scope="module")
def good_fit():
    """Exits over the first days measure the transit time."""
    return _fit(ENTRIES + [("cumulative_exits", day(0), day(i)) for i in (3, 6, 10, 20)])


def test_no_pointer_to_a_file_users_do_not_have():
    """The design document MODEL.md is not shipped: everything points to docs/model.md."""
    shipped = [*ROOT.joinpath("flowsim").rglob("*.py"), *ROOT.joinpath("examples").glob("*.py"),
               ROOT / "flowsim" / "data" / "scenario_template.toml", ROOT / "examples" / "quickstart.ipynb",
               *ROOT.joinpath("tools").glob("*.py"), *ROOT.joinpath("flowsim", "data").rglob("*.csv"),
               *ROOT.joinpath("flowsim", "data").rglob("*.toml")]
    stale = [str(p.relative_to(ROOT)) for p in shipped if "MODEL.md" in p.read_text() or "NOTES.md" in p.read_text()]
    assert not stale


def test_install_instructions_never_name_the_registry_project():
    """`pip install flowsim` (or flowsim[extra]) installs an unrelated project from PyPI."""
    import re

    texts = [*ROOT.joinpath("flowsim").rglob("*.py"), *ROOT.joinpath("docs").glob("*.md"), ROOT / "README.md",
             ROOT / "examples" / "quickstart.ipynb", *ROOT.joinpath("tools").glob("*.py")]
    bad = [str(p.relative_to(ROOT)) for p in texts if re.search(r"pip install '?flowsim\b", p.read_text())]
    assert not bad


def test_readme_layout_lists_every_cli_command():
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("  cli/"):readme.index("  data/")]
    commands = {p.stem.lstrip("_") for p in ROOT.joinpath("flowsim", "cli").glob("_*.py")
                if p.name != "__init__.py"} - {"figures", "observation_options", "uncertainty_options"}
    assert {"run", "calibrate", "validate"} <= commands
    for command in commands:
        assert command in block, command


def _help(capsys, *argv):
    from flowsim.cli import main

    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_help_texts(capsys):
    text = _help(capsys, "calibrate")
    assert "95% intervals" in text and "%%" not in text
    for command in ("run", "list", "show", "compare", "init", "sweep", "sensitivity", "validate", "backtest"):
        assert "%%" not in _help(capsys, command), command
    for command in ("sweep", "sensitivity"):
        text = _help(capsys, command)
        assert "a .toml file or a resolved.json" in text and "built-in scenario name" not in text
        assert "default: a fresh random seed, printed in the last line" in text


def test_show_states_the_last_closed_day_as_the_story_does(capsys):
    from flowsim.cli import main

    assert main(["show", "border-closure"]) == 0
    out = capsys.readouterr().out
    assert "from 2022-09-28 to 2022-12-31" in " ".join(out.split())                       # the story
    assert "KAZ: closed from 2022-09-28 through 2022-12-31 (open again on 2023-01-01)" in out
    assert "TKM: closed from the start to the end" in out


# ------------------------------------------------------------------ summaries
@pytest.fixture(scope="module")
def short_result():
    return flowsim.run(flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=800))


def test_unknown_summary_key_names_the_closest(short_result):
    row = short_result.summary()["KAZ"]
    with pytest.raises(KeyError, match=r"has no 'pv_net'.*Did you mean 'pv_usd'\?") as info:
        row["pv_net"]
    assert isinstance(info.value, flowsim.FlowsimError) and isinstance(info.value, flowsim.UnknownKeyError)
    assert not str(info.value).startswith('"')                                    # a sentence, not a repr
    with pytest.raises(flowsim.UnknownKeyError, match=r"summary\('net'\)\[host\]\['pv_usd'\]"):
        row["pv_net_usd"]
    with pytest.raises(flowsim.UnknownKeyError, match=r"\['crossover_date'\]"):
        row["crossover_day"]
    assert row.get("pv_net") is None and row["pv_usd"] == dict(row)["pv_usd"]


def test_summary_csv_rounds_to_meaningful_digits(short_result):
    from flowsim import io as fio

    rows = list(csv.DictReader(io.StringIO(fio.summary_csv_text(short_result))))
    table = short_result.summary("all")
    for r in rows:
        expect = table[r["host"], r["balance"]]
        assert r["peak_present"] == f"{expect['peak_present']:.2f}"
        for col in ("peak_usd_per_day", "cumulative_usd", "pv_usd", "short_term_usd_per_day",
                    "long_term_usd_per_day"):
            if expect[col] is None:
                assert r[col] == ""
                continue
            assert r[col].lstrip("-").isdigit() and r[col] != "-0", (col, r[col])
            assert abs(int(r[col]) - expect[col]) <= 0.5
        if r["fade_ratio"]:
            assert float(r["fade_ratio"]) == pytest.approx(expect["fade_ratio"], rel=1e-5)
            assert len(r["fade_ratio"].replace("0.", "", 1).lstrip("0")) <= 6


# ------------------------------------------------------------------ figures
def test_boost_burden_grid_promises_no_line_it_does_not_draw(seed_result):
    import matplotlib

    matplotlib.use("Agg")
    from flowsim.plotting import plot_boost_burden_grid, plot_population_grid

    fig, axes = plot_boost_burden_grid(seed_result)
    assert all(seed_result.summary("net")[h]["crossover_date"] is None for h in seed_result.hosts)
    assert "dotted" not in fig._suptitle.get_text()
    assert not any("crossover" in t.get_text() for t in fig.legends[0].get_texts())
    tkm = axes[list(seed_result.hosts).index("TKM")]
    assert len(tkm.get_yticks()) == 0 and any("no arrivals" in t.get_text() for t in tkm.texts)
    fig2, axes2 = plot_population_grid(seed_result)
    assert len(axes2[list(seed_result.hosts).index("TKM")].get_yticks()) == 0
    assert len(axes2[0].get_yticks()) > 0
    matplotlib.pyplot.close(fig)
    matplotlib.pyplot.close(fig2)


def test_crossings_figure_has_fixed_date_ticks_and_whole_windows(weak_fit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates

    fig, ax = matplotlib.pyplot.subplots(figsize=(11, 4.5), layout="constrained")
    art = weak_fit.plot_series("KAZ", ax=ax)
    fig.canvas.draw()
    assert ax.xaxis.get_offset_text().get_text() == ""                     # no stray "2022-Dec"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels and all(labels)
    first = mdates.num2date(ax.get_xlim()[0]).date()
    assert all(r.date_start >= first for r in weak_fit.residuals)           # no window clipped at the left
    assert len(art["observed"]) == len(weak_fit.residuals)
    matplotlib.pyplot.close(fig)


def test_pairs_labels_of_dated_levels_wrap():
    from types import SimpleNamespace

    from flowsim.plotting.posterior import _label

    sample = SimpleNamespace(labels=["background[KAZ@2022-10-01]", "tau_T[KAZ]"], units=["people/day", "days"])
    assert _label(sample, 0, "\n") == "background[KAZ\n@2022-10-01]\n(people/day)"
    assert _label(sample, 1, "\n") == "tau_T[KAZ]\n(days)"
    assert _label(sample, 0) == "background[KAZ@2022-10-01] (people/day)"


# ------------------------------------------------------------- identification: one measure
def test_without_a_prior_the_data_are_measured_against_a_factor_of_100():
    """No prior: share = 1 - var_post / var_ref with var_ref the variance of a 95% interval spanning 100x."""
    from flowsim.calibration.fit import data_shares
    from flowsim.calibration.parameters import REFERENCE_SPAN

    ref = np.log(REFERENCE_SPAN) / (2 * 1.959963984540054)
    for a in (0.5, 2.0, 10.0):                                   # one residual of slope a: var_post = 1 / a^2
        share = data_shares(np.array([[a]]), np.array([ref]), np.array([True]))[0]
        assert share == pytest.approx(max(0.0, 1.0 - 1.0 / (a**2 * ref**2)), rel=1e-12)


def test_a_transit_time_the_figures_cannot_see_is_flagged_everywhere(weak_fit):
    """The 95% interval of tau_T spans orders of magnitude: weak, named in the header, the note and the CSV."""
    e = weak_fit.estimate("tau_T[KAZ]")
    assert e.ci_high / e.ci_low > 100 or not e.identified
    assert e.identification in ("weak", "none") and "tau_T[KAZ]" in weak_fit.not_identified
    text = str(weak_fit)
    assert "NOT PINNED DOWN by the figures" in text and "tau_T[KAZ]" in text.splitlines()[5]
    for name in ("pulse.total[KAZ]", "pulse.scale_days[KAZ]"):
        assert weak_fit.estimate(name).identification == "identified"
    from flowsim.io import estimates_csv_text

    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(estimates_csv_text(weak_fit)))}
    assert rows["tau_T[KAZ]"]["identification"] in ("weak", "none")
    assert rows["pulse.total[KAZ]"]["identification"] == "identified"
    assert rows["pulse.total[KAZ]"]["reference"] == "a factor of 100"


def test_exits_day_by_day_pin_the_transit_time_down():
    fit = _fit(ENTRIES + [("daily_exits", day(i), day(i)) for i in range(2, 24, 3)])
    assert fit.not_identified == ()
    e = fit.estimate("tau_T[KAZ]")
    assert e.identification == "identified" and e.data_share > 0.9 and e.ci_high / e.ci_low < 3
    assert "NOT PINNED DOWN" not in str(fit)


def test_calibrate_without_params_fits_the_default_choice():
    kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
    sc = flowsim.load_scenario("kazakhstan-2022")
    fit = flowsim.calibrate(sc, kaz, starts=1, max_nfev=3)
    assert [e.name for e in fit.estimates] == flowsim.calibration.default_fit_parameters(sc, kaz)
    assert fit.estimate("f0[KAZ]").prior                      # the default priors come with them
    with pytest.raises(flowsim.CalibrationError, match="list of parameter names"):
        flowsim.calibrate(sc, kaz, "tau_T[KAZ]")


def test_validation_report_names_what_the_figures_do_not_pin_down(weak_fit):
    obs = list(weak_fit.observation_model.observations)
    val = flowsim.validate(scenario(total=25_000.0, scale=5.0, tau_T=5.0), obs, day(30), FITTED,
                           background=weak_fit.background, starts=1)
    assert val.calibration.not_identified == ("tau_T[KAZ]",)         # entries only, fitted up to day 30
    head = str(val).split("\n\n")[0]
    assert "NOT PINNED DOWN by the figures" in head and "tau_T[KAZ]" in head


def test_a_closed_pipe_ends_quietly():
    """`flowsim list | head -1`: no BrokenPipeError traceback, exit 128 + SIGPIPE (or 0 if all fitted the pipe)."""
    import signal
    import subprocess
    import sys

    for args in (["list"], ["show", "kazakhstan-2022", "--full-sources"]):
        proc = subprocess.Popen([sys.executable, "-m", "flowsim", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=ROOT)
        proc.stdout.read(10)
        proc.stdout.close()                                   # the reader leaves, as `head` does
        err = proc.stderr.read().decode()
        status = proc.wait(timeout=60)
        assert "Traceback" not in err and "BrokenPipe" not in err, err
        assert status in (0, 128 + signal.SIGPIPE)
