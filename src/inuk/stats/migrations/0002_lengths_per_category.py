"""Length histograms are kept for each category only: their totals are summed when asked.

The rows at a total (source, code or age group) are exactly the sums of the
category rows beside them, so taking them away leaves the histograms as
``rollups`` now keeps them. Backwards the totals are not made again: the
rollups are emptied instead, and the engine answers from the state until
``inuk stats refresh`` builds them.
"""

from django.db import migrations
from django.db.models import Q

TOTAL = "total"


def drop_totals(apps, schema_editor):
    Length = apps.get_model("stats", "Length")
    at_a_total = Q(source=TOTAL) | Q(code=TOTAL) | Q(age=TOTAL)
    Length.objects.using(schema_editor.connection.alias).filter(at_a_total).delete()


def empty_rollups(apps, schema_editor):
    alias = schema_editor.connection.alias
    for name in ("RollupState", "Rollup", "Length"):
        apps.get_model("stats", name).objects.using(alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_rollups"),
    ]

    operations = [
        migrations.RunPython(drop_totals, empty_rollups),
    ]
