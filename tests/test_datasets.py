"""Shipped datasets and the loader of a user's observations: records, tables and error messages."""

import datetime as dt
import hashlib
from pathlib import Path

import pytest

import flowsim
from flowsim.datasets import (
    OBSERVATION_COLUMNS,
    QUALIFIERS,
    EconomyRecord,
    Observation,
    ObservationTable,
    economy_context_2022,
    load_observations,
    observations_2022,
    parse_period,
)

DATA = Path(flowsim.__file__).parent / "data"
SHARED = Path("/work/shared/data")

HEADER = "host,quantity,date_start,date_end,value,low,high,unit,qualifier,note,source_title,source_url,quote\n"
GOOD = "KAZ,cumulative_entries,2022-09-21,2022-09-27,98000,,,persons,approximately,note,title,http://x,quote\n"


def test_observations_2022_records():
    obs = observations_2022()
    assert isinstance(obs, ObservationTable) and len(obs) == 48
    first = obs[0]
    assert isinstance(first, Observation)
    assert (first.host, first.quantity, first.value, first.qualifier) == ("KAZ", "cumulative_entries", 98000.0,
                                                                          "approximately")
    assert first.date_start == dt.date(2022, 9, 21) and first.date_end == dt.date(2022, 9, 27)
    assert first.line == 2 and first.days == 7
    assert first.source_url.startswith("https://") and "98,000" in first.quote
    assert obs.hosts == ("KAZ", "GEO", "UZB", "KGZ", "MNG", "ARM")
    baseline = obs.filter(host="KAZ", quantity="baseline_daily_entries")[0]
    assert (baseline.value, baseline.low, baseline.high) == (8500.0, 8000.0, 9000.0)
    # every record has a source and a known qualifier; no date runs backwards
    for o in obs:
        assert o.source_title and o.source_url and o.quote
        assert o.qualifier in QUALIFIERS and o.date_end >= o.date_start


def _recorded_sums() -> dict[str, str]:
    """File name -> SHA-256 of the shared data files as copied into the package (tests/data/shared_data.sha256,
    ``sha256sum`` format, written when the copies were made)."""
    lines = (Path(__file__).parent / "data" / "shared_data.sha256").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def test_shipped_copies_are_unchanged():
    """The package copies are byte for byte the shared files they were made from: always against the recorded
    digests, and against the shared files themselves where that folder is present (it is not in a clean clone)."""
    sums = _recorded_sums()
    assert set(sums) == {"observations_2022.csv", "economy_context_2022.csv", "money_2022.csv", "ukraine_2022.csv"}
    for name, digest in sums.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, f"flowsim/data/{name} was edited"
        if (SHARED / name).exists():
            assert hashlib.sha256((SHARED / name).read_bytes()).hexdigest() == digest, f"shared {name} changed"
    header = (DATA / "observations_2022.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == HEADER.strip()


def test_economy_context_records():
    eco = economy_context_2022()
    assert len(eco) == 179
    rec = eco[0]
    assert isinstance(rec, EconomyRecord)
    assert rec.country == "Kazakhstan" and rec.value == 570000.0 and rec.unit == "persons"
    assert (rec.period_start, rec.period_end) == (dt.date(2022, 4, 1), dt.date(2022, 5, 31))
    ranges = [r for r in eco if r.value_text == "418-628"]
    assert ranges and (ranges[0].low, ranges[0].high, ranges[0].value) == (418.0, 628.0, None)
    qualitative = [r for r in eco if r.value_text == "qualitative"]
    assert qualitative and all(r.value is None for r in qualitative)
    assert all(r.source_title for r in eco)   # three rows have a title but no address (as in the source table)


@pytest.mark.parametrize("text, expected", [
    ("2022", (dt.date(2022, 1, 1), dt.date(2022, 12, 31))),
    ("2022-02", (dt.date(2022, 2, 1), dt.date(2022, 2, 28))),
    ("2022-Q2", (dt.date(2022, 4, 1), dt.date(2022, 6, 30))),
    ("2022-H1", (dt.date(2022, 1, 1), dt.date(2022, 6, 30))),
    ("2022-09-27", (dt.date(2022, 9, 27), dt.date(2022, 9, 27))),
    ("2022-09 to ~2022-10-15", (dt.date(2022, 9, 1), dt.date(2022, 10, 15))),
    ("2022 (Dec/Dec)", (dt.date(2022, 1, 1), dt.date(2022, 12, 31))),
    ("late Sep 2022", (None, None)),
    ("2022-03 vs 2022-05", (None, None)),
    ("2022-13", (None, None)),
])
def test_parse_period(text, expected):
    assert parse_period(text) == expected


def test_table_helpers():
    obs = observations_2022()
    kaz = obs.filter(host="KAZ")
    assert len(kaz) == 24 and set(kaz.hosts) == {"KAZ"}
    two = obs.filter(host=("GEO", "ARM"), quantity="stock_present")
    assert [o.host for o in two] == ["GEO", "ARM"]
    early = kaz.until("2022-10-04")
    assert all(o.date_end <= dt.date(2022, 10, 4) for o in early)
    assert len(early) + len(kaz.after("2022-10-04")) == len(kaz)
    assert isinstance(kaz[1:3], ObservationTable) and len(kaz[1:3]) == 2
    with pytest.raises(flowsim.ObservationError, match="unknown field"):
        obs.filter(hots="KAZ")
    text = repr(kaz)
    assert "24 records" in text and "cumulative_entries" in text


def test_to_dataframe_and_html_escaping():
    pd = pytest.importorskip("pandas")
    df = observations_2022().to_dataframe()
    assert isinstance(df, pd.DataFrame) and df.shape == (48, 16)
    assert set(OBSERVATION_COLUMNS) <= set(df.columns)
    o = Observation(host="KAZ", quantity="stock_present", date_start="2022-09-21", date_end="2022-10-01",
                    value=1.0, source_title="<script>alert(1)</script>")
    html = ObservationTable((o,), title="t")._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def _write(tmp_path, body, header=HEADER, name="obs.csv"):
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def test_load_user_file_minimal_columns(tmp_path):
    path = _write(tmp_path, "KAZ,daily_entries,2022-09-29,2022-09-29,22500,0.5\n",
                  header="host,quantity,date_start,date_end,value,weight\n")
    obs = load_observations(path)
    assert len(obs) == 1 and obs[0].value == 22500.0 and obs[0].weight == 0.5 and obs[0].qualifier == ""
    assert obs[0].line == 2


@pytest.mark.parametrize("body, header, message", [
    (GOOD, "host,quantity,date_start,value\n", r"line 1: missing column\(s\) date_end"),
    (GOOD, HEADER.replace("qualifier", "qualifer"), "unknown column 'qualifer'. Did you mean 'qualifier'"),
    (GOOD + GOOD.replace("KAZ", "KAZA"), HEADER, r"line 3: host 'KAZA' is not a host code.*Did you mean 'KAZ'"),
    (GOOD.replace("2022-09-27", "27.09.2022"), HEADER, "line 2: column date_end must be a date YYYY-MM-DD; "
                                                       "got '27.09.2022'"),
    (GOOD.replace("98000", "98,000"), HEADER, "line 2: 14 cells for 13 columns; quote cells that contain commas"),
    (GOOD.replace("98000", "98k"), HEADER, "line 2: column value must be a number.*got '98k'"),
    (GOOD.replace("98000", "-5"), HEADER, "line 2: column value must be >= 0"),
    (GOOD.replace("2022-09-21", "2022-09-30"), HEADER, "line 2: date_end 2022-09-27 is before date_start "
                                                       "2022-09-30"),
    (GOOD.replace("approximately", "roughly about"), HEADER, "line 2: unknown qualifier 'roughly about'"),
    (GOOD.replace("98000,,", ",,"), HEADER, "line 2: no value"),
    (GOOD.replace("98000,,", "98000,9,1"), HEADER, r"line 2: low \(9\) is above high \(1\)"),
    ("", "", "the file is empty"),
])
def test_loader_errors_name_file_and_line(tmp_path, body, header, message):
    path = _write(tmp_path, body, header=header)
    with pytest.raises(flowsim.ObservationError, match=message) as info:
        load_observations(path)
    assert str(path) in str(info.value)


def test_loader_line_numbers_count_quoted_newlines(tmp_path):
    row2 = GOOD.replace(",note,", ',"a note\nover two lines",')
    path = _write(tmp_path, row2 + GOOD.replace("KAZ", "XXX"))
    with pytest.raises(flowsim.ObservationError, match="line 4: host 'XXX' is not in the hosts allowed here"):
        load_observations(path, hosts=flowsim.REFERENCE_HOSTS)


def test_missing_file(tmp_path):
    with pytest.raises(flowsim.ObservationError, match="not found"):
        load_observations(tmp_path / "nope.csv")


def test_observation_checks_itself():
    with pytest.raises(flowsim.ObservationError, match="before date_start"):
        Observation(host="KAZ", quantity="stock_present", date_start="2022-10-02", date_end="2022-10-01", value=1)
    with pytest.raises(flowsim.ObservationError, match="give a value"):
        Observation(host="KAZ", quantity="stock_present", date_start="2022-10-01", date_end="2022-10-01")
    with pytest.raises(flowsim.ObservationError, match="value must be a number"):
        Observation(host="KAZ", quantity="stock_present", date_start="2022-10-01", date_end="2022-10-01",
                    value="100")
    with pytest.raises(flowsim.ObservationError, match="value must be a finite number"):
        Observation(host="KAZ", quantity="stock_present", date_start="2022-10-01", date_end="2022-10-01",
                    value=float("nan"))
    with pytest.raises(flowsim.ObservationError, match="must be a date"):
        Observation(host="KAZ", quantity="stock_present", date_start="1 Oct", date_end="2022-10-01", value=1)
