"""TOML scenario files: every schema feature, its round trip through resolved.json, and clear errors."""

import json
import textwrap

import numpy as np
import pytest

import flowsim
from flowsim import io as fio
from flowsim.cli import main

#: Shorter than the 5-year default, long enough for the policies and pulses below (2022-09-21 + 200 days).
SHORT = 'base = "kazakhstan-2022"\nhorizon_days = 200\n'

#: One file per schema feature, each on top of the seed with a short horizon.
FEATURES = {
    "parameters": SHORT + """
        [parameters]
        k = 2                                          # global
        tau_S = 150                                    # every host
        f0 = { KAZ = 0.02, UZB = 0.01 }                # some hosts
        q_out = { value = 0.4, low = 0.1, high = 0.6, source = "assumption: test" }

        [parameters.KAZ]
        K = 80000
        rho = { value = 0.4, low = 0.2, high = 0.5, source = "assumption: more IT workers" }
        P = { UZB = 0.3, KGZ = 0.1, W = 0.6 }

        [parameters.lam_U]
        source = "assumption: shared source"
        GEO = 0.006
        ARM = { value = 0.005, high = 0.01 }
    """,
    "arrivals": SHORT + """
        [[arrivals.KAZ]]                               # replaces the seed pulse of KAZ
        type = "pulse"
        total = 50000
        shape = 1
        scale_days = 3
        start = 2022-09-25

        [[arrivals.KAZ]]
        type = "piecewise_linear"
        points = [[2022-10-01, 0], [2022-10-05, 2000.5], [2022-10-20, 0]]

        [arrivals.UZB]                                 # one schedule as a plain table
        type = "daily_counts"
        start = 2022-09-22
        counts = [100, 2500.5, 3000, 1200, 0, 800]
    """,
    "extra_arrivals": SHORT + """
        [[extra_arrivals.GEO]]
        type = "pulse"
        total = 20000
        start = 2023-01-10
    """,
    "closures": SHORT + """
        [[closures.GEO]]
        start = 2022-09-26
        end = 2022-10-10

        [[closures.GEO]]
        start = 2023-01-01

        [closures]
        TKM = []                                       # reopens the border the seed closes
    """,
    "diversion": SHORT + """
        [[closures.KAZ]]
        start = 2022-09-28

        [diversion.KAZ]
        GEO = 0.3
        UZB = 0.2
    """,
    "initial": SHORT + """
        [initial.GEO]
        R = 20000
        E = 8000
        S3 = 12000

        [initial.KAZ]
        T = 1000
        S = 500
        Ret = 10
    """,
    "policies": SHORT + """
        [[policies]]
        parameter = "f0"
        hosts = ["KAZ", "UZB"]
        start = 2023-01-01
        factor = 2.0
        source = "assumption: test"

        [[policies]]
        parameter = "b_U"
        host = "GEO"
        start = 2022-12-01
        value = 4.0
    """,
    "hosts_start": """
        base = "kazakhstan-2022"
        hosts = ["GEO", "KAZ", "ARM"]
        start = 2022-09-20
        horizon_days = 150
        name = "three-hosts"
        description = "A subset of the seed's hosts, in another order."
    """,
    "no_base": """
        hosts = ["KAZ", "KGZ"]
        horizon_days = 120
        [[arrivals.KAZ]]
        type = "pulse"
        total = 1e4
    """,
    "clear": SHORT + """
        clear = ["arrivals", "closures"]
        [[arrivals.ARM]]
        type = "pulse"
        total = 5000
    """,
}


def write(tmp_path, text, name="my.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("feature", FEATURES)
def test_feature_round_trips_through_resolved_json(tmp_path, feature):
    """file -> scenario -> resolved.json -> scenario -> the same results, bit for bit."""
    sc = flowsim.read_scenario(write(tmp_path, FEATURES[feature], f"{feature}.toml"))
    res = flowsim.run(sc)
    resolved = tmp_path / "resolved.json"
    resolved.write_text(fio.resolved_json_text(res))
    back = flowsim.read_scenario(resolved)
    again = flowsim.run(back)
    np.testing.assert_array_equal(again.states, res.states)
    np.testing.assert_array_equal(again.economy, res.economy)
    np.testing.assert_array_equal(again.cumulative_arrivals, res.cumulative_arrivals)
    assert back.params.table() == sc.params.table()          # values, ranges and sources
    assert back.policies == sc.policies and back.name == sc.name and back.description == sc.description
    assert res.conservation_error() < 1e-6 and res.min_relative_stock() >= -1e-9


def test_parameters_feature_values(tmp_path):
    sc = flowsim.read_scenario(write(tmp_path, FEATURES["parameters"]))
    p = sc.parameters
    assert p.get("k") == 2 and p.get("tau_S", "MNG") == 150 and p.get("f0", "KAZ") == 0.02
    assert p.get("f0", "KGZ") == flowsim.reference_parameters().get("f0", "KGZ")   # untouched hosts keep theirs
    rows = {(r.name, r.host): r for r in p.table()}
    q_out = rows["q_out", "TJK"]
    assert (q_out.value, q_out.low, q_out.high, q_out.source) == (0.4, 0.1, 0.6, "assumption: test")
    assert rows["rho", "KAZ"].source == "assumption: more IT workers"
    assert rows["lam_U", "GEO"].source == rows["lam_U", "ARM"].source == "assumption: shared source"
    assert (rows["lam_U", "ARM"].low, rows["lam_U", "ARM"].high) == (0.002, 0.01)   # low kept, high given
    # a value without a source names the file; its range widens to include it (K range is 25,000-150,000)
    assert rows["K", "KAZ"].source.endswith("my.toml (no source given)")
    assert p.onward("KAZ") == {"UZB": 0.3, "KGZ": 0.1, "TJK": 0.0, "TKM": 0.0, "GEO": 0.0, "ARM": 0.0,
                               "MNG": 0.0, "W": 0.6}


def test_arrival_schedules_by_hand(tmp_path):
    sc = flowsim.read_scenario(write(tmp_path, FEATURES["arrivals"]))
    cum = flowsim.run(sc).cumulative_arrivals[-1]
    kaz, uzb = sc.hosts.index("KAZ"), sc.hosts.index("UZB")
    # pulse 50,000 (all in by day 200) + triangle 0.5 * 19 days * 2000.5 = 19,004.75 people
    assert cum[kaz] == pytest.approx(50000 + 0.5 * 19 * 2000.5, rel=1e-9)
    assert cum[uzb] == pytest.approx(100 + 2500.5 + 3000 + 1200 + 0 + 800, rel=1e-12)


def test_extra_arrivals_add_to_the_base(tmp_path):
    sc = flowsim.read_scenario(write(tmp_path, FEATURES["extra_arrivals"]))
    assert len(sc.arrivals["GEO"]) == 2 and sc.arrivals["GEO"][0] == flowsim.load_scenario(
        "kazakhstan-2022").arrivals["GEO"][0]


def test_closures_and_reopening(tmp_path):
    sc = flowsim.read_scenario(write(tmp_path, FEATURES["closures"]))
    assert "TKM" not in sc.closures and len(sc.closures["GEO"]) == 2
    res = flowsim.run(sc)
    daily = np.diff(res.cumulative_arrivals[:, sc.hosts.index("GEO")])
    assert daily[5:19].max() == 0.0 and daily[:5].min() > 0 and daily[19] > 0   # closed on days 5..18


def test_diversion_from_a_file_conserves_people(tmp_path):
    sc = flowsim.read_scenario(write(tmp_path, FEATURES["diversion"]))
    res = flowsim.run(sc)
    seed = flowsim.run(flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=200))
    assert res.conservation_error() < 1e-6
    refused = seed.cumulative_arrivals[-1] - res.cumulative_arrivals[-1]
    kaz, geo, uzb = (sc.hosts.index(h) for h in ("KAZ", "GEO", "UZB"))
    # GEO and UZB receive 30% and 20% of what KAZ refused: exact integrals, so 1e-9 relative
    assert -refused[geo] == pytest.approx(0.3 * refused[kaz], rel=1e-9)
    assert -refused[uzb] == pytest.approx(0.2 * refused[kaz], rel=1e-9)
    assert refused[kaz] > 1e5


def test_initial_stocks_are_counted(tmp_path):
    sc = flowsim.read_scenario(write(tmp_path, FEATURES["initial"]))
    res = flowsim.run(sc)
    assert res.series("N", "GEO")[0] == 40000.0 and res.series("S1", "KAZ")[0] == 500.0
    people = res.states[0, :, res.layout.people].sum(axis=(0, 1))
    np.testing.assert_allclose(people, 41510.0 + res.cumulative_arrivals.sum(axis=1), rtol=1e-6)


def test_policy_from_a_file_changes_the_trajectory_from_its_date_only(tmp_path):
    """f0 doubles in KAZ on 2023-01-01 (day 102): identical before, different after."""
    policy = SHORT + '[[policies]]\nparameter = "f0"\nhost = "KAZ"\nstart = 2023-01-01\nfactor = {}\n'
    res = flowsim.run(flowsim.read_scenario(write(tmp_path, policy.format(2.0), "a.toml")))
    noop = flowsim.run(flowsim.read_scenario(write(tmp_path, policy.format(1.0), "b.toml")))
    np.testing.assert_array_equal(res.states[..., :103], noop.states[..., :103])
    E = res.series("E", "KAZ")
    assert E[132] - noop.series("E", "KAZ")[132] > 100.0           # a month later: more employed
    assert res.conservation_error() < 1e-6


def test_subset_of_hosts(tmp_path):
    sc = flowsim.read_scenario(write(tmp_path, FEATURES["hosts_start"]))
    seed = flowsim.load_scenario("kazakhstan-2022")
    assert sc.hosts == ("GEO", "KAZ", "ARM") and sc.name == "three-hosts" and str(sc.start) == "2022-09-20"
    assert set(sc.arrivals) == {"GEO", "KAZ", "ARM"} and not sc.closures
    assert sc.params.get("tau_T", "KAZ") == seed.params.get("tau_T", "KAZ")
    # onward shares towards dropped hosts go to W: KAZ keeps GEO 0.03 and ARM 0.05, W gets the rest
    assert sc.params.onward("KAZ") == pytest.approx({"GEO": 0.03, "ARM": 0.05, "W": 0.92}, rel=1e-12)


def test_without_base_uses_reference_defaults(tmp_path):
    sc = flowsim.read_scenario(write(tmp_path, FEATURES["no_base"]))
    assert sc.params == flowsim.reference_parameters(["KAZ", "KGZ"]) and sc.name == "my"
    assert set(sc.arrivals) == {"KAZ"} and not sc.closures


def test_clear_drops_inherited_sections(tmp_path):
    sc = flowsim.read_scenario(write(tmp_path, FEATURES["clear"]))
    assert set(sc.arrivals) == {"ARM"} and not sc.closures


def test_base_file_relative_to_the_file_and_cycles(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path, SHORT + "[parameters.KAZ]\nf0 = 0.03\n", "sub/parent.toml")
    child = write(tmp_path, 'base = "parent.toml"\n[parameters.UZB]\nf0 = 0.02\n', "sub/child.toml")
    sc = flowsim.read_scenario(child)
    assert (sc.params.get("f0", "KAZ"), sc.params.get("f0", "UZB"), sc.horizon_days) == (0.03, 0.02, 200)
    write(tmp_path, 'base = "b.toml"\n', "a.toml")
    write(tmp_path, 'base = "a.toml"\n', "b.toml")
    with pytest.raises(flowsim.ScenarioError, match=r"`base` files form a cycle"):
        flowsim.read_scenario(tmp_path / "a.toml")


def test_load_scenario_takes_names_and_paths(tmp_path):
    path = write(tmp_path, FEATURES["no_base"])
    assert flowsim.load_scenario(str(path)).hosts == ("KAZ", "KGZ")
    assert flowsim.load_scenario(path).hosts == ("KAZ", "KGZ")


def test_cli_run_of_a_file_and_of_its_resolved_json(tmp_path):
    path = write(tmp_path, FEATURES["policies"])
    assert main(["run", str(path), "--out", str(tmp_path / "a"), "--no-figures"]) == 0
    assert main(["run", str(tmp_path / "a" / "resolved.json"), "--out", str(tmp_path / "b"), "--no-figures"]) == 0
    a, b = ((tmp_path / d / "timeseries.csv").read_bytes() for d in ("a", "b"))
    assert a == b
    data = json.loads((tmp_path / "a" / "resolved.json").read_text())
    assert data["ranges"]["f0"]["KAZ"] == [0.005, 0.025] and data["sources"]["k"].startswith("assumption")
    assert data["policies"][0] == {"parameter": "f0", "host": "KAZ", "start": "2023-01-01", "factor": 2.0,
                                   "source": "assumption: test"}


def test_scenario_parameters_render_as_a_table():
    sc = flowsim.load_scenario("no-help")
    html = sc.parameters._repr_html_()
    for column in ("parameter", "host", "value", "unit", "range", "bounds", "source"):
        assert f"<th>{column}</th>" in html
    assert "<td>b_U</td><td>KAZ</td><td>0</td><td>USD/day</td>" in html
    assert "sc" not in html or "<script" not in html
    assert sc._repr_html_().count("<table") == 1


# --------------------------------------------------------------------- errors
BAD = {
    "malformed TOML": ("[parameters.KAZ]\nf0 = 0.02\nK = \n",
                       r"bad\.toml, line 3, column 5: not valid TOML: Invalid value"),
    "unknown key": ('base = "kazakhstan-2022"\n[parameters.KAZ]\nfo = 0.02\n',
                    r"bad\.toml, line 3, key parameters\.KAZ\.fo: unknown parameter 'fo' for host KAZ.*"
                    r"Did you mean 'f0'\?"),
    "unknown top-level key": ('base = "kazakhstan-2022"\nhorizon = 100\n',
                              r"line 2, key horizon: unknown top-level key 'horizon'.*Did you mean 'horizon_days'"),
    "wrong type": ('base = "kazakhstan-2022"\nhorizon_days = "400"\n',
                   r"line 2, key horizon_days: must be a whole number of days in \[1, 36525\] .*; got '400' \(text\)"),
    "wrong type of a parameter": ('[parameters]\ntau_S = "long"\n',
                                  r"line 2, key parameters\.tau_S: Parameter `tau_S` for host KAZ must be a number"),
    "out of range": ('base = "kazakhstan-2022"\n\n[parameters]\nq_on = { KAZ = 1.3 }\n',
                     r"line 4, key parameters\.q_on\.KAZ: Parameter `q_on` for host KAZ must be in \[0, 1\]; "
                     r"got 1\.3"),
    "out of range in a policy": ('[[policies]]\nparameter = "rho"\nhost = "UZB"\nstart = 2023-01-01\nfactor = 5\n',
                                 r"line 1, key policies\[0\]: Parameter `rho` for host UZB from 2023-01-01 must be "
                                 r"in \[0, 1\]; got 1\.5"),
    "misspelt host": ('base = "kazakhstan-2022"\n\n[[closures.KZA]]\nstart = 2022-09-28\n',
                      r"line 3, key closures\.KZA: host 'KZA' is not in this scenario.*Did you mean 'KAZ'\?"),
    "misspelt host in hosts": ('hosts = ["KAZ", "UZN"]\n',
                               r"line 1, key hosts\[1\]: host 'UZN' is neither in the built-in library"
                               r".*Did you mean 'UZB'\?"),
    "misspelt host in parameters": ('[parameters.GOE]\nf0 = 0.01\n',
                                    r"key parameters\.GOE: host 'GOE' is not in this scenario.*Did you mean 'GEO'\?"),
    "host not in the scenario": ('hosts = ["KAZ"]\n[initial.GEO]\nR = 5\n',
                                 r"line 2, key initial\.GEO: host 'GEO' is not in this scenario"),
    "misspelt base": ('base = "kazakstan-2022"\n', r"unknown base scenario.*Did you mean 'kazakhstan-2022'"),
    "onward shares": ('[parameters.P]\nKAZ = { UZB = 0.5, W = 0.4 }\n',
                      r"line 2, key parameters\.P\.KAZ: onward shares of host KAZ must sum to 1.*got 0\.9"),
    "bad schedule": ('[[arrivals.KAZ]]\ntype = "pulse"\ntotal = -5\n',
                     r"line 1, key arrivals\.KAZ\[0\]: Pulse\.total \(people\) must be in \[0, 1e\+10\); got -5"),
    "schedule type": ('[[arrivals.KAZ]]\ntype = "pulsee"\n',
                      r"arrivals\.KAZ\[0\]\.type: an arrival schedule needs `type`.*Did you mean 'pulse'"),
    "inverted range": ('[parameters]\ntau_T = { value = 3, low = 4, high = 2 }\n',
                       r"range of `tau_T` for host KAZ must have low <= high; got low = 4, high = 2"),
    "global under a host": ('[parameters.KAZ]\nk = 2\n', r"`k` is global"),
    "datetime": ('start = 2022-09-21T10:00:00\n', r"key start: must be a date such as 2022-09-21 \(no time"),
    "diversion sum": ('[diversion.KAZ]\nGEO = 0.8\nARM = 0.4\n',
                      r"line 1, key diversion\.KAZ: diversion shares of KAZ must sum to at most 1.*got 1\.2"),
    "initial E above K": ('[initial.MNG]\nE = 2000\n',
                          r"line 2, key initial\.MNG\.E: initial stock E for host MNG must be <= K = 1500"),
    "negative stock": ('[initial.MNG]\nR = -1\n', r"key initial\.MNG\.R: initial stock R for host MNG must be in"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_files_give_clear_errors_and_write_nothing(tmp_path, capsys, case):
    text, pattern = BAD[case]
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(flowsim.FlowsimError, match=pattern):
        flowsim.read_scenario(path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"flowsim: error: {path}")
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_file_level_errors(tmp_path):
    with pytest.raises(flowsim.ScenarioError, match=r"nope\.toml: no such scenario file"):
        flowsim.read_scenario(tmp_path / "nope.toml")
    with pytest.raises(flowsim.ScenarioError, match=r"must end in \.toml"):
        flowsim.read_scenario(write(tmp_path, "x", "scenario.txt"))
    (tmp_path / "latin1.toml").write_bytes('name = "Almaty \xe9"\n'.encode("latin-1"))
    with pytest.raises(flowsim.ScenarioError, match=r"not UTF-8 text"):
        flowsim.read_scenario(tmp_path / "latin1.toml")
    bad_json = write(tmp_path, '{"flowsim_version": "0.1.0", "start": }', "resolved.json")
    with pytest.raises(flowsim.ScenarioError, match=r"resolved\.json, line 1, column 39: not valid JSON"):
        flowsim.read_scenario(bad_json)


def test_edited_resolved_json_is_checked(tmp_path):
    res = flowsim.run(flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=30))
    data = json.loads(fio.resolved_json_text(res))
    data["arrivals"]["KAZ"][3] += 100.0
    path = tmp_path / "resolved.json"
    path.write_text(json.dumps(data))
    with pytest.raises(flowsim.ScenarioError, match=r"key arrivals\.KAZ: the daily arrivals of KAZ do not follow"):
        flowsim.read_scenario(path)
    data = json.loads(fio.resolved_json_text(res))
    data["f0"]["KAZ"] = -1.0
    del data["lam_U"]["GEO"]
    path.write_text(json.dumps(data))
    with pytest.raises(flowsim.ScenarioError, match=r"key lam_U: needs one value for each host.*missing: GEO"):
        flowsim.read_scenario(path)
    data["lam_U"]["GEO"] = 0.004
    path.write_text(json.dumps(data))
    with pytest.raises(flowsim.ParameterError, match=r"key f0\.KAZ: Parameter `f0` for host KAZ must be in"):
        flowsim.read_scenario(path)
