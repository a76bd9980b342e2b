"""A large dry run, taken by a worker: read and validated as a delivery, nothing stored.

A dry run above ``INUK_INLINE_MAX_BYTES`` waits in the vault like a delivery
(``inuk.intake.receive.dry_run``), so that the web process answers at once
and a worker spends the time reading it. The worker reads it exactly as it
reads a delivery (``Run.read``: the same validation, authorisation, progress
and claim), but looks no personnummer up in the vault, draws no pseudonym and
appends nothing to the ledger: it writes the report, the counts and errors
the inline dry run of the same file gives, on the receipt, ends it
``checked`` and discards the file. What is left is the receipt alone.
"""

from __future__ import annotations

from django.db import transaction

from inuk.audit.log import Event
from inuk.audit.log import record as audit
from inuk.format.errors import FileRefused, Problem
from inuk.format.validation import Checked
from inuk.intake.models import Delivery, Message
from inuk.intake.processing import Run
from inuk.vault import files as vault_files


class DryRun(Run):
    """``Run`` for a delivery marked ``dry_run``: read and report, never pseudonymize or apply."""

    def _flush(self, pending: list[Checked], problems: list[Problem]) -> None:
        # The inline dry run reports errors only: warnings such as an unknown
        # identity need the ledger, which a dry run does not touch.
        self.messages.write([p for p in problems if p.severity == Message.Severity.ERROR])

    def process(self) -> None:
        try:
            with vault_files.open_file(self.delivery.pk) as stream:
                self.read(stream)
        except FileRefused as refusal:
            self.refuse(refusal)  # and the file is discarded
            return
        self.check()

    def check(self) -> None:
        """End the dry run with its report, as the inline dry run would have answered."""
        delivery = self.delivery
        tally = self.tally
        with transaction.atomic():
            self._finish(
                Delivery.Status.CHECKED,
                accepted=tally.transactions - tally.rejected,
                already_known=0,
                warnings=0,
            )
            self._save_messages(self.messages)
            audit(
                Event.DELIVERY_CHECKED,
                actor=delivery.submitted_by,
                organisation=delivery.organisation.orgnr,
                target=str(delivery.public_id),
                details={"transactions": tally.transactions, "rejected": tally.rejected},
            )
        # A dry run stores nothing: the file goes as soon as it is reported on.
        vault_files.discard(delivery.pk)
