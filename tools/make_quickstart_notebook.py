"""Build examples/quickstart.ipynb from a list of (kind, source) cells: python tools/make_quickstart_notebook.py."""
import nbformat as nbf

cells = [
("md", """# flowsim quick start

This notebook runs the seed scenario of flowsim, reads its per-host summary, tunes a
parameter and compares the outcome. Every cell runs as it is on a fresh install
(`pip install flowsim` with the `pandas` extra for the tables)."""),
("code", """import matplotlib.pyplot as plt

import flowsim

flowsim.__version__"""),
("md", """## 1. Run the seed scenario

`kazakhstan-2022`: the autumn-2022 outflow after Russia's mobilization into 8 hosts,
five years from 2022-09-21. The scenario is a frozen object; running it never changes it."""),
("code", """scenario = flowsim.load_scenario("kazakhstan-2022")
scenario"""),
("code", """result = flowsim.run(scenario)
result"""),
("md", """## 2. Read the summary

One row per host: the peak boost and its date, the date the net impact turns negative
(crossover), when the accumulated net changes sign (breakeven), the cumulative and
discounted net impact in USD, and the short- and long-term average net impact in USD/day."""),
("code", """table = result.summary()
table"""),
("code", """kaz = table["KAZ"]
print(f"Kazakhstan: peak boost {kaz['peak_boost_usd_per_day'] / 1e6:.2f} M USD/day on {kaz['peak_boost_date']}")
print(f"present value of net impact over 5 years: {kaz['pv_net_usd'] / 1e6:.0f} M USD")
print(f"conservation error: {result.conservation_error():.1e}")"""),
("code", """from flowsim.plotting import plot_boost_burden, plot_population

fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
plot_population(result, "KAZ", ax=axes[0], days=180)
plot_boost_burden(result, "KAZ", ax=axes[1])
plt.show()"""),
("md", """## 3. Tune a parameter

Every parameter knows its unit, bounds, plausible range and source. Here the job-finding
rate `f0` of Kazakhstan is halved, as if arrivals got no help finding work."""),
("code", """print(scenario.params.table()[0])
f0 = scenario.params.get("f0", "KAZ")
no_help = scenario.with_params(f0={"KAZ": f0 / 2})
slow = flowsim.run(no_help)
for label, res in (("baseline", result), ("f0 halved", slow)):
    row = res.summary()["KAZ"]
    print(f"{label:10s} employed after 1 year: {res.series('E', 'KAZ')[365]:8,.0f}   "
          f"PV of net: {row['pv_net_usd'] / 1e6:6.0f} M USD")"""),
("md", """## 4. Compare two scenarios

The net impact of both runs side by side."""),
("code", """fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
dates = result.dates.astype("datetime64[D]").astype(object)
ax.plot(dates, result.series("net", "KAZ") / 1e6, label="baseline")
ax.plot(dates, slow.series("net", "KAZ") / 1e6, label="f0 halved")
ax.axhline(0, color="grey", lw=0.6)
ax.set(title="Kazakhstan: net impact", xlabel="date", ylabel="USD million per day")
ax.legend()
plt.show()"""),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbf.v4.new_markdown_cell(s) if k == "md" else nbf.v4.new_code_cell(s) for k, s in cells]
nbf.write(nb, "examples/quickstart.ipynb")  # run from the repository root
