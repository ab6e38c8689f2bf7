"""Your own event: from a CSV of daily arrivals and a table of hosts to a calibrated scenario and its accounts.

Usage::

    python examples/your_own_event.py [OUTPUT_FOLDER]     # default: out/your_own_event

The code of ``docs/your-own-event.md``, step by step, on a small synthetic
event (people leaving "Freedonia" into two hosts, ALP and BRV, from
1 March 2024): so that it runs anywhere, the script first writes the three
input files a real study would collect (daily arrivals, host values, onward
shares) and figures "published" later, made by the model itself from known
values. Then it does what you would do with real files:

1. read the hosts and the daily arrivals (``flowsim.hosts_from_csv``,
   ``flowsim.daily_arrivals_from_csv``) into a scenario;
2. run it and read its accounts;
3. calibrate the parameters the figures can tell (``flowsim.calibrate``),
   with the identifiability of each;
4. run the calibrated scenario and write its accounts figure.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files only; no window

import matplotlib.pyplot as plt  # noqa: E402

import flowsim  # noqa: E402
from flowsim.plotting import plot_accounts_grid  # noqa: E402
from flowsim.scenario.host import HOST_PARAMETERS  # noqa: E402

START = dt.date(2024, 3, 1)

# ----------------------------------------------------------------- 0. the inputs a study would collect
#: Host values: (value, low, high) per parameter; a real table cites a source per row.
VALUES = {
    "tau_T": (3.0, 1.0, 8.0), "q_on": (0.3, 0.1, 0.5), "q_ret": (0.2, 0.05, 0.4), "rho": (0.1, 0.02, 0.3),
    "tau_S": (120.0, 60.0, 240.0), "f0": (0.01, 0.003, 0.03), "phi_S": (0.5, 0.2, 1.0), "K": (40000.0, 1e4, 1e5),
    "lam_S": (0.002, 0.0005, 0.006), "lam_R": (0.001, 0.0003, 0.003), "lam_E": (0.0005, 0.0002, 0.002),
    "lam_U": (0.003, 0.001, 0.008), "q_out": (0.3, 0.1, 0.6), "nu_R": (0.001, 0.0003, 0.005),
    "c_T": (40.0, 20.0, 80.0), "c_S": (15.0, 8.0, 30.0), "c_R": (35.0, 20.0, 60.0), "m": (0.6, 0.4, 0.9),
    "w": (40.0, 30.0, 50.0), "pi": (0.7, 0.5, 1.0), "delta": (0.1, 0.0, 0.3), "g_pub": (8.0, 4.0, 14.0),
    "b_U": (6.0, 2.0, 12.0), "rd": (15.0, 10.0, 25.0), "Hs": (200000.0, 1e5, 4e5), "hR": (0.3, 0.15, 0.45),
    "eps": (1.5, 0.5, 3.0), "tau_c": (0.1, 0.05, 0.15), "tau_w": (0.3, 0.2, 0.4), "tax_R": (0.5, 0.0, 2.0),
    "transfer_share": (0.6, 0.3, 0.9), "gdp": (5e11, 4.5e11, 5.5e11),
}
#: What is really true in this synthetic world (the calibration should find it): BRV keeps people longer.
TRUTH = {"tau_T[ALP]": 5.0, "q_ret[ALP]": 0.35, "g_pub[BRV]": 11.0}


def write_inputs(folder: Path) -> dict:
    """Write the host table, the onward table and the daily arrivals of the synthetic event."""
    folder.mkdir(parents=True, exist_ok=True)
    assert set(VALUES) == set(HOST_PARAMETERS)                     # every per-host parameter has a row
    rows = ["name,host,value,low,high,source"]
    for host in ("ALP", "BRV"):
        for name, (value, low, high) in VALUES.items():
            rows.append(f"{name},{host},{value!r},{low!r},{high!r},assumption: synthetic example")
    (folder / "hosts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "onward.csv").write_text("host,destination,share,source\nALP,BRV,0.6,assumption\nALP,W,0.4,assumption\n"
                                       "BRV,W,1.0,assumption\n", encoding="utf-8")
    lines = ["host,date,entries"]
    for d in range(40):                                             # a wave that rises and fades in 40 days
        day = START + dt.timedelta(days=d)
        lines.append(f"ALP,{day},{round(6000 * d * 0.85 ** d, 1)}")
        lines.append(f"BRV,{day},{round(1500 * d * 0.8 ** d, 1)}")
    (folder / "arrivals.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"hosts": folder / "hosts.csv", "onward": folder / "onward.csv", "arrivals": folder / "arrivals.csv"}


def build_scenario(files: dict) -> flowsim.Scenario:
    """Step 1: the scenario from the files (any hosts, any origin)."""
    hosts = flowsim.hosts_from_csv(files["hosts"], onward=files["onward"],
                                   names={"ALP": "Alpinia", "BRV": "Bravia"})
    arrivals = flowsim.daily_arrivals_from_csv(files["arrivals"])
    params = flowsim.reference_parameters(["KAZ"]).with_hosts(*hosts).select(["ALP", "BRV"])
    return flowsim.Scenario(params=params, start=START, horizon_days=3 * 365, origin="Freedonia",
                            arrivals=arrivals, name="freedonia-2024")


def published_figures(scenario: flowsim.Scenario) -> list:
    """Figures a statistics office would publish, made by the model from TRUTH (a stand-in for real ones)."""
    truth = scenario.with_params(tau_T={"ALP": TRUTH["tau_T[ALP]"]}, q_ret={"ALP": TRUTH["q_ret[ALP]"]},
                                 g_pub={"BRV": TRUTH["g_pub[BRV]"]})
    wanted = [("ALP", "stock_present", 14), ("ALP", "stock_present", 30), ("ALP", "stock_present", 60),
              ("ALP", "stock_present", 120), ("ALP", "cumulative_exits", 20), ("BRV", "stock_present", 60),
              ("BRV", "fiscal_cost", 180)]
    obs = [flowsim.Observation(host=h, quantity=q, date_start=START, date_end=START + dt.timedelta(days=d), value=1.0)
           for h, q, d in wanted]
    values = flowsim.ObservationModel.build(obs).predict(flowsim.run(truth.replace(horizon_days=200)))
    return [o.replace(value=round(float(v), -1)) for o, v in zip(obs, values)]


def main(out: Path) -> None:
    files = write_inputs(out / "inputs")
    scenario = build_scenario(files)
    result = flowsim.run(scenario)
    print(result)                                                       # step 2: the accounts
    print(f"\nconservation error {result.conservation_error():.1e}; ALP entries by day 40: "
          f"{result.cumulative_arrivals[40, 0]:,.0f} (the daily data summed)")

    figures = published_figures(scenario)                               # step 3: calibrate
    fit = flowsim.calibrate(scenario, figures, ["tau_T[ALP]", "q_ret[ALP]", "g_pub[BRV]"], starts=2)
    print()
    print(fit)
    for name, value in TRUTH.items():
        e = fit.estimate(name)
        print(f"{name}: true {value:g}, fitted {e.value:.4g} ({e.ci_low:.4g} .. {e.ci_high:.4g}), "
              f"{'identified' if e.identified else 'NOT identified'} by the figures")

    calibrated = fit.scenario.replace(name="freedonia-2024-calibrated")  # step 4: run it, write its accounts
    res = flowsim.run(calibrated)
    row = res.summary("fiscal")["BRV"]
    print(f"\nBRV public budget: PV {row['pv_usd'] / 1e6:,.1f} USD million, status {row['status']}, "
          f"sustained crossover {row['sustained_crossover_date'] or '-'}")
    fig, _ = plot_accounts_grid(res)
    fig.savefig(out / "accounts.png", dpi=90)
    plt.close(fig)
    print(f"wrote {out / 'accounts.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/your_own_event"))
