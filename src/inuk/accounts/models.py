"""People and machines that use the service, and the roles that say what they may do.

Every user belongs to exactly one organisation and holds one or more roles
(SPEC §1). What a role lets someone see is decided in one place,
``inuk.accounts.scoping``; this module only stores who holds what.

An API token is an organisation's key for machine transfer. Only a SHA-256
of it is stored: the token itself is 160 random bits, so the hash needs no
salt or stretching (it is not a password), and a short public id in the
token finds its row without scanning the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from inuk.organisations.models import Organisation


class Role(models.TextChoices):
    """The roles of SPEC §1. Values are stored: never rename one."""

    REPORTER = "reporter", _("Reporter")
    ANALYST = "analyst", _("Analyst")
    USER_ADMIN = "user_admin", _("User administrator")
    AF_ADMIN = "af_admin", _("Service administrator (AF)")
    IDENTITY_OFFICER = "identity_officer", _("Identity officer (AF)")
    NATIONAL_ANALYST = "national_analyst", _("National analyst")

    @classmethod
    def allowed_for(cls, organisation: Organisation) -> list[Role]:
        """Roles a user of ``organisation`` may hold: AF's roles only within AF."""
        if organisation.is_agency:
            return list(cls)
        return [role for role in cls if role not in AF_ROLES]


#: Roles only Arbetsförmedlingen's own users may hold. The national analysts
#: outside AF (e.g. the delegation for young people) get accounts in AF's
#: organisation, since AF grants and answers for that access.
AF_ROLES: frozenset[Role] = frozenset({Role.AF_ADMIN, Role.IDENTITY_OFFICER, Role.NATIONAL_ANALYST})

#: Roles whose holders must log in with a second factor: enrolment is forced at
#: their first log-in and they cannot turn it off (SPEC §8: only they see personnummer).
SECOND_FACTOR_ROLES: frozenset[Role] = frozenset({Role.IDENTITY_OFFICER})

#: Roles an organisation's own user administrators may grant.
LOCAL_ROLES: frozenset[Role] = frozenset({Role.REPORTER, Role.ANALYST, Role.USER_ADMIN})


def normalise_email(email: str) -> str:
    """E-mail addresses are log-in names: compared without case or surrounding space."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalise_email(username or ""))

    def create_user(
        self,
        email: str,
        password: str | None = None,
        *,
        organisation: Organisation,
        roles: Iterable[str] = (),
        **extra: Any,
    ) -> User:
        """A user with ``roles``; without a password, one that must be set by link first."""
        with transaction.atomic():
            user = self.model(email=normalise_email(email), organisation=organisation, **extra)
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.full_clean(exclude=["password"])
            user.save(using=self._db)
            user.set_roles(roles)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        """A Django-admin superuser. Superuser status grants no role in the service."""
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        from inuk.organisations.models import Organisation

        # createsuperuser passes the organisation's primary key, or a bare instance.
        chosen = extra.pop("organisation")
        organisation = Organisation.objects.get(pk=getattr(chosen, "pk", chosen))
        return self.create_user(email, password, organisation=organisation, **extra)


class User(AbstractUser):
    """A person, logging in with their e-mail address.

    Django's ``is_staff``/``is_superuser`` matter for Django's admin only;
    what someone may do in the service follows from ``roles``.
    """

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail"), unique=True)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("organisation"),
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["organisation"]

    objects = UserManager()  # type: ignore[assignment,misc]

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalise_email(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email

    @cached_property
    def roles(self) -> frozenset[Role]:
        if self.pk is None:
            return frozenset()
        # .all() so that a prefetch_related("role_grants") spares a query per user.
        return frozenset(Role(grant.role) for grant in self.role_grants.all())

    @property
    def requires_second_factor(self) -> bool:
        """Whether the user's roles demand a second factor at every log-in."""
        return self.has_role(*SECOND_FACTOR_ROLES)

    def has_role(self, *roles: str) -> bool:
        """True if the user is active and holds any of ``roles``."""
        return self.is_active and not self.roles.isdisjoint(roles)

    def set_roles(self, roles: Iterable[str]) -> None:
        """Replace the user's roles; refuses AF roles outside AF."""
        wanted = {Role(role) for role in roles}
        not_allowed = wanted - set(Role.allowed_for(self.organisation))
        if not_allowed:
            raise ValidationError(
                _("A user of %(organisation)s cannot hold the role %(role)s."),
                code="role_not_allowed",
                params={
                    "organisation": self.organisation.name,
                    "role": ", ".join(sorted(str(role.label) for role in not_allowed)),
                },
            )
        with transaction.atomic():
            self.role_grants.exclude(role__in=wanted).delete()
            held = set(self.role_grants.values_list("role", flat=True))
            RoleGrant.objects.bulk_create(
                RoleGrant(user=self, role=role) for role in wanted if role not in held
            )
        self.__dict__.pop("roles", None)
        getattr(self, "_prefetched_objects_cache", {}).pop("role_grants", None)


class RoleGrant(models.Model):
    """One role held by one user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="one_grant_per_role")]

    def __str__(self) -> str:
        return f"{self.user} {self.role}"


#: How every API token begins, so that a leaked one is easy to search for.
PREFIX = "inuk_"


class TokenScope(models.TextChoices):
    """What an API token may be used for. Values are stored: never rename one."""

    DELIVER = "deliver", _("Deliver files")
    READ = "read", _("Read receipts")


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self, now: dt.datetime | None = None) -> ApiTokenQuerySet:
        """Tokens that still open the API: not revoked and not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())

    def for_organisations(self, organisations: models.QuerySet) -> ApiTokenQuerySet:
        return self.filter(organisation__in=organisations)


class ApiToken(models.Model):
    """An organisation's key for machine transfer; see ``inuk.accounts.tokens``."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("organisation"),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for, e.g. the system using it.")
    )
    public_id = models.CharField(_("token id"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("permissions"), default=list)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.CharField(_("created by"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.CharField(_("revoked by"), max_length=200, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_from = models.CharField(_("last used from"), max_length=64, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="token_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    @property
    def audit_name(self) -> str:
        """How the token is named in the audit log and on receipts: ``token:<id> <name>``."""
        return f"{self.audit_prefix}{self.name}"

    @property
    def audit_prefix(self) -> str:
        """How every ``audit_name`` of this token begins, whatever its name was then."""
        return f"token:{self.public_id} "

    @property
    def hint(self) -> str:
        """The token's harmless beginning, to recognise it in a configuration file."""
        return f"{PREFIX}{self.public_id}_…"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def is_active(self, now: dt.datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())

    @property
    def is_expired(self) -> bool:
        return self.revoked_at is None and self.expires_at <= timezone.now()

    def get_scopes_display(self) -> list[str]:
        return [str(TokenScope(scope).label) for scope in self.scopes if scope in TokenScope]


class LoginFailure(models.Model):
    """A failed log-in, kept for the throttle's window (``inuk.accounts.throttle``)."""

    username = models.CharField(max_length=254)
    remote_addr = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["username", "remote_addr", "at"], name="login_failure_key")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.remote_addr}"


class PasswordResetMail(models.Model):
    """A password-reset mail sent, kept for the throttle's window (``inuk.accounts.throttle``)."""

    email = models.CharField(max_length=254)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["email", "at"], name="reset_mail_key")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M}"
