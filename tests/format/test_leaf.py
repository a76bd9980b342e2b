"""The delivery format runs where Django is not configured, nor even imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from inuk.format.writers import Person
from tests.conftest import ANNA, delivery_file, insats

SCRIPT = """
import json, sys
from inuk.format.report import validate_path
report = validate_path(sys.argv[1])
print(json.dumps({"valid": report["valid"], "transactions": report["counts"]["transactions"],
                  "django": sorted(m for m in sys.modules if m.split(".")[0] == "django")}))
"""


@pytest.mark.slow  # a Python process of its own
def test_it_validates_a_file_without_django(tmp_path):
    path = tmp_path / "leverans.xml"
    path.write_bytes(delivery_file([Person(ANNA, [insats("SYV", "20240105")])]))
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
