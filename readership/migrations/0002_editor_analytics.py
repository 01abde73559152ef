"""Editors see the readership analytics (the permission editorial/analytics.py checks).
Idempotent; the reverse leaves the groups alone."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module  # as it was
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name="Editor")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="readership", codename="view_analytics"
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("readership", "0001_daily_readership"),
        ("papers", "0004_workflow_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
