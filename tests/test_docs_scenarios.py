"""The worked examples of docs/scenarios.md and the README build and run as printed."""

import re
from pathlib import Path

import matplotlib
import pytest

import flowsim
from flowsim.scenario.files import scenario_from_toml

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "scenarios.md").read_text()
README = (ROOT / "README.md").read_text()
TOML_BLOCKS = re.findall(r"```toml\n(.*?)```", DOC, flags=re.S)
README_TOML = re.findall(r"```toml\n(.*?)```", README, flags=re.S)
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)


def test_the_doc_has_an_example_per_feature():
    text = "\n".join(TOML_BLOCKS)
    for feature in ("[parameters", "[[arrivals.", "[[extra_arrivals.", "daily_counts", "piecewise_linear",
                    "pulse", "[[closures.", "[diversion.", "[initial.", "[[policies]]", "hosts =", "clear ="):
        assert feature in text, feature
    assert len(TOML_BLOCKS) >= 8


@pytest.mark.parametrize("i", range(len(TOML_BLOCKS)))
def test_toml_example_builds_and_runs(tmp_path, i):
    sc = scenario_from_toml(TOML_BLOCKS[i], origin=f"docs/scenarios.md example {i}", base_dir=tmp_path)
    res = flowsim.run(sc.replace(horizon_days=min(sc.horizon_days, 200)))
    assert res.conservation_error() < 1e-6


def test_tuning_howto_runs(capsys):
    matplotlib.use("Agg")
    block = next(b for b in PYTHON_BLOCKS if "compare_results" in b)
    exec(compile(block, "docs/scenarios.md", "exec"), {})
    lines = [line.rsplit(maxsplit=2) for line in capsys.readouterr().out.splitlines()]
    diff = {(scenario, balance): float(value) for scenario, balance, value in lines}
    assert list(diff) == [(s, b) for s in ("eps 3", "f0 x2") for b in ("fiscal", "residents", "net")]
    assert diff["eps 3", "net"] < 0 < diff["f0 x2", "net"]                 # more rent: less net; more jobs: more
    assert diff["eps 3", "fiscal"] == diff["eps 3", "residents"] == 0.0    # rent nets out over residents (v2)
    assert diff["f0 x2", "fiscal"] > 0                                     # more jobs: more taxes, less support


def test_readme_scenario_example_runs():
    assert len(README_TOML) == 1
    sc = scenario_from_toml(README_TOML[0], origin="README.md", default_name="my")
    assert sc.params.get("K", "KAZ") == 90000 and sc.policies[0].factor == 2.0
    assert flowsim.run(sc.replace(horizon_days=150)).conservation_error() < 1e-6
