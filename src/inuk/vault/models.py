"""The identity vault: the only tables that hold personnummer, encrypted.

They live in their own database (alias ``vault``) with its own connection and
credentials; ``routers.VaultRouter`` keeps them there and everything else out.
"""

from __future__ import annotations

from django.db import models


class Person(models.Model):
    """A person known to the service, by pseudonym only."""

    pseudonym = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "person"


class Identity(models.Model):
    """One personnummer of a person; a corrected number is a second identity of the same person."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identities")
    lookup = models.BinaryField(max_length=32, unique=True)
    key_version = models.PositiveSmallIntegerField()
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "identity"
        verbose_name_plural = "identities"


class FileChunk(models.Model):
    """A piece of a delivered file, compressed and encrypted (it holds personnummer)."""

    delivery_id = models.BigIntegerField()
    seq = models.PositiveIntegerField()
    key_version = models.PositiveSmallIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery_id", "seq"], name="file_chunk_order")
        ]
