"""Synthetic deliveries: realistic, valid, reproducible, and as large as wanted."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from personnummer import personnummer as oracle
from stdnum.se import personnummer as stdnum_personnummer

from inuk.format import municipalities, synthetic
from inuk.format.readers import open_delivery
from inuk.format.records import INTERVENTION, RESULT
from inuk.format.validation import Context, validate
from inuk.format.writers import to_bytes, write_xml
from tests.conftest import GOTEBORG_CODE, VASBY_CODE, VASBY_ORGNR

TODAY = dt.date(2026, 3, 15)
RECEIVED = dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC)


def transactions(kommuner):
    for kommun in kommuner:
        for person in kommun.persons:
            for kind, t in person.transactions():
                yield kommun, person, kind, t


def test_personnummer_have_the_right_check_digit():
    assert synthetic.personnummer(dt.date(1988, 12, 12), 38) == "198812120387"  # the annex's
    number = synthetic.personnummer(dt.date(2001, 3, 14), 237)
    assert stdnum_personnummer.is_valid(number)
    coordination = synthetic.personnummer(dt.date(2001, 3, 14), 237, coordination=True)
    assert coordination[6:8] == "74"
    assert oracle.valid(coordination)
    assert oracle.Personnummer(coordination).is_coordination_number()


def test_the_same_seed_gives_the_same_file_and_another_seed_another():
    def made(seed):
        return to_bytes(
            "xml",
            synthetic.delivery(
                synthetic.municipality(VASBY_CODE), persons=50, seed=seed, today=TODAY
            ),
        )

    assert made(1) == made(1)
    assert made(1) != made(2)


def test_a_delivery_can_be_written_twice_alike():
    kommuner = synthetic.delivery(
        synthetic.municipality(VASBY_CODE), persons=30, seed=3, today=TODAY
    )
    assert to_bytes("csv", kommuner) == to_bytes("csv", kommuner)


def test_it_has_the_size_asked_for():
    kommuner = synthetic.delivery(
        synthetic.municipality("0180"), persons=300, transactions_per_person=4, seed=1, today=TODAY
    )
    assert sum(len(k.persons) for k in kommuner) == 300
    assert sum(1 for _ in transactions(kommuner)) == 1200


def test_a_municipality_delivers_its_own_kommunkod_with_its_orgnr():
    (kommun,) = synthetic.delivery(synthetic.municipality(VASBY_CODE), persons=5, today=TODAY)
    assert (kommun.orgnr, kommun.kommunkod) == (VASBY_ORGNR, VASBY_CODE)


def test_af_delivers_for_many_municipalities():
    kommuner = synthetic.delivery(synthetic.arbetsformedlingen(), persons=1000, seed=2, today=TODAY)
    assert {k.orgnr for k in kommuner} == {municipalities.AF_ORGNR}
    assert len({k.kommunkod for k in kommuner}) == 290
    assert {t.system for _, _, _, t in transactions(kommuner)} == {synthetic.AF_SYSTEM}


def test_persons_are_16_to_35_unique_and_some_have_samordningsnummer():
    kommuner = synthetic.delivery(
        synthetic.arbetsformedlingen([VASBY_CODE, "0180"]),
        persons=5000,
        transactions_per_person=1,
        seed=5,
        today=TODAY,
    )
    numbers = [p.personnummer for k in kommuner for p in k.persons]
    assert len(set(numbers)) == 5000
    coordination = 0
    for number in numbers:
        assert oracle.valid(number)
        parsed = oracle.Personnummer(number)
        coordination += parsed.is_coordination_number()
        born = parsed.get_date()
        age = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
        assert 16 <= age <= 35
    assert 50 <= coordination <= 175  # about 2 %


@pytest.mark.slow  # a large synthetic delivery: seconds
def test_every_transaction_is_valid_and_plausible():
    kommuner = synthetic.delivery(
        synthetic.municipality(GOTEBORG_CODE), persons=2000, seed=11, today=TODAY
    )
    data = to_bytes("xml", kommuner)
    _, items = open_delivery(io.BytesIO(data), max_bytes=len(data))
    checked = list(validate(items, Context(received_at=RECEIVED)))
    assert [p.code for c in checked for p in c.problems] == []
    starts = Counter()
    ended = ongoing = 0
    for _, person, kind, t in transactions(kommuner):
        start = dt.datetime.strptime(t.start, "%Y%m%d").date()
        assert TODAY - dt.timedelta(days=3 * 365) <= start < TODAY
        assert dt.datetime.fromisoformat(t.transaktionsdatum) < dt.datetime.combine(
            TODAY, dt.time()
        )
        if kind == INTERVENTION:
            starts[(person.personnummer, t.code, t.start)] += 1
            if t.end is None:
                ongoing += 1
            else:
                ended += 1
                assert t.start <= t.end < TODAY.strftime("%Y%m%d")
        else:
            first = min(i.start for i in person.interventions)
            assert t.start >= first
    assert max(starts.values()) == 1  # each intervention its own identity
    assert 0.05 < ongoing / (ongoing + ended) < 0.3


def test_results_are_a_share_of_the_transactions():
    kommuner = synthetic.delivery(
        synthetic.municipality(VASBY_CODE), persons=500, seed=4, today=TODAY
    )
    kinds = Counter(kind for _, _, kind, _ in transactions(kommuner))
    assert 0.15 < kinds[RESULT] / (kinds[RESULT] + kinds[INTERVENTION]) < 0.4


@pytest.mark.slow  # a large synthetic delivery: seconds
def test_changed_alters_about_one_percent_by_andring_keeping_identities():
    original = synthetic.delivery(
        synthetic.municipality(VASBY_CODE), persons=4000, seed=8, today=TODAY
    )
    changed = synthetic.changed(original, seed=8, today=TODAY)
    pairs = list(zip(transactions(original), transactions(changed), strict=True))
    different = [(a, b) for a, b in pairs if a[3] != b[3]]
    assert 0.005 * len(pairs) < len(different) < 0.02 * len(pairs)
    latest = dt.datetime.combine(TODAY, dt.time())
    for (_, person_a, kind, before), (_, person_b, _, after) in different:
        assert person_a.personnummer == person_b.personnummer
        assert (after.status, after.code, after.start) == ("Ändring", before.code, before.start)
        assert before.transaktionsdatum < after.transaktionsdatum
        assert dt.datetime.fromisoformat(after.transaktionsdatum) < latest
        if kind == INTERVENTION:
            assert after.end is not None and after.end != before.end
            assert after.start <= after.end < TODAY.strftime("%Y%m%d")
        else:
            assert after.system != before.system


def test_a_changed_delivery_is_valid():
    original = synthetic.delivery(
        synthetic.municipality(VASBY_CODE), persons=1000, seed=9, today=TODAY
    )
    data = to_bytes("json", synthetic.changed(original, share=0.2, seed=9, today=TODAY))
    _, items = open_delivery(io.BytesIO(data), max_bytes=len(data))
    checked = list(validate(items, Context(received_at=RECEIVED)))
    assert [p.code for c in checked for p in c.problems] == []


def test_an_unknown_kommunkod_is_refused():
    with pytest.raises(ValueError, match="no municipality"):
        synthetic.municipality("9999")


@pytest.mark.slow
def test_a_million_transactions_stream_to_disk_quickly_in_little_memory(tmp_path):
    import resource
    import time

    kommuner = synthetic.delivery(synthetic.municipality("0180"), persons=200_000, seed=1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    with open(tmp_path / "large.xml", "wb") as out:
        write_xml(kommuner, out)
    elapsed = time.process_time() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert (tmp_path / "large.xml").stat().st_size > 300_000_000
    assert elapsed < 30
    assert grown_mb < 50
