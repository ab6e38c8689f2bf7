"""Saving a :class:`~flowsim.results.Result` to one file and loading it back.

The file is a NumPy ``.npz`` archive (no pickled objects) holding

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

__all__ = ["save_result", "read_result", "inputs_record", "inputs_sha256", "canonical_json", "FORMAT_VERSION"]

#: Identifies the file type in its metadata.
FORMAT = "flowsim-result"
#: Version of the layout described above; files of a newer version are refused.
FORMAT_VERSION = 2


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

    path = Path(path)
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
        "metadata": np.array(canonical_json(meta)),
        "inputs": np.array(inputs),
    }
    if result.realised_arrivals is not None:
        arrays["realised_arrivals"] = result.realised_arrivals
    meta["arrays_sha256"] = {name: array_sha256(arr) for name, arr in arrays.items() if name != "metadata"}
    meta["metadata_sha256"] = _meta_sha256(meta)
    arrays["metadata"] = np.array(canonical_json(meta))
    for name, arr in arrays.items():
        if np.asarray(arr).dtype.hasobject:  # never pickle: the file must load with allow_pickle=False
            raise FlowsimError(f"cannot save result array {name!r}: it holds Python objects.")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist; create it first.")
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the result ({exc.strerror}).") from None
    return path


def read_result(path) -> dict:
    """Read and check a file saved with :meth:`Result.save`; the keyword arguments of its :class:`Result`.

    :func:`flowsim.load_result` builds the result from them (this module
    does not import :mod:`flowsim.results`, which imports it).

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
            "Save the result again with Result.save()."
        ) from None
    meta = _metadata(path, arrays)
    _check_hashes(path, arrays, meta)
    inputs = str(arrays["inputs"])
    if hashlib.sha256(inputs.encode("utf-8")).hexdigest() != meta.get("inputs_sha256"):
        raise ResultFileError(f"{path}: the stored inputs do not match their SHA-256 hash; the file was modified.")
    record = json.loads(inputs)
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
    needed = ("metadata", "inputs", "states", "economy", "dates", "cumulative_arrivals")
    missing = [n for n in needed if n not in arrays]
    if missing:
        raise ResultFileError(f"{path}: not a flowsim result file (no {', '.join(missing)}).")
    try:
        meta = json.loads(str(arrays["metadata"]))
    except ValueError:
        raise ResultFileError(f"{path}: the metadata is not valid JSON; the file is corrupted.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ResultFileError(f"{path}: not a flowsim result file (format {meta.get('format')!r}).")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ResultFileError(
            f"{path}: result format version {version!r} is newer than this flowsim reads ({FORMAT_VERSION}; "
            f"written by flowsim {meta.get('flowsim_version')}). Upgrade flowsim."
        )
    for name in meta.get("summary_fields", ()):
        if f"summary__{name}" not in arrays:
            raise ResultFileError(f"{path}: summary array {name!r} is missing; the file is corrupted.")
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
