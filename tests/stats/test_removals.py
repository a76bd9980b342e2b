"""After a withdrawal, an erasure or a retention run the statistics are a fresh ingest's.

SPEC §11's proof, carried over from the state to the statistics: Hypothesis
draws small ledgers (``test_rollups.ledgers``: a few persons in three
municipalities and AF, Ändring and Borttag, results, deliveries in a random
order), applies them as the pipeline does with the rollups kept as they go,
and then withdraws a delivery, erases a person or runs retention. What is
left (the state, every rollup cell and length row that is not zero, the
coverage of each municipality, and the engine's answers: participants and
results by sex, for each municipality, a county and the country) must equal
what a fresh database gives that only ever received the remaining
deliveries (without the erased person, without the transactions retention
removes) and built its rollups from them.

Record keys are random where the pipeline makes them; here every person has
the same key in both databases (chosen by name), so that key sums and cell
keys compare too. A delivery has the same receipt time in both, so that the
coverage does.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.format.synthetic import personnummer
from inuk.intake.erasure import erase_person
from inuk.intake.models import Delivery
from inuk.intake.retention import run as retention
from inuk.ledger.bulk import LedgerRow, PersonRow, apply_delivery
from inuk.ledger.models import Person, Transaction
from inuk.ledger.withdrawal import withdraw
from inuk.stats import engine, rollups
from inuk.stats.models import Coverage, Length, Rollup
from inuk.stats.query import Query
from inuk.vault.pseudonymize import find, pseudonymize
from tests.conftest import GOTEBORG_CODE, VALLENTUNA_CODE, VASBY_CODE
from tests.stats.conftest import PEOPLE, TODAY, Book
from tests.stats.test_rollups import PERSONS, ledgers

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

Deliveries = list[tuple[str, list[LedgerRow]]]

#: A personnummer for each person the drawn ledgers name (erasure starts from one).
NUMBERS = {name: personnummer(dt.date(2000, 1, i + 1), 123) for i, name in enumerate(PERSONS)}
#: Each person's record key, the same in every database.
KEYS = {name: (i + 1) * 1_000_003 for i, name in enumerate(PERSONS)}
#: When the deliveries were received: the n-th drawn one at minute n.
RECEIVED = dt.datetime(2024, 2, 10, tzinfo=dt.UTC)

GEOGRAPHIES = [VASBY_CODE, VALLENTUNA_CODE, GOTEBORG_CODE, "01", "SE"]
PERIODS = ("2024-01", "2024-02", "2024-Q1", "2024")
QUESTIONS = [(indicator, period) for indicator in ("participants", "results") for period in PERIODS]

_checksums = itertools.count(1)


class Database:
    """One database state, with persons under the names the drawn ledger uses."""

    def __init__(self, book: Book, pseudonyms: dict[str, str]) -> None:
        self.book = book
        self.pseudonyms = pseudonyms
        self.names = {pseudonym: name for name, pseudonym in pseudonyms.items()}
        self.deliveries: dict[int, int] = {}  # drawn number -> delivery id

    def apply(self, number: int, deliverer: str, rows: list[LedgerRow], *, rolled: bool) -> None:
        """Apply the ``number``-th drawn delivery as ``intake.processing.Run.apply`` does."""
        organisation = getattr(self.book, deliverer)
        rows = [
            row._replace(
                position=position,
                organisation_id=organisation.pk,
                pseudonym=self.pseudonyms[row.pseudonym],
            )
            for position, row in enumerate(rows)
        ]
        names = sorted({self.names[row.pseudonym] for row in rows})
        for name in names:
            birth_year, sex, coordination = PEOPLE[name]
            Person.objects.get_or_create(
                pseudonym=self.pseudonyms[name],
                defaults={
                    "birth_year": birth_year,
                    "sex": sex,
                    "coordination_number": coordination,
                    "record_key": KEYS[name],
                },
            )
        delivery = Delivery.objects.create(
            organisation=organisation,
            received_at=RECEIVED + dt.timedelta(minutes=number),
            checksum=f"{next(_checksums):064x}",
            size=1,
        )
        self.deliveries[number] = delivery.pk
        persons = [PersonRow(self.pseudonyms[name], *PEOPLE[name]) for name in names]
        with transaction.atomic():
            apply_delivery(delivery.pk, persons, rows)
            if rolled:
                rollups.delivery_applied(delivery.pk)

    def statistics(self) -> tuple:
        """The state and the statistics, with the persons' names put back."""
        answers = [
            engine.compute(
                Query.parse(
                    indicator=indicator, period=period, geographies=GEOGRAPHIES, by=["sex"]
                ),
                today=TODAY,
            )
            for indicator, period in QUESTIONS
        ]
        assert {answer.origin for answer in answers} == {"rollup"}
        cells = {
            row.pk: (row.count, row.persons, row.key_sum)
            for row in Rollup.objects.all()
            if (row.count, row.persons, row.key_sum) != (0, 0, 0)
        }
        lengths = {row.pk: row.count for row in Length.objects.all() if row.count}
        coverage = dict(Coverage.objects.values_list("kommunkod", "last_received"))
        state = tuple(
            {tuple(self.names.get(value, value) for value in record) for record in records}
            for records in (self.book.interventions(), self.book.results())
        )
        return state, cells, lengths, coverage, [answer.cells for answer in answers]


def after(
    book: Book,
    deliveries: Deliveries,
    then: Callable[[Database], None] | None = None,
    *,
    vault: bool = False,
) -> tuple:
    """The statistics after ``deliveries`` and ``then``; nothing of it is kept.

    With ``then`` the rollups are kept as the deliveries arrive (as in
    service) and ``then`` removes something; without, the deliveries are a
    fresh ingest and the rollups are built from the state at the end.
    """
    with transaction.atomic(), transaction.atomic(using="vault"):
        if vault:  # persons as the vault names them, as erasure needs
            known = pseudonymize(NUMBERS.values())
            pseudonyms = {name: known[number] for name, number in NUMBERS.items()}
        else:
            pseudonyms = {name: name for name in PERSONS}
        database = Database(book, pseudonyms)
        if then is not None:
            rollups.rebuild(TODAY)
        for number, (deliverer, rows) in enumerate(deliveries):
            if rows:
                database.apply(number, deliverer, rows, rolled=then is not None)
        if then is None:
            rollups.rebuild(TODAY)
        else:
            then(database)
        statistics = database.statistics()
        transaction.set_rollback(True, using="vault")
        transaction.set_rollback(True)
    return statistics


SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.slow
@SETTINGS
@given(ledgers(), st.data())
def test_after_a_withdrawal_the_statistics_are_a_fresh_ingest_of_the_rest(book, drawn, data):
    deliveries, _ = drawn
    withdrawn = data.draw(st.sets(st.sampled_from(range(len(deliveries))), min_size=1))

    def withdraw_them(database: Database) -> None:
        for number in sorted(withdrawn):
            with transaction.atomic():
                withdraw(database.deliveries[number], reason="test")

    remaining = [d if i not in withdrawn else (d[0], []) for i, d in enumerate(deliveries)]
    assert after(book, deliveries, withdraw_them) == after(book, remaining)


@pytest.mark.slow
@SETTINGS
@given(ledgers(), st.sampled_from(PERSONS))
def test_after_an_erasure_the_statistics_are_a_fresh_ingest_without_the_person(book, drawn, erased):
    deliveries, _ = drawn

    def erase(database: Database) -> None:
        erase_person(NUMBERS[erased], reason="test", case_number="Af-1", actor="test")
        assert find(NUMBERS[erased]) is None
        assert not Person.objects.filter(pseudonym=database.pseudonyms[erased]).exists()

    without = [
        (deliverer, [row for row in rows if row.pseudonym != erased])
        for deliverer, rows in deliveries
    ]
    assert after(book, deliveries, erase, vault=True) == after(book, without, vault=True)


@pytest.mark.slow
@SETTINGS
@given(ledgers(), st.integers(0, 40))
def test_after_retention_the_statistics_are_a_fresh_ingest_without_the_old_transactions(
    book, settings, drawn, day
):
    """The drawn transactions fall in 2024-01-01..2024-02-04; the limit falls among them.

    Retention removes each transaction older than the limit, counting or not,
    and derives each touched person's state from what is left: exactly what
    the deliveries give without those transactions. (Kept files go too, by
    their receipt time; the drawn deliveries have none.)
    """
    deliveries, _ = drawn
    settings.INUK_RETENTION_YEARS = 1
    limit = dt.date(2024, 1, 1) + dt.timedelta(days=day)
    now = timezone.make_aware(dt.datetime.combine(limit.replace(year=2025), dt.time(12)))
    limit_at = timezone.make_aware(dt.datetime.combine(limit, dt.time()))

    def apply_retention(database: Database) -> None:
        report = retention(now=now, actor="test")
        assert report.transactions_before == limit.isoformat()
        assert not Transaction.objects.filter(transaction_time__lt=limit_at).exists()

    recent = [
        (deliverer, [row for row in rows if row.transaction_time >= limit_at])
        for deliverer, rows in deliveries
    ]
    assert after(book, deliveries, apply_retention) == after(book, recent)
