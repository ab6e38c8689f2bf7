"""The one free-parameter collection and its one label parser (issue 14, item 3)."""

from __future__ import annotations

import ast
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flowsim
from flowsim.calibration.parameters import FitParameter
from flowsim.exceptions import CalibrationError, FlowsimError, ParameterError
from flowsim.scenario.free_parameters import (
    BACKGROUND_NAMES,
    PULSE_FIELDS,
    FreeParameter,
    FreeParameters,
    Label,
    parse_label,
)
from flowsim.scenario.sampling import Dimension, parse_vary
from flowsim.scenario.specs import PARAMETER_SPECS

PACKAGE = Path(__file__).resolve().parents[1] / "flowsim"
HOME = "scenario/free_parameters.py"


# ------------------------------------------------------------------ the parser
@pytest.mark.parametrize("text, label, canonical", [
    ("tau_T", Label("tau_T"), "tau_T"),
    ("tau_T[KAZ]", Label("tau_T", "KAZ"), "tau_T[KAZ]"),
    ("  tau_T [ KAZ ] ", Label("tau_T", "KAZ"), "tau_T[KAZ]"),
    ("k", Label("k"), "k"),
    ("pulse.total[KAZ]", Label("pulse.total", "KAZ"), "pulse.total[KAZ]"),
    ("pulse.scale_days[KAZ:1]", Label("pulse.scale_days", "KAZ", index=1), "pulse.scale_days[KAZ:1]"),
    ("background[KAZ]", Label("background", "KAZ"), "background[KAZ]"),
    ("background[KAZ @ 2022-10-01]", Label("background", "KAZ", period=dt.date(2022, 10, 1)),
     "background[KAZ@2022-10-01]"),
    ("background_exits[GEO@2023-01-01]", Label("background_exits", "GEO", period=dt.date(2023, 1, 1)),
     "background_exits[GEO@2023-01-01]"),
])
def test_valid_labels(text, label, canonical):
    got = parse_label(text)
    assert got == label and str(got) == canonical
    assert parse_label(canonical) == label            # the canonical spelling reads back the same
    assert parse_label(got) is got                    # a Label passes through


def test_label_kinds_and_fields():
    assert (parse_label("tau_T[KAZ]").kind, parse_label("tau_T[KAZ]").field) == ("model", "tau_T")
    assert (parse_label("pulse.shape[KAZ]").kind, parse_label("pulse.shape[KAZ]").field) == ("pulse", "shape")
    assert parse_label("background[KAZ]").field == "entries"
    assert parse_label("background_exits[KAZ]").field == "exits"


@pytest.mark.parametrize("text, words", [
    ("tau T", ["'tau T' is not a label", "allowed forms", "NAME[HOST]", "background[HOST@YYYY-MM-DD]"]),
    ("tau_T[KAZ", ["is not a label"]),
    ("[KAZ]", ["is not a label"]),
    ("tau_X[KAZ]", ["unknown name 'tau_X'", "Did you mean", "Allowed forms"]),
    ("fo", ["unknown name 'fo'", "Did you mean 'f0'"]),
    ("pulse.totl[KAZ]", ["fields total, shape, scale_days", "Did you mean 'total'"]),
    ("pulse.total", ["name the host", "pulse.total[KAZ]"]),
    ("pulse.total[KAZ@2022-10-01]", ["schedule number goes after ':'"]),
    ("pulse.total[KAZ:x]", ["schedule number goes after ':'"]),
    ("background", ["name the host"]),
    ("background[KAZ:1]", ["date goes after '@'"]),
    ("background[KAZ@2022-13-01]", ["level date", "2022-13-01"]),
    ("tau_T[KAZ@2022-10-01]", ["takes only a host", "tau_T[KAZ]"]),
    (3, ["a label is a string"]),
])
def test_invalid_labels_name_the_label_and_the_forms(text, words):
    with pytest.raises(ParameterError) as err:
        parse_label(text, what="vary")
    message = str(err.value)
    assert message.startswith(f"vary {text!r}")
    for word in words:
        assert word in message


def test_the_error_class_is_the_callers():
    with pytest.raises(CalibrationError, match="fit parameter 'tau_X'"):
        parse_label("tau_X", what="fit parameter", error=CalibrationError)


_pieces = st.tuples(   # near-labels: every part right or slightly wrong
    st.sampled_from(["tau_T", "q_on", "k", "P", "pulse.total", "pulse.shape", "pulse.x", "background",
                     "background_exits", "tau T", "9x"]),
    st.sampled_from(["[", "[", "[", " [ ", ""]),
    st.text(alphabet=st.sampled_from("KAZk1"), max_size=3),
    st.sampled_from(["", ":", "@", " @ "]),
    st.text(alphabet=st.sampled_from("0123456789-x"), max_size=10),
    st.sampled_from(["]", "]", "", "]]"]),
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("tau_TKZAqon.[]@:-0129 xpulsebgrd"), max_size=30) | st.text(max_size=20)
       | _pieces)
def test_any_text_is_a_label_or_a_flowsim_error(text):
    try:
        label = parse_label(text)
    except FlowsimError:
        return
    assert isinstance(label, Label)
    assert parse_label(str(label)) == label


_names = st.sampled_from([*PARAMETER_SPECS, "P"])
_hosts = st.text(alphabet=st.sampled_from("ABCKZGEOPLabc"), min_size=1, max_size=4)


@settings(max_examples=100, deadline=None)
@given(st.one_of(
    st.builds(Label, _names, st.none() | _hosts),
    st.builds(Label, st.sampled_from([f"pulse.{f}" for f in PULSE_FIELDS]), _hosts,
              index=st.none() | st.integers(0, 30)),
    st.builds(Label, st.sampled_from(BACKGROUND_NAMES), _hosts,
              period=st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))),
))
def test_label_round_trip(label):
    assert parse_label(str(label)) == label


def test_the_fit_and_the_ensemble_read_labels_alike(seed_params):
    for text in ("tau_T[KAZ]", "pulse.total[KAZ:0]", "background[KAZ@2022-10-01]", "f0"):
        assert FitParameter.parse(text).label == str(parse_label(text))
        assert FitParameter.parse(text).to_label() == parse_label(text)
    assert FitParameter.parse(("background", "KAZ", dt.date(2022, 10, 1))).label == "background[KAZ@2022-10-01]"
    dims = parse_vary(seed_params, [" tau_S [KAZ] "])
    assert [d.label for d in dims] == ["tau_S[KAZ]"]


# ------------------------------------------------------------------ one parser
def _label_parsers(package: Path) -> list[str]:
    """Places outside the home module that parse labels: a regex that reads ``name[HOST]``, or splitting on '['."""
    samples = ("tau_T[KAZ]", "pulse.total[KAZ:1]", "background[KAZ@2022-10-01]")
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel == HOME:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or not node.args:
                continue
            arg = node.args[0]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                continue
            if node.func.attr in ("compile", "match", "fullmatch", "search"):
                try:
                    pattern = __import__("re").compile(arg.value)
                except Exception:
                    continue
                if any(pattern.fullmatch(s) or pattern.match(s) and pattern.match(s).end() > len(s.split("[")[0])
                       for s in samples):
                    found.append(f"{rel}:{node.lineno} regex")
            elif node.func.attr in ("split", "rsplit", "partition", "rpartition", "index", "find") and \
                    "[" in arg.value:
                found.append(f"{rel}:{node.lineno} {node.func.attr}({arg.value!r})")
    return found


def test_no_other_module_parses_labels():
    assert _label_parsers(PACKAGE) == []


def test_a_second_label_parser_is_caught(tmp_path):
    (tmp_path / "scenario").mkdir()
    (tmp_path / "a.py").write_text('import re\n_R = re.compile(r"^(\\w+)\\[(\\w+)\\]$")\n')
    (tmp_path / "b.py").write_text('def f(s):\n    return s[:-1].split("[", 1)\n')
    (tmp_path / "c.py").write_text('import re\n_R = re.compile(r"^\\d+$")\n')
    assert [f.split(":")[0] for f in _label_parsers(tmp_path)] == ["a.py", "b.py"]


# ------------------------------------------------------------------ transforms
def _p(label, value, bounds, transform, **kw):
    return FreeParameter(label=parse_label(label), value=value, bounds=bounds, transform=transform, **kw)


@pytest.mark.parametrize("transform, bounds, x", [
    ("identity", (-2.0, 5.0), 1.5),
    ("log", (0.1, 1e4), 37.0),
    ("logit", (0.0, 1.0), 0.3),
    ("logit", (0.2, 0.6), 0.25),
    ("log(x-1)", (1.0, 50.0), 3.5),
])
def test_transform_round_trip(transform, bounds, x):
    p = _p("tau_T[KAZ]", x, bounds, transform)
    assert p.to_natural(p.to_transformed(x)) == pytest.approx(x, rel=1e-12)
    zlo, zhi = p.z_bounds()
    if transform == "log":
        assert (zlo, zhi) == (math.log(0.1), math.log(1e4))
    if transform == "logit":
        assert (zlo, zhi) == (-math.inf, math.inf)


@settings(max_examples=60, deadline=None)
@given(st.floats(-40, 40))
def test_logit_stays_inside_its_bounds(z):
    p = _p("q_on[KAZ]", 0.3, (0.2, 0.6), "logit")
    assert 0.2 <= p.to_natural(z) <= 0.6
    assert 0.2 <= p.to_natural(z, ceiling=0.4) <= 0.4


def test_unknown_transform_is_refused():
    with pytest.raises(ParameterError, match="transform must be one of identity, log, logit.*Did you mean 'logit'"):
        _p("q_on[KAZ]", 0.3, (0.0, 1.0), "logitt")


def test_integer_parameters_scale_to_whole_numbers():
    p = _p("k", 3.0, (1.0, 4.0), "identity", integer=True)
    assert p.scale(np.array([0.0, 0.26, 0.5, 0.99])).tolist() == [1.0, 2.0, 3.0, 4.0]


# ------------------------------------------------------------------ the collection and its shares
def _fixed(values):
    return lambda name, host: values[(name, host)]


def test_collection_is_ordered_by_label_and_refuses_duplicates():
    free = FreeParameters([_p("tau_T[KAZ]", 3.0, (1.0, 9.0), "log"), _p("f0", 0.01, (0.001, 0.1), "log")])
    assert free.labels == ("tau_T[KAZ]", "f0") and list(free) == ["tau_T[KAZ]", "f0"]
    assert free[" tau_T [KAZ]"].value == 3.0 and free[1].name == "f0"
    assert free.value_array.tolist() == [3.0, 0.01] and free.lower.tolist() == [1.0, 0.001]
    with pytest.raises(ParameterError, match="tau_T\\[UZB\\] is not a free parameter.*Did you mean 'tau_T\\[KAZ\\]'"):
        free["tau_T[UZB]"]
    with pytest.raises(ParameterError, match="f0 is listed twice"):
        FreeParameters([_p("f0", 0.01, (0.001, 0.1), "log"), _p(" f0 ", 0.02, (0.001, 0.1), "log")])
    assert len(FreeParameters([_p("f0", 0.01, (0.001, 0.1), "log", vary=False)]).varying()) == 0


@settings(max_examples=80, deadline=None)
@given(st.floats(-30, 30), st.floats(-30, 30))
def test_shares_fitted_together_never_sum_above_one(z_on, z_ret):
    free = FreeParameters([_p("q_ret[KAZ]", 0.2, (0.0, 1.0), "logit"), _p("q_on[KAZ]", 0.3, (0.0, 1.0), "logit")],
                          fixed=_fixed({}))
    x = free.to_natural([z_ret, z_on])
    assert x[0] + x[1] <= 1.0 + 1e-12
    free.check_values(np.minimum(x, 1.0))
    if 1e-6 < x[0] < 1 - x[1] - 1e-6 and 1e-6 < x[1] < 1 - 1e-6:
        assert free.to_transformed(x) == pytest.approx([z_ret, z_on], abs=1e-6)


def test_a_share_alone_stays_below_one_minus_its_fixed_partner():
    free = FreeParameters([_p("q_on[KAZ]", 0.3, (0.0, 1.0), "logit")], fixed=_fixed({("q_ret", "KAZ"): 0.7}))
    assert free.share_ceiling(0, [0.3]) == pytest.approx(0.3)
    assert free.to_natural([50.0])[0] + 0.7 <= 1.0 + 1e-12
    with pytest.raises(ParameterError, match="q_on \\+ q_ret for host KAZ = 0.5 \\+ 0.7 > 1"):
        free.check_values([0.5])
    with pytest.raises(ParameterError, match="needs the value of q_ret"):
        FreeParameters([_p("q_on[KAZ]", 0.3, (0.0, 1.0), "logit")]).to_natural([0.0])


def test_ranges_are_checked_jointly():
    fixed = _fixed({("q_on", "KAZ"): 0.2, ("q_ret", "KAZ"): 0.1, ("q_on", "UZB"): 0.2, ("q_ret", "UZB"): 0.1})
    ok = FreeParameters([_p("q_on[KAZ]", 0.3, (0.1, 0.8), "identity")])
    ok.check_ranges(["KAZ", "UZB"], fixed)
    both = FreeParameters([_p("q_on[KAZ]", 0.3, (0.1, 0.6), "identity"),
                           _p("q_ret[KAZ]", 0.2, (0.1, 0.5), "identity")])
    with pytest.raises(ParameterError, match="for host KAZ allow q_on \\+ q_ret = 0.6 \\+ 0.5 = 1.1 > 1"):
        both.check_ranges(["KAZ", "UZB"], fixed)
    low_k = FreeParameters([_p("K[KAZ]", 5e4, (100.0, 1e5), "identity")])
    with pytest.raises(ParameterError, match="`K` for host KAZ starts at 100, below the initial stock E = 500"):
        low_k.check_ranges(["KAZ"], fixed, {"KAZ": {"E": 500.0}})


def test_dimensions_are_views_of_the_collection(seed_params):
    dims = parse_vary(seed_params, {"tau_S[KAZ]": (60, 240), "k": None})
    assert [type(d) for d in dims] == [Dimension, Dimension]
    p = FreeParameter(label=Label("tau_S", "KAZ"), value=100.0, bounds=(60.0, 240.0), unit="days")
    assert Dimension.of(p) == Dimension("tau_S", "KAZ", 60.0, 240.0) == dims[1]
    assert dims[0].label == str(Label("k")) and dims[0].integer


def test_the_fit_vector_holds_a_collection():
    from flowsim.analysis.background import BackgroundTraffic
    from flowsim.calibration.parameters import ParameterVector

    sc = flowsim.load_scenario("kazakhstan-2022")
    vec = ParameterVector(["q_on[KAZ]", "q_ret[KAZ]", "tau_T[KAZ]", "pulse.shape[KAZ]", "background[KAZ]"], sc,
                          BackgroundTraffic(entries={"KAZ": 1_000.0}))
    assert vec.free.labels == vec.labels
    assert [p.transform for p in vec.free.values()] == ["logit", "logit", "log", "log(x-1)", "log"]
    assert vec.free.partner(1) == 0 and vec.free.partner(0) is None
    x = vec.to_natural(np.array([3.0, 3.0, 1.0, 0.0, 7.0]))
    assert x[0] + x[1] <= 1.0 and x[3] == 2.0
    shape = x[3]
    arrivals = vec.pulse_arrivals(x)
    assert [s.shape for s in arrivals["KAZ"] if hasattr(s, "shape")] == [shape]


@pytest.fixture
def seed_params():
    return flowsim.load_scenario("kazakhstan-2022").params


def test_the_posterior_prior_of_shares_uses_the_collections_ceiling():
    """A flat prior on shares fitted together: the logistic's Jacobian up to q_on's ceiling and q_ret's 1 - q_on."""
    from flowsim.analysis.background import BackgroundTraffic
    from flowsim.analysis.constraints import ObservationModel
    from flowsim.calibration.parameters import ParameterVector
    from flowsim.calibration.posterior import LogPosterior

    sc = flowsim.load_scenario("kazakhstan-2022")
    bg = BackgroundTraffic(entries={"KAZ": 1_000.0})
    vec = ParameterVector(["q_on[KAZ]", "q_ret[KAZ]"], sc, bg)
    model = ObservationModel.build(flowsim.datasets.observations_2022().filter(host="KAZ"), bg)
    lp = LogPosterior(vec, model, model.weights > 0, {}, "log-uniform", 1.0)
    z = np.array([0.4, -0.3])
    x = vec.to_natural(z)

    def log_jacobian(width, zi):
        return math.log(width) + math.log(1 / (1 + math.exp(-zi))) + math.log(1 / (1 + math.exp(zi)))

    assert lp.log_prior(z) == pytest.approx(log_jacobian(1.0, 0.4) + log_jacobian(1.0 - x[0], -0.3), rel=1e-12)
