"""``inuk vault``: the identity vault's keys.

    inuk vault new-keyring   print a new keyring, for INUK_VAULT_KEY(_FILE)
    inuk vault add-key       print the keyring in use with a new current key version
    inuk vault reencrypt     move every stored value to the current key version
    inuk vault rotate        embedded default: add-key and reencrypt in one go
    inuk vault status        how many values each key version encrypts
    inuk vault add-lookup-key        print the keyring with a new look-up key
    inuk vault rehash                move every row to the current look-up key
    inuk vault drop-previous-lookups print the keyring without its previous look-up keys
    inuk vault rotate-lookup         embedded default: the three above in one go

``new-keyring`` and ``add-key`` print secrets to standard output on purpose:
redirect them into the file that ``INUK_VAULT_KEY_FILE`` names.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inuk.audit.log import Event
from inuk.audit.log import record as audit
from inuk.vault import keys, rotation


class Command(BaseCommand):
    help = "Manage the identity vault's keys (new keyring, rotation, status)."
    # The checks refuse a deployment without a keyring (inuk.E003), and their
    # hint is to run this command to make one.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("new-keyring", help="print a new keyring")
        actions.add_parser("add-key", help="print the keyring in use with a new current key")
        reencrypt = actions.add_parser(
            "reencrypt", help="re-encrypt every stored value with the current key"
        )
        actions.add_parser("rotate", help="embedded default: add a key and re-encrypt")
        actions.add_parser("status", help="stored values per key version")
        actions.add_parser("add-lookup-key", help="print the keyring with a new look-up key")
        rehash = actions.add_parser("rehash", help="move every row to the current look-up key")
        for batched in (reencrypt, rehash):
            batched.add_argument(
                "--batch-size", type=int, default=1000, help="rows per transaction (1000)"
            )
        actions.add_parser(
            "drop-previous-lookups", help="print the keyring without its previous look-up keys"
        )
        actions.add_parser("rotate-lookup", help="embedded default: rotate the look-up key")

    def handle(self, *args: Any, action: str, batch_size: int = 1000, **options: Any) -> None:
        try:
            if action == "new-keyring":
                self.stdout.write(keys.generate())
            elif action == "add-key":
                self.stdout.write(keys.add_version(keys.keyring().to_text()))
            elif action == "reencrypt":
                self._report(rotation.reencrypt(batch_size=batch_size))
            elif action == "rotate":
                self._report(rotation.rotate())
            elif action == "add-lookup-key":
                self.stdout.write(keys.add_lookup_key(keys.keyring().to_text()))
            elif action == "rehash":
                self._rehashed(rotation.rehash(batch_size=batch_size))
            elif action == "drop-previous-lookups":
                ring = keys.keyring()
                if left := rotation.under_previous_lookups(ring):
                    raise CommandError(
                        f"{left} rows are still under a previous look-up key: "
                        "run `inuk vault rehash` first"
                    )
                self.stdout.write(ring.without_previous_lookups().to_text())
            elif action == "rotate-lookup":
                self._rehashed(rotation.rotate_lookup())
            elif action == "status":
                ring = keys.keyring()
                self.stdout.write(f"current key version: {ring.current}")
                self.stdout.write(f"key versions in the keyring: {sorted(ring.keys)}")
                for version, count in rotation.versions_in_use().items():
                    self.stdout.write(f"values under version {version}: {count}")
                if ring.previous_lookup_keys:
                    left = rotation.under_previous_lookups(ring)
                    self.stdout.write(f"rows under a previous look-up key: {left}")
        except (keys.KeyringError, keys.DecryptionError) as exc:
            raise CommandError(str(exc)) from None

    def _rehashed(self, done: rotation.Rehash) -> None:
        self.stdout.write(
            f"moved {done.moved} personnummer to the current look-up key "
            f"({done.current} were under it already)"
        )
        audit(
            Event.KEY_ROTATED,
            actor="inuk vault",
            details={"key": "lookup", "moved": done.moved, "already": done.current},
        )

    def _report(self, done: rotation.Rotation) -> None:
        self.stdout.write(
            f"re-encrypted {done.identities} personnummer and {done.file_pieces} file pieces "
            f"with key version {done.version}"
        )
        audit(
            Event.KEY_ROTATED,
            actor="inuk vault",
            details={
                "key": "encryption",
                "version": done.version,
                "identities": done.identities,
                "file_pieces": done.file_pieces,
            },
        )
