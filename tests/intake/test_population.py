"""The demo's population: two believable years of monthly deliveries, the same every time."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict

import pytest

from inuk.format import municipalities
from inuk.format.identifiers import parse_personnummer
from inuk.format.records import INTERVENTION, RESULT
from inuk.intake import population

TODAY = dt.date(2026, 6, 20)


@pytest.fixture(scope="module")
def plan() -> population.Plan:
    return population.plan(TODAY)


def municipal(plan):
    """(file, block, person, kind, transaction) of the municipalities' own files."""
    return [
        row
        for row in population.iter_transactions(plan.deliveries)
        if row[0].orgnr != municipalities.AF_ORGNR
    ]


def final_interventions(rows):
    """Each intervention's last state: {(kommunkod, personnummer, code, start): end}."""
    latest = {}
    for _, kommun, person, kind, t in sorted(rows, key=lambda row: row[4].transaktionsdatum):
        if kind != INTERVENTION or t.status not in ("Registrering", "Ändring", "Borttag"):
            continue
        if not t.start.isdigit() or t.start[6:] > "31" or (t.end and t.end < t.start):
            continue  # broken on purpose
        key = (kommun.kommunkod, person.personnummer, t.code, t.start)
        if t.status == "Borttag":
            latest.pop(key, None)
        else:
            latest[key] = t.end
    return latest


def days(yyyymmdd: str) -> int:
    return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])).toordinal()


def test_the_same_month_gives_the_same_files_byte_for_byte():
    first = population.plan(TODAY, scale=0.1)
    again = population.plan(TODAY, scale=0.1)
    assert [d.filename for d in first.deliveries] == [d.filename for d in again.deliveries]
    assert [d.data() for d in first.deliveries] == [d.data() for d in again.deliveries]
    later = population.plan(dt.date(2026, 7, 1), scale=0.1)
    assert later.months[-1] == dt.date(2026, 6, 1)
    assert later.deliveries[0].data() != first.deliveries[0].data()


def test_the_months_are_the_last_24_complete_ones():
    assert population.months(TODAY) == [
        dt.date(2024 + (5 + i) // 12, (5 + i) % 12 + 1, 1) for i in range(24)
    ]
    assert population.months(TODAY)[-1] == dt.date(2026, 5, 1)


@pytest.mark.slow  # the demo's whole plan: seconds
def test_every_month_is_delivered_but_the_late_municipalitys_latest(plan):
    delivered = defaultdict(set)
    for delivery in plan.deliveries:
        sender = "af" if delivery.orgnr == municipalities.AF_ORGNR else delivery.kommunkoder[0]
        delivered[sender].add(delivery.month)
        assert delivery.arrival.date() > delivery.month.replace(day=28)  # in the month after
        assert delivery.arrival.day <= 14  # before the 15th: the month counts as delivered
    assert len(plan.kommunkoder) == 12
    for kommunkod in plan.kommunkoder:
        expected = set(plan.months) - ({plan.months[-1]} if kommunkod == plan.late else set())
        assert delivered[kommunkod] == expected, kommunkod
    assert delivered["af"] == set(plan.months)


def test_the_demo_is_sized_to_load_quickly_and_sized_by_municipality(plan):
    persons = defaultdict(set)
    for _, kommun, person, _, _ in municipal(plan):
        persons[kommun.kommunkod].add(person.personnummer)
    total = len(set().union(*persons.values()))
    assert 3000 <= total <= 6000
    assert 20_000 <= plan.transactions() <= 40_000
    assert len(persons["0180"]) > 10 * len(persons["1438"])  # Stockholm and Dals-Ed
    assert len(persons["1480"]) > 1.5 * len(persons["0380"]) > 3 * len(persons["2281"])


def test_starts_peak_in_autumn_and_winter_and_dip_in_summer(plan):
    starts = Counter(int(start[4:6]) for (_, _, _, start) in final_interventions(municipal(plan)))
    summer = (starts[6] + starts[7]) / 2
    assert (starts[8] + starts[9]) / 2 > 1.8 * summer
    assert (starts[1] + starts[2]) / 2 > 1.8 * summer


@pytest.mark.slow  # the demo's whole plan: seconds
def test_interventions_last_as_long_as_their_kind_usually_does(plan):
    lengths = defaultdict(list)
    for (_, _, code, start), end in final_interventions(municipal(plan)).items():
        if end is not None:
            lengths[code].append(days(end) - days(start))
    assert statistics.median(lengths["KAR"]) < 60  # weeks
    assert statistics.median(lengths["SYV"]) < 40
    assert 60 < statistics.median(lengths["PRA"]) < 180  # months
    assert 90 < statistics.median(lengths["ATR"]) < 240
    assert 100 < statistics.median(lengths["UTB"]) < 200  # a term
    ongoing = [end for end in final_interventions(municipal(plan)).values() if end is None]
    assert ongoing  # some are still going on at the end of the last month


def test_results_start_during_an_intervention_or_within_90_days_of_its_end(plan):
    spans = defaultdict(list)
    for (kommunkod, number, _, start), end in final_interventions(municipal(plan)).items():
        if end is not None:
            spans[kommunkod, number].append((days(start), days(end)))
    codes = Counter()
    for _, kommun, person, kind, t in municipal(plan):
        if kind == RESULT:
            codes[t.code] += 1
            start = days(t.start)
            assert any(
                first <= start <= end + 90
                for first, end in spans[kommun.kommunkod, person.personnummer]
            )
    assert codes.most_common(1)[0][0] == "ARB"
    assert {"ARB", "STU", "AMS", "AFI", "AVB"} <= set(codes)


def test_corrections_come_as_andring_and_borttag_in_later_files(plan):
    statuses = Counter(t.status for _, _, _, _, t in municipal(plan))
    assert statuses["Ändring"] > 1000
    assert statuses["Borttag"] > 20
    first_seen = {}
    later = 0
    for delivery, kommun, person, kind, t in municipal(plan):
        key = (kommun.kommunkod, person.personnummer, kind, t.code, t.start)
        first_seen.setdefault(key, delivery.month)
        if t.status in ("Ändring", "Borttag") and first_seen[key] < delivery.month:
            later += 1
    assert later > 1000


def test_a_few_broken_transactions_a_month_and_only_those(plan):
    broken = sum(1 for d in plan.deliveries if d.invalid)
    assert 0.2 * len(plan.deliveries) < broken < 0.5 * len(plan.deliveries)
    assert all(d.invalid <= 3 for d in plan.deliveries)
    for delivery in plan.deliveries:
        found = 0
        for _, _, _, _, t in population.iter_transactions([delivery]):
            bad_status = t.status not in ("Registrering", "Ändring", "Borttag")
            bad_code = t.code == "SVY"
            bad_date = t.start[6:] > "31"
            bad_end = t.end is not None and t.end < t.start
            found += bad_status or bad_code or bad_date or bad_end
        assert found == delivery.invalid


def test_personnummer_are_valid_some_are_samordningsnummer_and_most_are_young(plan):
    numbers = {person.personnummer for _, _, person, _, _ in municipal(plan)}
    parsed = [parse_personnummer(number, TODAY) for number in numbers]
    coordination = sum(p.coordination for p in parsed)
    assert 0.01 * len(parsed) < coordination < 0.05 * len(parsed)
    men = sum(p.sex == "M" for p in parsed)
    assert 0.5 < men / len(parsed) < 0.6
    first_start = {}
    for _, _, person, kind, t in municipal(plan):
        if kind == INTERVENTION and t.start.isdigit():
            first_start[person.personnummer] = min(
                first_start.get(person.personnummer, t.start), t.start
            )
    ages = [
        int(first_start[p.canonical][:4]) - p.birth_year
        for p in parsed
        if p.canonical in first_start
    ]
    young = sum(16 <= age <= 30 for age in ages)
    assert young > 0.85 * len(ages)
    assert any(age > 30 for age in ages)
    assert min(ages) >= 16


def test_af_delivers_interventions_for_some_of_the_same_persons(plan):
    own = {(k.kommunkod, p.personnummer) for _, k, p, _, _ in municipal(plan)}
    af = {
        (k.kommunkod, p.personnummer)
        for d, k, p, _, _ in population.iter_transactions(plan.deliveries)
        if d.orgnr == municipalities.AF_ORGNR
    }
    assert af <= own
    assert 0.2 * len(own) < len(af) < 0.5 * len(own)


def test_a_full_resend_carries_earlier_transactions_as_known(plan):
    full = [d for d in plan.deliveries if d.full and d.known]
    assert full
    for delivery in full:
        earlier = [
            d for d in plan.deliveries if d.orgnr == delivery.orgnr and d.month < delivery.month
        ]
        assert delivery.known == sum(d.transactions - d.invalid - d.known for d in earlier)
