"""AF's code lists in the admin; every change is audited."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inuk.audit.admin import AuditedAdmin
from inuk.codes.models import Code


class ValidityFilter(admin.SimpleListFilter):
    title = _("validity today")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return [
            ("valid", _("Valid")),
            ("retired", _("Retired")),
            ("future", _("Not yet valid")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "valid":
            return queryset.filter(
                Q(valid_to__isnull=True) | Q(valid_to__gt=today), valid_from__lte=today
            )
        if self.value() == "retired":
            return queryset.filter(valid_to__lte=today)
        if self.value() == "future":
            return queryset.filter(valid_from__gt=today)
        return queryset


@admin.register(Code)
class CodeAdmin(AuditedAdmin):
    list_display = ("code", "name_sv", "kind", "valid_from", "valid_to", "valid_today")
    list_filter = ("kind", ValidityFilter)
    search_fields = ("code", "name_sv", "name_en")
    ordering = ("kind", "code", "valid_from")

    @admin.display(boolean=True, description=_("valid today"))
    def valid_today(self, obj: Code) -> bool:
        return obj.is_valid_on(timezone.localdate())
