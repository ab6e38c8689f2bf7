"""Host codes: the built-in reference hosts and the rules every host code follows.

A host is any country a scenario defines (ISO 3166 alpha-3 code where one
exists: three capital letters). The eight reference hosts of docs/model.md are a
built-in library of parameter values, not a limit: :class:`flowsim.Host`
adds others (``docs/scenarios.md``, "Any host").
"""

from __future__ import annotations

from ._validation import did_you_mean
from .exceptions import ScenarioError, UnknownHostError

__all__ = ["REFERENCE_HOSTS", "HOST_NAMES", "COUNTRY_NAMES", "WORLD", "DEFAULT_ORIGIN", "check_host_codes",
           "check_host_code", "host_index", "unknown_host_message"]

#: The reference set of docs/model.md, in its canonical order.
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

#: English short names of other countries, for display (a scenario's own names come first).
COUNTRY_NAMES: dict[str, str] = {
    "POL": "Poland", "MDA": "Moldova", "ROU": "Romania", "SVK": "Slovakia", "HUN": "Hungary", "CZE": "Czechia",
    "DEU": "Germany", "AUT": "Austria", "LTU": "Lithuania", "LVA": "Latvia", "EST": "Estonia", "FIN": "Finland",
    "TUR": "Turkey", "SRB": "Serbia", "ISR": "Israel", "UKR": "Ukraine", "RUS": "Russia", "BLR": "Belarus",
    "AZE": "Azerbaijan", "IRN": "Iran", "AFG": "Afghanistan", "PAK": "Pakistan", "CHN": "China", "ITA": "Italy",
    "FRA": "France", "ESP": "Spain", "GBR": "United Kingdom", "USA": "United States", "CAN": "Canada",
    "SYR": "Syria", "LBN": "Lebanon", "JOR": "Jordan", "GRC": "Greece", "BGR": "Bulgaria", "NLD": "Netherlands",
    "BEL": "Belgium", "SWE": "Sweden", "NOR": "Norway", "DNK": "Denmark", "IRL": "Ireland", "PRT": "Portugal",
    "CHE": "Switzerland", "MNE": "Montenegro", "ARE": "United Arab Emirates", "THA": "Thailand", "IDN": "Indonesia",
}

#: Label of the rest-of-the-world sink in onward matrices.
WORLD = "W"

#: The origin of the flows unless a scenario names another.
DEFAULT_ORIGIN = "Russia"


def check_host_code(code, *, where: str = "host") -> str:
    """``code`` if it is three capital letters (ISO 3166 alpha-3 style) and not ``W``; else a ScenarioError."""
    if not isinstance(code, str) or len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
        hint = f" (did you mean {code.upper()!r}?)" if isinstance(code, str) and code.upper() != code else ""
        raise ScenarioError(f"{where}: a host code is three capital letters, ISO 3166 alpha-3 where one exists "
                            f"(e.g. 'KAZ', 'POL'); got {code!r}.{hint}")
    return code


def check_host_codes(hosts, *, known=None, where: str = "hosts") -> tuple[str, ...]:
    """Return ``hosts`` as a tuple after checking the codes are valid and unique.

    Parameters
    ----------
    hosts : iterable of str
        Host codes (three capital letters).
    known : sequence of str, optional
        If given, the codes allowed here (e.g. the hosts with built-in
        reference values); any well-formed code otherwise.
    where : str
        Name used in error messages.

    Raises
    ------
    ScenarioError
        On a malformed, unknown, duplicated or empty list of host codes; the
        message suggests the closest known code.
    """
    if isinstance(hosts, str):
        hosts = (hosts,)
    codes = tuple(hosts)
    if not codes:
        raise ScenarioError(f"{where}: at least one host is needed; got none.")
    seen: set[str] = set()
    for code in codes:
        if known is not None and (not isinstance(code, str) or code not in known):
            fix = did_you_mean(str(code).upper(), known)
            raise ScenarioError(
                f"{where}: unknown host code {code!r}; allowed: {', '.join(known)}.{fix} Define a new host with "
                f"flowsim.Host(code=..., like=...) or a [host.CODE] table (docs/scenarios.md)."
            )
        check_host_code(code, where=where)
        if code in seen:
            raise ScenarioError(f"{where}: host {code!r} is listed twice.")
        seen.add(code)
    return codes


def unknown_host_message(host, hosts, *, what: str, where: str = "", hint: str = "") -> str:
    """The message of a host that is not among ``hosts``: the one wording of :func:`host_index`.

    ``"{where}: host 'KZA' is not in {what} (KAZ, UZB). Did you mean 'KAZ'? {hint}"``; files
    that report a key and line with their own error type (scenario files) use it too.
    """
    hosts = [str(h) for h in hosts]
    text = f"host {host!r} is not in {what} ({', '.join(hosts)}).{did_you_mean(str(host), hosts)}"
    if hint:
        text += f" {hint}"
    return f"{where}: {text}" if where else text


def host_index(host, hosts, *, what: str = "this scenario", where: str = "", hint: str = "") -> int:
    """Position of ``host`` in ``hosts``: the host lookup of every flowsim object.

    Parameters
    ----------
    host : str
        Host code asked for, e.g. ``"KAZ"`` (case-sensitive: codes are capitals).
    hosts : sequence of str
        The hosts of the object looked in, in its order.
    what : str
        That object, for the message: ``"this result"``, ``"this ensemble"``,
        ``"scenario 'kazakhstan-2022'"``.
    where : str, optional
        What asked, put in front of the message: a parameter label (``"tau_T[XYZ]"``),
        a CLI option (``"--hosts"``), an argument (``"arrivals"``).
    hint : str, optional
        How to fix it, put after the suggestion.

    Returns
    -------
    int
        The index of ``host`` in ``hosts`` (0-based).

    Raises
    ------
    UnknownHostError
        When ``host`` is not in ``hosts``; the message lists them and names the
        closest (a :class:`KeyError` and a :class:`~flowsim.FlowsimError`).

    Examples
    --------
    >>> host_index("UZB", ("KAZ", "UZB"))
    1
    >>> host_index("KZA", ("KAZ", "UZB"), what="this result")
    Traceback (most recent call last):
    ...
    flowsim.exceptions.UnknownHostError: host 'KZA' is not in this result (KAZ, UZB). Did you mean 'KAZ'?
    """
    hosts = tuple(hosts)
    if isinstance(host, str) and host in hosts:
        return hosts.index(host)
    raise UnknownHostError(unknown_host_message(host, hosts, what=what, where=where, hint=hint))
