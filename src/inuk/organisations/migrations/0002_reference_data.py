from django.db import migrations


def load(apps, schema_editor):
    from inuk.organisations import reference

    reference.load(
        apps.get_model("organisations", "Organisation"),
        apps.get_model("organisations", "Municipality"),
    )


class Migration(migrations.Migration):
    dependencies = [("organisations", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
