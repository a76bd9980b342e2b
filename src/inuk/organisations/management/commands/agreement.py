"""``inuk agreement``: register agreements (samverkansavtal), their contacts and suppliers.

Written for onboarding scripts: every subcommand checks all of its input
before it changes anything, changes one thing in one transaction together with
its audit entry, and exits non-zero with a one-line reason otherwise.

    inuk agreement add --org 212000-0019 --signed-af 2025-01-10 --signed-municipality 2025-01-14
    inuk agreement sign --org 212000-0019 --party kommun --date 2025-01-14
    inuk agreement notice --org 212000-0019 --date 2025-01-31 --by kommun [--end 2025-03-31]
    inuk agreement end --org 212000-0019 --date 2025-02-03 --decision "Regeringsbeslut A2025/123"
    inuk agreement list [--in-force] [--on 2025-02-01]
    inuk agreement contact add --org 212000-0019 --party kommun --name "Eva Ek" --email e@x.se
    inuk agreement supplier add --orgnr 556677-8899 --name "System AB" [--federation]
    inuk agreement supplier authorise --supplier 556677-8899 --kommunkod 0114 --from 2025-02-01
    inuk agreement supplier revoke --supplier 556677-8899 --kommunkod 0114 --date 2025-06-01
    inuk agreement supplier list

Dates are ISO 8601 (2025-01-31). An organisation number may be written with
or without the dash, or in the twelve-digit form beginning with 16.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations
from django.db import IntegrityError, transaction
from django.utils import timezone

from inuk.audit.log import Event, record
from inuk.commandline import cli_actor, orgnr_argument
from inuk.format.identifiers import InvalidIdentifier, normalise_kommunkod
from inuk.organisations.models import (
    Agreement,
    ContactPerson,
    DeliveryAuthorisation,
    Municipality,
    Organisation,
    Party,
)

_PARTIES = [Party.AF.value, Party.MUNICIPALITY.value]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _kommunkod(text: str) -> str:
    try:
        return normalise_kommunkod(text)
    except InvalidIdentifier:
        raise argparse.ArgumentTypeError(f"not a municipality code: {text!r}") from None


def _reason(error: ValidationError) -> str:
    """The messages on one line, each named by its field where it is about one."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    parts = []
    for field, errors in error.message_dict.items():
        prefix = "" if field == "__all__" else f"{field}: "
        parts += [prefix + message for message in errors]
    return " ".join(parts)


def _show(day: dt.date | None) -> str:
    return day.isoformat() if day else "-"


class Command(BaseCommand):
    help = "Register agreements (samverkansavtal), their contact persons and suppliers."

    def add_arguments(self, parser: CommandParser) -> None:
        common = CommandParser(add_help=False)
        common.add_argument(
            "--actor",
            default=cli_actor(),
            help="who makes the change, for the audit log (default: cli:<login name>)",
        )
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        add = actions.add_parser(
            "add", parents=[common], help="register a new agreement for a municipality"
        )
        add.add_argument(
            "--org", type=orgnr_argument, required=True, help="the municipality's orgnr"
        )
        add.add_argument("--signed-af", type=_date, help="the day AF signed")
        add.add_argument(
            "--signed-municipality", type=_date, help="the day the municipality signed"
        )
        add.add_argument("--af-dnr", default="", help="AF's case number")
        add.add_argument("--municipality-dnr", default="", help="the municipality's case number")

        sign = actions.add_parser(
            "sign", parents=[common], help="record a signature given after the agreement was added"
        )
        sign.add_argument("--org", type=orgnr_argument, required=True)
        sign.add_argument("--party", choices=_PARTIES, required=True)
        sign.add_argument("--date", type=_date, required=True)

        notice = actions.add_parser(
            "notice",
            parents=[common],
            help="record written notice; the agreement ends three calendar months later",
        )
        notice.add_argument("--org", type=orgnr_argument, required=True)
        notice.add_argument("--date", type=_date, required=True, help="the day notice was given")
        notice.add_argument("--by", choices=_PARTIES, default="", help="the party that gave notice")
        notice.add_argument(
            "--end",
            type=_date,
            help="the last day in force, if the parties agreed on another than the notice's",
        )

        end = actions.add_parser(
            "end",
            parents=[common],
            help="end the agreement at once by a higher authority's decision",
        )
        end.add_argument("--org", type=orgnr_argument, required=True)
        end.add_argument(
            "--date", type=_date, required=True, help="the decision's day: not in force from then"
        )
        end.add_argument("--decision", required=True, help="a reference to the decision")

        show = actions.add_parser("list", help="print the agreements as a table")
        show.add_argument("--in-force", action="store_true", help="only those in force")
        show.add_argument("--on", type=_date, help="the day to judge by (default: today)")

        contact = actions.add_parser("contact", help="contact persons of an agreement")
        contact_actions = contact.add_subparsers(
            dest="contact_action", required=True, metavar="ACTION"
        )
        contact_add = contact_actions.add_parser(
            "add", parents=[common], help="add a contact person to the current agreement"
        )
        contact_add.add_argument("--org", type=orgnr_argument, required=True)
        contact_add.add_argument("--party", choices=_PARTIES, required=True)
        contact_add.add_argument("--name", required=True)
        contact_add.add_argument("--role", default="")
        contact_add.add_argument("--email", default="")
        contact_add.add_argument("--phone", default="")

        supplier = actions.add_parser("supplier", help="suppliers and federations")
        supplier_actions = supplier.add_subparsers(
            dest="supplier_action", required=True, metavar="ACTION"
        )
        supplier_add = supplier_actions.add_parser(
            "add",
            parents=[common],
            help="register a supplier (or, with --federation, a federation)",
        )
        supplier_add.add_argument("--orgnr", type=orgnr_argument, required=True)
        supplier_add.add_argument("--name", required=True)
        supplier_add.add_argument(
            "--federation", action="store_true", help="a municipal federation (kommunalförbund)"
        )
        authorise = supplier_actions.add_parser(
            "authorise",
            parents=[common],
            help="the municipality registers the supplier to deliver on its behalf",
        )
        authorise.add_argument("--supplier", type=orgnr_argument, required=True)
        authorise.add_argument("--kommunkod", type=_kommunkod, required=True)
        authorise.add_argument("--from", dest="valid_from", type=_date, required=True)
        authorise.add_argument(
            "--until", type=_date, help="the last day it may deliver (default: until revoked)"
        )
        revoke = supplier_actions.add_parser(
            "revoke", parents=[common], help="the supplier may no longer deliver from a day"
        )
        revoke.add_argument("--supplier", type=orgnr_argument, required=True)
        revoke.add_argument("--kommunkod", type=_kommunkod, required=True)
        revoke.add_argument(
            "--date", type=_date, required=True, help="the first day it may no longer deliver"
        )
        supplier_actions.add_parser("list", help="print suppliers and whom they deliver for")

    # Operators' scripts read the output, so it is in one language throughout:
    # the English of the command's own messages, not Swedish validation errors.
    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "contact":
            action = f"contact_{options['contact_action']}"
        elif action == "supplier":
            action = f"supplier_{options['supplier_action']}"
        handler: Callable[[dict[str, Any]], str | None] = getattr(self, f"_{action}")
        try:
            with transaction.atomic():
                message = handler(options)
        except ValidationError as exc:
            raise CommandError(_reason(exc)) from None
        except IntegrityError as exc:
            raise CommandError(f"the change conflicts with what is registered: {exc}") from None
        if message:
            self.stdout.write(message)

    # --- look-ups ----------------------------------------------------------------

    def _municipality(self, orgnr: str) -> Municipality:
        """The municipality with that orgnr, its row locked against concurrent changes."""
        found = (
            Municipality.objects.select_for_update()
            .select_related("organisation")
            .filter(organisation__orgnr=orgnr)
            .first()
        )
        if found is None:
            organisation = Organisation.objects.filter(orgnr=orgnr).first()
            if organisation is None:
                raise CommandError(f"no municipality has the organisation number {orgnr}")
            raise CommandError(f"{organisation} is not a municipality")
        return found

    def _supplier(self, orgnr: str) -> Organisation:
        supplier = Organisation.objects.filter(orgnr=orgnr).first()
        if supplier is None:
            raise CommandError(
                f"no supplier has the organisation number {orgnr}; "
                "register it first with 'supplier add'"
            )
        if not supplier.delivers_on_behalf:
            raise CommandError(f"{supplier} is not a supplier or a federation")
        return supplier

    def _in_force(self, municipality: Municipality, on: dt.date) -> Agreement:
        agreement = municipality.agreement_on(on)
        if agreement is None:
            raise CommandError(f"{municipality} has no agreement in force on {on.isoformat()}")
        return agreement

    # --- agreements ------------------------------------------------------------------

    def _audit(self, options: dict[str, Any], agreement: Agreement, change: str, **facts) -> None:
        record(
            Event.AGREEMENT_CHANGED,
            actor=options["actor"],
            organisation=agreement.municipality.organisation.orgnr,
            target=f"agreement:{agreement.pk}",
            details={"change": change, "kommunkod": agreement.municipality.code, **facts},
        )

    def _add(self, options: dict[str, Any]) -> str:
        municipality = self._municipality(options["org"])
        agreement = Agreement(
            municipality=municipality,
            af_case_number=options["af_dnr"].strip(),
            municipality_case_number=options["municipality_dnr"].strip(),
            signed_by_af=options["signed_af"],
            signed_by_municipality=options["signed_municipality"],
        )
        agreement.full_clean()
        agreement.save()
        self._audit(
            options,
            agreement,
            "added",
            af_case_number=agreement.af_case_number,
            municipality_case_number=agreement.municipality_case_number,
            signed_by_af=agreement.signed_by_af,
            signed_by_municipality=agreement.signed_by_municipality,
        )
        return self._summary(agreement, "added")

    def _sign(self, options: dict[str, Any]) -> str:
        municipality = self._municipality(options["org"])
        agreement = municipality.agreements.awaiting_signature().first()
        if agreement is None:
            raise CommandError(
                f"{municipality} has no agreement awaiting signature; add one with 'add'"
            )
        agreement.sign(options["party"], options["date"])
        self._audit(options, agreement, "signed", party=options["party"], on=options["date"])
        return self._summary(agreement, "signed")

    def _notice(self, options: dict[str, Any]) -> str:
        municipality = self._municipality(options["org"])
        agreement = self._in_force(municipality, options["date"])
        agreement.give_notice(options["date"], by=options["by"], agreed_last_day=options["end"])
        self._audit(
            options,
            agreement,
            "notice",
            notice_given_on=agreement.notice_given_on,
            notice_given_by=agreement.notice_given_by,
            agreed_last_day=agreement.agreed_last_day,
            last_day=agreement.last_day,
        )
        return self._summary(agreement, "notice recorded")

    def _end(self, options: dict[str, Any]) -> str:
        municipality = self._municipality(options["org"])
        agreement = self._in_force(municipality, options["date"])
        agreement.end_by_decision(options["date"], options["decision"])
        self._audit(
            options,
            agreement,
            "ended_by_decision",
            ended_by_decision_on=agreement.ended_by_decision_on,
            decision_reference=agreement.decision_reference,
            last_day=agreement.last_day,
        )
        return self._summary(agreement, "ended by decision")

    def _summary(self, agreement: Agreement, what: str) -> str:
        today = timezone.localdate()
        text = f"{agreement.municipality}: agreement {agreement.pk} {what}"
        if agreement.in_force_from:
            text += f"; in force from {agreement.in_force_from.isoformat()}"
        if agreement.last_day:
            text += f", last day {agreement.last_day.isoformat()}"
        return text + f". Today: {agreement.state(today).label}."

    def _list(self, options: dict[str, Any]) -> None:
        on = options["on"] or timezone.localdate()
        agreements = Agreement.objects.select_related("municipality").order_by(
            "municipality__code", "id"
        )
        if options["in_force"]:
            agreements = agreements.in_force(on)
        rows = [
            (
                str(a.municipality),
                f"AF {a.af_case_number or '-'} / K {a.municipality_case_number or '-'}",
                f"AF {_show(a.signed_by_af)} / K {_show(a.signed_by_municipality)}",
                _show(a.in_force_from),
                _show(a.last_day),
                a.state(on).label,
            )
            for a in agreements
        ]
        header = ("municipality", "dnr", "signed", "in force from", "last day", "state")
        self._table(header, rows)

    # --- contacts --------------------------------------------------------------------

    def _contact_add(self, options: dict[str, Any]) -> str:
        municipality = self._municipality(options["org"])
        agreement = municipality.current_agreement(timezone.localdate())
        if agreement is None:
            raise CommandError(f"{municipality} has no agreement; add one with 'add'")
        contact = ContactPerson(
            agreement=agreement,
            party=options["party"],
            name=options["name"].strip(),
            role=options["role"].strip(),
            email=options["email"].strip(),
            phone=options["phone"].strip(),
        )
        contact.full_clean()
        contact.save()
        self._audit(options, agreement, "contact_added", party=contact.party, contact=contact.pk)
        return f"{municipality}: contact {contact.name} added to agreement {agreement.pk}."

    # --- suppliers -------------------------------------------------------------------

    def _supplier_add(self, options: dict[str, Any]) -> str:
        orgnr = options["orgnr"]
        existing = Organisation.objects.filter(orgnr=orgnr).first()
        if existing is not None:
            raise CommandError(f"{existing} is already registered")
        kind = Organisation.Kind.FEDERATION if options["federation"] else Organisation.Kind.SUPPLIER
        supplier = Organisation(orgnr=orgnr, name=options["name"].strip(), kind=kind)
        supplier.full_clean()
        supplier.save()
        record(
            Event.AGREEMENT_CHANGED,
            actor=options["actor"],
            organisation=supplier.orgnr,
            target=f"organisation:{supplier.orgnr}",
            details={"change": "supplier_added", "kind": supplier.kind, "name": supplier.name},
        )
        return f"{supplier} registered as {supplier.get_kind_display().lower()}."

    def _supplier_authorise(self, options: dict[str, Any]) -> str:
        supplier = self._supplier(options["supplier"])
        municipality = Municipality.objects.select_related("organisation").filter(
            code=options["kommunkod"]
        )
        found = municipality.select_for_update().first()
        if found is None:
            raise CommandError(f"no municipality has the code {options['kommunkod']}")
        authorisation = DeliveryAuthorisation(
            deliverer=supplier,
            municipality=found,
            valid_from=options["valid_from"],
            valid_until=options["until"],
        )
        authorisation.full_clean()
        authorisation.save()
        self._audit_authorisation(options, authorisation, "supplier_authorised")
        return f"{supplier} may deliver for {found} from {authorisation.valid_from.isoformat()}" + (
            f" up to and including {authorisation.valid_until.isoformat()}."
            if authorisation.valid_until
            else "."
        )

    def _supplier_revoke(self, options: dict[str, Any]) -> str:
        supplier = self._supplier(options["supplier"])
        on = options["date"]
        authorisation = (
            DeliveryAuthorisation.objects.select_for_update()
            .select_related("deliverer", "municipality__organisation")
            .valid_on(on)
            .filter(deliverer=supplier, municipality_id=options["kommunkod"])
            .first()
        )
        if authorisation is None:
            raise CommandError(
                f"{supplier} is not registered for {options['kommunkod']} on {on.isoformat()}"
            )
        authorisation.revoke(on)
        self._audit_authorisation(options, authorisation, "supplier_revoked")
        return (
            f"{supplier} may no longer deliver for {authorisation.municipality} "
            f"from {on.isoformat()}."
        )

    def _audit_authorisation(
        self, options: dict[str, Any], authorisation: DeliveryAuthorisation, change: str
    ) -> None:
        record(
            Event.AGREEMENT_CHANGED,
            actor=options["actor"],
            organisation=authorisation.municipality.organisation.orgnr,
            target=f"authorisation:{authorisation.pk}",
            details={
                "change": change,
                "kommunkod": authorisation.municipality.code,
                "deliverer": authorisation.deliverer.orgnr,
                "valid_from": authorisation.valid_from,
                "valid_until": authorisation.valid_until,
            },
        )

    def _supplier_list(self, options: dict[str, Any]) -> None:
        suppliers = Organisation.objects.filter(
            kind__in=Organisation.DELIVERING_ON_BEHALF
        ).order_by("name")
        authorisations: dict[int, list[DeliveryAuthorisation]] = {}
        for authorisation in DeliveryAuthorisation.objects.order_by("municipality", "valid_from"):
            authorisations.setdefault(authorisation.deliverer_id, []).append(authorisation)
        rows = []
        for supplier in suppliers:
            periods = [
                f"{a.municipality_id} {a.valid_from.isoformat()}..{_show(a.valid_until)}"
                for a in authorisations.get(supplier.pk, [])
            ]
            rows.append(
                (
                    f"{supplier.orgnr[:6]}-{supplier.orgnr[6:]}",
                    supplier.name,
                    supplier.get_kind_display(),
                    ", ".join(periods) or "-",
                )
            )
        self._table(("orgnr", "name", "kind", "registered for"), rows)

    # --- output ------------------------------------------------------------------------

    def _table(self, header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> None:
        """A plain table with columns padded to their widest cell."""
        rows = list(rows)
        columns = zip(header, *rows, strict=True)
        widths = [max(len(cell) for cell in column) for column in columns]
        for row in (header, *rows):
            cells = zip(row, widths, strict=True)
            line = "  ".join(cell.ljust(width) for cell, width in cells)
            self.stdout.write(line.rstrip())
