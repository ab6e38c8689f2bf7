"""Text and HTML reports of calibrations and validations (HTML escaped)."""

from __future__ import annotations

import html

from .._formatting import _html_table, _text_table, format_value

__all__ = ["calibration_text", "calibration_html", "validation_text", "validation_html", "estimate_rows",
           "fit_rows"]

_EST_HEADER = ("parameter", "unit", "initial", "fitted", "95% interval", "se", "note")
_FIT_HEADER = ("host", "quantity", "window", "asks", "weight", "initial", "fitted", "rel. error")


def _num(x) -> str:
    if x is None:
        return "-"
    x = float(x)
    if x != x:
        return "nan"
    if abs(x) == float("inf"):
        return "inf" if x > 0 else "-inf"
    return format_value(x) if abs(x) >= 100 else f"{x:.4g}"


def estimate_rows(estimates):
    rows = []
    for e in estimates:
        note = "not determined by the data" if not e.identified else ("at a search bound" if e.at_bound else "")
        rows.append((e.name, e.unit, _num(e.initial), _num(e.value), f"{_num(e.ci_low)} .. {_num(e.ci_high)}",
                     _num(e.se), note))
    return rows


def _window(r) -> str:
    if r.date_start == r.date_end:
        return r.date_end.isoformat()
    return f"{r.date_start.isoformat()}..{r.date_end.isoformat()}"


def fit_rows(rows):
    return [(r.host, r.quantity, _window(r), r.constraint, f"{r.weight:g}" if r.in_fit else "not fitted",
             _num(r.initial), _num(r.predicted), f"{100 * r.relative_error:+.1f}%") for r in rows]


def _head(cal) -> list[str]:
    best = min(cal.starts, key=lambda s: s.cost)
    return [
        f"flowsim calibration of scenario {cal.initial_scenario.name!r}: {len(cal.estimates)} parameters, "
        f"{cal.n_fitted} observations fitted",
        f"  converged: {cal.success} ({cal.message}); {len(cal.starts)} starts, best cost {best.cost:.4g}, "
        f"{cal.nfev} evaluations",
        f"  chi2 = {cal.chi2:.4g} on {cal.dof} degrees of freedom; covariance scaled by {cal.covariance_scale:.4g}",
        f"  MAPE = {cal.mape:.1f}%; averaged relative difference (Flee) = {cal.ard:.3f}",
        f"  background: {cal.background!r}",
    ]


def calibration_text(cal) -> str:
    """Header, estimates and the fit per observation, as aligned text."""
    return ("\n".join(_head(cal)) + "\n\n" + _text_table(_EST_HEADER, estimate_rows(cal.estimates))
            + "\n\n" + _text_table(_FIT_HEADER, fit_rows(cal.residuals)))


def calibration_html(cal) -> str:
    """The same report as escaped HTML."""
    head = _head(cal)
    items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in head[1:])
    return (f"<div class='flowsim-calibration'><strong>{html.escape(head[0])}</strong><ul>{items}</ul>"
            + _html_table(_EST_HEADER, estimate_rows(cal.estimates), caption="fitted parameters")
            + _html_table(_FIT_HEADER, fit_rows(cal.residuals), caption="observations") + "</div>")


_VAL_HEADER = ("sample", "host", "quantity", "window", "asks", "predicted", "rel. error")


def _val_rows(val):
    return [("in" if r.in_sample else "OUT", r.host, r.quantity, _window(r), r.constraint, _num(r.predicted),
             f"{100 * r.relative_error:+.1f}%") for r in val.rows]


def _val_head(val) -> list[str]:
    return [
        f"flowsim validation of scenario {val.calibration.initial_scenario.name!r}: fitted on observations "
        f"ending by {val.until}, predicted the {val.n_out} after",
        f"  in sample: {val.n_in} observations, MAPE {val.mape_in:.1f}%, ARD {val.ard_in:.3f}",
        f"  out of sample: {val.n_out} observations, MAPE {val.mape_out:.1f}%, ARD {val.ard_out:.3f}",
    ]


def validation_text(val) -> str:
    """Header, estimates and the table of predictions, as aligned text."""
    return ("\n".join(_val_head(val)) + "\n\n" + _text_table(_EST_HEADER, estimate_rows(val.calibration.estimates))
            + "\n\n" + _text_table(_VAL_HEADER, _val_rows(val)))


def validation_html(val) -> str:
    """The same as escaped HTML."""
    head = _val_head(val)
    items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in head[1:])
    return (f"<div class='flowsim-validation'><strong>{html.escape(head[0])}</strong><ul>{items}</ul>"
            + _html_table(_EST_HEADER, estimate_rows(val.calibration.estimates), caption="fitted parameters")
            + _html_table(_VAL_HEADER, _val_rows(val), caption="predictions") + "</div>")
