"""Every kind of audit entry in ``Event`` is one the code records."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import inuk
from inuk.audit.log import Event

SOURCE = Path(inuk.__file__).parent
LOG = SOURCE / "audit" / "log.py"


def used_events() -> set[str]:
    names: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if path != LOG and "migrations" not in path.parts:
            names.update(re.findall(r"\bEvent\.([A-Z_]+)\b", path.read_text(encoding="utf-8")))
    return names


@pytest.mark.parametrize("event", list(Event), ids=lambda e: e.name)
def test_the_code_records_it(event):
    assert event.name in used_events()


def test_the_code_records_no_event_the_list_lacks():
    assert used_events() <= {event.name for event in Event}
