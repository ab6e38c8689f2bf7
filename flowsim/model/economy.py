"""The economic layer of docs/model.md v2 ("Economy of host h").

Pure functions from compartment trajectories and economy parameters to the
series of docs/model.md: the money brought in (``inflow``), the rent rise, v1's six
channels with ``boost``, ``burden`` and ``net``, the fiscal revenue and cost,
and the three accounts (``value_added``, ``fiscal``, ``residents``), each
balance also as a share of daily GDP.
"""

from __future__ import annotations

import numpy as np

from .._validation import did_you_mean
from ..exceptions import FlowsimError
from ..scenario.layout import Layout
from ..scenario.specs import ECONOMY_PARAMETERS

__all__ = [
    "CHANNELS", "BALANCES", "ACCOUNTS", "ECONOMY_VARIABLES", "ECONOMY_UNITS", "ECONOMY_DESCRIPTIONS",
    "ECONOMY_PARAMETERS", "economy_series", "economy_arrays", "regime_economy",
    "series_names", "series_weights",
]

#: The six channels, in docs/model.md order.
CHANNELS = ("spending", "work", "public", "support", "displacement", "rent")

#: The balances of docs/model.md v2 that carry summaries: the money brought in, the three accounts, v1's net.
BALANCES = ("inflow", "value_added", "fiscal", "residents", "net")

#: The three accounts of docs/model.md v2 (views of the same flows: never add them together).
ACCOUNTS = ("value_added", "fiscal", "residents")

#: Every economy variable a result carries, in order: v1's first (unchanged), then v2's.
ECONOMY_VARIABLES = (
    *CHANNELS, "boost", "burden", "net", "net_share_gdp",
    "inflow", "rent_rise", "fiscal_revenue", "fiscal_cost", *ACCOUNTS,
    "inflow_share_gdp", *(f"{a}_share_gdp" for a in ACCOUNTS),
)

#: Units of the economy variables.
ECONOMY_UNITS = ({name: "USD/day" for name in ECONOMY_VARIABLES}
                 | {name: "1 (share of daily GDP)" for name in ECONOMY_VARIABLES if name.endswith("_share_gdp")}
                 | {"rent_rise": "1 (relative rise of main-city rents)"})

#: One-line meaning of each economy variable (figure titles, docs, the xarray attributes).
ECONOMY_DESCRIPTIONS = {
    "spending": "host value added of foreign-funded demand (m * inflow)",
    "work": "output (= wages) of employed migrants",
    "public": "public services used",
    "support": "support to the unemployed",
    "displacement": "local output and wages displaced",
    "rent": "extra rent paid by local renters",
    "boost": "spending + work",
    "burden": "public + support + displacement + rent",
    "net": "net impact indicator (v1): boost - burden",
    "net_share_gdp": "net impact indicator (v1) / daily GDP",
    "inflow": "money brought in: foreign-funded spending",
    "rent_rise": "relative rise of main-city rents",
    "fiscal_revenue": "taxes from migrants' spending, wages and remote work",
    "fiscal_cost": "public services and support",
    "value_added": "contribution to host GDP",
    "fiscal": "public budget balance: fiscal_revenue - fiscal_cost",
    "residents": "what the host's residents gain or lose",
    "inflow_share_gdp": "inflow / daily GDP",
    "value_added_share_gdp": "value_added / daily GDP",
    "fiscal_share_gdp": "fiscal / daily GDP",
    "residents_share_gdp": "residents / daily GDP",
}



def regime_economy(values: dict) -> dict:
    """Economy parameters of one regime, ``name -> (M, H, 1)``, from member arrays ``name -> (M, H)``."""
    return {n: np.asarray(values[n], float)[..., None] for n in ECONOMY_PARAMETERS}


def economy_arrays(regimes, t) -> dict:
    """Economy parameters of every member, host and day.

    Parameters
    ----------
    regimes : list of (float, dict)
        First day of each regime and the member arrays in force from then
        (``name -> ndarray (M, H)``; see
        :attr:`flowsim.simulate.MemberInputs.regimes`).
    t : ndarray, shape (D,)
        Output days.

    Returns
    -------
    dict of str to ndarray
        Shape (M, H, 1) when parameters are constant, else (M, H, D).
    """
    first = regime_economy(regimes[0][1])
    if len(regimes) == 1:
        return first
    out = {n: np.repeat(v, len(t), axis=-1) for n, v in first.items()}
    for start, values in regimes[1:]:
        days = t >= start
        for n in ECONOMY_PARAMETERS:
            out[n][..., days] = np.asarray(values[n], float)[..., None]
    return out


def economy_series(states: np.ndarray, layout: Layout, econ: dict) -> np.ndarray:
    """Every economy series of docs/model.md v2 for every host.

    Parameters
    ----------
    states : ndarray, shape (M, H, C, D)
        Compartment trajectories, people.
    layout : Layout
        Compartment positions.
    econ : dict of str to ndarray (M, H, 1) or (M, H, D)
        Economy parameters (:data:`ECONOMY_PARAMETERS`), constant or per day
        (see :func:`economy_arrays`).

    Returns
    -------
    ndarray, shape (M, H, V, D)
        Variables in :data:`ECONOMY_VARIABLES` order, units in
        :data:`ECONOMY_UNITS`: USD/day, except ``rent_rise`` (relative) and
        the ``*_share_gdp`` series (divided by daily GDP, ``gdp / 365``).

    Notes
    -----
    With ``theta = tau_w + tau_c * (1 - tau_w)`` (taxes per USD of a local
    wage spent in the host)::

        inflow         = c_T*T + c_S*S + c_R*R
        rent_rise      = eps*hR*N/Hs
        value_added    = m*inflow + (pi - delta)*w*E
        fiscal_revenue = tau_c*inflow + theta*(pi - delta)*w*E + tax_R*R
        fiscal_cost    = g_pub*N + b_U*U
        fiscal         = fiscal_revenue - fiscal_cost
        residents      = m*inflow + theta*pi*w*E + tax_R*R - delta*w*E - g_pub*N - b_U*U

    and v1's channels ``spending = m*inflow``, ``work = pi*w*E``,
    ``public = g_pub*N``, ``support = b_U*U``, ``displacement = delta*w*E``,
    ``rent = eps*rd*hR*N`` with ``net = boost - burden``.

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

    inflow = p["c_T"] * T + p["c_S"] * S + p["c_R"] * R
    spending = p["m"] * inflow
    wage_bill = p["w"] * E                                             # local wages of employed migrants
    work = p["pi"] * wage_bill
    public = p["g_pub"] * N
    support = p["b_U"] * U
    displacement = p["delta"] * wage_bill
    rent = p["eps"] * p["rd"] * p["hR"] * N
    boost = spending + work
    burden = public + support + displacement + rent
    net = boost - burden
    daily_gdp = p["gdp"] / 365.0

    theta = p["tau_w"] + p["tau_c"] * (1.0 - p["tau_w"])
    remote_tax = p["tax_R"] * R
    fiscal_revenue = p["tau_c"] * inflow + theta * (work - displacement) + remote_tax
    fiscal_cost = public + support
    value_added = spending + work - displacement
    fiscal = fiscal_revenue - fiscal_cost
    residents = spending + theta * work + remote_tax - displacement - fiscal_cost
    rent_rise = p["eps"] * p["hR"] * N / p["Hs"]
    return np.stack([
        spending, work, public, support, displacement, rent, boost, burden, net, net / daily_gdp,
        inflow, rent_rise, fiscal_revenue, fiscal_cost, value_added, fiscal, residents,
        inflow / daily_gdp, value_added / daily_gdp, fiscal / daily_gdp, residents / daily_gdp,
    ], axis=2)


def series_names(layout: Layout) -> tuple[str, ...]:
    """Every series name of a result with this layout: compartments, ``S``, ``N``, economy variables."""
    return (*layout.names, "S", "N", *ECONOMY_VARIABLES)


def series_weights(layout: Layout, econ: dict, variables) -> np.ndarray:
    """Weight of every compartment in each series, for constant parameters.

    Every series a result carries is a linear function of the compartments
    (the channels of docs/model.md have no constant term), so with parameters
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
