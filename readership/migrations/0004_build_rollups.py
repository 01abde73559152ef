"""The roll-ups of the daily rows already written (readership/rollups.py); later ones the
worker keeps current."""

from django.db import migrations


def build(apps, schema_editor):
    from readership.rollups import rebuild

    rebuild(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("readership", "0003_monthly_rollups")]

    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
