"""Global sensitivity of one host's scalar output: Sobol' indices and a one-at-a-time tornado.

The model runs through :func:`flowsim.simulate.simulate` (chunked,
any executor), with one step plan for every evaluation, so a point's output
does not depend on which other points run with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_seed, check_whole_number
from ..analysis.sensitivity_indices import SobolIndices, sobol_analysis, tornado_points, tornado_swings
from ..exceptions import FlowsimError
from ..model.economy import ECONOMY_UNITS
from ..scenario.sampling import parse_vary
from ..scenario.specs import PARAMETER_SPECS
from ..simulate import DEFAULT_CHUNK, SCALAR_STATS, MemberInputs, Outputs, simulate
from ..summary import resolve_summary_name, summary_field
from ..table import Table

__all__ = ["sensitivity", "SensitivityResult", "SENSITIVITY_COLUMNS", "default_vary"]

#: Columns of :meth:`SensitivityResult.table` (and ``sobol.csv``).
SENSITIVITY_COLUMNS = ("parameter", "host", "low", "high", "first_order", "first_low", "first_high",
                       "total_order", "total_low", "total_high", "output_at_low", "output_at_high")

#: Summary figures that are days (-1 when the event does not occur).


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    """Sobol' indices and tornado swings of one output of one host.

    Attributes
    ----------
    output, host : str
        What was analysed (``pv_net_usd`` of ``KAZ``...).
    unit : str
        Unit of the output.
    dims : tuple of Dimension
        The varied inputs and their ranges.
    indices : SobolIndices
        First-order and total indices with bootstrap intervals.
    base : float
        Output with every input at the scenario's value.
    at_low, at_high : ndarray, shape (d,)
        Output with one input at the low or high end of its range (tornado).
    seed : int
        Entropy of the Sobol' design.
    stats : dict
        Evaluations, wall time.
    """

    output: str
    host: str
    unit: str
    dims: tuple
    indices: SobolIndices
    base: float
    at_low: np.ndarray
    at_high: np.ndarray
    seed: int
    stats: dict = field(default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(d.label for d in self.dims)

    def ranking(self) -> np.ndarray:
        """Input indices by decreasing total index."""
        return np.argsort(-self.indices.total_order, kind="stable")

    def table(self) -> Table:
        """One row per input (:data:`SENSITIVITY_COLUMNS`), by decreasing total index.

        Returns
        -------
        Table
            Rows are dicts (``res.table()[0]["total_order"]``); ``.to_csv()`` is ``sobol.csv``.
        """
        ix = self.indices
        return Table(tuple({
            "parameter": self.dims[j].name, "host": self.dims[j].host or "", "low": self.dims[j].low,
            "high": self.dims[j].high, "first_order": float(ix.first_order[j]),
            "first_low": float(ix.first_interval[j, 0]), "first_high": float(ix.first_interval[j, 1]),
            "total_order": float(ix.total_order[j]), "total_low": float(ix.total_interval[j, 0]),
            "total_high": float(ix.total_interval[j, 1]), "output_at_low": float(self.at_low[j]),
            "output_at_high": float(self.at_high[j]),
        } for j in self.ranking()), title=f"Sobol' indices of {self.output} for host {self.host}",
            order=SENSITIVITY_COLUMNS)

    def __repr__(self) -> str:
        from .._formatting import sensitivity_text

        return sensitivity_text(self)

    def _repr_html_(self) -> str:
        from .._formatting import sensitivity_html

        return sensitivity_html(self)


def default_vary(params, host: str) -> dict:
    """Every parameter of ``host`` and every global one with a shipped range (not a single value)."""
    h = params.host_index(host)
    out = {}
    for name, sp in PARAMETER_SPECS.items():
        rng = np.asarray(params.ranges[name])
        lo, hi = rng[h] if sp.scope == "host" else rng
        if lo < hi:
            out[name] = {host: None} if sp.scope == "host" else None
    return out


def _output_reader(output: str, horizon: int):
    """(scalar spec to request, function from evaluate's outputs to (n, H), unit)."""
    stat, _, var = output.partition(":")
    if stat in SCALAR_STATS and var:
        return (output,), (lambda summary, scalars: scalars[output]), ECONOMY_UNITS.get(var, "people")
    try:
        key = resolve_summary_name(output)
    except FlowsimError as exc:
        raise FlowsimError(f"{exc} Or STAT:SERIES with STAT in {', '.join(SCALAR_STATS)} (e.g. 'peak:U').") from None
    field = summary_field(key)
    if field.kind == "status":
        raise FlowsimError(f"output {output!r} is a category, not a number: analyse a number of the same balance, "
                           f"e.g. '{key.partition('.')[0]}.sustained_crossover_day' or '.pv_usd'.")

    def read(summary, scalars):
        x = summary[key].astype(float)
        if field.kind == "day":
            x = np.where(x < 0, horizon + 1.0, x)      # no event within the horizon: the day after it
        return x
    return (), read, field.unit


def sensitivity(scenario, output: str = "residents.pv_usd", host: str = "KAZ", n: int = 256, *, vary=None, seed=None,
                bootstrap: int = 200, chunk_size: int = DEFAULT_CHUNK, executor=None,
                progress: bool | None = None, solver_options: dict | None = None,
                solver: str = "ensemble") -> SensitivityResult:
    """Sobol' indices (first order and total) and a tornado of one host's scalar output.

    Parameters
    ----------
    scenario : Scenario
    output : str
        A summary figure of any balance, ``"BALANCE.FIELD"``
        (``"residents.pv_usd"``, the default; ``"fiscal.sustained_crossover_day"``,
        ``"inflow.fade_ratio"``...; v1's ``"pv_net_usd"`` still works), or
        ``"peak_present"``; a day that does not occur counts as the day after
        the horizon. Or ``"STAT:SERIES"`` with STAT
        ``peak``, ``final`` or ``mean`` (``"peak:U"``: most unemployed at once).
    host : str
        Host whose output is analysed.
    n : int
        Base sample size, a power of 2; the model runs ``n * (d + 2) + 2 d + 1``
        times for ``d`` inputs.
    vary : None, sequence or mapping
        Inputs and ranges as in :func:`flowsim.ensemble`; by default every
        parameter of ``host`` and the global ones over their shipped ranges.
    seed : int, optional
        Seed of the Sobol' design and the bootstrap. When None a fresh seed is
        drawn and recorded in :attr:`SensitivityResult.seed` (``flowsim
        sensitivity`` prints it).
    bootstrap : int
        Bootstrap resamples for the 95% intervals (0: none).
    chunk_size, executor, progress, solver_options
        As in :func:`flowsim.ensemble`.
    solver : str
        Registered name of the solver (default ``"ensemble"``: one step plan
        for every evaluation, so a point's output does not depend on the
        others; see :func:`flowsim.simulate.simulate`).

    Returns
    -------
    SensitivityResult
    """
    params = scenario.params
    h = params.host_index(host)
    dims = parse_vary(params, default_vary(params, host) if vary is None else vary, initial=scenario.initial)
    if not dims:
        raise FlowsimError("nothing varies: give `vary` with at least one range.")
    extra, read, unit = _output_reader(output, scenario.horizon_days)
    root = np.random.SeedSequence(check_seed(seed, "sensitivity: seed"))
    bootstrap = check_whole_number(bootstrap, "sensitivity: bootstrap (resamples; 0 for none)", 0)
    counter = {"runs": 0}
    plans: dict = {}

    def run(points):
        proj = simulate(MemberInputs.from_values(scenario, dims, points, where="sensitivity"),
                        Outputs.series(keep=(), scalars=extra), solver=solver, solver_options=solver_options,
                        executor=executor, chunk_size=chunk_size, progress=progress, plan_cache=plans,
                        desc=f"sensitivity {output}")
        counter["runs"] += points.shape[0]
        return read(proj.summary, proj.scalars)[:, h]

    base = np.array([min(max(params.get(d.name, d.host), d.low), d.high) for d in dims])
    bounds = [(d.low, d.high) for d in dims]
    tornado = run(tornado_points(base, bounds))
    base_value, at_low, at_high = tornado_swings(tornado)
    indices = sobol_analysis(run, bounds, n, integer=[d.integer for d in dims],
                             seed=np.random.default_rng(root), bootstrap=bootstrap)
    return SensitivityResult(output=output, host=host, unit=unit, dims=tuple(dims), indices=indices,
                             base=base_value, at_low=at_low, at_high=at_high, seed=int(root.entropy),
                             stats={"evaluations": counter["runs"]})
