"""One table type (issue 14, item 6): every table flowsim returns has the same API.

CSV text in its declared column order, a DataFrame, aligned text and escaped
HTML, on the observations, parameters, summary, residuals, validation rows,
backtest scores and coverage, estimates and ensemble events.
"""

from __future__ import annotations

import csv
import dataclasses
import io

import numpy as np
import pytest

import flowsim
from flowsim.calibration import ResidualRow, ValidationRow
from flowsim.calibration.backtest import ScoreRow, coverage_table, score_figure
from flowsim.calibration.calibration_result import Estimate, residual_rows
from flowsim.calibration.figure_rows import FigureRow
from flowsim.datasets import RecordTable
from flowsim.exceptions import FlowsimError, ObservationError
from flowsim.results import SummaryTable
from flowsim.table import Table, csv_cell

#: The headers of the CSV files as flowsim 0.x wrote them before the one table type: they must not move.
RESIDUALS_HEADER = ("host,quantity,date_start,date_end,observed,low,high,qualifier,constraint,kind,sigma,weight,"
                    "weight_reason,predicted,initial,error,relative_error,residual,in_fit,line")
VALIDATION_HEADER = ("host,quantity,date_start,date_end,observed,low,high,qualifier,constraint,predicted,error,"
                     "relative_error,in_sample,weight,line")
SCORES_HEADER = ("host,quantity,date_start,date_end,observed,low,high,qualifier,constraint,kind,sigma,weight,q05,q25,"
                 "median,q75,q95,in_50,in_90,crps,crps_relative,relative_error,pit,p_accepted,line")
COVERAGE_HEADER = "host,quantity,kinds,nominal,figures,covered,observed,expected_low,expected_high,mean_crps_relative"
ESTIMATES_HEADER = ("name,unit,initial,value,se,ci_low,ci_high,lower,upper,transform,at_bound,identified,"
                    "identification,data_share,reference")


# ------------------------------------------------------------------------------------------- tables
@pytest.fixture(scope="module")
def kaz():
    """The seed scenario over 60 days, its run, and its observation model on the Kazakh figures of those days."""
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=60)
    result = flowsim.run(sc)
    obs = flowsim.datasets.observations_2022().filter(host="KAZ").until(sc.end)
    model = flowsim.ObservationModel.build(obs, flowsim.BackgroundTraffic.from_observations(obs))
    return sc, result, model, model.predict(result)


def _residuals(kaz):
    _, _, model, pred = kaz
    rows = residual_rows(model, pred, 0.9 * pred, model.weights > 0)
    return Table(rows, title="residuals <of a test>")


def _validation(kaz):
    _, _, model, pred = kaz
    err, rel = model.violations(pred), model.relative_errors(pred)
    rows = tuple(ValidationRow(host=o.host, quantity=o.quantity, date_start=o.date_start, date_end=o.date_end,
                               observed=o.value, low=c.low, high=c.high, qualifier=o.qualifier, constraint=c.text,
                               kind=c.kind, sigma=c.sigma, predicted=float(p), error=float(e),
                               relative_error=float(r), in_sample=i % 2 == 0, weight=c.weight, line=o.line)
                 for i, (o, c, p, e, r) in enumerate(zip(model.observations, model.constraints, pred, err, rel)))
    return Table(rows, title="validation")


def _scores(kaz):
    _, _, model, pred = kaz
    rng = np.random.default_rng(0)
    return Table(tuple(score_figure(o, c, p * rng.lognormal(0, 0.2, 64), 0.1)
                       for o, c, p in zip(model.observations, model.constraints, pred)), title="scores")


def _coverage(kaz):
    return coverage_table(_scores(kaz))


def _estimates(kaz):
    return Table((Estimate(name="tau_T[KAZ]", unit="days", value=9.8, initial=2.0, se=3.9, ci_low=4.4, ci_high=21.6,
                           lower=0.5, upper=60.0, transform="log", at_bound=False, identified=True),
                  Estimate(name="rho[KAZ]", unit="1", value=0.22, initial=0.3, se=0.17, ci_low=0.04, ci_high=0.67,
                           lower=0.01, upper=0.99, transform="logit", at_bound=False, identified=True,
                           prior="95% in [0.15, 0.5]", data_share=0.07)), title="estimates")


def _summary(kaz):
    return kaz[1].summary("all")


def _observations(kaz):
    return flowsim.datasets.observations_2022().filter(host="KAZ")


def _parameters(kaz):
    return kaz[0].params.table()


def _comparison(kaz):
    from flowsim.analysis.compare import compare_results

    sc, result = kaz[0], kaz[1]
    other = flowsim.run(sc.replace(params=sc.params.with_params(tau_T={"KAZ": 4.0})))
    return compare_results([result, other], names=["seed", "slower transit"])


def _events(kaz):
    return flowsim.ensemble(kaz[0].replace(horizon_days=30), 6, seed=1, progress=False).events()


TABLES = {"residuals": _residuals, "validation": _validation, "scores": _scores, "coverage": _coverage,
          "estimates": _estimates, "summary": _summary, "observations": _observations, "parameters": _parameters,
          "events": _events, "comparison": _comparison}


@pytest.fixture(scope="module", params=list(TABLES))
def table(request, kaz):
    return TABLES[request.param](kaz)


def _value(row, column):
    return row[column] if isinstance(row, dict) else getattr(row, column)


def test_every_table_is_the_one_table_type(table):
    assert isinstance(table, Table) and len(table) > 0
    assert list(table) == list(table.records) and table[0] is table.records[0]
    assert isinstance(table[:1], type(table)) and len(table[:1]) == 1


def test_csv_is_the_columns_in_order_and_every_cell(table):
    text = table.to_csv()
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == table.columns and len(lines) == len(table) + 1
    for row, cells in zip(table, lines[1:]):
        assert cells == [table.csv_cell(c, _value(row, c)) for c in table.columns]


def test_csv_to_a_file_and_a_choice_of_columns(table, tmp_path):
    path = tmp_path / "t.csv"
    assert table.to_csv(path) == path.read_text(encoding="utf-8")
    first, last = table.columns[0], table.columns[-1]
    assert table.to_csv(columns=(last, first)).splitlines()[0] == f"{last},{first}"
    with pytest.raises(FlowsimError, match=r"to_csv: unknown column\(s\) 'nope'; columns: " + first):
        table.to_csv(columns=(first, "nope"))


def test_dataframe_has_the_columns_in_order(table):
    pd = pytest.importorskip("pandas")
    df = table.to_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == len(table)
    index = list(df.index.names) if isinstance(table, SummaryTable) else []
    assert [c for c in (*index, *df.columns) if c in table.columns] == list(table.columns)


def test_text_and_html(table):
    text = str(table)
    shown = table.display or table.columns
    header = text.splitlines()[1] if table.title and not isinstance(table, SummaryTable) else text.splitlines()[0]
    assert header.split() == list(shown)
    html = table._repr_html_()
    assert html.startswith("<table class='flowsim'>") and html.count("<tr>") == len(table) + 1
    assert "<of" not in html                  # escaped (the residuals' title has a "<")


# ---------------------------------------------------------------------- the CSV files keep their columns
def test_calibration_tables_keep_the_headers_of_their_files(kaz):
    assert _residuals(kaz).to_csv().splitlines()[0] == RESIDUALS_HEADER
    assert _scores(kaz).to_csv().splitlines()[0] == SCORES_HEADER
    assert _coverage(kaz).to_csv().splitlines()[0] == COVERAGE_HEADER
    from flowsim.calibration import VALIDATION_COLUMNS
    from flowsim.io import ESTIMATE_COLUMNS

    assert _validation(kaz).to_csv(columns=VALIDATION_COLUMNS).splitlines()[0] == VALIDATION_HEADER
    assert _estimates(kaz).to_csv(columns=ESTIMATE_COLUMNS).splitlines()[0] == ESTIMATES_HEADER


def test_comparison_keeps_its_file(kaz):
    from flowsim.io import COMPARISON_COLUMNS, comparison_csv_text

    table = _comparison(kaz)
    assert ",".join(COMPARISON_COLUMNS) == ("scenario,reference_scenario,host,balance,figure,reference,value,"
                                            "difference,unit,note")
    assert comparison_csv_text(table) == comparison_csv_text(list(table)) == table.to_csv()
    assert table.to_csv().splitlines()[0] == ",".join(COMPARISON_COLUMNS)


def test_mape_and_ard_of_a_selection(kaz):
    from flowsim.analysis.goodness import averaged_relative_difference, mape_and_ard, mean_absolute_percentage_error

    _, _, model, pred = kaz
    mask = np.arange(len(pred)) % 2 == 0
    rel = model.relative_errors(pred)[mask]
    refs = [float(c.reference(p)) for c, p, k in zip(model.constraints, pred, mask) if k]
    groups = [(o.quantity, o.date_start, o.date_end) for o, k in zip(model.observations, mask) if k]
    assert mape_and_ard(model, pred, mask) == (
        mean_absolute_percentage_error(rel),
        averaged_relative_difference(groups, model.violations(pred)[mask], refs))
    assert all(x != x for x in mape_and_ard(model, pred, np.zeros(len(pred), bool)))


def test_cells_are_written_as_before():
    import datetime as dt

    assert [csv_cell(v) for v in (None, float("nan"), 0.1, 2, True, dt.date(2022, 9, 21), "a,b")] == \
        ["", "", "0.1", "2", "True", "2022-09-21", "a,b"]


def test_the_summary_rounds_its_numbers_and_keeps_its_lookups(kaz):
    table = _summary(kaz)
    text = table.to_csv()
    row = table["KAZ", "fiscal"]
    assert row["host"] == "KAZ" and table[0] is table.rows[0]
    line = next(line for line in text.splitlines() if line.startswith("KAZ,fiscal,"))
    cells = dict(zip(table.columns, next(csv.reader([line]))))
    assert cells["pv_usd"] == f"{row['pv_usd']:.0f}" and cells["peak_present"] == f"{row['peak_present']:.2f}"
    assert table.to_csv() == flowsim.io.summary_csv_text(kaz[1])
    assert kaz[1].summary("fiscal")["KAZ"]["pv_usd"] == row["pv_usd"]


# -------------------------------------------------------------------------- one base for figure rows
def test_residual_validation_and_score_rows_share_the_figure_fields():
    base = [f.name for f in dataclasses.fields(FigureRow)]
    assert {"host", "quantity", "date_start", "date_end", "observed", "low", "high", "qualifier", "constraint",
            "kind", "sigma", "weight", "relative_error", "line"} == set(base)
    for row_type in (ResidualRow, ValidationRow, ScoreRow):
        assert issubclass(row_type, FigureRow)
        own = [f.name for f in dataclasses.fields(row_type)]
        assert own[: len(base)] == base                         # the shared fields, declared once
        assert set(row_type.COLUMNS) == set(own)                 # every field has its place in the CSV


def test_window_text_of_a_figure_row(kaz):
    rows = _residuals(kaz)
    one = next(r for r in rows if r.date_start == r.date_end)
    many = next(r for r in rows if r.date_start != r.date_end)
    assert one.window == one.date_end.isoformat()
    assert many.window == f"{many.date_start}..{many.date_end}"


# ------------------------------------------------------------------------------ equality, filter, names
def test_equality_filter_and_the_old_names(kaz):
    assert RecordTable is Table
    obs = _observations(kaz)
    assert obs == flowsim.datasets.observations_2022().filter(host="KAZ") and obs == list(obs.records)
    assert obs != obs[1:] and kaz[0].params.table() == kaz[0].params.table()
    with pytest.raises(ObservationError, match="unknown field"):
        obs.filter(nope=1)
    scores = _scores(kaz)
    assert all(r.kind == "point" for r in scores.filter(kind="point"))
    with pytest.raises(FlowsimError, match="unknown field.*nope.*host, quantity"):
        scores.filter(nope=1)
    events = _events(kaz)
    assert events.filter(balance="fiscal")[0]["balance"] == "fiscal"
