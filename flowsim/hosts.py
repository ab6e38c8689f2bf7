"""Host countries known to flowsim (ISO 3166 alpha-3 codes)."""

from __future__ import annotations

from ._validation import did_you_mean
from .exceptions import ScenarioError

__all__ = ["REFERENCE_HOSTS", "HOST_NAMES", "WORLD", "check_host_codes"]

#: The reference set of MODEL.md, in its canonical order.
REFERENCE_HOSTS: tuple[str, ...] = ("KAZ", "UZB", "KGZ", "TJK", "TKM", "GEO", "ARM", "MNG")

#: English short names of the reference hosts.
HOST_NAMES: dict[str, str] = {
    "KAZ": "Kazakhstan",
    "UZB": "Uzbekistan",
    "KGZ": "Kyrgyzstan",
    "TJK": "Tajikistan",
    "TKM": "Turkmenistan",
    "GEO": "Georgia",
    "ARM": "Armenia",
    "MNG": "Mongolia",
}

#: Label of the rest-of-the-world sink in onward matrices.
WORLD = "W"


def check_host_codes(hosts, *, known=REFERENCE_HOSTS, where: str = "hosts") -> tuple[str, ...]:
    """Return ``hosts`` as a tuple after checking codes are known and unique.

    Parameters
    ----------
    hosts : iterable of str
        ISO 3166 alpha-3 codes.
    known : sequence of str
        Codes that have reference parameters.
    where : str
        Name used in error messages.

    Raises
    ------
    ScenarioError
        On an unknown, duplicated or empty list of host codes; the message
        suggests the closest known code.
    """
    if isinstance(hosts, str):
        hosts = (hosts,)
    codes = tuple(hosts)
    if not codes:
        raise ScenarioError(f"{where}: at least one host is needed; got none.")
    seen: set[str] = set()
    for code in codes:
        if not isinstance(code, str) or code not in known:
            fix = did_you_mean(str(code).upper(), known)
            raise ScenarioError(
                f"{where}: unknown host code {code!r}; allowed: {', '.join(known)}.{fix}"
            )
        if code in seen:
            raise ScenarioError(f"{where}: host {code!r} is listed twice.")
        seen.add(code)
    return codes
