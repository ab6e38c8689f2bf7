"""What a fit and a posterior sample evaluate: the residuals of the observations as a function of the parameters.

:class:`Objective` runs the model at given parameter values (with a small
cache) and returns the residuals of the observations that count;
:func:`problem` sets up the parameter vector and those observations. The
least-squares fit (:mod:`flowsim.calibration.fit`) and the MCMC sampler
(:mod:`flowsim.calibration.posterior`) both build on them.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..analysis.constraints import ObservationModel
from ..exceptions import CalibrationError, FlowsimError
from ..runner import run
from ..scenario.sampling import Dimension
from ..scenario.specs import PARAMETER_SPECS
from ..simulate import MemberInputs
from .parameters import ParameterVector

__all__ = ["Objective", "problem", "SOLVER_DEFAULTS", "FIT_SOLVER", "fit_solver", "member_inputs", "walker_inputs"]

#: Solver of the runs while fitting: calibrate, validate (its fit and its re-run of the fitted scenario),
#: backtest and sample_posterior (see ``calibrate``).
FIT_SOLVER = "ivp"
#: Solver options of the runs while fitting (the same purposes): rtol 1e-6, looser than a run's 1e-8.
SOLVER_DEFAULTS = {"rtol": 1e-6}


def fit_solver(solver, solver_options, what: str = "calibrate") -> tuple[str, dict]:
    """The solver (registry name) and options of a fit's runs: :data:`FIT_SOLVER` with :data:`SOLVER_DEFAULTS`.

    ``solver_options`` go over the defaults; a ``"solver"`` key in them
    (the older way of naming it) works as ``solver`` does. The defaults
    (``rtol=1e-6``) apply to the ODE solvers (``"ivp"``, ``"ensemble"``),
    which take an ``rtol``; another solver runs with its own defaults.
    """
    options = dict(solver_options or {})
    named = options.pop("solver", None)
    if solver is not None and named is not None and named != solver:
        raise CalibrationError(f"{what}: solver {solver!r} and solver_options['solver'] = {named!r} differ; "
                               "give the solver once, as solver=.")
    solver = solver or named or FIT_SOLVER
    defaults = SOLVER_DEFAULTS if solver in ("ivp", "ensemble") else {}
    return solver, dict(defaults, **options)


def member_inputs(vector: ParameterVector, scenario, X) -> tuple[tuple, np.ndarray, tuple | None]:
    """Dimensions, their values and per-member arrivals of natural values ``X`` (n, p) of ``vector``.

    Model parameters become :class:`~flowsim.scenario.sampling.Dimension`
    objects spanning ``X`` (a per-host parameter fitted as one value for
    all hosts: one dimension per host, the same values); pulse fields become
    per-member arrival schedules (None when no pulse field is fitted);
    background levels belong to the observation model and do not enter the
    run. :meth:`flowsim.simulate.MemberInputs.from_values` takes the three.
    """
    X = np.atleast_2d(np.asarray(X, float))
    dims, cols = [], []
    for j, p in enumerate(vector.params):
        if p.kind != "model":
            continue
        if PARAMETER_SPECS[p.name].scope == "global":
            hosts = (None,)
        else:
            hosts = (p.host,) if p.host is not None else scenario.hosts
        for host in hosts:
            dims.append(Dimension(p.name, host, float(X[:, j].min()), float(X[:, j].max())))
            cols.append(X[:, j])
    values = np.column_stack(cols) if cols else np.empty((X.shape[0], 0))
    arrivals = None
    if any(p.kind == "pulse" for p in vector.params):
        arrivals = tuple(vector.pulse_arrivals(row, scenario.arrivals) for row in X)
    return tuple(dims), values, arrivals


def walker_inputs(vector: ParameterVector, X) -> MemberInputs:
    """The :class:`~flowsim.simulate.MemberInputs` of natural values ``X`` (n, p): one member per row."""
    dims, values, arrivals = member_inputs(vector, vector.scenario, X)
    return MemberInputs.from_values(vector.scenario, dims, values, arrivals, where="sample_posterior")


class Objective:
    """Residuals of the active observations as a function of the transformed parameters.

    Model runs are cached by the values that change the model (background
    levels only change the observation model), so a Jacobian column of a
    background level costs no run.
    """

    def __init__(self, vector: ParameterVector, model: ObservationModel, active: np.ndarray, solver_options: dict):
        self.vector = vector
        self.model = model
        self.active = active
        self.solver_options = solver_options
        self._mask = vector.model_mask()
        self._cache: OrderedDict = OrderedDict()
        self.runs = 0
        self.evaluations = 0

    def result_for(self, x):
        """``(Result, scenario, background)`` for natural values ``x``."""
        scenario, background = self.vector.apply(x)
        key = tuple(np.asarray(x)[self._mask].tolist())
        result = self._cache.get(key)
        if result is None:
            try:
                result = run(scenario, **self.solver_options)
            except FlowsimError as exc:
                values = ", ".join(f"{n}={v:.6g}" for n, v in zip(self.vector.labels, x))
                raise CalibrationError(f"the model failed at {values}: {exc}") from None
            self.runs += 1
            self._cache[key] = result
            if len(self._cache) > 2 * len(self.vector) + 4:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return result, scenario, background

    def predictions(self, z) -> np.ndarray:
        """Model value of every observation (active or not) at transformed values ``z``."""
        x = self.vector.to_natural(z)
        result, _, background = self.result_for(x)
        return self.model.predict(result, background=background)

    def data_residuals(self, z) -> np.ndarray:
        """Residuals of the active observations only (no prior terms)."""
        self.evaluations += 1
        return self.model.residuals(self.predictions(z))[self.active]

    def __call__(self, z) -> np.ndarray:
        """Residuals of the active observations, then one per prior: ``(z - center) / sd``."""
        r = self.data_residuals(z)
        if self.vector.has_priors:
            r = np.concatenate([r, self.vector.prior_residuals(z)])
        return r


def problem(scenario, model: ObservationModel, params, horizon_days, *, what: str, purpose: str):
    """The parameter vector and the observations that count, for a fit or a posterior sample.

    Checks that the observations' hosts are in ``scenario`` and that
    ``horizon_days`` (default: up to the last observation) covers them; the
    model runs over that horizon.

    Returns
    -------
    vector : ParameterVector
    active : ndarray of bool, shape (n_observations,)
        Observations with a positive weight.
    horizon_days : int
        The horizon the model runs over, days.
    """
    model.check_scenario(scenario)
    needed = model.days_needed(scenario.start)
    if horizon_days is None:
        horizon_days = needed
    elif horizon_days < needed:
        raise CalibrationError(f"{what}horizon_days must cover the last observation ({needed} days from "
                               f"{scenario.start}); got {horizon_days}.")
    vector = ParameterVector(params, scenario.replace(horizon_days=int(horizon_days)), model.background)
    active = model.weights > 0
    if not active.any():
        raise CalibrationError(f"{what}every observation has weight 0; nothing to {purpose}.")
    return vector, active, int(horizon_days)
