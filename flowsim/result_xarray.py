"""A result (:class:`~flowsim.Result`, :class:`~flowsim.EnsembleResult`) as an :class:`xarray.Dataset`, and NetCDF.

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
from .model.economy import BALANCES, ECONOMY_DESCRIPTIONS, ECONOMY_UNITS
from .solve.invariants import CHECKS
from .summary import STATUSES, SUMMARY_FIELDS, summary_key

__all__ = ["to_xarray", "ensemble_to_xarray", "to_netcdf", "write_netcdf"]


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
    data.update(_summary_variables(result.summary_arrays))
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


def _summary_variables(summary_arrays) -> dict:
    """One (member, host) or (member, host, balance) variable per summary figure, with units and flags."""
    data = {}
    for name, field in SUMMARY_FIELDS.items():
        attrs = {"units": "day index (-1: none)" if field.kind == "day" else field.unit,
                 "long_name": field.description}
        if field.kind == "status":
            attrs = {"flag_values": list(range(len(STATUSES))), "flag_meanings": " ".join(STATUSES),
                     "long_name": field.description}
        if field.scope == "host":
            data[f"summary_{name}"] = (("member", "host"), np.asarray(summary_arrays[name]), attrs)
        else:
            arr = np.stack([summary_arrays[summary_key(name, b)] for b in BALANCES], axis=-1)
            data[f"summary_{name}"] = (("member", "host", "balance"), arr, attrs)
    return data


def _netcdf_name(name: str) -> str:
    """A kept name (``peak:U``) as a NetCDF variable name (``peak_U``): letters, digits and ``_``."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def ensemble_to_xarray(ens):
    """An :class:`~flowsim.EnsembleResult` as a labelled :class:`xarray.Dataset`.

    Returns
    -------
    xarray.Dataset
        Coordinates ``member``, ``host``, ``date``, ``parameter`` (the varied
        dimensions' labels, ``tau_T[KAZ]``...) and ``balance``; one (member,
        host, date) variable per kept series (named as the series: ``N``,
        ``net``...; units people or USD/day), ``parameter_values`` and
        ``unit_sample`` (member, parameter), one ``summary_<figure>`` per
        summary figure as in :func:`to_xarray`, and one ``scalar_<name>``
        (member, host) per extra scalar (``peak:U`` as ``scalar_peak_U``).
        Attributes: scenario, sampler, seed, flowsim version, the SHA-256
        hash and JSON of the inputs, and the statistics.
    """
    import hashlib
    import json

    from .result_file import _plain, canonical_json

    xr = _xarray()
    record = canonical_json({"scenario": ens.scenario.to_dict()})
    data = {}
    for name in ens.series:
        data[name] = (("member", "host", "date"), np.asarray(ens.series[name]),
                      {"units": ECONOMY_UNITS.get(name, "people"),
                       "long_name": ECONOMY_DESCRIPTIONS.get(name, f"{name}, people")})
    data["parameter_values"] = (("member", "parameter"), np.asarray(ens.values),
                                {"long_name": "drawn parameter values, each in its parameter's unit",
                                 "units_by_parameter": json.dumps({d.label: d.unit for d in ens.dims})})
    data["unit_sample"] = (("member", "parameter"), np.asarray(ens.unit),
                           {"units": "1", "long_name": "drawn points of the unit cube"})
    data.update(_summary_variables(ens.summary_arrays))
    for name, arr in ens.scalars.items():
        data[f"scalar_{_netcdf_name(name)}"] = (("member", "host"), np.asarray(arr), {"long_name": name})
    coords = {
        "member": np.arange(ens.n_members),
        "host": list(ens.hosts),
        "date": np.asarray(ens.dates).astype("datetime64[ns]"),
        "parameter": [d.label for d in ens.dims],
        "balance": list(BALANCES),
    }
    attrs = {
        "title": f"flowsim ensemble of {ens.n_members} members for scenario {ens.scenario.name}",
        "scenario": ens.scenario.name,
        "start": str(ens.dates[0]),
        "sampler": str(ens.sampler),
        "seed": str(ens.seed),
        "flowsim_version": __version__,
        "inputs_sha256": hashlib.sha256(record.encode("utf-8")).hexdigest(),
        "inputs_json": record,
        "stats_json": json.dumps(_plain(dict(ens.stats))),
    }
    return xr.Dataset({k: xr.Variable(*v) for k, v in data.items()}, coords=coords, attrs=attrs)


def write_netcdf(ds, path) -> Path:
    """Write a Dataset to a NetCDF-3 file (SciPy's writer), atomically; ``path``'s folder must exist."""
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist; create it first.")
    try:
        with atomic_path(path) as tmp:
            ds.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the NetCDF file ({exc.strerror}).") from None
    return path


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
    return write_netcdf(to_xarray(result), path)
