"""Organisations, municipalities, agreements and delivery authorisations in the admin.

Every change made here is audited (``inuk.audit.admin.AuditedAdmin``).
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inuk.audit.admin import AuditedAdmin
from inuk.organisations.groups import GroupFileError, import_groups
from inuk.organisations.models import (
    Agreement,
    ContactPerson,
    DeliveryAuthorisation,
    Municipality,
    MunicipalityGroup,
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


class GroupFileForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "One line per municipality and group: kommunkod;grupp. Each group in the file "
            "gets exactly the municipalities listed for it; other groups are left as they are."
        ),
    )


@admin.register(MunicipalityGroup)
class MunicipalityGroupAdmin(AuditedAdmin):
    """AF's groupings of municipalities, edited here or imported as ``kommunkod;grupp``."""

    list_display = ("name", "slug", "size")
    search_fields = ("name", "slug", "municipalities__code", "municipalities__name")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("municipalities",)
    change_list_template = "admin/organisations/municipalitygroup/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(size=Count("municipalities"))

    @admin.display(description=_("municipalities"), ordering="size")
    def size(self, obj: MunicipalityGroup) -> int:
        return obj.size  # type: ignore[attr-defined]

    def get_urls(self):
        own = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="organisations_municipalitygroup_import",
            )
        ]
        return own + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a ``kommunkod;grupp`` file; every bad line is named and nothing changes."""
        if not self.has_change_permission(request) or not self.has_add_permission(request):
            raise PermissionDenied
        form = GroupFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = import_groups(
                    form.cleaned_data["file"].read(),
                    actor=request.user.get_username(),
                    remote_addr=request.META.get("REMOTE_ADDR", ""),
                )
            except GroupFileError as exc:
                for error in exc.errors[:20]:
                    form.add_error(
                        "file",
                        gettext("Line %(line)d: %(sv)s / %(en)s")
                        % {"line": error.line, "sv": error.sv, "en": error.en},
                    )
            else:
                self.message_user(
                    request,
                    gettext(
                        "Imported: %(created)d groups created, %(changed)d changed, "
                        "%(unchanged)d unchanged."
                    )
                    % {
                        "created": len(result.created),
                        "changed": len(result.changed),
                        "unchanged": len(result.unchanged),
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:organisations_municipalitygroup_changelist")
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": gettext("Import municipality groups"),
        }
        return TemplateResponse(
            request, "admin/organisations/municipalitygroup/import.html", context
        )
