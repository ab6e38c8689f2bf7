"""Options shared by ``flowsim calibrate`` and ``flowsim validate``: which observations, which parameters."""

from __future__ import annotations

from ..exceptions import CalibrationError

__all__ = ["add_observation_options", "observations_from", "priors_from", "SHIPPED"]

#: Observation sets shipped with flowsim, by the name --observations takes (loaded on use).
SHIPPED = ("observations-2022", "economy-2022", "ukraine-2022")


def add_observation_options(parser) -> None:
    """``--observations FILE``, ``--hosts HOST ...``, ``--params NAME ...``, ``--starts N``, ``--seed S``."""
    parser.add_argument("--observations", metavar="FILE", default=None,
                        help="CSV of observations in the columns of observations_2022.csv, or a shipped set: "
                             f"{', '.join(SHIPPED)} (default: observations-2022, the people figures; "
                             "economy-2022: money transfers, rents and registrations; ukraine-2022: the 2022 record of "
                             "the hosts of Ukrainian refugees, for the scenario ukraine-2022)")
    parser.add_argument("--params", nargs="+", metavar="NAME", default=None,
                        help="parameters to fit, e.g. 'pulse.total[KAZ]' 'tau_T[KAZ]' "
                             "'background[KAZ@2022-10-01]' (default: pulse total and scale and tau_T of each "
                             "host with >= 3 observations, and the background levels its observations cover)")
    parser.add_argument("--priors", choices=("auto", "ranges", "none"), default="auto",
                        help="normal priors (95%% intervals) on the fitted parameters: auto (default): the shipped "
                             "ranges of economy and observation-model parameters (c_S, c_R, eps, "
                             "transfer_share...), none on population ones; ranges: every fitted model parameter; "
                             "none")
    parser.add_argument("--hosts", nargs="+", metavar="HOST", default=None,
                        help="use only the observations of these hosts (e.g. KAZ)")
    parser.add_argument("--starts", type=int, default=4, help="starting points of the search (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random starts (default 0)")


def observations_from(args, scenario):
    """The observations the options ask for, restricted to the hosts of ``scenario``."""
    from ..datasets import economy_observations_2022, load_observations, observations_2022, ukraine_observations_2022
    from ..hosts import host_index  # numpy: not at the top (`flowsim --help` imports this)

    shipped = {"observations-2022": observations_2022, "economy-2022": economy_observations_2022,
               "ukraine-2022": ukraine_observations_2022}
    name = "observations-2022" if args.observations is None else args.observations
    observations = shipped[name]() if name in shipped else load_observations(name)
    if args.hosts:
        for host in args.hosts:
            host_index(host, scenario.hosts, what=f"scenario {scenario.name!r}", where="--hosts")
        observations = observations.filter(host=tuple(args.hosts))
    observations = observations.filter(lambda o: o.host in scenario.hosts)
    if not len(observations):
        fix = (" The 2022 record of Ukraine's neighbours is --observations ukraine-2022."
               if args.observations is None else "")
        raise CalibrationError("no observations left for the hosts of this scenario; check --hosts and the "
                               f"file.{fix}")
    return observations


def priors_from(args, params):
    """The ``priors`` argument of calibrate/validate that ``--priors`` asks for."""
    from ..calibration import default_priors

    return {"auto": default_priors(params) or None, "ranges": "ranges", "none": None}[args.priors]
