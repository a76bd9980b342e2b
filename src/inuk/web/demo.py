"""Synthetic data for ``inuk demo``: two years of monthly deliveries, as the service holds them.

Everything here is made up (``inuk.intake.population`` draws it). Each
month's files go through the real pipeline, ``receive()`` and processing,
in the order and with the arrival times they would have had, so receipts,
the ledger and the delivery follow-up read as they would after two years.
Loading again reuses what is there: a file already received is skipped, and
the demo keeps the months it was first loaded for, whatever today is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import defaultdict
from collections.abc import Callable

from django.utils import timezone

from inuk.accounts.models import Role, User
from inuk.format.municipalities import AF_ORGNR
from inuk.intake import population
from inuk.intake.models import Delivery
from inuk.intake.receive import Submission, receive
from inuk.organisations.groups import import_groups
from inuk.organisations.models import Agreement, Municipality, MunicipalityGroup, Organisation
from inuk.stats import rollups
from inuk.stats.models import RollupState

DEMO_MUNICIPALITIES = tuple(place.kommunkod for place in population.PLACES)
CHANNEL = "demo"
DEMO_PASSWORD = "demo-inuk-2026"  # noqa: S105 (a demo account, printed for the user)
#: Uppsala's organisation number: its users show a municipality's view.
UPPSALA = "2120003005"
#: One user per role: a municipality's three, and AF's three.
DEMO_USERS = (
    ("rapport@uppsala.demo.invalid", UPPSALA, (Role.REPORTER,)),
    ("analys@uppsala.demo.invalid", UPPSALA, (Role.ANALYST,)),
    ("admin@uppsala.demo.invalid", UPPSALA, (Role.USER_ADMIN,)),
    ("af.admin@demo.invalid", AF_ORGNR, (Role.AF_ADMIN,)),
    ("af.analys@demo.invalid", AF_ORGNR, (Role.NATIONAL_ANALYST,)),
    ("af.identitet@demo.invalid", AF_ORGNR, (Role.IDENTITY_OFFICER,)),
)

Progress = Callable[[int, int], None]


def load_demo_data(
    today: dt.date | None = None, *, scale: float = 1.0, progress: Progress | None = None
) -> list[str]:
    """Create the demo's agreements, users and deliveries; returns lines to print.

    ``progress(done, total)`` is called as each file is received. ``scale``
    shrinks the population, for tests.
    """
    plan = population.plan(_anchor(today), scale=scale)
    _agreements(_add_days(plan.months[0], -75))
    _groups()
    known = set(
        Delivery.objects.filter(channel=CHANNEL)
        .exclude(status=Delivery.Status.REFUSED)
        .values_list("organisation__orgnr", "checksum")
    )
    senders = {o.orgnr: o for o in Organisation.objects.filter(orgnr__in=_orgnrs(plan))}
    received = 0
    total = len(plan.deliveries) + 1  # the last step builds the statistics rollups
    files = [(planned, planned.data()) for planned in plan.deliveries]
    pending = [
        (planned, data)
        for planned, data in files
        if (planned.orgnr, hashlib.sha256(data).hexdigest()) not in known
    ]
    if pending:
        # Kept exact delivery by delivery, the rollups would cost most of the
        # load: they are set aside while the files go in and built once at the end.
        RollupState.objects.all().delete()
    done = len(files) - len(pending)
    for planned, data in pending:
        _deliver(senders[planned.orgnr], planned, data)
        received += 1
        done += 1
        if progress is not None:
            progress(done, total)
    if not RollupState.objects.exists():
        rollups.rebuild()
    if progress is not None:
        progress(total, total)
    return _summary(plan, received) + _users()


def _anchor(today: dt.date | None) -> dt.date:
    """The month the demo is drawn for: that of its first load, else today's.

    The last files arrive in the month after the last month drawn, so the
    latest arrival already received names the month.
    """
    latest = (
        Delivery.objects.filter(channel=CHANNEL)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
    ).first()
    if latest is not None:
        return timezone.localdate(latest).replace(day=1)
    return (today or timezone.localdate()).replace(day=1)


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


#: Municipality groups as AF keeps them (``kommunkod;grupp``), for comparing alike places.
DEMO_GROUPS = """kommunkod;grupp
0180;Storstäder
1480;Storstäder
1280;Storstäder
0380;Större städer
2480;Större städer
0780;Större städer
2281;Större städer
1490;Större städer
0980;Mindre städer och landsbygd
2584;Mindre städer och landsbygd
2121;Mindre städer och landsbygd
1438;Mindre städer och landsbygd
"""


def _groups() -> None:
    """The demo's groups, imported as AF's administrator would, once."""
    if not MunicipalityGroup.objects.exists():
        import_groups(DEMO_GROUPS, actor="inuk demo")


def _orgnrs(plan: population.Plan) -> set[str]:
    return {planned.orgnr for planned in plan.deliveries}


def _deliver(organisation: Organisation, planned: population.PlannedDelivery, data: bytes) -> None:
    # Arrival times are those of the month after; a file due later this month comes now.
    arrival = min(timezone.make_aware(planned.arrival), timezone.now())
    submission = Submission(
        organisation=organisation,
        filename=planned.filename,
        format=planned.format,
        submitted_by="inuk demo",
        channel=CHANNEL,
        received_at=arrival,
    )
    receive(io.BytesIO(data), submission, process_inline=True)


def _summary(plan: population.Plan, received: int) -> list[str]:
    if received == 0:
        lines = [
            f"Demodata finns redan ({plan.months[0]:%Y-%m}–{plan.months[-1]:%Y-%m}) / "
            "demo data already loaded"
        ]
    else:
        lines = [
            f"{received} leveranser mottagna ({plan.months[0]:%Y-%m}–{plan.months[-1]:%Y-%m}) / "
            f"{received} deliveries received"
        ]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for delivery in Delivery.objects.filter(channel=CHANNEL).select_related("organisation"):
        row = counts[delivery.organisation.name]
        row[0] += 1
        row[1] += delivery.accepted
        row[2] += delivery.rejected
    for name, (files, accepted, rejected) in sorted(counts.items()):
        lines.append(
            f"  {name}: {files} filer / files, {accepted} godtagna / accepted, "
            f"{rejected} avvisade / rejected"
        )
    late = Municipality.objects.get(code=plan.late)
    lines.append(
        f"  {late.name} har inte levererat {plan.months[-1]:%Y-%m} / "
        f"has not delivered {plan.months[-1]:%Y-%m}"
    )
    return lines


def _users() -> list[str]:
    lines = ["Demoanvändare / demo users:"]
    for email, orgnr, roles in DEMO_USERS:
        if not User.objects.filter(email=email).exists():
            User.objects.create_user(
                email,
                DEMO_PASSWORD,
                organisation=Organisation.objects.get(orgnr=orgnr),
                roles=roles,
            )
        lines.append(f"  {email} / {DEMO_PASSWORD}  ({', '.join(str(r.label) for r in roles)})")
    return lines


def _add_days(day: dt.date, days: int) -> dt.date:
    return day + dt.timedelta(days=days)
