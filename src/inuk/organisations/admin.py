"""Organisations, municipalities, agreements and delivery authorisations in the admin.

Every change made here is audited (``inuk.audit.admin.AuditedAdmin``).
"""

from __future__ import annotations

import re

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inuk.audit.admin import AuditedAdmin
from inuk.organisations.models import (
    Agreement,
    ContactPerson,
    DeliveryAuthorisation,
    Municipality,
    Organisation,
)

_WRITTEN_ORGNR = re.compile(r"(?:16)?(\d{6})-?(\d{4})")


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ("name", "orgnr", "kind")
    list_filter = ("kind",)
    search_fields = ("orgnr", "name")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Organisation numbers are stored as ten digits; people type 212000-0142.
        written = _WRITTEN_ORGNR.fullmatch(search_term.strip())
        if written:
            search_term = written.group(1) + written.group(2)
        return super().get_search_results(request, queryset, search_term)

    def audit_organisation(self, obj: Organisation) -> str:
        return obj.orgnr


@admin.register(Municipality)
class MunicipalityAdmin(AuditedAdmin):
    """The shipped register: names and counties may be corrected, codes never change."""

    list_display = ("code", "name", "county_name", "organisation")
    list_filter = ("county_name",)
    list_select_related = ("organisation",)
    search_fields = ("code", "name", "county_name", "organisation__orgnr")
    autocomplete_fields = ("organisation",)

    def get_readonly_fields(self, request: HttpRequest, obj: Municipality | None = None):
        return ("code", "organisation") if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Municipality | None = None) -> bool:
        # Deliveries and statistics refer to municipalities by code for good.
        return False

    def audit_organisation(self, obj: Municipality) -> str:
        return obj.organisation.orgnr


class InForceFilter(admin.SimpleListFilter):
    title = _("in force today")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        in_force = Agreement.objects.in_force(timezone.localdate()).values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=in_force)
        if self.value() == "no":
            return queryset.exclude(pk__in=in_force)
        return queryset


class ContactPersonInline(admin.TabularInline):
    model = ContactPerson
    extra = 0


@admin.register(Agreement)
class AgreementAdmin(AuditedAdmin):
    list_display = (
        "municipality",
        "af_case_number",
        "municipality_case_number",
        "signed_by_af",
        "signed_by_municipality",
        "in_force_today",
    )
    list_filter = (InForceFilter,)
    list_select_related = ("municipality",)
    search_fields = (
        "municipality__code",
        "municipality__name",
        "af_case_number",
        "municipality_case_number",
    )
    autocomplete_fields = ("municipality",)
    inlines = [ContactPersonInline]

    @admin.display(boolean=True, description=_("in force today"))
    def in_force_today(self, obj: Agreement) -> bool:
        return obj.is_in_force(timezone.localdate())

    def audit_organisation(self, obj: Agreement) -> str:
        return obj.municipality.organisation.orgnr


@admin.register(DeliveryAuthorisation)
class DeliveryAuthorisationAdmin(AuditedAdmin):
    list_display = ("deliverer", "municipality", "valid_from", "valid_until", "valid_today")
    list_select_related = ("deliverer", "municipality")
    search_fields = (
        "deliverer__name",
        "deliverer__orgnr",
        "municipality__code",
        "municipality__name",
    )
    autocomplete_fields = ("deliverer", "municipality")

    @admin.display(boolean=True, description=_("valid today"))
    def valid_today(self, obj: DeliveryAuthorisation) -> bool:
        return obj.is_valid_on(timezone.localdate())

    def audit_organisation(self, obj: DeliveryAuthorisation) -> str:
        return obj.municipality.organisation.orgnr
