"""The named cast that access tests are written against.

``make_cast()`` creates nine users in three organisations; call it in any
test with database access (``tests/accounts/conftest.py`` has a ``cast``
fixture). Every user's password is ``PASSWORD``. Their limits, as
``inuk.accounts.scoping`` decides them:

Upplands Väsby kommun (orgnr 2120000019, kommunkod 0114)
    ``vasby_reporter``   delivers as Upplands Väsby and sees its deliveries;
                         no statistics, no users or tokens.
    ``vasby_analyst``    sees Upplands Väsby's deliveries and statistics in
                         detail for 0114, everything else only protected;
                         delivers nothing, manages no one.
    ``vasby_admin``      user administrator: adds, changes and removes
                         Upplands Väsby's users (reporter, analyst, user
                         administrator only) and its API tokens; sees no
                         deliveries and no statistics.

Vallentuna kommun (orgnr 2120000027, kommunkod 0115)
    ``vallentuna_reporter``, ``vallentuna_analyst``, ``vallentuna_admin``:
    the same for Vallentuna. Neither municipality's users ever see or touch
    the other's deliveries, users or tokens.

Arbetsförmedlingen (orgnr 2021002114)
    ``af_admin``          förvaltare: sees every organisation's deliveries;
                          manages every organisation's users (any role) and
                          tokens; no statistics, no personnummer.
    ``af_analyst``        national analyst: statistics for all
                          municipalities without disclosure control; no
                          deliveries, no users.
    ``identity_officer``  the only one who may see personnummer (vault
                          pages); sees every organisation's deliveries;
                          no statistics, no users.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.accounts.models import Role, User
from inuk.organisations.models import Organisation

PASSWORD = "gröna-äpplen-och-blå-bilar"

VASBY_ORGNR, VASBY_CODE = "2120000019", "0114"
VALLENTUNA_ORGNR, VALLENTUNA_CODE = "2120000027", "0115"
AF_ORGNR = "2021002114"


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
        return {
            field.name: getattr(self, field.name)
            for field in fields(self)
            if isinstance(getattr(self, field.name), User)
        }


def _user(organisation: Organisation, name: str, domain: str, role: Role) -> User:
    return User.objects.create_user(
        f"{name}@{domain}",
        PASSWORD,
        organisation=organisation,
        roles=[role],
        first_name=name.replace("-", " ").title(),
    )


def make_cast() -> Cast:
    vasby = Organisation.objects.get(orgnr=VASBY_ORGNR)
    vallentuna = Organisation.objects.get(orgnr=VALLENTUNA_ORGNR)
    af = Organisation.objects.get(orgnr=AF_ORGNR)
    return Cast(
        vasby=vasby,
        vallentuna=vallentuna,
        af=af,
        vasby_reporter=_user(vasby, "reporter", "upplandsvasby.example", Role.REPORTER),
        vasby_analyst=_user(vasby, "analyst", "upplandsvasby.example", Role.ANALYST),
        vasby_admin=_user(vasby, "admin", "upplandsvasby.example", Role.USER_ADMIN),
        vallentuna_reporter=_user(vallentuna, "reporter", "vallentuna.example", Role.REPORTER),
        vallentuna_analyst=_user(vallentuna, "analyst", "vallentuna.example", Role.ANALYST),
        vallentuna_admin=_user(vallentuna, "admin", "vallentuna.example", Role.USER_ADMIN),
        af_admin=_user(af, "forvaltare", "arbetsformedlingen.example", Role.AF_ADMIN),
        af_analyst=_user(af, "analytiker", "arbetsformedlingen.example", Role.NATIONAL_ANALYST),
        identity_officer=_user(
            af, "identitet", "arbetsformedlingen.example", Role.IDENTITY_OFFICER
        ),
    )


def log_in(client: Client, user: User) -> Client:
    """Log ``client`` in as ``user``, as after the real log-in.

    A user whose role demands a second factor gets a confirmed authenticator
    and a session verified with it; everyone else a plain session.
    """
    client.force_login(user)
    if user.requires_second_factor:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="INUK", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
