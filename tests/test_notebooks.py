"""Every example notebook runs end to end in a real Jupyter kernel; the quick start's numbers are right."""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _execute(path, tmp_path):
    """Run a notebook in a fresh kernel that imports this checkout's flowsim; return the executed notebook."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    # the kernel is another process: put this checkout first on its path, whatever copy is installed
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    client.execute(env=env)  # raises CellExecutionError on the first failing cell
    return nb


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    return _execute(EXAMPLES / "quickstart.ipynb", tmp_path_factory.mktemp("quickstart"))


#: The notebooks of examples/ that this module executes and checks.
EXECUTED = ("quickstart.ipynb",)


def test_every_notebook_is_executed():
    """Every notebook in examples/ is one this module runs (a new notebook needs its own test here)."""
    found = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))
    assert found and set(found) <= set(EXECUTED), f"notebooks without a test: {sorted(set(found) - set(EXECUTED))}"


def test_quickstart_runs_and_draws(quickstart):
    outputs = _outputs(quickstart)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    # population + boost/burden + residents, fiscal and residents of two runs, overlay, fans, fit plot
    assert images == 5
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "border-closure" in text and "kaz-short-savings-job-desk" in text


def test_quickstart_numbers(quickstart):
    """The values the last cell prints (CHECKS), against figures derived elsewhere (docs/model.md v2 defaults).

    - the seed's PV of the residents' balance for Kazakhstan and its sustained crossover:
      the regression values of tests/test_economy.py::test_seed_summary_regression
      (tolerance 1e-6 relative);
    - the scenario file's tau_S override is read back exactly;
    - closing Kazakhstan's border from day 7 removes more than half of its five-year net
      impact indicator (v1 `net`; seed: 466 M USD, border-closure about 207 M USD) and
      more than half of its residents' five-year balance (seed: 214.5 M USD,
      border-closure about 90 M USD), but not all of either (summary.csv of
      `flowsim run kazakhstan-2022` and of `border-closure`);
    - the ensemble has 64 members and P(crossover, KAZ) of the residents' balance (the
      default) is a multiple of 1/64 within 4 binomial standard deviations
      (4 * sqrt(0.768 * 0.232 / 64) = 0.21) of the 0.768 of the 1000-member ensemble
      `flowsim.ensemble(seed, 1000, seed=1)`; the share with a sustained crossover of
      the budget (fiscal) likewise within 4 * sqrt(0.221 * 0.779 / 64) = 0.21 of its 0.221;
    - the quick calibration converges and fits better than the seed (MAPE 32.2% against
      the same 24 figures, docs/calibration.md); its MAPE is 18.1% (tolerance 1 point
      for the optimiser's end point) and its pulse total lies inside the 95% interval
      of the documented 7-parameter fit (144,073 .. 282,462 people).
    """
    import datetime as dt

    last = quickstart.cells[-1]
    checks = json.loads(last.outputs[-1]["text"])
    assert checks["seed_pv_residents_kaz_usd"] == pytest.approx(209_673_975.5, rel=1e-6)
    assert checks["seed_residents_kaz_sustained_crossover"] == str(dt.date(2025, 12, 1))
    assert checks["conservation_error"] < 1e-6
    assert checks["file_tau_S_kaz_days"] == 90.0
    assert -466e6 < checks["closure_cum_net_kaz_diff_usd"] < -233e6
    assert -214.5e6 < checks["closure_cum_residents_kaz_diff_usd"] < -107e6
    assert checks["ensemble_members"] == 64
    p = checks["ensemble_p_crossover_kaz"]
    assert (p * 64) == pytest.approx(round(p * 64)) and abs(p - 0.768) < 0.21
    p = checks["ensemble_p_sustained_fiscal_kaz"]
    assert (p * 64) == pytest.approx(round(p * 64)) and abs(p - 0.221) < 0.21
    assert checks["fit_converged"] is True
    assert checks["fit_mape_percent"] < 32.2
    assert checks["fit_mape_percent"] == pytest.approx(18.1, abs=1.0)
    assert 144_073 < checks["fit_pulse_total_kaz"] < 282_462
