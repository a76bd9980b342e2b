"""``inuk demo`` loads a small, believable service to look at."""

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from inuk.accounts.models import User
from inuk.intake.models import Delivery
from inuk.ledger.models import Intervention
from inuk.web.demo import DEMO_MUNICIPALITIES, demo_accounts_present, load_demo_data

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def test_the_demo_data_are_applied_and_loading_twice_changes_nothing():
    lines = list(load_demo_data(persons=12))
    assert any("demo users" in line for line in lines)
    deliveries = Delivery.objects.count()
    # One per municipality, a correction with errors, and AF's.
    assert deliveries == len(DEMO_MUNICIPALITIES) + 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"applied"}
    assert Delivery.objects.filter(rejected__gt=0).count() == 1
    assert Intervention.objects.exists()
    list(load_demo_data(persons=12))
    assert Delivery.objects.count() == deliveries


def test_serve_refuses_to_run_with_the_demos_public_accounts_present():
    list(load_demo_data(persons=2))
    with pytest.raises(CommandError) as refused:
        call_command("serve", "--port", "1")
    message = str(refused.value)
    assert "rapport@vasby.demo.invalid" in message
    assert "--allow-demo-accounts" in message
    assert "Demons konton" in message and "The demo's accounts" in message


def test_a_deactivated_demo_account_no_longer_counts():
    list(load_demo_data(persons=2))
    User.objects.filter(email__endswith="demo.invalid").update(is_active=False)
    assert demo_accounts_present() == []


@pytest.mark.slow
def test_the_demo_keeps_its_data_apart_from_the_services_own_directory(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("INUK_", "DJANGO_"))}
    environment["XDG_DATA_HOME"] = str(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "inuk", "demo", "--no-data", "--no-serve"],
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (tmp_path / "inuk-demo" / "inuk.sqlite3").exists()
    assert not (tmp_path / "inuk").exists()
