"""Options shared by ``flowsim sweep`` and ``flowsim sensitivity``: ranges and where to run."""

from __future__ import annotations

import contextlib

from ..exceptions import FlowsimError

__all__ = ["add_vary", "parse_vary_options", "add_executor", "executor_from", "DASK_TIMEOUT"]

#: Seconds to wait for a dask scheduler before saying it cannot be reached.
DASK_TIMEOUT = 5

def add_vary(parser) -> None:
    parser.add_argument(
        "--vary", action="append", default=None, metavar="NAME[HOST]=LO:HI",
        help="a parameter and its range, for every host (NAME=LO:HI) or one (NAME[KAZ]=LO:HI); "
             "NAME or NAME[HOST] alone uses the shipped range; repeat for several. Default: every "
             "parameter with a shipped range.",
    )


def _number(text: str, item: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise FlowsimError(f"--vary {item!r}: {text.strip()!r} is not a number; write NAME=LO:HI, "
                           "e.g. --vary tau_S=60:240.") from None


def parse_vary_options(items):
    """``["f0=0.005:0.02", "tau_S[KAZ]=60:240", "rho"]`` -> the ``vary`` mapping of :func:`flowsim.ensemble`.

    The part before ``=`` is a label, read by :func:`flowsim.scenario.free_parameters.parse_label`.
    """
    if not items:
        return None
    from ..scenario.free_parameters import parse_label  # imported on first use: the scenario package loads numpy

    vary: dict = {}
    for item in items:
        text, eq, rng_text = item.partition("=")
        label = parse_label(text, what=f"--vary {item!r}:", error=FlowsimError)
        if label.kind != "model":
            raise FlowsimError(f"--vary {item!r}: only model parameters vary in a sweep (NAME=LO:HI, "
                               "NAME[HOST]=LO:HI, NAME or NAME[HOST]); pulse fields and background levels are fitted.")
        rng = None
        if eq:
            low, colon, high = rng_text.partition(":")
            if not colon or not low.strip() or not high.strip():
                raise FlowsimError(f"--vary {item!r}: the range is LO:HI, e.g. --vary tau_S[KAZ]=60:240.")
            rng = (_number(low, item), _number(high, item))
        name, host = label.name, label.host
        if host is None:
            vary[name] = rng
        else:
            entry = vary.get(name)
            if not isinstance(entry, dict):
                entry = vary[name] = {}
            entry[host] = rng
    return vary


def add_executor(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--workers", type=int, default=None, metavar="W",
                       help="run the chunks in W local processes (ProcessPoolExecutor)")
    group.add_argument("--dask", default=None, metavar="ADDRESS",
                       help="run the chunks on a dask.distributed scheduler (needs `pip install distributed`)")
    parser.add_argument("--chunk-size", type=int, default=None, metavar="M",
                        help="members per vectorised batch and per task (default 250)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


@contextlib.contextmanager
def executor_from(args):
    """The executor the options ask for (None: this process), shut down afterwards."""
    if args.workers is not None:
        if args.workers < 1:
            raise FlowsimError(f"--workers must be >= 1; got {args.workers}.")
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            yield pool
        return
    if args.dask is not None:
        try:
            from distributed import Client
        except ImportError:
            raise FlowsimError("--dask needs dask.distributed; install it with `pip install distributed` (or "
                               "`pip install '.[dask]'` in the flowsim source folder).") from None
        try:
            client = Client(args.dask, timeout=DASK_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise FlowsimError(f"--dask {args.dask}: cannot reach a dask scheduler there within {DASK_TIMEOUT} s "
                               f"({type(exc).__name__}). Fix: start one (`dask scheduler`) and give its address, "
                               "e.g. tcp://127.0.0.1:8786, or leave --dask out.") from None
        with client:
            yield client.get_executor()
        return
    yield None
