"""Make ``v1_reference.npz``: series of the v1 release (commit 6de6bf1), before docs/model.md v2.

Run once, on the v1 code, with ``python tests/data/make_v1_reference.py``. It saves, for the
seed and two other built-ins, every compartment and every v1 economy series of every host on
days 0..30 and then every 10th day, from ``flowsim.run`` with the default solver options
(RK45, rtol 1e-8, atol 1e-6). ``test_economy_v2.py`` holds the v2 code, with ``nu_R = 0``, zero
taxes and ``rd = L/Hs``, against these values.
"""

from pathlib import Path

import numpy as np

import flowsim

SCENARIOS = ("kazakhstan-2022", "with-spring-wave", "remote-income-shock")
V1_ECONOMY = ("spending", "work", "public", "support", "displacement", "rent", "boost", "burden", "net",
              "net_share_gdp")
DAYS = np.unique(np.concatenate([np.arange(31), np.arange(0, 1827, 10)]))


def main():
    out = {"days": DAYS}
    for name in SCENARIOS:
        res = flowsim.run(flowsim.load_scenario(name))
        key = name.replace("-", "_")
        out[f"{key}__compartments"] = np.asarray(res.compartments)
        out[f"{key}__states"] = res.states[0][:, :, DAYS]
        out[f"{key}__economy"] = np.stack([res.economy[0, :, list(res.variables).index(v), DAYS].T
                                           for v in V1_ECONOMY], axis=1)
        out[f"{key}__hosts"] = np.asarray(res.hosts)
    np.savez_compressed(Path(__file__).with_name("v1_reference.npz"), **out)


if __name__ == "__main__":
    main()
