"""Redo the fits behind the built-in ``kazakhstan-2022-calibrated`` and print its values.

Run from the repository root: ``python tools/refit_kazakhstan_calibrated.py``
(a few minutes; ``--identifiability`` adds the study of every settled-stage
parameter of docs/calibration.md, "The settled stage"). Two fits, as the
scenario file's comments say:

1. the flows and the settled stage: the seed ``kazakhstan-2022`` fitted to the
   24 Kazakhstan figures of ``observations_2022`` (the pulse, ``tau_T``,
   ``q_ret``, the two background levels, and ``f0``, ``rho`` with the priors
   of :func:`flowsim.calibration.default_priors`), six starts, seed 0;
2. the economy on those flows: ``c_S``, ``c_R``, ``eps`` and
   ``transfer_share`` fitted to the Kazakhstan figures of
   ``economy_observations_2022`` with the shipped ranges as priors, four
   starts, seed 0.

It prints both reports and the values to 5 significant digits with their 95%
intervals, for ``flowsim/data/scenarios/kazakhstan-2022-calibrated.toml``.
"""

from __future__ import annotations

import argparse
import time

import flowsim
from flowsim.calibration import SETTLED_FIXED, default_priors

FLOWS = ["pulse.total[KAZ]", "pulse.shape[KAZ]", "pulse.scale_days[KAZ]", "tau_T[KAZ]", "q_ret[KAZ]",
         "background[KAZ]", "background[KAZ@2022-10-01]"]
SETTLED = ["f0[KAZ]", "rho[KAZ]"]
ECONOMY = ["c_S", "c_R", "eps", "transfer_share"]


def _sig(x: float) -> str:
    return f"{x:.5g}"


def fit_flows_and_settled(starts: int = 6):
    """Fit 1: the seed's flows and settled stage to the 24 Kazakhstan figures."""
    seed = flowsim.load_scenario("kazakhstan-2022")
    kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
    names = FLOWS + SETTLED
    return flowsim.calibrate(seed, kaz, names, starts=starts, seed=0, priors=default_priors(names))


def fit_economy(scenario, starts: int = 4):
    """Fit 2: the economy on the fitted flows, the shipped ranges as priors."""
    money = flowsim.datasets.economy_observations_2022().filter(host="KAZ")
    shipped = flowsim.reference_parameters(["KAZ"]).ranges
    return flowsim.calibrate(scenario, money, [f"{n}[KAZ]" for n in ECONOMY], starts=starts, seed=0,
                             priors={f"{n}[KAZ]": tuple(shipped[n][0]) for n in ECONOMY})


def identifiability(scenario, background):
    """Every settled-stage candidate fitted with the flows from ``scenario``, each with its shipped range."""
    kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
    shipped = flowsim.reference_parameters(["KAZ"]).ranges
    candidates = ["f0", "rho", *[n for n in SETTLED_FIXED if n != "q_out"]]
    priors = {f"{n}[KAZ]": tuple(shipped[n][0]) for n in candidates}
    return flowsim.calibrate(scenario, kaz, FLOWS + list(priors), starts=1, background=background, priors=priors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identifiability", action="store_true", help="also fit every settled-stage parameter")
    args = parser.parse_args()
    t0 = time.perf_counter()
    flows = fit_flows_and_settled()
    print(flows)
    print(f"\n[{time.perf_counter() - t0:.0f} s] flows and settled stage; costs of the starts:",
          ", ".join(f"{s.cost:.4g}" for s in flows.starts))
    econ = fit_economy(flows.scenario)
    print(econ)
    print(f"\n[{time.perf_counter() - t0:.0f} s] economy")
    print("\nvalues for the scenario file (5 significant digits; 95% interval; identification; share of the "
          "reference's variance the data remove, and the reference):")
    for e in (*flows.estimates, *econ.estimates):
        print(f"  {e.name:28s} {_sig(e.value):>10s}   {_sig(e.ci_low)} .. {_sig(e.ci_high)}   "
              f"{e.identification} data_share={e.data_share:.3f} ({e.reference})")
    print("  background:", repr(flows.background))
    if args.identifiability:
        study = identifiability(flows.scenario, flows.background)
        print(study)
        print("\nidentifiability of every settled-stage parameter (fitted together with the flows):")
        for e in study.estimates[len(FLOWS):]:
            print(f"  {e.name:12s} {_sig(e.value):>10s}  prior {e.prior}  data remove {100 * e.data_share:.1f}% "
                  f"of its prior variance; identified (no flat direction): {e.identified}")
        print(f"\n[{time.perf_counter() - t0:.0f} s] identifiability")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
