"""The audit log in the admin, read-only; and ``AuditedAdmin``, which logs admin changes.

An admin change is logged as ``admin.change`` with who made it, which object
(``app.model:pk``) and the names of the fields that changed, not their values:
the log can never be erased, so it keeps no more personal data than it must.
Each entry joins the admin's own transaction, so a change that fails leaves no
entry behind.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db import models, router, transaction
from django.db.models import QuerySet
from django.forms import BaseModelFormSet, ModelForm
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inuk.audit.log import Event, record
from inuk.audit.models import Entry
from inuk.client import client_address


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose additions, changes and deletions, inlines included, are audited."""

    def audit_organisation(self, obj: Any) -> str:
        """The organisation number the object concerns, for the entry's ``organisation``."""
        return ""

    def _audit(
        self,
        request: HttpRequest,
        action: str,
        obj: models.Model,
        fields: Iterable[str] = (),
        *,
        pk: object = None,
        organisation: str | None = None,
        parent: models.Model | None = None,
    ) -> None:
        details: dict[str, object] = {"action": action, "fields": sorted(fields)}
        if parent is None:
            details["object"] = str(obj)[:200]
        else:
            details["parent"] = f"{parent._meta.label_lower}:{parent.pk}"
        if organisation is None:
            organisation = self.audit_organisation(parent or obj)
        record(
            Event.ADMIN_CHANGE,
            actor=request.user.get_username(),
            organisation=organisation,
            target=f"{obj._meta.label_lower}:{obj.pk if pk is None else pk}",
            remote_addr=client_address(request),
            details=details,
        )

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        # Saving a page where only an inline changed is not a change of this object.
        if form.changed_data or not change:
            self._audit(request, "changed" if change else "added", obj, form.changed_data)

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        # Deleting clears the primary key, so what identifies the object is taken first.
        pk, organisation = obj.pk, self.audit_organisation(obj)
        super().delete_model(request, obj)
        self._audit(request, "deleted", obj, pk=pk, organisation=organisation)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        doomed = [(obj, obj.pk, self.audit_organisation(obj)) for obj in queryset]
        with transaction.atomic(using=router.db_for_write(self.model)):
            super().delete_queryset(request, queryset)
            for obj, pk, organisation in doomed:
                self._audit(request, "deleted", obj, pk=pk, organisation=organisation)

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseModelFormSet, change: bool
    ) -> None:
        parent = form.instance
        deleted = [(f.instance, f.instance.pk) for f in formset.deleted_forms if f.instance.pk]
        super().save_formset(request, form, formset, change)
        added = {id(obj) for obj in formset.new_objects}
        for inline_form in formset.forms:
            if id(inline_form.instance) in added:
                self._audit(
                    request, "added", inline_form.instance, inline_form.changed_data, parent=parent
                )
        for obj, fields in formset.changed_objects:
            self._audit(request, "changed", obj, fields, parent=parent)
        for obj, pk in deleted:
            self._audit(request, "deleted", obj, pk=pk, parent=parent)


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    """The log as it is: nobody, superusers included, may add, change or delete an entry."""

    list_display = ("id", "when", "event", "actor", "organisation", "target", "remote_addr")
    list_filter = ("event",)
    search_fields = ("=id", "actor", "organisation", "target")
    date_hierarchy = "at"
    ordering = ("-id",)
    fields = (
        "id",
        "when",
        "event",
        "actor",
        "organisation",
        "target",
        "remote_addr",
        "details_json",
        "previous",
        "digest",
    )
    readonly_fields = ("when", "details_json")
    actions = None

    @admin.display(description=_("when (UTC)"), ordering="at")
    def when(self, entry: Entry) -> str:
        return entry.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description=_("details"))
    def details_json(self, entry: Entry) -> str:
        text = json.dumps(entry.details, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Entry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Entry | None = None) -> bool:
        return False
