"""Build examples/quickstart.ipynb from a list of (kind, source) cells: python tools/make_quickstart_notebook.py.

The notebook is executed end to end by tests/test_notebooks.py, which also checks
the numbers its last cell prints (``CHECKS``): edit the cells here, never the .ipynb.
"""

from pathlib import Path

import nbformat as nbf

OUT = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"

cells = [
("md", """# flowsim quick start

This notebook takes a tour of flowsim in about 10 seconds of computing (8 s of processor
time measured for all its cells; longer on a busy machine):

1. run the seed scenario and 2. read its accounts and per-host summaries;
3. tune a parameter and 4. compare the two runs;
5. load a scenario from the built-in library and write one of your own as a TOML file,
   and compare them with the seed;
6. run an ensemble over the parameters' uncertainty ranges: event probabilities and fan charts;
7. calibrate Kazakhstan's flow parameters against the figures published in autumn 2022.

Every cell runs as it is on a fresh install (`pip install .` in the flowsim source folder;
the name `flowsim` on PyPI is another project; `pip install '.[pandas]'` adds
`to_dataframe()` tables). Money is in US dollars (USD) of the host economy, people
are persons, rates are per day; the model and its parameters are described in
`docs/model.md` and `docs/parameters.md`."""),
("code", """import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import flowsim
from flowsim.plotting import plot_account, plot_boost_burden, plot_fan, plot_net_overlay, plot_population

flowsim.__version__"""),
("md", """## 1. Run the seed scenario

`kazakhstan-2022`: the autumn-2022 outflow after Russia's mobilization into 8 hosts,
five years from 2022-09-21. The scenario is a frozen object; running it never changes it.
The result shows each host's accounts (docs/model.md v2): the present value (USD million) of
the money the arrivals bring in (`inflow`), of their contribution to GDP (`value_added`),
of the public budget's balance (`fiscal`) and of what the host's residents gain or lose
(`residents`), and when the budget and the residents' balance turn from gain to loss for
good (the *sustained* crossover: negative for `D_x` = 180 days or more). The v1 net
impact indicator (`net`) is kept for continuity. The accounts are alternative views of
the same flows: never add them."""),
("code", """scenario = flowsim.load_scenario("kazakhstan-2022")
scenario"""),
("code", """result = flowsim.run(scenario)
result"""),
("md", """## 2. Read the summaries

`result.summary()` has one row per host for one balance, by default the residents' one:
what the balance does (`status`: e.g. `sustained` when it turns negative for good,
`never_negative`), its peak (USD/day) and date, the first day it turns negative after a
gain (crossover) and the sustained crossover, when the accumulated balance changes sign
(breakeven), its cumulative and discounted (present value) sum in USD, and its short-
and long-term averages in USD/day. `result.summary("fiscal")` gives the budget's,
`result.summary("all")` every balance (the rows of `summary.csv`)."""),
("code", """table = result.summary()            # the residents' balance
table"""),
("code", """every = result.summary("all")
money = every["KAZ", "inflow"]
print(f"Kazakhstan: money brought in peaks at {money['peak_usd_per_day'] / 1e6:.2f} M USD/day "
      f"on {money['peak_date']}")
for balance in ("fiscal", "residents", "net"):
    row = every["KAZ", balance]
    print(f"{balance:9s} present value over 5 years: {row['pv_usd'] / 1e6:5.0f} M USD, status {row['status']}, "
          f"sustained crossover {row['sustained_crossover_date']}")
print(f"conservation error: {result.conservation_error():.1e}")"""),
("md", """Left: who is present in Kazakhstan over the first 180 days (thousands of people,
stacked by compartment, so the top edge is everyone present). Middle: the v1 boost, burden
and their difference, the net impact indicator. Right: the residents' balance, with its
first crossover (circle) and its sustained crossover (dotted line); all in USD million
per day."""),
("code", """fig, axes = plt.subplots(1, 3, figsize=(16, 4), layout="constrained")
plot_population(result, "KAZ", ax=axes[0], days=180)
plot_boost_burden(result, "KAZ", ax=axes[1])
plot_account(result, "KAZ", "residents", ax=axes[2])
plt.show()"""),
("md", """## 3. Tune a parameter

Every parameter knows its unit, bounds, plausible range and source. Here the job-finding
rate `f0` of Kazakhstan (per day, at an empty labour market) is halved, as if arrivals
got no help finding work."""),
("code", """print(next(p for p in scenario.params.table() if p.name == "f0" and p.host == "KAZ"))
f0 = scenario.params.get("f0", "KAZ")
no_help = scenario.with_params(f0={"KAZ": f0 / 2})
slow = flowsim.run(no_help)
for label, res in (("baseline", result), ("f0 halved", slow)):
    pv = {b: res.summary(b)["KAZ"]["pv_usd"] / 1e6 for b in ("fiscal", "residents", "net")}
    print(f"{label:10s} employed after 1 year: {res.series('E', 'KAZ')[365]:8,.0f}   PV (M USD): "
          f"fiscal {pv['fiscal']:5.0f}, residents {pv['residents']:5.0f}, net (v1) {pv['net']:5.0f}")"""),
("md", """## 4. Compare two runs

The public budget's balance and the residents' of both runs side by side (USD million
per day): fewer people in work means fewer taxes and more support paid, but also fewer
local workers displaced."""),
("code", """fig, axes = plt.subplots(1, 2, figsize=(13, 4), layout="constrained")
dates = result.dates.astype("datetime64[D]").astype(object)
for ax, balance in zip(axes, ("fiscal", "residents")):
    ax.plot(dates, result.series(balance, "KAZ") / 1e6, label="baseline")
    ax.plot(dates, slow.series(balance, "KAZ") / 1e6, label="f0 halved")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set(title=f"Kazakhstan: {balance} balance", xlabel="date", ylabel="USD million per day")
    ax.legend()
plt.show()"""),
("md", """## 5. Scenarios from the library and from a file

flowsim ships a library of scenarios, each a variant of the seed with its story and
sources (`python -m flowsim list`, `python -m flowsim show NAME`):"""),
("code", """for name, summary in flowsim.list_scenarios().items():
    print(f"{name:24s} {summary}")"""),
("md", """Your own scenario is a short TOML file that starts from a built-in one (`base`) and
says only what differs (the format: `docs/scenarios.md`; `python -m flowsim init my.toml`
writes a commented template). This one overrides one parameter, the months savings last
in Kazakhstan `tau_S` (days), and adds one policy, a job desk that doubles Kazakhstan's
job-finding rate `f0` from 1 January 2023. The file goes to a temporary folder here; any
path works."""),
("code", """toml = '''
name = "kaz-short-savings-job-desk"
summary = "Savings in Kazakhstan last 90 days instead of 120; a job desk doubles f0 there from 2023."
base = "kazakhstan-2022"

[parameters.KAZ]
tau_S = { value = 90, source = "assumption: arrivals brought less money than in the seed" }

[[policies]]
parameter = "f0"
hosts = ["KAZ"]
start = 2023-01-01
factor = 2.0
source = "assumption: a one-stop job desk for newcomers"
'''
path = Path(tempfile.mkdtemp()) / "kaz-short-savings-job-desk.toml"
path.write_text(toml)
mine = flowsim.read_scenario(path)
print(mine.name, "| tau_S[KAZ] =", mine.params.get("tau_S", "KAZ"), "days |", len(mine.policies), "policy")"""),
("md", """Run the seed, the library's `border-closure` (Kazakhstan closed from 28 September to the
end of 2022, half of those turned back go to other hosts) and the file's scenario, and
compare every summary figure of every balance against the seed with
`flowsim.analysis.compare`. The differences are in the figure's unit (people, USD,
USD/day) and in days for dates (0 when the date occurs in neither run; n/a when in only
one)."""),
("code", """from flowsim.analysis.compare import compare_results

closure = flowsim.load_scenario("border-closure")
runs = [result, flowsim.run(closure), flowsim.run(mine)]
differences = compare_results(runs)
shown = ("cumulative_usd", "pv_usd", "sustained_crossover_date", "long_term_usd_per_day")
print(f"{'Kazakhstan':28s} {'balance':10s} {'figure':26s} {'difference vs seed':>20s}  unit")
for d in differences:
    if d.host == "KAZ" and d.balance in ("fiscal", "residents", "net") and d.figure in shown:
        value = "n/a (" + d.note + ")" if d.difference is None else f"{round(d.difference):,}"
        print(f"{d.scenario:28s} {d.balance:10s} {d.figure:26s} {value:>20s}  {d.unit}")"""),
("md", """The same comparison as curves: Kazakhstan's residents' balance per day over the first
year (USD million per day, left) and accumulated over the five years (USD million,
right). The seed is the black line; the others are dashed. `python -m flowsim compare
kazakhstan-2022 border-closure my.toml --out out/cmp` writes the table and the figures
of every host (net impact indicator, residents, fiscal)."""),
("code", """fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), layout="constrained")
plot_net_overlay(runs, "KAZ", ax=axes[0], days=365, variable="residents")
plot_net_overlay(runs, "KAZ", ax=axes[1], cumulative=True, legend=False, variable="residents")
axes[0].set_title("Kazakhstan: residents' balance, first year")
axes[1].set_title("Kazakhstan: cumulative residents' balance, five years")
plt.show()"""),
("md", """## 6. An ensemble: how sure are these numbers?

Every parameter has a plausible range next to its value. `flowsim.ensemble` draws
parameter sets from those ranges (here 64 members, Latin hypercube, seed fixed so the
numbers repeat), runs them all at once, and keeps people present `N` and the net
impact per day and host, and every summary of every balance. The table gives, per host,
the share of members whose residents' balance turns negative within the five years
(`P(crossover)`), the median crossover date among the members that cross, and the share
with a negative present value; `ens.events()` has the same per balance, with sustained
crossovers (a share of sampled scenarios, not a probability of the world). 64 members
take under a second and give a first look; use 1000 or more for numbers you quote
(`docs/uncertainty.md`)."""),
("code", """ens = flowsim.ensemble(scenario, 64, seed=1, progress=False)
ens"""),
("code", """for balance in ("fiscal", "residents", "net"):
    crosses = ens.crossover_probability(host="KAZ", balance=balance)
    for_good = ens.crossover_probability(host="KAZ", balance=balance, sustained=True)
    print(f"Kazakhstan {balance:9s}: turns negative in {crosses:.0%} of the members, for good in {for_good:.0%}")"""),
("md", """Fan charts of Kazakhstan: the line is the median over the members, the dark band the
middle 50% (25th to 75th percentile), the light band 90% (5th to 95th), day by day.
Left: people present (thousands); right: net impact (USD million per day)."""),
("code", """fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
plot_fan(ens, "N", "KAZ", ax=axes[0])
plot_fan(ens, "net", "KAZ", ax=axes[1])
axes[0].set_title("Kazakhstan: people present, 64 members")
axes[1].set_title("Kazakhstan: net impact, 64 members")
plt.show()"""),
("md", """## 7. Calibrate against what was observed in 2022

flowsim ships the figures published after 21 September 2022 (border counts, registrations,
shares, stocks), each with its source (`flowsim.datasets.observations_2022()`). Border
counts are gross: they include ordinary travellers, so a background traffic rate per day
is fitted along with the model's parameters."""),
("code", """observations = flowsim.datasets.observations_2022().filter(host="KAZ")
first = observations[0]
print(len(observations), "Kazakhstan figures; the first:", first.quantity, first.date_start, first.date_end,
      first.value, first.unit, "-", first.source_title)"""),
("md", """A quick fit of five numbers: the total of Kazakhstan's arrival pulse (people) and its
time scale (days), the share of transit leavers who go home `q_ret`, and the background
traffic before and from 1 October 2022 (people/day), from 2 starting points (a few
seconds). All five are identified: the figures pin each down (the report would say
`NOT IDENTIFIED` otherwise). The fit of `docs/calibration.md` frees seven parameters from
six starts.

The report gives the estimates with 95% intervals and, per observation, what it asks
(`=` a figure, `>=` a lower bound, `in [..]` a range), its weight, the model's value
before and after fitting and the relative error. MAPE is the mean absolute percentage
error over the figures (a bound that holds counts 0)."""),
("code", """fit = flowsim.calibrate(
    scenario, observations,
    params=["pulse.total[KAZ]", "pulse.scale_days[KAZ]", "q_ret[KAZ]",
            "background[KAZ]", "background[KAZ@2022-10-01]"],
    starts=2, seed=0,
)
fit"""),
("md", """How to read the fit plot: one row per figure; the x axis is the model's value divided
by the published figure on a log scale, so 1 is an exact match. A grey band is the
figure's relative uncertainty, a green bar what a bound or range accepts (an arrow:
open-ended). Blue dots are the fitted model, open circles the seed before fitting."""),
("code", """fit.plot()
plt.show()"""),
("md", """`fit.scenario` is the seed with the fitted values: an ordinary scenario that runs,
compares and feeds ensembles like any other. This quick fit keeps fewer arrivals than
the seed (part of the border counts are ordinary travellers, now the background) but
sends far fewer of them home (`q_ret` in the table above), so more people stay in
Kazakhstan and the money they bring in grows. Before drawing conclusions from a fit, read its
report: the seed scenario as it is (no background traffic) misses the same figures by
32% on average (MAPE), and
`docs/calibration.md` discusses which figures disagree with each other."""),
("code", """fitted = flowsim.run(fit.scenario)
for label, res in (("seed", result), ("fitted", fitted)):
    row = res.summary()["KAZ"]
    print(f"{label:7s} peak present in Kazakhstan {row['peak_present']:9,.0f} people   "
          f"PV of the residents' balance {row['pv_usd'] / 1e6:5.0f} M USD, status {row['status']}")"""),
("md", """## Checks

The numbers below are checked by the test that runs this notebook
(`tests/test_notebooks.py`)."""),
("code", """CHECKS = {
    "seed_pv_residents_kaz_usd": table["KAZ"]["pv_usd"],
    "seed_residents_kaz_sustained_crossover": str(table["KAZ"]["sustained_crossover_date"]),
    "conservation_error": result.conservation_error(),
    "file_tau_S_kaz_days": mine.params.get("tau_S", "KAZ"),
    "closure_cum_net_kaz_diff_usd": next(d.difference for d in differences if d.scenario == "border-closure"
                                         and d.host == "KAZ" and d.balance == "net"
                                         and d.figure == "cumulative_usd"),
    "closure_cum_residents_kaz_diff_usd": next(d.difference for d in differences if d.scenario == "border-closure"
                                               and d.host == "KAZ" and d.balance == "residents"
                                               and d.figure == "cumulative_usd"),
    "ensemble_members": ens.n_members,
    "ensemble_p_crossover_kaz": float(ens.crossover_probability(host="KAZ")),
    "ensemble_p_sustained_fiscal_kaz": float(ens.crossover_probability(host="KAZ", balance="fiscal",
                                                                       sustained=True)),
    "fit_mape_percent": fit.mape,
    "fit_converged": bool(fit.success),
    "fit_pulse_total_kaz": fit.estimate("pulse.total[KAZ]").value,
}
print(json.dumps(CHECKS))"""),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbf.v4.new_markdown_cell(s) if k == "md" else nbf.v4.new_code_cell(s) for k, s in cells]
for i, cell in enumerate(nb.cells):
    cell.id = f"cell-{i:02d}"      # stable ids: regenerating an unchanged list gives the same file
nbf.write(nb, OUT)
