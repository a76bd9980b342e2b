"""A changed personnummer: the officer links the old number to the new, and both are one person.

Deliveries made under either number, before the link and after it, count as
the same person in the statistics database; an extract of either number
shows both.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.ledger.models import Intervention, Person, Transaction
from inuk.vault.pseudonymize import find, reidentify
from tests.conftest import ANNA, ANNA_SAMORDNING, BO, insats
from tests.identity.conftest import PURPOSE

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

URL = reverse("identity:link")


def link(client: Client, old: str = ANNA_SAMORDNING, new: str = ANNA):
    return client.post(URL, {"old": old, "new": new, **PURPOSE})


def persons_counted() -> int:
    """Distinct persons in the current state: what the statistics count."""
    return Intervention.objects.current().values("person").distinct().count()


def test_deliveries_under_the_old_and_the_new_number_count_as_one_person(
    officer: Client, deliver_person
) -> None:
    deliver_person(ANNA_SAMORDNING, insats("SYV", start="20240105"))
    deliver_person(ANNA, insats("KAR", start="20240301", at="2024-03-01 10:00:00"))
    assert persons_counted() == 2
    old_pseudonym, new_pseudonym = find(ANNA_SAMORDNING), find(ANNA)

    response = link(officer)

    assert response.status_code == 200
    assert find(ANNA) == find(ANNA_SAMORDNING) == old_pseudonym
    assert sorted(reidentify(old_pseudonym)) == sorted([ANNA_SAMORDNING, ANNA])
    assert persons_counted() == 1
    assert list(Person.objects.values_list("pseudonym", flat=True)) == [old_pseudonym]
    codes = set(Intervention.objects.current().values_list("code", flat=True))
    assert codes == {"SYV", "KAR"}
    entry = Entry.objects.get(event=Event.IDENTITY_LINKED)
    assert (entry.target, entry.details["merged"]) == (old_pseudonym, new_pseudonym)


def test_the_person_is_then_described_by_the_new_number(officer: Client, deliver_person) -> None:
    deliver_person(ANNA_SAMORDNING)
    assert Person.objects.get().coordination_number
    link(officer)
    person = Person.objects.get()
    assert (person.birth_year, person.sex, person.coordination_number) == (1999, "K", False)


def test_later_deliveries_under_either_number_are_the_same_person(
    officer: Client, deliver_person
) -> None:
    deliver_person(ANNA_SAMORDNING, insats("SYV"))
    link(officer)
    deliver_person(ANNA, insats("KAR", start="20240301", at="2024-03-01 10:00:00"))
    deliver_person(ANNA_SAMORDNING, insats("MOT", start="20240401", at="2024-04-01 10:00:00"))
    assert Person.objects.count() == 1
    assert Transaction.objects.values("person").distinct().count() == 1
    assert persons_counted() == 1


def test_linking_twice_changes_nothing_more(officer: Client, deliver_person) -> None:
    deliver_person(ANNA_SAMORDNING)
    deliver_person(ANNA)
    link(officer)
    before = set(Intervention.objects.values_list("person__pseudonym", "code", "start"))
    assert link(officer).status_code == 200
    assert set(Intervention.objects.values_list("person__pseudonym", "code", "start")) == before


def test_a_number_linked_to_itself_is_refused_and_nothing_changes(officer: Client) -> None:
    response = link(officer, ANNA, ANNA)
    assert response.status_code == 400
    assert find(ANNA) is None
    assert not Entry.objects.filter(event=Event.IDENTITY_LINKED).exists()


def test_a_wrong_number_is_refused_and_nothing_changes(officer: Client, deliver_person) -> None:
    deliver_person(BO)
    response = link(officer, BO, BO[:-1] + str((int(BO[-1]) + 1) % 10))
    assert response.status_code == 400
    assert reidentify(find(BO)) == [BO]


def test_the_api_links_too(officer: Client, deliver_person) -> None:
    deliver_person(ANNA_SAMORDNING)
    deliver_person(ANNA)
    old_pseudonym, new_pseudonym = find(ANNA_SAMORDNING), find(ANNA)
    response = officer.post(
        reverse("api-1:identity-link"),
        {"old": ANNA_SAMORDNING, "new": ANNA, **PURPOSE},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {"pseudonym": old_pseudonym, "merged": new_pseudonym}
    assert persons_counted() == 1
