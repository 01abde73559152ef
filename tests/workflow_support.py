"""Helpers for the workflow tests: users in each role, a CSRF-enforcing client, and the
digest change form's POST data as a browser would send it."""

from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from editorial.models import Revision
from tests import factories

ROLES = ("author", "editor", "moderator", "anonymous")


def role_user(role: str, username: str = ""):
    """A staff user in the group of ``role`` (None for an anonymous reader)."""
    if role == "anonymous":
        return None
    username = username or role
    account = factories.user(username, staff=True)
    account.email = f"{username}@example.com"
    account.save()
    if not Group.objects.filter(name=role.capitalize()).exists():
        # A transactional test emptied the tables the migration had filled: fill them again.
        import importlib

        from django.apps import apps

        importlib.import_module("papers.migrations.0004_workflow_roles").create_roles(apps, None)
    account.groups.add(Group.objects.get(name=role.capitalize()))
    return account


def client_for(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def csrf_post(client: Client, url: str, data: dict, **extra):
    """POST with the CSRF token a browser would have (any page with a form sets it)."""
    if "csrftoken" not in client.cookies:
        client.get(reverse("reading:home"))
    data = {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    return client.post(url, data, **extra)


def change_url(digest) -> str:
    return reverse("admin:papers_digest_change", args=[digest.pk])


def digest_form_data(digest, *, base_revision=None, **overrides) -> dict:
    """The digest change form as stored now (with its entries), as the edit page posts it."""
    entries = list(digest.entries.order_by("position"))
    latest = Revision.objects.filter(digest=digest).order_by("-number").first()
    data = {
        "title": digest.title,
        "slug": digest.slug,
        "issue_date": digest.issue_date.isoformat(),
        "summary": digest.summary,
        "tags": ", ".join(digest.tags.names()),
        "base_revision": str(latest.number if latest else 0)
        if base_revision is None
        else str(base_revision),
        "workflow_message": "",
        "entries-TOTAL_FORMS": str(len(entries)),
        "entries-INITIAL_FORMS": str(len(entries)),
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    for index, entry in enumerate(entries):
        data.update(
            {
                f"entries-{index}-id": entry.pk,
                f"entries-{index}-digest": digest.pk,
                f"entries-{index}-position": entry.position,
                f"entries-{index}-paper": entry.paper_id,
                f"entries-{index}-title_zh": entry.title_zh,
                f"entries-{index}-tags": ", ".join(entry.tags.names()),
            }
        )
    for name in ("published_at", "expires_at"):
        value = getattr(digest, name)
        if value is not None:
            from django.utils import timezone

            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}"
        else:
            data[f"{name}_0"] = data[f"{name}_1"] = ""
    data.update(overrides)
    return data
