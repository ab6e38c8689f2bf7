"""Uncertain parameters: parsing `vary`, refusing bad ranges clearly, reproducible designs, policies per member."""

import datetime as dt
import gc

import numpy as np
import pytest
from conftest import make_params
from hypothesis import given, settings
from hypothesis import strategies as st

import flowsim
from flowsim.exceptions import ParameterError
from flowsim.scenario import sampling
from flowsim.scenario.free_parameters import FreeParameter, FreeParameters, Label
from flowsim.scenario.sampling import (
    member_parameter_set,
    member_values,
    parse_vary,
    regime_values,
    scale_sample,
    unit_sample,
)


@pytest.fixture(scope="module")
def seed_params():
    return flowsim.load_scenario("kazakhstan-2022").params


def test_default_varies_every_shipped_range(seed_params):
    dims = parse_vary(seed_params)
    from flowsim.scenario.specs import PARAMETER_SPECS

    ranges = seed_params.ranges
    # every parameter of the model with a range; observation-model ones (transfer_share) change no series
    sampled = [name for name in ranges if PARAMETER_SPECS[name].layer != "observation"]
    expected = sum(int(np.sum(np.asarray(ranges[n])[..., 0] < np.asarray(ranges[n])[..., 1])) for n in sampled)
    assert len(dims) == expected
    assert {d.name for d in dims} >= {"nu_R", "rd", "tau_c", "tau_w", "tax_R", "D_x"}   # docs/model.md v2 parameters
    kaz_tau_S = next(d for d in dims if d.label == "tau_S[KAZ]")
    assert (kaz_tau_S.low, kaz_tau_S.high) == (60.0, 240.0)            # reference_parameters.csv
    assert {d.label for d in dims if d.host is None} == {"k", "r", "D_x"}


def test_user_ranges_global_per_host_and_labels(seed_params):
    dims = parse_vary(seed_params, {"f0": (0.005, 0.02), "tau_S": {"KAZ": (60, 240)}, "r": (0.02, 0.08)})
    assert [d.label for d in dims][:2] == ["tau_S[KAZ]", "f0[KAZ]"]      # docs/model.md order, then hosts
    assert len([d for d in dims if d.name == "f0"]) == len(seed_params.hosts)
    assert dims[-1].label == "r" and dims[-1].high == 0.08
    listed = parse_vary(seed_params, ["tau_S[KAZ]", "rho"])
    assert [d.label for d in listed][-1] == "tau_S[KAZ]" and len(listed) == 1 + len(seed_params.hosts)
    same = parse_vary(seed_params, {"tau_S[KAZ]": (60, 240), "tau_S[UZB]": None})
    assert [(d.label, d.low) for d in same] == [("tau_S[KAZ]", 60.0), ("tau_S[UZB]", 65.0)]


@pytest.mark.parametrize("vary, words", [
    ({"f0": (0.02, 0.005)}, ["`f0`", "low must be <= high", "(0.005, 0.02)"]),
    ({"q_on": (0.1, 1.3)}, ["`q_on`", "high end", "[0, 1]", "1.3"]),
    ({"tau_T": {"KAZ": (0.0, 3.0)}}, ["`tau_T` for host KAZ", "[0.001, 1e+06]", "got 0"]),
    ({"fo": (0.0, 0.1)}, ["vary 'fo': unknown name 'fo'", "Did you mean 'f0'", "NAME[HOST]"]),
    (["pulse.total[KAZ]"], ["model parameters only"]),
    (["tau_S[KAZ@2022-10-01]"], ["takes only a host"]),
    ({"tau_S": {"KAX": (60, 240)}}, ["host 'KAX'", "Did you mean 'KAZ'"]),
    (["P"], ["`P`", "cannot be varied"]),
    ({"r": {"KAZ": (0.01, 0.02)}}, ["`r` is global"]),
    ({"q_on": (0.5, 0.9)}, ["q_on + q_ret", "host KAZ", "> 1", "Lower one of the high ends"]),
    ({"k": (1.5, 3)}, ["`k`", "whole number"]),
    ({"f0": (0.01,)}, ["pair (low, high)"]),
    ("tau_S", ["list of names", "vary=['tau_S']"]),
])
def test_invalid_ranges_are_refused_clearly(seed_params, vary, words):
    with pytest.raises(flowsim.ParameterError) as err:
        parse_vary(seed_params, vary)
    for word in words:
        assert word in str(err.value)


def test_K_range_below_initial_employed_is_refused():
    params = make_params(("KAZ",))
    with pytest.raises(flowsim.ParameterError, match="initial stock E = 500"):
        parse_vary(params, {"K": (100, 30000)}, initial={"KAZ": {"E": 500.0}})


def test_designs_are_reproducible_and_stratified():
    a, b = unit_sample(16, 5, "lhs", 3), unit_sample(16, 5, "lhs", 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, unit_sample(16, 5, "lhs", 4))
    # Latin hypercube: each column has exactly one point in each of the 16 strata
    np.testing.assert_array_equal(np.sort(np.floor(a * 16), axis=0), np.tile(np.arange(16.0)[:, None], (1, 5)))
    s = unit_sample(16, 3, "sobol", 1)
    assert s.shape == (16, 3) and s.min() >= 0 and s.max() < 1
    with pytest.warns(UserWarning, match="power of 2"):
        unit_sample(10, 3, "sobol", 1)
    np.testing.assert_array_equal(unit_sample(4, 2, "random", 9), np.random.default_rng(9).random((4, 2)))
    with pytest.raises(flowsim.ParameterError, match="Did you mean 'lhs'"):
        unit_sample(4, 2, "lsh", 1)


def test_integer_k_takes_every_whole_value_evenly(seed_params):
    (dim,) = parse_vary(seed_params, ["k"])
    values = scale_sample((dim,), unit_sample(600, 1, "lhs", 0))[:, 0]
    counts = np.unique(values, return_counts=True)
    np.testing.assert_array_equal(counts[0], [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(counts[1], [100] * 6)     # LHS strata map 100 to each whole value


def test_member_values_and_parameter_set(seed_params):
    dims = parse_vary(seed_params, {"tau_S": {"KAZ": (60, 240)}, "r": (0.02, 0.1)})
    vals = np.array([[100.0, 0.03], [200.0, 0.09]])
    arrays = member_values(seed_params, dims, vals)
    assert arrays["tau_S"].shape == (2, len(seed_params.hosts)) and arrays["r"].tolist() == [0.03, 0.09]
    np.testing.assert_array_equal(arrays["tau_S"][:, 1], seed_params["tau_S"][1])     # others unchanged
    p = member_parameter_set(seed_params, dims, vals[1])
    assert p.get("tau_S", "KAZ") == 200.0 and p.get("r") == 0.09


def test_factor_policies_scale_each_members_own_value():
    params = make_params(("KAZ",))
    sc = flowsim.Scenario(params=params, horizon_days=100,
                          policies=(flowsim.Policy(parameter="f0", host="KAZ", start="2022-10-21", factor=2.0),))
    dims = parse_vary(params, {"f0": (0.005, 0.02)})
    regimes = regime_values(sc, member_values(params, dims, np.array([[0.005], [0.02]])))
    assert [d for d, _ in regimes] == [0.0, 30.0]
    np.testing.assert_allclose(regimes[1][1]["f0"][:, 0], [0.01, 0.04])
    # the scenario's own values pass (q_on 0.3 * 1.8 + q_ret 0.4 <= 1; rho 0.3 * 3 <= 1); member 1's do not
    for parameter, factor, low, high, message in (
            ("q_on", 1.8, 0.1, 0.35, r"member 1 has q_on \+ q_ret = 1.03 > 1 for host KAZ"),
            ("rho", 3.0, 0.1, 0.4, r"`rho` for host KAZ from 2022-10-01: member 1 gets 1.2, outside \[0, 1\]")):
        bad = flowsim.Scenario(params=params, horizon_days=100, policies=(
            flowsim.Policy(parameter=parameter, host="KAZ", start=dt.date(2022, 10, 1), factor=factor),))
        dims = parse_vary(params, {parameter: (low, high)})
        with pytest.raises(flowsim.ParameterError, match=message):
            regime_values(bad, member_values(params, dims, np.array([[low], [high]])))


def test_with_params_equals_a_set_built_from_the_same_fields():
    """with_params builds the new set field by field; it must equal ParameterSet(...) of those fields."""
    from flowsim import ParameterSet, reference_parameters

    base = reference_parameters()
    updates = [dict(f0={"KAZ": 0.02}, k=2), dict(tau_T=3.0), dict(q_ret={"GEO": 0.1}, D_x=90),
               dict(P={"KAZ": {"UZB": 0.3, "W": 0.7}}), dict(rho={"KAZ": 0.9, "UZB": 0.05})]
    for up in updates:
        fast = base.with_params(**up)
        slow = ParameterSet(hosts=fast.hosts, values=fast.values, P=fast.P, ranges=fast.ranges,
                            sources=fast.sources, names=fast.names)
        assert type(fast) is type(slow) and fast.hosts == slow.hosts and fast.names == slow.names
        assert fast.sources == slow.sources
        for name in slow.values:
            a, b = np.asarray(fast.values[name]), np.asarray(slow.values[name])
            assert a.dtype == b.dtype and np.array_equal(a, b), name
            assert np.array_equal(fast.ranges[name], slow.ranges[name]), name
            assert not np.asarray(fast.ranges[name]).flags.writeable
        assert np.array_equal(fast.P, slow.P)
    with pytest.raises(flowsim.ParameterError, match="q_on"):
        base.with_params(q_on={"KAZ": 0.9}, q_ret={"KAZ": 0.5})
    with pytest.raises(flowsim.ParameterError, match="tau_c"):
        base.with_params(tau_c={"KAZ": 0.99})


# ------------------------------------------------------------------------------------------- issue 13: per call
# The dimensions of ``vary`` are made once per ParameterSet and specification: the cache is keyed by the object,
# forgets it when it goes and never keeps a failure; every column of a sample is scaled at once, in the bytes of
# ``Dimension.scale``; a FreeParameters collection lists its parameters without parsing each label again.
def test_dimensions_are_made_once_per_parameter_set(monkeypatch):
    short = flowsim.load_scenario("kazakhstan-2022")
    made = []
    real = sampling._parse_vary
    monkeypatch.setattr(sampling, "_parse_vary", lambda *a: made.append(a) or real(*a))
    params = short.params.with_params(tau_S=100.0)                   # a set no other test has seen
    first = parse_vary(params, None, initial=short.initial)
    assert parse_vary(params, None, initial=short.initial) is first and len(made) == 1
    assert short.replace().params is short.params                    # a scenario copy shares its parameters
    other = parse_vary(params, ["tau_S", "f0[KAZ]"], initial=short.initial)
    assert [d.label for d in other][-1] == "f0[KAZ]" and len(made) == 2
    assert parse_vary(params, None, initial={"KAZ": {"R": 10.0}}) is not first and len(made) == 3   # in the key
    np_range = {"tau_S": (np.float32(60), np.float32(240))}
    assert parse_vary(params, np_range) == parse_vary(params, np_range)             # numpy numbers: not cached
    assert len(made) == 5
    ident = id(params)
    made.clear()                                                      # (it holds the set too)
    del params, first
    gc.collect()
    assert ident not in sampling._DIMS                                # forgotten with its set


def test_failures_are_not_kept(seed_params):
    bad = {"tau_S": (240, 60)}
    for _ in range(2):
        with pytest.raises(ParameterError, match="low must be <= high"):
            parse_vary(seed_params, bad)


_NAMES = ("tau_S", "tau_T", "f0", "lam_S", "q_on")


@settings(max_examples=30, deadline=dt.timedelta(seconds=5), derandomize=True, database=None)
@given(picks=st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from([None, "KAZ", "GEO"]),
                                st.floats(0.0, 1.0), st.floats(0.0, 1.0)), min_size=1, max_size=4))
def test_cached_dimensions_equal_fresh_ones(picks):
    """Any ``vary`` mapping: the cached answer equals a fresh parse (or both refuse it the same way)."""
    sc = flowsim.load_scenario("kazakhstan-2022")
    vary = {}
    for name, host, a, b in picks:
        rng = sc.params.ranges[name]
        lo, hi = (rng[0] if rng.ndim == 2 else rng)
        label = name if host is None else f"{name}[{host}]"
        vary[label] = (lo + a * (hi - lo), lo + b * (hi - lo))
    try:
        fresh = sampling._parse_vary(sc.params, vary, sc.initial)
    except ParameterError as err:
        with pytest.raises(ParameterError, match="range of|allow"):
            parse_vary(sc.params, vary, initial=sc.initial)
        assert str(err)
        return
    assert parse_vary(sc.params, vary, initial=sc.initial) == fresh
    assert parse_vary(sc.params, vary, initial=sc.initial) == fresh


@settings(max_examples=30, deadline=dt.timedelta(seconds=5), derandomize=True, database=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 2 ** 32 - 1), sampler=st.sampled_from(["lhs", "random"]))
def test_scale_sample_gives_the_bytes_of_each_dimension(n, seed, sampler):
    """All columns at once are the same bytes as ``Dimension.scale`` column by column (``k``, ``D_x`` whole)."""
    sc = flowsim.load_scenario("kazakhstan-2022")
    dims = parse_vary(sc.params, None, initial=sc.initial)
    unit = unit_sample(n, len(dims), sampler, seed)
    got = scale_sample(dims, unit)
    want = np.column_stack([d.scale(unit[:, j]) for j, d in enumerate(dims)])
    assert got.shape == want.shape and got.flags.c_contiguous
    assert got.tobytes() == want.tobytes()
    k = [j for j, d in enumerate(dims) if d.name == "k"][0]
    assert np.array_equal(got[:, k], np.floor(got[:, k]))


def test_free_parameters_values_and_items_in_order():
    params = [FreeParameter(label=Label("tau_S", h), value=100.0, bounds=(60.0, 240.0)) for h in ("KAZ", "GEO")]
    coll = FreeParameters(params)
    assert list(coll.values()) == params
    assert list(coll.items()) == [("tau_S[KAZ]", params[0]), ("tau_S[GEO]", params[1])]
    assert coll["tau_S[GEO]"] is params[1] and coll[" tau_S [ GEO ] "] is params[1]
    with pytest.raises(ParameterError, match="tau_S\\[ARM\\] is not a free parameter here"):
        coll["tau_S[ARM]"]
