"""AF's withdrawal of a delivery: who may, on what conditions, and the audit entry.

The ledger's ``withdraw()`` does the work (its transactions stop counting, the
state and, where they exist, the statistics rollups are derived again as if
the delivery had never arrived); this module is the one door to it that the
receipt page, the API and any command share, so that each refuses and audits
alike. A withdrawal is a correction of the record, so it needs a reason (a
personnummer typed into it is masked before it is kept), and only an applied
delivery has anything to withdraw.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inuk.audit.log import Event
from inuk.audit.log import record as audit
from inuk.format.masking import redact
from inuk.intake.models import Delivery
from inuk.ledger.models import Withdrawal
from inuk.ledger.withdrawal import withdraw

#: A reason is kept in the ledger and shown on the receipt; a paragraph is plenty.
REASON_MAX = 1000


@dataclass(frozen=True)
class WithdrawalRefused(Exception):
    """Why a delivery cannot be withdrawn, with a stable code and messages in both languages."""

    code: str
    message_sv: str
    message_en: str

    def __str__(self) -> str:
        return self.message_en


NOT_APPLIED = WithdrawalRefused(
    "DELIVERY_NOT_APPLIED",
    "Bara en tillämpad leverans kan återkallas: den här har inga transaktioner som räknas.",
    "Only an applied delivery can be withdrawn: this one has no transactions that count.",
)
ALREADY_WITHDRAWN = WithdrawalRefused(
    "DELIVERY_ALREADY_WITHDRAWN",
    "Leveransen är redan återkallad.",
    "The delivery has already been withdrawn.",
)
REASON_MISSING = WithdrawalRefused(
    "WITHDRAWAL_REASON_MISSING",
    f"Ange varför leveransen återkallas (högst {REASON_MAX} tecken).",
    f"Say why the delivery is withdrawn (at most {REASON_MAX} characters).",
)


def withdrawal_of(delivery: Delivery) -> Withdrawal | None:
    return Withdrawal.objects.filter(delivery_id=delivery.pk).first()


def withdraw_delivery(
    delivery: Delivery, *, reason: str, actor: str, remote_addr: str = ""
) -> Withdrawal:
    """Withdraw ``delivery`` for ``reason``, or raise ``WithdrawalRefused`` and change nothing.

    Whether ``actor`` may is the caller's question (``scoping.may_withdraw``).
    The delivery row is locked first, so two administrators withdrawing at
    once get one withdrawal and one ``ALREADY_WITHDRAWN``.
    """
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise REASON_MISSING
    # Kept in the statistics database and shown on the receipt: a personnummer
    # typed into it is masked to its date part, as in the audit log.
    reason = redact(reason)
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if withdrawal_of(locked) is not None:
            raise ALREADY_WITHDRAWN
        if locked.status != Delivery.Status.APPLIED:
            raise NOT_APPLIED
        at = timezone.now()
        count = withdraw(locked.pk, reason=reason, at=at)
        audit(
            Event.DELIVERY_WITHDRAWN,
            actor=actor,
            organisation=delivery.organisation.orgnr,
            target=str(locked.public_id),
            remote_addr=remote_addr,
            details={"transactions": count, "reason": reason},
            at=at,
        )
    return Withdrawal.objects.get(delivery_id=delivery.pk)
