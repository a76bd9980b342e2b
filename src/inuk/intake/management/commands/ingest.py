"""``inuk ingest FILE --org ORGNR``: an administrator receives a file, as an upload would."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inuk.commandline import orgnr_argument
from inuk.intake import receipts
from inuk.intake.models import Delivery
from inuk.intake.receive import Submission, dry_run, receive
from inuk.organisations.management.common import registered_organisation


class Command(BaseCommand):
    help = "Ta emot en leveransfil lokalt. / Receive a delivery file locally."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--org",
            type=orgnr_argument,
            required=True,
            help="the delivering organisation's number",
        )
        parser.add_argument("--format", choices=["xml", "csv", "json"])
        parser.add_argument("--strict", action="store_true", help="all or nothing")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report, store nothing"
        )
        parser.add_argument("--json", action="store_true", help="print the receipt as JSON")

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"Filen finns inte / No such file: {path}")
        organisation = registered_organisation(options["org"])
        submission = Submission(
            organisation=organisation,
            filename=path.name,
            format=options["format"],
            strict=options["strict"],
            submitted_by="inuk ingest",
            channel="cli",
        )
        with open(path, "rb") as stream:
            if options["dry_run"]:
                result = dry_run(stream, submission, inline=True)
            else:
                delivery = self._receive(stream, submission, path.stat().st_size)
                result = receipts.receipt(delivery)
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            self._print(result)
        if result["status"] == Delivery.Status.REFUSED or result["refusal"]:
            sys.exit(2)
        if result["counts"]["rejected"] or result["status"] == Delivery.Status.REJECTED:
            sys.exit(1)

    def _receive(self, stream, submission: Submission, size: int) -> Delivery:
        """Receive and process here, with a progress bar on a terminal."""
        delivery = receive(stream, submission, process_inline=False)
        if delivery.is_final:
            return delivery
        from inuk.intake.worker import process

        if not sys.stderr.isatty():
            process(delivery.pk, worker="inuk ingest")
        else:
            self._process_with_bar(delivery, size)
        delivery.refresh_from_db()
        return delivery

    def _process_with_bar(self, delivery: Delivery, size: int) -> None:
        from inuk.intake.worker import process
        from inuk.progress import byte_progress

        worker = threading.Thread(target=process, args=(delivery.pk, "inuk ingest"))
        with byte_progress("Tar emot / Receiving", size) as update:
            worker.start()
            while worker.is_alive():
                worker.join(0.5)
                delivery.refresh_from_db(fields=["bytes_read"])
                update(delivery.bytes_read)

    def _print(self, result: dict) -> None:
        counts = result["counts"]
        self.stdout.write(f"Kvittens / Receipt: {result['id'] or '(provkörning / dry run)'}")
        self.stdout.write(f"Status: {result['status']}")
        if result["refusal"]:
            refusal = result["refusal"]
            self.stdout.write(
                f"{refusal['code']}: {refusal['message_sv']} / {refusal['message_en']}"
            )
        self.stdout.write(
            "Personer/persons {persons}  transaktioner/transactions {transactions}  "
            "godtagna/accepted {accepted}  avvisade/rejected {rejected}  "
            "redan kända/already known {already_known}  varningar/warnings {warnings}".format(
                **counts
            )
        )
        for kind in ("errors", "warnings"):
            for message in result[kind][:50]:
                where = f"rad/line {message['line']} " if message["line"] else ""
                self.stdout.write(
                    f"- {where}{message['path']} {message['code']} {message['value']}: "
                    f"{message['message_sv']} / {message['message_en']}"
                )
