"""The economic layer of MODEL.md ("Economy of host h").

Pure functions from compartment trajectories and economy parameters to the
channel series (USD/day) and the derived ``boost``, ``burden`` and ``net``.
"""

from __future__ import annotations

import numpy as np

from .._validation import did_you_mean
from ..exceptions import FlowsimError
from ..model.layout import Layout

__all__ = [
    "CHANNELS", "ECONOMY_VARIABLES", "ECONOMY_UNITS", "ECONOMY_PARAMETERS", "economy_series", "economy_arrays",
    "series_names", "series_weights",
]

#: The six channels, in MODEL.md order.
CHANNELS = ("spending", "work", "public", "support", "displacement", "rent")

#: Every economy variable a result carries, in order.
ECONOMY_VARIABLES = (*CHANNELS, "boost", "burden", "net", "net_share_gdp")

#: Units of the economy variables.
ECONOMY_UNITS = {name: "USD/day" for name in ECONOMY_VARIABLES} | {"net_share_gdp": "1 (share of daily GDP)"}


ECONOMY_PARAMETERS = ("c_T", "c_S", "c_R", "m", "w", "pi", "delta", "g_pub", "b_U", "L", "Hs", "hR", "eps", "gdp")


def economy_arrays(regimes, t) -> dict:
    """Economy parameters of every member, host and day.

    Parameters
    ----------
    regimes : list of list of (float, ParameterSet)
        For each member, its piecewise-constant parameters
        (:meth:`Scenario.regimes`); a plain list of ParameterSet means
        constant parameters.
    t : ndarray, shape (D,)
        Output days.

    Returns
    -------
    dict of str to ndarray
        Shape (M, H, 1) when parameters are constant, else (M, H, D).
    """
    regimes = [m if isinstance(m, list) else [(0.0, m)] for m in regimes]
    first = {n: np.stack([np.asarray(m[0][1].values[n], float) for m in regimes])[..., None]
             for n in ECONOMY_PARAMETERS}
    if len(regimes[0]) == 1:
        return first
    out = {n: np.repeat(v, len(t), axis=-1) for n, v in first.items()}
    for r, (start, _) in enumerate(regimes[0][1:], start=1):
        days = t >= start
        for n in ECONOMY_PARAMETERS:
            values = np.stack([np.asarray(m[r][1].values[n], float) for m in regimes])
            out[n][..., days] = values[..., None]
    return out


def economy_series(states: np.ndarray, layout: Layout, econ: dict) -> np.ndarray:
    """Channel, boost, burden and net series of every host.

    Parameters
    ----------
    states : ndarray, shape (M, H, C, D)
        Compartment trajectories, people.
    layout : Layout
        Compartment positions.
    econ : dict of str to ndarray (M, H, 1) or (M, H, D)
        Economy parameters (``c_T``, ``c_S``, ``c_R``, ``m``, ``w``, ``pi``,
        ``delta``, ``g_pub``, ``b_U``, ``L``, ``Hs``, ``hR``, ``eps``, ``gdp``),
        constant or per day (see :func:`economy_arrays`).

    Returns
    -------
    ndarray, shape (M, H, V, D)
        Variables in :data:`ECONOMY_VARIABLES` order; all in USD/day except
        ``net_share_gdp`` (net divided by daily GDP, ``gdp / 365``).

    Examples
    --------
    With one saver in one host, ``c_S = 30`` USD/day and ``m = 0.5``, the
    spending channel is 15 USD/day.
    """
    p = econ                                                       # (M, H, 1 or D) broadcast over days
    T = states[:, :, layout.T]
    S = states[:, :, layout.S].sum(axis=2)
    R, E, U = states[:, :, layout.R], states[:, :, layout.E], states[:, :, layout.U]
    N = states[:, :, layout.present].sum(axis=2)

    spending = p["m"] * (p["c_T"] * T + p["c_S"] * S + p["c_R"] * R)
    work = p["pi"] * p["w"] * E
    public = p["g_pub"] * N
    support = p["b_U"] * U
    displacement = p["delta"] * p["w"] * E
    rent = p["eps"] * p["L"] * p["hR"] * N / p["Hs"]
    boost = spending + work
    burden = public + support + displacement + rent
    net = boost - burden
    share = net / (p["gdp"] / 365.0)
    return np.stack([spending, work, public, support, displacement, rent, boost, burden, net, share], axis=2)


def series_names(layout: Layout) -> tuple[str, ...]:
    """Every series name of a result with this layout: compartments, ``S``, ``N``, economy variables."""
    return (*layout.names, "S", "N", *ECONOMY_VARIABLES)


def series_weights(layout: Layout, econ: dict, variables) -> np.ndarray:
    """Weight of every compartment in each series, for constant parameters.

    Every series a result carries is a linear function of the compartments
    (the channels of MODEL.md have no constant term), so with parameters
    constant in time ``series_v(t) = sum_c W[v, c] * state_c(t)`` per host
    and member. The economy weights are obtained by evaluating
    :func:`economy_series` on the unit basis of the compartments, so the
    formulas live in one place only.

    Parameters
    ----------
    layout : Layout
    econ : dict of str to ndarray (M, H, 1)
        Economy parameters of one regime (see :func:`economy_arrays`).
    variables : sequence of str
        Names from :func:`series_names`.

    Returns
    -------
    ndarray, shape (V, C, H, M)
        Compartment-major, as the ensemble solver's output sink wants it.

    Examples
    --------
    ``N`` weighs every present compartment by 1:

    >>> import numpy as np
    >>> econ = {n: np.ones((1, 1, 1)) for n in ECONOMY_PARAMETERS}
    >>> series_weights(Layout(1), econ, ["N"])[0, :, 0, 0]
    array([1., 1., 1., 1., 1., 0., 0., 0.])
    """
    C = layout.size
    M, H = np.shape(econ["m"])[:2]
    names = series_names(layout)
    coef = None
    rows = []
    for v in variables:
        if v in ECONOMY_VARIABLES:
            if coef is None:
                basis = np.broadcast_to(np.eye(C), (M, H, C, C))         # state c on "day" j: 1 if c == j
                coef = economy_series(basis, layout, econ)               # (M, H, V_econ, C)
            w = coef[:, :, ECONOMY_VARIABLES.index(v), :]
        elif v in names:
            w = np.zeros((M, H, C))
            pick = {"S": layout.S, "N": layout.present}.get(v, layout.index(v) if v in layout.names else None)
            w[..., pick] = 1.0
        else:
            fix = did_you_mean(str(v), names)
            raise FlowsimError(f"unknown series {v!r}; known: {', '.join(names)}.{fix}")
        rows.append(np.transpose(w, (2, 1, 0)))                          # (C, H, M)
    return np.ascontiguousarray(np.stack(rows))
