"""flowsim's one home for text and HTML renderings: values, numbers, tables and reports.

The generic pieces (:func:`format_value`, :func:`format_number`, aligned text
and HTML tables, :func:`report_text` / :func:`report_html` for a header and
tables) serve every result; :class:`flowsim.table.Table` renders with them,
and the calibration reports (``flowsim.calibration._reprs``) only choose their
headers and rows. Text and HTML are kept apart; every string that goes into
HTML is escaped.
"""

from __future__ import annotations

import datetime as _dt
import html

__all__ = [
    "format_value",
    "format_number",
    "report_text",
    "report_html",
    "parameter_table_text",
    "parameter_table_html",
    "summary_text",
    "summary_html",
    "result_text",
    "result_html",
    "comparison_text",
    "scenario_text",
    "scenario_html",


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


def format_number(x) -> str:
    """A number in a report: ``-`` for None, ``nan``/``inf``, thousands separated from 100 up, else 4 digits."""
    if x is None:
        return "-"
    x = float(x)
    if x != x:
        return "nan"
    if abs(x) == float("inf"):
        return "inf" if x > 0 else "-inf"
    return format_value(x) if abs(x) >= 100 else f"{x:.4g}"


def report_text(head, tables) -> str:
    """A report as aligned text: the ``head`` lines, then each ``(header, rows)`` table after a blank line."""
    return "\n".join(head) + "".join("\n\n" + _text_table(header, rows) for header, rows, *_ in tables)


def report_html(css_class: str, head, tables) -> str:
    """The same report as escaped HTML: the first head line in bold, the others as a list, then captioned tables.

    ``tables`` holds ``(header, rows, caption)`` triples.
    """
    items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in head[1:])
    body = "".join(_html_table(header, rows, caption=caption) for header, rows, caption in tables)
    return f"<div class='{css_class}'><strong>{html.escape(head[0])}</strong><ul>{items}</ul>{body}</div>"


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
_PARAM_HEADER = ("parameter", "host", "value", "unit", "range", "bounds", "source")


def _param_rows(params, width=None, hosts=None):
    rows = []
    for p in params.table():
        if hosts is not None and p.host is not None and p.host not in hosts:
            continue
        src = p.source if width is None or len(p.source) <= width else p.source[: width - 3] + "..."
        rows.append((p.name, p.host or "*", format_value(p.value), p.unit,
                     f"{format_value(p.low)}..{format_value(p.high)}", p.bounds, src))
    return rows


def parameter_table_text(params, *, hosts=None, width: int | None = 60) -> str:
    """All parameters of a :class:`ParameterSet` as an aligned text table.

    Parameters
    ----------
    params : ParameterSet
    hosts : sequence of str, optional
        Only these hosts' rows (global parameters are always shown).
    width : int or None
        Sources longer than this are cut with ``...``; None shows them whole.
    """
    shown = params.hosts if hosts is None else [h for h in params.hosts if h in hosts]
    head = f"ParameterSet for {len(params.hosts)} hosts ({', '.join(params.hosts)})\n"
    onward = "\n".join(
        f"P[{h}] -> " + ", ".join(f"{d}: {s:g}" for d, s in params.onward(h).items() if s)
        for h in shown
    )
    table = _text_table(_PARAM_HEADER, _param_rows(params, width=width, hosts=hosts))
    return head + table + "\n\nonward shares\n" + onward


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
    return _html_table(table.columns, _summary_rows(table), caption="flowsim summary per host and balance")


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


#: Short words for a balance's status where no sustained crossover date can be shown.
_STATUS_SHORT = {"never_negative": "never<0", "never_positive": "never>0", "censored": "censored", "dip": "dip",
                 "turns_positive": "turns>0", "zero": "zero"}


def _million(x) -> str:
    return "-" if x is None else f"{x / 1e6:,.1f}"


def accounts_rows(result, member: int = 0) -> tuple[list, list]:
    """Header and rows of the per-host accounts overview: PV of each balance, sustained crossovers."""
    table = result.summary("all", member)
    header = ["host", "peak N", "inflow PV", "value_add PV", "fiscal PV", "fiscal turns", "resid. PV",
              "resid. turns", "net(v1) PV"]
    rows = []
    for host in result.hosts:
        cells = {b: table[host, b] for b in table.balances}

        def turns(b, cells=cells):
            row = cells[b]
            date = row["sustained_crossover_date"]
            return date.isoformat() if date is not None else _STATUS_SHORT.get(row["status"], row["status"])

        rows.append([host, format_value(cells["net"]["peak_present"]), _million(cells["inflow"]["pv_usd"]),
                     _million(cells["value_added"]["pv_usd"]), _million(cells["fiscal"]["pv_usd"]), turns("fiscal"),
                     _million(cells["residents"]["pv_usd"]), turns("residents"), _million(cells["net"]["pv_usd"])])
    return header, rows


def accounts_text(result, member: int = 0) -> str:
    """Per host: peak present, PV of each balance (USD million) and when fiscal and residents turn (<= 100 columns)."""
    header, rows = accounts_rows(result, member)
    d_x = int(result.params[member].get("D_x"))
    note = "\n".join([
        "PV: present value, USD million. turns: the sustained crossover date (negative for",
        f"{d_x} days or more after a gain), else the status: never<0 never negative; never>0 a cost",
        "from the start; dip: crossed back; censored: negative at the horizon, for fewer days;",
        "turns>0: a cost that turns into a gain. The accounts are views of the same flows: never",
        "add them. Every figure per host and balance: summary.csv, or Result.summary('all').",
    ])
    return _text_table(header, rows) + "\n" + note


def result_text(result) -> str:
    """Header lines and the accounts overview of member 0."""
    return "\n".join(_result_head(result)) + "\n\n" + accounts_text(result, 0)


def result_html(result) -> str:
    """Escaped HTML: header list and the accounts overview of member 0."""
    items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in _result_head(result)[1:])
    title = html.escape(_result_head(result)[0])
    header, rows = accounts_rows(result, 0)
    table = _html_table(header, rows, caption="flowsim accounts per host (PV in USD million; 'turns': sustained "
                                              "crossover date or status)")
    return f"<div class='flowsim-result'><strong>{title}</strong><ul>{items}</ul>{table}</div>"


# ---------------------------------------------------------------- comparison
#: Printed columns of a comparison: figure -> (header, unit shown, scale).
_COMPARE_COLUMNS = {
    "status": ("status", "", 1.0),
    "peak_present": ("peak_present", "people", 1.0),
    "peak_usd_per_day": ("peak", "kUSD/day", 1e-3),
    "crossover_date": ("crossover", "days", 1.0),
    "sustained_crossover_date": ("sustained", "days", 1.0),
    "breakeven_date": ("breakeven", "days", 1.0),
    "pv_usd": ("pv", "MUSD", 1e-6),
    "short_term_usd_per_day": ("0-89d", "kUSD/day", 1e-3),
    "long_term_usd_per_day": ("366d+", "kUSD/day", 1e-3),
}


def _signed(x: float, unit: str) -> str:
    """Signed, at the column's precision; ``~0`` when a non-zero difference rounds to 0."""
    if x == 0:
        return "0"
    digits = 1 if unit == "MUSD" else 0
    text = f"{x:+,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return "~0"
    return f"{text} d" if unit == "days" else text


def _difference_cell(d) -> str:
    header, unit, scale = _COMPARE_COLUMNS[d.figure]
    if d.reference is None and d.value is None:
        return "none"          # the event occurs in neither run
    if d.figure == "status":
        short = {**_STATUS_SHORT, "sustained": "sustained"}
        return "same" if d.difference == 0 else f"{short.get(d.reference, d.reference)}->{short.get(d.value, d.value)}"
    if d.difference is None:
        return f"{format_value(d.reference)}->{format_value(d.value)}".replace("-->", "->")
    return _signed(d.difference * scale, unit)


def comparison_text(differences) -> str:
    """Differences of :func:`~flowsim.analysis.compare.compare_results` as text tables.

    One table per compared scenario: a row per host and balance, a column per summary
    figure (value - reference at the column's precision, ``~0`` when a
    non-zero difference rounds to 0; dates in days; ``none`` when the event
    occurs in neither run, ``a->b`` when it occurs in only one, ``-`` standing
    for "does not occur").
    """
    blocks = []
    scenarios = list(dict.fromkeys(d.scenario for d in differences))
    for name in scenarios:
        rows = [d for d in differences if d.scenario == name]
        ref = rows[0].reference_scenario if rows else ""
        keys = list(dict.fromkeys((d.host, d.balance) for d in rows))
        header = ["host", "balance", *[h for h, _, _ in _COMPARE_COLUMNS.values()]]
        table = [["", "", *[u for _, u, _ in _COMPARE_COLUMNS.values()]]]
        for host, balance in keys:
            cells = {d.figure: _difference_cell(d) for d in rows
                     if (d.host, d.balance) == (host, balance) and d.figure in _COMPARE_COLUMNS}
            table.append([host, balance, *[cells.get(f, "") for f in _COMPARE_COLUMNS]])
        blocks.append(f"{name} minus {ref}\n" + _text_table(header, table))
    return "\n\n".join(blocks)


# ------------------------------------------------------------------ scenario
def _closure_text(closure) -> str:
    """``closed from 2022-09-28 through 2022-12-31 (open again on 2023-01-01)``: the last closed day, not the
    (exclusive) end date, so that it reads like the stories."""
    first = closure.start or "the start"
    if closure.end is None:
        return f"closed from {first} to the end"
    last = closure.end - _dt.timedelta(days=1)
    return f"closed from {first} through {last} (open again on {closure.end})"


def _schedule_text(schedule) -> str:
    d = schedule.to_dict()
    kind = d.pop("type")
    if kind == "pulse":
        start = d["start"] or "start"
        return f"pulse of {format_value(d['total'])} people from {start} (gamma shape {d['shape']:g}, " \
               f"scale {d['scale_days']:g} days)"
    if kind == "piecewise_linear":
        pts = d["points"]
        return f"piecewise linear, {len(pts)} points from {pts[0][0]} to {pts[-1][0]}"
    return f"daily counts: {len(d['counts'])} days from {d['start'] or 'start'}, " \
           f"{format_value(sum(d['counts']))} people"


def _policy_effect(scenario, policy) -> str:
    old = scenario.params.get(policy.parameter, policy.host)
    return f"{format_value(old)} -> {format_value(policy.new_value(old))}"


def scenario_text(scenario, hosts=None, width: int | None = 60) -> str:
    """Everything a scenario holds as text: story, dates, inputs, parameter table.

    Parameters
    ----------
    scenario : Scenario
    hosts : sequence of str, optional
        Show the per-host parameters of these hosts only.
    width : int or None
        Sources longer than this are cut (None: whole).
    """
    import textwrap

    lines = [f"scenario {scenario.name}"]
    if scenario.description:
        lines += textwrap.wrap(" ".join(scenario.description.split()), width=100,
                               initial_indent="  ", subsequent_indent="  ")
    lines += [
        f"start {scenario.start}, horizon {scenario.horizon_days} days (to {scenario.end}), "
        f"hosts {', '.join(scenario.hosts)}",
        "",
        "arrivals (people/day into each host; schedules add up):",
    ]
    lines += [f"  {h}: {_schedule_text(s)}" for h, v in scenario.arrivals.items() for s in v] or ["  none"]
    lines.append("closures:")
    lines += [f"  {h}: {_closure_text(c)}" for h, v in scenario.closures.items() for c in v] or ["  none"]
    lines.append("diversion of arrivals refused at a closed border:")
    lines += [f"  {h} -> " + ", ".join(f"{j} {s:g}" for j, s in row.items())
              + f" (stay at the origin: {1 - sum(row.values()):.3g})" for h, row in scenario.diversion.items()] \
        or ["  none"]
    lines.append("initial stocks (people):")
    lines += [f"  {h}: " + ", ".join(f"{c} {format_value(v)}" for c, v in st.items())
              for h, st in scenario.initial.items()] or ["  none"]
    lines.append("policies (per-host parameters from a date on):")
    lines += [f"  {p.describe()} ({_policy_effect(scenario, p)})" + (f"  [{p.source}]" if p.source else "")
              for p in scenario.policies] or ["  none"]
    lines += ["", parameter_table_text(scenario.params, hosts=hosts, width=width)]
    return "\n".join(lines)


def scenario_html(scenario) -> str:
    """Escaped HTML: the scenario's one-line summary, its story and its parameter table."""
    esc = html.escape
    story = f"<p>{esc(' '.join(scenario.description.split()))}</p>" if scenario.description else ""
    policies = "".join(f"<li>{esc(p.describe())}</li>" for p in scenario.policies)
    policies = f"<p>policies:</p><ul>{policies}</ul>" if policies else ""
    return (f"<div class='flowsim-scenario'><strong>{esc(repr(scenario))}</strong>{story}{policies}"
            f"{parameter_table_html(scenario.params)}</div>")


# ---------------------------------------------------------------- ensembles
_EVENT_HEADER = ("host", "residents: sust. x", "median date", "PV < 0", "fiscal: sust. x", "median date",
                 "PV < 0", "net (v1): sust. x")


def _ensemble_head(ens) -> str:
    kept = ", ".join(ens.series) or "no series"
    return (f"flowsim ensemble of scenario '{ens.scenario.name}': {ens.n_members} members, {len(ens.dims)} "
            f"varied parameters ({ens.sampler}, seed {ens.seed}); kept {kept}")


def _event_rows(ens):
    rows = {(r["host"], r["balance"]): r for r in ens.events()}
    out = []
    for h in ens.hosts:
        cells = [h]
        for b in ("residents", "fiscal"):
            r = rows[h, b]
            cells += [f"{r['p_sustained_crossover']:.3f}", format_value(r["median_sustained_crossover_date"]),
                      f"{r['p_negative_pv']:.3f}"]
        cells.append(f"{rows[h, 'net']['p_sustained_crossover']:.3f}")
        out.append(cells)
    return out


_EVENT_NOTE = ("Shares of the members (the sampled scenarios, not probabilities of the world unless the draws come "
               "from a posterior):\nsust. x: a sustained crossover within the horizon; median date among the "
               "members that have one;\nPV < 0: a negative present value. Every balance: events.csv, or "
               "EnsembleResult.events().")


def ensemble_text(ens) -> str:
    """Header line, the per-host event table of an :class:`EnsembleResult` and how to read it."""
    return _ensemble_head(ens) + "\n" + _text_table(_EVENT_HEADER, _event_rows(ens)) + "\n" + _EVENT_NOTE


def ensemble_html(ens) -> str:
    return _html_table(_EVENT_HEADER, _event_rows(ens), caption=_ensemble_head(ens)) + \
        f"<p>{html.escape(_EVENT_NOTE)}</p>"


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
