"""What the deployment tests and ``bench/load.py`` run inside a deployment's own process.

    python -m tests.deployment.inside provision KOMMUNKOD...   # JSON: tokens
    python -m tests.deployment.inside ingest DIRECTORY         # JSON: a single-process ingest
    python -m tests.deployment.inside counts                   # JSON: what the databases hold

Run with the deployment's environment (``INUK_DATABASE_URL``...), so that
one process start does the work of many ``inuk`` commands.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inuk.settings")
    import django

    django.setup()
    from inuk.schema import ensure_schema

    ensure_schema()


def provision(kommunkoder: list[str]) -> dict[str, str]:
    """Agreements in force for ``kommunkoder``, a delivering token for each, and a reading one."""
    from inuk.accounts.tokens import issue_token
    from inuk.format.municipalities import AF_ORGNR
    from inuk.organisations.models import Agreement, Municipality, Organisation

    tokens = {}
    for code in kommunkoder:
        municipality = Municipality.objects.get(code=code)
        Agreement.objects.create(
            municipality=municipality,
            af_case_number="Af-2020/1",
            signed_by_af=dt.date(2020, 1, 1),
            signed_by_municipality=dt.date(2020, 1, 2),
        )
        _, raw = issue_token(municipality.organisation, "leveranser", ["deliver", "read"])
        tokens[code] = raw
    _, raw = issue_token(Organisation.objects.get(orgnr=AF_ORGNR), "statistik", ["read"])
    tokens["read"] = raw
    return tokens


def ingest(directory: Path) -> dict:
    """Every file of ``directory`` (as ``files.Planned`` names it) received in this one process."""
    import io

    from inuk.intake.models import Delivery
    from inuk.intake.receive import Submission, receive
    from inuk.organisations.models import Organisation
    from tests.deployment.files import parse_name

    statuses: dict[str, str] = {}
    started = time.perf_counter()
    count = 0
    for path in sorted(directory.iterdir()):
        orgnr, strict = parse_name(path.name)
        submission = Submission(
            organisation=Organisation.objects.get(orgnr=orgnr),
            filename=path.name,
            strict=strict,
            channel="cli",
        )
        delivery = receive(io.BytesIO(path.read_bytes()), submission, process_inline=True)
        statuses[path.name] = str(delivery.status)
        count += 1
    seconds = time.perf_counter() - started
    assert Delivery.objects.count() == count
    return {"seconds": seconds, "deliveries": count, "statuses": statuses}


def counts() -> dict:
    """What the databases hold: deliveries with their attempts, ledger, state and vault rows."""
    from inuk.intake.models import Delivery
    from inuk.ledger.models import Intervention, Person, Result, Transaction
    from inuk.vault.models import FileChunk, Identity

    return {
        "deliveries": list(
            Delivery.objects.order_by("id").values_list("status", "attempts", "accepted")
        ),
        "transactions": Transaction.objects.count(),
        "interventions": Intervention.objects.count(),
        "results": Result.objects.count(),
        "persons": Person.objects.count(),
        "identities": Identity.objects.count(),
        "file_chunks": FileChunk.objects.count(),
    }


def kept_files() -> dict[str, str]:
    """Each kept delivery file read back from the vault: the receipt's checksum, the file's."""
    import hashlib

    from inuk.intake.models import Delivery
    from inuk.vault import files as vault_files
    from inuk.vault.models import FileChunk

    kept = set(FileChunk.objects.values_list("delivery_id", flat=True))
    answer = {}
    for delivery in Delivery.objects.filter(pk__in=kept):
        digest = hashlib.sha256()
        with vault_files.open_file(delivery.pk) as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        answer[delivery.checksum] = digest.hexdigest()
    return answer


def main(argv: list[str]) -> None:
    _setup()
    if argv[0] == "provision":
        print(json.dumps(provision(argv[1:])))
    elif argv[0] == "files":
        print(json.dumps(kept_files()))
    elif argv[0] == "counts":
        print(json.dumps(counts()))
    elif argv[0] == "ingest":
        print(json.dumps(ingest(Path(argv[1]))))
    else:
        raise SystemExit(f"unknown: {argv[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
