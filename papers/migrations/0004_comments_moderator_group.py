"""The Moderator group and its permissions on comments (idempotent: get_or_create, and
permissions are only added). Another migration may create the same group with other
permissions; both only add to it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = [
    "moderate_comment",
    "view_comment",
    "change_comment",
    "view_blockedterm",
    "add_blockedterm",
    "change_blockedterm",
    "delete_blockedterm",
    "view_commentclosure",
    "add_commentclosure",
    "delete_commentclosure",
    "view_moderationrecord",
    "view_droppedsubmissioncount",
]


def add_moderator_group(apps, schema_editor):
    # Permissions of new models are normally created after migrate; create them now.
    app_config = apps.get_app_config("papers")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = models_module  # as it was

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name="Moderator")
    permissions = Permission.objects.filter(
        content_type__app_label__in=["papers", "comments"], codename__in=MODERATOR_PERMISSIONS
    )
    group.permissions.add(*permissions)


def remove_comment_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Moderator").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label__in=["papers", "comments"], codename__in=MODERATOR_PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0003_comments_models"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_moderator_group, remove_comment_permissions)]
