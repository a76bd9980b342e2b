"""The receipt page (/leveranser/<id>/): what became of a delivery, live while it is processed."""

from __future__ import annotations

import re
import uuid

import pytest
from django.utils import timezone

from inuk.intake.models import FAILURE, FAILURE_CODE, Delivery, Message
from tests.conftest import ANNA, ANNA_MISTYPED, VASBY_ORGNR
from tests.intake.pages.conftest import file_with_errors

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

#: Who sees a receipt of Upplands Väsby's, as inuk.accounts.scoping decides.
SEES_VASBY = {
    "vasby_reporter": 200,
    "vasby_analyst": 200,
    "vasby_admin": 404,
    "vallentuna_reporter": 404,
    "vallentuna_analyst": 404,
    "vallentuna_admin": 404,
    "af_admin": 200,
    "af_analyst": 404,
    "identity_officer": 200,
}


def url(delivery: Delivery) -> str:
    return f"/leveranser/{delivery.public_id}/"


@pytest.fixture
def with_errors(cast, deliver) -> Delivery:
    return deliver(cast.vasby, file_with_errors(), submitted_by=cast.vasby_reporter.email)


def with_messages(delivery: Delivery, errors: int, warnings: int = 0) -> Delivery:
    Message.objects.bulk_create(
        [
            Message(
                delivery=delivery,
                severity="error",
                code="CODE_UNKNOWN",
                field="Insatskod",
                line=n + 1,
                path=f"/Leverans/Insats[{n + 1}]/Insatskod",
                value="NOPE",
                message_sv="Okänd kod.",
                message_en="Unknown code.",
            )
            for n in range(errors)
        ]
        + [
            Message(
                delivery=delivery,
                severity="warning",
                code="IDENTITY_UNKNOWN",
                field="Status",
                line=n + 1,
                message_sv="Okänd.",
                message_en="Unknown.",
            )
            for n in range(warnings)
        ]
    )
    return delivery


@pytest.mark.parametrize(("member", "status"), SEES_VASBY.items())
def test_each_member_of_the_cast_sees_a_receipt_only_where_scoping_allows(
    cast, client_as, with_errors, member, status
):
    response = client_as(getattr(cast, member)).get(url(with_errors))
    assert response.status_code == status
    if status == 404:
        assert str(with_errors.public_id) not in response.content.decode()


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(client, with_errors):
    response = client.get(url(with_errors))
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/logga-in/")


def test_a_receipt_that_does_not_exist_is_404(cast, client_as):
    assert client_as(cast.af_admin).get(f"/leveranser/{uuid.uuid4()}/").status_code == 404


def test_it_shows_the_receipt_facts_and_counts(cast, client_as, with_errors):
    response = client_as(cast.vasby_reporter).get(url(with_errors))
    page = response.content.decode()
    assert response.context["receipt"]["id"] == str(with_errors.public_id)
    for fact in (
        str(with_errors.public_id),
        with_errors.checksum,
        "Upplands Väsby kommun",
        VASBY_ORGNR,
        "leverans.xml",
        "Tillämpad",
    ):
        assert fact in page
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page))
    assert counts == {
        "Personer": "2",
        "Transaktioner": "3",
        "Godkända": "1",
        "Avvisade": "2",
        "Redan kända": "0",
        "Varningar": "0",
    }
    assert "Leveransen togs emot, med fel." in page


def test_it_lists_the_errors_in_a_sortable_table_with_masked_personnummer(
    cast, client_as, with_errors
):
    page = client_as(cast.vasby_analyst).get(url(with_errors)).content.decode()
    table = page[page.index('<table class="sortable" id="errors">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 3  # the heading and two errors
    assert "PNR_CHECKSUM" in table and "CODE_UNKNOWN" in table
    assert ANNA_MISTYPED[:8] + "-****" in table
    assert ANNA_MISTYPED not in page and ANNA_MISTYPED[2:] not in page and ANNA not in page
    assert f'href="/leveranser/{with_errors.public_id}/fel.csv"' in page


def test_it_shows_the_first_thousand_errors_and_the_count_of_all(cast, client_as, on_file):
    delivery = with_messages(on_file(cast.vasby, rejected=1003), errors=1003, warnings=2)
    page = client_as(cast.vasby_reporter).get(url(delivery)).content.decode()
    errors = page[page.index('id="errors"') :]
    errors = errors[: errors.index("</table>")]
    assert errors.count("CODE_UNKNOWN") == 1000
    assert "de första 1000 av 1003 visas" in errors
    assert "IDENTITY_UNKNOWN" in page[page.index('id="warnings"') :]


def test_a_refused_file_shows_the_reason(cast, client_as, deliver):
    delivery = deliver(cast.vasby, b"<Leverans><Kommunlista>")
    assert delivery.status == Delivery.Status.REFUSED
    page = client_as(cast.vasby_reporter).get(url(delivery)).content.decode()
    assert "Filen kunde inte tas emot." in page
    assert delivery.refusal_code in page and delivery.refusal_sv in page
    assert "Ej mottagen" in page


def test_a_delivery_that_failed_in_the_service_shows_the_reason_and_no_counts(
    cast, client_as, on_file
):
    delivery = on_file(
        cast.vasby,
        status=Delivery.Status.FAILED,
        refusal_code=FAILURE_CODE,
        refusal_sv=FAILURE.sv,
        refusal_en=FAILURE.en,
        finished_at=timezone.now(),
    )
    page = client_as(cast.vasby_reporter).get(url(delivery)).content.decode()
    assert "Leveransen kunde inte bearbetas." in page
    assert "PROCESSING_FAILED" in page and FAILURE.sv in page
    assert 'class="status failed"' in page
    assert 'data-final="true"' in page
    assert "<progress" not in page


def test_a_rejected_all_or_nothing_delivery_says_nothing_was_accepted(cast, client_as, deliver):
    delivery = deliver(cast.vasby, file_with_errors(), strict=True)
    page = client_as(cast.vasby_reporter).get(url(delivery)).content.decode()
    assert "Leveransen avvisades i sin helhet." in page
    assert "PNR_CHECKSUM" in page


def test_a_delivery_being_processed_shows_its_progress_and_polls_for_more(cast, client_as, on_file):
    delivery = on_file(cast.vasby, status=Delivery.Status.PROCESSING, size=1000, bytes_read=420)
    response = client_as(cast.vasby_reporter).get(url(delivery))
    page = response.content.decode()
    assert 'aria-labelledby="progress-heading" value="42">' in page
    assert "Bearbetas: 42 procent av filen är läst." in page
    assert f'data-status-url="/leveranser/{delivery.public_id}/status.json"' in page
    assert 'data-final="false"' in page
    assert 'aria-live="polite"' in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_finished_receipt_does_not_poll(cast, client_as, with_errors):
    page = client_as(cast.vasby_reporter).get(url(with_errors)).content.decode()
    assert 'data-final="true"' in page
    assert "<progress" not in page


def test_the_page_speaks_english_when_asked(cast, client_as, with_errors):
    client = client_as(cast.vasby_reporter)
    client.cookies["django_language"] = "en"
    page = client.get(url(with_errors)).content.decode()
    assert "The delivery was received, with errors." in page
    assert "The code is not in Arbetsförmedlingen&#x27;s code list." in page
    assert "Koden finns inte" not in page
    assert "Applied" in page
