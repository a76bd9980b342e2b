"""The register extract (registerutdrag, GDPR art. 15): everything stored about one personnummer.

``gather`` collects it as plain JSON-ready data, which the page, the PDF
(``as_pdf``) and the JSON download all show, so that the three never differ:

- ``personnummer``: the number asked about; ``known``: whether the vault knows it;
- ``numbers``: every number of the person (a changed number links two), with
  when each became known; ``pseudonym``;
- ``person``: what the statistics know of the person (birth year, sex,
  samordningsnummer), derived from the number;
- ``interventions`` and ``results``: the current state, as it stands now;
- ``transactions``: every transaction delivered, with its delivery (receipt
  id, when received), organisation and dates, and whether it still counts (a
  withdrawn delivery's do not);
- ``lookups``: the identity officers' look-ups, links and extracts of the
  person, from the audit log (also those made under a pseudonym since merged
  into this one).

Dates are ISO 8601 text: ``YYYY-MM-DD``, times in UTC with their offset.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from fpdf import FPDF
from fpdf.fonts import FontFace

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.ledger.models import Intervention, Kind, Person, Result, Status, Transaction
from inuk.vault.pseudonymize import history

#: An extract: the keys listed in the module's description, JSON-ready values.
Extract = dict[str, Any]

#: The audit events that are look-ups of a person.
LOOKUP_EVENTS = (Event.IDENTITY_LOOKUP, Event.IDENTITY_LINKED, Event.IDENTITY_EXTRACT)

SEX = {Person.Sex.MAN: "man", Person.Sex.WOMAN: "woman"}


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat(timespec="seconds")


@sensitive_variables()
def gather(personnummer: str, pseudonym: str | None, *, made_by: str, case_number: str) -> Extract:
    """The extract for ``personnummer``, whose person is ``pseudonym`` (None if unknown)."""
    person = Person.objects.filter(pseudonym=pseudonym).first() if pseudonym else None
    return {
        "made_at": _time(timezone.now()),
        "made_by": made_by,
        "case_number": case_number,
        "personnummer": personnummer,
        "known": pseudonym is not None,
        "pseudonym": pseudonym,
        "numbers": [
            {"personnummer": number, "first_known": _time(known)}
            for number, known in (history(pseudonym) if pseudonym else [])
        ],
        "person": None
        if person is None
        else {
            "birth_year": person.birth_year,
            "sex": SEX[Person.Sex(person.sex)],
            "coordination_number": person.coordination_number,
        },
        "interventions": _state(Intervention, person),
        "results": _state(Result, person),
        "transactions": _transactions(person),
        "lookups": _lookups(pseudonym),
    }


def _state(model: type[Intervention] | type[Result], person: Person | None) -> list[dict]:
    if person is None:
        return []
    records = model.objects.current().filter(person=person).select_related("organisation")
    rows = []
    for record in records.order_by("start", "code"):
        row = {
            "organisation": record.organisation.name,
            "organisation_number": record.organisation.orgnr,
            "kommunkod": record.kommunkod,
            "code": record.code,
            "start": _date(record.start),
        }
        if isinstance(record, Intervention):
            row["end"] = _date(record.end)
        row["system"] = record.system
        rows.append(row)
    return rows


def _transactions(person: Person | None) -> list[dict]:
    if person is None:
        return []
    transactions = (
        Transaction.objects.filter(person=person)
        .select_related("delivery", "organisation")
        .order_by("transaction_time", "delivery_id", "position")
    )
    return [
        {
            "transaction_time": _time(t.transaction_time),
            "kind": "intervention" if t.kind == Kind.INTERVENTION else "result",
            "status": Status(t.status).label,
            "code": t.code,
            "start": _date(t.start),
            "end": _date(t.end),
            "system": t.system,
            "organisation": t.organisation.name,
            "organisation_number": t.organisation.orgnr,
            "kommunkod": t.kommunkod,
            "delivery": str(t.delivery.public_id),
            "received_at": _time(t.delivery.received_at),
            "counts": t.withdrawn == 0,
        }
        for t in transactions
    ]


def _lookups(pseudonym: str | None) -> list[dict]:
    if pseudonym is None:
        return []
    events = [event.value for event in LOOKUP_EVENTS]
    entries = Entry.objects.filter(event__in=events)
    # A person merged into this one was looked up under its own pseudonym before.
    merged = [
        name
        for name in entries.filter(event=Event.IDENTITY_LINKED, target=pseudonym).values_list(
            "details__merged", flat=True
        )
        if name
    ]
    return [
        {
            "at": _time(entry.at),
            "event": entry.event,
            "by": entry.actor,
            "case_number": entry.details.get("case_number", ""),
        }
        for entry in entries.filter(Q(target=pseudonym) | Q(target__in=merged)).order_by("id")
    ]


# --- PDF ---------------------------------------------------------------------------------


def _latin1(value: object) -> str:
    """Text for the PDF's built-in Helvetica, which holds Latin-1 (å, ä, ö) but not every sign."""
    text = "–" if value is None or value == "" else str(value)
    return text.replace("–", "-").replace("→", "->").encode("latin-1", "replace").decode("latin-1")


class _Document(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 8, _latin1(_("Page %(page)s") % {"page": self.page_no()}), align="C")


def as_pdf(extract: Extract) -> bytes:
    """The extract as a printable A4 PDF, headed and laid out as the page is."""
    pdf = _Document(format="A4")
    pdf.set_title(_latin1(_("Register extract")))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 10, _latin1(_("Register extract")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    facts = [
        (_("Personnummer"), extract["personnummer"]),
        (_("Made"), extract["made_at"]),
        (_("Made by"), extract["made_by"]),
        (_("Case number"), extract["case_number"]),
    ]
    if not extract["known"]:
        facts.append((_("Stored"), _("Nothing is stored about this personnummer.")))
    else:
        person = extract["person"] or {}
        facts += [
            (_("Pseudonym"), extract["pseudonym"]),
            (
                _("Personnummer of the person"),
                ", ".join(n["personnummer"] for n in extract["numbers"]),
            ),
            (_("Birth year"), person.get("birth_year")),
            (_("Sex"), _(person["sex"]) if person else None),
            (
                _("Samordningsnummer"),
                (_("yes") if person.get("coordination_number") else _("no")) if person else None,
            ),
        ]
    _table(pdf, None, facts, widths=(50, 130))
    for heading, rows, columns in _sections(extract):
        pdf.ln(4)
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.cell(0, 8, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=7 if len(columns) > 6 else 8)  # wide tables fit A4
        if not rows:
            pdf.cell(0, 6, _latin1(_("None.")), new_x="LMARGIN", new_y="NEXT")
            continue
        header = [label for _key, label in columns]
        body = [[_cell(row.get(key)) for key, _label in columns] for row in rows]
        _table(pdf, header, body)
    return bytes(pdf.output())


def _table(pdf: FPDF, header: list[str] | None, rows: list, widths: tuple | None = None) -> None:
    with pdf.table(
        col_widths=widths,
        first_row_as_headings=header is not None,
        headings_style=FontFace(emphasis="BOLD"),
        line_height=5,
        text_align="LEFT",
    ) as table:
        for row in [header, *rows] if header is not None else rows:
            cells = table.row()
            for value in row:
                cells.cell(_latin1(value))


def _event_label(event: str) -> str:
    labels = {
        Event.IDENTITY_LOOKUP.value: _("Look-up"),
        Event.IDENTITY_LINKED.value: _("Numbers linked"),
        Event.IDENTITY_EXTRACT.value: _("Register extract"),
    }
    return labels.get(event, event)


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


def _sections(extract: Extract) -> list[tuple[str, list[dict], list[tuple[str, str]]]]:
    """(heading, rows, (key, column label)) of each table, for the PDF and the page alike."""
    return [
        (
            _("Current interventions"),
            extract["interventions"],
            [
                ("organisation", _("Organisation")),
                ("kommunkod", _("Municipality code")),
                ("code", _("Code")),
                ("start", _("Start")),
                ("end", _("End")),
                ("system", _("System")),
            ],
        ),
        (
            _("Current results"),
            extract["results"],
            [
                ("organisation", _("Organisation")),
                ("kommunkod", _("Municipality code")),
                ("code", _("Code")),
                ("start", _("Start")),
                ("system", _("System")),
            ],
        ),
        (
            _("Transactions delivered"),
            extract["transactions"],
            [
                ("transaction_time", _("Transaction time")),
                ("status", _("Status")),
                ("code", _("Code")),
                ("start", _("Start")),
                ("end", _("End")),
                ("organisation", _("Organisation")),
                ("kommunkod", _("Municipality code")),
                ("delivery", _("Receipt id")),
                ("received_at", _("Received")),
                ("counts", _("Counts")),
            ],
        ),
        (
            _("Look-ups of the person"),
            [{**row, "event": _event_label(row["event"])} for row in extract["lookups"]],
            [
                ("at", _("When (UTC)")),
                ("event", _("What")),
                ("by", _("By")),
                ("case_number", _("Case number")),
            ],
        ),
    ]


def sections(extract: Extract) -> list[dict]:
    """The extract's tables for a template: heading, column labels, rows of cells."""
    return [
        {
            "heading": heading,
            "labels": [label for _key, label in columns],
            "rows": [[_cell(row.get(key)) for key, _label in columns] for row in rows],
        }
        for heading, rows, columns in _sections(extract)
    ]
