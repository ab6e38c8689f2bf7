"""Derive ``flowsim/data/economy_observations_2022.csv`` from the shipped ``money_2022.csv``.

Run from the repository root: ``python tools/make_economy_observations.py``
(``--check`` only compares with the shipped file; the tests run that). Every
figure is computed here from named rows of ``money_2022.csv`` (and
``economy_context_2022.csv`` for consumer prices), and its note spells the
arithmetic out, so that a reader can redo it. The choices follow docs/model.md v2,
"Observing the economy", and the caveats of ``shared/data/README.md``:

* money transfers from Russia, summed over at least two quarters where the
  published totals allow it, minus the same period's 2021 level (the
  pre-arrival baseline), minus the change of the Russians' deposits where it
  is published. A figure whose ends are uncertain (two published totals that
  disagree, a deposit change that covers all non-residents) is a range.
  Not for KGZ, TJK, UZB: their transfers from Russia are their own citizens'
  earnings. Currencies: the sources' own USD conversions, or the rate the
  same source implies (KAZ: 357 KZT bn = 775.4 USD million, 460.4 KZT/USD);
* rents: the log change of a rent index from a pre-arrival date, deflated
  by the consumer prices of the same period (``log(1 + rent) - log(1 + cpi)``);
* registrations: sole proprietors against remote workers ``R`` (a lower bound).

Windows that start before the scenario start (21 Sep 2022) use the
observation model's rule that the stocks there (the spring wave) are held at
their level on the start date.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flowsim.datasets import OBSERVATION_COLUMNS, economy_context_2022, money_2022  # noqa: E402

TARGET = ROOT / "flowsim" / "data" / "economy_observations_2022.csv"


def row(country: str, indicator: str, period: str, table=None):
    """The single row of ``money_2022.csv`` (or ``table``) with these keys."""
    table = money_2022() if table is None else table
    found = [r for r in table if (r.country, r.indicator, r.period) == (country, indicator, period)]
    if not found:
        raise SystemExit(f"no row {country}, {indicator}, {period}")
    return found[0]


def usd(x: float) -> float:
    """USD million to USD."""
    return round(x * 1e6, -3)


def figure(host, quantity, start, end, *, value=None, low=None, high=None, unit, qualifier="", note, src):
    return {
        "host": host, "quantity": quantity, "date_start": start, "date_end": end,
        "value": "" if value is None else repr(value), "low": "" if low is None else repr(low),
        "high": "" if high is None else repr(high), "unit": unit, "qualifier": qualifier, "note": note,
        "source_title": src.source_title, "source_url": src.source_url, "quote": src.quote,
    }


def georgia() -> list[dict]:
    year = max(r.value for r in money_2022()                                # 2060, 2067 or 2068: NBG's 2068
               if (r.country, r.indicator, r.period) == ("GEO", "transfers_from_russia_usd", "2022"))
    h1 = row("GEO", "transfers_from_russia_usd", "2022-H1").value
    months = [row("GEO", "transfers_from_russia_usd", f"2022-{m:02d}") for m in range(7, 13)]
    monthly = sum(m.value for m in months)
    base = row("GEO", "transfers_from_russia_usd", "2021").value
    dep0 = row("GEO", "deposits_russian_citizens_usd", "2022-08-31").value
    dep1 = row("GEO", "deposits_russian_citizens_usd", "2022-12").value
    low, high = year - h1 - base / 2 - (dep1 - dep0), monthly - base / 2 - (dep1 - dep0)
    note = (f"excess of money transfers from Russia over Jul-Dec 2022 (two quarters), USD: 2022 total {year:g} - "
            f"H1 {h1:g} = {year - h1:g} (low) or the monthly figures Jul-Dec summed = {monthly:.2f} (high), "
            f"minus half the 2021 total {base:g} / 2 = {base / 2:.2f}, minus the change of Russian citizens' "
            f"deposits {dep1:g} - {dep0:g} = {dep1 - dep0:.2f} (31 Aug to Dec; Jul-Aug not published); USD "
            "million as published by NBG via the outlets; includes business relocation and re-exports "
            "(transfer_share)")
    rent = row("GEO", "rent_change_yoy_tbilisi", "2022-12").value
    cpi = row("Georgia", "annual_CPI_inflation", "2022-12", economy_context_2022()).value
    value = math.log1p(rent / 100) - math.log1p(cpi / 100)
    rent_note = (f"Tbilisi asking rents Dec 2022 vs Dec 2021 +{rent:g}% deflated by CPI Dec/Dec +{cpi:g}% "
                 f"(economy_context_2022.csv): log({1 + rent / 100:g}) - "
                 f"log({1 + cpi / 100:g}) = {value:.4f}; the spring wave (the scenario's initial stocks) and "
                 "the autumn one are in it, and any pre-arrival trend; "
                 "only eps*hR/Hs is identified")
    return [
        figure("GEO", "transfers_excess", "2022-07-01", "2022-12-31", low=usd(low), high=usd(high), unit="USD",
               note=note, src=months[-1]),
        figure("GEO", "rent_log_change", "2021-12-31", "2022-12-31", value=round(value, 4), unit="1",
               qualifier="about", note=rent_note, src=row("GEO", "rent_change_yoy_tbilisi", "2022-12")),
    ]


def armenia() -> list[dict]:
    year = row("ARM", "transfers_from_russia_usd", "2022").value
    base = row("Armenia", "money_transfers_inflow_from_russia", "2021", economy_context_2022()).value
    funds = row("ARM", "nonresident_funds_in_accounts_usd", "2022-12").value
    growth = row("ARM", "nonresident_funds_growth_mar_dec", "2022-03/2022-12").value
    deposits = funds * (growth / 100) / (1 + growth / 100)
    note = (f"excess of money transfers from Russia over Mar-Dec 2022 (three quarters and a month), USD: "
            f"2022 total {year:g} - 2021 total {base:g} = {year - base:g} (high; Jan-Feb 2022 taken at the 2021 "
            f"level, as before the spring wave); low: minus the growth of non-residents' funds in Armenian "
            f"banks from March to December, {funds:g} x {growth:g}/{100 + growth:g} = {deposits:.0f} (all "
            "non-residents, not only Russians: a lower end); USD million as published (CBA via the outlets)")
    rent_lo = row("ARM", "rent_change_yerevan_agent_estimate_low", "2022-07").value
    rent_hi = row("ARM", "rent_change_yerevan_agent_estimate_high", "2022-07").value
    cpi = row("Armenia", "CPI_inflation_12m (ADB)", "2022-07", economy_context_2022()).value
    half = math.sqrt(1 + cpi / 100) - 1                                     # Jan-Jul: half a year of prices
    lo, hi = (math.log1p(x / 100) - math.log1p(half) for x in (rent_lo, rent_hi))
    rent_note = (f"Yerevan rents Jul 2022 vs early 2022 +{rent_lo:g}-{rent_hi:g}% (agents) deflated by half a "
                 f"year of the 12-month CPI {cpi:g}% (sqrt({1 + cpi / 100:g}) - 1 = {100 * half:.2f}%): "
                 f"[{lo:.4f}, {hi:.4f}]; July is before the scenario start: the spring stock on 21 Sep stands "
                 "for it; only eps*hR/Hs is identified")
    traders = row("ARM", "sole_proprietors_russians_registered", "2022")
    stock = row("ARM", "nonresidents_in_country_cba_estimate", "2022-12")
    return [
        figure("ARM", "transfers_excess", "2022-03-01", "2022-12-31", low=usd(year - base - deposits),
               high=usd(year - base), unit="USD", note=note,
               src=row("ARM", "nonresident_funds_in_accounts_usd", "2022-12")),
        figure("ARM", "rent_log_change", "2022-01-01", "2022-07-31", low=round(lo, 4), high=round(hi, 4), unit="1",
               note=rent_note, src=row("ARM", "rent_change_yerevan_agent_estimate_low", "2022-07")),
        figure("ARM", "sole_traders_registered", "2022-01-01", "2022-12-31", value=traders.value, unit="persons",
               note="sole proprietors registered by Russians in 2022 (Economy Minister): remote workers who "
                    "registered, a lower bound on R", src=traders),
        figure("ARM", "stock_present", "2022-12-31", "2022-12-31", value=stock.value, unit="persons",
               qualifier="about", note="non-residents in the country at the end of 2022 (CBA estimate; not only "
                                       "Russians)", src=stock),
    ]


def kazakhstan() -> list[dict]:
    year_kzt = row("KAZ", "transfers_from_russia_kzt", "2022").value
    year_usd = row("KAZ", "transfers_from_russia_usd", "2022").value
    rate = year_kzt * 1e3 / year_usd                                        # KZT per USD the source implies
    jan_jul = row("KAZ", "transfers_from_russia_kzt", "2022-01/2022-07").value * 1e3 / rate
    base = year_usd / 6.8                                                   # "6.8 times the 2021 volume"
    value = year_usd - jan_jul - base * 5 / 12
    note = (f"excess of money transfers from Russia over Aug-Dec 2022, USD: 2022 total {year_usd:g} - Jan-Jul "
            f"{row('KAZ', 'transfers_from_russia_kzt', '2022-01/2022-07').value:g} KZT bn at {rate:.1f} KZT/USD "
            f"(the rate the 2022 figures imply: {year_kzt:g} KZT bn = {year_usd:g} USD million) = {jan_jul:.1f}, "
            f"minus 5/12 of the 2021 total ({year_usd:g} / 6.8 = {base:.1f}, '6.8 times' in the source); five "
            "months, not two quarters: the published totals allow no longer window after July; no deposit figure "
            "is published; the KAZ model has no spring-wave stock, whose spending in Aug-Sep is in the figure")
    rent = row("KAZ", "rent_per_sqm_increase_astana", "2022-09").value
    cpi = row("Kazakhstan", "annual_CPI_inflation", "2022 (Dec/Dec)", economy_context_2022()).value
    month = (1 + cpi / 100) ** (1 / 12) - 1
    value_rent = math.log1p(rent / 100) - math.log1p(month)
    rent_note = (f"Astana asking rent per m2 late Sep 2022 +{rent:g}% (survey; taken as over September) deflated "
                 f"by one month of the 2022 CPI {cpi:g}% ({1 + cpi / 100:g}^(1/12) - 1 = {100 * month:.2f}%): "
                 f"{value_rent:.4f}; Pavlodar +43% and Uralsk +18% in the same survey")
    return [
        figure("KAZ", "transfers_excess", "2022-08-01", "2022-12-31", value=usd(value), unit="USD", qualifier="about",
               note=note, src=row("KAZ", "transfers_from_russia_kzt", "2022")),
        figure("KAZ", "rent_log_change", "2022-08-31", "2022-09-28", value=round(value_rent, 4), unit="1",
               qualifier="about", note=rent_note, src=row("KAZ", "rent_per_sqm_increase_astana", "2022-09")),
    ]


def text() -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=OBSERVATION_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in kazakhstan() + georgia() + armenia():
        writer.writerow(r)
    return buf.getvalue()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the shipped file; exit 1 if it differs")
    args = ap.parse_args(argv)
    new = text()
    if args.check:
        same = TARGET.read_text(encoding="utf-8") == new
        print("up to date" if same else f"{TARGET} differs from what the script derives")
        return 0 if same else 1
    TARGET.write_text(new, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
