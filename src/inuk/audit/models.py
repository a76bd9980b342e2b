"""The audit log: append-only, each entry's HMAC covering the one before it.

Entries are written only by ``inuk.audit.log.record()``, which numbers them
1, 2, 3... under a lock and seals each with a digest over its own fields and
the digest of the entry before it. The ORM refuses to change or delete one, so
that a slip in application code cannot quietly rewrite history; what someone
with direct database access does is caught by ``inuk.audit.log.verify()``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

#: What the first entry chains to.
GENESIS = "0" * 64

#: The fields a digest covers, in the order they are listed (the serialisation
#: sorts keys anyway; the list is what decides which fields count).
CHAINED_FIELDS = (
    "id",
    "at",
    "event",
    "actor",
    "organisation",
    "target",
    "remote_addr",
    "details",
    "previous",
)


class AppendOnlyError(RuntimeError):
    """An attempt to change or remove an audit entry through the ORM."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"The audit log is append-only: {what} is not allowed. "
            "Write entries with inuk.audit.log.record()."
        )


def canonical(values: Mapping[str, Any]) -> bytes:
    """The bytes a digest covers: the chained fields as sorted-key, compact JSON.

    ``at`` is written in UTC with microseconds, which is what both SQLite and
    PostgreSQL keep, so an entry read back serialises to the same bytes.
    """
    at: datetime = values["at"]
    payload = {name: values[name] for name in CHAINED_FIELDS}
    payload["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def seal(values: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA-256 of the canonical form, as 64 hex digits."""
    return hmac.new(key, canonical(values), hashlib.sha256).hexdigest()


class EntryQuerySet(models.QuerySet["Entry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("updating entries")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("updating entries")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("deleting entries")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[Entry]:  # type: ignore[override]
        raise AppendOnlyError("bulk-creating entries outside the chain")


class Entry(models.Model):
    # Numbered by record() under its lock rather than by the database, so a
    # rolled-back entry leaves no hole: a hole always means a removed entry.
    id = models.BigIntegerField(primary_key=True, editable=False)
    at = models.DateTimeField(_("when (UTC)"))
    event = models.CharField(_("event"), max_length=50, db_index=True)
    actor = models.CharField(_("who"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation number"), max_length=10, blank=True)
    target = models.CharField(_("what"), max_length=200, blank=True)
    remote_addr = models.CharField(_("from where"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    previous = models.CharField(_("digest of the entry before"), max_length=64)
    digest = models.CharField(_("digest"), max_length=64, unique=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.id} {self.at:%Y-%m-%d %H:%M:%S} {self.event} {self.target}".rstrip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("changing an entry")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("deleting an entry")
