"""Datasets shipped with flowsim, and reading a user's own observations.

* :func:`observations_2022` -- published figures of the autumn-2022 outflow
  (border counts, registrations, shares, stocks), each with its window,
  qualifier and source; the calibration data.
* :func:`economy_context_2022` -- economic indicators around it (GDP growth,
  money transfers, rents, inflation...), used to choose default parameters.
* :func:`money_2022` -- the money channel: transfers from Russia, deposits,
  rents, exchange rates, to the end of 2022;
* :func:`economy_observations_2022` -- the economic figures a fit uses,
  derived from it (``tools/make_economy_observations.py``);
* :func:`load_observations` -- a file of your own in the same columns.

Both shipped files are copies of ``shared/data/`` with their columns and
sources unchanged; nothing is downloaded.

Examples
--------
>>> import flowsim
>>> obs = flowsim.datasets.observations_2022()
>>> len(obs), obs.hosts[:3]
(48, ('KAZ', 'GEO', 'UZB'))
>>> flowsim.datasets.economy_context_2022().filter(country="Georgia")[0].indicator
'money_transfers_from_russia'
"""

from ._loader import (
    OBSERVATION_COLUMNS,
    QUALIFIERS,
    REQUIRED_OBSERVATION_COLUMNS,
    economy_context_2022,
    economy_observations_2022,
    load_observations,
    money_2022,
    observations_2022,
    parse_period,
    ukraine_2022,
    ukraine_observations_2022,
)
from ._records import EconomyRecord, Observation, ObservationTable, RecordTable, as_observation_table

__all__ = [
    "observations_2022",
    "economy_context_2022",
    "money_2022",
    "economy_observations_2022",
    "ukraine_2022",
    "ukraine_observations_2022",
    "load_observations",
    "Observation",
    "EconomyRecord",
    "ObservationTable",
    "RecordTable",
    "as_observation_table",
    "parse_period",
    "QUALIFIERS",
    "OBSERVATION_COLUMNS",
    "REQUIRED_OBSERVATION_COLUMNS",
]
