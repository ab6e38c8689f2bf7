"""The seed scenario end to end: run, read the summary, change a parameter, plot.

Usage::

    python examples/kazakhstan_2022.py [OUTPUT_FOLDER]     # default: out/example

It runs the built-in ``kazakhstan-2022`` scenario (the autumn-2022 outflow
from Russia into 8 host countries, 5 years from 2022-09-21), prints the
accounts of every host (docs/model.md v2: the money brought in, value added, the
public budget and the residents' balance, with the v1 net impact indicator)
and Kazakhstan's summary per balance, checks the arrivals and conservation,
runs a variant in which migrants find jobs in Kazakhstan twice as fast, and
saves the small-multiple figures into OUTPUT_FOLDER. See docs/model.md for
the meaning of every number printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files only; no window (works on servers and in CI)

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

import flowsim  # noqa: E402
from flowsim.plotting import plot_accounts_grid, plot_boost_burden_grid, plot_population_grid  # noqa: E402


def main(out_dir: str = "out/example") -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    # 1. The seed scenario: frozen inputs (parameters, arrival pulses, TKM closed).
    scenario = flowsim.load_scenario("kazakhstan-2022")
    print(scenario)

    # 2. Run it. The scenario is not modified; everything lands in a Result.
    result = flowsim.run(scenario)
    print()
    print(result)  # the accounts of every host: present values (USD million) and when they turn
    print()
    # Every summary figure of one host, one row per balance. The accounts are views of
    # the same flows: never add them. A crossover is when a balance turns from gain to
    # loss; the *sustained* one (negative for D_x days or more) is the date to quote.
    table = result.summary("all")
    for balance in table.balances:
        row = table["KAZ", balance]
        turns = row["sustained_crossover_date"] or "-"
        print(f"KAZ {balance:<12} status {row['status']:<15} PV {row['pv_usd'] / 1e6:8,.1f} million USD"
              f"  sustained crossover {turns}")

    # 3. Checks: direct arrivals into Kazakhstan during the first week (docs/model.md asks
    #    for ~100,000 within 5%) and conservation of people (<= 1e-6 relative).
    kaz = result.hosts.index("KAZ")
    day7 = result.cumulative_arrivals[7, kaz]  # people, exact integral of a_KAZ over [0, 7]
    print(f"\nKAZ cumulative direct arrivals by day 7 ({result.dates[7]}): {day7:,.0f} people")
    print(f"conservation error (relative): {result.conservation_error():.2e}")
    print(f"most negative compartment (relative to all people): {result.min_relative_stock():.1e}")

    # 4. A variant: migrants find jobs in Kazakhstan twice as fast (f0 is the
    #    job-finding rate at an empty labour market, 1/day). with_params returns
    #    a new scenario; the original is untouched.
    f0_kaz = scenario.params.get("f0", "KAZ")
    faster = scenario.with_params(f0={"KAZ": 2 * f0_kaz})
    variant = flowsim.run(faster)
    names = {"fiscal": "the public budget", "residents": "the residents' balance",
             "net": "the net impact indicator (v1)"}
    for balance, name in names.items():
        pv0 = result.summary(balance)["KAZ"]["pv_usd"]
        pv1 = variant.summary(balance)["KAZ"]["pv_usd"]
        print(f"\nKAZ present value of {name}, f0 = {f0_kaz:g}/day: {pv0 / 1e6:,.1f} million USD")
        print(f"KAZ present value of {name}, f0 = {2 * f0_kaz:g}/day: {pv1 / 1e6:,.1f} million USD "
              f"({(pv1 - pv0) / 1e6:+,.1f} million USD)")

    # The time series are plain arrays on the daily grid (result.dates):
    employed0 = result.series("E", "KAZ")
    employed1 = variant.series("E", "KAZ")
    print(f"KAZ employed migrants after one year: {employed0[365]:,.0f} -> {employed1[365]:,.0f}")

    # 5. Figures: one panel per host. Each function returns (figure, axes).
    for name, draw in (("accounts.png", plot_accounts_grid),
                       ("population.png", plot_population_grid),
                       ("boost_burden.png", plot_boost_burden_grid)):
        fig, _ = draw(result)
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
