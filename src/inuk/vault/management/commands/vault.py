"""``inuk vault``: the identity vault's keys.

    inuk vault new-keyring   print a new keyring, for INUK_VAULT_KEY(_FILE)
    inuk vault add-key       print the keyring in use with a new current key version
    inuk vault reencrypt     move every stored value to the current key version
    inuk vault rotate        embedded default: add-key and reencrypt in one go
    inuk vault status        how many values each key version encrypts

``new-keyring`` and ``add-key`` print secrets to standard output on purpose:
redirect them into the file that ``INUK_VAULT_KEY_FILE`` names.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

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
        actions.add_parser("reencrypt", help="re-encrypt every stored value with the current key")
        actions.add_parser("rotate", help="embedded default: add a key and re-encrypt")
        actions.add_parser("status", help="stored values per key version")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "new-keyring":
                self.stdout.write(keys.generate())
            elif action == "add-key":
                self.stdout.write(keys.add_version(keys.keyring().to_text()))
            elif action == "reencrypt":
                self._report(rotation.reencrypt())
            elif action == "rotate":
                self._report(rotation.rotate())
            elif action == "status":
                ring = keys.keyring()
                self.stdout.write(f"current key version: {ring.current}")
                self.stdout.write(f"key versions in the keyring: {sorted(ring.keys)}")
                for version, count in rotation.versions_in_use().items():
                    self.stdout.write(f"values under version {version}: {count}")
        except (keys.KeyringError, keys.DecryptionError) as exc:
            raise CommandError(str(exc)) from None

    def _report(self, done: rotation.Rotation) -> None:
        self.stdout.write(
            f"re-encrypted {done.identities} personnummer and {done.file_pieces} file pieces "
            f"with key version {done.version}"
        )
