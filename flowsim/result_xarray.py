"""A :class:`~flowsim.results.Result` as an :class:`xarray.Dataset`, and NetCDF export.

Needs the optional extra ``xarray`` (``pip install '.[xarray]'`` in the flowsim source
folder, or ``pip install xarray``). NetCDF
files are written with SciPy's NetCDF-3 writer (SciPy is a core dependency of
flowsim), so no compiled NetCDF library is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._atomic import atomic_path
from ._optional import require
from ._version import __version__
from .exceptions import OutputError
from .model.economy import BALANCES, ECONOMY_UNITS
from .solve.invariants import CHECKS
from .summary import STATUSES, SUMMARY_FIELDS, summary_key

__all__ = ["to_xarray", "to_netcdf"]


def _xarray():
    return require("xarray", "to_xarray() and to_netcdf() need", extra="xarray")


def to_xarray(result):
    """The result as a labelled :class:`xarray.Dataset`.

    Returns
    -------
    xarray.Dataset
        Coordinates ``member``, ``host``, ``compartment``, ``variable``,
        ``date``; variables ``states`` (member, host, compartment, date;
        people), ``economy`` (member, host, variable, date; USD/day, the
        ``net_share_gdp`` row a share), ``cumulative_arrivals`` (date, host;
        people) and one (member, host) variable per summary figure (days are
        indices into ``date``, -1 when the event does not occur). Attributes:
        scenario name, start date, flowsim version, the SHA-256 hash and JSON
        of the resolved inputs, solver status and statistics.
    """
    import json

    from .result_file import canonical_json, inputs_record

    xr = _xarray()
    record = canonical_json(inputs_record(result))
    import hashlib

    data = {
        "states": (("member", "host", "compartment", "date"), result.states,
                   {"units": "people", "long_name": "people per compartment (In: cumulative entries)"}),
        "economy": (("member", "host", "variable", "date"), result.economy,
                    {"units": "USD/day (rent_rise and *_share_gdp: 1)",
                     "long_name": "money brought in, rent rise, channels, boost, burden, net, fiscal, accounts",
                     "units_by_variable": json.dumps({v: ECONOMY_UNITS.get(v, "") for v in result.variables})}),
        "cumulative_arrivals": (("date", "host"), result.cumulative_arrivals,
                                {"units": "people", "long_name": "exact integral of direct arrivals since the start"}),
    }
    if result.realised_arrivals is not None:
        data["realised_arrivals"] = (("member", "date", "host"), result.realised_arrivals,
                                     {"units": "people", "long_name": "direct arrivals drawn since the start"})
    data["run_status"] = (("member",), np.asarray(result.status, dtype=np.int8),
                          {"long_name": "whether each member keeps docs/model.md's invariants",
                           "flag_values": [0, *CHECKS], "flag_meanings": "ok " + " ".join(
                               "failed_" + c.replace(" ", "_").replace("-", "_") for c in CHECKS.values())})
    for name, field in SUMMARY_FIELDS.items():
        attrs = {"units": "day index (-1: none)" if field.kind == "day" else field.unit,
                 "long_name": field.description}
        if field.kind == "status":
            attrs = {"flag_values": list(range(len(STATUSES))), "flag_meanings": " ".join(STATUSES),
                     "long_name": field.description}
        if field.scope == "host":
            data[f"summary_{name}"] = (("member", "host"), np.asarray(result.summary_arrays[name]), attrs)
        else:
            arr = np.stack([result.summary_arrays[summary_key(name, b)] for b in BALANCES], axis=-1)
            data[f"summary_{name}"] = (("member", "host", "balance"), arr, attrs)
    coords = {
        "member": np.arange(result.n_members),
        "host": list(result.hosts),
        "compartment": list(result.compartments),
        "variable": list(result.variables),
        "balance": list(BALANCES),
        "date": result.dates.astype("datetime64[ns]"),
    }
    attrs = {
        "title": f"flowsim result for scenario {result.scenario.name}",
        "scenario": result.scenario.name,
        "start": str(result.dates[0]),
        "flowsim_version": __version__,
        "inputs_sha256": hashlib.sha256(record.encode("utf-8")).hexdigest(),
        "inputs_json": record,
        "success": int(bool(result.success)),
        "message": str(result.message),
        "stats_json": json.dumps({k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.stats.items()}),
    }
    return xr.Dataset({k: xr.Variable(*v) for k, v in data.items()}, coords=coords, attrs=attrs)


def to_netcdf(result, path) -> Path:
    """Write :func:`to_xarray` to a NetCDF-3 file, atomically (SciPy engine).

    Parameters
    ----------
    result : Result
    path : str or Path
        Target file (``.nc``); its folder must exist.

    Returns
    -------
    Path
    """
    ds = to_xarray(result)
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist; create it first.")
    try:
        with atomic_path(path) as tmp:
            ds.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the NetCDF file ({exc.strerror}).") from None
    return path
