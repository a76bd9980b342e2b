"""``inuk demo`` loads a small, believable service to look at."""

import pytest

from inuk.intake.models import Delivery
from inuk.ledger.models import Intervention
from inuk.web.demo import DEMO_MUNICIPALITIES, load_demo_data

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
