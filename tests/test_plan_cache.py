"""Repeated ensembles of one scenario reuse its step plan (issue 13): same numbers, no second plan."""

import numpy as np

import flowsim
from flowsim import simulate as chunks  # the plans live with the one solve path


def test_second_ensemble_reuses_the_plan(monkeypatch):
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=60)
    first = flowsim.ensemble(sc, 3, vary={"tau_S": (60, 240)}, seed=1, progress=False)
    made = []
    monkeypatch.setattr(chunks, "_make_plan", lambda *a, **k: made.append(a) or None)
    again = flowsim.ensemble(sc, 3, vary={"tau_S": (60, 240)}, seed=1, progress=False)
    assert not made                                           # the cached plan was used
    np.testing.assert_array_equal(first.series["N"], again.series["N"])
    with_other_ranges = sc.replace(horizon_days=60)           # another scenario object: its own plan
    try:
        flowsim.ensemble(with_other_ranges, 2, vary={"tau_S": (60, 240)}, seed=1, progress=False)
    except AttributeError:                                    # the stub returned no plan: it was asked for one
        pass
    assert len(made) == 1
