"""The built-in scenario library: every scenario runs, conserves people and tells its story."""

from importlib import resources

import numpy as np
import pytest
from scipy.special import gammainc

import flowsim
from flowsim.scenario.library import SCENARIOS

BUILTINS = list(flowsim.list_scenarios())


def test_at_least_six_builtins_with_files_named_after_them():
    assert len(BUILTINS) >= 6 and BUILTINS[0] == "kazakhstan-2022"
    files = sorted(e.name for e in resources.files("flowsim.data").joinpath("scenarios").iterdir()
                   if e.name.endswith(".toml"))
    in_python = {"kazakhstan-2022", "ukraine-2022"}                 # built from data files by code
    assert sorted(f"{n}.toml" for n in BUILTINS if n not in in_python) == files
    for name in {"second-wave", "border-closure", "work-permit-fast-track", "remote-income-shock", "no-help"}:
        assert name in SCENARIOS


@pytest.fixture(scope="module")
def builtin_results():
    """Every built-in at its full 5-year horizon (about 0.5 s each)."""
    return {name: flowsim.run(flowsim.load_scenario(name)) for name in BUILTINS}


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_runs_and_conserves_people(builtin_results, name):
    res = builtin_results[name]
    sc = res.scenario
    assert sc.name == name and res.success and res.dates.size == 1827
    assert res.conservation_error() < 1e-6
    assert res.min_relative_stock() >= -1e-9
    # a story paragraph that says what differs, and a one-line summary
    assert len(sc.description.split()) >= 40 and "\n" not in flowsim.list_scenarios()[name]


@pytest.mark.parametrize("name", BUILTINS[1:])
def test_changed_numbers_have_a_source(name):
    """Every parameter or policy a built-in file changes cites a source, a fit, or says 'assumption: reason'."""
    sc, seed = flowsim.load_scenario(name), flowsim.load_scenario("kazakhstan-2022")
    if sc.hosts != seed.hosts:                   # another event: every value of its own hosts has a source
        for p in sc.params.table():
            if p.host is not None:
                assert p.source.strip() and p.source not in ("unspecified", "user"), (p.name, p.host)
        return
    changed = [(a, b) for a, b in zip(sc.params.table(), seed.params.table()) if a.value != b.value]
    for new, _ in changed:
        assert new.source.startswith(("assumption:", "calibrated:")) or ".csv" in new.source, \
            (new.name, new.host, new.source)
    for pol in sc.policies:
        assert pol.source.startswith("assumption:"), pol


def test_seed_is_unchanged_by_the_library(builtin_results, seed_result):
    np.testing.assert_array_equal(builtin_results["kazakhstan-2022"].states, seed_result.states)


def test_second_wave_adds_half_the_seed_pulses(builtin_results):
    seed, wave = builtin_results["kazakhstan-2022"], builtin_results["second-wave"]
    total_seed = seed.cumulative_arrivals[-1]
    np.testing.assert_allclose(wave.cumulative_arrivals[-1], 1.5 * total_seed, rtol=1e-9)
    day = (np.datetime64("2023-04-11") - np.datetime64("2022-09-21")).astype(int)   # 202
    # before the second pulse only the solver's step sequence differs (a new breakpoint): 1e-6 of each peak
    scale = seed.states.max(axis=-1, keepdims=True) + 1.0
    assert np.max(np.abs(wave.states[..., :day + 1] - seed.states[..., :day + 1]) / scale) < 1e-6
    assert wave.series("N", "KAZ")[day + 10] > seed.series("N", "KAZ")[day + 10] + 10000


def test_border_closure_diverts_half_of_the_refused(builtin_results):
    seed, closed = builtin_results["kazakhstan-2022"], builtin_results["border-closure"]
    hosts = seed.hosts
    refused = seed.cumulative_arrivals[-1] - closed.cumulative_arrivals[-1]
    kaz = hosts.index("KAZ")
    # the KAZ pulse (230,000, gamma shape 4, scale 2.08 days) between day 7 and day 102 is refused
    expected = 230000 * (gammainc(4, 102 / 2.08) - gammainc(4, 7 / 2.08))
    assert refused[kaz] == pytest.approx(expected, rel=1e-9)
    for host, share in {"GEO": 0.25, "ARM": 0.10, "UZB": 0.05, "KGZ": 0.05, "MNG": 0.05}.items():
        assert -refused[hosts.index(host)] == pytest.approx(share * expected, rel=1e-9)
    # half stay in Russia: total arrivals fall by 0.5 x refused
    assert refused.sum() == pytest.approx(0.5 * expected, rel=1e-9)


def test_fast_track_changes_kaz_and_uzb_only_after_2023(builtin_results):
    seed, fast = builtin_results["kazakhstan-2022"], builtin_results["work-permit-fast-track"]
    day = 102    # 2023-01-01
    scale = seed.states.max(axis=-1, keepdims=True) + 1.0
    assert np.max(np.abs(fast.states[..., :day] - seed.states[..., :day]) / scale) < 1e-6
    for host in ("KAZ", "UZB"):
        assert fast.series("E", host)[day + 180] > 1.05 * seed.series("E", host)[day + 180]


def test_remote_income_shock_lowers_spending(builtin_results):
    seed, shock = builtin_results["kazakhstan-2022"], builtin_results["remote-income-shock"]
    for host in ("KAZ", "GEO", "ARM"):
        assert shock.series("R", host)[200] < 0.9 * seed.series("R", host)[200]
        assert shock.series("spending", host)[200] < seed.series("spending", host)[200]


def test_no_help_has_no_support_cost(builtin_results):
    res = builtin_results["no-help"]
    assert res.series("support").max() == 0.0
    assert res.series("E", "KAZ").max() < builtin_results["kazakhstan-2022"].series("E", "KAZ").max()


def test_spring_wave_stocks_are_present_from_day_0(builtin_results):
    res = builtin_results["with-spring-wave"]
    assert res.series("N", "GEO")[0] == res.series("N", "ARM")[0] == 40000.0
    assert res.series("R", "ARM")[0] == 20000.0 and res.series("S3", "GEO")[0] == 12000.0


def test_calibrated_changes_only_kazakhstan_flows(builtin_results):
    """kazakhstan-2022-calibrated differs from the seed in KAZ's pulse, tau_T, q_ret, f0 and rho (settled stage
    fitted since issue 15), and its fitted economy."""
    cal, seed = flowsim.load_scenario("kazakhstan-2022-calibrated"), flowsim.load_scenario("kazakhstan-2022")
    changed = {(a.name, a.host) for a, b in zip(cal.params.table(), seed.params.table()) if a.value != b.value}
    assert changed == {("tau_T", "KAZ"), ("q_ret", "KAZ"), ("f0", "KAZ"), ("rho", "KAZ"), ("c_S", "KAZ"),
                       ("c_R", "KAZ"), ("eps", "KAZ"), ("transfer_share", "KAZ")}
    assert cal.params.get("q_on", "KAZ") == seed.params.get("q_on", "KAZ") == 0.27
    assert {h: v for h, v in cal.arrivals.items() if h != "KAZ"} == {h: v for h, v in seed.arrivals.items()
                                                                       if h != "KAZ"}
    assert cal.closures == seed.closures
    (pulse,) = cal.arrivals["KAZ"]
    assert (pulse.total, pulse.shape, pulse.scale_days) == (196880, 1.7207, 3.5914)
    # fewer direct arrivals than the seed's gross-count pulse (ordinary traffic separated), more of them stay
    res, ref = builtin_results["kazakhstan-2022-calibrated"], builtin_results["kazakhstan-2022"]
    k = res.hosts.index("KAZ")
    assert res.cumulative_arrivals[-1, k] == pytest.approx(196880, rel=1e-6)
    assert res.summary_arrays["peak_present"][0, k] > ref.summary_arrays["peak_present"][0, k]
