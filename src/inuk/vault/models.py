"""The identity vault: the only tables that hold personnummer, and only encrypted.

They live in their own database (alias ``vault``) with its own connection and
credentials; ``routers.VaultRouter`` keeps them there and everything else out.
The keys are never stored here (``inuk.vault.keys``), so a copy of this
database alone reveals nothing but how many persons and files there are.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Identity(models.Model):
    """One personnummer of a person, under the person's pseudonym.

    A person is the set of rows that share a pseudonym: a corrected number (a
    changed birth date or legal sex) is a second row with the same pseudonym.
    The pseudonym is random (``pseudonymize.new_pseudonym``); 128 bits make two
    persons drawing the same one as unlikely as guessing a key.

    ``lookup`` is the keyed HMAC-SHA-256 of the canonical 12-digit number, the
    only way to find a row from a number. ``ciphertext`` is nonce + AES-256-GCM
    ciphertext + tag under encryption key ``key_version``, bound to the
    pseudonym, the key version and the look-up, so that it cannot be moved to
    another row.
    """

    pseudonym = models.CharField(_("pseudonym"), max_length=32, db_index=True)
    lookup = models.BinaryField(_("look-up hash"), max_length=32, unique=True)
    key_version = models.PositiveIntegerField(_("key version"))
    ciphertext = models.BinaryField(_("encrypted personnummer"), max_length=64)
    created_at = models.DateTimeField(_("first known"), auto_now_add=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")

    def __str__(self) -> str:
        return self.pseudonym


class FileChunk(models.Model):
    """A piece of a delivered file, compressed and encrypted (the file holds personnummer).

    ``data`` is nonce + ciphertext + tag of a piece of the zlib stream; the
    associated data binds it to the delivery, its place in the file, the key
    version and whether it is the last piece (``files._context``), so that pieces
    cannot be reordered, swapped between deliveries or cut off unnoticed.
    """

    delivery_id = models.BigIntegerField(_("delivery"))
    seq = models.PositiveIntegerField(_("piece number"))
    last = models.BooleanField(_("last piece"))
    key_version = models.PositiveIntegerField(_("key version"))
    data = models.BinaryField(_("encrypted data"))

    class Meta:
        verbose_name = _("file piece")
        verbose_name_plural = _("file pieces")
        constraints = [
            models.UniqueConstraint(fields=["delivery_id", "seq"], name="vault_file_chunk_order")
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id}/{self.seq}"


class Removal(models.Model):
    """One time pseudonyms left the vault (an erasure, retention, two persons merged).

    Counted so that a worker applying a delivery can tell whether any pseudonym
    it looked up while reading may have gone since (``inuk.vault.removals``).
    """

    at = models.DateTimeField(_("removed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("removal")
        verbose_name_plural = _("removals")

    def __str__(self) -> str:
        return f"{self.pk} {self.at:%Y-%m-%d %H:%M}"
