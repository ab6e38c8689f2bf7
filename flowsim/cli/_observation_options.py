"""Options shared by ``flowsim calibrate`` and ``flowsim validate``: which observations, which parameters."""

from __future__ import annotations

from ..exceptions import CalibrationError

__all__ = ["add_observation_options", "observations_from"]


def add_observation_options(parser) -> None:
    """``--observations FILE``, ``--hosts HOST ...``, ``--params NAME ...``, ``--starts N``, ``--seed S``."""
    parser.add_argument("--observations", metavar="FILE", default=None,
                        help="CSV of observations in the columns of observations_2022.csv "
                             "(default: the shipped observations_2022)")
    parser.add_argument("--params", nargs="+", metavar="NAME", default=None,
                        help="parameters to fit, e.g. 'pulse.total[KAZ]' 'tau_T[KAZ]' "
                             "'background[KAZ@2022-10-01]' (default: pulse total and scale and tau_T of each "
                             "host with >= 3 observations, and the background levels its observations cover)")
    parser.add_argument("--hosts", nargs="+", metavar="HOST", default=None,
                        help="use only the observations of these hosts (e.g. KAZ)")
    parser.add_argument("--starts", type=int, default=4, help="starting points of the search (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random starts (default 0)")


def observations_from(args, scenario):
    """The observations the options ask for, restricted to the hosts of ``scenario``."""
    from ..datasets import load_observations, observations_2022
    from ..hosts import REFERENCE_HOSTS

    observations = observations_2022() if args.observations is None else load_observations(args.observations)
    if args.hosts:
        unknown = [h for h in args.hosts if h not in REFERENCE_HOSTS]
        if unknown:
            raise CalibrationError(f"--hosts: unknown host(s) {', '.join(unknown)}; allowed: "
                                   f"{', '.join(REFERENCE_HOSTS)}.")
        observations = observations.filter(host=tuple(args.hosts))
    observations = observations.filter(lambda o: o.host in scenario.hosts)
    if not len(observations):
        raise CalibrationError("no observations left for the hosts of this scenario; check --hosts and the file.")
    return observations
