"""Text and HTML renderings of parameter sets, summaries and results.

Text and HTML are kept apart; every string that goes into HTML is escaped.
"""

from __future__ import annotations

import datetime as _dt
import html

__all__ = [
    "format_value",
    "parameter_table_text",
    "parameter_table_html",
    "summary_text",
    "summary_html",
    "result_text",
    "result_html",
    "ensemble_text",
    "ensemble_html",
    "sensitivity_text",
    "sensitivity_html",
]


def format_value(value) -> str:
    """Compact rendering of a number, a date or None (``-``)."""
    if value is None:
        return "-"
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    x = float(value)
    if 100 <= abs(x) < 1e15:
        return f"{x:,.0f}"  # one format for money and people, so digits line up in a column
    return f"{x:.4g}"


def _text_table(header, rows) -> str:
    cells = [list(map(str, header))] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _html_table(header, rows, caption="") -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table class='flowsim'>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# ---------------------------------------------------------------- parameters
_PARAM_HEADER = ("name", "host", "value", "unit", "range", "bounds", "source")


def _param_rows(params, width=None):
    rows = []
    for p in params.table():
        src = p.source if width is None or len(p.source) <= width else p.source[: width - 3] + "..."
        rows.append((p.name, p.host or "*", format_value(p.value), p.unit,
                     f"{format_value(p.low)}..{format_value(p.high)}", p.bounds, src))
    return rows


def parameter_table_text(params) -> str:
    """All parameters of a :class:`ParameterSet` as an aligned text table."""
    head = f"ParameterSet for {len(params.hosts)} hosts ({', '.join(params.hosts)})\n"
    onward = "\n".join(
        f"P[{h}] -> " + ", ".join(f"{d}: {s:g}" for d, s in params.onward(h).items() if s)
        for h in params.hosts
    )
    return head + _text_table(_PARAM_HEADER, _param_rows(params, width=60)) + "\n\nonward shares\n" + onward


def parameter_table_html(params) -> str:
    """All parameters of a :class:`ParameterSet` as an escaped HTML table."""
    cap = f"ParameterSet for {len(params.hosts)} hosts ({', '.join(params.hosts)})"
    return _html_table(_PARAM_HEADER, _param_rows(params), caption=cap)


# ------------------------------------------------------------------- summary
def _summary_rows(table):
    return [[format_value(row[c]) for c in table.columns] for row in table.rows]


def summary_text(table) -> str:
    """A :class:`SummaryTable` as aligned text (units in the column names)."""
    return _text_table(table.columns, _summary_rows(table))


def summary_html(table) -> str:
    """A :class:`SummaryTable` as an escaped HTML table."""
    return _html_table(table.columns, _summary_rows(table), caption="flowsim per-host summary")


# -------------------------------------------------------------------- result
def _result_head(result) -> list[str]:
    sc = result.scenario
    m, h, c, d = result.states.shape
    return [
        f"flowsim Result for scenario {sc.name!r}",
        f"  dims: member={m}, host={h}, compartment={c}, variable={len(result.variables)}, date={d}",
        f"  dates: {result.dates[0]} .. {result.dates[-1]} (daily)",
        f"  hosts: {', '.join(result.hosts)}",
        f"  solver: {result.stats.get('method', '?')} rtol={result.stats.get('rtol', '?')} "
        f"success={result.success} ({result.message})",
        f"  conservation error (relative): {result.conservation_error():.2e}",
    ]


def result_text(result) -> str:
    """Header lines and the summary table of member 0."""
    return "\n".join(_result_head(result)) + "\n\n" + summary_text(result.summary(0))


def result_html(result) -> str:
    """Escaped HTML: header list and the summary table of member 0."""
    items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in _result_head(result)[1:])
    title = html.escape(_result_head(result)[0])
    table = summary_html(result.summary(0))
    return f"<div class='flowsim-result'><strong>{title}</strong><ul>{items}</ul>{table}</div>"


# ---------------------------------------------------------------- ensembles
_EVENT_HEADER = ("host", "P(crossover)", "median crossover", "P(PV < 0)")


def _ensemble_head(ens) -> str:
    kept = ", ".join(ens.series) or "no series"
    return (f"flowsim ensemble of scenario '{ens.scenario.name}': {ens.n_members} members, {len(ens.dims)} "
            f"varied parameters ({ens.sampler}, seed {ens.seed}); kept {kept}")


def _event_rows(ens):
    return [(r["host"], f"{r['p_crossover']:.3f}", format_value(r["median_crossover_date"]),
             f"{r['p_negative_pv']:.3f}") for r in ens.events()]


def ensemble_text(ens) -> str:
    """Header line and the per-host event table of an :class:`EnsembleResult`."""
    return _ensemble_head(ens) + "\n" + _text_table(_EVENT_HEADER, _event_rows(ens))


def ensemble_html(ens) -> str:
    return _html_table(_EVENT_HEADER, _event_rows(ens), caption=_ensemble_head(ens))


# ---------------------------------------------------------------- sensitivity
_SOBOL_HEADER = ("input", "first order", "95% interval", "total", "95% interval")


def _sobol_rows(res, top=10):
    def interval(lo, hi):
        return "-" if lo != lo else f"{lo:.3f} to {hi:.3f}"

    rows = []
    for r in res.table()[:top]:
        label = f"{r['parameter']}[{r['host']}]" if r["host"] else r["parameter"]
        rows.append((label, f"{r['first_order']:.3f}", interval(r["first_low"], r["first_high"]),
                     f"{r['total_order']:.3f}", interval(r["total_low"], r["total_high"])))
    return rows


def _sensitivity_head(res) -> str:
    return (f"Sobol' indices of {res.output} ({res.unit or '-'}) for host {res.host}: {len(res.dims)} inputs, "
            f"n = {res.indices.n}, {res.stats.get('evaluations', '?')} runs, seed {res.seed}; top 10 by total index")


def sensitivity_text(res) -> str:
    """Header line and the top inputs of a :class:`SensitivityResult`."""
    return _sensitivity_head(res) + "\n" + _text_table(_SOBOL_HEADER, _sobol_rows(res))


def sensitivity_html(res) -> str:
    return _html_table(_SOBOL_HEADER, _sobol_rows(res), caption=_sensitivity_head(res))
