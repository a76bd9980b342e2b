"""Pseudonymizing personnummer, and the identity officer's way back."""

from __future__ import annotations

import logging
import re
import sys

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.views.debug import ExceptionReporter

from inuk.vault import pseudonymize as module
from inuk.vault.keys import DecryptionError
from inuk.vault.models import Identity
from inuk.vault.pseudonymize import (
    LinkConflict,
    NotCanonical,
    erase,
    find,
    history,
    link,
    link_merging,
    pseudonymize,
    reidentify,
)
from tests.conftest import many_personnummer
from tests.vault.conftest import leaks

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

ANNA, BO, CARL, DORA = many_personnummer(4, seed=1)


def test_a_pseudonym_is_128_random_bits_in_hex():
    pseudonym = pseudonymize([ANNA])[ANNA]
    assert re.fullmatch(r"[0-9a-f]{32}", pseudonym)


def test_the_same_number_gets_the_same_pseudonym_every_time():
    first = pseudonymize([ANNA, ANNA])
    second = pseudonymize([BO, ANNA])
    assert first == {ANNA: second[ANNA]}
    assert Identity.objects.count() == 2


def test_different_numbers_get_different_pseudonyms():
    numbers = many_personnummer(500, seed=2)
    result = pseudonymize(numbers)
    assert set(result) == set(numbers)
    assert len(set(result.values())) == 500


def test_the_pseudonym_is_not_derived_from_the_number(keyring_text):
    first = pseudonymize([ANNA])[ANNA]
    erase(first)
    # The same keys, a vault that forgot the person: a new draw.
    assert pseudonymize([ANNA])[ANNA] != first


def test_two_vaults_with_different_keys_give_different_pseudonyms(settings):
    from inuk.vault.keys import generate

    settings.INUK_VAULT_KEY = generate()
    first = pseudonymize([ANNA])[ANNA]
    Identity.objects.all().delete()
    settings.INUK_VAULT_KEY = generate()
    assert pseudonymize([ANNA])[ANNA] != first


def test_numbers_known_and_new_are_pseudonymized_together_across_batches(monkeypatch):
    monkeypatch.setattr(module, "BATCH_SIZE", 7)
    known = many_personnummer(20, seed=3)
    before = pseudonymize(known)
    mixed = known[::2] + many_personnummer(30, seed=4)
    after = pseudonymize(mixed)
    assert set(after) == set(mixed)
    assert all(after[number] == before[number] for number in known[::2])
    assert len(set(after.values())) == len(set(mixed))
    assert Identity.objects.count() == len(set(known) | set(mixed))


def test_known_numbers_take_one_select_per_batch(monkeypatch):
    monkeypatch.setattr(module, "BATCH_SIZE", 10)
    numbers = many_personnummer(35, seed=5)
    pseudonymize(numbers)
    with CaptureQueriesContext(connections["vault"]) as queries:
        pseudonymize(numbers)
    assert len(queries) == 4


def test_a_number_added_meanwhile_by_another_process_keeps_that_process_pseudonym(monkeypatch):
    """The race of two processes, made certain: the first look-up misses a number just added."""
    theirs = pseudonymize([ANNA])[ANNA]
    real = module._pseudonyms_of
    calls = []

    def blind_first_time(lookups):
        calls.append(len(lookups))
        return {} if len(calls) == 1 else real(lookups)

    monkeypatch.setattr(module, "_pseudonyms_of", blind_first_time)
    ours = pseudonymize([ANNA, BO])
    assert ours[ANNA] == theirs
    assert Identity.objects.filter(pseudonym=theirs).count() == 1
    assert Identity.objects.count() == 2
    assert reidentify(theirs) == [ANNA]


def test_it_refuses_a_number_that_is_not_canonical_without_repeating_it():
    for bad in ("19900101-2389", "9001012389", "19900101238X", "１９９００１０１２３８９"):
        with pytest.raises(NotCanonical) as refused:
            pseudonymize([ANNA, bad])
        assert "value 1" in str(refused.value)
        assert bad not in str(refused.value)
        assert "900101" not in str(refused.value)
    assert Identity.objects.count() == 0


def test_find_gives_the_pseudonym_of_a_known_number_only():
    pseudonym = pseudonymize([ANNA])[ANNA]
    assert find(ANNA) == pseudonym
    assert find(BO) is None


def test_reidentify_gives_the_number_back():
    pseudonym = pseudonymize([ANNA])[ANNA]
    assert reidentify(pseudonym) == [ANNA]
    assert reidentify("0" * 32) == []


def test_link_adds_a_corrected_number_to_the_person():
    pseudonym = pseudonymize([ANNA])[ANNA]
    assert link(ANNA, BO) == pseudonym
    assert find(BO) == pseudonym
    assert pseudonymize([ANNA, BO]) == {ANNA: pseudonym, BO: pseudonym}
    assert reidentify(pseudonym) == [ANNA, BO]


def test_link_works_whichever_of_the_two_is_known():
    pseudonym = pseudonymize([BO])[BO]
    assert link(ANNA, BO) == pseudonym
    assert reidentify(pseudonym) == [BO, ANNA]


def test_link_of_two_unknown_numbers_makes_one_new_person():
    pseudonym = link(ANNA, BO)
    assert find(ANNA) == find(BO) == pseudonym
    assert sorted(reidentify(pseudonym)) == sorted([ANNA, BO])


def test_link_again_changes_nothing():
    pseudonym = link(ANNA, BO)
    assert link(BO, ANNA) == pseudonym
    assert Identity.objects.count() == 2


def test_link_refuses_numbers_of_two_different_persons():
    pseudonyms = pseudonymize([ANNA, BO])
    with pytest.raises(LinkConflict) as refused:
        link(ANNA, BO)
    assert not re.search(r"\d{6}", str(refused.value))
    assert find(ANNA) == pseudonyms[ANNA]
    assert find(BO) == pseudonyms[BO]


def test_link_refuses_a_number_to_itself():
    with pytest.raises(ValueError, match="itself"):
        link(ANNA, ANNA)


def test_link_merging_moves_the_new_numbers_person_into_the_old_numbers():
    pseudonyms = pseudonymize([ANNA, BO])
    link(BO, CARL)  # Bo's person already has a second number
    linked = link_merging(ANNA, BO)
    assert linked == (pseudonyms[ANNA], pseudonyms[BO])
    assert find(BO) == find(CARL) == find(ANNA) == pseudonyms[ANNA]
    assert sorted(reidentify(pseudonyms[ANNA])) == sorted([ANNA, BO, CARL])
    assert reidentify(pseudonyms[BO]) == []


def test_link_merging_of_numbers_not_both_known_merges_no_one():
    pseudonym = pseudonymize([ANNA])[ANNA]
    assert link_merging(ANNA, BO) == (pseudonym, None)
    assert link_merging(ANNA, BO) == (pseudonym, None)
    assert sorted(reidentify(pseudonym)) == sorted([ANNA, BO])


def test_history_tells_when_each_number_became_known():
    pseudonym = pseudonymize([ANNA])[ANNA]
    link(ANNA, BO)
    numbers = history(pseudonym)
    assert [number for number, _ in numbers] == [ANNA, BO]
    assert numbers[0][1] <= numbers[1][1]


def test_erase_removes_every_number_of_the_person():
    pseudonym = link(ANNA, BO)
    other = pseudonymize([CARL])[CARL]
    assert erase(pseudonym) == 2
    assert find(ANNA) is None
    assert find(BO) is None
    assert reidentify(pseudonym) == []
    assert find(CARL) == other
    assert erase(pseudonym) == 0


def test_a_ciphertext_moved_to_another_row_fails_to_decrypt():
    pseudonyms = pseudonymize([ANNA, BO])
    anna = Identity.objects.get(pseudonym=pseudonyms[ANNA])
    Identity.objects.filter(pseudonym=pseudonyms[BO]).update(
        ciphertext=bytes(anna.ciphertext), key_version=anna.key_version
    )
    with pytest.raises(DecryptionError):
        reidentify(pseudonyms[BO])
    assert reidentify(pseudonyms[ANNA]) == [ANNA]


def test_a_ciphertext_moved_between_two_numbers_of_one_person_fails_to_decrypt():
    pseudonym = link(ANNA, BO)
    first, second = Identity.objects.filter(pseudonym=pseudonym).order_by("id")
    Identity.objects.filter(pk=second.pk).update(ciphertext=bytes(first.ciphertext))
    with pytest.raises(DecryptionError):
        reidentify(pseudonym)


def test_a_row_moved_to_another_person_fails_to_decrypt():
    pseudonyms = pseudonymize([ANNA, BO])
    Identity.objects.filter(pseudonym=pseudonyms[ANNA]).update(pseudonym=pseudonyms[BO])
    with pytest.raises(DecryptionError):
        reidentify(pseudonyms[BO])


def test_an_altered_ciphertext_or_key_version_fails_to_decrypt():
    pseudonym = pseudonymize([ANNA])[ANNA]
    row = Identity.objects.get()
    blob = bytearray(row.ciphertext)
    blob[20] ^= 1
    Identity.objects.filter(pk=row.pk).update(ciphertext=bytes(blob))
    with pytest.raises(DecryptionError):
        reidentify(pseudonym)
    Identity.objects.filter(pk=row.pk).update(ciphertext=bytes(row.ciphertext), key_version=99)
    with pytest.raises(DecryptionError):
        reidentify(pseudonym)


def test_the_vault_holds_no_number_in_clear():
    numbers = many_personnummer(50, seed=6)
    pseudonymize(numbers)
    assert Identity.objects.count() == 50
    assert leaks("vault", numbers) == []


def test_pseudonymizing_writes_no_number_to_the_statistics_database():
    numbers = many_personnummer(50, seed=7)
    pseudonyms = pseudonymize(numbers)
    link(numbers[0], DORA)
    assert find(DORA) == pseudonyms[numbers[0]]
    assert leaks("default", [*numbers, DORA]) == []
    tables = connections["default"].introspection.table_names()
    assert Identity._meta.db_table not in tables


def test_no_number_reaches_a_log_line(caplog):
    with caplog.at_level(logging.DEBUG):
        pseudonyms = pseudonymize([ANNA, BO])
        link(ANNA, CARL)
        reidentify(pseudonyms[ANNA])
        erase(pseudonyms[BO])
    text = "\n".join(record.getMessage() for record in caplog.records)
    for number in (ANNA, BO, CARL):
        assert number not in text
        assert number[2:] not in text


def test_an_error_report_from_inside_the_vault_shows_no_number(monkeypatch):
    def failing_insert(connection, values):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(module, "_executemany_insert", failing_insert)
    monkeypatch.setattr(module, "_copy_insert", failing_insert)
    try:
        pseudonymize([ANNA, BO])
    except RuntimeError:
        report = ExceptionReporter(None, *sys.exc_info())
        text = report.get_traceback_text()
        html = report.get_traceback_html()
    else:
        pytest.fail("the insert did not fail")
    assert "the database went away" in text
    for number in (ANNA, BO):
        assert number not in text
        assert number not in html


def test_a_pseudonym_is_never_one_the_masking_of_personnummer_would_cut(monkeypatch):
    """An audit entry names a person by pseudonym; masked, it would name no one."""
    from inuk.format.masking import redact
    from inuk.vault import pseudonymize

    draws = iter(["e211f0f0a8812120387b00000000abcd", "0123456789abcdef0123456789abcdef"])
    monkeypatch.setattr(pseudonymize.secrets, "token_hex", lambda n: next(draws))
    assert pseudonymize.new_pseudonym() == "0123456789abcdef0123456789abcdef"
    monkeypatch.undo()
    for _ in range(2000):
        pseudonym = pseudonymize.new_pseudonym()
        assert redact(pseudonym) == pseudonym and len(pseudonym) == 32
