"""The suite's one entry point: its constants, its cast, its deliveries and its fixtures.

Every test takes its organisations, users, passwords and personnummer from
here, and writes its delivery files with the project's own writers
(``inuk.format.writers``) through ``delivery_file()``; a test that needs a broken
file on purpose writes that one itself.

The cast (the ``cast`` fixture, ``make_cast()``) is nine users in three
organisations, every password ``PASSWORD``. Their limits, as
``inuk.accounts.scoping`` decides them:

Upplands Väsby kommun (``VASBY_ORGNR``, kommunkod ``VASBY_CODE``)
    ``vasby_reporter``   delivers as Upplands Väsby and sees its deliveries;
                         no statistics, no users or tokens.
    ``vasby_analyst``    sees Upplands Väsby's deliveries and statistics in
                         detail for 0114, everything else only protected;
                         delivers nothing, manages no one.
    ``vasby_admin``      user administrator: adds, changes and removes
                         Upplands Väsby's users (reporter, analyst, user
                         administrator only) and its API tokens; sees no
                         deliveries and no statistics.

Vallentuna kommun (``VALLENTUNA_ORGNR``, kommunkod ``VALLENTUNA_CODE``)
    ``vallentuna_reporter``, ``vallentuna_analyst``, ``vallentuna_admin``:
    the same for Vallentuna. Neither municipality's users ever see or touch
    the other's deliveries, users or tokens.

Arbetsförmedlingen (``AF_ORGNR``)
    ``af_admin``          förvaltare: sees every organisation's deliveries;
                          manages every organisation's users (any role) and
                          tokens; no statistics, no personnummer.
    ``af_analyst``        national analyst: statistics for all
                          municipalities without disclosure control; no
                          deliveries, no users.
    ``identity_officer``  the only one who may see personnummer (vault
                          pages); sees every organisation's deliveries;
                          no statistics, no users.

``cast.token(organisation, *scopes)`` issues an API token and returns it raw.
Agreements are not part of the cast: the ``agreements`` fixture puts Upplands
Väsby's and Vallentuna's in force (since 2020), for tests whose deliveries
must be received.

Tests that start processes (subprocesses, process pools, ``inuk`` commands
run as processes, servers, browsers) are marked ``slow``; any other test that
tries to start one fails (``processes_only_in_slow_tests``), so that
``make test-fast`` (``-m "not slow"``) stays fast.

Django's modules are imported where they are used, so that the constants and
the delivery helpers can be imported before Django is set up.
"""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing.process
import os
import random
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import pytest

from inuk.format import writers
from inuk.format.synthetic import personnummer
from inuk.format.writers import Kommun, Person, Transaction

if TYPE_CHECKING:
    from django.test import Client

    from inuk.accounts.models import User
    from inuk.intake.models import Delivery
    from inuk.organisations.models import Organisation

# -- Constants -----------------------------------------------------------------

#: Every user's password in the cast.
PASSWORD = "gröna-äpplen-och-blå-bilar"

VASBY_ORGNR, VASBY_CODE = "2120000019", "0114"  # Upplands Väsby kommun
VALLENTUNA_ORGNR, VALLENTUNA_CODE = "2120000027", "0115"  # Vallentuna kommun
AF_ORGNR = "2021002114"  # Arbetsförmedlingen
#: Municipalities from the shipped register that no test puts under agreement unless it says so.
SOLNA_CODE = "0184"
STOCKHOLM_CODE = "0180"
GOTEBORG_CODE = "1480"
#: Organisations that are not in the shipped register (valid check digits).
SUPPLIER_ORGNR = "5566778899"  # a supplier, "System AB"
FEDERATION_ORGNR = "2220001230"  # a federation of municipalities

#: The persons of the tests: valid personnummer (their sex as their names say) of people who
#: may be made up.
ANNA = personnummer(dt.date(1999, 1, 1), 122)
#: The samordningsnummer Anna had before she was given her personnummer.
ANNA_SAMORDNING = personnummer(dt.date(1999, 1, 1), 122, coordination=True)
#: The number Anna's was corrected to.
ANNA_NEW = personnummer(dt.date(1999, 1, 2), 124)
#: Anna's personnummer with a wrong check digit.
ANNA_MISTYPED = ANNA[:-1] + str((int(ANNA[-1]) + 1) % 10)
BO = personnummer(dt.date(2001, 2, 2), 457)
CECILIA = personnummer(dt.date(2002, 3, 3), 788)
CURT = personnummer(dt.date(1985, 5, 5), 789)
DORIS = personnummer(dt.date(1998, 1, 1), 788, coordination=True)  # a samordningsnummer


def many_personnummer(count: int, seed: int = 0) -> list[str]:
    """``count`` distinct valid personnummer, sorted, the same for the same seed."""
    rnd = random.Random(seed)
    numbers: set[str] = set()
    while len(numbers) < count:
        birth = dt.date(rnd.randint(1940, 2008), rnd.randint(1, 12), rnd.randint(1, 28))
        numbers.add(personnummer(birth, rnd.randint(1, 999)))
    return sorted(numbers)


# -- Deliveries, written with the project's writers -----------------------------


def insats(
    code: str = "SYV",
    start: str = "20240105",
    end: str | None = None,
    *,
    at: str = "2024-01-05 10:00:00",
    status: str = "Registrering",
    system: str = "SystemX",
) -> Transaction:
    """An Insats as it stands in a file (``at`` its Transaktionsdatum)."""
    return Transaction(at, status, code, start, end, system)


def resultat(
    code: str = "ARB",
    start: str = "20240105",
    *,
    at: str = "2024-01-05 10:00:00",
    status: str = "Registrering",
    system: str = "SystemX",
) -> Transaction:
    """A Resultat as it stands in a file."""
    return Transaction(at, status, code, start, None, system)


def delivery_file(
    persons: Iterable[Person] = (),
    *,
    orgnr: str = VASBY_ORGNR,
    kommunkod: str = VASBY_CODE,
    format: str = "xml",
    kommuner: Iterable[Kommun] | None = None,
) -> bytes:
    """The file of one Kommun block of ``persons`` (Upplands Väsby's own unless told
    otherwise), or of the ``kommuner`` given."""
    if kommuner is None:
        kommuner = [Kommun(orgnr, kommunkod, list(persons))]
    return writers.to_bytes(format, kommuner)


def receive_file(organisation: Organisation, data: bytes, **options) -> Delivery:
    """``data`` received from ``organisation`` as an upload is, and processed at once when it
    is small (``options``: the ``Submission``'s, and ``process_inline``)."""
    from inuk.intake.receive import Submission, receive

    inline = options.pop("process_inline", None)
    options.setdefault("filename", "leverans.xml")
    submission = Submission(organisation=organisation, **options)
    return receive(io.BytesIO(data), submission, process_inline=inline)


@pytest.fixture
def deliver() -> Callable[..., Delivery]:
    """``deliver(organisation, data, **options)``: ``receive_file``."""
    return receive_file


# -- The cast ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    vasby: Organisation
    vallentuna: Organisation
    af: Organisation
    vasby_reporter: User
    vasby_analyst: User
    vasby_admin: User
    vallentuna_reporter: User
    vallentuna_analyst: User
    vallentuna_admin: User
    af_admin: User
    af_analyst: User
    identity_officer: User

    def users(self) -> dict[str, User]:
        """Every member of the cast by name, for table-driven tests."""
        from inuk.accounts.models import User

        return {
            field.name: getattr(self, field.name)
            for field in fields(self)
            if isinstance(getattr(self, field.name), User)
        }

    @staticmethod
    def token(organisation: Organisation, *scopes: str, name: str = "Procapita export") -> str:
        """A new API token of ``organisation`` (deliver and read unless told), returned raw."""
        from inuk.accounts.tokens import issue_token

        _token, raw = issue_token(organisation, name, list(scopes) or ["deliver", "read"])
        return raw


#: Each member of the cast: organisation, e-mail address and role.
MEMBERS = {
    "vasby_reporter": (VASBY_ORGNR, "reporter@upplandsvasby.example", "reporter"),
    "vasby_analyst": (VASBY_ORGNR, "analyst@upplandsvasby.example", "analyst"),
    "vasby_admin": (VASBY_ORGNR, "admin@upplandsvasby.example", "user_admin"),
    "vallentuna_reporter": (VALLENTUNA_ORGNR, "reporter@vallentuna.example", "reporter"),
    "vallentuna_analyst": (VALLENTUNA_ORGNR, "analyst@vallentuna.example", "analyst"),
    "vallentuna_admin": (VALLENTUNA_ORGNR, "admin@vallentuna.example", "user_admin"),
    "af_admin": (AF_ORGNR, "forvaltare@arbetsformedlingen.example", "af_admin"),
    "af_analyst": (AF_ORGNR, "analytiker@arbetsformedlingen.example", "national_analyst"),
    "identity_officer": (AF_ORGNR, "identitet@arbetsformedlingen.example", "identity_officer"),
}


def make_cast() -> Cast:
    """The cast, in a test with database access (the ``cast`` fixture calls it).

    Nearly every test makes it, so its users are written in two statements
    rather than one ``create_user`` each (whose checks the account tests test).
    """
    from inuk.accounts.models import Role, RoleGrant, User
    from inuk.organisations.models import Organisation

    organisations = Organisation.objects.in_bulk(
        [VASBY_ORGNR, VALLENTUNA_ORGNR, AF_ORGNR], field_name="orgnr"
    )
    users = {}
    for name, (orgnr, email, _role) in MEMBERS.items():
        user = User(
            email=email, organisation=organisations[orgnr], first_name=email.split("@")[0].title()
        )
        user.set_password(PASSWORD)
        users[name] = user
    User.objects.bulk_create(users.values())
    RoleGrant.objects.bulk_create(
        RoleGrant(user=users[name], role=Role(role)) for name, (_, _, role) in MEMBERS.items()
    )
    return Cast(
        vasby=organisations[VASBY_ORGNR],
        vallentuna=organisations[VALLENTUNA_ORGNR],
        af=organisations[AF_ORGNR],
        **users,
    )


def log_in(client: Client, user: User) -> Client:
    """Log ``client`` in as ``user``, as after the real log-in.

    A user whose role demands a second factor gets a confirmed authenticator
    and a session verified with it; everyone else a plain session.
    """
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    if user.requires_second_factor:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="INUK", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


@pytest.fixture
def agreements(db: None) -> None:
    """Upplands Väsby and Vallentuna under agreements in force since 2020."""
    from inuk.organisations.models import Agreement, Municipality

    for code in (VASBY_CODE, VALLENTUNA_CODE):
        Agreement.objects.create(
            municipality=Municipality.objects.get(code=code),
            af_case_number="Af-2020/1",
            signed_by_af=dt.date(2020, 1, 1),
            signed_by_municipality=dt.date(2020, 1, 2),
        )


@pytest.fixture
def client_as(client: Client) -> Callable[[User], Client]:
    """The test client logged in as the given user (``log_in``)."""
    return lambda user: log_in(client, user)


# -- Every test ----------------------------------------------------------------------

# Playwright's sync API runs an event loop in the test's thread; the tests'
# own database calls stay synchronous, so Django's async guard is lifted here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def reference_data(request):
    """The shipped municipalities, AF and code list, in every test that uses the database.

    Migrations load them once; a test with real transactions empties the
    tables when it ends, so they are put back for the tests after it.
    """
    uses_db = request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server")
    )
    if not uses_db:
        return
    if request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("_django_db_helper")
    elif "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("db")
    from inuk.codes import reference as codes
    from inuk.codes.models import Code
    from inuk.organisations import reference as organisations
    from inuk.organisations.models import Municipality, Organisation

    if Municipality.objects.count() < 290:
        organisations.load(Organisation, Municipality)
    if not Code.objects.exists():
        codes.load(Code)


@pytest.fixture(autouse=True)
def audit_anchor(settings, tmp_path):
    """Each test its own audit anchor: the log is emptied after a test, a shared file is not."""
    settings.INUK_AUDIT_ANCHOR = tmp_path / "audit-anchor"
    return settings.INUK_AUDIT_ANCHOR


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: kept statistics answers and rate limits belong to
    one test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def processes_only_in_slow_tests(request, monkeypatch):
    """A test not marked ``slow`` that starts a process fails, saying so."""
    if request.node.get_closest_marker("slow") is not None:
        return

    def refuse(*args, **kwargs):
        raise AssertionError("this test starts a process: mark it slow (pytest.mark.slow)")

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
    monkeypatch.setattr(os, "fork", refuse)


# -- Browsers --------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser(monkeypatch):
    """Debian's chromium, driven by Playwright (no browser download), started and stopped
    with each test, so that no Playwright event loop is left running into the next."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    yield browser
    # Queries made while the live server ran opened connections of their own; closed,
    # or PostgreSQL refuses to drop the test database at the end.
    connections.close_all()
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    """A fresh page; the test fails if the page broke the Content Security Policy."""
    context = browser.new_context(locale="sv-SE", accept_downloads=True)
    page = context.new_page()
    violations = watch_policy(page)
    yield page
    context.close()
    assert violations == []


def watch_policy(page) -> list[str]:
    """The Content Security Policy violations the page reports, filled as it runs.

    Both the browser's console message ("Refused to execute inline script
    because it violates ...") and the page's own securitypolicyviolation
    events are caught; the listener is added by the browser, not the page, so
    the policy does not stop it.
    """
    violations: list[str] = []
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " console.error('CSP violation: ' + e.effectiveDirective + ' ' + e.blockedURI));"
    )

    def seen(message) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("CSP violation"):
            violations.append(message.text)

    page.on("console", seen)
    return violations


def axe_violations(page) -> list[dict]:
    """Accessibility problems axe-core finds on the page (WCAG 2.1 A and AA rules)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
        },
    )
    return results.response["violations"]
