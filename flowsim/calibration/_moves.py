"""The emcee moves of :func:`flowsim.sample_posterior`: names, expert moves, and the walkers they need.

``"stretch"`` is emcee's default (the affine-invariant stretch move of
Goodman & Weare); ``"de"`` is the mix emcee's documentation suggests for
correlated posteriors: differential evolution 80% of the steps and its
snooker variant 20% (flowsim's :class:`~flowsim.calibration._snooker.SnookerMove`:
emcee 3.1.6's ``DESnookerMove`` samples too narrow a posterior). An expert may pass emcee ``Move`` objects instead (one,
or a list of ``(move, weight)`` pairs, as ``emcee.EnsembleSampler(moves=)``
takes them).
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from ..exceptions import CalibrationError, FlowsimWarning

__all__ = ["MOVES", "Moves", "resolve_moves", "warn_biased_snooker"]

#: Names of the moves :func:`flowsim.sample_posterior` knows.
MOVES = ("stretch", "de")


@dataclass(frozen=True)
class Moves:
    """The moves of one chain, resolved.

    Attributes
    ----------
    emcee_moves : list of (emcee.moves.Move, float) or None
        What ``emcee.EnsembleSampler(moves=)`` gets; None for emcee's
        default (the stretch move), which keeps the default chains number
        for number what they were before moves could be chosen.
    name : str
        Readable name: ``"stretch"``, ``"de"``, or the moves' classes and
        weights (``"DEMove 0.5 + StretchMove 0.5"``).
    min_walkers : int
        The fewest walkers these moves work with for ``p`` parameters.
    why : str
        Why, for the error message about ``n_walkers``.
    """

    emcee_moves: list | None
    name: str
    min_walkers: int
    why: str


def _walkers_for(move, p: int, emcee) -> tuple[int, str]:
    """The fewest walkers ``move`` works with for ``p`` parameters, and why.

    emcee's ensemble ("red-blue") moves refuse fewer than ``2 p`` walkers and
    split them into ``nsplits`` groups, none empty; differential evolution
    draws a pair of walkers from the other groups, the walk move ``s`` of
    them. Other moves (Metropolis) only need walkers that start linearly
    independent: ``p + 1``.
    """
    if not isinstance(move, emcee.moves.RedBlueMove):
        return p + 1, "emcee needs linearly independent walkers: one more than the parameters"
    k = max(int(move.nsplits), 2)
    others = 2 if isinstance(move, emcee.moves.DEMove) else 1
    if isinstance(move, emcee.moves.WalkMove) and move.s is not None:
        others = max(others, int(move.s))
    n = max(2 * p, k)
    while n - math.ceil(n / k) < others:             # the smallest other groups' walkers, at least `others`
        n += 1
    return n, "emcee's ensemble moves need twice the parameters, and walkers enough in the other groups"


def _check_move(move, emcee, where: str) -> None:
    if not isinstance(move, emcee.moves.Move):
        raise CalibrationError(f"sample_posterior: moves{where} must be an emcee Move (emcee.moves.DEMove(), ...); "
                               f"got {type(move).__name__}. Or give moves as one of {', '.join(MOVES)}.")


def warn_biased_snooker(moves) -> None:
    """Warn when ``moves`` hold emcee's own ``DESnookerMove`` of a release up to 3.1.6 (its chains are too narrow).

    Called by :func:`flowsim.sample_posterior` before its scope that silences
    scenario notes, so the warning reaches the user.
    """
    emcee = sys.modules.get("emcee")             # moves given as objects: emcee is imported
    if emcee is None or isinstance(moves, str):
        return
    try:
        release = tuple(int(part) for part in emcee.__version__.split(".")[:3])
    except ValueError:                            # a development version: assume it has the fix
        return
    items = [moves] if isinstance(moves, emcee.moves.Move) else moves if isinstance(moves, Sequence) else []
    found = [item if isinstance(item, emcee.moves.Move) else item[0] for item in items
             if isinstance(item, emcee.moves.Move) or (isinstance(item, Sequence) and not isinstance(item, str)
                                                       and len(item) == 2)]
    if release > (3, 1, 6) or not any(type(m) is emcee.moves.DESnookerMove for m in found):
        return
    warnings.warn(f"sample_posterior: emcee {emcee.__version__}'s DESnookerMove samples too narrow a posterior (its "
                  "projection vector is not a unit vector; fixed in emcee's main branch, dfm/emcee#531). Use "
                  "moves='de', or flowsim.calibration.SnookerMove in its place.", FlowsimWarning, stacklevel=3)


def resolve_moves(moves, p: int, emcee) -> Moves:
    """Check ``moves`` and build what emcee takes.

    Parameters
    ----------
    moves : {"stretch", "de"}, emcee.moves.Move or sequence of (Move, weight)
        See :func:`flowsim.sample_posterior`.
    p : int
        Parameters sampled.
    emcee : module
        The imported emcee.

    Returns
    -------
    Moves

    Raises
    ------
    CalibrationError
        An unknown name, something that is not an emcee move, a weight that
        is not a number > 0.
    """
    if isinstance(moves, str):
        if moves == "stretch":
            return Moves(None, "stretch", 2 * p, f"twice the {p} parameters: emcee's stretch move needs them")
        if moves == "de":
            from ._snooker import SnookerMove

            pairs = [(emcee.moves.DEMove(), 0.8), (SnookerMove(), 0.2)]
            return Moves(pairs, "de", max(2 * p, 4), f"twice the {p} parameters, and at least 4: emcee's "
                                                     "differential-evolution moves need them")
        raise CalibrationError(f"sample_posterior: moves must be one of {', '.join(MOVES)}, an emcee Move or a list "
                               f"of (Move, weight); got {moves!r}.")
    if isinstance(moves, emcee.moves.Move):
        pairs = [(moves, 1.0)]
    elif isinstance(moves, Sequence) and moves:
        pairs = []
        for i, item in enumerate(moves):
            if isinstance(item, str) or not (isinstance(item, Sequence) and len(item) == 2):
                raise CalibrationError(f"sample_posterior: moves[{i}] must be a pair (emcee Move, weight); got "
                                       f"{item!r}.")
            move, weight = item
            _check_move(move, emcee, f"[{i}][0]")
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not weight > 0 \
                    or weight == float("inf"):
                raise CalibrationError(f"sample_posterior: moves[{i}][1], the weight of {type(move).__name__}, must "
                                       f"be a finite number > 0; got {weight!r}.")
            pairs.append((move, float(weight)))
    else:
        raise CalibrationError(f"sample_posterior: moves must be one of {', '.join(MOVES)}, an emcee Move or a "
                               f"non-empty list of (Move, weight); got {moves!r}.")
    total = sum(w for _, w in pairs)
    name = " + ".join(f"{type(m).__name__} {w / total:.3g}" for m, w in pairs)
    need = [_walkers_for(m, p, emcee) for m, _ in pairs]
    low = max(n for n, _ in need)
    why = next(w for n, w in need if n == low)
    return Moves(pairs, name, low, f"{low} for {p} parameters with {name}: {why}")
