"""The committed history (``model/data/history.csv``) keeps the lead's format (DATA-FORMAT).

These tests read the file as plain CSV (not through the loader) and check what the format asks of
the data itself: the exact columns, the status vocabulary, ``as_of`` dates inside the row's year,
part-year flows as lower bounds, no outturn after 2023 (only plan rows), full citations instead
of bare slugs, and one row per (indicator, year, as_of, status). Each check is also run on a
faulty row, so a check that could never fail would show here.
"""

from __future__ import annotations

import csv
import datetime as dt
import re

import pytest

from sim import paths

COLUMNS = ["indicator", "year", "value", "unit", "status", "as_of", "source", "note"]
STATUSES = {"sourced", "lower_bound", "implied", "conflicting", "projection", "policy_target",
            "policy_rule"}
#: statuses allowed for a year after the last outturn year: what a plan or somebody expects
PLAN_STATUSES = {"policy_target", "policy_rule", "projection"}
LAST_OUTTURN_YEAR = 2023
#: indicators that are flows over a year (a total for part of a year is only a lower bound)
FLOWS = {"tech_contract_turnover", "rd_expenditure", "rd_business", "tech_contracts_count",
         "marine_tech_contract_turnover", "municipal_st_special_fund",
         "municipal_st_plan_funds_first_batch"}
#: a source must say where an address is missing or that the source is unidentified
NO_ADDRESS_WORDS = ("unidentified", "address not retained")


def _read(path=paths.HISTORY_FILE) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _source_problem(source: str) -> str | None:
    """Why ``source`` is not a full citation (publisher or site, description, date, address).

    A source that could not be identified says so plainly ("unidentified ...", how it was cited).
    """
    if source.startswith("unidentified"):
        return None if len(source) >= 40 else "says unidentified but not how it was cited"
    if "," not in source or len(source) < 40:
        return "a bare slug, not a citation (publisher or site, title or description, date, address)"
    if not re.search(r"\b(19|20)\d\d\b", source):
        return "no date (a year at least)"
    if not re.search(r"https?://", source) and not any(w in source for w in NO_ADDRESS_WORDS):
        return f"no address and no word saying why (one of {NO_ADDRESS_WORDS})"
    return None


def problems(rows: list[dict]) -> list[str]:
    """Every way the rows break the format, one line each (line numbers count the header)."""
    out, seen = [], {}
    for line, r in enumerate(rows, start=2):
        where = f"line {line} ({r['indicator']} {r['year']})"
        if r["status"] not in STATUSES:
            out.append(f"{where}: status {r['status']!r} not in the vocabulary")
        try:
            year = int(r["year"])
            float(r["value"])
        except ValueError:
            out.append(f"{where}: year or value is not a number")
            continue
        as_of = None
        if r["as_of"]:
            try:
                as_of = dt.date.fromisoformat(r["as_of"])
            except ValueError:
                out.append(f"{where}: as_of {r['as_of']!r} is not an ISO date")
            else:
                if as_of.year != year:
                    out.append(f"{where}: as_of {r['as_of']} is not in the row's year")
        if (r["indicator"] in FLOWS and as_of is not None and as_of < dt.date(year, 12, 31)
                and r["status"] not in ("lower_bound", "conflicting")):
            out.append(f"{where}: a part-year flow (as_of {as_of}) must be lower_bound")
        if year > LAST_OUTTURN_YEAR and r["status"] not in PLAN_STATUSES:
            out.append(f"{where}: status {r['status']} after {LAST_OUTTURN_YEAR} (only "
                       f"{sorted(PLAN_STATUSES)} may be)")
        why = _source_problem(r["source"])
        if why:
            out.append(f"{where}: source {r['source']!r}: {why}")
        if "unidentified" in r["source"] and "unidentified" not in r["note"]:
            out.append(f"{where}: the source is unidentified but the note does not say so")
        key = (r["indicator"], year, r["as_of"], r["status"])
        if key in seen:
            out.append(f"{where}: duplicate of line {seen[key]}")
        seen.setdefault(key, line)
    return out


def test_header_is_exactly_the_format():
    header, _ = _read()
    assert header == COLUMNS


def test_committed_rows_follow_the_format():
    _, rows = _read()
    assert len(rows) > 50
    assert problems(rows) == []


def test_every_status_used_is_in_the_vocabulary_and_plan_rows_are_kept_apart():
    _, rows = _read()
    used = {r["status"] for r in rows}
    assert used <= STATUSES
    # the 2028 targets are policy targets and the implied 2023 bases are implied, never sourced
    for r in rows:
        if r["indicator"].endswith("_target"):
            assert r["status"] == "policy_target", r
    implied = {(r["indicator"], r["year"]) for r in rows if r["status"] == "implied"}
    assert implied == {(i, "2023") for i in ("tech_firms", "rd_expenditure", "platforms",
                                              "tech_contract_turnover", "tech_brokers")}


GOOD = {"indicator": "tech_contract_turnover", "year": "2022", "value": "395", "unit": "亿元",
        "status": "lower_bound", "as_of": "",
        "source": "Some site (example.org), \"a title\", 2023-09-05, https://example.org/a",
        "note": "突破395亿元"}


@pytest.mark.parametrize("change, expected", [
    ({"status": "sourced lower bound"}, "not in the vocabulary"),
    ({"as_of": "2022-13-01"}, "not an ISO date"),
    ({"as_of": "2021-06-30"}, "not in the row's year"),
    ({"as_of": "2022-06-30", "status": "sourced"}, "must be lower_bound"),
    ({"year": "2024", "as_of": "", "status": "sourced"}, "after 2023"),
    ({"source": "simu001"}, "bare slug"),
    ({"source": "ajunews, a report on R&D in Qingdao, no date given here"}, "no date"),
    ({"source": "qingdaonews, a report on tech SMEs in Qingdao, 2022-09-27"}, "no address"),
    ({"source": "unidentified web page cited as 'ouhua 2017-11-23' in an earlier file"},
     "note does not say so"),
    ({"source": "unidentified", "note": "source unidentified"}, "not how it was cited"),
])
def test_each_check_catches_its_fault(change, expected):
    assert problems([GOOD]) == []
    found = problems([{**GOOD, **change}])
    assert any(expected in p for p in found), found


def test_duplicates_are_caught():
    assert any("duplicate" in p for p in problems([GOOD, dict(GOOD)]))
    # the same figure at another date or with another status is not a duplicate
    assert problems([GOOD, {**GOOD, "as_of": "2022-06-30"}, {**GOOD, "status": "projection"}]) == []
