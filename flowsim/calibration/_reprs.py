"""The headers and rows of the reports of calibrations, validations, posteriors and backtests.

What goes in them is calibration's; how they are laid out as text and escaped
HTML is :mod:`flowsim._formatting`'s (:func:`~flowsim._formatting.report_text`,
:func:`~flowsim._formatting.report_html`), flowsim's one home for renderings.
"""

from __future__ import annotations

import numpy as np

from .._formatting import format_number as _num
from .._formatting import report_html, report_text

__all__ = ["calibration_text", "calibration_html", "validation_text", "validation_html", "estimate_rows",
           "fit_rows", "posterior_text", "posterior_html", "posterior_rows", "backtest_text",
           "backtest_html"]

_EST_HEADER = ("parameter", "unit", "initial", "fitted", "95% interval", "se", "note")
_FIT_HEADER = ("host", "quantity", "window", "asks", "weight", "initial", "fitted", "rel. error")


def estimate_rows(estimates):
    rows = []
    for e in estimates:
        share = (f"the data remove {100 * e.data_share:.0f}% of the prior's variance" if e.prior else
                 f"the data remove {100 * e.data_share:.0f}% of the variance of a 95% interval spanning {e.reference}")
        if not e.identified:
            note = ("NOT IDENTIFIED by the data: the interval is the prior's" if e.prior else
                    "NOT IDENTIFIED by the data: the interval is the search bounds")
        elif e.weakly_identified:
            note = f"weakly identified: {share}" + ("; at a search bound" if e.at_bound else "")
        else:
            note = "at a search bound" if e.at_bound else ""
            if e.prior:
                note = f"data remove {100 * e.data_share:.0f}% of the prior's variance" + (f"; {note}" if note else "")
        if e.prior:
            note = f"prior {e.prior}" + (f"; {note}" if note else "")
        rows.append((e.name, e.unit, _num(e.initial), _num(e.value), f"{_num(e.ci_low)} .. {_num(e.ci_high)}",
                     _num(e.se), note))
    return rows


def fit_rows(rows):
    return [(r.host, r.quantity, r.window, r.constraint, f"{r.weight:g}" if r.in_fit else "not fitted",
             _num(r.initial), _num(r.predicted), f"{100 * r.relative_error:+.1f}%") for r in rows]


def _head(cal) -> list[str]:
    best = min(cal.starts, key=lambda s: s.cost)
    return [
        f"flowsim calibration of scenario {cal.initial_scenario.name!r}: {len(cal.estimates)} parameters, "
        f"{cal.n_fitted} observations fitted",
        f"  converged: {cal.success} ({cal.message}); {len(cal.starts)} starts, best cost {best.cost:.4g}, "
        f"{cal.nfev} evaluations",
        (f"  chi2 = {cal.chi2:.4g} on {cal.dof} degrees of freedom; covariance scaled by {cal.covariance_scale:.4g}"
         if not any(e.prior for e in cal.estimates) else
         f"  chi2 of the data = {cal.chi2:.4g} on {cal.n_fitted} figures; {sum(bool(e.prior) for e in cal.estimates)} "
         f"of the {len(cal.estimates)} parameters have a prior (a maximum a posteriori fit); "
         f"{sum(not e.identified for e in cal.estimates)} not identified by the data, "
         f"{sum(e.weakly_identified for e in cal.estimates)} weakly"),
        f"  MAPE = {cal.mape:.1f}%; averaged relative difference (Flee) = {cal.ard:.3f}",
        f"  background: {cal.background!r}",
    ] + _not_pinned(cal)


def calibration_text(cal) -> str:
    """Header, estimates and the fit per observation, as aligned text."""
    return report_text(_head(cal), [(_EST_HEADER, estimate_rows(cal.estimates)),
                                    (_FIT_HEADER, fit_rows(cal.residuals))])


def calibration_html(cal) -> str:
    """The same report as escaped HTML."""
    return report_html("flowsim-calibration", _head(cal),
                       [(_EST_HEADER, estimate_rows(cal.estimates), "fitted parameters"),
                        (_FIT_HEADER, fit_rows(cal.residuals), "observations")])


_VAL_HEADER = ("sample", "host", "quantity", "window", "asks", "predicted", "rel. error")


def _val_rows(val):
    return [("in" if r.in_sample else "OUT", r.host, r.quantity, r.window, r.constraint, _num(r.predicted),
             f"{100 * r.relative_error:+.1f}%") for r in val.rows]


def _val_head(val) -> list[str]:
    return [
        f"flowsim validation of scenario {val.calibration.initial_scenario.name!r}: fitted on observations "
        f"ending by {val.until}, predicted the {val.n_out} after",
        f"  in sample: {val.n_in} observations, MAPE {val.mape_in:.1f}%, ARD {val.ard_in:.3f}",
        f"  out of sample: {val.n_out} observations, MAPE {val.mape_out:.1f}%, ARD {val.ard_out:.3f}",
    ] + _not_pinned(val.calibration)


def _not_pinned(cal) -> list[str]:
    """The header line naming the estimates the figures do not pin down (none: no line)."""
    if not cal.not_identified:
        return []
    return [f"  NOT PINNED DOWN by the figures (do not quote; see the notes): {', '.join(cal.not_identified)}"]


def validation_text(val) -> str:
    """Header, estimates and the table of predictions, as aligned text."""
    return report_text(_val_head(val), [(_EST_HEADER, estimate_rows(val.calibration.estimates)),
                                        (_VAL_HEADER, _val_rows(val))])


def validation_html(val) -> str:
    """The same as escaped HTML."""
    return report_html("flowsim-validation", _val_head(val),
                       [(_EST_HEADER, estimate_rows(val.calibration.estimates), "fitted parameters"),
                        (_VAL_HEADER, _val_rows(val), "predictions")])


_POST_HEADER = ("parameter", "unit", "median", "credible interval", "least squares", "tau (steps)")


def posterior_rows(sample, level: float = 0.95):
    return [(e.name, e.unit, _num(e.median), f"{_num(e.ci_low)} .. {_num(e.ci_high)}", _num(e.least_squares),
             "nan" if e.tau != e.tau else f"{e.tau:.1f}") for e in sample.estimate_table(level)]


def _post_head(sample) -> list[str]:
    acc = sample.acceptance_fraction
    tau = sample.autocorr_time
    kept = sample.n_steps - sample.burn
    tau_max = float(np.nanmax(tau)) if np.isfinite(tau).any() else float("nan")
    ratio = kept / tau_max if tau_max == tau_max and tau_max > 0 else float("nan")
    return [
        f"flowsim posterior sample of scenario {sample.scenario.name!r}: {len(sample.labels)} parameters, "
        f"{sample.n_walkers} walkers x {sample.n_steps} steps",
        f"  burn {sample.burn}, thin {sample.thin}: {sample.n_samples} samples; prior {sample.prior}, "
        f"temperature {sample.temperature:g}; moves {sample.stats.get('moves', 'stretch')}; seed {sample.seed}",
        f"  acceptance fraction {acc.mean():.3f} (walkers {acc.min():.3f} .. {acc.max():.3f})",
        f"  autocorrelation time up to {tau_max:.1f} steps: the chain after burn-in is {ratio:.1f} times it "
        "(emcee suggests at least 50)",
    ]


def posterior_text(sample) -> str:
    """Header and the 95% credible intervals, as aligned text."""
    return report_text(_post_head(sample), [(_POST_HEADER, posterior_rows(sample))])


def posterior_html(sample) -> str:
    """The same as escaped HTML."""
    return report_html("flowsim-posterior", _post_head(sample),
                       [(_POST_HEADER, posterior_rows(sample), "posterior medians and 95% credible intervals")])


_BT_HEADER = ("host", "quantity", "window", "asks", "5% .. median .. 95%", "50%", "90%", "CRPS/fig.",
              "median error")
_COV_HEADER = ("host", "quantity", "kinds", "figures", "50%: covered (expected)", "90%: covered (expected)",
               "mean CRPS/fig.")


def _backtest_rows(bt):
    return [(r.host, r.quantity, r.window, r.constraint, f"{_num(r.q05)} .. {_num(r.median)} .. {_num(r.q95)}",
             "yes" if r.in_50 else "no", "yes" if r.in_90 else "NO", f"{r.crps_relative:.3f}",
             f"{100 * r.relative_error:+.1f}%") for r in bt.scores]


def _coverage_rows(bt):
    by_key: dict = {}
    for r in bt.coverage:
        by_key.setdefault((r.host, r.quantity, r.kinds), {})[r.nominal] = r
    out = []
    for (host, quantity, kinds), levels in by_key.items():
        cells = []
        for level in (0.5, 0.9):
            r = levels.get(level)
            cells.append("-" if r is None or not r.figures else
                         f"{r.covered}/{r.figures} = {r.observed:.2f} ({r.expected_low:.2f} .. {r.expected_high:.2f})")
        crps = next(iter(levels.values())).mean_crps_relative
        out.append((host, quantity, kinds, str(next(iter(levels.values())).figures), *cells,
                    "nan" if crps != crps else f"{crps:.3f}"))
    return out


def _bt_head(bt) -> list[str]:
    sec = bt.stats.get("seconds", {})
    post = bt.posterior
    if bt.method == "mcmc":
        tau = bt.stats.get("autocorr_max", float("nan"))
        kept = (post.n_steps - post.burn) / tau if tau == tau and tau > 0 else float("nan")
        how = (f"MCMC: {post.n_walkers} walkers x {post.n_steps} steps (burn {post.burn}), longest "
               f"autocorrelation time {tau:.1f} steps (the kept chain is {kept:.1f} times it; emcee suggests "
               f"at least 50), mean acceptance {bt.stats.get('acceptance', float('nan')):.2f}")
    else:
        st = post.stats
        how = (f"Laplace approximation of the fit, importance-resampled: effective sample size "
               f"{st.get('ess', float('nan')):.0f} of {st.get('proposals', 0)} proposals in "
               f"{len(st.get('ess_by_round', ()))} round(s)")
    return [
        f"flowsim backtest of scenario {bt.scenario.name!r}: fitted on the {int(bt.in_sample.sum())} figures ending "
        f"by {bt.until}, scored the {bt.n_held_out} after",
        f"  posterior: {how}; temperature {bt.temperature:.3g}",
        f"  ensemble: {bt.n_members} members" + (f" ({bt.ensemble.sampler})" if bt.ensemble is not None else "")
        + ("; each figure's own error added" if bt.noise else "; model band only (no figure error)"),
        f"  coverage of the held-out figures: 50% band {bt.coverage_of(0.5):.2f}, 90% band "
        f"{bt.coverage_of(0.9):.2f}; mean CRPS / figure {bt.mean_crps_relative:.3f}",
        "  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in sec.items()),
    ]


def backtest_text(bt) -> str:
    """Header, coverage table and the scores of every held-out figure, as aligned text."""
    return report_text(_bt_head(bt), [(_COV_HEADER, _coverage_rows(bt)), (_BT_HEADER, _backtest_rows(bt))])


def backtest_html(bt) -> str:
    """The same as escaped HTML."""
    return report_html("flowsim-backtest", _bt_head(bt),
                       [(_COV_HEADER, _coverage_rows(bt), "coverage: observed (binomial range of a calibrated "
                                                          "forecast)"),
                        (_BT_HEADER, _backtest_rows(bt), "held-out figures")])
