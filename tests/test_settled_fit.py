"""The settled stage in the default fit: f0 and rho with priors, data shares, the fixed parameters.

Synthetic figures of the registered employed come from a one-host scenario with a known job-finding
rate (runs of 45 days, a second or so per fit); the 2022 tests use the shipped figures and scenarios.
"""

import numpy as np
import pytest
from conftest import day
from conftest import pulse_scenario as scenario

import flowsim
from flowsim import BackgroundTraffic, Observation, ObservationModel
from flowsim.calibration import (
    SETTLED_FIT,
    SETTLED_FIXED,
    WEAKLY_IDENTIFIED,
    ParameterVector,
    default_fit_parameters,
    default_priors,
)
from flowsim.calibration.fit import data_shares

SETTLED = ("f0", "K", "tau_S", "lam_S", "lam_R", "lam_E", "lam_U", "rho", "phi_S", "nu_R", "q_out")


def test_data_shares_against_the_closed_form():
    """One parameter seen by one residual with slope a, prior sd s: share = a^2 s^2 / (1 + a^2 s^2)."""
    a, s = 3.0, 0.5
    J = np.array([[a, 0.0], [0.0, 0.0], [1 / s, 0.0], [0.0, 1 / s]])     # two data rows, then the priors
    share = data_shares(J, np.array([s, s]), np.array([True, True]))
    assert share[0] == pytest.approx(a**2 * s**2 / (1 + a**2 * s**2), rel=1e-12)
    assert share[1] == pytest.approx(0.0, abs=1e-12)                        # no data on it: all prior
    # without a prior: 1 when determined, 0 when not
    np.testing.assert_array_equal(data_shares(J[:2], np.array([np.inf, np.inf]), np.array([True, False])), [1, 0])


def test_every_settled_parameter_is_fitted_or_fixed_with_a_reason():
    fitted = {n for names in SETTLED_FIT.values() for n in names}
    assert fitted == {"f0", "rho"}
    assert fitted | set(SETTLED_FIXED) == set(SETTLED) and not fitted & set(SETTLED_FIXED)
    assert all(len(reason) > 40 for reason in SETTLED_FIXED.values())


def test_default_fit_adds_f0_and_rho_where_employment_is_published():
    obs = flowsim.datasets.observations_2022()
    sc = flowsim.load_scenario("kazakhstan-2022-calibrated")
    names = default_fit_parameters(sc, obs.filter(host="KAZ"))
    assert names == ["pulse.total[KAZ]", "pulse.scale_days[KAZ]", "tau_T[KAZ]", "f0[KAZ]", "rho[KAZ]",
                     "background[KAZ]", "background[KAZ@2022-10-01]"]
    # before the first employment figure (11 Oct) nothing settled is fitted
    assert not any(n.startswith(("f0", "rho")) for n in default_fit_parameters(sc, obs.until("2022-10-04")))
    # Georgia and Armenia publish only stocks, which their pulses absorb: no settled parameter
    spring = flowsim.load_scenario("with-spring-wave")
    assert not any(n.split("[")[0] in SETTLED for n in default_fit_parameters(spring, obs.filter(host=("GEO", "ARM"))))


def test_default_priors_are_the_sources_ranges_not_a_previous_fit():
    """rho from the emigrant surveys (0.15-0.5), f0 the shipped assumption (0.005-0.025), whatever the scenario."""
    pri = default_priors(["pulse.total[KAZ]", "tau_T[KAZ]", "f0[KAZ]", "rho[KAZ]", "rho[GEO]", "c_S[KAZ]"])
    assert pri == {"f0[KAZ]": (0.005, 0.025), "rho[KAZ]": (0.15, 0.5), "rho[GEO]": (0.17, 0.55), "c_S[KAZ]": "range"}
    cal = flowsim.load_scenario("kazakhstan-2022-calibrated")
    k = cal.hosts.index("KAZ")
    assert tuple(cal.params.ranges["rho"][k]) != (0.15, 0.5)      # the calibrated scenario holds the fit's interval
    # a host outside the reference library takes the scenario's range
    assert default_priors(["f0[POL]"]) == {"f0[POL]": "range"}


@pytest.fixture(scope="module")
def employment_truth():
    """The one-host scenario with f0 = 0.02, and exact figures of E on days 14, 29 and 44."""
    bg = BackgroundTraffic(entries={"KAZ": 1_000.0})
    sc, _ = ParameterVector(["f0[KAZ]"], scenario(), bg).apply(np.array([0.02]))
    obs = [Observation(host="KAZ", quantity="employed_registered", date_start=day(0), date_end=day(i), value=1.0)
           for i in (14, 29, 44)]
    values = ObservationModel.build(obs, bg).predict(flowsim.run(sc))
    obs = [o.replace(value=float(v), low=float(v), high=float(v)) for o, v in zip(obs, values)]
    return obs, bg


def test_f0_is_recovered_and_identified_rho_stays_with_its_prior(employment_truth):
    """Figures of E (sigma 2%) determine f0 (the data remove most of its prior variance; the truth is
    at 1.4 prior sd from the prior's centre, and the estimate, a maximum a posteriori one, gives a little
    of that to rho: E sees f0 times the savers, 1 - rho of the settlers); rho stays near its prior, weakly
    identified; a remote workers' leaving rate no figure sees is all prior."""
    obs, bg = employment_truth
    names = ["f0[KAZ]", "rho[KAZ]", "lam_R[KAZ]"]
    fit = flowsim.calibrate(scenario(), obs, names, background=bg, starts=1, sigmas=lambda o: 0.02,
                            priors={"f0[KAZ]": (0.005, 0.025), "rho[KAZ]": (0.15, 0.5), "lam_R[KAZ]": (7e-4, 3e-3)})
    f0, rho, lam_r = fit.estimates
    assert f0.ci_low < 0.02 < f0.ci_high and f0.value == pytest.approx(0.02, rel=0.1)
    assert f0.identified and not f0.weakly_identified and f0.data_share > 0.9
    assert rho.weakly_identified and rho.data_share < WEAKLY_IDENTIFIED and rho.value < 0.3
    assert lam_r.data_share < 0.01 and (lam_r.weakly_identified or not lam_r.identified)
    text = repr(fit)
    assert "weakly identified" in text and "data remove" in text


def test_validate_fits_the_default_parameters_with_the_default_priors(monkeypatch):
    """Without params, validate fits f0 and rho (the employment figure of 11 Oct is in sample) with their priors."""
    import flowsim.calibration.validation as validation

    seen = {}

    class Stop(Exception):
        pass

    def fake_calibrate(scenario, observations, params, **options):
        seen.update(params=list(params), priors=options.get("priors"))
        raise Stop

    monkeypatch.setattr(validation, "calibrate", fake_calibrate)
    kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
    with pytest.raises(Stop):
        flowsim.validate(flowsim.load_scenario("kazakhstan-2022"), kaz, "2022-10-11")
    assert "f0[KAZ]" in seen["params"] and "rho[KAZ]" in seen["params"]
    assert seen["priors"] == {"f0[KAZ]": (0.005, 0.025), "rho[KAZ]": (0.15, 0.5)}


def test_estimates_csv_has_the_data_share():
    from flowsim.io import ESTIMATE_COLUMNS

    assert ESTIMATE_COLUMNS[-3:] == ("identification", "data_share", "reference")
