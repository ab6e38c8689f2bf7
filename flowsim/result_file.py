"""Saving a result (:class:`~flowsim.Result` or :class:`~flowsim.EnsembleResult`) to one file and loading it back.

The file is a NumPy ``.npz`` archive (no pickled objects). A saved
:class:`~flowsim.Result` holds

* every array of the result: ``states``, ``economy``, ``dates``,
  ``cumulative_arrivals``, ``realised_arrivals`` (stochastic runs only) and
  one ``summary__<figure>`` per summary figure;
* ``metadata``: JSON with the labels (hosts, compartments, variables, the
  layout's ``k``), the solver status and statistics, the flowsim version, the
  SHA-256 hash of the inputs and of every array (its dtype, shape and bytes),
  and the SHA-256 hash of the metadata itself;
* ``inputs``: canonical JSON of the resolved inputs, i.e. the scenario
  (:meth:`Scenario.to_dict`) and each member's parameters with their ranges
  and sources, so that the loaded result's scenario reproduces the run.

A saved :class:`~flowsim.EnsembleResult` (metadata ``kind = "ensemble"``, the
same format version) holds ``unit`` and ``values`` (the drawn points and
parameter values, (n, d)), ``dates``, one ``series__<name>`` (n, H, D),
``summary__<figure>`` and ``scalar__<name>`` (n, H) per kept array; its
metadata adds the dimensions (name, host, range), the sampler and the seed; its
inputs are the scenario and, when members have arrivals of their own (a
posterior ensemble), each member's arrival schedules. A file without ``kind``
holds a ``Result``, so files written before ensembles could be saved read as
they did.

The archive is written to a temporary file and renamed into place, so a crash
never leaves a half-written file under the final name. Every array round-trips
bit for bit; a truncated, corrupted or edited file (an array, the inputs or the
metadata changed after saving) is refused. Files of format 1 (before array
hashes) still load, with a :class:`~flowsim.FlowsimWarning` that edits to
their arrays cannot be detected.
"""

from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
import zlib
from os import PathLike
from pathlib import Path

import numpy as np

from ._atomic import atomic_path
from ._version import __version__
from .exceptions import FlowsimError, FlowsimWarning, ResultFileError
from .scenario.files import scenario_from_resolved
from .scenario.layout import Layout
from .scenario.parameter_set import ParameterSet

__all__ = ["save_result", "save_ensemble", "read_result", "read_any", "inputs_record", "inputs_sha256",
           "canonical_json", "target_path", "FORMAT_VERSION", "KINDS"]

#: Identifies the file type in its metadata.
FORMAT = "flowsim-result"
#: Version of the layout described above; files of a newer version are refused.
FORMAT_VERSION = 2

#: The kinds of result a file holds (metadata ``kind``; a file without one holds a ``result``) and the
#: arrays each needs.
KINDS = {
    "result": ("states", "economy", "dates", "cumulative_arrivals"),
    "ensemble": ("unit", "values", "dates"),
}


def array_sha256(arr) -> str:
    """SHA-256 (hex) of an array's dtype, shape and bytes (C order)."""
    arr = np.ascontiguousarray(arr)
    h = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def _meta_sha256(meta: dict) -> str:
    return hashlib.sha256(canonical_json({k: v for k, v in meta.items() if k != "metadata_sha256"})
                          .encode("utf-8")).hexdigest()


def canonical_json(obj) -> str:
    """JSON with sorted keys and no spaces: the same inputs give the same text (and hash)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def inputs_record(result) -> dict:
    """The resolved inputs of a run: ``{"scenario": ..., "members": [...]}``.

    ``scenario`` is :meth:`Scenario.to_dict` (what ``resolved.json`` holds);
    ``members`` holds each member's parameters with ranges and sources
    (:meth:`ParameterSet.to_dict` with ``provenance=True``).
    """
    return {
        "scenario": result.scenario.to_dict(),
        "members": [p.to_dict(provenance=True) for p in result.params],
    }


def inputs_sha256(result) -> str:
    """SHA-256 (hex) of the canonical JSON of :func:`inputs_record`."""
    return hashlib.sha256(canonical_json(inputs_record(result)).encode("utf-8")).hexdigest()


def _plain(value):
    """Solver statistics as JSON values (NumPy scalars and arrays to Python)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def target_path(path, what: str = "save") -> Path:
    """``path`` as a :class:`~pathlib.Path` to write a file to, or a clear error (every result's writers use it).

    Raises
    ------
    TypeError
        ``path`` is not a path (``None``, a number...).
    OutputError
        ``path`` is a folder, or its folder does not exist.
    """
    from .exceptions import OutputError

    if not isinstance(path, (str, PathLike)) or not str(path):
        raise TypeError(f"{what}: `path` must be a file path (str or pathlib.Path); got {path!r}.")
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name inside it (e.g. {path / 'result.npz'}).")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist; create it first.")
    return path


def save_result(result, path) -> Path:
    """Write ``result`` to ``path`` (a ``.npz`` archive), atomically.

    Parameters
    ----------
    result : Result
    path : str or Path
        Target file; its folder must exist. An existing file is replaced.

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        When the folder does not exist or cannot be written.
    """
    from .exceptions import OutputError

    path = target_path(path, "Result.save")
    if not result.success:
        failed = ", ".join(str(m) for m in np.flatnonzero(~result.member_success))
        raise OutputError(f"{path}: members {failed} of this result broke docs/model.md's invariants "
                          f"({result.message}); a failed run is not saved. Drop them first "
                          "(Result.status says which) or fix the inputs.")
    inputs = canonical_json(inputs_record(result))
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "flowsim_version": __version__,
        "inputs_sha256": hashlib.sha256(inputs.encode("utf-8")).hexdigest(),
        "hosts": list(result.hosts),
        "k": result.layout.k,
        "compartments": list(result.compartments),
        "variables": list(result.variables),
        "summary_fields": list(result.summary_arrays),
        "success": bool(result.success),
        "message": str(result.message),
        "stats": _plain(dict(result.stats)),
    }
    arrays = {
        "states": result.states,
        "economy": result.economy,
        "dates": result.dates.astype("datetime64[D]"),
        "cumulative_arrivals": result.cumulative_arrivals,
        **{f"summary__{name}": np.asarray(a) for name, a in result.summary_arrays.items()},
        "metadata": np.array(""),
        "inputs": np.array(inputs),
    }
    if result.realised_arrivals is not None:
        arrays["realised_arrivals"] = result.realised_arrivals
    return _write_archive(path, meta, arrays)


def _write_archive(path: Path, meta: dict, arrays: dict) -> Path:
    """Hash ``arrays`` and ``meta`` into the metadata and write the archive to ``path``, atomically."""
    from .exceptions import OutputError

    meta["arrays_sha256"] = {name: array_sha256(arr) for name, arr in arrays.items() if name != "metadata"}
    meta["metadata_sha256"] = _meta_sha256(meta)
    arrays["metadata"] = np.array(canonical_json(meta))
    for name, arr in arrays.items():
        if np.asarray(arr).dtype.hasobject:  # never pickle: the file must load with allow_pickle=False
            raise FlowsimError(f"cannot save result array {name!r}: it holds Python objects.")
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the result ({exc.strerror}).") from None
    return path


def read_any(path) -> tuple[str, dict]:
    """Read and check any saved result: ``(kind, fields)``, ``kind`` ``"result"`` or ``"ensemble"``.

    ``fields`` are the keyword arguments of the result's class
    (:class:`~flowsim.Result` or :class:`~flowsim.EnsembleResult`);
    :func:`flowsim.load_result` builds it (this module imports neither class:
    both import it).

    Raises
    ------
    ResultFileError
        Missing, truncated or corrupted file, a file that is not a flowsim
        result, one from a newer format, or arrays, inputs or metadata that
        do not match their hashes (an edited file); the message names the
        file and the array.
    TypeError
        ``path`` is not a path (e.g. ``None``).
    """
    path, meta, arrays, record = _read_archive(path)
    kind = meta.get("kind", "result")
    if kind == "ensemble":
        return kind, _ensemble_fields(path, meta, arrays, record)
    return kind, _result_fields(path, meta, arrays, record)


def read_result(path) -> dict:
    """Read and check a file saved with :meth:`Result.save`; the keyword arguments of its :class:`Result`.

    Raises
    ------
    ResultFileError
        As :func:`read_any`; also for a saved ensemble (load it with
        :func:`flowsim.load_result`).
    TypeError
        ``path`` is not a path (e.g. ``None``).
    """
    kind, fields = read_any(path)
    if kind != "result":
        raise ResultFileError(f"{path}: holds an {kind} (saved by EnsembleResult.save), not a Result; "
                              "load it with flowsim.load_result(path).")
    return fields


def _read_archive(path):
    """The checked metadata, arrays and stored inputs of a saved result of any kind."""
    if not isinstance(path, (str, bytes, PathLike)):
        raise TypeError(f"load_result: `path` must be a file path (str or pathlib.Path) of a saved result; "
                        f"got {type(path).__name__}.")
    path = Path(path)
    if not path.is_file():
        raise ResultFileError(f"{path}: no such result file.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise ResultFileError(
            f"{path}: not a readable flowsim result (truncated or corrupted: {exc}). "
            "Save the result again with its save() method."
        ) from None
    meta = _metadata(path, arrays)
    _check_hashes(path, arrays, meta)
    inputs = str(arrays["inputs"])
    if hashlib.sha256(inputs.encode("utf-8")).hexdigest() != meta.get("inputs_sha256"):
        raise ResultFileError(f"{path}: the stored inputs do not match their SHA-256 hash; the file was modified.")
    return path, meta, arrays, json.loads(inputs)


def _result_fields(path, meta, arrays, record) -> dict:
    try:
        scenario = scenario_from_resolved(record["scenario"], origin=f"{path} (stored inputs)")
        params = tuple(ParameterSet.from_dict(m, hosts=scenario.hosts) for m in record["members"])
    except (FlowsimError, KeyError, TypeError) as exc:
        raise ResultFileError(f"{path}: the stored inputs cannot be rebuilt ({exc}).") from None
    layout = Layout(int(meta["k"]))
    if list(layout.names) != list(meta.get("compartments", ())):
        raise ResultFileError(
            f"{path}: saved with compartments {', '.join(meta.get('compartments', ()))}; this flowsim "
            f"{__version__} has {', '.join(layout.names)} for k = {layout.k}. Load it with the flowsim "
            f"version that wrote it ({meta.get('flowsim_version')})."
        )
    if meta.get("success") is not True:
        raise ResultFileError(f"{path}: the metadata says this run failed (success = {meta.get('success')!r}); "
                              "flowsim never saves a failed run, so the file was modified.")
    fields = dict(
        scenario=scenario, params=params, hosts=tuple(meta["hosts"]), layout=layout,
        variables=tuple(meta["variables"]), dates=arrays["dates"], states=arrays["states"],
        economy=arrays["economy"],
        summary_arrays={name: arrays[f"summary__{name}"] for name in meta["summary_fields"]},
        cumulative_arrivals=arrays["cumulative_arrivals"],
        message=meta["message"], stats=dict(meta["stats"]),
        realised_arrivals=arrays.get("realised_arrivals"),
    )
    _check_shapes(path, fields)
    return fields


# ------------------------------------------------------------------ ensembles
def _schedules(arrivals) -> dict:
    """One member's arrivals ``{host: (Schedule, ...)}`` as JSON (the ``arrival_schedules`` of a resolved.json)."""
    return {h: [s.to_dict() for s in v] for h, v in dict(arrivals).items()}


def save_ensemble(ens, path) -> Path:
    """Write an :class:`~flowsim.EnsembleResult` to ``path`` (a ``.npz`` archive of kind ``ensemble``), atomically.

    The archive holds the drawn points (``unit``) and values (``values``),
    one ``series__<name>``, ``summary__<figure>`` and ``scalar__<name>`` per
    kept array, the metadata (dimensions, sampler, seed, statistics, hashes)
    and the inputs: the scenario (:meth:`Scenario.to_dict`) and, when members
    have their own arrivals, each member's schedules.

    Raises
    ------
    OutputError
        The folder does not exist or cannot be written; the path is a folder.
    TypeError
        ``path`` is not a path.
    """
    path = target_path(path, "EnsembleResult.save")
    members = None if ens.arrivals is None else [_schedules(a) for a in ens.arrivals]
    inputs = canonical_json({"scenario": ens.scenario.to_dict(), "arrivals": members})
    series, summary, scalars = dict(ens.series), dict(ens.summary_arrays), dict(ens.scalars)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "ensemble",
        "flowsim_version": __version__,
        "inputs_sha256": hashlib.sha256(inputs.encode("utf-8")).hexdigest(),
        "hosts": list(ens.hosts),
        "dims": [{"name": d.name, "host": d.host, "low": float(d.low), "high": float(d.high)} for d in ens.dims],
        "sampler": str(ens.sampler),
        "seed": str(ens.seed),
        "series": list(series),
        "summary_fields": list(summary),
        "scalars": list(scalars),
        "stats": _plain(dict(ens.stats)),
        "stats_arrays": {k: v.dtype.str for k, v in ens.stats.items() if isinstance(v, np.ndarray)},
    }
    arrays = {
        "unit": np.asarray(ens.unit),
        "values": np.asarray(ens.values),
        "dates": np.asarray(ens.dates, dtype="datetime64[D]"),
        **{f"series__{name}": np.asarray(a) for name, a in series.items()},
        **{f"summary__{name}": np.asarray(a) for name, a in summary.items()},
        **{f"scalar__{name}": np.asarray(a) for name, a in scalars.items()},
        "metadata": np.array(""),
        "inputs": np.array(inputs),
    }
    return _write_archive(path, meta, arrays)


def _ensemble_fields(path, meta, arrays, record) -> dict:
    from .scenario.sampling import Dimension

    try:
        scenario = scenario_from_resolved(record["scenario"], origin=f"{path} (stored inputs)")
        dims = tuple(Dimension(d["name"], d["host"], float(d["low"]), float(d["high"])) for d in meta["dims"])
        arrivals = None
        if record.get("arrivals") is not None:
            base = {k: v for k, v in record["scenario"].items() if k != "arrivals"}
            built: dict = {}
            for schedules in record["arrivals"]:
                key = canonical_json(schedules)
                if key not in built:
                    built[key] = scenario_from_resolved({**base, "arrival_schedules": schedules},
                                                        origin=f"{path} (stored member arrivals)").arrivals
            arrivals = tuple(built[canonical_json(a)] for a in record["arrivals"])
    except (FlowsimError, KeyError, TypeError, ValueError) as exc:
        raise ResultFileError(f"{path}: the stored inputs cannot be rebuilt ({exc}).") from None
    fields = dict(
        scenario=scenario, dims=dims, unit=arrays["unit"], values=arrays["values"], sampler=meta["sampler"],
        seed=int(meta["seed"]),
        series={name: arrays[f"series__{name}"] for name in meta["series"]},
        summary_arrays={name: arrays[f"summary__{name}"] for name in meta["summary_fields"]},
        scalars={name: arrays[f"scalar__{name}"] for name in meta["scalars"]},
        stats={k: (np.asarray(v, dtype=meta.get("stats_arrays", {})[k]) if k in meta.get("stats_arrays", {}) else v)
               for k, v in meta["stats"].items()},
        arrivals=arrivals,
    )
    n, H, D = fields["values"].shape[0], len(scenario.hosts), scenario.dates.size
    want = {"unit": (n, len(dims)), "values": (n, len(dims)), "dates": (D,),
            **{f"series__{k}": (n, H, D) for k in meta["series"]},
            **{f"summary__{k}": (n, H) for k in meta["summary_fields"]},
            **{f"scalar__{k}": (n, H) for k in meta["scalars"]}}
    for name, shape in want.items():
        if arrays[name].shape != shape:
            raise ResultFileError(f"{path}: array {name!r} has shape {arrays[name].shape}, expected {shape} "
                                  "from the labels; the file is corrupted.")
    if tuple(meta["hosts"]) != scenario.hosts or not np.array_equal(arrays["dates"], scenario.dates):
        raise ResultFileError(f"{path}: the hosts or dates of the arrays are not the stored scenario's; "
                              "the file is corrupted.")
    if arrivals is not None and len(arrivals) != n:
        raise ResultFileError(f"{path}: {len(arrivals)} members' arrivals for {n} members; the file is corrupted.")
    return fields


def _check_hashes(path, arrays, meta) -> None:
    """Refuse a file whose metadata or arrays changed after saving (format >= 2)."""
    if meta.get("format_version") == 1:
        warnings.warn(f"{path}: saved by an older flowsim (result format 1) without hashes of its arrays, so edits "
                      "to them cannot be detected; loaded as it is. Save it again to add them.", FlowsimWarning,
                      stacklevel=3)
        return
    if meta.get("metadata_sha256") != _meta_sha256(meta):
        raise ResultFileError(f"{path}: the metadata does not match its SHA-256 hash; the file was modified. "
                              "Save the result again with Result.save().")
    hashes = meta.get("arrays_sha256")
    names = sorted(n for n in arrays if n != "metadata")
    if not isinstance(hashes, dict) or sorted(hashes) != names:
        raise ResultFileError(f"{path}: the arrays ({', '.join(names)}) are not the ones saved "
                              f"({', '.join(sorted(hashes or {}))}); the file was modified.")
    for name in names:
        if name != "inputs" and array_sha256(arrays[name]) != hashes[name]:   # inputs: checked by their own hash
            raise ResultFileError(f"{path}: array {name!r} does not match its SHA-256 hash: it was changed after "
                                  "saving (edited values, NaN, signs...). Save the result again with Result.save().")


def _metadata(path, arrays) -> dict:
    for name in ("metadata", "inputs"):
        if name not in arrays:
            raise ResultFileError(f"{path}: not a flowsim result file (no {name}).")
    try:
        meta = json.loads(str(arrays["metadata"]))
    except ValueError:
        raise ResultFileError(f"{path}: the metadata is not valid JSON; the file is corrupted.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ResultFileError(f"{path}: not a flowsim result file (format {meta.get('format')!r}).")
    kind = meta.get("kind", "result")
    if kind not in KINDS:
        raise ResultFileError(f"{path}: holds a result of kind {kind!r}; this flowsim {__version__} reads "
                              f"{', '.join(KINDS)}. Upgrade flowsim.")
    missing = [n for n in KINDS[kind] if n not in arrays]
    if missing:
        raise ResultFileError(f"{path}: not a flowsim result file (no {', '.join(missing)}).")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ResultFileError(
            f"{path}: result format version {version!r} is newer than this flowsim reads ({FORMAT_VERSION}; "
            f"written by flowsim {meta.get('flowsim_version')}). Upgrade flowsim."
        )
    for group, prefix in (("summary_fields", "summary"), ("series", "series"), ("scalars", "scalar")):
        for name in meta.get(group, ()) if kind == "ensemble" or group == "summary_fields" else ():
            if f"{prefix}__{name}" not in arrays:
                raise ResultFileError(f"{path}: {prefix} array {name!r} is missing; the file is corrupted.")
    return meta


def _check_shapes(path, f: dict) -> None:
    if f['states'].ndim != 4:
        raise ResultFileError(f"{path}: array 'states' has {f['states'].ndim} axes, expected 4; "
                              "the file is corrupted.")
    m = f['states'].shape[0]
    want = {
        "states": (m, len(f['hosts']), len(f['layout'].names), f['dates'].size),
        "economy": (m, len(f['hosts']), len(f['variables']), f['dates'].size),
        "cumulative_arrivals": (f['dates'].size, len(f['hosts'])),
    }
    got = {"states": f['states'].shape, "economy": f['economy'].shape,
           "cumulative_arrivals": f['cumulative_arrivals'].shape}
    if f['realised_arrivals'] is not None:
        want["realised_arrivals"] = (m, f['dates'].size, len(f['hosts']))
        got["realised_arrivals"] = f['realised_arrivals'].shape
    for name in want:
        if want[name] != got[name]:
            raise ResultFileError(f"{path}: array {name!r} has shape {got[name]}, expected {want[name]} "
                                  "from the labels; the file is corrupted.")
    for name, arr in f['summary_arrays'].items():
        if arr.shape != (m, len(f['hosts'])):
            raise ResultFileError(f"{path}: summary array {name!r} has shape {arr.shape}; the file is corrupted.")
    if len(f['params']) != m:
        raise ResultFileError(f"{path}: {len(f['params'])} members' inputs for {m} members' arrays; "
                              "the file is corrupted.")
