"""The differential-evolution snooker move of ter Braak & Vrugt (2008), as ``moves="de"`` uses it.

emcee 3.1.6 (the newest release, 2024) ships ``emcee.moves.DESnookerMove``
with the projection vector ``u = delta / sqrt(|delta|)`` instead of the unit
vector ``delta / |delta|``, and half the Metropolis exponent: its steps along
the line through the anchor walker grow with the distance from it and the
correction does not balance them, so its chains sample a posterior that is
too narrow (on a 7-dimensional standard normal, 28 walkers and 20,000 steps:
variance 0.65 instead of 1 with the snooker alone, 0.90 in the 80/20 mix
with ``DEMove``). emcee's main branch has the fix (dfm/emcee pull request
531, merged December 2024, not yet released); :class:`SnookerMove` is that
proposal, so ``"de"`` samples the right posterior with any emcee >= 3.1.

Imported only when emcee is (it subclasses emcee's move).
"""

from __future__ import annotations

import numpy as np
from emcee.moves import DESnookerMove

__all__ = ["SnookerMove"]


class SnookerMove(DESnookerMove):
    """emcee's ``DESnookerMove`` with ter Braak & Vrugt's unit projection vector and Metropolis factor.

    Each walker ``x`` of a quarter of the ensemble picks three walkers of
    the other quarters, ``z``, ``z1`` and ``z2``; with ``e = (x - z) / |x - z|``
    it proposes ``x + gammas * (e . (z1 - z2)) e`` (a step along the line
    through ``z``) and accepts with the extra factor ``(|q - z| / |x - z|) **
    (ndim - 1)``, which keeps the target distribution invariant.

    Parameters
    ----------
    gammas : float
        Step scale (default 1.7, the reference's).
    """

    def get_proposal(self, s, c, random):
        randint = getattr(random, "integers", None) or random.randint
        ns, ndim = s.shape
        nc = [len(group) for group in c]
        q = np.empty((ns, ndim), dtype=np.float64)
        log_factor = np.empty(ns, dtype=np.float64)
        for i in range(ns):
            w = np.array([c[j][randint(nc[j])] for j in range(3)])
            random.shuffle(w)
            z, z1, z2 = w
            delta = s[i] - z
            norm = np.linalg.norm(delta)
            e = delta / norm
            q[i] = s[i] + e * self.gammas * (np.dot(e, z1) - np.dot(e, z2))
            log_factor[i] = np.log(np.linalg.norm(q[i] - z)) - np.log(norm)
        return q, (ndim - 1.0) * log_factor
