"""The editorial roles as Django groups, assignable to users in the admin.

- Author: write and edit papers, digests, entries, figures; submit for review.
- Editor: all of that, plus publish/schedule/unpublish/archive (``publish_digest``),
  restore revisions, share links, section kinds, categories, tags and site settings.
- Moderator: comment moderation only (its permissions come with the comments models).

Idempotent: groups are fetched or created and permissions only added. The reverse leaves
the groups alone (users may have been put in them).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AUTHOR = [
    "papers.view_digest", "papers.add_digest", "papers.change_digest",
    "papers.view_entry", "papers.add_entry", "papers.change_entry", "papers.delete_entry",
    "papers.view_paper", "papers.add_paper", "papers.change_paper",
    "papers.view_figure", "papers.add_figure", "papers.change_figure", "papers.delete_figure",
    "papers.view_section", "papers.add_section", "papers.change_section", "papers.delete_section",
    "papers.view_sectionkind", "papers.view_category",
    "papers.view_revision", "papers.view_auditrecord",
    "taggit.view_tag", "taggit.add_tag",
]
EDITOR = AUTHOR + [
    "papers.publish_digest", "papers.delete_digest", "papers.delete_paper",
    "papers.restore_revision",
    "papers.view_sharelink", "papers.add_sharelink", "papers.change_sharelink",
    "papers.add_sectionkind", "papers.change_sectionkind", "papers.delete_sectionkind",
    "papers.add_category", "papers.change_category", "papers.delete_category",
    "papers.view_sitesettings", "papers.change_sitesettings",
    "taggit.change_tag", "taggit.delete_tag",
]
ROLES = {"Author": AUTHOR, "Editor": EDITOR, "Moderator": []}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make sure they exist now.
    # (create_permissions skips an app without a models module, as every app of a migration's
    # registry is; the value is put back, so a test that passes the real registry keeps it.)
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            # The workflow models moved to the editorial app later (papers 0016): the same
            # permission, whichever label its content type has by the time this runs (tests
            # call this again on an emptied database).
            labels = ["papers", "editorial"] if app_label == "papers" else [app_label]
            permission = Permission.objects.get(
                content_type__app_label__in=labels, codename=codename
            )
            group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0003_workflow_models"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
