"""The delivery format runs where Django is not configured, nor even imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.intake.deliveries import VASBY, Person, Tx, pnr, xml

SCRIPT = """
import json, sys
from inuk.format.report import validate_path
report = validate_path(sys.argv[1])
print(json.dumps({"valid": report["valid"], "transactions": report["counts"]["transactions"],
                  "django": sorted(m for m in sys.modules if m.split(".")[0] == "django")}))
"""


def test_it_validates_a_file_without_django(tmp_path):
    path = tmp_path / "leverans.xml"
    path.write_bytes(xml(*VASBY, [Person(pnr("19990101", "123"), [Tx("SYV", "20240105")])]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INUK_", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome = json.loads(result.stdout)
    assert outcome == {"valid": True, "transactions": 1, "django": []}
