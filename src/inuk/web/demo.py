"""Synthetic data for ``inuk demo``: a few municipalities under agreement, with deliveries.

Everything here is made up: the personnummer are random valid numbers, the
deliveries are drawn from a seeded generator. Loading twice changes nothing,
since the same bytes from the same organisation are the same delivery.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

from inuk.accounts.models import Role, User
from inuk.intake import synthetic
from inuk.intake.formats import writers
from inuk.intake.models import Delivery
from inuk.intake.receive import Submission, receive
from inuk.organisations.models import Agreement, Municipality, Organisation
from inuk.organisations.reference import AF_ORGNR

#: Upplands Väsby, Vallentuna, Uppsala, Göteborg, Malmö.
DEMO_MUNICIPALITIES = ("0114", "0115", "0380", "1480", "1280")
DEMO_PASSWORD = "demo-inuk-2026"  # noqa: S105 (a demo account, printed for the user)
DEMO_USERS = (
    ("af.admin@demo.invalid", AF_ORGNR, (Role.AF_ADMIN,)),
    ("af.analys@demo.invalid", AF_ORGNR, (Role.NATIONAL_ANALYST,)),
    ("rapport@vasby.demo.invalid", "2120000019", (Role.REPORTER, Role.ANALYST)),
    ("admin@vasby.demo.invalid", "2120000019", (Role.USER_ADMIN,)),
)


def demo_accounts_present() -> list[str]:
    """The demo's published accounts that exist, active, in this service's database."""
    emails = [email for email, _orgnr, _roles in DEMO_USERS]
    return sorted(
        User.objects.filter(email__in=emails, is_active=True).values_list("email", flat=True)
    )


def _agreements(signed: dt.date) -> None:
    for code in DEMO_MUNICIPALITIES:
        municipality = Municipality.objects.get(code=code)
        if not Agreement.objects.filter(municipality=municipality).exists():
            Agreement.objects.create(
                municipality=municipality,
                af_case_number=f"Af-{signed.year}/{code}",
                municipality_case_number=f"KS {signed.year}/{int(code) % 97}",
                signed_by_af=signed,
                signed_by_municipality=signed + dt.timedelta(days=3),
            )


def _users() -> list[str]:
    lines = []
    for email, orgnr, roles in DEMO_USERS:
        if not User.objects.filter(email=email).exists():
            User.objects.create_user(
                email,
                DEMO_PASSWORD,
                organisation=Organisation.objects.get(orgnr=orgnr),
                roles=roles,
            )
        lines.append(f"  {email} / {DEMO_PASSWORD}")
    return lines


def _deliver(organisation: Organisation, data: bytes, name: str) -> Delivery:
    submission = Submission(
        organisation=organisation, filename=name, submitted_by="inuk demo", channel="demo"
    )
    return receive(io.BytesIO(data), submission, process_inline=True)


def load_demo_data(persons: int = 400) -> Iterator[str]:
    """Create the demo's agreements, users and deliveries; yields lines to print."""
    today = dt.date.today().replace(day=1)  # the same bytes all month: loading again is a no-op
    _agreements(dt.date(today.year - 2, 1, 15))
    for code in DEMO_MUNICIPALITIES:
        sender = synthetic.municipality(code)
        organisation = Organisation.objects.get(orgnr=sender.orgnr)
        kommuner = synthetic.delivery(sender, persons=persons, seed=int(code), today=today)
        delivery = _deliver(organisation, writers.to_bytes("xml", kommuner), f"leverans-{code}.xml")
        yield f"{organisation.name}: {delivery.accepted} godtagna / accepted ({delivery.status})"
        if code == DEMO_MUNICIPALITIES[0]:
            changed = synthetic.changed(kommuner, share=0.05, seed=1, today=today)
            data = writers.to_bytes("csv", changed)
            # A few broken codes, so that the demo shows a receipt with errors.
            data = data.replace(b";SYV;", b";SVY;", 3)
            delivery = _deliver(organisation, data, f"rattelse-{code}.csv")
            yield (
                f"{organisation.name}, rättelse / correction: {delivery.accepted} godtagna / "
                f"accepted, {delivery.rejected} avvisade / rejected"
            )
    af = Organisation.objects.get(orgnr=AF_ORGNR)
    kommuner = synthetic.delivery(
        synthetic.arbetsformedlingen(DEMO_MUNICIPALITIES), persons=persons, seed=2114, today=today
    )
    delivery = _deliver(af, writers.to_bytes("json", kommuner), "af-leverans.json")
    yield f"{af.name}: {delivery.accepted} godtagna / accepted ({delivery.status})"
    yield "Demoanvändare / demo users:"
    yield from _users()
