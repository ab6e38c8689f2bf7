"""The scenario commands of the CLI: list, show, init, compare (and run on scenario files)."""

import csv
import re

import pytest

import flowsim
from flowsim.cli import main

SHORT = 'base = "{base}"\nhorizon_days = 150\n'


def test_every_command_has_help(capsys):
    for command in ("run", "list", "show", "init", "compare"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        assert f"usage: flowsim {command}" in capsys.readouterr().out


def test_list_one_line_each(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(flowsim.list_scenarios())
    assert len(lines) >= 6 and all(len(line) < 160 for line in lines)


def test_show_prints_story_inputs_and_parameter_table(capsys):
    assert main(["show", "work-permit-fast-track", "--host", "KAZ", "--full-sources"]) == 0
    out = capsys.readouterr().out
    assert "scenario work-permit-fast-track" in out and "one-stop desk" in out
    assert "f0 for KAZ from 2023-01-01: x 2 (0.011 -> 0.022)" in out
    assert "K for UZB from 2023-01-01: x 1.5 (20,000 -> 30,000)" in out
    header = next(line for line in out.splitlines() if line.startswith("parameter "))
    assert header.split() == ["parameter", "host", "value", "unit", "range", "bounds", "source"]
    rows = [line.split() for line in out.splitlines() if line.startswith("f0 ")]
    assert rows == [["f0", "KAZ", "0.011", "1/day", "0.005..0.025", "[0,", "1000]", "assumption:", "~3", "months",
                     "to", "a", "job", "at", "an", "empty", "market", "(EAEU:", "no", "work", "permit;", "Russian",
                     "widely", "spoken);", "cf.", "observations_2022.csv:", "KAZ", "employed_registered", "~22,500",
                     "by", "2022-10-11", "(Kursiv)"]]
    assert not any(line.startswith("f0   UZB") for line in out.splitlines())     # --host KAZ only
    assert main(["show", "work-permit-fast-track"]) == 0
    lines = capsys.readouterr().out.splitlines()
    kaz = next(line for line in lines if line.startswith("f0 ") and " KAZ " in line)
    assert kaz.endswith("...") and any(line.startswith("f0 ") and " UZB " in line for line in lines)


def test_show_errors(capsys):
    assert main(["show", "no-help", "--host", "KZA"]) == 2
    assert "Did you mean 'KAZ'" in capsys.readouterr().err
    assert main(["show", "no-hepl"]) == 2
    assert "Did you mean 'no-help'" in capsys.readouterr().err


def test_init_writes_a_template_that_runs(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    assert main(["init", str(path), "--base", "border-closure"]) == 0
    text = path.read_text()
    assert 'base = "border-closure"' in text and 'name = "mine"' in text and "# [[policies]]" in text
    sc = flowsim.read_scenario(path)
    ref = flowsim.load_scenario("border-closure")
    assert sc.name == "mine" and sc.params == ref.params and sc.closures == ref.closures
    assert sc.diversion == ref.diversion and sc.horizon_days == ref.horizon_days
    # uncommenting the examples gives a valid scenario too (every feature of the schema)
    code = re.compile(r"^# (\[|[A-Za-z_0-9]+ = )")
    lines = [line[2:] if code.match(line) else line for line in text.splitlines()]
    full = tmp_path / "uncommented.toml"
    skip = ("# keep a subset", "# drop inherited")     # these two would drop what the rest uses
    full.write_text("\n".join(line for line in lines if not any(s in line for s in skip)))
    sc = flowsim.read_scenario(full)
    assert sc.policies[-1].parameter == "f0" and sc.initial["GEO"] == {"R": 20000.0, "E": 5000.0}
    assert flowsim.run(sc.replace(horizon_days=30)).conservation_error() < 1e-6


def test_init_refuses_to_overwrite(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text("mine")
    assert main(["init", str(path)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err and path.read_text() == "mine"
    assert main(["init", str(path), "--force"]) == 0
    assert 'base = "kazakhstan-2022"' in path.read_text()
    assert main(["init", str(tmp_path / "x.toml"), "--base", "kazakstan-2022"]) == 2
    assert "Did you mean 'kazakhstan-2022'" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]


def _short(tmp_path, base, name):
    path = tmp_path / f"{name}.toml"
    path.write_text(SHORT.format(base=base))
    return str(path)


def test_compare_against_itself_reports_zero_differences(tmp_path, capsys):
    a = _short(tmp_path, "kazakhstan-2022", "a")
    out = tmp_path / "cmp"
    assert main(["compare", a, a, "--out", str(out), "--no-figures"]) == 0
    printed = capsys.readouterr().out
    assert "a #2 minus a" in printed
    rows = list(csv.DictReader((out / "comparison.csv").open()))
    from flowsim.analysis.compare import COMPARED_FIGURES

    assert len(rows) == 8 * len(flowsim.BALANCES) * len(COMPARED_FIGURES)
    assert {(r["host"], r["balance"]) for r in rows} == {(h, b) for h in flowsim.REFERENCE_HOSTS
                                                         for b in flowsim.BALANCES}
    assert all(r["difference"] in ("0.0", "0") for r in rows)
    table = printed.split("a #2 minus a")[1].splitlines()[4:4 + 8 * len(flowsim.BALANCES)]
    assert [line.split()[1] for line in table[:5]] == list(flowsim.BALANCES)
    assert all(cell in ("same", "0", "none") for line in table for cell in line.split()[2:])
    from flowsim.analysis.compare import all_zero, compare_results

    res = flowsim.run(flowsim.read_scenario(a))
    assert all_zero(compare_results([res, flowsim.run(flowsim.read_scenario(a))]))


def test_compare_writes_table_and_overlays(tmp_path, capsys):
    ref, closed = _short(tmp_path, "kazakhstan-2022", "ref"), _short(tmp_path, "border-closure", "closed")
    out = tmp_path / "cmp"
    assert main(["compare", ref, closed, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [".flowsim-manifest.json", "comparison.csv",
                                                     "cumulative_net.png", "fiscal.png", "net_impact.png",
                                                     "net_impact_first_120_days.png", "residents.png"]
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    rows = {(r["host"], r["balance"], r["figure"]): r for r in csv.DictReader((out / "comparison.csv").open())}
    for balance in ("net", "residents", "inflow"):
        kaz = rows["KAZ", balance, "cumulative_usd"]
        assert float(kaz["difference"]) == pytest.approx(float(kaz["value"]) - float(kaz["reference"]), rel=1e-12)
        assert float(kaz["difference"]) < 0
    assert float(rows["GEO", "residents", "peak_present"]["difference"]) > 0
    assert rows["KAZ", "inflow", "peak_date"]["unit"] == "days"
    assert rows["KAZ", "residents", "status"]["reference"] == rows["KAZ", "residents", "status"]["value"]
    kaz_line = next(line for line in printed.splitlines() if line.startswith("KAZ"))
    assert kaz_line.split()[1] == "inflow" and kaz_line.split()[3].startswith("-")


def test_compare_bad_input_writes_nothing(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "kazakhstan-2022", "--out", str(out)]) == 2
    assert "at least two scenarios" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "kazakhstan-2022"\n[parameters]\nq_on = 2\n')
    assert main(["compare", "kazakhstan-2022", str(bad), "--out", str(out)]) == 2
    assert "bad.toml, line 3, key parameters.q_on" in capsys.readouterr().err
    assert not out.exists()
