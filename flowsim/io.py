"""Writing run outputs atomically: CSV tables, resolved inputs as JSON, figures; loading saved results.

Every file is written to a temporary name in the same folder and renamed into
place, so a crash never leaves a half-written file under the final name. A
command's outputs are staged, moved into its output folder and listed in the
folder's manifest (see :class:`OutputStage`, from :mod:`flowsim._outdir`).
"""

from __future__ import annotations

import json

import numpy as np

from ._atomic import atomic_write_text
from ._outdir import OutputStage
from ._version import __version__
from .analysis.compare import Difference
from .summary import SUMMARY_DECIMALS  # noqa: F401  (its documented home was here)
from .table import csv_cell, csv_text

__all__ = [
    "atomic_write_text",
    "OutputStage",
    "summary_csv_text",
    "timeseries_csv_text",
    "resolved_json_text",
    "timeseries_variables",
    "comparison_csv_text",
    "COMPARISON_COLUMNS",
    "quantiles_csv_text",
    "events_csv_text",
    "draws_csv_text",
    "sensitivity_csv_text",
    "validation_csv_text",
    "estimates_csv_text",
    "residuals_csv_text",
    "scenario_json_text",
    "posterior_csv_text",
    "posterior_summary_csv_text",
    "backtest_scores_csv_text",
    "backtest_coverage_csv_text",
    "load_result",
]


def load_result(path):
    """Load a result saved with ``save()``: a :class:`~flowsim.Result` or an :class:`~flowsim.EnsembleResult`.

    Parameters
    ----------
    path : str or Path
        A file written by :meth:`Result.save <flowsim.Result.save>` or
        :meth:`EnsembleResult.save <flowsim.EnsembleResult.save>` (any flowsim
        version that reads its format; see :mod:`flowsim.result_file`).

    Returns
    -------
    Result or EnsembleResult
        Every array and label exactly as saved (bit for bit); the scenario
        (and a run's parameter sets, an ensemble's dimensions and member
        arrivals) rebuilt from the stored inputs, so running it again gives
        the same arrays.

    Raises
    ------
    ResultFileError
        Missing, truncated or corrupted file, a file that is not a flowsim
        result, one from a newer format, or arrays, inputs or metadata that
        do not match their hashes (an edited file); the message names the
        file and the array.
    TypeError
        ``path`` is not a path (e.g. ``None``).

    Examples
    --------
    >>> import flowsim, pathlib, tempfile
    >>> sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=30)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> res = flowsim.load_result(flowsim.run(sc).save(folder / "run.npz"))
    >>> ens = flowsim.load_result(flowsim.ensemble(sc, 4, seed=1, progress=False).save(folder / "ens.npz"))
    >>> type(res).__name__, type(ens).__name__, ens.series("N", "KAZ", member=2).shape
    ('Result', 'EnsembleResult', (31,))
    """
    from .result_file import read_any
    from .results import Result
    from .uncertainty.ensemble_result import EnsembleResult

    kind, fields = read_any(path)
    return {"result": Result, "ensemble": EnsembleResult}[kind](**fields)


_cell = csv_cell
_csv_text = csv_text


def summary_csv_text(result, member: int = 0) -> str:
    """``summary.csv``: one row per host and balance; empty cells where a date does not occur.

    Numbers are rounded to what they can mean (:data:`SUMMARY_DECIMALS`):
    people to 0.01, USD and USD/day to the whole dollar, ratios to 6
    significant digits; ``Result.summary()`` keeps full precision.
    """
    return result.summary("all", member).to_csv()


def timeseries_variables(result) -> tuple[str, ...]:
    """Variables written to ``timeseries.csv`` for ``result``, in order."""
    return ("T", "S", *[c for c in result.compartments if c.startswith("S")],
            "R", "E", "U", "Ret", "Out", "In", "N", *result.variables)


def timeseries_csv_text(result, member: int = 0) -> str:
    """``timeseries.csv``: long format ``date, host, variable, value``.

    Compartments (``S`` summed and each stage ``S1..Sk``), the counters
    ``Ret``, ``Out`` and ``In`` (cumulative entries), ``N``, every
    economy channel, ``boost``, ``burden``, ``net`` and ``net_share_gdp``.
    """
    dates = [str(d) for d in result.dates]
    names = timeseries_variables(result)
    if any(set(x) & set(',"\r\n') for x in (*result.hosts, *names)):      # cells to quote: the csv module
        rows = []
        for host in result.hosts:
            for name in names:
                values = result.series(name, host, member)
                rows.extend(zip(dates, [host] * len(dates), [name] * len(dates), map(repr, values.tolist())))
        return _csv_text(("date", "host", "variable", "value"), rows)
    # nothing to quote: the same text as the csv module writes, joined directly (a few times faster)
    parts = ["date,host,variable,value\n"]
    for host in result.hosts:
        for name in names:
            middle = f",{host},{name},"
            values = map(repr, result.series(name, host, member).tolist())
            parts.append("".join([f"{d}{middle}{v}\n" for d, v in zip(dates, values)]))
    return "".join(parts)


def resolved_json_text(result, member: int = 0) -> str:
    """``resolved.json``: the fully resolved inputs of a run, docs/model.md symbols as keys."""
    solver = {k: (v if not isinstance(v, np.generic) else v.item()) for k, v in result.stats.items()}
    return scenario_json_text(result.scenario.replace(params=result.params[member]), solver=solver)


def scenario_json_text(scenario, solver: dict | None = None) -> str:
    """A scenario's fully resolved inputs as JSON (the ``resolved.json`` format, readable by ``flowsim run``)."""
    data = scenario.to_dict()
    data["flowsim_version"] = __version__
    if solver is not None:
        data["solver"] = solver
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def __getattr__(name):
    # ESTIMATE_COLUMNS lives beside Estimate (flowsim.calibration.calibration_result); this old import path
    # reads it on first use, so that importing flowsim.io does not import the calibration package.
    if name == "ESTIMATE_COLUMNS":
        from .calibration.calibration_result import ESTIMATE_COLUMNS

        return ESTIMATE_COLUMNS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Columns of ``comparison.csv`` (:attr:`flowsim.analysis.compare.Difference.COLUMNS`).
COMPARISON_COLUMNS = Difference.COLUMNS


def comparison_csv_text(differences) -> str:
    """``comparison.csv``: one row per compared scenario, host, balance and summary figure.

    ``reference`` and ``value`` are the figure in the reference and the
    compared scenario (dates ISO, empty when the event does not occur);
    ``difference`` is ``value - reference`` in ``unit`` (days for dates),
    empty when only one side has a value (``note`` says which).
    """
    from .table import Table

    return (differences if isinstance(differences, Table) else Table(tuple(differences))).to_csv()


# ------------------------------------------------------------------ uncertainty
def _level_name(q: float) -> str:
    return f"q{round(q * 100):02d}"


def quantiles_csv_text(ens, variables=("N", "net"), q=(0.05, 0.25, 0.5, 0.75, 0.95)) -> str:
    """``quantiles.csv``: ``date, host, variable, q05, q25, q50, q75, q95`` over the members of an ensemble.

    People for compartments and ``N``, USD/day for economy variables.
    """
    dates = [str(d) for d in ens.dates]
    header = ("date", "host", "variable", *(_level_name(x) for x in q))
    rows = []
    for variable in variables:
        levels = ens.quantiles(variable, q)                     # (len(q), H, D)
        for h, host in enumerate(ens.hosts):
            cols = levels[:, h, :].T.tolist()
            rows.extend((d, host, variable, *map(repr, c)) for d, c in zip(dates, cols))
    return _csv_text(header, rows)


def events_csv_text(ens) -> str:
    """``events.csv``: per host, the probability of a crossover within the horizon, the median crossover
    date among the members that cross (empty if none), the probability of a negative present value."""
    return ens.events().to_csv()


def draws_csv_text(ens) -> str:
    """``draws.csv``: the drawn parameter values, one row per member, one column per ``name[HOST]``."""
    return _csv_text(("member", *ens.labels), ([i, *map(repr, row.tolist())] for i, row in enumerate(ens.values)))


def sensitivity_csv_text(result) -> str:
    """``sobol.csv``: one row per input, by decreasing total index (columns of ``SENSITIVITY_COLUMNS``)."""
    return result.table().to_csv()


def validation_csv_text(validation) -> str:
    """``validation.csv``: one row per observation, fitted (``in_sample``) or predicted.

    Columns :data:`flowsim.calibration.VALIDATION_COLUMNS`: the observation
    (host, quantity, window, published value, the bounds it accepts, its
    qualifier and constraint), the prediction, the error (distance outside
    the accepted set, 0 inside; ``predicted - observed`` for a point), the
    relative error, whether it was fitted, its weight and its line in the
    observations file.
    """
    from .calibration.validation import VALIDATION_COLUMNS

    return validation.rows.to_csv(columns=VALIDATION_COLUMNS)


def estimates_csv_text(calibration) -> str:
    """``estimates.csv``: fitted parameters with standard errors and 95% intervals, one row each.

    ``identification`` is ``identified``, ``weak`` or ``none``;
    ``data_share`` the fraction of the ``reference``'s variance (the prior,
    or the plausible range) that the data remove (:class:`Estimate`).
    """
    from .calibration.calibration_result import ESTIMATE_COLUMNS

    return calibration.estimate_table.to_csv(columns=ESTIMATE_COLUMNS)


def residuals_csv_text(calibration) -> str:
    """``residuals.csv``: one row per observation against its fitted and initial prediction.

    Columns are the fields of :class:`flowsim.calibration.ResidualRow`
    (window, published value and accepted bounds, sigma and weight, fitted
    and initial predictions, error outside the bounds, relative error,
    whether it was fitted, line in the observations file).
    """
    return _table_csv(calibration.residuals)


def _table_csv(table) -> str:
    """A :class:`~flowsim.table.Table` as CSV: its columns in order, one line per row."""
    return table.to_csv()


def backtest_scores_csv_text(backtest) -> str:
    """``scores.csv``: one row per held-out figure of a backtest.

    Columns :data:`flowsim.calibration.backtest.SCORE_COLUMNS`: the figure
    (host, quantity, window, published value, the set it accepts, qualifier,
    constraint, kind, relative sigma of the error added, weight), the 5%,
    25%, 50%, 75% and 95% quantiles of its forecast (the figure's unit),
    whether the 50% and 90% bands cover it, its CRPS (the figure's unit) and
    relative CRPS, the relative error of the median, the PIT of a point, the
    forecast probability of the accepted set of a bound or range, and its
    line in the observations file.
    """
    return _table_csv(backtest.scores)


def backtest_coverage_csv_text(backtest) -> str:
    """``coverage.csv``: observed against nominal coverage per host and quantity, per host and in total.

    Columns :data:`flowsim.calibration.backtest.COVERAGE_COLUMNS`: the group
    (``all`` in totals) and the kinds of figure it counts, the nominal level,
    the figures and how many the band covered, the observed share, the
    central 95% binomial range of that share under a calibrated forecast,
    and the mean relative CRPS of the group.
    """
    return _table_csv(backtest.coverage)


def posterior_csv_text(sample) -> str:
    """``posterior.csv``: the kept samples, one row each (``step, walker, log_prob``, then every parameter)."""
    columns = sample.sample_columns()
    values = [[int(x) for x in v] if name in ("step", "walker") else [repr(float(x)) for x in v]
              for name, v in columns.items()]
    return _csv_text(list(columns), zip(*values))


def posterior_summary_csv_text(sample) -> str:
    """``posterior_summary.csv``: per parameter (the fields of :class:`~flowsim.calibration.PosteriorEstimate`)
    the median, mean, sd, 95% credible interval, least-squares value and integrated autocorrelation time
    (steps)."""
    return _table_csv(sample.estimate_table())
