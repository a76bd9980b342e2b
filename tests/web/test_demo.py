"""``inuk demo`` loads two years of monthly deliveries through the real pipeline.

Loading takes most of a minute even for a small population (some 300 files,
each received and processed), so one test loads once and checks it all.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inuk.accounts.models import Role, User
from inuk.intake import population
from inuk.intake.models import Delivery, Message
from inuk.ledger.models import Intervention
from inuk.stats import engine
from inuk.stats.query import Query
from inuk.web import demo
from inuk.web.demo import DEMO_PASSWORD, DEMO_USERS, demo_accounts_present, load_demo_data

pytestmark = [pytest.mark.slow, pytest.mark.django_db(databases=["default", "vault"])]

TODAY = dt.date(2026, 6, 20)
SCALE = 0.05


def test_the_demo_loads_the_plan_month_by_month_and_a_second_run_reuses_it():
    plan = population.plan(TODAY, scale=SCALE)
    lines = load_demo_data(TODAY, scale=SCALE)

    it_applied_every_planned_file_with_the_receipt_the_plan_expects(plan)
    the_late_municipality_has_not_delivered_its_latest_month(plan, lines)
    there_is_one_demo_user_per_role_and_their_logins_are_printed(lines)
    its_statistics_come_from_rollups_equal_to_the_state()
    its_municipalities_fall_into_groups_to_compare()

    deliveries = Delivery.objects.count()
    again = load_demo_data(dt.date(2026, 8, 2), scale=SCALE)  # even in a later month
    assert Delivery.objects.count() == deliveries
    assert "already loaded" in again[0]


def its_statistics_come_from_rollups_equal_to_the_state():
    """Built once at the end of the load, the rollups answer as the state does."""
    for indicator in ("participants", "results"):
        query = Query.parse(
            indicator=indicator, period="2026-05", geographies=["0380", "03", "SE"], by=["sex"]
        )
        from_rollups = engine.compute(query, today=TODAY)
        assert from_rollups.origin == "rollup"
        assert from_rollups.cells == engine.compute_straight(query, today=TODAY).cells
        assert any(cell.count for cell in from_rollups.cells)


def its_municipalities_fall_into_groups_to_compare():
    """Every demo municipality is in exactly one group, so the national page compares groups."""
    from inuk.organisations.models import MunicipalityGroup
    from inuk.web.demo import DEMO_MUNICIPALITIES

    members = [
        code
        for group in MunicipalityGroup.objects.all()
        for code in group.municipalities.values_list("code", flat=True)
    ]
    assert sorted(members) == sorted(DEMO_MUNICIPALITIES)
    assert MunicipalityGroup.objects.count() == 3


def it_applied_every_planned_file_with_the_receipt_the_plan_expects(plan):
    deliveries = {d.filename: d for d in Delivery.objects.all()}
    assert len(deliveries) == len(plan.deliveries)
    for planned in plan.deliveries:
        delivery = deliveries[planned.filename]
        assert delivery.status == Delivery.Status.APPLIED, planned.filename
        assert delivery.rejected == planned.invalid, planned.filename
        assert delivery.already_known == planned.known, planned.filename
        assert delivery.accepted == planned.transactions - planned.invalid - planned.known
        assert timezone.localtime(delivery.received_at).replace(tzinfo=None) == planned.arrival
    assert sum(p.invalid for p in plan.deliveries) > 0
    assert Message.objects.filter(severity="error").count() == sum(
        p.invalid for p in plan.deliveries
    )
    assert sum(p.known for p in plan.deliveries) > 0
    assert Intervention.objects.exists()


def the_late_municipality_has_not_delivered_its_latest_month(plan, lines):
    latest = plan.months[-1].strftime("%Y-%m")
    late = Delivery.objects.filter(filename__contains=f"-{plan.late}-")
    assert late.count() == len(plan.months) - 1
    assert not late.filter(filename__contains=latest).exists()
    for kommunkod in set(plan.kommunkoder) - {plan.late}:
        assert Delivery.objects.filter(filename__contains=f"-{kommunkod}-{latest}").count() == 1
    assert any("Kiruna" in line and latest in line for line in lines)


def there_is_one_demo_user_per_role_and_their_logins_are_printed(lines):
    roles = set()
    for email, _, _ in DEMO_USERS:
        user = User.objects.get(email=email)
        assert user.check_password(DEMO_PASSWORD)
        roles |= {grant.role for grant in user.role_grants.all()}
        assert any(email in line and DEMO_PASSWORD in line for line in lines)
    assert roles == set(Role.values)


def test_serve_refuses_to_run_with_the_demos_public_accounts_present():
    demo._users()
    with pytest.raises(CommandError) as refused:
        call_command("serve", "--port", "1")
    message = str(refused.value)
    assert DEMO_USERS[0][0] in message
    assert "--allow-demo-accounts" in message
    assert "Demons konton" in message and "The demo's accounts" in message


def test_a_deactivated_demo_account_no_longer_counts():
    demo._users()
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
